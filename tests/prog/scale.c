// SPDX-License-Identifier: GPL-2.0
/*
 * scale - many processes with sparse mergeable memory, for the scale
 * benchmark (tests/benchmarks/bench_scale.sh).
 *
 *   scale [-k KSMDIR] [-s SCANS] [-t SECS] NPROC POPULATED MAPPED
 *
 * Forks NPROC processes; each maps MAPPED pages (MAP_NORESERVE), writes
 * POPULATED of them, spread evenly (page i * MAPPED / POPULATED), page j
 * of them holding content j % 64 (so most pages have twins in every
 * process), madvises the whole mapping MERGEABLE and waits. Then, with
 * KSMDIR's KSM (default /sys/module/ksmod/ksm) running, it times SCANS
 * full scans (full_scans counter) and prints:
 *
 *   populate_ms MS           until every process was ready
 *   scan_ms MS               the median time of one full scan
 *   scans N                  full scans timed
 *   pages_shared N / pages_sharing N   after them
 *   result ok|FAIL           FAIL when a scan did not end within SECS
 *
 * On SIGTERM or when done the processes are killed. Exit status 0, 1 on
 * failure, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "util.h"

#define PAGE 4096UL

/* a child: set up, say so on @ready, then sleep until killed */
static void child(long populated, long mapped, int ready)
{
	char *p = mmap(NULL, mapped * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	long j;

	if (p == MAP_FAILED)
		_exit(1);
	for (j = 0; j < populated; j++)
		memset(p + (j * mapped / populated) * PAGE, 'a' + j % 64, PAGE);
	if (madvise(p, mapped * PAGE, MADV_MERGEABLE))
		_exit(1);
	if (write(ready, "r", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	const char *dir = "/sys/module/ksmod/ksm";
	long nproc, populated, mapped, scans = 3, secs = 600, i, got = 0;
	double t0, *ms;
	int opt, ok = 1, ready[2];
	pid_t *pids;
	char c;

	while ((opt = getopt(argc, argv, "k:s:t:")) != -1) {
		switch (opt) {
		case 'k':
			dir = optarg;
			break;
		case 's':
			scans = atol(optarg);
			break;
		case 't':
			secs = atol(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 3)
		goto usage;
	nproc = atol(argv[optind]);
	populated = atol(argv[optind + 1]);
	mapped = atol(argv[optind + 2]);
	if (nproc < 1 || populated < 1 || mapped < populated || scans < 1)
		goto usage;
	setvbuf(stdout, NULL, _IOLBF, 0);	/* read while it runs */
	pids = calloc(nproc, sizeof(*pids));
	ms = calloc(scans, sizeof(*ms));
	if (!pids || !ms || pipe(ready))
		return 1;

	t0 = now_ms();
	for (i = 0; i < nproc; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("scale: fork");
			ok = 0;
			nproc = i;
			break;
		}
		if (!pids[i]) {
			close(ready[0]);
			child(populated, mapped, ready[1]);
		}
	}
	close(ready[1]);
	while (got < nproc && read(ready[0], &c, 1) == 1)
		got++;
	printf("populate_ms %.0f\n", now_ms() - t0);
	if (got < nproc) {
		printf("only %ld of %ld processes ready\n", got, nproc);
		ok = 0;
	}

	for (i = 0; ok && i <= scans; i++) {
		long f0 = read_counter(dir, "full_scans");
		double t1 = now_ms();

		while (read_counter(dir, "full_scans") == f0) {
			if (now_ms() - t1 > secs * 1e3) {
				printf("no full scan in %ld s\n", secs);
				ok = 0;
				break;
			}
			usleep(20000);
		}
		/* the first wait ends a pass begun before: not timed */
		if (i)
			ms[i - 1] = now_ms() - t1;
	}
	if (ok) {
		qsort(ms, scans, sizeof(*ms), cmp_double);
		printf("scan_ms %.0f\nscans %ld\n", ms[scans / 2], scans);
	}
	printf("pages_shared %ld\npages_sharing %ld\n",
	       read_counter(dir, "pages_shared"),
	       read_counter(dir, "pages_sharing"));
	for (i = 0; i < nproc; i++)
		kill(pids[i], SIGKILL);
	for (i = 0; i < nproc; i++)
		waitpid(pids[i], NULL, 0);
	printf("result %s\n", ok ? "ok" : "FAIL");
	return !ok;
usage:
	fprintf(stderr, "usage: scale [-k KSMDIR] [-s SCANS] [-t SECS] NPROC POPULATED MAPPED\n");
	return 2;
}
