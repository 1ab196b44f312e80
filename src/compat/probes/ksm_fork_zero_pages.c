// SPDX-License-Identifier: GPL-2.0
// ksmod-probe: KSMOD_KSM_FORK_ADDS_ZERO_PAGES: ksm_fork() adds the child's count of KSM zero pages to the kernel's ksm_zero_pages (a 2025 fix, in Debian's 6.12.118; no API changed, so the inline's own code is the witness)
/*
 * Everything <linux/ksm.h> includes comes first, so that the macro below
 * reaches only the bodies of its own inlines: ksm_fork() is the one of
 * them that adds to an atomic_long_t. The marker function is then
 * referenced, else it is unused and -Werror fails the probe.
 */
#include <linux/bitops.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/rmap.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>

static void probe_marker(long i, atomic_long_t *v)
{
}

#define atomic_long_add(i, v)	probe_marker(i, v)
#include <linux/ksm.h>
#undef atomic_long_add
