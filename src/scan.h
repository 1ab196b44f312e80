/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scan.h - the scanner thread and the tunables that drive it.
 */
#ifndef _KSMOD_SCAN_H
#define _KSMOD_SCAN_H

#include <linux/mm.h>
#include <linux/seq_file.h>

/* Values of run, as in /sys/kernel/mm/ksm/run. */
#define KSMOD_RUN_STOP		0
#define KSMOD_RUN_MERGE		1
#define KSMOD_RUN_UNMERGE	2

extern unsigned int ksmod_run;
extern unsigned int ksmod_pages_to_scan;
extern unsigned int ksmod_sleep_millisecs;
extern unsigned int ksmod_merge_across_nodes;
extern unsigned int ksmod_smart_scan;
extern unsigned int ksmod_early_merge;
extern unsigned int ksmod_use_zero_pages;
extern unsigned long ksmod_pages_scanned;
extern unsigned long ksmod_pages_skipped;
extern unsigned long ksmod_full_scans;

/* The kernel's defaults. */
#define KSMOD_PAGES_TO_SCAN			100
#define KSMOD_ADVISOR_MAX_CPU			70
#define KSMOD_ADVISOR_MIN_PAGES_TO_SCAN		500
#define KSMOD_ADVISOR_MAX_PAGES_TO_SCAN		30000
#define KSMOD_ADVISOR_TARGET_SCAN_TIME		200

/* The kernel's defaults of the stable node chain tunables. */
#define KSMOD_MAX_PAGE_SHARING			256
#define KSMOD_STABLE_NODE_CHAINS_PRUNE_MSECS	2000

/* Values of advisor_mode. */
#define KSMOD_ADVISOR_NONE			0
#define KSMOD_ADVISOR_SCAN_TIME			1

extern unsigned int ksmod_advisor;
extern unsigned int ksmod_advisor_max_cpu;
extern unsigned long ksmod_advisor_min_pages_to_scan;
extern unsigned long ksmod_advisor_max_pages_to_scan;
extern unsigned long ksmod_advisor_target_scan_time;

void ksmod_set_advisor(unsigned int mode);
int ksmod_set_advisor_max_cpu(unsigned long value);
int ksmod_set_advisor_min_pages_to_scan(unsigned long value);
int ksmod_set_advisor_max_pages_to_scan(unsigned long value);
int ksmod_set_advisor_target_scan_time(unsigned long value);

int ksmod_set_run(unsigned long run);
int ksmod_set_pages_to_scan(unsigned long nr);
int ksmod_set_sleep_millisecs(unsigned long msecs);
int ksmod_set_merge_across_nodes(unsigned long knob);
int ksmod_set_smart_scan(unsigned long on);
int ksmod_set_early_merge(unsigned long on);
int ksmod_set_use_zero_pages(unsigned long on);
int ksmod_set_max_page_sharing(unsigned long value);
int ksmod_set_chains_prune_msecs(unsigned long msecs);
int ksmod_set_merge_domain(unsigned int mode);
int ksmod_set_merge_domain_cgroup_level(unsigned long level);
int ksmod_set_merge_zero_across_domains(unsigned long on);
int ksmod_rekey_now(struct mm_struct *mm);
long ksmod_zero_pages(void);

/* The tree a page goes in: its NUMA node's, or 0 merging across nodes. */
static inline int ksmod_tree_nid(struct page *page)
{
	return READ_ONCE(ksmod_merge_across_nodes) ? 0 : page_to_nid(page);
}

int ksmod_scan_init(void);
void ksmod_scan_stop(void);
void ksmod_scan_lock(void);
void ksmod_scan_unlock(void);
void ksmod_scan_exit(void);
void ksmod_scan_show(struct seq_file *m);
void ksmod_profile_show(struct seq_file *m);
void ksmod_profile_enable(bool on);

#endif /* _KSMOD_SCAN_H */
