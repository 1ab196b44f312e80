// SPDX-License-Identifier: GPL-2.0
/*
 * bench_merge - how long does a KSM take to merge a set of duplicates, and
 * how much CPU does its scanner thread spend on it?  (benchmark, not a test)
 *
 *   bench_merge [-k SYSFS_DIR] [-n KTHREAD] [-t SECONDS]
 *               [-p PAGES_TO_SCAN] [-s SLEEP_MILLISECS]
 *               [-h default|huge|nohuge] NPROC NPAGES NDISTINCT
 *
 * SYSFS_DIR (default /sys/kernel/mm/ksm) must show run=0. Sets
 * pages_to_scan and sleep_millisecs there (when given), then forks NPROC
 * processes; each maps NPAGES private anonymous pages (at 2 MiB; huge
 * pages as the system sets them, or -h huge: MADV_HUGEPAGE, -h nohuge:
 * MADV_NOHUGEPAGE), page i filled with pattern i % NDISTINCT (a letter,
 * and the pattern's number in its first 8 bytes), marks them
 * MADV_MERGEABLE and waits. Then:
 *
 *   1. reads the CPU time of the scanner kthread named KTHREAD (default
 *      ksmd): utime+stime of /proc/PID/stat (clock ticks) and the first
 *      field of /proc/PID/schedstat (ns);
 *   2. writes run=1 and polls pages_shared/pages_sharing every 2 ms until
 *      they read NDISTINCT and NPROC*NPAGES-NDISTINCT (the full merge);
 *   3. reads the kthread's CPU time again;
 *   4. checks through /proc/PID/pagemap that the processes map exactly
 *      NDISTINCT frames;
 *   5. writes run=2, waits until both counters read 0, checks that every
 *      page has its own frame again, writes run=0, ends the processes.
 *
 * Prints "key value" lines (times in ms); "result ok" last when every step
 * held, exit status 0 then, 1 otherwise (2: usage).
 */
#define _GNU_SOURCE
#include <dirent.h>
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
#include "util.h"

#ifndef MADV_MERGEABLE
#define MADV_MERGEABLE 12
#endif

static long psize;
static int thp = THP_DEFAULT;	/* -h */
static const char *dir = "/sys/kernel/mm/ksm";

static int read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

static long counter(const char *name)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (read_file(path, buf, sizeof(buf)))
		return -1;
	return atol(buf);
}

static int set_knob(const char *name, const char *val)
{
	char path[256];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY);
	if (fd < 0) {
		printf("error open %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	if (!ok)
		printf("error write %s to %s: %s\n", val, path, strerror(errno));
	close(fd);
	return ok ? 0 : -1;
}

/* The kernel thread (parent kthreadd, pid 2) whose comm is @name. */
static pid_t find_kthread(const char *name)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = -1;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[300], buf[512], *p;
		int ppid;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if (read_file(path, buf, sizeof(buf)))
			continue;
		/* pid (comm) state ppid ... */
		p = strchr(buf, '(');
		if (!p || strncmp(p + 1, name, strlen(name)) ||
		    p[1 + strlen(name)] != ')')
			continue;
		p = strrchr(buf, ')');
		if (sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == 2) {
			found = atoi(e->d_name);
			break;
		}
	}
	closedir(d);
	return found;
}

/* utime+stime in clock ticks and schedstat run time in ns; -1 if gone. */
static int kthread_cpu(pid_t pid, long long *ticks, long long *ns)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)))
		return -1;
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	p += 2;
	/* fields 3..13 (state .. cmajflt), then 14 utime, 15 stime */
	for (i = 3; i < 14 && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p || sscanf(p, "%llu %llu", &ut, &st) != 2)
		return -1;
	*ticks = ut + st;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	if (read_file(path, buf, sizeof(buf)) || sscanf(buf, "%lld", ns) != 1)
		*ns = -1;
	return 0;
}

