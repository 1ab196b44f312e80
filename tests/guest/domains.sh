#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# domains: merge_domain keeps pages of different trust domains apart.
# Processes with 32 pages of one content each, all madvised:
#   - uid: A1, A2 (root) and B1, B2 (uid 65534) end on two KSM pages, one
#     per uid (pages_shared 2, pages_sharing 126; pagedup, which reads
#     frames through pagemap: A1 and B1 share no frame, A1 and A2 do);
#   - switching to global unmerges everything at once, with no byte lost,
#     then all four share one frame; back to uid: two again;
#   - A2 drops root for uid 65534: its pages leave A1's KSM page before
#     setuid() returns (the scanner stopped: nothing else could), then
#     join B's;
#   - a write-timing probe (tests/prog/dupmem wtime) of uid 65534 cannot
#     tell pages that have a twin in root's process from pages that have
#     none, while under global it can (a COW fault);
#   - pages of zeroes of two uids merge only with
#     merge_zero_across_domains=1;
#   - cgroup: by the cgroup v2 ancestor at merge_domain_cgroup_level:
#     at level 1 /dA and /dA/sub are one domain, /dB another; at level 2
#     /dA/sub is a third; moving B's process into /dA joins it to /dA;
#     moving it out again breaks its KSM pages of /dA before the write to
#     cgroup.procs returns; a child cloned into /dB (CLONE_INTO_CGROUP)
#     has its copy of them broken before its first instruction;
#   - tag: KSMOD_IOC_SET_TAG (and ksmodctl tag) puts processes in one
#     domain, the rest keep tag 0; a forked child has its parent's tag;
#     a new tag breaks the process's KSM pages of its old tag before
#     SET_TAG returns (the scanner stopped: nothing else could);
#     bad tags and flags are EINVAL, an unregistered process ENOENT,
#     another user's process EPERM.
# Every byte intact at the end, nothing in the kernel log.
# ksmod-timeout: 300
# shellcheck disable=SC2154 # NAME_pid...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
N=32
CG=/sys/fs/cgroup

# merged PID...: pages of PIDs on a frame shared with another (pagedup)
merged() { pagedup "$@" | sed -n 's/.* merged=\([0-9]*\).*/\1/p'; }
# counts SHARED SHARING: wait until ksmod's counters are those
counts() { wait_for 60 ksm_counts "$1" "$2"; }

ksmod_loaded && ksmod_unload
t_ok "ksmod loads" ksmod_load run=1 pages_to_scan=1000 sleep_millisecs=10 ||
	bail "cannot load ksmod"
dmesg_mark domains
t_is "merge_domain is global by default" "$(cat $K/merge_domain)" \
	"[global] uid cgroup tag"
t_is "merge_domain_cgroup_level is 1" "$(cat $K/merge_domain_cgroup_level)" 1
t_is "merge_zero_across_domains is 0" \
	"$(cat $K/merge_zero_across_domains)" 0
t_errno "merge_domain refuses a mode it does not know" EINVAL \
	kwrite $K/merge_domain tenant
t_dmesg "saying so in dmesg" 'ksm/merge_domain: write refused'

t_ok "merge_domain=uid" kwrite $K/merge_domain uid
t_is "reads back" "$(cat $K/merge_domain)" "global [uid] cgroup tag"
for p in A1 A2 B1 B2; do
	dm_start $p -m -n $N -f 0x33 || bail "cannot start $p"
done
t_ok "B1 drops root for uid 65534" dm B1 setuid 65534
t_ok "B2 too" dm B2 setuid 65534
t_ok "one KSM page per uid: pages_shared 2, pages_sharing 126" \
	counts 2 $((4 * N - 2))
t_is "A1 and B1 share no frame" "$(merged "$A1_pid" "$B1_pid")" $((2 * N - 2))
t_is "A1 and A2 share one" "$(merged "$A1_pid" "$A2_pid")" $((2 * N - 1))
t_is "B1 and B2 share one" "$(merged "$B1_pid" "$B2_pid")" $((2 * N - 1))
# dom KIND:ID: that domain's line of KSMOD_IOC_DOMAIN_STATS, figures only
dom() { ksmod_ioctl domains | awk -v d="$1" '$1 == d { $1 = ""; print substr($0, 2) }'; }
t_is "DOMAIN_STATS: mode uid, two domains" \
	"$(ksmod_ioctl domains | head -n 1)" "mode=1 nr=2"
