#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# sysfs: /sys/module/ksmod/ksm/ has every file of 6.12's /sys/kernel/mm/ksm/
# (plus ksmod's cow_breaks and merge domain tunables), with the same modes,
# defaults and formats. A write gets what the kernel's file gives it: the
# same value read back, or
# the same errno (EINVAL, ERANGE), the value unchanged; where this kernel
# has the file, the kernel is asked the same and must agree.
# merge_across_nodes and max_page_sharing refuse a change with EBUSY while
# KSM pages exist. Read-only counters hold what the kernel's hold:
# general_profit is 6.12's formula. (chains.sh tests what max_page_sharing
# does.)
# shellcheck disable=SC2154 # NAME_pid...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
S=/sys/kernel/mm/ksm
O=/sys/kernel/debug/ksmod/objects
obj() { awk -v k="$1" '$1 == k { print $2 }' $O; }

RW="sleep_millisecs pages_to_scan run merge_across_nodes max_page_sharing
stable_node_chains_prune_millisecs use_zero_pages smart_scan advisor_mode
advisor_max_cpu advisor_min_pages_to_scan advisor_max_pages_to_scan
advisor_target_scan_time"
RO="pages_scanned pages_shared pages_sharing pages_unshared pages_volatile
pages_skipped ksm_zero_pages full_scans stable_node_chains stable_node_dups
general_profit"

t_ok "ksmod loads" ksmod_load || bail "cannot load ksmod"

# ksmod's own: cow_breaks, the merge domain tunables (domains.sh),
# merge_new_page (newpage.sh) and early_merge (early.sh)
OWN="merge_domain merge_domain_cgroup_level merge_zero_across_domains
merge_new_page early_merge"
t_is "the directory holds exactly the kernel's files and ksmod's own" \
	"$(ls $K | sort | tr '\n' ' ')" \
	"$(echo $RW $RO cow_breaks $OWN | tr ' ' '\n' | sort | tr '\n' ' ')"
for f in $RW $OWN; do
	t_is "$f is rw-r--r-- root" "$(stat -c '%a %U' $K/$f)" "644 root"
done
for f in $RO cow_breaks; do
	t_is "$f is r--r--r-- root" "$(stat -c '%a %U' $K/$f)" "444 root"
done
if [ -d $S ]; then
	for f in $(ls $S); do
		t_is "the kernel's $f is here with its mode" \
			"$(stat -c %a $K/$f 2>&1)" "$(stat -c %a $S/$f)"
	done
fi

# defaults: the kernel's (nothing registered, so every counter is 0)
for d in "sleep_millisecs 20" "pages_to_scan 100" "run 0" \
	 "merge_across_nodes 1" "max_page_sharing 256" \
	 "stable_node_chains_prune_millisecs 2000" "use_zero_pages 0" \
	 "smart_scan 1" "advisor_mode [none] scan-time" "advisor_max_cpu 70" \
	 "advisor_min_pages_to_scan 500" "advisor_max_pages_to_scan 30000" \
	 "advisor_target_scan_time 200"; do
	f=${d%% *}
	t_is "$f reads '${d#* }' at load" "$(cat $K/$f)" "${d#* }"
done
for f in $RO; do
	t_is "$f reads 0 with nothing registered" "$(cat $K/$f)" 0
done

# outcome FILE VALUE: "ok" and what reads back, or the error text
outcome() {
	if _oc=$(kwrite "$1" "$2" 2>&1); then
		echo "ok $(cat "$1")"
	else
		echo "${_oc##*: }"
	fi
}
expect() {
	case $1 in
	E*) errno_msg "$1" ;;
	*) echo "ok $1" ;;
	esac
}

