// SPDX-License-Identifier: GPL-2.0
/*
 * follow.c - whole cgroup v2 subtrees: KSMOD_IOC_REGISTER_CGROUP.
 *
 * Registering a cgroup registers every process of its subtree whole (as
 * prctl(PR_SET_MEMORY_MERGE) would), with the caller's rights over each,
 * and puts the cgroup on the list of followed ones with the caller's
 * credentials. From then on a write to cgroup.procs that moves a process
 * (the hook on cgroup_attach_task(); domain.c queues the work on the
 * writer, which does it on its way back to user space) registers the
 * process when it lands in a followed subtree, with those credentials,
 * and unregisters it, which unmerges it, when ksmod registered it for a
 * followed subtree and it lands in none. Processes forked inside inherit
 * both, as from any registered parent.
 *
 * Not seen: a child that clone3(CLONE_INTO_CGROUP) puts straight into a
 * followed subtree from outside (no process moves), and moves made by a
 * kernel thread (the cgroup v1 cpuset's transfer of tasks).
 */
#include "ksmod.h"

#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "uapi/ksmod.h"
#include "follow.h"
#include "registry.h"

#define KSMOD_FOLLOW_MAX	64

/* A followed cgroup and who asked for it. */
struct ksmod_follow {
	struct list_head list;
	struct cgroup *cgrp;		/* referenced */
	const struct cred *cred;	/* the registrant's, referenced */
};

static LIST_HEAD(ksmod_follows);
static DEFINE_MUTEX(ksmod_follow_mutex);
/* list entries; read without the mutex by the hook, a hint only */
unsigned int ksmod_nr_follows;

static void ksmod_follow_free(struct ksmod_follow *f)
{
	list_del(&f->list);
	WRITE_ONCE(ksmod_nr_follows, ksmod_nr_follows - 1);
	cgroup_put(f->cgrp);
	put_cred(f->cred);
	kfree(f);
}

/* Forget cgroups that were removed: nothing can move into them. */
static void ksmod_follow_prune(void)
{
	struct ksmod_follow *f, *next;

	lockdep_assert_held(&ksmod_follow_mutex);
	/* cgroup_is_dead(), internal: destroying a cgroup offlines it */
	list_for_each_entry_safe(f, next, &ksmod_follows, list)
		if (!(READ_ONCE(f->cgrp->self.flags) & CSS_ONLINE))
			ksmod_follow_free(f);
}

/* Follow @cgrp (a reference taken for the list) for the caller. */
static int ksmod_follow_add(struct cgroup *cgrp)
{
	struct ksmod_follow *f;
	int err = 0;

	mutex_lock(&ksmod_follow_mutex);
	ksmod_follow_prune();
	list_for_each_entry(f, &ksmod_follows, list)
		if (f->cgrp == cgrp)
			goto out;	/* followed already: stays so */
	if (ksmod_nr_follows >= KSMOD_FOLLOW_MAX) {
		err = -ENOSPC;
		goto out;
	}
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f) {
		err = -ENOMEM;
		goto out;
	}
	cgroup_get(cgrp);
	f->cgrp = cgrp;
	f->cred = get_current_cred();
	list_add_tail(&f->list, &ksmod_follows);
	WRITE_ONCE(ksmod_nr_follows, ksmod_nr_follows + 1);
out:
	mutex_unlock(&ksmod_follow_mutex);
	return err;
}

static void ksmod_follow_del(struct cgroup *cgrp)
{
	struct ksmod_follow *f;

	mutex_lock(&ksmod_follow_mutex);
	list_for_each_entry(f, &ksmod_follows, list) {
		if (f->cgrp == cgrp) {
			ksmod_follow_free(f);
			break;
		}
	}
	ksmod_follow_prune();
	mutex_unlock(&ksmod_follow_mutex);
}

/*
 * The processes (their thread group leaders) of @cgrp's subtree,
 * referenced, in an array for kvfree(); *@nrp of them.
 */
