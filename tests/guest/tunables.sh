#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tunables: merge_across_nodes and smart_scan take effect. A process on
# NUMA node 0 and one on node 1 hold pages of the same content: with
# merge_across_nodes=0 each node gets its own KSM page (pagemap frames,
# move_pages nodes) and nothing merges across, passes later too; a KSM
# page moved to the other node leaves room for a new one on its old node;
# with 1 they share one frame. smart_scan=1 skips pages that keep failing to
# merge (pages_skipped grows), smart_scan=0 scans every page every pass.
# advisor_mode=scan-time sets pages_to_scan within its limits, and gives it
# back when turned off.
# shellcheck disable=SC2154 # NAME_pid...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
N=32
c() { cat $K/$1; }
scans_reach() { [ "$(c full_scans)" -ge "$1" ]; }
more_scans() { wait_for 60 scans_reach $(($(c full_scans) + $1)); }
# snap: skipped, scanned and full read together, the scanner paused (a
# run=0 write waits for the batch in progress), so no pass ends between
snap() {
	kwrite $K/run 0
	skipped=$(c pages_skipped) scanned=$(c pages_scanned) full=$(c full_scans)
	kwrite $K/run 1
}

[ "$(cat /sys/devices/system/node/online)" = 0-1 ] ||
	bail "the guest needs two NUMA nodes (KSMOD_NUMA=1)"
t_ok "ksmod loads, stopped" ksmod_load run=0 pages_to_scan=1000 \
	sleep_millisecs=10 || bail "cannot load ksmod"

# Children inherit the shell's CPU, and allocate on its node.
taskset -p 1 $$ >/dev/null
t_ok "A: $N identical pages on node 0" dm_start A -m -n $N -f 0x4e
taskset -p 2 $$ >/dev/null
t_ok "B: $N pages of the same content on node 1" dm_start B -m -n $N -f 0x4e
taskset -p 3 $$ >/dev/null
t_is "A's pages are on node 0, each its own frame" \
	"$(dm_frames A nodes) $(dm_frames A distinct)" "0 $N"
t_is "B's pages are on node 1, each its own frame" \
	"$(dm_frames B nodes) $(dm_frames B distinct)" "1 $N"

t_ok "merge_across_nodes=0" kwrite $K/merge_across_nodes 0
kwrite $K/run 1
t_ok "one KSM page per node: pages_shared 2, pages_sharing $((2 * N - 2))" \
	wait_for 60 ksm_counts 2 $((2 * N - 2))
t_is "A: one frame, on node 0" "$(dm_frames A distinct) $(dm_frames A nodes)" "1 0"
t_is "B: one frame, on node 1" "$(dm_frames B distinct) $(dm_frames B nodes)" "1 1"
t_not "A and B do not share it" [ "$(dm_frames A first)" = "$(dm_frames B first)" ]
t_ok "three more full passes" more_scans 3
t_ok "still one KSM page per node" ksm_counts 2 $((2 * N - 2))
t_not "A and B still apart" [ "$(dm_frames A first)" = "$(dm_frames B first)" ]

# A's KSM page moves to node 1, where B's is: its node leaves node 0's
# tree, so that pages of that content on node 0 can merge there again.
kwrite $K/run 0
# (move_pages may report one of the 32 mappings of that one page unmoved)
t_match "A's KSM page moves to node 1" "$(dm A move 1)" "^ok moved="
t_is "A: one frame, on node 1" "$(dm_frames A distinct) $(dm_frames A nodes)" "1 1"
taskset -p 1 $$ >/dev/null
t_ok "C: $N pages of the same content on node 0" dm_start C -m -n $N -f 0x4e
taskset -p 3 $$ >/dev/null
kwrite $K/run 1
t_ok "C's merge into a third KSM page" \
	wait_for 60 ksm_counts 3 $((3 * N - 3))
