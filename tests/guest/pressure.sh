#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# pressure: merged pages swapped out (zram) and back, moved to the other
# NUMA node, and moved by compaction, stay intact and shared; swapped-in
# pages merge again.
# Swap-out and migration find a KSM page's ptes through the rmap walk,
# which for ksmod's pages is ksmod's.
# All of it with the system's default THP (always; the buffers here are
# smaller than a huge page), then the THP matrix (lib.sh) with buffers of
# whole huge pages (2 x 512 pages, 8 contents; kpageflags shows what backs
# them): in each mode, the pages are swapped out before merging (huge pages
# go out whole), merge from swap, and the merged pages are swapped out and
# in again and merge again (ksm_merge -S, -s); merged pages move to the
# other node (-m); and 4 processes (16 contents) merge while compaction
# runs. A mode stops at its first failure.
# ksmod-modules: zram lzo_rle
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
CG=/sys/fs/cgroup/ksmtest

t_ok "swap on a 256 MiB zram device" zram_swap 256M
t_ok "a memory cgroup for the test processes" memcg_enter $CG

t_ok "ksmod loads, running" ksmod_load run=1 pages_to_scan=1000 sleep_millisecs=10 ||
	bail "cannot load ksmod"

# memory.reclaim gives EAGAIN when it reclaimed less than asked: ask many
# times for a little. The classic LRU (the debug kernel has no MGLRU)
# first moves the just-read, many-times-mapped KSM pages to the active
# list and needs rounds to bring them back. The scanner is paused
# meanwhile: a page it holds a reference on cannot be freed.
reclaim="echo 0 > $K/run; i=0; while [ \$i -lt 64 ]; do echo 2M > $CG/memory.reclaim 2>/dev/null; i=\$((i + 1)); done; echo 1 > $K/run"
t_ok "merged pages swap out, read back intact and merge again" \
	ksm_merge -t 90 -s "$reclaim" 4 64 4

t_is "the guest has two NUMA nodes" "$(ls -d /sys/devices/system/node/node* | wc -l)" 2
t_ok "merged pages move to the other node, stay shared on as many frames, bytes intact" \
	ksm_merge -t 90 -m 4 32 4

migrated() { awk '$1 == "pgmigrate_success" { print $2 }' /proc/vmstat; }
compact_loop() {
	while :; do
		echo 1 >/proc/sys/vm/compact_memory
		sleep 0.3
	done
}
m0=$(migrated)
compact_loop &
compactor=$!
t_ok "merging while compaction moves pages: shared frames, bytes intact" \
	ksm_merge -t 90 6 64 4
kill $compactor
wait $compactor 2>/dev/null
diag "pages migrated meanwhile: $(($(migrated) - m0))"
t_ok "compaction migrated pages meanwhile" test "$(migrated)" -gt "$m0"

# The THP matrix.
for mode in $(thp_modes); do
	thp_set "$mode"
	# shellcheck disable=SC2046 # word splitting wanted
	set -- $(thp_opt "$mode") -E "$(thp_want "$mode")" -t "$TM_SECS"
	t_ok "THP $mode: pages swapped out before merging merge from swap; swapped out again, intact, merged again" \
		ksm_merge "$@" -S "$reclaim" -s "$reclaim" 2 512 8 || continue
	t_ok "THP $mode: merged pages move to the other node, shared on as many frames, intact" \
		ksm_merge "$@" -m 2 512 8 || continue
	m0=$(migrated)
	compact_loop &
	compactor=$!
	t_ok "THP $mode: 4 x 512 pages merge while compaction moves pages: 16 frames, intact" \
		ksm_merge "$@" 4 512 16
	kill $compactor
	wait $compactor 2>/dev/null
	diag "THP $mode: pages migrated meanwhile: $(($(migrated) - m0))"
done

t_ok "ksmod unloads" ksmod_unload
memcg_leave
zram_swap_off
t_done