static struct task_struct **ksmod_cgroup_tasks(struct cgroup *cgrp,
					       unsigned int *nrp)
{
	unsigned int nr, room = 64, i;
	struct task_struct **tasks, *p;

	for (;;) {
		tasks = kvmalloc_array(room, sizeof(*tasks), GFP_KERNEL);
		if (!tasks)
			return ERR_PTR(-ENOMEM);
		nr = 0;
		rcu_read_lock();
		for_each_process(p) {
			if ((p->flags & PF_KTHREAD) ||
			    !cgroup_is_descendant(task_dfl_cgroup(p), cgrp))
				continue;
			if (nr < room)
				tasks[nr] = get_task_struct(p);
			nr++;
		}
		rcu_read_unlock();
		if (nr <= room)
			break;
		for (i = 0; i < room; i++)
			put_task_struct(tasks[i]);
		kvfree(tasks);
		room = nr + 64;		/* more came meanwhile: again */
	}
	*nrp = nr;
	return tasks;
}

/**
 * ksmod_cgroup_register() - KSMOD_IOC_REGISTER_CGROUP and _UNREGISTER_CGROUP
 * @req:	the request, copied in; @nr and @skipped are set on return
 * @on:		register and follow, or stop following and unregister
 *
 * Return: 0, -EINVAL for flags, -EBADF for a file that is no cgroup v2
 * directory, -ENOSPC when KSMOD_FOLLOW_MAX cgroups are followed, -ENOMEM,
 * or -EINTR (a fatal signal: the rest of the subtree is left).
 */
int ksmod_cgroup_register(struct ksmod_cgroup_req *req, bool on)
{
	struct task_struct **tasks;
	struct cgroup *cgrp;
	unsigned int nr, i;
	int err = 0;

	req->nr = 0;
	req->skipped = 0;
	if (req->flags)
		return -EINVAL;
	cgrp = cgroup_get_from_fd(req->cgroup_fd);
	if (IS_ERR(cgrp)) {
		pr_info_ratelimited("%s: fd %d is not a directory of cgroup v2\n",
				    on ? "REGISTER_CGROUP" : "UNREGISTER_CGROUP",
				    req->cgroup_fd);
		return PTR_ERR(cgrp);
	}
	if (on)
		err = ksmod_follow_add(cgrp);
	else
		ksmod_follow_del(cgrp);
	if (err)
		goto out;

	tasks = ksmod_cgroup_tasks(cgrp, &nr);
	if (IS_ERR(tasks)) {
		err = PTR_ERR(tasks);
		goto out;
	}
	for (i = 0; i < nr; i++) {
		int ret = err ? -EINTR :
			  ksmod_task_whole(tasks[i], on, true, on);

		if (!ret || (on && ret == -EALREADY))
			req->nr++;
		else if (ret == -EINTR)
			err = -EINTR;
		else if (ret != -ESRCH)		/* not gone meanwhile */
			req->skipped++;
		put_task_struct(tasks[i]);
	}
	kvfree(tasks);
out:
	cgroup_put(cgrp);
	return err;
}

/**
 * ksmod_follow_moved() - @task was moved to another cgroup
 * @task:	the task (or thread group leader) moved, referenced
 *
 * In the task that wrote cgroup.procs, on its way back to user space.
 */
void ksmod_follow_moved(struct task_struct *task)
{
	const struct cred *cred = NULL, *old;
	struct ksmod_follow *f;
	struct cgroup *cgrp;
	int err;

	if (!READ_ONCE(ksmod_nr_follows) || (task->flags & PF_KTHREAD))
		return;
	mutex_lock(&ksmod_follow_mutex);
	rcu_read_lock();
	cgrp = task_dfl_cgroup(task);
	list_for_each_entry(f, &ksmod_follows, list) {
		if (cgroup_is_descendant(cgrp, f->cgrp)) {
			cred = get_cred(f->cred);
			break;
		}
	}
	rcu_read_unlock();
	mutex_unlock(&ksmod_follow_mutex);

	if (!cred) {
		/* out of every followed subtree: undo what ksmod did */
		ksmod_task_whole(task, false, false, true);
		return;
	}
	/* the registrant's rights over the process, not the mover's */
	old = override_creds(cred);
	err = ksmod_task_whole(task, true, true, true);
	revert_creds(old);
	put_cred(cred);
	if (err && err != -EALREADY)
		pr_info_ratelimited("pid %d moved into a followed cgroup: not registered (%d)\n",
				    task_tgid_nr(task), err);
}

