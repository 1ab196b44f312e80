// SPDX-License-Identifier: GPL-2.0
/*
 * thp_merge - huge pages meet KSM: the layouts of huge pages where merging
 * goes wrong when the split is not done as the kernel's KSM does it.
 *
 *   thp_merge [-k SYSFS_DIR] [-t SECONDS] [-h default|huge|nohuge]
 *             [-n NHUGE] [-d SECONDS] [-b ACTION] [-x ACTION] CASE
 *
 * Works against either KSM: SYSFS_DIR is /sys/module/ksmod/ksm (ksmod,
 * the default) or /sys/kernel/mm/ksm (the kernel's own, with ksmod not
 * loaded), so that a guest test can run a case on both in one boot and
 * compare. Worker processes each map NHUGE (default 2) huge pages' worth
 * of private anonymous memory at a 2 MiB boundary (-h: "default" leaves
 * huge pages to the system's setting, "huge" asks with MADV_HUGEPAGE,
 * "nohuge" refuses them), fill it as CASE says, and, except with
 * "nohuge", must then hold every page in a large folio (/proc/kpageflags
 * KPF_THP), or the case fails before anything is merged. With the scanner
 * stopped (run=0) they madvise MADV_MERGEABLE; then run=1, and this
 * process waits (up to -t SECONDS, default 60) until the workers' pages
 * sit on exactly the case's ideal number of page frames (pagemap), lets
 * two more full scans pass, and checks:
 *   - frames: still the ideal number;
 *   - counters: pages_shared is the number of frames the workers' pages
 *     share (KSM pages: by then nothing else is shared, but the zero page
 *     and case fork's heads), pages_shared + pages_sharing the pages
 *     mapping them, and the workers' /proc/PID/ksm_merging_pages add up
 *     to that too;
 *   - bytes: every page holds what its worker wrote;
 *   - copy-on-write: each worker writes one byte into every page and
 *     checks every byte again.
 *
 * CASE (ideal frames for NHUGE = n in brackets). Subpage 0 of a huge page
 * is its worker's own in every case but zero: no merge is of a head page
 * (which ksmod once split wrongly, every merge of a tail page).
 *   nonhead    3 workers; subpages 1..511 are the same in every worker
 *              (and differ from each other) [514n]
 *   twins      1 worker; subpages i and i + 256 of a huge page are alike
 *              (0 < i < 256; 0 and 256 its own): twins inside one huge
 *              page, which the kernel's KSM splits and merges on a later
 *              pass [257n]
 *   zero       2 workers; every 16th subpage zero-filled (the head too),
 *              the others patterned alike in both (6.12's split maps
 *              zero-filled subpages to the shared zero page; use_zero_pages
 *              decides the rest). At most 4 huge pages: the kernel's KSM
 *              maps one page to at most max_page_sharing (256) pages
 *              [480n+1]
 *   half       2 workers; subpages 1..255 alike; the second half of every
 *              huge page is dropped before merging, by munmap in worker 0
 *              and MADV_DONTNEED in worker 1: PTE-mapped huge pages on the
 *              deferred split queue (the AnonHugePages of their mapping must
 *              read 0, their pages still KPF_THP, thp_deferred_split_page
 *              must grow); the dropped halves must read zeroes or be gone at
 *              the end [257n]
 *   ptemapped  2 workers; subpages 1..511 alike; every huge page is
 *              mapped by ptes before merging (its last subpage made
 *              read-only and writable again: the PMD splits, the huge page
 *              stays whole and all mapped; AnonHugePages must read 0, the
 *              pages still KPF_THP) [513n]
 *   fork       worker 0 madvises, then forks worker 2 (neither writes: they
 *              share the huge pages, checked by pagemap); worker 1 has the
 *              same subpages 1..511: three processes, two memories; the
 *              heads stay shared by parent and child only [513n]
 *   khugepaged 3 workers; subpages 1..127 of a huge page alike in all,
 *              the rest their worker's own (khugepaged collapses a range
 *              with up to max_ptes_shared = 256 shared pages); after the
 *              merge, ACTION -b (e.g. making khugepaged fast), then for
 *              -d SECONDS (default 8; longer, up to 4 times, until
 *              khugepaged collapsed a page) the workers read all their
 *              bytes every 100 ms (keeping the ptes young) while khugepaged
 *              collapses the merged ranges into new huge pages and KSM
 *              splits them again; then ACTION -x (e.g. slowing khugepaged
 *              down) and the checks above, after
 *              the pages merged again. Prints khugepaged_collapsed (its
 *              pages_collapsed counter's growth meanwhile) [1282n]
 *   twoscans   1 worker, 10 small pages of one content: counts full_scans
 *              from MADV_MERGEABLE and run=1; after two full scans (as the
 *              kernel's selftests wait) pages_shared must be 1 and
 *              pages_sharing 9. No huge pages, no ideal frames.
 *
 * Prints "key value" lines (among them thp_pages, ideal, frames,
 * merge_ms, pages_shared, pages_sharing, ksm_zero_pages (what the job
 * added), merging_pages,
 * shared_frames, shared_ptes, zero_ptes, bad_pages, cow) and "result ok" or
 * "result FAILED" last; exit status 0 when every check held, 1 when one
 * failed, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#ifndef MADV_MERGEABLE
#define MADV_MERGEABLE 12
#endif

#define SUBPAGES 512		/* 4 KiB pages in a 2 MiB huge page */
#define MAX_WORKERS 3
#define TWOSCANS_PAGES 10

