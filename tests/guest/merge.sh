#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# merge: identical pages of 2 and 8 processes end up on one frame per
# content (pagemap), counters agree, bytes survive copy-on-write; run=2 and
# unregistering give every page its own frame again; rmmod is refused while
# a merged page exists, and works after run=2; nothing is left behind. All
# of it with the system's default THP (always: buffers here are mostly
# smaller than a huge page). Then the THP matrix (lib.sh): in each mode,
# with buffers of whole huge pages (2 processes x 1024 pages, 16 contents:
# every huge page holds 32 pages of each content; kpageflags shows what
# backs them before merging): merged on one frame per content and intact
# after copy-on-write; run=2, unregistering, and run=2 then rmmod (2 x 512
# pages, 8 contents) give every page its own frame again. A mode stops at
# its first failure.
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
O=/sys/kernel/debug/ksmod/objects
obj() { awk -v k="$1" '$1 == k { print $2 }' $O; }
settled() { [ "$(obj rmap_items)" = 0 ] && [ "$(obj stable_nodes)" = 0 ] && [ "$(obj mm_slots)" = 0 ]; }

t_ok "ksmod loads, running" ksmod_load run=1 pages_to_scan=1000 sleep_millisecs=10 ||
	bail "cannot load ksmod"

c0=$(cat $K/cow_breaks)
t_ok "2 processes x 32 pages, 4 contents: 4 frames, then COW intact" \
	ksm_merge -t 60 2 32 4
t_is "cow_breaks counted each of the 64 writes to a merged page" \
	"$(($(cat $K/cow_breaks) - c0))" 64
# The stable tree search takes a KSM page whose first bytes match without
# reading the rest (the merge compares the whole page, write-protected): a
# page that met one of another content, its start alike, must be searched
# again in full and find its own; more frames, or a wrong byte, if not.
t_ok "2 processes x 64 pages, 8 contents differing in the last byte: 8 frames, COW intact" \
	ksm_merge -t 60 -T 2 64 8
# shellcheck disable=SC2154 # D_pid: set by dm_start
t_ok "D starts with 16 identical pages, madvised" dm_start D -m -n 16
t_ok "they merge into one" wait_for 30 ksm_counts 1 15
t_is "MM_STATS: ksmod's, 16 merging pages, 16 rmap items, no COW yet" \
	"$(ksmod_ioctl stats "$D_pid")" \
	"owner=1 cow_breaks=0 merging_pages=16 rmap_items=16"
t_ok "D writes 5 of its merged pages" dm D touch 5
t_ok "and its bytes are intact" dm D check
t_match "MM_STATS counts D's 5 COW breaks" "$(ksmod_ioctl stats "$D_pid")" \
	'^owner=1 cow_breaks=5 merging_pages=[0-9]+ rmap_items=16$'
t_is "MM_STATS of a process nobody merges: all 0" "$(ksmod_ioctl stats 1)" \
	"owner=0 cow_breaks=0 merging_pages=0 rmap_items=0"
t_is "MM_STATS of no process: ESRCH" "$(ksmod_ioctl stats 99999)" ESRCH
dm_stop D

# As the kernel's KSM: mlocked pages merge; the KSM page is mlocked in
# their place and munlocked when the last locked mapping goes.
mlocked() { awk '$1 == "Mlocked:" { print $2 }' /proc/meminfo; }
mlocked_le() { [ "$(mlocked)" -le "$1" ]; }
m0=$(mlocked)
# shellcheck disable=SC2154 # L1_pid, L2_pid: set by dm_start
t_ok "L1 starts with 16 identical mlocked pages" dm_start L1 -m -l -n 16 -f 0x6c
t_ok "L2 too, the same content" dm_start L2 -m -l -n 16 -f 0x6c
t_ok "their 32 mlocked pages merge into one" wait_for 30 ksm_counts 1 31
t_is "each still has 64 kB locked" \
	"$(awk '$1 == "VmLck:" { print $2 }' "/proc/$L1_pid/status" "/proc/$L2_pid/status" | tr '\n' ' ')" \
	"64 64 "
