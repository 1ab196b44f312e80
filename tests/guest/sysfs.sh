#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# sysfs: /sys/module/ksmod/ksm/ takes what /sys/kernel/mm/ksm/ takes and
# refuses the rest with EINVAL, leaving the value unchanged.
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
t_ok "ksmod loads" ksmod_load || bail "cannot load ksmod"

for f in run pages_to_scan sleep_millisecs; do
	t_is "$f is rw-r--r-- root" "$(stat -c '%a %U' $K/$f)" "644 root"
done

# file, value, what reads back afterwards
for good in "run 1 1" "run 0 0" "run 2 2" "run 0 0" \
	    "pages_to_scan 0 0" "pages_to_scan 4294967295 4294967295" \
	    "pages_to_scan 100 100" \
	    "sleep_millisecs 0 0" "sleep_millisecs 4294967295 4294967295" \
	    "sleep_millisecs 20 20"; do
	set -- $good
	t_ok "$1 accepts $2" kwrite $K/$1 "$2"
	t_is "$1 reads back $3" "$(cat $K/$1)" "$3"
done

for bad in "run 3" "run -1" "run abc" "run 1x" "run 4294967296" "run ''" \
	   "pages_to_scan -1" "pages_to_scan 4294967296" "pages_to_scan 0x" \
	   "pages_to_scan ten" \
	   "sleep_millisecs -1" "sleep_millisecs 4294967296" \
	   "sleep_millisecs 1.5"; do
	set -- $bad
	[ "$2" = "''" ] && set -- "$1" ""
	before=$(cat $K/$1)
	t_errno "$1 refuses '$2'" EINVAL kwrite $K/$1 "$2"
	t_is "$1 unchanged after '$2'" "$(cat $K/$1)" "$before"
done

t_ok "ksmod unloads" ksmod_unload
t_done
