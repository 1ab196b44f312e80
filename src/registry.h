/* SPDX-License-Identifier: GPL-2.0 */
/*
 * registry.h - which processes ksmod merges.
 */
#ifndef _KSMOD_REGISTRY_H
#define _KSMOD_REGISTRY_H

#include <linux/mm_types.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

struct ksmod_mm_stats;
struct ksmod_query;
struct ksmod_rmap_item;
struct task_struct;

/**
 * struct ksmod_mm_slot - a process whose memory ksmod merges
 * @hash:	in ksmod_mm_hash, keyed by @mm
 * @list:	in ksmod_mm_list, in scan order
 * @mm:		the process's mm, pinned with mmgrab()
 * @rmap_list:	its rmap items, by address; the scanner's
 * @cow_breaks:	write faults that copied one of ksmod's KSM pages; counted
 *		by the do_wp_page hook, inside its ftrace callback (atomic,
 *		also on PREEMPT_RT), which finds the slot under RCU only
 * @rcu:	a slot is freed a grace period after it left the hash
 * @merge_any:	prctl(PR_SET_MEMORY_MERGE) is on: every VMA is mergeable,
 *		new ones too; changed under the mm's mmap write lock
 * @domain:	its merge domain key when the scanner last entered it
 *		(domain.h); written by the scanner under ksmod_mm_lock
 * @tag:	its merge domain tag (KSMOD_IOC_SET_TAG), its parent's at fork
 *		and exec; under ksmod_mm_lock
 * @by_cgroup:	registered for a followed cgroup (follow.c), or a child of
 *		one: moved out of every followed cgroup, it is unregistered;
 *		under ksmod_mm_lock
 */
struct ksmod_mm_slot {
	struct hlist_node hash;
	struct list_head list;
	struct mm_struct *mm;
	struct ksmod_rmap_item *rmap_list;
	atomic_long_t cow_breaks;
	struct rcu_head rcu;
	bool merge_any;
	u64 domain;
	u64 tag;
	bool by_cgroup;
};

extern spinlock_t ksmod_mm_lock;
extern struct list_head ksmod_mm_list;
extern struct ksmod_mm_slot *ksmod_scan_slot;

struct ksmod_mm_slot *ksmod_mm_slot_find(struct mm_struct *mm);
void ksmod_registry_for_each(void (*fn)(struct ksmod_mm_slot *, void *),
			     void *arg);
int ksmod_task_whole(struct task_struct *task, bool on, bool check,
		     bool by_cgroup);
void ksmod_mm_slot_unlink(struct ksmod_mm_slot *slot);
void ksmod_mm_slot_free(struct ksmod_mm_slot *slot);
void ksmod_mm_slot_free_items(struct ksmod_mm_slot *slot);
int ksmod_unmerge_mm(struct mm_struct *mm);

bool ksmod_owns(struct mm_struct *mm);
bool ksmod_takes(struct mm_struct *mm);
int ksmod_madvise(struct vm_area_struct *vma, unsigned long start,
		  unsigned long end, int advice, unsigned long *vm_flags);
bool ksmod_fork_child(struct mm_struct *mm, int *ret);
int ksmod_exec_child(struct mm_struct *mm);
bool ksmod_vma_compatible(struct vm_area_struct *vma, unsigned long vm_flags);
bool ksmod_vma_mergeable(struct vm_area_struct *vma);

int ksmod_enable_merge_any(struct mm_struct *mm);
int ksmod_disable_merge_any(struct mm_struct *mm);
bool ksmod_mm_merge_any(struct mm_struct *mm);
bool ksmod_mm_exit(struct mm_struct *mm);

int ksmod_register_range(pid_t pid, unsigned long start, size_t len,
			 int advice);
int ksmod_register_whole(pid_t pid, bool on);
int ksmod_query_ranges(struct ksmod_query *q);
void ksmod_count_cow_break(struct mm_struct *mm);
u64 ksmod_mm_domain(struct mm_struct *mm);
int ksmod_set_tag(pid_t pid, u64 tag);
void ksmod_set_slot_domain(struct ksmod_mm_slot *slot, u64 domain);
void ksmod_reset_slot_domains(void);
int ksmod_registry_domain_items(struct xarray *xa);
int ksmod_query_stats(struct ksmod_mm_stats *st);

int ksmod_registry_init(void);
void ksmod_registry_release(void);
void ksmod_registry_exit(void);
void ksmod_registry_show(struct seq_file *m);

#endif /* _KSMOD_REGISTRY_H */
