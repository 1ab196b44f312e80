#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# sparse: a 256 GiB MAP_NORESERVE mergeable mapping with 64 written pages
# costs the scanner what is populated, not what is mapped, as in the
# kernel's KSM (its range walk, in Debian's 6.1.192 and 6.12.118): full
# scans keep completing, so another process's pages merge meanwhile, at
# a CPU cost per full scan like the kernel's; both run the same job for 10 s in
# the same boot with the same tunables. Unmerging the whole mapping is
# quick (the kernel's own unmerge still visits every page).
# Any user can map such a range: it must not stall merging for everyone.
# shellcheck disable=SC2154 # NAME_pid...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
S=/sys/kernel/mm/ksm
SECS=10

# cpu_ms PID: user + system time of a task, in ms (USER_HZ 100)
cpu_ms() { awk '{ print ($14 + $15) * 10 }' "/proc/$1/stat"; }
thread() { for p in /proc/[0-9]*; do [ "$(cat "$p/comm" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}" && return; done; }

# measure DIR THREAD: start the sparse process and D, let the scanner run
# SECS seconds; sets scans, cpu, merged
measure() {
	rm -f sp.in sp.out
	mkfifo sp.in
	# -h, MADV_NOHUGEPAGE: this test is about holes in the page tables.
	# With huge pages each write fills 2 MiB around it, which 6.1 keeps
	# as zero-filled pages that both KSMs must scan and merge: populated
	# memory, not holes (thp.sh has huge pages merged).
	sparse -h <sp.in >sp.out &
	sp=$!
	exec 7>sp.in
	wait_for 20 grep -q '^pid=' sp.out
	dm_start D -m -n 64 -f 0x3d >/dev/null
	tid=$(thread "$2")
	f0=$(cat "$1"/full_scans) c0=$(cpu_ms "$tid")
	kwrite "$1"/run 1
	sleep $SECS
	kwrite "$1"/run 0
	scans=$(($(cat "$1"/full_scans) - f0)) cpu=$(($(cpu_ms "$tid") - c0))
	per=$((cpu * 1000 / (scans > 0 ? scans : 1)))
	merged=$(cat "$1"/pages_sharing)
}
finish() {
	exec 7>&-
	kill -KILL $sp	# dupmem inherited fd 7: no EOF for it
	wait $sp 2>/dev/null
	dm_stop D
}

[ -d $S ] || bail "no $S: this kernel has no KSM"
ksmod_loaded && ksmod_unload
kwrite $S/run 2
kwrite $S/run 0
kwrite $S/pages_to_scan 100
kwrite $S/sleep_millisecs 20

measure $S ksmd
kscans=$scans kcpu=$cpu kper=$per
diag "the kernel's KSM: $kscans full scans in $SECS s, ksmd $kcpu ms CPU"
t_is "the kernel's KSM merges D's 64 pages and the sparse 64 meanwhile" \
	"$merged" 126
finish
kwrite $S/run 2
kwrite $S/run 0

t_ok "ksmod loads" ksmod_load pages_to_scan=100 sleep_millisecs=20 ||
	bail "cannot load ksmod"
measure $K ksmod
diag "ksmod: $scans full scans in $SECS s, $cpu ms CPU"
t_is "ksmod merges D's 64 pages and the sparse 64 meanwhile" "$merged" 126
t_ok "ksmod completes full scans ($scans; the kernel's KSM $kscans)" \
	test "$scans" -ge 10 -a "$((scans * 2))" -ge "$kscans"
t_ok "at a CPU cost per full scan like the kernel's ($per us; the kernel's $kper us)" \
	test "$per" -le "$((kper * 3 / 2 + 1000))"
echo check >&7
echo unmerge >&7
wait_for 60 grep -q '^ok ms=' sp.out
t_is "the sparse process's pages are intact" "$(sed -n 2p sp.out)" ok
ms=$(sed -n 's/^ok ms=//p' sp.out)
diag "MADV_UNMERGEABLE of 256 GiB took $ms ms"
t_ok "unmerging the whole 256 GiB is quick" test "${ms:-99999}" -lt 5000
finish
t_ok "ksmod unloads" ksmod_unload
t_done
