#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ksm_stat: /proc/PID/ksm_merging_pages and the fields of /proc/PID/ksm_stat
# this kernel prints (6.1: ksm_rmap_items; 6.12: also ksm_zero_pages,
# ksm_merging_pages, ksm_process_profit) show ksmod's work for each
# process: nothing before the scan, every merged page after it, the
# kernel's profit formula, and 0 again after MADV_UNMERGEABLE and run=2;
# the exit of one sharer leaves the other's counts alone.
# shellcheck disable=SC2154 # NAME_pid...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
# st PID FIELD: a ksm_stat field, or "-" when this kernel does not print it
st() { awk -v k="$2" '$1 == k { v = $2 } END { print v == "" ? "-" : v }' \
	"/proc/$1/ksm_stat"; }
mp() { cat "/proc/$1/ksm_merging_pages"; }
is() { [ "$(mp "$1")" = "$2" ]; }
items_are() { [ "$(st "$1" ksm_rmap_items)" = "$2" ]; }
# fields of this kernel's ksm_stat that ksmod must keep right
has() { grep -q "^$1 " "/proc/self/ksm_stat"; }

[ -e /proc/self/ksm_stat ] || bail "no /proc/PID/ksm_stat on this kernel"
t_ok "ksmod loads, stopped" ksmod_load run=0 pages_to_scan=1000 \
	sleep_millisecs=10 || bail "cannot load ksmod"

t_ok "P: 64 identical pages, madvised" dm_start P -m -n 64 -f 0x61
t_ok "Q: 32 pages of the same content, madvised" dm_start Q -m -n 32 -f 0x61
for p in "$P_pid" "$Q_pid"; do
	t_is "before any scan: ksm_merging_pages 0" "$(mp "$p")" 0
	t_is "before any scan: ksm_rmap_items 0" "$(st "$p" ksm_rmap_items)" 0
	if has ksm_merging_pages; then
		t_is "before any scan: ksm_stat ksm_merging_pages 0" \
			"$(st "$p" ksm_merging_pages)" 0
		t_is "before any scan: ksm_process_profit 0" \
			"$(st "$p" ksm_process_profit)" 0
	fi
done

kwrite $K/run 1
t_ok "P's 64 pages all merge" wait_for 60 is "$P_pid" 64
t_ok "Q's 32 pages all merge" wait_for 60 is "$Q_pid" 32
kwrite $K/run 0
t_is "one KSM page for all 96" "$(cat $K/pages_shared) $(cat $K/pages_sharing)" \
	"1 95"
t_is "P: ksm_rmap_items 64" "$(st "$P_pid" ksm_rmap_items)" 64
t_is "Q: ksm_rmap_items 32" "$(st "$Q_pid" ksm_rmap_items)" 32
if has ksm_merging_pages; then
	t_is "P: ksm_stat ksm_merging_pages 64" \
		"$(st "$P_pid" ksm_merging_pages)" 64
	t_is "P: ksm_zero_pages 0" "$(st "$P_pid" ksm_zero_pages)" 0
	t_is "P: ksm_process_profit = 64 * 4096 - 64 rmap items * 64" \
		"$(st "$P_pid" ksm_process_profit)" $((64 * 4096 - 64 * 64))
	t_is "Q: ksm_process_profit = 32 * 4096 - 32 * 64" \
		"$(st "$Q_pid" ksm_process_profit)" $((32 * 4096 - 32 * 64))
else
	t_is "6.1 prints ksm_rmap_items only" \
		"$(cut -d' ' -f1 "/proc/$P_pid/ksm_stat" | tr '\n' ' ')" \
		"ksm_rmap_items "
fi

# As in the kernel, the counts follow when the scanner next visits.
kwrite $K/run 1
t_ok "P: MADV_UNMERGEABLE" dm P unmadvise
t_ok "P: ksm_merging_pages back to 0" wait_for 30 is "$P_pid" 0
t_ok "P: its rmap items go too" wait_for 30 items_are "$P_pid" 0
t_is "Q still merged" "$(mp "$Q_pid")" 32
has ksm_process_profit &&
	t_is "P: ksm_process_profit 0" "$(st "$P_pid" ksm_process_profit)" 0
t_ok "P: madvise again, merges again" dm P madvise
t_ok "P's 64 pages merge again" wait_for 60 is "$P_pid" 64

t_ok "run=2" kwrite $K/run 2
for p in "$P_pid" "$Q_pid"; do
	t_is "after run=2: ksm_merging_pages 0" "$(mp "$p")" 0
	t_is "after run=2: ksm_rmap_items 0" "$(st "$p" ksm_rmap_items)" 0
	has ksm_merging_pages &&
		t_is "after run=2: ksm_stat ksm_merging_pages 0" \
			"$(st "$p" ksm_merging_pages)" 0
done

kwrite $K/run 1
t_ok "merged again" wait_for 60 is "$Q_pid" 32
t_ok "P exits" dm_stop P
t_ok "Q's KSM page loses P's sharers: pages_sharing 31" \
	wait_for 30 sh -c "[ \$(cat $K/pages_sharing) = 31 ]"
t_is "Q: still 32 merging pages" "$(mp "$Q_pid")" 32
dm_stop Q

t_ok "ksmod unloads" ksmod_unload
t_done
