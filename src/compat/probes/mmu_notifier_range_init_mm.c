// SPDX-License-Identifier: GPL-2.0
// ksmod-probe: KSMOD_HAVE_MMU_NOTIFIER_RANGE_INIT_MM: mmu_notifier_range_init() takes no vma (6.3+)
#include <linux/mmu_notifier.h>

void probe(struct mmu_notifier_range *range, struct mm_struct *mm);
void probe(struct mmu_notifier_range *range, struct mm_struct *mm)
{
	mmu_notifier_range_init(range, MMU_NOTIFY_CLEAR, 0, mm, 0, PAGE_SIZE);
}
