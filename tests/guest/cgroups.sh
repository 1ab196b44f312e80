#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# cgroups: whole cgroup v2 subtrees. `ksmodctl register --cgroup PATH`
# merges every process of the subtree as if it had called
# prctl(PR_SET_MEMORY_MERGE) (KSMOD_IOC_REGISTER with KSMOD_RANGE_WHOLE), a
# nested cgroup's too, and not a process outside; a child forked inside is
# merged too; ksmod follows the subtree (KSMOD_IOC_REGISTER_CGROUP): a
# process moved in is ksmod's, and one it registered for the cgroup moved
# out no longer, before the write to cgroup.procs returns, a process
# registered by pid keeps its registration, and the removal of a nested
# cgroup is no error; `status --cgroup` sums the subtree's figures;
# `unregister --cgroup` unmerges it all and stops following; `metrics`
# has the followed cgroup's figures (ksmod_cgroup_*). Bad input
# (flags, no cgroup, a closed descriptor, a 65th cgroup) gets its errno;
# uid 65534 registering a cgroup gets its own process registered, not
# root's, now or moved in later. Processes with 32 identical pages
# each, none madvised; their buffers' frames read through pagemap (merged
# whole, a process also merges other pages alike: stack, heap; counters
# are only bounded from below), every byte intact.
# ksmod-timeout: 300
# shellcheck disable=SC2154 # NAME_pid...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
CG=/sys/fs/cgroup/ksmcg
N=32

counts() { wait_for 60 ksm_counts "$1" "$2"; }
into() { echo "$2" >"$1/cgroup.procs"; }
# on NAME OTHER: NAME's buffer is on one frame, OTHER's
on() {
	[ "$(dm_frames "$1" distinct)" = 1 ] &&
		[ "$(dm_frames "$1" first)" = "$(dm_frames "$2" first)" ]
}
apart() { [ "$(dm_frames "$1" distinct)" = $N ]; }
sharing_from() { [ "$(cat $K/pages_sharing)" -ge "$1" ]; }

ksmod_loaded && ksmod_unload
t_ok "ksmod loads" ksmod_load run=1 pages_to_scan=1000 sleep_millisecs=10 ||
	bail "cannot load ksmod"
mkdir -p $CG/sub || bail "no cgroup v2 at /sys/fs/cgroup"
for p in W1 W2 O; do
	dm_start $p -n $N -f 0x61 || bail "cannot start $p"
done
into $CG "$W1_pid" && into $CG/sub "$W2_pid" ||
	bail "cannot move W1, W2 into $CG"
sleep 1
t_ok "nothing madvised, nothing merged" ksm_counts 0 0

t_is "register --cgroup: W1 and W2 (nested)" \
	"$(ksmodctl register --cgroup /ksmcg)" \
	"registered 2 processes of $CG"
t_ok "they merge: W1's buffer on one frame, W2's" wait_for 60 on W1 W2
t_ok "O, outside, merges nothing" apart O

s0=$(cat $K/pages_sharing)
child=$(dm W1 fork | sed -n 's/^ok child=//p')
t_ok "W1 forks a child, inside" test -n "$child"
t_ok "the child's mappings join the KSM pages: $N sharers more" \
	wait_for 60 sharing_from $((s0 + N))

# ksmod follows the subtree: a move takes effect before the write to
# cgroup.procs returns (KSMOD_IOC_MM_STATS's owner says ksmod's or not)
owner() { ksmod_ioctl stats "$1" | sed -n 's/^owner=\([0-9]*\).*/\1/p'; }
# ranges PID: how many ranges ksmod merges in PID (0: unregistered; an
# unregistered process's slot, and owner, stay until the scanner passes)
ranges() { ksmodctl --json ranges "$1" | grep -o '"start"' | wc -l; }
dm_start M -n $N -f 0x61 || bail "cannot start M"
t_is "M, outside, is not ksmod's" "$(owner "$M_pid")" 0
into $CG "$M_pid"
t_is "M moved in: ksmod's when the write returned" "$(owner "$M_pid")" 1
t_ok "M merges" wait_for 60 on M W1
into /sys/fs/cgroup "$W2_pid"
t_is "W2 moved out: unregistered when the write returned" "$(ranges "$W2_pid")" 0
t_ok "and unmerged: its buffer on $N frames" apart W2
t_ok "the nested cgroup, empty, is removed" rmdir $CG/sub
t_is "W2 stays out: not registered again" "$(ranges "$W2_pid")" 0
# a process registered by pid (not for the cgroup) keeps its registration
dm_start R -n $N -f 0x61 || bail "cannot start R"
t_match "R registered by pid" "$(ksmodctl register "$R_pid")" "^registered"
into $CG "$R_pid"
into /sys/fs/cgroup "$R_pid"
t_ok "R moved in and out again: still registered" test "$(ranges "$R_pid")" -gt 0
t_match "unregistered by pid" "$(ksmodctl unregister "$R_pid")" "^unregistered"
# the child W1 forked inside was registered with its parent: moved out,
# it is unregistered too; moved back, registered again
into /sys/fs/cgroup "$child"
t_is "W1's child moved out: unregistered" "$(ranges "$child")" 0
into $CG "$child"
t_ok "moved back in: registered again" test "$(ranges "$child")" -gt 0
# --follow, kept for scripts of before: stays until SIGTERM
ksmodctl register --cgroup /ksmcg --follow 1 >follow.out 2>&1 &
fpid=$!
t_ok "register --follow: registered the three, stays" \
	wait_for 10 grep -q "^registered 3 processes of $CG\$" follow.out
