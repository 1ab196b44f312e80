// SPDX-License-Identifier: GPL-2.0
/*
 * mm_hooks.c - the table of kernel functions ksmod hooks, and their bodies.
 *
 * Each hook is the narrowest function that sees what ksmod needs:
 *  - ksm_madvise: core mm calls it only for MADV_MERGEABLE and
 *    MADV_UNMERGEABLE, so other madvise() calls never reach ksmod;
 *  - __ksm_enter, __ksm_exit: fork and exit reach them only for mms with
 *    MMF_VM_MERGEABLE, that is, processes that asked for KSM;
 *  - do_wp_page: only write faults on present, write-protected ptes (COW),
 *    which is where a merged page is broken on write;
 *  - rmap_walk_ksm, folio_migrate_ksm, collect_procs_ksm: core mm reads a
 *    KSM page's stable node only there; the hooks take the pages whose
 *    node is ksmod's (decided in the ftrace callback, so the kernel's own
 *    KSM pages go straight on to the kernel's function);
 *  - commit_creds, cgroup_attach_task: a change of uid or of cgroup,
 *    which under merge_domain "uid" or "cgroup" moves a process to
 *    another domain (domain.c); both only look at a flag and queue work.
 *  - prctl(PR_SET_MEMORY_MERGE) (prctl.c): on 6.12 ksm_enable_merge_any
 *    and ksm_disable_merge_any, which only that prctl calls; on 6.1
 *    security_task_prctl, for those two options only, and begin_new_exec,
 *    for processes with MMF_VM_MERGEABLE only (exec of a merge-any one).
 * The hooked functions' prototypes are those of both target kernels; a
 * hook whose function one kernel lacks is optional (compat/symbols.c
 * requires it where it exists).
 */
#include "ksmod.h"

#include <linux/binfmts.h>
#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/module.h>

#include "domain.h"
#include "hooks.h"
#include "mm_hooks.h"
#include "prctl.h"
#include "registry.h"
#include "rmap.h"
#include "stable_tree.h"
#include "symbols.h"

static unsigned int test_hook_delay_ms;
module_param(test_hook_delay_ms, uint, 0);
MODULE_PARM_DESC(test_hook_delay_ms,
		 "testing only: sleep this long in the madvise hook body");

/*
 * The replacements below run instead of the kernel's functions, for every
 * caller but ksmod itself. Each answers for the mms ksmod owns (or takes,
 * registry.c) and hands every other call to the kernel's function.
 */

/* MADV_MERGEABLE/UNMERGEABLE, with the mmap lock held for writing */
static int ksmod_ksm_madvise(struct vm_area_struct *vma, unsigned long start,
			     unsigned long end, int advice,
			     unsigned long *vm_flags)
{
	int ret;

	if (test_hook_delay_ms)
		msleep(test_hook_delay_ms);
	if (ksmod_takes(vma->vm_mm))
		ret = ksmod_madvise(vma, start, end, advice, vm_flags);
	else
		ret = ksym.ksm_madvise(vma, start, end, advice, vm_flags);
	ksmod_hook_exit();
	return ret;
}

/* fork() of an mm with MMF_VM_MERGEABLE, from the parent */
static int ksmod___ksm_enter(struct mm_struct *mm)
{
	int ret;

	if (!ksmod_fork_child(mm, &ret))
		ret = ksym.__ksm_enter(mm);
	ksmod_hook_exit();
	return ret;
}

/* the last mmput() of an mm with MMF_VM_MERGEABLE */
static void ksmod___ksm_exit(struct mm_struct *mm)
{
	if (!ksmod_mm_exit(mm))
		ksym.__ksm_exit(mm);
	ksmod_hook_exit();
}

/* write faults that copied one of ksmod's KSM pages, since load */
atomic_long_t ksmod_cow_breaks = ATOMIC_LONG_INIT(0);

/*
 * do_wp_page(vmf): a write fault on a write-protected pte, with the page
 * table lock held. The kernel always copies a KSM page here; count it when
 * the page is ksmod's.
 */
