// SPDX-License-Identifier: GPL-2.0
/*
 * dupmem - a process with pages of identical content, for the guest tests.
 *
 *   dupmem [-n PAGES] [-f BYTE] [-i|-u] [-e] [-m] [-l] [-s] [-H] [-2]
 *          [-h default|huge|nohuge] [-c FIFO]
 *
 *   -n PAGES  pages in the buffer (default 64)
 *   -f BYTE   fill byte (default 0x5a): every page is PAGES bytes of BYTE
 *   -i        pages stamped with their index only: unique within the
 *             process, the same in every process started with -i and -f BYTE
 *   -u        unique pages instead: each page also starts with the pid and
 *             its index, so that no two pages anywhere are alike
 *   -e        with -i or -u, the stamp goes at the end of each page, which
 *             then starts as every page of BYTE does
 *   -m        madvise(MADV_MERGEABLE) the buffer before reporting
 *   -l        mlock() the buffer once it is filled (VM_LOCKED)
 *   -s        MAP_SHARED | MAP_ANONYMOUS instead of MAP_PRIVATE
 *   -H        a hole: map 3 * PAGES pages and unmap the middle third; the
 *             buffer is then the whole range, hole included
 *   -2        a second buffer: PAGES identical pages of BYTE ^ 0xff, never
 *             madvised before a "madvise 2" command
 *   -h HOW    huge pages: "default" (the system's setting, as for any
 *             program), "huge" (MADV_HUGEPAGE) or "nohuge"
 *             (MADV_NOHUGEPAGE); default "default"
 *   -c FIFO   read commands from FIFO, opened read-write so that it never
 *             reaches end-of-file (default: stdin)
 *
 * Every buffer starts at a 2 MiB boundary (whole 2 MiB of it get huge
 * pages where the THP setting gives them) and sits between PROT_NONE
 * guard pages, so that no VMA of it touches another buffer's. Once set up, it
 * prints one line (addresses in hex without 0x, lengths in bytes):
 *   pid=P addr=A end=E len=L pages=N [madv=ok|ERR] [hole=H hole_end=HE]
 *   [addr2=A2 end2=E2 len2=L2]
 * then answers each command line with one line starting "ok" or "error":
 *   madvise [2]    MADV_MERGEABLE on the buffer [the second buffer]
 *   unmadvise [2]  MADV_UNMERGEABLE
 *   wipeonfork, keeponfork, dontfork, dofork [2]
 *                  MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_DONTFORK, MADV_DOFORK
 *   mprotect       the middle third of the buffer becomes read-only:
 *                  "ok split1=S1 split2=S2" (the new VMA boundaries)
 *   mremap         move the buffer elsewhere: "ok addr=A end=E"
 *   check          every byte still holds what it was filled with
 *   touch N        write the byte it holds back into the last byte of each
 *                  of the first N pages: a write fault each, no change
 *   wtime N        touch N, timing each write (CLOCK_MONOTONIC): "ok
 *                  median_ns=M max_ns=X" (a write-timing probe)
 *   fork           a child that checks its copy, then sleeps until killed
 *                  (or until this process dies): "ok child=PID"
 *   killchild      SIGKILL that child and reap it
 *   cloneinto DIR  clone3(CLONE_INTO_CGROUP) a child straight into cgroup
 *                  DIR; its first act counts the distinct frames of its
 *                  copy of the buffer (pagemap), then it checks its bytes
 *                  and exits: "ok distinct=N status=S"
 *   forkloop N     N times: fork, the child checks its copy and exits,
 *                  wait for it: "ok N"
 *   forkexec N     N times: fork, the child execs /bin/true, wait: "ok N"
 *   forkrun        forkloop until SIGUSR1 arrives: "ok N" (cycles done)
 *   frames         the page frames of the buffer (pagemap, needs root) and
 *                  their NUMA nodes (move_pages): "ok first=PFN distinct=N
 *                  nodes=A[,B...]" (PFN of its first page, in hex; how many
 *                  different frames; the nodes they are on, ascending)
 *   move NODE      move_pages(MPOL_MF_MOVE_ALL) every present page of the
 *                  buffer to NUMA node NODE: "ok moved=N" (pages now there)
 *   thp            what backs the buffer (pagemap, /proc/kpageflags): "ok
 *                  present=N thp=N heads=N zero=N swapped=N" (pages
 *                  present; in large folios, huge pages or multi-size THP;
 *                  heads of those folios; the zero page; swapped out)
 *   swapped        how many pages of the buffer are swapped out (pagemap):
 *                  "ok N"
 *   pfns           the frame of each present page of the buffer, in hex:
 *                  "ok PFN PFN..."
 *   hold N         vmsplice(2) the first N (1-16) pages of the buffer into
 *                  a pipe and leave them there: the pipe holds a
 *                  reference on each page, as direct I/O would: "ok"
 *   release        read the held pages out of the pipe; they must be the
 *                  bytes the buffer holds: "ok", or "error" with the page
 *                  that differs
 *   spin SECS      run on the CPU for SECS seconds without touching the
 *                  buffer (NUMA balancing scans running tasks): "ok"
 *   setuid UID     drop root for good: every uid and gid (and no
 *                  supplementary group) becomes UID: "ok"
 *   exit           exit at once with status 0, no answer
 * madvise answers "error ENOMEM" (etc.) when the call fails. End of file
 * on stdin exits too. Exit status 0, or 1 on a set-up error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/sched.h>
#include "errname.h"
#include "util.h"

struct buf {
	char *addr;		/* start of the range (hole included) */
	size_t len;		/* bytes of the range */
	int fill;		/* fill byte */
	int unique;		/* pages stamped with index (and pid: STAMP_PID) */
	int hole;		/* middle third unmapped */
};

