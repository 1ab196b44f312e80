// SPDX-License-Identifier: GPL-2.0
/*
 * hooks.c - install and remove ftrace hooks, and drain them on unload.
 *
 * Two ftrace_ops, filtered on the hooked functions, share one callback
 * (the thunk below). It runs at a function's fentry with preemption
 * disabled, finds the function's hook, counts the entry, calls the hook's
 * observer, and for redirect hooks points regs->ip at the replacement, so
 * that the kernel's caller runs ksmod's function, which may sleep, and
 * returns straight to that caller.
 *
 * Unload must not free code a task is still running. ftrace's own
 * synchronisation covers the thunk, not a replacement that sleeps, so
 * redirects are counted: the thunk increments ksmod_hook_inflight before
 * redirecting and the replacement's last act is ksmod_hook_exit(). After
 * both ops are unregistered, removal waits for the count to reach zero and
 * then for an RCU-tasks grace period, which a task still executing the few
 * instructions after ksmod_hook_exit() has not yet passed (they do not
 * sleep, so it passes only after leaving them).
 *
 * Installation is all or nothing: the observers go live first, then every
 * redirect at once; removal runs in reverse. A function already
 * redirected by another ftrace user (livepatch) cannot take a second
 * IPMODIFY ops: that -EBUSY is reported with the function's name.
 */
#include "ksmod.h"

#include <linux/atomic.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "hooks.h"

static atomic_t ksmod_hook_inflight = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(ksmod_hook_drained);

/**
 * ksmod_hook_exit() - the last statement of every replacement function
 *
 * Nothing after it may sleep: unload may free the module once all tasks
 * have called this and passed an RCU-tasks quiescent state.
 */
void ksmod_hook_exit(void)
{
	if (atomic_dec_and_test(&ksmod_hook_inflight))
		wake_up(&ksmod_hook_drained);
}

/**
 * ksmod_hook_enter() - count in work a hook queued to run later
 *
 * Work a hook queues (a task_work) runs module code after the hook has
 * returned; it counts in as a replacement does and ends, as one does,
 * with ksmod_hook_exit(), so that unload waits for it.
 */
void ksmod_hook_enter(void)
{
	atomic_inc(&ksmod_hook_inflight);
}

/* The hooks in one ops's filter, for its callback to look through. */
#define KSMOD_HOOKS_MAX		16

struct ksmod_hook_list {
	unsigned int nr;
	struct ksmod_hook *hook[KSMOD_HOOKS_MAX];
};

static struct ksmod_hook_list ksmod_observers, ksmod_redirects;

/*
 * The hook of @list whose function holds @ip, the fentry site ftrace
 * reports: the one of the greatest start address not above it (a site
 * lies inside its function, after an endbr64 where IBT is built in).
 * Observers are few (do_wp_page, on every COW fault, is one of them).
 */
static struct ksmod_hook *ksmod_hook_find(struct ksmod_hook_list *list,
					  unsigned long ip)
{
	struct ksmod_hook *found = NULL;
	unsigned int i;

	for (i = 0; i < list->nr; i++) {
		struct ksmod_hook *hook = list->hook[i];

		if (hook->addr <= ip && (!found || hook->addr > found->addr))
			found = hook;
	}
	return found;
}

static void notrace ksmod_hook_thunk(unsigned long ip, unsigned long parent_ip,
				     struct ftrace_ops *ops,
				     struct ftrace_regs *fregs)
{
	struct ksmod_hook *hook;
	struct pt_regs *regs;

	hook = ksmod_hook_find(ops->flags & FTRACE_OPS_FL_IPMODIFY ?
			       &ksmod_redirects : &ksmod_observers, ip);
	if (WARN_ON_ONCE(!hook))
		return;
	/* a replacement calling the original: not an entry from the kernel */
	if (hook->replace && within_module(parent_ip, THIS_MODULE))
		return;
	this_cpu_inc(*hook->hits);
	if (hook->observe)
		hook->observe(hook, fregs);
	if (!hook->replace)
		return;
	regs = ftrace_get_regs(fregs);
	if (hook->want && !hook->want(regs))
		return;
	atomic_inc(&ksmod_hook_inflight);
	regs->ip = (unsigned long)hook->replace;
}

