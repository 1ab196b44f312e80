#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# newpage: merge_new_page=1 copies each new KSM page into a freshly
# allocated frame, so that no process chooses (by what it maps where) the
# physical page the others share. A and B hold the same 64 pages (each
# unique within its process, -i); their frames are read (pagemap) before
# merging:
#   - merge_new_page=0 (the default, the kernel's way): every KSM page is
#     one of the frames A or B had (the control: the check can fail);
#   - merge_new_page=1: no KSM page is a frame either had; A and B map the
#     same frame at each page; counters; bytes intact, also after
#     copy-on-write;
#   - with huge pages (512 pages of a THP-backed buffer, the system's
#     default): the same;
#   - the fresh page is charged to the memory cgroup of the processes
#     (memory.stat anon of their cgroup keeps one copy of each page, it
#     does not drop to nothing);
#   - merge_across_nodes=0: a KSM page of two processes on node 1 is
#     on node 1; moving the processes' pages to node 0 migrates the fresh
#     KSM pages, still shared, bytes intact;
#   - without the kernel's __mem_cgroup_charge (test_missing_symbol),
#     merge_new_page=1 is refused (EOPNOTSUPP), by the file and at load;
#   - run=2 unmerges them all; nothing in the kernel log.
# shellcheck disable=SC2154 # NAME_pid...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
N=64
CG=/sys/fs/cgroup/newpage

counts() { wait_for 60 ksm_counts "$1" "$2"; }
# pfns NAME: the frames of NAME's buffer, one a line
pfns() { dm "$1" pfns | tr ' ' '\n' | sed 1d; }
# kept NAME: how many pages of NAME are on the frame that NAME or its
# twin had at that page before merging (files NAME.old, TWIN.old: the
# frames by page, from pair)
kept() {
	pfns "$1" | paste - "$1.old" "$(cat "$1.twin").old" |
		awk '$1 == $2 || $1 == $3 { n++ } END { print n + 0 }'
}
# reused NAME: how many pages of NAME are on a frame that NAME or its twin
# had at another page (a frame freed by an earlier merge, reused)
reused() {
	cat "$1.old" "$(cat "$1.twin").old" >reused.old
	pfns "$1" | grep -c -x -F -f reused.old
}
# same NAME1 NAME2: true if both map the same frame at each page
same() { [ "$(pfns "$1")" = "$(pfns "$2")" ]; }
anon() { awk '$1 == "anon" { print $2 }' "$1/memory.stat"; }

ksmod_loaded && ksmod_unload
t_ok "ksmod loads, stopped" ksmod_load run=0 pages_to_scan=1000 sleep_millisecs=10 ||
	bail "cannot load ksmod"
dmesg_mark newpage
t_is "merge_new_page is 0 by default" "$(cat $K/merge_new_page)" 0
t_errno "merge_new_page refuses 2" EINVAL kwrite $K/merge_new_page 2

# without the kernel's memcg charge function a fresh page cannot be
# charged: the file refuses 1, and so does the load with the parameter
t_ok "ksmod unloads" ksmod_unload
t_ok "ksmod loads without __mem_cgroup_charge" \
	ksmod_load run=0 test_missing_symbol=__mem_cgroup_charge
t_errno "merge_new_page=1 is refused then" EOPNOTSUPP kwrite $K/merge_new_page 1
t_is "merge_new_page stays 0" "$(cat $K/merge_new_page)" 0
t_ok "ksmod unloads" ksmod_unload
dmesg_mark newpage-load
t_errno "merge_new_page=1 at load is refused then" EOPNOTSUPP \
	ksmod_load test_missing_symbol=__mem_cgroup_charge merge_new_page=1
t_dmesg "saying why" 'merge_new_page=1: the kernel.s __mem_cgroup_charge was not found'
t_ok "ksmod loads, stopped" ksmod_load run=0 pages_to_scan=1000 sleep_millisecs=10 ||
	bail "cannot load ksmod"

# pair NAME1 NAME2 FILL [dupmem options]: start both (the scanner
# stopped), their frames by page in NAME1.old and NAME2.old
pair() {
	_a=$1 _b=$2 _f=$3
	shift 3
	echo "$_b" >"$_a.twin"
	echo "$_a" >"$_b.twin"
	dm_start "$_a" -m -i -n $N -f "$_f" "$@" >/dev/null &&
		dm_start "$_b" -m -i -n $N -f "$_f" "$@" >/dev/null &&
		pfns "$_a" >"$_a.old" && pfns "$_b" >"$_b.old" &&
		[ "$(wc -l <"$_a.old")" = $N ] && [ "$(wc -l <"$_b.old")" = $N ]
}

# control: merged in place, the way of the kernel's KSM
t_ok "C, D: the same $N pages" pair C D 0x21
t_ok "merge_new_page=0: they merge" sh -c "echo 1 >$K/run"
t_ok "pages_shared $N, pages_sharing $N" counts $N $N
t_ok "C and D map the same frames" same C D
t_is "every KSM page is the frame C or D had at that page" "$(kept C)" $N
kwrite $K/run 2
dm_stop C
dm_stop D
kwrite $K/run 0

