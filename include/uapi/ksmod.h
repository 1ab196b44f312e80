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
#define KSMOD_ABI_MINOR		2

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
 * @flags:	0; anything else is -EINVAL
 * @start:	first byte, page-aligned (-EINVAL otherwise)
 * @len:	bytes, rounded up to whole pages; [start, start + len) must
 *		not wrap (-EINVAL)
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

#endif /* _UAPI_KSMOD_H */
