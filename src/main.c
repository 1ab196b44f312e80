// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - ksmod: Kernel Samepage Merging as a loadable module.
 */

/**
 * DOC: ksmod
 *
 * ksmod merges identical anonymous pages of the processes that ask for it
 * into one write-protected page, as the kernel's KSM does, without a
 * kernel rebuild. The pieces, one file each:
 *
 *  - symbols.c resolves the unexported kernel functions ksmod needs, once;
 *    ibt.c refuses the load where calling them would fault (IBT).
 *  - hooks.c installs ftrace hooks from a table; mm_hooks.c holds the
 *    table of places where core mm enters KSM (madvise, write faults).
 *  - registry.c decides which processes are ksmod's and which stay the
 *    kernel's, and registers ranges for /dev/ksmod.
 *  - prctl.c is prctl(PR_SET_MEMORY_MERGE): merging whole processes.
 *  - scan.c runs the scanner thread, driven by the tunables that sysfs.c
 *    exposes in /sys/module/ksmod/ksm/ under the kernel's KSM names.
 *  - chardev.c is /dev/ksmod, the ioctl ABI of include/uapi/ksmod.h.
 *  - debugfs.c shows internals to tests.
 *
 * Init goes from the inside out, live hooks last (then only the debugfs
 * view of them); exit is the exact reverse, and returns only after no task
 * runs ksmod code any more.
 */
#include "ksmod.h"

#include <linux/init.h>
#include <linux/module.h>

#include "chardev.h"
#include "debugfs.h"
#include "follow.h"
#include "ibt.h"
#include "mm_hooks.h"
#include "registry.h"
#include "rmap.h"
#include "stable_tree.h"
#include "scan.h"
#include "symbols.h"
#include "sysfs.h"

static int __init ksmod_init(void)
{
	int err;

	err = ksmod_symbols_resolve();
	if (err)
		return err;
	err = ksmod_ibt_check();
	if (err)
		return err;
	err = ksmod_rmap_init();
	if (err)
		return err;
	err = ksmod_stable_init();
	if (err)
		goto err_rmap;
	err = ksmod_registry_init();
	if (err)
		goto err_stable;
	err = ksmod_scan_init();
	if (err)
		goto err_registry;
	err = ksmod_sysfs_init();
	if (err)
		goto err_scan;
	err = ksmod_chardev_init();
	if (err)
		goto err_sysfs;
	err = ksmod_mm_hooks_init();
	if (err)
		goto err_chardev;
	/* last: its files read the hook counters */
	ksmod_debugfs_init();

	pr_info("loaded, release %s\n", KSMOD_RELEASE);
	return 0;

err_chardev:
	ksmod_chardev_exit();
err_sysfs:
	ksmod_sysfs_exit();
err_scan:
	ksmod_scan_exit();
err_registry:
	ksmod_registry_exit();
err_stable:
	ksmod_stable_exit();
err_rmap:
	ksmod_rmap_exit();
	return err;
}

static void __exit ksmod_exit(void)
{
	ksmod_debugfs_exit();
	ksmod_sysfs_exit();
	ksmod_scan_stop();
	/*
	 * No stable node is left (each holds a reference on the module),
	 * so no KSM page of ksmod's; give the processes back while the hooks
	 * still route exits and forks to ksmod.
	 */
	ksmod_scan_lock();
	ksmod_registry_release();
	ksmod_scan_unlock();
	ksmod_mm_hooks_exit();
	ksmod_follow_exit();
	ksmod_chardev_exit();
	ksmod_scan_exit();
	ksmod_registry_exit();
	ksmod_stable_exit();
	ksmod_rmap_exit();
	pr_info("unloaded\n");
}

module_init(ksmod_init);
module_exit(ksmod_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Kernel Samepage Merging as a loadable module");
MODULE_VERSION(KSMOD_RELEASE);
