#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ksmodctl: every command of the CLI and its errors. Usage errors exit 2,
# "not loaded" 3, permission 4, other failures 1; load with parameters;
# version and status (text and --json, checked by tests/prog/jsonq); a
# process registered whole and one by range merge, ranges shows them and
# status the memory saved; watch redraws and stops on SIGINT; unmerge;
# bind-sysfs shows ksmod's files at /sys/kernel/mm/ksm with the kernel's
# KSM stopped (its pages unmerged), unbind-sysfs and unload undo it; a user
# without rights is refused, one in the group of /dev/ksmod is not.
# shellcheck disable=SC2154 # NAME_pid, NAME_addr...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
KK=/sys/kernel/mm/ksm
KO=/lib/ksmod/ksmod.ko
PG=4096
N=64

# rc CMD...: the exit status of CMD, output discarded
rc() {
	"$@" >/dev/null 2>&1
	echo $?
}
# out CMD...: stdout and stderr of CMD
out() { "$@" 2>&1; }
merging() { cat "/proc/$1/ksm_merging_pages" 2>/dev/null || echo "?"; }
merging_above() { [ "$(merging "$1")" -gt "$2" ] 2>/dev/null; }
sharing_reaches() { [ "$(cat $K/pages_sharing)" -ge "$1" ]; }
bound() { grep -q " $KK " /proc/mounts; }
# the value of file $1 in the table of `ksmodctl status` (NAME  VALUE  MEANING)
status_val() {
	ksmodctl status | awk -v k="$1" '$1 == k {
		s = substr($0, length(k) + 1); sub(/^ +/, "", s); sub(/  .*/, "", s)
		print s }'
}
gone() { ! _rt_alive "$1"; }
as_nobody() { su -s /bin/sh -c "$*" nobody; }

[ -d $KK ] || bail "no $KK: this kernel has no KSM"
old_krun=$(cat $KK/run)
kpages=$(cat $KK/pages_to_scan)
kwrite $KK/run 2
kwrite $KK/run 1

# --- usage errors and no module ------------------------------------------
t_is "no command: usage error (2)" "$(rc ksmodctl)" 2
t_is "an unknown command: 2" "$(rc ksmodctl frobnicate)" 2
t_match "help lists every command" "$(ksmodctl help)" '^  bind-sysfs '
t_match "help names the tool ksmodctl (ksmtuned has a ksmctl)" \
	"$(ksmodctl help)" '^usage: ksmodctl '
t_is "a bad module parameter: 2" "$(rc ksmodctl load -f $KO nonsense)" 2
t_is "register without a pid: 2" "$(rc ksmodctl register)" 2
t_is "register with pid 12x: 2" "$(rc ksmodctl register 12x)" 2
t_is "register with END below START: 2" "$(rc ksmodctl register 1 2000-1000)" 2
t_is "register with LEN 12Q: 2" "$(rc ksmodctl register 1 1000 12Q)" 2
t_match "saying what is wrong" "$(out ksmodctl register 1 1000 12Q)" \
	"bad range '1000 12Q'"
t_is "ranges with pid 0: 2" "$(rc ksmodctl ranges 0)" 2
t_is "watch -n 0: 2" "$(rc ksmodctl watch -n 0)" 2
t_is "set without =: 2" "$(rc ksmodctl set run)" 2
t_is "status with an argument: 2" "$(rc ksmodctl status x)" 2

t_is "version without the module: 3" "$(rc ksmodctl version)" 3
t_match "saying why" "$(out ksmodctl version)" 'ksmod is not loaded'
t_is "status without the module: 3" "$(rc ksmodctl status)" 3
t_is "status --json without the module: loaded false" \
	"$(ksmodctl status --json 2>/dev/null | jsonq .loaded)" false
t_is "unload without the module: 3" "$(rc ksmodctl unload)" 3
t_match "saying why" "$(out ksmodctl unload)" 'ksmod is not loaded'
t_is "unmerge without the module: 3" "$(rc ksmodctl unmerge)" 3
t_is "bind-sysfs without the module: 3" "$(rc ksmodctl bind-sysfs)" 3
t_is "ranges without the module: 3" "$(rc ksmodctl ranges)" 3