/*
 * One process: map, fill, advise, say "ready"; then answer each "p" with
 * its NPAGES pfns (0: not present), until "q" or EOF.
 */
static int child(int rfd, int wfd, long npages, int ndistinct)
{
	size_t len = npages * psize;
	char *buf = map_aligned(len);
	uint64_t *pm = calloc(npages, 8);
	char cmd = 'r';
	long i;
	int fd;

	if (!buf || !pm || thp_apply(buf, len, thp))
		return 1;
	for (i = 0; i < npages; i++) {
		long pattern = i % ndistinct;

		/* distinct for any NDISTINCT, not only up to 256 */
		memset(buf + i * psize, 'A' + (int)(pattern % 26), psize);
		memcpy(buf + i * psize, &pattern, sizeof(pattern));
	}
	if (madvise(buf, len, MADV_MERGEABLE))
		return 2;
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0 || write_all(wfd, &cmd, 1))
		return 3;
	while (read(rfd, &cmd, 1) == 1 && cmd == 'p') {
		if (pread(fd, pm, npages * 8, (uintptr_t)buf / psize * 8) !=
		    npages * 8)
			memset(pm, 0, npages * 8);
		for (i = 0; i < npages; i++)
			pm[i] = (pm[i] >> 63) ? pm[i] & ((1ULL << 55) - 1) : 0;
		if (write_all(wfd, pm, npages * 8))
			return 4;
	}
	return 0;
}

/* Distinct frames mapped by all processes; -1 on error or absent page. */
static long count_frames(int nproc, long npages, int (*to)[2], int (*from)[2],
			 uint64_t *pfns)
{
	long distinct = 0, i;

	for (i = 0; i < nproc; i++)
		if (write_all(to[i][1], "p", 1) ||
		    read_all(from[i][0], pfns + i * npages, npages * 8))
			return -1;
	qsort(pfns, nproc * npages, 8, cmp_u64);
	for (i = 0; i < nproc * npages; i++) {
		if (!pfns[i])
			return -1;
		if (!i || pfns[i] != pfns[i - 1])
			distinct++;
	}
	return distinct;
}

/* Poll the counters until they read @shared/@sharing; ms taken or -1. */
static double wait_counters(double start, int timeout, long shared,
			    long sharing)
{
	double end = start + timeout * 1e3, t;
	long a = -1, b = -1;

	for (;;) {
		a = counter("pages_shared");
		b = counter("pages_sharing");
		t = now_ms();
		if (a == shared && b == sharing)
			return t - start;
		if (t > end)
			break;
		usleep(2000);
	}
	printf("timeout pages_shared %ld (want %ld) pages_sharing %ld (want %ld)\n",
	       a, shared, b, sharing);
	return -1;
}

