// SPDX-License-Identifier: GPL-2.0
// ksmod-probe: KSMOD_HAVE_MMF_VM_MERGE_ANY: the kernel has prctl(PR_SET_MEMORY_MERGE) and MMF_VM_MERGE_ANY (6.4+)
#include <linux/sched/coredump.h>
#include <linux/mm_types.h>

int probe(void);
int probe(void)
{
	return MMF_VM_MERGE_ANY;
}
