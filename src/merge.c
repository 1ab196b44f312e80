// SPDX-License-Identifier: GPL-2.0
/*
 * merge.c - merge identical pages into one write-protected KSM page.
 *
 * Two ordinary anonymous pages with the same content become one KSM page
 * without allocating: the first is write-protected and upgraded in place,
 * under its page lock, into the KSM page (it keeps its memcg charge); the
 * other pte is then pointed at it and the second page freed. Later
 * duplicates are pointed at the existing KSM page the same way: their
 * pte is cleared, the page compared and the pte set to the KSM page, all
 * under one hold of the pte lock (the kernel write-protects, compares,
 * then replaces: two walks and two TLB flushes).
 *
 * Both clear the pte and flush the TLB before checking that nobody else
 * holds the page (mapcount + our references + swap cache == refcount),
 * so that a GUP pin taken for O_DIRECT or RDMA is never followed by a
 * merge under it; AnonExclusive is cleared the same way, and secondary
 * MMUs are told through mmu-notifier invalidation.
 *
 * With merge_new_page=1 the first merge of two pages copies their content
 * into a freshly allocated page instead (charged to the memcg of the
 * process whose page is being scanned, on the node of its page), and
 * both ptes are pointed at that: no process chooses, by what it mapped
 * where, the physical page the others will share (a Flip Feng Shui
 * attacker's aim). It costs one allocation and one copy per KSM page.
 *
 * With use_zero_pages=1, a page of zeroes is not merged with its like but
 * replaced by the zero page, marked and counted as the kernel's KSM does
 * (compat/mm.c: on 6.12 a dirty, counted pte; on 6.1 a plain one that
 * nobody counts), and belongs to no tree.
 *
 * Breaking a merge is the kernel's: a write fault on a KSM page or a zero
 * page always copies, and unmerging faults in an unshared copy of each KSM
 * page and (6.12) each KSM zero page; 6.1's KSM, and so ksmod there,
 * leaves zero pages mapped, like those of any read fault.
 *
 * Locking: called by the scanner with ksmod_thread_mutex held; takes the
 * mmap lock of the item's mm for reading, then the page lock (trylock),
 * then the page table lock.
 */
#include "ksmod.h"

#include <linux/highmem.h>
#include <linux/mm_inline.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/pagemap.h>
#include <linux/rmap.h>
#include <linux/swap.h>
#include <linux/xxhash.h>

#include "merge.h"
#include "registry.h"
#include "rmap.h"
#include "scan.h"
#include "stable_tree.h"
#include "symbols.h"

unsigned int ksmod_merge_new_page;
module_param_named(merge_new_page, ksmod_merge_new_page, uint, 0);
MODULE_PARM_DESC(merge_new_page,
		 "value of ksm/merge_new_page at load (default 0)");

/* Can a fresh KSM page be charged as the kernel charges an anon page? */
static bool ksmod_can_charge(void)
{
#ifdef CONFIG_MEMCG
	return mem_cgroup_disabled() || ksym.__mem_cgroup_charge;
#else
	return true;
#endif
}

/**
 * ksmod_set_merge_new_page() - the merge_new_page tunable
 * @on:	0 or 1
 *
 * KSM pages merged in place before it was set stay where they are (run=2
 * then run=1 re-merges them all into fresh pages).
 *
 * Return: 0, or -EOPNOTSUPP when the kernel's charge function was not
 * found (memory cgroups on).
 */
int ksmod_set_merge_new_page(unsigned long on)
{
	if (on && !ksmod_can_charge())
		return -EOPNOTSUPP;
	WRITE_ONCE(ksmod_merge_new_page, !!on);
	return 0;
}

/* xxhash, as the kernel's KSM: several times cheaper per page than jhash2 */
u32 ksmod_checksum(struct page *page)
{
	void *addr = kmap_local_page(page);
	u32 sum = xxhash(addr, PAGE_SIZE, 0);

	kunmap_local(addr);
	return sum;
}

