#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# prctl: prctl(PR_SET_MEMORY_MERGE) and PR_GET_MEMORY_MERGE with ksmod, on
# 6.12 (hooked) and 6.1 (which has no such prctl of its own): bad arguments
# are EINVAL; a process that never madvises gets its duplicate pages merged
# (page frames from pagemap), also those it maps later; a forked child and
# an exec'd program are merge-any too; PR_SET_MEMORY_MERGE 0 unmerges and
# the counters drop; its own MADV_UNMERGEABLE sticks; a process the
# kernel's KSM registered before the load stays the kernel's; unload (after
# run=2) leaves a merge-any process to the kernel's KSM (6.12), or plain
# (6.1).
# With the system's default THP (always; these buffers are smaller than a
# huge page), then the THP matrix (lib.sh): in each mode, a merge-any
# process maps 1024 pages of 16 contents (whole huge pages where the mode
# gives them, prctl_merge thp shows what backs them), they merge on 16
# frames, a forked child's new 512 pages merge onto them too (160 mappings
# of a page, within max_page_sharing), and every byte survives
# copy-on-write.
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
KK=/sys/kernel/mm/ksm
O=/sys/kernel/debug/ksmod/objects
H=/sys/kernel/debug/ksmod/hooks
LOAD="insmod /lib/ksmod/ksmod.ko run=1 pages_to_scan=1000 sleep_millisecs=10"
obj() { awk -v k="$1" '$1 == k { print $2 }' $O; }
settled() { [ "$(obj rmap_items)" = 0 ] && [ "$(obj stable_nodes)" = 0 ] && [ "$(obj mm_slots)" = 0 ]; }
hits() { awk -v h="$1" '$1 == h { print $3 }' $H; }
# res N: the answer of step N of the last prctl_merge run ($out)
res() { printf '%s\n' "$out" | sed -n "s/^$1 //p"; }

# 6.12 has the prctl (and hooks ksm_enable_merge_any); 6.1 has not.
if grep -qw ksm_enable_merge_any /proc/kallsyms; then
	native=1
	diag "this kernel has PR_SET_MEMORY_MERGE: ksmod hooks ksm_enable_merge_any"
else
	native=""
	diag "this kernel has no PR_SET_MEMORY_MERGE: ksmod answers it"
fi
ksmod_loaded && ksmod_unload

out=$(prctl_merge get)
if [ -n "$native" ]; then
	t_is "without ksmod the kernel answers PR_GET_MEMORY_MERGE" "$(res 1)" "get 0"
else
	t_is "without ksmod 6.1 has no PR_GET_MEMORY_MERGE" "$(res 1)" "get EINVAL"
fi

# A process the kernel's KSM registered before the load stays the kernel's.
dmesg_mark kernel-owned
out=$(prctl_merge map 8 2 madv run "$LOAD" set 1 get \
	run 'ksmod_reg query $PPID' set 0 get)
t_is "ksmod loads while the kernel's KSM has a process" "$(res 3)" "run ok"
ksmod_loaded || bail "cannot load ksmod"
if [ -n "$native" ]; then
	t_is "that process's PR_SET_MEMORY_MERGE goes to the kernel's KSM" \
		"$(res 4)" "set ok"
	t_is "which merges it whole: PR_GET_MEMORY_MERGE is 1" "$(res 5)" "get 1"
else
	t_is "that process's PR_SET_MEMORY_MERGE is EBUSY (6.1's KSM cannot)" \
		"$(res 4)" "set EBUSY"
	t_dmesg "saying why" \
		"ksmod: PR_SET_MEMORY_MERGE from prctl_merge\[[0-9]+\] refused: the kernel's KSM merges this process"
	t_is "PR_GET_MEMORY_MERGE stays 0" "$(res 5)" "get 0"
fi
t_match "QUERY: the process is still the kernel's" "$out" '^owner=kernel '
t_is "PR_SET_MEMORY_MERGE 0 then succeeds" "$(res 7)" "set ok"
t_is "and PR_GET_MEMORY_MERGE is 0" "$(res 8)" "get 0"

