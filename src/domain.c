// SPDX-License-Identifier: GPL-2.0
/*
 * domain.c - merge domains.
 *
 * A write to a KSM page takes longer than a write to a private one, so a
 * process can tell whether another process holds a page of some content
 * (the dedup timing side channel), and a process that chooses which page
 * survives a merge can aim Rowhammer at it. ksmod's trees are its own, so
 * it can merge within a trust boundary only: merge_domain "uid" merges
 * pages only between processes of one real uid, "cgroup" only within one
 * cgroup v2 subtree (the process's cgroup's ancestor at level
 * merge_domain_cgroup_level, or its own cgroup when that is shallower:
 * level 2 is /machine.slice/machine-qemu-N.scope for libvirt's VMs), "tag"
 * only between processes given the same tag by KSMOD_IOC_SET_TAG (0 until
 * then; a child has its parent's). "global" is the kernel's behaviour and
 * the default.
 *
 * Each registered mm has a domain key, taken from the task that owns the
 * mm (mm->owner, as the memory cgroup charges) when the scanner enters its
 * slot, once a pass. The trees are ordered by content, then by key, so a
 * page only ever meets pages of its own key: a key is only looked up for
 * tree entries of equal content. A slot whose key changed (setuid, a move
 * to another cgroup, SET_TAG) has its KSM pages broken before the process
 * runs in user space again (below), and before the scanner looks at its
 * pages again in any case (scan.c). Pages of zeroes reveal nothing: with
 * merge_zero_across_domains=1 they merge across domains (key
 * KSMOD_DOMAIN_ALL).
 */
#include "ksmod.h"

#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/highmem.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <linux/uidgid.h>

#include "uapi/ksmod.h"
#include "domain.h"
#include "follow.h"
#include "hooks.h"
#include "registry.h"
#include "scan.h"
#include "stable_tree.h"

unsigned int ksmod_merge_domain = KSMOD_DOMAIN_GLOBAL;
unsigned int ksmod_merge_domain_cgroup_level = 1;
module_param_named(merge_domain_cgroup_level, ksmod_merge_domain_cgroup_level,
		   uint, 0);
MODULE_PARM_DESC(merge_domain_cgroup_level,
		 "value of ksm/merge_domain_cgroup_level at load (default 1)");
unsigned int ksmod_merge_zero_across_domains;
module_param_named(merge_zero_across_domains, ksmod_merge_zero_across_domains,
		   uint, 0);
MODULE_PARM_DESC(merge_zero_across_domains,
		 "value of ksm/merge_zero_across_domains at load (default 0)");

static const char * const ksmod_domain_names[] = {
	[KSMOD_DOMAIN_GLOBAL] = "global",
	[KSMOD_DOMAIN_UID] = "uid",
	[KSMOD_DOMAIN_CGROUP] = "cgroup",
	[KSMOD_DOMAIN_TAG] = "tag",
};

/* The mode named by @buf (sysfs_streq rules), or -EINVAL. */
int ksmod_domain_parse(const char *buf)
{
	int mode = sysfs_match_string(ksmod_domain_names, buf);

	return mode < 0 ? -EINVAL : mode;
}

/* "[global] uid cgroup", the mode in brackets, as advisor_mode. */
int ksmod_domain_show(char *buf)
{
	unsigned int mode = READ_ONCE(ksmod_merge_domain), i;
	int len = 0;

	for (i = 0; i < ARRAY_SIZE(ksmod_domain_names); i++)
		len += sysfs_emit_at(buf, len, i == mode ? "%s[%s]" : "%s%s",
				     i ? " " : "", ksmod_domain_names[i]);
	return len + sysfs_emit_at(buf, len, "\n");
}

static int ksmod_domain_param_set(const char *val,
				  const struct kernel_param *kp)
{
	int mode = ksmod_domain_parse(val);

	if (mode < 0)
		return mode;
	ksmod_merge_domain = mode;
	return 0;
}

static int ksmod_domain_param_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", ksmod_domain_names[ksmod_merge_domain]);
}

