/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ksmod userspace ABI: the ioctls of /dev/ksmod.
 *
 * This is the only ksmod header userspace includes. Every struct is made
 * of fixed-size fields with explicit padding, so that 32- and 64-bit
 * callers see one layout. Ask KSMOD_IOC_GET_VERSION first: a caller built
 * against a newer major ABI must refuse to talk to an older module.
 */
#ifndef _UAPI_KSMOD_H
#define _UAPI_KSMOD_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define KSMOD_DEVICE		"/dev/ksmod"

/* 0xBA is unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst */
#define KSMOD_IOC_MAGIC		0xBA

/* Incompatible changes bump the major, additions bump the minor. */
#define KSMOD_ABI_MAJOR		1
#define KSMOD_ABI_MINOR		4

/**
 * struct ksmod_version - answer of KSMOD_IOC_GET_VERSION
 * @abi_major:	KSMOD_ABI_MAJOR of the running module
 * @abi_minor:	KSMOD_ABI_MINOR of the running module
 * @features:	KSMOD_FEAT_* bits, for additions within one major ABI
 * @release:	the module's release string, NUL-terminated
 */
struct ksmod_version {
	__u32 abi_major;
	__u32 abi_minor;
	__u64 features;
	char release[32];
};

#define KSMOD_IOC_GET_VERSION	_IOR(KSMOD_IOC_MAGIC, 0x00, struct ksmod_version)

/**
 * struct ksmod_range_req - argument of KSMOD_IOC_REGISTER and _UNREGISTER
 * @pid:	the process, 0 for the caller. Another process needs the
 *		right to ptrace-attach to it (PTRACE_MODE_ATTACH_REALCREDS):
 *		-EPERM otherwise, -ESRCH when there is no such process.
 * @flags:	0, or KSMOD_RANGE_WHOLE (ABI 1.3); anything else is -EINVAL
 * @start:	first byte, page-aligned (-EINVAL otherwise); 0 with
 *		KSMOD_RANGE_WHOLE
 * @len:	bytes, rounded up to whole pages; [start, start + len) must
 *		not wrap (-EINVAL); 0 with KSMOD_RANGE_WHOLE
 *
 * KSMOD_RANGE_WHOLE: the whole process, as if it had called
 * prctl(PR_SET_MEMORY_MERGE, 1) (REGISTER) or 0 (UNREGISTER, which
 * unmerges): every mapping KSM may merge, new ones too, and its children's.
 * -EBUSY when the kernel's KSM merges the process and cannot merge it whole
 * (6.1).
 *
 * The rules are those of madvise(MADV_MERGEABLE) and MADV_UNMERGEABLE:
 * VMAs KSM cannot handle (shared, PFN/IO/mixed maps, hugetlb, DAX) are
 * skipped without error; a hole in the range gives -ENOMEM after every
 * mapped part has been done. Unregistering gives the process private
 * copies of the pages ksmod merged in the range.
 */
struct ksmod_range_req {
	__s32 pid;
	__u32 flags;
	__u64 start;
	__u64 len;
};

#define KSMOD_RANGE_WHOLE	0x1

#define KSMOD_IOC_REGISTER	_IOW(KSMOD_IOC_MAGIC, 0x01, struct ksmod_range_req)
#define KSMOD_IOC_UNREGISTER	_IOW(KSMOD_IOC_MAGIC, 0x02, struct ksmod_range_req)

/* One registered range, [start, end). */
struct ksmod_range {
	__u64 start;
	__u64 end;
};

/* Who merges a process's mergeable memory (struct ksmod_query.owner). */
#define KSMOD_OWNER_NONE	0	/* nobody: no mergeable range */
#define KSMOD_OWNER_KSMOD	1	/* ksmod */
#define KSMOD_OWNER_KERNEL	2	/* the kernel's KSM, since before load */

/**
 * struct ksmod_query - argument of KSMOD_IOC_QUERY: a process's ranges
 * @pid:	the process, 0 for the caller; another process needs the right
 *		to ptrace-read it (PTRACE_MODE_READ_REALCREDS)
 * @flags:	0
 * @nr:		in: room in @ranges; out: how many ranges the process has,
 *		which may be more than were written
 * @owner:	out: KSMOD_OWNER_*
 * @ranges:	in: address of an array of @nr struct ksmod_range, filled in
 *		address order, adjacent VMAs joined
 */
