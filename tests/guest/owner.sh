#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# owner: who merges whom. With ksmod loaded, MADV_MERGEABLE from a process
# the kernel's KSM does not own makes it ksmod's; one that madvised before
# the load stays the kernel's, also for its later madvise calls. With the
# kernel's KSM running flat out, it never merges a ksmod-owned process and
# keeps merging its own. Unload gives ksmod's processes back clean: no mg
# left, and their next MADV_MERGEABLE is the kernel's, which merges them.
# shellcheck disable=SC2154 # NAME_pid, NAME_addr...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh


q() { ksmod_reg query "$@" | tr '\n' ' ' | sed 's/ $//'; }
mg() { ksmod_reg mg "$@"; }

KSM=/sys/kernel/mm/ksm
N=64	# pages per buffer

sharing() { cat $KSM/pages_sharing; }
full_scans() { cat $KSM/full_scans; }
merging() { cat "/proc/$1/ksm_merging_pages" 2>/dev/null || echo "?"; }
scans_reach() { [ "$(full_scans)" -ge "$1" ]; }
merging_is() { [ "$(merging "$1")" = "$2" ]; }
# Wait until the kernel's ksmd has done SCANS more full scans: enough for it
# to merge any duplicates of the mms on its list (the first scan of a page
# records its checksum, the second merges it).
more_scans() {
	_ms=$(($(full_scans) + $1))
	wait_for 30 scans_reach $_ms
}

[ -d $KSM ] || bail "no $KSM: this kernel has no KSM"
[ -e /proc/self/ksm_merging_pages ] || bail "no /proc/PID/ksm_merging_pages"
old_run=$(cat $KSM/run)
old_pages=$(cat $KSM/pages_to_scan)
old_sleep=$(cat $KSM/sleep_millisecs)
kwrite $KSM/run 2	# unmerge whatever an earlier test left merged
kwrite $KSM/run 0
kwrite $KSM/pages_to_scan 10000
kwrite $KSM/sleep_millisecs 0
t_is "the kernel's KSM starts with nothing merged" "$(sharing)" 0

# K madvises before ksmod is there: the kernel's. Its first buffer holds
# pages that are all different (the kernel scans them, merges nothing);
# its second, identical pages, is madvised only after the load.
t_ok "before the load, K madvises $N pages that are all different" \
	dm_start K -u -m -2 -n $N -f 0x11 || bail "dupmem does not start"
t_is "K's madvise succeeded" "$K_madv" ok

# run=0: ksmod's own scanner stays still, so every merge seen is the kernel's.
t_ok "ksmod loads (its scanner stopped)" ksmod_load run=0 ||
	bail "cannot load ksmod"
t_match "QUERY: K is the kernel's (it asked before the load)" \
	"$(q "$K_pid")" '^owner=kernel( |$)'

t_ok "P1 starts and madvises $N identical pages" dm_start P1 -m -n $N -f 0x22
t_is "P1's madvise succeeded" "$P1_madv" ok
t_is "QUERY: P1 is ksmod's, with its buffer" "$(q "$P1_pid")" \
	"owner=ksmod nr=1 $P1_addr-$P1_end"
t_is "P1's VMA has mg" "$(mg "$P1_pid" "$P1_addr")" mg

t_ok "P0 starts with $N identical pages, never asking" dm_start P0 -n $N -f 0x33
t_is "QUERY: P0 is nobody's" "$(q "$P0_pid")" "owner=none nr=0"
t_is "P0's VMA has no mg" "$(mg "$P0_pid" "$P0_addr")" "no mg"
t_ok "P0 madvises MADV_MERGEABLE now" dm P0 madvise
t_is "QUERY: P0 is ksmod's, with its buffer" "$(q "$P0_pid")" \
	"owner=ksmod nr=1 $P0_addr-$P0_end"
t_is "P0's VMA has mg" "$(mg "$P0_pid" "$P0_addr")" mg

# The kernel's KSM runs flat out. It has K on its list, so it scans.
kwrite $KSM/run 1
fs0=$(full_scans)
t_ok "the kernel's KSM scans (K is on its list): 4 full scans" more_scans 4
t_is "it merged none of ksmod's duplicates: pages_sharing stays 0" \
	"$(sharing)" 0
t_is "P1's ksm_merging_pages stays 0" "$(merging "$P1_pid")" 0
t_is "P0's ksm_merging_pages stays 0" "$(merging "$P0_pid")" 0