# FILE|VALUE|EXPECTED[|NEEDS]: EXPECTED is what reads back after success
# ("~" for a space), or the errno name; the kernel is asked too where it
# has FILE (and NEEDS, a file the outcome depends on).
CASES="run|1|1 run|0|0 run|2|2 run|0|0 run|3|EINVAL run|-1|EINVAL
run|abc|EINVAL run|1x|EINVAL run|4294967296|EINVAL run||EINVAL
pages_to_scan|0|0 pages_to_scan|4294967295|4294967295 pages_to_scan|100|100
pages_to_scan|-1|EINVAL pages_to_scan|4294967296|EINVAL pages_to_scan|0x|EINVAL
pages_to_scan|ten|EINVAL
sleep_millisecs|0|0 sleep_millisecs|4294967295|4294967295
sleep_millisecs|20|20 sleep_millisecs|-1|EINVAL
sleep_millisecs|4294967296|EINVAL sleep_millisecs|1.5|EINVAL
merge_across_nodes|0|0 merge_across_nodes|1|1 merge_across_nodes|2|EINVAL
merge_across_nodes|-1|EINVAL merge_across_nodes|one|EINVAL
merge_across_nodes|4294967296|EINVAL
merge_across_nodes|99999999999999999999|ERANGE
smart_scan|0|0 smart_scan|y|1 smart_scan|n|0 smart_scan|on|1 smart_scan|off|0
smart_scan|1|1 smart_scan|2|EINVAL smart_scan|x|EINVAL smart_scan||EINVAL
use_zero_pages|0|0 use_zero_pages|n|0 use_zero_pages|off|0
use_zero_pages|2|EINVAL use_zero_pages|x|EINVAL
use_zero_pages|1|1 use_zero_pages|y|1 use_zero_pages|0|0
max_page_sharing|256|256 max_page_sharing|1|EINVAL max_page_sharing|-5|EINVAL
max_page_sharing|abc|EINVAL max_page_sharing|2147483648|ERANGE
max_page_sharing|5000|5000 max_page_sharing|2|2 max_page_sharing|256|256
stable_node_chains_prune_millisecs|1000|1000 stable_node_chains_prune_millisecs|0|0
stable_node_chains_prune_millisecs|2000|2000
stable_node_chains_prune_millisecs|-1|EINVAL
stable_node_chains_prune_millisecs|4294967296|EINVAL
advisor_mode|none|[none]~scan-time advisor_mode|foo|EINVAL
advisor_mode||EINVAL advisor_mode|nonex|EINVAL
advisor_max_cpu|70|70 advisor_max_cpu|x|EINVAL advisor_max_cpu|-1|EINVAL
advisor_min_pages_to_scan|500|500 advisor_min_pages_to_scan|5x|EINVAL
advisor_max_pages_to_scan|30000|30000 advisor_max_pages_to_scan||EINVAL
advisor_target_scan_time|200|200 advisor_target_scan_time|0|EINVAL
advisor_target_scan_time|-3|EINVAL
advisor_mode|scan-time|none~[scan-time] pages_to_scan|7|EINVAL|advisor_mode
advisor_mode|scan-time|none~[scan-time] advisor_mode|none|[none]~scan-time
pages_to_scan|100|100
advisor_max_cpu|50|50 advisor_max_cpu|70|70
advisor_min_pages_to_scan|100|100 advisor_min_pages_to_scan|500|500
advisor_max_pages_to_scan|1000|1000 advisor_max_pages_to_scan|30000|30000
advisor_target_scan_time|100|100 advisor_target_scan_time|200|200"

# The kernel's values, put back at the end (its writes have no lasting
# effect: nothing is registered with the kernel's KSM here).
saved=""
if [ -d $S ]; then
	for f in $(ls $S); do
		[ "$(stat -c %a $S/$f)" = 644 ] && [ "$f" != advisor_mode ] &&
			[ "$f" != run ] &&
			saved="$saved $f=$(cat $S/$f)"
	done
fi

