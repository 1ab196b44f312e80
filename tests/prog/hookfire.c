// SPDX-License-Identifier: GPL-2.0
/*
 * hookfire - make the kernel enter the functions ksmod hooks.
 *
 *   hookfire madvise N   N rounds of MADV_MERGEABLE + MADV_UNMERGEABLE on
 *                        an anonymous range; checks each returns 0 and
 *                        that VmFlags shows "mg" in between
 *   hookfire cow N       fork; the child writes N pages it shares
 *                        copy-on-write with the parent; checks contents
 *   hookfire busy SECS   both, over and over, for SECS seconds
 * Exit status 0 when every call and every byte was as expected.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NPAGES 16

static long page_size;

static int vma_has_mg(void *addr)
{
	char line[512], want[32];
	int in_vma = 0, found = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, want, strlen(want)))
			in_vma = 1;
		else if (in_vma && !strncmp(line, "VmFlags:", 8)) {
			found = strstr(line, " mg") != NULL;
			break;
		}
	}
	fclose(f);
	return found;
}

static int do_madvise(long rounds)
{
	size_t len = NPAGES * page_size;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long i;

	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(p, 0x5a, len);
	for (i = 0; i < rounds; i++) {
		if (madvise(p, len, MADV_MERGEABLE)) {
			perror("madvise(MADV_MERGEABLE)");
			return 1;
		}
		if (vma_has_mg(p) != 1) {
			fprintf(stderr, "VmFlags lacks mg after MADV_MERGEABLE\n");
			return 1;
		}
		if (madvise(p, len, MADV_UNMERGEABLE)) {
			perror("madvise(MADV_UNMERGEABLE)");
			return 1;
		}
		if (vma_has_mg(p) != 0) {
			fprintf(stderr, "VmFlags keeps mg after MADV_UNMERGEABLE\n");
			return 1;
		}
	}
	for (i = 0; i < (long)len; i++)
		if (p[i] != 0x5a) {
			fprintf(stderr, "byte %ld changed\n", i);
			return 1;
		}
	munmap(p, len);
	return 0;
}

static int do_cow(long npages)
{
	size_t len = npages * page_size;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int status;
	long i;
	pid_t pid;

	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (i = 0; i < npages; i++)
		memset(p + i * page_size, (int)(i & 0xff), page_size);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (!pid) {
		for (i = 0; i < npages; i++)
			p[i * page_size] = 0x77;	/* COW fault */
		for (i = 0; i < npages; i++)
			if (p[i * page_size] != 0x77 ||
			    p[i * page_size + 1] != (char)(i & 0xff))
				_exit(1);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "child saw wrong data after COW\n");
		return 1;
	}
	for (i = 0; i < npages; i++)
		if (p[i * page_size] != (char)(i & 0xff)) {
			fprintf(stderr, "parent page %ld changed\n", i);
			return 1;
		}
	munmap(p, len);
	return 0;
}

int main(int argc, char **argv)
{
	long n;

	page_size = sysconf(_SC_PAGESIZE);
	if (argc != 3) {
		fprintf(stderr, "usage: hookfire madvise|cow|busy N\n");
		return 2;
	}
	n = atol(argv[2]);
	if (!strcmp(argv[1], "madvise"))
		return do_madvise(n);
	if (!strcmp(argv[1], "cow"))
		return do_cow(n);
	if (!strcmp(argv[1], "busy")) {
		time_t end = time(NULL) + n;
		long rounds = 0;

		while (time(NULL) < end) {
			if (do_madvise(4) || do_cow(NPAGES))
				return 1;
			rounds++;
		}
		printf("%ld rounds\n", rounds);
		return 0;
	}
	fprintf(stderr, "hookfire: unknown mode %s\n", argv[1]);
	return 2;
}
