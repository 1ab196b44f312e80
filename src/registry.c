// SPDX-License-Identifier: GPL-2.0
/*
 * registry.c - which processes ksmod merges, and how they get there.
 *
 * Ownership model (design §2): ksmod reuses the kernel's own bits. A VMA
 * is mergeable when it has VM_MERGEABLE, and an mm that has such VMAs has
 * MMF_VM_MERGEABLE and a slot in exactly one KSM: the kernel's or ksmod's.
 * ksmod takes over the kernel's entry points for new mms:
 *
 *  - ksm_madvise():  MADV_MERGEABLE/UNMERGEABLE, also from mremap() and
 *                    from the /dev/ksmod ioctls (through do_madvise());
 *  - __ksm_enter():  fork() of an mm with MMF_VM_MERGEABLE (ksm_fork());
 *  - __ksm_exit():   the last mmput() of such an mm (ksm_exit()).
 *
 * An mm with MMF_VM_MERGEABLE but no ksmod slot was registered with the
 * kernel's KSM before ksmod was loaded: every call for it goes on to the
 * kernel, so no mm is ever in both lists. Unload clears VM_MERGEABLE and
 * MMF_VM_MERGEABLE from every mm ksmod owns, so that the kernel's KSM
 * takes the process the next time it asks.
 *
 * Locking: ksmod_mm_lock (a spinlock) protects the hash, the list and each
 * slot's cow_breaks, and nests inside any mmap lock and page table lock. A slot is added under the mmap write lock of
 * its mm (madvise) or of the parent and child (fork), and removed either
 * by ksmod_mm_exit() once nobody uses the mm, or at unload under its mmap
 * write lock; so whoever holds an mm's mmap lock sees a stable answer to
 * "does ksmod own it".
 */
#include "ksmod.h"

#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pid.h>
#include <linux/ptrace.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "uapi/ksmod.h"
#include "merge.h"
#include "registry.h"
#include "rmap.h"
#include "stable_tree.h"
#include "symbols.h"

DEFINE_SPINLOCK(ksmod_mm_lock);
static DEFINE_HASHTABLE(ksmod_mm_hash, 10);
LIST_HEAD(ksmod_mm_list);

/* the slot the scanner is in, which only the scanner may free */
struct ksmod_mm_slot *ksmod_scan_slot;
static struct kmem_cache *ksmod_mm_slot_cache;

/* live slots, for the leak tests */
static atomic_long_t ksmod_nr_mm_slots = ATOMIC_LONG_INIT(0);

/* set at unload: from then on new processes are the kernel's */
static bool ksmod_leaving;

/* Most ranges one KSMOD_IOC_QUERY returns. */
#define KSMOD_QUERY_MAX		65536

static struct ksmod_mm_slot *ksmod_mm_slot_lookup(struct mm_struct *mm)
{
	struct ksmod_mm_slot *slot;

	lockdep_assert_held(&ksmod_mm_lock);
	hash_for_each_possible(ksmod_mm_hash, slot, hash, (unsigned long)mm)
		if (slot->mm == mm)
			return slot;
	return NULL;
}

/**
 * ksmod_owns() - does ksmod merge this mm?
 * @mm:	the mm
 */
bool ksmod_owns(struct mm_struct *mm)
{
	bool owns;

	spin_lock(&ksmod_mm_lock);
	owns = ksmod_mm_slot_lookup(mm);
	spin_unlock(&ksmod_mm_lock);
	return owns;
}

/**
 * ksmod_takes() - should ksmod, not the kernel, answer a KSM call for @mm?
 * @mm:	the mm, with its mmap lock held
 *
 * Yes for mms ksmod owns, and for mms nobody owns yet unless ksmod is
 * being unloaded.
 */
bool ksmod_takes(struct mm_struct *mm)
{
	if (ksmod_owns(mm))
		return true;
	return !test_bit(MMF_VM_MERGEABLE, &mm->flags) &&
	       !READ_ONCE(ksmod_leaving);
}

