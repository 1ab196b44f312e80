#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# scan: the scanner thread sleeps while run is 0, works while it is 1,
# runs at nice 5 like ksmd, and is gone after unload.
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
batches() { awk '$1 == "batches" { print $2 }' /sys/kernel/debug/ksmod/scan; }

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

kwrite $K/run 1
t_ok "ksmod unloads while the thread is scanning" ksmod_unload
t_not "the thread is gone" pidof ksmod
t_done
