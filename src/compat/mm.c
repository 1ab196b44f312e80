// SPDX-License-Identifier: GPL-2.0
/*
 * compat/mm.c - mm operations that 6.1 and 6.12 spell differently.
 *
 * Everything here acts on order-0 anonymous pages mapped by one pte, the
 * only pages the merge engine touches, and runs with the mmap lock of the
 * VMA's mm held.
 */
#include "ksmod.h"

#include <linux/ksm.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/pagewalk.h>
#include <linux/rmap.h>

#include "symbols.h"

/*
 * The first address at or after @addr, below @end, whose pmd entry is not
 * empty, *@pmdp that entry; @end if none (*@pmdp NULL). An empty upper
 * table entry is skipped whole. Read without locks under the mmap lock,
 * which keeps the upper tables of a VMA's range from being freed; an
 * entry filled meanwhile is found next time. A bad upper entry stops the
 * walk there with no pmd: the caller's page lookup then decides.
 */
static unsigned long ksmod_next_pmd(struct mm_struct *mm, unsigned long addr,
				    unsigned long end, pmd_t **pmdp)
{
	*pmdp = NULL;
	while (addr < end) {
		pgd_t *pgd = pgd_offset(mm, addr), pgdval = READ_ONCE(*pgd);
		unsigned long next;
		p4d_t *p4d, p4dval;
		pud_t *pud, pudval;
		pmd_t *pmd;

		if (pgd_none(pgdval)) {
			addr = pgd_addr_end(addr, end);
			continue;
		}
		if (pgd_bad(pgdval))
			return addr;
		p4d = p4d_offset(pgd, addr);
		p4dval = READ_ONCE(*p4d);
		if (p4d_none(p4dval)) {
			addr = p4d_addr_end(addr, end);
			continue;
		}
		if (p4d_bad(p4dval))
			return addr;
		pud = pud_offset(p4d, addr);
		pudval = READ_ONCE(*pud);
		if (pud_none(pudval)) {
			addr = pud_addr_end(addr, end);
			continue;
		}
		if (pud_bad(pudval))
			return addr;
		/* the pmds of this pud's table, one after the other */
		next = pud_addr_end(addr, end);
		pmd = pmd_offset(pud, addr);
		do {
			if (!pmd_none(ksmod_pmdp_get_lockless(pmd))) {
				*pmdp = pmd;
				return addr;
			}
			addr = pmd_addr_end(addr, next);
			pmd++;
		} while (addr < next);
	}
	return end;
}

/**
 * ksmod_map_next_ptes() - the pte table of the next populated pmd
 * @mm:		the mm, its mmap lock held
 * @addrp:	in: where to start; out: the first address the table maps,
 *		else where the walk stopped
 * @end:	where to stop
 * @pmdp:	out: the pmd there; NULL when nothing is left before @end (or
 *		at a bad upper entry, see ksmod_next_pmd())
 * @ptlp:	out: the table's lock, held when a table is returned
 *
 * The three walkers below share it: empty upper tables are skipped whole,
 * and a table that went away meanwhile (6.12) is passed over.
 *
 * Return: the ptes from *@addrp on, mapped and locked; NULL when the pmd at
 * *@addrp maps no pte table (huge, or migrating) or when *@pmdp is NULL.
 */
static pte_t *ksmod_map_next_ptes(struct mm_struct *mm, unsigned long *addrp,
				  unsigned long end, pmd_t **pmdp,
				  spinlock_t **ptlp)
{
	unsigned long addr = *addrp;
	pte_t *start = NULL;
	pmd_t pmdval;

	for (;;) {
		addr = ksmod_next_pmd(mm, addr, end, pmdp);
		if (!*pmdp)
			break;
		pmdval = ksmod_pmdp_get_lockless(*pmdp);
		if (!pmd_present(pmdval) || pmd_trans_huge(pmdval))
			break;
		start = ksmod_pte_offset_map_lock(mm, *pmdp, addr, ptlp);
		if (start)
			break;
		addr = pmd_addr_end(addr, end);	/* the table went away */
	}
	*addrp = addr;
	return start;
}

/**
 * ksmod_skip_holes() - for unmerging: the next address that may map a page
 * @mm:		the mm, its mmap lock held
 * @addr:	where to start, in a VMA of @mm
 * @end:	where to stop, at most that VMA's end
 *
 * The first address at or after @addr, below @end, whose pte is not empty
 * (a page, a migration entry, a KSM zero page), or that a huge or odd pmd
 * covers; @end if none. Unmerging a sparse range then costs what is
 * populated, not what is mapped (the kernel's own unmerge still visits
 * every page).
 */
