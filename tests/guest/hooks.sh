#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hooks: the madvise and write-fault hooks fire, exactly where expected,
# and MADV_MERGEABLE still does what it did (the hook passes it on).
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

H=/sys/kernel/debug/ksmod/hooks
hits() { awk -v h="$1" '$1 == h { print $3 }' $H; }

t_ok "ksmod loads" ksmod_load || bail "cannot load ksmod"

before=$(hits ksm_madvise)
t_ok "10 rounds of MADV_MERGEABLE/UNMERGEABLE work, mg flag set and cleared" \
	hookfire madvise 10
t_is "the madvise hook saw exactly those 20 calls" \
	"$(($(hits ksm_madvise) - before))" 20

before=$(hits ksm_madvise)
t_ok "other madvise() advice does not enter the hook" \
	sh -c 'cat /proc/self/maps >/dev/null'
t_is "ksm_madvise hits unchanged" "$(($(hits ksm_madvise) - before))" 0

before=$(hits do_wp_page)
t_ok "a forked child writes 64 copy-on-write pages, data intact" hookfire cow 64
after=$(hits do_wp_page)
t_ok "the write-fault hook saw at least those 64 faults" \
	test $((after - before)) -ge 64

t_ok "ksmod unloads" ksmod_unload
t_done
