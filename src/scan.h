/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scan.h - the scanner thread and the tunables that drive it.
 */
#ifndef _KSMOD_SCAN_H
#define _KSMOD_SCAN_H

#include <linux/seq_file.h>

/* Values of run, as in /sys/kernel/mm/ksm/run. */
#define KSMOD_RUN_STOP		0
#define KSMOD_RUN_MERGE		1
#define KSMOD_RUN_UNMERGE	2

extern unsigned int ksmod_run;
extern unsigned int ksmod_pages_to_scan;
extern unsigned int ksmod_sleep_millisecs;
extern unsigned long ksmod_pages_scanned;
extern unsigned long ksmod_full_scans;

int ksmod_set_run(unsigned int run);
int ksmod_set_pages_to_scan(unsigned int nr);
int ksmod_set_sleep_millisecs(unsigned int msecs);

int ksmod_scan_init(void);
void ksmod_scan_stop(void);
void ksmod_scan_lock(void);
void ksmod_scan_unlock(void);
void ksmod_scan_exit(void);
void ksmod_scan_show(struct seq_file *m);

#endif /* _KSMOD_SCAN_H */
