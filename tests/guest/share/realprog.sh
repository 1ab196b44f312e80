# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# /lib/ksmod/share/realprog.sh - the guest test of one real program, an
# unmodified one from a Debian package, run as several instances holding
# the same data (sourced by tests/guest/realprog_*.sh after lib.sh, with
# RP set to redis, memcached or lua).
#
# The steps, each with the same 4 instances and dataset (tests/prog/kvtool:
# 2000 common keys of 0.5-16 KiB, about 17 MB, and 50 keys unique to each
# instance), under the system's THP setting (Debian: always):
#   ref  (6.12) the kernel's own KSM, ksmod not loaded, instances started
#        under prctl(PR_SET_MEMORY_MERGE) (tests/prog/prctl_exec): the
#        saving when it stops growing is the reference. 6.1's KSM cannot
#        merge an unmodified program (no such prctl): skipped there.
#   A    ksmod loaded, instances started plainly, then `ksmodctl register
#        PID`: the saving is at least the floor (a share of the duplicated
#        data) and 0.95 x the kernel's (6.12), and 95% of the pages that
#        duplicate another share its frame (tests/prog/pagedup reads the
#        instances' pages and frames: the oracle on 6.1 too); every key of every instance
#        reads back exactly; a write load (different in each instance) and
#        a full check; run=2 (counters 0, data intact), run=1 and merging
#        again; `ksmodctl unregister` of two instances (their data intact);
#        rmmod with the other two still merged is refused (in use; data
#        intact), run=2 and rmmod unload (data intact).
#   C    a container: instances 0 and 1 in a cgroup, 2 in a nested one,
#        3 outside; `ksmodctl register --cgroup --follow 1`: the three
#        inside merge (at least 2/3 of the floor), 3 does not; moved in, 3
#        merges; moved out, 0 is unmerged; `status --cgroup` counts the
#        three; `unregister --cgroup` unmerges them; every key reads back
#        exactly.
#   B    ksmod loaded, instances started under prctl_exec: merged without
#        ksmodctl, as much as in A, every key reads back exactly, `ksmodctl
#        ranges` and ksm_merging_pages show them.
# The scanners run from the end of the load in ref and B, from the
# registration in A. On a slow kernel (ksmod.slow=N, the debug lane) the
# saving may take N times as long to settle, and a saving short of a
# threshold is a SKIP with its figures; every data check is asserted.
# The saving "stops growing" when pages_sharing has not grown for 2 full
# scans. No 'Bad page' or 'Bad rss-counter' line may appear (the harness
# fails on BUG:, WARNING: and Call Trace on its own).

K=/sys/module/ksmod/ksm
KK=/sys/kernel/mm/ksm
NINST=4
PTS=2000		# pages_to_scan, both KSMs
SLEEP=20		# sleep_millisecs, both KSMs
# seconds at most for the saving to stop growing: 90, times N on a slow
# kernel (make check-debug boots its KASAN kernel with ksmod.slow=N)
SETTLE=$((90 * KSMOD_SLOW))
FLOOR_PCT=${FLOOR_PCT:-50}	# % of the duplicated common data, at least

# step WHAT: a line in the kernel log, so that kernel.log shows which step
# a splat came in (and how long each took)
step() { echo "realprog: $RP: $*" >/dev/kmsg; }

# --- the program -------------------------------------------------------------

# rp_target I: kvtool's TARGET for instance I
rp_target() {
	case $RP in
	redis) echo "redis:$((7000 + $1))" ;;
	memcached) echo "memcache:$((11300 + $1))" ;;
	lua) echo "lua:$PWD/lua$1" ;;
	esac
}

# rp_start I [WRAPPER]: start instance I in the background (rp_pid_I)
rp_start() {
	_i=$1
	shift
	case $RP in
	redis)
		# the defaults but for persistence, which needs a disk
		"$@" redis-server --port $((7000 + _i)) --bind 127.0.0.1 \
			--save '' --appendonly no --dir "$PWD" \
			>"redis$_i.log" 2>&1 &
		;;
	memcached)
		# root needs -u; 256 MB: nothing is evicted
		"$@" memcached -u root -l 127.0.0.1 -p $((11300 + _i)) -U 0 \
			-m 256 >"memcached$_i.log" 2>&1 &
		;;
	lua)
		rm -rf "lua$_i"
		mkdir "lua$_i" && mkfifo "lua$_i/in" "lua$_i/out" || return 1
		"$@" lua5.4 /lib/ksmod/share/kvstore.lua "$PWD/lua$_i" \
			>"lua$_i.log" 2>&1 &
		;;
	esac
	eval "rp_pid_$_i=$!"
}

