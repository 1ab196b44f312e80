// SPDX-License-Identifier: GPL-2.0
// ksmod-probe: KSMOD_HAVE_RSS_STAT_PERCPU: an mm's RSS counters are per-CPU counters, mm->rss_stat[], no longer atomics in mm->rss_stat.count[] (6.2+)
#include <linux/mm_types.h>
#include <linux/percpu_counter.h>

void probe(struct mm_struct *mm);
void probe(struct mm_struct *mm)
{
	percpu_counter_add(&mm->rss_stat[MM_ANONPAGES], -1);
}
