#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# metrics: ksmodctl metrics is valid Prometheus text and tells the truth.
# The validator first proves itself: promcheck -t must take its good
# examples and refuse each bad one at its line. Without the module:
# ksmod_up 0 and nothing else, exit 3 as every other command. With two
# processes' pages merged and a few copied again (cow_breaks), the
# scanner stopped (run=0) so that nothing moves: the output passes
# promcheck; every file of /sys/module/ksmod/ksm is its metric under the
# stable name of the table below (none left to ksmod_sysfs_value, no
# other family but ksmod_up, ksmod_info and ksmod_page_size_bytes), of
# the type the table says, with the value the file holds at that moment
# (converted where the name says _seconds or _ratio); ksmod_info carries
# the module's release and ABI. Two calls, the second while the scanner
# runs and the values change, give the same lines but for the values, in
# the same order. A user who may not open /dev/ksmod gets valid output
# too, with abi "unknown".
# shellcheck disable=SC2154 # NAME_pid, NAME_addr...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
KO=/lib/ksmod/ksmod.ko
N=64
M1=/tmp/metrics1.prom
M2=/tmp/metrics2.prom

# The contract: file, metric name after "ksmod_", decimals the value is
# shifted by (- for a list of modes), type.
NAMES='run run 0 gauge
pages_to_scan pages_to_scan 0 gauge
sleep_millisecs sleep_seconds 3 gauge
merge_across_nodes merge_across_nodes 0 gauge
use_zero_pages use_zero_pages 0 gauge
max_page_sharing max_page_sharing 0 gauge
stable_node_chains_prune_millisecs stable_node_chains_prune_seconds 3 gauge
smart_scan smart_scan 0 gauge
advisor_mode advisor_mode - gauge
advisor_max_cpu advisor_max_cpu_ratio 2 gauge
advisor_min_pages_to_scan advisor_min_pages_to_scan 0 gauge
advisor_max_pages_to_scan advisor_max_pages_to_scan 0 gauge
advisor_target_scan_time advisor_target_scan_time_seconds 0 gauge
pages_shared pages_shared 0 gauge
pages_sharing pages_sharing 0 gauge
pages_unshared pages_unshared 0 gauge
pages_volatile pages_volatile 0 gauge
pages_skipped pages_skipped_total 0 counter
ksm_zero_pages ksm_zero_pages 0 gauge
stable_node_chains stable_node_chains 0 gauge
stable_node_dups stable_node_dups 0 gauge
general_profit general_profit_bytes 0 gauge
pages_scanned pages_scanned_total 0 counter
full_scans full_scans_total 0 counter
cow_breaks cow_breaks_total 0 counter
merge_domain merge_domain - gauge
merge_domain_cgroup_level merge_domain_cgroup_level 0 gauge
merge_zero_across_domains merge_zero_across_domains 0 gauge
merge_new_page merge_new_page 0 gauge
early_merge early_merge 0 gauge'

rc() {
	"$@" >/dev/null 2>&1
	echo $?
}
check_file() { promcheck <"$1"; }
sharing_reaches() { [ "$(cat $K/pages_sharing)" -ge "$1" ]; }
# every file of $K with its value, one a line
snapshot() {
	for f in "$K"/*; do
		echo "${f##*/} $(cat "$f")"
	done
}
# the value of the sample $2 (name and labels) in file $1
sample() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
# the sample lines of file $1 without their values, then its comments
shape() {
	grep -v '^#' "$1" | sed 's/ [^ ]*$//'
	grep '^#' "$1"
}
# unshift DECIMAL N: DECIMAL times 10^N, an integer, exactly (as strings)
unshift() {
	awk -v g="$1" -v s="$2" 'BEGIN {
		n = index(g, "."); i = g; f = ""
		if (n) { i = substr(g, 1, n - 1); f = substr(g, n + 1) }
		if (length(f) > s) { print "?"; exit }
		while (length(f) < s) f = f "0"
		r = i f; sub(/^0+/, "", r); if (r == "") r = "0"
		print r }'
}
as_nobody() { su -s /bin/sh -c "$*" nobody; }

t_ok "promcheck -t: the validator takes the good and refuses the bad" \
	promcheck -t

# --- not loaded ---------------------------------------------------------------
ksmod_loaded && bail "ksmod is loaded before the test"
t_is "metrics without the module: 3, as the other commands" \
	"$(rc ksmodctl metrics)" 3
ksmodctl metrics >$M1 2>/tmp/metrics.err
t_is "only ksmod_up 0" "$(grep -v '^#' $M1)" "ksmod_up 0"
t_match "with its HELP and TYPE" "$(cat $M1)" '^# TYPE ksmod_up gauge$'
t_ok "valid" check_file $M1
t_match "saying why on stderr" "$(cat /tmp/metrics.err)" \
	'ksmod is not loaded'
t_is "metrics with an argument: usage (2)" "$(rc ksmodctl metrics x)" 2
t_is "--json metrics: usage (2)" "$(rc ksmodctl --json metrics)" 2
t_match "help lists metrics" "$(ksmodctl help)" '^  metrics '

