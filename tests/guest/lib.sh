# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# /lib/ksmod/lib.sh - helpers for ksmod guest tests (busybox sh).
#
# A guest test is a busybox sh script tests/guest/NAME.sh that prints TAP:
#
#     . /lib/ksmod/lib.sh
#     plan 3                      # optional: t_done prints it otherwise
#     t_ok  "ksmod loads" ksmod_load
#     t_is  "run starts at 0" "$(cat /sys/kernel/mm/ksmod/run)" 0
#     t_errno "run rejects 7" EINVAL kwrite /sys/kernel/mm/ksmod/run 7
#     t_done
#
# Call the t_* helpers from the test's own shell, not from a subshell or a
# pipeline: they count in shell variables. A script that exits without
# reaching t_done gets a failing assertion saying so.
#
# Assertions (each prints one "ok N - DESC" or "not ok N - DESC" line):
#   plan N                  print the plan "1..N" now
#   t_pass DESC             record a pass
#   t_fail DESC [DIAG...]   record a failure, DIAG lines as "# " comments
#   t_skip DESC REASON      record "ok N - DESC # SKIP REASON"
#   t_ok DESC CMD...        CMD must exit 0; its output is shown on failure
#   t_not DESC CMD...       CMD must exit non-zero
#   t_errno DESC ERR CMD... CMD must fail printing ERR's message: ERR is a
#                           name (EINVAL) or the text ("Invalid argument")
#   t_is DESC GOT WANT      strings must be equal
#   t_match DESC GOT ERE    a line of GOT must match the extended regex ERE
#                           (grep -E: a multi-line ERE is several patterns)
#   t_dmesg DESC ERE        the kernel log since the mark must match ERE
#   t_no_dmesg DESC ERE     ... must not match ERE
#   t_done                  print the plan if not yet printed; exit 0 if
#                           everything passed, else 1
#   diag MSG...             print "# MSG"
#   diag_file FILE          print FILE as "#   " lines (at most 30)
#   bail MSG                print "Bail out! MSG" and exit (a failure)
#
# Other helpers (return the command's status, print nothing on success):
#   kwrite FILE VALUE       write VALUE to FILE; errors on stderr, e.g.
#                           "sh: write error: Invalid argument"
#   run_timeout SECS CMD... run CMD, kill it after SECS; returns 124 then
#   wait_for SECS CMD...    retry CMD every 0.1 s until it succeeds, or
#                           return 1 after SECS
#   uptime_cs               the time since boot in centiseconds
#   ksmod_load [PARAM=V...] insmod /lib/ksmod/ksmod.ko
#   ksmod_unload            run=2 (unmerge everything, as modprobe -r does),
#                           then rmmod ksmod, failing after
#                           $KSMOD_RMMOD_TIMEOUT s
#   ksm_counts SHD SHG      true if ksmod's pages_shared, pages_sharing are
#                           SHD, SHG (for wait_for)
#   wait_full_scans N [DIR] wait until N more full scans of ksmod (or of
#                           the KSM of DIR) have ended, 60 s at most
#   ksmod_loaded            true if the ksmod module is loaded
#   ksmod_refcnt            print the module's reference count
#   helper_load NAME [P=V]  insmod /lib/ksmod/NAME.ko (test helper modules)
#   helper_unload NAME      rmmod NAME with the same timeout
#   stock_load NAME [P=V]   modprobe a stock kernel module included by a
#                           "# ksmod-modules: NAME" line in the test
#   use_kmod                /sbin/modprobe, modinfo, depmod and lsmod are
#                           kmod's from here on, as on Debian, and so are
#                           these names in the calling shell (busybox sh
#                           runs its own applets for bare names: children
#                           such as `sh -c` need the /sbin/ path); a test
#                           with a "# ksmod-needs: dkms" line gets kmod and
#                           the DKMS-installed ksmod in /lib/modules/KVER
#   dmesg_mark [LABEL]      write a unique mark into the kernel log
#   dmesg_since_mark        print the kernel log after the last mark (or,
#                           before any mark, since the test began)
#   dmesg_grep ERE          grep -E the kernel log since the mark
#   dm_start NAME [OPT...]  run tests/prog/dupmem in the background, driven
#                           through NAME.fifo; sets NAME_pid, NAME_addr...;
#                           with DM_LAUNCH set, under those words (e.g.
#                           "as_user bob prctl_exec"; the FIFO is then
#                           writable by anyone)
#   as_user USER CMD...     run CMD as USER (su: USER's uid, gid and groups
#                           from /etc/passwd and /etc/group; the same
#                           environment and open descriptors)
#   have_nobody             the user nobody (65534) in /etc/passwd
#   dm NAME CMD...          send it a command and print its answer (true
#                           if "ok..."); dm_send/dm_answer separately;
#                           dm_stop NAME kills it; dm_frames NAME KEY: KEY
#                           (first, distinct, nodes) of its frames answer
#
# Transparent huge pages (the THP matrix; see "Transparent huge pages"
# below for the modes):
#   thp_get FILE            the setting of FILE under $THP (e.g. enabled,
#                           hugepages-16kB/enabled): the bracketed word of
#                           "always [madvise] never", or the number
#   thp_put FILE VALUE      write it
#   have_thp                true if the kernel has transparent huge pages
#                           (not the rt flavours: CONFIG_TRANSPARENT_HUGEPAGE
#                           is off there)
#   thp_modes               the modes this kernel has: always madvise never,
#                           and mthp16 mthp64 where multi-size THP exists;
#                           only never without THP
#   thp_set MODE            switch the guest to MODE, then compact memory
#   thp_restore             every THP setting back to its boot value (/init
#                           calls it after each test)
#   thp_opt MODE            the test programs' -h for MODE: "-h huge" under
#                           madvise (programs ask with MADV_HUGEPAGE), else
#                           "-h default" (the system's setting)
#   thp_want MODE           ksm_merge -E for MODE: what must back a buffer of
#                           whole 2 MiB before merging (kpageflags)
#   thp_khugepaged MS       khugepaged scans and allocates every MS ms
#   thp_backed MODE T P F   true if T of P pages in F large folios (a
#                           census: dupmem thp, prctl_merge thp) is what
#                           MODE gives a buffer of whole 2 MiB (thp_want)
#   tm NAME THP_MERGE_ARGS  run tests/prog/thp_merge, its output in NAME.out
#                           (the time limit of a merge, -t, is $TM_SECS:
#                           a sixth of the test's limit, at least 20 s)
#   tm_val NAME KEY         the value of "KEY value" in NAME.out
#   tm_counts NAME          frames and counters of NAME.out in one line,
#                           to compare two runs (ksmod's and the kernel's)
#   t_tm NAME DESC          assertion: NAME.out ends "result ok" (else its
#                           output is shown)
#
# Environment set by /init: KSMOD_TEST (test name), KSMOD_TIMEOUT (its time
# limit in seconds), KSMOD_RMMOD_TIMEOUT; set here: KSMOD_SLOW (ksmod.slow=N
# of the kernel command line, else 1).