static void ksmod_wp_fault(struct ksmod_hook *hook, struct ftrace_regs *fregs)
{
	struct vm_fault *vmf = (struct vm_fault *)ksmod_fregs_arg(fregs, 0);
	pte_t pte = vmf->orig_pte;

	if (!pte_present(pte) || !pfn_valid(pte_pfn(pte)))
		return;
	if (ksmod_stable_owns(pfn_folio(pte_pfn(pte)))) {
		atomic_long_inc(&ksmod_cow_breaks);
		ksmod_count_cow_break(vmf->vma->vm_mm);
	}
}

/* commit_creds(new): current's credentials change */
static void ksmod_creds_hook(struct ksmod_hook *hook,
			     struct ftrace_regs *fregs)
{
	ksmod_domain_creds((const struct cred *)ksmod_fregs_arg(fregs, 0));
}

/* cgroup_attach_task(dst_cgrp, leader, threadgroup): a cgroup.procs write */
static void ksmod_cgroup_hook(struct ksmod_hook *hook,
			      struct ftrace_regs *fregs)
{
	ksmod_domain_cgroup((struct task_struct *)ksmod_fregs_arg(fregs, 1));
}

/* cgroup_post_fork(child, kargs): a new task, in its cgroup now */
static void ksmod_post_fork_hook(struct ksmod_hook *hook,
				 struct ftrace_regs *fregs)
{
	ksmod_domain_forked((struct task_struct *)ksmod_fregs_arg(fregs, 0),
			    (struct kernel_clone_args *)ksmod_fregs_arg(fregs, 1));
}

/* Is argument @n of the hooked function a folio ksmod made KSM? */
static bool ksmod_arg_is_ours(struct pt_regs *regs, unsigned int n)
{
	struct folio *folio = (struct folio *)regs_get_kernel_argument(regs, n);

	return folio && ksmod_stable_owns(folio);
}

/* rmap_walk_ksm(folio, rwc): reclaim, migration, page_idle, DAMON... */
static bool ksmod_want_rmap_walk(struct pt_regs *regs)
{
	return ksmod_arg_is_ours(regs, 0);
}

static void ksmod_rmap_walk_ksm(struct folio *folio,
				struct rmap_walk_control *rwc)
{
	ksmod_rmap_walk(folio, rwc);
	ksmod_hook_exit();
}

/* folio_migrate_ksm(newfolio, folio): the KSM page moved */
static bool ksmod_want_migrate(struct pt_regs *regs)
{
	return ksmod_arg_is_ours(regs, 1);
}

static void ksmod_folio_migrate_ksm(struct folio *newfolio,
				    struct folio *folio)
{
	ksmod_stable_migrate(newfolio, folio);
	ksmod_hook_exit();
}

/*
 * collect_procs_ksm(folio, page, to_kill, force_early) (6.7+): memory
 * failure asks whom to signal early; the page's ptes are then unmapped
 * through the rmap walk, and a process touching one gets SIGBUS.
 */
static bool ksmod_want_collect_procs(struct pt_regs *regs)
{
	return ksmod_arg_is_ours(regs, 0);
}

static void ksmod_collect_procs_ksm(struct folio *folio, struct page *page,
				    struct list_head *to_kill, int force_early)
{
	ksmod_collect_procs(folio, page, to_kill, force_early);
	ksmod_hook_exit();
}

/* prctl(PR_SET_MEMORY_MERGE, 1 or 0) (6.12), mmap lock held for writing */
static int ksmod_ksm_enable_merge_any(struct mm_struct *mm)
{
	int ret = ksmod_set_merge_any(mm, true);

	ksmod_hook_exit();
	return ret;
}

static int ksmod_ksm_disable_merge_any(struct mm_struct *mm)
{
	int ret = ksmod_set_merge_any(mm, false);

	ksmod_hook_exit();
	return ret;
}

/* security_task_prctl(option, ...) (6.1): every prctl() passes here first */
static bool ksmod_want_prctl(struct pt_regs *regs)
{
	int option = (int)regs_get_kernel_argument(regs, 0);

	return option == PR_SET_MEMORY_MERGE || option == PR_GET_MEMORY_MERGE;
}

static int ksmod_security_task_prctl(int option, unsigned long arg2,
				     unsigned long arg3, unsigned long arg4,
				     unsigned long arg5)
{
	int ret = ksmod_prctl(option, arg2, arg3, arg4, arg5);

	ksmod_hook_exit();
	return ret;
}

