#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# chains: max_page_sharing bounds how many mappings one KSM page takes, as
# the kernel's stable node chains do, so that no reverse-map walk of one
# page (reclaim, compaction, migration, offline, memory failure) visits
# more. More identical pages make more KSM pages of one content ("dups" in
# a chain). For each job the kernel's own KSM runs it first in the same
# boot, ksmod not loaded, as the oracle: pages_shared, pages_sharing,
# stable_node_chains and stable_node_dups, and the frames the process
# maps (pagemap), must come out the same, and as computed here. The dups
# survive copy-on-write, NUMA migration and a fork (whose mappings join a
# full page anyway, as in the kernel), and run=2 leaves no chain or dup.
# ksmod-timeout: 300
# shellcheck disable=SC2154 # NAME_pid...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
S=/sys/kernel/mm/ksm

counts() {
	echo "$(cat "$1"/pages_shared) $(cat "$1"/pages_sharing)" \
		"$(cat "$1"/stable_node_chains) $(cat "$1"/stable_node_dups)"
}
scans_reach() { [ "$(cat "$1"/full_scans)" -ge "$2" ]; }
# settled DIR: the counts, once two full scans in a row left them alone
settled() {
	_prev="" _n=0
	while [ $_n -lt 20 ]; do
		_c=$(counts "$1")
		[ "$_c" = "$_prev" ] && break
		_prev=$_c
		wait_for 30 scans_reach "$1" $(($(cat "$1"/full_scans) + 2)) || break
		_n=$((_n + 1))
	done
	echo "$_c"
}
frames() { dm "$1" frames | sed -n 's/.* distinct=\([0-9]*\).*/\1/p'; }

# job NAME DIR PAGES PROCS: PROCS processes of PAGES identical pages each,
# madvised; $res gets the settled counts and the frames of the first one.
# (Not in a subshell: dm_start keeps its processes in shell variables.)
job() {
	_i=0
	while [ $_i -lt "$4" ]; do
		dm_start "$1$_i" -m -n "$3" -f 0x33 >/dev/null || return 1
		_i=$((_i + 1))
	done
	res="$(settled "$2") frames=$(frames "${1}0")"
}
stop_job() {
	_i=0
	while [ $_i -lt "$2" ]; do
		dm_stop "$1$_i"
		_i=$((_i + 1))
	done
}

[ -d $S ] || bail "no $S: this kernel has no KSM"
ksmod_loaded && ksmod_unload

# The kernel's KSM first, ksmod not loaded (it would take every madvise).
kwrite $S/run 2
kwrite $S/pages_to_scan 1000
kwrite $S/sleep_millisecs 10
kwrite $S/run 1
job K $S 600 1
k600=$res
stop_job K 1
kwrite $S/run 2
kwrite $S/run 1
job K $S 150 4
k150x4=$res
stop_job K 4
kwrite $S/run 2
kwrite $S/run 1
job K $S 300 1
dm K0 fork >/dev/null
kfork=$(settled $S)
stop_job K 1
kwrite $S/run 2
# EBUSY while a stable node is left (the fork job's child may still be
# exiting): ask again until it is gone
t_ok "the kernel's KSM takes max_page_sharing 2" \
	wait_for 30 sh -c "echo 2 > $S/max_page_sharing" 2>/dev/null
kwrite $S/run 1
job K $S 64 1
k64=$res
stop_job K 1
kwrite $S/run 2
kwrite $S/max_page_sharing 256
kwrite $S/run 0

# 600 pages, max_page_sharing 256: KSM pages of 256, 256 and 88 sharers
want="3 597 1 3 frames=3"
t_is "the kernel's KSM: 600 identical pages make 3 KSM pages in 1 chain" \
	"$k600" "$want"

t_ok "ksmod loads" ksmod_load run=1 pages_to_scan=1000 sleep_millisecs=10 ||
	bail "cannot load ksmod"
t_is "max_page_sharing is the kernel's 256" "$(cat $K/max_page_sharing)" 256
job A $K 600 1
t_is "ksmod: the same from 600 identical pages" "$res" "$want"
t_ok "every byte of them intact" dm A0 check
t_ok "they move to the other NUMA node" dm A0 move 1
t_ok "every byte intact after the move" dm A0 check
t_is "still 3 KSM pages after the move" "$(settled $K)" "3 597 1 3"
t_ok "a write to each breaks COW" dm A0 touch 600
t_ok "every byte intact after COW" dm A0 check
stop_job A 1
t_ok "run=2 unmerges" kwrite $K/run 2
t_is "no KSM page, chain or dup is left" "$(counts $K)" "0 0 0 0"

# Spread over 4 processes: the same three KSM pages.
kwrite $K/run 1
job B $K 150 4
t_is "4 processes x 150 pages: as the kernel's KSM" "$res" "$k150x4"
stop_job B 4
kwrite $K/run 2

# A fork maps the KSM pages already: its mappings join them past the
# limit, as in the kernel's KSM (max_page_sharing_bypass).
kwrite $K/run 1
job F $K 300 1
t_match "F forks" "$(dm F0 fork)" '^ok child='
t_is "the child's mappings join the full KSM pages, as the kernel's" \
	"$(settled $K)" "$kfork"
t_is "(the kernel's: 256 + 44 mappings, then 512 + 88)" "$kfork" "2 598 1 2"
t_ok "the child is killed" dm F0 killchild
t_ok "F's bytes are intact" dm F0 check
stop_job F 1
kwrite $K/run 2

# max_page_sharing 2: one KSM page per pair
t_ok "max_page_sharing 2, nothing merged" kwrite $K/max_page_sharing 2
kwrite $K/run 1
job C $K 64 1
t_is "64 pages: 32 KSM pages of 2" "$res" "32 32 1 32 frames=32"
t_is "as the kernel's" "$k64" "$res"
t_ok "every byte intact" dm C0 check
stop_job C 1
kwrite $K/run 2

# max_page_sharing 5000 (as LTP's KSM tests set it): one KSM page
t_ok "max_page_sharing 5000" kwrite $K/max_page_sharing 5000
kwrite $K/run 1
job D $K 600 1
t_is "600 pages on one KSM page, no chain" "$res" "1 599 0 0 frames=1"
stop_job D 1
t_ok "run=2" kwrite $K/run 2
t_ok "max_page_sharing back to 256" kwrite $K/max_page_sharing 256
t_is "nothing left" "$(counts $K)" "0 0 0 0"
t_ok "ksmod unloads" ksmod_unload
t_done
