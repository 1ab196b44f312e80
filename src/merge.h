/* SPDX-License-Identifier: GPL-2.0 */
/*
 * merge.h - turning identical pages into one KSM page, and back.
 */
#ifndef _KSMOD_MERGE_H
#define _KSMOD_MERGE_H

#include <linux/mm_types.h>

struct ksmod_rmap_item;

extern unsigned int ksmod_merge_new_page;
int ksmod_set_merge_new_page(unsigned long on);

u32 ksmod_checksum(struct page *page);
int ksmod_memcmp_page_start(struct page *a, struct page *b, size_t len);
int ksmod_memcmp_pages(struct page *a, struct page *b);
int ksmod_merge_with_ksm_page(struct ksmod_rmap_item *item, struct page *page,
			      struct page *kpage);
int ksmod_merge_zero_page(struct ksmod_rmap_item *item, struct page *page);
struct page *ksmod_merge_two_pages(struct ksmod_rmap_item *item,
				   struct page *page,
				   struct ksmod_rmap_item *tree_item,
				   struct page *tree_page, bool *refused);
void ksmod_break_cow(struct ksmod_rmap_item *item);
void ksmod_break_item(struct ksmod_rmap_item *item);
int ksmod_unmerge_range(struct vm_area_struct *vma, unsigned long start,
			unsigned long end);

#endif /* _KSMOD_MERGE_H */
