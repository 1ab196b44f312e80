#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# scan: the scanner thread sleeps while run is 0, works while it is 1,
# runs at nice 5 like ksmd, and is gone after unload; its debugfs profile
# counts each phase only while on.
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
batches() { awk '$1 == "batches" { print $2 }' /sys/kernel/debug/ksmod/scan; }
batches_past() { [ "$(batches)" -ge "$1" ]; }

t_ok "ksmod loads" ksmod_load sleep_millisecs=10 || bail "cannot load ksmod"
pid=$(pidof ksmod)
t_ok "the scanner thread exists" test -n "$pid"
t_is "it runs at nice 5" "$(awk '{ print $19 }' /proc/$pid/stat)" 5

b0=$(batches)
sleep 1
t_is "with run=0 it does not scan" "$(batches)" "$b0"

kwrite $K/run 1
sleep 1
b1=$(batches)
t_ok "with run=1 it scans batch after batch ($b0 -> $b1)" test "$b1" -ge $((b0 + 5))

kwrite $K/sleep_millisecs 100000
sleep 0.3
b2=$(batches)
sleep 1
t_ok "a long sleep_millisecs takes effect at once ($b2 -> $(batches))" \
	test "$(batches)" -le $((b2 + 1))
kwrite $K/sleep_millisecs 10
sleep 0.5
t_ok "a short one wakes it up again" test "$(batches)" -ge $((b2 + 5))

kwrite $K/run 0
sleep 0.3
b3=$(batches)
sleep 1
t_is "back to run=0 it stops" "$(batches)" "$b3"

# debugfs profile (make bench): each phase's time and count, only when on
P=/sys/kernel/debug/ksmod/profile
ph() { awk -v p="$1" -v f="$2" '$1 == p { print $f }' $P; }
t_is "profiling is off at load" "$(ph enabled 2)" 0
t_is "and counts nothing" "$(awk '$1 != "enabled" { n += $3 } END { print n }' $P)" 0
dm_start D -m -n 64 -f 0x42 || bail "cannot start D"
t_ok "profiling on" kwrite $P 1
t_is "reads back" "$(ph enabled 2)" 1
kwrite $K/pages_to_scan 1000
kwrite $K/run 1
t_ok "D's 64 pages merge" wait_for 60 ksm_counts 1 63
kwrite $K/run 0
t_ok "profiling off" kwrite $P 0
t_ok "each of D's pages was walked to" test "$(ph walk 3)" -ge 64
t_ok "and checksummed (at least the first 62)" test "$(ph checksum 3)" -ge 62
t_ok "one merge of a pair, the rest with the KSM page" test "$(ph merge 3)" -ge 63
t_ok "every phase has its time" sh -c "[ $(ph walk 2) -gt 0 ] && [ $(ph checksum 2) -gt 0 ] && [ $(ph stable 2) -gt 0 ] && [ $(ph merge 2) -gt 0 ]"
c=$(ph checksum 3)
kwrite $K/run 1
b4=$(batches)
t_ok "five batches later" wait_for 10 batches_past $((b4 + 5))
t_is "off, it counts no more" "$(ph checksum 3)" "$c"
t_errno "a write that is not a boolean: EINVAL" EINVAL kwrite $P maybe
t_ok "D's bytes are intact" dm D check
dm_stop D

t_ok "ksmod unloads while the thread is scanning" ksmod_unload
t_not "the thread is gone" pidof ksmod
t_done
