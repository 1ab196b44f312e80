#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# cgroups: whole cgroup v2 subtrees. `ksmodctl register --cgroup PATH`
# merges every process of the subtree as if it had called
# prctl(PR_SET_MEMORY_MERGE) (KSMOD_IOC_REGISTER with KSMOD_RANGE_WHOLE), a
# nested cgroup's too, and not a process outside; a child forked inside is
# merged too; with --follow, a process moved in is registered and merges,
# one moved out is unregistered and unmerged, and the removal of a nested
# cgroup is no error; `status --cgroup` sums the subtree's figures;
# `unregister --cgroup` unmerges it all. Processes with 32 identical pages
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

ksmodctl register --cgroup /ksmcg --follow 1 >follow.out 2>&1 &
fpid=$!
t_ok "a follower runs" wait_for 10 grep -q '^registered' follow.out
dm_start M -n $N -f 0x61 || bail "cannot start M"
into $CG "$M_pid"
t_ok "M, moved in, merges" wait_for 60 on M W1
t_match "the follower said so" "$(cat follow.out)" \
	"^registered 1 process moved into $CG\$"
into /sys/fs/cgroup "$W2_pid"
t_ok "W2, moved out, unmerged: its buffer on $N frames" wait_for 60 apart W2
t_match "the follower unregistered it" "$(cat follow.out)" \
	"^unregistered 1 process that left $CG\$"
t_ok "the nested cgroup, empty, is removed" rmdir $CG/sub
sleep 2
t_ok "the follower goes on" kill -0 $fpid
t_ok "W2 stays out: not merged again" apart W2

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

kill $fpid
wait $fpid
t_is "the follower stops on SIGTERM, status 0" $? 0
t_is "unregister --cgroup: the three" \
	"$(ksmodctl unregister --cgroup /ksmcg)" \
	"unregistered 3 processes of $CG"
t_ok "everything unmerged" counts 0 0
t_ok "W1's buffer on $N frames" apart W1
t_ok "M's too" apart M
dm W1 killchild >/dev/null
for p in W1 W2 O M; do
	t_ok "$p's bytes are intact" dm $p check
	dm_stop $p
done
rmdir $CG
t_no_dmesg "nothing in the kernel log" 'BUG:|WARNING:|Call Trace'
t_ok "ksmod unloads" ksmod_unload
t_done
