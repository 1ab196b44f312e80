#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# register: KSMOD_IOC_REGISTER, _UNREGISTER and _QUERY (include/uapi/ksmod.h).
# A third process registers another's range as that process's own madvise
# would; the madvise rules (rounding, holes, shared maps, length 0); QUERY's
# ranges (address order, adjacent VMAs joined, capacity, nothing written
# past it); every argument check and the permission check; mprotect and
# mremap keep a range registered.
# shellcheck disable=SC2154 # NAME_pid, NAME_addr...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

PG=4096


# q PID [CAP [FLAGS]]: the QUERY answer on one line, e.g. "owner=ksmod nr=1 A-E"
q() { ksmod_reg query "$@" | tr '\n' ' ' | sed 's/ $//'; }
# hx EXPR: 64-bit shell arithmetic, printed in hex without 0x
hx() { printf '%x' $(($1)); }
reg() { ksmod_reg register "$@"; }
unreg() { ksmod_reg unregister "$@"; }
mg() { ksmod_reg mg "$@"; }

t_ok "ksmod loads" ksmod_load || bail "cannot load ksmod"

# --- A: never asked; another process registers parts of it ---------------
t_ok "a process with 16 identical pages starts, never asking for KSM" \
	dm_start A -n 16 || bail "dupmem does not start"
a2=$(hx "0x$A_addr + 2 * PG")
a4=$(hx "0x$A_addr + 4 * PG")
a5=$(hx "0x$A_addr + 5 * PG")
a8=$(hx "0x$A_addr + 8 * PG")
a10=$(hx "0x$A_addr + 10 * PG")
t_is "QUERY: it is nobody's, no range" "$(q "$A_pid")" "owner=none nr=0"
t_is "REGISTER of its first 2 pages, from another process" \
	"$(reg "$A_pid" "$A_addr" $((2 * PG)))" ok
t_is "QUERY: it is ksmod's now, with exactly those 2 pages" \
	"$(q "$A_pid")" "owner=ksmod nr=1 $A_addr-$a2"
t_is "VmFlags of those pages show mg" "$(mg "$A_pid" "$A_addr")" mg
t_is "the rest of its buffer has no mg" "$(mg "$A_pid" "$a2")" "no mg"
t_is "REGISTER with LEN 1 (rounded up to one page)" "$(reg "$A_pid" "$a4" 1)" ok
t_is "REGISTER of 2 more pages further on" \
	"$(reg "$A_pid" "$a8" "0x$(hx "2 * PG")")" ok
t_is "QUERY: 3 ranges, in address order, the LEN-1 one a whole page" \
	"$(q "$A_pid")" "owner=ksmod nr=3 $A_addr-$a2 $a4-$a5 $a8-$a10"
t_is "mg on the rounded-up page" "$(mg "$A_pid" "$a4")" mg
t_is "not on the page after it" "$(mg "$A_pid" "$a5")" "no mg"

# Capacity: nr says the full count, only CAP entries are written, the
# sentinels past CAP are untouched (ksmod_reg prints CLOBBERED otherwise).
t_is "QUERY with room for 2: nr=3, the first 2 written, nothing past them" \
	"$(q "$A_pid" 2)" "owner=ksmod nr=3 $A_addr-$a2 $a4-$a5"
t_is "QUERY with room for 1: nr=3, the first one written" \
	"$(q "$A_pid" 1)" "owner=ksmod nr=3 $A_addr-$a2"
t_is "QUERY with room for 0 (NULL array): just the count" \
	"$(q "$A_pid" 0)" "owner=ksmod nr=3"
t_is "QUERY with room for 3: all, nothing past them" \
	"$(q "$A_pid" 3)" "owner=ksmod nr=3 $A_addr-$a2 $a4-$a5 $a8-$a10"
t_is "QUERY into a bad array pointer (nr=4) is EFAULT" "$(q "$A_pid" bad)" EFAULT
t_is "QUERY with flags 1 is EINVAL" "$(q "$A_pid" 64 1)" EINVAL
t_is "QUERY with flags 0x80000000 is EINVAL" "$(q "$A_pid" 64 0x80000000)" EINVAL
t_is "QUERY of pid 0 answers for the caller (which never asked)" \
	"$(q 0)" "owner=none nr=0"

