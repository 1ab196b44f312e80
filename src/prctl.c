// SPDX-License-Identifier: GPL-2.0
/*
 * prctl.c - prctl(PR_SET_MEMORY_MERGE): merging a whole process.
 *
 * PR_SET_MEMORY_MERGE with a non-zero argument marks every VMA of the
 * calling process that KSM may merge VM_MERGEABLE, and every VMA it maps
 * from then on, without any madvise(); its children and the programs it
 * execs are merge-any too. With 0 it gives every merged page of the
 * process a private copy again and no VMA stays mergeable.
 * PR_GET_MEMORY_MERGE answers 1 or 0. The other arguments must be 0
 * (EINVAL), as 6.12's kernel/sys.c wants.
 *
 * Where the prctl reaches ksmod:
 *  - 6.12 handles both options inline in __do_sys_prctl(), which ftrace
 *    cannot hook, and calls ksm_enable_merge_any() or
 *    ksm_disable_merge_any() with the mmap lock held for writing; ksmod
 *    hooks those two (mm_hooks.c). PR_GET_MEMORY_MERGE reads
 *    MMF_VM_MERGE_ANY, which ksmod keeps right for its processes.
 *  - 6.1 has no such prctl. Every prctl() calls security_task_prctl()
 *    first, and returns at once what it returns unless that is -ENOSYS;
 *    ksmod hooks it for these two options only and answers them with
 *    6.12's rules (no LSM of 6.1 handles them). The merge-any state is the
 *    ksmod slot's merge_any; compat.h says how new VMAs follow it.
 *
 * Whose the process is follows registry.c: ksmod's if it owns it or nobody
 * does, the kernel KSM's if that registered it before ksmod was loaded.
 * The kernel's KSM merges such a process whole on 6.12; on 6.1 it cannot,
 * and PR_SET_MEMORY_MERGE, 1 fails with EBUSY (with a line in dmesg).
 */
#include "ksmod.h"

#include <linux/mm.h>
#include <linux/sched.h>

#include "compat.h"
#include "prctl.h"
#include "registry.h"

/**
 * ksmod_set_merge_any() - PR_SET_MEMORY_MERGE, for ksmod or the kernel
 * @mm:	the caller's mm, its mmap lock held for writing
 * @on:	the prctl's argument: merge the whole process, or stop
 *
 * Return: 0; -ENOMEM; -ERESTARTSYS (unmerging met a fatal signal); -EBUSY
 * when the kernel's KSM owns @mm and cannot merge it whole (6.1), or ksmod
 * is being unloaded there.
 */
int ksmod_set_merge_any(struct mm_struct *mm, bool on)
{
	int err;

	mmap_assert_write_locked(mm);
	if (!on) {
		if (ksmod_owns(mm))
			return ksmod_disable_merge_any(mm);
		/* 6.1: nobody else can have it on */
		if (!KSMOD_KERNEL_MERGE_ANY)
			return 0;
		return ksmod_kernel_set_merge_any(mm, false);
	}
	if (ksmod_takes(mm)) {
		err = ksmod_enable_merge_any(mm);
		if (err != -EAGAIN)
			return err;
		/* unload began meanwhile: as if it had before */
	}
	if (KSMOD_KERNEL_MERGE_ANY)
		return ksmod_kernel_set_merge_any(mm, true);
	pr_info_ratelimited("PR_SET_MEMORY_MERGE from %s[%d] refused: %s\n",
			    current->comm, task_pid_nr(current),
			    test_bit(MMF_VM_MERGEABLE, &mm->flags) ?
			    "the kernel's KSM merges this process and cannot merge it whole" :
			    "ksmod is being unloaded");
	return -EBUSY;
}

/**
 * ksmod_prctl() - PR_SET_MEMORY_MERGE or PR_GET_MEMORY_MERGE on 6.1
 * @option:	the prctl option: one of those two (anything else is GET)
 * @arg2:	its arguments
 * @arg3:	...
 * @arg4:	...
 * @arg5:	...
 *
 * Return: what prctl() returns, as 6.12 would: 0 or 1 for
 * PR_GET_MEMORY_MERGE, 0 or -errno for PR_SET_MEMORY_MERGE, -EINVAL for
 * an argument that should be 0, -EINTR when a fatal signal came while
 * waiting for the mmap lock.
 */
int ksmod_prctl(int option, unsigned long arg2, unsigned long arg3,
		unsigned long arg4, unsigned long arg5)
{
	struct mm_struct *mm = current->mm;
	int err;

	if (option != PR_SET_MEMORY_MERGE) {
		if (arg2 || arg3 || arg4 || arg5 || !mm)
			return -EINVAL;
		return ksmod_mm_merge_any(mm);
	}
	if (arg3 || arg4 || arg5 || !mm)
		return -EINVAL;
	if (mmap_write_lock_killable(mm))
		return -EINTR;
	err = ksmod_set_merge_any(mm, arg2);
	mmap_write_unlock(mm);
	return err;
}
