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
 *                    on 6.12 also exec() of a merge-any mm (ksm_execve());
 *  - __ksm_exit():   the last mmput() of such an mm (ksm_exit());
 *  - prctl(PR_SET_MEMORY_MERGE): whole-process merging, see prctl.c.
 *
 * An mm with MMF_VM_MERGEABLE (or, 6.12, MMF_VM_MERGE_ANY) but no ksmod
 * slot was registered with the kernel's KSM before ksmod was loaded: every
 * call for it goes on to the kernel, so no mm is ever in both lists, and
 * that includes its prctl(): on 6.12 the kernel merges it whole, on 6.1
 * (whose KSM cannot) PR_SET_MEMORY_MERGE fails with EBUSY. Unload clears
 * VM_MERGEABLE and MMF_VM_MERGEABLE from every mm ksmod owns, so that the
 * kernel's KSM takes the process the next time it asks; a merge-any
 * process it hands to the kernel's KSM at once on 6.12, still merge-any,
 * since it may never ask again (6.1's KSM has no merge-any: it is cleared).
 *
 * Locking: ksmod_mm_lock (a spinlock) protects the hash and the list, and
 * nests inside any mmap lock and page table lock. The hash is also read
 * under RCU alone, by the COW counter of the do_wp_page hook: it runs in
 * an ftrace callback, preemption off, where a spinlock_t (a sleeping lock
 * on PREEMPT_RT) may not be taken; slots are freed after a grace period. A
 * slot is added under the mmap write lock of its mm (madvise, prctl, exec)
 * or of the parent and child (fork), and removed either by ksmod_mm_exit()
 * once nobody uses the mm, or at unload under its mmap write lock; so
 * whoever holds an mm's mmap lock sees a stable answer to "does ksmod own
 * it". A slot's merge_any changes under its mm's mmap write lock. Unload
 * sets ksmod_leaving under ksmod_mm_lock, so that a slot added before is
 * one unload finds (ksmod_enter()).
 */
#include "ksmod.h"

#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pid.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "uapi/ksmod.h"
#include "domain.h"
#include "merge.h"
#include "prctl.h"
#include "registry.h"
#include "rmap.h"
#include "scan.h"
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

/*
 * set at unload, under ksmod_mm_lock: from then on new processes are the
 * kernel's
 */
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

/* Call @fn on each registered process's slot, under ksmod_mm_lock. */
void ksmod_registry_for_each(void (*fn)(struct ksmod_mm_slot *, void *),
			     void *arg)
{
	struct ksmod_mm_slot *slot;

	spin_lock(&ksmod_mm_lock);
	list_for_each_entry(slot, &ksmod_mm_list, list)
		fn(slot, arg);
	spin_unlock(&ksmod_mm_lock);
}

/* @mm's slot, or NULL when ksmod does not merge it */
struct ksmod_mm_slot *ksmod_mm_slot_find(struct mm_struct *mm)
{
	struct ksmod_mm_slot *slot;

	spin_lock(&ksmod_mm_lock);
	slot = ksmod_mm_slot_lookup(mm);
	spin_unlock(&ksmod_mm_lock);
	return slot;
}

/**
 * ksmod_mm_domain() - the merge domain key of a registered mm
 * @mm:	the mm of an rmap item in a tree
 *
 * Return: the key its slot got when the scanner last entered it, or
 * KSMOD_DOMAIN_UNSET for an mm no longer registered.
 */
u64 ksmod_mm_domain(struct mm_struct *mm)
{
	struct ksmod_mm_slot *slot;
	u64 domain;

	spin_lock(&ksmod_mm_lock);
	slot = ksmod_mm_slot_lookup(mm);
	domain = slot ? slot->domain : KSMOD_DOMAIN_UNSET;
	spin_unlock(&ksmod_mm_lock);
	return domain;
}

/* The scanner entered @slot, whose key is now @domain. */
void ksmod_set_slot_domain(struct ksmod_mm_slot *slot, u64 domain)
{
	spin_lock(&ksmod_mm_lock);
	slot->domain = domain;
	spin_unlock(&ksmod_mm_lock);
}

/**
 * ksmod_registry_domain_items() - rmap items by merge domain
 * @xa:	the figures by domain key (domain.c); scanner held off
 *
 * Return: 0 or -ENOMEM.
 */
int ksmod_registry_domain_items(struct xarray *xa)
{
	struct ksmod_mm_slot *slot;
	int err = 0;

	spin_lock(&ksmod_mm_lock);
	list_for_each_entry(slot, &ksmod_mm_list, list) {
		if (slot->domain == KSMOD_DOMAIN_UNSET)
			continue;
		err = ksmod_domain_add(xa, slot->domain, 0, 0,
				       READ_ONCE(slot->mm->ksm_rmap_items),
				       GFP_ATOMIC);
		if (err)
			break;
	}
	spin_unlock(&ksmod_mm_lock);
	return err;
}

/* Merge domains changed, with nothing merged: every slot's key anew. */
void ksmod_reset_slot_domains(void)
{
	struct ksmod_mm_slot *slot;

	spin_lock(&ksmod_mm_lock);
	list_for_each_entry(slot, &ksmod_mm_list, list)
		slot->domain = KSMOD_DOMAIN_UNSET;
	spin_unlock(&ksmod_mm_lock);
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
 * being unloaded. A merge-any mm without a ksmod slot (6.12) is the
 * kernel's, even when the kernel's scanner dropped its MMF_VM_MERGEABLE.
 */
bool ksmod_takes(struct mm_struct *mm)
{
	if (ksmod_owns(mm))
		return true;
	return !test_bit(MMF_VM_MERGEABLE, &mm->flags) &&
	       !ksmod_mm_merge_any_bit(mm) && !READ_ONCE(ksmod_leaving);
}

/*
 * Make @mm ksmod's, with its mmap lock held for writing. @parent is the mm
 * it is forked or exec'd from, which must still be ksmod's; NULL for a new
 * registration, which unload refuses. Both are checked under
 * ksmod_mm_lock, where unload's ksmod_registry_release() looks for the next
 * slot: a slot added here is one it finds, however the two race.
 *
 * Return: the slot, NULL if refused, or ERR_PTR(-ENOMEM).
 */
static struct ksmod_mm_slot *ksmod_enter(struct mm_struct *mm,
					 struct mm_struct *parent)
{
	struct ksmod_mm_slot *slot;
	bool refused;

	slot = kmem_cache_zalloc(ksmod_mm_slot_cache, GFP_KERNEL);
	if (!slot)
		return ERR_PTR(-ENOMEM);
	slot->mm = mm;
	slot->domain = KSMOD_DOMAIN_UNSET;

	spin_lock(&ksmod_mm_lock);
	if (parent) {
		struct ksmod_mm_slot *pslot = ksmod_mm_slot_lookup(parent);

		refused = !pslot;
		if (pslot) {
			slot->tag = pslot->tag;
			slot->by_cgroup = pslot->by_cgroup;
			/*
			 * it maps the parent's KSM pages, of that domain:
			 * should its own differ (cloned into another
			 * cgroup), entering it breaks them (scan.c)
			 */
			slot->domain = pslot->domain;
		}
	} else {
		refused = ksmod_leaving;
	}
	if (!refused) {
		hash_add_rcu(ksmod_mm_hash, &slot->hash, (unsigned long)mm);
		list_add_tail(&slot->list, &ksmod_mm_list);
	}
	spin_unlock(&ksmod_mm_lock);
	if (refused) {
		kmem_cache_free(ksmod_mm_slot_cache, slot);
		return NULL;
	}

	mmgrab(mm);
	set_bit(MMF_VM_MERGEABLE, &mm->flags);
	atomic_long_inc(&ksmod_nr_mm_slots);
	return slot;
}

/* Take @slot out of the hash and the list; ksmod_mm_lock held. */
void ksmod_mm_slot_unlink(struct ksmod_mm_slot *slot)
{
	lockdep_assert_held(&ksmod_mm_lock);
	hash_del_rcu(&slot->hash);
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

static void ksmod_mm_slot_free_rcu(struct rcu_head *rcu)
{
	kmem_cache_free(ksmod_mm_slot_cache,
			container_of(rcu, struct ksmod_mm_slot, rcu));
}

/*
 * Free an unlinked slot that has no rmap items: its memory after a grace
 * period, as ksmod_count_cow_break() may still be looking at it.
 */
void ksmod_mm_slot_free(struct ksmod_mm_slot *slot)
{
	WARN_ON_ONCE(slot->rmap_list);
	mmdrop(slot->mm);
	call_rcu(&slot->rcu, ksmod_mm_slot_free_rcu);
	atomic_long_dec(&ksmod_nr_mm_slots);
}

/**
 * ksmod_vma_compatible() - a VMA the kernel's KSM would take
 * @vma:	the VMA
 * @vm_flags:	its flags, or the flags it is about to get
 *
 * As vma_ksm_compatible() in mm/ksm.c: private, not PFN/IO/mixed maps,
 * not hugetlb, DAX or droppable.
 */
bool ksmod_vma_compatible(struct vm_area_struct *vma, unsigned long vm_flags)
{
	if (vm_flags & (VM_SHARED | VM_MAYSHARE | VM_PFNMAP | VM_IO |
			VM_DONTEXPAND | VM_HUGETLB | VM_MIXEDMAP |
			KSMOD_VM_DROPPABLE))
		return false;
	return !vma_is_dax(vma);
}

/**
 * ksmod_vma_mergeable() - may ksmod merge the pages of @vma?
 * @vma:	the VMA, its mmap lock held
 *
 * VM_MERGEABLE alone is not enough: on 6.1 a merge-any process gets it on
 * every new VMA, compatible or not (compat.h, ksmod_mm_set_merge_any()).
 */
bool ksmod_vma_mergeable(struct vm_area_struct *vma)
{
	return (vma->vm_flags & VM_MERGEABLE) &&
	       ksmod_vma_compatible(vma, vma->vm_flags);
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
	struct ksmod_mm_slot *slot;
	int err;

	switch (advice) {
	case MADV_MERGEABLE:
		if (*vm_flags & VM_MERGEABLE)
			return 0;
		if (!ksmod_vma_compatible(vma, *vm_flags))
			return 0;	/* ignored, as the kernel does */
		if (!test_bit(MMF_VM_MERGEABLE, &mm->flags)) {
			slot = ksmod_enter(mm, NULL);
			if (IS_ERR(slot))
				return PTR_ERR(slot);
			/* unload began since ksmod_takes(): the kernel's */
			if (!slot) {
				err = ksym.__ksm_enter(mm);
				if (err)
					return err;
			}
		}
		*vm_flags |= VM_MERGEABLE;
		return 0;
	case MADV_UNMERGEABLE:
		if (!(*vm_flags & VM_MERGEABLE))
			return 0;
		if (vma->anon_vma && ksmod_vma_compatible(vma, *vm_flags)) {
			err = ksmod_unmerge_range(vma, start, end);
			if (err)
				return err;
		}
		*vm_flags &= ~VM_MERGEABLE;
		return 0;
	}
	return 0;
}

/* Merge-any for the mm of @slot; its mmap lock held for writing. */
static void ksmod_slot_set_merge_any(struct ksmod_mm_slot *slot)
{
	WRITE_ONCE(slot->merge_any, true);
	ksmod_mm_set_merge_any(slot->mm);
}

/**
 * ksmod_mm_merge_any() - does ksmod merge @mm whole?
 * @mm:	the mm
 *
 * Also prctl(PR_GET_MEMORY_MERGE) on 6.1, where no kernel bit says it.
 */
bool ksmod_mm_merge_any(struct mm_struct *mm)
{
	struct ksmod_mm_slot *slot;
	bool merge_any;

	spin_lock(&ksmod_mm_lock);
	slot = ksmod_mm_slot_lookup(mm);
	merge_any = slot && READ_ONCE(slot->merge_any);
	spin_unlock(&ksmod_mm_lock);
	return merge_any;
}

/**
 * ksmod_fork_child() - __ksm_enter() for a child of an mm ksmod owns
 * @mm:		the child's mm, being copied from current->mm
 * @ret:	where the answer of __ksm_enter() goes
 *
 * ksm_fork() calls __ksm_enter() from the parent, with both mms' mmap
 * locks held, when the parent has MMF_VM_MERGEABLE. On 6.12 ksm_execve()
 * calls it too, for the new mm of an exec() when the old one is merge-any,
 * with the new mm's mmap lock held. Either way the child is ksmod's when
 * current->mm is, merge-any when that is. Also while unloading: then the
 * child gets its bits cleared with its parent's (6.1: the VM_MERGEABLE
 * that def_flags put on VMAs the kernel's KSM must not see).
 *
 * Return: true if the child is ksmod's (then *@ret is set).
 */
bool ksmod_fork_child(struct mm_struct *mm, int *ret)
{
	struct mm_struct *parent = current->mm;
	struct ksmod_mm_slot *slot;
	bool merge_any;

	if (!parent || parent == mm)
		return false;
	spin_lock(&ksmod_mm_lock);
	slot = ksmod_mm_slot_lookup(parent);
	merge_any = slot && READ_ONCE(slot->merge_any);
	spin_unlock(&ksmod_mm_lock);
	if (!slot)
		return false;
	/* 6.1 copies the parent's counts into the child; 6.12 zeroes them */
	mm->ksm_merging_pages = 0;
	mm->ksm_rmap_items = 0;
	ksmod_fork_uncount_zero_pages(mm, parent);
	slot = ksmod_enter(mm, parent);
	if (!slot)		/* the parent was given back meanwhile */
		return false;
	if (IS_ERR(slot)) {
		*ret = PTR_ERR(slot);
		return true;
	}
	if (merge_any)
		ksmod_slot_set_merge_any(slot);
	*ret = 0;
	return true;
}

/**
 * ksmod_exec_child() - exec() of a merge-any process ksmod owns (6.1)
 * @mm:	the new mm, not yet in use
 *
 * What 6.12's ksm_execve() does: the new program is merge-any too, and
 * ksmod's. Called before begin_new_exec() switches current to @mm; should
 * the exec fail, the new mm's last mmput() (__ksm_exit()) forgets it. A
 * thread of the old program changing its prctl meanwhile may or may not be
 * seen, as with 6.12's copy of MMF_VM_MERGE_ANY.
 *
 * Return: 0 or -ENOMEM, which fails the exec as in 6.12.
 */
int ksmod_exec_child(struct mm_struct *mm)
{
	struct mm_struct *parent = current->mm;
	struct ksmod_mm_slot *slot;

	if (!parent || !ksmod_mm_merge_any(parent))
		return 0;
	mmap_write_lock(mm);
	slot = ksmod_enter(mm, parent);
	if (!IS_ERR_OR_NULL(slot))
		ksmod_slot_set_merge_any(slot);
	mmap_write_unlock(mm);
	return PTR_ERR_OR_ZERO(slot);
}

/*
 * Mark every VMA of @mm that KSM may merge VM_MERGEABLE, as 6.12's
 * ksm_add_vmas(); mmap lock held for writing.
 */
static void ksmod_add_vmas(struct mm_struct *mm)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct vm_area_struct *vma;

	for_each_vma(vmi, vma)
		if (!(vma->vm_flags & VM_MERGEABLE) &&
		    ksmod_vma_compatible(vma, vma->vm_flags))
			ksmod_vm_flags_set(vma, VM_MERGEABLE);
}

/**
 * ksmod_enable_merge_any() - prctl(PR_SET_MEMORY_MERGE, 1) for @mm
 * @mm:	an mm ksmod takes (ksmod_takes()), its mmap lock held for writing
 *
 * As 6.12's ksm_enable_merge_any(): @mm becomes ksmod's if it was nobody's,
 * every VMA KSM may merge becomes VM_MERGEABLE, and so will every new one.
 *
 * Return: 0, -ENOMEM, or -EAGAIN when unload began meanwhile (then the
 * process is nobody's still).
 */
int ksmod_enable_merge_any(struct mm_struct *mm)
{
	struct ksmod_mm_slot *slot;

	mmap_assert_write_locked(mm);
	spin_lock(&ksmod_mm_lock);
	slot = ksmod_mm_slot_lookup(mm);
	spin_unlock(&ksmod_mm_lock);
	if (slot && slot->merge_any)
		return 0;
	if (!slot) {
		slot = ksmod_enter(mm, NULL);
		if (IS_ERR(slot))
			return PTR_ERR(slot);
		if (!slot)
			return -EAGAIN;
	}
	ksmod_slot_set_merge_any(slot);
	ksmod_add_vmas(mm);
	return 0;
}

/**
 * ksmod_disable_merge_any() - prctl(PR_SET_MEMORY_MERGE, 0) for @mm
 * @mm:	an mm ksmod owns, its mmap lock held for writing
 *
 * As 6.12's ksm_disable_merge_any(): every page ksmod merged gets a
 * private copy and no VMA stays VM_MERGEABLE, also those madvised so; new
 * VMAs are not mergeable any more. The process stays ksmod's, with nothing
 * to merge, until it exits or asks again. If unmerging fails, merge-any
 * stays on and every VMA mergeable.
 *
 * Return: 0, -ENOMEM or -ERESTARTSYS (a fatal signal).
 */
int ksmod_disable_merge_any(struct mm_struct *mm)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct ksmod_mm_slot *slot;
	struct vm_area_struct *vma;
	int err;

	mmap_assert_write_locked(mm);
	spin_lock(&ksmod_mm_lock);
	slot = ksmod_mm_slot_lookup(mm);
	spin_unlock(&ksmod_mm_lock);
	if (!slot || !slot->merge_any)
		return 0;

	for_each_vma(vmi, vma) {
		if (!(vma->vm_flags & VM_MERGEABLE))
			continue;
		if (vma->anon_vma && ksmod_vma_mergeable(vma)) {
			err = ksmod_unmerge_range(vma, vma->vm_start,
						  vma->vm_end);
			if (err) {
				ksmod_add_vmas(mm);
				return err;
			}
		}
		ksmod_vm_flags_clear(vma, VM_MERGEABLE);
	}
	WRITE_ONCE(slot->merge_any, false);
	ksmod_mm_clear_merge_any(mm);
	return 0;
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
		if (!ksmod_vma_mergeable(vma) || !vma->anon_vma)
			continue;
		err = ksmod_unmerge_range(vma, vma->vm_start, vma->vm_end);
		if (err)
			return err;
	}
	return 0;
}