# Argument checks; none of them may change anything.
before=$(q "$A_pid")
t_is "REGISTER with flags 1 (KSMOD_RANGE_WHOLE) and a range is EINVAL" \
	"$(reg "$A_pid" "$a2" "$PG" 1)" EINVAL
t_is "UNREGISTER with flags 1 and a range is EINVAL" \
	"$(unreg "$A_pid" "$A_addr" "$PG" 1)" EINVAL
t_is "REGISTER with flags 2 is EINVAL" "$(reg "$A_pid" 0 0 2)" EINVAL
t_is "REGISTER with flags 0x80000000 is EINVAL" \
	"$(reg "$A_pid" "$a2" "$PG" 0x80000000)" EINVAL
t_is "REGISTER at an unaligned start is EINVAL" \
	"$(reg "$A_pid" "$(hx "0x$a2 + 8")" "$PG")" EINVAL
t_is "UNREGISTER at an unaligned start is EINVAL" \
	"$(unreg "$A_pid" "$(hx "0x$A_addr + 1")" "$PG")" EINVAL
t_is "REGISTER whose start + len wraps is EINVAL" \
	"$(reg "$A_pid" "$a2" 0xffffffffffff0000)" EINVAL
t_is "REGISTER at the last page with 2 pages (wraps) is EINVAL" \
	"$(reg "$A_pid" fffffffffffff000 0x2000)" EINVAL
t_is "UNREGISTER whose start + len wraps is EINVAL" \
	"$(unreg "$A_pid" "$A_addr" 0xffffffffffff0000)" EINVAL
t_is "REGISTER with len 0 succeeds" "$(reg "$A_pid" "$a2" 0)" ok
t_is "UNREGISTER with len 0 succeeds" "$(unreg "$A_pid" "$A_addr" 0)" ok
t_is "none of those changed A's ranges" "$(q "$A_pid")" "$before"
t_is "len 0 did not make its page mergeable" "$(mg "$A_pid" "$a2")" "no mg"
t_is "nor unmergeable" "$(mg "$A_pid" "$A_addr")" mg

sh -c 'exit 0' &
dead=$!
wait $dead
t_is "REGISTER on a pid that does not exist is ESRCH" \
	"$(reg "$dead" "$A_addr" "$PG")" ESRCH
t_is "UNREGISTER on a pid that does not exist is ESRCH" \
	"$(unreg "$dead" "$A_addr" "$PG")" ESRCH
t_is "QUERY on a pid that does not exist is ESRCH" "$(q "$dead")" ESRCH
t_is "REGISTER with a bad argument pointer is EFAULT" \
	"$(ksmod_reg badarg register)" EFAULT
t_is "UNREGISTER with a bad argument pointer is EFAULT" \
	"$(ksmod_reg badarg unregister)" EFAULT
t_is "QUERY with a bad argument pointer is EFAULT" "$(ksmod_reg badarg query)" EFAULT

# UNREGISTER
t_is "UNREGISTER of the first range" "$(unreg "$A_pid" "$A_addr" $((2 * PG)))" ok
t_is "QUERY no longer lists it" "$(q "$A_pid")" "owner=ksmod nr=2 $a4-$a5 $a8-$a10"
t_is "its VmFlags lose mg" "$(mg "$A_pid" "$A_addr")" "no mg"
t_is "UNREGISTER of the whole buffer" "$(unreg "$A_pid" "$A_addr" "$A_len")" ok
t_match "QUERY: no range left" "$(q "$A_pid")" '^owner=[a-z]+ nr=0$'
t_is "no mg left" "$(mg "$A_pid" "$a8")" "no mg"
t_ok "A's data went through all that intact" dm A check