/*
 * memcmp() of @len bytes, a multiple of 64, at two 8-byte aligned
 * addresses. lib/string.c's memcmp() takes a word at a time with a test
 * and branch for each (about 8 instructions per word: 34 us a page under
 * make bench's instruction count, a fifth of the scanner's time); this
 * looks for the first 64 bytes that differ, their eight words folded into
 * one test, and lets memcmp() order those alone. Nearly all compares are
 * of equal bytes (the merge's, the search's last one).
 */
static int ksmod_memcmp_blocks(const void *a, const void *b, size_t len)
{
	const u64 *x = a, *y = b;
	size_t i;

	for (i = 0; i < len / sizeof(u64); i += 8) {
		if ((x[i] ^ y[i]) | (x[i + 1] ^ y[i + 1]) |
		    (x[i + 2] ^ y[i + 2]) | (x[i + 3] ^ y[i + 3]) |
		    (x[i + 4] ^ y[i + 4]) | (x[i + 5] ^ y[i + 5]) |
		    (x[i + 6] ^ y[i + 6]) | (x[i + 7] ^ y[i + 7]))
			return memcmp(x + i, y + i, 8 * sizeof(u64));
	}
	return 0;
}

/* memcmp() of the first @len bytes of two pages, @len a multiple of 64 */
int ksmod_memcmp_page_start(struct page *a, struct page *b, size_t len)
{
	char *va = kmap_local_page(a), *vb = kmap_local_page(b);
	int ret = ksmod_memcmp_blocks(va, vb, len);

	kunmap_local(vb);
	kunmap_local(va);
	return ret;
}

/* memcmp() of two pages' contents: the order of both trees */
int ksmod_memcmp_pages(struct page *a, struct page *b)
{
	return ksmod_memcmp_page_start(a, b, PAGE_SIZE);
}

/* The VMA at @addr if ksmod may merge there; mmap lock held. */
static struct vm_area_struct *ksmod_mergeable_vma(struct mm_struct *mm,
						 unsigned long addr)
{
	struct vm_area_struct *vma;

	if (!atomic_read(&mm->mm_users))	/* exiting */
		return NULL;
	vma = vma_lookup(mm, addr);
	/*
	 * VM_LOCKED is no reason to skip, as in the kernel's KSM: the rmap
	 * calls that map the KSM page mlock it, those that unmap a page
	 * munlock it.
	 */
	if (!vma || !ksmod_vma_mergeable(vma) || !vma->anon_vma)
		return NULL;
	return vma;
}

/*
 * DEFINE_FOLIO_VMA_WALK() for @folio at @addr of @vma, but for
 * folio_pgoff(), whose hugetlb branch needs an unexported function on
 * 6.1; never hugetlb here
 */
static void ksmod_walk_init(struct page_vma_mapped_walk *pvmw,
			    struct folio *folio, struct vm_area_struct *vma,
			    unsigned long addr)
{
	*pvmw = (struct page_vma_mapped_walk) {
		.pfn = folio_pfn(folio),
		.nr_pages = 1,
		.pgoff = folio->index,
		.vma = vma,
		.address = addr,
	};
}

/*
 * Clear and flush the pte that @pvmw found and locked, into *@entry, then
 * check that nobody holds @folio but its mappers, us and the swap cache: a
 * GUP pin taken for O_DIRECT or RDMA holds a reference no pte shows, and
 * with the pte clear lockless GUP can take no new one. False when someone
 * does: the pte is set back.
 */
static bool ksmod_clear_unheld(struct page_vma_mapped_walk *pvmw,
			       struct folio *folio, pte_t *entry)
{
	struct vm_area_struct *vma = pvmw->vma;
	int swapped = folio_test_swapcache(folio);

	flush_cache_page(vma, pvmw->address, folio_pfn(folio));
	*entry = ksym.ptep_clear_flush(vma, pvmw->address, pvmw->pte);
	if (ksmod_small_folio_mapcount(folio) + 1 + swapped ==
	    folio_ref_count(folio))
		return true;
	set_pte_at(vma->vm_mm, pvmw->address, pvmw->pte, *entry);
	return false;
}

