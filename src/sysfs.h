/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sysfs.h - /sys/module/ksmod/ksm/: the tunables and counters.
 */
#ifndef _KSMOD_SYSFS_H
#define _KSMOD_SYSFS_H

int ksmod_sysfs_init(void);
void ksmod_sysfs_exit(void);

#endif /* _KSMOD_SYSFS_H */
