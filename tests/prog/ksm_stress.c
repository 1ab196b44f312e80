// SPDX-License-Identifier: GPL-2.0
/*
 * ksm_stress - data integrity while pages merge and unmerge under writers.
 *
 *   ksm_stress [-h default|huge|nohuge] NPROC NPAGES SECONDS
 *
 * NPROC processes each own NPAGES mergeable pages, every page filled
 * with one of four patterns, so that pages keep merging with pages of
 * the same and of other processes while the scanner runs. Each process
 * keeps rewriting random pages (whole pages, or single bytes), and now
 * and then forks a child that checks and then writes its copy, makes a
 * range read-only and writable again (mprotect), moves the whole buffer
 * elsewhere (mremap) or drops a page (MADV_DONTNEED) and refills it. After every step it checks every
 * byte it owns against what it wrote. Exit 0 when no byte was ever wrong.
 * Buffers start at a 2 MiB boundary; -h: huge pages as the system sets
 * them ("default"), MADV_HUGEPAGE ("huge") or MADV_NOHUGEPAGE ("nohuge").
 */
#define _GNU_SOURCE
#include <errno.h>
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

struct shadow {
	unsigned char fill;	/* byte of the whole page */
	unsigned char poked;	/* byte at offset @at, if poked */
	short at;		/* -1: not poked */
};

static void write_page(char *p, struct shadow *s, int whole)
{
	if (whole) {
		s->fill = 'a' + rand() % 4;
		s->at = -1;
		memset(p, s->fill, psize);
	} else {
		if (s->at >= 0)		/* one poke at a time */
			p[s->at] = s->fill;
		s->at = rand() % psize;
		s->poked = 'A' + rand() % 26;
		p[s->at] = s->poked;
	}
}

static int check_page(const char *p, const struct shadow *s)
{
	long j;

	for (j = 0; j < psize; j++)
		if (p[j] != (j == s->at ? s->poked : s->fill))
			return 0;
	return 1;
}

static int check_all(char *buf, struct shadow *sh, long n)
{
	long i;

	for (i = 0; i < n; i++)
		if (!check_page(buf + i * psize, &sh[i])) {
			fprintf(stderr, "pid %d: page %ld wrong\n", getpid(), i);
			return 0;
		}
	return 1;
}

static char *map_pages(long n)
{
	char *p = map_aligned(n * psize);

	if (!p || thp_apply(p, n * psize, thp))
		return NULL;
	if (madvise(p, n * psize, MADV_MERGEABLE))
		return NULL;
	return p;
}

static int worker(long n, int seconds, unsigned int seed)
{
	struct shadow *sh = calloc(n, sizeof(*sh));
	char *buf = map_pages(n);
	time_t end = time(NULL) + seconds;
	long i, steps = 0;

	if (!buf || !sh)
		return 2;
	srand(seed);
	for (i = 0; i < n; i++)
		write_page(buf + i * psize, &sh[i], 1);

	while (time(NULL) < end) {
		int what = rand() % 100;
		long k = rand() % n, len = 1 + rand() % (n - k < 8 ? n - k : 8);

		if (what < 70) {
			write_page(buf + k * psize, &sh[k], rand() % 2);
		} else if (what < 75) {
			pid_t pid = fork();
			int status;

			if (!pid) {
				if (!check_all(buf, sh, n))
					_exit(1);
				write_page(buf + k * psize, &sh[k], 1);
				_exit(check_all(buf, sh, n) ? 0 : 1);
			}
			if (pid < 0 || waitpid(pid, &status, 0) != pid ||
			    !WIFEXITED(status) || WEXITSTATUS(status))
				return 3;
		} else if (what < 85) {
			if (mprotect(buf + k * psize, len * psize, PROT_READ) ||
			    !check_all(buf, sh, n) ||
			    mprotect(buf + k * psize, len * psize,
				     PROT_READ | PROT_WRITE))
				return 4;
		} else if (what < 95) {
			/* move the whole buffer elsewhere */
			char *dst = map_pages(n), *moved;

			if (!dst) {
				perror("map_pages");
				return 5;
			}
			moved = mremap(buf, n * psize, n * psize,
				       MREMAP_MAYMOVE | MREMAP_FIXED, dst);
			if (moved == MAP_FAILED) {
				perror("mremap");
				return 5;
			}
			buf = moved;
		} else {
			/* drop page k (zapping a merged pte), then refill it */
			if (madvise(buf + k * psize, psize, MADV_DONTNEED))
				return 6;
			write_page(buf + k * psize, &sh[k], 1);
		}
		if (!check_all(buf, sh, n))
			return 7;
		steps++;
	}
	printf("pid %d: %ld steps\n", getpid(), steps);
	return 0;
}

int main(int argc, char **argv)
{
	int nproc, seconds, i, bad = 0;
	long npages;

	if (argc == 6 && !strcmp(argv[1], "-h")) {
		thp = thp_parse(argv[2]);
		argc -= 2;
		argv += 2;
	}
	if (argc != 4 || thp < 0) {
		fprintf(stderr, "usage: ksm_stress [-h default|huge|nohuge] NPROC NPAGES SECONDS\n");
		return 2;
	}
	psize = sysconf(_SC_PAGESIZE);
	nproc = atoi(argv[1]);
	npages = atol(argv[2]);
	seconds = atoi(argv[3]);
	for (i = 0; i < nproc; i++)
		if (!fork())
			_exit(worker(npages, seconds, 1000 + i));
	for (i = 0; i < nproc; i++) {
		int status;

		wait(&status);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "a worker failed: %d\n",
				WEXITSTATUS(status));
			bad = 1;
		}
	}
	return bad;
}