/*
 * Write-protect @folio's pte at @addr, as the kernel's write_protect_page(),
 * for the page to become a KSM page in place. The folio is locked.
 */
static int ksmod_write_protect(struct vm_area_struct *vma, struct folio *folio,
			       unsigned long addr)
{
	struct page_vma_mapped_walk pvmw;
	struct mm_struct *mm = vma->vm_mm;
	struct mmu_notifier_range range;
	bool anon_exclusive;
	int err = -EFAULT;
	pte_t entry;

	ksmod_walk_init(&pvmw, folio, vma, addr);
	ksmod_mn_start(&range, mm, addr, addr + PAGE_SIZE);
	if (!ksym.page_vma_mapped_walk(&pvmw))
		goto out_mn;
	if (!pvmw.pte)
		goto out_unlock;	/* mapped by a PMD */

	anon_exclusive = PageAnonExclusive(&folio->page);
	entry = ptep_get(pvmw.pte);
	if (pte_write(entry) || pte_dirty(entry) || anon_exclusive ||
	    mm_tlb_flush_pending(mm)) {
		if (!ksmod_clear_unheld(&pvmw, folio, &entry))
			goto out_unlock;
		if (anon_exclusive && ksmod_try_share_anon_rmap(&folio->page)) {
			set_pte_at(mm, addr, pvmw.pte, entry);
			goto out_unlock;
		}
		if (pte_dirty(entry))
			folio_mark_dirty(folio);
		entry = pte_mkclean(pte_wrprotect(entry));
		set_pte_at(mm, addr, pvmw.pte, entry);
	}
	err = 0;
out_unlock:
	page_vma_mapped_walk_done(&pvmw);
out_mn:
	ksmod_mn_end(&range);
	return err;
}

/*
 * Map @kpage at @addr instead of @folio's page if both hold the same
 * bytes: the kernel's write_protect_page(), pages_identical() and
 * replace_page() in one hold of the pte lock. The kernel write-protects
 * the pte and flushes it, unlocks, compares, locks again, checks the pte
 * is unchanged, clears and flushes it once more and maps @kpage. Here the
 * pte is cleared and flushed once (one page-table walk, one TLB flush,
 * one notifier range instead of two): with it clear and its lock held,
 * nobody can write the page (no CPU maps it; the reference count check
 * rules out GUP and DMA, as the kernel's), so the compare holds until the
 * pte is set again, to @kpage, or to its old value when the bytes differ
 * (the kernel leaves that page write-protected: one write fault more).
 * Meanwhile a fault at @addr waits for the pte lock and finds the pte set
 * (do_anonymous_page() checks it, userfaultfd's missing mode included,
 * under the lock); lockless GUP finds no pte and takes the fault path;
 * rmap walkers and zaps take the lock. The kernel's condition for
 * write-protecting (writable, dirty, exclusive or a flush pending) is not
 * needed: the pte is always cleared, as its replace_page() does, so the
 * reference count is always checked (stricter than the kernel for a
 * read-only page, which it merges even while someone holds it). The folio
 * is locked and order 0.
 *
 * Return: 0 when replaced; -EAGAIN when the bytes differ; -EFAULT when
 * the page is no longer mapped there or may be pinned.
 */
static int ksmod_replace_same(struct vm_area_struct *vma, struct folio *folio,
			      struct page *kpage, unsigned long addr)
{
	struct page_vma_mapped_walk pvmw;
	struct folio *kfolio = page_folio(kpage);
	struct page *page = &folio->page;
	struct mm_struct *mm = vma->vm_mm;
	struct mmu_notifier_range range;
	bool anon_exclusive;
	int err = -EFAULT;
	pte_t entry, newpte;

	ksmod_walk_init(&pvmw, folio, vma, addr);
	ksmod_mn_start(&range, mm, addr, addr + PAGE_SIZE);
	if (!ksym.page_vma_mapped_walk(&pvmw))
		goto out_mn;
	if (!pvmw.pte)
		goto out_unlock;	/* mapped by a PMD */

