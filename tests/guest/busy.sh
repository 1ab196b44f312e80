#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# busy: load and unload while a process keeps entering the hooks; the
# madvise hook body sleeps (test_hook_delay_ms) so that unload has to wait
# for tasks inside it. The process must never see an error.
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

hookfire busy 25 >/tmp/busy.out 2>&1 &
busy=$!
hookfire busy 25 >/tmp/busy2.out 2>&1 &
busy2=$!

fails=0
i=0
while [ $i -lt 6 ]; do
	i=$((i + 1))
	ksmod_load test_hook_delay_ms=$((i * 20)) || fails=$((fails + 1))
	sleep 1
	ksmod_unload || fails=$((fails + 1))
done
t_is "6 loads and unloads under load, none failed" "$fails" 0

t_ok "a process that kept using madvise and COW saw no error" wait $busy
t_ok "nor did the second one" wait $busy2
diag "$(cat /tmp/busy.out /tmp/busy2.out)"

# Unload while a task sleeps in the madvise hook body: rmmod must wait.
t_ok "ksmod loads with a 1500 ms hook body" ksmod_load test_hook_delay_ms=1500
hookfire madvise 1 >/tmp/slow.out 2>&1 &
slow=$!
sleep 0.5
start=$(uptime_cs)
t_ok "unload while a task is inside the hook body" ksmod_unload
took=$(($(uptime_cs) - start))
t_ok "the task finished its madvise calls correctly" wait $slow
t_ok "unload waited for the sleeping hook body (${took}0 ms >= 800 ms)" \
	test "$took" -ge 80
t_done
