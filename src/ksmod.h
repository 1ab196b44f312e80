/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ksmod.h - definitions every ksmod source file includes first.
 */
#ifndef _KSMOD_H
#define _KSMOD_H

/* Every message of the module starts with "ksmod: ". */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/printk.h>

#ifndef KSMOD_RELEASE
#define KSMOD_RELEASE "unknown"
#endif

#endif /* _KSMOD_H */