	anon_exclusive = PageAnonExclusive(page);
	if (!ksmod_clear_unheld(&pvmw, folio, &entry))
		goto out_unlock;
	if (ksmod_memcmp_pages(page, kpage)) {
		err = -EAGAIN;
		goto restore;
	}
	/* as write_protect_page(): fails when the page may be pinned */
	if (anon_exclusive && ksmod_try_share_anon_rmap(page))
		goto restore;

	if (is_zero_pfn(page_to_pfn(kpage))) {
		newpte = ksmod_map_zero_page(vma, addr);
	} else {
		folio_get(kfolio);
		ksmod_add_anon_rmap(kpage, vma, addr);
		newpte = mk_pte(kpage, vma->vm_page_prot);
	}
	/* keep soft-dirty, as 6.12's KSM does (tracking tools read it) */
	if (pte_soft_dirty(entry))
		newpte = pte_mksoft_dirty(newpte);
	set_pte_at(mm, addr, pvmw.pte, newpte);

	/*
	 * write_protect_page() moves a dirty bit to the folio: it matters
	 * if the folio stays in swap cache for other mappers
	 */
	if (pte_dirty(entry))
		folio_mark_dirty(folio);
	ksmod_remove_rmap(page, vma);
	/* a page now mapped nowhere need not keep its swap slot */
	if (!folio_mapped(folio))
		ksym.folio_free_swap(folio);
	folio_put(folio);
	err = 0;
	goto out_unlock;
restore:
	set_pte_at(mm, addr, pvmw.pte, entry);
out_unlock:
	page_vma_mapped_walk_done(&pvmw);
out_mn:
	ksmod_mn_end(&range);
	return err;
}

/*
 * Merge @page, mapped at @addr in @vma, into @kpage; with no @kpage,
 * upgrade @page itself into a KSM page (no node yet).
 */
static int ksmod_merge_one_page(struct vm_area_struct *vma, struct page *page,
				unsigned long addr, struct page *kpage)
{
	struct folio *folio = page_folio(page);
	int err = -EFAULT;

	if (page == kpage)
		return 0;
	if (!folio_test_anon(folio))
		return err;
	/* the lock keeps PageSwapCache stable in write-protecting */
	if (!folio_trylock(folio))
		return err;
	if (folio_test_large(folio)) {
		/*
		 * As the kernel's KSM: split at @page, which keeps the lock
		 * and our reference on @page's new folio, not on the head's.
		 */
		if (ksmod_split_page(page))
			goto out_unlock;
		folio = page_folio(page);
	}
	if (kpage) {
		err = ksmod_replace_same(vma, folio, kpage, addr);
	} else if (!ksmod_write_protect(vma, folio, addr)) {
		ksmod_folio_set_node(folio, NULL);
		folio_mark_accessed(folio);
		folio_set_dirty(folio);
		err = 0;
	}
out_unlock:
	folio_unlock(folio);
	return err;
}

/**
 * ksmod_merge_with_ksm_page() - merge @item's @page into @kpage
 * @item:	the page's rmap item, in no tree or in the unstable tree
 *		(which it leaves on success)
 * @page:	the page, referenced
 * @kpage:	a KSM page, referenced, or NULL to upgrade @page in place
 *
 * On success @item holds a reference on the VMA's anon_vma and the page's
 * linear index, ready for ksmod_stable_append().
 *
 * Return: 0; -EAGAIN when @page differs from @kpage (looked at with its
 * pte cleared); -EFAULT when it could not be merged otherwise.
 */
int ksmod_merge_with_ksm_page(struct ksmod_rmap_item *item, struct page *page,
			      struct page *kpage)
{
	struct mm_struct *mm = item->mm;
	unsigned long addr = ksmod_rmap_addr(item);
	struct vm_area_struct *vma;
	int err = -EFAULT;

