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
#   bail MSG                print "Bail out! MSG" and exit (a failure)
#
# Other helpers (return the command's status, print nothing on success):
#   kwrite FILE VALUE       write VALUE to FILE; errors on stderr, e.g.
#                           "sh: write error: Invalid argument"
#   run_timeout SECS CMD... run CMD, kill it after SECS; returns 124 then
#   wait_for SECS CMD...    retry CMD every 0.1 s until it succeeds, or
#                           return 1 after SECS
#   ksmod_load [PARAM=V...] insmod /lib/ksmod/ksmod.ko
#   ksmod_unload            run=2 (unmerge everything, as modprobe -r does),
#                           then rmmod ksmod, failing after
#                           $KSMOD_RMMOD_TIMEOUT s
#   ksm_counts SHD SHG      true if ksmod's pages_shared, pages_sharing are
#                           SHD, SHG (for wait_for)
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
#                           through NAME.fifo; sets NAME_pid, NAME_addr...
#   dm NAME CMD...          send it a command and print its answer (true
#                           if "ok..."); dm_send/dm_answer separately;
#                           dm_stop NAME kills it
#
# Environment set by /init: KSMOD_TEST (test name), KSMOD_TIMEOUT (its time
# limit in seconds), KSMOD_RMMOD_TIMEOUT.

KSMOD_DIR=/lib/ksmod
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

ksmod_loaded() {
	grep -q '^ksmod ' /proc/modules
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

# --- dupmem driver (tests/prog/dupmem.c) -----------------------------------
# dm_start NAME [OPTIONS]: start dupmem in the background, commands through
# the FIFO NAME.fifo; its first line sets NAME_pid, NAME_addr, NAME_end, ...
dm_start() {
	_dn=$1
	shift
	rm -f "$_dn.fifo" "$_dn.out" "$_dn.err"
	mkfifo "$_dn.fifo" || return 1
	dupmem -c "$_dn.fifo" "$@" >"$_dn.out" 2>"$_dn.err" &
	if ! wait_for 20 grep -q '^pid=' "$_dn.out"; then
		cat "$_dn.out" "$_dn.err"
		return 1
	fi
	for _kv in $(head -n 1 "$_dn.out"); do
		eval "${_dn}_$_kv"
	done
	head -n 1 "$_dn.out"
}
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
