// SPDX-License-Identifier: GPL-2.0
/*
 * ksm_phases - merging follows contents as they change, counted exactly.
 *
 *   ksm_phases [-k SYSFS_DIR] [-u CHUNK_MB] [-t SECONDS] [-n NODE] NPROC SIZE_MB
 *
 * The job of the classic KSM regression tests, in our words: NPROC
 * processes each map SIZE_MB of private anonymous memory as SIZE_MB /
 * CHUNK_MB mappings (default: one), fault them in with zeroes, madvise
 * them MADV_MERGEABLE, and fill them in phases; -n NODE binds their memory to that NUMA node first
 * (set_mempolicy(MPOL_BIND)). After each phase this process waits until SYSFS_DIR (default
 * /sys/module/ksmod/ksm) has counted 3 more full scans, with the
 * processes stopped (SIGSTOP), then checks pages_shared, pages_sharing,
 * pages_volatile and pages_unshared exactly, and every byte of every
 * process. max_page_sharing must be at least the total number of pages
 * (the caller sets it), so that one content is one KSM page:
 *   1. process 0 all 'c', the others all 'a':    2 shared, total - 2
 *   2. process 1 all 'b':                        3 shared, total - 3
 *   3. every process all 'd':                    1 shared, total - 1
 *   4. the last byte of process 0's last page 'e': 1 shared, total - 2,
 *      1 unshared (with NPROC 1: 1 shared, total - 2)
 * Prints one "phase N ..." line each; exit 0 only when all held.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define MPOL_BIND 2

static const char *dir = "/sys/module/ksmod/ksm";
static long psize, chunk_pages, nchunks;

static long counter(const char *name)
{
	return read_counter(dir, name);
}

/*
 * A child: map and advise, then per command: 'f' BYTE fills everything,
 * 'l' BYTE sets the last byte of the last page, 'v' BYTE [LAST] verifies
 * (a one-byte answer, 0 when right); EOF exits.
 */