enum layout { NONHEAD, TWINS, ZERO, HALF, PTEMAPPED, FORK, KHUGEPAGED,
	      TWOSCANS };

static const char *const case_names[] = {
	"nonhead", "twins", "zero", "half", "ptemapped", "fork", "khugepaged",
	"twoscans",
};

static long psize;
static enum layout lay;
static long nhuge = 2;
static int thp = THP_DEFAULT;
static const char *dir = "/sys/module/ksmod/ksm";

/* what a page holds: nothing (zeroes), a shared pattern, or its own */
enum kind { K_ZERO, K_PAT, K_OWN };

static enum kind content(int owner, long hp, long sub, uint64_t *id)
{
	switch (lay) {
	case TWINS:
		if (sub % (SUBPAGES / 2) == 0)
			break;
		*id = hp * SUBPAGES + sub % (SUBPAGES / 2);
		return K_PAT;
	case ZERO:
		if (!(sub % 16))
			return K_ZERO;
		*id = hp * SUBPAGES + sub;
		return K_PAT;
	case KHUGEPAGED:
		if (!sub || sub >= 128)
			break;
		*id = hp * SUBPAGES + sub;
		return K_PAT;
	case TWOSCANS:
		*id = 7;
		return K_PAT;
	default:	/* NONHEAD, HALF, PTEMAPPED, FORK */
		if (!sub)
			break;
		*id = hp * SUBPAGES + sub;
		return K_PAT;
	}
	*id = 1ULL << 40 | (uint64_t)owner << 24 | hp << 12 | sub;
	return K_OWN;
}

/* the bytes of page (owner, hp, sub), into @p */
static void make_page(char *p, int owner, long hp, long sub)
{
	uint64_t id;
	enum kind k = content(owner, hp, sub, &id);
	long off;

	if (k == K_ZERO) {
		memset(p, 0, psize);
		return;
	}
	memset(p, (k == K_OWN ? 0x21 : 0x40) + (int)(id % 61), psize);
	for (off = 0; off < psize; off += 1024)
		memcpy(p + off, &id, sizeof(id));
}

static long pages_per_worker(void)
{
	return lay == TWOSCANS ? TWOSCANS_PAGES : nhuge * SUBPAGES;
}

/* Is page @i of a worker's buffer still mapped when merging starts? */
static int live(long i)
{
	return lay != HALF || i % SUBPAGES < SUBPAGES / 2;
}