# KS asks the kernel's KSM, before ksmod is there: the kernel's, merged.
t_ok "KS madvises $N identical pages, for the kernel's KSM" \
	dm_start KS -m -n $N -f 0x44 || bail "dupmem does not start"
t_ok "the kernel's KSM merges them" wait_for 60 merging_above "$KS_pid" 0

# --- load, version, status -------------------------------------------------
t_ok "ksmodctl loads ksmod with parameters" \
	ksmodctl load -f $KO run=1 pages_to_scan=1000 sleep_millisecs=10
t_is "the parameters took effect" "$(cat $K/pages_to_scan)" 1000
t_is "loading twice: 1" "$(rc ksmodctl load -f $KO)" 1
t_match "saying why" "$(out ksmodctl load -f $KO)" 'already loaded'
release=$(modinfo -F version $KO)
t_match "version names the release and ABI" "$(ksmodctl version)" \
	"^ksmod $release, ABI 1\\.4 "
t_is "version --json: the release" \
	"$(ksmodctl --json version | jsonq .release)" \
	"$release"
t_is "version --json: the ABI major" \
	"$(ksmodctl version --json | jsonq .abi_major)" 1

t_ok "set run=0 pages_to_scan=33" ksmodctl set run=0 pages_to_scan=33
t_is "both written" "$(cat $K/run) $(cat $K/pages_to_scan)" "0 33"
t_is "set of a file ksmod lacks: 1" "$(rc ksmodctl set nosuchfile=1)" 1
t_errno "set run=7: the kernel's EINVAL" EINVAL ksmodctl set run=7
t_is "set run=7: exit 1" "$(rc ksmodctl set run=7)" 1

# With run=0 nothing changes: every file must be in the table, as it reads.
bad=""
for f in $K/*; do
	name=${f##*/}
	[ "$(status_val "$name")" = "$(cat "$f")" ] || bad="$bad $name"
done
t_is "status shows every file of $K with its value" "$bad" ""
t_match "and what run means" "$(ksmodctl status)" '^run +0 +stopped$'
t_match "and that $KK is the kernel's" "$(ksmodctl status)" \
	"^$KK: the kernel's KSM"
t_not "jsonq, the JSON check, rejects a trailing comma" \
	sh -c "echo '{\"a\": 1,}' | jsonq"
t_not "and a leading zero" sh -c "echo '[01]' | jsonq"
json=$(ksmodctl --json status)
t_ok "status --json is valid JSON" jsonq <<EOF
$json
EOF
t_is "with pages_to_scan" "$(echo "$json" | jsonq .ksm.pages_to_scan)" 33
t_is "with every file" "$(echo "$json" | jsonq .ksm#)" "$(ls $K | wc -l)"
t_is "with the page size" "$(echo "$json" | jsonq .page_size)" $PG
t_is "and not bound" "$(echo "$json" | jsonq .sysfs_bound)" false

# --- register, ranges, memory saved ---------------------------------------
t_ok "A starts with $N identical pages" dm_start A -n $N ||
	bail "dupmem does not start"
t_ok "B starts with $N identical pages" dm_start B -n $N ||
	bail "dupmem does not start"
t_is "ranges: nobody is registered yet" "$(ksmodctl ranges)" \
	"no process is registered with ksmod"
t_is "ranges --json: no process" \
	"$(ksmodctl ranges --json | jsonq .processes#)" 0
t_match "register A's buffer as START LEN" \
	"$(ksmodctl register "$A_pid" "$A_addr" $((N * PG)))" \
	"^registered 1 range, 256\\.0 KiB, of pid $A_pid \\(dupmem\\)$"
j=$(ksmodctl --json ranges "$A_pid")
t_is "ranges --json A: owner ksmod" "$(echo "$j" | jsonq .processes[0].owner)" \
	ksmod
t_is "exactly its buffer" \
	"$(echo "$j" | jsonq .processes[0].ranges[0].start)-$(echo "$j" | jsonq .processes[0].ranges[0].end) $(echo "$j" | jsonq .processes[0].ranges#)" \
	"0x$A_addr-0x$A_end 1"
