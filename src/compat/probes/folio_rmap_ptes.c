// SPDX-License-Identifier: GPL-2.0
// ksmod-probe: KSMOD_HAVE_FOLIO_RMAP_PTES: rmap is folio_{add_anon,remove}_rmap_ptes, not page_{add_anon,remove}_rmap (6.9+)
#include <linux/rmap.h>

void *probe(void);
void *probe(void)
{
	return folio_add_anon_rmap_ptes;
}
