#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# crowded: the reverse-map walk of a KSM page whose mapping shares its
# anon_vma with 20,000 VMAs (tests/prog/crowd: a region split by mprotect
# into 20,000 VMAs, one page of it merged with a page of its own mapping,
# then a fork: 40,000 VMAs in the anon_vma's tree). With the scanner
# stopped (run=0: its visits hold references that fail migrations), the
# KSM page is migrated between NUMA nodes 0 and 1 eleven times (each migration walks
# its reverse map twice); after each move both pages are on one frame on
# the new node, and the child's copy is intact at the end. The kernel's
# KSM (ksmod not loaded) first, in this boot: it walks every VMA of the
# anon_vma; ksmod's rmap item holds the page's linear index and looks
# only where the page can be. ksmod's median move must take at most half
# the kernel's (the figures and their ratio are printed; generic kernels
# give 1/300, 6.1-rt 0.28: there the migration's own cost dominates).
# ksmod-timeout: 300
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
KK=/sys/kernel/mm/ksm
V=20000

if [ ! -d /sys/devices/system/node/node1 ]; then
	t_skip "a KSM page on a crowded anon_vma, migrated" "one NUMA node only"
	t_done
fi
ksmod_loaded && ksmod_unload

# crowd_run DIR WHO: crowd against DIR's KSM; its median in WHO.us
crowd_run() {
	crowd -k "$1" -v $V -r 11 >"$2.out" 2>&1
	_rc=$?
	t_is "$2: a KSM page in 1 of $V VMAs sharing an anon_vma, forked, migrated 11 times: shared, on the new node, bytes intact" \
		"$_rc" 0
	[ $_rc = 0 ] || diag_file "$2.out"
	awk '$1 == "move_us" { print $2 }' "$2.out" >"$2.us"
	diag "$2: $(grep -E '^(merged|move_us)' "$2.out" | tr '\n' ' ')"
}

kernel_ksm_fast
kwrite $KK/run 1
crowd_run $KK kernel
kernel_ksm_done

t_ok "ksmod loads, running" ksmod_load run=1 pages_to_scan=1000 sleep_millisecs=10 ||
	bail "cannot load ksmod"
dmesg_mark crowded
crowd_run $K ksmod
km=$(cat kernel.us) mm=$(cat ksmod.us)
if [ -n "$km" ] && [ -n "$mm" ]; then
	diag "one move_pages() of the KSM page, median: kernel $km us, ksmod $mm us, ratio $(awk -v a="$mm" -v b="$km" 'BEGIN { printf "%.3f", b ? a / b : 0 }')"
	t_ok "ksmod's median move ($mm us) at most half the kernel's ($km us)" \
		test $((mm * 2)) -le "$km"
fi
t_no_dmesg "nothing in the kernel log" 'Bad page|Bad rss-counter|bad pmd|BUG:'
t_ok "ksmod unloads" ksmod_unload
t_done
