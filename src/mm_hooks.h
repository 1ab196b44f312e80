/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mm_hooks.h - where core mm enters ksmod.
 */
#ifndef _KSMOD_MM_HOOKS_H
#define _KSMOD_MM_HOOKS_H

#include <linux/atomic.h>
#include <linux/seq_file.h>

extern atomic_long_t ksmod_cow_breaks;

int ksmod_mm_hooks_init(void);
void ksmod_mm_hooks_exit(void);
void ksmod_mm_hooks_show(struct seq_file *m);

#endif /* _KSMOD_MM_HOOKS_H */