t_ok "merge_new_page=1" kwrite $K/merge_new_page 1
t_is "reads back 1" "$(cat $K/merge_new_page)" 1
t_ok "A, B: the same $N pages" pair A B 0x33
kwrite $K/run 1
t_ok "they merge: pages_shared $N, pages_sharing $N" counts $N $N
t_ok "A and B map the same frames" same A B
t_is "no KSM page is the frame A or B had at that page" "$(kept A)" 0
# the page allocator hands out first what was freed last (per-CPU lists):
# a fresh page may well be the frame an earlier merge freed (README)
diag "fresh pages on a frame A or B had at another page: $(reused A) of $N"
t_is "A maps $N frames" "$(dm_frames A distinct)" $N
t_ok "A's bytes are intact" dm A check
t_ok "B's bytes are intact" dm B check
t_ok "A writes each page (copy-on-write)" dm A touch $N
t_ok "A's bytes are intact after it" dm A check
t_ok "B's too" dm B check
dm_stop A
dm_stop B
t_ok "nothing merged once they exit" counts 0 0

# huge pages, the system's default: the pages must be split out of them
if have_thp; then
	thp_set always
	N=512
	kwrite $K/run 0
	t_ok "H1, H2: $N pages each" pair H1 H2 0x44
	t_match "H1's are a huge page" "$(dm H1 thp)" "^ok present=$N thp=$N heads=1 "
	t_match "H2's too" "$(dm H2 thp)" "^ok present=$N thp=$N heads=1 "
	kwrite $K/run 1
	t_ok "they merge: pages_shared $N, pages_sharing $N" counts $N $N
	t_ok "H1 and H2 map the same frames" same H1 H2
	t_is "no KSM page is the frame H1 or H2 had at that page" "$(kept H1)" 0
	t_ok "H1's bytes are intact" dm H1 check
	t_ok "H2's bytes are intact" dm H2 check
	dm_stop H1
	dm_stop H2
	t_ok "nothing merged once they exit" counts 0 0
	thp_restore
	N=64
else
	t_skip "a THP-backed buffer" "this kernel has no transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE)"
fi

# the fresh page's memory cgroup: the processes'
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	N=256
	kwrite $K/run 0
	memcg_enter $CG || bail "cannot create $CG"
	t_ok "M1, M2 (in $CG): the same $N pages" pair M1 M2 0x55
	memcg_leave
	t_ok "M1 and M2 in $CG" sh -c "grep -qx $M1_pid $CG/cgroup.procs && grep -qx $M2_pid $CG/cgroup.procs"
	a0=$(anon $CG)
	kwrite $K/run 1
	t_ok "they merge: pages_shared $N, pages_sharing $N" counts $N $N
	a1=$(anon $CG)
	diag "anon of $CG: $a0 bytes before merging, $a1 after"
	t_ok "$CG's anon fell by at least $((N * 3 / 4)) pages" \
		test $((a0 - a1)) -ge $((N * 3 / 4 * 4096))
	t_ok "and holds the $N fresh pages still (they are charged to it)" \
		test "$a1" -ge $((N * 4096))
	dm_stop M1
	dm_stop M2
	t_ok "nothing merged once they exit" counts 0 0
	rmdir $CG
	N=64
fi

# NUMA: a fresh page on the node of the pages it replaces; migration
if [ -d /sys/devices/system/node/node1 ]; then
	kwrite $K/run 2
	t_ok "merge_across_nodes=0" kwrite $K/merge_across_nodes 0
	kwrite $K/run 0
	t_ok "P1, P2: the same $N pages" pair P1 P2 0x66
	t_match "P1's pages move to node 1" "$(dm P1 move 1)" "^ok moved=$N\$"
	t_match "P2's too" "$(dm P2 move 1)" "^ok moved=$N\$"
	kwrite $K/run 1
	t_ok "they merge: pages_shared $N, pages_sharing $N" counts $N $N
	t_ok "P1 and P2 map the same frames" same P1 P2
	t_match "the KSM pages are on node 1" "$(dm P1 frames)" " nodes=1\$"
	# the scanner stopped: with merge_across_nodes=0 it re-homes a KSM
	# page found on another node's tree, which may briefly give P2 a
	# page of its own (seen on 6.1-rt)
	kwrite $K/run 0
	t_match "moving P1's pages to node 0 moves the KSM pages" \
		"$(dm P1 move 0)" "^ok moved=$N\$"
	t_match "P2 maps them on node 0 too" "$(dm P2 frames)" " nodes=0\$"
	t_ok "still shared" same P1 P2
	kwrite $K/run 1
	t_ok "run=1, two full scans later" wait_full_scans 2
	t_ok "still shared" same P1 P2
	t_ok "pages_shared $N, pages_sharing $N" ksm_counts $N $N
	t_ok "P1's bytes are intact" dm P1 check
	t_ok "P2's bytes are intact" dm P2 check
	kwrite $K/run 2
	t_ok "run=2 unmerges them" ksm_counts 0 0
	t_is "P1 maps $N frames of its own" "$(dm_frames P1 distinct)" $N
	t_ok "P1's bytes are intact" dm P1 check
	dm_stop P1
	dm_stop P2
	kwrite $K/merge_across_nodes 1
else
	t_skip "merge_new_page on NUMA node 1" "one NUMA node only"
fi

t_no_dmesg "nothing in the kernel log" 'Bad page|Bad rss-counter|bad pmd|BUG:'
t_ok "ksmod unloads" ksmod_unload
t_done
