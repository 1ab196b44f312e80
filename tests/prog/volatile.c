// SPDX-License-Identifier: GPL-2.0
/*
 * volatile - how often a KSM merges pages that are about to change.
 *
 *   volatile [-k KSMDIR] [-t SECS] [-p PERIOD_MS] STATIC VOLATILE
 *
 * Two processes, each with STATIC pages that never change (page i holds
 * content i % 8: they merge) and VOLATILE pages that are rewritten all
 * the time: page i is written every PERIOD_MS (default 300), with content
 * (round + i) % 4, the same in both processes at the same time, so that
 * at any moment many volatile pages have twins, and each twin changes
 * within PERIOD_MS. Every page is MADV_MERGEABLE; KSMDIR's KSM (default
 * /sys/module/ksmod/ksm) runs. For SECS seconds (default 20) it counts
 * copy-on-write breaks of KSM pages: ksmod's cow_breaks, or /proc/vmstat's
 * cow_ksm for the kernel's KSM (KSMDIR /sys/kernel/mm/ksm). Prints
 * "cow N" (breaks during the run), "full_scans N" (passes during the
 * run) and "sharing N" (pages_sharing at the end), then "result ok" when every byte read back as written (each
 * worker checks its pages every round). Exit status 0, 1 on a wrong byte
 * or error, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "util.h"

#define PAGE 4096UL

static long cow_count(const char *dir)
{
	char line[128];
	long v = -1;
	FILE *f;

	if (!strstr(dir, "/sys/kernel/mm/ksm"))
		return read_counter(dir, "cow_breaks");
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "cow_ksm %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* a worker: write, rewrite and check until killed; exit 1 on a bad byte */
static int worker(long nstat, long nvol, long period, int ready)
{
	char *p = mmap(NULL, (nstat + nvol) * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *vol = p + nstat * PAGE, *last = malloc(nvol);
	long i, round = 0, j;
	double t0;

	if (p == MAP_FAILED || !last)
		return 1;
	for (i = 0; i < nstat; i++)
		memset(p + i * PAGE, 'A' + i % 8, PAGE);
	for (i = 0; i < nvol; i++) {
		last[i] = 'a' + i % 4;
		memset(vol + i * PAGE, last[i], PAGE);
	}
	if (madvise(p, (nstat + nvol) * PAGE, MADV_MERGEABLE))
		return 1;
	if (write(ready, "r", 1) != 1)
		return 1;
	t0 = now_ms();
	for (;;) {
		/* round r starts at r * period: rewrite every volatile page */
		round = (long)((now_ms() - t0) / period) + 1;
		for (i = 0; i < nvol; i++) {
			for (j = 0; j < (long)PAGE; j += 512)
				if (vol[i * PAGE + j] != last[i])
					return 1;
			last[i] = 'a' + (round + i) % 4;
			memset(vol + i * PAGE, last[i], PAGE);
		}
		for (i = 0; i < nstat; i++)
			for (j = 0; j < (long)PAGE; j += 512)
				if (p[i * PAGE + j] != 'A' + i % 8)
					return 1;
		while (now_ms() - t0 < round * period)
			usleep(1000);
	}
}

int main(int argc, char **argv)
{
	const char *dir = "/sys/module/ksmod/ksm";
	long nstat, nvol, secs = 20, period = 300, cow0, scans0, got = 0;
	int opt, ok = 1, ready[2], w, status;
	pid_t pids[2];
	char c;

	while ((opt = getopt(argc, argv, "k:t:p:")) != -1) {
		switch (opt) {
		case 'k':
			dir = optarg;
			break;
		case 't':
			secs = atol(optarg);
			break;
		case 'p':
			period = atol(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;
	nstat = atol(argv[optind]);
	nvol = atol(argv[optind + 1]);
	if (nstat < 1 || nvol < 1 || secs < 1 || period < 1)
		goto usage;
	if (pipe(ready))
		return 1;
	for (w = 0; w < 2; w++) {
		pids[w] = fork();
		if (pids[w] < 0)
			return 1;
		if (!pids[w]) {
			close(ready[0]);
			_exit(worker(nstat, nvol, period, ready[1]));
		}
	}
	close(ready[1]);
	while (got < 2 && read(ready[0], &c, 1) == 1)
		got++;
	cow0 = cow_count(dir);
	scans0 = read_counter(dir, "full_scans");
	sleep(secs);
	printf("cow %ld\n", cow_count(dir) - cow0);
	printf("full_scans %ld\n", read_counter(dir, "full_scans") - scans0);
	printf("sharing %ld\n", read_counter(dir, "pages_sharing"));
	for (w = 0; w < 2; w++)
		kill(pids[w], SIGKILL);
	for (w = 0; w < 2; w++) {
		/* killed, as it should be; exited: it read a wrong byte */
		if (waitpid(pids[w], &status, 0) != pids[w] ||
		    !WIFSIGNALED(status)) {
			printf("worker %d: a wrong byte (status 0x%x)\n", w,
			       status);
			ok = 0;
		}
	}
	printf("result %s\n", ok ? "ok" : "FAIL");
	return !ok;
usage:
	fprintf(stderr, "usage: volatile [-k KSMDIR] [-t SECS] [-p PERIOD_MS] STATIC VOLATILE\n");
	return 2;
}
