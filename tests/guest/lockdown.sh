#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# lockdown: kernel lockdown (integrity, then confidentiality) raised while
# ksmod is loaded and merging, as on a Secure Boot machine where ksmod is
# signed by an enrolled key: ksmod goes on working at each level (new
# pages merge, run=2 unmerges, tunables and ioctls answer, bytes intact,
# nothing in the kernel log), unloads, and then a module no trusted key
# signed (ksmod, here) is refused with the kernel's own message, never an
# oops. Lockdown cannot be lowered: tests/run runs this test last.
# ksmod-last
# shellcheck disable=SC2154 # NAME_pid...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
L=/sys/kernel/security/lockdown
N=32

counts() { wait_for 60 ksm_counts "$1" "$2"; }

ksmod_loaded && ksmod_unload
[ -e $L ] || mount -t securityfs securityfs /sys/kernel/security
if [ ! -e $L ]; then
	t_skip "lockdown" "this kernel has no lockdown LSM"
	t_done
fi
t_is "lockdown is off" "$(cat $L)" "[none] integrity confidentiality"
t_ok "ksmod loads" ksmod_load run=1 pages_to_scan=1000 sleep_millisecs=10 ||
	bail "cannot load ksmod"
dmesg_mark lockdown
t_ok "A: $N identical pages" dm_start A -m -n $N -f 0x71
t_ok "they merge" counts 1 $((N - 1))
sharing=$((N - 1))
for level in integrity confidentiality; do
	t_ok "lockdown=$level" kwrite $L $level
	t_match "in force" "$(cat $L)" "\\[$level\\]"
	t_ok "$level: B, $N pages more, merges" dm_start B$level -m -n $N -f 0x71
	sharing=$((sharing + N))
	t_ok "$level: one KSM page, $sharing sharers" counts 1 $sharing
	t_ok "$level: run=2 unmerges" kwrite $K/run 2
	t_ok "$level: nothing merged" ksm_counts 0 0
	t_ok "$level: pages_to_scan=500" kwrite $K/pages_to_scan 500
	t_ok "$level: run=1 merges again" kwrite $K/run 1
	t_ok "$level: the same KSM page count" counts 1 $sharing
	t_match "$level: /dev/ksmod answers" "$(ksmod_ioctl version)" '^1 [0-9]+ '
	t_ok "$level: A's bytes are intact" dm A check
done
for p in Bintegrity Bconfidentiality; do
	t_ok "$p's bytes are intact" dm $p check
done
t_no_dmesg "nothing in the kernel log" 'BUG:|WARNING:|Call Trace'
for p in A Bintegrity Bconfidentiality; do
	dm_stop $p
done
t_ok "ksmod unloads" ksmod_unload
t_errno "a module no trusted key signed cannot load (ksmod): EPERM" EPERM \
	ksmod_load
t_dmesg "the kernel says why" 'Lockdown: .*unsigned module loading is restricted'
t_done
