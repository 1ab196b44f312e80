/* SPDX-License-Identifier: GPL-2.0 */
/*
 * chardev.h - /dev/ksmod and its ioctls (include/uapi/ksmod.h).
 */
#ifndef _KSMOD_CHARDEV_H
#define _KSMOD_CHARDEV_H

int ksmod_chardev_init(void);
void ksmod_chardev_exit(void);

#endif /* _KSMOD_CHARDEV_H */
