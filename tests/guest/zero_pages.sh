#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# zero_pages: use_zero_pages=1 maps pages of zeroes to the zero page, as the
# kernel's KSM does, and keeps the kernel's counts right: the kernel's own
# ksm_zero_pages, /proc/PID/ksm_stat and ksmod's ksm_zero_pages go up by
# each page, RssAnon down, and all of them come back when the pages are
# unmerged (MADV_UNMERGEABLE, run=2, unload) or unmapped (exit), never
# below where they started; a fork's copies count too, what a fork does not
# copy (MADV_WIPEONFORK, MADV_DONTFORK) not. On a kernel whose
# core mm does not count KSM zero pages (6.1), as 6.1's KSM: the pages map
# the zero page (pagemap, kpageflags), RssAnon and AnonPages drop, nothing
# counts them, a write gives a private page, use_zero_pages=0 merges pages
# of zeroes as any other, and unmerging and unload leave the zero page
# mapped.
# shellcheck disable=SC2154 # NAME_pid...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
S=/sys/kernel/mm/ksm
N=64
c() { cat $K/$1; }
kz() { cat $S/ksm_zero_pages; }
st() { awk -v k="$2" '$1 == k { print $2 }' "/proc/$1/ksm_stat"; }
rss() { awk '$1 == "RssAnon:" { print $2 }' "/proc/$1/status"; }
# kB of anonymous pages mapped in dupmem $1's buffer (page tables, smaps)
anon_buf() {
	awk -v a="$(eval echo "\$${1}_addr")-" \
		'index($1, a) == 1 { f = 1; next }
		f && $1 == "Anonymous:" { print $2; exit }' \
		"/proc/$(eval echo "\$${1}_pid")/smaps"
}
anon() { awk '$1 == "AnonPages:" { print $2 }' /proc/meminfo; }
frames_are() { [ "$(dm_frames "$1" distinct)" = "$2" ]; }
# Is page frame $1 (hex) the zero page? /proc/kpageflags bit 24, KPF_ZERO_PAGE
zero_pfn() {
	_zf=$(dd if=/proc/kpageflags bs=8 skip=$((0x$1)) count=1 2>/dev/null |
		od -An -tu8 | tr -d ' ')
	[ -n "$_zf" ] && [ $(((_zf >> 24) & 1)) = 1 ]
}
zero_is() { [ "$(c ksm_zero_pages)" = "$1" ]; }
kz_is() { [ "$(kz)" = "$1" ]; }

t_ok "ksmod loads, stopped" ksmod_load run=0 pages_to_scan=1000 \
	sleep_millisecs=10 || bail "cannot load ksmod"