t_match "register the whole of B" "$(ksmodctl register "$B_pid")" \
	"^registered [0-9]+ ranges?, .* of pid $B_pid \\(dupmem\\)$"
t_is "B's buffer is mergeable" "$(ksmod_reg mg "$B_pid" "$B_addr")" mg
stack=$(awk -F'[- ]' '/\[stack\]/ { print $1 }' "/proc/$B_pid/maps")
t_is "and its stack" "$(ksmod_reg mg "$B_pid" "$stack")" mg
text=$(awk '$2 == "r-xp" { sub(/-.*/, "", $1); print $1; exit }' "/proc/$B_pid/maps")
t_is "not its program text" "$(ksmod_reg mg "$B_pid" "$text")" "no mg"
t_is "ranges --json: A and B" "$(ksmodctl ranges --json | jsonq .processes#)" 2
t_match "ranges: a table row for A" "$(ksmodctl ranges)" \
	"^ *$A_pid +dupmem +ksmod +[0-9-]+ +0 +$A_addr-$A_end +256\\.0 KiB$"
t_match "register of a process the kernel's KSM has: says so" \
	"$(out ksmodctl register "$KS_pid")" \
	"note: pid $KS_pid belongs to the kernel's KSM"
t_is "ranges --json: it is the kernel's" \
	"$(ksmodctl ranges --json "$KS_pid" | jsonq .processes[0].owner)" kernel

t_ok "set run=1: they merge" ksmodctl set run=1 pages_to_scan=1000
t_ok "A's and B's buffers end up on one page" \
	wait_for 60 sharing_reaches $((2 * N - 1))
ksmodctl set run=0
json=$(ksmodctl --json status)
s=$(echo "$json" | jsonq .ksm.pages_sharing)
t_is "status --json: memory_saved is pages_sharing pages" \
	"$(echo "$json" | jsonq .memory_saved)" $((s * PG))
saved=$(awk -v b=$((s * PG)) 'BEGIN {
	if (b < 1048576) printf "%.1f KiB", b / 1024; else printf "%.1f MiB", b / 1048576 }')
t_match "status: memory saved, in binary units" "$(ksmodctl status)" \
	"^memory saved: +$saved \\("
t_ok "A writes to 5 of its merged pages" dm A touch 5
t_is "ranges --json: A's COW breaks" \
	"$(ksmodctl ranges --json "$A_pid" | jsonq .processes[0].cow_breaks)" 5
t_match "ranges: in the COW column" "$(ksmodctl ranges "$A_pid")" \
	"^ *$A_pid +dupmem +ksmod +[0-9]+ +5 +$A_addr-$A_end "
ksmodctl status | sed 's/^/# status: /'
ksmodctl ranges | sed 's/^/# ranges: /'
t_match "ranges: MERGING shows A's ksm_merging_pages" \
	"$(ksmodctl ranges "$A_pid")" \
	"^ *$A_pid +dupmem +ksmod +$(merging "$A_pid") "

# --- watch ------------------------------------------------------------------
ksmodctl set run=1
ksmodctl watch -n 0.2 --count 3 >/tmp/watch.out 2>&1
t_is "watch --count 3: three frames" \
	"$(grep -c 'ksmodctl watch: every 0.2 s' /tmp/watch.out)" 3
