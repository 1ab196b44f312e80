#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# realprog_redis: Debian's unmodified redis-server (jemalloc), 4 instances
# holding the same 17 MB dataset plus keys of their own, under THP
# "always" (redis turns THP off for itself once started, its disable-thp:
# the 6 MB jemalloc mapped before that are huge pages). ksmod, registered
# by pid (ksmodctl) and, in another run, through PR_SET_MEMORY_MERGE,
# saves at least half of the duplicated data and 0.95 x what the kernel's
# KSM saves on the same job (6.12), with 95% of the duplicated pages on
# shared frames (tests/prog/pagedup, on 6.1 too); every instance answers
# with exactly its data after merging, after a write load, after run=2,
# `ksmodctl unregister`, a refused rmmod (merged pages exist) and run=2 with
# rmmod; no bad page or rss-counter state.
# The steps: tests/guest/share/realprog.sh.
# ksmod-programs: redis-server
# ksmod-timeout: 520
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh
# shellcheck source=tests/guest/share/realprog.sh
. /lib/ksmod/share/realprog.sh

RP=redis RP_BIN=redis-server RP_COMM=redis-server
realprog_main
