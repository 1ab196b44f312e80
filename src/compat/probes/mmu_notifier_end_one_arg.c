// SPDX-License-Identifier: GPL-2.0
// ksmod-probe: KSMOD_HAVE_MMU_NOTIFIER_END_ONE_ARG: __mmu_notifier_invalidate_range_end() lost its only_end argument (6.3+)
#include <linux/mmu_notifier.h>

void *probe(void);
void *probe(void)
{
	void (*fn)(struct mmu_notifier_range *r) =
		__mmu_notifier_invalidate_range_end;
	return fn;
}