# K's later madvise is the kernel's too, and the kernel merges it.
t_ok "K madvises its second buffer, $N identical pages, after the load" \
	dm K madvise 2
t_match "QUERY: K is still the kernel's" "$(q "$K_pid")" '^owner=kernel( |$)'
t_ok "the kernel's KSM merges all $N of them" wait_for 30 merging_is "$K_pid" $N
t_is "the kernel's pages_sharing counts them: $N pages, one kept" \
	"$(sharing)" $((N - 1))
t_ok "4 more full scans of the kernel's KSM" more_scans 4
t_is "still none of ksmod's: pages_sharing is K's alone" "$(sharing)" $((N - 1))
t_is "P1's ksm_merging_pages is 0" "$(merging "$P1_pid")" 0
t_is "P0's ksm_merging_pages is 0" "$(merging "$P0_pid")" 0
t_is "QUERY: P1 is still ksmod's" "$(q "$P1_pid")" "owner=ksmod nr=1 $P1_addr-$P1_end"

# MADV_UNMERGEABLE of a ksmod-owned process is ksmod's business too.
t_ok "P0 madvises MADV_UNMERGEABLE" dm P0 unmadvise
t_match "QUERY: P0 has no range, and is not the kernel's" "$(q "$P0_pid")" \
	'^owner=(ksmod|none) nr=0$'
t_is "P0's VMA has no mg" "$(mg "$P0_pid" "$P0_addr")" "no mg"
t_ok "P0 madvises MADV_MERGEABLE again" dm P0 madvise
t_is "QUERY: P0 is ksmod's, with its buffer" "$(q "$P0_pid")" \
	"owner=ksmod nr=1 $P0_addr-$P0_end"
t_ok "2 more full scans" more_scans 2
t_is "the kernel did not take P0 on the way: its ksm_merging_pages is 0" \
	"$(merging "$P0_pid")" 0

t_ok "P1's data is intact" dm P1 check
t_ok "P0's data is intact" dm P0 check
t_ok "K's data is intact" dm K check

# Unload with ksmod-owned processes alive.
t_ok "ksmod unloads with P0 and P1 alive" ksmod_unload
t_is "P1's VMA has no mg any more" "$(mg "$P1_pid" "$P1_addr")" "no mg"
t_is "nor has P0's" "$(mg "$P0_pid" "$P0_addr")" "no mg"
t_ok "P1's data is intact" dm P1 check
t_ok "P1 madvises MADV_MERGEABLE again, ksmod gone" dm P1 madvise
t_is "P1's VMA has mg" "$(mg "$P1_pid" "$P1_addr")" mg
t_ok "the kernel's KSM takes P1 and merges all $N of its pages" \
	wait_for 30 merging_is "$P1_pid" $N
t_is "the kernel's pages_sharing counts K's and P1's" \
	"$(sharing)" $((2 * (N - 1)))
t_ok "P1's data is intact after the kernel merged it" dm P1 check

# Load again: P1 asked the kernel, so it is the kernel's now.
t_ok "ksmod loads again" ksmod_load run=0
t_match "QUERY: P1 is the kernel's now" "$(q "$P1_pid")" '^owner=kernel( |$)'
t_match "QUERY: K is the kernel's" "$(q "$K_pid")" '^owner=kernel( |$)'
t_is "QUERY: P0 (given back at unload, no madvise since) is nobody's" \
	"$(q "$P0_pid")" "owner=none nr=0"
t_ok "P2 starts and madvises $N identical pages" dm_start P2 -m -n $N -f 0x44
t_is "QUERY: P2 is ksmod's" "$(q "$P2_pid")" "owner=ksmod nr=1 $P2_addr-$P2_end"
t_ok "4 more full scans of the kernel's KSM" more_scans 4
t_is "P2's ksm_merging_pages is 0" "$(merging "$P2_pid")" 0
t_is "pages_sharing is still K's and P1's" "$(sharing)" $((2 * (N - 1)))
t_ok "ksmod unloads" ksmod_unload

for p in K P0 P1 P2; do
	dm_stop $p
done
diag "the kernel's KSM did $(($(full_scans) - fs0)) full scans meanwhile"
kwrite $KSM/run 2
kwrite $KSM/run "$old_run"
kwrite $KSM/pages_to_scan "$old_pages"
kwrite $KSM/sleep_millisecs "$old_sleep"
t_done
