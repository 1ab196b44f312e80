// SPDX-License-Identifier: GPL-2.0
/*
 * ksm_merge - do identical pages of several processes end up shared?
 *
 *   ksm_merge [-k SYSFS_DIR] [-t SECONDS] [-h default|huge|nohuge]
 *             [-E WANT] [-S ACTION] [-r] [-x ACTION] [-f ACTION]
 *             [-s ACTION] [-m] [-T] NPROC NPAGES NDISTINCT
 *
 * Forks NPROC processes; each maps NPAGES private anonymous pages of its
 * own, starting at a 2 MiB boundary, page i filled with pattern
 * i % NDISTINCT. Huge pages are the system's affair (-h default): with
 * transparent_hugepage=always, as Debian ships, every whole 2 MiB of the
 * buffer is a huge page once filled. Then they mark the pages
 * MADV_MERGEABLE and this process waits (up to -t, default 60 s) until
 * SYSFS_DIR (default /sys/module/ksmod/ksm) shows every duplicate merged,
 * and checks through /proc/PID/pagemap (root) that the processes map
 * exactly NDISTINCT page frames. Then every process writes one byte into
 * each of its pages (copy-on-write) and checks all its bytes.
 *
 *   -h HOW     huge pages: "default" (nothing, the system's setting),
 *              "huge" (MADV_HUGEPAGE) or "nohuge" (MADV_NOHUGEPAGE)
 *   -E WANT    before merging, the pages must be (/proc/kpageflags):
 *              "all" in large folios (huge pages or multi-size THP),
 *              "some" of them, "none", or "any" (no check, the default);
 *              WANT:N also wants every such folio to be N pages (512: a
 *              2 MiB huge page, 4: 16 KiB, 16: 64 KiB)
 *   -S ACTION  before merging, after the -E check: a shell command that
 *              should swap pages out (e.g. memory.reclaim of the processes'
 *              cgroup: huge pages go out whole); some pages must then be
 *              swapped out and read back in intact (KSM merges present
 *              pages only), and what backs them then is printed
 *   -r         the processes do not madvise: this (third) process
 *              registers their ranges through KSMOD_IOC_REGISTER
 *   -x ACTION  after the merge is checked: "unregister" (through
 *              KSMOD_IOC_UNREGISTER) or a shell command (e.g. "echo 2 >
 *              .../run", "rmmod ksmod"); then every page must have a frame
 *              of its own again, before the copy-on-write check
 *   -T         contents differ in their last byte only (the others are
 *              all 'T'): a search that compares only the start of pages
 *              finds every KSM page alike
 *   -m         after the merge is checked: move every page to node 0,
 *              then to node 1 (of two) with move_pages(MPOL_MF_MOVE_ALL); the
 *              pages must land there on new frames, stay shared on as
 *              many frames, and keep their bytes (the scanner is stopped
 *              meanwhile: its page references make migration retry)
 *   -f ACTION  after the merge is checked: a shell command that must fail
 *              (e.g. an unmerge made to fail); the pages must still be
 *              shared on as many frames, with every byte intact
 *   -s ACTION  after the merge is checked: a shell command that should
 *              swap pages out (e.g. memory.reclaim of the processes'
 *              cgroup); then some pages must be swapped out, every byte
 *              must read back right, and the pages must merge again
 *
 * Prints "key value" lines, among them "thp_pages" (pages in large folios
 * before merging), "merge_ms" (from the last MADV_MERGEABLE to the
 * counters showing the full merge); exit 0 only when everything held.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "uapi/ksmod.h"
#include "util.h"

#define MPOL_MF_MOVE_ALL (1 << 2)

#ifndef MADV_MERGEABLE
#define MADV_MERGEABLE 12
#endif

static long psize;

static void write_counter(const char *dir, const char *name, const char *val)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, val, strlen(val)) < 0)
		perror(path);
	if (fd >= 0)
		close(fd);
}

static uint64_t pagemap(void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, 8, (uintptr_t)addr / psize * 8) != 8)
		e = 0;
	close(fd);
	return e;
}

static int tails;	/* -T */

static char pattern(long i, int ndistinct)
{
	return 'A' + (int)(i % ndistinct);
}

/* page @i's content, at @p */
static void fill(char *p, long i, int ndistinct)
{
	memset(p, tails ? 'T' : pattern(i, ndistinct), psize);
	if (tails)
		p[psize - 1] = pattern(i, ndistinct);
}

