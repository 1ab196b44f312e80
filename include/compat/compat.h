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

/* VMAs the kernel's KSM leaves alone; VM_DROPPABLE exists since 6.11. */
#ifdef VM_DROPPABLE
#define KSMOD_VM_DROPPABLE	VM_DROPPABLE
#else
#define KSMOD_VM_DROPPABLE	VM_NONE
#endif

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
	/* memory failure reads a KSM folio's stable node here (6.7+) */
	void *collect_procs_ksm;
};

#endif /* _KSMOD_COMPAT_H */