KSMOD_DIR=/lib/ksmod
# ksmod.slow=N on the kernel command line: a kernel N times slower than the
# stock ones (make check-debug's KASAN kernel): time limits scale by it
KSMOD_SLOW=$(sed -n 's/.*ksmod\.slow=\([0-9][0-9]*\).*/\1/p' /proc/cmdline)
: "${KSMOD_SLOW:=1}"
: "${KSMOD_RMMOD_TIMEOUT:=30}"

_t_n=0          # assertions so far
_t_failed=0     # failed assertions
_t_plan=""      # plan printed?
_t_done=""      # t_done reached?
_t_mark=""      # current dmesg mark
_t_marks=0
_t_out=/tmp/.t_out.$$

diag() {
	for _d_line in "$@"; do
		printf '# %s\n' "$_d_line"
	done
}

# Print a file as diagnostics, at most 30 lines.
_t_diag_file() {
	[ -s "$1" ] || return 0
	sed -n '1,30s/^/#   /p' "$1"
	_t_lines=$(wc -l <"$1")
	[ "$_t_lines" -le 30 ] || printf '#   ... (%s lines)\n' "$_t_lines"
}

diag_file() {
	_t_diag_file "$@"
}

plan() {
	_t_plan=$1
	printf '1..%s\n' "$1"
}

t_pass() {
	_t_n=$((_t_n + 1))
	printf 'ok %d - %s\n' "$_t_n" "$1"
}

t_fail() {
	_t_n=$((_t_n + 1))
	_t_failed=$((_t_failed + 1))
	printf 'not ok %d - %s\n' "$_t_n" "$1"
	shift
	diag "$@"
}

