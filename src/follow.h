/* SPDX-License-Identifier: GPL-2.0 */
/*
 * follow.h - whole cgroup v2 subtrees, followed as processes move.
 */
#ifndef _KSMOD_FOLLOW_H
#define _KSMOD_FOLLOW_H

#include <linux/types.h>

struct ksmod_cgroup_req;
struct ksmod_cgroup_stats;
struct task_struct;

extern unsigned int ksmod_nr_follows;

int ksmod_cgroup_register(struct ksmod_cgroup_req *req, bool on);
void ksmod_follow_moved(struct task_struct *task);
int ksmod_cgroup_stats(struct ksmod_cgroup_stats *req);
void ksmod_follow_exit(void);

#endif /* _KSMOD_FOLLOW_H */
