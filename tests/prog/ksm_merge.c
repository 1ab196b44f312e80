// SPDX-License-Identifier: GPL-2.0
/*
 * ksm_merge - do identical pages of several processes end up shared?
 *
 *   ksm_merge [-k SYSFS_DIR] [-t SECONDS] NPROC NPAGES NDISTINCT
 *
 * Forks NPROC processes; each maps NPAGES private anonymous pages of its
 * own, page i filled with pattern i % NDISTINCT, and marks them
 * MADV_MERGEABLE. Then it waits (up to -t, default 60 s) until SYSFS_DIR
 * (default /sys/module/ksmod/ksm) shows every duplicate merged, and checks
 * through /proc/PID/pagemap (root) that the processes map exactly
 * NDISTINCT page frames. Then every process writes one byte into each of
 * its pages (copy-on-write) and checks all its bytes.
 * Prints TAP-free "key value" lines; exit 0 only when all held.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_MERGEABLE
#define MADV_MERGEABLE 12
#endif

static long psize;

static long read_counter(const char *dir, const char *name)
{
	char path[256], buf[64];
	long v = -1;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
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

static uint64_t pfn_of(void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, 8, (uintptr_t)addr / psize * 8) != 8)
		e = 0;
	close(fd);
	if (!(e & (1ULL << 63)))
		return 0;	/* not present */
	return e & ((1ULL << 55) - 1);
}

static void fill(char *p, long i, int ndistinct, char extra)
{
	memset(p, 'A' + (int)(i % ndistinct), psize);
	p[psize - 1] = extra;
}

/* One process: map, fill, advise, report, then COW and check. */
static int child(int rfd, int wfd, long npages, int ndistinct)
{
	char *buf = mmap(NULL, npages * psize, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char cmd;
	long i;

	if (buf == MAP_FAILED)
		return 1;
	madvise(buf, npages * psize, MADV_NOHUGEPAGE);
	for (i = 0; i < npages; i++)
		fill(buf + i * psize, i, ndistinct, 0);
	if (madvise(buf, npages * psize, MADV_MERGEABLE))
		return 2;
	if (write(wfd, "r", 1) != 1)
		return 3;
	/* "p": send the page frames */
	if (read(rfd, &cmd, 1) != 1 || cmd != 'p')
		return 4;
	for (i = 0; i < npages; i++) {
		uint64_t pfn = pfn_of(buf + i * psize);

		if (write(wfd, &pfn, 8) != 8)
			return 5;
	}
	/* "w": write one byte per page, then check everything */
	if (read(rfd, &cmd, 1) != 1 || cmd != 'w')
		return 6;
	for (i = 0; i < npages; i++)
		buf[i * psize + 1] = 'z';
	for (i = 0; i < npages; i++) {
		char *p = buf + i * psize;
		long j;

		for (j = 0; j < psize; j++) {
			char want = j == 1 ? 'z' : j == psize - 1 ? 0 :
				    'A' + (int)(i % ndistinct);

			if (p[j] != want)
				return 7;
		}
		if (pfn_of(p) == 0)
			return 8;
	}
	return 0;
}

/* read() until @len bytes came, or EOF/error */
static int read_all(int fd, void *buf, size_t len)
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

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *dir = "/sys/module/ksmod/ksm";
	int timeout = 60, opt, nproc, ndistinct, i, ok = 1;
	long npages, want_sharing, sharing = -1, shared = -1, distinct;
	int (*to)[2], (*from)[2];
	uint64_t *pfns;
	pid_t *pids;
	time_t end;

	psize = sysconf(_SC_PAGESIZE);
	while ((opt = getopt(argc, argv, "k:t:")) != -1) {
		if (opt == 'k')
			dir = optarg;
		else if (opt == 't')
			timeout = atoi(optarg);
		else
			return 2;
	}
	if (argc - optind != 3)
		return 2;
	nproc = atoi(argv[optind]);
	npages = atol(argv[optind + 1]);
	ndistinct = atoi(argv[optind + 2]);
	to = calloc(nproc, sizeof(*to));
	from = calloc(nproc, sizeof(*from));
	pids = calloc(nproc, sizeof(*pids));
	pfns = calloc(nproc * npages, sizeof(*pfns));

	for (i = 0; i < nproc; i++) {
		char c;

		if (pipe(to[i]) || pipe(from[i]))
			return 1;
		pids[i] = fork();
		if (!pids[i])
			_exit(child(to[i][0], from[i][1], npages, ndistinct));
		if (read(from[i][0], &c, 1) != 1) {
			printf("child %d failed to start\n", i);
			return 1;
		}
	}

	want_sharing = nproc * npages - ndistinct;
	end = time(NULL) + timeout;
	while (time(NULL) < end) {
		shared = read_counter(dir, "pages_shared");
		sharing = read_counter(dir, "pages_sharing");
		if (shared == ndistinct && sharing == want_sharing)
			break;
		usleep(100000);
	}
	printf("pages_shared %ld (want %d)\n", shared, ndistinct);
	printf("pages_sharing %ld (want %ld)\n", sharing, want_sharing);
	if (shared != ndistinct || sharing != want_sharing)
		ok = 0;

	for (i = 0; i < nproc; i++) {
		if (write(to[i][1], "p", 1) != 1 ||
		    read_all(from[i][0], pfns + i * npages, npages * 8)) {
			printf("child %d did not report\n", i);
			ok = 0;
		}
	}
	qsort(pfns, nproc * npages, sizeof(*pfns), cmp_u64);
	distinct = 0;
	for (i = 0; i < nproc * npages; i++)
		if (!i || pfns[i] != pfns[i - 1])
			distinct++;
	printf("frames %ld (want %d)\n", distinct, ndistinct);
	if (distinct != ndistinct || pfns[0] == 0)
		ok = 0;

	for (i = 0; i < nproc; i++) {
		int status;

		if (write(to[i][1], "w", 1) != 1)
			ok = 0;
		waitpid(pids[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("child %d: bytes wrong after COW (status %d)\n",
			       i, WEXITSTATUS(status));
			ok = 0;
		}
	}
	printf("cow_intact %s\n", ok ? "yes" : "no");
	return ok ? 0 : 1;
}