/*
 * One process: map, fill, send the buffer address; then answer "h" with
 * its thp_census() (5 u64), "M" by madvising (one status byte, 0 or the
 * errno), "p" with its frames, "s" with how many pages are swapped out,
 * "t" by reading every byte back (one status byte), any number of times,
 * and finally "w" with the COW check.
 */
static int child(int rfd, int wfd, long npages, int ndistinct, int thp)
{
	char *buf = map_aligned(npages * psize), *tmp = malloc(psize);
	char cmd;
	long i;

	if (!buf || !tmp)
		return 1;
	if (thp_apply(buf, npages * psize, thp))
		return 2;
	for (i = 0; i < npages; i++)
		fill(buf + i * psize, i, ndistinct);
	if (write(wfd, &buf, sizeof(buf)) != sizeof(buf))
		return 3;
	while (read(rfd, &cmd, 1) == 1 && cmd != 'w') {
		uint64_t n = 0;
		char bad = 0;

		switch (cmd) {
		case 'h': {
			struct thp_census c;
			uint64_t v[5];

			thp_census(buf, npages * psize, &c);
			v[0] = c.present;
			v[1] = c.swapped;
			v[2] = c.thp;
			v[3] = c.heads;
			v[4] = c.zero;
			if (write(wfd, v, sizeof(v)) != sizeof(v))
				return 5;
			break;
		}
		case 'M':
			if (madvise(buf, npages * psize, MADV_MERGEABLE))
				bad = errno;
			if (write(wfd, &bad, 1) != 1)
				return 5;
			break;
		case 'p': {
			/* all of pagemap in one read, not a read a page */
			uint64_t *pm = calloc(npages, 8);
			int fd = open("/proc/self/pagemap", O_RDONLY);

			if (!pm || fd < 0 ||
			    pread(fd, pm, npages * 8,
				  (uintptr_t)buf / psize * 8) != npages * 8)
				return 5;
			close(fd);
			for (i = 0; i < npages; i++)
				pm[i] = pm[i] & PM_PRESENT ? PM_PFN(pm[i]) : 0;
			if (write_all(wfd, pm, npages * 8))
				return 5;
			free(pm);
			break;
		}
		case 's':
			for (i = 0; i < npages; i++)
				n += !!(pagemap(buf + i * psize) & PM_SWAPPED);
			if (write(wfd, &n, 8) != 8)
				return 5;
			break;
		case 'n': {
			/* the node of the first page */
			void *page = buf;
			int st = -1;

			syscall(SYS_move_pages, 0, 1, &page, NULL, &st, 0);
			n = st;
			if (write(wfd, &n, 8) != 8)
				return 5;
			break;
		}
		case '0':
		case '1': {
			/* move all to that node; answer how many are there */
			void **pages = calloc(npages, sizeof(void *));
			int *nodes = calloc(npages, sizeof(int));
			int *status = calloc(npages, sizeof(int));
			int target = cmd - '0';

			if (!pages || !nodes || !status)
				return 5;
			for (i = 0; i < npages; i++) {
				pages[i] = buf + i * psize;
				nodes[i] = target;
			}
			syscall(SYS_move_pages, 0, npages, pages, nodes, status,
				MPOL_MF_MOVE_ALL);
			syscall(SYS_move_pages, 0, npages, pages, NULL, status,
				0);
			for (i = 0; i < npages; i++)
				n += status[i] == target;
			free(pages);
			free(nodes);
			free(status);
			if (write(wfd, &n, 8) != 8)
				return 5;
			break;
		}
		case 't':
			for (i = 0; i < npages; i++) {
				fill(tmp, i, ndistinct);
				bad |= !!memcmp(buf + i * psize, tmp, psize);
			}
			if (write(wfd, &bad, 1) != 1)
				return 5;
			break;
		default:
			return 6;
		}
	}
	if (cmd != 'w')
		return 6;
	for (i = 0; i < npages; i++)
		buf[i * psize + 1] = 'z';
	for (i = 0; i < npages; i++) {
		fill(tmp, i, ndistinct);
		tmp[1] = 'z';
		if (memcmp(buf + i * psize, tmp, psize))
			return 7;
	}
	return 0;
}

static int range_ioctl(unsigned long cmd, pid_t pid, void *start, long len)
{
	struct ksmod_range_req req = {
		.pid = pid,
		.start = (uintptr_t)start,
		.len = len,
	};
	int fd = open(KSMOD_DEVICE, O_RDWR), ret;

	if (fd < 0)
		return -1;
	ret = ioctl(fd, cmd, &req);
	close(fd);
	return ret;
}

