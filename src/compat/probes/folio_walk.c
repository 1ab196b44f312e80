// SPDX-License-Identifier: GPL-2.0
// ksmod-probe: KSMOD_HAVE_FOLIO_WALK: folio_walk_start() replaces follow_page() for looking up a mapped page (6.11+)
#include <linux/pagewalk.h>

int probe(void);
int probe(void)
{
	struct folio_walk fw;

	return folio_walk_start(&fw, NULL, 0, 0) != NULL;
}