#define STAMP_INDEX	1	/* -i */
#define STAMP_PID	2	/* -u */

static long page_size;
static int stamp_end;	/* -e */
static int thp = THP_DEFAULT;	/* -h */
static struct buf bufs[2];
static int nbufs = 1;
static pid_t child;
static volatile sig_atomic_t usr1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

/* A PROT_NONE reservation of len at 2 MiB, with guard pages each side. */
static char *reserve(size_t len)
{
	return reserve_aligned(len);
}

static int in_hole(const struct buf *b, size_t off)
{
	return b->hole && off >= b->len / 3 && off < 2 * (b->len / 3);
}

static void fill_page(const struct buf *b, size_t off)
{
	char *p = b->addr + off;

	memset(p, b->fill, page_size);
	if (b->unique) {
		uint64_t stamp[2] = {
			b->unique == STAMP_PID ? (uint64_t)getpid() : 0,
			off / page_size
		};

		memcpy(p + (stamp_end ? page_size - sizeof(stamp) : 0), stamp,
		       sizeof(stamp));
	}
}

/* 0 when every page of b holds what fill_page() wrote (stamped with pid). */
static int check_buf(const struct buf *b, pid_t pid, char *why, size_t n)
{
	size_t off, i;

	for (off = 0; off < b->len; off += page_size) {
		const unsigned char *p = (const unsigned char *)b->addr + off;
		size_t from = 0, to = page_size;

		if (in_hole(b, off))
			continue;
		if (b->unique) {
			uint64_t stamp[2];

			memcpy(stamp, p + (stamp_end ? page_size -
					   sizeof(stamp) : 0), sizeof(stamp));
			if (stamp[0] != (b->unique == STAMP_PID ?
					 (uint64_t)pid : 0) ||
			    stamp[1] != off / page_size) {
				snprintf(why, n, "stamp of page %zu changed",
					 off / page_size);
				return 1;
			}
			if (stamp_end)
				to -= sizeof(stamp);
			else
				from = sizeof(stamp);
		}
		for (i = from; i < to; i++)
			if (p[i] != (unsigned char)b->fill) {
				snprintf(why, n, "byte %zu of page %zu is 0x%02x",
					 i, off / page_size, p[i]);
				return 1;
			}
	}
	return 0;
}

static int check_all(pid_t stamp_pid, char *why, size_t n)
{
	int i;

	for (i = 0; i < nbufs; i++)
		if (check_buf(&bufs[i], stamp_pid, why, n))
			return 1;
	return 0;
}