/* Make @mm ksmod's. */
static int ksmod_enter(struct mm_struct *mm)
{
	struct ksmod_mm_slot *slot;

	slot = kmem_cache_zalloc(ksmod_mm_slot_cache, GFP_KERNEL);
	if (!slot)
		return -ENOMEM;
	slot->mm = mm;
	mmgrab(mm);

	spin_lock(&ksmod_mm_lock);
	hash_add(ksmod_mm_hash, &slot->hash, (unsigned long)mm);
	list_add_tail(&slot->list, &ksmod_mm_list);
	spin_unlock(&ksmod_mm_lock);

	set_bit(MMF_VM_MERGEABLE, &mm->flags);
	atomic_long_inc(&ksmod_nr_mm_slots);
	return 0;
}

/* Take @slot out of the hash and the list; ksmod_mm_lock held. */
void ksmod_mm_slot_unlink(struct ksmod_mm_slot *slot)
{
	lockdep_assert_held(&ksmod_mm_lock);
	hash_del(&slot->hash);
	list_del(&slot->list);
}

/* Free every rmap item of @slot, taking them out of the trees. */
void ksmod_mm_slot_free_items(struct ksmod_mm_slot *slot)
{
	while (slot->rmap_list) {
		struct ksmod_rmap_item *item = slot->rmap_list;

		slot->rmap_list = item->rmap_list;
		ksmod_rmap_item_free(item);
		cond_resched();
	}
}

/* Free an unlinked slot that has no rmap items. */
void ksmod_mm_slot_free(struct ksmod_mm_slot *slot)
{
	WARN_ON_ONCE(slot->rmap_list);
	mmdrop(slot->mm);
	kmem_cache_free(ksmod_mm_slot_cache, slot);
	atomic_long_dec(&ksmod_nr_mm_slots);
}

/* The VMAs the kernel's KSM takes (vma_ksm_compatible() in mm/ksm.c). */
static bool ksmod_vma_compatible(struct vm_area_struct *vma,
				 unsigned long vm_flags)
{
	if (vm_flags & (VM_SHARED | VM_MAYSHARE | VM_PFNMAP | VM_IO |
			VM_DONTEXPAND | VM_HUGETLB | VM_MIXEDMAP |
			KSMOD_VM_DROPPABLE))
		return false;
	return !vma_is_dax(vma);
}

/**
 * ksmod_madvise() - ksm_madvise() for the mms ksmod takes
 * @vma:	the VMA, its mm's mmap lock held for writing
 * @start:	start of the part of @vma the advice is for
 * @end:	its end
 * @advice:	MADV_MERGEABLE or MADV_UNMERGEABLE
 * @vm_flags:	the VMA's new flags, which the caller applies
 *
 * Return: 0 or -ENOMEM, as the kernel's.
 */
int ksmod_madvise(struct vm_area_struct *vma, unsigned long start,
		  unsigned long end, int advice, unsigned long *vm_flags)
{
	struct mm_struct *mm = vma->vm_mm;
	int err;

	switch (advice) {
	case MADV_MERGEABLE:
		if (*vm_flags & VM_MERGEABLE)
			return 0;
		if (!ksmod_vma_compatible(vma, *vm_flags))
			return 0;	/* ignored, as the kernel does */
		if (!test_bit(MMF_VM_MERGEABLE, &mm->flags)) {
			err = ksmod_enter(mm);
			if (err)
				return err;
		}
		*vm_flags |= VM_MERGEABLE;
		return 0;
	case MADV_UNMERGEABLE:
		if (!(*vm_flags & VM_MERGEABLE))
			return 0;
		if (vma->anon_vma) {
			err = ksmod_unmerge_range(vma, start, end);
			if (err)
				return err;
		}
		*vm_flags &= ~VM_MERGEABLE;
		return 0;
	}
	return 0;
}