t_ok "it runs" kill -0 $fpid
kill $fpid
wait $fpid
t_is "and stops on SIGTERM, status 0" $? 0

t_match "status --cgroup: W1, its child and M, all ksmod's" \
	"$(ksmodctl status --cgroup /ksmcg)" \
	"^cgroup $CG: 3 processes, 3 merged by ksmod\$"
mp=$(ksmodctl --json status --cgroup /ksmcg | jsonq .merging_pages)
t_ok "merging pages: their buffers' at least (${mp:-?})" \
	test "${mp:-0}" -ge $((3 * N))
t_match "the same as text" "$(ksmodctl status --cgroup /ksmcg)" \
	"^merging pages:  ${mp:-?} "
t_is "status --cgroup of no cgroup: 1" \
	"$(ksmodctl status --cgroup /nosuch >/dev/null 2>&1; echo $?)" 1
# the followed cgroup's figures (KSMOD_IOC_CGROUP_STATS) in metrics
ksmodctl metrics >metrics.txt
t_ok "ksmodctl metrics: valid" promcheck <metrics.txt
t_match "the followed cgroup: 3 processes" "$(cat metrics.txt)" \
	'^ksmod_cgroup_processes\{cgroup="/ksmcg"\} 3$'
cmp=$(sed -n 's/^ksmod_cgroup_merging_pages{cgroup="\/ksmcg"} //p' metrics.txt)
t_ok "its merging pages: their buffers' at least (${cmp:-?})" \
	test "${cmp:-0}" -ge $((3 * N))
t_match "its COW breaks, a counter" "$(cat metrics.txt)" \
	'^# TYPE ksmod_cgroup_cow_breaks_total counter$'

t_is "unregister --cgroup: the three" \
	"$(ksmodctl unregister --cgroup /ksmcg)" \
	"unregistered 3 processes of $CG"
t_ok "everything unmerged" counts 0 0
t_ok "W1's buffer on $N frames" apart W1
t_ok "M's too" apart M
dm_start M2 -n $N -f 0x61 || bail "cannot start M2"
into $CG "$M2_pid"
t_is "no longer followed: a process moved in is not ksmod's" \
	"$(owner "$M2_pid")" 0
dm_stop M2

# bad input, and the registrant's rights (uid 65534, /dev/ksmod passed
# open by root): a process it may not ptrace is skipped, now and when
# moved in later; its own are registered
t_is "flags: EINVAL" "$(ksmod_ioctl cgroup reg $CG 1)" EINVAL
t_is "a directory that is no cgroup: EBADF" "$(ksmod_ioctl cgroup reg /tmp)" EBADF
t_is "a descriptor not open: EBADF" "$(ksmod_ioctl cgroup reg 99)" EBADF
t_is "unregister of a cgroup not followed: W1, its child, M not merged whole" \
	"$(ksmod_ioctl cgroup unreg $CG)" "nr=0 skipped=3"
have_nobody
chmod 1777 . # Y's FIFO and outputs
mkdir -p $CG/n || bail "cannot make $CG/n"
# (Y runs as nobody from its start: a process that dropped root is not
# dumpable, and only root may ptrace it)
dm_start X -n $N -f 0x61 && DM_LAUNCH="as_user nobody" dm_start Y -n $N -f 0x61 ||
	bail "cannot start X, Y"
into $CG/n "$X_pid" && into $CG/n "$Y_pid"
t_is "uid 65534 registers $CG/n: its own process, not root's" \
	"$(as_user nobody ksmod_ioctl --fd 3 cgroup reg $CG/n 3<>/dev/ksmod)" \
	"nr=1 skipped=1"
t_is "Y is ksmod's" "$(owner "$Y_pid")" 1
t_is "X is not" "$(owner "$X_pid")" 0
dm_start Z -n $N -f 0x61 || bail "cannot start Z"
into $CG/n "$Z_pid"
t_is "root's Z moved in: not ksmod's (the registrant's rights)" \
	"$(owner "$Z_pid")" 0
i=0
while [ $i -lt 63 ]; do
	mkdir -p $CG/f$i
	ksmod_ioctl cgroup reg $CG/f$i >/dev/null
	i=$((i + 1))
done
mkdir -p $CG/f63
t_is "a 65th cgroup: ENOSPC" "$(ksmod_ioctl cgroup reg $CG/f63)" ENOSPC
i=0
while [ $i -lt 64 ]; do
	rmdir $CG/f$i
	i=$((i + 1))
done
mkdir -p $CG/e
t_is "cgroups removed are forgotten: room again" \
	"$(ksmod_ioctl cgroup reg $CG/e)" "nr=0 skipped=0"
t_is "unregister as root: Y" "$(ksmod_ioctl cgroup unreg $CG/n)" \
	"nr=1 skipped=2"
for p in X Y Z; do
	t_ok "$p's bytes are intact" dm $p check
	dm_stop $p
done
rmdir $CG/n
dm W1 killchild >/dev/null
for p in W1 W2 O M R; do
	t_ok "$p's bytes are intact" dm $p check
	dm_stop $p
done
# /ksmcg/e stays followed: the unload forgets it
t_no_dmesg "nothing in the kernel log" 'BUG:|WARNING:|Call Trace'
t_ok "ksmod unloads" ksmod_unload
rmdir $CG/e
# (a process stopped just before may still be on its way out)
t_ok "then $CG can go" wait_for 10 rmdir $CG
t_done