static long ideal_frames(void)
{
	switch (lay) {
	case NONHEAD:
		return 3 * nhuge + (SUBPAGES - 1) * nhuge;
	case TWINS:
		return 2 * nhuge + (SUBPAGES / 2 - 1) * nhuge;
	case HALF:
		return 2 * nhuge + (SUBPAGES / 2 - 1) * nhuge;
	case PTEMAPPED:
		return 2 * nhuge + (SUBPAGES - 1) * nhuge;
	case ZERO:
		return (SUBPAGES - SUBPAGES / 16) * nhuge + 1;
	case FORK:
		return 2 * nhuge + (SUBPAGES - 1) * nhuge;
	case KHUGEPAGED:
		return 127 * nhuge + 3 * (SUBPAGES - 127) * nhuge;
	default:
		return 1;
	}
}

/*
 * Frames two live pages share that are no KSM page: the heads of case
 * fork, the same page in parent and child (KSM leaves a forked page be).
 */
static long forked_frames(void)
{
	return lay == FORK ? nhuge : 0;
}

static int nworkers(void)
{
	switch (lay) {
	case TWINS:
	case TWOSCANS:
		return 1;
	case ZERO:
	case HALF:
	case PTEMAPPED:
		return 2;
	default:
		return 3;
	}
}

static long counter(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return read_long(path);
}

static int set_run(const char *val)
{
	char path[256];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/run", dir);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, val, strlen(val)) < 0)
		ret = -1;
	if (fd >= 0)
		close(fd);
	if (ret)
		printf("cannot write %s to %s: %s\n", val, path, strerror(errno));
	return ret;
}

/* a field of /proc/vmstat, -1 when missing */
static long vmstat(const char *name)
{
	char line[128];
	long v = -1;
	size_t n = strlen(name);
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ' ') {
			v = atol(line + n + 1);
			break;
		}
	fclose(f);
	return v;
}

/* --- workers ----------------------------------------------------------- */

static int to[MAX_WORKERS][2], from[MAX_WORKERS][2];
static pid_t pids[MAX_WORKERS];

static int put(int fd, const void *buf, size_t len)
{
	return write_all(fd, buf, len);
}

static int put_u64(int fd, uint64_t v)
{
	return put(fd, &v, sizeof(v));
}

/* AnonHugePages (kB) of the VMAs of [addr, addr + len) in smaps */
static long anon_huge_kb(const char *addr, size_t len)
{
	unsigned long start, end, a = (uintptr_t)addr, e = a + len;
	char line[512];
	long kb = 0, v;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = start < e && end > a;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &v) == 1)
			kb += v;
	}
	fclose(f);
	return kb;
}

/* census of the live pages of @buf: 8 u64, see the "h" command */
static void census(const char *buf, uint64_t v[8])
{
	long n = pages_per_worker(), hp;
	struct thp_census c;

	memset(v, 0, 8 * sizeof(*v));
	for (hp = 0; hp < (lay == HALF ? nhuge : 1); hp++) {
		const char *from = buf + hp * HPAGE_SIZE;
		size_t len = lay == HALF ? HPAGE_SIZE / 2 : (size_t)(n * psize);

		if (thp_census(from, len, &c))
			continue;
		v[0] += c.present;
		v[1] += c.swapped;
		v[2] += c.thp;
		v[3] += c.heads;
		v[5] += c.zero;
		v[7] += len / psize;
	}
	v[6] = anon_huge_kb(buf, n * psize);
}

static int madvise_live(char *buf)
{
	long hp;

	if (lay != HALF)
		return madvise(buf, pages_per_worker() * psize, MADV_MERGEABLE);
	for (hp = 0; hp < nhuge; hp++)
		if (madvise(buf + hp * HPAGE_SIZE, HPAGE_SIZE / 2,
			    MADV_MERGEABLE))
			return -1;
	return 0;
}