/*
 * Two ftrace_ops carry every hook: one for the observers, one for the
 * redirects. Removing an ops waits for RCU-tasks grace periods, which on
 * PREEMPT_RT under emulation took most of a second each: two ops, not one
 * per hook, keep an unload short. Observers skip the full register save
 * and do not claim their functions (IPMODIFY) from other ftrace users.
 */
static struct ftrace_ops ksmod_observe_ops = {
	.func = ksmod_hook_thunk,
	.flags = FTRACE_OPS_FL_RECURSION,
};

#define KSMOD_REDIRECT_FLAGS	(FTRACE_OPS_FL_RECURSION | \
				 FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY)

static struct ftrace_ops ksmod_redirect_ops = {
	.func = ksmod_hook_thunk,
	.flags = KSMOD_REDIRECT_FLAGS,
};

static bool ksmod_observe_on, ksmod_redirect_on;

static void notrace ksmod_hook_nop(unsigned long ip, unsigned long parent_ip,
				   struct ftrace_ops *ops,
				   struct ftrace_regs *fregs)
{
}

/*
 * The redirect ops could not claim its functions: find out which one
 * another user (livepatch) holds, by claiming each alone, to name it.
 * Only on this error path: each try that succeeds costs a grace period.
 */
static void ksmod_hook_name_conflict(void)
{
	struct ftrace_ops *probe;
	unsigned int i;
	int err;

	for (i = 0; i < ksmod_redirects.nr; i++) {
		struct ksmod_hook *hook = ksmod_redirects.hook[i];

		probe = kzalloc(sizeof(*probe), GFP_KERNEL);
		if (!probe)
			break;
		probe->func = ksmod_hook_nop;
		/* not the ops's own flags: ftrace adds its state to them */
		probe->flags = KSMOD_REDIRECT_FLAGS;
		err = ftrace_set_filter_ip(probe, hook->addr, 0, 0);
		if (!err) {
			err = register_ftrace_function(probe);
			if (!err)
				unregister_ftrace_function(probe);
		}
		ftrace_free_filter(probe);
		kfree(probe);
		if (err == -EBUSY) {
			pr_err("cannot hook %s: another ftrace user already redirects it (livepatch?)\n",
			       hook->name);
			return;
		}
	}
	pr_err("cannot hook: another ftrace user already redirects one of the functions (livepatch?)\n");
}

/* Add @hook's function to its ops's filter. */
static int ksmod_hook_filter(struct ksmod_hook *hook)
{
	unsigned long addr = (unsigned long)*hook->target;
	struct ksmod_hook_list *list;
	struct ftrace_ops *ops;
	int err;

	list = hook->replace ? &ksmod_redirects : &ksmod_observers;
	ops = hook->replace ? &ksmod_redirect_ops : &ksmod_observe_ops;
	if (list->nr == KSMOD_HOOKS_MAX) {
		pr_err("cannot hook %s: more than %d hooks of its kind\n",
		       hook->name, KSMOD_HOOKS_MAX);
		return -E2BIG;
	}
	err = ftrace_set_filter_ip(ops, addr, 0, 0);
	if (err) {
		pr_err("cannot hook %s: ftrace does not trace it (%d)\n",
		       hook->name, err);
		return err;
	}
	hook->addr = addr;
	list->hook[list->nr++] = hook;
	return 0;
}

/**
 * ksmod_hooks_install() - install every hook of a table, or none
 * @hooks:	the table
 * @nr:		its size
 *
 * Observers go live first, then every redirect at once.
 *
 * Return: 0 or the first error, after removing what was installed.
 */
