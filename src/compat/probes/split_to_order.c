// SPDX-License-Identifier: GPL-2.0
// ksmod-probe: KSMOD_HAVE_SPLIT_TO_ORDER: THP split is split_huge_page_to_list_to_order(), not split_huge_page_to_list() (6.8+)
#include <linux/mm.h>
#include <linux/huge_mm.h>

void *probe(void);
void *probe(void)
{
	return split_huge_page_to_list_to_order;
}