/**
 * ksmod_fork_child() - __ksm_enter() for a child of an mm ksmod owns
 * @mm:		the child's mm, being copied from current->mm
 * @ret:	where the answer of __ksm_enter() goes
 *
 * ksm_fork() calls __ksm_enter() from the parent, with both mms' mmap
 * locks held, when the parent has MMF_VM_MERGEABLE.
 *
 * Return: true if the child is ksmod's (then *@ret is set).
 */
bool ksmod_fork_child(struct mm_struct *mm, int *ret)
{
	struct mm_struct *parent = current->mm;

	if (!parent || parent == mm || READ_ONCE(ksmod_leaving) ||
	    !ksmod_owns(parent))
		return false;
	/* 6.1 copies the parent's counts into the child; 6.12 zeroes them */
	mm->ksm_merging_pages = 0;
	mm->ksm_rmap_items = 0;
	*ret = ksmod_enter(mm);
	return true;
}

/**
 * ksmod_mm_exit() - __ksm_exit() for an mm ksmod owns
 * @mm:	the mm, which nobody uses any more (mm_users is 0)
 *
 * Return: true if the mm was ksmod's; it is forgotten.
 */
bool ksmod_mm_exit(struct mm_struct *mm)
{
	struct ksmod_mm_slot *slot;
	bool easy = false;

	spin_lock(&ksmod_mm_lock);
	slot = ksmod_mm_slot_lookup(mm);
	if (slot && !slot->rmap_list && slot != ksmod_scan_slot) {
		ksmod_mm_slot_unlink(slot);
		easy = true;
	}
	spin_unlock(&ksmod_mm_lock);
	if (!slot)
		return false;

	if (easy) {
		clear_bit(MMF_VM_MERGEABLE, &mm->flags);
		ksmod_mm_slot_free(slot);
	} else {
		/*
		 * The scanner frees it when it sees mm_users at 0; let a merge
		 * in progress on this mm finish before page tables go.
		 */
		mmap_write_lock(mm);
		mmap_write_unlock(mm);
	}
	return true;
}

/**
 * ksmod_unmerge_mm() - private copies of every ksmod KSM page in @mm
 * @mm:	the mm, its mmap lock held
 *
 * Return: 0 or the first error (-ENOMEM, -ERESTARTSYS).
 */
int ksmod_unmerge_mm(struct mm_struct *mm)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct vm_area_struct *vma;
	int err;

	for_each_vma(vmi, vma) {
		if (!(vma->vm_flags & VM_MERGEABLE) || !vma->anon_vma)
			continue;
		err = ksmod_unmerge_range(vma, vma->vm_start, vma->vm_end);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The mm of process @pid (0: the caller), if the caller may act on it in
 * @mode (a PTRACE_MODE_*), as mm_access() decides for process_madvise().
 */
static struct mm_struct *ksmod_get_mm(pid_t pid, unsigned int mode)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *p;
	int err;

	if (!pid)
		return get_task_mm(current) ?: ERR_PTR(-ESRCH);
	if (pid < 0)
		return ERR_PTR(-ESRCH);

	p = find_get_pid(pid);
	task = get_pid_task(p, PIDTYPE_PID);
	put_pid(p);
	if (!task)
		return ERR_PTR(-ESRCH);

	/* no exec may change the target's credentials meanwhile */
	err = down_read_killable(&task->signal->exec_update_lock);
	if (err) {
		put_task_struct(task);
		return ERR_PTR(err);
	}
	mm = get_task_mm(task);
	if (!mm)
		mm = ERR_PTR(-ESRCH);
	else if (mm != current->mm && !ksym.ptrace_may_access(task, mode)) {
		mmput(mm);
		mm = ERR_PTR(-EPERM);
	}
	up_read(&task->signal->exec_update_lock);
	put_task_struct(task);
	return mm;
}