rp_pid() { eval echo "\$rp_pid_$1"; }

# kv I CMD [-m]: kvtool for instance I
kv() {
	kvtool -i "$1" ${3:+"$3"} "$(rp_target "$1")" "$2"
}

# start_all [WRAPPER]: start the instances, wait for them to answer, load
# the dataset into each; sets common (bytes of common values) and floor
# (FLOOR_PCT % of the pages 3 of the 4 copies of them fill)
start_all() {
	step "start and load${1:+ under $1}"
	for i in $(seq 0 $((NINST - 1))); do
		rp_start "$i" "$@" || return 1
	done
	for i in $(seq 0 $((NINST - 1))); do
		if ! wait_for 30 kv "$i" ping >/dev/null 2>&1; then
			echo "instance $i (pid $(rp_pid "$i")) does not answer:"
			kv "$i" ping
			tail -n 5 ./*"$i".log
			return 1
		fi
	done
	for i in $(seq 0 $((NINST - 1))); do
		_out=$(kv "$i" load) || { echo "instance $i: $_out"; return 1; }
		common=$(echo "$_out" | sed -n 's/.* common=//p')
	done
	floor=$((common * 3 * FLOOR_PCT / 100 / 4096))
	echo "$_out"
}

# stop_all: stop every instance (TERM, then KILL) and reap it
stop_all() {
	step "stop"
	for i in $(seq 0 $((NINST - 1))); do
		_p=$(rp_pid "$i")
		[ -n "$_p" ] && kill -TERM "$_p" 2>/dev/null
	done
	for i in $(seq 0 $((NINST - 1))); do
		_p=$(rp_pid "$i")
		[ -n "$_p" ] || continue
		wait_for 20 eval "! _rt_alive $_p" || kill -KILL "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
		eval "rp_pid_$i="
	done
}

# check_all [-m] [I...]: every key of each instance (default all) reads
# back exactly (-m: as after the write load), and no more keys
check_all() {
	step "check $*"
	_m=""
	[ "${1-}" = -m ] && { _m=-m; shift; }
	_rc=0
	[ $# -gt 0 ] || set -- $(seq 0 $((NINST - 1)))
	for i in "$@"; do
		kv "$i" check $_m || { echo "(instance $i, pid $(rp_pid "$i"))"; _rc=1; }
	done
	return $_rc
}

mutate_all() {
	step "write load"
	for i in $(seq 0 $((NINST - 1))); do
		kv "$i" mutate || return 1
	done
}

# --- KSM counters --------------------------------------------------------------

now() { awk '{ print $1 }' /proc/uptime; }

# settle DIR: wait until DIR/pages_sharing stops growing (no growth for 2
# full scans, after which static pages must have merged, at most $SETTLE s); sets sharing (its highest value), profit
# (general_profit then), secs (seconds to the last growth) and secs95
# (seconds until it first reached 95% of the highest value)
settle() {
	_d=$1
	step "waiting for $_d to settle"
	_t0=$(now)
	_best=-1
	_mark=$(cat "$_d/full_scans")
	: >settle.log
	while :; do
		_s=$(cat "$_d/pages_sharing")
		_f=$(cat "$_d/full_scans")
		_t=$(now)
		echo "$_t $_s $_f" >>settle.log
		if [ "$_s" -gt "$_best" ]; then
			_best=$_s
			_mark=$_f
		elif [ $((_f - _mark)) -ge 2 ]; then
			break
		fi
		if awk -v a="$_t" -v b="$_t0" -v m=$SETTLE 'BEGIN { exit !(a - b > m) }'; then
			diag "pages_sharing still growing after $SETTLE s"
			break
		fi
		usleep 200000
	done
	sharing=$_best
	profit=$(cat "$_d/general_profit" 2>/dev/null || echo 0)
	diag "counters: $(counters "$_d")"
	diag "vmstat: $(awk '$1 ~ /^(pgmigrate_success|numa_pages_migrated|thp_split_page|thp_collapse_alloc)$/ { printf "%s=%s ", $1, $2 }' /proc/vmstat)"
	# the growth: seconds:pages_sharing(full_scans) at each change
	diag "growth: $(awk -v t0="$_t0" '$2 != last { printf "%.1f:%d(%d) ", $1 - t0, $2, $3; last = $2 }' settle.log)"
	# shellcheck disable=SC2046 # two numbers
	set -- $(awk -v t0="$_t0" -v best="$_best" '
		$2 == best && !last { last = $1 - t0 }
		$2 >= 0.95 * best && !t95 { t95 = $1 - t0 }
		END { printf "%.1f %.1f\n", last, t95 }' settle.log)
	secs=$1 secs95=$2
}

# counters DIR: KSM's counters, NAME=VALUE on one line
counters() {
	for _c in pages_shared pages_sharing pages_unshared pages_volatile \
		pages_skipped full_scans cow_breaks; do
		[ -r "$1/$_c" ] && printf '%s=%s ' "$_c" "$(cat "$1/$_c")"
	done
	echo
}

mib() { awk -v p="$1" 'BEGIN { printf "%.1f MiB", p * 4096 / 1048576 }'; }

# oracle: what pagedup sees in the instances now: sets dup (pages that
# duplicate another, not counting pages of zeroes) and merged (pages that
# share a frame with another)
oracle() {
	_pids=""
	for i in $(seq 0 $((NINST - 1))); do
		_pids="$_pids $(rp_pid "$i")"
	done
	# shellcheck disable=SC2086 # a list of pids
	_o=$(pagedup $_pids)
	diag "pagedup: $_o"
	dup=$(echo "$_o" | sed -n 's/.* dup=\([0-9]*\).*/\1/p')
	merged=$(echo "$_o" | sed -n 's/.* merged=\([0-9]*\).*/\1/p')
	[ -n "$dup" ] || dup=1 merged=0
}

