#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fuzz: bad input at random. tests/prog/ksm_fuzz drives /dev/ksmod's
# ioctls, madvise, mmap, munmap, mremap, mprotect, prctl and fork, with
# random ranges and arguments, over huge-page (THP at the system's setting),
# sparse, shared, file and PROT_NONE mappings, from 4 threads as root; a
# second one, as uid 65534 (REGISTER of pid 1 or of a root process is
# EPERM), from 2 threads; both also move pages between the two NUMA nodes
# (mbind, migrate_pages). Meanwhile this shell changes ksmod's tunables
# now and then (run 0/1/2, merge_across_nodes, max_page_sharing,
# use_zero_pages, smart_scan, scan speed, merge_domain and its two
# tunables) and compacts memory. Checked: every result is one
# the documentation allows, every page the fuzzers wrote and the canary
# read back intact (also in forked children), every sysfs write is
# answered as the README says, no splat (harness); then, the fuzzers gone
# and pid 1 unregistered, pages_shared and pages_sharing drop to 0, run=2
# succeeds, nothing is left, ksmod unloads.
#
# Length: ksmod.fuzz_calls=N on the kernel command line, which tests/run
# passes from $KSMOD_FUZZ_CALLS: the root fuzzer's calls (default 20000,
# 60-100 s per kernel under TCG at 200-450 calls a second; a third on the
# debug kernel, ksmod.slow=3, at about 25), the other makes half as many;
# ksmod.fuzz_seed=S ($KSMOD_FUZZ_SEED) repeats a run.
# A long run needs a longer time limit too (the fuzzers stop on their own
# 100 s before it, reporting what they did):
#   KSMOD_FUZZ_CALLS=1000000 KSMOD_TEST_TIMEOUT=10800 tests/run -k 6.12 -t fuzz
# ksmod-timeout: 300
# shellcheck disable=SC3028 # busybox ash has $RANDOM
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
O=/sys/kernel/debug/ksmod/objects
obj() { awk -v k="$1" '$1 == k { print $2 }' "$O"; }
settled() { [ "$(obj rmap_items)" = 0 ] && [ "$(obj stable_nodes)" = 0 ]; }

arg() { sed -n "s/.*ksmod\.$1=\([0-9][0-9]*\).*/\1/p" /proc/cmdline; }
calls=$(arg fuzz_calls)
# a slow kernel (make check-debug's ksmod.slow=N) makes 1/N as many
: "${calls:=$((20000 / KSMOD_SLOW))}"
seed=$(arg fuzz_seed)
[ -n "$seed" ] || seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
seed2=$((seed + 1))
calls2=$((calls / 2))
# stop 100 s before the time limit, to report and clean up
secs=$((${KSMOD_TIMEOUT:-300} - 100))
diag "seed $seed, $calls + $calls2 calls, at most $secs s"

# (Debian's rt kernels are built without THP: nothing to check there)
thp=""
have_thp && thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled)
if [ -n "$thp" ]; then
	t_match "transparent huge pages at the system's default, always" "$thp" '\[always\]'
else
	diag "this kernel has no transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE off)"
fi

# fast, but leaving the fuzzers most of the guest (TCG runs both CPUs on one
# host thread)
t_ok "ksmod loads, merging, scanning fast" \
	ksmod_load run=1 pages_to_scan=1000 sleep_millisecs=10 || bail "cannot load ksmod"

# tw FILE VALUE [ERR...]: write a tunable; success, or one of ERR (names),
# is as documented; anything else is logged UNEXPECTED
tw() {
	_f=$1 _v=$2
	shift 2
	if _err=$({ echo "$_v" >"$K/$_f"; } 2>&1); then
		echo "ok $_f=$_v" >>toggles.log
		return 0
	fi
	for _e in "$@"; do
		case $_err in
		*"$(errno_msg "$_e")"*)
			echo "$_e $_f=$_v" >>toggles.log
			return 1
			;;
		esac
	done
	echo "UNEXPECTED $_f=$_v: $_err" >>toggles.log
	return 1
}

