#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hotplug: memory going offline under merged pages (as virtio-mem would
# unplug it): the pages are migrated out, stay shared and intact, and no
# stable node is left pointing into the offlined memory. With the system's
# default THP (always; these buffers are smaller than a huge page), then
# the THP matrix (lib.sh): in each mode, node 1's memory goes offline while
# 4 processes merge 512 pages each, 16 contents (whole huge pages where
# the mode gives them, kpageflags shows it), and comes back online after.
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
M=/sys/devices/system/memory

if [ ! -d $M ]; then
	t_skip "memory hotplug" "this kernel has no CONFIG_MEMORY_HOTPLUG"
	t_done
fi

t_ok "ksmod loads, running" ksmod_load run=1 pages_to_scan=1000 sleep_millisecs=10 ||
	bail "cannot load ksmod"

# offline_node1 DELAY: offline, from the top, the blocks of node 1 that can
# go, after DELAY seconds, in the background; their names in /tmp/offlined
# (and how long it took, in /tmp/offline.secs)
offline_node1() {
	(
		sleep "$1"
		t0=$(cut -d' ' -f1 /proc/uptime)
		for b in $(ls -d /sys/devices/system/node/node1/memory[0-9]* | sort -t y -k 2 -n -r); do
			[ "$(cat "$b/state")" = online ] || continue
			echo offline >"$b/state" 2>/dev/null && echo "${b##*/}"
		done >/tmp/offlined
		awk -v t0="$t0" '{ printf "%.1f\n", $1 - t0 }' /proc/uptime >/tmp/offline.secs
	) &
	off=$!
}
online_again() {
	for b in $(cat /tmp/offlined); do
		echo online >"$M/$b/state"
	done
}

# Offline while 4 processes merge their pages.
offline_node1 3
t_ok "4 processes merge while memory of node 1 goes offline: shared, intact" \
	ksm_merge -t 120 4 64 4
wait $off
offlined=$(cat /tmp/offlined)
diag "offlined: $(echo $offlined | wc -w) blocks"
t_ok "some memory blocks went offline" test -n "$offlined"
t_ok "merging goes on afterwards" ksm_merge -t 60 2 32 2
online_again

# The THP matrix.
for mode in $(thp_modes); do
	thp_set "$mode"
	offline_node1 1
	# pages being moved out cannot merge meanwhile: twice the usual time
	# shellcheck disable=SC2046 # word splitting wanted
	t_ok "THP $mode: 4 x 512 pages merge while node 1 goes offline: 16 frames, intact" \
		ksm_merge $(thp_opt "$mode") -E "$(thp_want "$mode")" \
		-t $((TM_SECS * 2)) 4 512 16
	wait $off
	diag "THP $mode: offlined $(wc -w </tmp/offlined) blocks in $(cat /tmp/offline.secs) s"
	online_again
done
t_ok "ksmod unloads" ksmod_unload
t_done
