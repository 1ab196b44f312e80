// SPDX-License-Identifier: GPL-2.0
// ksmod-probe: KSMOD_HAVE_PMDP_GET_LOCKLESS: read a pmd without its lock through pmdp_get_lockless() (6.5+)
#include <linux/pgtable.h>

pmd_t probe(pmd_t *pmdp);
pmd_t probe(pmd_t *pmdp)
{
	return pmdp_get_lockless(pmdp);
}