static int child(int rfd, int wfd, int node)
{
	char **chunks = calloc(nchunks, sizeof(*chunks)), cmd[3];
	unsigned long mask = 1UL << node;
	long c, i;

	if (!chunks)
		return 1;
	if (node >= 0 &&
	    syscall(SYS_set_mempolicy, MPOL_BIND, &mask, sizeof(mask) * 8))
		return 2;
	for (c = 0; c < nchunks; c++) {
		chunks[c] = mmap(NULL, chunk_pages * psize,
				 PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (chunks[c] == MAP_FAILED)
			return 3;
		/*
		 * Fault the memory in (huge pages where the system gives
		 * them) before it is mergeable. Filling it for the first
		 * time while a sleep_millisecs 0 scanner ran passes over
		 * the still empty mappings left the filler inside one
		 * 2 MiB page clear for over 20 s, twice with the kernel's
		 * KSM and once with ksmod, in TCG guests on a loaded host
		 * (a soft lockup report; 16 runs on a quiet host never
		 * did). The phases below then start from merged zero
		 * pages, so their fills break COW too.
		 */
		memset(chunks[c], 0, chunk_pages * psize);
		if (madvise(chunks[c], chunk_pages * psize, MADV_MERGEABLE))
			return 4;
	}
	while (read_all(rfd, cmd, 3) == 0) {
		char bad = 0;

		if (cmd[0] == 'f') {
			for (c = 0; c < nchunks; c++)
				memset(chunks[c], cmd[1], chunk_pages * psize);
		} else if (cmd[0] == 'l') {
			chunks[nchunks - 1][chunk_pages * psize - 1] = cmd[1];
		} else if (cmd[0] == 'v') {
			for (c = 0; c < nchunks; c++)
				for (i = 0; i < chunk_pages * psize; i++) {
					char want = cmd[1];

					if (cmd[2] && c == nchunks - 1 &&
					    i == chunk_pages * psize - 1)
						want = cmd[2];
					bad |= chunks[c][i] != want;
				}
		}
		if (write(wfd, &bad, 1) != 1)
			return 5;
	}
	return 0;
}

static int nproc;
static pid_t *pids;
static int (*to)[2], (*from)[2];

static int tell(int i, char a, char b, char c)
{
	char cmd[3] = { a, b, c }, ans = 1;

	if (write(to[i][1], cmd, 3) != 3 || read_all(from[i][0], &ans, 1))
		return 1;
	return ans;
}

static void stop_all(int sig)
{
	int i;

	for (i = 0; i < nproc; i++)
		kill(pids[i], sig);
}

/* 3 more full scans with the processes stopped; 0, or 1 after @secs */
static int three_scans(int secs)
{
	long want = counter("full_scans") + 3;
	time_t end = time(NULL) + secs;

	stop_all(SIGSTOP);
	while (counter("full_scans") < want && time(NULL) < end)
		usleep(50000);
	return counter("full_scans") < want;
}

static int phase(int n, long shared, long sharing, long unshared, int secs)
{
	long sh, sg, vol, un;
	int late = three_scans(secs), ok;

	sh = counter("pages_shared");
	sg = counter("pages_sharing");
	vol = counter("pages_volatile");
	un = counter("pages_unshared");
	stop_all(SIGCONT);
	ok = !late && sh == shared && sg == sharing && vol == 0 &&
	     un == unshared;
	printf("phase %d %s: pages_shared %ld (%ld) pages_sharing %ld (%ld) pages_volatile %ld (0) pages_unshared %ld (%ld)%s\n",
	       n, ok ? "ok" : "WRONG", sh, shared, sg, sharing, vol, un,
	       unshared, late ? ", 3 full scans did not come" : "");
	return ok;
}

int main(int argc, char **argv)
{
	int opt, i, ok = 1, node = -1, secs = 120;
	long chunk_mb = 0, size_mb, total;

	psize = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "k:u:t:n:")) != -1) {
		if (opt == 'k')
			dir = optarg;
		else if (opt == 'u')
			chunk_mb = atol(optarg);
		else if (opt == 't')
			secs = atoi(optarg);
		else if (opt == 'n')
			node = atoi(optarg);
		else
			return 2;
	}
	if (argc - optind != 2)
		return 2;
	nproc = atoi(argv[optind]);
	size_mb = atol(argv[optind + 1]);
	if (!chunk_mb)
		chunk_mb = size_mb;
	nchunks = size_mb / chunk_mb;
	chunk_pages = chunk_mb * (1 << 20) / psize;
	total = nproc * nchunks * chunk_pages;
	pids = calloc(nproc, sizeof(*pids));
	to = calloc(nproc, sizeof(*to));
	from = calloc(nproc, sizeof(*from));
	if (!pids || !to || !from || nproc < 1 || nchunks < 1)
		return 2;
	for (i = 0; i < nproc; i++) {
		if (pipe(to[i]) || pipe(from[i]))
			return 1;
		pids[i] = fork();
		if (!pids[i])
			_exit(child(to[i][0], from[i][1], node));
	}
	printf("total %ld pages in %d processes\n", total, nproc);

	for (i = 0; i < nproc; i++)
		ok &= !tell(i, 'f', i ? 'a' : 'c', 0);
	ok &= phase(1, nproc > 1 ? 2 : 1, total - (nproc > 1 ? 2 : 1), 0,
		    secs);
	for (i = 0; i < nproc; i++)
		ok &= !tell(i, 'v', i ? 'a' : 'c', 0);

	if (nproc > 2) {
		ok &= !tell(1, 'f', 'b', 0);
		ok &= phase(2, 3, total - 3, 0, secs);
		for (i = 0; i < nproc; i++)
			ok &= !tell(i, 'v', i == 1 ? 'b' : i ? 'a' : 'c', 0);
	}

	for (i = 0; i < nproc; i++)
		ok &= !tell(i, 'f', 'd', 0);
	ok &= phase(3, 1, total - 1, 0, secs);
	for (i = 0; i < nproc; i++)
		ok &= !tell(i, 'v', 'd', 0);

	ok &= !tell(0, 'l', 'e', 0);
	ok &= phase(4, 1, total - 2, 1, secs);
	for (i = 0; i < nproc; i++)
		ok &= !tell(i, 'v', 'd', i ? 0 : 'e');

	for (i = 0; i < nproc; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	printf("bytes %s\n", ok ? "intact" : "see above");
	return ok ? 0 : 1;
}