/* live pages not holding what make_page() says (with @cow: and the byte) */
static long bad_pages(const char *buf, int owner, int cow, char *tmp)
{
	long n = pages_per_worker(), i, bad = 0;

	for (i = 0; i < n; i++) {
		if (!live(i))
			continue;
		make_page(tmp, owner, i / SUBPAGES, i % SUBPAGES);
		if (cow)
			tmp[psize - 1] = '~';
		bad += !!memcmp(buf + i * psize, tmp, psize);
	}
	return bad;
}

/*
 * A worker: its buffer is filled; answer commands from @rfd on @wfd:
 *   h  census of its live pages: present, swapped, thp, heads, (unused),
 *      zero, AnonHugePages kB, live (8 u64)
 *   M  madvise(MADV_MERGEABLE) of the live pages: 0 or errno (u64)
 *   p  the frames of its live pages: count, then count pfns (0: absent)
 *   t  bad live pages (u64)
 *   F  fork a worker into slot 2 (case fork): its pid (u64)
 *   w  write one byte into every live page, check them: bad pages (u64);
 *      a dropped half (case half) must read zeroes (MADV_DONTNEED) or be
 *      gone (munmap): counted in too
 *   q  exit
 */
static int serve(int slot, int owner, char *buf)
{
	int rfd = to[slot][0], wfd = from[slot][1];
	long n = pages_per_worker(), i;
	char *tmp = malloc(psize), cmd;
	uint64_t *pfns = calloc(n, sizeof(*pfns));
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (!tmp || !pfns || pm < 0)
		return 1;
	while (read(rfd, &cmd, 1) == 1) {
		uint64_t v[8], count = 0;

		switch (cmd) {
		case 'h':
			census(buf, v);
			if (put(wfd, v, sizeof(v)))
				return 1;
			break;
		case 'M':
			if (put_u64(wfd, madvise_live(buf) ? errno : 0))
				return 1;
			break;
		case 'p':
			if (pread(pm, pfns, n * 8, (uintptr_t)buf / psize * 8) !=
			    n * 8)
				memset(pfns, 0, n * 8);
			for (i = 0; i < n; i++) {
				if (!live(i))
					continue;
				pfns[count++] = pfns[i] & PM_PRESENT ?
						PM_PFN(pfns[i]) : 0;
			}
			if (put_u64(wfd, count) || put(wfd, pfns, count * 8))
				return 1;
			break;
		case 't':
			if (put_u64(wfd, bad_pages(buf, owner, 0, tmp)))
				return 1;
			break;
		case 'F': {
			pid_t pid;

			fflush(stdout);
			pid = fork();
			if (!pid) {
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				close(pm);
				_exit(serve(2, owner, buf));
			}
			if (put_u64(wfd, pid < 0 ? 0 : pid))
				return 1;
			break;
		}
		case 'w': {
			long bad, hp;

			for (i = 0; i < n; i++)
				if (live(i))
					buf[(i + 1) * psize - 1] = '~';
			bad = bad_pages(buf, owner, 1, tmp);
			for (hp = 0; lay == HALF && hp < nhuge; hp++) {
				char *h = buf + hp * HPAGE_SIZE + HPAGE_SIZE / 2;
				unsigned char vec;

				if (mincore(h, psize, &vec) && errno == ENOMEM)
					continue;	/* unmapped: gone */
				for (i = 0; i < (long)(HPAGE_SIZE / 2); i++)
					if (h[i]) {
						bad++;
						break;
					}
			}
			if (put_u64(wfd, bad))
				return 1;
			break;
		}
		case 'q':
			return 0;
		default:
			return 1;
		}
	}
	return 0;
}

