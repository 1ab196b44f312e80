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
 *    which is where a merged page is broken on write.
 * The hooked functions' prototypes are those of both target kernels.
 */
#include "ksmod.h"

#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/module.h>

#include "hooks.h"
#include "mm_hooks.h"
#include "registry.h"
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

/* Installed in this order, removed in reverse. */
static struct ksmod_hook ksmod_mm_hooks[] = {
	{
		.name = "do_wp_page",
		.target = &ksym.do_wp_page,
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
