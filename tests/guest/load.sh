#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# load: what a load creates and an unload removes; load-time parameters.
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm

dmesg_mark load
t_ok "ksmod loads" ksmod_load
t_dmesg "the load is announced" '^\[ *[0-9.]+\] ksmod: loaded, release '
t_no_dmesg "and nothing went wrong on the way" 'ksmod: .*(cannot|error|not found)'
t_is "/dev/ksmod is a root-only character device" \
	"$(stat -c '%F %a %U' /dev/ksmod 2>&1)" "character special file 600 root"
t_is "run defaults to 0" "$(cat $K/run)" 0
t_is "pages_to_scan defaults to 100" "$(cat $K/pages_to_scan)" 100
t_is "sleep_millisecs defaults to 20" "$(cat $K/sleep_millisecs)" 20
t_ok "the scanner thread runs" pidof ksmod
H=/sys/kernel/debug/ksmod/hooks
t_is "fourteen hooks are listed" "$(wc -l <$H)" 14
# Each kernel lacks some: 6.1 has no collect_procs_ksm and no merge-any
# functions, 6.12 needs no prctl or exec hook of its own.
if grep -qw ksm_enable_merge_any /proc/kallsyms; then
	absent="begin_new_exec security_task_prctl"
else
	absent="collect_procs_ksm ksm_disable_merge_any ksm_enable_merge_any"
fi
t_is "exactly the hooks this kernel has no function for are absent" \
	"$(awk '$2 == "absent" { print $1 }' $H | sort | tr '\n' ' ')" "$absent "
t_is "every other hook is installed" \
	"$(awk '$2 != "installed" && $2 != "absent"' $H)" ""

dmesg_mark unload
t_ok "ksmod unloads" ksmod_unload
t_dmesg "the unload is announced" '^\[ *[0-9.]+\] ksmod: unloaded$'
t_not "/dev/ksmod is gone" test -e /dev/ksmod
t_not "/sys/module/ksmod is gone" test -e /sys/module/ksmod
t_not "the scanner thread is gone" pidof ksmod
t_not "debugfs is cleaned up" test -e /sys/kernel/debug/ksmod

t_ok "ksmod loads with parameters" \
	ksmod_load run=1 pages_to_scan=7 sleep_millisecs=1000
t_is "run comes from the parameter" "$(cat $K/run)" 1
t_is "pages_to_scan comes from the parameter" "$(cat $K/pages_to_scan)" 7
t_is "sleep_millisecs comes from the parameter" "$(cat $K/sleep_millisecs)" 1000
t_ok "ksmod unloads while running" ksmod_unload

dmesg_mark badparam
t_errno "run=2 at load is refused" EINVAL ksmod_load run=2
t_dmesg "with a message" 'ksmod: run=2: at load, run must be 0 or 1'
t_not "and leaves nothing behind" test -e /sys/module/ksmod

t_done