/* Map and fill slot @slot's buffer, drop what the case drops, serve. */
static int worker(int slot)
{
	long n = pages_per_worker(), i, hp;
	char *buf = map_aligned(n * psize);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (!buf || thp_apply(buf, n * psize, thp))
		return 1;
	for (i = 0; i < n; i++)
		make_page(buf + i * psize, slot, i / SUBPAGES, i % SUBPAGES);
	/*
	 * half and ptemapped are about huge pages mapped by ptes: khugepaged
	 * must not map them by a PMD again before the merge. It did (6.1 and
	 * 6.12, worker 0, whose mm woke khugepaged from an empty list and got
	 * scanned at once, whatever its scan_sleep_millisecs). The huge pages
	 * stay; only the VMA is off limits to khugepaged (KSM ignores the flag).
	 */
	if ((lay == HALF || lay == PTEMAPPED) &&
	    madvise(buf, n * psize, MADV_NOHUGEPAGE))
		return 1;
	for (hp = 0; lay == HALF && hp < nhuge; hp++) {
		char *h = buf + hp * HPAGE_SIZE + HPAGE_SIZE / 2;

		if (slot == 0 ? munmap(h, HPAGE_SIZE / 2) :
				madvise(h, HPAGE_SIZE / 2, MADV_DONTNEED))
			return 1;
	}
	/* the PMD splits into ptes, the huge page stays whole and mapped */
	for (hp = 0; lay == PTEMAPPED && hp < nhuge; hp++) {
		char *last = buf + (hp + 1) * HPAGE_SIZE - psize;

		if (mprotect(last, psize, PROT_READ) ||
		    mprotect(last, psize, PROT_READ | PROT_WRITE))
			return 1;
	}
	/* the buffer's address is of no interest: report readiness */
	if (put_u64(from[slot][1], 1))
		return 1;
	return serve(slot, slot, buf);
}

/* send @cmd to worker @w, read @len bytes of answer */
static int ask(int w, char cmd, void *ans, size_t len)
{
	if (write(to[w][1], &cmd, 1) != 1 || read_all(from[w][0], ans, len)) {
		printf("worker %d did not answer '%c'\n", w, cmd);
		return -1;
	}
	return 0;
}

static uint64_t ask_u64(int w, char cmd)
{
	uint64_t v = ~0ULL;

	ask(w, cmd, &v, sizeof(v));
	return v;
}

/* --- frames -------------------------------------------------------------- */

/**
 * struct frames - the page frames the workers map
 * @distinct:	distinct frames, -1 when a live page is not present
 * @shared_frames: distinct frames mapped by two or more live pages, not
 *		the zero page: KSM pages (nothing else shares a frame
 *		here once merged; /proc/kpageflags cannot say KSM on 6.12)
 * @shared_ptes: live pages mapping one of those
 * @zero_ptes:	live pages mapping the zero page
 * @pages:	live pages
 */
struct frames {
	long distinct, shared_frames, shared_ptes, zero_ptes, pages;
};

static uint64_t *all_pfns;

static int get_frames(int nw, struct frames *fr, uint64_t **per_worker)
{
	long i, j, total = 0;
	int w;

	memset(fr, 0, sizeof(*fr));
	for (w = 0; w < nw; w++) {
		uint64_t count;

		if (ask(w, 'p', &count, 8) ||
		    read_all(from[w][0], all_pfns + total, count * 8))
			return -1;
		if (per_worker)
			per_worker[w] = all_pfns + total;
		total += count;
	}
	fr->pages = total;
	for (i = 0; i < total; i++)
		if (!all_pfns[i]) {
			fr->distinct = -1;
			return 0;
		}
	if (per_worker)
		return 0;	/* the caller reads them in place */
	qsort(all_pfns, total, sizeof(*all_pfns), cmp_u64);
	for (i = 0; i < total; i = j) {
		for (j = i + 1; j < total && all_pfns[j] == all_pfns[i]; j++)
			;
		fr->distinct++;
		if (kpageflags(all_pfns[i]) & (1ULL << KPF_ZERO_PAGE)) {
			fr->zero_ptes += j - i;
		} else if (j - i > 1) {
			fr->shared_frames++;
			fr->shared_ptes += j - i;
		}
	}
	return 0;
}

/* distinct frames, asking again for up to 10 s while a page is absent */
static int frames(int nw, struct frames *fr)
{
	int tries = 0;

	while (!get_frames(nw, fr, NULL) && fr->distinct < 0 && ++tries < 100)
		usleep(100000);
	return fr->distinct < 0 ? -1 : 0;
}

