/* SPDX-License-Identifier: GPL-2.0 */
/*
 * domain.h - merge domains: which processes' pages may share a KSM page.
 */
#ifndef _KSMOD_DOMAIN_H
#define _KSMOD_DOMAIN_H

#include <linux/mm_types.h>
#include <linux/types.h>
#include <linux/xarray.h>

struct ksmod_domain_stats;
struct cred;
struct kernel_clone_args;
struct task_struct;

/* Values of merge_domain. */
#define KSMOD_DOMAIN_GLOBAL	0	/* every process with every other */
#define KSMOD_DOMAIN_UID	1	/* processes of one real uid */
#define KSMOD_DOMAIN_CGROUP	2	/* processes of one cgroup subtree */
#define KSMOD_DOMAIN_TAG	3	/* processes of one tag (SET_TAG) */

/*
 * A domain key. All pages are in KSMOD_DOMAIN_ALL under merge_domain
 * "global", pages of zeroes too with merge_zero_across_domains=1; a slot
 * the scanner has not looked at yet has KSMOD_DOMAIN_UNSET.
 */
#define KSMOD_DOMAIN_ALL	0ULL
#define KSMOD_DOMAIN_UNSET	(~0ULL)

extern unsigned int ksmod_merge_domain;
extern unsigned int ksmod_merge_domain_cgroup_level;
extern unsigned int ksmod_merge_zero_across_domains;

int ksmod_domain_parse(const char *buf);
int ksmod_domain_show(char *buf);
u64 ksmod_domain_of(struct mm_struct *mm, u64 tag);
bool ksmod_domain_zero_page(struct page *page);
void ksmod_domain_creds(const struct cred *new);
void ksmod_domain_cgroup(struct task_struct *leader);
void ksmod_domain_forked(struct task_struct *child,
			 struct kernel_clone_args *kargs);
int ksmod_domain_add(struct xarray *xa, u64 key, u64 shared, u64 sharing,
		     u64 items, gfp_t gfp);
int ksmod_domain_stats(struct ksmod_domain_stats *req);

static inline int ksmod_domain_cmp(u64 a, u64 b)
{
	return a < b ? -1 : a > b;
}

#endif /* _KSMOD_DOMAIN_H */