static const struct kernel_param_ops ksmod_domain_param_ops = {
	.set = ksmod_domain_param_set,
	.get = ksmod_domain_param_get,
};
module_param_cb(merge_domain, &ksmod_domain_param_ops, NULL, 0);
MODULE_PARM_DESC(merge_domain,
		 "value of ksm/merge_domain at load: global (default), uid, cgroup, tag");

/*
 * A key is a uid, a cgroup id (64 bits, but far below 2^62) or a tag
 * (below 2^62), with bit 62 set; one mode's keys never meet another's (a
 * change of mode unmerges everything). An mm with no owner (its last task
 * is exiting) gets its own address, a key no other mm has, with bit 63
 * set (a kernel address). None is KSMOD_DOMAIN_ALL (0) or
 * KSMOD_DOMAIN_UNSET (~0).
 */
#define KSMOD_KEY		BIT_ULL(62)

/**
 * ksmod_domain_of() - the domain key of @mm under merge_domain now
 * @mm:	a registered mm
 * @tag:	its tag (KSMOD_IOC_SET_TAG)
 */
u64 ksmod_domain_of(struct mm_struct *mm, u64 tag)
{
	unsigned int mode = READ_ONCE(ksmod_merge_domain);
	struct task_struct *owner;
	u64 key = (unsigned long)mm;

	if (mode == KSMOD_DOMAIN_GLOBAL)
		return KSMOD_DOMAIN_ALL;
	if (mode == KSMOD_DOMAIN_TAG)
		return KSMOD_KEY | tag;
	rcu_read_lock();
#ifdef CONFIG_MEMCG
	owner = rcu_dereference(mm->owner);
#else
	owner = NULL;	/* no mm->owner: each process is a domain of its own */
#endif
	if (owner && mode == KSMOD_DOMAIN_UID) {
		key = KSMOD_KEY | from_kuid(&init_user_ns, task_uid(owner));
	} else if (owner && mode == KSMOD_DOMAIN_CGROUP) {
		struct cgroup *cgrp = task_dfl_cgroup(owner);
		int level = READ_ONCE(ksmod_merge_domain_cgroup_level);

		if (cgrp->level > level)
			cgrp = cgroup_ancestor(cgrp, level);
		key = KSMOD_KEY | cgroup_id(cgrp);
	}
	rcu_read_unlock();
	return key;
}

/*
 * A process that changes domain stops sharing with the old one before it
 * runs in user space again. The hooks on commit_creds() and
 * cgroup_attach_task() (mm_hooks.c) queue a task_work on the task making
 * the change (the process itself for setuid, the writer of cgroup.procs
 * for a move), which runs it on its way back to user space with no lock
 * held: the moved process's KSM pages of the old domain are broken there
 * (ksmod_rekey_now()). The hooks run with preemption disabled, also on
 * PREEMPT_RT, so they take a work from a fixed pool instead of allocating;
 * with none free, or for a kernel thread, the scanner's check when it next
 * enters the process remains (as before the hooks), and a move into or
 * out of a followed cgroup (follow.c, which the same work serves) goes
 * unseen: a work is busy only from the change to the end of its system
 * call, and 64 at once is said in dmesg.
 */
#define KSMOD_REKEY_WORKS	64

struct ksmod_rekey_work {
	struct callback_head twork;
	struct task_struct *task;	/* whose mm to re-key, referenced */
	bool moved;			/* to another cgroup (follow.c) */
};

static struct ksmod_rekey_work ksmod_rekey_works[KSMOD_REKEY_WORKS];
static DECLARE_BITMAP(ksmod_rekey_busy, KSMOD_REKEY_WORKS);

static void ksmod_rekey_work_put(struct ksmod_rekey_work *w)
{
	put_task_struct(w->task);
	clear_bit_unlock(w - ksmod_rekey_works, ksmod_rekey_busy);
	ksmod_hook_exit();
}