/* wait until full_scans reads at least @want; false after @secs */
static int wait_scans(long want, double secs)
{
	double end = now_ms() + secs * 1e3;

	while (counter("full_scans") < want) {
		if (now_ms() > end)
			return 0;
		usleep(1000);
	}
	return 1;
}

/* wait up to @secs for the ideal number of frames; its time in *ms */
static int wait_ideal(int nw, long ideal, double secs, double *ms)
{
	double start = now_ms(), end = start + secs * 1e3;
	struct frames fr = { .distinct = -1 };

	for (;;) {
		get_frames(nw, &fr, NULL);
		if (fr.distinct == ideal || now_ms() > end)
			break;
		usleep(20000);
	}
	*ms = now_ms() - start;
	return fr.distinct == ideal;
}

static long merging_pages(int nw)
{
	char path[64];
	long sum = 0;
	int w;

	for (w = 0; w < nw; w++) {
		snprintf(path, sizeof(path), "/proc/%d/ksm_merging_pages",
			 (int)pids[w]);
		sum += read_long(path);
	}
	return sum;
}

/* --- cases --------------------------------------------------------------- */

static int twoscans(int timeout)
{
	long f0, shared, sharing;
	int ok;

	if (ask_u64(0, 'M')) {
		printf("madvise(MADV_MERGEABLE) failed\n");
		return 0;
	}
	f0 = counter("full_scans");
	if (set_run("1"))
		return 0;
	if (!wait_scans(f0 + 2, timeout)) {
		printf("full_scans did not grow by 2 in %d s\n", timeout);
		return 0;
	}
	shared = counter("pages_shared");
	sharing = counter("pages_sharing");
	printf("full_scans %ld -> %ld\n", f0, counter("full_scans"));
	printf("pages_shared %ld (want 1)\npages_sharing %ld (want 9)\n",
	       shared, sharing);
	ok = shared == 1 && sharing == TWOSCANS_PAGES - 1;
	printf("bad_pages %lld\n", (long long)ask_u64(0, 't'));
	return ok;
}

/*
 * -b/-d/-x of case khugepaged: BEFORE, churn for SECONDS (longer, up to four
 * times, until khugepaged collapsed a page), then AFTER; false on a byte
 * wrong
 */
static int churn(int nw, int secs, const char *before, const char *after)
{
	const char *coll =
		"/sys/kernel/mm/transparent_hugepage/khugepaged/pages_collapsed";
	long c0, most = 0, bad = 0, reads = 0;
	double start, end, last;
	int w;

	if (before)
		printf("before %s: %s\n", before,
		       system(before) ? "failed" : "done");
	c0 = read_long(coll);
	start = now_ms();
	end = start + secs * 1e3;
	last = start + 4 * secs * 1e3;
	while (now_ms() < end ||
	       (now_ms() < last && read_long(coll) == c0)) {
		long thp_now = 0;

		for (w = 0; w < nw; w++) {
			uint64_t v[8];

			bad += ask_u64(w, 't');
			if (!ask(w, 'h', v, sizeof(v)))
				thp_now += v[2];
		}
		reads++;
		if (thp_now > most)
			most = thp_now;
		usleep(100000);
	}
	printf("khugepaged_collapsed %ld\n", read_long(coll) - c0);
	printf("churn: %ld rounds of reading every byte in %.1f s, %ld pages "
	       "wrong; at most %ld pages in huge pages again at once\n",
	       reads, (now_ms() - start) / 1e3, bad, most);
	if (after) {
		long c1, rounds = 0;

		printf("action %s: %s\n", after,
		       system(after) ? "failed" : "done");
		/*
		 * Writing khugepaged's scan_sleep_millisecs wakes it for one
		 * more round, which can collapse a merged range after the
		 * merge looked complete: wait until it collapsed nothing
		 * for a second (at most 15 s).
		 */
		do {
			c1 = read_long(coll);
			sleep(1);
		} while (read_long(coll) != c1 && ++rounds < 15);
	}
	return !bad;
}

