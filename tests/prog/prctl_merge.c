// SPDX-License-Identifier: GPL-2.0
/*
 * prctl_merge - prctl(PR_SET_MEMORY_MERGE) from a process that never
 * madvises, for the guest tests.
 *
 *   prctl_merge [-n FIRST] [-h default|huge|nohuge] CMD...
 *
 * Runs the commands in order; each prints one line "STEP NAME RESULT",
 * STEP counting commands from FIRST (default 1), so that a test can pick
 * the answer of each step (output of "run" commands comes unnumbered).
 * -h: huge pages for the buffers "map" makes: "default" (the system's
 * setting, as for any program), "huge" (MADV_HUGEPAGE) or "nohuge"
 * (MADV_NOHUGEPAGE); default "default". Commands:
 *
 *   get                 PR_GET_MEMORY_MERGE: "get 0", "get 1" or the errno
 *                       name ("get EINVAL")
 *   getargs A2 A3 A4 A5 the same with these arguments
 *   set V               PR_SET_MEMORY_MERGE, V: "set ok" or "set ERRNO"
 *   setargs V A3 A4 A5  the same with these arguments
 *   map N D             map N private anonymous pages (at a 2 MiB boundary,
 *                       between guard pages), page i filled with pattern
 *                       i % D (the same patterns in every buffer): "map ok"
 *   thp                 pages of the buffers in large folios (huge pages
 *                       or multi-size THP, /proc/kpageflags): "thp T/P
 *                       folios=F" (T of P pages, in F folios)
 *   madv                MADV_MERGEABLE on every buffer: "madv ok" / ERRNO
 *   unmadv              MADV_UNMERGEABLE on the last buffer
 *   merged SECS         wait up to SECS until the pages of every buffer sit
 *                       on as many page frames as there are patterns
 *                       (/proc/self/pagemap): "merged frames=F pages=P",
 *                       else "not-merged frames=F pages=P"
 *   unmerged SECS       wait until every page has a frame of its own:
 *                       "unmerged ...", else "still-merged ..."
 *   lastmerged SECS     as merged, for the last buffer only: its pages sit
 *                       on at most as many frames as it has patterns
 *   mg                  is each buffer's VMA mergeable (VmFlags "mg" in
 *                       /proc/self/smaps): "mg all", "mg none" or "mg some"
 *   check               every byte as written: "check ok" or "check bad"
 *   cow                 write one byte into every page, then check it all:
 *                       "cow ok" or "cow bad"
 *   forkrun SECS        for SECS seconds fork children that exit at once,
 *                       reaping each: "forkrun N" (N forks), or ERRNO
 *   maphuge             map one 2 MB MAP_HUGETLB private page and fill
 *                       it, half of it 'H' and half 'h': "maphuge ok mg"
 *                       or "maphuge ok no-mg" (VmFlags of its VMA)
 *   hugecheck           its bytes as written: "hugecheck ok" or "bad"
 *   fork                the commands after it run in a child; the parent
 *                       waits for it, prints "fork status=S" and stops
 *   exec                exec this program with the commands after it (the
 *                       buffers are gone, the numbering goes on)
 *   run CMD             system(CMD), whose $PPID is this process:
 *                       "run ok" or "run status=S"
 *   settle FILE MAX SECS wait until the number in FILE is at most MAX:
 *                       "settle ok V" or "settle timeout V"
 *
 * Exit status 0, or 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errname.h"
#include "util.h"

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#define PR_GET_MEMORY_MERGE 68
#endif
#ifndef MADV_MERGEABLE
#define MADV_MERGEABLE 12
#define MADV_UNMERGEABLE 13
#endif

#define MAX_BUFS 16

struct buf {
	char *addr;
	long npages;
	int ndistinct;
};

#define HUGE_SIZE (2UL << 20)

static long psize;
static int thp = THP_DEFAULT;	/* -h */
static char *thp_arg = "default";
static char *huge;
static struct buf bufs[MAX_BUFS];
static int nbufs;
static int npatterns;		/* the most patterns a buffer has */
static int step;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	printf("%d ", step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static char pattern(long i, int ndistinct)
{
	return 'A' + (int)(i % ndistinct);
}

/* /proc/self/pagemap, opened by this process (a fork opens its own) */
static int pagemap_fd = -1;

/* pread(), not stdio: a FILE would serve a stale buffer after fseek() */
static uint64_t pfn_of(const void *addr)
{
	uint64_t e = 0;
	int fd;

	if (pagemap_fd < 0)
		pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	fd = pagemap_fd;
	if (fd < 0 || pread(fd, &e, 8, (uintptr_t)addr / psize * 8) != 8)
		e = 0;
	if (!(e & (1ULL << 63)))
		return 0;	/* not present */
	return e & ((1ULL << 55) - 1);
}

/*
 * Distinct frames of buffers [from, nbufs), pages in *pages; -1 when a
 * page is not present (or pagemap hides frames: not root).
 */
static long count_frames(int from, long *pages)
{
	uint64_t *pfns;
	long n = 0, distinct = 0, i;
	int b;

	for (b = from; b < nbufs; b++)
		n += bufs[b].npages;
	*pages = n;
	pfns = calloc(n ? n : 1, sizeof(*pfns));
	if (!pfns)
		return -1;
	n = 0;
	for (b = from; b < nbufs; b++)
		for (i = 0; i < bufs[b].npages; i++)
			pfns[n++] = pfn_of(bufs[b].addr + i * psize);
	qsort(pfns, n, sizeof(*pfns), cmp_u64);
	for (i = 0; i < n; i++) {
		if (!pfns[i]) {
			distinct = -1;
			break;
		}
		if (!i || pfns[i] != pfns[i - 1])
			distinct++;
	}
	free(pfns);
	return distinct;
}

/* Wait up to @secs for "frames <= @want" (merged) or "== pages". */
static void wait_frames(const char *name, int from, int secs, long want,
			const char *yes, const char *no)
{
	time_t end = time(NULL) + secs;
	long frames, pages;
	int ok;

	for (;;) {
		frames = count_frames(from, &pages);
		ok = frames > 0 && (want ? frames <= want : frames == pages);
		if (ok || time(NULL) >= end)
			break;
		usleep(100000);
	}
	(void)name;
	say("%s frames=%ld pages=%ld", ok ? yes : no, frames, pages);
}

static void cmd_map(long npages, int ndistinct)
{
	size_t len = npages * psize;
	char *r;
	long i;

	if (nbufs == MAX_BUFS || npages <= 0 || ndistinct <= 0 ||
	    ndistinct > 26) {
		say("map EINVAL");
		return;
	}
	/* guard pages: no buffer's VMA touches another's */
	r = map_aligned(len);
	if (!r || thp_apply(r, len, thp)) {
		say("map %s", errname(errno));
		return;
	}
	for (i = 0; i < npages; i++)
		memset(r + i * psize, pattern(i, ndistinct), psize);
	bufs[nbufs].addr = r;
	bufs[nbufs].npages = npages;
	bufs[nbufs].ndistinct = ndistinct;
	nbufs++;
	if (ndistinct > npatterns)
		npatterns = ndistinct;
	say("map ok");
}

static void cmd_madvise(int advice, int from)
{
	int b;

	for (b = from; b < nbufs; b++) {
		if (madvise(bufs[b].addr, bufs[b].npages * psize, advice)) {
			say("%s %s", advice == MADV_MERGEABLE ? "madv" : "unmadv",
			    errname(errno));
			return;
		}
	}
	say("%s ok", advice == MADV_MERGEABLE ? "madv" : "unmadv");
}

/* Is the VMA containing @addr mergeable, per /proc/self/smaps? */
static int vma_mg(const char *addr)
{
	unsigned long start = 0, end = 0, a = (uintptr_t)addr;
	char line[512];
	int in = 0, mg = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = a >= start && a < end;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8)) {
			mg = strstr(line, " mg") != NULL;
			break;
		}
	}
	fclose(f);
	return mg;
}