t_is "uid 0: one KSM page, 63 sharers, 64 pages tracked" "$(dom uid:0)" \
	"shared=1 sharing=$((2 * N - 1)) items=$((2 * N))"
t_is "uid 65534: the same" "$(dom uid:65534)" \
	"shared=1 sharing=$((2 * N - 1)) items=$((2 * N))"
t_match "ksmodctl status lists them" "$(ksmodctl status)" \
	"^  uid 65534 .* saved, 1 KSM page, $((2 * N)) pages tracked"
ksmodctl metrics >metrics.txt
t_ok "ksmodctl metrics: valid" promcheck <metrics.txt
t_match "with the pages each domain saves" "$(cat metrics.txt)" \
	"^ksmod_domain_pages_sharing\\{domain=\"uid:65534\"\\} $((2 * N - 1))\$"
t_is "with room for one: nr says two" \
	"$(ksmod_ioctl domains 1 | tr '\n' ' ')" \
	"mode=1 nr=2 uid:0 shared=1 sharing=$((2 * N - 1)) items=$((2 * N)) "

# (the scanner stopped, or it merges again before the counters are read)
kwrite $K/run 0
t_ok "merge_domain=global" kwrite $K/merge_domain global
t_ok "the write unmerged everything" ksm_counts 0 0
kwrite $K/run 1
t_ok "then all four share one frame" counts 1 $((4 * N - 1))
t_is "A1 and B1 share it" "$(merged "$A1_pid" "$B1_pid")" $((2 * N - 1))
kwrite $K/run 0
t_ok "merge_domain=uid again" kwrite $K/merge_domain uid
t_ok "the write unmerged everything" ksm_counts 0 0
kwrite $K/run 1
t_ok "then one KSM page per uid again" counts 2 $((4 * N - 2))

# a change of uid takes effect before setuid() returns: with the scanner
# stopped, nothing else could move A2 off root's KSM page
kwrite $K/run 0
t_is "A2 on root's KSM page, A1's" "$(dm_frames A2 first)" "$(dm_frames A1 first)"
t_ok "run=0; A2 drops root for uid 65534" dm A2 setuid 65534
# (pagedup, as root: A2 may no longer read its own frame numbers)
t_is "at once: A2 maps $N frames of its own" "$(merged "$A2_pid")" 0
t_is "A1 and A2 share no frame" "$(merged "$A1_pid" "$A2_pid")" $((N - 1))
t_ok "counters: A2's pages left root's KSM page" ksm_counts 2 $((3 * N - 2))
t_ok "A2's bytes are intact" dm A2 check
kwrite $K/run 1
t_ok "run=1: A2 joins B's KSM page" \
	wait_for 60 sh -c "[ \"\$(pagedup $A2_pid $B1_pid | sed -n 's/.* merged=\([0-9]*\).*/\1/p')\" = $((2 * N - 1)) ]"
t_ok "counters: pages_shared 2, pages_sharing 126" counts 2 $((4 * N - 2))
for p in A1 A2 B1 B2; do
	t_ok "$p's bytes are intact" dm $p check
	dm_stop $p
done
t_ok "nothing merged once they exit" counts 0 0

# The write-timing probe, as a process of uid 65534 would run it: V
# (root) holds 64 pages; P1 (uid 65534) the same 64 contents, P2 (uid
# 65534) 64 contents nobody else has; each page unique in its process
# (-i), so a page can only merge with another process's. A write to a
# merged page takes a copy-on-write fault: under global, P1's writes are
# slower than P2's (the probe works); under uid they must not be.
wtime() { dm "$1" wtime 64 | sed -n 's/.*median_ns=\([0-9]*\).*/\1/p'; }
passes() {
	_p0=$(cat $K/full_scans)
	wait_for 60 sh -c "[ \$(cat $K/full_scans) -ge $((_p0 + $1)) ]"
}
# (P1 and P2 drop root before they madvise: as root, P1 would merge with
# V first, and its pages, unshared when it changed domain, take a minor
# fault on the next write)
dm_start V -m -i -n 64 -f 0x55 && dm_start P1 -i -n 64 -f 0x55 &&
	dm_start P2 -i -n 64 -f 0x66 || bail "cannot start V, P1, P2"
for p in P1 P2; do
	dm $p setuid 65534 >/dev/null && dm $p madvise >/dev/null ||
		bail "$p cannot drop root and madvise"
