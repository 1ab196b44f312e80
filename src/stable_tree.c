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
 * it is in the ksmod_nodes xarray, which holds exactly the nodes of KSM
 * pages ksmod allocated and has not freed: a certain test, not a guess.
 *
 * Stable node chains, as the kernel's: one KSM page takes at most
 * max_page_sharing mappings, because every reverse-map walk of it
 * (reclaim, compaction, migration, memory offline and failure) visits
 * them all, under its page lock. More identical pages make more KSM
 * pages, "dups" of the same content; a tree node standing for several is
 * a chain, which holds no page, only its dups. A page matching a chain
 * joins the fullest dup that is not full; when all are, it waits in the
 * unstable tree for a twin, and the two become a new dup. Searches drop
 * stale dups, at most once every stable_node_chains_prune_millisecs for a
 * whole chain, and a chain down to one dup becomes that dup again.
 *
 * The tree is ordered by content, then by merge domain key (domain.c): a
 * KSM page only takes pages of its own domain, and a chain's dups share
 * its key.
 *
 * With merge_across_nodes=0 there is one tree per NUMA node, each holding
 * the KSM pages on that node, and a page is only merged with a KSM page of
 * its own node. When a search meets a KSM page that NUMA migration moved
 * to another node, its node moves to that node's tree, as a dup of an
 * identical KSM page already there.
 *
 * Locking: the trees are changed only under ksmod_thread_mutex (scanner,
 * run=2, tunables, memory offline, unload). A node's list of rmap items
 * is changed only with its page locked, so that rmap walks (page locked)
 * see it whole.
 */
#include "ksmod.h"

#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/rmap.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "domain.h"
#include "merge.h"
#include "rmap.h"
#include "scan.h"
#include "stable_tree.h"
#include "symbols.h"

/* one tree per NUMA node; only [0] while merge_across_nodes=1 */
static struct rb_root ksmod_stable_roots[MAX_NUMNODES];

static struct kmem_cache *ksmod_stable_node_cache;
static DEFINE_XARRAY(ksmod_nodes);

struct ksmod_domain_count {
	struct xarray *xa;
	int err;
};

/* KSM pages, and further ptes sharing them, as in /sys/kernel/mm/ksm */
unsigned long ksmod_pages_shared;
unsigned long ksmod_pages_sharing;

/* chains in the trees, and the KSM pages in them (thread mutex) */
unsigned long ksmod_stable_node_chains;
unsigned long ksmod_stable_node_dups;

/* most mappings of one KSM page; changed only while no KSM page exists */
int ksmod_max_page_sharing = KSMOD_MAX_PAGE_SHARING;

/* how often a search checks every dup of a chain for stale ones */
unsigned int ksmod_stable_node_chains_prune_msecs =
	KSMOD_STABLE_NODE_CHAINS_PRUNE_MSECS;

/* nodes of KSM pages: the module holds a reference on itself while any */
atomic_long_t ksmod_nr_stable_nodes = ATOMIC_LONG_INIT(0);

static unsigned long ksmod_node_index(struct ksmod_stable_node *n)
{
	return (unsigned long)n / sizeof(void *);
}

static bool ksmod_is_chain(struct ksmod_stable_node *n)
{
	return n->rmap_hlist_len == KSMOD_STABLE_CHAIN;
}

/*
 * May @n's page take @extra sharers more than it has? Not when nobody maps
 * it any more (it is about to go), nor at max_page_sharing.
 */
