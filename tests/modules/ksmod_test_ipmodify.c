// SPDX-License-Identifier: GPL-2.0
/*
 * ksmod_test_ipmodify - stands in for livepatch in the hook-conflict test.
 *
 * Registers an ftrace_ops with FTRACE_OPS_FL_IPMODIFY on one function
 * (module parameter "func", default ksm_madvise), as a live patch of that
 * function would. While it is loaded, ksmod must refuse to load, naming
 * the function. The callback leaves the instruction pointer alone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/string.h>

static char *func = "ksm_madvise";
module_param(func, charp, 0444);
MODULE_PARM_DESC(func, "function to claim with an IPMODIFY ftrace_ops");

static void notrace claim(unsigned long ip, unsigned long parent_ip,
			  struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
}

static struct ftrace_ops claim_ops = {
	.func = claim,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY,
};

static int __init claim_init(void)
{
	int err;

	err = ftrace_set_filter(&claim_ops, (unsigned char *)func,
				strlen(func), 1);
	if (err) {
		pr_err("cannot filter on %s: %d\n", func, err);
		return err;
	}
	err = register_ftrace_function(&claim_ops);
	if (err) {
		pr_err("cannot claim %s: %d\n", func, err);
		ftrace_free_filter(&claim_ops);
		return err;
	}
	pr_info("claimed %s with IPMODIFY\n", func);
	return 0;
}

static void __exit claim_exit(void)
{
	unregister_ftrace_function(&claim_ops);
	ftrace_free_filter(&claim_ops);
}

module_init(claim_init);
module_exit(claim_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ksmod test helper: an IPMODIFY ftrace user");
