#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# permissions: who may do what through /dev/ksmod and
# prctl(PR_SET_MEMORY_MERGE) (README, Interfaces). Every ioctl
# (GET_VERSION, REGISTER, UNREGISTER, QUERY, MM_STATS, an unknown one) as
# root; as alice, of group ksmod, who opens the device as the udev rule
# 99-ksmod.rules lets her; as bob, outside that group (EACCES), and again
# with a descriptor root opened and he inherited; as alice become root of
# a user namespace of her own (unshare -r); as root in a new user
# namespace (unshare -U); under Yama ptrace_scope 0, 1 and 2. Targets: the
# caller itself (pid 0 and its own pid), a process of its uid, processes
# of other uids (root's among them), its own child (Yama 1, and inside a
# user namespace). The rule is ptrace's, for the caller's credentials at
# the time of the call: PTRACE_MODE_ATTACH_REALCREDS for REGISTER and
# UNREGISTER, PTRACE_MODE_READ_REALCREDS for QUERY and MM_STATS, EPERM
# otherwise. So Yama 1 refuses REGISTER and UNREGISTER of a same-uid
# process that is not the caller's descendant, not QUERY, and 2 that of
# its child too, unless the caller is root; a process in a
# user namespace has no right over any process outside it, even one of
# its uid (CAP_SYS_PTRACE would be needed there), only over its own
# namespace's. Root sees each call's effect: a refused REGISTER leaves no
# range and the pages never merge; a refused UNREGISTER leaves the range
# and the pages merged; an allowed one adds or removes the range. A pid
# another pid namespace cannot see is ESRCH there. prctl(PR_SET_MEMORY_MERGE)
# needs no right and no device: bob's process, and one of alice's user
# namespace, merge whole.
# shellcheck disable=SC2154 # NAME_pid, NAME_addr...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

N=16			# identical pages of each target
L=$((4 * 4096))		# bytes a caller maps in itself
K=/sys/module/ksmod/ksm
YAMA=/proc/sys/kernel/yama/ptrace_scope
USERNS=/proc/sys/kernel/unprivileged_userns_clone	# Debian's switch

# --- the users, put back at the end ------------------------------------------
cp /etc/passwd passwd.boot && cp /etc/group group.boot ||
	bail "cannot save /etc/passwd and /etc/group"
yama_boot=$(cat $YAMA 2>/dev/null)
userns_boot=$(cat $USERNS 2>/dev/null)
# shellcheck disable=SC2317 # called by the EXIT trap
put_back() {
	cp passwd.boot /etc/passwd
	cp group.boot /etc/group
	[ -z "$yama_boot" ] || echo "$yama_boot" >"$YAMA"
	[ -z "$userns_boot" ] || echo "$userns_boot" >"$USERNS"
}
trap '_rc=$?; put_back; (exit $_rc); _t_exit' EXIT

kgid=$(awk -F: '$1 == "ksmod" { print $3 }' /etc/group)
[ -n "$kgid" ] || kgid=1234
sed -i '/^ksmod:/d; /^alice:/d; /^bob:/d' /etc/group /etc/passwd
cat >>/etc/passwd <<EOF
alice:x:1000:1000:alice:/tmp:/bin/sh
bob:x:1001:1001:bob:/tmp:/bin/sh
EOF
cat >>/etc/group <<EOF
alice:x:1000:
bob:x:1001:
ksmod:x:$kgid:alice
EOF
chmod 1777 . # the users' FIFOs and outputs
[ -z "$userns_boot" ] || echo 1 >$USERNS

t_ok "ksmod loads, merging" \
	ksmod_load run=1 pages_to_scan=1000 sleep_millisecs=10 ||
	bail "cannot load ksmod"
t_is "/dev/ksmod is 0600 root:root" "$(stat -c '%a %u:%g' /dev/ksmod)" "600 0:0"
# what 99-ksmod.rules makes udev do
chgrp "$kgid" /dev/ksmod && chmod 0660 /dev/ksmod
t_is "with the udev rule's group and mode: 0660 root:ksmod" \
	"$(stat -c '%a %u:%g' /dev/ksmod)" "660 0:$kgid"
t_match "alice is in group ksmod" "$(as_user alice id -G)" "^1000( 1000)? $kgid\$"
t_match "bob is not" "$(as_user bob id -G)" '^1001( 1001)?$' 

