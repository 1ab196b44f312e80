/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hooks.h - ftrace hooks on kernel functions, from a declarative table.
 */
#ifndef _KSMOD_HOOKS_H
#define _KSMOD_HOOKS_H

#include <linux/ftrace.h>
#include <linux/seq_file.h>

struct ksmod_hook;

/**
 * struct ksmod_hook - one hooked kernel function
 * @name:	the function, for messages
 * @target:	slot in &ksym holding its address (NULL address: not hooked,
 *		which is only allowed when @optional)
 * @observe:	called on every entry, with preemption disabled; must not
 *		sleep. May be NULL. Arguments: ksmod_fregs_arg() (compat.h).
 * @replace:	when set, the function's callers run this instead (a
 *		"redirect" hook, FTRACE_OPS_FL_IPMODIFY). It must end with
 *		ksmod_hook_exit() and may sleep. Calls from ksmod itself are
 *		never redirected, so @replace may call the original.
 * @want:	redirect only when this returns true (NULL: always); gets the
 *		full register set, as redirect hooks save it
 * @optional:	the load goes on without this hook
 * @addr:	private: the function's address while hooked (set before its
 *		ops goes live, cleared once removed; 0: absent)
 * @hits:	private: entries seen, per CPU, for tests and debugfs
 */
struct ksmod_hook {
	const char *name;
	void **target;
	void (*observe)(struct ksmod_hook *hook, struct ftrace_regs *fregs);
	void *replace;
	bool (*want)(struct pt_regs *regs);
	bool optional;

	unsigned long addr;
	unsigned long __percpu *hits;
};

int ksmod_hooks_install(struct ksmod_hook *hooks, unsigned int nr);
void ksmod_hooks_remove(struct ksmod_hook *hooks, unsigned int nr);
void ksmod_hooks_free(struct ksmod_hook *hooks, unsigned int nr);
unsigned long ksmod_hook_hits(struct ksmod_hook *hook);
void ksmod_hooks_show(struct seq_file *m, struct ksmod_hook *hooks,
		      unsigned int nr);
void ksmod_hook_enter(void);
void ksmod_hook_exit(void);

#endif /* _KSMOD_HOOKS_H */