struct ksmod_query {
	__s32 pid;
	__u32 flags;
	__u32 nr;
	__u32 owner;
	__u64 ranges;
};

#define KSMOD_IOC_QUERY		_IOWR(KSMOD_IOC_MAGIC, 0x03, struct ksmod_query)

/**
 * struct ksmod_mm_stats - argument of KSMOD_IOC_MM_STATS (ABI 1.2)
 * @pid:		the process, 0 for the caller; another process needs
 *			the right to ptrace-read it (PTRACE_MODE_READ_REALCREDS)
 * @flags:		0
 * @owner:		out: KSMOD_OWNER_*
 * @pad:		0 on return
 * @cow_breaks:		out: write faults of this process that copied one of
 *			ksmod's KSM pages, since ksmod took the process
 * @merging_pages:	out: its pages mapping a KSM page ksmod made (the
 *			ksm_merging_pages of /proc/PID/ksm_stat)
 * @rmap_items:		out: pages of it ksmod tracks (ksm_rmap_items)
 *
 * The counters are 0 for a process ksmod does not own.
 */
struct ksmod_mm_stats {
	__s32 pid;
	__u32 flags;
	__u32 owner;
	__u32 pad;
	__u64 cow_breaks;
	__u64 merging_pages;
	__u64 rmap_items;
};

#define KSMOD_IOC_MM_STATS	_IOWR(KSMOD_IOC_MAGIC, 0x04, struct ksmod_mm_stats)

/**
 * struct ksmod_domain_req - argument of KSMOD_IOC_SET_TAG (ABI 1.3)
 * @pid:	the process, 0 for the caller; another process needs the right
 *		to ptrace-attach it (PTRACE_MODE_ATTACH_REALCREDS), as for
 *		KSMOD_IOC_REGISTER; it must be ksmod's (registered), else
 *		ENOENT
 * @flags:	0
 * @tag:	its merge domain tag, below 2^62 (else EINVAL): under
 *		merge_domain "tag" its pages merge only with those of
 *		processes of the same tag. Every process has tag 0 until given
 *		another; a child inherits its parent's over fork and exec.
 *		A changed tag breaks the process's KSM pages of the old one
 *		before the call returns (ENOMEM or EINTR if that failed: the
 *		tag is set either way).
 */
struct ksmod_domain_req {
	__s32 pid;
	__u32 flags;
	__u64 tag;
};

#define KSMOD_TAG_MAX		((1ULL << 62) - 1)
#define KSMOD_IOC_SET_TAG	_IOW(KSMOD_IOC_MAGIC, 0x05, struct ksmod_domain_req)

/* What a merge domain's @id is (struct ksmod_domain_stat). */
#define KSMOD_DOMAIN_KIND_ALL		0	/* merge_domain global, or zero pages */
#define KSMOD_DOMAIN_KIND_UID		1	/* a real uid */
#define KSMOD_DOMAIN_KIND_CGROUP	2	/* a cgroup v2 id (its inode number) */
#define KSMOD_DOMAIN_KIND_TAG		3	/* a tag (KSMOD_IOC_SET_TAG) */
#define KSMOD_DOMAIN_KIND_ALONE		4	/* a process with no owner task */

/**
 * struct ksmod_domain_stat - one merge domain (ABI 1.3)
 * @id:		uid, cgroup id or tag, as @kind says; 0 for the others
 * @kind:	KSMOD_DOMAIN_KIND_*
 * @pad:	0
 * @pages_shared:	KSM pages of the domain
 * @pages_sharing:	mappings of them past the first of each (pages saved)
 * @rmap_items:	pages of the domain's processes ksmod tracks; the domain's
 *		profit is pages_sharing * page size - rmap_items * 64 bytes,
 *		as general_profit
 */
struct ksmod_domain_stat {
	__u64 id;
	__u32 kind;
	__u32 pad;
	__u64 pages_shared;
	__u64 pages_sharing;
	__u64 rmap_items;
};

/**
 * struct ksmod_domain_stats - argument of KSMOD_IOC_DOMAIN_STATS (ABI 1.3)
 * @flags:	0
 * @mode:	out: merge_domain (0 global, 1 uid, 2 cgroup, 3 tag)
 * @nr:		in: room in @domains; out: domains with KSM pages or tracked
 *		pages, which may be more (then only the first @nr in were
 *		written; ask again with more room)
 * @pad:	0
 * @domains:	a pointer to @nr struct ksmod_domain_stat, filled by kind,
 *		then id
 */