# --- callers -------------------------------------------------------------------
# What a caller runs (sh -c, as the caller): PROG ARG..., "me" in ARGs
# standing for its own pid (the shell execs PROG: the same process). With
# KSMOD_CHILD=NAME it first starts dupmem NAME (-n $N, $KSMOD_CHILD_OPTS;
# NAME.fifo, NAME.out) in the background: PROG is its parent, and "kid",
# "kaddr", "klen" stand for its pid, buffer and length. $KSMOD_FD: --fd 3.
CALLER_SH='
if [ -n "$KSMOD_CHILD" ]; then
	mkfifo "$KSMOD_CHILD.fifo" && : >"$KSMOD_CHILD.out" || exit 1
	dupmem -c "$KSMOD_CHILD.fifo" -n '$N' $KSMOD_CHILD_OPTS \
		>"$KSMOD_CHILD.out" 2>&1 &
	i=0
	until grep -q "^pid=" "$KSMOD_CHILD.out"; do
		i=$((i + 1))
		[ $i -le 300 ] || exit 1
		usleep 100000
	done
	for kv in $(head -n 1 "$KSMOD_CHILD.out"); do
		eval "k_$kv"
	done
fi
p=$1
shift
n=$#
while [ $n -gt 0 ]; do
	a=$1
	shift
	case $a in
	me) a=$$ ;;
	kid) a=$k_pid ;;
	kaddr) a=$k_addr ;;
	klen) a=$k_len ;;
	esac
	set -- "$@" "$a"
	n=$((n - 1))
done
exec "$p" $KSMOD_FD "$@"'
KSMOD_CHILD="" KSMOD_CHILD_OPTS="" KSMOD_FD=""
export KSMOD_CHILD KSMOD_CHILD_OPTS KSMOD_FD

# as CALLER PROG ARG...: run ksmod_reg or ksmod_ioctl as CALLER, its
# output on one line. Callers:
#   root      root
#   alice     uid 1000, group ksmod: opens /dev/ksmod herself
#   bob       uid 1001, not in group ksmod
#   bobfd     bob, with /dev/ksmod open on descriptor 3, opened by root
#   alice_ns  alice as root of a user namespace she made (unshare -r)
#   root_ns   root in a new user namespace (unshare -U): uid 0, no
#             capability in the initial one
as() {
	_as=$1
	shift
	KSMOD_FD=""
	[ "$_as" = bobfd ] && KSMOD_FD="--fd 3"
	case $_as in
	root) sh -c "$CALLER_SH" sh "$@" ;;
	alice | bob) as_user "$_as" sh -c "$CALLER_SH" sh "$@" ;;
	bobfd) as_user bob sh -c "$CALLER_SH" sh "$@" 3<>/dev/ksmod ;;
	alice_ns) as_user alice unshare -r sh -c "$CALLER_SH" sh "$@" ;;
	root_ns) unshare -U sh -c "$CALLER_SH" sh "$@" ;;
	esac 2>&1 | tr '\n' ' ' | sed 's/ $//'
}

# child_of CALLER NAME OPTS PROG ARG...: as, PROG being the parent of a
# dupmem NAME started with OPTS; its answer in $ans, NAME_pid... set
child_of() {
	KSMOD_CHILD=$2 KSMOD_CHILD_OPTS=$3
	_co=$1 _cn=$2
	shift 3
	rm -f "$_cn.fifo" "$_cn.out"
	ans=$(as "$_co" "$@")
	KSMOD_CHILD="" KSMOD_CHILD_OPTS=""
	for _kv in $(head -n 1 "$_cn.out"); do
		eval "${_cn}_$_kv"
	done
}

ctx=""	# what the descriptions start with: the Yama setting when not 0

# --- root's view -----------------------------------------------------------------
q() { ksmod_reg query "$@" | tr '\n' ' ' | sed 's/ $//'; }
mg() { ksmod_reg mg "$@"; }
# merging PID: its pages mapping a ksmod KSM page (MM_STATS, as root)
merging() {
	ksmod_ioctl stats "$1" | sed -n 's/.* merging_pages=\([0-9]*\) .*/\1/p'
}
merged() { [ "$(merging "$1")" = "$N" ]; }
# a merge-any process: its other pages may merge too (with another's)
merged_any() { [ "$(merging "$1")" -ge "$N" ]; }
# tgt NAME: tp, ta, te, tl: pid, buffer start and end, length of dupmem NAME
tgt() { eval "tp=\$${1}_pid ta=\$${1}_addr te=\$${1}_end tl=\$${1}_len"; }
# start_under WORDS NAME [OPT...]: dm_start, dupmem run by WORDS (DM_LAUNCH)
start_under() {
	DM_LAUNCH=$1
	shift
	dm_start "$@" >/dev/null
	_sa=$?
	DM_LAUNCH=""
	return $_sa
}