# munlocks wait in per-CPU batches: compact_memory drains them all
kwrite /proc/sys/vm/compact_memory 1
t_ok "Mlocked counts the one KSM page, not 32 ($m0 kB before)" \
	wait_for 10 mlocked_le $((m0 + 8))
t_ok "L1 writes its locked merged pages" dm L1 touch 16
t_ok "its bytes are intact" dm L1 check
t_ok "L2's too" dm L2 check
dm_stop L1
dm_stop L2
t_ok "once both are gone, Mlocked is back to $m0 kB" \
	wait_for 10 mlocked_le "$m0"

t_ok "8 processes x 64 pages, 8 contents: 8 frames, then COW intact" \
	ksm_merge -t 90 8 64 8
t_ok "registered by a third process through /dev/ksmod: merged the same" \
	ksm_merge -t 60 -r 3 32 2
t_ok "after the processes exit, no rmap item, node or slot is left" \
	wait_for 20 settled
t_is "pages_shared is back to 0" "$(cat $K/pages_shared)" 0
t_is "pages_sharing is back to 0" "$(cat $K/pages_sharing)" 0

P=/sys/module/ksmod/parameters
t_ok "a run=2 that cannot finish fails and leaves every page shared, intact" \
	ksm_merge -t 60 -f "echo 1 > $P/test_unmerge_fail; echo 2 > $K/run" 2 16 2
t_dmesg "with a message" \
	'ksmod: run=2: unmerging stopped \(-ENOMEM\), [0-9]+ KSM pages still shared; run is 0'
t_is "run reads 0 after the failed unmerge" "$(cat $K/run)" 0
kwrite $P/test_unmerge_fail 0
kwrite $K/run 1

t_ok "run=2 gives every page its own frame again" \
	ksm_merge -t 60 -x "echo 2 > $K/run" 4 16 2
t_is "run reads 2 after unmerging" "$(cat $K/run)" 2
kwrite $K/run 1
t_ok "unregistering gives every page its own frame again" \
	ksm_merge -t 60 -x unregister 4 16 2
t_ok "nothing left behind" wait_for 20 settled

# Nothing is left behind: ksmod stays loaded while a page it merged exists.
dmesg_mark unload
t_ok "rmmod while merged is refused, every page still shared and intact" \
	ksm_merge -t 60 -f "rmmod ksmod 2>/tmp/rmmod.err" 4 16 2
t_match "rmmod says ksmod is in use" "$(cat /tmp/rmmod.err)" \
	"can't unload module 'ksmod': Resource temporarily unavailable"
t_dmesg "dmesg says how to unmerge" \
	'ksmod: merged pages exist: ksmod stays loaded until they are unmerged \(echo 2 > /sys/module/ksmod/ksm/run\)'
t_ok "ksmod is still loaded" ksmod_loaded
t_ok "run=2, then rmmod: every page has its own frame again" \
	ksm_merge -t 60 -x "echo 2 > $K/run && rmmod ksmod" 4 16 2
t_not "ksmod is unloaded" ksmod_loaded

# The THP matrix.
LOAD="run=1 pages_to_scan=1000 sleep_millisecs=10"
t_ok "ksmod loads again, running" ksmod_load $LOAD || bail "cannot load ksmod"
for mode in $(thp_modes); do
	thp_set "$mode"
	# shellcheck disable=SC2046 # word splitting wanted
	set -- $(thp_opt "$mode") -E "$(thp_want "$mode")" -t "$TM_SECS"
	t_ok "THP $mode: 2 x 1024 pages, 16 contents: 16 frames, then COW intact" \
		ksm_merge "$@" 2 1024 16 || continue
	t_ok "THP $mode: run=2 gives every page its own frame again" \
		ksm_merge "$@" -x "echo 2 > $K/run" 2 512 8 || continue
	kwrite $K/run 1
	t_ok "THP $mode: unregistering gives every page its own frame again" \
		ksm_merge "$@" -r -x unregister 2 512 8 || continue
	t_ok "THP $mode: run=2, then rmmod: every page has its own frame again" \
		ksm_merge "$@" -x "echo 2 > $K/run && rmmod ksmod" 2 512 8
	ksmod_loaded || ksmod_load $LOAD
done
t_ok "nothing left behind" wait_for 20 settled
t_ok "ksmod unloads" ksmod_unload
t_done
