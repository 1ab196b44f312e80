#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench_merge (benchmark, run by tests/bench, not by make check): time to
# fully merge NPROC x MIB MiB of duplicates (DISTINCT contents) and the
# scanner kthread's CPU time for it, with the kernel's KSM (ksmd, ksmod not
# loaded) and with ksmod (kthread "ksmod"), same pages_to_scan and
# sleep_millisecs. Repetitions alternate: kernel, then ksmod loaded for its
# run and unloaded again; ksmod also runs a job of NPAGES / 2 contents
# (many KSM pages) with merge_new_page=0, then 1 (a fresh page per KSM
# page: what that costs); repetition 0 is a warm-up (the first merge after
# boot is slower on 6.12) that tests/bench leaves out of its statistics.
# Data lines for tests/bench:
#     bench merge ksm|ksmod|ksmodip|ksmodnew|ksmodprof REP KEY VALUE
# Parameters from the kernel command line (tests/bench sets them):
#     ksmbench.nproc ksmbench.mib ksmbench.distinct ksmbench.pts
#     ksmbench.sleep ksmbench.mreps
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

arg() { # NAME DEFAULT
	_v=$(tr ' ' '\n' </proc/cmdline | sed -n "s/^ksmbench\.$1=//p" | tail -n 1)
	echo "${_v:-$2}"
}
NPROC=$(arg nproc 4)
MIB=$(arg mib 8)
DISTINCT=$(arg distinct 4)
PTS=$(arg pts 1000)
SLEEP=$(arg sleep 20)
REPS=$(arg mreps 3)
NPAGES=$((MIB * 256))	# 4 KiB pages
TOTAL=$((NPROC * NPAGES))

K=/sys/kernel/mm/ksm
M=/sys/module/ksmod/ksm

echo "bench merge config nproc $NPROC mib $MIB npages $NPAGES distinct $DISTINCT pts $PTS sleep $SLEEP reps $REPS"

t_ok "ksmod is not loaded at the start" sh -c '! grep -q "^ksmod " /proc/modules'
t_ok "the kernel's KSM is stopped" kwrite $K/run 0
# One KSM page per content (bench_merge counts frames): max_page_sharing
# as large as the job, for both (the default 256 would make chains).
mps=""
if [ -w $K/max_page_sharing ]; then
	mps=$(cat $K/max_page_sharing)
	t_ok "kernel max_page_sharing $mps -> $TOTAL" \
		kwrite $K/max_page_sharing "$TOTAL"
fi
for f in use_zero_pages merge_across_nodes smart_scan max_page_sharing; do
	[ -r $K/$f ] && echo "bench merge config ksm_$f $(cat $K/$f)"
done

# one KSM_NAME SYSFS KTHREAD REP [DISTINCT]
one() {
	bench_merge -k "$2" -n "$3" -t 120 -p "$PTS" -s "$SLEEP" \
		"$NPROC" "$NPAGES" "${5:-$DISTINCT}" >/tmp/bench_merge.out 2>&1
	_rc=$?
	sed "s/^/bench merge $1 $4 /" /tmp/bench_merge.out
	return $_rc
}

i=-1
while [ $i -lt "$REPS" ]; do
	i=$((i + 1))
	one ksm $K ksmd $i
	t_is "kernel KSM run $i: full merge, unmerge (bench_merge status)" $? 0
	if ! t_ok "ksmod loads (run=0)" ksmod_load run=0 \
		pages_to_scan="$PTS" sleep_millisecs="$SLEEP"; then
		continue
	fi
	t_ok "ksmod max_page_sharing -> $TOTAL" kwrite $M/max_page_sharing "$TOTAL"
	one ksmod $M ksmod $i
	t_is "ksmod run $i: full merge, unmerge (bench_merge status)" $? 0
	# merge_new_page costs per KSM page: compare in place with fresh
	# pages on a job that makes many (NPAGES / 2 contents)
	t_ok "ksmod merge_new_page=0" kwrite $M/merge_new_page 0
	one ksmodip $M ksmod $i $((NPAGES / 2))
	t_is "ksmod run $i, $((NPAGES / 2)) contents (bench_merge status)" $? 0
	t_ok "ksmod merge_new_page=1" kwrite $M/merge_new_page 1
	one ksmodnew $M ksmod $i $((NPAGES / 2))
	t_is "ksmod merge_new_page=1 run $i, $((NPAGES / 2)) contents (bench_merge status)" $? 0
	t_ok "ksmod unloads" ksmod_unload
done

# Where ksmod's scanner time goes: one more run of the job, profiled
# (debugfs "profile": the clock read between phases; not in the figures
# above, as the reads cost a little). Lines: bench merge ksmodprof 1
# prof_PHASE_ns|prof_PHASE_calls VALUE.
P=/sys/kernel/debug/ksmod/profile
if t_ok "ksmod loads for the profiled run" ksmod_load run=0 \
	pages_to_scan="$PTS" sleep_millisecs="$SLEEP"; then
	kwrite $M/max_page_sharing "$TOTAL"
	t_ok "profiling on" kwrite $P 1
	one ksmodprof $M ksmod 1
	t_is "ksmod profiled run: full merge, unmerge (bench_merge status)" $? 0
	t_ok "profiling off" kwrite $P 0
	awk '$1 != "enabled" {
		print "bench merge ksmodprof 1 prof_" $1 "_ns " $2
		print "bench merge ksmodprof 1 prof_" $1 "_calls " $3
	}' $P
	t_ok "ksmod unloads" ksmod_unload
fi

[ -n "$mps" ] && t_ok "kernel max_page_sharing back to $mps" kwrite $K/max_page_sharing "$mps"
t_done
