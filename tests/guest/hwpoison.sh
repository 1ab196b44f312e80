#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hwpoison: a memory error in one of ksmod's KSM pages, injected with
# madvise(MADV_HWPOISON). Memory failure finds every pte of the page
# through ksmod's rmap walk and unmaps it; a process that asked to hear of
# memory errors early (PR_MCE_KILL_EARLY) gets SIGBUS BUS_MCEERR_AO before
# it touches the page where the running kernel's KSM sends one (6.12's
# collect_procs_ksm(); 6.1 has none and signals nobody early for a KSM
# page); reading the page afterwards gives BUS_MCEERR_AR; the process's
# other pages are intact. (6.1's memory failure refuses KSM pages: EBUSY,
# nothing changes.) The kernel's KSM runs the same job first, in the same
# boot, as the oracle. Then run=2 and unload leave nothing behind. The
# poisoned frames stay poisoned for the rest of the boot.
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
S=/sys/kernel/mm/ksm
res() { printf '%s\n' "$1" | sed -n "s/^$2 //p"; }

[ -d $S ] || bail "no $S: this kernel has no KSM"
# Debian's 6.1 cloud flavour is built without it: no MADV_HWPOISON
if [ ! -e /proc/sys/vm/memory_failure_early_kill ]; then
	t_skip "a memory error in a KSM page" \
		"this kernel has no memory failure handling (CONFIG_MEMORY_FAILURE)"
	t_done
fi
ksmod_loaded && ksmod_unload

kwrite $S/pages_to_scan 1000
kwrite $S/sleep_millisecs 10
kwrite $S/run 1
run_timeout 60 mce_early -k $S 8 >kern.out 2>&1
kern=$(cat kern.out)
diag "kernel: $(tr '\n' ' ' <kern.out)"
kwrite $S/run 2
kwrite $S/run 0
diag "the kernel's KSM: $(printf '%s\n' "$kern" | tr '\n' ' ')"
t_is "the kernel's KSM merged the pages" "$(res "$kern" merged)" yes

t_ok "ksmod loads" ksmod_load run=1 pages_to_scan=1000 sleep_millisecs=10 ||
	bail "cannot load ksmod"
dmesg_mark
run_timeout 60 mce_early 8 >ksmod.out 2>&1
out=$(cat ksmod.out)
diag "ksmod: $(printf '%s\n' "$out" | tr '\n' ' ')"
t_is "ksmod merged the pages" "$(res "$out" merged)" yes
for k in poison early touch others; do
	t_is "$k: as with the kernel's KSM" "$(res "$out" $k)" "$(res "$kern" $k)"
done
if grep -qw collect_procs_ksm /proc/kallsyms; then
	t_is "this kernel poisons a KSM page, tells the early-kill process, then its reader" \
		"$(res "$out" poison) $(res "$out" early) $(res "$out" touch)" \
		"ok BUS_MCEERR_AO BUS_MCEERR_AR"
	t_dmesg "memory failure recovered the page" 'Memory failure: .*: Recovered'
else
	# 6.1's memory_failure(): "can't handle KSM pages"
	t_is "6.1 refuses to poison a KSM page, which stays mapped" \
		"$(res "$out" poison) $(res "$out" early) $(res "$out" touch)" \
		"EBUSY none none"
fi
t_is "the process's other pages are intact" "$(res "$out" others)" intact
t_ok "run=2 leaves no KSM page" kwrite $K/run 2
t_is "pages_shared and pages_sharing are 0" \
	"$(cat $K/pages_shared) $(cat $K/pages_sharing)" "0 0"
t_ok "ksmod unloads" ksmod_unload
t_done