/* @task's mm, if the caller may act on it in @mode (a PTRACE_MODE_*) */
static struct mm_struct *ksmod_get_task_mm(struct task_struct *task,
					   unsigned int mode)
{
	struct mm_struct *mm;
	int err;

	/* no exec may change the target's credentials meanwhile */
	err = down_read_killable(&task->signal->exec_update_lock);
	if (err)
		return ERR_PTR(err);
	mm = get_task_mm(task);
	if (!mm)
		mm = ERR_PTR(-ESRCH);
	else if (mm != current->mm && !ksym.ptrace_may_access(task, mode)) {
		mmput(mm);
		mm = ERR_PTR(-EPERM);
	}
	up_read(&task->signal->exec_update_lock);
	return mm;
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

	if (!pid)
		return get_task_mm(current) ?: ERR_PTR(-ESRCH);
	if (pid < 0)
		return ERR_PTR(-ESRCH);

	p = find_get_pid(pid);
	task = get_pid_task(p, PIDTYPE_PID);
	put_pid(p);
	if (!task)
		return ERR_PTR(-ESRCH);
	mm = ksmod_get_task_mm(task, mode);
	put_task_struct(task);
	return mm;
}

/**
 * ksmod_task_whole() - KSMOD_RANGE_WHOLE for a task of a cgroup (follow.c)
 * @task:	the task, referenced
 * @on:		register or unregister
 * @check:	with the caller's rights over @task (else ksmod's own doing:
 *		unregistering one it registered for a followed cgroup)
 * @by_cgroup:	on: mark it registered for a followed cgroup, when it was
 *		not ksmod's before; off: only if so marked
 *
 * Return: 0, -ESRCH/-EPERM for @task, -EALREADY when there was nothing to
 * do, or what the prctl gives.
 */
