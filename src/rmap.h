/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rmap.h - rmap items: one per scanned page of a registered range.
 */
#ifndef _KSMOD_RMAP_H
#define _KSMOD_RMAP_H

#include <linux/mm_types.h>
#include <linux/rbtree.h>
#include <linux/rmap.h>

struct ksmod_stable_node;

/* Low bits of ksmod_rmap_item.address; the page-aligned rest is the address. */
#define KSMOD_SEQNR_MASK	0x0ffUL	/* unstable: pass that inserted it */
#define KSMOD_UNSTABLE_FLAG	0x100UL	/* in the unstable tree */
#define KSMOD_STABLE_FLAG	0x200UL	/* on a stable node's list */
/* how often the page left a KSM page (written, or undone), at most 3 */
#define KSMOD_BROKEN_SHIFT	10
#define KSMOD_BROKEN_MASK	0xc00UL

/**
 * struct ksmod_rmap_item - a scanned page of a process
 * @rmap_list:	next item of the same mm, by address
 * @mm:		the process
 * @address:	the page's address, with the KSMOD_*_FLAG bits, seqnr and the
 *		KSMOD_BROKEN_MASK count
 * @anon_vma:	stable: the anon_vma of the VMA the page was merged in,
 *		referenced, so rmap walks find the pte even after VMA changes
 * @index:	stable: the page's linear index in that VMA (its vm_pgoff
 *		scale), so rmap walks query the interval tree at one point
 * @oldchecksum: unstable: content checksum at the previous visit; the
 *		unstable tree's first key, unchanged while in the tree
 * @nid:	unstable: the NUMA node whose unstable tree holds it
 * @age:	unstable: visits that did not merge it (smart_scan), saturating
 * @seen_batch:	unstable: the scanner's batch of the first visit
 * @visited:	unstable: visited since it was allocated or left a node
 * @unverified:	unstable: inserted on its first visit (scan.c), its
 *		checksum not yet seen to hold still
 * @tail_differs: unstable: a KSM page started as this page but differed
 *		later: its stable searches compare whole pages (stable_tree.c)
 * @node:	unstable: in the unstable tree
 * @head:	stable: the stable node
 * @hlist:	stable: in @head's list
 *
 * The stable-only and unstable-only fields share storage: code must look
 * at the flags before reading either group.
 */
struct ksmod_rmap_item {
	struct ksmod_rmap_item *rmap_list;
	struct mm_struct *mm;
	unsigned long address;
	union {
		struct {			/* stable */
			struct anon_vma *anon_vma;
			pgoff_t index;
		};
		struct {			/* unstable or new */
			unsigned int oldchecksum;
			unsigned short nid;
			u8 age;
			unsigned int seen_batch;
			u8 visited;
			u8 unverified;
			u8 tail_differs;
		};
	};
	union {
		struct rb_node node;		/* unstable */
		struct {			/* stable */
			struct ksmod_stable_node *head;
			struct hlist_node hlist;
		};
	};
};

/*
 * @item is no longer stable: its page left a KSM page (written, or the
 * merge undone). Its unstable fields, which shared storage with the stable
 * ones, start again; but not as a new item's. The kernel keeps an rmap
 * item's smart_scan age and checksum outside any union, so a page that
 * keeps merging and being written ages on, and is skipped for longer and
 * longer: here the age restarts at 3, 5, then 7 after the first, second,
 * third break (KSMOD_BROKEN_MASK counts them), and the page is no first
 * visit any more (early_merge is for new pages only).
 */
static inline void ksmod_rmap_reset_unstable(struct ksmod_rmap_item *item)
{
	unsigned long broken = (item->address & KSMOD_BROKEN_MASK) >>
			       KSMOD_BROKEN_SHIFT;

	if (broken < 3)
		broken++;
	item->address = (item->address & ~KSMOD_BROKEN_MASK) |
			(broken << KSMOD_BROKEN_SHIFT);
	item->oldchecksum = 0;
	item->nid = 0;
	item->age = 1 + 2 * broken;
	item->seen_batch = 0;
	item->visited = 1;
	item->unverified = 0;
	item->tail_differs = 0;
}

static inline unsigned long ksmod_rmap_addr(struct ksmod_rmap_item *item)
{
	return item->address & PAGE_MASK;
}

struct ksmod_rmap_item *ksmod_rmap_item_alloc(struct mm_struct *mm,
					      unsigned long address);
void ksmod_rmap_item_free(struct ksmod_rmap_item *item);
void ksmod_rmap_item_unlink(struct ksmod_rmap_item *item);
void ksmod_rmap_walk(struct folio *folio, struct rmap_walk_control *rwc);
void ksmod_collect_procs(struct folio *folio, struct page *page,
			 struct list_head *to_kill, int force_early);

void ksmod_put_anon_vma(struct anon_vma *anon_vma);

extern atomic_long_t ksmod_nr_rmap_items;

int ksmod_rmap_init(void);
void ksmod_rmap_exit(void);

#endif /* _KSMOD_RMAP_H */