struct ksmod_domain_stats {
	__u32 flags;
	__u32 mode;
	__u32 nr;
	__u32 pad;
	__u64 domains;
};

#define KSMOD_IOC_DOMAIN_STATS	_IOWR(KSMOD_IOC_MAGIC, 0x06, struct ksmod_domain_stats)

/**
 * struct ksmod_cgroup_req - argument of KSMOD_IOC_REGISTER_CGROUP and
 * _UNREGISTER_CGROUP (ABI 1.4)
 * @cgroup_fd:	an open directory of a cgroup v2 (EBADF otherwise)
 * @flags:	0
 * @nr:		out: processes of the subtree registered (unregistered)
 * @skipped:	out: processes of the subtree left as they were: the caller
 *		may not ptrace-attach them (PTRACE_MODE_ATTACH_REALCREDS),
 *		or (UNREGISTER) ksmod did not merge them whole; processes
 *		exiting meanwhile are in neither count
 *
 * REGISTER_CGROUP registers every process of the cgroup v2 subtree whole,
 * as KSMOD_IOC_REGISTER with KSMOD_RANGE_WHOLE would one by one, and
 * ksmod follows the subtree from then on: a process moved into it (a
 * write to cgroup.procs) is registered before the write returns, with the
 * rights of the caller of REGISTER_CGROUP, checked then; one that ksmod
 * registered for a followed subtree (or a child of one) and that is moved
 * out of every followed subtree is unregistered, which unmerges it.
 * Children inherit, as always. At most 64 subtrees are followed (ENOSPC;
 * removed cgroups are forgotten); a subtree followed already stays so,
 * its processes registered again. A follow lasts until UNREGISTER_CGROUP
 * of that cgroup or unload (not the caller's file: a service may
 * register and exit).
 *
 * UNREGISTER_CGROUP stops following the cgroup (if followed) and
 * unregisters every process of the subtree the caller may ptrace-attach.
 */
struct ksmod_cgroup_req {
	__s32 cgroup_fd;
	__u32 flags;
	__u32 nr;
	__u32 skipped;
};

#define KSMOD_IOC_REGISTER_CGROUP	_IOWR(KSMOD_IOC_MAGIC, 0x07, struct ksmod_cgroup_req)
#define KSMOD_IOC_UNREGISTER_CGROUP	_IOWR(KSMOD_IOC_MAGIC, 0x08, struct ksmod_cgroup_req)

/**
 * struct ksmod_cgroup_stat - one followed cgroup (ABI 1.4)
 * @id:		its cgroup v2 id (the inode number of its directory)
 * @processes:	processes of its subtree ksmod merges (registered)
 * @pad:	0
 * @merging_pages:	their pages mapping a ksmod KSM page
 * @cow_breaks:	their write faults that copied one
 * @rmap_items:	their pages ksmod tracks; the subtree's profit is
 *		merging_pages * page size - rmap_items * 64 bytes, as the
 *		sum of the processes' ksm_process_profit
 */
struct ksmod_cgroup_stat {
	__u64 id;
	__u32 processes;
	__u32 pad;
	__u64 merging_pages;
	__u64 cow_breaks;
	__u64 rmap_items;
};

/**
 * struct ksmod_cgroup_stats - argument of KSMOD_IOC_CGROUP_STATS (ABI 1.4)
 * @flags:	0
 * @nr:		in: room in @cgroups; out: cgroups followed
 *		(KSMOD_IOC_REGISTER_CGROUP), which may be more (then only the
 *		first @nr in were written)
 * @cgroups:	a pointer to @nr struct ksmod_cgroup_stat, in the order
 *		they were registered. A process in two followed subtrees
 *		(one nested in the other) counts in both.
 */
struct ksmod_cgroup_stats {
	__u32 flags;
	__u32 nr;
	__u64 cgroups;
};

#define KSMOD_IOC_CGROUP_STATS	_IOWR(KSMOD_IOC_MAGIC, 0x09, struct ksmod_cgroup_stats)

#endif /* _UAPI_KSMOD_H */