	mmap_read_lock(mm);
	vma = ksmod_mergeable_vma(mm, addr);
	if (!vma)
		goto out;
	err = ksmod_merge_one_page(vma, page, addr, kpage);
	if (err)
		goto out;
	/* the unstable fields share storage with the stable ones: leave first */
	ksmod_rmap_item_unlink(item);
	item->anon_vma = vma->anon_vma;
	get_anon_vma(vma->anon_vma);
	/* linear_page_index(), never hugetlb here (its helper is unexported) */
	item->index = ((addr - vma->vm_start) >> PAGE_SHIFT) + vma->vm_pgoff;
out:
	mmap_read_unlock(mm);
	return err;
}

/**
 * ksmod_merge_zero_page() - replace @item's @page of zeroes by the zero page
 * @item:	the page's rmap item, in no tree
 * @page:	the page, referenced
 *
 * Return: 0 when replaced, or when the VMA is no longer mergeable (the
 * page is no candidate then either); -EFAULT when it could not be.
 */
int ksmod_merge_zero_page(struct ksmod_rmap_item *item, struct page *page)
{
	struct mm_struct *mm = item->mm;
	unsigned long addr = ksmod_rmap_addr(item);
	struct vm_area_struct *vma;
	int err = 0;

	mmap_read_lock(mm);
	vma = ksmod_mergeable_vma(mm, addr);
	if (vma)
		err = ksmod_merge_one_page(vma, page, addr, ZERO_PAGE(addr));
	mmap_read_unlock(mm);
	return err;
}

/*
 * A fresh KSM page (no node yet) holding a copy of @page, on its node,
 * charged to @item's mm, on the LRU; one reference, ours. NULL when no
 * memory. Whether @page still holds that content is checked again when
 * each pte is moved (cleared first, then compared).
 *
 * The steps of the kernel's ksm_might_need_to_copy(), which also copies
 * an anonymous page into a new one: allocate (movable, highmem), charge
 * the memcg, copy machine-check-safely, mark dirty and uptodate. Not
 * taken: its page lock (nobody can see this page before it is mapped,
 * and the merge locks the page it replaces, as for any KSM page) and its
 * KSM_SWPIN_COPY event (not a swap-in). Added: the page is made a KSM
 * page here, swap-backed and on the LRU, which its caller does for a new
 * anonymous page (do_swap_page(): rmap, then the LRU).
 */
static struct page *ksmod_new_ksm_page(struct ksmod_rmap_item *item,
				       struct page *page)
{
	gfp_t gfp = GFP_HIGHUSER_MOVABLE | __GFP_NOWARN;
	struct folio *folio = page_folio(page), *kfolio;

	/* each node's pages have their own trees: stay on @page's node */
	if (!READ_ONCE(ksmod_merge_across_nodes))
		gfp |= __GFP_THISNODE;
	kfolio = __folio_alloc_node(gfp, 0, page_to_nid(page));
	if (!kfolio)
		return NULL;
#ifdef CONFIG_MEMCG
	if (!mem_cgroup_disabled() &&
	    ksym.__mem_cgroup_charge(kfolio, item->mm, GFP_KERNEL)) {
		folio_put(kfolio);
		return NULL;
	}
#endif
	/*
	 * As the kernel's ksm_might_need_to_copy(): a machine-check-safe
	 * copy, so that a memory error in @page fails the merge, not the
	 * kernel (x86 takes neither address nor VMA)
	 */
	if (copy_mc_user_highpage(&kfolio->page, page, 0, NULL)) {
		folio_put(kfolio);
		return NULL;
	}
	kfolio->index = folio->index + folio_page_idx(folio, page);
	__folio_mark_uptodate(kfolio);
	__folio_set_swapbacked(kfolio);
	/* as a page upgraded in place: nothing else holds this content */
	folio_set_dirty(kfolio);
	ksmod_folio_set_node(kfolio, NULL);
	folio_add_lru(kfolio);
	return &kfolio->page;
}