/*
 * Wait until the counters show every duplicate merged; polled every
 * 20 ms, so that the time it took (*ms, when given) is close.
 */
static int wait_merged_ms(const char *dir, int timeout, long shared_want,
			  long sharing_want, double *ms)
{
	double start = now_ms(), end = start + timeout * 1e3;
	long shared = -1, sharing = -1;

	while (now_ms() < end) {
		shared = read_counter(dir, "pages_shared");
		sharing = read_counter(dir, "pages_sharing");
		if (shared == shared_want && sharing == sharing_want)
			break;
		usleep(20000);
	}
	if (ms)
		*ms = now_ms() - start;
	printf("pages_shared %ld (want %ld)\n", shared, shared_want);
	printf("pages_sharing %ld (want %ld)\n", sharing, sharing_want);
	return shared == shared_want && sharing == sharing_want;
}

static int wait_merged(const char *dir, int timeout, long shared_want,
		       long sharing_want)
{
	return wait_merged_ms(dir, timeout, shared_want, sharing_want, NULL);
}

/* Send @cmd to every child; add up the u64 (or byte) answers. */
static long ask_all(int nproc, int (*to)[2], int (*from)[2], char cmd,
		    size_t size)
{
	long sum = 0;
	int i;

	for (i = 0; i < nproc; i++) {
		uint64_t v = 0;

		if (write(to[i][1], &cmd, 1) != 1 ||
		    read_all(from[i][0], &v, size))
			return -1;
		sum += size == 1 ? (long)(v & 0xff) : (long)v;
	}
	return sum;
}

/* Ask each child for its frames: how many distinct ones, -1 on error. */
static long count_frames_once(int nproc, long npages, int (*to)[2],
			      int (*from)[2], uint64_t *pfns)
{
	long distinct = 0, i;

	for (i = 0; i < nproc; i++) {
		if (write(to[i][1], "p", 1) != 1 ||
		    read_all(from[i][0], pfns + i * npages, npages * 8)) {
			printf("child %ld did not report\n", i);
			return -2;
		}
	}
	qsort(pfns, nproc * npages, sizeof(*pfns), cmp_u64);
	for (i = 0; i < nproc * npages; i++) {
		if (!pfns[i])
			return -1;	/* a page not present */
		if (!i || pfns[i] != pfns[i - 1])
			distinct++;
	}
	return distinct;
}

/*
 * Distinct frames mapped by the children. A page under migration (by
 * compaction running meanwhile) is briefly not present: ask again, for
 * up to 10 s, before calling it missing. And the children are asked one
 * after the other: a KSM page that moves between two answers shows up on
 * two frames. So while the count is not @want, ask again for up to 2 s: a
 * page that really has a frame of its own keeps it.
 */
static long count_frames_want(int nproc, long npages, int (*to)[2],
			      int (*from)[2], uint64_t *pfns, long want)
{
	long distinct;
	int tries = 0, again = 0;

	for (;;) {
		distinct = count_frames_once(nproc, npages, to, from, pfns);
		if (distinct == -1 && ++tries < 100) {
			usleep(100000);
			continue;
		}
		if (want < 0 || distinct == want || distinct < 0 ||
		    ++again > 20)
			break;
		usleep(100000);
	}
	if (tries)
		printf("pages not present (under migration?): asked %d more times\n",
		       tries);
	if (again)
		printf("frames not %ld at first: asked %d more times\n", want,
		       again);
	return distinct;
}

static long count_frames(int nproc, long npages, int (*to)[2], int (*from)[2],
			 uint64_t *pfns)
{
	return count_frames_want(nproc, npages, to, from, pfns, -1);
}

/*
 * The children's census ("h"), printed; 0 when it meets -E @want ("all",
 * "some", "none", "any", each optionally ":N" pages per folio).
 */
