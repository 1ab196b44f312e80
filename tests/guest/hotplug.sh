#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hotplug: memory going offline under merged pages (as virtio-mem would
# unplug it): the pages are migrated out, stay shared and intact, and no
# stable node is left pointing into the offlined memory.
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

# Offline, from the top, the blocks of node 1 that can go, while 4
# processes merge their pages.
offlined=""
(
	sleep 3
	for b in $(ls -d /sys/devices/system/node/node1/memory[0-9]* | sort -t y -k 2 -n -r); do
		[ "$(cat "$b/state")" = online ] || continue
		echo offline >"$b/state" 2>/dev/null && echo "${b##*/}"
	done >/tmp/offlined
) &
off=$!
t_ok "4 processes merge while memory of node 1 goes offline: shared, intact" \
	ksm_merge -t 120 4 64 4
wait $off
offlined=$(cat /tmp/offlined)
diag "offlined: $(echo $offlined | wc -w) blocks"
t_ok "some memory blocks went offline" test -n "$offlined"
t_ok "merging goes on afterwards" ksm_merge -t 60 2 32 2
for b in $offlined; do
	echo online >"$M/$b/state"
done
t_ok "ksmod unloads" ksmod_unload
t_done
