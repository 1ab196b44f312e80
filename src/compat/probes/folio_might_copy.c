// SPDX-License-Identifier: GPL-2.0
// ksmod-probe: KSMOD_HAVE_FOLIO_MIGHT_NEED_TO_COPY: ksm_might_need_to_copy() takes and returns a folio (6.8+)
#include <linux/ksm.h>

void *probe(void);
void *probe(void)
{
	struct folio *(*fn)(struct folio *folio, struct vm_area_struct *vma,
			    unsigned long addr) = ksm_might_need_to_copy;
	return fn;
}
