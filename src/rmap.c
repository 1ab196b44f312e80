// SPDX-License-Identifier: GPL-2.0
/*
 * rmap.c - rmap items, and the reverse map walk of ksmod's KSM pages.
 *
 * Reclaim, migration, compaction, page_idle and DAMON find the ptes that
 * map a page through rmap_walk(), which hands KSM pages to
 * rmap_walk_ksm(). For pages ksmod made, mm_hooks.c sends that call here.
 * Each rmap item on the page's stable node holds a reference on the
 * anon_vma of the VMA it was merged in, and the page's linear index in it:
 * the walk asks the anon_vma's interval tree for the VMAs covering that
 * one index, which finds the pte after fork, VMA split or merge.
 *
 * Locking: the walk runs with the page locked, which keeps the node's list
 * of rmap items stable (stable_tree.c changes it only with the page
 * locked); it takes each anon_vma's lock for reading.
 */
#include "ksmod.h"

#include <linux/rmap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "rmap.h"
#include "stable_tree.h"
#include "symbols.h"
#include "unstable_tree.h"

static struct kmem_cache *ksmod_rmap_item_cache;

/* live rmap items, for leak tests */
atomic_long_t ksmod_nr_rmap_items = ATOMIC_LONG_INIT(0);

struct ksmod_rmap_item *ksmod_rmap_item_alloc(struct mm_struct *mm,
					      unsigned long address)
{
	struct ksmod_rmap_item *item;

	item = kmem_cache_zalloc(ksmod_rmap_item_cache, GFP_KERNEL |
				 __GFP_NORETRY | __GFP_NOWARN);
	if (!item)
		return NULL;
	item->mm = mm;
	item->address = address;
	mm->ksm_rmap_items++;
	atomic_long_inc(&ksmod_nr_rmap_items);
	return item;
}

/* put_anon_vma(), whose slow path is not exported */
void ksmod_put_anon_vma(struct anon_vma *anon_vma)
{
	if (atomic_dec_and_test(&anon_vma->refcount))
		ksym.__put_anon_vma(anon_vma);
}

/* Take @item out of whichever tree it is in. */
void ksmod_rmap_item_unlink(struct ksmod_rmap_item *item)
{
	if (item->address & KSMOD_STABLE_FLAG)
		ksmod_stable_remove_item(item);
	else if (item->address & KSMOD_UNSTABLE_FLAG)
		ksmod_unstable_remove_item(item);
}

void ksmod_rmap_item_free(struct ksmod_rmap_item *item)
{
	ksmod_rmap_item_unlink(item);
	item->mm->ksm_rmap_items--;
	atomic_long_dec(&ksmod_nr_rmap_items);
	kmem_cache_free(ksmod_rmap_item_cache, item);
}

/**
 * ksmod_rmap_walk() - rmap_walk_ksm() for a KSM page ksmod made
 * @folio:	the page, locked
 * @rwc:	what to do with each mapping
 *
 * First the mappings in each rmap item's own mm, then those of processes
 * forked since the merge, which share the anon_vma but have no rmap item
 * yet: as the kernel's walk does.
 */
void ksmod_rmap_walk(struct folio *folio, struct rmap_walk_control *rwc)
{
	struct ksmod_stable_node *node = ksmod_folio_node(folio);
	struct ksmod_rmap_item *item;
	bool new_forks = false;

	if (WARN_ON_ONCE(!node || !folio_test_locked(folio)))
		return;
again:
	hlist_for_each_entry(item, &node->hlist, hlist) {
		struct anon_vma *anon_vma = item->anon_vma;
		unsigned long addr = ksmod_rmap_addr(item);
		struct anon_vma_chain *vmac;

		cond_resched();
		if (!anon_vma_trylock_read(anon_vma)) {
			if (rwc->try_lock) {
				rwc->contended = true;
				return;
			}
			anon_vma_lock_read(anon_vma);
		}
		for (vmac = ksym.anon_vma_interval_tree_iter_first(
				&anon_vma->rb_root, item->index, item->index);
		     vmac;
		     vmac = ksym.anon_vma_interval_tree_iter_next(
				vmac, item->index, item->index)) {
			struct vm_area_struct *vma = vmac->vma;

			cond_resched();
			if (addr < vma->vm_start || addr >= vma->vm_end)
				continue;
			if ((item->mm == vma->vm_mm) == new_forks)
				continue;
			if (rwc->invalid_vma && rwc->invalid_vma(vma, rwc->arg))
				continue;
			if (!rwc->rmap_one(folio, vma, addr, rwc->arg) ||
			    (rwc->done && rwc->done(folio))) {
				anon_vma_unlock_read(anon_vma);
				return;
			}
		}
		anon_vma_unlock_read(anon_vma);
	}
	if (!new_forks) {
		new_forks = true;
		goto again;
	}
}

/**
 * ksmod_collect_procs() - collect_procs_ksm() for a KSM page ksmod made
 * @folio:	the page, locked, with a memory error
 * @page:	the same page
 * @to_kill:	memory failure's list of processes to signal
 * @force_early: signal the current process early too
 *
 * As the kernel's: every process that maps the page and asked to be told
 * early (or is current, with @force_early) goes on @to_kill. Only the VMAs
 * at each rmap item's index are looked at.
 */
void ksmod_collect_procs(struct folio *folio, struct page *page,
			 struct list_head *to_kill, int force_early)
{
	struct ksmod_stable_node *node = ksmod_folio_node(folio);
	struct ksmod_rmap_item *item;

	if (!node)
		return;
	hlist_for_each_entry(item, &node->hlist, hlist) {
		struct anon_vma *anon_vma = item->anon_vma;
		unsigned long addr = ksmod_rmap_addr(item);
		struct task_struct *tsk;

		anon_vma_lock_read(anon_vma);
		rcu_read_lock();
		for_each_process(tsk) {
			struct task_struct *t = ksmod_task_early_kill(tsk,
								      force_early);
			struct anon_vma_chain *vmac;

			if (!t)
				continue;
			for (vmac = ksym.anon_vma_interval_tree_iter_first(
					&anon_vma->rb_root, item->index,
					item->index);
			     vmac;
			     vmac = ksym.anon_vma_interval_tree_iter_next(
					vmac, item->index, item->index)) {
				struct vm_area_struct *vma = vmac->vma;

				if (vma->vm_mm == t->mm &&
				    addr >= vma->vm_start && addr < vma->vm_end)
					ksmod_add_to_kill(t, page, vma, to_kill,
							  addr);
			}
		}
		rcu_read_unlock();
		anon_vma_unlock_read(anon_vma);
	}
}

int ksmod_rmap_init(void)
{
	ksmod_rmap_item_cache = KMEM_CACHE(ksmod_rmap_item, 0);
	return ksmod_rmap_item_cache ? 0 : -ENOMEM;
}

void ksmod_rmap_exit(void)
{
	WARN_ON_ONCE(atomic_long_read(&ksmod_nr_rmap_items));
	kmem_cache_destroy(ksmod_rmap_item_cache);
}
