// SPDX-License-Identifier: GPL-2.0
/*
 * compat/symbols.c - the version-specific entries of the symbol table.
 *
 * Which name exists is decided by the compile probes (compat_autoconf.h);
 * the prototypes are checked against the kernel's headers at build time.
 */
#include "ksmod.h"

#include <linux/ksm.h>
#include <linux/mmu_notifier.h>

#include "symbols.h"

#define KSYM_COMPAT(sym, fl)	KSYM_ENTRY(sym, ksym.compat.sym, fl)

struct ksym ksmod_compat_symtab[] = {
#ifdef KSMOD_HAVE_FOLIO_RMAP_PTES
	KSYM_COMPAT(folio_add_anon_rmap_ptes, KSYM_REQUIRED | KSYM_CALLED),
	KSYM_COMPAT(folio_remove_rmap_ptes, KSYM_REQUIRED | KSYM_CALLED),
#else
	KSYM_COMPAT(page_add_anon_rmap, KSYM_REQUIRED | KSYM_CALLED),
	KSYM_COMPAT(page_remove_rmap, KSYM_REQUIRED | KSYM_CALLED),
#endif
#ifdef KSMOD_HAVE_FOLIO_WALK
	KSYM_COMPAT(folio_walk_start, KSYM_REQUIRED | KSYM_CALLED),
	KSYM_COMPAT(vma_pgtable_walk_end, KSYM_REQUIRED | KSYM_CALLED),
#else
	KSYM_COMPAT(follow_page, KSYM_REQUIRED | KSYM_CALLED),
#endif
/* without THP (Debian's rt flavours) the kernel has only an inline stub */
#if !IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE)
#elif defined(KSMOD_HAVE_SPLIT_TO_ORDER)
	KSYM_COMPAT(split_huge_page_to_list_to_order,
		    KSYM_REQUIRED | KSYM_CALLED),
#else
	KSYM_COMPAT(split_huge_page_to_list, KSYM_REQUIRED | KSYM_CALLED),
#endif
#ifdef KSMOD_HAVE_PTE_OFFSET_MAP_LOCK_FN
	KSYM_COMPAT(__pte_offset_map_lock, KSYM_REQUIRED | KSYM_CALLED),
#endif
#ifdef KSMOD_HAVE_COLLECT_PROCS_KSM
	KSYM_ENTRY_RAW(collect_procs_ksm, ksym.compat.collect_procs_ksm,
		       KSYM_REQUIRED | KSYM_HOOKED),
	/* mm/internal.h: without them, no early kill for ksmod's pages */
	KSYM_ENTRY_RAW(task_early_kill, ksym.compat.task_early_kill,
		       KSYM_CALLED),
	KSYM_ENTRY_RAW(add_to_kill_ksm, ksym.compat.add_to_kill_ksm,
		       KSYM_CALLED),
#endif
#ifdef KSMOD_HAVE_MMF_VM_MERGE_ANY
	/* the kernel's prctl calls them; ksmod calls them for the kernel's mms */
	KSYM_COMPAT(ksm_enable_merge_any,
		    KSYM_REQUIRED | KSYM_HOOKED | KSYM_CALLED),
	KSYM_COMPAT(ksm_disable_merge_any,
		    KSYM_REQUIRED | KSYM_HOOKED | KSYM_CALLED),
#else
	/* no such prctl: ksmod answers it where every prctl() passes first */
	KSYM_ENTRY_RAW(security_task_prctl, ksym.compat.security_task_prctl,
		       KSYM_REQUIRED | KSYM_HOOKED),
	/* no ksm_execve(): ksmod carries merge-any over exec here */
	KSYM_ENTRY_RAW(begin_new_exec, ksym.compat.begin_new_exec,
		       KSYM_REQUIRED | KSYM_HOOKED),
#endif
#ifdef KSMOD_HAVE_KSM_ZERO_PAGES
	KSYM_COMPAT(ksm_zero_pages, KSYM_REQUIRED | KSYM_DATA),
#endif
	KSYM_COMPAT(__mmu_notifier_invalidate_range_start,
		    KSYM_REQUIRED | KSYM_CALLED),
	KSYM_COMPAT(__mmu_notifier_invalidate_range_end,
		    KSYM_REQUIRED | KSYM_CALLED),
};

const unsigned int ksmod_nr_compat_symbols = ARRAY_SIZE(ksmod_compat_symtab);
