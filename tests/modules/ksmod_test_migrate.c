// SPDX-License-Identifier: GPL-2.0
/*
 * ksmod_test_migrate - holds the migration of a KSM page halfway.
 *
 * Races with page migration are real but their windows are short. This
 * helper makes them certain: a kprobe sleeps (mdelay, in the migrating
 * task) for delay_ms, at most max_hits times, when a task called @comm
 * migrates a KSM page, at the point @func names:
 *  - "xas_store" (default): folio_migrate_mapping() storing the new page
 *    in the swap cache, with the old page's refcount frozen at 0 while it
 *    still points at its stable node (a swap-cache KSM page only);
 *  - "folio_migrate_flags": after the copy, while every pte of the page
 *    is still a migration entry.
 * @hits counts the delays.
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

static char func[32] = "xas_store";
module_param_string(func, func, sizeof(func), 0444);
MODULE_PARM_DESC(func, "where: xas_store or folio_migrate_flags");

static unsigned int delay_ms = 200;
module_param(delay_ms, uint, 0644);
MODULE_PARM_DESC(delay_ms, "how long the migration is held");

static unsigned int max_hits = 1;
module_param(max_hits, uint, 0644);
MODULE_PARM_DESC(max_hits, "hold at most this many migrations");

static atomic_t hits = ATOMIC_INIT(0);
module_param_named(hits, hits.counter, int, 0444);
MODULE_PARM_DESC(hits, "migrations held so far");

static bool in_swapcache;

/*
 * @entry, an xarray entry or a folio: a KSM page (in the swap cache, when
 * @in_swapcache)?
 */
static bool ksm_page(void *entry)
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
	if ((mapping & PAGE_MAPPING_FLAGS) != PAGE_MAPPING_KSM)
		return false;
	return !in_swapcache || folio_test_swapcache(page_folio(page));
}

/* xas_store(xas, entry): the new page; folio_migrate_flags(new, old) */
static int hold_pre(struct kprobe *kp, struct pt_regs *regs)
{
	if (strncmp(current->comm, comm, TASK_COMM_LEN))
		return 0;
	if (!ksm_page((void *)regs_get_kernel_argument(regs, 1)))
		return 0;
	if (atomic_inc_return(&hits) > max_hits) {
		atomic_dec(&hits);
		return 0;
	}
	mdelay(delay_ms);
	return 0;
}

static struct kprobe hold_kp = {
	.pre_handler = hold_pre,
};

static int __init hold_init(void)
{
	int err;

	if (!strcmp(func, "xas_store")) {
		in_swapcache = true;
	} else if (strcmp(func, "folio_migrate_flags")) {
		pr_err("func=%s: xas_store or folio_migrate_flags\n", func);
		return -EINVAL;
	}
	hold_kp.symbol_name = func;
	err = register_kprobe(&hold_kp);
	if (err)
		pr_err("cannot probe %s: %d\n", func, err);
	return err;
}

static void __exit hold_exit(void)
{
	unregister_kprobe(&hold_kp);
}

module_init(hold_init);
module_exit(hold_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ksmod test helper: hold the migration of a KSM page halfway");