done
t_ok "uid: three full passes" passes 3
t_ok "V and P1 share no page" ksm_counts 0 0
p1=$(wtime P1) p2=$(wtime P2)
diag "probe under uid: pages with a twin in another domain ${p1:-?} ns a write, without ${p2:-?} ns"
t_ok "the probe cannot tell them apart (within 3x + 2 us)" \
	test -n "$p1" -a -n "$p2" -a "${p1:-0}" -le $((3 * ${p2:-0} + 2000))
kwrite $K/run 0
kwrite $K/merge_domain global
kwrite $K/run 1
t_ok "global: V and P1 merge, page by page" counts 64 64
p1=$(wtime P1) p2=$(wtime P2)
diag "probe under global: pages with a twin ${p1:-?} ns a write, without ${p2:-?} ns"
t_ok "there the probe tells them apart (5x slower)" \
	test -n "$p1" -a -n "$p2" -a "${p1:-0}" -ge $((5 * ${p2:-1}))
for p in V P1 P2; do
	t_ok "$p's bytes are intact" dm $p check
	dm_stop $p
done
counts 0 0
kwrite $K/run 0
kwrite $K/merge_domain uid
kwrite $K/run 1

# Pages of zeroes reveal nothing: they may merge across domains.
dm_start Z1 -m -n $N -f 0 && dm_start Z2 -m -n $N -f 0 &&
	dm Z2 setuid 65534 >/dev/null || bail "cannot start Z1, Z2"
t_ok "pages of zeroes of two uids: two KSM pages" counts 2 $((2 * N - 2))
t_ok "merge_zero_across_domains=1" kwrite $K/merge_zero_across_domains 1
t_ok "then one" counts 1 $((2 * N - 1))
t_ok "merge_zero_across_domains=0" kwrite $K/merge_zero_across_domains 0
t_ok "then two again" counts 2 $((2 * N - 2))
t_ok "Z1's bytes are intact" dm Z1 check
t_ok "Z2's bytes are intact" dm Z2 check
dm_stop Z1
dm_stop Z2
counts 0 0

# cgroup v2 subtrees
mkdir -p $CG/dA/sub $CG/dB || bail "no cgroup v2 at $CG"
t_ok "merge_domain=cgroup" kwrite $K/merge_domain cgroup
for p in C1 C2 C3; do
	dm_start $p -m -n $N -f 0x44 || bail "cannot start $p"
done
echo "$C1_pid" >$CG/dA/cgroup.procs
echo "$C2_pid" >$CG/dB/cgroup.procs
echo "$C3_pid" >$CG/dA/sub/cgroup.procs
t_ok "level 1: /dA and /dA/sub one domain, /dB another" \
	counts 2 $((3 * N - 2))
t_is "C1 and C3 share a frame" "$(merged "$C1_pid" "$C3_pid")" $((2 * N - 1))
t_is "DOMAIN_STATS names /dA by its inode number" \
	"$(dom "cgroup:$(stat -c %i $CG/dA)")" \
	"shared=1 sharing=$((2 * N - 1)) items=$((2 * N))"
t_is "C1 and C2 do not" "$(merged "$C1_pid" "$C2_pid")" $((2 * N - 2))
t_ok "merge_domain_cgroup_level=2" kwrite $K/merge_domain_cgroup_level 2
t_ok "then /dA/sub is a domain of its own: three KSM pages" \
	counts 3 $((3 * N - 3))
echo "$C2_pid" >$CG/dA/cgroup.procs
t_ok "C2 moved into /dA: it joins C1" counts 2 $((3 * N - 2))
t_is "C1 and C2 share a frame" "$(merged "$C1_pid" "$C2_pid")" $((2 * N - 1))
# a move takes effect before the write to cgroup.procs returns: with the
# scanner stopped, nothing else could take C2 off /dA's KSM page
kwrite $K/run 0
t_ok "run=0; C2 moved back to /dB" sh -c "echo $C2_pid >$CG/dB/cgroup.procs"
t_is "at once: C2 maps $N frames of its own" "$(dm_frames C2 distinct)" $N
t_is "C1 and C2 share no frame" "$(merged "$C1_pid" "$C2_pid")" $((N - 1))
t_ok "counters: C2's pages left /dA's KSM page" ksm_counts 2 $((2 * N - 2))
t_ok "C2's bytes are intact" dm C2 check
# so does a child cloned straight into another cgroup (clone3's
# CLONE_INTO_CGROUP): its copy of C1's mappings leaves /dA's KSM page
# before its first instruction; cloned into /dA, it shares it
t_is "C1's child cloned into /dA maps the KSM page, 1 frame" \
	"$(dm C1 cloneinto $CG/dA)" "ok distinct=1 status=0"
