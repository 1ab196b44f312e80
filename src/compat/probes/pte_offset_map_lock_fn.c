// SPDX-License-Identifier: GPL-2.0
// ksmod-probe: KSMOD_HAVE_PTE_OFFSET_MAP_LOCK_FN: pte_offset_map_lock() calls the out-of-line __pte_offset_map_lock() and may fail (6.5+)
#include <linux/mm.h>

void *probe(void);
void *probe(void)
{
	return __pte_offset_map_lock;
}
