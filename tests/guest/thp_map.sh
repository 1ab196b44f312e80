#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# thp_map: merging huge pages that are mapped in part or by two processes.
# As in thp.sh, each case of tests/prog/thp_merge runs on the kernel's KSM
# (ksmod not loaded), then on ksmod, in this boot: both must reach the
# ideal number of page frames (pagemap) with every byte intact, also after
# copy-on-write, counters matching the frames, and ksmod's frames and
# counters must be the kernel's. Subpage 0 of each huge page is its process's
# own: every page that merges is a tail page of its huge page.
#   half  the second half of each huge page is dropped before merging, by
#         munmap in one process and MADV_DONTNEED in the other: PTE-mapped
#         huge pages (kpageflags THP, AnonHugePages 0) on the deferred split
#         queue (thp_deferred_split_page grows); the dropped halves read
#         zeroes (or are gone) at the end
#   ptemapped  each huge page mapped by ptes, whole: mprotect of its last
#         subpage to read-only and back split the PMD (AnonHugePages 0,
#         kpageflags THP)
#   fork  a process forks once its huge pages are filled, neither writes
#         (the child's pages are on its parent's frames, pagemap), and a
#         third process has the same subpages 1..511
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

# Debian's rt flavours have no transparent huge pages
if ! have_thp; then
	t_skip "merging huge pages mapped in part, by ptes, after fork" "this kernel has no transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE)"
	t_done
fi

K=/sys/module/ksmod/ksm
KK=/sys/kernel/mm/ksm
CASES="half ptemapped fork"

ksmod_loaded && ksmod_unload
desc() {
	case $1 in
	half) echo "huge pages half unmapped (munmap, MADV_DONTNEED), then merged" ;;
	ptemapped) echo "huge pages mapped by ptes, whole (mprotect split the PMD), then merged" ;;
	fork) echo "huge pages shared by parent and child after fork, merged with a third process" ;;
	esac
}

# The kernel's KSM first: the oracle.
kernel_ksm_fast
for c in $CASES; do
	thp_set always
	tm "k.$c" -k $KK -h huge "$c"
	t_tm "k.$c" "kernel's KSM: $(desc "$c")"
	diag "kernel: $(tm_counts "k.$c") in $(tm_val "k.$c" merge_ms) ms"
done
kernel_ksm_done

t_ok "ksmod loads, stopped" ksmod_load run=0 pages_to_scan=1000 sleep_millisecs=10 ||
	bail "cannot load ksmod"
dmesg_mark ksmod
for c in $CASES; do
	thp_set always
	tm "m.$c" -k $K -h huge "$c"
	t_tm "m.$c" "ksmod: $(desc "$c")"
	diag "ksmod: $(tm_counts "m.$c") in $(tm_val "m.$c" merge_ms) ms"
	t_is "ksmod's frames and counters are the kernel's: $c" \
		"$(tm_counts "m.$c")" "$(tm_counts "k.$c")"
done
t_no_dmesg "no bad page state, rss counter or page map" \
	'Bad page|Bad rss-counter|bad pmd|BUG:'
t_ok "ksmod unloads" ksmod_unload
t_done