t_is "C1's child cloned into /dB maps $N frames of its own at once" \
	"$(dm C1 cloneinto $CG/dB)" "ok distinct=$N status=0"
kwrite $K/run 1
t_ok "run=1: C2 merges in /dB alone" counts 3 $((3 * N - 3))
for p in C1 C2 C3; do
	t_ok "$p's bytes are intact" dm $p check
	dm_stop $p
done
counts 0 0
rmdir $CG/dA/sub $CG/dA $CG/dB

# tags: KSMOD_IOC_SET_TAG, ptrace rights as REGISTER, inherited over fork
t_ok "merge_domain=tag" kwrite $K/merge_domain tag
for p in T1 T2 T3; do
	dm_start $p -m -n $N -f 0x77 || bail "cannot start $p"
done
t_is "SET_TAG of a process ksmod does not merge: ENOENT" \
	"$(ksmod_ioctl tag $$ 5)" ENOENT
t_is "a tag of 2^62: EINVAL" "$(ksmod_ioctl tag "$T1_pid" 0x4000000000000000)" \
	EINVAL
t_is "flags: EINVAL" "$(ksmod_ioctl tag "$T1_pid" 5 1)" EINVAL
have_nobody
t_is "uid 65534 may not tag root's process: EPERM" \
	"$(as_user nobody ksmod_ioctl --fd 3 tag "$T1_pid" 5 3<>/dev/ksmod)" \
	EPERM
t_is "T1 gets tag 5" "$(ksmod_ioctl tag "$T1_pid" 5)" ok
t_is "T2 too" "$(ksmodctl tag "$T2_pid" 5)" "pid $T2_pid: tag 5"
t_ok "tag 5 and tag 0: two KSM pages" counts 2 $((3 * N - 2))
t_is "T1 and T2 share a frame" "$(merged "$T1_pid" "$T2_pid")" $((2 * N - 1))
t_is "T1 and T3 do not" "$(merged "$T1_pid" "$T3_pid")" $((2 * N - 2))
child=$(dm T1 fork | sed -n 's/^ok child=//p')
t_ok "T1 forks a child" test -n "$child"
# (with another tag, the scanner would break the KSM page it got by fork)
t_ok "three full passes" passes 3
t_is "the child has its parent's tag: it shares no frame with T3 (tag 0)" \
	"$(merged "$T3_pid" "$child")" $((2 * N - 2))
t_ok "counters: the child's mappings too" counts 2 $((4 * N - 2))
t_is "T3 gets tag 5 too" "$(ksmod_ioctl tag "$T3_pid" 5)" ok
t_ok "then one KSM page" counts 1 $((4 * N - 1))
# a new tag takes effect before SET_TAG returns: with the scanner
# stopped, nothing else could move T2 off tag 5's KSM page
kwrite $K/run 0
t_is "T2 on tag 5's KSM page, T1's" "$(dm_frames T2 first)" "$(dm_frames T1 first)"
t_is "run=0; T2 gets tag 7" "$(ksmod_ioctl tag "$T2_pid" 7)" ok
t_is "at once: T2 maps $N frames of its own" "$(dm_frames T2 distinct)" $N
t_ok "none of them T1's" test "$(dm_frames T2 first)" != "$(dm_frames T1 first)"
t_ok "counters: T2's pages left tag 5's KSM page" ksm_counts 1 $((3 * N - 1))
t_ok "T2's bytes are intact" dm T2 check
kwrite $K/run 1
t_ok "run=1: T2's pages merge in tag 7" counts 2 $((4 * N - 2))
t_ok "on a frame that is not T1's" test "$(dm_frames T2 first)" != "$(dm_frames T1 first)"
dm T1 killchild >/dev/null
for p in T1 T2 T3; do
	t_ok "$p's bytes are intact" dm $p check
	dm_stop $p
done
counts 0 0
kwrite $K/merge_domain global
t_no_dmesg "nothing in the kernel log" 'BUG:|WARNING:|Call Trace'
t_ok "ksmod unloads" ksmod_unload
t_done
