// SPDX-License-Identifier: GPL-2.0
/*
 * ibt.c - Indirect Branch Tracking: refuse to load where a call would fault.
 *
 * A kernel built with CONFIG_X86_KERNEL_IBT (6.12) starts every function
 * with ENDBR64, then at boot overwrites it with a 4-byte poison NOP in every
 * function that is never address-taken ("sealing", .ibt_endbr_seal). On a
 * CPU that enforces IBT an indirect call to a sealed function raises #CP,
 * and every call ksmod makes to a resolved symbol is indirect.
 *
 * So ksmod classifies the first instruction of each resolved function and,
 * where IBT is enforced, refuses to load when one it calls is not a valid
 * indirect-branch target. Hooked functions need nothing: ftrace patches the
 * call to __fentry__ after the ENDBR, and redirected hooks return to their
 * caller without ever branching to the hooked function.
 */
#include "ksmod.h"

#include <linux/module.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>

#include "ibt.h"
#include "symbols.h"

static bool test_ibt_enforced;
module_param(test_ibt_enforced, bool, 0);
MODULE_PARM_DESC(test_ibt_enforced,
		 "testing only: decide as if the CPU enforced IBT");

#define ENDBR64_INSN	0xfa1e0ff3U	/* f3 0f 1e fa */
#define ENDBR_POISON	0x001f0f66U	/* osp nopl (%rax), see asm/ibt.h */

/**
 * ksmod_ibt_enforced() - does an indirect call to a non-ENDBR target fault?
 *
 * Only a kernel built with IBT enables it, and only on CPUs that have it
 * (and not with "ibt=off", which clears the feature bit).
 */
bool ksmod_ibt_enforced(void)
{
	if (!IS_ENABLED(CONFIG_X86_KERNEL_IBT))
		return false;
	return test_ibt_enforced || cpu_feature_enabled(X86_FEATURE_IBT);
}

static enum ksym_entry_kind ksym_entry_kind(const void *addr)
{
	u32 insn;

	if (!addr || copy_from_kernel_nofault(&insn, addr, sizeof(insn)))
		return KSYM_ENTRY_UNKNOWN;
	if (insn == ENDBR64_INSN)
		return KSYM_ENTRY_ENDBR;
	if (insn == ENDBR_POISON)
		return KSYM_ENTRY_SEALED;
	return KSYM_ENTRY_PLAIN;
}

/**
 * ksmod_ibt_check() - classify every resolved symbol, then decide
 *
 * Return: 0 when every function ksmod calls may be called indirectly here,
 * -EOPNOTSUPP (with each offender named in dmesg) otherwise.
 */
int ksmod_ibt_check(void)
{
	bool enforced = ksmod_ibt_enforced();
	unsigned int bad = 0, i;
	struct ksym *s;

	for_each_ksym(s, i) {
		s->kind = ksym_entry_kind(*s->slot);
		if (!enforced || !*s->slot || !(s->flags & KSYM_CALLED))
			continue;
		if (s->kind != KSYM_ENTRY_ENDBR) {
			pr_err("IBT: %s %s and cannot be called\n", s->name,
			       s->kind == KSYM_ENTRY_SEALED ? "is sealed" :
							      "has no ENDBR");
			bad++;
		}
	}
	if (bad) {
		pr_err("IBT is enforced on this CPU and %u function(s) ksmod calls are not valid indirect-call targets; boot with ibt=off to use ksmod\n",
		       bad);
		return -EOPNOTSUPP;
	}
	return 0;
}
