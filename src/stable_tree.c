// SPDX-License-Identifier: GPL-2.0
/*
 * stable_tree.c - the stable tree: one node per KSM page ksmod made.
 *
 * A KSM page's mapping is its stable node with the PAGE_MAPPING_KSM bits,
 * as for the kernel's KSM pages, and the node records the page's frame
 * without holding a reference (one would defeat the refcount checks of
 * migration and reclaim). Every lookup checks that the frame still holds
 * a page that points back at the node, and drops the node when not.
 *
 * The kernel's own KSM code reads the stable node of any KSM page it is
 * given (rmap_walk_ksm, folio_migrate_ksm, collect_procs_ksm): mm_hooks.c
 * sends pages whose node is ksmod's here instead. A node is ksmod's when
 * it is in the ksmod_nodes xarray, which holds exactly the nodes ksmod
 * allocated and has not freed: a certain test, not a guess.
 *
 * With merge_across_nodes=0 there is one tree per NUMA node, each holding
 * the KSM pages on that node, and a page is only merged with a KSM page of
 * its own node. When a search meets a KSM page that NUMA migration moved
 * to another node, its node moves to that node's tree; if an identical KSM
 * page is there already, it goes on a list of nodes in no tree, still
 * valid for its sharers but taking no new ones.
 *
 * Locking: the tree is changed only by the scanner thread, under
 * ksmod_thread_mutex (or at unload, the thread stopped). A node's list of
 * rmap items is changed only with its page locked.
 */
#include "ksmod.h"

#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/rmap.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "merge.h"
#include "rmap.h"
#include "scan.h"
#include "stable_tree.h"
#include "symbols.h"

/* one tree per NUMA node; only [0] while merge_across_nodes=1 */
static struct rb_root ksmod_stable_roots[MAX_NUMNODES];

/* nodes in no tree: moved where an identical KSM page already was */
static LIST_HEAD(ksmod_homeless_nodes);
static struct kmem_cache *ksmod_stable_node_cache;
static DEFINE_XARRAY(ksmod_nodes);

/* KSM pages, and further ptes sharing them, as in /sys/kernel/mm/ksm */
unsigned long ksmod_pages_shared;
unsigned long ksmod_pages_sharing;

/* live stable nodes, for leak tests */
atomic_long_t ksmod_nr_stable_nodes = ATOMIC_LONG_INIT(0);

static unsigned long ksmod_node_index(struct ksmod_stable_node *n)
{
	return (unsigned long)n / sizeof(void *);
}

/**
 * ksmod_folio_node() - the stable node of a KSM page ksmod made
 * @folio:	any folio
 *
 * Return: the node, or NULL when @folio is not a KSM page or its node is
 * not ksmod's (the kernel's KSM made it, or it has none). Safe in atomic
 * context; the answer holds while the folio is locked.
 */
struct ksmod_stable_node *ksmod_folio_node(struct folio *folio)
{
	unsigned long mapping = (unsigned long)READ_ONCE(folio->mapping);
	struct ksmod_stable_node *n;

	if ((mapping & PAGE_MAPPING_FLAGS) != PAGE_MAPPING_KSM)
		return NULL;
	n = (struct ksmod_stable_node *)(mapping & ~PAGE_MAPPING_FLAGS);
	if (!n || xa_load(&ksmod_nodes, ksmod_node_index(n)) != n)
		return NULL;
	return n;
}

bool ksmod_stable_owns(struct folio *folio)
{
	return ksmod_folio_node(folio);
}

/* Make @folio a KSM page of node @n (NULL: none yet); folio locked. */
void ksmod_folio_set_node(struct folio *folio, struct ksmod_stable_node *n)
{
	WRITE_ONCE(folio->mapping,
		   (void *)((unsigned long)n | PAGE_MAPPING_KSM));
}

static void ksmod_node_free(struct ksmod_stable_node *n)
{
	xa_erase(&ksmod_nodes, ksmod_node_index(n));
	kmem_cache_free(ksmod_stable_node_cache, n);
	atomic_long_dec(&ksmod_nr_stable_nodes);
}

/* @item leaves its node: with the node's page locked, or the node dead. */
static void ksmod_stable_detach(struct ksmod_rmap_item *item)
{
	struct ksmod_stable_node *n = item->head;

	hlist_del(&item->hlist);
	if (!hlist_empty(&n->hlist))
		ksmod_pages_sharing--;
	else
		ksmod_pages_shared--;
	item->mm->ksm_merging_pages--;
	ksmod_put_anon_vma(item->anon_vma);
	item->address &= PAGE_MASK;
	ksmod_rmap_reset_unstable(item);	/* the union held the anon_vma */
}

