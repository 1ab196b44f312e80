/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unstable_tree.h - candidate pages of the current pass.
 */
#ifndef _KSMOD_UNSTABLE_TREE_H
#define _KSMOD_UNSTABLE_TREE_H

#include <linux/types.h>

struct page;
struct ksmod_rmap_item;

struct ksmod_rmap_item *ksmod_unstable_search_insert(
	struct ksmod_rmap_item *item, struct page *page, u64 domain,
	struct page **tree_page);
void ksmod_unstable_remove_item(struct ksmod_rmap_item *item);
void ksmod_unstable_reset(void);

extern unsigned long ksmod_pages_unshared;
extern unsigned long ksmod_scan_seqnr;

#endif /* _KSMOD_UNSTABLE_TREE_H */
