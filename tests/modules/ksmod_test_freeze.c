// SPDX-License-Identifier: GPL-2.0
/*
 * ksmod_test_freeze - holds a migrating swap-cache KSM page frozen.
 *
 * Migration of a page in the swap cache freezes its refcount at 0 in
 * folio_migrate_mapping() while it stores the new page in the swap cache,
 * a window of a few instructions under the swap cache's lock; the old page
 * still points at its stable node there. This helper widens that window:
 * a kprobe on xas_store() sleeps (mdelay, interrupts off, as the caller)
 * for delay_ms when the task storing is called @comm and the entry stored
 * is a KSM page in the swap cache, that is the new page of such a
 * migration, at most @max_hits times. @hits counts the delays. A stable
 * node lookup on the other CPU meanwhile finds the old page at refcount 0.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/page-flags.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/xarray.h>

static char comm[TASK_COMM_LEN] = "dupmem";
module_param_string(comm, comm, sizeof(comm), 0644);
MODULE_PARM_DESC(comm, "only migrations by tasks of this name are held");

static unsigned int delay_ms = 200;
module_param(delay_ms, uint, 0644);
MODULE_PARM_DESC(delay_ms, "how long the old page stays frozen");

static unsigned int max_hits = 1;
module_param(max_hits, uint, 0644);
MODULE_PARM_DESC(max_hits, "hold at most this many migrations");

static atomic_t hits = ATOMIC_INIT(0);
module_param_named(hits, hits.counter, int, 0444);
MODULE_PARM_DESC(hits, "migrations held so far");

/* @entry, stored in some xarray: a KSM page in the swap cache? */
static bool ksm_swapcache_page(void *entry)
{
	struct page *page = entry;
	unsigned long pfn, mapping;

	if (!entry || xa_is_value(entry) || xa_is_internal(entry))
		return false;
	/* only a pointer into the memory map is a page */
	pfn = page_to_pfn(page);
	if (!pfn_valid(pfn) || pfn_to_page(pfn) != page)
		return false;
	mapping = (unsigned long)READ_ONCE(page->mapping);
	return (mapping & PAGE_MAPPING_FLAGS) == PAGE_MAPPING_KSM &&
	       folio_test_swapcache(page_folio(page));
}

/* xas_store(xas, entry) */
static int freeze_pre(struct kprobe *kp, struct pt_regs *regs)
{
	if (strncmp(current->comm, comm, TASK_COMM_LEN))
		return 0;
	if (!ksm_swapcache_page((void *)regs_get_kernel_argument(regs, 1)))
		return 0;
	if (atomic_inc_return(&hits) > max_hits) {
		atomic_dec(&hits);
		return 0;
	}
	mdelay(delay_ms);
	return 0;
}

static struct kprobe freeze_kp = {
	.symbol_name = "xas_store",
	.pre_handler = freeze_pre,
};

static int __init freeze_init(void)
{
	int err = register_kprobe(&freeze_kp);

	if (err)
		pr_err("cannot probe xas_store: %d\n", err);
	return err;
}

static void __exit freeze_exit(void)
{
	unregister_kprobe(&freeze_kp);
}

module_init(freeze_init);
module_exit(freeze_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ksmod test helper: widen the refcount freeze of a migrating swap-cache KSM page");