esc=$(printf '\033')
t_is "each drawn in place (clear, home)" \
	"$(grep -c "$esc\\[H$esc\\[2J" /tmp/watch.out)" 3
t_match "with the scan rate from the second on" "$(cat /tmp/watch.out)" \
	'scan progress: .* pages/s$'
t_is "watch --json: one valid object per frame" \
	"$(ksmodctl watch --json -n 0.1 --count 2 | jsonq -l .loaded |
		tr '\n' ' ')" \
	"true true "
ksmodctl watch -n 30 >/dev/null &
wpid=$!
sleep 1
kill -INT $wpid
t_ok "SIGINT ends watch (in the background, where the shell ignores it)" \
	wait_for 5 gone $wpid
wait $wpid
t_is "with status 0" $? 0

# --- register errors, unregister ---------------------------------------------
t_is "register of a missing process: 1" \
	"$(rc ksmodctl register 99999 7f0000000000 4096)" 1
t_errno "saying so" ESRCH ksmodctl register 99999 7f0000000000 4096
t_errno "register at an unaligned START: EINVAL" EINVAL \
	ksmodctl register "$A_pid" "$(printf '%x' $((0x$A_addr + 8)))" 4096
t_ok "H starts with a hole in its buffer" dm_start H -H -n 4 ||
	bail "dupmem does not start"
t_match "register over the hole: ENOMEM, explained" \
	"$(out ksmodctl register "$H_pid" "$H_addr-$H_end")" \
	'Cannot allocate memory \(part of the range is not mapped'
t_is "with exit 1" "$(rc ksmodctl register "$H_pid" "$H_addr-$H_end")" 1
t_is "whole-process register of a missing process: 1" \
	"$(rc ksmodctl register 99999)" 1
t_is "ranges of a missing process: 1" "$(rc ksmodctl ranges 99999)" 1
t_is "ranges of a process nobody registered: owner none" \
	"$(ksmodctl ranges --json "$$" | jsonq .processes[0].owner)" none
t_match "unregister A's buffer as START-END" \
	"$(ksmodctl unregister "$A_pid" "$A_addr-$A_end")" \
	"^unregistered 1 range, 256\\.0 KiB, of pid $A_pid \\(dupmem\\)$"
t_is "A has no range left" \
	"$(ksmodctl ranges --json "$A_pid" | jsonq .processes[0].ranges#)" 0
t_match "unregister the whole of B" "$(ksmodctl unregister "$B_pid")" \
	"^unregistered [0-9]+ ranges?, "
t_is "B has no range left" \
	"$(ksmodctl ranges --json "$B_pid" | jsonq .processes[0].ranges#)" 0
t_is "B's buffer is no longer mergeable" "$(ksmod_reg mg "$B_pid" "$B_addr")" \
	"no mg"

# --- unmerge ------------------------------------------------------------------
ksmodctl register "$A_pid" "$A_addr" $((N * PG)) >/dev/null
ksmodctl register "$B_pid" "$B_addr" $((N * PG)) >/dev/null
t_ok "registered again, they merge again" \
	wait_for 60 sharing_reaches $((2 * N - 1))
t_match "unmerge" "$(ksmodctl unmerge)" 'ksmod is stopped \(run=2\)'
t_is "nothing merged" "$(cat $K/pages_sharing) $(cat $K/pages_shared)" "0 0"
t_is "run stays 2" "$(cat $K/run)" 2
P=/sys/module/ksmod/parameters/test_unmerge_fail
if [ -e $P ]; then
	ksmodctl set run=1
	wait_for 60 sharing_reaches $((2 * N - 1))
	kwrite $P 1
	t_errno "unmerge that fails: the kernel's errno" ENOMEM ksmodctl unmerge
	t_is "exit 1" "$(rc ksmodctl unmerge)" 1
	t_errno "unload refuses when unmerging fails" ENOMEM ksmodctl unload
	t_ok "and ksmod stays loaded" ksmod_loaded
	kwrite $P 0
else
	t_skip "unmerge that fails" "no test_unmerge_fail parameter"
fi

# --- permissions and the group of /dev/ksmod ----------------------------------
have_nobody
grep -q '^nogroup:' /etc/group || echo 'nogroup:x:65534:' >>/etc/group
echo 'ksmod:x:1234:nobody' >>/etc/group
t_is "a user: version is refused (4)" \
	"$(as_nobody ksmodctl version >/dev/null 2>&1; echo $?)" 4
t_match "saying how to grant access" "$(as_nobody ksmodctl version 2>&1)" \
	'^ksmodctl: /dev/ksmod: Permission denied \(needs root; see ksmodctl\(8\)'
t_is "a user: status works (sysfs is readable)" \
	"$(as_nobody ksmodctl status >/dev/null 2>&1; echo $?)" 0
t_is "a user: unmerge is refused (4)" \
	"$(as_nobody ksmodctl unmerge >/dev/null 2>&1; echo $?)" 4
t_is "a user: unload is refused (4)" \
	"$(as_nobody ksmodctl unload >/dev/null 2>&1; echo $?)" 4
t_ok "and ksmod stays loaded" ksmod_loaded
# what the udev rule of ksmodctl(8) does
chgrp 1234 /dev/ksmod && chmod 0660 /dev/ksmod
t_match "the group ksmod may use /dev/ksmod" "$(as_nobody ksmodctl version)" \
	"^ksmod $release, ABI"
t_is "but not register a process it may not ptrace (4)" \
	"$(as_nobody ksmodctl register "$A_pid" >/dev/null 2>&1; echo $?)" 4
chgrp 0 /dev/ksmod && chmod 0600 /dev/ksmod

# --- bind-sysfs ---------------------------------------------------------------
ksmodctl set run=1 pages_to_scan=4321
t_is "before: $KK/pages_to_scan is the kernel's" "$(cat $KK/pages_to_scan)" "$kpages"
t_match "bind-sysfs" "$(ksmodctl bind-sysfs)" "^$KK shows ksmod's files"
t_is "$KK/pages_to_scan is ksmod's" "$(cat $KK/pages_to_scan)" 4321
t_is "$KK/run is ksmod's 1 (the kernel's is 2 now)" "$(cat $KK/run)" 1
t_ok "$KK has ksmod's own cow_breaks" test -e $KK/cow_breaks
t_ok "writes go to ksmod" kwrite $KK/pages_to_scan 4322
t_is "they do" "$(cat $K/pages_to_scan)" 4322
t_is "the kernel's KSM unmerged KS" "$(merging "$KS_pid")" 0
t_match "status shows the binding" "$(ksmodctl status)" \
	"^$KK: ksmod's files \\(ksmodctl bind-sysfs; the kernel's KSM is stopped\\)"
t_is "status --json too" "$(ksmodctl --json status | jsonq .sysfs_bound)" true
t_is "bind-sysfs again: 1" "$(rc ksmodctl bind-sysfs)" 1
t_match "saying why" "$(out ksmodctl bind-sysfs)" 'already shows ksmod'
t_match "unbind-sysfs" "$(ksmodctl unbind-sysfs)" \
	"^$KK shows the kernel's KSM again \\(its run restored to 1\\)"
t_is "$KK/pages_to_scan is the kernel's again" "$(cat $KK/pages_to_scan)" \
	"$kpages"
t_is "its run is 1 again" "$(cat $KK/run)" 1
t_ok "and it merges KS again" wait_for 60 merging_above "$KS_pid" 0
t_is "unbind-sysfs again: 1" "$(rc ksmodctl unbind-sysfs)" 1
t_match "saying why" "$(out ksmodctl unbind-sysfs)" 'is not bound'

t_ok "bind-sysfs once more" ksmodctl bind-sysfs
t_ok "ksmodctl unload" ksmodctl unload
t_not "ksmod is gone" ksmod_loaded
t_not "and so is the bind mount" bound
t_is "$KK/pages_to_scan is the kernel's" "$(cat $KK/pages_to_scan)" "$kpages"
t_is "its run is 1 again" "$(cat $KK/run)" 1

# A bind left behind by a module removed without ksmodctl.
ksmodctl load -f $KO
t_ok "bind-sysfs, then rmmod" sh -c "ksmodctl bind-sysfs && rmmod ksmod"
t_ok "the mount is left behind" bound
t_is "ksmodctl unload: not loaded (3)" "$(rc ksmodctl unload)" 3
t_not "but it removed the mount" bound
t_is "$KK/pages_to_scan is the kernel's" "$(cat $KK/pages_to_scan)" "$kpages"
t_is "its run is 1 again" "$(cat $KK/run)" 1

dm_stop A
dm_stop B
dm_stop H
dm_stop KS
kwrite $KK/run 2
kwrite $KK/run "$old_krun"
t_done