static int setup_buf(struct buf *b, size_t pages, int shared)
{
	size_t off;

	b->len = pages * page_size * (b->hole ? 3 : 1);
	b->addr = reserve(b->len);
	if (!b->addr)
		return -1;
	if (mmap(b->addr, b->len, PROT_READ | PROT_WRITE,
		 MAP_FIXED | MAP_ANONYMOUS | (shared ? MAP_SHARED : MAP_PRIVATE),
		 -1, 0) == MAP_FAILED)
		return -1;
	if (thp_apply(b->addr, b->len, thp))
		return -1;
	if (b->hole && munmap(b->addr + b->len / 3, b->len / 3))
		return -1;
	for (off = 0; off < b->len; off += page_size)
		if (!in_hole(b, off))
			fill_page(b, off);
	return 0;
}

static void answer(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void answer(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void do_madvise(const char *arg, int advice)
{
	struct buf *b = &bufs[0];

	if (arg && !strcmp(arg, "2")) {
		if (nbufs < 2) {
			answer("error no second buffer");
			return;
		}
		b = &bufs[1];
	}
	if (madvise(b->addr, b->len, advice))
		answer("error %s", errname(errno));
	else
		answer("ok");
}

static void do_mprotect(void)
{
	struct buf *b = &bufs[0];
	size_t pages = b->len / page_size;
	char *s1 = b->addr + pages / 3 * page_size;
	char *s2 = b->addr + 2 * (pages / 3) * page_size;

	if (b->hole || pages < 3) {
		answer("error mprotect needs a buffer of 3+ pages, no hole");
		return;
	}
	if (mprotect(s1, s2 - s1, PROT_READ))
		answer("error mprotect: %s", errname(errno));
	else
		answer("ok split1=%lx split2=%lx", (unsigned long)s1,
		       (unsigned long)s2);
}

static void do_mremap(void)
{
	struct buf *b = &bufs[0];
	char *to, *p;

	if (b->hole) {
		answer("error mremap of a buffer with a hole");
		return;
	}
	to = reserve(b->len);
	if (!to) {
		answer("error mmap: %s", errname(errno));
		return;
	}
	p = mremap(b->addr, b->len, b->len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	if (p == MAP_FAILED) {
		answer("error mremap: %s", errname(errno));
		return;
	}
	b->addr = p;
	answer("ok addr=%lx end=%lx", (unsigned long)p,
	       (unsigned long)(p + b->len));
}

static int hold_pipe[2] = { -1, -1 };
static long held;

static void do_hold(const char *arg)
{
	long n = arg ? atol(arg) : 0;
	struct iovec iov = { .iov_base = bufs[0].addr };
	ssize_t r;

	if (n < 1 || n > 16 || (size_t)n * page_size > bufs[0].len ||
	    bufs[0].hole || hold_pipe[0] >= 0) {
		answer("error hold takes 1-16 pages, once, no hole");
		return;
	}
	if (pipe(hold_pipe)) {
		answer("error pipe: %s", errname(errno));
		return;
	}
	iov.iov_len = n * page_size;
	r = vmsplice(hold_pipe[1], &iov, 1, 0);
	if (r != (ssize_t)iov.iov_len) {
		answer("error vmsplice: %zd, %s", r, errname(errno));
		return;
	}
	held = n;
	answer("ok");
}

static void do_release(void)
{
	char *page = malloc(page_size);
	long i;

	if (!page || hold_pipe[0] < 0) {
		answer("error nothing held");
		goto out;
	}
	for (i = 0; i < held; i++) {
		ssize_t got = 0, r;

		while (got < page_size) {
			r = read(hold_pipe[0], page + got, page_size - got);
			if (r <= 0) {
				answer("error read: %zd, %s", r,
				       errname(errno));
				goto out;
			}
			got += r;
		}
		if (memcmp(page, bufs[0].addr + i * page_size, page_size)) {
			answer("error held page %ld differs from the buffer's",
			       i);
			goto out;
		}
	}
	close(hold_pipe[0]);
	close(hold_pipe[1]);
	hold_pipe[0] = hold_pipe[1] = -1;
	held = 0;
	answer("ok");
out:
	free(page);
}

static void do_check(void)
{
	char why[128];

	if (check_all(getpid(), why, sizeof(why)))
		answer("error %s", why);
	else
		answer("ok");
}

/* the pagemap entry of @b's page at @off into *@e; -1 when unreadable */
static int pagemap_entry(int fd, const struct buf *b, size_t off, uint64_t *e)
{
	return pread(fd, e, sizeof(*e),
		     (uintptr_t)(b->addr + off) / page_size * 8) == 8 ? 0 : -1;
}

static void do_frames(void)
{
	const struct buf *b = &bufs[0];
	size_t n = b->len / page_size, i, got = 0, distinct = 0;
	uint64_t *pfns = calloc(n, sizeof(*pfns));
	void **pages = calloc(n, sizeof(*pages));
	int *status = calloc(n, sizeof(*status));
	char nodes[256] = "";
	int fd = open("/proc/self/pagemap", O_RDONLY), seen[64] = { 0 };
	uint64_t first;

	if (!pfns || !pages || !status || fd < 0) {
		answer("error %s", errname(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		uint64_t e;
		size_t off = i * page_size;

		if (in_hole(b, off))
			continue;
		if (pagemap_entry(fd, b, off, &e)) {
			answer("error pagemap %s", errname(errno));
			goto out;
		}
		if (!(e & PM_PRESENT))
			continue;
		pfns[got] = PM_PFN(e);
		pages[got++] = b->addr + off;
	}
	if (syscall(SYS_move_pages, 0, got, pages, NULL, status, 0)) {
		answer("error move_pages %s", errname(errno));
		goto out;
	}
	for (i = 0; i < got; i++)
		if (status[i] >= 0 && status[i] < 64)
			seen[status[i]] = 1;
	for (i = 0; i < 64; i++)
		if (seen[i])
			snprintf(nodes + strlen(nodes), sizeof(nodes) - strlen(nodes),
				 "%s%zu", nodes[0] ? "," : "", i);
	first = got ? pfns[0] : 0;
	qsort(pfns, got, sizeof(*pfns), cmp_u64);
	for (i = 0; i < got; i++)
		distinct += !i || pfns[i] != pfns[i - 1];
	answer("ok first=%llx distinct=%zu nodes=%s",
	       (unsigned long long)first, distinct, nodes[0] ? nodes : "none");
out:
	if (fd >= 0)
		close(fd);
	free(pfns);
	free(pages);
	free(status);
}

static void do_swapped(void)
{
	const struct buf *b = &bufs[0];
	int fd = open("/proc/self/pagemap", O_RDONLY);
	size_t off, n = 0;

	if (fd < 0) {
		answer("error %s", errname(errno));
		return;
	}
	for (off = 0; off < b->len; off += page_size) {
		uint64_t e;

		if (in_hole(b, off))
			continue;
		if (pagemap_entry(fd, b, off, &e)) {
			answer("error pagemap %s", errname(errno));
			close(fd);
			return;
		}
		n += !!(e & PM_SWAPPED);
	}
	close(fd);
	answer("ok %zu", n);
}

static void do_pfns(void)
{
	const struct buf *b = &bufs[0];
	int fd = open("/proc/self/pagemap", O_RDONLY);
	char *line = malloc(b->len / page_size * 17 + 3), *p = line;
	size_t off;

	if (fd < 0 || !line) {
		answer("error %s", errname(errno));
		goto out;
	}
	p += sprintf(p, "ok");
	for (off = 0; off < b->len; off += page_size) {
		uint64_t e;

		if (in_hole(b, off))
			continue;
		if (pagemap_entry(fd, b, off, &e)) {
			answer("error pagemap %s", errname(errno));
			goto out;
		}
		if (e & PM_PRESENT)
			p += sprintf(p, " %llx", (unsigned long long)PM_PFN(e));
	}
	answer("%s", line);
out:
	if (fd >= 0)
		close(fd);
	free(line);
}

static void do_spin(const char *arg)
{
	struct timespec t0, t;
	volatile unsigned long n = 0;
	double secs = arg ? atof(arg) : 1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		n++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	answer("ok");
}

static void do_move(const char *arg)
{
	const struct buf *b = &bufs[0];
	size_t n = b->len / page_size, i, got = 0, there = 0;
	void **pages = calloc(n, sizeof(*pages));
	int *nodes = calloc(n, sizeof(*nodes));
	int *status = calloc(n, sizeof(*status));
	int node = arg ? atoi(arg) : -1;

	if (!pages || !nodes || !status || node < 0) {
		answer("error %s", node < 0 ? "no node" : errname(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (in_hole(b, i * page_size))
			continue;
		pages[got] = b->addr + i * page_size;
		nodes[got++] = node;
	}
	/* MPOL_MF_MOVE_ALL: pages other processes map (KSM pages) too */
	if (syscall(SYS_move_pages, 0, got, pages, nodes, status, 1 << 2) < 0) {
		answer("error move_pages %s", errname(errno));
		goto out;
	}
	for (i = 0; i < got; i++)
		there += status[i] == node;
	answer("ok moved=%zu", there);
out:
	free(pages);
	free(nodes);
	free(status);
}

static void do_thp(void)
{
	const struct buf *b = &bufs[0];
	struct thp_census c;

	if (thp_census(b->addr, b->len, &c)) {
		answer("error pagemap %s", errname(errno));
		return;
	}
	answer("ok present=%ld thp=%ld heads=%ld zero=%ld swapped=%ld",
	       c.present, c.thp, c.heads, c.zero, c.swapped);
}

static void do_touch(const char *arg)
{
	long n = arg ? atol(arg) : 0, i;
	struct buf *b = &bufs[0];

	if (n <= 0 || n > (long)(b->len / page_size)) {
		answer("error bad page count");
		return;
	}
	for (i = 0; i < n; i++) {
		volatile char *p = b->addr + (i + 1) * page_size - 1;

		*p = *p;
	}
	answer("ok %ld", n);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/*
 * wtime N: time a write to each of the first N pages, as a process
 * probing for merged pages would: "ok median_ns=M max_ns=X".
 */
static void do_wtime(const char *arg)
{
	long n = arg ? atol(arg) : 0, i, *ns;
	struct buf *b = &bufs[0];
	struct timespec t0, t1;

	if (n <= 0 || n > (long)(b->len / page_size)) {
		answer("error bad page count");
		return;
	}
	ns = calloc(n, sizeof(*ns));
	if (!ns) {
		answer("error ENOMEM");
		return;
	}
	for (i = 0; i < n; i++) {
		volatile char *p = b->addr + (i + 1) * page_size - 1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		*p = *p;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns[i] = (t1.tv_sec - t0.tv_sec) * 1000000000L +
			(t1.tv_nsec - t0.tv_nsec);
	}
	qsort(ns, n, sizeof(*ns), cmp_long);
	answer("ok median_ns=%ld max_ns=%ld", ns[n / 2], ns[n - 1]);
	free(ns);
}

static void do_fork(int cmd_fd)
{
	char why[128];
	pid_t parent = getpid();
	pid_t pid;

	if (child) {
		answer("error a child is already there");
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		answer("error fork: %s", errname(errno));
		return;
	}
	if (!pid) {
		close(cmd_fd);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		if (check_all(parent, why, sizeof(why)))
			_exit(3);
		for (;;)
			pause();
	}
	child = pid;
	answer("ok child=%d", (int)pid);
}

/* distinct frames of the present pages of bufs[0], or -1 */
static long distinct_frames(void)
{
	const struct buf *b = &bufs[0];
	size_t n = b->len / page_size, i, j, got = 0;
	uint64_t *pfns = calloc(n, sizeof(*pfns)), e;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	long distinct = 0;

	if (!pfns || fd < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (in_hole(b, i * page_size))
			continue;
		if (pagemap_entry(fd, b, i * page_size, &e))
			return -1;
		if (e & PM_PRESENT)
			pfns[got++] = PM_PFN(e);
	}
	close(fd);
	for (i = 0; i < got; i++) {
		for (j = 0; j < i && pfns[j] != pfns[i]; j++)
			;
		distinct += j == i;
	}
	free(pfns);
	return distinct;
}

static void do_cloneinto(const char *dir, int cmd_fd)
{
	struct clone_args args = { .exit_signal = SIGCHLD };
	pid_t parent = getpid();
	int cg, p[2], status;
	char why[128];
	long distinct = -1;
	pid_t pid;

	cg = dir ? open(dir, O_RDONLY | O_DIRECTORY) : -1;
	if (cg < 0 || pipe(p)) {
		answer("error %s: %s", dir ? dir : "no directory",
		       errname(errno));
		return;
	}
	args.flags = CLONE_INTO_CGROUP;
	args.cgroup = cg;
	fflush(stdout);
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0) {
		answer("error clone3: %s", errname(errno));
		close(cg);
		return;
	}
	if (!pid) {
		/* before anything else: what the kernel left it mapping */
		distinct = distinct_frames();
		close(cmd_fd);
		if (write(p[1], &distinct, sizeof(distinct)) != sizeof(distinct))
			_exit(4);
		_exit(check_all(parent, why, sizeof(why)) ? 3 : 0);
	}
	close(cg);
	close(p[1]);
	if (read(p[0], &distinct, sizeof(distinct)) != sizeof(distinct))
		distinct = -1;
	close(p[0]);
	if (waitpid(pid, &status, 0) != pid) {
		answer("error waitpid: %s", errname(errno));
		return;
	}
	answer("ok distinct=%ld status=%d", distinct,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128);
}

static void do_killchild(void)
{
	int status;

	if (!child) {
		answer("error no child");
		return;
	}
	kill(child, SIGKILL);
	if (waitpid(child, &status, 0) != child) {
		answer("error waitpid: %s", errname(errno));
		return;
	}
	child = 0;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		answer("ok");
	else
		answer("error the child had ended by itself (status 0x%x)",
		       status);
}

/* n cycles, or until SIGUSR1 when n is -1 */
static void do_forkloop(const char *arg, int exec, int until_usr1)
{
	long n = arg ? atol(arg) : 0, i;
	pid_t parent = getpid();
	char why[128];
	int status;

	if (until_usr1) {
		n = -1;
		usr1 = 0;
	} else if (n <= 0) {
		answer("error forkloop needs a count");
		return;
	}
	fflush(stdout);
	for (i = 0; n < 0 ? !usr1 : i < n; i++) {
		pid_t pid = fork();
		pid_t got;

		if (pid < 0) {
			answer("error cycle %ld: fork: %s", i, errname(errno));
			return;
		}
		if (!pid) {
			if (exec) {
				execl("/bin/true", "true", (char *)NULL);
				_exit(127);
			}
			_exit(check_all(parent, why, sizeof(why)) ? 3 : 0);
		}
		do
			got = waitpid(pid, &status, 0);
		while (got < 0 && errno == EINTR);
		if (got != pid) {
			answer("error cycle %ld: waitpid: %s", i,
			       errname(errno));
			return;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			answer("error cycle %ld: child status 0x%x%s", i,
			       status,
			       WEXITSTATUS(status) == 3 ? " (its data changed)"
							: "");
			return;
		}
	}
	answer("ok %ld", i);
}

static void usage(void)
{
	fprintf(stderr, "usage: dupmem [-n PAGES] [-f BYTE] [-i|-u] [-e] [-m] [-l] [-s] [-H] [-2] [-h default|huge|nohuge] [-c FIFO]\n");
	exit(1);
}

/* setuid UID */
static void do_setuid(const char *arg)
{
	unsigned long id = arg ? strtoul(arg, NULL, 10) : 0;

	if (!arg || setgroups(0, NULL) || setresgid(id, id, id) ||
	    setresuid(id, id, id))
		answer("error %s", errname(arg ? errno : EINVAL));
	else
		answer("ok");
}

int main(int argc, char **argv)
{
	int opt, madv = 0, shared = 0, hole = 0, unique = 0, fill = 0x5a;
	int madv_err = 0, cmd_fd = 0, lock = 0;
	long pages = 64;
	char line[256];
	FILE *in;

	page_size = sysconf(_SC_PAGESIZE);
	signal(SIGUSR1, on_usr1);
	while ((opt = getopt(argc, argv, "n:f:iuemlsH2h:c:")) != -1) {
		switch (opt) {
		case 'h':
			thp = thp_parse(optarg);
			if (thp < 0)
				usage();
			break;
		case 'n':
			pages = strtol(optarg, NULL, 0);
			break;
		case 'f':
			fill = (int)strtol(optarg, NULL, 0) & 0xff;
			break;
		case 'i':
			unique = STAMP_INDEX;
			break;
		case 'u':
			unique = STAMP_PID;
			break;
		case 'e':
			stamp_end = 1;
			break;
		case 'l':
			lock = 1;
			break;
		case 'm':
			madv = 1;
			break;
		case 's':
			shared = 1;
			break;
		case 'H':
			hole = 1;
			break;
		case '2':
			nbufs = 2;
			break;
		case 'c':
			cmd_fd = open(optarg, O_RDWR | O_CLOEXEC);
			if (cmd_fd < 0) {
				perror(optarg);
				return 1;
			}
			break;
		default:
			usage();
		}
	}
	if (optind != argc || pages <= 0)
		usage();
	bufs[0].fill = fill;
	bufs[0].unique = unique;
	bufs[0].hole = hole;
	if (setup_buf(&bufs[0], pages, shared)) {
		perror("dupmem: buffer");
		return 1;
	}
	if (nbufs == 2) {
		bufs[1].fill = fill ^ 0xff;
		if (setup_buf(&bufs[1], pages, 0)) {
			perror("dupmem: second buffer");
			return 1;
		}
	}
	if (lock && mlock(bufs[0].addr, bufs[0].len)) {
		perror("dupmem: mlock");
		return 1;
	}
	if (madv && madvise(bufs[0].addr, bufs[0].len, MADV_MERGEABLE))
		madv_err = errno;

	printf("pid=%d addr=%lx end=%lx len=%zu pages=%ld", (int)getpid(),
	       (unsigned long)bufs[0].addr,
	       (unsigned long)(bufs[0].addr + bufs[0].len), bufs[0].len,
	       pages);
	if (madv)
		printf(" madv=%s", madv_err ? errname(madv_err) : "ok");
	if (hole)
		printf(" hole=%lx hole_end=%lx",
		       (unsigned long)(bufs[0].addr + bufs[0].len / 3),
		       (unsigned long)(bufs[0].addr + 2 * (bufs[0].len / 3)));
	if (nbufs == 2)
		printf(" addr2=%lx end2=%lx len2=%zu",
		       (unsigned long)bufs[1].addr,
		       (unsigned long)(bufs[1].addr + bufs[1].len),
		       bufs[1].len);
	answer("%s", "");

	in = fdopen(cmd_fd, "r");
	if (!in) {
		perror("dupmem: fdopen");
		return 1;
	}
	while (fgets(line, sizeof(line), in)) {
		char *cmd = strtok(line, " \t\n");
		char *arg = strtok(NULL, " \t\n");

		if (!cmd)
			continue;
		if (!strcmp(cmd, "madvise"))
			do_madvise(arg, MADV_MERGEABLE);
		else if (!strcmp(cmd, "unmadvise"))
			do_madvise(arg, MADV_UNMERGEABLE);
		else if (!strcmp(cmd, "wipeonfork"))
			do_madvise(arg, MADV_WIPEONFORK);
		else if (!strcmp(cmd, "keeponfork"))
			do_madvise(arg, MADV_KEEPONFORK);
		else if (!strcmp(cmd, "dontfork"))
			do_madvise(arg, MADV_DONTFORK);
		else if (!strcmp(cmd, "dofork"))
			do_madvise(arg, MADV_DOFORK);
		else if (!strcmp(cmd, "mprotect"))
			do_mprotect();
		else if (!strcmp(cmd, "mremap"))
			do_mremap();
		else if (!strcmp(cmd, "check"))
			do_check();
		else if (!strcmp(cmd, "touch"))
			do_touch(arg);
		else if (!strcmp(cmd, "wtime"))
			do_wtime(arg);
		else if (!strcmp(cmd, "fork"))
			do_fork(cmd_fd);
		else if (!strcmp(cmd, "killchild"))
			do_killchild();
		else if (!strcmp(cmd, "cloneinto"))
			do_cloneinto(arg, cmd_fd);
		else if (!strcmp(cmd, "forkloop"))
			do_forkloop(arg, 0, 0);
		else if (!strcmp(cmd, "forkexec"))
			do_forkloop(arg, 1, 0);
		else if (!strcmp(cmd, "forkrun"))
			do_forkloop(NULL, 0, 1);
		else if (!strcmp(cmd, "frames"))
			do_frames();
		else if (!strcmp(cmd, "move"))
			do_move(arg);
		else if (!strcmp(cmd, "thp"))
			do_thp();
		else if (!strcmp(cmd, "swapped"))
			do_swapped();
		else if (!strcmp(cmd, "pfns"))
			do_pfns();
		else if (!strcmp(cmd, "hold"))
			do_hold(arg);
		else if (!strcmp(cmd, "release"))
			do_release();
		else if (!strcmp(cmd, "spin"))
			do_spin(arg);
		else if (!strcmp(cmd, "setuid"))
			do_setuid(arg);
		else if (!strcmp(cmd, "exit"))
			exit(0);
		else
			answer("error unknown command %s", cmd);
	}
	return 0;
}
