/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - the only place that knows how 6.1 and 6.12 differ.
 *
 * Core files call ksmod_* wrappers and use the KSMOD_COMPAT_* lists below;
 * the KSMOD_HAVE_* defines come from compile probes (scripts/compat-probe,
 * src/compat/probes/), never from LINUX_VERSION_CODE.
 */
#ifndef _KSMOD_COMPAT_H
#define _KSMOD_COMPAT_H

#include "compat_autoconf.h"

#include <linux/mm.h>
#include <linux/rmap.h>
#include <linux/huge_mm.h>
#include <linux/pagewalk.h>
#include <linux/ftrace.h>
#include <linux/mmu_notifier.h>
#include <linux/prctl.h>
#include <linux/sched/coredump.h>

/*
 * ksmod_fregs_arg() - argument @n of a hooked function, seen from an
 * ftrace callback registered without FTRACE_OPS_FL_SAVE_REGS.
 */
#ifdef KSMOD_HAVE_FTRACE_REGS_GET_ARGUMENT
#define ksmod_fregs_arg(fregs, n) ftrace_regs_get_argument(fregs, n)
#else
/* 6.1: struct ftrace_regs wraps a pt_regs with the argument registers */
#define ksmod_fregs_arg(fregs, n) regs_get_kernel_argument(&(fregs)->regs, n)
#endif

/*
 * ksmod_vm_flags_clear() - clear flags of a VMA, mmap lock held for writing
 */