# --- the matrix ------------------------------------------------------------------
# self_ok CALLER: on itself, as pid 0 and as its own pid, every ioctl is
# allowed; GET_VERSION answers, an unknown command is ENOTTY
self_ok() {
	t_match "$ctx$1: GET_VERSION answers" "$(as "$1" ksmod_ioctl version)" '^1 [0-9]+ '
	t_is "$ctx$1: an unknown command is ENOTTY" \
		"$(as "$1" ksmod_ioctl raw 0xc010ba7f)" ENOTTY
	for _sp in 0 me; do
		_sd="pid 0"
		[ $_sp = me ] && _sd="its own pid"
		t_is "$ctx$1: REGISTER of its own memory, as $_sd" \
			"$(as "$1" ksmod_reg register $_sp self $L)" \
			"ok owner=ksmod nr=1 self"
		t_is "$ctx$1: UNREGISTER of its own mergeable memory, as $_sd" \
			"$(as "$1" ksmod_reg unregister $_sp mine $L)" \
			"ok owner=ksmod nr=0"
		t_is "$ctx$1: QUERY of itself, as $_sd" \
			"$(as "$1" ksmod_reg query $_sp)" "owner=none nr=0"
		t_is "$ctx$1: MM_STATS of itself, as $_sd" \
			"$(as "$1" ksmod_ioctl stats $_sp)" \
			"owner=0 cow_breaks=0 merging_pages=0 rmap_items=0"
	done
}

# allowed CALLER NAME WHOSE: CALLER may register and unregister dupmem
# NAME (WHOSE process, no range yet), query it and read its MM_STATS
allowed() {
	tgt "$2"
	t_is "$ctx$1 -> $3's process: REGISTER" \
		"$(as "$1" ksmod_reg register "$tp" "$ta" "$tl")" ok
	t_is "$ctx$1 -> $3's process: root's QUERY shows the range" \
		"$(q "$tp")" "owner=ksmod nr=1 $ta-$te"
	t_is "$ctx$1 -> $3's process: QUERY" \
		"$(as "$1" ksmod_reg query "$tp")" "owner=ksmod nr=1 $ta-$te"
	t_match "$ctx$1 -> $3's process: MM_STATS" \
		"$(as "$1" ksmod_ioctl stats "$tp")" '^owner=1 '
	t_is "$ctx$1 -> $3's process: UNREGISTER" \
		"$(as "$1" ksmod_reg unregister "$tp" "$ta" "$tl")" ok
	t_match "$ctx$1 -> $3's process: root's QUERY shows no range" \
		"$(q "$tp")" '^owner=[a-z]+ nr=0$'
	t_is "$ctx$1 -> $3's process: no mg left" "$(mg "$tp" "$ta")" "no mg"
}

# refused CALLER PLAIN MERGED WHOSE [read]: REGISTER of dupmem PLAIN (no
# range) and UNREGISTER of dupmem MERGED (registered, its pages merged),
# both WHOSE processes, are EPERM, and neither changes anything; QUERY and
# MM_STATS are EPERM too, or with "read" allowed (Yama restricts attaching
# only)
refused() {
	tgt "$2"
	t_is "$ctx$1 -> $4's process: REGISTER is EPERM" \
		"$(as "$1" ksmod_reg register "$tp" "$ta" "$tl")" EPERM
	t_match "$ctx$1 -> $4's process: root's QUERY still shows no range" \
		"$(q "$tp")" '^owner=[a-z]+ nr=0$'
	t_is "$ctx$1 -> $4's process: still no mg" "$(mg "$tp" "$ta")" "no mg"
	if [ "${5-}" = read ]; then
		t_match "$ctx$1 -> $4's process: QUERY is allowed" \
			"$(as "$1" ksmod_reg query "$tp")" '^owner=[a-z]+ nr=0$'
		t_match "$ctx$1 -> $4's process: MM_STATS is allowed" \
			"$(as "$1" ksmod_ioctl stats "$tp")" '^owner=[0-9] '
	else
		t_is "$ctx$1 -> $4's process: QUERY is EPERM" \
			"$(as "$1" ksmod_reg query "$tp")" EPERM
		t_is "$ctx$1 -> $4's process: MM_STATS is EPERM" \
			"$(as "$1" ksmod_ioctl stats "$tp")" EPERM
	fi
	tgt "$3"
	t_is "$ctx$1 -> $4's merged process: UNREGISTER is EPERM" \
		"$(as "$1" ksmod_reg unregister "$tp" "$ta" "$tl")" EPERM
	t_is "$ctx$1 -> $4's merged process: root's QUERY still shows its range" \
		"$(q "$tp")" "owner=ksmod nr=1 $ta-$te"
	t_is "$ctx$1 -> $4's merged process: its $N pages are still merged" \
		"$(merging "$tp")" $N
}