static int check_thp(int nproc, long npages, int (*to)[2], int (*from)[2],
		     const char *want)
{
	uint64_t sum[5] = { 0 };
	const char *size = strchr(want, ':');
	size_t wlen = size ? (size_t)(size - want) : strlen(want);
	long thp, heads;
	int i, j, ok = 1;

	for (i = 0; i < nproc; i++) {
		uint64_t v[5];

		if (write(to[i][1], "h", 1) != 1 ||
		    read_all(from[i][0], v, sizeof(v)))
			return -1;
		for (j = 0; j < 5; j++)
			sum[j] += v[j];
	}
	thp = sum[2];
	heads = sum[3];
	printf("thp_pages %ld of %ld (%ld present, %ld swapped), in %ld folios",
	       thp, nproc * npages, (long)sum[0], (long)sum[1], heads);
	if (heads)
		printf(" of %ld pages", thp / heads);
	printf(" (want %s)\n", want);
	if (!strncmp(want, "all", wlen) && wlen == 3)
		ok = thp == nproc * npages;
	else if (!strncmp(want, "some", wlen) && wlen == 4)
		ok = thp > 0;
	else if (!strncmp(want, "none", wlen) && wlen == 4)
		ok = thp == 0;
	else if (strncmp(want, "any", wlen) || wlen != 3)
		ok = 0;
	if (size && thp && (!heads || thp != heads * atol(size + 1)))
		ok = 0;
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *dir = "/sys/module/ksmod/ksm", *action = NULL, *swap = NULL;
	const char *failing = NULL, *thp_want = "any", *before = NULL;
	int timeout = 60, opt, nproc, ndistinct, i, ok = 1, byioctl = 0;
	int move = 0, thp = THP_DEFAULT;
	long npages, want_sharing, distinct;
	double ms;
	int (*to)[2], (*from)[2];
	uint64_t *pfns;
	char **bufs;
	pid_t *pids;

	psize = sysconf(_SC_PAGESIZE);
	while ((opt = getopt(argc, argv, "k:t:h:E:S:rx:f:s:mT")) != -1) {
		if (opt == 'h') {
			thp = thp_parse(optarg);
			if (thp < 0)
				return 2;
		} else if (opt == 'E')
			thp_want = optarg;
		else if (opt == 'S')
			before = optarg;
		else if (opt == 'k')
			dir = optarg;
		else if (opt == 't')
			timeout = atoi(optarg);
		else if (opt == 'r')
			byioctl = 1;
		else if (opt == 'x')
			action = optarg;
		else if (opt == 'f')
			failing = optarg;
		else if (opt == 's')
			swap = optarg;
		else if (opt == 'm')
			move = 1;
		else if (opt == 'T')
			tails = 1;
		else
			return 2;
	}
	if (argc - optind != 3)
		return 2;
	nproc = atoi(argv[optind]);
	npages = atol(argv[optind + 1]);
	ndistinct = atoi(argv[optind + 2]);
	to = calloc(nproc, sizeof(*to));
	from = calloc(nproc, sizeof(*from));
	pids = calloc(nproc, sizeof(*pids));
	bufs = calloc(nproc, sizeof(*bufs));
	pfns = calloc(nproc * npages, sizeof(*pfns));
	if (!to || !from || !pids || !bufs || !pfns)
		return 1;

	for (i = 0; i < nproc; i++) {
		if (pipe(to[i]) || pipe(from[i]))
			return 1;
		pids[i] = fork();
		if (!pids[i])
			_exit(child(to[i][0], from[i][1], npages, ndistinct,
				    thp));
		if (read_all(from[i][0], &bufs[i], sizeof(bufs[i]))) {
			printf("child %d failed to start\n", i);
			return 1;
		}
	}

	/* what backs the pages before anything is merged */
	if (check_thp(nproc, npages, to, from, thp_want)) {
		printf("huge pages before merging: not as wanted (-E %s)\n",
		       thp_want);
		ok = 0;
	}
	if (before) {
		long swapped, bad;

		printf("swap action before merging %s: %s\n", before,
		       system(before) ? "failed" : "done");
		swapped = ask_all(nproc, to, from, 's', 8);
		printf("swapped out before merging %ld (want > 0)\n", swapped);
		bad = ask_all(nproc, to, from, 't', 1);
		printf("bytes swapped in before merging %s\n",
		       bad ? "WRONG" : "intact");
		if (swapped <= 0 || bad)
			ok = 0;
		check_thp(nproc, npages, to, from, "any");
	}

	for (i = 0; i < nproc; i++) {
		char err = 0;

		if (byioctl) {
			if (range_ioctl(KSMOD_IOC_REGISTER, pids[i], bufs[i],
					npages * psize)) {
				printf("register %d: %s\n", pids[i],
				       strerror(errno));
				return 1;
			}
		} else if (write(to[i][1], "M", 1) != 1 ||
			   read_all(from[i][0], &err, 1) || err) {
			printf("madvise(MADV_MERGEABLE) in child %d: %s\n", i,
			       strerror(err));
			return 1;
		}
	}

	want_sharing = nproc * npages - ndistinct;
	if (!wait_merged_ms(dir, timeout, ndistinct, want_sharing, &ms))
		ok = 0;
	printf("merge_ms %.0f\n", ms);

	distinct = count_frames_want(nproc, npages, to, from, pfns, ndistinct);
	printf("frames %ld (want %d)\n", distinct, ndistinct);
	if (distinct != ndistinct)
		ok = 0;

	if (move) {
		uint64_t *before = malloc(nproc * npages * sizeof(*before));
		long on1, bad, same = 0, node;

		if (!before)
			return 1;
		/* the scanner's page references would make migration retry */
		write_counter(dir, "run", "0");
		/*
		 * The children may have faulted their pages in on either node:
		 * all to node 0 first, so that every page has somewhere to go.
		 */
		if (ask_all(nproc, to, from, '0', 8) != nproc * npages)
			printf("not every page went to node 0 first\n");
		count_frames(nproc, npages, to, from, pfns);
		memcpy(before, pfns, nproc * npages * sizeof(*before));
		node = ask_all(1, to, from, 'n', 8);
		on1 = ask_all(nproc, to, from, node == 1 ? '0' : '1', 8);
		printf("pages moved from node %ld to the other %ld (want %ld)\n",
		       node, on1, nproc * npages);
		bad = ask_all(nproc, to, from, 't', 1);
		printf("bytes after migration %s\n", bad ? "WRONG" : "intact");
		distinct = count_frames_want(nproc, npages, to, from, pfns,
					     ndistinct);
		for (i = 0; i < nproc * npages; i++)
			same += pfns[i] == before[i];
		printf("frames after migration %ld (want %d), %ld unmoved\n",
		       distinct, ndistinct, same);
		if (on1 != nproc * npages || bad || distinct != ndistinct ||
		    same)
			ok = 0;
		write_counter(dir, "run", "1");
		if (!wait_merged(dir, timeout, ndistinct, want_sharing))
			ok = 0;
		free(before);
	}

	if (failing) {
		long bad;
		int ret = system(failing);

		printf("failing action %s: %s\n", failing,
		       ret ? "failed" : "SUCCEEDED");
		bad = ask_all(nproc, to, from, 't', 1);
		printf("bytes after it %s\n", bad ? "WRONG" : "intact");
		distinct = count_frames_want(nproc, npages, to, from, pfns,
					     ndistinct);
		printf("frames after it %ld (want %d)\n", distinct, ndistinct);
		if (!ret || bad || distinct != ndistinct)
			ok = 0;
	}

	if (swap) {
		long swapped, bad;

		printf("swap action %s: %s\n", swap,
		       system(swap) ? "failed" : "done");
		swapped = ask_all(nproc, to, from, 's', 8);
		printf("swapped out %ld (want > 0)\n", swapped);
		bad = ask_all(nproc, to, from, 't', 1);
		printf("bytes after swap-in %s\n", bad ? "WRONG" : "intact");
		if (swapped <= 0 || bad)
			ok = 0;
		if (!wait_merged(dir, timeout, ndistinct, want_sharing))
			ok = 0;
		distinct = count_frames_want(nproc, npages, to, from, pfns,
					     ndistinct);
		printf("frames merged again %ld (want %d)\n", distinct,
		       ndistinct);
		if (distinct != ndistinct)
			ok = 0;
	}

	if (action) {
		int ret = 0;

		if (!strcmp(action, "unregister")) {
			for (i = 0; i < nproc; i++)
				ret |= range_ioctl(KSMOD_IOC_UNREGISTER, pids[i],
						   bufs[i], npages * psize);
		} else {
			ret = system(action);
		}
		printf("action %s: %s\n", action, ret ? "failed" : "done");
		if (ret)
			ok = 0;
		distinct = count_frames_want(nproc, npages, to, from, pfns,
					     nproc * npages);
		printf("frames after %ld (want %ld)\n", distinct,
		       nproc * npages);
		if (distinct != nproc * npages)
			ok = 0;
	}

	for (i = 0; i < nproc; i++) {
		int status;

		if (write(to[i][1], "w", 1) != 1)
			ok = 0;
		waitpid(pids[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("child %d: bytes wrong after COW (status %d)\n",
			       i, WEXITSTATUS(status));
			ok = 0;
		}
	}
	printf("cow_intact %s\n", ok ? "yes" : "no");
	return ok ? 0 : 1;
}