static inline void ksmod_vm_flags_clear(struct vm_area_struct *vma,
					unsigned long flags)
{
#ifdef KSMOD_HAVE_VM_FLAGS_CLEAR
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/*
 * ksmod_vm_flags_set() - set flags of a VMA, mmap lock held for writing
 */
static inline void ksmod_vm_flags_set(struct vm_area_struct *vma,
				      unsigned long flags)
{
#ifdef KSMOD_HAVE_VM_FLAGS_CLEAR
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/* VMAs the kernel's KSM leaves alone; VM_DROPPABLE exists since 6.11. */
#ifdef VM_DROPPABLE
#define KSMOD_VM_DROPPABLE	VM_DROPPABLE
#else
#define KSMOD_VM_DROPPABLE	VM_NONE
#endif

/* prctl options of 6.4+; 6.1's headers lack them, ksmod answers them there */
#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE	67
#define PR_GET_MEMORY_MERGE	68
#endif

/*
 * Whole-process merging, prctl(PR_SET_MEMORY_MERGE). Kernels that have it
 * (6.4+, KSMOD_HAVE_MMF_VM_MERGE_ANY) keep it in MMF_VM_MERGE_ANY, which
 * their own code reads: the prctl itself (PR_GET_MEMORY_MERGE is answered
 * inline), mmap and brk (ksm_add_vma() marks each new VMA VM_MERGEABLE),
 * fork and exec (the bit is in MMF_INIT_MASK; ksm_execve()). ksmod sets and
 * clears that bit for the processes it owns, and the kernel does the rest.
 *
 * 6.1 has no such bit and none of that code. There ksmod puts VM_MERGEABLE
 * in the mm's def_flags, which mmap, brk and exec's stack set-up add to
 * every new VMA, as 6.12 does in ksm_add_vma() at the same moment; fork
 * and exec drop it (VM_INIT_DEF_MASK), and ksmod adds it again to the new
 * mm it registers. Unlike ksm_add_vma(), def_flags also reach VMAs KSM
 * cannot merge (shared, PFN maps, hugetlb, the vDSO): those carry
 * VM_MERGEABLE ("mg" in smaps) but ksmod skips them, see
 * ksmod_vma_mergeable(). A hook on 6.1's mmap path would see every mmap of
 * every process; a scanner that marks new VMAs later would also undo a
 * process's own MADV_UNMERGEABLE.
 */
#ifdef KSMOD_HAVE_MMF_VM_MERGE_ANY
#define KSMOD_KERNEL_MERGE_ANY	true	/* the kernel's KSM knows merge-any */
#else
#define KSMOD_KERNEL_MERGE_ANY	false
#endif

/* Make new VMAs of @mm mergeable from now on; mmap lock held for writing. */
static inline void ksmod_mm_set_merge_any(struct mm_struct *mm)
{
#ifdef KSMOD_HAVE_MMF_VM_MERGE_ANY
	set_bit(MMF_VM_MERGE_ANY, &mm->flags);
#else
	mm->def_flags |= VM_MERGEABLE;
#endif
}

/* Undo ksmod_mm_set_merge_any(); mmap lock held for writing. */
static inline void ksmod_mm_clear_merge_any(struct mm_struct *mm)
{
#ifdef KSMOD_HAVE_MMF_VM_MERGE_ANY
	clear_bit(MMF_VM_MERGE_ANY, &mm->flags);
#else
	mm->def_flags &= ~VM_MERGEABLE;
#endif
}

/* Does the kernel's own code see @mm as merge-any (false on 6.1)? */
static inline bool ksmod_mm_merge_any_bit(struct mm_struct *mm)
{
#ifdef KSMOD_HAVE_MMF_VM_MERGE_ANY
	return test_bit(MMF_VM_MERGE_ANY, &mm->flags);
#else
	return false;
#endif
}

/*
 * src/compat/mm.c: the kernel's ksm_enable_merge_any() or
 * ksm_disable_merge_any() for an mm its KSM owns; -EOPNOTSUPP where
 * !KSMOD_KERNEL_MERGE_ANY. The mmap lock is held for writing.
 */
int ksmod_kernel_set_merge_any(struct mm_struct *mm, bool on);

/**
 * struct ksmod_compat_symbols - unexported functions whose name or prototype
 * differs between the target kernels; resolved with the others (symbols.c),
 * listed in src/compat/symbols.c, and called only from src/compat/.
 */
struct ksmod_compat_symbols {
#ifdef KSMOD_HAVE_FOLIO_RMAP_PTES
	void (*folio_add_anon_rmap_ptes)(struct folio *folio, struct page *page,
					 int nr_pages,
					 struct vm_area_struct *vma,
					 unsigned long address, rmap_t flags);
	void (*folio_remove_rmap_ptes)(struct folio *folio, struct page *page,
				       int nr_pages,
				       struct vm_area_struct *vma);
#else
	void (*page_add_anon_rmap)(struct page *page,
				   struct vm_area_struct *vma,
				   unsigned long address, rmap_t flags);
	void (*page_remove_rmap)(struct page *page, struct vm_area_struct *vma,
				 bool compound);
#endif
#ifdef KSMOD_HAVE_FOLIO_WALK
	struct folio *(*folio_walk_start)(struct folio_walk *fw,
					  struct vm_area_struct *vma,
					  unsigned long addr,
					  folio_walk_flags_t flags);
	/* called by the inline folio_walk_end() */
	void (*vma_pgtable_walk_end)(struct vm_area_struct *vma);
#else
	struct page *(*follow_page)(struct vm_area_struct *vma,
				    unsigned long address,
				    unsigned int foll_flags);
#endif
#ifdef KSMOD_HAVE_SPLIT_TO_ORDER
	int (*split_huge_page_to_list_to_order)(struct page *page,
						struct list_head *list,
						unsigned int new_order);
#else
	int (*split_huge_page_to_list)(struct page *page,
				       struct list_head *list);
#endif
#ifdef KSMOD_HAVE_PTE_OFFSET_MAP_LOCK_FN
	/* 6.1's pte_offset_map_lock() is all inline */
	pte_t *(*__pte_offset_map_lock)(struct mm_struct *mm, pmd_t *pmd,
					unsigned long addr, spinlock_t **ptlp);
#endif
#ifdef KSMOD_HAVE_KSM_ZERO_PAGES
	/* the kernel's count of KSM zero pages, which core mm decrements */
	atomic_long_t *ksm_zero_pages;
#endif
	/* memory failure reads a KSM folio's stable node here (6.7+) */
	void *collect_procs_ksm;
	/* what collect_procs_ksm() calls to signal early-kill processes */
	struct task_struct *(*task_early_kill)(struct task_struct *tsk,
					       int force_early);
	void (*add_to_kill_ksm)(struct task_struct *tsk, struct page *p,
				struct vm_area_struct *vma,
				struct list_head *to_kill, unsigned long addr);
	/* prctl(PR_SET_MEMORY_MERGE) enters KSM here (6.4+) */
	int (*ksm_enable_merge_any)(struct mm_struct *mm);
	int (*ksm_disable_merge_any)(struct mm_struct *mm);
	/* 6.1: where ksmod answers the prctl, and follows exec */
	void *security_task_prctl;
	void *begin_new_exec;
	int (*__mmu_notifier_invalidate_range_start)(
		struct mmu_notifier_range *range);
#ifdef KSMOD_HAVE_MMU_NOTIFIER_END_ONE_ARG
	void (*__mmu_notifier_invalidate_range_end)(
		struct mmu_notifier_range *range);
#else
	void (*__mmu_notifier_invalidate_range_end)(
		struct mmu_notifier_range *range, bool only_end);
#endif
};

/*
 * src/compat/mm.c: the mm operations of the merge engine, one way on
 * every target kernel. The mmap lock of the VMA's mm is held.
 */
struct page *ksmod_get_anon_page(struct vm_area_struct *vma,
				 unsigned long addr);
unsigned long ksmod_skip_holes(struct mm_struct *mm, unsigned long addr,
			       unsigned long end);
struct page *ksmod_next_anon_page(struct vm_area_struct *vma,
				  unsigned long *addrp, unsigned long end);
pte_t *ksmod_pte_offset_map_lock(struct mm_struct *mm, pmd_t *pmd,
				 unsigned long addr, spinlock_t **ptlp);
void ksmod_add_anon_rmap(struct page *page, struct vm_area_struct *vma,
			 unsigned long addr);
void ksmod_remove_rmap(struct page *page, struct vm_area_struct *vma);
int ksmod_try_share_anon_rmap(struct page *page);
int ksmod_split_page(struct page *page);
void ksmod_mn_start(struct mmu_notifier_range *range, struct mm_struct *mm,
		    unsigned long start, unsigned long end);
void ksmod_mn_end(struct mmu_notifier_range *range);
struct task_struct *ksmod_task_early_kill(struct task_struct *tsk,
					  int force_early);
void ksmod_add_to_kill(struct task_struct *tsk, struct page *page,
		       struct vm_area_struct *vma, struct list_head *to_kill,
		       unsigned long addr);

/*
 * KSM zero pages (use_zero_pages=1), each kernel's way. 1: core mm marks
 * them (dirty pte) and counts them, also when it unmaps one, and
 * unmerging breaks them (6.12). 0: a clean zero-page pte, as 6.1's KSM
 * maps it; core mm counts none and calls nothing ksmod could hook where
 * it unmaps one, so ksm_zero_pages stays 0, and unmerging leaves them (6.1).
 */
#if defined(KSMOD_HAVE_KSM_ZERO_PAGES) && defined(KSMOD_HAVE_FOLIO_WALK)
#define KSMOD_KSM_ZERO_PAGES_COUNTED	1
#else
#define KSMOD_KSM_ZERO_PAGES_COUNTED	0
#endif
pte_t ksmod_map_zero_page(struct vm_area_struct *vma, unsigned long addr);
bool ksmod_ksm_page_at(struct vm_area_struct *vma, unsigned long addr);
long ksmod_mm_zero_pages(struct mm_struct *mm);
void ksmod_fork_uncount_zero_pages(struct mm_struct *mm,
				   struct mm_struct *parent);

/* a pmd read without its lock, as a whole */
static inline pmd_t ksmod_pmdp_get_lockless(pmd_t *pmdp)
{
#ifdef KSMOD_HAVE_PMDP_GET_LOCKLESS
	return pmdp_get_lockless(pmdp);
#else
	return READ_ONCE(*pmdp);
#endif
}

/* mapcount of an order-0 folio: folio_mapcount() is out of line on 6.1 */
static inline int ksmod_small_folio_mapcount(struct folio *folio)
{
	return atomic_read(&folio->page._mapcount) + 1;
}

#endif /* _KSMOD_COMPAT_H */
