#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# numa: NUMA balancing (on by default in Debian's kernels) makes the ptes
# of pages a running task has not touched lately PROT_NONE, to catch the
# next touch as a hinting fault; a page merged in place keeps that pte. A
# KSM page behind such a pte must be merged, found and unmerged like any
# other: 6.1's follow_page() passes over it unless asked with FOLL_FORCE
# (6.1's own break_ksm() does not ask, and leaves such pages merged).
# The task's pages are merged while it spins without touching them (on
# node 0, its pages on node 1), then run=2 must give every page its own
# frame and leave no KSM page.
# shellcheck disable=SC2154 # NAME_pid...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
D=/sys/kernel/debug/sched/numa_balancing
updates() { awk '$1 == "numa_pte_updates" { print $2 }' /proc/vmstat; }
distinct() { dm "$1" frames | sed -n 's/.* distinct=\([0-9]*\) .*/\1/p'; }

if [ ! -e /proc/sys/kernel/numa_balancing ]; then
	t_skip "NUMA balancing is on" "this kernel has none (CONFIG_NUMA_BALANCING)"
	t_done
fi
t_is "NUMA balancing is on" "$(cat /proc/sys/kernel/numa_balancing)" 1
# scan a running task at once and often (the defaults wait a second, then
# scan every second or more)
saved=""
for f in scan_delay_ms scan_period_min_ms scan_period_max_ms; do
	saved="$saved $f=$(cat $D/$f)"
done
kwrite $D/scan_delay_ms 0
kwrite $D/scan_period_min_ms 100
kwrite $D/scan_period_max_ms 200

t_ok "ksmod loads, running" ksmod_load run=1 pages_to_scan=1000 sleep_millisecs=10 ||
	bail "cannot load ksmod"
t_ok "P: 64 identical pages, not madvised yet" dm_start P -n 64 -f 0x44
# NUMA balancing leaves alone the pages of a single-threaded task that are
# on the node it runs on: P runs on CPU 0 (node 0), its pages are on node 1
t_ok "P runs on CPU 0" taskset -p 1 "$P_pid"
t_match "P's pages move to node 1" "$(dm P move 1)" '^ok moved=64$'
u0=$(updates)
t_ok "P runs 3 s without touching them" dm P spin 3
t_ok "NUMA balancing updated ptes meanwhile" test "$(updates)" -gt "$u0"
diag "numa_pte_updates: $(($(updates) - u0))"
t_ok "P madvises them (madvise touches no page)" dm P madvise
t_ok "they merge into one KSM page" wait_for 60 ksm_counts 1 63
t_ok "P spins again" dm P spin 2
t_ok "run=2 unmerges everything" kwrite $K/run 2
t_is "no KSM page is left" "$(cat $K/pages_shared) $(cat $K/pages_sharing)" "0 0"
t_is "P maps a page of its own at each address" "$(distinct P)" 64
t_ok "P's bytes are intact" dm P check
dm_stop P
for kv in $saved; do
	kwrite "$D/${kv%%=*}" "${kv#*=}"
done
t_ok "ksmod unloads" ksmod_unload
t_done
