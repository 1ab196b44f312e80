/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stable_tree.h - KSM pages ksmod made, one stable node each.
 */
#ifndef _KSMOD_STABLE_TREE_H
#define _KSMOD_STABLE_TREE_H

#include <linux/mm_types.h>
#include <linux/rbtree.h>

struct ksmod_rmap_item;

/**
 * struct ksmod_stable_node - one KSM page made by ksmod
 * @node:	in the stable tree, keyed by page content
 * @list:	instead, on the list of nodes in no tree (@nid NUMA_NO_NODE)
 * @hlist:	the rmap items of every pte that maps the page; changed only
 *		with the page locked, so rmap walks (page locked) see it whole
 * @kpfn:	the page's frame. No reference is held: the page points back
 *		with its mapping (node | PAGE_MAPPING_KSM), and each lookup
 *		checks that it still does.
 * @nid:	the NUMA node whose tree holds it (0 while merging across
 *		nodes), or NUMA_NO_NODE when in no tree
 */
struct ksmod_stable_node {
	union {
		struct rb_node node;
		struct list_head list;
	};
	struct hlist_head hlist;
	unsigned long kpfn;
	int nid;
};

struct ksmod_stable_node *ksmod_folio_node(struct folio *folio);
void ksmod_folio_set_node(struct folio *folio, struct ksmod_stable_node *n);
struct page *ksmod_node_page(struct ksmod_stable_node *n, bool lock);

struct page *ksmod_stable_search(struct page *page);
struct ksmod_stable_node *ksmod_stable_insert(struct page *kpage);
void ksmod_stable_append(struct ksmod_rmap_item *item,
			 struct ksmod_stable_node *n);
void ksmod_stable_remove_item(struct ksmod_rmap_item *item);
void ksmod_stable_prune(unsigned long start, unsigned long end);
void ksmod_stable_prune_unused(void);
int ksmod_stable_drain(void);
bool ksmod_stable_empty(void);

void ksmod_stable_migrate(struct folio *newfolio, struct folio *folio);
bool ksmod_stable_owns(struct folio *folio);

extern unsigned long ksmod_pages_shared;
extern unsigned long ksmod_pages_sharing;
extern atomic_long_t ksmod_nr_stable_nodes;

int ksmod_stable_init(void);
void ksmod_stable_exit(void);

#endif /* _KSMOD_STABLE_TREE_H */