/* Drop a node whose page is gone: its items are no longer stable. */
static void ksmod_node_remove(struct ksmod_stable_node *n)
{
	struct ksmod_rmap_item *item;
	struct hlist_node *tmp;

	hlist_for_each_entry_safe(item, tmp, &n->hlist, hlist)
		ksmod_stable_detach(item);
	if (n->nid == NUMA_NO_NODE)
		list_del(&n->list);
	else
		rb_erase(&n->node, &ksmod_stable_roots[n->nid]);
	ksmod_node_free(n);
}

/**
 * ksmod_node_page() - the KSM page of a node, referenced
 * @n:		the node
 * @lock:	return it locked
 *
 * A page that no longer points back (freed, or reused) makes the node
 * stale: it is removed and NULL returned. Migration changes kpfn under
 * us: then look again.
 *
 * A refcount of 0 usually means the page is being freed; but a KSM page
 * in the swap cache is also frozen at 0 while migration moves it
 * (__folio_migrate_mapping()), still pointing at @n, and folio_migrate_ksm()
 * is about to move @n to the new page. Dropping @n then would leave that
 * page pointing at a freed node, which the kernel's own KSM code would
 * take for one of its own. So, as the kernel's ksm_get_folio(), wait while
 * the frozen page is in the swap cache: the freeze lasts a few
 * instructions under the swap cache's lock. __remove_mapping() clears
 * the swap cache flag inside its own freeze before freeing the page.
 */
struct page *ksmod_node_page(struct ksmod_stable_node *n, bool lock)
{
	void *expected = (void *)((unsigned long)n | PAGE_MAPPING_KSM);
	struct folio *folio;
	unsigned long kpfn;

again:
	kpfn = READ_ONCE(n->kpfn);
	folio = pfn_folio(kpfn);
	if (READ_ONCE(folio->mapping) != expected)
		goto stale;
	while (!folio_try_get(folio)) {
		if (!folio_test_swapcache(folio))
			goto stale;
		cpu_relax();
	}
	if (READ_ONCE(folio->mapping) != expected) {
		folio_put(folio);
		goto stale;
	}
	if (lock) {
		folio_lock(folio);
		if (READ_ONCE(folio->mapping) != expected) {
			folio_unlock(folio);
			folio_put(folio);
			goto stale;
		}
	}
	return &folio->page;

stale:
	/* pairs with the smp_wmb() in ksmod_stable_migrate() */
	smp_rmb();
	if (READ_ONCE(n->kpfn) != kpfn)
		goto again;
	ksmod_node_remove(n);
	return NULL;
}

/*
 * Where a KSM page with @kpage's content goes in @root, *@parent its
 * parent; NULL when an identical KSM page is there.
 */
static struct rb_node **ksmod_stable_slot(struct page *kpage,
					  struct rb_root *root,
					  struct rb_node **parent)
{
	struct rb_node **new;

again:
	new = &root->rb_node;
	*parent = NULL;
	while (*new) {
		struct ksmod_stable_node *tree =
			rb_entry(*new, struct ksmod_stable_node, node);
		struct page *tree_page;
		int ret;

		cond_resched();
		tree_page = ksmod_node_page(tree, false);
		if (!tree_page)
			goto again;
		ret = ksmod_memcmp_pages(kpage, tree_page);
		put_page(tree_page);
		*parent = *new;
		if (ret < 0)
			new = &(*parent)->rb_left;
		else if (ret > 0)
			new = &(*parent)->rb_right;
		else
			return NULL;
	}
	return new;
}

/*
 * @n's page, @kpage (referenced), moved to NUMA node @nid: @n leaves its
 * tree for @nid's, or for the homeless list if an identical KSM page is
 * there (merge_across_nodes=0).
 */
static void ksmod_stable_rehome(struct ksmod_stable_node *n,
				struct page *kpage, int nid)
{
	struct rb_node **new, *parent;

	rb_erase(&n->node, &ksmod_stable_roots[n->nid]);
	new = ksmod_stable_slot(kpage, &ksmod_stable_roots[nid], &parent);
	if (new) {
		n->nid = nid;
		rb_link_node(&n->node, parent, new);
		rb_insert_color(&n->node, &ksmod_stable_roots[nid]);
	} else {
		n->nid = NUMA_NO_NODE;
		list_add(&n->list, &ksmod_homeless_nodes);
	}
}

/**
 * ksmod_stable_search() - a KSM page with the content of @page
 * @page:	a page being scanned, referenced
 *
 * Return: the KSM page, referenced (it may be @page itself), or NULL.
 */