out=$(prctl_merge setargs 1 1 0 0 setargs 1 0 1 0 setargs 1 0 0 1 \
	getargs 1 0 0 0 getargs 0 0 0 1 get)
t_is "PR_SET_MEMORY_MERGE with arg3 != 0: EINVAL" "$(res 1)" "set EINVAL"
t_is "with arg4 != 0: EINVAL" "$(res 2)" "set EINVAL"
t_is "with arg5 != 0: EINVAL" "$(res 3)" "set EINVAL"
t_is "PR_GET_MEMORY_MERGE with arg2 != 0: EINVAL" "$(res 4)" "get EINVAL"
t_is "with arg5 != 0: EINVAL" "$(res 5)" "get EINVAL"
t_is "none of them turned merging on" "$(res 6)" "get 0"
t_ok "nothing left behind" wait_for 20 settled

# Merged without madvise; new mappings too; PR_SET_MEMORY_MERGE 0 undoes it.
h0=$(hits ksm_madvise)
out=$(prctl_merge map 32 4 get set 1 get mg merged 60 map 32 4 mg merged 60 \
	run 'ksmod_reg query $PPID' set 0 get mg unmerged 30 \
	settle $K/pages_sharing 0 30 settle $K/pages_shared 0 30 cow)
diag "$(printf '%s\n' "$out" | tr '\n' '|')"
t_is "PR_GET_MEMORY_MERGE is 0 at first" "$(res 2)" "get 0"
t_is "PR_SET_MEMORY_MERGE 1 succeeds" "$(res 3)" "set ok"
t_is "then PR_GET_MEMORY_MERGE is 1" "$(res 4)" "get 1"
t_is "the buffer mapped before is mergeable (mg)" "$(res 5)" "mg all"
t_is "its 32 pages of 4 contents share 4 frames, no madvise" \
	"$(res 6)" "merged frames=4 pages=32"
t_is "a buffer mapped after is mergeable too" "$(res 8)" "mg all"
t_is "and both buffers' 64 pages share the 4 frames" "$(res 9)" \
	"merged frames=4 pages=64"
t_match "QUERY: ksmod merges the process" "$out" '^owner=ksmod '
t_is "PR_SET_MEMORY_MERGE 0 succeeds" "$(res 11)" "set ok"
t_is "then PR_GET_MEMORY_MERGE is 0" "$(res 12)" "get 0"
t_is "no buffer is mergeable any more" "$(res 13)" "mg none"
t_is "every page has a frame of its own again" "$(res 14)" \
	"unmerged frames=64 pages=64"
t_is "pages_sharing drops to 0" "$(res 15)" "settle ok 0"
t_is "pages_shared drops to 0" "$(res 16)" "settle ok 0"
t_is "every byte survives, also after copy-on-write" "$(res 17)" "cow ok"
t_is "no madvise entered KSM" "$(($(hits ksm_madvise) - h0))" 0
t_ok "nothing left behind" wait_for 20 settled

# Fork and exec: the child and the new program are merge-any.
out=$(prctl_merge set 1 map 16 4 merged 60 fork get map 16 4 mg \
	lastmerged 60 merged 60 exec get map 16 4 mg merged 60 \
	run 'ksmod_reg query $PPID' cow)
diag "$(printf '%s\n' "$out" | tr '\n' '|')"
t_is "the parent's pages merge" "$(res 3)" "merged frames=4 pages=16"
t_is "a forked child: PR_GET_MEMORY_MERGE is 1" "$(res 5)" "get 1"
t_is "its new buffer is mergeable" "$(res 7)" "mg all"
t_is "and merges" "$(res 8)" "merged frames=4 pages=16"
t_is "onto the parent's frames" "$(res 9)" "merged frames=4 pages=32"
t_is "a program it execs: PR_GET_MEMORY_MERGE is 1" "$(res 11)" "get 1"
t_is "its buffer is mergeable" "$(res 13)" "mg all"
t_is "and merges" "$(res 14)" "merged frames=4 pages=16"
t_match "QUERY: ksmod merges the new program" "$out" '^owner=ksmod '
t_is "its bytes survive copy-on-write" "$(res 16)" "cow ok"
t_is "the child exited well" "$(res 4)" "fork status=0"
t_ok "nothing left behind" wait_for 20 settled

