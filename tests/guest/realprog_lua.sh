#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# realprog_lua: Debian's unmodified lua5.4, a garbage-collected runtime
# (incremental collector over glibc malloc, huge pages under THP "always"),
# running tests/guest/share/kvstore.lua as 4 instances holding the same
# 17 MB dataset plus keys of their own. ksmod registered by pid (ksmctl)
# and, in another run, through PR_SET_MEMORY_MERGE saves at least half of
# the duplicated data and 0.95 x what the kernel's KSM saves on the same
# job (6.12), and every instance answers with exactly its data after
# merging, after a write load (whose old values the collector frees),
# after run=2, unregister and rmmod; no bad page or rss-counter state.
# Lua rather than python3: a 270 kB interpreter without a stdlib to ship,
# quick to start under TCG. The steps: tests/guest/share/realprog.sh.
# ksmod-programs: lua5.4
# ksmod-timeout: 400
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh
# shellcheck source=tests/guest/share/realprog.sh
. /lib/ksmod/share/realprog.sh

RP=lua RP_BIN=lua5.4 RP_COMM=lua5.4
realprog_main