static void ksmod_rekey_work_fn(struct callback_head *twork)
{
	struct ksmod_rekey_work *w = container_of(twork,
						  struct ksmod_rekey_work,
						  twork);
	struct mm_struct *mm;

	if (w->moved)
		ksmod_follow_moved(w->task);
	mm = get_task_mm(w->task);
	/* most moves are of processes ksmod does not merge */
	if (mm && ksmod_mm_slot_find(mm) && ksmod_rekey_now(mm))
		pr_warn_ratelimited("could not break the KSM pages of pid %d on its change of domain: the scanner will\n",
				    task_tgid_nr(w->task));
	if (mm)
		mmput(mm);
	ksmod_rekey_work_put(w);
}

/*
 * @task's process (@task referenced by the caller) is changing domain; in
 * a hook, with preemption disabled: it gets its new key, and loses its KSM
 * pages of the old one, before @runner (current, or a new child) returns
 * to user space.
 */
static void ksmod_domain_changing(struct task_struct *task, bool moved,
				  struct task_struct *runner)
{
	struct ksmod_rekey_work *w;
	unsigned int i;

	if (current->flags & PF_KTHREAD)
		return;
	do {
		i = find_first_zero_bit(ksmod_rekey_busy, KSMOD_REKEY_WORKS);
		if (i >= KSMOD_REKEY_WORKS) {
			pr_info_ratelimited("too many changes of domain at once: pid %d keeps its KSM pages until the scanner's next pass\n",
					    task_tgid_nr(task));
			return;
		}
	} while (test_and_set_bit_lock(i, ksmod_rekey_busy));

	w = &ksmod_rekey_works[i];
	w->task = get_task_struct(task);
	w->moved = moved;
	init_task_work(&w->twork, ksmod_rekey_work_fn);
	ksmod_hook_enter();
	/* fails only when @runner is exiting */
	if (task_work_add(runner, &w->twork, TWA_RESUME))
		ksmod_rekey_work_put(w);
}

/**
 * ksmod_domain_creds() - commit_creds(@new) is called
 * @new:	current's new credentials
 *
 * Under merge_domain "uid" a process's domain is the real uid of the task
 * that owns its mm: a change of that uid moves it.
 */
void ksmod_domain_creds(const struct cred *new)
{
	struct mm_struct *mm = current->mm;
	bool moved = false;

	if (READ_ONCE(ksmod_merge_domain) != KSMOD_DOMAIN_UID || !mm ||
	    !test_bit(MMF_VM_MERGEABLE, &mm->flags))
		return;
#ifdef CONFIG_MEMCG
	rcu_read_lock();
	if (rcu_access_pointer(mm->owner) == current)
		moved = !uid_eq(new->uid, task_uid(current));
	rcu_read_unlock();
#endif
	if (moved)
		ksmod_domain_changing(current, false, current);
}

/* Does a process's cgroup matter: its domain's key, or a followed one? */
static bool ksmod_cgroups_matter(void)
{
	return READ_ONCE(ksmod_merge_domain) == KSMOD_DOMAIN_CGROUP ||
	       READ_ONCE(ksmod_nr_follows);
}

/**
 * ksmod_domain_cgroup() - cgroup_attach_task() moves @leader
 * @leader:	the task, or the thread group led by it, being moved
 *
 * Under merge_domain "cgroup", or while cgroups are followed (follow.c).
 * Its mm cannot be looked at here (the hook may not take task_lock); the
 * work does.
 */
void ksmod_domain_cgroup(struct task_struct *leader)
{
	if (ksmod_cgroups_matter())
		ksmod_domain_changing(leader, true, current);
}

/**
 * ksmod_domain_forked() - cgroup_post_fork() of @child
 * @child:	the new task, not run yet
 * @kargs:	how it was cloned
 *
 * A process cloned straight into another cgroup (clone3's
 * CLONE_INTO_CGROUP) maps its parent's KSM pages, of the parent's domain
 * (registry.c gives its slot that domain): the work, queued on the child
 * itself, breaks them before it first runs in user space, as for a move
 * (and registers or unregisters it for a followed cgroup, follow.c).
 * Threads share the mm, whose owner's cgroup is the key: not a move.
 */