# --- loaded, pages merged, scanner stopped --------------------------------------
t_ok "ksmod loads" ksmod_load run=1 pages_to_scan=1000 sleep_millisecs=10 ||
	bail "ksmod does not load"
t_ok "A madvises $N identical pages" dm_start A -m -n $N ||
	bail "dupmem does not start"
t_ok "B too" dm_start B -m -n $N || bail "dupmem does not start"
t_ok "they merge" wait_for 60 sharing_reaches $((2 * N - 1))
kwrite $K/run 0
t_ok "A writes to 5 of its merged pages (cow_breaks)" dm A touch 5

before=$(snapshot)
ksmodctl metrics >$M1
t_is "metrics: exit 0" $? 0
after=$(snapshot)
t_is "the sysfs files held still around the call (run=0)" "$after" "$before"
t_ok "the output passes promcheck" check_file $M1
diag_file $M1

t_is "ksmod_up 1" "$(sample $M1 ksmod_up)" 1
release=$(modinfo -F version $KO)
t_is "ksmod_info: release and ABI" \
	"$(sample $M1 "ksmod_info{version=\"$release\",abi=\"1.4\"}")" 1
t_is "ksmod_page_size_bytes" "$(sample $M1 ksmod_page_size_bytes)" 4096
t_is "cow_breaks as counted: 5" "$(sample $M1 ksmod_cow_breaks_total)" 5
t_is "pages_sharing as merged" "$(sample $M1 ksmod_pages_sharing)" \
	"$(cat $K/pages_sharing)"
t_match "sleep_millisecs 10 is 0.01 s" "$(sample $M1 ksmod_sleep_seconds)" \
	'^0\.01$'

# Every file: its name, its type, the value it holds.
bad=""
for f in "$K"/*; do
	file=${f##*/}
	val=$(cat "$f")
	# shellcheck disable=SC2046 # split the table row
	set -- $(echo "$NAMES" | awk -v f="$file" '$1 == f')
	if [ $# -ne 4 ]; then
		bad="$bad $file:not-in-the-table"
		continue
	fi
	m=ksmod_$2
	type=$(awk -v m="$m" '$1 == "#" && $2 == "TYPE" && $3 == m { print $4 }' $M1)
	[ "$type" = "$4" ] || bad="$bad $file:type=$type"
	if [ "$3" = - ]; then
		for w in $val; do
			want=0
			case $w in \[*) want=1 ;; esac
			w=$(echo "$w" | tr -d '[]')
			got=$(sample $M1 "$m{mode=\"$w\"}")
			[ "$got" = "$want" ] || bad="$bad $file:$w=$got"
		done
		continue
	fi
	got=$(sample $M1 "$m")
	[ "$(unshift "$got" "$3")" = "$val" ] ||
		bad="$bad $file:$got!=$val/10^$3"
done
t_is "every file of $K: its name, type and value" "$bad" ""
t_is "no file left to ksmod_sysfs_value" \
	"$(grep -c '^ksmod_sysfs_value' $M1)" 0
t_is "one family per file, plus up, info, page size and 4 per domain" \
	"$(grep -c '^# TYPE ' $M1)" $(($(ls $K | wc -l) + 7))
# merge_domain global: one domain, all:0, with the module's totals
t_is "the one merge domain, all:0: pages_sharing as sysfs" \
	"$(sample $M1 'ksmod_domain_pages_sharing{domain="all:0"}')" \
	"$(cat $K/pages_sharing)"
t_is "and pages_shared" \
	"$(sample $M1 'ksmod_domain_pages_shared{domain="all:0"}')" \
	"$(cat $K/pages_shared)"

# --- stable across calls ------------------------------------------------------
kwrite $K/run 1
sleep 1
ksmodctl metrics >$M2
t_ok "a second call, the scanner running: valid" check_file $M2
t_ok "and the values moved (pages_scanned)" \
	test "$(sample $M2 ksmod_pages_scanned_total)" -gt \
	"$(sample $M1 ksmod_pages_scanned_total)"
t_is "same names and labels, same order" "$(shape $M2)" "$(shape $M1)"

# --- a user without /dev/ksmod ----------------------------------------------------
have_nobody
grep -q '^nogroup:' /etc/group || echo 'nogroup:x:65534:' >>/etc/group
as_nobody "ksmodctl metrics" >$M2
t_is "a user: metrics works (sysfs is readable)" $? 0
t_ok "valid" check_file $M2
t_is "ksmod_info with abi unknown" \
	"$(sample $M2 "ksmod_info{version=\"$release\",abi=\"unknown\"}")" 1

# --- unloaded again ---------------------------------------------------------------
dm_stop A
dm_stop B
t_ok "ksmod unloads" ksmod_unload
t_is "metrics: 3 again" "$(rc ksmodctl metrics)" 3
t_is "ksmod_up 0 alone" "$(ksmodctl metrics 2>/dev/null | grep -v '^#')" \
	"ksmod_up 0"
t_done
