/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stable_tree.h - KSM pages ksmod made, one stable node each.
 */
#ifndef _KSMOD_STABLE_TREE_H
#define _KSMOD_STABLE_TREE_H

#include <linux/mm_types.h>
#include <linux/rbtree.h>
#include <linux/xarray.h>

struct ksmod_rmap_item;

/* rmap_hlist_len of a chain: not a count (the kernel's value, for dumps) */
#define KSMOD_STABLE_CHAIN	(-1024)

/**
 * struct ksmod_stable_node - a KSM page ksmod made, or a chain of them
 * @node:	a plain node or a chain: in the stable tree of @nid, by content
 * @dup_link:	a dup (a KSM page in a chain): in its chain's @hlist
 * @hlist:	a plain node or a dup: the rmap items of every pte that maps
 *		its page, changed only with the page locked, so rmap walks
 *		(page locked) see it whole; a chain: its dups
 * @kpfn:	not a chain: the page's frame. No reference is held: the page
 *		points back with its mapping (node | PAGE_MAPPING_KSM), and
 *		each lookup checks that it still does.
 * @prune_time:	a chain: when a search last checked all its dups (jiffies)
 * @chain:	a dup: its chain; NULL otherwise
 * @rmap_hlist_len: not a chain: rmap items on @hlist (at most
 *		max_page_sharing, but for forks); a chain: KSMOD_STABLE_CHAIN
 * @nid:	the NUMA node whose tree holds it, or its chain (0 while
 *		merging across nodes)
 * @domain:	the merge domain key of its sharers (domain.h); a dup has its
 *		chain's. The trees are ordered by content, then by it.
 * @head:	the first 8 bytes of its page (a chain: of its dups'), as a
 *		big-endian number, which orders them as memcmp() does: a
 *		search decides on it at a node whose page starts otherwise,
 *		without looking the page up. A KSM page never changes.
 */
struct ksmod_stable_node {
	union {
		struct rb_node node;
		struct hlist_node dup_link;
	};
	struct hlist_head hlist;
	union {
		unsigned long kpfn;
		unsigned long prune_time;
	};
	struct ksmod_stable_node *chain;
	int rmap_hlist_len;
	int nid;
	u64 domain;
	u64 head;
};

struct ksmod_stable_node *ksmod_folio_node(struct folio *folio);
void ksmod_folio_set_node(struct folio *folio, struct ksmod_stable_node *n);
struct page *ksmod_node_page(struct ksmod_stable_node *n, bool lock);

struct page *ksmod_stable_search(struct page *page, u64 domain, bool prefix);
struct ksmod_stable_node *ksmod_stable_insert(struct page *kpage, u64 domain);
void ksmod_stable_append(struct ksmod_rmap_item *item,
			 struct ksmod_stable_node *n);
void ksmod_stable_remove_item(struct ksmod_rmap_item *item);
void ksmod_stable_prune(unsigned long start, unsigned long end);
void ksmod_stable_prune_unused(void);
int ksmod_stable_drain(void);
bool ksmod_stable_empty(void);
int ksmod_stable_domain_stats(struct xarray *xa);

void ksmod_stable_migrate(struct folio *newfolio, struct folio *folio);
bool ksmod_stable_owns(struct folio *folio);

extern unsigned long ksmod_pages_shared;
extern unsigned long ksmod_pages_sharing;
extern unsigned long ksmod_stable_node_chains;
extern unsigned long ksmod_stable_node_dups;
extern int ksmod_max_page_sharing;
extern unsigned int ksmod_stable_node_chains_prune_msecs;
extern atomic_long_t ksmod_nr_stable_nodes;

int ksmod_stable_init(void);
void ksmod_stable_exit(void);

#endif /* _KSMOD_STABLE_TREE_H */
