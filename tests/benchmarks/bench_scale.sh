#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench_scale (benchmark, run by tests/bench -S, not by make check): 1000
# processes with sparse mergeable memory (tests/prog/scale), the kernel's
# KSM (ksmod not loaded) then ksmod, pages_to_scan 20000, sleep_millisecs
# 10: the median time of a full scan once merged, for
#   dense    1000 x 256 pages populated in mappings of 256 pages
#   sparse   the same 256 pages spread over mappings of 4096 (16x the
#            address space, the same populated pages)
#   big      1000 x 1024 pages (1 M pages, 4 GiB before merging)
# so that a time growing with populated pages, not mapped ones, shows; and
# with ksmod loaded and the big job registered, how long `ksmodctl status`
# takes (the median of 5, centiseconds of /proc/uptime) and how many rmap
# items it tracks (64 bytes each). Data lines for tests/bench:
#     bench scale JOB ksm|ksmod KEY VALUE
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/kernel/mm/ksm
M=/sys/module/ksmod/ksm
NPROC=1000

t_ok "ksmod is not loaded at the start" sh -c '! grep -q "^ksmod " /proc/modules'
t_ok "the kernel's KSM is stopped" kwrite $K/run 0
# up to 1000 x 1024 pages share 64 contents: no chains for either
mps=$(cat $K/max_page_sharing 2>/dev/null)
[ -n "$mps" ] && kwrite $K/max_page_sharing $((NPROC * 1024))

# one JOB WHO DIR POPULATED MAPPED
one() {
	scale -k "$3" -s 3 -t 900 $NPROC "$4" "$5" >/tmp/scale.out 2>&1
	_rc=$?
	sed "s/^/bench scale $1 $2 /" /tmp/scale.out
	return $_rc
}

status_cs() {
	_i=0
	: >/tmp/status.cs
	while [ $_i -lt 5 ]; do
		_t0=$(uptime_cs)
		ksmodctl status >/dev/null 2>&1
		echo $(($(uptime_cs) - _t0)) >>/tmp/status.cs
		_i=$((_i + 1))
	done
	sort -n /tmp/status.cs | sed -n 3p
}

for job in "dense 256 256" "sparse 256 4096" "big 1024 1024"; do
	# shellcheck disable=SC2086 # three words
	set -- $job
	kwrite $K/pages_to_scan 20000
	kwrite $K/sleep_millisecs 10
	kwrite $K/run 1
	one "$1" ksm $K "$2" "$3"
	t_is "kernel KSM, $1: timed scans (scale status)" $? 0
	kwrite $K/run 2
	kwrite $K/run 0
	t_ok "ksmod loads" ksmod_load run=1 pages_to_scan=20000 sleep_millisecs=10 ||
		continue
	t_ok "ksmod max_page_sharing $((NPROC * 1024))" \
		kwrite $M/max_page_sharing $((NPROC * 1024))
	if [ "$1" = big ]; then
		# ksmodctl status while the big job is registered
		(sleep 1; while [ ! -s /tmp/scale.out ] || ! grep -q '^populate_ms' /tmp/scale.out; do sleep 1; done
		 sleep 5; echo "bench scale big ksmod status_cs $(status_cs)" >/tmp/status.line
		 echo "bench scale big ksmod rmap_items $(($(cat $M/pages_shared) + $(cat $M/pages_sharing) + $(cat $M/pages_unshared) + $(cat $M/pages_volatile)))" >>/tmp/status.line) &
		sp=$!
	fi
	one "$1" ksmod $M "$2" "$3"
	t_is "ksmod, $1: timed scans (scale status)" $? 0
	if [ "$1" = big ]; then
		wait "$sp"
		cat /tmp/status.line
	fi
	t_ok "ksmod unloads" ksmod_unload
done
[ -n "$mps" ] && kwrite $K/max_page_sharing "$mps"
t_done