# oracle_merged DIR: oracle; when fewer than 95% of the duplicated pages
# share a frame, let DIR's KSM settle again (at most twice) and look once
# more: khugepaged may have just collapsed ranges of merged pages (it
# copies KSM pages into a new huge page, up to max_ptes_shared of them;
# seen on 6.1 after the write load: 724 of 7259 pages, thp_collapse_alloc
# up by 5), which the scanner splits and merges again. A page that never
# merges still fails.
oracle_merged() {
	oracle
	_n=0
	while [ "$merged" -lt $((dup * 95 / 100)) ] && [ $_n -lt 2 ]; do
		diag "$merged of $dup duplicated pages share a frame ($(grep -E '^thp_(collapse_alloc|split_page) ' /proc/vmstat | tr '\n' ' ')): settle again"
		settle "$1"
		oracle
		_n=$((_n + 1))
	done
}

# t_saving DESC GOT WANT: GOT >= WANT (integers). On a slow kernel
# (ksmod.slow, the debug lane) a shortfall is a SKIP with the figures: what
# merges there depends on how much scanning the time allowed, and that lane
# is for splats and data errors, which stay asserted.
t_saving() {
	if [ "$2" -ge "$3" ]; then
		t_pass "$1"
	elif [ "$KSMOD_SLOW" -gt 1 ]; then
		t_skip "$1" "$2 < $3 on a slow kernel (ksmod.slow=$KSMOD_SLOW)"
	else
		t_fail "$1" "got $2, want at least $3"
	fi
}

# merging_all: every instance has pages mapping a KSM page
merging_all() {
	for i in $(seq 0 $((NINST - 1))); do
		_mp=$(cat "/proc/$(rp_pid "$i")/ksm_merging_pages")
		echo "instance $i: ksm_merging_pages $_mp"
		[ "$_mp" -gt 0 ] || return 1
	done
}

# merging_none I...: none of these instances maps a KSM page
merging_none() {
	for i in "$@"; do
		[ "$(cat "/proc/$(rp_pid "$i")/ksm_merging_pages")" = 0 ] || return 1
	done
}

