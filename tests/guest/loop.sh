#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# loop: twenty loads and unloads in a row, with the scanner running.
# (An unload removes 13 ftrace hooks, each waiting for an RCU-tasks grace
# period: about 8 s under TCG on the PREEMPT_RT kernels, so 300 s.)
# ksmod-timeout: 300
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

fails=0
i=0
while [ $i -lt 20 ]; do
	i=$((i + 1))
	if ! ksmod_load run=$((i % 2)) sleep_millisecs=1; then
		fails=$((fails + 1))
		diag "load $i failed"
		continue
	fi
	hookfire madvise 1 || { fails=$((fails + 1)); diag "madvise $i failed"; }
	if ! ksmod_unload; then
		fails=$((fails + 1))
		diag "unload $i failed"
	fi
done
t_is "20 loads and unloads, none failed" "$fails" 0
t_not "ksmod is not left loaded" ksmod_loaded
t_not "no scanner thread is left" pidof ksmod

t_done
