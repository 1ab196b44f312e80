#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# frozen: a KSM page in the swap cache that migration holds frozen (its
# refcount at 0 while folio_migrate_mapping() moves its swap cache entry)
# still points at its stable node, and must keep it: a stable tree lookup
# that meets it then must wait, as the kernel's ksm_get_folio() does, not
# drop the node. Otherwise the kernel's own folio_migrate_ksm() writes
# into ksmod's freed node and the page points at it ever after.
# The helper ksmod_test_migrate stretches the freeze to 200 ms (a kprobe on
# xas_store); meanwhile the scanner looks up the page's node again and
# again: it is the root of the stable tree, which a process of unique
# pages that start as its page does keeps searching (smart_scan off, so
# they are not skipped).
# The guest boots with slub_debug on ksmod's caches (scripts/guest-run),
# which reports a write to a freed node. On the way: as in the kernel, a
# page merged away leaves the swap cache at once.
# Swap is a loop device over a file: a swap device that is not synchronous
# (zram is), so that pages read back in stay in the swap cache.
# ksmod-modules: loop
# shellcheck disable=SC2154 # NAME_pid...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
O=/sys/kernel/debug/ksmod/objects
P=/sys/module/ksmod_test_migrate/parameters
CG=/sys/fs/cgroup/ksmfrozen
obj() { awk -v k="$1" '$1 == k { print $2 }' $O; }
swapped() { dm A swapped | sed -n 's/^ok //p'; }

# the kernel's KSM must not copy swapped-in KSM pages (its run=2 would)
kwrite /sys/kernel/mm/ksm/run 0
t_ok "loop loads" stock_load loop
t_ok "a 64 MiB swap on a loop device" \
	sh -c 'dd if=/dev/zero of=/run/swapfile bs=1M count=64 2>/dev/null &&
	       losetup /dev/loop0 /run/swapfile && mkswap /dev/loop0 >/dev/null &&
	       swapon /dev/loop0'
t_ok "a memory cgroup for the test processes" memcg_enter $CG

t_ok "ksmod loads, running, smart_scan off" \
	ksmod_load run=1 pages_to_scan=2000 sleep_millisecs=0 ||
	bail "cannot load ksmod"
kwrite $K/smart_scan 0

# A KSM page in the swap cache: pages swapped out and read back in stay in
# the swap cache (a read fault keeps the slot), and the first of them to
# merge becomes the KSM page in place.
t_ok "A: 64 identical pages, not madvised yet" dm_start A -n 64 -f 0x5a
reclaim() {
	i=0
	while [ $i -lt 64 ] && [ "$(swapped)" != 64 ]; do
		echo 1M >$CG/memory.reclaim 2>/dev/null
		i=$((i + 1))
	done
	[ "$(swapped)" = 64 ]
}
t_ok "A's pages swap out" reclaim
t_ok "and read back in, intact" dm A check
t_is "none of A's pages is swapped out any more" "$(swapped)" 0
# in_swapcache PFN...: how many of these frames are swap-cache pages
in_swapcache() {
	_n=0
	for _p in "$@"; do
		_f=$(dd if=/proc/kpageflags bs=8 skip=$((0x$_p)) count=1 2>/dev/null |
		     od -An -tu8 | tr -d ' ')
		_n=$((_n + ((_f >> 13) & 1)))
	done
	echo $_n
}
old=$(dm A pfns | sed 's/^ok //')
t_is "A's 64 pages are in the swap cache" "$(in_swapcache $old)" 64
t_ok "A madvises them" dm A madvise
t_ok "they merge into one KSM page" wait_for 60 ksm_counts 1 63
# the replaced pages are mapped nowhere: they leave the swap cache at once
# (and are freed), rather than when reclaim finds them
t_is "the 63 merged-away pages left the swap cache, the KSM page stays" \
	"$(in_swapcache $old)" 1
# kflags BIT: that bit of /proc/kpageflags of A's first page (13: swap
# cache, 21: KSM)
kflags() {
	_pfn=$(dm A frames | sed -n 's/^ok first=\([0-9a-f]*\) .*/\1/p')
	_f=$(dd if=/proc/kpageflags bs=8 skip=$((0x$_pfn)) count=1 2>/dev/null |
	     od -An -tu8 | tr -d ' ')
	echo $(((_f >> $1) & 1))
}
t_is "the KSM page is in the swap cache" "$(kflags 13) $(kflags 21)" "1 1"

# U's pages start as A's (-e: stamped at their end), so that each search
# looks the KSM page up: a search passes a node whose page starts
# otherwise on the 8 bytes it keeps of it
t_ok "U: 1024 unique pages, madvised, searched in the stable tree each pass" \
	dm_start U -u -e -f 0x5a -m -n 1024
kwrite $K/run 1
t_ok "ksmod_test_migrate loads (200 ms, one migration)" \
	helper_load ksmod_test_migrate delay_ms=200 max_hits=1
t_is "still, with the scanner on it" "$(kflags 13) $(kflags 21)" "1 1"
# to the node the KSM page is not on
node=$(dm A frames | sed -n 's/.* nodes=\([01]\)$/\1/p')
other=$((1 - ${node:-1}))
dmesg_mark
# A migration that finds the scanner holding a reference to the KSM page
# (it looks the page up all the time) fails before the freeze, after 10
# tries; once, on a loaded host, all 10 did: move again, at most 5 times.
tries=0
while [ $tries -lt 5 ] && [ "$(cat $P/hits)" = 0 ]; do
	ans=$(dm A move $other)
	tries=$((tries + 1))
done
t_match "A moves its pages from node $node to $other, the KSM page frozen on the way" \
	"$ans" '^ok moved=[0-9]+$'
t_is "the freeze was held (moves: $tries)" "$(cat $P/hits)" 1
t_ok "ksmod_test_migrate unloads" helper_unload ksmod_test_migrate
sleep 1
t_is "the KSM page kept its node: one node, 1 shared, 63 sharing" \
	"$(obj stable_nodes) $(cat $K/pages_shared) $(cat $K/pages_sharing)" "1 1 63"
t_match "A maps one frame, on node $other" "$(dm A frames)" \
	"^ok first=[0-9a-f]+ distinct=1 nodes=$other\$"
t_ok "A's bytes are intact" dm A check
t_ok "A's bytes survive copy-on-write" dm A touch 64
t_ok "and are intact after it" dm A check
t_no_dmesg "no poisoned or corrupted slab object" 'Poison overwritten|Redzone|Object corrupt|ksmod_stable_node'
dm_stop U
dm_stop A
t_ok "ksmod unloads" ksmod_unload
memcg_leave
swapoff /dev/loop0
losetup -d /dev/loop0
rm -f /run/swapfile
t_done
