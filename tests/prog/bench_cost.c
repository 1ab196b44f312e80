// SPDX-License-Identifier: GPL-2.0
/*
 * bench_cost - what do page faults and madvise() cost a process that never
 * asked for KSM?  (benchmark, not a test)
 *
 *   bench_cost [-n NPAGES] [-r REPS] [-c CPU] [-h default|huge|nohuge]
 *
 * Each measurement runs REPS times (default 5) on fresh mappings of NPAGES
 * private anonymous pages (default 2048); the median is printed. Huge
 * pages (-h): as the system sets them ("default": with Debian's
 * transparent_hugepage=always, a fault fills a whole 2 MiB), or
 * MADV_HUGEPAGE ("huge"), or MADV_NOHUGEPAGE ("nohuge": one fault per
 * page, what the numbers meant before). Timed with
 * clock_gettime(CLOCK_MONOTONIC):
 *
 *   fault     write one byte to each page of a fresh mapping: ns per fault
 *   cow       fork a child that waits, then write one byte to each page the
 *             two share (copy-on-write faults, do_wp_page): ns per fault
 *   dontneed  madvise(MADV_DONTNEED) on each populated page, one call per
 *             page: ns per call
 *   willneed  madvise(MADV_WILLNEED) over 64 populated pages, NPAGES
 *             calls: ns per call
 *   fork      fork() + child _exit + waitpid() with the NPAGES populated:
 *             us per fork (NPAGES / 512 forks, at least 8)
 *
 * The process runs on CPU (default 0) when it can. Prints one line of
 * medians and minimums over the REPS runs,
 *   fault=N fault_min=N cow=N cow_min=N ... fork=N fork_min=N
 * (beginning with a space); exit status 0, or 1 when a call failed.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define MAX_REPS 64
#define WILLNEED_PAGES 64

static long psize, npages;
static int thp = THP_DEFAULT;	/* -h */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void fail(const char *what)
{
	perror(what);
	exit(1);
}

static char *map(long n, int populate)
{
	char *p = mmap(NULL, n * psize, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long i;

	if (p == MAP_FAILED)
		fail("mmap");
	if (thp_apply(p, n * psize, thp))
		fail("madvise (-h)");
	if (populate)
		for (i = 0; i < n; i++)
			p[i * psize] = 1;
	return p;
}

static void touch(volatile char *p, long n, char v)
{
	long i;

	for (i = 0; i < n; i++)
		p[i * psize] = v;
}

/* ns per first-touch fault */
static double bench_fault(void)
{
	char *p = map(npages, 0);
	double t0 = now_ns(), t1;

	touch(p, npages, 1);
	t1 = now_ns();
	munmap(p, npages * psize);
	return (t1 - t0) / npages;
}

/* ns per copy-on-write fault on a page shared with a forked child */
static double bench_cow(void)
{
	char *p = map(npages, 1), c = 0;
	int go[2], ready[2], status;
	double t0, t1;
	pid_t pid;

	if (pipe(go) || pipe(ready))
		fail("pipe");
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (!pid) {
		close(go[1]);
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		/* keep the pages shared until the parent is done */
		_exit(read(go[0], &c, 1) < 0);
	}
	close(go[0]);
	if (read(ready[0], &c, 1) != 1)
		fail("child");
	t0 = now_ns();
	touch(p, npages, 2);
	t1 = now_ns();
	close(go[1]);
	if (waitpid(pid, &status, 0) != pid || status)
		fail("cow child");
	close(ready[0]);
	close(ready[1]);
	munmap(p, npages * psize);
	return (t1 - t0) / npages;
}

/* ns per madvise(MADV_DONTNEED) of one populated page */
static double bench_dontneed(void)
{
	char *p = map(npages, 1);
	double t0, t1;
	long i;

	t0 = now_ns();
	for (i = 0; i < npages; i++)
		if (madvise(p + i * psize, psize, MADV_DONTNEED))
			fail("madvise(MADV_DONTNEED)");
	t1 = now_ns();
	munmap(p, npages * psize);
	return (t1 - t0) / npages;
}

/* ns per madvise(MADV_WILLNEED) over WILLNEED_PAGES populated pages */
static double bench_willneed(void)
{
	char *p = map(WILLNEED_PAGES, 1);
	double t0, t1;
	long i;

	t0 = now_ns();
	for (i = 0; i < npages; i++)
		if (madvise(p, WILLNEED_PAGES * psize, MADV_WILLNEED))
			fail("madvise(MADV_WILLNEED)");
	t1 = now_ns();
	munmap(p, WILLNEED_PAGES * psize);
	return (t1 - t0) / npages;
}

/* us per fork + exit + wait of a process with npages populated */
static double bench_fork(void)
{
	char *p = map(npages, 1);
	long i, n = npages / 512 < 8 ? 8 : npages / 512;
	double t0, t1;
	int status;

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			fail("fork");
		if (!pid)
			_exit(0);
		if (waitpid(pid, &status, 0) != pid || status)
			fail("fork child");
	}
	t1 = now_ns();
	munmap(p, npages * psize);
	return (t1 - t0) / n / 1e3;
}

/* Run @fn @reps times; print " NAME=MEDIAN NAME_min=MIN". */
static void measure(const char *name, double (*fn)(void), int reps)
{
	double v[MAX_REPS], med;
	int i;

	for (i = 0; i < reps; i++)
		v[i] = fn();
	qsort(v, reps, sizeof(v[0]), cmp_double);
	med = reps % 2 ? v[reps / 2] : (v[reps / 2 - 1] + v[reps / 2]) / 2;
	printf(" %s=%.1f %s_min=%.1f", name, med, name, v[0]);
}

int main(int argc, char **argv)
{
	int opt, reps = 5, cpu = 0;
	cpu_set_t set;

	psize = sysconf(_SC_PAGESIZE);
	npages = 2048;
	while ((opt = getopt(argc, argv, "n:r:c:h:")) != -1) {
		if (opt == 'h') {
			thp = thp_parse(optarg);
			if (thp < 0)
				return 2;
		} else if (opt == 'n')
			npages = atol(optarg);
		else if (opt == 'r')
			reps = atoi(optarg);
		else if (opt == 'c')
			cpu = atoi(optarg);
		else
			return 2;
	}
	if (npages < 1 || reps < 1 || reps > MAX_REPS || optind != argc)
		return 2;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);

	/* warm up: the first mapping of a process pays for page tables */
	bench_fault();
	measure("fault", bench_fault, reps);
	measure("cow", bench_cow, reps);
	measure("dontneed", bench_dontneed, reps);
	measure("willneed", bench_willneed, reps);
	measure("fork", bench_fork, reps);
	printf("\n");
	return 0;
}