/*
 * begin_new_exec(bprm) (6.1): exec() past its last failure that keeps the
 * old program; current->mm is still the old mm, bprm->mm the new one. Only
 * mms with MMF_VM_MERGEABLE can be merge-any.
 */
static bool ksmod_want_exec(struct pt_regs *regs)
{
	struct mm_struct *mm = current->mm;

	return mm && test_bit(MMF_VM_MERGEABLE, &mm->flags);
}

static int ksmod_begin_new_exec(struct linux_binprm *bprm)
{
	int ret = ksmod_exec_child(bprm->mm);

	if (!ret)
		ret = begin_new_exec(bprm);
	ksmod_hook_exit();
	return ret;
}

/*
 * The observers go live first, then the redirects all at once (hooks.c);
 * this order is only that of debugfs "hooks".
 */
static struct ksmod_hook ksmod_mm_hooks[] = {
	{
		.name = "rmap_walk_ksm",
		.target = &ksym.rmap_walk_ksm,
		.replace = ksmod_rmap_walk_ksm,
		.want = ksmod_want_rmap_walk,
	},
	{
		.name = "folio_migrate_ksm",
		.target = &ksym.folio_migrate_ksm,
		.replace = ksmod_folio_migrate_ksm,
		.want = ksmod_want_migrate,
	},
	{
		/* 6.1 has no such function: it never reads the node there */
		.name = "collect_procs_ksm",
		.target = &ksym.compat.collect_procs_ksm,
		.replace = ksmod_collect_procs_ksm,
		.want = ksmod_want_collect_procs,
		.optional = true,
	},
	{
		.name = "do_wp_page",
		.target = &ksym.do_wp_page,
		.observe = ksmod_wp_fault,
		.optional = true,
	},
	{
		.name = "__ksm_exit",
		.target = (void **)&ksym.__ksm_exit,
		.replace = ksmod___ksm_exit,
	},
	{
		.name = "__ksm_enter",
		.target = (void **)&ksym.__ksm_enter,
		.replace = ksmod___ksm_enter,
	},
	{
		/* 6.1 has no ksm_execve() */
		.name = "begin_new_exec",
		.target = &ksym.compat.begin_new_exec,
		.replace = ksmod_begin_new_exec,
		.want = ksmod_want_exec,
		.optional = true,
	},
	{
		/* 6.1 has no PR_SET_MEMORY_MERGE of its own */
		.name = "security_task_prctl",
		.target = &ksym.compat.security_task_prctl,
		.replace = ksmod_security_task_prctl,
		.want = ksmod_want_prctl,
		.optional = true,
	},
	{
		/* 6.4+ */
		.name = "ksm_disable_merge_any",
		.target = (void **)&ksym.compat.ksm_disable_merge_any,
		.replace = ksmod_ksm_disable_merge_any,
		.optional = true,
	},
	{
		.name = "ksm_enable_merge_any",
		.target = (void **)&ksym.compat.ksm_enable_merge_any,
		.replace = ksmod_ksm_enable_merge_any,
		.optional = true,
	},
	{
		.name = "commit_creds",
		.target = &ksym.commit_creds,
		.observe = ksmod_creds_hook,
		.optional = true,
	},
	{
		.name = "cgroup_attach_task",
		.target = &ksym.cgroup_attach_task,
		.observe = ksmod_cgroup_hook,
		.optional = true,
	},
	{
		.name = "cgroup_post_fork",
		.target = &ksym.cgroup_post_fork,
		.observe = ksmod_post_fork_hook,
		.optional = true,
	},
	{
		.name = "ksm_madvise",
		.target = (void **)&ksym.ksm_madvise,
		.replace = ksmod_ksm_madvise,
	},
};

int ksmod_mm_hooks_init(void)
{
	return ksmod_hooks_install(ksmod_mm_hooks,
				   ARRAY_SIZE(ksmod_mm_hooks));
}

void ksmod_mm_hooks_exit(void)
{
	ksmod_hooks_remove(ksmod_mm_hooks, ARRAY_SIZE(ksmod_mm_hooks));
	ksmod_hooks_free(ksmod_mm_hooks, ARRAY_SIZE(ksmod_mm_hooks));
}

void ksmod_mm_hooks_show(struct seq_file *m)
{
	ksmod_hooks_show(m, ksmod_mm_hooks, ARRAY_SIZE(ksmod_mm_hooks));
}