static bool ksmod_sharing_candidate(struct ksmod_stable_node *n, int extra)
{
	return n->rmap_hlist_len &&
	       n->rmap_hlist_len + extra < READ_ONCE(ksmod_max_page_sharing);
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

/*
 * Nothing may be left behind: a KSM page whose node is gone can no longer
 * be migrated, compacted, swapped or offlined (nothing finds its ptes). So
 * while any node exists, that is while any KSM page ksmod made may exist,
 * the module holds a reference on itself: rmmod answers "in use" until
 * run=2 has unmerged every page (the package's modprobe.d rule, and
 * ksmodctl unload, write it first).
 */
static void ksmod_node_count_inc(void)
{
	if (atomic_long_inc_return(&ksmod_nr_stable_nodes) == 1) {
		__module_get(THIS_MODULE);
		pr_info_ratelimited("merged pages exist: ksmod stays loaded until they are unmerged (echo 2 > /sys/module/%s/ksm/run)\n",
				    KBUILD_MODNAME);
	}
}

static void ksmod_node_count_dec(void)
{
	if (atomic_long_dec_and_test(&ksmod_nr_stable_nodes))
		module_put(THIS_MODULE);
}

/* The first 8 bytes of @page, big-endian: ordered as memcmp() orders them */
static u64 ksmod_page_head(struct page *page)
{
	__be64 *p = kmap_local_page(page);
	u64 head = be64_to_cpu(*p);

	kunmap_local(p);
	return head;
}

/*
 * Whether the search for a page starting with @head decides at tree node
 * @n without looking its page up: @n is no chain (looking a chain's dups
 * up also prunes it, as the kernel's search does) and its page starts
 * otherwise; *@ret then gets the order, as the page compare would.
 */
static bool ksmod_head_decides(struct ksmod_stable_node *n, u64 head, int *ret)
{
	if (ksmod_is_chain(n) || n->head == head)
		return false;
	*ret = head < n->head ? -1 : 1;
	return true;
}

/* A node for KSM page @kpage in tree @nid, in no tree yet; NULL if no memory */
static struct ksmod_stable_node *ksmod_node_new(struct page *kpage, int nid)
{
	struct ksmod_stable_node *n;

	n = kmem_cache_zalloc(ksmod_stable_node_cache,
			      GFP_KERNEL | __GFP_NOWARN);
	if (!n)
		return NULL;
	INIT_HLIST_HEAD(&n->hlist);
	n->kpfn = page_to_pfn(kpage);
	n->nid = nid;
	n->head = ksmod_page_head(kpage);
	if (xa_err(xa_store(&ksmod_nodes, ksmod_node_index(n), n,
			    GFP_KERNEL))) {
		kmem_cache_free(ksmod_stable_node_cache, n);
		return NULL;
	}
	ksmod_node_count_inc();
	return n;
}

static void ksmod_node_free(struct ksmod_stable_node *n)
{
	xa_erase(&ksmod_nodes, ksmod_node_index(n));
	kmem_cache_free(ksmod_stable_node_cache, n);
	ksmod_node_count_dec();
}

/* Link node @n, in no tree, at @new under @parent of tree @nid. */
static void ksmod_node_link(struct ksmod_stable_node *n, int nid,
			    struct rb_node *parent, struct rb_node **new)
{
	n->nid = nid;
	rb_link_node(&n->node, parent, new);
	rb_insert_color(&n->node, &ksmod_stable_roots[nid]);
}

/* Put @dup, in no tree, in @chain. */
static void ksmod_chain_add(struct ksmod_stable_node *chain,
			    struct ksmod_stable_node *dup)
{
	dup->chain = chain;
	dup->nid = chain->nid;
	dup->domain = chain->domain;
	hlist_add_head(&dup->dup_link, &chain->hlist);
	ksmod_stable_node_dups++;
}

/* @chain, allocated, takes the place of tree node @n, its first dup. */
static void ksmod_chain_new(struct ksmod_stable_node *chain,
			    struct ksmod_stable_node *n)
{
	INIT_HLIST_HEAD(&chain->hlist);
	chain->rmap_hlist_len = KSMOD_STABLE_CHAIN;
	chain->prune_time = jiffies;
	chain->nid = n->nid;
	chain->domain = n->domain;
	chain->head = n->head;
	rb_replace_node(&n->node, &chain->node, &ksmod_stable_roots[n->nid]);
	ksmod_stable_node_chains++;
	ksmod_chain_add(chain, n);
}

/* A chain with no dup left leaves its tree. */
static void ksmod_chain_free(struct ksmod_stable_node *chain)
{
	rb_erase(&chain->node, &ksmod_stable_roots[chain->nid]);
	kmem_cache_free(ksmod_stable_node_cache, chain);
	ksmod_stable_node_chains--;
}

/* @chain's last dup @dup takes its place in the tree. */
static void ksmod_chain_collapse(struct ksmod_stable_node *chain,
				 struct ksmod_stable_node *dup)
{
	hlist_del(&dup->dup_link);
	dup->chain = NULL;
	ksmod_stable_node_dups--;
	rb_replace_node(&chain->node, &dup->node,
			&ksmod_stable_roots[chain->nid]);
	kmem_cache_free(ksmod_stable_node_cache, chain);
	ksmod_stable_node_chains--;
}

/*
 * Take @n (not a chain) out of its tree or chain. A chain it leaves empty
 * stays, empty, until the next walk that meets it frees it: a search may
 * be walking that chain right now.
 */
static void ksmod_node_unlink(struct ksmod_stable_node *n)
{
	if (n->chain) {
		hlist_del(&n->dup_link);
		n->chain = NULL;
		ksmod_stable_node_dups--;
	} else {
		rb_erase(&n->node, &ksmod_stable_roots[n->nid]);
	}
}

/* @item leaves its node: with the node's page locked, or the node dead. */
static void ksmod_stable_detach(struct ksmod_rmap_item *item)
{
	struct ksmod_stable_node *n = item->head;

	hlist_del(&item->hlist);
	n->rmap_hlist_len--;
	if (!hlist_empty(&n->hlist))
		ksmod_pages_sharing--;
	else
		ksmod_pages_shared--;
	item->mm->ksm_merging_pages--;
	ksmod_put_anon_vma(item->anon_vma);
	item->address &= PAGE_MASK | KSMOD_BROKEN_MASK;
	ksmod_rmap_reset_unstable(item);	/* the union held the anon_vma */
}

/* Drop a node whose page is gone: its items are no longer stable. */
static void ksmod_node_remove(struct ksmod_stable_node *n)
{
	struct ksmod_rmap_item *item;
	struct hlist_node *tmp;

	hlist_for_each_entry_safe(item, tmp, &n->hlist, hlist)
		ksmod_stable_detach(item);
	ksmod_node_unlink(n);
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
 * The page to compare with at tree node *@np, referenced, and in *@dupp
 * the node it belongs to: *@np itself, or for a chain the dup best placed
 * to take one more sharer (the fullest that is not full, else any). Stale
 * dups are dropped on the way, and with @prune every dup of the chain is
 * looked at, at most once every stable_node_chains_prune_millisecs. A
 * chain left with one dup becomes that dup (*@np is then the dup, in the
 * same place of the tree); one left with none is freed.
 *
 * Return: the page, or NULL when the tree changed: search again.
 */
static struct page *ksmod_tree_page(struct ksmod_stable_node **np,
				    struct ksmod_stable_node **dupp, bool prune)
{
	struct ksmod_stable_node *chain = *np, *dup, *found = NULL;
	struct page *page, *found_page = NULL;
	struct hlist_node *tmp;

	if (!ksmod_is_chain(chain)) {
		*dupp = chain;
		return ksmod_node_page(chain, false);
	}
	if (prune && time_before(jiffies, chain->prune_time +
			msecs_to_jiffies(READ_ONCE(ksmod_stable_node_chains_prune_msecs))))
		prune = false;
	if (prune)
		chain->prune_time = jiffies;

	hlist_for_each_entry_safe(dup, tmp, &chain->hlist, dup_link) {
		cond_resched();
		page = ksmod_node_page(dup, false);	/* drops a stale dup */
		if (!page)
			continue;
		if (!found || (ksmod_sharing_candidate(dup, 0) &&
			       (!ksmod_sharing_candidate(found, 0) ||
				dup->rmap_hlist_len > found->rmap_hlist_len))) {
			if (found_page)
				put_page(found_page);
			found = dup;
			found_page = page;
			if (!prune && ksmod_sharing_candidate(found, 0))
				break;
			continue;
		}
		put_page(page);
	}

	if (!found) {
		ksmod_chain_free(chain);
		return NULL;
	}
	if (hlist_is_singular_node(&found->dup_link, &chain->hlist)) {
		ksmod_chain_collapse(chain, found);
		*np = found;
	} else if (chain->hlist.first != &found->dup_link &&
		   ksmod_sharing_candidate(found, 1)) {
		/* the next search finds it first */
		hlist_del(&found->dup_link);
		hlist_add_head(&found->dup_link, &chain->hlist);
	}
	*dupp = found;
	return found_page;
}

/*
 * Where a KSM page with @kpage's content and merge domain @domain goes in
 * tree @nid: *@parent its parent there, or, when a node of the same
 * content and domain is there, NULL returned and that node in *@equal.
 */
static struct rb_node **ksmod_stable_slot(struct page *kpage, int nid,
					  u64 domain, struct rb_node **parent,
					  struct ksmod_stable_node **equal)
{
	u64 head = ksmod_page_head(kpage);
	struct rb_node **new;

again:
	new = &ksmod_stable_roots[nid].rb_node;
	*parent = NULL;
	while (*new) {
		struct ksmod_stable_node *n =
			rb_entry(*new, struct ksmod_stable_node, node), *dup;
		struct page *tree_page;
		int ret;

		cond_resched();
		if (!ksmod_head_decides(n, head, &ret)) {
			tree_page = ksmod_tree_page(&n, &dup, false);
			if (!tree_page)
				goto again;
			ret = ksmod_memcmp_pages(kpage, tree_page) ?:
			      ksmod_domain_cmp(domain, n->domain);
			put_page(tree_page);
		}
		*parent = *new;
		if (ret < 0) {
			new = &(*parent)->rb_left;
		} else if (ret > 0) {
			new = &(*parent)->rb_right;
		} else {
			*equal = n;
			return NULL;
		}
	}
	return new;
}

/*
 * Put @n, in no tree, in tree @nid: where the slot is, or as a dup of the
 * node of the same content, made a chain if it is not one. @chain is an
 * allocated node for that; it is used or freed.
 */
static void ksmod_stable_place(struct ksmod_stable_node *n, struct page *kpage,
			       int nid, struct ksmod_stable_node *chain)
{
	struct ksmod_stable_node *equal;
	struct rb_node **new, *parent;

	new = ksmod_stable_slot(kpage, nid, n->domain, &parent, &equal);
	if (new) {
		ksmod_node_link(n, nid, parent, new);
	} else if (ksmod_is_chain(equal)) {
		ksmod_chain_add(equal, n);
	} else {
		ksmod_chain_new(chain, equal);
		ksmod_chain_add(chain, n);
		return;
	}
	kmem_cache_free(ksmod_stable_node_cache, chain);
}

/*
 * @n's page, @kpage (referenced), moved to NUMA node @nid: @n leaves its
 * tree or chain for @nid's tree (merge_across_nodes=0). Without memory
 * for a chain there it stays where it is, still valid for its sharers.
 */
static void ksmod_stable_rehome(struct ksmod_stable_node *n,
				struct page *kpage, int nid)
{
	struct ksmod_stable_node *chain;

	chain = kmem_cache_zalloc(ksmod_stable_node_cache,
				  GFP_KERNEL | __GFP_NOWARN);
	if (!chain)
		return;
	ksmod_node_unlink(n);
	ksmod_stable_place(n, kpage, nid, chain);
}

/*
 * The stable tree's order for a search: content (memcmp), then domain.
 * With @prefix, a tree page of @page's domain whose first
 * KSMOD_CMP_PREFIX bytes are @page's counts as equal. The kernel's
 * stable_tree_search() compares whole pages; but the merge compares the
 * whole page again anyway, with its pte cleared (the compare before
 * proves nothing: the page could still change), so on most pages that
 * first full compare is a second read of 8 KiB for nothing (make bench:
 * two full compares were most of the scanner's time). A page that
 * matches only at its start fails that merge with -EAGAIN, its pte set
 * back as it was, and is searched again with whole pages (scan.c).
 */
#define KSMOD_CMP_PREFIX	512
static_assert(KSMOD_CMP_PREFIX % 64 == 0);	/* ksmod_memcmp_page_start() */

static int ksmod_stable_cmp(struct page *page, struct page *tree_page,
			    u64 domain, u64 tree_domain, bool prefix)
{
	if (prefix && domain == tree_domain)
		return ksmod_memcmp_page_start(page, tree_page,
					       KSMOD_CMP_PREFIX);
	return ksmod_memcmp_pages(page, tree_page) ?:
	       ksmod_domain_cmp(domain, tree_domain);
}

/**
 * ksmod_stable_search() - a KSM page with the content of @page
 * @page:	a page being scanned, referenced
 * @domain:	the merge domain key of @page's process
 * @prefix:	a node whose page starts as @page does, and of @domain, is
 *		taken without comparing the rest (see ksmod_stable_cmp())
 *
 * Return: the KSM page of @domain, referenced, that @page may be merged
 * into: @page itself when it is one of ksmod's KSM pages already (a
 * fork's), whatever its number of sharers; or one with room for a sharer
 * more. NULL when there is none; ERR_PTR(-EXDEV) when @page is a KSM page
 * of another domain (forked before its process changed domain): the
 * caller breaks it.
 */
struct page *ksmod_stable_search(struct page *page, u64 domain, bool prefix)
{
	struct ksmod_stable_node *own = ksmod_folio_node(page_folio(page));
	int nid = ksmod_tree_nid(page);
	struct rb_node *node;
	u64 head;

	/* already one of ksmod's KSM pages (a fork's): no need to look */
	if (own) {
		struct page *kpage = ksmod_node_page(own, true);

		if (kpage) {
			unlock_page(kpage);
			if (own->domain == domain)
				return kpage;
			put_page(kpage);
			return ERR_PTR(-EXDEV);
		}
	}
	head = ksmod_page_head(page);
again:
	node = ksmod_stable_roots[nid].rb_node;
	while (node) {
		struct ksmod_stable_node *n =
			rb_entry(node, struct ksmod_stable_node, node), *dup;
		struct page *tree_page;
		int ret;

		cond_resched();
		if (ksmod_head_decides(n, head, &ret)) {
			node = ret < 0 ? n->node.rb_left : n->node.rb_right;
			continue;
		}
		tree_page = ksmod_tree_page(&n, &dup, true);
		if (!tree_page)
			goto again;	/* the tree changed */
		ret = ksmod_stable_cmp(page, tree_page, domain, n->domain,
				       prefix);
		put_page(tree_page);
		if (ret) {
			node = ret < 0 ? n->node.rb_left : n->node.rb_right;
			continue;
		}
		/*
		 * Every KSM page of this content is full: the page waits in
		 * the unstable tree for a twin, to make a new one with it.
		 * Matched on its start only, it may have other content: ask
		 * the whole page.
		 */
		if (!ksmod_sharing_candidate(dup, 0)) {
			if (!prefix)
				return NULL;
			prefix = false;
			goto again;
		}
		/*
		 * Lock and unlock the page, so that a migration of it has
		 * either finished (and we look again) or will see our
		 * reference and fail.
		 */
		tree_page = ksmod_node_page(dup, true);
		if (!tree_page)
			goto again;
		unlock_page(tree_page);
		/* it moved to another node: its node follows it */
		if (!READ_ONCE(ksmod_merge_across_nodes) &&
		    page_to_nid(tree_page) != nid) {
			ksmod_stable_rehome(dup, tree_page,
					    page_to_nid(tree_page));
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
 * @domain:	the merge domain key of its sharers
 *
 * When a KSM page of the same content is in the tree already (all of them
 * full, or the search ran before @kpage was write-protected and could
 * still change), @kpage becomes another dup of that content.
 *
 * Return: the node, or NULL when memory ran out (the caller then undoes
 * the merge).
 */
struct ksmod_stable_node *ksmod_stable_insert(struct page *kpage, u64 domain)
{
	int nid = ksmod_tree_nid(kpage);
	struct ksmod_stable_node *n, *chain;

	chain = kmem_cache_zalloc(ksmod_stable_node_cache,
				  GFP_KERNEL | __GFP_NOWARN);
	if (!chain)
		return NULL;
	n = ksmod_node_new(kpage, nid);
	if (!n) {
		kmem_cache_free(ksmod_stable_node_cache, chain);
		return NULL;
	}
	n->domain = domain;
	ksmod_stable_place(n, kpage, nid, chain);
	ksmod_folio_set_node(page_folio(kpage), n);
	return n;
}

/**
 * ksmod_stable_append() - @item's pte now maps @n's page
 * @item:	the rmap item, with its anon_vma referenced and index set
 * @n:		the node, its page locked
 *
 * A fork's mapping of a KSM page joins it even when that makes more than
 * max_page_sharing, as in the kernel: it is there already.
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
	n->rmap_hlist_len++;
	item->mm->ksm_merging_pages++;
}

/* @item leaves the stable tree. */
void ksmod_stable_remove_item(struct ksmod_rmap_item *item)
{
	struct ksmod_stable_node *n = item->head;
	struct page *page = ksmod_node_page(n, true);

	if (!page)
		return;	/* the node was stale and let go of every item */
	ksmod_stable_detach(item);
	/*
	 * The last item gone and nothing maps the page (its processes
	 * exited): drop the node now rather than when a search next meets
	 * it. The page, if reused from the swap cache, is copied.
	 */
	if (hlist_empty(&n->hlist) && !folio_mapped(page_folio(page))) {
		ksmod_folio_set_node(page_folio(page), NULL);
		ksmod_node_remove(n);
	}
	unlock_page(page);
	put_page(page);
}

/*
 * Call @fn on every node of a KSM page, in every tree (those of chains
 * included); @fn may remove the node it is given, nothing else. Chains
 * left empty are freed. Thread mutex held.
 */
static void ksmod_stable_for_each(void (*fn)(struct ksmod_stable_node *n,
					     void *arg), void *arg)
{
	int nid;

	for (nid = 0; nid < nr_node_ids; nid++) {
		struct rb_node *node = rb_first(&ksmod_stable_roots[nid]);

		while (node) {
			struct ksmod_stable_node *n =
				rb_entry(node, struct ksmod_stable_node, node);
			struct ksmod_stable_node *dup;
			struct hlist_node *tmp;

			node = rb_next(node);
			if (!ksmod_is_chain(n)) {
				fn(n, arg);
			} else {
				hlist_for_each_entry_safe(dup, tmp, &n->hlist,
							  dup_link)
					fn(dup, arg);
				if (hlist_empty(&n->hlist))
					ksmod_chain_free(n);
			}
			cond_resched();
		}
	}
}

/* @n's page in the figures of its domain (KSMOD_IOC_DOMAIN_STATS) */
static void ksmod_domain_count_one(struct ksmod_stable_node *n, void *arg)
{
	struct ksmod_domain_count *c = arg;

	if (n->rmap_hlist_len > 0 && !c->err)
		c->err = ksmod_domain_add(c->xa, n->domain, 1,
					  n->rmap_hlist_len - 1, 0, GFP_KERNEL);
}

/**
 * ksmod_stable_domain_stats() - KSM pages and sharers by merge domain
 * @xa:	the figures by domain key (domain.c); scanner held off
 *
 * Return: 0 or -ENOMEM.
 */
int ksmod_stable_domain_stats(struct xarray *xa)
{
	struct ksmod_domain_count c = { .xa = xa };

	ksmod_stable_for_each(ksmod_domain_count_one, &c);
	return c.err;
}

/* Drop @n if no rmap item and no pte use its page any more. */
static void ksmod_prune_unused_one(struct ksmod_stable_node *n, void *unused)
{
	struct page *page;

	if (!hlist_empty(&n->hlist))
		return;
	page = ksmod_node_page(n, true);	/* drops it if stale */
	if (!page)
		return;
	if (hlist_empty(&n->hlist) && !folio_mapped(page_folio(page))) {
		ksmod_folio_set_node(page_folio(page), NULL);
		ksmod_node_remove(n);
	}
	unlock_page(page);
	put_page(page);
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
	ksmod_stable_for_each(ksmod_prune_unused_one, NULL);
}

/* Is any tree non-empty? */
static bool ksmod_stable_any(void)
{
	int nid;

	for (nid = 0; nid < nr_node_ids; nid++)
		if (!RB_EMPTY_ROOT(&ksmod_stable_roots[nid]))
			return true;
	return false;
}

/**
 * ksmod_stable_drain() - after run=2 unmerged everything: drop every node
 *
 * Every rmap item is gone, so every node left is unused; those whose page
 * is still mapped belong to a process between exit's last mmput() and the
 * end of its unmapping: give it a moment. Thread mutex held.
 *
 * Return: 0 when no node is left, -EBUSY otherwise.
 */
int ksmod_stable_drain(void)
{
	int tries = 50;

	for (;;) {
		ksmod_stable_prune_unused();
		if (!ksmod_stable_any())
			return 0;
		if (!--tries)
			return -EBUSY;
		msleep(20);
	}
}

/**
 * ksmod_stable_empty() - drop unused nodes; is any node left?
 *
 * merge_across_nodes and max_page_sharing only change while no stable
 * node exists, as in the kernel. Called with the thread mutex held.
 *
 * Return: true when the stable trees are empty.
 */
bool ksmod_stable_empty(void)
{
	ksmod_stable_prune_unused();
	return !ksmod_stable_any();
}

struct ksmod_pfn_range {
	unsigned long start, end;
};

static void ksmod_prune_range_one(struct ksmod_stable_node *n, void *arg)
{
	struct ksmod_pfn_range *r = arg;

	if (n->kpfn >= r->start && n->kpfn < r->end)
		ksmod_node_remove(n);
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
	struct ksmod_pfn_range r = { start, end };

	ksmod_stable_for_each(ksmod_prune_range_one, &r);
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

/* Unload: no KSM page is left (each holds the module), maybe empty chains. */
static void ksmod_node_leaked(struct ksmod_stable_node *n, void *unused)
{
	WARN_ONCE(1, "ksmod: a stable node is left at unload\n");
}

void ksmod_stable_exit(void)
{
	ksmod_stable_for_each(ksmod_node_leaked, NULL);
	kmem_cache_destroy(ksmod_stable_node_cache);
}
