#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# thp: merging pages that live in 2 MiB huge pages, as every program's
# memory does under Debian's transparent_hugepage=always (checked here to
# be the guest's boot setting). Each case of tests/prog/thp_merge runs on
# the kernel's own KSM (ksmod not loaded), then on ksmod, in this boot;
# both must reach the case's ideal number of page frames (pagemap) with
# every byte intact, also after copy-on-write, and counters that match the
# frames; ksmod's frames and counters (pages_shared, pages_sharing,
# ksm_zero_pages, the processes' ksm_merging_pages) must be the kernel's.
# Every page is proved to be in a huge page (kpageflags) before merging,
# and the head page of a huge page is never one that merges (but in zero0/1).
#   nonhead  subpage 0 is each process's own, subpages 1..511 alike in 3
#            processes: every merge is of a tail page
#   twins    subpages i and i + 256 (0 < i < 256) of one huge page of one
#            process alike: the kernel splits and merges them on a later
#            pass
#   zero0/1  zero-filled subpages between patterned ones, with
#            use_zero_pages 0 and 1 (6.12's split maps zero-filled
#            subpages to the shared zero page)
# thp_map.sh has huge pages half unmapped and shared after fork,
# thp_tail.sh the tail of a large merge, thp_khugepaged.sh khugepaged.
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

# Debian's rt flavours have no transparent huge pages
if ! have_thp; then
	t_skip "merging within and across huge pages, as the kernel" "this kernel has no transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE)"
	t_done
fi

K=/sys/module/ksmod/ksm
KK=/sys/kernel/mm/ksm
CASES="nonhead twins zero0 zero1"

t_is "the guest booted with transparent_hugepage=always (Debian's default on both kernels)" \
	"$(thp_boot enabled)" always
ksmod_loaded && ksmod_unload

# run_case DIR PREFIX CASE
run_case() {
	thp_set always
	case $3 in
	zero*)
		kwrite "$1/use_zero_pages" "${3#zero}"
		tm "$2.$3" -k "$1" -h huge zero
		kwrite "$1/use_zero_pages" 0
		;;
	*) tm "$2.$3" -k "$1" -h huge "$3" ;;
	esac
}
desc() {
	case $1 in
	nonhead) echo "3 processes, subpages 1..511 of their huge pages alike: merged, never at the head" ;;
	twins) echo "twins inside one huge page (subpage i = i + 256, i > 0): merged" ;;
	zero0) echo "zero-filled subpages between patterned ones, use_zero_pages=0: merged" ;;
	zero1) echo "zero-filled subpages between patterned ones, use_zero_pages=1: merged" ;;
	esac
}

# The kernel's KSM first: the oracle.
kernel_ksm_fast
for c in $CASES; do
	run_case $KK k "$c"
	t_tm "k.$c" "kernel's KSM: $(desc "$c")"
	diag "kernel: $(tm_counts "k.$c") in $(tm_val "k.$c" merge_ms) ms"
done
kernel_ksm_done

t_ok "ksmod loads, stopped" ksmod_load run=0 pages_to_scan=1000 sleep_millisecs=10 ||
	bail "cannot load ksmod"
dmesg_mark ksmod
for c in $CASES; do
	run_case $K m "$c"
	t_tm "m.$c" "ksmod: $(desc "$c")"
	diag "ksmod: $(tm_counts "m.$c") in $(tm_val "m.$c" merge_ms) ms"
	t_is "ksmod's frames and counters are the kernel's: $c" \
		"$(tm_counts "m.$c")" "$(tm_counts "k.$c")"
done
t_no_dmesg "no bad page state, rss counter or page map" \
	'Bad page|Bad rss-counter|bad pmd|BUG:'
t_ok "ksmod unloads" ksmod_unload
t_done