if [ ! -e $S/ksm_zero_pages ]; then
	# 6.1: as 6.1's KSM, a plain zero-page pte, counted nowhere, which
	# unmerging leaves alone. 6.1's RssAnon lags (each task caches its
	# own faults' counts, SPLIT_RSS_COUNTING): the RSS is read from the
	# page tables (the buffer's smaps Anonymous), and the mm's counter
	# must balance when Z exits (else check_mm() logs "BUG: Bad
	# rss-counter state").
	T=16
	t_ok "Z: $N pages of zeroes, madvised" dm_start Z -m -n $N -f 0
	sleep 2	# Z's faults folded into AnonPages (see below)
	a0=$(anon)
	t_is "Z's buffer: $((N * 4)) kB anonymous" "$(anon_buf Z)" $((N * 4))
	t_ok "use_zero_pages=1" kwrite $K/use_zero_pages 1
	t_is "use_zero_pages reads 1" "$(c use_zero_pages)" 1
	kwrite $K/run 1
	t_ok "all $N map one frame" wait_for 60 frames_are Z 1
	t_ok "the zero page's" zero_pfn "$(dm_frames Z first)"
	t_is "no KSM page was made" "$(c pages_shared) $(c pages_sharing)" \
		"0 0"
	t_is "Z's buffer: no anonymous page left" "$(anon_buf Z)" 0
	# AnonPages sums per-CPU deltas folded once a second (vmstat's
	# stat_interval): wait for the fold
	anon_down() { [ "$(anon)" -le $((a0 - N * 2)) ]; }
	t_ok "AnonPages went down" wait_for 10 anon_down
	t_ok "Z reads zeroes" dm Z check
	no_items() { [ "$(st "$Z_pid" ksm_rmap_items)" = 0 ]; }
	t_ok "their rmap items go on the next pass" wait_for 30 no_items
	t_is "ksm_zero_pages stays 0 (6.1 counts none)" \
		"$(c ksm_zero_pages)" 0
	t_is "general_profit has no zero-page term" "$(c general_profit)" 0

	kwrite $K/run 0
	t_ok "Z writes its first $T pages" dm Z touch $T
	t_is "each got a private page: $((T + 1)) frames" \
		"$(dm_frames Z distinct)" $((T + 1))
	t_not "the first is not the zero page" zero_pfn "$(dm_frames Z first)"
	t_is "Z's buffer: $((T * 4)) kB anonymous" "$(anon_buf Z)" $((T * 4))
	t_ok "Z reads zeroes" dm Z check
	t_is "no KSM page was copied" "$(c cow_breaks)" 0

	t_ok "use_zero_pages=0" kwrite $K/use_zero_pages 0
	kwrite $K/run 1
	sharing_is() { [ "$(c pages_sharing)" = "$1" ]; }
	t_ok "the $T merge as an ordinary KSM page" \
		wait_for 60 sharing_is $((T - 1))
	t_is "pages_shared 1" "$(c pages_shared)" 1
	t_is "Z maps 2 frames" "$(dm_frames Z distinct)" 2
	t_not "the KSM page is not the zero page" zero_pfn "$(dm_frames Z first)"

	t_ok "Z: MADV_UNMERGEABLE" dm Z unmadvise
	t_is "the KSM page is broken, the zero pages stay: $((T + 1)) frames" \
		"$(dm_frames Z distinct)" $((T + 1))
	t_ok "Z reads zeroes" dm Z check
	t_ok "Z: madvise again" dm Z madvise
	t_ok "merged again" wait_for 60 sharing_is $((T - 1))
	t_ok "run=2" kwrite $K/run 2
	t_is "after run=2: $((T + 1)) frames" "$(dm_frames Z distinct)" $((T + 1))
	t_is "after run=2: pages_sharing 0" "$(c pages_sharing)" 0

	t_ok "use_zero_pages=1" kwrite $K/use_zero_pages 1
	kwrite $K/run 1
	t_ok "all $N map one frame again" wait_for 60 frames_are Z 1
	t_ok "the zero page's" zero_pfn "$(dm_frames Z first)"
	t_ok "ksmod unloads while Z maps it" ksmod_unload
	t_is "unload leaves the zero page mapped" "$(dm_frames Z distinct)" 1
	t_ok "the zero page's" zero_pfn "$(dm_frames Z first)"
	t_ok "Z reads zeroes" dm Z check
	t_ok "Z writes all $N pages" dm Z touch $N
	t_is "Z maps $N frames" "$(dm_frames Z distinct)" $N
	t_is "Z's buffer: $((N * 4)) kB anonymous again" "$(anon_buf Z)" \
		$((N * 4))
	t_ok "Z reads zeroes" dm Z check
	dmesg_mark
	dm_stop Z
	t_no_dmesg "Z exits: its RSS counter balances" "Bad rss-counter"
	t_done
fi

k0=$(kz)
t_ok "Z: $N pages of zeroes, madvised" dm_start Z -m -n $N -f 0
r0=$(rss "$Z_pid")
t_ok "use_zero_pages=1" kwrite $K/use_zero_pages 1
t_is "use_zero_pages reads 1" "$(c use_zero_pages)" 1
kwrite $K/run 1
t_ok "all $N become KSM zero pages" wait_for 60 zero_is $N
t_is "the kernel's ksm_zero_pages counts them" "$(kz)" $((k0 + N))
t_is "Z's ksm_stat ksm_zero_pages" "$(st "$Z_pid" ksm_zero_pages)" $N
t_is "no KSM page was made" "$(c pages_shared) $(c pages_sharing)" "0 0"
t_is "Z maps one frame" "$(dm_frames Z distinct)" 1
t_ok "RssAnon went down by $N pages" \
	[ "$(rss "$Z_pid")" -le $((r0 - N * 4)) ]
