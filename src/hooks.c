// SPDX-License-Identifier: GPL-2.0
/*
 * hooks.c - install and remove ftrace hooks, and drain them on unload.
 *
 * Each hook is an ftrace_ops filtered on one function. Its callback (the
 * thunk below) runs at the function's fentry with preemption disabled: it
 * counts the entry, calls the hook's observer, and for redirect hooks
 * points regs->ip at the replacement, so that the kernel's caller runs
 * ksmod's function, which may sleep, and returns straight to that caller.
 *
 * Unload must not free code a task is still running. ftrace's own
 * synchronisation covers the thunk, not a replacement that sleeps, so
 * redirects are counted: the thunk increments ksmod_hook_inflight before
 * redirecting and the replacement's last act is ksmod_hook_exit(). After
 * every ops is unregistered, removal waits for the count to reach zero and
 * then for an RCU-tasks grace period, which a task still executing the few
 * instructions after ksmod_hook_exit() has not yet passed (they do not
 * sleep, so it passes only after leaving them).
 *
 * Installation is all or nothing and removal runs in reverse. A function
 * already redirected by another ftrace user (livepatch) cannot take a
 * second IPMODIFY ops: that -EBUSY is reported with the function's name.
 */
#include "ksmod.h"

#include <linux/atomic.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
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

static void notrace ksmod_hook_thunk(unsigned long ip, unsigned long parent_ip,
				     struct ftrace_ops *ops,
				     struct ftrace_regs *fregs)
{
	struct ksmod_hook *hook = container_of(ops, struct ksmod_hook, ops);
	struct pt_regs *regs;

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

static int ksmod_hook_install(struct ksmod_hook *hook)
{
	unsigned long addr = (unsigned long)*hook->target;
	int err;

	hook->ops.func = ksmod_hook_thunk;
	/* observers read arguments only: skip the full register save */
	hook->ops.flags = FTRACE_OPS_FL_RECURSION;
	if (hook->replace)
		hook->ops.flags |= FTRACE_OPS_FL_SAVE_REGS |
				   FTRACE_OPS_FL_IPMODIFY;

	err = ftrace_set_filter_ip(&hook->ops, addr, 0, 0);
	if (err) {
		pr_err("cannot hook %s: ftrace does not trace it (%d)\n",
		       hook->name, err);
		return err;
	}
	err = register_ftrace_function(&hook->ops);
	if (err) {
		if (err == -EBUSY)
			pr_err("cannot hook %s: another ftrace user already redirects it (livepatch?)\n",
			       hook->name);
		else
			pr_err("cannot hook %s: ftrace error %d\n",
			       hook->name, err);
		ftrace_free_filter(&hook->ops);
		return err;
	}
	hook->installed = true;
	return 0;
}

/**
 * ksmod_hooks_install() - install every hook of a table, or none
 * @hooks:	the table
 * @nr:		its size
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
		err = ksmod_hook_install(hook);
		if (err)
			goto unwind;
	}
	return 0;

unwind:
	ksmod_hooks_remove(hooks, i + 1);
	ksmod_hooks_free(hooks, i + 1);
	return err;
}

/**
 * ksmod_hooks_remove() - remove the installed hooks of a table, in reverse
 * @hooks:	the table
 * @nr:		how many entries, from the start, to consider
 *
 * Returns once no task runs, or will run, a hook of this module.
 */
void ksmod_hooks_remove(struct ksmod_hook *hooks, unsigned int nr)
{
	while (nr--) {
		struct ksmod_hook *hook = &hooks[nr];

		if (!hook->installed)
			continue;
		/* waits for running thunks, no new ones start */
		unregister_ftrace_function(&hook->ops);
		ftrace_free_filter(&hook->ops);
		hook->installed = false;
	}
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
			   hooks[i].installed ? "installed" : "absent",
			   ksmod_hook_hits(&hooks[i]));
}