/* One followed cgroup's figures while CGROUP_STATS adds them up. */
struct ksmod_cgroup_tally {
	struct cgroup *cgrp;		/* referenced */
	struct ksmod_cgroup_stat st;
};

struct ksmod_cgroup_tallies {
	struct ksmod_cgroup_tally *t;
	unsigned int nr;
};

/* Count @mm to each followed subtree its owner is in; ksmod_mm_lock held. */
static void ksmod_cgroup_count(struct ksmod_mm_slot *slot, void *arg)
{
#ifdef CONFIG_MEMCG
	struct ksmod_cgroup_tallies *all = arg;
	struct mm_struct *mm = slot->mm;
	struct task_struct *owner;
	struct cgroup *cgrp;
	unsigned int i;

	if (!READ_ONCE(slot->merge_any) || !atomic_read(&mm->mm_users))
		return;
	rcu_read_lock();
	owner = rcu_dereference(mm->owner);
	cgrp = owner ? task_dfl_cgroup(owner) : NULL;
	for (i = 0; cgrp && i < all->nr; i++) {
		struct ksmod_cgroup_stat *st = &all->t[i].st;

		if (!cgroup_is_descendant(cgrp, all->t[i].cgrp))
			continue;
		st->processes++;
		st->merging_pages += READ_ONCE(mm->ksm_merging_pages);
		st->rmap_items += READ_ONCE(mm->ksm_rmap_items);
		st->cow_breaks += atomic_long_read(&slot->cow_breaks);
	}
	rcu_read_unlock();
#endif
}

/**
 * ksmod_cgroup_stats() - KSMOD_IOC_CGROUP_STATS
 * @req:	the request, copied in; @nr is set on return
 *
 * A process counts when ksmod merges it whole and the task that owns its
 * mm (mm->owner, as the memory cgroup charges) is in the subtree.
 *
 * Return: 0, -EINVAL, -ENOMEM or -EFAULT.
 */
int ksmod_cgroup_stats(struct ksmod_cgroup_stats *req)
{
	struct ksmod_cgroup_stat __user *out = u64_to_user_ptr(req->cgroups);
	struct ksmod_cgroup_tallies all = { 0 };
	struct ksmod_follow *f;
	unsigned int i;
	int err = 0;

	if (req->flags)
		return -EINVAL;
	all.t = kcalloc(KSMOD_FOLLOW_MAX, sizeof(*all.t), GFP_KERNEL);
	if (!all.t)
		return -ENOMEM;
	mutex_lock(&ksmod_follow_mutex);
	list_for_each_entry(f, &ksmod_follows, list) {
		cgroup_get(f->cgrp);
		all.t[all.nr].cgrp = f->cgrp;
		all.t[all.nr++].st.id = cgroup_id(f->cgrp);
	}
	mutex_unlock(&ksmod_follow_mutex);

	ksmod_registry_for_each(ksmod_cgroup_count, &all);
	for (i = 0; i < all.nr; i++) {
		if (!err && i < req->nr &&
		    copy_to_user(out + i, &all.t[i].st, sizeof(all.t[i].st)))
			err = -EFAULT;
		cgroup_put(all.t[i].cgrp);
	}
	req->nr = all.nr;
	kfree(all.t);
	return err;
}

/* Unload: forget every followed cgroup. No hook runs any more. */
void ksmod_follow_exit(void)
{
	struct ksmod_follow *f, *next;

	mutex_lock(&ksmod_follow_mutex);
	list_for_each_entry_safe(f, next, &ksmod_follows, list)
		ksmod_follow_free(f);
	mutex_unlock(&ksmod_follow_mutex);
}