t_skip() {
	_t_n=$((_t_n + 1))
	printf 'ok %d - %s # SKIP %s\n' "$_t_n" "$1" "$2"
}

t_ok() {
	_t_desc=$1
	shift
	"$@" >"$_t_out" 2>&1
	_t_rc=$?
	if [ $_t_rc -eq 0 ]; then
		t_pass "$_t_desc"
	else
		t_fail "$_t_desc" "command: $*" "exit status: $_t_rc"
		_t_diag_file "$_t_out"
	fi
	rm -f "$_t_out"
	return $_t_rc
}

t_not() {
	_t_desc=$1
	shift
	"$@" >"$_t_out" 2>&1
	_t_rc=$?
	if [ $_t_rc -ne 0 ]; then
		t_pass "$_t_desc"
	else
		t_fail "$_t_desc" "command: $*" "succeeded but should have failed"
		_t_diag_file "$_t_out"
	fi
	rm -f "$_t_out"
	[ $_t_rc -ne 0 ]
}

# errno name -> glibc strerror() text (busybox-static and tests use glibc).
errno_msg() {
	case $1 in
	EPERM) echo "Operation not permitted" ;;
	ENOENT) echo "No such file or directory" ;;
	ESRCH) echo "No such process" ;;
	EINTR) echo "Interrupted system call" ;;
	EIO) echo "Input/output error" ;;
	ENXIO) echo "No such device or address" ;;
	E2BIG) echo "Argument list too long" ;;
	EBADF) echo "Bad file descriptor" ;;
	EAGAIN) echo "Resource temporarily unavailable" ;;
	ENOMEM) echo "Cannot allocate memory" ;;
	EACCES) echo "Permission denied" ;;
	EFAULT) echo "Bad address" ;;
	EBUSY) echo "Device or resource busy" ;;
	EEXIST) echo "File exists" ;;
	ENODEV) echo "No such device" ;;
	EINVAL) echo "Invalid argument" ;;
	ENOTTY) echo "Inappropriate ioctl for device" ;;
	ENOSPC) echo "No space left on device" ;;
	ERANGE) echo "Numerical result out of range" ;;
	ENOSYS) echo "Function not implemented" ;;
	EOPNOTSUPP) echo "Operation not supported" ;;
	EOVERFLOW) echo "Value too large for defined data type" ;;
	ENOEXEC) echo "Exec format error" ;;
	ENOKEY) echo "Required key not available" ;;
	EKEYREJECTED) echo "Key was rejected by service" ;;
	*) echo "$1" ;;
	esac
}

t_errno() {
	_t_desc=$1
	_t_err=$(errno_msg "$2")
	shift 2
	"$@" >"$_t_out" 2>&1
	_t_rc=$?
	if [ $_t_rc -eq 0 ]; then
		t_fail "$_t_desc" "command: $*" "succeeded, expected: $_t_err"
		_t_diag_file "$_t_out"
	elif grep -qF "$_t_err" "$_t_out"; then
		t_pass "$_t_desc"
	else
		t_fail "$_t_desc" "command: $*" "failed ($_t_rc) without: $_t_err"
		_t_diag_file "$_t_out"
	fi
	rm -f "$_t_out"
}

t_is() {
	if [ "$2" = "$3" ]; then
		t_pass "$1"
	else
		t_fail "$1" "got:      '$2'" "expected: '$3'"
	fi
}

t_match() {
	if printf '%s\n' "$2" | grep -qE -- "$3"; then
		t_pass "$1"
	else
		t_fail "$1" "got:      '$2'" "expected: /$3/"
	fi
}

t_dmesg() {
	if dmesg_grep "$2" >/dev/null; then
		t_pass "$1"
	else
		t_fail "$1" "no kernel log line since the mark matches /$2/"
	fi
}

t_no_dmesg() {
	dmesg_grep "$2" >"$_t_out"
	if [ -s "$_t_out" ]; then
		t_fail "$1" "kernel log lines since the mark match /$2/:"
		_t_diag_file "$_t_out"
	else
		t_pass "$1"
	fi
	rm -f "$_t_out"
}

t_done() {
	_t_done=1
	[ -n "$_t_plan" ] || plan "$_t_n"
	[ $_t_failed -eq 0 ] && exit 0
	exit 1
}

