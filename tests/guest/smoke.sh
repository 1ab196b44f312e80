#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# smoke: the guest harness itself works (no ksmod needed).
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

plan 7

t_ok "/proc is mounted" test -r /proc/self/status
t_ok "sysfs is mounted" test -d /sys/kernel/mm
t_ok "tracefs is mounted" test -r /sys/kernel/tracing/available_filter_functions

# The host passes the release it booted as ksmod.kver=.
want=$(sed -n 's/.*ksmod\.kver=\([^ ]*\).*/\1/p' /proc/cmdline)
t_is "uname -r is the kernel the host booted" "$(uname -r)" "${want:-unknown}"

dmesg_mark smoke
echo "ksmod-smoke: hello" >/dev/kmsg
t_dmesg "/dev/kmsg writes reach the kernel log after the mark" '^\[ *[0-9.]+\] ksmod-smoke: hello$'

# Any kernel file that refuses a bad word will do; the write fails, so
# the huge page setting stays the boot's (always). Without THP (the rt
# flavours) the kernel's KSM's run, which stays 0.
bad=/sys/kernel/mm/transparent_hugepage/enabled
have_thp || bad=/sys/kernel/mm/ksm/run
t_errno "a bad sysfs write fails with EINVAL" EINVAL kwrite $bad bogus

if [ -f /lib/ksmod/ksmod.ko ]; then
	# shellcheck disable=SC2016 # expanded by the inner sh
	t_ok "ksmod.ko is a module for this kernel" \
		sh -c 'modinfo -F vermagic /lib/ksmod/ksmod.ko | grep -q "^$(uname -r) "'
else
	t_skip "ksmod.ko is a module for this kernel" "no ksmod.ko in the guest"
fi

t_done
