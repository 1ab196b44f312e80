#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# skipped_twins: smart_scan never keeps two twins apart. A page that does
# not merge is tried less and less often, and two pages that have not
# merged yet meet only in a pass in which both are tried. With each page's
# skips counted on its own, as the kernel's KSM counts them, twins whose
# ages differ can be tried in alternate passes forever: a page 4 to 5
# passes older than its twin never meets it (a pair of twins in one huge
# page, one of them reset by an undone merge, stayed apart for 20 s in the
# thp test). Nine processes P1..P9 of 16 pages, unique within each and
# unlike the others', start about one full scan apart and age alone, for
# 12 more full scans; then Q1..Q9 start, each page of Qk the twin of a
# page of Pk. Within 24 full scans every Qk page must share the frame of
# its twin in Pk. 16 pages are too few for a huge page at the system's
# setting; the ages, not the pages, are what this test is about.
# shellcheck disable=SC2154 # NAME_pid...: set by dm_start
# shellcheck disable=SC2317 # twins_shared, merged_or_late: called by t_ok, wait_for
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm

# One pass per 100 ms: "a full scan apart" is then about one pass.
t_ok "ksmod loads, running, smart_scan on" \
	ksmod_load run=1 pages_to_scan=1000 sleep_millisecs=100 ||
	bail "cannot load ksmod"
t_is "smart_scan is on" "$(cat $K/smart_scan)" 1

K_ALL="1 2 3 4 5 6 7 8 9"
started=0
for k in $K_ALL; do
	dm_start "P$k" -n 16 -i -f "0x1$k" -m >/dev/null &&
		started=$((started + 1))
	wait_full_scans 1
done
t_is "P1..P9 started, a full scan apart" "$started" 9
t_ok "12 more full scans: their pages are skipped now" wait_full_scans 12
t_match "pages_skipped grew" "$(cat $K/pages_skipped)" '^[1-9][0-9]*$'
t_is "nothing merged yet" "$(cat $K/pages_shared) $(cat $K/pages_sharing)" "0 0"

started=0
for k in $K_ALL; do
	dm_start "Q$k" -n 16 -i -f "0x1$k" -m >/dev/null &&
		started=$((started + 1))
done
t_is "Q1..Q9 started, each Qk of Pk's pages" "$started" 9

# twins_shared: every Qk page on its Pk twin's frame
twins_shared() {
	for _k in $K_ALL; do
		_p=$(dm "P$_k" pfns) || return 1
		_q=$(dm "Q$_k" pfns) || return 1
		[ "$_p" = "$_q" ] || return 1
	done
}
# merged_or_late: the 144 pairs merged, or 24 full scans gone by
base=$(cat $K/full_scans)
merged_or_late() {
	ksm_counts 144 144 || [ "$(cat "$K/full_scans")" -ge $((base + 24)) ]
}
wait_for 60 merged_or_late
scans=$(($(cat $K/full_scans) - base))
t_ok "all 144 pairs merged within 24 full scans (took $scans)" \
	ksm_counts 144 144
t_ok "every Q page shares its P twin's frame" twins_shared
if ! twins_shared; then
	for k in $K_ALL; do
		[ "$(dm "P$k" pfns)" = "$(dm "Q$k" pfns)" ] ||
			diag "P$k and Q$k: not on the same frames"
	done
fi
t_is "144 KSM pages, 144 sharing" \
	"$(cat $K/pages_shared) $(cat $K/pages_sharing)" "144 144"
intact=0
for k in $K_ALL; do
	dm "P$k" check >/dev/null && dm "Q$k" check >/dev/null &&
		intact=$((intact + 1))
	dm_stop "P$k"
	dm_stop "Q$k"
done
t_is "every pair of processes holds its bytes" "$intact" 9
t_ok "ksmod unloads" ksmod_unload
t_done