static void usage(void)
{
	fprintf(stderr, "usage: thp_merge [-k SYSFS_DIR] [-t SECONDS] "
		"[-h default|huge|nohuge] [-n NHUGE] [-d SECONDS] [-b ACTION] "
		"[-x ACTION] nonhead|twins|zero|half|fork|khugepaged|twoscans\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int timeout = 60, secs = 8, opt, nw, w, ok = 1;
	const char *before = NULL, *action = NULL;
	struct frames fr;
	long ideal, total, deferred, zero0;
	double ms;
	unsigned int c;

	psize = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "k:t:h:n:d:b:x:")) != -1) {
		switch (opt) {
		case 'k':
			dir = optarg;
			break;
		case 't':
			timeout = atoi(optarg);
			break;
		case 'h':
			thp = thp_parse(optarg);
			if (thp < 0)
				usage();
			break;
		case 'n':
			nhuge = atol(optarg);
			break;
		case 'd':
			secs = atoi(optarg);
			break;
		case 'b':
			before = optarg;
			break;
		case 'x':
			action = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 || nhuge < 1 || nhuge > 64)
		usage();
	if (!strcmp(argv[optind], "zero") && nhuge > 4)
		usage();
	for (c = 0; c < sizeof(case_names) / sizeof(*case_names); c++)
		if (!strcmp(argv[optind], case_names[c]))
			break;
	if (c == sizeof(case_names) / sizeof(*case_names))
		usage();
	lay = c;
	nw = nworkers();
	ideal = ideal_frames();
	all_pfns = calloc(nw * pages_per_worker(), sizeof(*all_pfns));
	if (!all_pfns)
		return 1;
	printf("case %s, %d workers x %ld pages, %s\n", case_names[lay], nw,
	       pages_per_worker(), dir);

	/* the scanner waits until everything is in place */
	if (set_run("0"))
		return 1;

	for (w = 0; w < nw; w++)
		if (pipe(to[w]) || pipe(from[w]))
			return 1;
	deferred = vmstat("thp_deferred_split_page");
	/*
	 * The kernel's ksm_zero_pages is global and its earlier users can
	 * leave it above 0 (seen at 15 after the kernel's selftests): this
	 * job's share is what it adds.
	 */
	zero0 = counter("ksm_zero_pages");
	for (w = 0; w < nw; w++) {
		uint64_t ready = 0;

		if (lay == FORK && w == 2)
			break;	/* forked by worker 0 */
		fflush(stdout);
		pids[w] = fork();
		if (!pids[w])
			_exit(worker(w));
		if (read_all(from[w][0], &ready, 8) || ready != 1) {
			printf("worker %d failed to start\n", w);
			return 1;
		}
	}

	/* what backs the pages before anything merges */
	if (lay == HALF) {
		long d = vmstat("thp_deferred_split_page");

		printf("thp_deferred_split_page +%ld (want +%ld: every half "
		       "huge page queued for a deferred split)\n",
		       d - deferred, 2 * nhuge);
		if (d - deferred < 2 * nhuge)
			ok = 0;
	}
	total = 0;
	for (w = 0; w < nw && lay != TWOSCANS; w++) {
		uint64_t v[8];

		if (lay == FORK && w == 2)
			break;
		if (ask(w, 'h', v, sizeof(v)))
			return 1;
		printf("worker %d: %lld live pages, %lld in large folios (%lld "
		       "folios), AnonHugePages %lld kB\n", w, (long long)v[7],
		       (long long)v[2], (long long)v[3], (long long)v[6]);
		if (thp != THP_NOHUGE && v[2] != v[7]) {
			printf("worker %d: not every page is in a huge page\n",
			       w);
			ok = 0;
		}
		if ((lay == HALF || lay == PTEMAPPED) && v[6]) {
			printf("worker %d: the huge pages are still "
			       "PMD-mapped\n", w);
			ok = 0;
		}
		total += v[2];
	}
	printf("thp_pages %ld\n", total);

	if (lay == TWOSCANS) {
		ok = twoscans(timeout);
		goto out;
	}

	/* case fork: worker 0 madvises, then forks worker 2 */
	for (w = 0; w < nw; w++) {
		if (lay == FORK && w == 2) {
			uint64_t v[8], *per[3];
			long i, same = 0;

			pids[2] = ask_u64(0, 'F');
			if (!pids[2] || ask(2, 'h', v, sizeof(v)) ||
			    get_frames(3, &fr, per))
				return 1;
			for (i = 0; i < pages_per_worker(); i++)
				same += per[0][i] && per[0][i] == per[2][i];
			printf("fork_shared %ld of %ld (the child's pages on its "
			       "parent's frames; in huge pages: %lld)\n",
			       same, pages_per_worker(), (long long)v[2]);
			if (same != pages_per_worker() ||
			    (long)v[2] != pages_per_worker())
				ok = 0;
			break;
		}
		if (ask_u64(w, 'M')) {
			printf("worker %d: madvise(MADV_MERGEABLE) failed\n", w);
			return 1;
		}
	}
	if (set_run("1"))
		return 1;
	printf("ideal %ld\n", ideal);
	if (!wait_ideal(nw, ideal, timeout, &ms))
		ok = 0;
	printf("merge_ms %.0f\n", ms);

	if (lay == KHUGEPAGED) {
		if (!churn(nw, secs, before, action))
			ok = 0;
		if (!wait_ideal(nw, ideal, timeout, &ms))
			ok = 0;
		printf("merged again in %.0f ms\n", ms);
	}

	/* two more full scans: the counters catch up with the frames */
	if (!wait_scans(counter("full_scans") + 2, timeout)) {
		printf("no two full scans in %d s\n", timeout);
		ok = 0;
	}
	if (frames(nw, &fr)) {
		printf("a page stayed absent\n");
		ok = 0;
	}
	{
		long shared = counter("pages_shared");
		long sharing = counter("pages_sharing");
		long mp = merging_pages(nw), bad = 0;

		printf("frames %ld (want %ld)\n", fr.distinct, ideal);
		printf("pages_shared %ld\npages_sharing %ld\nksm_zero_pages %ld\n",
		       shared, sharing, counter("ksm_zero_pages") - zero0);
		printf("merging_pages %ld\n", mp);
		printf("shared_frames %ld\nshared_ptes %ld\nzero_ptes %ld\n",
		       fr.shared_frames, fr.shared_ptes, fr.zero_ptes);
		if (fr.distinct != ideal)
			ok = 0;
		fr.shared_frames -= forked_frames();
		fr.shared_ptes -= 2 * forked_frames();
		if (shared != fr.shared_frames ||
		    shared + sharing != fr.shared_ptes || mp != fr.shared_ptes) {
			printf("counters disagree with the frames\n");
			ok = 0;
		}
		for (w = 0; w < nw; w++)
			bad += ask_u64(w, 't');
		printf("bad_pages %ld\n", bad);
		if (bad)
			ok = 0;
		bad = 0;
		for (w = 0; w < nw; w++)
			bad += ask_u64(w, 'w');
		printf("cow %s\n", bad ? "WRONG" : "intact");
		if (bad)
			ok = 0;
	}
out:
	for (w = 0; w < nw; w++) {
		if (write(to[w][1], "q", 1) != 1)
			ok = 0;
	}
	for (w = 0; w < nw; w++) {
		int status;

		if (lay == FORK && w == 2)
			continue;	/* worker 0's child, reaped by init */
		if (waitpid(pids[w], &status, 0) != pids[w] ||
		    !WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("worker %d ended badly (status 0x%x)\n", w,
			       status);
			ok = 0;
		}
	}
	printf("result %s\n", ok ? "ok" : "FAILED");
	return ok ? 0 : 1;
}