bail() {
	_t_done=1
	printf 'Bail out! %s\n' "$*"
	exit 1
}

_t_exit() {
	_t_rc=$?
	[ -n "$_t_done" ] && return
	t_fail "test script reached t_done" "it exited early with status $_t_rc"
	[ -n "$_t_plan" ] || plan "$_t_n"
	exit 1
}

# The guest's /init sources this file for run_timeout only.
[ -n "${_ksmod_init-}" ] || trap _t_exit EXIT

kwrite() {
	echo "$2" >"$1"
}

# True while process $1 exists and is not a zombie.
_rt_alive() {
	[ -e "/proc/$1/status" ] || return 1
	! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# run_timeout SECS CMD...: external commands run in a session of their own
# and the whole session is killed on timeout; shell functions run in a
# background subshell and only that subshell is killed. A process stuck in
# the kernel (D state) cannot be killed: it is left behind and 124 returned.
run_timeout() {
	_rt_secs=$1
	shift
	if [ "$(type "$1" 2>/dev/null)" = "$1 is a function" ]; then
		"$@" &
	else
		setsid "$@" &
	fi
	_rt_pid=$!
	_rt_ticks=$((_rt_secs * 10))
	while _rt_alive $_rt_pid; do
		if [ $_rt_ticks -le 0 ]; then
			kill -TERM -$_rt_pid $_rt_pid 2>/dev/null
			sleep 1
			kill -KILL -$_rt_pid $_rt_pid 2>/dev/null
			echo "run_timeout: '$*' still running after ${_rt_secs}s, killed" >&2
			return 124
		fi
		usleep 100000
		_rt_ticks=$((_rt_ticks - 1))
	done
	wait $_rt_pid
}

# uptime_cs: the time since boot in centiseconds
uptime_cs() {
	awk '{ split($1, t, "."); print t[1] * 100 + t[2] }' /proc/uptime
}

wait_for() {
	_wf_ticks=$(($1 * 10))
	shift
	until "$@"; do
		[ $_wf_ticks -gt 0 ] || return 1
		usleep 100000
		_wf_ticks=$((_wf_ticks - 1))
	done
}

# ksm_counts SHARED SHARING: ksmod's pages_shared and pages_sharing are
# those (for wait_for)
ksm_counts() {
	[ "$(cat /sys/module/ksmod/ksm/pages_shared) $(cat /sys/module/ksmod/ksm/pages_sharing)" = "$1 $2" ]
}

# wait_full_scans N [DIR]: true once N more full scans have ended (60 s)
wait_full_scans() {
	_wfs_d=${2:-/sys/module/ksmod/ksm}
	_wfs=$(($(cat "$_wfs_d/full_scans") + $1))
	wait_for 60 sh -c "[ \$(cat $_wfs_d/full_scans) -ge $_wfs ]"
}

ksmod_loaded() {
	grep -q '^ksmod ' /proc/modules
}

# kernel_ksm_fast: the kernel's KSM, as the oracle of a job ksmod runs
# next, at pages_to_scan 1000 and sleep_millisecs 10 (what the ksmod runs
# use). kernel_ksm_done: everything it merged unmerged, stopped, its
# defaults back.
kernel_ksm_fast() {
	kwrite /sys/kernel/mm/ksm/pages_to_scan 1000 &&
	kwrite /sys/kernel/mm/ksm/sleep_millisecs 10
}
kernel_ksm_done() {
	kwrite /sys/kernel/mm/ksm/run 2
	kwrite /sys/kernel/mm/ksm/run 0
	kwrite /sys/kernel/mm/ksm/pages_to_scan 100
	kwrite /sys/kernel/mm/ksm/sleep_millisecs 20
}

ksmod_refcnt() {
	awk '$1 == "ksmod" { print $3 }' /proc/modules
}

helper_load() {
	_hl_name=$1
	shift
	if [ ! -f "$KSMOD_DIR/$_hl_name.ko" ]; then
		echo "$KSMOD_DIR/$_hl_name.ko is missing: did the module build fail?" >&2
		return 1
	fi
	insmod "$KSMOD_DIR/$_hl_name.ko" "$@"
}

helper_unload() {
	run_timeout "$KSMOD_RMMOD_TIMEOUT" rmmod "$1"
}

ksmod_load() {
	helper_load ksmod "$@"
}

# As modprobe -r does (the package's modprobe.d rule): unmerge everything
# first, since ksmod stays loaded while a page it merged exists.
ksmod_unload() {
	if [ -e /sys/module/ksmod/ksm/run ] &&
	   ! echo 2 2>/dev/null >/sys/module/ksmod/ksm/run; then
		echo "ksmod_unload: run=2 failed: $(dmesg | sed -n 's/.*ksmod: run=2: //p' | tail -n 1)" >&2
		return 1
	fi
	helper_unload ksmod
}

stock_load() {
	modprobe "$@"
}

# zram_swap SIZE: swap on a zram device of SIZE (the test needs a
# "# ksmod-modules: zram lzo_rle" line: 6.1's default compressor lzo-rle
# is a module in Debian's 6.1 cloud flavour, built in elsewhere);
# zram_swap_off: gone again
zram_swap() {
	stock_load zram num_devices=1 || return 1
	_zc=$(sed -n 's/.*\[\([^]]*\)\].*/\1/p' /sys/block/zram0/comp_algorithm)
	[ -z "$_zc" ] || modprobe "$(echo "$_zc" | tr - _)" 2>/dev/null
	echo "$1" >/sys/block/zram0/disksize &&
		mkswap /dev/zram0 >/dev/null && swapon /dev/zram0
}
zram_swap_off() { swapoff /dev/zram0; }

# memcg_enter DIR: the shell, and what it starts from now on, in a new
# memory cgroup; memcg_leave: back in the root cgroup
memcg_enter() {
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control &&
		mkdir -p "$1" && echo $$ >"$1/cgroup.procs"
}
memcg_leave() { echo $$ >/sys/fs/cgroup/cgroup.procs; }

# shellcheck disable=SC2317 # the functions it defines are the tests' to call
use_kmod() {
	if [ ! -x /usr/bin/kmod ]; then
		echo "/usr/bin/kmod is missing: the test needs a '# ksmod-needs: dkms' line" >&2
		return 1
	fi
	for _uk in modprobe modinfo depmod lsmod; do
		ln -sf /usr/bin/kmod /sbin/$_uk || return 1
	done
	modprobe() { /sbin/modprobe "$@"; }
	modinfo() { /sbin/modinfo "$@"; }
	depmod() { /sbin/depmod "$@"; }
	lsmod() { /sbin/lsmod "$@"; }
}

dmesg_mark() {
	_t_marks=$((_t_marks + 1))
	_t_mark="ksmod-mark: ${KSMOD_TEST-test}.$$.$_t_marks"
	echo "$_t_mark ${1-}" >/dev/kmsg
}

dmesg_since_mark() {
	if [ -n "$_t_mark" ]; then
		dmesg | sed -n "/$_t_mark /,\$p" | sed 1d
	elif [ -n "${KSMOD_TEST-}" ]; then
		dmesg | sed -n "/ksmod-test: begin $KSMOD_TEST\$/,\$p" | sed 1d
	else
		dmesg
	fi
}

dmesg_grep() {
	dmesg_since_mark | grep -E -- "$1"
}

# --- Transparent huge pages --------------------------------------------------
# The guest boots with each kernel's default: transparent_hugepage=always on
# both Debian kernels (CONFIG_TRANSPARENT_HUGEPAGE_ALWAYS=y in 6.1.0-* and
# 6.12.*+deb12; tests/guest/thp.sh checks it), so any whole 2 MiB of
# anonymous memory a program touches is a huge page, as on users' machines.
# /init records every setting under $THP at boot (thp_save_boot) and puts
# it back after each test (thp_restore): a test may change them freely.
# The matrix modes (thp_set):
#   always   enabled=always: the boot default
#   madvise  enabled=madvise: huge pages only where a program asked with
#            MADV_HUGEPAGE (thp_opt gives the programs "-h huge")
#   never    enabled=never: no huge page at all
#   mthp16   (6.12) enabled=never, hugepages-16kB/enabled=always: anonymous
#            memory in 16 KiB multi-size THP folios, no 2 MiB ones
#   mthp64   (6.12) the same with hugepages-64kB: 64 KiB folios
THP=/sys/kernel/mm/transparent_hugepage
THP_BOOT=/run/ksmod-thp.boot

thp_get() {
	_tg=$(cat "$THP/$1") || return 1
	case $_tg in
	*\[*\]*) _tg=${_tg#*\[} && _tg=${_tg%%\]*} ;;
	esac
	echo "$_tg"
}

thp_put() {
	echo "$2" >"$THP/$1"
}

# The settings thp_restore puts back: the top level, khugepaged's, and
# each multi-size THP size's (6.12).
_thp_files() {
	for _tf in enabled defrag use_zero_page khugepaged/defrag \
		khugepaged/scan_sleep_millisecs khugepaged/alloc_sleep_millisecs \
		khugepaged/pages_to_scan khugepaged/max_ptes_none \
		khugepaged/max_ptes_swap khugepaged/max_ptes_shared \
		"$THP"/hugepages-*kB/enabled; do
		_tf=${_tf#"$THP"/}
		[ -f "$THP/$_tf" ] && echo "$_tf"
	done
}

thp_save_boot() {
	[ -d $THP ] || return 0
	for _tf in $(_thp_files); do
		echo "$_tf $(thp_get "$_tf")"
	done >$THP_BOOT
}

# thp_boot FILE: its value at boot
thp_boot() {
	awk -v f="$1" '$1 == f { print $2 }' $THP_BOOT 2>/dev/null
}

thp_restore() {
	[ -f $THP_BOOT ] || return 0
	# the per-size settings first: switching the top level back to
	# "always" then starts khugepaged with the sizes as at boot
	sort -r $THP_BOOT | while read -r _tf _tv; do
		[ "$(thp_get "$_tf")" = "$_tv" ] || thp_put "$_tf" "$_tv"
	done
}

# A kernel without CONFIG_TRANSPARENT_HUGEPAGE (Debian's rt flavours) has
# no $THP: its one mode is never, which thp_set accepts as it is.
have_thp() {
	[ -d $THP ]
}

thp_modes() {
	have_thp || { echo never; return 0; }
	_tm="always madvise never"
	[ -f $THP/hugepages-16kB/enabled ] && _tm="$_tm mthp16"
	[ -f $THP/hugepages-64kB/enabled ] && _tm="$_tm mthp64"
	echo "$_tm"
}

thp_set() {
	case $1 in
	always | madvise | never) _ts_top=$1 _ts_kb="" ;;
	mthp16) _ts_top=never _ts_kb=16 ;;
	mthp64) _ts_top=never _ts_kb=64 ;;
	*) echo "thp_set: no mode '$1'" >&2; return 1 ;;
	esac
	if ! have_thp; then
		[ "$1" = never ] && return 0
		echo "thp_set: this kernel has no transparent huge pages" >&2
		return 1
	fi
	if [ -n "$_ts_kb" ] && [ ! -f "$THP/hugepages-${_ts_kb}kB/enabled" ]; then
		echo "thp_set: this kernel has no ${_ts_kb} kB THP" >&2
		return 1
	fi
	# every size as at boot (2 MiB: inherit, others: never), but the mode's
	for _ts_f in "$THP"/hugepages-*kB/enabled; do
		[ -f "$_ts_f" ] || continue
		_ts_f=${_ts_f#"$THP"/}
		_ts_v=$(thp_boot "$_ts_f")
		[ "$_ts_f" = "hugepages-${_ts_kb}kB/enabled" ] && _ts_v=always
		[ -z "$_ts_v" ] || thp_put "$_ts_f" "$_ts_v" || return 1
	done
	thp_put enabled "$_ts_top" || return 1
	# free 2 MiB blocks, so that the huge pages asked for can be had
	echo 1 >/proc/sys/vm/compact_memory
}