/**
 * ksmod_register_range() - madvise(@advice) on a range of process @pid
 * @pid:	the process, 0 for the caller
 * @start:	page-aligned start
 * @len:	length in bytes
 * @advice:	MADV_MERGEABLE or MADV_UNMERGEABLE
 *
 * The kernel's madvise does the work, with its rules for alignment, holes
 * and VMA splitting; it calls ksm_madvise(), which is ksmod's.
 *
 * Return: 0 or -errno as madvise(), or -ESRCH/-EPERM for @pid.
 */
int ksmod_register_range(pid_t pid, unsigned long start, size_t len,
			 int advice)
{
	struct mm_struct *mm;
	int err;

	mm = ksmod_get_mm(pid, PTRACE_MODE_ATTACH_REALCREDS);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	err = ksym.do_madvise(mm, start, len, advice);
	mmput(mm);
	return err;
}

/*
 * Count @mm's mergeable ranges, adjacent VMAs joined, and store the first
 * @room of them in @r. The mmap lock is held.
 */
static u32 ksmod_collect_ranges(struct mm_struct *mm, struct ksmod_range *r,
				u32 room)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct vm_area_struct *vma;
	unsigned long end = 0;
	u32 n = 0;

	for_each_vma(vmi, vma) {
		if (!(vma->vm_flags & VM_MERGEABLE))
			continue;
		if (n && vma->vm_start == end) {
			if (n <= room)
				r[n - 1].end = vma->vm_end;
		} else {
			if (n < room) {
				r[n].start = vma->vm_start;
				r[n].end = vma->vm_end;
			}
			n++;
		}
		end = vma->vm_end;
	}
	return n;
}

/**
 * ksmod_query_ranges() - fill in a struct ksmod_query
 * @q:	the request, already copied in; ranges are copied out here
 *
 * Return: 0 or -errno.
 */
int ksmod_query_ranges(struct ksmod_query *q)
{
	u32 room = min_t(u32, q->nr, KSMOD_QUERY_MAX), n;
	struct ksmod_range *r = NULL;
	struct mm_struct *mm;
	int err = 0;

	mm = ksmod_get_mm(q->pid, PTRACE_MODE_READ_REALCREDS);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	if (room) {
		r = kvmalloc_array(room, sizeof(*r), GFP_KERNEL);
		if (!r) {
			err = -ENOMEM;
			goto out;
		}
	}

	err = mmap_read_lock_killable(mm);
	if (err)
		goto out;
	if (ksmod_owns(mm))
		q->owner = KSMOD_OWNER_KSMOD;
	else if (test_bit(MMF_VM_MERGEABLE, &mm->flags))
		q->owner = KSMOD_OWNER_KERNEL;
	else
		q->owner = KSMOD_OWNER_NONE;
	n = ksmod_collect_ranges(mm, r, room);
	mmap_read_unlock(mm);

	/* copy after unlocking: the copy may fault in the caller's mm */
	if (room && copy_to_user(u64_to_user_ptr(q->ranges), r,
				 min(n, room) * sizeof(*r)))
		err = -EFAULT;
	q->nr = n;
out:
	kvfree(r);
	mmput(mm);
	return err;
}

/**
 * ksmod_count_cow_break() - @mm copied one of ksmod's KSM pages on write
 * @mm:	the faulting mm; its page table lock may be held
 */
void ksmod_count_cow_break(struct mm_struct *mm)
{
	struct ksmod_mm_slot *slot;

	spin_lock(&ksmod_mm_lock);
	slot = ksmod_mm_slot_lookup(mm);
	if (slot)
		slot->cow_breaks++;
	spin_unlock(&ksmod_mm_lock);
}

/**
 * ksmod_query_stats() - fill in a struct ksmod_mm_stats
 * @st:	the request; @st->pid in, the rest out
 *
 * Return: 0 or -errno.
 */