# thp_report: AnonHugePages of the instances (diagnostics)
thp_report() {
	for i in $(seq 0 $((NINST - 1))); do
		_p=$(rp_pid "$i")
		printf 'instance %s: Rss %s kB, AnonHugePages %s kB, THP_enabled %s\n' "$i" \
			"$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$_p/status")" \
			"$(awk '$1 == "AnonHugePages:" { s += $2 } END { print s + 0 }' "/proc/$_p/smaps")" \
			"$(awk '$1 == "THP_enabled:" { print $2 }' "/proc/$_p/status")"
	done
}

# --- the test --------------------------------------------------------------------

# On any exit (a bail-out too): no instance outlives the test, and the
# kernel's KSM gets its settings back; then lib.sh's own exit check.
_rp_exit() {
	_rp_rc=$?
	[ -z "${rp_follower-}" ] || kill "$rp_follower" 2>/dev/null
	stop_all >/dev/null 2>&1
	if [ -n "${old_run-}" ]; then
		kwrite $KK/run 2
		kwrite $KK/pages_to_scan "$old_pts"
		kwrite $KK/sleep_millisecs "$old_sleep"
		kwrite $KK/run "$old_run"
	fi 2>/dev/null
	(exit $_rp_rc)
	_t_exit
}

realprog_main() {
	trap _rp_exit EXIT
	command -v "$RP_BIN" >/dev/null || bail "$RP_BIN is not in the image"
	diag "THP: $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
	ksmod_loaded && ksmod_unload
	dmesg_mark realprog
	grep -qw ksm_enable_merge_any /proc/kallsyms && native=1 || native=""

	# --- ref: the kernel's KSM ---
	ref_sharing="" ref_profit=""
	if [ -n "$native" ]; then
		old_run=$(cat $KK/run) old_pts=$(cat $KK/pages_to_scan)
		old_sleep=$(cat $KK/sleep_millisecs)
		kwrite $KK/run 2
		kwrite $KK/pages_to_scan $PTS
		kwrite $KK/sleep_millisecs $SLEEP
		t_ok "ref: 4 instances under PR_SET_MEMORY_MERGE, loaded" start_all prctl_exec ||
			bail "$RP does not start"
		thp_report | sed 's/^/# ref: /'
		# The kernel's ksm_zero_pages is global and counts into its
		# general_profit: earlier tests' processes left it at 750-790
		# in one run (6.12; fork of a range holding KSM zero pages that
		# the child does not get, MADV_WIPEONFORK or MADV_DONTFORK,
		# is a suspect). This job's profit is without them.
		z0=$(cat $KK/ksm_zero_pages 2>/dev/null || echo 0)
		kwrite $KK/run 1
		settle $KK
		ref_sharing=$sharing ref_profit=$((profit - z0 * 4096))
		[ "$z0" = 0 ] || diag "ref: ksm_zero_pages was $z0 before the job: general_profit $profit counted as $ref_profit"
		diag "ref: the kernel's KSM: pages_sharing $sharing ($(mib "$sharing")), general_profit $profit, full_scans $(cat $KK/full_scans), last growth at ${secs} s, 95% at ${secs95} s"
		t_saving "ref: the kernel's KSM saves at least the floor" \
			"$sharing" "$floor"
		oracle_merged $KK
		t_saving "ref: $merged of the $dup duplicated pages share a frame (>= 95%)" \
			"$merged" $((dup * 95 / 100))
		stop_all
		kwrite $KK/run 2
		kwrite $KK/pages_to_scan "$old_pts"
		kwrite $KK/sleep_millisecs "$old_sleep"
		kwrite $KK/run "$old_run"
		old_run=""
	else
		t_skip "ref: the kernel's KSM on the same job" \
			"this kernel's KSM cannot merge an unmodified program (no PR_SET_MEMORY_MERGE)"
	fi

	# compare WHAT: the saving ($sharing, $profit) against floor and ref,
	# and what is merged against what could be (pagedup)
	compare() {
		t_saving "$1: saving $(mib "$sharing") >= floor $(mib "$floor")" \
			"$sharing" "$floor"
		oracle_merged $K
		t_saving "$1: $merged of the $dup duplicated pages share a frame (>= 95%)" \
			"$merged" $((dup * 95 / 100))
		if [ -n "$ref_sharing" ]; then
			t_saving "$1: pages_sharing $sharing >= 0.95 x the kernel's $ref_sharing" \
				"$sharing" $((ref_sharing * 95 / 100))
			t_saving "$1: general_profit $profit >= 0.95 x the kernel's $ref_profit" \
				"$profit" $((ref_profit * 95 / 100))
		fi
	}

	# --- A: ksmodctl register ---
	t_ok "A: ksmod loads, running" \
		ksmod_load run=1 pages_to_scan=$PTS sleep_millisecs=$SLEEP ||
		bail "cannot load ksmod"
	t_ok "A: 4 instances started plainly, loaded" start_all ||
		bail "$RP does not start"
	diag "floor: $FLOOR_PCT% of 3 x $common bytes of common values: $floor pages ($(mib "$floor"))"
	thp_report | sed 's/^/# A: /'
	regs=0
	for i in $(seq 0 $((NINST - 1))); do
		ksmodctl register "$(rp_pid "$i")" >reg.out 2>&1 && regs=$((regs + 1))
		sed 's/^/# /' reg.out
	done
	t_is "A: ksmodctl register PID: each instance" "$regs" $NINST
	settle $K
	diag "A: ksmod: pages_sharing $sharing ($(mib "$sharing")), general_profit $profit, full_scans $(cat $K/full_scans), last growth at ${secs} s, 95% at ${secs95} s"
	compare A
	t_ok "A: every instance has merged pages (ksm_merging_pages)" merging_all
	t_ok "A: every instance answers with exactly its data" check_all
	t_ok "A: a write load, different in each instance" mutate_all
	t_ok "A: then every instance answers with exactly its new data" check_all -m
	thp_report | sed 's/^/# A: /'

	t_ok "A: run=2" kwrite $K/run 2
	t_is "A: pages_shared and pages_sharing are 0" \
		"$(cat $K/pages_shared) $(cat $K/pages_sharing)" "0 0"
	t_ok "A: no instance maps a KSM page" merging_none 0 1 2 3
	t_ok "A: every instance's data is intact" check_all -m
	t_ok "A: run=1" kwrite $K/run 1
	settle $K
	diag "A: merged again: pages_sharing $sharing ($(mib "$sharing")), last growth at ${secs} s"
	# every common key was changed in one instance: 3 still share it
	t_saving "A: merges again, at least 2/3 of the floor" \
		"$sharing" $((floor * 2 / 3))
	oracle_merged $K
	t_saving "A: $merged of the $dup duplicated pages share a frame again (>= 95%)" \
		"$merged" $((dup * 95 / 100))

	for i in 0 1; do
		t_ok "A: ksmodctl unregister instance $i" ksmodctl unregister "$(rp_pid "$i")"
	done
	t_ok "A: the two unregistered map no KSM page" wait_for 30 merging_none 0 1
	t_ok "A: their data is intact" check_all -m 0 1
	t_ok "A: the two others still merged" merging_none_not 2 3
	# A KSM page whose module is gone could not be migrated or swapped:
	# rmmod is refused while one exists; run=2 then rmmod (what the
	# package's modprobe -r does, and lib.sh's ksmod_unload) unloads.
	t_errno "A: rmmod while they are merged is refused: in use" EAGAIN \
		rmmod ksmod
	t_ok "A: they are still merged" merging_none_not 2 3
	t_ok "A: and every instance's data is intact" check_all -m
	t_ok "A: run=2 and rmmod with them registered" ksmod_unload
	t_ok "A: after the unload every instance's data is intact" check_all -m
	t_ok "A: no instance maps a KSM page" merging_none 0 1 2 3
	stop_all
	t_no_dmesg "A: no bad page or bad rss-counter state" 'Bad page|Bad rss-counter'

	# --- C: a container: a cgroup subtree registered whole ---
	CGR=/sys/fs/cgroup/rp_$RP
	t_ok "C: ksmod loads, running" \
		ksmod_load run=1 pages_to_scan=$PTS sleep_millisecs=$SLEEP ||
		bail "cannot load ksmod"
	mkdir -p $CGR/sub || bail "no cgroup v2 at /sys/fs/cgroup"
	t_ok "C: 4 instances started plainly, loaded" start_all ||
		bail "$RP does not start"
	t_ok "C: instances 0, 1 into $CGR, 2 into $CGR/sub" sh -c \
		"echo $(rp_pid 0) >$CGR/cgroup.procs && echo $(rp_pid 1) >$CGR/cgroup.procs && echo $(rp_pid 2) >$CGR/sub/cgroup.procs"
	ksmodctl register --cgroup "/rp_$RP" --follow 1 >follow.out 2>&1 &
	rp_follower=$!
	t_ok "C: register --cgroup --follow: the 3 processes of the subtree" \
		wait_for 10 grep -q "^registered 3 processes of $CGR\$" follow.out
	settle $K
	diag "C: ksmod: pages_sharing $sharing ($(mib "$sharing")), last growth at ${secs} s, 95% at ${secs95} s"
	t_saving "C: the three merge: saving $(mib "$sharing") >= 2/3 of the floor" \
		"$sharing" $((floor * 2 / 3))
	t_ok "C: instances 0, 1, 2 map KSM pages" merging_none_not 0 1 2
	t_ok "C: instance 3, outside, none" merging_none 3
	echo "$(rp_pid 3)" >$CGR/cgroup.procs
	t_ok "C: instance 3, moved in, merges" wait_for 60 merging_none_not 3
	echo "$(rp_pid 0)" >/sys/fs/cgroup/cgroup.procs
	t_ok "C: instance 0, moved out, is unmerged" wait_for 60 merging_none 0
	t_match "C: status --cgroup: the three inside" \
		"$(ksmodctl status --cgroup "/rp_$RP")" \
		"^cgroup $CGR: 3 processes, 3 merged by ksmod\$"
	t_ok "C: every instance answers with exactly its data" check_all
	kill "$rp_follower"
	wait "$rp_follower"
	t_is "C: the follower stops on SIGTERM, status 0" $? 0
	rp_follower=""
	diag "C: follower: $(tr '\n' ';' <follow.out)"
	t_is "C: unregister --cgroup: the three" \
		"$(ksmodctl unregister --cgroup "/rp_$RP")" \
		"unregistered 3 processes of $CGR"
	t_ok "C: no instance maps a KSM page" wait_for 30 merging_none 0 1 2 3
	t_ok "C: every instance's data is intact" check_all
	stop_all
	rmdir $CGR/sub $CGR
	t_ok "C: rmmod ksmod" ksmod_unload

	# --- B: prctl ---
	# run=1 after the load, as in ref: the same job, timed the same way
	t_ok "B: ksmod loads" \
		ksmod_load pages_to_scan=$PTS sleep_millisecs=$SLEEP ||
		bail "cannot load ksmod"
	t_ok "B: 4 instances under PR_SET_MEMORY_MERGE, loaded" start_all prctl_exec ||
		bail "$RP does not start"
	thp_report | sed 's/^/# B: /'
	kwrite $K/run 1
	settle $K
	diag "B: ksmod: pages_sharing $sharing ($(mib "$sharing")), general_profit $profit, full_scans $(cat $K/full_scans), last growth at ${secs} s, 95% at ${secs95} s"
	compare B
	t_ok "B: every instance has merged pages (ksm_merging_pages)" merging_all
	ksmodctl ranges >ranges.out 2>&1
	sed 's/^/# B: /' ranges.out
	rows=0
	for i in $(seq 0 $((NINST - 1))); do
		grep -Eq "^ *$(rp_pid "$i") +$RP_COMM +ksmod +[1-9][0-9]* " ranges.out &&
			rows=$((rows + 1))
	done
	t_is "B: ksmodctl ranges lists each instance, ksmod's, merged" "$rows" $NINST
	t_ok "B: every instance answers with exactly its data" check_all
	stop_all
	t_ok "B: rmmod ksmod" ksmod_unload
	t_no_dmesg "no bad page or bad rss-counter state" 'Bad page|Bad rss-counter'
	t_done
}

# merging_none_not I...: each of these instances maps KSM pages
merging_none_not() {
	for i in "$@"; do
		[ "$(cat "/proc/$(rp_pid "$i")/ksm_merging_pages")" -gt 0 ] || return 1
	done
}