unsigned long ksmod_skip_holes(struct mm_struct *mm, unsigned long addr,
			       unsigned long end)
{
	while (addr < end) {
		unsigned long next;
		pte_t *start, *ptep;
		spinlock_t *ptl;
		pmd_t *pmd;

		start = ksmod_map_next_ptes(mm, &addr, end, &pmd, &ptl);
		if (!start)		/* the end, or a huge or odd pmd */
			return addr;
		next = pmd_addr_end(addr, end);
		for (ptep = start; addr < next; addr += PAGE_SIZE, ptep++)
			if (!pte_none(ptep_get(ptep)))
				break;
		pte_unmap_unlock(start, ptl);
		if (addr < next)
			return addr;
		cond_resched();
	}
	return end;
}

/* @page, mapped in @vma, if ksmod may merge it: referenced; else NULL. */
static struct page *ksmod_anon_page(struct page *page)
{
	struct folio *folio = page_folio(page);

	if (folio_is_zone_device(folio) || !folio_test_anon(folio))
		return NULL;
	folio_get(folio);
	return page;
}

/**
 * ksmod_next_anon_page() - for scanning: the next anonymous page in a range
 * @vma:	the VMA, its mmap lock held; not a PFN or mixed map (those
 *		are never mergeable)
 * @addrp:	in: where to start; out: the page's address (@end if none)
 * @end:	where to stop, at most the VMA's end
 *
 * The kernel's ksmd walks ranges the same way (since upstream 6.18, in
 * Debian's 6.1.192 and 6.12.118): empty upper tables are skipped whole, a
 * pte table is read under its lock and its present ptes of ordinary pages
 * looked at, a huge pmd gives the subpage at the address. A pass then
 * costs what is populated, not what is mapped, and one lookup finds the
 * page. Special ptes (the zero page) and zone device pages are skipped.
 *
 * Return: the page, referenced, or NULL.
 */
struct page *ksmod_next_anon_page(struct vm_area_struct *vma,
				  unsigned long *addrp, unsigned long end)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long addr = *addrp;
	struct page *page = NULL;

	while (addr < end) {
		unsigned long next;
		pte_t *start, *ptep;
		spinlock_t *ptl;
		pmd_t *pmd, pmdval;

		start = ksmod_map_next_ptes(mm, &addr, end, &pmd, &ptl);
		if (!pmd)
			break;
		next = pmd_addr_end(addr, end);
		if (!start) {
			pmdval = ksmod_pmdp_get_lockless(pmd);
			if (!pmd_present(pmdval)) {	/* a huge page migrating */
				addr = next;
				continue;
			}
			ptl = pmd_lock(mm, pmd);
			pmdval = *pmd;
			if (pmd_present(pmdval) && pmd_trans_huge(pmdval))
				page = ksmod_anon_page(pmd_page(pmdval) +
					((addr & ~PMD_MASK) >> PAGE_SHIFT));
			spin_unlock(ptl);
			if (page)
				break;
			if (pmd_present(pmdval) && pmd_trans_huge(pmdval))
				addr = next;	/* not an anonymous one */
			/* else split meanwhile: look at its ptes */
			continue;
		}
		for (ptep = start; addr < next; addr += PAGE_SIZE, ptep++) {
			pte_t pte = ptep_get(ptep);

			if (!pte_present(pte) || pte_special(pte) ||
			    !pfn_valid(pte_pfn(pte)))
				continue;
			page = ksmod_anon_page(pte_page(pte));
			if (page)
				break;
		}
		pte_unmap_unlock(start, ptl);
		if (page)
			break;
		cond_resched();
	}
	*addrp = page ? addr : end;
	return page;
}

/**
 * ksmod_get_anon_page() - the anonymous page mapped at @addr, referenced
 * @vma:	the VMA, its mmap lock held; not a PFN or mixed map
 * @addr:	the address
 *
 * The scanner's lookup (ksmod_next_anon_page()) at one address: a pte that
 * NUMA balancing made PROT_NONE still maps its page, which 6.1's
 * follow_page() would not say.
 *
 * Return: the page with a reference taken, or NULL when nothing, or no
 * anonymous page (zone device memory included), is mapped there.
 */
struct page *ksmod_get_anon_page(struct vm_area_struct *vma,
				 unsigned long addr)
{
	unsigned long found = addr;
	struct page *page;

	page = ksmod_next_anon_page(vma, &found, addr + PAGE_SIZE);
	return page && found == addr ? page : NULL;
}

