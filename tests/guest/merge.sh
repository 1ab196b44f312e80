#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# merge: identical pages of 2 and 8 processes end up on one frame per
# content (pagemap), counters agree, bytes survive copy-on-write; run=2,
# unregistering and unload give every page its own frame again; nothing
# is left behind.
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
t_ok "8 processes x 64 pages, 8 contents: 8 frames, then COW intact" \
	ksm_merge -t 90 8 64 8
t_ok "registered by a third process through /dev/ksmod: merged the same" \
	ksm_merge -t 60 -r 3 32 2
t_ok "after the processes exit, no rmap item, node or slot is left" \
	wait_for 20 settled
t_is "pages_shared is back to 0" "$(cat $K/pages_shared)" 0
t_is "pages_sharing is back to 0" "$(cat $K/pages_sharing)" 0

t_ok "run=2 gives every page its own frame again" \
	ksm_merge -t 60 -x "echo 2 > $K/run" 4 16 2
t_is "run reads 2 after unmerging" "$(cat $K/run)" 2
kwrite $K/run 1
t_ok "unregistering gives every page its own frame again" \
	ksm_merge -t 60 -x unregister 4 16 2
t_ok "nothing left behind" wait_for 20 settled

t_ok "unload while merged gives every page its own frame again" \
	ksm_merge -t 60 -x "rmmod ksmod" 4 16 2
t_not "ksmod is unloaded" ksmod_loaded
t_done