# The process's own MADV_UNMERGEABLE sticks, as in 6.12.
out=$(prctl_merge set 1 map 16 4 merged 60 unmadv mg unmerged 30 \
	run "sleep 2" mg unmerged 1 get)
t_is "MADV_UNMERGEABLE in a merge-any process: not mergeable" "$(res 5)" "mg none"
t_is "and unmerged" "$(res 6)" "unmerged frames=16 pages=16"
t_is "and still so two seconds (many scans) later" "$(res 8)/$(res 9)" \
	"mg none/unmerged frames=16 pages=16"
t_is "the process stays merge-any" "$(res 10)" "get 1"
t_ok "nothing left behind" wait_for 20 settled

# A mapping KSM must not merge (private hugetlb) stays alone, also on 6.1
# where def_flags mark it VM_MERGEABLE.
kwrite /proc/sys/vm/nr_hugepages 2
out=$(prctl_merge set 1 map 16 4 maphuge merged 60 run "sleep 2" hugecheck cow)
kwrite /proc/sys/vm/nr_hugepages 0
# 6.12's ksm_add_vma skips it; 6.1's def_flags do not
if [ -n "$native" ]; then mg=no-mg; else mg=mg; fi
t_is "a merge-any process maps a private hugetlb page ($mg)" "$(res 3)" \
	"maphuge ok $mg"
t_is "its ordinary pages merge" "$(res 4)" "merged frames=4 pages=16"
t_is "its hugetlb page is left alone, every byte intact" "$(res 6)" \
	"hugecheck ok"
t_is "and its other bytes survive copy-on-write" "$(res 7)" "cow ok"
t_ok "nothing left behind" wait_for 20 settled

# The THP matrix.
for mode in $(thp_modes); do
	thp_set "$mode"
	# shellcheck disable=SC2046 # word splitting wanted
	out=$(prctl_merge $(thp_opt "$mode") map 1024 16 thp set 1 \
		merged "$TM_SECS" fork get map 512 16 merged "$TM_SECS" cow)
	diag "THP $mode: $(printf '%s\n' "$out" | tr '\n' '|')"
	census=$(res 2)
	# shellcheck disable=SC2046 # word splitting wanted
	set -- $(echo "$census" | sed -n 's|^thp \([0-9]*\)/\([0-9]*\) folios=\([0-9]*\)$|\1 \2 \3|p')
	t_ok "THP $mode: the pages are what the mode gives ($census)" \
		thp_backed "$mode" "${1:-x}" "${2:-y}" "${3:-0}"
	t_is "THP $mode: a merge-any process's 1024 pages share 16 frames" \
		"$(res 3)/$(res 4)" "set ok/merged frames=16 pages=1024"
	t_is "THP $mode: its forked child's 512 new pages merge onto them" \
		"$(res 6)/$(res 8)" "get 1/merged frames=16 pages=1536"
	t_is "THP $mode: every byte survives copy-on-write" "$(res 9)" "cow ok"
	t_is "THP $mode: the child exited well" "$(res 5)" "fork status=0"
done
thp_restore
t_ok "nothing left behind" wait_for 20 settled