int ksmod_query_stats(struct ksmod_mm_stats *st)
{
	struct ksmod_mm_slot *slot;
	struct mm_struct *mm;
	int err;

	mm = ksmod_get_mm(st->pid, PTRACE_MODE_READ_REALCREDS);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	err = mmap_read_lock_killable(mm);
	if (err)
		goto out;
	spin_lock(&ksmod_mm_lock);
	slot = ksmod_mm_slot_lookup(mm);
	if (slot) {
		st->owner = KSMOD_OWNER_KSMOD;
		st->cow_breaks = slot->cow_breaks;
		st->merging_pages = READ_ONCE(mm->ksm_merging_pages);
		st->rmap_items = READ_ONCE(mm->ksm_rmap_items);
	} else {
		st->owner = test_bit(MMF_VM_MERGEABLE, &mm->flags) ?
			    KSMOD_OWNER_KERNEL : KSMOD_OWNER_NONE;
		st->cow_breaks = 0;
		st->merging_pages = 0;
		st->rmap_items = 0;
	}
	spin_unlock(&ksmod_mm_lock);
	mmap_read_unlock(mm);
	st->pad = 0;
out:
	mmput(mm);
	return err;
}

/* Give @mm back to the kernel's KSM: clear what ksmod set. */
static void ksmod_release_mm(struct mm_struct *mm)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct vm_area_struct *vma;

	mmap_assert_write_locked(mm);
	for_each_vma(vmi, vma)
		if (vma->vm_flags & VM_MERGEABLE)
			ksmod_vm_flags_clear(vma, VM_MERGEABLE);
	clear_bit(MMF_VM_MERGEABLE, &mm->flags);
}

/**
 * ksmod_registry_release() - at unload, give every process back
 *
 * Runs with the scanner stopped and the hooks still installed, so that
 * exits and forks keep coming to ksmod; from the first line on, processes
 * ksmod does not own go to the kernel's KSM. Each process gets private
 * copies of its merged pages first.
 */
void ksmod_registry_release(void)
{
	struct ksmod_mm_slot *slot;
	struct mm_struct *mm;
	bool alive;

	WRITE_ONCE(ksmod_leaving, true);
	for (;;) {
		spin_lock(&ksmod_mm_lock);
		slot = list_first_entry_or_null(&ksmod_mm_list,
						struct ksmod_mm_slot, list);
		if (!slot) {
			spin_unlock(&ksmod_mm_lock);
			break;
		}
		mm = slot->mm;
		mmgrab(mm);
		spin_unlock(&ksmod_mm_lock);

		/* a live mm: no madvise and no fork of it meanwhile */
		alive = mmget_not_zero(mm);
		if (alive)
			mmap_write_lock(mm);
		spin_lock(&ksmod_mm_lock);
		slot = ksmod_mm_slot_lookup(mm);
		if (slot)
			ksmod_mm_slot_unlink(slot);
		spin_unlock(&ksmod_mm_lock);
		if (slot) {
			if (alive && ksmod_unmerge_mm(mm))
				pr_warn("could not unmerge every page of a process: its KSM pages stay shared until it writes them\n");
			ksmod_mm_slot_free_items(slot);
			if (alive)
				ksmod_release_mm(mm);
			ksmod_mm_slot_free(slot);
		}
		if (alive) {
			mmap_write_unlock(mm);
			mmput(mm);
		}
		mmdrop(mm);
	}
}

int ksmod_registry_init(void)
{
	ksmod_mm_slot_cache = KMEM_CACHE(ksmod_mm_slot, 0);
	return ksmod_mm_slot_cache ? 0 : -ENOMEM;
}

void ksmod_registry_exit(void)
{
	WARN_ON_ONCE(!list_empty(&ksmod_mm_list));
	kmem_cache_destroy(ksmod_mm_slot_cache);
}

/* debugfs "objects" */
void ksmod_registry_show(struct seq_file *m)
{
	seq_printf(m, "mm_slots %ld\n", atomic_long_read(&ksmod_nr_mm_slots));
	seq_printf(m, "rmap_items %ld\n", atomic_long_read(&ksmod_nr_rmap_items));
	seq_printf(m, "stable_nodes %ld\n",
		   atomic_long_read(&ksmod_nr_stable_nodes));
}
