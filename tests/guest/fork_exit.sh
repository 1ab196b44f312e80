#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fork_exit: a child of a ksmod-owned process is ksmod's, with the same
# ranges; ksmod forgets a process when it exits (or execs), so that
# mm_slots in /sys/kernel/debug/ksmod/objects goes back where it was, also
# after 1000 fork+exit cycles; forks of processes nobody registered take
# no slot; unload while a registered process forks and exits in a loop.
# With the system's default THP (always; these buffers are smaller than a
# huge page), then the THP matrix (lib.sh): in each mode, a process with
# 512 identical pages (one huge page where the mode gives it, dupmem thp
# shows what backs it) merges them (on 2 frames: max_page_sharing is 256),
# forks and exits 50 times, each child reading its copy, and leaves no slot
# behind when it exits.
# shellcheck disable=SC2154 # NAME_pid, NAME_addr...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh


q() { ksmod_reg query "$@" | tr '\n' ' ' | sed 's/ $//'; }
mg() { ksmod_reg mg "$@"; }

OBJ=/sys/kernel/debug/ksmod/objects
slots() { awk '$1 == "mm_slots" { print $2 }' $OBJ; }
slots_are() { [ "$(slots)" = "$1" ]; }
# t_slots DESC N: mm_slots is N, or becomes N within 5 s
t_slots() {
	if wait_for 5 slots_are "$2"; then
		t_pass "$1"
	else
		t_fail "$1" "mm_slots is '$(slots)', expected $2"
	fi
}
CYCLES=1000	# fork+exit cycles that must leave no slot behind
# dm_slow NAME CMD...: dm for commands that take a while
dm_slow() { dm_send "$@" && dm_answer "$1" 100; }

t_ok "ksmod loads" ksmod_load || bail "cannot load ksmod"
s0=$(slots)
t_match "objects has a line mm_slots N" "$s0" '^[0-9]+$'
case $s0 in '' | *[!0-9]*) bail "no mm_slots in $OBJ" ;; esac

# P: two registered buffers, so that "the same ranges" means something.
t_ok "P starts and madvises MADV_MERGEABLE" dm_start P -m -2 -n 16 ||
	bail "dupmem does not start"
t_is "P's madvise succeeded" "$P_madv" ok
t_ok "P madvises its second buffer" dm P madvise 2
if [ $((0x$P_addr)) -lt $((0x$P_addr2)) ]; then
	ranges="$P_addr-$P_end $P_addr2-$P_end2"
else
	ranges="$P_addr2-$P_end2 $P_addr-$P_end"
fi
t_is "QUERY: P is ksmod's with both buffers" "$(q "$P_pid")" "owner=ksmod nr=2 $ranges"
t_is "P takes one slot" "$(slots)" $((s0 + 1))

