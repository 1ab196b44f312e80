#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# soak (make soak, not make check): ksmod merging for a long time (600 s
# by default, ksmod.soak_secs=N on the kernel command line) while
# everything that moves pages happens at once, at the system's THP
# setting: 3 redis-server instances with the same dataset (registered and
# unregistered by pid again and again), ksm_stress writers (merging and
# unmerging under writes, forks, mprotect, mremap, MADV_DONTNEED; they
# check every byte), two dupmem processes whose merged pages move between
# NUMA nodes, a merge-any (prctl) process forking without pause, swap to zram
# through memory.reclaim of the test's cgroup, compaction, and memory
# blocks of node 1 going offline and online (where the kernel has memory
# hotplug). Every 30 s every redis key and every dupmem byte is checked.
# At the end: run=2 unmerges everything, every byte and key is intact,
# ksmod unloads; the harness fails on any splat (the guests boot with
# slub_debug on ksmod's caches).
# ksmod-programs: redis-server
# ksmod-modules: zram lzo_rle
# ksmod-timeout: 7200
# shellcheck disable=SC2154 # NAME_pid...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh
# shellcheck source=tests/guest/share/realprog.sh
. /lib/ksmod/share/realprog.sh

K=/sys/module/ksmod/ksm
CG=/sys/fs/cgroup/ksmsoak
M=/sys/devices/system/memory
SECS=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^ksmod\.soak_secs=//p')
SECS=${SECS:-600}
# shellcheck disable=SC2034 # read by share/realprog.sh's helpers
RP=redis RP_BIN=redis-server RP_COMM=redis-server NINST=3
ERR=/tmp/soak.errors
# The soak is about integrity, not latency: on the debug kernel (KASAN,
# lockdep, DEBUG_PAGEALLOC) under TCG, with reclaim, compaction and
# offlining all along, one check of every key took 10 minutes and a reply
# more than kvtool's 60 s. A hung server still fails (the test's limit).
export KVTOOL_REPLY_SECS=600
: >$ERR
now_s() { cut -d. -f1 /proc/uptime; }
end=$(($(now_s) + SECS))
running() { [ "$(now_s)" -lt "$end" ] && [ ! -e /tmp/soak.stop ]; }
# complain WHAT: a failure of a background loop, reported at the end
complain() { echo "$(now_s) $*" >>$ERR; }

diag "soak: $SECS s, THP $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
t_ok "swap on a 256 MiB zram device" zram_swap 256M
t_ok "a memory cgroup for the test's processes" memcg_enter $CG
t_ok "ksmod loads, running" ksmod_load run=1 pages_to_scan=2000 sleep_millisecs=10 ||
	bail "cannot load ksmod"

t_ok "3 redis instances, the same data" start_all || bail "redis does not start"
for i in 0 1 2; do
	ksmodctl register "$(rp_pid $i)" >/dev/null
done
t_ok "D0: 256 identical pages, madvised" dm_start D0 -m -n 256 -f 0x21
t_ok "D1: the same" dm_start D1 -m -n 256 -f 0x21
# a merge-any process forking without pause, its pages merged
prctl_merge set 1 map 64 4 forkrun "$SECS" check >forkrun.out 2>&1 &
forker=$!
ksm_stress 3 256 "$SECS" >stress.out 2>&1 &
stress=$!

# the churn, each in a loop of its own until the end
(while running; do
	echo 1 >/proc/sys/vm/compact_memory
	sleep 5
done) &
loops=$!
(while running; do
	echo 4M >$CG/memory.reclaim 2>/dev/null
	sleep 3
done) &
loops="$loops $!"
# move D NODE: move D's pages to NODE; ENOMEM (the node short of memory
# while its blocks go offline) is no failure; /tmp/D.moved counts the moves
move() {
	_a=$(dm_send "$1" move "$2" && dm_answer "$1" 300)
	case $_a in
	ok*) echo >>"/tmp/$1.moved" ;;
	*ENOMEM*) ;;
	*) complain "$1 move to node $2: $_a" ;;
	esac
}
: >/tmp/D0.moved
: >/tmp/D1.moved
(n=0; while running; do
	n=$((n + 1))
	move D0 $((n % 2))
	move D1 $(((n + 1) % 2))
	sleep 4
done) &
loops="$loops $!"
(n=0; while running; do
	n=$((n + 1))
	p=$(rp_pid $((n % 3)))
	ksmodctl unregister "$p" >/dev/null || complain "unregister $p"
	sleep 3
	ksmodctl register "$p" >/dev/null || complain "register $p"
	sleep 5
done) &
loops="$loops $!"
if [ -d $M ]; then
	(while running; do
		for b in $(ls -d /sys/devices/system/node/node1/memory[0-9]* | sort -t y -k 2 -n -r | head -n 4); do
			[ "$(cat "$b/state")" = online ] || continue
			if echo offline >"$b/state" 2>/dev/null; then
				sleep 2
				echo online >"$b/state" || complain "online ${b##*/}"
			fi
		done
		sleep 10
	done) &
	loops="$loops $!"
fi

checks=0 bad=0
while running; do
	sleep 30
	checks=$((checks + 1))
	check_all >check.out 2>&1 || { bad=$((bad + 1)); complain "redis check: $(tail -n 3 check.out | tr '\n' ' ')"; }
	dm D0 check >/dev/null || { bad=$((bad + 1)); complain "D0 check"; }
	dm D1 check >/dev/null || { bad=$((bad + 1)); complain "D1 check"; }
	diag "$(now_s) s: $(counters $K) swap $(awk 'NR == 2 { print $4 }' /proc/swaps) kB"
done
touch /tmp/soak.stop
for l in $loops; do
	wait "$l"
done
wait $stress
rc=$?
diag "ksm_stress: $(tail -n 2 stress.out | tr '\n' ' ')"
t_is "ksm_stress found every byte right" "$rc" 0
wait $forker
diag "forker: $(tr '\n' ' ' <forkrun.out)"
t_match "the merge-any process forked all along" "$(cat forkrun.out)" '^3 forkrun [1-9][0-9]*$'
t_match "and its bytes are intact" "$(cat forkrun.out)" '^4 check ok$'
t_is "$checks checks of every key and byte found nothing wrong" "$bad" 0
t_is "no background step failed" "$(cat $ERR)" ""
t_ok "D0's and D1's pages moved between the nodes ($(wc -l </tmp/D0.moved) and $(wc -l </tmp/D1.moved) times)" \
	test -s /tmp/D0.moved -a -s /tmp/D1.moved
t_ok "run=2 unmerges everything" kwrite $K/run 2
t_is "no KSM page is left" "$(cat $K/pages_shared) $(cat $K/pages_sharing)" "0 0"
t_ok "every redis key is intact" check_all
t_ok "D0's bytes are intact" dm D0 check
t_ok "D1's bytes are intact" dm D1 check
dm_stop D0
dm_stop D1
stop_all
t_no_dmesg "no bad page or rss-counter state" 'Bad page|Bad rss-counter'
t_ok "ksmod unloads" ksmod_unload
memcg_leave
zram_swap_off
t_done
