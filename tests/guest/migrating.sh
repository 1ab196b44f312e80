#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# migrating: unmerging waits for a KSM page that is being migrated. While
# a migration is under way every pte of the page is a migration entry; the
# kernel's break_ksm() looks with FW_MIGRATION (6.12) / FOLL_MIGRATION
# (6.1), and the unshare fault waits for the migration to end. An unmerge
# that took a migration entry for "no KSM page here" would report success
# and leave the page shared in a range that is no longer mergeable.
# ksmod_test_migrate holds the migration (after the copy, ptes still
# migration entries) for 1 s, while MADV_UNMERGEABLE, then run=2, run.
# shellcheck disable=SC2154 # NAME_pid...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
P=/sys/module/ksmod_test_migrate/parameters

nodes() { dm "$1" frames | sed -n 's/.* nodes=\([0-9,]*\)$/\1/p'; }
distinct() { dm "$1" frames | sed -n 's/.* distinct=\([0-9]*\) .*/\1/p'; }
# held: the migration is being held right now
held() { [ "$(cat $P/hits)" = "$1" ]; }

t_ok "ksmod loads, running" ksmod_load run=1 pages_to_scan=1000 sleep_millisecs=10 ||
	bail "cannot load ksmod"
t_ok "A: 32 identical pages, madvised" dm_start A -m -n 32 -f 0x77
t_ok "B: 32 more of the same, madvised" dm_start B -m -n 32 -f 0x77
t_ok "they merge into one KSM page" wait_for 60 ksm_counts 1 63
# the scanner's page references would make the migration retry
kwrite $K/run 0
t_ok "ksmod_test_migrate loads (1 s, after the copy)" \
	helper_load ksmod_test_migrate func=folio_migrate_flags delay_ms=1000 max_hits=2

# 1. A's MADV_UNMERGEABLE while B moves the KSM page (B's move migrates
#    the page, which A maps too).
other=$((1 - $(nodes A)))
t_ok "B starts moving its pages to node $other" dm_send B move $other
t_ok "the migration is held" wait_for 10 held 1
t_ok "meanwhile A unmerges its range (MADV_UNMERGEABLE)" dm A unmadvise
t_match "B's move ends" "$(dm_answer B 30)" '^ok moved='
t_is "A maps a page of its own at each address" "$(distinct A)" 32
t_ok "A's bytes are intact" dm A check
t_is "B still shares one page (its range is mergeable)" "$(distinct B)" 1
t_ok "B's bytes are intact" dm B check

# 2. run=2 while B moves the KSM page back.
other=$((1 - $(nodes B)))
t_ok "B starts moving its pages to node $other" dm_send B move $other
t_ok "the migration is held again" wait_for 10 held 2
t_ok "meanwhile run=2 unmerges everything" kwrite $K/run 2
t_match "B's move ends" "$(dm_answer B 30)" '^ok moved='
t_is "B maps a page of its own at each address" "$(distinct B)" 32
t_is "no KSM page is left" "$(cat $K/pages_shared) $(cat $K/pages_sharing)" "0 0"
t_ok "B's bytes are intact" dm B check
t_ok "ksmod_test_migrate unloads" helper_unload ksmod_test_migrate
dm_stop A
dm_stop B
t_ok "ksmod unloads" ksmod_unload
t_done
