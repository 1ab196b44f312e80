// SPDX-License-Identifier: GPL-2.0
// ksmod-probe: KSMOD_HAVE_COLLECT_PROCS_KSM: memory failure asks KSM for a KSM page's mappers via collect_procs_ksm() (6.7+)
#include <linux/ksm.h>

void *probe(void);
void *probe(void)
{
	return collect_procs_ksm;
}
