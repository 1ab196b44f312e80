#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ibt: ksmod's view of each resolved function's first instruction matches
# the bytes in /proc/kcore, and where IBT is enforced (simulated with
# test_ibt_enforced=1) the load is refused exactly when a function ksmod
# calls is not an ENDBR target, naming each and the way out (ibt=off).
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

S=/sys/kernel/debug/ksmod/symbols

t_ok "ksmod loads (no CPU enforces IBT under TCG)" ksmod_load || bail "cannot load ksmod"
t_not "this CPU has no ibt flag" grep -qw ibt /proc/cpuinfo

mismatch=""
expect_refused=""
ibt_kernel=""
while read -r name addr kind flags; do
	[ "$addr" = "0000000000000000" ] && continue
	bytes=$(kcore_peek "$addr" | cut -d' ' -f2-)
	case "$bytes" in
	"f3 0f 1e fa") mine=endbr; ibt_kernel=1 ;;
	"66 0f 1f 00") mine=sealed; ibt_kernel=1 ;;
	unreadable) mine=unknown ;;
	*) mine=plain ;;
	esac
	[ "$mine" = "$kind" ] || mismatch="$mismatch $name($kind!=$mine:$bytes)"
	case "$flags" in
	*called*) [ "$mine" = endbr ] || expect_refused="$expect_refused $name" ;;
	esac
done <$S
t_is "ksmod classifies every entry instruction as /proc/kcore shows it" "$mismatch" ""
diag "sealed functions ksmod calls:${expect_refused:- none}"
t_ok "ksmod unloads" ksmod_unload

dmesg_mark "enforced"
if [ -n "$ibt_kernel" ] && [ -n "$expect_refused" ]; then
	t_errno "with IBT enforced the load is refused" EOPNOTSUPP \
		ksmod_load test_ibt_enforced=1
	for name in $expect_refused; do
		t_dmesg "naming $name" "ksmod: IBT: $name (is sealed|has no ENDBR)"
	done
	t_dmesg "and the way out" 'boot with ibt=off'
	t_not "leaving nothing behind" test -e /sys/module/ksmod
else
	# 6.1 has no kernel IBT: the CPU never enforces it there.
	t_ok "with no sealed callee (or no kernel IBT) the load goes on" \
		ksmod_load test_ibt_enforced=1
	t_no_dmesg "without an IBT message" 'ksmod: IBT'
	t_ok "ksmod unloads" ksmod_unload
fi
t_done