/* pte_offset_map_lock(); NULL when the page table went away (6.12) */
pte_t *ksmod_pte_offset_map_lock(struct mm_struct *mm, pmd_t *pmd,
				 unsigned long addr, spinlock_t **ptlp)
{
#ifdef KSMOD_HAVE_PTE_OFFSET_MAP_LOCK_FN
	return ksym.compat.__pte_offset_map_lock(mm, pmd, addr, ptlp);
#else
	return pte_offset_map_lock(mm, pmd, addr, ptlp);
#endif
}

/* Account one more pte mapping @page (a KSM page) in @vma at @addr. */
void ksmod_add_anon_rmap(struct page *page, struct vm_area_struct *vma,
			 unsigned long addr)
{
#ifdef KSMOD_HAVE_FOLIO_RMAP_PTES
	ksym.compat.folio_add_anon_rmap_ptes(page_folio(page), page, 1, vma,
					     addr, RMAP_NONE);
#else
	ksym.compat.page_add_anon_rmap(page, vma, addr, RMAP_NONE);
#endif
}

/* Account one pte less mapping @page in @vma. */
void ksmod_remove_rmap(struct page *page, struct vm_area_struct *vma)
{
#ifdef KSMOD_HAVE_FOLIO_RMAP_PTES
	ksym.compat.folio_remove_rmap_ptes(page_folio(page), page, 1, vma);
#else
	ksym.compat.page_remove_rmap(page, vma, false);
#endif
}

/*
 * Clear AnonExclusive of @page, whose pte was just cleared and flushed:
 * -EBUSY if it may be pinned (GUP), then it stays exclusive.
 */
int ksmod_try_share_anon_rmap(struct page *page)
{
#ifdef KSMOD_HAVE_FOLIO_RMAP_PTES
	return folio_try_share_anon_rmap_pte(page_folio(page), page);
#else
	return page_try_share_anon_rmap(page);
#endif
}

/**
 * ksmod_split_page() - split the large folio of @page into order-0 folios
 * @page:	the page, whose folio the caller has locked and referenced
 *
 * As the kernel's KSM does, the split is asked for at @page itself: the
 * kernel's split leaves the lock and the caller's reference on the folio of
 * the page it is given, and unlocks and drops every other new folio. On
 * 6.12 it also maps zero-filled subpages to the shared zero page and frees
 * them, so @page may be unmapped afterwards (writing it protected then
 * finds nothing).
 *
 * Return: 0, @page's folio now order-0, locked and referenced; or -errno,
 * the folio unsplit, still locked and referenced.
 */
int ksmod_split_page(struct page *page)
{
#if !IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE)
	/*
	 * No THP (Debian's rt flavours): an anonymous folio is never large
	 * here, and the kernel has no split function to call.
	 */
	return -EBUSY;
#elif defined(KSMOD_HAVE_SPLIT_TO_ORDER)
	return ksym.compat.split_huge_page_to_list_to_order(page, NULL, 0);
#else
	return ksym.compat.split_huge_page_to_list(page, NULL);
#endif
}

/*
 * Tell secondary MMUs (KVM, devices) that [start, end) of @mm changes, as
 * mmu_notifier_invalidate_range_start()/_end() do inline.
 */
void ksmod_mn_start(struct mmu_notifier_range *range, struct mm_struct *mm,
		    unsigned long start, unsigned long end)
{
#ifdef KSMOD_HAVE_MMU_NOTIFIER_RANGE_INIT_MM
	mmu_notifier_range_init(range, MMU_NOTIFY_CLEAR, 0, mm, start, end);
#else
	mmu_notifier_range_init(range, MMU_NOTIFY_CLEAR, 0, NULL, mm, start,
				end);
#endif
	might_sleep();
	if (mm_has_notifiers(mm)) {
		range->flags |= MMU_NOTIFIER_RANGE_BLOCKABLE;
		ksym.compat.__mmu_notifier_invalidate_range_start(range);
	}
}

void ksmod_mn_end(struct mmu_notifier_range *range)
{
	if (!mm_has_notifiers(range->mm))
		return;
#ifdef KSMOD_HAVE_MMU_NOTIFIER_END_ONE_ARG
	ksym.compat.__mmu_notifier_invalidate_range_end(range);
#else
	ksym.compat.__mmu_notifier_invalidate_range_end(range, false);
#endif
}

/*
 * Memory failure's choice of whom to signal before touching the page
 * (PR_MCE_KILL_EARLY, vm.memory_failure_early_kill), and its list of
 * them: what the kernel's collect_procs_ksm() calls (6.7+). Without the
 * symbols, nobody is signalled early: each process gets SIGBUS when it
 * touches the page.
 */