struct page *ksmod_stable_search(struct page *page)
{
	struct ksmod_stable_node *own = ksmod_folio_node(page_folio(page));
	int nid = ksmod_tree_nid(page);
	struct rb_node *node;

	/* already one of ksmod's KSM pages (a fork's): no need to look */
	if (own) {
		struct page *kpage = ksmod_node_page(own, true);

		if (kpage) {
			unlock_page(kpage);
			return kpage;
		}
	}
again:
	node = ksmod_stable_roots[nid].rb_node;
	while (node) {
		struct ksmod_stable_node *n =
			rb_entry(node, struct ksmod_stable_node, node);
		struct page *tree_page;
		int ret;

		cond_resched();
		tree_page = ksmod_node_page(n, false);
		if (!tree_page)
			goto again;	/* the tree changed */
		ret = ksmod_memcmp_pages(page, tree_page);
		if (ret) {
			put_page(tree_page);
			node = ret < 0 ? node->rb_left : node->rb_right;
			continue;
		}
		/*
		 * Lock and unlock the page, so that a migration of it has
		 * either finished (and we look again) or will see our
		 * reference and fail.
		 */
		put_page(tree_page);
		tree_page = ksmod_node_page(n, true);
		if (!tree_page)
			goto again;
		unlock_page(tree_page);
		/* it moved to another node: its node follows it */
		if (!READ_ONCE(ksmod_merge_across_nodes) &&
		    page_to_nid(tree_page) != nid) {
			ksmod_stable_rehome(n, tree_page, page_to_nid(tree_page));
			put_page(tree_page);
			return NULL;
		}
		return tree_page;
	}
	return NULL;
}

/**
 * ksmod_stable_insert() - give a new KSM page its node
 * @kpage:	the page, locked, made a KSM page with no node yet
 *
 * Return: the node, or NULL when an identical KSM page got there first or
 * memory ran out (the caller then undoes the merge).
 */
struct ksmod_stable_node *ksmod_stable_insert(struct page *kpage)
{
	int nid = ksmod_tree_nid(kpage);
	struct rb_root *root = &ksmod_stable_roots[nid];
	struct rb_node **new, *parent;
	struct ksmod_stable_node *n;

	new = ksmod_stable_slot(kpage, root, &parent);
	if (!new)
		return NULL;

	n = kmem_cache_zalloc(ksmod_stable_node_cache,
			      GFP_KERNEL | __GFP_NOWARN);
	if (!n)
		return NULL;
	INIT_HLIST_HEAD(&n->hlist);
	n->kpfn = page_to_pfn(kpage);
	n->nid = nid;
	if (xa_err(xa_store(&ksmod_nodes, ksmod_node_index(n), n,
			    GFP_KERNEL))) {
		kmem_cache_free(ksmod_stable_node_cache, n);
		return NULL;
	}
	atomic_long_inc(&ksmod_nr_stable_nodes);
	rb_link_node(&n->node, parent, new);
	rb_insert_color(&n->node, root);
	ksmod_folio_set_node(page_folio(kpage), n);
	return n;
}

/**
 * ksmod_stable_append() - @item's pte now maps @n's page
 * @item:	the rmap item, with its anon_vma referenced and index set
 * @n:		the node, its page locked
 */
void ksmod_stable_append(struct ksmod_rmap_item *item,
			 struct ksmod_stable_node *n)
{
	item->head = n;
	item->address |= KSMOD_STABLE_FLAG;
	if (hlist_empty(&n->hlist))
		ksmod_pages_shared++;
	else
		ksmod_pages_sharing++;
	hlist_add_head(&item->hlist, &n->hlist);
	item->mm->ksm_merging_pages++;
}

/* @item leaves the stable tree. */
void ksmod_stable_remove_item(struct ksmod_rmap_item *item)
{
	struct page *page = ksmod_node_page(item->head, true);

	if (!page)
		return;	/* the node was stale and let go of every item */
	ksmod_stable_detach(item);
	/*
	 * The last item gone and nothing maps the page (its processes
	 * exited): drop the node now rather than when a search next meets
	 * it. The page, if reused from the swap cache, is copied.
	 */
	if (hlist_empty(&item->head->hlist) && !folio_mapped(page_folio(page))) {
		struct ksmod_stable_node *n = item->head;

		ksmod_folio_set_node(page_folio(page), NULL);
		ksmod_node_remove(n);
	}
	unlock_page(page);
	put_page(page);
}

/* The first node of tree @nid or a later one, then of the homeless. */
static struct ksmod_stable_node *ksmod_stable_first_from(int nid)
{
	struct rb_node *node;

