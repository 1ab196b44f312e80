// SPDX-License-Identifier: GPL-2.0
/*
 * sparse - a huge, mostly empty mergeable mapping, for the sparse test.
 *
 *   sparse [-g GIB] [-n PAGES] [-f BYTE] [-h]
 *
 * Maps GIB GiB (default 256) of private anonymous memory with
 * MAP_NORESERVE, marks it MADV_MERGEABLE, and writes PAGES pages (default
 * 64) spread evenly over it, each filled with BYTE (default 0x42): almost
 * all of it is holes in the page tables. -h: MADV_NOHUGEPAGE first, so
 * that each write fills one small page, not the 2 MiB around it (a huge
 * page; 6.12 maps its zero-filled parts to the zero page once split, 6.1
 * keeps them as pages to scan). Prints "pid=P addr=A len=L" and
 * then answers each line of stdin with one line:
 *   check      "ok" when every written page still holds BYTE
 *   unmerge    MADV_UNMERGEABLE over the whole mapping: "ok ms=N" (how
 *              long it took) or "error ERRNO"
 *   merge      MADV_MERGEABLE again: "ok ms=N"
 * End of file exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE), npages = 64, gib = 256, i;
	int fill = 0x42, nohuge = 0, opt;
	size_t len, step;
	char line[64], *buf;

	while ((opt = getopt(argc, argv, "g:n:f:h")) != -1) {
		if (opt == 'g')
			gib = atol(optarg);
		else if (opt == 'n')
			npages = atol(optarg);
		else if (opt == 'f')
			fill = (int)strtol(optarg, NULL, 0);
		else if (opt == 'h')
			nohuge = 1;
		else
			return 2;
	}
	len = (size_t)gib << 30;
	step = len / npages / page * page;
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	/*
	 * A kernel without THP (Debian's rt flavour) has no huge page to
	 * turn off, and refuses the advice (EINVAL): -h asks nothing there.
	 */
	if (nohuge && access("/sys/kernel/mm/transparent_hugepage", F_OK))
		nohuge = 0;
	if (buf == MAP_FAILED ||
	    (nohuge && madvise(buf, len, MADV_NOHUGEPAGE)) ||
	    madvise(buf, len, MADV_MERGEABLE)) {
		perror("sparse");
		return 1;
	}
	for (i = 0; i < npages; i++)
		memset(buf + i * step, fill, page);
	printf("pid=%d addr=%lx len=%zu\n", getpid(), (unsigned long)buf, len);
	fflush(stdout);

	while (fgets(line, sizeof(line), stdin)) {
		long t0 = now_ms(), j;
		int bad = 0;

		if (!strncmp(line, "check", 5)) {
			for (i = 0; i < npages; i++)
				for (j = 0; j < page; j++)
					bad |= buf[i * step + j] != (char)fill;
			printf(bad ? "error bytes\n" : "ok\n");
		} else if (!strncmp(line, "unmerge", 7) ||
			   !strncmp(line, "merge", 5)) {
			int adv = line[0] == 'u' ? MADV_UNMERGEABLE :
						   MADV_MERGEABLE;

			if (madvise(buf, len, adv))
				printf("error %s\n", strerror(errno));
			else
				printf("ok ms=%ld\n", now_ms() - t0);
		} else {
			printf("error unknown command\n");
		}
		fflush(stdout);
	}
	return 0;
}
