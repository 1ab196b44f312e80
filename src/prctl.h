/* SPDX-License-Identifier: GPL-2.0 */
/*
 * prctl.h - prctl(PR_SET_MEMORY_MERGE): merging a whole process.
 */
#ifndef _KSMOD_PRCTL_H
#define _KSMOD_PRCTL_H

#include <linux/mm_types.h>

int ksmod_set_merge_any(struct mm_struct *mm, bool on);
int ksmod_prctl(int option, unsigned long arg2, unsigned long arg3,
		unsigned long arg4, unsigned long arg5);

#endif /* _KSMOD_PRCTL_H */