int ksmod_task_whole(struct task_struct *task, bool on, bool check,
		     bool by_cgroup)
{
	struct ksmod_mm_slot *slot;
	struct mm_struct *mm;
	bool had, was, mine;
	int err;

	if (check) {
		mm = ksmod_get_task_mm(task, PTRACE_MODE_ATTACH_REALCREDS);
		if (IS_ERR(mm))
			return PTR_ERR(mm);
	} else {
		mm = get_task_mm(task);
		if (!mm)
			return -ESRCH;
	}
	if (mmap_write_lock_killable(mm)) {
		mmput(mm);
		return -EINTR;
	}
	spin_lock(&ksmod_mm_lock);
	slot = ksmod_mm_slot_lookup(mm);
	had = slot;
	was = slot && READ_ONCE(slot->merge_any);
	mine = slot && slot->by_cgroup;
	spin_unlock(&ksmod_mm_lock);
	if (on == was || (!on && by_cgroup && !mine))
		err = -EALREADY;	/* one registered otherwise keeps it */
	else
		err = ksmod_set_merge_any(mm, on);
	/* marked only when it was not ksmod's at all before */
	if (!err && on && by_cgroup && !had) {
		spin_lock(&ksmod_mm_lock);
		slot = ksmod_mm_slot_lookup(mm);
		if (slot)
			slot->by_cgroup = true;
		spin_unlock(&ksmod_mm_lock);
	}
	mmap_write_unlock(mm);
	mmput(mm);
	return err;
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

/**
 * ksmod_register_whole() - KSMOD_RANGE_WHOLE: prctl(PR_SET_MEMORY_MERGE)
 * for another process
 * @pid:	the process, 0 for the caller
 * @on:		1 to merge it whole, 0 to stop and unmerge
 *
 * Return: 0, -ESRCH/-EPERM for @pid, -EINTR, or what the prctl gives.
 */
int ksmod_register_whole(pid_t pid, bool on)
{
	struct mm_struct *mm;
	int err;

	mm = ksmod_get_mm(pid, PTRACE_MODE_ATTACH_REALCREDS);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	if (mmap_write_lock_killable(mm)) {
		err = -EINTR;
	} else {
		err = ksmod_set_merge_any(mm, on);
		mmap_write_unlock(mm);
	}
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
		if (!ksmod_vma_mergeable(vma))
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

/* KSMOD_OWNER_* of @mm, whose mmap lock is held; @ours: ksmod has a slot */
static u32 ksmod_owner(struct mm_struct *mm, bool ours)
{
	if (ours)
		return KSMOD_OWNER_KSMOD;
	if (test_bit(MMF_VM_MERGEABLE, &mm->flags) ||
	    ksmod_mm_merge_any_bit(mm))
		return KSMOD_OWNER_KERNEL;
	return KSMOD_OWNER_NONE;
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
	q->owner = ksmod_owner(mm, ksmod_owns(mm));
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

	rcu_read_lock();
	hash_for_each_possible_rcu(ksmod_mm_hash, slot, hash, (unsigned long)mm)
		if (slot->mm == mm) {
			atomic_long_inc(&slot->cow_breaks);
			break;
		}
	rcu_read_unlock();
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
	st->owner = ksmod_owner(mm, slot);
	if (slot) {
		st->cow_breaks = atomic_long_read(&slot->cow_breaks);
		st->merging_pages = READ_ONCE(mm->ksm_merging_pages);
		st->rmap_items = READ_ONCE(mm->ksm_rmap_items);
	} else {
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

/**
 * ksmod_set_tag() - KSMOD_IOC_SET_TAG: the merge domain tag of a process
 * @pid:	the process, 0 for the caller
 * @tag:	its tag, at most KSMOD_TAG_MAX
 *
 * Under merge_domain "tag" the new tag takes effect at once: the
 * process's KSM pages of the old tag are broken before this returns.
 *
 * Return: 0, -ESRCH/-EPERM for @pid, -ENOENT when ksmod does not merge
 * the process; -ENOMEM/-EINTR when breaking its KSM pages failed (the tag
 * is set, and the scanner breaks them when it next enters the process).
 */
int ksmod_set_tag(pid_t pid, u64 tag)
{
	struct ksmod_mm_slot *slot;
	struct mm_struct *mm;
	int err;

	mm = ksmod_get_mm(pid, PTRACE_MODE_ATTACH_REALCREDS);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	spin_lock(&ksmod_mm_lock);
	slot = ksmod_mm_slot_lookup(mm);
	if (slot)
		slot->tag = tag;
	spin_unlock(&ksmod_mm_lock);
	if (!slot) {
		mmput(mm);
		pr_info_ratelimited("SET_TAG: pid %d is not registered with ksmod\n",
				    pid);
		return -ENOENT;
	}
	err = ksmod_rekey_now(mm);
	mmput(mm);
	return err;
}

/*
 * Give @mm back to the kernel's KSM: clear what ksmod set. A merge-any mm
 * the kernel's KSM can merge whole (6.12) goes to it at once, still
 * merge-any, with the VM_MERGEABLE ksmod set only where the kernel would.
 */
static void ksmod_release_mm(struct mm_struct *mm, bool merge_any)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct vm_area_struct *vma;
	int err;

	mmap_assert_write_locked(mm);
	clear_bit(MMF_VM_MERGEABLE, &mm->flags);
	if (merge_any && KSMOD_KERNEL_MERGE_ANY) {
		err = ksym.__ksm_enter(mm);
		if (!err)
			return;
		pr_warn("cannot hand a merge-any process to the kernel's KSM (%pe): it is not merge-any any more\n",
			ERR_PTR(err));
	}
	for_each_vma(vmi, vma)
		if (vma->vm_flags & VM_MERGEABLE)
			ksmod_vm_flags_clear(vma, VM_MERGEABLE);
	if (merge_any)
		ksmod_mm_clear_merge_any(mm);
}

/**
 * ksmod_registry_release() - at unload, give every process back
 *
 * Runs with the scanner stopped and the hooks still installed, so that
 * exits and forks keep coming to ksmod; from the first line on, processes
 * ksmod does not own go to the kernel's KSM. Children of those it still
 * owns are ksmod's, and found here too (ksmod_enter()). Each process gets
 * private copies of its merged pages first.
 */
void ksmod_registry_release(void)
{
	struct ksmod_mm_slot *slot;
	struct mm_struct *mm;
	bool alive;

	spin_lock(&ksmod_mm_lock);
	WRITE_ONCE(ksmod_leaving, true);
	spin_unlock(&ksmod_mm_lock);
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
				ksmod_release_mm(mm, slot->merge_any);
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
	rcu_barrier();		/* the slots ksmod_mm_slot_free() left */
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
