/* SPDX-License-Identifier: GPL-2.0 */
/*
 * linux/fs.h for the kernel's mm selftests (scripts/build-kselftests):
 * Debian 12's own header (Linux 6.1), plus the PAGEMAP_SCAN ioctl of
 * /proc/PID/pagemap (Linux 6.7) that 6.12's vm_util.c compiles in. The
 * KSM selftests do not use it; vm_util.c's pagemap_is_*() helpers probe
 * for it and read pagemap alone on a kernel without it.
 * Values as in the kernel's include/uapi/linux/fs.h (an ABI).
 */
#include_next <linux/fs.h>

#ifndef PAGEMAP_SCAN
#include <linux/ioctl.h>
#include <linux/types.h>

/* categories of pages, in pm_scan_arg masks and page_region.categories */
#define PAGE_IS_WPALLOWED	(1 << 0)
#define PAGE_IS_WRITTEN		(1 << 1)
#define PAGE_IS_FILE		(1 << 2)
#define PAGE_IS_PRESENT		(1 << 3)
#define PAGE_IS_SWAPPED		(1 << 4)
#define PAGE_IS_PFNZERO		(1 << 5)
#define PAGE_IS_HUGE		(1 << 6)
#define PAGE_IS_SOFT_DIRTY	(1 << 7)

/* PAGEMAP_SCAN flags */
#define PM_SCAN_WP_MATCHING	(1 << 0)
#define PM_SCAN_CHECK_WPASYNC	(1 << 1)

/* one output record: [start, end) with the same categories */
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

/* the ioctl's argument; size is sizeof(struct pm_scan_arg) */
struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};

#define PAGEMAP_SCAN	_IOWR('f', 16, struct pm_scan_arg)
#endif /* PAGEMAP_SCAN */
