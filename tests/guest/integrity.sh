#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# integrity: processes keep writing pages that keep merging, fork, mprotect,
# mremap and drop them, while the scanner runs flat out: no byte is ever
# wrong; then everything is freed.
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
O=/sys/kernel/debug/ksmod/objects
obj() { awk -v k="$1" '$1 == k { print $2 }' $O; }
settled() { [ "$(obj rmap_items)" = 0 ] && [ "$(obj stable_nodes)" = 0 ] && [ "$(obj mm_slots)" = 0 ]; }

t_ok "ksmod loads, scanning without sleeping" \
	ksmod_load run=1 pages_to_scan=200 sleep_millisecs=0 || bail "cannot load ksmod"
s0=$(cat $K/pages_scanned)
t_ok "4 processes x 64 pages, 20 s of writes, forks, mprotect, mremap, MADV_DONTNEED" \
	ksm_stress 4 64 20
t_ok "the scanner was busy meanwhile ($(($(cat $K/pages_scanned) - s0)) pages scanned)" \
	test $(($(cat $K/pages_scanned) - s0)) -gt 1000
diag "cow_breaks $(cat $K/cow_breaks), full_scans $(cat $K/full_scans)"
t_ok "merges were broken by writes meanwhile" test "$(cat $K/cow_breaks)" -gt 0
t_ok "once they exit, nothing is left" wait_for 20 settled ||
	diag "$(cat $O)"

# 200 processes that merge and exit, as fast as they can
i=0
fails=0
while [ $i -lt 40 ]; do
	i=$((i + 1))
	ksm_stress 5 8 0 >/dev/null 2>&1 || fails=$((fails + 1))
done
t_is "200 short-lived merging processes, none failed" "$fails" 0
t_ok "and no rmap item, node or slot is left" wait_for 20 settled ||
	diag "$(cat $O)"
t_ok "ksmod unloads" ksmod_unload
t_done
