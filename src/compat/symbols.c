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
#ifdef KSMOD_HAVE_SPLIT_TO_ORDER
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