# Unload while a merge-any process lives.
dmesg_mark unload
if [ -n "$native" ]; then
	out=$(prctl_merge set 1 map 16 4 merged 60 run "echo 2 >$K/run && rmmod ksmod" get mg \
		unmerged 30 check map 16 4 mg \
		run "echo 1000 >$KK/pages_to_scan && echo 10 >$KK/sleep_millisecs && echo 1 >$KK/run" \
		merged 60 set 0 get unmerged 60 settle $KK/pages_sharing 0 60 \
		run "echo 2 >$KK/run && echo 0 >$KK/run && echo 100 >$KK/pages_to_scan && echo 20 >$KK/sleep_millisecs" \
		cow)
	diag "$(printf '%s\n' "$out" | tr '\n' '|')"
	t_is "ksmod unloads while a merge-any process lives" "$(res 4)" "run ok"
	t_is "the process is still merge-any (the kernel's KSM has it)" \
		"$(res 5)" "get 1"
	t_is "its VMAs are still mergeable" "$(res 6)" "mg all"
	t_is "but ksmod's merged pages are private again" "$(res 7)" \
		"unmerged frames=16 pages=16"
	t_is "with every byte intact" "$(res 8)" "check ok"
	t_is "a new mapping is mergeable (the kernel's ksm_add_vma)" \
		"$(res 10)" "mg all"
	t_is "the kernel's KSM merges the process" "$(res 12)" \
		"merged frames=4 pages=32"
	t_is "PR_SET_MEMORY_MERGE 0 goes to the kernel" "$(res 13)/$(res 14)" \
		"set ok/get 0"
	t_is "which unmerges it" "$(res 15)" "unmerged frames=32 pages=32"
	t_is "its pages_sharing drops to 0" "$(res 16)" "settle ok 0"
	t_is "the kernel's KSM stops" "$(res 17)" "run ok"
	t_is "every byte survives copy-on-write" "$(res 18)" "cow ok"
else
	out=$(prctl_merge set 1 map 16 4 merged 60 run "echo 2 >$K/run && rmmod ksmod" get mg \
		unmerged 30 check map 16 4 mg cow)
	diag "$(printf '%s\n' "$out" | tr '\n' '|')"
	t_is "ksmod unloads while a merge-any process lives" "$(res 4)" "run ok"
	t_is "PR_GET_MEMORY_MERGE is 6.1's again: EINVAL" "$(res 5)" "get EINVAL"
	t_is "no VMA is mergeable any more" "$(res 6)" "mg none"
	t_is "the merged pages are private again" "$(res 7)" \
		"unmerged frames=16 pages=16"
	t_is "with every byte intact" "$(res 8)" "check ok"
	t_is "a new mapping is not mergeable (def_flags cleared)" "$(res 10)" \
		"mg none"
	t_is "every byte survives copy-on-write" "$(res 11)" "cow ok"
fi
t_not "ksmod is unloaded" ksmod_loaded
t_no_dmesg "without a warning" 'ksmod: .*(cannot|could not)'

# Unload while a merge-any process forks as fast as it can: children forked
# meanwhile are cleared with it (6.1) or go to the kernel's KSM with it.
t_ok "ksmod loads again" ksmod_load run=1 pages_to_scan=1000 sleep_millisecs=10
dmesg_mark unload-fork
# The program asks once the unload has returned (it settles on the flag):
# on PREEMPT_RT an unload takes longer than its forking, and asked during
# the unload it would see ksmod's answer.
echo 1 >unloaded.flag
prctl_merge set 1 map 16 4 forkrun 4 settle unloaded.flag 0 300 \
	get mg fork mg >forkrun.out &
fpid=$!
sleep 2
t_ok "ksmod unloads while a merge-any process forks in a loop" ksmod_unload
echo 0 >unloaded.flag
wait $fpid
out=$(cat forkrun.out)
diag "$(printf '%s\n' "$out" | tr '\n' '|')"
t_match "it forked on meanwhile" "$(res 3)" '^forkrun [1-9][0-9]*$'
t_match "and asked after the unload" "$(res 4)" '^settle ok'
if [ -n "$native" ]; then
	t_is "it is merge-any still, the kernel's" "$(res 5)/$(res 6)" "get 1/mg all"
	t_is "and so is its next child" "$(res 8)" "mg all"
else
	t_is "it is plain again" "$(res 5)/$(res 6)" "get EINVAL/mg none"
	t_is "and so is its next child" "$(res 8)" "mg none"
fi
t_is "which exited well" "$(res 7)" "fork status=0"
t_no_dmesg "without a warning" 'ksmod: .*(cannot|could not)'
t_done
