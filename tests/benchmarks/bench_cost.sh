#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench_cost (benchmark, run by tests/bench, not by make check): what ksmod
# costs processes that registered nothing. bench_cost (page faults, COW
# faults after fork, MADV_DONTNEED, MADV_WILLNEED, fork) runs in three
# states, interleaved so that drift and noise hit all three alike:
#     U   ksmod not loaded (the kernel's KSM stopped, run=0)
#     L0  ksmod loaded, run=0 (idle)
#     L1  ksmod loaded, run=1, nothing registered
# odd cycles in the order U L0 L1, even cycles L1 L0 U. Data lines for
# tests/bench:
#     bench cost CYCLE STATE fault=NS fault_min=NS cow=NS ... fork_min=US
# (medians and minimums of bench_cost's repetitions)
# Parameters from the kernel command line (tests/bench sets them):
#     ksmbench.cycles ksmbench.cpages ksmbench.creps ksmbench.pts
#     ksmbench.sleep
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

arg() { # NAME DEFAULT
	_v=$(tr ' ' '\n' </proc/cmdline | sed -n "s/^ksmbench\.$1=//p" | tail -n 1)
	echo "${_v:-$2}"
}
CYCLES=$(arg cycles 9)
NPAGES=$(arg cpages 2048)
REPS=$(arg creps 5)
PTS=$(arg pts 1000)
SLEEP=$(arg sleep 20)
M=/sys/module/ksmod/ksm

echo "bench cost config cycles $CYCLES npages $NPAGES reps $REPS pts $PTS sleep $SLEEP"

t_ok "ksmod is not loaded at the start" sh -c '! grep -q "^ksmod " /proc/modules'
t_ok "the kernel's KSM is stopped" kwrite /sys/kernel/mm/ksm/run 0

fails=0
# measure CYCLE STATE
measure() {
	# let load/unload work (RCU, text patching, module init) settle
	sleep 0.3
	if out=$(bench_cost -n "$NPAGES" -r "$REPS" 2>&1); then
		echo "bench cost $1 $2$out"
	else
		fails=$((fails + 1))
		diag "bench_cost in $2 (cycle $1) failed: $out"
	fi
}
# state CYCLE STATE: get there from any other state, then measure
state() {
	case $2 in
	U)
		if ksmod_loaded && ! ksmod_unload; then
			fails=$((fails + 1)); diag "unload failed (cycle $1)"; return
		fi ;;
	L0 | L1)
		want=0
		[ "$2" = L1 ] && want=1
		if ksmod_loaded; then
			kwrite $M/run $want || { fails=$((fails + 1)); return; }
		elif ! ksmod_load run=$want pages_to_scan="$PTS" sleep_millisecs="$SLEEP"; then
			fails=$((fails + 1)); diag "load failed (cycle $1)"; return
		fi
		if [ "$(cat $M/run)" != $want ] || ! pidof ksmod >/dev/null; then
			fails=$((fails + 1)); diag "ksmod not in state $2 (cycle $1)"; return
		fi ;;
	esac
	measure "$1" "$2"
}

c=0
while [ $c -lt "$CYCLES" ]; do
	c=$((c + 1))
	if [ $((c % 2)) = 1 ]; then
		for s in U L0 L1; do state $c $s; done
	else
		for s in L1 L0 U; do state $c $s; done
	fi
done
ksmod_loaded && ksmod_unload
t_is "$CYCLES cycles x 3 states measured, no step failed" "$fails" 0
t_done