	for (; nid < nr_node_ids; nid++) {
		node = rb_first(&ksmod_stable_roots[nid]);
		if (node)
			return rb_entry(node, struct ksmod_stable_node, node);
	}
	return list_first_entry_or_null(&ksmod_homeless_nodes,
					struct ksmod_stable_node, list);
}

/* Every node: the trees in order, then the homeless list. */
static struct ksmod_stable_node *ksmod_stable_first(void)
{
	return ksmod_stable_first_from(0);
}

static struct ksmod_stable_node *ksmod_stable_next(struct ksmod_stable_node *n)
{
	struct rb_node *node;

	if (n->nid == NUMA_NO_NODE)
		return list_is_last(&n->list, &ksmod_homeless_nodes) ? NULL :
			list_next_entry(n, list);
	node = rb_next(&n->node);
	if (node)
		return rb_entry(node, struct ksmod_stable_node, node);
	return ksmod_stable_first_from(n->nid + 1);
}

/**
 * ksmod_stable_free_all() - at unload, drop every node
 *
 * A page still pointing at its node (mapped where unmerging could not
 * reach, or only in the swap cache) keeps PAGE_MAPPING_KSM with no node:
 * the kernel treats such a page as a KSM page to copy, never to follow.
 */
void ksmod_stable_free_all(void)
{
	struct ksmod_stable_node *n;
	struct page *page;

	while ((n = ksmod_stable_first())) {
		page = ksmod_node_page(n, true);
		if (!page)
			continue;	/* stale: removed */
		ksmod_folio_set_node(page_folio(page), NULL);
		ksmod_node_remove(n);
		unlock_page(page);
		put_page(page);
		cond_resched();
	}
}

/**
 * ksmod_stable_prune_unused() - drop nodes no rmap item and no pte use
 *
 * An item leaves while its process is still unmapping (exit), or the page
 * is freed later: such nodes would wait for a search to meet them. Called
 * once per full pass, with the thread mutex held.
 */
void ksmod_stable_prune_unused(void)
{
	struct ksmod_stable_node *n, *next;
	struct page *page;

	for (n = ksmod_stable_first(); n; n = next) {
		next = ksmod_stable_next(n);
		if (!hlist_empty(&n->hlist))
			continue;
		page = ksmod_node_page(n, true);	/* drops it if stale */
		if (!page)
			continue;
		if (hlist_empty(&n->hlist) && !folio_mapped(page_folio(page))) {
			ksmod_folio_set_node(page_folio(page), NULL);
			ksmod_node_remove(n);
		}
		unlock_page(page);
		put_page(page);
		cond_resched();
	}
}

/**
 * ksmod_stable_empty() - drop unused nodes; is any node left?
 *
 * merge_across_nodes can only change while no stable node exists, as in
 * the kernel. Called with the thread mutex held.
 *
 * Return: true when the stable trees are empty.
 */
bool ksmod_stable_empty(void)
{
	ksmod_stable_prune_unused();
	return !ksmod_stable_first();
}

/**
 * ksmod_stable_prune() - drop the nodes of pages in [@start, @end) pfns
 * @start:	first pfn of memory that went offline
 * @end:	pfn past it
 *
 * Migration moved every page it could out of memory going offline and
 * updated the nodes; a node still pointing there refers to a struct page
 * that may no longer exist, so it is dropped without looking at the page.
 * The scanner is kept out meanwhile (scan.c).
 */
void ksmod_stable_prune(unsigned long start, unsigned long end)
{
	struct ksmod_stable_node *n, *next;

	for (n = ksmod_stable_first(); n; n = next) {
		next = ksmod_stable_next(n);
		if (n->kpfn >= start && n->kpfn < end)
			ksmod_node_remove(n);
		cond_resched();
	}
}

/**
 * ksmod_stable_migrate() - folio_migrate_ksm() for ksmod's KSM pages
 * @newfolio:	where the page's content now is, locked, mapping copied
 * @folio:	the old page, locked
 */
void ksmod_stable_migrate(struct folio *newfolio, struct folio *folio)
{
	struct ksmod_stable_node *n = ksmod_folio_node(folio);

	if (WARN_ON_ONCE(!n))
		return;
	WRITE_ONCE(n->kpfn, folio_pfn(newfolio));
	/* pairs with the smp_rmb() in ksmod_node_page() */
	smp_wmb();
	ksmod_folio_set_node(folio, NULL);
}

int ksmod_stable_init(void)
{
	ksmod_stable_node_cache = KMEM_CACHE(ksmod_stable_node, 0);
	return ksmod_stable_node_cache ? 0 : -ENOMEM;
}

void ksmod_stable_exit(void)
{
	WARN_ON_ONCE(ksmod_stable_first());
	kmem_cache_destroy(ksmod_stable_node_cache);
}