# ns_child CALLER NAME BYTE: CALLER, in a user namespace, may register and
# query its child (NAME, filled with BYTE), in the same namespace
ns_child() {
	child_of "$1" "$2" "-f $3" ksmod_reg register kid kaddr klen
	t_is "$ctx$1 -> its child, in its namespace: REGISTER" "$ans" ok
	tgt "$2"
	t_is "$ctx$1 -> its child: root's QUERY shows the range" \
		"$(q "$tp")" "owner=ksmod nr=1 $ta-$te"
	child_of "$1" "$2q" "-f $3" ksmod_ioctl stats kid
	t_is "$ctx$1 -> its child: MM_STATS" "$ans" \
		"owner=0 cow_breaks=0 merging_pages=0 rmap_items=0"
}

# --- targets -----------------------------------------------------------------------
# PLAIN (x0) processes never register themselves; MERGED (x1) ones
# madvise their buffer and get merged. Each fills its pages with a byte
# of its own, so that each merges with itself only.
dm_start R0 -n $N -f 0x10 >/dev/null && dm_start R1 -n $N -f 0x11 -m >/dev/null ||
	bail "dupmem does not start as root"
start_under "as_user alice" A0 -n $N -f 0x20 && start_under "as_user alice" A1 -n $N -f 0x21 -m ||
	bail "dupmem does not start as alice"
start_under "as_user bob" B0 -n $N -f 0x30 && start_under "as_user bob" B1 -n $N -f 0x31 -m ||
	bail "dupmem does not start as bob"
t_is "A0 runs as alice" "$(stat -c %u "/proc/$A0_pid")" 1000
t_is "B0 runs as bob" "$(stat -c %u "/proc/$B0_pid")" 1001
for m in R1 A1 B1; do
	tgt $m
	t_ok "$m's $N pages merge" wait_for 60 merged "$tp"
done

if [ -e $YAMA ]; then
	echo 0 >$YAMA
	t_is "Yama ptrace_scope 0" "$(cat $YAMA)" 0
fi

# --- root ------------------------------------------------------------------------------
self_ok root

# --- alice, group ksmod ---------------------------------------------------------------
self_ok alice
allowed alice A0 alice
refused alice R0 R1 root
refused alice B0 B1 bob

# --- bob: no group, then a descriptor root opened ---------------------------------------
t_errno "bob: open of /dev/ksmod is EACCES" EACCES as_user bob ksmod_ioctl version
t_errno "bob: open for REGISTER too" EACCES as_user bob ksmod_reg register 0 self $L
self_ok bobfd
allowed bobfd B0 bob
refused bobfd R0 R1 root
refused bobfd A0 A1 alice

# --- alice as root of a user namespace of her own ------------------------------------
alice_ns=""
if ans=$(as_user alice unshare -r id -u 2>&1) && [ "$ans" = 0 ]; then
	alice_ns=1
	t_pass "alice makes a user namespace and is uid 0 in it"
	self_ok alice_ns
	ns_child alice_ns N1 0x40
	# no right over a process outside the namespace, even her own
	refused alice_ns A0 A1 "alice (outside her namespace)"
	refused alice_ns R0 R1 root
	refused alice_ns B0 B1 bob
else
	t_skip "alice as root of a user namespace" "unshare -r: $ans"
fi

# --- root in a new user namespace ---------------------------------------------------
if ans=$(unshare -U id -u 2>&1) && [ "$ans" = 65534 ]; then
	t_pass "root makes a user namespace (unmapped: uid 65534 in it)"
	self_ok root_ns
	ns_child root_ns N2 0x41
	refused root_ns R0 R1 "root (outside its namespace)"
	refused root_ns A0 A1 alice
	refused root_ns B0 B1 bob
else
	t_skip "root in a new user namespace" "unshare -U: $ans"
fi

# --- a pid namespace sees its own pids only ------------------------------------------
t_is "root in a new pid namespace: QUERY of R0's pid is ESRCH" \
	"$(unshare -p -f ksmod_reg query "$R0_pid" 2>&1)" ESRCH