IFS_SAVE=$IFS
for c in $CASES; do
	IFS='|'
	# shellcheck disable=SC2086
	set -- $c
	IFS=$IFS_SAVE
	f=$1 v=$2 e=$(echo "$3" | tr '~' ' ') need=${4:-$1}
	before=$(cat $K/$f)
	want=$(expect "$e")
	t_is "$f: '$v' gives $e" "$(outcome $K/$f "$v")" "$want"
	case $e in
	E*) t_is "$f unchanged after '$v'" "$(cat $K/$f)" "$before" ;;
	esac
	if [ -e $S/$f ] && [ -e "$S/$need" ]; then
		t_is "$f: the kernel's file agrees on '$v'" \
			"$(outcome $S/$f "$v")" "$want"
	fi
done
for f in $RO cow_breaks; do
	t_not "$f cannot be written" kwrite $K/$f 0
done
[ -e $S/advisor_mode ] && kwrite $S/advisor_mode none
for kv in $saved; do
	kwrite "$S/${kv%%=*}" "${kv#*=}"
done
[ -e $S/run ] && kwrite $S/run 0

# EBUSY while KSM pages exist; the same value is still fine.
t_ok "P: 64 identical pages, madvised" dm_start P -m -n 64 -f 0x3c
kwrite $K/pages_to_scan 1000
kwrite $K/sleep_millisecs 10
kwrite $K/run 1
merged() { [ "$(cat $K/pages_sharing)" = 63 ]; }
t_ok "P's pages merge into one" wait_for 60 merged
t_is "pages_shared is 1" "$(cat $K/pages_shared)" 1
dmesg_mark
t_errno "merge_across_nodes cannot change while merged" EBUSY \
	kwrite $K/merge_across_nodes 0
t_dmesg "dmesg says why" "ksmod: merge_across_nodes: KSM pages exist"
t_is "merge_across_nodes still 1" "$(cat $K/merge_across_nodes)" 1
t_ok "merge_across_nodes takes its own value while merged" \
	kwrite $K/merge_across_nodes 1
dmesg_mark
t_errno "max_page_sharing cannot change while merged" EBUSY \
	kwrite $K/max_page_sharing 512
t_dmesg "dmesg says why" "ksmod: max_page_sharing: KSM pages exist"
t_is "max_page_sharing still 256" "$(cat $K/max_page_sharing)" 256
t_ok "max_page_sharing takes its own value while merged" \
	kwrite $K/max_page_sharing 256

# counters, with the scanner stopped so that they hold still
kwrite $K/run 0
items=$(obj rmap_items)
t_is "general_profit = pages_sharing * 4096 - rmap items * 64" \
	"$(cat $K/general_profit)" "$((63 * 4096 - items * 64))"
t_is "pages_unshared + pages_volatile + shared + sharing = rmap items" \
	"$(($(cat $K/pages_unshared) + $(cat $K/pages_volatile) + 64))" "$items"
t_is "stable_node_chains: none for 64 pages" "$(cat $K/stable_node_chains)" 0
t_is "stable_node_dups: none for 64 pages" "$(cat $K/stable_node_dups)" 0
t_is "ksm_zero_pages stays 0" "$(cat $K/ksm_zero_pages)" 0
t_match "pages_scanned counts" "$(cat $K/pages_scanned)" '^[1-9][0-9]*$'
t_match "full_scans counts" "$(cat $K/full_scans)" '^[1-9][0-9]*$'

t_ok "run=2 unmerges" kwrite $K/run 2
t_is "pages_sharing is 0 after run=2" "$(cat $K/pages_sharing)" 0
t_ok "then merge_across_nodes can change" kwrite $K/merge_across_nodes 0
t_is "merge_across_nodes reads 0" "$(cat $K/merge_across_nodes)" 0
t_ok "and back" kwrite $K/merge_across_nodes 1
t_ok "and max_page_sharing too" kwrite $K/max_page_sharing 512
t_is "max_page_sharing reads 512" "$(cat $K/max_page_sharing)" 512
t_ok "and back" kwrite $K/max_page_sharing 256
dm_stop P

t_ok "ksmod unloads" ksmod_unload
t_done
