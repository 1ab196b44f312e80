#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# conflict: a function already redirected by another ftrace user (as a live
# patch would) cannot be hooked: the load fails with EBUSY, by name, and
# leaves nothing installed.
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

E=/sys/kernel/tracing/enabled_functions
hooked() { grep -q "^$1[[:space:]]" $E; }

t_ok "ksmod loads" ksmod_load
t_ok "do_wp_page shows in enabled_functions" hooked do_wp_page
t_ok "ksm_madvise shows in enabled_functions" hooked ksm_madvise
t_ok "ksmod unloads" ksmod_unload
t_not "do_wp_page is no longer hooked" hooked do_wp_page
t_not "ksm_madvise is no longer hooked" hooked ksm_madvise

# ksm_madvise is installed after do_wp_page: the failure must undo that one.
t_ok "a stand-in live patch claims ksm_madvise" helper_load ksmod_test_ipmodify
dmesg_mark conflict
t_errno "ksmod then refuses to load" EBUSY ksmod_load
t_dmesg "naming the function" \
	'ksmod: cannot hook ksm_madvise: another ftrace user already redirects it'
t_not "leaving nothing behind" test -e /sys/module/ksmod
t_not "not even the hook installed before it" hooked do_wp_page
t_ok "MADV_MERGEABLE still works" hookfire madvise 2
t_ok "the stand-in unloads" helper_unload ksmod_test_ipmodify

t_ok "ksmod loads once the function is free" ksmod_load
t_errno "and the stand-in cannot claim it now" EBUSY \
	helper_load ksmod_test_ipmodify
t_ok "ksmod unloads" ksmod_unload
t_done