struct task_struct *ksmod_task_early_kill(struct task_struct *tsk,
					  int force_early)
{
	if (!ksym.compat.task_early_kill || !ksym.compat.add_to_kill_ksm)
		return NULL;
	return ksym.compat.task_early_kill(tsk, force_early);
}

void ksmod_add_to_kill(struct task_struct *tsk, struct page *page,
		       struct vm_area_struct *vma, struct list_head *to_kill,
		       unsigned long addr)
{
	ksym.compat.add_to_kill_ksm(tsk, page, vma, to_kill, addr);
}

/*
 * The kernel's own prctl(PR_SET_MEMORY_MERGE) work, for an mm its KSM
 * owns; ksmod's hooks on these functions pass such mms on to here.
 */
int ksmod_kernel_set_merge_any(struct mm_struct *mm, bool on)
{
#ifdef KSMOD_HAVE_MMF_VM_MERGE_ANY
	return on ? ksym.compat.ksm_enable_merge_any(mm) :
		    ksym.compat.ksm_disable_merge_any(mm);
#else
	return -EOPNOTSUPP;
#endif
}

/*
 * One anonymous page fewer in @mm's RSS: dec_mm_counter() without its
 * tracepoint, which modules cannot call.
 */
static void ksmod_dec_anon_rss(struct mm_struct *mm)
{
#ifdef KSMOD_HAVE_RSS_STAT_PERCPU
	percpu_counter_add(&mm->rss_stat[MM_ANONPAGES], -1);
#else
	atomic_long_dec(&mm->rss_stat.count[MM_ANONPAGES]);
#endif
}

/**
 * ksmod_map_zero_page() - the pte of a KSM zero page at @addr, accounted
 * @vma:	the VMA, whose anonymous page at @addr the caller replaces
 * @addr:	the address
 *
 * As this kernel's KSM. Where core mm knows KSM zero pages
 * (KSMOD_KSM_ZERO_PAGES_COUNTED, 6.12): the zero page's pte is marked
 * dirty, which tells core mm that KSM put it there, and counted in the
 * kernel's ksm_zero_pages and the mm's; core mm takes both back when it
 * unmaps or copies the page (zap, write fault, khugepaged), and a fork
 * adds the child's. Elsewhere (6.1): a clean special pte, like any read
 * fault's zero page, and no count, as 6.1's replace_page() maps it.
 * Either way the anon page it replaces leaves the mm's RSS.
 *
 * Return: the pte to set.
 */
pte_t ksmod_map_zero_page(struct vm_area_struct *vma, unsigned long addr)
{
	pte_t pte = pte_mkspecial(pfn_pte(my_zero_pfn(addr),
					  vma->vm_page_prot));
	struct mm_struct *mm = vma->vm_mm;

	ksmod_dec_anon_rss(mm);
#if KSMOD_KSM_ZERO_PAGES_COUNTED
	atomic_long_inc(ksym.compat.ksm_zero_pages);
	atomic_long_inc(&mm->ksm_zero_pages);
	pte = pte_mkdirty(pte);
#endif
	return pte;
}

/* A KSM zero page's pte: core mm marks it dirty where it counts them */
static inline bool ksmod_is_ksm_zero_pte(pte_t pte)
{
#if KSMOD_KSM_ZERO_PAGES_COUNTED
	return is_ksm_zero_pte(pte);
#else
	return false;
#endif
}

/**
 * ksmod_ksm_page_at() - must unmerging break what @addr maps?
 * @vma:	the VMA, its mmap lock held
 * @addr:	the address
 *
 * True for an order-0 KSM page, also one under migration (the kernel's
 * break_ksm() looks with FW_MIGRATION / FOLL_MIGRATION: a migration entry
 * is still a KSM page, and the unshare fault then waits for it), and for a
 * KSM zero page where core mm marks them (6.12). 6.1's zero pages cannot be
 * told from a read fault's, and 6.1's KSM leaves them all alone: not there.
 */
