#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# realprog_lua: Debian's unmodified lua5.4, a garbage-collected runtime
# (incremental collector over glibc malloc's heap), running
# tests/guest/share/kvstore.lua as 4 instances holding the same 17 MB
# dataset plus keys of their own, under THP "always"; the write load's old
# values become garbage the collector frees. Lua rather than python3: a
# 270 kB interpreter without a stdlib to ship, quick to start under TCG.
# ksmod, registered by pid (ksmodctl) and, in another run, through
# PR_SET_MEMORY_MERGE,
# saves at least half of the duplicated data and 0.95 x what the kernel's
# KSM saves on the same job (6.12), with 95% of the duplicated pages on
# shared frames (tests/prog/pagedup, on 6.1 too); every instance answers
# with exactly its data after merging, after a write load, after run=2,
# `ksmodctl unregister`, a refused rmmod (merged pages exist) and run=2 with
# rmmod; no bad page or rss-counter state.
# The steps: tests/guest/share/realprog.sh.
# ksmod-programs: lua5.4
# ksmod-timeout: 520
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh
# shellcheck source=tests/guest/share/realprog.sh
. /lib/ksmod/share/realprog.sh

RP=lua RP_BIN=lua5.4 RP_COMM=lua5.4
realprog_main