t_ok "Z reads zeroes" dm Z check
no_items() { [ "$(st "$Z_pid" ksm_rmap_items)" = 0 ]; }
t_ok "their rmap items go on the next pass" wait_for 30 no_items
t_is "general_profit counts them" "$(c general_profit)" $((N * 4096))
t_is "Z's ksm_process_profit counts them" \
	"$(st "$Z_pid" ksm_process_profit)" $((N * 4096))

t_ok "Z forks: the child maps them too" dm Z fork
t_ok "ksmod counts the child's" wait_for 10 zero_is $((2 * N))
t_is "the kernel counts the child's" "$(kz)" $((k0 + 2 * N))
t_ok "the child is killed" dm Z killchild
t_ok "its zero pages leave both counts" wait_for 10 kz_is $((k0 + N))
t_ok "ksmod's too" wait_for 20 zero_is $N

# 6.12's ksm_fork() gives a child the parent's whole count, also of the
# KSM zero pages in MADV_WIPEONFORK and MADV_DONTFORK ranges, which the
# child does not get: its count, and the kernel's for good, would be too
# high (the kernel's own KSM leaves them so). ksmod takes them back. The
# child of a DONTFORK range dies at once (it reads its copy): only the
# kernel's count is looked at there.
for adv in wipeonfork dontfork; do
	t_ok "Z: $adv" dm Z "$adv"
	ch=$(dm Z fork)
	t_match "Z forks ($adv)" "$ch" "^ok child="
	[ $adv = wipeonfork ] &&
		t_is "the child's ksm_stat: no zero page ($adv)" \
			"$(st "${ch#ok child=}" ksm_zero_pages)" 0
	t_is "the kernel's count: only Z's ($adv)" "$(kz)" $((k0 + N))
	t_ok "ksmod's: only Z's ($adv)" wait_for 10 zero_is $N
	if [ $adv = wipeonfork ]; then
		t_ok "the child is killed" dm Z killchild
	else
		t_match "the child died of SIGSEGV reading its copy" \
			"$(dm Z killchild)" "status 0xb"
	fi
	t_is "the kernel's count: still only Z's ($adv)" "$(kz)" $((k0 + N))
done
t_ok "Z: keeponfork" dm Z keeponfork
t_ok "Z: dofork" dm Z dofork

t_ok "Z: MADV_UNMERGEABLE" dm Z unmadvise
t_is "ksmod's ksm_zero_pages 0" "$(c ksm_zero_pages)" 0
t_is "the kernel's back to $k0" "$(kz)" "$k0"
t_is "Z's ksm_stat 0" "$(st "$Z_pid" ksm_zero_pages)" 0
t_is "Z maps $N frames again" "$(dm_frames Z distinct)" $N
t_ok "Z reads zeroes" dm Z check

t_ok "Z: madvise again" dm Z madvise
t_ok "zero pages again" wait_for 60 zero_is $N
t_ok "run=2" kwrite $K/run 2
t_is "after run=2: ksmod's 0" "$(c ksm_zero_pages)" 0
t_is "after run=2: the kernel's $k0" "$(kz)" "$k0"
t_is "after run=2: $N frames" "$(dm_frames Z distinct)" $N

kwrite $K/run 1
t_ok "zero pages again" wait_for 60 zero_is $N
t_ok "Z exits" dm_stop Z
t_ok "the kernel's count is back to $k0" wait_for 10 kz_is "$k0"
t_ok "ksmod's is 0" wait_for 20 zero_is 0

t_ok "Y: $N pages of zeroes, madvised" dm_start Y -m -n $N -f 0
t_ok "zero pages" wait_for 60 zero_is $N
t_ok "ksmod unloads while Y maps them" ksmod_unload
t_is "the kernel's count is back to $k0" "$(kz)" "$k0"
t_is "Y's ksm_stat 0" "$(st "$Y_pid" ksm_zero_pages)" 0
t_is "Y maps $N frames" "$(dm_frames Y distinct)" $N
t_ok "Y reads zeroes" dm Y check
dm_stop Y
t_is "still $k0 after Y exits" "$(kz)" "$k0"
t_done