# --- Yama ptrace_scope 1 ------------------------------------------------------------
if [ -e $YAMA ]; then
	echo 1 >$YAMA
	t_is "Yama ptrace_scope 1" "$(cat $YAMA)" 1
	ctx="ptrace_scope 1: "
	# CAP_SYS_PTRACE passes Yama
	allowed root A0 alice
	self_ok alice
	refused alice A0 A1 "alice (not her child)" read
	refused alice R0 R1 root
	child_of alice C1 "-f 0x50" ksmod_reg register kid kaddr klen
	t_is "${ctx}alice -> her child: REGISTER" "$ans" ok
	tgt C1
	t_is "${ctx}alice -> her child: root's QUERY shows the range" \
		"$(q "$tp")" "owner=ksmod nr=1 $ta-$te"
	child_of alice C2 "-f 0x51 -m" ksmod_reg unregister kid kaddr klen
	t_is "${ctx}alice -> her merging child: UNREGISTER" "$ans" ok
	tgt C2
	t_match "${ctx}alice -> her merging child: root's QUERY shows no range" \
		"$(q "$tp")" '^owner=ksmod nr=0$'
	child_of alice C3 "-f 0x52" ksmod_reg query kid
	t_is "${ctx}alice -> her child: QUERY" "$ans" "owner=none nr=0"
	child_of alice C4 "-f 0x53" ksmod_ioctl stats kid
	t_is "${ctx}alice -> her child: MM_STATS" "$ans" \
		"owner=0 cow_breaks=0 merging_pages=0 rmap_items=0"
	refused bobfd B0 B1 "bob (not his child)" read

	# 2: attaching takes CAP_SYS_PTRACE, also to a child
	echo 2 >$YAMA
	t_is "Yama ptrace_scope 2" "$(cat $YAMA)" 2
	ctx="ptrace_scope 2: "
	allowed root A0 alice
	child_of alice C5 "-f 0x54" ksmod_reg register kid kaddr klen
	t_is "${ctx}alice -> her child: REGISTER is EPERM" "$ans" EPERM
	tgt C5
	t_is "${ctx}alice -> her child: root's QUERY shows no range" \
		"$(q "$tp")" "owner=none nr=0"
	child_of alice C6 "-f 0x55" ksmod_reg query kid
	t_is "${ctx}alice -> her child: QUERY" "$ans" "owner=none nr=0"
	t_is "${ctx}alice: REGISTER of her own memory" \
		"$(as alice ksmod_reg register me self $L)" "ok owner=ksmod nr=1 self"
	echo 0 >$YAMA
	ctx=""
else
	t_skip "Yama ptrace_scope 1" "this kernel has no Yama ($YAMA)"
fi

# --- what was refused had no effect ----------------------------------------------------
fs=$(cat $K/full_scans)
t_ok "two more full scans" wait_for 60 sh -c "[ \$(cat $K/full_scans) -ge $((fs + 2)) ]"
t_is "R0, never registered: nobody's, no range" "$(q "$R0_pid")" "owner=none nr=0"
for p in R0 A0 B0; do
	tgt $p
	t_match "$p: no page merged, none tracked" "$(ksmod_ioctl stats "$tp")" \
		'^owner=[01] cow_breaks=[0-9]+ merging_pages=0 rmap_items=0$'
	t_is "$p: /proc/PID/ksm_merging_pages 0" "$(cat "/proc/$tp/ksm_merging_pages")" 0
done
for p in R1 A1 B1; do
	tgt $p
	t_is "$p: its $N pages are still merged" "$(merging "$tp")" $N
done
for p in R0 R1 A0 A1 B0 B1; do
	t_ok "$p's data is intact" dm $p check
done

# --- allowed last: root on R0 -------------------------------------------------------
allowed root R0 root
allowed root A0 alice

# --- prctl(PR_SET_MEMORY_MERGE): the caller itself, no rights, no device ----------------
# merge_any WORDS NAME BYTE WHO: dupmem NAME, run by WORDS under
# PR_SET_MEMORY_MERGE, is ksmod's whole, and its buffer merges
merge_any() {
	start_under "$1 prctl_exec" "$2" -n $N -f "$3"
	tgt "$2"
	t_match "$4 under PR_SET_MEMORY_MERGE: ksmod's, whole" \
		"$(q "$tp")" "^owner=ksmod nr=[1-9]"
	t_is "$4: its buffer is mergeable" "$(mg "$tp" "$ta")" mg
	t_ok "$4: its $N pages merge" wait_for 60 merged_any "$tp"
	diag "$4: merging_pages $(merging "$tp")"
}
merge_any "as_user bob" P1 0x60 "bob (no /dev/ksmod)"
[ -z "$alice_ns" ] ||
	merge_any "as_user alice unshare -r" P2 0x61 "alice as root of her user namespace"

for p in R0 R1 A0 A1 B0 B1 C1 C2 C3 C4 C5 C6 N1 N1q N2 N2q P1 P2; do
	dm_stop $p
done
t_ok "ksmod unloads" ksmod_unload
t_done