void ksmod_domain_forked(struct task_struct *child,
			 struct kernel_clone_args *kargs)
{
	if (!(kargs->flags & CLONE_INTO_CGROUP) || (kargs->flags & CLONE_VM) ||
	    (child->flags & PF_KTHREAD) || !child->mm)
		return;
	if (ksmod_cgroups_matter())
		ksmod_domain_changing(child, true, child);
}

/* Does @page, referenced, hold only zeroes that may merge across domains? */
bool ksmod_domain_zero_page(struct page *page)
{
	void *addr;
	bool zero;

	if (!READ_ONCE(ksmod_merge_zero_across_domains))
		return false;
	addr = kmap_local_page(page);
	zero = !memchr_inv(addr, 0, PAGE_SIZE);
	kunmap_local(addr);
	return zero;
}

/* One domain's figures while KSMOD_IOC_DOMAIN_STATS adds them up. */
struct ksmod_tally {
	u64 shared, sharing, items;
};

/**
 * ksmod_domain_add() - count pages to a domain's figures
 * @xa:		the figures by key
 * @key:	the domain's key
 * @shared:	KSM pages to add
 * @sharing:	mappings past the first to add
 * @items:	rmap items to add
 * @gfp:	for a domain not seen yet
 *
 * Return: 0 or -ENOMEM.
 */
int ksmod_domain_add(struct xarray *xa, u64 key, u64 shared, u64 sharing,
		     u64 items, gfp_t gfp)
{
	struct ksmod_tally *t = xa_load(xa, key);

	if (!t) {
		t = kzalloc(sizeof(*t), gfp);
		if (!t)
			return -ENOMEM;
		if (xa_err(xa_store(xa, key, t, gfp))) {
			kfree(t);
			return -ENOMEM;
		}
	}
	t->shared += shared;
	t->sharing += sharing;
	t->items += items;
	return 0;
}

static void ksmod_domain_stat_of(struct ksmod_domain_stat *st, u64 key,
				 unsigned int mode)
{
	st->pad = 0;
	if (key == KSMOD_DOMAIN_ALL) {
		st->kind = KSMOD_DOMAIN_KIND_ALL;
		st->id = 0;
	} else if (key & BIT_ULL(63)) {
		st->kind = KSMOD_DOMAIN_KIND_ALONE;
		st->id = 0;
	} else {
		/* the KSMOD_DOMAIN_* modes are the kinds */
		st->kind = mode;
		st->id = key & ~KSMOD_KEY;
	}
}

/**
 * ksmod_domain_stats() - KSMOD_IOC_DOMAIN_STATS
 * @req:	the request, copied in; @nr and @mode are set on return
 *
 * Walks the stable trees (with the scanner held off) and the registered
 * processes: a few milliseconds for a million KSM pages.
 *
 * Return: 0, -EFAULT, or -ENOMEM.
 */
int ksmod_domain_stats(struct ksmod_domain_stats *req)
{
	struct ksmod_domain_stat __user *out = u64_to_user_ptr(req->domains);
	struct ksmod_tally *t;
	unsigned int mode;
	struct xarray xa;
	unsigned long key;
	u32 nr = 0;
	int err;

	/* not DEFINE_XARRAY(): on the stack, its lock needs a lockdep key */
	xa_init(&xa);
	ksmod_scan_lock();
	mode = READ_ONCE(ksmod_merge_domain);
	err = ksmod_stable_domain_stats(&xa);
	if (!err)
		err = ksmod_registry_domain_items(&xa);
	ksmod_scan_unlock();

	xa_for_each(&xa, key, t) {
		struct ksmod_domain_stat st = {
			.pages_shared = t->shared,
			.pages_sharing = t->sharing,
			.rmap_items = t->items,
		};

		ksmod_domain_stat_of(&st, key, mode);
		if (!err && nr < req->nr && copy_to_user(out + nr, &st,
							 sizeof(st)))
			err = -EFAULT;
		nr++;
		kfree(t);
	}
	xa_destroy(&xa);
	req->nr = nr;
	req->mode = mode;
	req->pad = 0;
	return err;
}