static void cmd_thp(void)
{
	long thp_pages = 0, heads = 0, pages = 0;
	struct thp_census c;
	int b;

	for (b = 0; b < nbufs; b++) {
		if (thp_census(bufs[b].addr, bufs[b].npages * psize, &c)) {
			say("thp %s", errname(errno));
			return;
		}
		thp_pages += c.thp;
		heads += c.heads;
		pages += bufs[b].npages;
	}
	say("thp %ld/%ld folios=%ld", thp_pages, pages, heads);
}

static void cmd_mg(void)
{
	int b, yes = 0;

	for (b = 0; b < nbufs; b++)
		yes += vma_mg(bufs[b].addr) == 1;
	say("mg %s", yes == nbufs ? "all" : yes ? "some" : "none");
}

static int check_bytes(int cowed)
{
	long i, j;
	int b;

	for (b = 0; b < nbufs; b++)
		for (i = 0; i < bufs[b].npages; i++)
			for (j = 0; j < psize; j++) {
				char want = pattern(i, bufs[b].ndistinct);

				if (cowed && j == 1)
					want = 'z';
				if (bufs[b].addr[i * psize + j] != want)
					return 0;
			}
	return 1;
}

static void cmd_cow(void)
{
	long i;
	int b;

	for (b = 0; b < nbufs; b++)
		for (i = 0; i < bufs[b].npages; i++)
			bufs[b].addr[i * psize + 1] = 'z';
	say("cow %s", check_bytes(1) ? "ok" : "bad");
}

