#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench_realprog (benchmark, run by tests/bench, not by make check): the
# jobs of the realprog tests (4 instances of redis-server, memcached and
# lua5.4 with the same 17 MB dataset, tests/guest/share/realprog.sh), each
# started under PR_SET_MEMORY_MERGE and merged from the end of its load:
# time until the saving reaches 95% of its final value, and that final
# saving, the kernel's KSM (6.12 only: 6.1's cannot merge an unmodified
# program) and then ksmod in the same boot, same pages_to_scan and
# sleep_millisecs. Data lines for tests/bench:
#     bench realprog PROG ksm|ksmod REP KEY VALUE
# KEY: t95_s (seconds to 95%), last_s (seconds to the last growth),
# sharing (final pages_sharing); for redis also set_keep and get_keep:
# the requests per second of redis' own benchmark (redis-benchmark, SET
# and GET of 1 KiB values, 4 clients, against instance 0) once merged,
# over the same before merging: what being merged costs the live program,
# the scanner still running (goal: ksmod's within 5% of the kernel's).
# Parameters from the kernel command line (tests/bench sets them):
#     ksmbench.pts ksmbench.sleep ksmbench.rreps
# ksmod-programs: redis-benchmark
# ksmod-timeout: 900
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh
# shellcheck source=tests/guest/share/realprog.sh
. /lib/ksmod/share/realprog.sh

arg() { # NAME DEFAULT
	_v=$(tr ' ' '\n' </proc/cmdline | sed -n "s/^ksmbench\.$1=//p" | tail -n 1)
	echo "${_v:-$2}"
}
PTS=$(arg pts 2000)
SLEEP=$(arg sleep 20)
REPS=$(arg rreps 1)

echo "bench realprog config pts $PTS sleep $SLEEP reps $REPS"
ksmod_loaded && ksmod_unload
grep -qw ksm_enable_merge_any /proc/kallsyms && native=1 || native=""
old_pts=$(cat $KK/pages_to_scan) old_sleep=$(cat $KK/sleep_millisecs)

# rps: "SET GET" requests per second of redis-benchmark on instance 0
rps() {
	redis-benchmark -p 7000 -n 10000 -c 4 -t set,get -d 1024 -r 2000 \
		--csv 2>/dev/null | tr -d '"' | awk -F, '
		$1 == "SET" { set = $2 } $1 == "GET" { get = $2 }
		END { print (set ? set : 0), (get ? get : 0) }'
}

# keep NAME BEFORE AFTER: a "bench realprog" line of AFTER / BEFORE
keep() {
	awk -v b="$2" -v a="$3" -v n="$1" -v p="$RP $KSM $REP" \
		'BEGIN { if (b > 0) printf "bench realprog %s %s %.3f\n", p, n, a / b }'
}

# one KSM_NAME SYSFS REP: start, load, run=1, settle, stop
one() {
	t_ok "$RP $1 run $3: 4 instances under PR_SET_MEMORY_MERGE, loaded" \
		start_all prctl_exec || { stop_all; return 1; }
	[ "$RP" = redis ] && before=$(rps)
	kwrite "$2/run" 1
	settle "$2"
	if [ "$RP" = redis ]; then
		after=$(rps)
		echo "redis-benchmark SET GET rps: before $before, merged $after"
		KSM=$1 REP=$3
		keep set_keep "${before% *}" "${after% *}"
		keep get_keep "${before#* }" "${after#* }"
	fi
	stop_all
	kwrite "$2/run" 2
	echo "bench realprog $RP $1 $3 t95_s $secs95"
	echo "bench realprog $RP $1 $3 last_s $secs"
	echo "bench realprog $RP $1 $3 sharing $sharing"
}

for RP in redis memcached lua; do
	case $RP in
	redis) RP_BIN=redis-server ;;
	memcached) RP_BIN=memcached ;;
	lua) RP_BIN=lua5.4 ;;
	esac
	export RP RP_BIN
	rep=0	# not i: realprog.sh's loops use it
	while [ "$rep" -lt "$REPS" ]; do
		rep=$((rep + 1))
		if [ -n "$native" ]; then
			kwrite $KK/run 2
			kwrite $KK/pages_to_scan "$PTS"
			kwrite $KK/sleep_millisecs "$SLEEP"
			one ksm $KK "$rep"
			kwrite $KK/pages_to_scan "$old_pts"
			kwrite $KK/sleep_millisecs "$old_sleep"
			kwrite $KK/run 0
		fi
		t_ok "ksmod loads (run=0)" ksmod_load run=0 \
			pages_to_scan="$PTS" sleep_millisecs="$SLEEP" || continue
		one ksmod $K "$rep"
		t_ok "ksmod unloads" ksmod_unload
	done
done
t_done