/**
 * ksmod_merge_two_pages() - make @page a KSM page and map it for both
 * @item:	@page's rmap item
 * @page:	the page, referenced
 * @tree_item:	the rmap item of its twin in the unstable tree
 * @tree_page:	the twin's page, referenced
 * @refused:	set when @page was merged but @tree_page could not be (held,
 *		locked, or changed): the twin stood in the way, not @page
 *
 * With merge_new_page=1 the KSM page is a fresh copy instead, and the
 * reference returned with it is the caller's to drop.
 *
 * Return: the new KSM page (@page, or the fresh one), or NULL.
 */
struct page *ksmod_merge_two_pages(struct ksmod_rmap_item *item,
				   struct page *page,
				   struct ksmod_rmap_item *tree_item,
				   struct page *tree_page, bool *refused)
{
	struct page *fresh = NULL;

	*refused = false;
	if (READ_ONCE(ksmod_merge_new_page)) {
		fresh = ksmod_new_ksm_page(item, page);
		if (!fresh)
			return NULL;
	}
	/* with no fresh page, @page becomes the KSM page in place */
	if (ksmod_merge_with_ksm_page(item, page, fresh))
		goto fail;
	if (ksmod_merge_with_ksm_page(tree_item, tree_page, fresh ?: page)) {
		ksmod_break_cow(item);
		*refused = true;
		goto fail;
	}
	return fresh ?: page;
fail:
	/* a fresh page is mapped nowhere now: this frees (and uncharges) it */
	if (fresh)
		put_page(fresh);
	return NULL;
}

/*
 * Break the KSM page (or 6.12 KSM zero page) at @addr of @vma, as the
 * kernel's break_ksm(): fault in an unshared copy until none is mapped
 * there; a page under migration is waited for. mmap lock held.
 */
static int ksmod_break_ksm(struct vm_area_struct *vma, unsigned long addr)
{
	vm_fault_t ret = 0;

	do {
		cond_resched();
		if (!ksmod_ksm_page_at(vma, addr))
			return 0;
		ret = handle_mm_fault(vma, addr,
				      FAULT_FLAG_UNSHARE | FAULT_FLAG_REMOTE,
				      NULL);
	} while (!(ret & (VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV |
			  VM_FAULT_HWPOISON | VM_FAULT_OOM)));
	return (ret & VM_FAULT_OOM) ? -ENOMEM : 0;
}

/**
 * ksmod_break_cow() - undo a merge ksmod_merge_with_ksm_page() made
 * @item:	its rmap item, holding the anon_vma reference the merge took
 */
void ksmod_break_cow(struct ksmod_rmap_item *item)
{
	ksmod_put_anon_vma(item->anon_vma);
	ksmod_rmap_reset_unstable(item);
	ksmod_break_item(item);
}

/**
 * ksmod_break_item() - break the KSM page mapped at @item's address
 * @item:	an rmap item on no node; its mm's mmap lock not held
 */
void ksmod_break_item(struct ksmod_rmap_item *item)
{
	struct mm_struct *mm = item->mm;
	unsigned long addr = ksmod_rmap_addr(item);
	struct vm_area_struct *vma;

	mmap_read_lock(mm);
	vma = ksmod_mergeable_vma(mm, addr);
	if (vma)
		ksmod_break_ksm(vma, addr);
	mmap_read_unlock(mm);
}

/**
 * ksmod_unmerge_range() - give [@start, @end) of @vma private pages again
 * @vma:	the VMA, its mmap lock held
 * @start:	page-aligned start
 * @end:	end
 *
 * Return: 0, -ENOMEM, or -ERESTARTSYS on a fatal signal.
 */
int ksmod_unmerge_range(struct vm_area_struct *vma, unsigned long start,
			unsigned long end)
{
	unsigned long addr;
	int err = 0;

	for (addr = start; addr < end && !err; addr += PAGE_SIZE) {
		if (fatal_signal_pending(current))
			return -ERESTARTSYS;
		/* a sparse range costs what is populated, not its size */
		addr = ksmod_skip_holes(vma->vm_mm, addr, end);
		if (addr >= end)
			break;
		err = ksmod_break_ksm(vma, addr);
	}
	return err;
}
