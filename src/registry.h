/* SPDX-License-Identifier: GPL-2.0 */
/*
 * registry.h - which processes ksmod merges.
 */
#ifndef _KSMOD_REGISTRY_H
#define _KSMOD_REGISTRY_H

#include <linux/mm_types.h>
#include <linux/seq_file.h>

struct ksmod_query;

bool ksmod_owns(struct mm_struct *mm);
bool ksmod_takes(struct mm_struct *mm);
int ksmod_madvise(struct vm_area_struct *vma, unsigned long start,
		  unsigned long end, int advice, unsigned long *vm_flags);
bool ksmod_fork_child(struct mm_struct *mm, int *ret);
bool ksmod_mm_exit(struct mm_struct *mm);

int ksmod_register_range(pid_t pid, unsigned long start, size_t len,
			 int advice);
int ksmod_query_ranges(struct ksmod_query *q);

int ksmod_registry_init(void);
void ksmod_registry_release(void);
void ksmod_registry_exit(void);
void ksmod_registry_show(struct seq_file *m);

#endif /* _KSMOD_REGISTRY_H */
