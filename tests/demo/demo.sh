#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# demo: what a new user sees: identical workers, ksmod loaded, memory saved.
# Run by scripts/demo (make demo); it prints this test's output.
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
say() { printf '# %s\n' "$*"; }
show() { say "\$ $*"; "$@" 2>&1 | sed 's/^/#   /'; }
mem_used_mib() { awk '/MemTotal/ { t = $2 } /MemFree/ { f = $2 } END { print int((t - f) / 1024) }' /proc/meminfo; }

say "kernel: $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs, $(awk '/MemTotal/ { print int($2 / 1024) " MiB" }' /proc/meminfo)"
base=$(mem_used_mib)
say "starting 6 workers holding the same 32 MiB each (none of them asks for KSM)"
demo_workers 6 32 >/tmp/workers &
wait_for 60 sh -c '[ "$(wc -l </tmp/workers)" -ge 6 ]'
sleep 1
before=$(mem_used_mib)
say "memory in use: $before MiB ($((before - base)) MiB more than before the workers)"

show ksmctl load -f /lib/ksmod/ksmod.ko run=1 pages_to_scan=4000 sleep_millisecs=0
t_ok "ksmod is loaded" ksmod_loaded
show ksmctl version
say "registering each worker's memory through /dev/ksmod, as a VM host would:"
while read -r pid addr len; do
	show ksmod_reg register "$pid" "$addr" "$((0x$len))"
done </tmp/workers
say "waiting for the scanner to merge the duplicates..."
want=$((6 * 32 * 256 - 256))
wait_for 120 sh -c "[ \$(cat $K/pages_sharing) -ge $want ]"
after=$(mem_used_mib)
show ksmctl status
for f in pages_shared pages_sharing pages_unshared full_scans; do
	say "$(printf '%-16s %s' $f "$(cat $K/$f)")"
done
say "memory in use: $before MiB before merging, $after MiB after"
say "saved: $((before - after)) MiB; ksmod maps $(($(cat $K/pages_sharing) * 4 / 1024)) MiB of duplicates onto $(($(cat $K/pages_shared) * 4)) KiB of KSM pages"
t_ok "pages are shared" test "$(cat $K/pages_sharing)" -ge "$want"
t_ok "memory was saved" test $((before - after)) -ge 100

say "stopping the workers and unloading ksmod"
kill $(cut -d' ' -f1 /tmp/workers) 2>/dev/null
sleep 1
show ksmctl unload
t_not "ksmod is unloaded" ksmod_loaded
t_done