toggler() {
	while [ ! -e fuzz.done ]; do
		usleep $((300000 + RANDOM * 36))
		echo "$(cat $K/pages_shared) $(cat $K/pages_sharing) $(cat $K/full_scans) $(cat $K/cow_breaks)" >>counters.log
		case $((RANDOM % 13)) in
		0)
			tw run 0
			usleep 200000
			tw run 1
			;;
		1)
			# run=2 may find a page still mapped by an exiting
			# process (EBUSY) or lack memory (ENOMEM); once it
			# succeeds no KSM page exists and none is made until
			# run=1: these two must be taken then
			if tw run 2 EBUSY ENOMEM; then
				tw merge_across_nodes $((RANDOM % 2))
				tw max_page_sharing $((RANDOM % 2 ? 256 : 2 + RANDOM % 5000))
			fi
			tw run 1
			;;
		2) tw use_zero_pages $((RANDOM % 2)) ;;
		3) tw smart_scan $((RANDOM % 2)) ;;
		4) tw sleep_millisecs $((RANDOM % 10 ? 2 + RANDOM % 9 : 0)) ;;
		5) tw pages_to_scan $((1000 + RANDOM % 1000)) ;;
		# while KSM pages exist: EBUSY (README)
		6) tw merge_across_nodes $((RANDOM % 2)) EBUSY ;;
		7) tw max_page_sharing $((2 + RANDOM % 1000)) EBUSY ;;
		8) tw stable_node_chains_prune_millisecs $((RANDOM % 3000)) ;;
		9)
			# compaction migrates KSM pages too
			echo 1 >/proc/sys/vm/compact_memory
			echo "compact" >>toggles.log
			;;
		# merge domains: a change unmerges everything first (README),
		# which may meet a page an exiting process maps, or lack memory
		10)
			set -- global uid cgroup tag
			shift $((RANDOM % 4))
			tw merge_domain "$1" EBUSY ENOMEM
			;;
		11)
			tw merge_zero_across_domains $((RANDOM % 2)) EBUSY ENOMEM
			tw merge_domain_cgroup_level $((RANDOM % 3)) EBUSY ENOMEM
			tw merge_new_page $((RANDOM % 2))
			;;
		*) tw run 1 ;;
		esac
	done
}

# dump what the fuzzers are doing, when they are late
stacks() {
	for p in "$@"; do
		for s in /proc/"$p"/task/*/stack; do
			[ -e "$s" ] || continue
			echo "--- $s ($(sed -n 's/^State:\t//p' "${s%/stack}/status"))"
			cat "$s"
		done
	done
}

rm -f fuzz.done toggles.log counters.log
toggler &
tog=$!
# the unprivileged one targets this shell (root: EPERM), the root one it
ksm_fuzz -s "$seed2" -n "$calls2" -T 2 -d "$secs" -u 65534 -P $$ \
	>fuzz2.out 2>&1 &
f2=$!
ksm_fuzz -s "$seed" -n "$calls" -T 4 -d "$secs" -P $f2 >fuzz1.out 2>&1 &
f1=$!
late=$((secs + 40))
while kill -0 $f1 2>/dev/null || kill -0 $f2 2>/dev/null; do
	if [ $late -le 0 ]; then
		diag "the fuzzers are still running $((secs + 40)) s later:"
		stacks $f1 $f2 >stacks.log 2>&1
		diag "$(cat stacks.log)"
		kill -KILL $f1 $f2 2>/dev/null
		break
	fi
	sleep 1
	late=$((late - 1))
	# a long run: where it is, every 5 minutes
	if [ $(((secs + 40 - late) % 300)) = 0 ]; then
		diag "$(tail -n 1 fuzz1.out) / $(tail -n 1 fuzz2.out) / ksmod: $(tail -n 1 counters.log)"
	fi
done
wait $f1
rc1=$?
wait $f2
rc2=$?
touch fuzz.done
wait $tog

for f in fuzz1.out fuzz2.out; do
	diag "$f:"
	sed 's/^/#   /' $f
done
t_is "root fuzzer: every result documented, every byte read back (seed $seed)" \
	"$rc1" 0
t_not "root fuzzer: made all its $calls calls in time" \
	grep -q "stopped after" fuzz1.out
[ -z "$thp" ] ||
	t_match "root fuzzer: its THP regions were huge pages" "$(cat fuzz1.out)" \
		'AnonHugePages [1-9][0-9]* kB'
t_is "uid 65534 fuzzer: every result documented, every byte read back (seed $seed2)" \
	"$rc2" 0
t_not "uid 65534 fuzzer: made all its $calls2 calls in time" \
	grep -q "stopped after" fuzz2.out
diag "sysfs writes: $(cut -d' ' -f1 toggles.log | sort | uniq -c | tr '\n' ' ')"
t_is "sysfs writes during the run: answers as documented" \
	"$(grep UNEXPECTED toggles.log)" ""

diag "ksmod meanwhile: $(awk '$1 > s { s = $1 } $2 > g { g = $2 }
	END { printf "at most %d pages shared, %d sharing; %d full scans, %d COW breaks", s, g, $3, $4 }' counters.log)"
t_ok "ksmod merged pages meanwhile" awk '$2 > 0 { f = 1 } END { exit !f }' counters.log

# pid 1 may have been registered: all of it unregistered (holes: ENOMEM)
t_match "pid 1 unregistered" "$(ksmod_reg unregister 1 0 0x7ffffffff000)" '^(ok|ENOMEM)$'
tw run 1
t_ok "the fuzzers gone, pages_shared and pages_sharing drop to 0" \
	wait_for 120 ksm_counts 0 0
t_ok "run=2 succeeds" kwrite $K/run 2
t_is "nothing shared" "$(cat $K/pages_shared) $(cat $K/pages_sharing)" "0 0"
t_ok "no rmap item or stable node left" wait_for 30 settled
t_no_dmesg "no bad page or rss-counter state" 'Bad (page|rss-counter)'
t_ok "ksmod unloads" ksmod_unload
t_done