ans=$(dm P fork)
t_match "P forks a child that stays" "$ans" '^ok child=[0-9]+$'
C=${ans#ok child=}
t_is "QUERY of the child: ksmod's, with the same ranges" \
	"$(q "$C")" "owner=ksmod nr=2 $ranges"
t_is "the child's first buffer has mg" "$(mg "$C" "$P_addr")" mg
t_is "and its second" "$(mg "$C" "$P_addr2")" mg
t_is "the child takes a slot of its own" "$(slots)" $((s0 + 2))
t_ok "the child is killed" dm P killchild
t_slots "its slot is gone" $((s0 + 1))
t_is "QUERY of the dead child is ESRCH" "$(q "$C")" ESRCH
t_is "QUERY: P is unchanged" "$(q "$P_pid")" "owner=ksmod nr=2 $ranges"

t0=$(uptime_cs)
t_ok "$CYCLES fork+exit cycles of P, each child's data intact" \
	dm_slow P forkloop $CYCLES
diag "$CYCLES cycles took $(($(uptime_cs) - t0))0 ms"
t_slots "they leave no slot behind" $((s0 + 1))
t_ok "20 cycles of fork+exec of /bin/true" dm P forkexec 20
t_slots "exec leaves no slot behind either" $((s0 + 1))
t_is "QUERY: P is unchanged" "$(q "$P_pid")" "owner=ksmod nr=2 $ranges"
t_ok "P's data is intact" dm P check

dm_send P exit
wait "$P_pid"
t_is "P exits (status 0)" $? 0
t_slots "ksmod forgets it: mm_slots is back where it started" "$s0"
t_is "QUERY of its pid is ESRCH" "$(q "$P_pid")" ESRCH

# Registered by another process: forgotten at exit just the same.
t_ok "R starts, never asking" dm_start R -n 8
t_is "R takes no slot" "$(slots)" "$s0"
t_is "REGISTER of R's buffer from another process" \
	"$(ksmod_reg register "$R_pid" "$R_addr" "$R_len")" ok
t_is "now R takes a slot" "$(slots)" $((s0 + 1))
dm_stop R
t_slots "R is killed: its slot is gone" "$s0"

# Nobody registered N: its forks take no slot.
t_ok "N starts, never asking" dm_start N -n 8
t_ok "100 fork+exit cycles of N" dm N forkloop 100
t_is "mm_slots never moved" "$(slots)" "$s0"
t_is "QUERY: N is nobody's" "$(q "$N_pid")" "owner=none nr=0"
dm_stop N

# The THP matrix, with the scanner running.
K=/sys/module/ksmod/ksm
kwrite $K/pages_to_scan 1000
kwrite $K/sleep_millisecs 10
kwrite $K/run 1
frames_are() { [ "$(dm "$1" frames | sed -n 's/.* distinct=\([0-9]*\).*/\1/p')" = "$2" ]; }
for mode in $(thp_modes); do
	thp_set "$mode"
	# shellcheck disable=SC2046 # word splitting wanted
	t_ok "THP $mode: T starts with 512 identical pages" \
		dm_start T $(thp_opt "$mode") -n 512 -f 0x54 || continue
	census=$(dm T thp)
	n() { echo "$census" | sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }
	t_ok "THP $mode: they are what the mode gives ($census)" \
		thp_backed "$mode" "$(n thp)" 512 "$(n heads)"
	t_ok "THP $mode: T madvises them" dm T madvise
	# a KSM page maps at most max_page_sharing (256) pages: two frames
	t_ok "THP $mode: they merge on 2 frames" wait_for "$TM_SECS" frames_are T 2
	t_ok "THP $mode: 50 fork+exit cycles of T, each child's data intact" \
		dm_slow T forkloop 50
	t_slots "THP $mode: they leave no slot behind" $((s0 + 1))
	t_ok "THP $mode: T's data is intact" dm T check
	dm_send T exit
	wait "$T_pid"
	t_slots "THP $mode: T exits, its slot goes" "$s0"
done
thp_restore
kwrite $K/run 2
kwrite $K/run 0

# Unload while a registered process forks and exits as fast as it can.
t_ok "L starts and madvises MADV_MERGEABLE" dm_start L -m -n 16
t_is "L takes a slot" "$(slots)" $((s0 + 1))
t_ok "L starts fork+exit cycles, until told to stop" dm_send L forkrun
sleep 1
t0=$(uptime_cs)
t_ok "ksmod unloads meanwhile" ksmod_unload
diag "the unload took $(($(uptime_cs) - t0))0 ms"
t_not "L was still forking when the unload finished" _dm_more L
kill -USR1 "$L_pid"
ans=$(dm_answer L 30)
t_match "L's cycles all went well" "$ans" '^ok [1-9][0-9]*$'
diag "L did ${ans#ok } cycles"
t_is "L's VMA has no mg any more" "$(mg "$L_pid" "$L_addr")" "no mg"
t_ok "L's data is intact" dm L check
ans=$(dm L fork)
t_match "L forks again, ksmod gone" "$ans" '^ok child=[0-9]+$'
t_is "the child's VMA has no mg" "$(mg "${ans#ok child=}" "$L_addr")" "no mg"
t_ok "the child is killed" dm L killchild
dm_stop L
t_done