static void cmd_forkrun(int secs)
{
	time_t end = time(NULL) + secs;
	long n = 0;
	pid_t pid;

	fflush(stdout);
	while (time(NULL) < end) {
		pid = fork();
		if (pid < 0) {
			say("forkrun %s", errname(errno));
			return;
		}
		if (!pid)
			_exit(0);
		waitpid(pid, NULL, 0);
		n++;
	}
	say("forkrun %ld", n);
}

static void cmd_maphuge(void)
{
	huge = mmap(NULL, HUGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (huge == MAP_FAILED) {
		huge = NULL;
		say("maphuge %s", errname(errno));
		return;
	}
	memset(huge, 'H', HUGE_SIZE / 2);
	memset(huge + HUGE_SIZE / 2, 'h', HUGE_SIZE / 2);
	say("maphuge ok %s", vma_mg(huge) == 1 ? "mg" : "no-mg");
}

static void cmd_hugecheck(void)
{
	unsigned long i;

	for (i = 0; huge && i < HUGE_SIZE; i++)
		if (huge[i] != (i < HUGE_SIZE / 2 ? 'H' : 'h'))
			break;
	say("hugecheck %s", huge && i == HUGE_SIZE ? "ok" : "bad");
}

static long read_number(const char *file)
{
	char buf[64] = "";
	FILE *f = fopen(file, "r");
	long v = -1;

	if (f) {
		if (fgets(buf, sizeof(buf), f))
			v = atol(buf);
		fclose(f);
	}
	return v;
}

static void cmd_settle(const char *file, long max, int secs)
{
	time_t end = time(NULL) + secs;
	long v;

	while ((v = read_number(file)) > max || v < 0) {
		if (time(NULL) >= end)
			break;
		usleep(100000);
	}
	say("settle %s %ld", v >= 0 && v <= max ? "ok" : "timeout", v);
}

static void show_prctl(const char *name, int ret)
{
	if (ret < 0)
		say("%s %s", name, errname(errno));
	else if (!strcmp(name, "get"))
		say("get %d", ret);
	else
		say("set ok");
}

static unsigned long num(const char *s)
{
	return strtoul(s, NULL, 0);
}

static int usage(const char *why)
{
	fprintf(stderr, "prctl_merge: %s\n", why);
	return 2;
}

int main(int argc, char **argv)
{
	int i = 1;

	psize = sysconf(_SC_PAGESIZE);
	step = 1;
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "-n"))
			step = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "-h") &&
			 (thp = thp_parse(argv[i + 1])) >= 0)
			thp_arg = argv[i + 1];
		else
			return usage(argv[i]);
	}
	for (; i < argc; i++, step++) {
		const char *c = argv[i];
		int left = argc - i - 1;

#define NEED(n) do { if (left < (n)) return usage(c); } while (0)
		if (!strcmp(c, "get")) {
			show_prctl("get", prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0));
		} else if (!strcmp(c, "getargs")) {
			NEED(4);
			show_prctl("get", prctl(PR_GET_MEMORY_MERGE,
						num(argv[i + 1]), num(argv[i + 2]),
						num(argv[i + 3]), num(argv[i + 4])));
			i += 4;
		} else if (!strcmp(c, "set")) {
			NEED(1);
			show_prctl("set", prctl(PR_SET_MEMORY_MERGE,
						num(argv[i + 1]), 0, 0, 0));
			i += 1;
		} else if (!strcmp(c, "setargs")) {
			NEED(4);
			show_prctl("set", prctl(PR_SET_MEMORY_MERGE,
						num(argv[i + 1]), num(argv[i + 2]),
						num(argv[i + 3]), num(argv[i + 4])));
			i += 4;
		} else if (!strcmp(c, "map")) {
			NEED(2);
			cmd_map(atol(argv[i + 1]), atoi(argv[i + 2]));
			i += 2;
		} else if (!strcmp(c, "madv")) {
			cmd_madvise(MADV_MERGEABLE, 0);
		} else if (!strcmp(c, "unmadv")) {
			cmd_madvise(MADV_UNMERGEABLE, nbufs ? nbufs - 1 : 0);
		} else if (!strcmp(c, "merged")) {
			NEED(1);
			wait_frames(c, 0, atoi(argv[i + 1]), npatterns,
				    "merged", "not-merged");
			i += 1;
		} else if (!strcmp(c, "lastmerged")) {
			NEED(1);
			wait_frames(c, nbufs ? nbufs - 1 : 0, atoi(argv[i + 1]),
				    nbufs ? bufs[nbufs - 1].ndistinct : 1,
				    "merged", "not-merged");
			i += 1;
		} else if (!strcmp(c, "unmerged")) {
			NEED(1);
			wait_frames(c, 0, atoi(argv[i + 1]), 0,
				    "unmerged", "still-merged");
			i += 1;
		} else if (!strcmp(c, "mg")) {
			cmd_mg();
		} else if (!strcmp(c, "thp")) {
			cmd_thp();
		} else if (!strcmp(c, "check")) {
			say("check %s", check_bytes(0) ? "ok" : "bad");
		} else if (!strcmp(c, "cow")) {
			cmd_cow();
		} else if (!strcmp(c, "forkrun")) {
			NEED(1);
			cmd_forkrun(atoi(argv[i + 1]));
			i += 1;
		} else if (!strcmp(c, "maphuge")) {
			cmd_maphuge();
		} else if (!strcmp(c, "hugecheck")) {
			cmd_hugecheck();
		} else if (!strcmp(c, "fork")) {
			pid_t pid;
			int status;

			fflush(stdout);
			pid = fork();
			if (pid < 0) {
				say("fork %s", errname(errno));
				return 0;
			}
			if (!pid) {
				/* the child goes on, with its own pagemap */
				if (pagemap_fd >= 0)
					close(pagemap_fd);
				pagemap_fd = -1;
				continue;
			}
			waitpid(pid, &status, 0);
			say("fork status=%d", WIFEXITED(status) ?
			    WEXITSTATUS(status) : 128 + WTERMSIG(status));
			return 0;
		} else if (!strcmp(c, "exec")) {
			char **nargv = calloc(argc + 6, sizeof(*nargv));
			char first[16];
			int n = 0, j;

			if (!nargv)
				return 1;
			snprintf(first, sizeof(first), "%d", step + 1);
			nargv[n++] = argv[0];
			nargv[n++] = "-n";
			nargv[n++] = first;
			nargv[n++] = "-h";
			nargv[n++] = thp_arg;
			for (j = i + 1; j < argc; j++)
				nargv[n++] = argv[j];
			fflush(stdout);
			execv("/proc/self/exe", nargv);
			say("exec %s", errname(errno));
			return 0;
		} else if (!strcmp(c, "run")) {
			int status;

			NEED(1);
			fflush(stdout);
			status = system(argv[i + 1]);
			if (status == 0)
				say("run ok");
			else
				say("run status=%d", WIFEXITED(status) ?
				    WEXITSTATUS(status) : -1);
			i += 1;
		} else if (!strcmp(c, "settle")) {
			NEED(3);
			cmd_settle(argv[i + 1], atol(argv[i + 2]),
				   atoi(argv[i + 3]));
			i += 3;
		} else {
			return usage(c);
		}
	}
	return 0;
}
