#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# symbols: every resolved address is the kernel's (a function's, or a
# variable's for ",data" entries); a missing required
# symbol fails the load with ENOENT and its name, an optional one does not.
# The table holds what ksmod uses and no more: every symbol marked hooked
# is a hook of the hook table, and functions ksmod never calls are not
# needed for the load (each needless entry is one more way for the load to
# fail, or to be refused where IBT is enforced).
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

S=/sys/kernel/debug/ksmod/symbols

t_ok "ksmod loads" ksmod_load || bail "cannot load ksmod"
n=0
bad=""
while read -r name addr kind flags; do
	n=$((n + 1))
	[ "$addr" = "0000000000000000" ] && continue
	types="tT"
	case $flags in *,data*) types="bBdD" ;; esac
	want=$(awk -v s="$name" -v t="$types" '$3 == s && index(t, $2) { print $1; exit }' /proc/kallsyms)
	[ "$want" = "$addr" ] || bad="$bad $name($addr!=$want)"
done <$S
t_ok "the table has entries ($n)" test "$n" -ge 10
t_is "every resolved address is the symbol's start in /proc/kallsyms" "$bad" ""
t_is "every required symbol is resolved" \
	"$(awk '$4 ~ /^required/ && $2 == "0000000000000000" { print $1 }' $S)" ""
hooked=$(awk '$4 ~ /,hooked/ { print $1 }' $S | sort | tr '\n' ' ')
hooks=$(awk '{ print $1 }' /sys/kernel/debug/ksmod/hooks | sort | tr '\n' ' ')
unhooked=""
for h in $hooked; do
	case " $hooks " in *" $h "*) ;; *) unhooked="$unhooked $h" ;; esac
done
t_is "every symbol marked hooked has a hook" "$unhooked" ""
t_ok "ksmod unloads" ksmod_unload

for unused in walk_page_range vm_normal_page __anon_vma_prepare ksm_might_need_to_copy \
	mm_find_pmd; do
	t_ok "the load does not need $unused, which ksmod does not use" \
		ksmod_load test_missing_symbol=$unused
	t_ok "ksmod unloads" ksmod_unload
done

for missing in page_vma_mapped_walk rmap_walk_ksm ksm_madvise; do
	dmesg_mark "missing $missing"
	# busybox insmod words ENOENT as "unknown symbol in module, or unknown
	# parameter"; the dmesg line below tells which.
	t_errno "without $missing the load fails with ENOENT" \
		"unknown symbol in module, or unknown parameter" \
		ksmod_load test_missing_symbol=$missing
	t_dmesg "naming $missing" "ksmod: required symbol $missing not found"
	t_not "and leaves nothing behind" test -e /sys/module/ksmod
done

dmesg_mark "optional"
t_ok "without the optional do_wp_page the load goes on" \
	ksmod_load test_missing_symbol=do_wp_page
t_dmesg "saying so" 'ksmod: optional symbol do_wp_page not found'
t_match "and its hook is absent" "$(grep do_wp_page /sys/kernel/debug/ksmod/hooks)" \
	'^do_wp_page absent 0$'
t_ok "hookfire madvise still works" hookfire madvise 2
t_ok "ksmod unloads" ksmod_unload
t_done
