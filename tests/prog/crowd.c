// SPDX-License-Identifier: GPL-2.0
/*
 * crowd - reverse-map walks of a KSM page on a crowded anon_vma.
 *
 *   crowd [-k KSMDIR] [-v VMAS] [-r REPS] [-t SECS]
 *
 * A region of VMAS pages is faulted once (one anon_vma) and split by
 * mprotect() into VMAS VMAs, every other one read-only: they all share that
 * anon_vma. Page VMAS - 2 of it (writable) and a page of a mapping of its
 * own get the same content and MADV_MERGEABLE; once KSMDIR's KSM (default
 * /sys/module/ksmod/ksm, run=1 by the caller) has merged them into one KSM
 * page, crowd writes run=0 there (the KSM page stays) and forks (the child's VMAS VMAs join the anon_vma's tree
 * too, and the child maps the KSM page). Then the KSM page is migrated
 * REPS times between NUMA nodes 0 and 1 (move_pages(MPOL_MF_MOVE_ALL) of
 * that one page); each migration walks the page's reverse map twice (to
 * unmap, then to map again), and the kernel's KSM walks every VMA of the
 * anon_vma there, where an index-limited walk looks at one. After each
 * move both pages must still be on one frame, on the new node; at the end
 * the child checks its copy of both.
 *
 * Prints "vmas N", "move_us MEDIAN MIN MAX" (microseconds per move_pages()
 * call) and "result ok|FAIL". Exit status 0 when every check held, 1
 * otherwise, 2 on a usage error. Needs root (pagemap frames, MOVE_ALL).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "util.h"

#define PAGE 4096UL
#define MPOL_MF_MOVE_ALL (1 << 2)

static uint64_t pfn_of(void *addr)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e = 0;

	if (fd < 0)
		return 0;
	if (pread(fd, &e, 8, (uintptr_t)addr / PAGE * 8) != 8)
		e = 0;
	close(fd);
	return (e & PM_PRESENT) ? PM_PFN(e) : 0;
}

static int node_of(void *addr)
{
	void *pages[1] = { addr };
	int status[1] = { -1 };

	if (syscall(SYS_move_pages, 0, 1, pages, NULL, status, 0))
		return -1;
	return status[0];
}

static void fill(char *p, int v)
{
	size_t i;

	for (i = 0; i < PAGE; i++)
		p[i] = (char)(v + i * 7);
}

static int intact(const char *p, int v)
{
	size_t i;

	for (i = 0; i < PAGE; i++)
		if (p[i] != (char)(v + i * 7))
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	const char *dir = "/sys/module/ksmod/ksm";
	long vmas = 20000, reps = 21, secs = 60, i;
	int opt, ok = 1, to_child[2], status;
	char *region, *own, *t;
	double *us;
	pid_t child;

	while ((opt = getopt(argc, argv, "k:v:r:t:")) != -1) {
		switch (opt) {
		case 'k':
			dir = optarg;
			break;
		case 'v':
			vmas = atol(optarg);
			break;
		case 'r':
			reps = atol(optarg);
			break;
		case 't':
			secs = atol(optarg);
			break;
		default:
			fprintf(stderr, "usage: crowd [-k KSMDIR] [-v VMAS] [-r REPS] [-t SECS]\n");
			return 2;
		}
	}
	if (vmas < 4 || vmas % 2 || reps < 1 || secs < 1) {
		fprintf(stderr, "crowd: VMAS even and >= 4, REPS and SECS >= 1\n");
		return 2;
	}
	us = calloc(reps, sizeof(*us));
	region = mmap(NULL, vmas * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	own = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!us || region == MAP_FAILED || own == MAP_FAILED) {
		perror("crowd: mmap");
		return 1;
	}
	region[0] = 1;		/* the anon_vma, before any split */
	for (i = 1; i < vmas; i += 2) {
		if (mprotect(region + i * PAGE, PAGE, PROT_READ)) {
			fprintf(stderr, "crowd: mprotect of page %ld: %s\n", i,
				strerror(errno));
			return 1;
		}
	}
	t = region + (vmas - 2) * PAGE;
	fill(t, 0x5c);
	fill(own, 0x5c);
	if (madvise(t, PAGE, MADV_MERGEABLE) ||
	    madvise(own, PAGE, MADV_MERGEABLE)) {
		perror("crowd: madvise");
		return 1;
	}
	printf("vmas %ld\n", vmas);
	for (i = 0; i < secs * 10; i++) {
		if (pfn_of(t) && pfn_of(t) == pfn_of(own))
			break;
		usleep(100000);
	}
	if (!pfn_of(t) || pfn_of(t) != pfn_of(own)) {
		printf("not merged in %ld s (pages_sharing %ld)\nresult FAIL\n",
		       secs, read_counter(dir, "pages_sharing"));
		return 1;
	}
	printf("merged in %.1f s\n", i / 10.0);
	fflush(stdout);
	/*
	 * The scanner stops (run=0; KSM pages stay): its visits of the KSM
	 * page hold a reference that makes a migration fail now and then
	 * (6.12's ksmd on a pass of two pages: every try of some moves)
	 */
	{
		char path[512];
		int fd;

		snprintf(path, sizeof(path), "%s/run", dir);
		fd = open(path, O_WRONLY);
		if (fd < 0 || write(fd, "0", 1) != 1) {
			printf("cannot write 0 to %s\nresult FAIL\n", path);
			return 1;
		}
		close(fd);
	}

	if (pipe(to_child))
		return 1;
	child = fork();
	if (child < 0)
		return 1;
	if (!child) {
		char c;

		close(to_child[1]);
		if (read(to_child[0], &c, 1) != 1)
			_exit(3);
		_exit(intact(t, 0x5c) && intact(own, 0x5c) ? 0 : 1);
	}
	close(to_child[0]);

	for (i = 0; i < reps; i++) {
		int node = node_of(t) == 1 ? 0 : 1, st[1] = { -1 };
		void *pages[1] = { t };
		double t0;
		long r, try;

		/* a page not migrated this time (its status says why) is
		 * tried again, at most 10 times; the time is the last try's
		 */
		for (try = 0; try < 10; try++) {
			t0 = now_ms();
			r = syscall(SYS_move_pages, 0, 1, pages, &node, st,
				    MPOL_MF_MOVE_ALL);
			us[i] = (now_ms() - t0) * 1e3;
			if (r <= 0)
				break;
			printf("move %ld: not migrated (status %d), again\n", i,
			       st[0]);
			usleep(10000);
		}
		if (r) {
			printf("move %ld: move_pages: %ld, %s, status %d\n", i, r,
			       strerror(errno), st[0]);
			ok = 0;
			break;
		}
		if (st[0] != node || node_of(t) != node ||
		    pfn_of(t) != pfn_of(own) || node_of(own) != node) {
			printf("move %ld: status %d, node %d/%d, frames %llx %llx\n",
			       i, st[0], node_of(t), node_of(own),
			       (unsigned long long)pfn_of(t),
			       (unsigned long long)pfn_of(own));
			ok = 0;
			break;
		}
	}
	if (ok) {
		qsort(us, reps, sizeof(*us), cmp_double);
		printf("move_us %.0f %.0f %.0f\n", us[reps / 2], us[0],
		       us[reps - 1]);
	}
	if (!intact(t, 0x5c) || !intact(own, 0x5c)) {
		printf("the bytes changed\n");
		ok = 0;
	}
	if (write(to_child[1], "x", 1) != 1 ||
	    waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		printf("the child's copy is wrong (status 0x%x)\n", status);
		ok = 0;
	}
	printf("result %s\n", ok ? "ok" : "FAIL");
	return !ok;
}
