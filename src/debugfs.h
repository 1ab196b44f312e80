/* SPDX-License-Identifier: GPL-2.0 */
/*
 * debugfs.h - /sys/kernel/debug/ksmod/: internals for tests and debugging.
 */
#ifndef _KSMOD_DEBUGFS_H
#define _KSMOD_DEBUGFS_H

void ksmod_debugfs_init(void);
void ksmod_debugfs_exit(void);

#endif /* _KSMOD_DEBUGFS_H */
