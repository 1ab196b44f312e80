// SPDX-License-Identifier: GPL-2.0
/*
 * pagedup - how much of the memory of some processes is duplicated, and
 * how much of that shares page frames: an oracle for the saving of a KSM
 * that needs no KSM, for the guest tests of real programs.
 *
 *   pagedup PID...
 *
 * Looks at every present page of the private anonymous mappings of each
 * PID (those `ksmodctl register PID` registers: heap, stack, anonymous and
 * named anonymous mappings; /proc/PID/maps), reading its bytes through
 * /proc/PID/mem and its frame through /proc/PID/pagemap (root). Pages of
 * zeroes are counted apart: they may be mapped to the shared zero page,
 * which no KSM counts. Prints one line:
 *
 *   pages=P zero=Z contents=C frames=F dup=D merged=M
 *
 * P present pages that are not all zeroes, C distinct contents among them,
 * F distinct frames among them; D = P - C pages are duplicates of another
 * (what a complete merge saves), M = P - F pages share a frame with
 * another (what is saved now). A page that changes while it is read
 * counts as whatever was read.
 *
 * Exit status 0, 1 when a process cannot be read, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define PAGE		4096UL
#define PM_PRESENT	(1ULL << 63)
#define PM_PFN_MASK	((1ULL << 55) - 1)
#define CHUNK		256	/* pages read at once */

static uint64_t *hashes, *pfns;
static size_t npages, cap, nzero;

static void add_page(uint64_t hash, uint64_t pfn)
{
	if (npages == cap) {
		cap = cap ? 2 * cap : 65536;
		hashes = realloc(hashes, cap * sizeof(*hashes));
		pfns = realloc(pfns, cap * sizeof(*pfns));
		if (!hashes || !pfns) {
			fprintf(stderr, "pagedup: out of memory\n");
			exit(1);
		}
	}
	hashes[npages] = hash;
	pfns[npages++] = pfn;
}

/* 64-bit hash of a page, word by word; 0 only for a page of zeroes */
static uint64_t page_hash(const uint64_t *w)
{
	uint64_t h = 0, any = 0;
	size_t i;

	for (i = 0; i < PAGE / 8; i++) {
		any |= w[i];
		h = (h ^ w[i]) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return any ? (h | 1) : 0;
}

/* Private anonymous mappings, as ksmodctl registers them. */
static int wanted(const char *perms, unsigned long inode, const char *path)
{
	if (perms[3] != 'p' || perms[1] != 'w' || inode)
		return 0;
	return !*path || !strcmp(path, "[heap]") || !strcmp(path, "[stack]") ||
	       !strncmp(path, "[anon:", 6);
}

static int scan_range(int mem, int pagemap, unsigned long start,
		      unsigned long end)
{
	static uint64_t buf[CHUNK * PAGE / 8], pm[CHUNK];
	unsigned long addr;

	for (addr = start; addr < end; addr += CHUNK * PAGE) {
		size_t n = (end - addr) / PAGE, i;

		if (n > CHUNK)
			n = CHUNK;
		if (pread(pagemap, pm, n * 8, addr / PAGE * 8) != (ssize_t)(n * 8))
			return -1;
		for (i = 0; i < n; i++) {
			uint64_t h;

			if (!(pm[i] & PM_PRESENT))
				continue;
			if (pread(mem, buf, PAGE, addr + i * PAGE) != PAGE)
				continue;	/* unmapped meanwhile */
			h = page_hash(buf);
			if (!h)
				nzero++;
			else
				add_page(h, pm[i] & PM_PFN_MASK);
		}
	}
	return 0;
}

static int scan_pid(const char *pid)
{
	char path[64], line[512], perms[8], name[256];
	unsigned long start, end, off, inode;
	int mem, pagemap, rc = 0;
	FILE *maps;

	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	maps = fopen(path, "r");
	snprintf(path, sizeof(path), "/proc/%s/mem", pid);
	mem = open(path, O_RDONLY);
	snprintf(path, sizeof(path), "/proc/%s/pagemap", pid);
	pagemap = open(path, O_RDONLY);
	if (!maps || mem < 0 || pagemap < 0) {
		fprintf(stderr, "pagedup: pid %s: %s\n", pid, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), maps)) {
		name[0] = '\0';
		if (sscanf(line, "%lx-%lx %7s %lx %*s %lu %255s", &start, &end,
			   perms, &off, &inode, name) < 5)
			continue;
		if (wanted(perms, inode, name) &&
		    scan_range(mem, pagemap, start, end)) {
			fprintf(stderr, "pagedup: pid %s: pagemap: %s\n", pid,
				strerror(errno));
			rc = -1;
			break;
		}
	}
	fclose(maps);
	close(mem);
	close(pagemap);
	return rc;
}

/* the number of distinct values in @v (sorted in place) */
static size_t distinct(uint64_t *v, size_t n)
{
	size_t i, d = 0;

	qsort(v, n, sizeof(*v), cmp_u64);
	for (i = 0; i < n; i++)
		d += !i || v[i] != v[i - 1];
	return d;
}

int main(int argc, char **argv)
{
	size_t contents, frames;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: pagedup PID...\n");
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (scan_pid(argv[i]))
			return 1;
	contents = distinct(hashes, npages);
	frames = distinct(pfns, npages);
	printf("pages=%zu zero=%zu contents=%zu frames=%zu dup=%zu merged=%zu\n",
	       npages, nzero, contents, frames, npages - contents,
	       npages - frames);
	return 0;
}
