#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# demo: what a new user sees: ksmod installed with DKMS, identical workers,
# `modprobe ksmod`, memory before and after, `modprobe -r ksmod`.
# Run by scripts/demo (make demo); it prints this test's output.
# ksmod-needs: dkms
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
NPROC=6
MIB=32
say() { printf '# %s\n' "$*"; }
show() { say "\$ $*"; "$@" 2>&1 | sed 's/^/#   /'; }
# shellcheck disable=SC2317 # called through wait_for
merged() { [ "$(cat "$K/pages_sharing")" -ge "$want" ]; }
meminfo_mib() { awk -v k="$1:" '$1 == k { print int($2 / 1024) }' /proc/meminfo; }

use_kmod || bail "no kmod in the guest"
say "kernel: Debian's stock $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs," \
	"$(meminfo_mib MemTotal) MiB of memory"
say "ksmod is installed as 'make install' leaves it (DKMS):"
show modinfo -F filename ksmod
show modinfo -F version ksmod
base=$(meminfo_mib AnonPages)

say
say "starting $NPROC workers that each hold the same $MIB MiB of data, as identical"
say "VMs or a pool of identical worker processes would (none asks for KSM)"
demo_workers $NPROC $MIB >/tmp/workers &
wait_for 60 sh -c "[ \$(wc -l </tmp/workers) -ge $NPROC ]"
sleep 1
before=$(meminfo_mib AnonPages)
free_before=$(meminfo_mib MemFree)
say "anonymous memory in use (AnonPages in /proc/meminfo): $before MiB," \
	"$((before - base)) MiB of it the workers'"

say
show modprobe ksmod run=1 pages_to_scan=4000 sleep_millisecs=0
t_ok "ksmod is loaded" ksmod_loaded
say "registering each worker's memory through /dev/ksmod, as a VM host would:"
while read -r pid addr len; do
	show ksmod_reg register "$pid" "$addr" "$((0x$len))"
done </tmp/workers
say "waiting for ksmod's scanner to merge the duplicate pages..."
want=$((NPROC * MIB * 256 - 256))
i=0
while ! wait_for 10 merged && [ $i -lt 24 ]; do
	i=$((i + 1))
	say "  ... $(cat $K/pages_sharing) of $want duplicate pages merged so far"
done
sleep 1
after=$(meminfo_mib AnonPages)
free_after=$(meminfo_mib MemFree)
show ksmodctl status

say
say "                              without ksmod   with ksmod"
say "$(printf '  anonymous memory (AnonPages) %9s MiB %8s MiB' "$before" "$after")"
say "$(printf '  free memory (MemFree)        %9s MiB %8s MiB' "$free_before" "$free_after")"
say "saved: $((before - after)) MiB: ksmod maps $(($(cat $K/pages_sharing) * 4 / 1024)) MiB" \
	"of duplicates onto $(($(cat $K/pages_shared) * 4)) KiB of shared pages"
say "(MemFree lags: the kernel keeps some freed pages on per-CPU lists for a while)"
t_ok "pages are shared" test "$(cat $K/pages_sharing)" -ge "$want"
t_ok "memory was saved" test $((before - after)) -ge $((MIB * (NPROC - 1) - 8))

say
say "removing ksmod: modprobe -r first gives every worker its own copy again"
say "(/etc/modprobe.d/ksmod.conf), then unloads the module"
show modprobe -r ksmod
t_not "ksmod is unloaded" ksmod_loaded
unmerged=$(meminfo_mib AnonPages)
say "anonymous memory in use: $unmerged MiB, as without ksmod"
t_ok "the workers have their own copies again" test $((unmerged - after)) -ge $((MIB * (NPROC - 1) - 8))

# shellcheck disable=SC2046 # one pid per word
kill $(cut -d' ' -f1 /tmp/workers) 2>/dev/null
t_done
