/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ibt.h - may ksmod call the functions it resolved?
 */
#ifndef _KSMOD_IBT_H
#define _KSMOD_IBT_H

int ksmod_ibt_check(void);
bool ksmod_ibt_enforced(void);

#endif /* _KSMOD_IBT_H */
