// SPDX-License-Identifier: GPL-2.0
/*
 * unstable_tree.c - pages that may become KSM pages, found this pass.
 *
 * The unstable tree holds the rmap items of pages whose checksum did not
 * change since the previous visit, keyed by that checksum, then by
 * content. Its pages are not write-protected: it is searched only to find
 * a candidate, whose content is compared again once both pages are
 * write-protected, and it is thrown away at the end of every full pass.
 *
 * The kernel's is keyed by content alone: each level of a search takes
 * the mmap lock of the tree page's process, looks up its VMA and page
 * table and compares the two pages, and since tree pages can change, its
 * order can break. Here the first key is the checksum an item had when
 * inserted (its oldchecksum, which nothing changes while the item is in
 * the tree): a level costs one integer compare, the order always holds,
 * and a page is looked up only where the checksums are equal, nearly
 * always its twin (four memcached instances: 185 us a search, most of the
 * scanner's time, with the content order). Identical pages have the same
 * checksum, so a page finds its twin as before; what it no longer finds
 * is a page that changed since it went into the tree and now happens to
 * equal it: a page that does not hold still, which the checksum gate is
 * there to keep from merging.
 * With merge_across_nodes=0 there is one tree per NUMA node, and a page
 * only meets pages of its own node, as in the kernel's KSM; and a page
 * only meets pages of its merge domain (domain.c).
 * Only the scanner thread uses it, under ksmod_thread_mutex.
 */
#include "ksmod.h"

#include <linux/mm.h>
#include <linux/rbtree.h>

#include "domain.h"
#include "merge.h"
#include "registry.h"
#include "rmap.h"
#include "scan.h"
#include "symbols.h"
#include "unstable_tree.h"

/* one tree per NUMA node; only [0] while merge_across_nodes=1 */
static struct rb_root ksmod_unstable_roots[MAX_NUMNODES];

/* items in the unstable tree */
unsigned long ksmod_pages_unshared;

/* full passes so far; its low bits mark which tree an item went into */
unsigned long ksmod_scan_seqnr;

/* The page at an item's address now, if still mergeable; referenced. */
static struct page *ksmod_item_page(struct ksmod_rmap_item *item)
{
	struct mm_struct *mm = item->mm;
	unsigned long addr = ksmod_rmap_addr(item);
	struct vm_area_struct *vma;
	struct page *page = NULL;

	mmap_read_lock(mm);
	/* an exiting mm's VMAs are being torn down: as ksm_test_exit() */
	vma = atomic_read(&mm->mm_users) ? vma_lookup(mm, addr) : NULL;
	if (vma && ksmod_vma_mergeable(vma) && vma->anon_vma)
		page = ksmod_get_anon_page(vma, addr);
	mmap_read_unlock(mm);
	return page;
}

/**
 * ksmod_unstable_search_insert() - find @page's twin, or insert @item
 * @item:	the rmap item of @page
 * @page:	the page, referenced, its checksum stable
 * @domain:	the merge domain key of @page's process
 * @tree_page:	where the twin's page goes, referenced
 *
 * The tree is ordered by checksum (@item's oldchecksum is @page's now),
 * content, then merge domain key: the key of a tree item's process is
 * looked up only when its page has @page's content. KSMOD_DOMAIN_ALL
 * (merge_domain global, or a page of zeroes merging across domains) meets
 * only pages of that key, which are all pages then, or all pages of
 * zeroes: no lookup.
 *
 * Return: the twin's rmap item, or NULL (then @item may have been
 * inserted).
 */
struct ksmod_rmap_item *ksmod_unstable_search_insert(
	struct ksmod_rmap_item *item, struct page *page, u64 domain,
	struct page **tree_page)
{
	int nid = ksmod_tree_nid(page);
	struct rb_root *root = &ksmod_unstable_roots[nid];
	struct rb_node **new = &root->rb_node, *parent = NULL;

	while (*new) {
		struct ksmod_rmap_item *tree_item =
			rb_entry(*new, struct ksmod_rmap_item, node);
		struct page *tp;
		int ret;

		cond_resched();
		if (item->oldchecksum != tree_item->oldchecksum) {
			parent = *new;
			new = item->oldchecksum < tree_item->oldchecksum ?
			      &parent->rb_left : &parent->rb_right;
			continue;
		}
		tp = ksmod_item_page(tree_item);
		if (!tp)
			return NULL;
		if (tp == page) {	/* the same page, mapped twice */
			put_page(tp);
			return NULL;
		}
		/*
		 * The tree's page moved to another node since it was
		 * inserted (or the tree was built while merging across
		 * nodes): never merge across nodes, as the kernel's KSM.
		 */
		if (!READ_ONCE(ksmod_merge_across_nodes) &&
		    page_to_nid(tp) != nid) {
			put_page(tp);
			return NULL;
		}
		ret = ksmod_memcmp_pages(page, tp);
		if (!ret && domain != KSMOD_DOMAIN_ALL)
			ret = ksmod_domain_cmp(domain,
					       ksmod_mm_domain(tree_item->mm));
		parent = *new;
		if (ret < 0) {
			put_page(tp);
			new = &parent->rb_left;
		} else if (ret > 0) {
			put_page(tp);
			new = &parent->rb_right;
		} else {
			*tree_page = tp;
			return tree_item;
		}
	}

	item->address |= KSMOD_UNSTABLE_FLAG |
			 (ksmod_scan_seqnr & KSMOD_SEQNR_MASK);
	item->nid = nid;
	rb_link_node(&item->node, parent, new);
	rb_insert_color(&item->node, root);
	ksmod_pages_unshared++;
	return NULL;
}

/* @item leaves the unstable tree, if it is in this pass's. */
void ksmod_unstable_remove_item(struct ksmod_rmap_item *item)
{
	unsigned char age = ksmod_scan_seqnr - item->address;

	if (!age)
		rb_erase(&item->node, &ksmod_unstable_roots[item->nid]);
	ksmod_pages_unshared--;
	item->address &= PAGE_MASK | KSMOD_BROKEN_MASK;
}

/* End of a full pass: forget the tree. */
void ksmod_unstable_reset(void)
{
	int nid;

	for (nid = 0; nid < nr_node_ids; nid++)
		ksmod_unstable_roots[nid] = RB_ROOT;
	ksmod_scan_seqnr++;
}
