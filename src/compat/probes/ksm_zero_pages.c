// SPDX-License-Identifier: GPL-2.0
// ksmod-probe: KSMOD_HAVE_KSM_ZERO_PAGES: core mm counts KSM zero pages (dirty zero-pfn ptes) in ksm_zero_pages and mm->ksm_zero_pages (6.10+)
#include <linux/ksm.h>

#ifndef is_ksm_zero_pte
#error "no KSM zero pages"
#endif

long probe(struct mm_struct *mm);
long probe(struct mm_struct *mm)
{
	return atomic_long_read(&mm->ksm_zero_pages) +
	       atomic_long_read(&ksm_zero_pages);
}