int main(int argc, char **argv)
{
	const char *kname = "ksmd", *pts = NULL, *sleep_ms = NULL;
	int timeout = 60, opt, nproc, ndistinct, i, ok = 1;
	long long ticks0, ticks1, ns0, ns1;
	long npages, want_sharing, frames, scans0, scanned0, hz;
	double t0, merge_ms, unmerge_ms;
	int (*to)[2], (*from)[2];
	uint64_t *pfns;
	pid_t *pids, kpid;
	char c;

	psize = sysconf(_SC_PAGESIZE);
	hz = sysconf(_SC_CLK_TCK);
	while ((opt = getopt(argc, argv, "k:n:t:p:s:h:")) != -1) {
		if (opt == 'h') {
			thp = thp_parse(optarg);
			if (thp < 0)
				return 2;
		} else if (opt == 'k')
			dir = optarg;
		else if (opt == 'n')
			kname = optarg;
		else if (opt == 't')
			timeout = atoi(optarg);
		else if (opt == 'p')
			pts = optarg;
		else if (opt == 's')
			sleep_ms = optarg;
		else
			return 2;
	}
	if (argc - optind != 3)
		return 2;
	nproc = atoi(argv[optind]);
	npages = atol(argv[optind + 1]);
	ndistinct = atoi(argv[optind + 2]);
	if (nproc < 1 || npages < 1 || ndistinct < 1 || ndistinct > npages)
		return 2;
	want_sharing = nproc * npages - ndistinct;

	if (counter("run") != 0) {
		printf("error %s/run is not 0\n", dir);
		return 1;
	}
	if ((pts && set_knob("pages_to_scan", pts)) ||
	    (sleep_ms && set_knob("sleep_millisecs", sleep_ms)))
		return 1;
	printf("pages_to_scan %ld\n", counter("pages_to_scan"));
	printf("sleep_millisecs %ld\n", counter("sleep_millisecs"));
	kpid = find_kthread(kname);
	if (kpid < 0) {
		printf("error no kernel thread named %s\n", kname);
		return 1;
	}
	printf("kthread %s %d\n", kname, kpid);

	to = calloc(nproc, sizeof(*to));
	from = calloc(nproc, sizeof(*from));
	pids = calloc(nproc, sizeof(*pids));
	pfns = calloc(nproc * npages, 8);
	if (!to || !from || !pids || !pfns)
		return 1;
	for (i = 0; i < nproc; i++) {
		if (pipe(to[i]) || pipe(from[i]))
			return 1;
		pids[i] = fork();
		if (pids[i] < 0)
			return 1;
		if (!pids[i])
			_exit(child(to[i][0], from[i][1], npages, ndistinct));
		if (read_all(from[i][0], &c, 1)) {
			printf("error child %d failed to start\n", i);
			ok = 0;
			goto out;
		}
	}
	printf("pages %ld\n", nproc * npages);

	scans0 = counter("full_scans");
	scanned0 = counter("pages_scanned");
	if (kthread_cpu(kpid, &ticks0, &ns0))
		return 1;
	t0 = now_ms();
	if (set_knob("run", "1")) {
		ok = 0;
		goto out;
	}
	merge_ms = wait_counters(t0, timeout, ndistinct, want_sharing);
	if (kthread_cpu(kpid, &ticks1, &ns1))
		return 1;
	if (merge_ms < 0)
		ok = 0;
	printf("merge_ms %.1f\n", merge_ms);
	printf("cpu_stat_ms %.1f\n", (ticks1 - ticks0) * 1e3 / hz);
	printf("cpu_sched_ms %.2f\n", ns0 < 0 ? -1.0 : (ns1 - ns0) / 1e6);
	printf("full_scans %ld\n", counter("full_scans") - scans0);
	printf("pages_scanned %ld\n",
	       scanned0 < 0 ? -1 : counter("pages_scanned") - scanned0);
	if (set_knob("run", "0"))
		ok = 0;
	frames = count_frames(nproc, npages, to, from, pfns);
	printf("frames %ld (want %d)\n", frames, ndistinct);
	if (frames != ndistinct)
		ok = 0;

	t0 = now_ms();
	if (set_knob("run", "2")) {
		ok = 0;
		goto out;
	}
	unmerge_ms = wait_counters(t0, timeout, 0, 0);
	printf("unmerge_ms %.1f\n", unmerge_ms);
	if (unmerge_ms < 0)
		ok = 0;
	frames = count_frames(nproc, npages, to, from, pfns);
	printf("frames_after_unmerge %ld (want %ld)\n", frames, nproc * npages);
	if (frames != nproc * npages)
		ok = 0;
out:
	if (set_knob("run", "0"))
		ok = 0;
	for (i = 0; i < nproc && pids[i] > 0; i++) {
		int status;

		write_all(to[i][1], "q", 1);
		waitpid(pids[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("error child %d status %d\n", i, status);
			ok = 0;
		}
	}
	printf("result %s\n", ok ? "ok" : "FAILED");
	return ok ? 0 : 1;
}
