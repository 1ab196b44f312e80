#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tuning: a write to pages_to_scan or sleep_millisecs takes effect at
# once, not after the batch in progress and the sleep after it (ksmd, the
# kernel's thread, finishes both first: measured here in the same boot,
# for comparison only); a write to run, as in the kernel, returns when the
# batch in progress ends, and no later (tools count on it: ksm_tests reads
# full_scans right after run=1). A batch ends at the end of a full pass.
#   - sleeping sleep_millisecs=60000 after a batch of 1 page, the scanner
#     takes pages_to_scan=1000 at once: it scans within 2 s;
#   - in a pass over 65536 unique pages (a second or more under TCG),
#     run=0 returns when the pass (the batch) is done, nothing scanned
#     after it; pages_to_scan=1 ends such a pass at once, the scanner then
#     sleeps its 60 s, and sleep_millisecs=10 wakes it.
# shellcheck disable=SC2154 # NAME_pid...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
KK=/sys/kernel/mm/ksm
N=64
U=65536
BIG=1000000000

ksmod_loaded && ksmod_unload

# took_cs CMD...: run CMD, print how long it took in centiseconds
took_cs() {
	_tc0=$(uptime_cs)
	"$@" || return 1
	echo $(($(uptime_cs) - _tc0))
}
scanned() { cat $K/pages_scanned; }
# still SECS: pages_scanned does not grow for SECS seconds
still() {
	_s0=$(scanned)
	sleep "$1"
	[ "$(scanned)" = "$_s0" ]
}
# grows SECS [FROM]: pages_scanned grows past FROM (now) within SECS
grows() {
	_g0=${2:-$(scanned)}
	wait_for "$1" sh -c "[ \$(cat $K/pages_scanned) -gt $_g0 ]"
}

# The kernel's ksmd, for comparison: after a batch of 1 page it sleeps
# 60 s, and pages_to_scan=1000 waits for that sleep to end (its first
# full pass over the 64 pages ends then).
kwrite $KK/pages_to_scan 1 && kwrite $KK/sleep_millisecs 60000 &&
	kwrite $KK/run 1
dm_start KA -m -n $N -f 0x21
sleep 1
kwrite $KK/pages_to_scan 1000
if wait_for 3 sh -c "[ \$(cat $KK/full_scans) -gt 0 ]"; then
	diag "the kernel's KSM ended a pass within 3 s of pages_to_scan=1000"
else
	diag "the kernel's KSM ended no pass within 3 s of pages_to_scan=1000:" \
		"ksmd finishes its 60 s sleep first"
fi
dm_stop KA
kernel_ksm_done

t_ok "ksmod loads: run=1, pages_to_scan=1, sleep_millisecs=60000" \
	ksmod_load run=1 pages_to_scan=1 sleep_millisecs=60000 ||
	bail "cannot load ksmod"
dmesg_mark tuning
t_ok "A: $N identical pages, madvised" dm_start A -m -n $N -f 0x22
sleep 2
t_ok "nothing merged in 2 s (the scanner sleeps 60 s)" ksm_counts 0 0
s0=$(scanned)
t_ok "pages_to_scan=1000" kwrite $K/pages_to_scan 1000
t_ok "the scanner scans within 2 s of the write" grows 2 "$s0"
kwrite $K/sleep_millisecs 10
t_ok "sleep_millisecs=10: merged within 10 s" wait_for 10 ksm_counts 1 $((N - 1))

# Long passes: U's unique pages, every one checked every pass. Each write
# of pages_to_scan starts one pass; the scanner then sleeps 60 s.
full() { cat $K/full_scans; }
# pass_cs: start a pass, print how long it took
pass_cs() {
	_f0=$(full)
	took_cs sh -c "echo $BIG > $K/pages_to_scan &&
		until [ \$(cat $K/full_scans) -gt $_f0 ]; do usleep 20000; done"
}
kwrite $K/sleep_millisecs 60000
kwrite $K/smart_scan 0
t_ok "U: $U unique pages, madvised" dm_start U -u -m -n $U
first=$(pass_cs)
cs=$(pass_cs)
diag "a pass over A and U: ${first:-?}0 ms (the first), ${cs:-?}0 ms"
if [ "${cs:-0}" -lt 100 ]; then
	t_skip "run=0 and pages_to_scan=1 end a pass in progress" \
		"a pass took only ${cs:-?}0 ms, too short to tell"
else
	kwrite $K/pages_to_scan $BIG
	usleep 300000
	f=$(full)
	t=$(took_cs kwrite $K/run 0)
	t_ok "run=0 in a pass returns by the end of the batch (${t:-?}0 ms)" \
		test -n "$t" -a "${t:-999}" -le $((2 * cs + 100))
	t_is "the batch in progress, the pass, was done" "$(full)" $((f + 1))
	t_ok "nothing scanned after run=0 returned" still 2
	s0=$(scanned)
	kwrite $K/run 1
	t_ok "run=1 scans again at once" grows 2 "$s0"
	t_ok "pages_to_scan=1 in the pass" kwrite $K/pages_to_scan 1
	usleep 200000
	t_ok "ends it: nothing scanned in the next 2 s (the 60 s sleep)" still 2
	s0=$(scanned)
	t_ok "sleep_millisecs=10 wakes it" kwrite $K/sleep_millisecs 10
	t_ok "it scans within 2 s" grows 2 "$s0"
fi
t_ok "A's bytes are intact" dm A check
t_ok "U's bytes are intact" dm U check
t_no_dmesg "nothing in the kernel log" 'BUG:|WARNING:|Call Trace'
dm_stop A
dm_stop U
t_ok "ksmod unloads" ksmod_unload
t_done
