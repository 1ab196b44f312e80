#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# pinned: a page that someone besides its mappers holds is not merged.
# A process of 64 identical pages, the first 8 of them held by a pipe
# (vmsplice(2): the pipe keeps a reference on each page, as direct I/O,
# RDMA or io_uring's fixed buffers would): the 56 others merge into one
# KSM page while the 8 keep their own frames, pass after pass; read out,
# the pipe gives the bytes the process wrote; then the 8 merge too. Had a
# held page been merged, the process would go on with the KSM page while
# the holder reads or writes the old one: for a device writing into it,
# data lost. Both merge paths meet held pages here: a page made the KSM
# page in place (its twin in the unstable tree) and a page mapped to a
# KSM page. The held pages come first: the first of them goes into the
# unstable tree before any twin, and must not stand between the others
# (the kernel's KSM leaves it there; ksmod got past it only by accident,
# when smart_scan skipped it in a pass that tried two of its twins, until
# smart_scan's passes were aligned: now it leaves the tree).
# Huge pages at the system's setting: 64 pages are too few for one.
# shellcheck disable=SC2154 # NAME_pid...: set by dm_start
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm

t_ok "ksmod loads, running" \
	ksmod_load run=1 pages_to_scan=1000 sleep_millisecs=0 ||
	bail "cannot load ksmod"

t_ok "A: 64 identical pages" dm_start A -n 64 -f 0x3c
t_ok "A's first 8 pages go into a pipe, unread" dm A hold 8
t_ok "A madvises them" dm A madvise
t_ok "the 56 others merge into one KSM page" wait_for 60 ksm_counts 1 55
t_ok "3 more full scans" wait_full_scans 3
t_is "A maps 9 frames: the KSM page and the 8 held pages" \
	"$(dm_frames A distinct)" 9
t_is "still 1 KSM page, 55 sharing" \
	"$(cat $K/pages_shared) $(cat $K/pages_sharing)" "1 55"
t_ok "the pipe gives the 8 pages' bytes" dm A release
t_ok "then they merge too" wait_for 60 ksm_counts 1 63
t_is "A maps 1 frame" "$(dm_frames A distinct)" 1
t_ok "every byte of A intact" dm A check
dm_stop A
t_ok "ksmod unloads" ksmod_unload
t_done