# --- permissions ------------------------------------------------------------
init_vma=$(awk 'NR == 1 { print $1; exit }' /proc/1/maps)
i_start=${init_vma%-*}
i_len=$((0x${init_vma#*-} - 0x$i_start))
t_is "as uid 65534 (device opened as root), REGISTER on pid 1 is EPERM" \
	"$(ksmod_reg --as-nobody register 1 "$i_start" "$i_len")" EPERM
t_is "as uid 65534, UNREGISTER on pid 1 is EPERM" \
	"$(ksmod_reg --as-nobody unregister 1 "$i_start" "$i_len")" EPERM
t_match "as uid 65534, QUERY on pid 1 is refused" \
	"$(ksmod_reg --as-nobody query 1)" '^E[A-Z]+$'
t_is "pid 1 was not registered by any of that" "$(q 1)" "owner=none nr=0"
t_is "as uid 65534, REGISTER of its own memory (pid 0) works" \
	"$(ksmod_reg --as-nobody register 0 self $((4 * PG)) | tr '\n' ' ')" \
	"ok owner=ksmod nr=1 self "

# --- a hole: ENOMEM, the mapped parts done ----------------------------------
t_ok "a process with 4 pages, a 4-page hole, 4 pages" dm_start H -H -n 4
t_is "REGISTER across the hole is ENOMEM" "$(reg "$H_pid" "$H_addr" "$H_len")" ENOMEM
t_is "QUERY: both mapped parts are registered nonetheless" \
	"$(q "$H_pid")" "owner=ksmod nr=2 $H_addr-$H_hole $H_hole_end-$H_end"
t_is "mg before the hole" "$(mg "$H_pid" "$H_addr")" mg
t_is "mg after the hole" "$(mg "$H_pid" "$H_hole_end")" mg
t_is "the hole is still a hole" "$(mg "$H_pid" "$H_hole")" unmapped
t_is "UNREGISTER across the hole is ENOMEM" "$(unreg "$H_pid" "$H_addr" "$H_len")" ENOMEM
t_match "and both parts are unregistered" "$(q "$H_pid")" '^owner=[a-z]+ nr=0$'
t_is "no mg before the hole" "$(mg "$H_pid" "$H_addr")" "no mg"
t_is "no mg after it" "$(mg "$H_pid" "$H_hole_end")" "no mg"

# --- MAP_SHARED: skipped without error --------------------------------------
t_ok "a process with 8 MAP_SHARED anonymous pages" dm_start S -s -n 8
t_is "REGISTER of the shared range succeeds" "$(reg "$S_pid" "$S_addr" "$S_len")" ok
t_match "QUERY does not list it" "$(q "$S_pid")" '^owner=[a-z]+ nr=0$'
t_is "no mg on the shared VMA" "$(mg "$S_pid" "$S_addr")" "no mg"

# --- mprotect keeps mg; adjacent mergeable VMAs are one range ---------------
t_ok "a process with 9 pages madvises MADV_MERGEABLE" dm_start M -m -n 9
t_is "its madvise succeeded" "$M_madv" ok
t_is "QUERY: ksmod's, one range" "$(q "$M_pid")" "owner=ksmod nr=1 $M_addr-$M_end"
ans=$(dm M mprotect)
t_match "it makes the middle third read-only" "$ans" '^ok '
s1=${ans#*split1=}
s1=${s1%% *}
s2=${ans#*split2=}
t_ok "the range is three VMAs now" sh -c \
	"grep -q '^$M_addr-$s1 rw-p ' /proc/$M_pid/maps &&
	 grep -q '^$s1-$s2 r--p ' /proc/$M_pid/maps &&
	 grep -q '^$s2-$M_end rw-p ' /proc/$M_pid/maps"
t_is "mg on the first" "$(mg "$M_pid" "$M_addr")" mg
t_is "mg on the read-only one" "$(mg "$M_pid" "$s1")" mg
t_is "mg on the last" "$(mg "$M_pid" "$s2")" mg
t_is "QUERY joins the three adjacent VMAs into one range" \
	"$(q "$M_pid")" "owner=ksmod nr=1 $M_addr-$M_end"
t_ok "its data is intact" dm M check

# --- mremap moves the registration along ------------------------------------
t_ok "a process with 8 pages madvises MADV_MERGEABLE" dm_start R -m -n 8
ans=$(dm R mremap)
t_match "it moves them with mremap" "$ans" '^ok addr='
r_addr=${ans#*addr=}
r_addr=${r_addr%% *}
r_end=${ans#*end=}
t_is "mg at the new address" "$(mg "$R_pid" "$r_addr")" mg
t_is "nothing at the old one" "$(mg "$R_pid" "$R_addr")" unmapped
t_is "QUERY lists the new range only" "$(q "$R_pid")" "owner=ksmod nr=1 $r_addr-$r_end"
t_ok "its data is intact" dm R check

for p in A H S M R; do
	dm_stop $p
done
t_ok "ksmod unloads" ksmod_unload
t_done
