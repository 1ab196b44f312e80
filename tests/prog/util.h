/* SPDX-License-Identifier: GPL-2.0 */
/*
 * util.h - small helpers shared by the test and benchmark programs.
 */
#ifndef KSMOD_TEST_UTIL_H
#define KSMOD_TEST_UTIL_H

#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_HUGEPAGE
#define MADV_HUGEPAGE 14
#define MADV_NOHUGEPAGE 15
#endif

#define HPAGE_SIZE (2UL << 20)	/* a PMD-mapped huge page on x86-64 */

/* /proc/PID/pagemap entries */
#define PM_PRESENT (1ULL << 63)
#define PM_SWAPPED (1ULL << 62)
#define PM_PFN(e) ((e) & ((1ULL << 55) - 1))

/*
 * /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h). Not
 * KPF_KSM (21): 6.12's stable_page_flags() tests the KSM bits of
 * folio->mapping with "mapping & PAGE_MAPPING_KSM", true for every
 * anonymous page, so there it says nothing. Count KSM pages by the ptes
 * that share a frame instead.
 */
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_THP 22		/* any anonymous large folio, mTHP too */
#define KPF_ZERO_PAGE 24

/* read() until @len bytes came; -1 on EOF or error */
static inline int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* write() until @len bytes went; -1 on error */
static inline int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* the number a file (a sysfs counter) holds; -1 when it cannot be read */
static inline long read_long(const char *path)
{
	char buf[64];
	long v = -1;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = 0;
		v = atol(buf);
	}
	close(fd);
	return v;
}

/* read_long() of DIR/NAME */
static inline long read_counter(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return read_long(path);
}

/*
 * "--fd N" at the front of a program's arguments, taken off them: the
 * program uses descriptor N, inherited open from whoever started it
 * (possibly as another user), instead of opening the device itself.
 * Returns N, or -1 without --fd; exits with status 1 when N is not an
 * open descriptor.
 */
static inline int inherited_fd(int *argc, char ***argv)
{
	char **av = *argv, *end;
	long fd;

	if (*argc < 3 || strcmp(av[1], "--fd"))
		return -1;
	fd = strtol(av[2], &end, 10);
	if (*end || end == av[2] || fd < 0 || fd > INT_MAX ||
	    fcntl((int)fd, F_GETFD) < 0) {
		fprintf(stderr, "%s: --fd %s: not an open descriptor\n",
			av[0], av[2]);
		exit(1);
	}
	av[2] = av[0];
	*argv = av + 2;
	*argc -= 2;
	return (int)fd;
}

/* qsort() order of uint64_t (page frame numbers) */
static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* CLOCK_MONOTONIC in milliseconds */
static inline double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* qsort() order of double (timings) */
static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * -h of the test programs: what to tell the kernel about huge pages.
 * "default" (THP_DEFAULT) tells it nothing: the system's setting applies,
 * as for any program a user runs. "huge" is MADV_HUGEPAGE (huge pages
 * also under transparent_hugepage=madvise, with direct compaction), and
 * "nohuge" MADV_NOHUGEPAGE, which only a test about small pages asks for.
 */
enum { THP_DEFAULT, THP_HUGE, THP_NOHUGE };

/* -h ARG -> THP_*, or -1 */
static inline int thp_parse(const char *arg)
{
	if (!strcmp(arg, "default"))
		return THP_DEFAULT;
	if (!strcmp(arg, "huge"))
		return THP_HUGE;
	if (!strcmp(arg, "nohuge"))
		return THP_NOHUGE;
	return -1;
}

/* apply -h to [addr, addr + len); 0 or -1 (errno) */
static inline int thp_apply(void *addr, size_t len, int thp)
{
	if (thp == THP_HUGE)
		return madvise(addr, len, MADV_HUGEPAGE);
	if (thp == THP_NOHUGE)	/* on request only: see thp_parse() */
		return madvise(addr, len, MADV_NOHUGEPAGE);
	return 0;
}

/*
 * A reservation (PROT_NONE, MAP_NORESERVE) of @len bytes starting at a
 * 2 MiB boundary, with at least one PROT_NONE guard page on each side:
 * what is mapped over it with MAP_FIXED gets huge pages where the THP
 * setting allows, and no neighbouring VMA. NULL on failure.
 */
static inline char *reserve_aligned(size_t len)
{
	long psize = sysconf(_SC_PAGESIZE);
	size_t span = len + HPAGE_SIZE + 2 * psize;
	char *r = mmap(NULL, span, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *end = r + span;
	uintptr_t a;

	if (r == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)r + psize + HPAGE_SIZE - 1) & ~(HPAGE_SIZE - 1);
	/* keep one guard page each side, give the rest back */
	if ((char *)a - psize > r)
		munmap(r, (char *)a - psize - r);
	if ((char *)a + len + psize < end)
		munmap((char *)a + len + psize, end - ((char *)a + len + psize));
	return (char *)a;
}

/* Private anonymous read-write memory at a 2 MiB boundary; NULL on failure. */
static inline char *map_aligned(size_t len)
{
	char *p = reserve_aligned(len);

	if (!p || mmap(p, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		return NULL;
	return p;
}

/* /proc/kpageflags of @pfn (root only); 0 when it cannot be read */
static inline uint64_t kpageflags(uint64_t pfn)
{
	static int fd = -2;
	uint64_t f = 0;

	if (fd == -2)
		fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, &f, 8, pfn * 8) != 8)
		return 0;
	return f;
}

/**
 * struct thp_census - what backs a range of this process's memory
 * @present:	pages mapped (pagemap)
 * @swapped:	pages swapped out
 * @thp:	present pages that are part of a large folio (KPF_THP: a
 *		PMD-sized huge page or a multi-size THP)
 * @heads:	of those, heads of their folio (@thp / @heads is the folio
 *		size in pages, for a range that holds whole folios)
 * @zero:	present pages that are the zero page
 */
struct thp_census {
	long present, swapped, thp, heads, zero;
};

/* Count [addr, addr + len) of this process (root: pagemap shows frames). */
static inline int thp_census(const void *addr, size_t len,
			     struct thp_census *c)
{
	long psize = sysconf(_SC_PAGESIZE), n = len / psize, i;
	uint64_t e;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	memset(c, 0, sizeof(*c));
	if (fd < 0)
		return -1;
	for (i = 0; i < n; i++) {
		uint64_t f;

		if (pread(fd, &e, 8, ((uintptr_t)addr / psize + i) * 8) != 8) {
			close(fd);
			return -1;
		}
		if (e & PM_SWAPPED)
			c->swapped++;
		if (!(e & PM_PRESENT))
			continue;
		c->present++;
		f = kpageflags(PM_PFN(e));
		if (f & (1ULL << KPF_THP) && !(f & (1ULL << KPF_ZERO_PAGE))) {
			c->thp++;
			c->heads += !!(f & (1ULL << KPF_COMPOUND_HEAD));
		}
		c->zero += !!(f & (1ULL << KPF_ZERO_PAGE));
	}
	close(fd);
	return 0;
}

#endif
