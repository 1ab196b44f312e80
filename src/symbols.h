/* SPDX-License-Identifier: GPL-2.0 */
/*
 * symbols.h - the unexported kernel functions ksmod uses, resolved at load.
 */
#ifndef _KSMOD_SYMBOLS_H
#define _KSMOD_SYMBOLS_H

#include <linux/types.h>
#include <linux/seq_file.h>
#include <linux/mm_types.h>
#include <linux/rmap.h>
#include <linux/pagewalk.h>
#include <linux/swap.h>
#include <linux/ptrace.h>
#include <linux/huge_mm.h>
#include "compat.h"

/* Flags of a symbol table entry. */
#define KSYM_REQUIRED	0x1	/* the load fails without it */
#define KSYM_CALLED	0x2	/* ksmod calls it through a pointer (IBT matters) */
#define KSYM_HOOKED	0x4	/* ksmod installs an ftrace hook on it */
#define KSYM_DATA	0x8	/* a variable, not a function */

/* What a function's first instruction says about IBT (see ibt.c). */
enum ksym_entry_kind {
	KSYM_ENTRY_UNKNOWN,	/* not resolved, or unreadable */
	KSYM_ENTRY_PLAIN,	/* no ENDBR: kernel built without IBT */
	KSYM_ENTRY_ENDBR,	/* ENDBR64: a valid indirect-call target */
	KSYM_ENTRY_SEALED,	/* ENDBR poisoned at boot: indirect calls fault */
};

/**
 * struct ksym - one entry of the symbol table
 * @name:	symbol name as in /proc/kallsyms
 * @slot:	where the resolved address is stored (typed pointer in &ksym)
 * @flags:	KSYM_* flags
 * @kind:	the entry instruction's kind, filled in by ksmod_ibt_check()
 */
struct ksym {
	const char *name;
	void **slot;
	unsigned int flags;
	enum ksym_entry_kind kind;
};

/*
 * The resolved addresses. Functions ksmod calls have their kernel prototype
 * here, checked against the kernel's declaration at build time where one is
 * visible; hook targets are plain addresses.
 */
struct ksmod_symbols {
	/* hook targets: where core mm enters the kernel's KSM */
	int (*ksm_madvise)(struct vm_area_struct *vma, unsigned long start,
			   unsigned long end, int advice,
			   unsigned long *vm_flags);
	int (*__ksm_enter)(struct mm_struct *mm);
	void (*__ksm_exit)(struct mm_struct *mm);
	void *rmap_walk_ksm;
	void *folio_migrate_ksm;
	void *collect_procs_ksm;
	void *do_wp_page;
	/* changes of merge domain (domain.c) */
	void *commit_creds;
	void *cgroup_attach_task;
	void *cgroup_post_fork;

	/* called by the engine */
	int (*do_madvise)(struct mm_struct *mm, unsigned long start,
			  size_t len_in, int behavior);
	bool (*ptrace_may_access)(struct task_struct *task, unsigned int mode);
	bool (*page_vma_mapped_walk)(struct page_vma_mapped_walk *pvmw);
	pte_t (*ptep_clear_flush)(struct vm_area_struct *vma,
				  unsigned long address, pte_t *ptep);
	void (*__put_anon_vma)(struct anon_vma *anon_vma);
	struct anon_vma_chain *(*anon_vma_interval_tree_iter_first)(
		struct rb_root_cached *root, unsigned long start,
		unsigned long last);
	struct anon_vma_chain *(*anon_vma_interval_tree_iter_next)(
		struct anon_vma_chain *node, unsigned long start,
		unsigned long last);
	void (*lru_add_drain_all)(void);
	bool (*folio_free_swap)(struct folio *folio);
#ifdef CONFIG_MEMCG
	/* merge_new_page=1 charges the fresh KSM page (optional) */
	int (*__mem_cgroup_charge)(struct folio *folio, struct mm_struct *mm,
				   gfp_t gfp);
#endif
	struct ksmod_compat_symbols compat;
};

extern struct ksmod_symbols ksym;

/*
 * Table entries. KSYM_ENTRY checks at build time that the slot has the
 * type of the kernel's own declaration; KSYM_ENTRY_RAW is for hook targets
 * (plain addresses) and functions no header declares to modules.
 */
#define KSYM_ENTRY(sym, slot_, fl)					\
	{ .name = #sym, .flags = (fl),					\
	  .slot = (void **)&(slot_) +					\
		  BUILD_BUG_ON_ZERO(!__same_type(slot_, &sym)) }
#define KSYM_ENTRY_RAW(sym, slot_, fl)					\
	{ .name = #sym, .flags = (fl), .slot = (void **)&(slot_) }

/* the version-specific part of the table, src/compat/symbols.c */
extern struct ksym ksmod_compat_symtab[];
extern const unsigned int ksmod_nr_compat_symbols;

int ksmod_symbols_resolve(void);
void ksmod_symbols_show(struct seq_file *m);
struct ksym *ksmod_symbol(unsigned int i);

/* Every symbol, version-independent ones first. */
#define for_each_ksym(s, i) \
	for ((i) = 0; ((s) = ksmod_symbol(i)); (i)++)

#endif /* _KSMOD_SYMBOLS_H */
