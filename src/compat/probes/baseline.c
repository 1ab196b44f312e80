// SPDX-License-Identifier: GPL-2.0
// ksmod-probe: KSMOD_PROBE_BASELINE: always compiles; if it does not, the probe run itself is broken
#include <linux/mm.h>

int probe(void);
int probe(void)
{
	return PAGE_SIZE;
}