thp_opt() {
	if [ "$1" = madvise ]; then echo "-h huge"; else echo "-h default"; fi
}

# Under always, a program that did not ask gets no direct compaction
# (defrag=madvise), so some of its 2 MiB may be small pages: "some".
thp_want() {
	case $1 in
	always) echo "some:512" ;;
	madvise) echo "all:512" ;;
	never) echo "none" ;;
	mthp16) echo "some:4" ;;
	mthp64) echo "some:16" ;;
	*) echo "any" ;;
	esac
}

thp_backed() {
	_tbw=$(thp_want "$1")
	case $_tbw in
	all*) [ "$2" = "$3" ] || return 1 ;;
	some*) [ "$2" -gt 0 ] || return 1 ;;
	none) [ "$2" = 0 ] || return 1 ;;
	esac
	case $_tbw in
	*:*) [ "$2" = $((${4:-0} * ${_tbw#*:})) ] ;;
	esac
}

thp_khugepaged() {
	thp_put khugepaged/scan_sleep_millisecs "$1" &&
		thp_put khugepaged/alloc_sleep_millisecs "$1"
}

# --- thp_merge driver (tests/prog/thp_merge.c) -----------------------------
TM_SECS=$((${KSMOD_TIMEOUT:-120} / 6))
[ "$TM_SECS" -ge 20 ] || TM_SECS=20

tm() {
	_tmn=$1
	shift
	thp_merge -t "$TM_SECS" "$@" >"$_tmn.out" 2>&1
}

tm_val() {
	awk -v k="$2" '$1 == k { v = $2 } END { print v }' "$1.out"
}

# (ksm_zero_pages where the kernel's KSM has it: 6.12)
tm_counts() {
	_tmz=""
	[ -f /sys/kernel/mm/ksm/ksm_zero_pages ] &&
		_tmz=" ksm_zero_pages=$(tm_val "$1" ksm_zero_pages)"
	echo "frames=$(tm_val "$1" frames)" \
		"pages_shared=$(tm_val "$1" pages_shared)" \
		"pages_sharing=$(tm_val "$1" pages_sharing)$_tmz" \
		"merging_pages=$(tm_val "$1" merging_pages)"
}

t_tm() {
	if [ "$(tm_val "$1" result)" = ok ]; then
		t_pass "$2"
	else
		t_fail "$2" "thp_merge said:"
		diag_file "$1.out"
	fi
}

# --- dupmem driver (tests/prog/dupmem.c) -----------------------------------
# dm_start NAME [OPTIONS]: start dupmem in the background, commands through
# the FIFO NAME.fifo; its first line sets NAME_pid, NAME_addr, NAME_end, ...
dm_start() {
	_dn=$1
	shift
	rm -f "$_dn.fifo" "$_dn.out" "$_dn.err"
	mkfifo "$_dn.fifo" || return 1
	[ -z "${DM_LAUNCH-}" ] || chmod 666 "$_dn.fifo" || return 1
	# shellcheck disable=SC2086 # DM_LAUNCH: words
	${DM_LAUNCH-} dupmem -c "$_dn.fifo" "$@" >"$_dn.out" 2>"$_dn.err" &
	if ! wait_for 20 grep -q '^pid=' "$_dn.out"; then
		cat "$_dn.out" "$_dn.err"
		return 1
	fi
	for _kv in $(head -n 1 "$_dn.out"); do
		eval "${_dn}_$_kv"
	done
	head -n 1 "$_dn.out"
}
# have_nobody: the user nobody (uid 65534) in /etc/passwd, for as_user
have_nobody() {
	grep -q '^nobody:' /etc/passwd ||
		echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>/etc/passwd
}
as_user() {
	_au=$1
	shift
	su -s /bin/sh -c 'exec "$0" "$@"' -- "$_au" "$@"
}
# dm_frames NAME KEY: KEY (first, distinct, nodes) of NAME's "frames" answer
dm_frames() { dm "$1" frames | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# dm_send NAME CMD...: send one command; dm_answer NAME [SECS]: print its
# answer, true if it starts with "ok". dm NAME CMD...: both.
dm_send() {
	_dn=$1
	shift
	if ! _rt_alive "$(eval echo "\$${_dn}_pid")"; then
		echo "dupmem $_dn is gone"
		return 1
	fi
	wc -l <"$_dn.out" >"$_dn.sent"
	echo "$*" >"$_dn.fifo"
}
_dm_more() { [ "$(wc -l <"$1.out")" -gt "$(cat "$1.sent")" ]; }
dm_answer() {
	if ! wait_for "${2:-60}" _dm_more "$1"; then
		echo "dupmem $1: no answer"
		return 1
	fi
	_da=$(sed -n "$(($(cat "$1.sent") + 1))p" "$1.out")
	echo "$_da"
	case $_da in ok*) return 0 ;; esac
	return 1
}
dm() { dm_send "$@" && dm_answer "$1"; }
dm_stop() {
	_dp=$(eval echo "\$${1}_pid")
	[ -n "$_dp" ] || return 0
	kill -KILL "$_dp" 2>/dev/null
	wait "$_dp" 2>/dev/null
	return 0
}