int ksmod_hooks_install(struct ksmod_hook *hooks, unsigned int nr)
{
	unsigned int i;
	int err;

	for (i = 0; i < nr; i++) {
		struct ksmod_hook *hook = &hooks[i];

		hook->hits = alloc_percpu(unsigned long);
		if (!hook->hits) {
			err = -ENOMEM;
			goto unwind;
		}
		if (!*hook->target) {
			if (hook->optional) {
				pr_info("optional hook %s not available\n",
					hook->name);
				continue;
			}
			pr_err("cannot hook %s: not resolved\n", hook->name);
			err = -ENOENT;
			goto unwind;
		}
		err = ksmod_hook_filter(hook);
		if (err)
			goto unwind;
	}

	/* an ops with an empty filter would trace every function */
	if (ksmod_observers.nr) {
		err = register_ftrace_function(&ksmod_observe_ops);
		if (err) {
			pr_err("cannot hook the observed functions: ftrace error %d\n",
			       err);
			goto unwind;
		}
		ksmod_observe_on = true;
	}
	if (ksmod_redirects.nr) {
		err = register_ftrace_function(&ksmod_redirect_ops);
		if (err) {
			if (err == -EBUSY)
				ksmod_hook_name_conflict();
			else
				pr_err("cannot hook the redirected functions: ftrace error %d\n",
				       err);
			goto unwind;
		}
		ksmod_redirect_on = true;
	}
	return 0;

unwind:
	ksmod_hooks_remove(hooks, nr);
	ksmod_hooks_free(hooks, nr);
	return err;
}

/**
 * ksmod_hooks_remove() - remove the hooks of a table: redirects, then
 * observers
 * @hooks:	the table
 * @nr:		its size
 *
 * Returns once no task runs, or will run, a hook of this module.
 */
void ksmod_hooks_remove(struct ksmod_hook *hooks, unsigned int nr)
{
	unsigned int i;

	/* each waits for running thunks, no new ones start */
	if (ksmod_redirect_on)
		unregister_ftrace_function(&ksmod_redirect_ops);
	if (ksmod_observe_on)
		unregister_ftrace_function(&ksmod_observe_ops);
	ksmod_redirect_on = false;
	ksmod_observe_on = false;
	ftrace_free_filter(&ksmod_redirect_ops);
	ftrace_free_filter(&ksmod_observe_ops);
	ksmod_redirects.nr = 0;
	ksmod_observers.nr = 0;
	for (i = 0; i < nr; i++)
		hooks[i].addr = 0;
	wait_event(ksmod_hook_drained, !atomic_read(&ksmod_hook_inflight));
	synchronize_rcu_tasks();
}

/**
 * ksmod_hooks_free() - free what ksmod_hooks_install() allocated
 * @hooks:	the table, every hook already removed
 * @nr:		its size
 */
void ksmod_hooks_free(struct ksmod_hook *hooks, unsigned int nr)
{
	while (nr--) {
		free_percpu(hooks[nr].hits);
		hooks[nr].hits = NULL;
	}
}

/**
 * ksmod_hook_hits() - how often a hooked function was entered
 * @hook:	the hook
 *
 * Return: the sum over all CPUs; racy against new entries, as counters are.
 */
unsigned long ksmod_hook_hits(struct ksmod_hook *hook)
{
	unsigned long sum = 0;
	int cpu;

	if (!hook->hits)
		return 0;
	for_each_possible_cpu(cpu)
		sum += *per_cpu_ptr(hook->hits, cpu);
	return sum;
}

/* debugfs "hooks": name, installed or not, entries seen */
void ksmod_hooks_show(struct seq_file *m, struct ksmod_hook *hooks,
		      unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		seq_printf(m, "%s %s %lu\n", hooks[i].name,
			   hooks[i].addr ? "installed" : "absent",
			   ksmod_hook_hits(&hooks[i]));
}
