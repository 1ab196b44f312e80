#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# early: early_merge=1 (the default) merges a page on its first visit when
# a twin in the unstable tree held still (scan.c); the kernel's KSM waits
# for a page's checksum to hold still over a whole pass first.
#   - 4 processes x 1024 pages of 64 contents (tests/prog/bench_merge,
#     huge pages as the system sets them, pages_to_scan 1000,
#     sleep_millisecs 20): the kernel's KSM (ksmod not loaded), ksmod with
#     early_merge=0 and with 1, in this boot, each to exactly 64 frames
#     (pagemap) and back; ksmod with 1 must need fewer full scans than
#     with 0 (the figures and times are printed);
#   - pages that keep changing (tests/prog/volatile: 2 processes x 256
#     static pages, which must merge, and 256 rewritten every 300 ms, with
#     twins at any moment), 20 s each: the copy-on-write breaks of KSM
#     pages with early_merge 0 and 1 must be at most those of the
#     kernel's KSM (+10% +20 for noise; the figures of all three are
#     printed), every byte intact.
# ksmod-timeout: 400
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
KK=/sys/kernel/mm/ksm

ksmod_loaded && ksmod_unload

# merge WHO DIR KTHREAD: bench_merge; its full_scans and merge_ms in WHO.fm
merge() {
	bench_merge -k "$2" -n "$3" -t 60 -p 1000 -s 20 4 1024 64 >"$1.bm" 2>&1
	_rc=$?
	t_is "$1: 4 x 1024 pages to 64 frames and back (bench_merge)" $_rc 0
	[ $_rc = 0 ] || diag_file "$1.bm"
	echo "$(awk '$1 == "full_scans" { print $2 }' "$1.bm") $(awk '$1 == "merge_ms" { print $2 }' "$1.bm")" >"$1.fm"
	diag "$1: $(awk '{ printf "%s full scans, %s ms", $1, $2 }' "$1.fm")"
}

# vol WHO DIR: tests/prog/volatile; its copy-on-write breaks in WHO.cow
vol() {
	volatile -k "$2" -t 20 256 256 >"$1.vol" 2>&1
	_rc=$?
	t_is "$1: static and volatile pages, 20 s, every byte intact (volatile)" $_rc 0
	[ $_rc = 0 ] || diag_file "$1.vol"
	awk '$1 == "cow" { print $2 }' "$1.vol" >"$1.cow"
	_sh=$(awk '$1 == "sharing" { print $2 }' "$1.vol")
	diag "$1: $(cat "$1.cow") copy-on-write breaks, $(awk '$1 == "full_scans" { print $2 }' "$1.vol") full scans in 20 s, pages_sharing $_sh"
	t_ok "$1: the static pages merged (pages_sharing ${_sh:-?} >= 504)" \
		test "${_sh:-0}" -ge 504
}

kwrite $KK/run 0
merge kernel $KK ksmd
kwrite $KK/pages_to_scan 200
kwrite $KK/sleep_millisecs 20
kwrite $KK/run 1
vol kernel $KK
kernel_ksm_done

t_ok "ksmod loads, stopped" ksmod_load run=0 || bail "cannot load ksmod"
dmesg_mark early
t_is "early_merge is 1 by default" "$(cat $K/early_merge)" 1
t_ok "early_merge=0" kwrite $K/early_merge 0
merge gate $K ksmod
t_ok "early_merge=1" kwrite $K/early_merge 1
merge early $K ksmod
g=$(cut -d' ' -f1 gate.fm) e=$(cut -d' ' -f1 early.fm)
t_ok "early_merge=1 needs fewer full scans (${e:-?}) than 0 (${g:-?})" \
	test "${e:-9}" -lt "${g:-0}"

kwrite $K/pages_to_scan 200
kwrite $K/sleep_millisecs 20
t_ok "early_merge=0" kwrite $K/early_merge 0
kwrite $K/run 1
vol gate $K
kwrite $K/run 2
t_ok "early_merge=1" kwrite $K/early_merge 1
kwrite $K/run 1
vol early $K
# not more often than the kernel (10% and 20 breaks for noise); before
# ksmod kept a page's smart_scan age over its merges, 31,499 against 1024
kc=$(cat kernel.cow) gc=$(cat gate.cow) ec=$(cat early.cow)
t_ok "early_merge=0: ${gc:-?} copy-on-write breaks, at most the kernel's ${kc:-?} (+10% +20)" \
	test "${gc:-999999}" -le $((${kc:-0} + ${kc:-0} / 10 + 20))
t_ok "early_merge=1: ${ec:-?} copy-on-write breaks, at most the kernel's ${kc:-?} (+10% +20)" \
	test "${ec:-999999}" -le $((${kc:-0} + ${kc:-0} / 10 + 20))
t_no_dmesg "nothing in the kernel log" 'Bad page|Bad rss-counter|bad pmd|BUG:'
t_ok "ksmod unloads" ksmod_unload
t_done