bool ksmod_ksm_page_at(struct vm_area_struct *vma, unsigned long addr)
{
#ifdef KSMOD_HAVE_FOLIO_WALK
	struct folio_walk fw;
	struct folio *folio;
	bool ret = false;

	folio = ksym.compat.folio_walk_start(&fw, vma, addr,
					     FW_MIGRATION | FW_ZEROPAGE);
	if (folio) {
		/* an order-0 folio is always mapped by a pte */
		ret = !folio_test_large(folio) &&
		      (folio_test_ksm(folio) || ksmod_is_ksm_zero_pte(fw.pte));
		/* folio_walk_end(), whose last call is not exported */
		spin_unlock(fw.ptl);
		if (fw.level == FW_LEVEL_PTE)
			pte_unmap(fw.ptep);
		ksym.compat.vma_pgtable_walk_end(vma);
	}
	return ret;
#else
	struct page *page;
	bool ret;

	/*
	 * FOLL_MIGRATION: waits for a migration entry to go, then looks.
	 * FOLL_FORCE: 6.1's follow_page() passes over a pte that NUMA
	 * balancing made PROT_NONE (gup_can_follow_protnone()), and a page
	 * merged in place keeps such a pte: unmerging must break it too (6.1's
	 * own break_ksm() does not, and leaves it merged). Reading, FOLL_FORCE
	 * changes nothing else.
	 */
	page = ksym.compat.follow_page(vma, addr, FOLL_GET | FOLL_MIGRATION |
				       FOLL_REMOTE | FOLL_FORCE);
	if (IS_ERR_OR_NULL(page))
		return false;
	ret = PageKsm(page);
	put_page(page);
	return ret;
#endif
}

#if KSMOD_KSM_ZERO_PAGES_COUNTED
/* KSM zero pages that @vma's ptes map; its mmap lock held */
static long ksmod_vma_ksm_zero_ptes(struct vm_area_struct *vma)
{
	unsigned long addr = vma->vm_start, end = vma->vm_end;
	struct mm_struct *mm = vma->vm_mm;
	long nr = 0;

	while (addr < end) {
		unsigned long next;
		pte_t *start, *ptep;
		spinlock_t *ptl;
		pmd_t *pmd;

		start = ksmod_map_next_ptes(mm, &addr, end, &pmd, &ptl);
		if (!pmd)
			break;
		next = pmd_addr_end(addr, end);
		if (!start) {		/* huge or migrating: no zero page pte */
			addr = next;
			continue;
		}
		for (ptep = start; addr < next; addr += PAGE_SIZE, ptep++)
			if (is_ksm_zero_pte(ptep_get(ptep)))
				nr++;
		pte_unmap_unlock(start, ptl);
		cond_resched();
	}
	return nr;
}
#endif

/**
 * ksmod_fork_uncount_zero_pages() - take back what a fork counted but did
 * not copy
 * @mm:		the child's mm
 * @parent:	the parent's mm
 *
 * The child starts with the parent's count of KSM zero pages (dup_mm()
 * copies the mm), and 6.12.118's ksm_fork() adds it to the kernel's
 * ksm_zero_pages (KSMOD_KSM_FORK_ADDS_ZERO_PAGES). But dup_mmap() does not
 * copy VM_DONTCOPY (MADV_DONTFORK) VMAs, and copies VM_WIPEONFORK ones
 * without their ptes: the KSM zero pages there are counted in the child
 * and never unmapped from it, so the kernel's count stays too high for
 * good (the kernel's own KSM leaves it so). Counted in the parent, whose
 * mmap lock dup_mmap() holds for writing, and taken back from the child's
 * count, and from the kernel's where ksm_fork() added them. Called from the
 * child's __ksm_enter(): an exec()'s new mm (6.12's ksm_execve()) starts
 * from 0, and has nothing to take back.
 */
void ksmod_fork_uncount_zero_pages(struct mm_struct *mm,
				   struct mm_struct *parent)
{
#if KSMOD_KSM_ZERO_PAGES_COUNTED
	VMA_ITERATOR(vmi, parent, 0);
	struct vm_area_struct *vma;
	long nr = 0;

	if (atomic_long_read(&mm->ksm_zero_pages) <= 0)
		return;
	mmap_assert_write_locked(parent);
	for_each_vma(vmi, vma)
		if ((vma->vm_flags & (VM_DONTCOPY | VM_WIPEONFORK)) &&
		    vma->anon_vma)
			nr += ksmod_vma_ksm_zero_ptes(vma);
	nr = min(nr, atomic_long_read(&mm->ksm_zero_pages));
	if (!nr)
		return;
	atomic_long_sub(nr, &mm->ksm_zero_pages);
#ifdef KSMOD_KSM_FORK_ADDS_ZERO_PAGES
	atomic_long_sub(nr, ksym.compat.ksm_zero_pages);
#endif
#endif
}

/* KSM zero pages mapped in @mm: 0 where core mm does not count them (6.1) */
long ksmod_mm_zero_pages(struct mm_struct *mm)
{
#if KSMOD_KSM_ZERO_PAGES_COUNTED
	return atomic_long_read(&mm->ksm_zero_pages);
#else
	return 0;
#endif
}
