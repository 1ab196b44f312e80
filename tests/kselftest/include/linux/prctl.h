/* SPDX-License-Identifier: GPL-2.0 */
/*
 * linux/prctl.h for the kernel's mm selftests (scripts/build-kselftests):
 * Debian 12's own header (Linux 6.1), plus the whole-process KSM options
 * of Linux 6.4, which ksmod offers on 6.1 too. <sys/prctl.h> includes
 * this file. Values as in the kernel's include/uapi/linux/prctl.h.
 */
#include_next <linux/prctl.h>

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE	67
#define PR_GET_MEMORY_MERGE	68
#endif