t_is "C: one frame, on node 0" "$(dm_frames C distinct) $(dm_frames C nodes)" "1 0"
t_is "A still on its frame on node 1" "$(dm_frames A distinct) $(dm_frames A nodes)" "1 1"
t_ok "A's bytes are intact" dm A check
dm_stop C

t_errno "merge_across_nodes=1 refused while merged" EBUSY \
	kwrite $K/merge_across_nodes 1
t_ok "run=2" kwrite $K/run 2
t_is "A: every page its own frame again" "$(dm_frames A distinct)" $N
t_ok "merge_across_nodes=1" kwrite $K/merge_across_nodes 1
kwrite $K/run 1
t_ok "one KSM page for both: pages_shared 1, pages_sharing $((2 * N - 1))" \
	wait_for 60 ksm_counts 1 $((2 * N - 1))
t_is "A and B share one frame" "$(dm_frames A first)" "$(dm_frames B first)"
t_is "A: one frame" "$(dm_frames A distinct)" 1
t_ok "A's bytes are intact" dm A check
t_ok "B's bytes are intact" dm B check
dm_stop A
dm_stop B
kwrite $K/run 2

# smart_scan: pages that never merge (all different)
t_ok "U: $N unique pages, madvised" dm_start U -u -m -n $N
kwrite $K/run 1
t_is "smart_scan is on by default" "$(c smart_scan)" 1
t_ok "ten full passes" more_scans 10
t_match "pages_skipped grew" "$(c pages_skipped)" '^[1-9][0-9]*$'
t_ok "smart_scan=0" kwrite $K/smart_scan 0
more_scans 2
snap
s0=$skipped p0=$scanned f0=$full
t_ok "five more full passes" more_scans 5
snap
t_is "smart_scan=0: nothing skipped" "$skipped" "$s0"
scanned=$((scanned - p0)) passes=$((full - f0))
t_ok "smart_scan=0: every page scanned every pass ($scanned in $passes)" \
	[ "$scanned" -ge $(((passes - 1) * N)) ]
t_ok "smart_scan=1" kwrite $K/smart_scan 1
snap
s0=$skipped p0=$scanned f0=$full
t_ok "five more full passes" more_scans 5
snap
t_not "smart_scan=1: pages skipped again" [ "$skipped" = "$s0" ]
scanned=$((scanned - p0)) passes=$((full - f0))
t_ok "smart_scan=1: fewer pages scanned ($scanned in $passes passes)" \
	[ "$scanned" -lt $((passes * N)) ]
t_ok "U's bytes are intact" dm U check

# the scan-time advisor sets pages_to_scan from how long a pass takes
kwrite $K/advisor_max_pages_to_scan 3000
kwrite $K/run 0
t_ok "advisor_mode=scan-time" kwrite $K/advisor_mode scan-time
t_is "advisor_mode shows it" "$(c advisor_mode)" "none [scan-time]"
t_is "pages_to_scan starts at advisor_min_pages_to_scan" \
	"$(c pages_to_scan)" 500
t_errno "pages_to_scan cannot be written meanwhile" EINVAL \
	kwrite $K/pages_to_scan 100
kwrite $K/run 1
t_ok "three full passes" more_scans 3
pts=$(c pages_to_scan)
t_not "the advisor changed pages_to_scan (now $pts)" [ "$pts" = 500 ]
t_ok "up to advisor_max_pages_to_scan" [ "$pts" -le 3000 ]
kwrite $K/advisor_max_pages_to_scan 200
t_ok "three full passes" more_scans 3
t_ok "then down to a lower advisor_max_pages_to_scan" \
	[ "$(c pages_to_scan)" -le 200 ]
t_ok "advisor_mode=none" kwrite $K/advisor_mode none
t_is "pages_to_scan is back to 100" "$(c pages_to_scan)" 100
t_ok "and can be written again" kwrite $K/pages_to_scan 1000
kwrite $K/advisor_max_pages_to_scan 30000
dm_stop U

t_ok "ksmod unloads" ksmod_unload
t_done
