// SPDX-License-Identifier: GPL-2.0
/*
 * ksm_fuzz - random calls into ksmod and core mm from several threads, each
 * result checked against what the README and the man pages allow.
 *
 *   ksm_fuzz [-s SEED] [-n CALLS] [-T THREADS] [-d SECS] [-u UID] [-P PID]
 *            [-r RSS_MB] [-K] [-v] [-D] [-W ADDR]
 *
 *   -s SEED     random seed (default: from the clock); printed first, so
 *               that a failing run can be repeated (the threads interleave
 *               differently each time: the seed fixes what each one does)
 *   -n CALLS    system calls to make in all, split over the threads
 *               (default 20000); a fork's child makes its own on top
 *   -T THREADS  threads (default 4, at most 16)
 *   -d SECS     stop early after SECS seconds, reporting what was done
 *               (default 0: no limit)
 *   -u UID      open /dev/ksmod and set up as root, then run as UID (and
 *               gid UID): REGISTER of pid 1 or of a root process is EPERM
 *   -P PID      another process to target with REGISTER, UNREGISTER, QUERY
 *               and MM_STATS (it may exit: ESRCH)
 *   -r RSS_MB   resident size above which the sparse (then all) fuzzed
 *               memory is dropped with MADV_DONTNEED (default 256)
 *   -K          no /dev/ksmod (the kernel's own KSM answers madvise): for
 *               trying the driver itself on a host
 *   -v          print every failure in full (default: the first 40)
 *   -D          check the table against /proc/self/maps after every change
 *               of the mappings (slow; for debugging this program)
 *   -W ADDR     print the call after which the arena page at ADDR (hex)
 *               first reads other than its shadow says (with setarch -R
 *               and -T 1, a run repeats exactly: for debugging)
 *
 * Memory. An arena of 160 GiB of address space holds everything the calls
 * may destroy: four THP-backed regions of 8 MiB (2 MiB aligned, written, so
 * huge pages where the system's THP setting allows), a 64 GiB MAP_NORESERVE
 * sparse region with a few touched pages, small private mappings, a
 * MAP_SHARED anonymous one, a private mapping of a file, PROT_NONE ranges,
 * and holes. A table of the arena's mappings (kept exact: every change of
 * the mappings holds a lock for writing and updates it, or reads
 * /proc/self/maps again when a call fails half way) lets threads mostly
 * hit mapped memory, and predict some results exactly. One shadow byte per
 * arena page holds what the page must read: pages are always written whole
 * with one byte value, by one thread each (page index modulo the threads),
 * under the lock for reading; MADV_DONTNEED, MADV_FREE, MADV_REMOVE,
 * munmap, mmap and mremap update it under the lock for writing. A canary
 * region outside the arena (8 MiB, unique, duplicate and zero pages) is
 * made mergeable and given only calls that never change contents; it is
 * checked now and then, in forked children too, and at the end.
 *
 * Calls. /dev/ksmod's ioctls (GET_VERSION, REGISTER, UNREGISTER, QUERY,
 * MM_STATS) with good and bad pointers (NULL, kernel, non-canonical,
 * read-only, straddling a PROT_NONE page), flags, sizes and command
 * numbers, on the caller, its threads, its children (alive, zombie,
 * reaped), pid 1, -P's process, a kernel thread, negative and huge pids;
 * madvise with every advice (and invalid ones), mmap, munmap, mremap
 * (move, grow, shrink, MREMAP_FIXED onto other mappings, DONTUNMAP),
 * mprotect, prctl(PR_SET_MEMORY_MERGE / PR_GET_MEMORY_MERGE) with random
 * arguments, mbind and migrate_pages (pages, KSM pages too, move between
 * NUMA nodes), writes, and fork: the child makes a few calls of its own
 * (checking the canary and its own writes) and exits, or is killed.
 * Ranges are aligned or not, inside, across and outside mappings, in
 * holes, 2 MiB shaped, huge, wrapping, zero-length, in the kernel's half.
 *
 * Each result must be one the documentation allows for that call and those
 * arguments: exactly the one when the arguments decide it (alignment,
 * flags, pids, lengths; holes when the table is exact), else one of a set.
 * Anything else is a failure, printed with the call. At the end: calls per
 * operation and result, the totals, and a last line "ksm_fuzz: PASS" or
 * "ksm_fuzz: FAIL ...". Exit status 0, or 1 (an undocumented result),
 * 2 (data read back wrong), 4 (the table disagreed with the kernel) ORed
 * together; 3 on a set-up error; 6 when the driver itself took a SIGSEGV
 * or SIGBUS (printed with the address and what the table says of it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "uapi/ksmod.h"

/* Debian 12's headers lack some of these */
#ifndef MADV_COLD
#define MADV_COLD		20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT		21
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED	24
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE		25
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP	4
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE	0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC		0x80000
#endif
#ifndef EHWPOISON
#define EHWPOISON		133
#endif
#ifndef PROT_SEM
#define PROT_SEM		0x8
#endif
#define PR_SET_MEMORY_MERGE	67
#define PR_GET_MEMORY_MERGE	68

#define PG		4096UL
#define HPG		(2UL << 20)
#define MiB		(1UL << 20)
#define GiB		(1UL << 30)
#define ARENA_SIZE	(160 * GiB)
#define SPARSE_SIZE	(64 * GiB)
#define BIG_ANON	(16 * MiB)	/* larger anonymous mappings are "sparse" */
#define BUDGET		(96 * MiB)	/* mapped bytes of the other kinds */
#define USER_TOP	0x800000000000UL /* nothing of ours is mapped above */
#define KADDR		0xffff888000000000UL
#define NONCANON	0xdead000000000000UL
#define MAXIV		16384
#define MAXT		16
#define NKIDS		6
#define FILE_PAGES	512
#define FILEVAL		31
#define CANARY_PAGES	2048
#define QBUF_ENTRIES	4096

/*
 * Shadow byte of an arena page: the value every byte of it holds (0..31)
 * and how sure that is. EITHER: the value or 0 (MADV_FREE). ANY: some
 * uniform page (after a call that failed half way). NOACC: never touched
 * (past the end of a file or shared object: SIGBUS).
 */
#define S_EXACT		0x00
#define S_EITHER	0x20
#define S_ANY		0x40
#define S_NOACC		0x60
#define S_MODE(b)	((b) & 0x60)
#define S_VAL(b)	((b) & 0x1f)

enum { K_ANON, K_SPARSE, K_SHM, K_FILE };
static const char *const kind_name[] = { "anon", "sparse", "shm", "file" };

/* one arena mapping, as the table knows it; [s, e) */
struct iv {
	unsigned long s, e;
	unsigned char prot, kind;
};

/* --- results: allowed sets, counters, failures ---------------------------- */

typedef unsigned __int128 eset;		/* bit e: errno e allowed; bit 0: success */
#define B(e)		((unsigned int)(e) < 128 ? (eset)1 << (e) : 0)
#define NERR		136

enum {
	OP_VERSION, OP_VERSION_BAD, OP_REGISTER, OP_UNREGISTER, OP_QUERY,
	OP_MM_STATS, OP_IOCTL_UNKNOWN, OP_IOCTL_BADARG, OP_MADV_INVALID,
	OP_MMAP, OP_MMAP_BAD, OP_MUNMAP, OP_MREMAP, OP_MPROTECT,
	OP_PRCTL_SET, OP_PRCTL_GET, OP_FORK, OP_REAP, OP_WRITE, OP_CHECK,
	OP_CANARY, OP_MBIND, OP_MIGRATE, OP_MADV0
};

enum { A_GLOBAL, A_ARENA, A_LOCKED };	/* where an advice may go */

struct adv {
	int v;
	const char *name;
	int cls;
	int weight;
};

static const struct adv advs[] = {
	{ MADV_MERGEABLE, "MERGEABLE", A_GLOBAL, 12 },
	{ MADV_UNMERGEABLE, "UNMERGEABLE", A_GLOBAL, 7 },
	{ MADV_DONTNEED, "DONTNEED", A_LOCKED, 5 },
	{ MADV_PAGEOUT, "PAGEOUT", A_GLOBAL, 4 },
	{ MADV_COLD, "COLD", A_GLOBAL, 3 },
	{ MADV_HUGEPAGE, "HUGEPAGE", A_GLOBAL, 3 },
	{ MADV_NOHUGEPAGE, "NOHUGEPAGE", A_GLOBAL, 3 },
	{ MADV_COLLAPSE, "COLLAPSE", A_GLOBAL, 2 },
	{ MADV_FREE, "FREE", A_LOCKED, 2 },
	{ MADV_REMOVE, "REMOVE", A_LOCKED, 1 },
	{ MADV_WILLNEED, "WILLNEED", A_GLOBAL, 1 },
	{ MADV_POPULATE_READ, "POPULATE_READ", A_GLOBAL, 1 },
	{ MADV_POPULATE_WRITE, "POPULATE_WRITE", A_ARENA, 2 },
	{ MADV_DONTNEED_LOCKED, "DONTNEED_LOCKED", A_LOCKED, 1 },
	{ MADV_DONTFORK, "DONTFORK", A_ARENA, 1 },
	{ MADV_DOFORK, "DOFORK", A_ARENA, 1 },
	{ MADV_WIPEONFORK, "WIPEONFORK", A_ARENA, 1 },
	{ MADV_KEEPONFORK, "KEEPONFORK", A_ARENA, 1 },
	{ MADV_NORMAL, "NORMAL", A_GLOBAL, 1 },
	{ MADV_RANDOM, "RANDOM", A_GLOBAL, 1 },
	{ MADV_SEQUENTIAL, "SEQUENTIAL", A_GLOBAL, 1 },
	{ MADV_DONTDUMP, "DONTDUMP", A_GLOBAL, 1 },
	{ MADV_DODUMP, "DODUMP", A_GLOBAL, 1 },
};
#define NADV		((int)(sizeof(advs) / sizeof(advs[0])))
#define NOPS		(OP_MADV0 + NADV)

static const char *const op_names[OP_MADV0] = {
	"ioctl GET_VERSION", "ioctl GET_VERSION bad pointer",
	"ioctl REGISTER", "ioctl UNREGISTER", "ioctl QUERY",
	"ioctl MM_STATS", "ioctl unknown command", "ioctl bad argument",
	"madvise invalid advice", "mmap", "mmap bad arguments", "munmap",
	"mremap", "mprotect", "prctl PR_SET_MEMORY_MERGE",
	"prctl PR_GET_MEMORY_MERGE", "fork", "reap child", "write page",
	"check pages", "check canary", "mbind", "migrate_pages",
};

/* what a target pid is, for the results its ioctls may have */
enum {
	P_SELF0, P_SELFPID, P_THREAD, P_KID, P_ZOMBIE, P_REAPED, P_INIT,
	P_PEER, P_KTHREAD, P_NEG, P_HUGE, NPIDCLS
};
static const char *const pid_name[NPIDCLS] = {
	"0", "own pid", "own thread", "child", "zombie child", "reaped child",
	"pid 1", "peer", "kthreadd", "negative", "huge",
};

struct kid {
	pid_t pid;
	int killed;
};

struct thr {
	int id;
	pid_t tid;
	uint64_t rng;
	int child;			/* this is a forked child's copy */
	unsigned long calls, ops, quota;
	unsigned long fails;
	struct kid kids[NKIDS];
	int nkids;
	pid_t reaped[8];
	unsigned int nreaped;
	struct ksmod_range *qbuf;	/* QBUF_ENTRIES, then a PROT_NONE page */
	double busy[32];		/* seconds spent in each entry of ops[] */
	double t0;			/* when the current operation began */
	double opsec[NOPS];		/* seconds by operation, up to its check() */
	unsigned long cnt[NOPS][NERR];
};

/* --- globals --------------------------------------------------------------- */

static int ksmod_fd = -1;
static int no_ksmod;
static int verbose;
static int debug_table;		/* -D: check the table after every change */
static unsigned long watch;		/* -W ADDR: report the call that breaks it */
static char last_call[MAXT][600];
static int guard_advice;	/* a kernel after the targets: 102, 103 are MADV_GUARD_* */
static int file_fd = -1;
static unsigned long file_ino;
static unsigned long arena_lo, arena_hi;
static unsigned char *shadow;
static struct iv ivs[MAXIV], tmpiv[MAXIV], tmpiv2[MAXIV];
static int niv;
static pthread_rwlock_t maplock;
static unsigned char *canary;
static unsigned char *ro_page;		/* read-only, holds valid requests */
static unsigned char *edge;		/* a page, then a PROT_NONE page */
static struct { unsigned long s, e; int special; } others[128];	/* outside the arena */
static int nothers;
static int nthreads = 4;
static struct thr thrs[MAXT];
static pid_t thread_tids[MAXT];
static pid_t peer_pid;
static pid_t my_pid;
static uid_t run_uid;
static unsigned long rss_limit = 256 * MiB;
static unsigned long max_map_count = 65530;
static unsigned long vma_count, vma_count_max;
static unsigned long trims;
static unsigned long online_nodes = 1;	/* NUMA nodes, a bit each */
static volatile int stop_now;
static int threads_done;
static unsigned long errno_fails, data_fails, model_fails, child_fails;
static unsigned long printed;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start_barrier;
static struct timespec t_start;
static double max_secs;
static struct thr child_thr;		/* a forked child's state */
static sigjmp_buf child_jmp;
static volatile int child_guard;

/* --- small helpers --------------------------------------------------------- */

static uint64_t rnd(struct thr *t)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 2685821657736338717ULL;
}

static unsigned long rn(struct thr *t, unsigned long n)
{
	return n ? rnd(t) % n : 0;
}

static int pct(struct thr *t, int p)
{
	return (int)rn(t, 100) < p;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec - t_start.tv_sec + (ts.tv_nsec - t_start.tv_nsec) / 1e9;
}

static const char *errname(int e)
{
	static const char *const n[] = {
		[0] = "ok", [EPERM] = "EPERM", [ENOENT] = "ENOENT",
		[ESRCH] = "ESRCH", [EINTR] = "EINTR", [EIO] = "EIO",
		[ENXIO] = "ENXIO", [E2BIG] = "E2BIG", [EBADF] = "EBADF",
		[ECHILD] = "ECHILD", [EAGAIN] = "EAGAIN", [ENOMEM] = "ENOMEM",
		[EACCES] = "EACCES", [EFAULT] = "EFAULT", [EBUSY] = "EBUSY",
		[EEXIST] = "EEXIST", [ENODEV] = "ENODEV", [EINVAL] = "EINVAL",
		[ENOTTY] = "ENOTTY", [ENOSPC] = "ENOSPC", [ERANGE] = "ERANGE",
		[ENOSYS] = "ENOSYS", [EOVERFLOW] = "EOVERFLOW",
		[EOPNOTSUPP] = "EOPNOTSUPP", [EHWPOISON] = "EHWPOISON",
	};
	static __thread char buf[16];

	if (e >= 0 && e < (int)(sizeof(n) / sizeof(n[0])) && n[e])
		return n[e];
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

/* stderr, whole lines, from any thread or child, no stdio buffering */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(2, buf, n) < 0)
		return;
}

static void eset_str(eset s, char *buf, size_t len)
{
	size_t o = 0;
	int e;

	buf[0] = 0;
	for (e = 0; e < 128 && o + 16 < len; e++)
		if (s & B(e))
			o += snprintf(buf + o, len - o, "%s%s", o ? " " : "", errname(e));
}

static void count(struct thr *t, int op, int e)
{
	t->cnt[op][e >= 0 && e < NERR - 1 ? e : NERR - 1]++;
}

static int may_print(void)
{
	int ok;

	if (child_thr.child)	/* a forked child: no other thread, maybe a held lock */
		return 1;
	pthread_mutex_lock(&out_lock);
	ok = verbose || printed < 40;
	printed++;
	pthread_mutex_unlock(&out_lock);
	return ok;
}

/*
 * The result of a call: @ret (as the system call returned it) and @e (its
 * errno, or 0) must be in @allowed. @what describes the call for the
 * failure line, formatted only then.
 */
static void check(struct thr *t, int op, long ret, int e, eset allowed,
		  const char *what, ...) __attribute__((format(printf, 6, 7)));
static void check(struct thr *t, int op, long ret, int e, eset allowed,
		  const char *what, ...)
{
	char desc[512], set[256];
	va_list ap;

	if (ret >= 0)
		e = 0;
	count(t, op, e);
	if (!t->child)
		t->opsec[op] += now() - t->t0;
	if (watch && !t->child) {
		va_start(ap, what);
		vsnprintf(last_call[t->id], sizeof(last_call[0]), what, ap);
		va_end(ap);
		snprintf(last_call[t->id] + strlen(last_call[t->id]),
			 40, " = %s", errname(e));
	}
	if (e < 128 && (allowed & B(e)))
		return;
	t->fails++;
	__atomic_fetch_add(&errno_fails, 1, __ATOMIC_RELAXED);
	if (!may_print())
		return;
	va_start(ap, what);
	vsnprintf(desc, sizeof(desc), what, ap);
	va_end(ap);
	eset_str(allowed, set, sizeof(set));
	say("FAIL %s%d thread %d: %s: %s = %s; allowed: %s",
	    t->child ? "child " : "pid ", (int)getpid(), t->id,
	    op < OP_MADV0 ? op_names[op] : "madvise", desc, errname(e), set);
}

static void data_fail(struct thr *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void data_fail(struct thr *t, const char *fmt, ...)
{
	char desc[512];
	va_list ap;

	t->fails++;
	__atomic_fetch_add(&data_fails, 1, __ATOMIC_RELAXED);
	if (!may_print())
		return;
	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	say("FAIL %s%d thread %d: DATA %s", t->child ? "child " : "pid ",
	    (int)getpid(), t->id, desc);
}

/* The map lock: a forked child has no other thread and must not take it. */
static void lock_rd(struct thr *t)
{
	if (!t->child)
		pthread_rwlock_rdlock(&maplock);
}

static void lock_wr(struct thr *t)
{
	if (!t->child)
		pthread_rwlock_wrlock(&maplock);
}

static void verify_table(struct thr *t, const char *after);

static void unlock(struct thr *t)
{
	if (!t->child)
		pthread_rwlock_unlock(&maplock);
}

/* unlock after a change of the mappings; -D: check the table first */
static void unlock_wr(struct thr *t, const char *what)
{
	if (debug_table && !t->child)
		verify_table(t, what);
	unlock(t);
}

static int in_arena(unsigned long s, unsigned long len)
{
	return s >= arena_lo && s <= arena_hi && len <= arena_hi - s;
}

static unsigned long align_up(unsigned long x)
{
	return (x + PG - 1) & ~(PG - 1);
}

/* --- the arena table and the shadow ---------------------------------------- */

#define SIDX(a)		(((a) - arena_lo) / PG)

/* fill the shadow of pages [a, b) with @v; large zero fills drop pages */
static void sh_fill(unsigned long a, unsigned long b, unsigned char v)
{
	unsigned long i0, i1;

	if (a < arena_lo || b > arena_hi) {
		say("ksm_fuzz: BUG: shadow of %lx-%lx, outside the arena", a, b);
		abort();
	}
	i0 = SIDX(a);
	i1 = SIDX(b);

	if (i1 <= i0)
		return;
	if (!v && i1 - i0 >= 4 * PG) {
		unsigned long p0 = align_up((unsigned long)shadow + i0);
		unsigned long p1 = ((unsigned long)shadow + i1) & ~(PG - 1);

		memset(shadow + i0, 0, p0 - (unsigned long)shadow - i0);
		madvise((void *)p0, p1 - p0, MADV_DONTNEED);
		memset((void *)p1, 0, (unsigned long)shadow + i1 - p1);
		return;
	}
	memset(shadow + i0, v, i1 - i0);
}

/* mark pages [a, b) "some uniform content", leaving NOACC ones be */
static void sh_any(unsigned long a, unsigned long b)
{
	unsigned long i;

	for (i = SIDX(a); i < SIDX(b); i++)
		if (S_MODE(shadow[i]) != S_NOACC)
			shadow[i] = S_ANY;
}

/* first interval whose end is above @a */
static int iv_lower(const struct iv *v, int n, unsigned long a)
{
	int lo = 0, hi = n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (v[mid].e <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int iv_find(unsigned long a)
{
	int i = iv_lower(ivs, niv, a);

	return i < niv && ivs[i].s <= a ? i : -1;
}

/* merge neighbours of equal attributes, in place */
static int iv_norm(struct iv *v, int n, int anon_same)
{
	int i, o = 0;

	for (i = 0; i < n; i++) {
		if (v[i].s >= v[i].e)
			continue;
		if (o && v[o - 1].e == v[i].s && v[o - 1].prot == v[i].prot &&
		    (v[o - 1].kind == v[i].kind ||
		     (anon_same && v[o - 1].kind <= K_SPARSE && v[i].kind <= K_SPARSE))) {
			v[o - 1].e = v[i].e;
			continue;
		}
		v[o++] = v[i];
	}
	return o;
}

static void model_fatal(const char *why)
{
	say("ksm_fuzz: the arena table is full (%s): %d mappings", why, niv);
	_exit(3);
}

/* remove [a, b) from the table; removed pages get shadow 0 (holes are 0) */
static void iv_remove(unsigned long a, unsigned long b)
{
	int i, n = 0;

	if (a < arena_lo)
		a = arena_lo;
	if (b > arena_hi)
		b = arena_hi;
	if (a >= b)
		return;
	for (i = 0; i < niv; i++) {
		struct iv v = ivs[i];

		if (v.e <= a || v.s >= b) {
			tmpiv[n++] = v;
			continue;
		}
		sh_fill(v.s > a ? v.s : a, v.e < b ? v.e : b, 0);
		if (v.s < a) {
			tmpiv[n] = v;
			tmpiv[n++].e = a;
		}
		if (v.e > b) {
			if (n >= MAXIV)
				model_fatal("remove");
			tmpiv[n] = v;
			tmpiv[n++].s = b;
		}
	}
	memcpy(ivs, tmpiv, n * sizeof(*ivs));
	niv = n;
}

/* add [a, b), which must be free in the table */
static void iv_add(unsigned long a, unsigned long b, int prot, int kind)
{
	int i = iv_lower(ivs, niv, a);

	if (a < arena_lo || b > arena_hi || a >= b) {
		say("ksm_fuzz: BUG: mapping %lx-%lx added, outside the arena", a, b);
		abort();
	}
	if (niv >= MAXIV - 1)
		model_fatal("add");
	memmove(ivs + i + 1, ivs + i, (niv - i) * sizeof(*ivs));
	ivs[i] = (struct iv){ a, b, prot, kind };
	niv++;
	niv = iv_norm(ivs, niv, 0);
}

/* the protection of every mapped part of [a, b) becomes @prot */
static void iv_set_prot(unsigned long a, unsigned long b, int prot)
{
	int i, n = 0;

	for (i = 0; i < niv; i++) {
		struct iv v = ivs[i];

		if (n >= MAXIV - 3)
			model_fatal("mprotect");
		if (v.e <= a || v.s >= b) {
			tmpiv[n++] = v;
			continue;
		}
		if (v.s < a) {
			tmpiv[n] = v;
			tmpiv[n++].e = a;
		}
		tmpiv[n] = v;
		tmpiv[n].s = v.s > a ? v.s : a;
		tmpiv[n].e = v.e < b ? v.e : b;
		tmpiv[n++].prot = prot;
		if (v.e > b) {
			tmpiv[n] = v;
			tmpiv[n++].s = b;
		}
	}
	memcpy(ivs, tmpiv, n * sizeof(*ivs));
	niv = iv_norm(ivs, n, 0);
}

/* does [a, b) have a hole? */
static int iv_hole(unsigned long a, unsigned long b)
{
	int i = iv_lower(ivs, niv, a);
	unsigned long at = a;

	for (; i < niv && ivs[i].s < b; i++) {
		if (ivs[i].s > at)
			return 1;
		at = ivs[i].e;
		if (at >= b)
			return 0;
	}
	return at < b;
}

/* bit per kind mapped in [a, b) */
static int iv_kinds(unsigned long a, unsigned long b)
{
	int i = iv_lower(ivs, niv, a), m = 0;

	for (; i < niv && ivs[i].s < b; i++)
		m |= 1 << ivs[i].kind;
	return m;
}

/* is there a sparse mapping of 1 GiB or more? */
static int iv_big_sparse(void)
{
	int i;

	for (i = 0; i < niv; i++)
		if (ivs[i].kind == K_SPARSE && ivs[i].e - ivs[i].s >= GiB)
			return 1;
	return 0;
}

static unsigned long iv_bytes(int sparse)
{
	unsigned long sum = 0;
	int i;

	for (i = 0; i < niv; i++)
		if ((ivs[i].kind == K_SPARSE) == sparse)
			sum += ivs[i].e - ivs[i].s;
	return sum;
}

/* shadow of a new mapping [a, b) of @kind, file offset @pgoff (pages) */
static void sh_new(unsigned long a, unsigned long b, int kind, unsigned long pgoff)
{
	unsigned long p;

	if (kind != K_FILE) {
		sh_fill(a, b, 0);
		return;
	}
	for (p = a; p < b; p += PG, pgoff++)
		shadow[SIDX(p)] = pgoff < FILE_PAGES ? FILEVAL : S_NOACC;
}

/*
 * /proc/self/maps, the arena part, into @v: returns the count, and sets
 * vma_count to all lines. Anonymous private parts take the kind the table
 * has at their start (sparse or not), else anon.
 */
static int read_maps(struct iv *v)
{
	static char buf[1 << 16];
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	size_t have = 0;
	int n = 0;
	unsigned long lines = 0;

	if (fd < 0) {
		say("ksm_fuzz: /proc/self/maps: %s", strerror(errno));
		_exit(3);
	}
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *p, *nl;

		if (r <= 0)
			break;
		have += r;
		buf[have] = 0;
		p = buf;
		while ((nl = strchr(p, '\n'))) {
			unsigned long s, e, off, ino;
			char perm[8];
			int kind, j;

			*nl = 0;
			lines++;
			if (sscanf(p, "%lx-%lx %7s %lx %*s %lu", &s, &e, perm,
				   &off, &ino) == 5 && e > arena_lo && s < arena_hi) {
				if (s < arena_lo)
					s = arena_lo;
				if (e > arena_hi)
					e = arena_hi;
				if (ino && ino == file_ino)
					kind = K_FILE;
				else if (ino || perm[3] == 's')
					kind = K_SHM;
				else {
					j = iv_find(s);
					kind = j >= 0 && ivs[j].kind <= K_SPARSE ?
					       ivs[j].kind : K_ANON;
				}
				if (n >= MAXIV)
					model_fatal("maps");
				v[n++] = (struct iv){
					s, e,
					(perm[0] == 'r' ? PROT_READ : 0) |
					(perm[1] == 'w' ? PROT_WRITE : 0) |
					(perm[2] == 'x' ? PROT_EXEC : 0),
					kind,
				};
			}
			p = nl + 1;
		}
		have -= p - buf;
		memmove(buf, p, have);
	}
	close(fd);
	vma_count = lines;
	if (lines > vma_count_max)
		vma_count_max = lines;
	return iv_norm(v, n, 0);
}

/* call @fn for the parts of @a's intervals that @b does not cover */
static void iv_diff(const struct iv *a, int na, const struct iv *b, int nb,
		    void (*fn)(const struct iv *, unsigned long, unsigned long))
{
	int i, j = 0;

	for (i = 0; i < na; i++) {
		unsigned long at = a[i].s;

		while (j < nb && b[j].e <= at)
			j++;
		for (int k = j; k < nb && b[k].s < a[i].e && at < a[i].e; k++) {
			if (b[k].s > at)
				fn(&a[i], at, b[k].s);
			/* a change of kind counts as not covered */
			if (b[k].kind != a[i].kind)
				fn(&a[i], b[k].s > at ? b[k].s : at,
				   b[k].e < a[i].e ? b[k].e : a[i].e);
			at = b[k].e;
		}
		if (at < a[i].e)
			fn(&a[i], at, a[i].e);
	}
}

static void gone_fn(const struct iv *v, unsigned long a, unsigned long b)
{
	(void)v;
	sh_fill(a, b, 0);
}

static void came_fn(const struct iv *v, unsigned long a, unsigned long b)
{
	unsigned long p;

	for (p = a; p < b; p += PG)
		shadow[SIDX(p)] = v->kind <= K_SPARSE ? S_ANY : S_NOACC;
}

/*
 * After a call that may have changed the mappings half way: the table from
 * /proc/self/maps. Pages that went away get shadow 0; pages that came are
 * ANY (anonymous) or NOACC (file, shared: maybe past the end).
 */
static void resync(void)
{
	int n = read_maps(tmpiv2);

	iv_diff(ivs, niv, tmpiv2, n, gone_fn);
	iv_diff(tmpiv2, n, ivs, niv, came_fn);
	memcpy(ivs, tmpiv2, n * sizeof(*ivs));
	niv = n;
}

/* Is the table what the kernel has? A failure if not; then resync. */
static void verify_table(struct thr *t, const char *after)
{
	static struct iv a[MAXIV];
	int n = read_maps(tmpiv2), na, nb, i;

	memcpy(a, ivs, niv * sizeof(*ivs));
	na = iv_norm(a, niv, 1);
	nb = iv_norm(tmpiv2, n, 1);
	for (i = 0; i < na && i < nb; i++)
		if (a[i].s != tmpiv2[i].s || a[i].e != tmpiv2[i].e ||
		    a[i].prot != tmpiv2[i].prot ||
		    (a[i].kind > K_SPARSE ? a[i].kind : 0) !=
		    (tmpiv2[i].kind > K_SPARSE ? tmpiv2[i].kind : 0))
			break;
	if (i < na || i < nb) {
		t->fails++;
		__atomic_fetch_add(&model_fails, 1, __ATOMIC_RELAXED);
		if (may_print())
			say("FAIL pid %d thread %d: the table differs from /proc/self/maps after %s: "
			    "entry %d: table %lx-%lx prot %d %s, kernel %lx-%lx prot %d %s",
			    (int)getpid(), t->id, after, i,
			    i < na ? a[i].s : 0, i < na ? a[i].e : 0,
			    i < na ? a[i].prot : -1, i < na ? kind_name[a[i].kind] : "-",
			    i < nb ? tmpiv2[i].s : 0, i < nb ? tmpiv2[i].e : 0,
			    i < nb ? tmpiv2[i].prot : -1,
			    i < nb ? kind_name[tmpiv2[i].kind] : "-");
		resync();
	}
}

/* --- page contents ------------------------------------------------------------- */

static uint64_t canary_word(unsigned long i, unsigned long j)
{
	switch (i % 4) {
	case 0:		/* unique */
		return ((i << 32) | j) * 0x9E3779B97F4A7C15ULL ^ 0x5bd1e995ULL;
	case 1:		/* zero */
		return 0;
	default:	/* one of 8 duplicate contents */
		return 0x0101010101010101ULL * (0xA0 + (i / 4) % 8);
	}
}

static void canary_fill(void)
{
	unsigned long i, j;

	for (i = 0; i < CANARY_PAGES; i++)
		for (j = 0; j < PG / 8; j++)
			((uint64_t *)(canary + i * PG))[j] = canary_word(i, j);
}

static int canary_page_ok(struct thr *t, unsigned long i)
{
	const uint64_t *w = (const uint64_t *)(canary + i * PG);
	unsigned long j;

	for (j = 0; j < PG / 8; j++)
		if (w[j] != canary_word(i, j)) {
			data_fail(t, "canary page %lu at %p, word %lu: %016llx, expected %016llx",
				  i, (void *)w, j, (unsigned long long)w[j],
				  (unsigned long long)canary_word(i, j));
			return 0;
		}
	return 1;
}

static void canary_check(struct thr *t, int all)
{
	unsigned long i, n = all ? CANARY_PAGES : 8;

	for (i = 0; i < n; i++)
		if (!canary_page_ok(t, all ? i : rn(t, CANARY_PAGES)))
			break;
	count(t, OP_CANARY, 0);
}

/* does arena page @p read as its shadow says? */
static int page_ok(struct thr *t, unsigned long p, const char *when)
{
	const uint64_t *w = (const uint64_t *)p;
	unsigned char b = shadow[SIDX(p)], c;
	uint64_t want;
	unsigned long j;
	int i;

	if (S_MODE(b) == S_NOACC)
		return 1;
	c = *(const unsigned char *)p;
	want = 0x0101010101010101ULL * c;
	for (j = 0; j < PG / 8; j++)
		if (w[j] != want)
			break;
	if (j == PG / 8) {
		if (S_MODE(b) == S_ANY || c == S_VAL(b) ||
		    (S_MODE(b) == S_EITHER && !c))
			return 1;
	}
	i = iv_find(p);
	data_fail(t, "%s: page %lx (%s, prot %d) reads %02x%s (word %lu: %016llx), expected %s%02x",
		  when, p, i >= 0 ? kind_name[ivs[i].kind] : "unmapped?",
		  i >= 0 ? ivs[i].prot : -1, c, j < PG / 8 ? " not uniform" : "",
		  j < PG / 8 ? j : 0, j < PG / 8 ? (unsigned long long)w[j] : 0ULL,
		  S_MODE(b) == S_EITHER ? "00 or " : S_MODE(b) == S_ANY ? "uniform " : "",
		  S_VAL(b));
	shadow[SIDX(p)] = S_ANY;
	return 0;
}

/* an own page of interval @i near @p, or 0 */
static unsigned long own_page(struct thr *t, int i, unsigned long p)
{
	unsigned long g = SIDX(p);

	g = g - g % nthreads + t->id;
	p = arena_lo + g * PG;
	if (p < ivs[i].s)
		p += nthreads * PG;
	return p >= ivs[i].s && p < ivs[i].e ? p : 0;
}

/* check every own page (all pages when @all), under the lock for reading */
static void check_own(struct thr *t, int all, const char *when)
{
	int i;

	for (i = 0; i < niv; i++) {
		struct iv *v = &ivs[i];
		unsigned long p, k, end;

		if (!(v->prot & PROT_READ))
			continue;
		if (v->kind == K_SPARSE) {
			/* only what was written: skip zero shadow fast */
			for (k = SIDX(v->s), end = SIDX(v->e); k < end; k++) {
				if (!(k & 7) && k + 8 <= end &&
				    !*(const uint64_t *)(shadow + k)) {
					k += 7;
					continue;
				}
				if (shadow[k] && (all || k % nthreads == (unsigned long)t->id))
					page_ok(t, arena_lo + k * PG, when);
			}
			continue;
		}
		p = all ? v->s : own_page(t, i, v->s);
		for (; p && p < v->e; p += all ? PG : nthreads * PG)
			page_ok(t, p, when);
	}
}

/* --- ranges ------------------------------------------------------------------ */

struct range {
	unsigned long s, len;
	const char *how;
};

enum { G_GLOBAL, G_ARENA };

/* a random page-aligned address in [a, b) */
static unsigned long rpage(struct thr *t, unsigned long a, unsigned long b)
{
	return b > a ? a + rn(t, (b - a) / PG) * PG : a;
}

static unsigned long rlen(struct thr *t, unsigned long max)
{
	unsigned long pages = max / PG;

	if (!pages)
		return PG;
	switch (rn(t, 4)) {
	case 0:
		return PG * (1 + rn(t, pages < 4 ? pages : 4));
	case 1:
		return PG * (1 + rn(t, pages < 512 ? pages : 512));
	case 2:
		return PG * (1 + rn(t, pages));
	default:
		return pages >= 512 ? HPG * (1 + rn(t, pages / 512)) : PG * pages;
	}
}

/*
 * A random range; the table must not change meanwhile (any lock held).
 * G_ARENA: what is not in the arena either fails before doing anything
 * (wrapping, the kernel's half, unaligned, zero length) or is clamped to it.
 */
static void gen_range(struct thr *t, int where, struct range *r)
{
	int k = (int)rn(t, 100);
	struct iv *v = niv ? &ivs[rn(t, niv)] : NULL;

	if (!v && k < 50)
		k = 50;
	if (k < 30) {			/* inside one mapping */
		r->s = rpage(t, v->s, v->e);
		r->len = rlen(t, v->e - r->s);
		r->how = "inside";
	} else if (k < 40) {		/* 2 MiB shaped */
		unsigned long h = (v->s + HPG - 1) & ~(HPG - 1);

		if (h >= v->e)
			h = v->s & ~(HPG - 1);
		h += rn(t, 4) * HPG;
		switch (rn(t, 4)) {
		case 0:
			r->s = h - PG * (1 + rn(t, 8));
			r->len = PG * (2 + rn(t, 16));
			break;
		case 1:
			r->s = h + PG * rn(t, 511);
			r->len = PG * (1 + rn(t, 512));
			break;
		case 2:
			r->s = h;
			r->len = HPG * (1 + rn(t, 3));
			break;
		default:
			r->s = h + PG * rn(t, 512);
			r->len = HPG;
			break;
		}
		r->how = "2M";
	} else if (k < 50) {		/* across mappings */
		struct iv *w = &ivs[rn(t, niv)];
		unsigned long a = rpage(t, v->s, v->e), b = rpage(t, w->s, w->e);

		if (b < a) {
			unsigned long x = a;

			a = b;
			b = x;
		}
		r->s = a;
		r->len = b - a + PG * (1 + rn(t, 16));
		r->how = "across";
	} else if (k < 58) {		/* a hole, or around one */
		int i = niv ? (int)rn(t, niv + 1) : 0;
		unsigned long a = i ? ivs[i - 1].e : arena_lo;
		unsigned long b = i < niv ? ivs[i].s : arena_hi;

		r->s = rpage(t, a, b);
		r->len = rlen(t, b - r->s);
		if (pct(t, 30) && r->s > PG)
			r->s -= PG;
		if (pct(t, 30))
			r->len += PG;
		r->how = "hole";
	} else if (k < 62) {		/* huge */
		r->s = rpage(t, arena_lo, arena_hi);
		r->len = pct(t, 50) ? arena_hi - r->s : rlen(t, arena_hi - r->s);
		r->how = "huge";
		if (pct(t, 20)) {
			r->s = arena_lo;
			r->len = ARENA_SIZE;
		}
	} else if (k < 66) {		/* zero length */
		r->s = niv ? rpage(t, v->s, v->e) : arena_lo;
		r->len = 0;
		r->how = "empty";
	} else if (k < 70) {		/* wrapping */
		switch (rn(t, 4)) {
		case 0:
			r->s = -PG * (1 + rn(t, 16));
			r->len = PG * (17 + rn(t, 16));
			break;
		case 1:
			r->s = rpage(t, arena_lo, arena_hi);
			r->len = -1UL - rn(t, PG - 1);	/* rounds up to 0 */
			break;
		case 2:
			r->s = rpage(t, arena_lo, arena_hi);
			r->len = -r->s + PG * rn(t, 4);
			break;
		default:
			r->s = rpage(t, arena_lo, arena_hi);
			r->len = -1UL << (20 + rn(t, 40));
			break;
		}
		r->how = "wrap";
	} else if (k < 73) {		/* the kernel's half, non-canonical */
		r->s = (pct(t, 70) ? KADDR : NONCANON) + rn(t, 1 << 20) * PG;
		r->len = rlen(t, GiB);
		r->how = "kernel";
	} else if (k < 78 && where == G_GLOBAL) {	/* our other mappings */
		int i = (int)rn(t, nothers);

		r->s = rpage(t, others[i].s, others[i].e);
		r->len = rlen(t, others[i].e - r->s + (pct(t, 20) ? 64 * PG : 0));
		r->how = "outside";
	} else if (k < 81 && where == G_GLOBAL) {	/* the canary */
		r->s = (unsigned long)canary + rn(t, CANARY_PAGES) * PG;
		r->len = rlen(t, (unsigned long)canary + CANARY_PAGES * PG - r->s);
		if (pct(t, 20)) {
			r->s = (unsigned long)canary;
			r->len = CANARY_PAGES * PG;
		}
		r->how = "canary";
	} else if (k < 84 && where == G_GLOBAL) {	/* anywhere, low */
		r->s = pct(t, 50) ? rn(t, 1UL << 47) & ~(PG - 1) : rn(t, 16) * PG;
		r->len = rlen(t, 1UL << 30);
		r->how = "random";
	} else {
		r->s = niv ? rpage(t, v->s, v->e) : arena_lo;
		r->len = niv ? rlen(t, v->e - r->s) : PG;
		r->how = "inside";
	}
	/* unaligned now and then: start, length or both */
	if (pct(t, 6))
		r->s += 1 + rn(t, PG - 1);
	else if (pct(t, 8) && r->len)
		r->len -= rn(t, PG);
	if (where == G_ARENA && r->len && r->s < USER_TOP &&
	    r->s + align_up(r->len) > r->s && !(r->s & (PG - 1))) {
		/* clamp what could act to the arena */
		if (r->s < arena_lo)
			r->s = arena_lo;
		if (r->s >= arena_hi)
			r->s = arena_hi - PG;
		if (r->len > arena_hi - r->s)
			r->len = arena_hi - r->s;
	}
}

/* --- madvise ----------------------------------------------------------------- */

/* does [s, s + len) touch a special mapping (vdso, vvar)? */
static int hits_special(unsigned long s, unsigned long len)
{
	unsigned long e = s + align_up(len);
	int i;

	for (i = 0; i < nothers; i++)
		if (others[i].special && s < others[i].e && e > others[i].s)
			return 1;
	return 0;
}

/* advice that only changes the VMA's flags, splitting it */
static int adv_flags_only(int a)
{
	switch (a) {
	case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL:
	case MADV_DONTFORK: case MADV_DOFORK: case MADV_WIPEONFORK:
	case MADV_KEEPONFORK: case MADV_DONTDUMP: case MADV_DODUMP:
	case MADV_HUGEPAGE: case MADV_NOHUGEPAGE:
		return 1;
	}
	return 0;
}

/*
 * A kernel without CONFIG_TRANSPARENT_HUGEPAGE (Debian's rt flavour) knows
 * no HUGEPAGE, NOHUGEPAGE, COLLAPSE: EINVAL before anything else.
 */
static int no_thp;

static int adv_valid(int a)
{
	int i;

	if (no_thp && (a == MADV_HUGEPAGE || a == MADV_NOHUGEPAGE ||
		       a == MADV_COLLAPSE))
		return 0;
	if (a == 100 || a == 101)	/* MADV_HWPOISON, MADV_SOFT_OFFLINE */
		return 1;
	for (i = 0; i < NADV; i++)
		if (advs[i].v == a)
			return 1;
	return 0;
}

/*
 * What madvise (and REGISTER, which is madvise) must answer from its
 * arguments alone (mm/madvise.c do_madvise(): advice, alignment, rounding,
 * wrap, length 0, then no VMA above every mapping); *decided = 0 when the
 * mappings decide.
 */
static eset madv_args(unsigned long s, unsigned long len, int adv, int *decided)
{
	unsigned long alen = align_up(len);

	*decided = 1;
	if (!adv_valid(adv))
		return B(EINVAL);
	if (s & (PG - 1))
		return B(EINVAL);
	if (len && !alen)
		return B(EINVAL);
	if (s + alen < s)
		return B(EINVAL);
	if (!alen)
		return B(0);
	if (s >= USER_TOP)
		return B(ENOMEM);
	*decided = 0;
	return 0;
}

/* the answers a valid madvise may give, by advice (man 2 madvise, mm/madvise.c) */
static eset madv_loose(int adv)
{
	switch (adv) {
	case MADV_MERGEABLE:
	case MADV_UNMERGEABLE:
		/* a hole; ksm_madvise's -ENOMEM is EAGAIN (madvise_vma_behavior) */
		return B(0) | B(ENOMEM) | B(EAGAIN);
	case MADV_DONTNEED:
	case MADV_DONTNEED_LOCKED:
	case MADV_FREE:
	case MADV_COLD:
	case MADV_PAGEOUT:
		/* EINVAL: locked, PFN-mapped (vvar), not anonymous (FREE) */
		return B(0) | B(ENOMEM) | B(EINVAL);
	case MADV_REMOVE:
		return B(0) | B(ENOMEM) | B(EINVAL) | B(EACCES);
	case MADV_WILLNEED:
		return B(0) | B(ENOMEM) | B(EINVAL) | B(EBADF);
	case MADV_POPULATE_READ:
	case MADV_POPULATE_WRITE:
		/* EFAULT: SIGBUS/SIGSEGV (past the end of a file, PROT_NONE) */
		return B(0) | B(ENOMEM) | B(EINVAL) | B(EFAULT);
	case MADV_COLLAPSE:
		return B(0) | B(ENOMEM) | B(EINVAL) | B(EAGAIN) | B(EBUSY);
	case MADV_DOFORK:
	case MADV_DODUMP:
	case MADV_WIPEONFORK:
		/* EINVAL: VM_IO/VM_SPECIAL (vvar, vdso), file or shared */
		return B(0) | B(ENOMEM) | B(EAGAIN) | B(EINVAL);
	default:
		return B(0) | B(ENOMEM) | B(EAGAIN);
	}
}

/*
 * MADV_DONTNEED, MADV_FREE, MADV_REMOVE on the arena, table exact (lock
 * held for writing): the one answer, and the shadow after it.
 */
static eset madv_exact(int adv, unsigned long s, unsigned long e)
{
	int i = iv_lower(ivs, niv, s), kinds = iv_kinds(s, e), hole = iv_hole(s, e);

	switch (adv) {
	case MADV_DONTNEED:
	case MADV_DONTNEED_LOCKED:
		return hole ? B(ENOMEM) : B(0);
	case MADV_FREE:
		if (kinds & (1 << K_SHM | 1 << K_FILE))
			return B(EINVAL);
		return hole ? B(ENOMEM) : B(0);
	case MADV_REMOVE:
		/* the first VMA that is not shared memory stops the walk */
		for (; i < niv && ivs[i].s < e; i++) {
			if (ivs[i].kind == K_FILE)
				return B(EACCES);
			if (ivs[i].kind != K_SHM)
				return B(EINVAL);
		}
		return hole ? B(ENOMEM) : B(0);
	}
	return 0;
}

static void madv_shadow(int adv, unsigned long s, unsigned long e, int ok)
{
	int i = iv_lower(ivs, niv, s);

	for (; i < niv && ivs[i].s < e; i++) {
		unsigned long a = ivs[i].s > s ? ivs[i].s : s;
		unsigned long b = ivs[i].e < e ? ivs[i].e : e, p;
		int kind = ivs[i].kind;

		if (!ok) {
			if (kind <= K_SPARSE || (kind == K_SHM && adv == MADV_REMOVE))
				sh_any(a, b);
			else if (kind == K_FILE && adv != MADV_REMOVE)
				for (p = a; p < b; p += PG)
					if (S_MODE(shadow[SIDX(p)]) != S_NOACC)
						shadow[SIDX(p)] = S_ANY;
			continue;
		}
		switch (adv) {
		case MADV_DONTNEED:
		case MADV_DONTNEED_LOCKED:
			if (kind <= K_SPARSE)
				sh_fill(a, b, 0);
			else if (kind == K_FILE)
				for (p = a; p < b; p += PG)
					if (S_MODE(shadow[SIDX(p)]) != S_NOACC)
						shadow[SIDX(p)] = FILEVAL;
			/* shared memory keeps its pages */
			break;
		case MADV_FREE:
			if (kind <= K_SPARSE)
				for (p = a; p < b; p += PG) {
					unsigned char *sb = &shadow[SIDX(p)];

					if (S_MODE(*sb) == S_EXACT && *sb)
						*sb |= S_EITHER;
				}
			break;
		case MADV_REMOVE:
			if (kind != K_SHM)
				return;
			for (p = a; p < b; p += PG)
				if (S_MODE(shadow[SIDX(p)]) != S_NOACC)
					shadow[SIDX(p)] = 0;
			break;
		}
	}
}

static unsigned long cap_populate(struct thr *t, int adv, unsigned long len)
{
	if ((adv == MADV_POPULATE_READ || adv == MADV_POPULATE_WRITE) &&
	    len > 8 * MiB && len < -PG)
		return PG * (1 + rn(t, 2048));
	return len;
}

static void do_madvise(struct thr *t, const struct adv *a, int adv)
{
	struct range r;
	eset allowed;
	int decided, op = a ? OP_MADV0 + (int)(a - advs) : OP_MADV_INVALID;
	long ret;

	if (t->child && adv == MADV_REMOVE)
		return;		/* it would empty the parent's shared memory too */
	if (a && a->cls == A_LOCKED) {
		lock_wr(t);
		gen_range(t, G_ARENA, &r);
		allowed = madv_args(r.s, r.len, adv, &decided);
		ret = syscall(SYS_madvise, r.s, r.len, adv);
		if (!decided && r.s >= arena_lo && r.s < arena_hi && !t->child) {
			unsigned long e = r.s + align_up(r.len);

			allowed = madv_exact(adv, r.s, e);
			madv_shadow(adv, r.s, e, allowed & B(ret ? errno : 0));
		} else if (!decided) {
			allowed = madv_loose(adv);
		}
		check(t, op, ret, errno, allowed, "madvise(%lx, %lx [%s], %s)",
		      r.s, r.len, r.how, a->name);
		if (ret && !(allowed & B(errno)) && !t->child)
			resync();
		unlock_wr(t, __func__);
		t->calls++;
		return;
	}
	lock_rd(t);
	gen_range(t, a && a->cls == A_ARENA ? G_ARENA : G_GLOBAL, &r);
	unlock(t);
	r.len = cap_populate(t, adv, r.len);
	allowed = madv_args(r.s, r.len, adv, &decided);
	if (!decided)
		allowed = madv_loose(adv);
	/* a special mapping cannot be split (special_mapping_split()) */
	if (!decided && adv_flags_only(adv) && hits_special(r.s, r.len))
		allowed |= B(EINVAL);
	ret = syscall(SYS_madvise, r.s, r.len, adv);
	if (a)
		check(t, op, ret, errno, allowed, "madvise(%lx, %lx [%s], %s)", r.s,
		      r.len, r.how, a->name);
	else
		check(t, op, ret, errno, allowed, "madvise(%lx, %lx [%s], %d)", r.s,
		      r.len, r.how, adv);
	t->calls++;
}

static void op_madvise(struct thr *t)
{
	int i, w = 0, total = 0;

	for (i = 0; i < NADV; i++)
		total += advs[i].weight;
	w = (int)rn(t, total);
	for (i = 0; i < NADV; i++) {
		w -= advs[i].weight;
		if (w < 0)
			break;
	}
	do_madvise(t, &advs[i], advs[i].v);
}


static void op_madvise_invalid(struct thr *t)
{
	static const int bad[] = { 5, 6, 7, 26, 99, 102, 103, 255, 1000,
				   0x7fffffff, -1, -100, (int)0x80000000 };
	int adv = pct(t, 50) ? bad[rn(t, sizeof(bad) / sizeof(bad[0]))] :
		  26 + (int)rn(t, 74);

	if (guard_advice && (adv == 102 || adv == 103))
		adv = 104;

	do_madvise(t, NULL, adv);
}

/* --- /dev/ksmod ------------------------------------------------------------ */

/* a pointer the kernel cannot use: every one of them is EFAULT */
static void *bad_ptr(struct thr *t, size_t size, const char **how)
{
	switch (rn(t, 6)) {
	case 0:
		*how = "NULL";
		return NULL;
	case 1:
		*how = "16";
		return (void *)16;
	case 2:
		*how = "kernel";
		return (void *)(KADDR + rn(t, 1 << 20) * 8);
	case 3:
		*how = "non-canonical";
		return (void *)(NONCANON + rn(t, 4096));
	case 4:
		*how = "straddling PROT_NONE";
		return edge + PG - 1 - rn(t, size - 1);
	default:
		*how = "in PROT_NONE";
		return edge + PG + rn(t, PG - size);
	}
}

/* a target pid and its class */
static pid_t pick_pid(struct thr *t, int *cls)
{
	for (;;) {
		int c = (int)rn(t, 100);

		if (c < 36) {
			*cls = P_SELF0;
			return 0;
		} else if (c < 44) {
			*cls = P_SELFPID;
			return getpid();
		} else if (c < 50 && !t->child) {
			*cls = P_THREAD;
			return thread_tids[rn(t, nthreads)];
		} else if (c < 66 && t->nkids) {
			struct kid *k = &t->kids[rn(t, t->nkids)];
			siginfo_t si;

			memset(&si, 0, sizeof(si));
			if (!waitid(P_PID, k->pid, &si, WEXITED | WNOHANG | WNOWAIT) &&
			    si.si_pid == k->pid)
				*cls = P_ZOMBIE;
			else
				*cls = P_KID;
			return k->pid;
		} else if (c < 70 && t->nreaped) {
			*cls = P_REAPED;
			return t->reaped[rn(t, t->nreaped < 8 ? t->nreaped : 8)];
		} else if (c < 78) {
			*cls = P_INIT;
			return 1;
		} else if (c < 86 && peer_pid) {
			*cls = P_PEER;
			return peer_pid;
		} else if (c < 89) {
			*cls = P_KTHREAD;
			return 2;
		} else if (c < 94) {
			static const int neg[] = { -1, -2, -32768, (int)0x80000000 };

			*cls = P_NEG;
			return pct(t, 50) ? neg[rn(t, 4)] : -1 - (int)rn(t, 1 << 30);
		} else if (c < 100) {
			*cls = P_HUGE;
			return 4194305 + (int)rn(t, 0x7fffffff - 4194305);
		}
	}
}

/*
 * How a pid decides an ioctl: B(0) when it passes to the rest (the
 * registry's ksmod_get_mm(): ESRCH without a process or an mm, EPERM
 * without ptrace rights).
 */
static eset pid_outcome(int cls)
{
	int root = run_uid == 0;

	switch (cls) {
	case P_SELF0:
	case P_SELFPID:
		return B(0);
	case P_THREAD:
		return B(0) | B(ESRCH);		/* it may have made its calls and ended */
	case P_KID:
		return B(0) | B(ESRCH);		/* it may be exiting */
	case P_ZOMBIE:
		return B(ESRCH);
	case P_REAPED:
		return B(0) | B(ESRCH) | B(EPERM);	/* the pid may be reused */
	case P_INIT:
		return root ? B(0) : B(EPERM);
	case P_PEER:
		return (root ? B(0) : B(EPERM)) | B(ESRCH);
	default:
		return B(ESRCH);
	}
}

static eset combine(eset pid, eset rest)
{
	return (pid & ~B(0)) | ((pid & B(0)) ? rest : 0);
}

static void op_range_ioctl(struct thr *t, int unreg)
{
	struct ksmod_range_req req = { 0 }, *arg = &req;
	unsigned long cmd = unreg ? KSMOD_IOC_UNREGISTER : KSMOD_IOC_REGISTER;
	int op = unreg ? OP_UNREGISTER : OP_REGISTER, cls, decided;
	const char *how = "ok";
	struct range r;
	eset allowed;
	long ret;

	lock_rd(t);
	gen_range(t, G_GLOBAL, &r);
	unlock(t);
	req.pid = pick_pid(t, &cls);
	req.start = r.s;
	req.len = r.len;
	if (pct(t, 4)) {
		req.flags = 1U << (1 + rn(t, 31));	/* bit 0: below */
	} else if (pct(t, 2)) {
		/* the whole process, as PR_SET_MEMORY_MERGE; only with no range */
		req.flags = KSMOD_RANGE_WHOLE;
		if (pct(t, 50))
			req.start = req.len = 0;
	}
	/*
	 * Not pid 1 whole: it would stay merge-any after the test (on 6.12
	 * unload hands such a process to the kernel's KSM), and so would
	 * every process the guest's init forks later, the kernel's for good.
	 */
	if (req.flags == KSMOD_RANGE_WHOLE && cls == P_INIT) {
		req.pid = 0;
		cls = P_SELF0;
	}
	allowed = madv_args(r.s, r.len, unreg ? MADV_UNMERGEABLE : MADV_MERGEABLE,
			    &decided);
	if (!decided)
		allowed = madv_loose(MADV_MERGEABLE);
	if (req.flags == KSMOD_RANGE_WHOLE)
		allowed = req.start || req.len ? B(EINVAL) :
			  combine(pid_outcome(cls), B(0) | B(EBUSY) | B(ENOMEM));
	else
		allowed = req.flags ? B(EINVAL) :
			  combine(pid_outcome(cls), allowed);
	if (pct(t, 4)) {
		arg = bad_ptr(t, sizeof(req), &how);
		allowed = B(EFAULT);
	} else if (pct(t, 3)) {
		/* read-only is fine for a request the kernel only reads */
		arg = (void *)(ro_page + 256);
		how = "read-only (pid 0, length 0)";
		allowed = B(0);
	}
	ret = ioctl(ksmod_fd, cmd, arg);
	check(t, op, ret, errno, allowed,
	      "ioctl(%s, {pid %d (%s), flags %#x, start %llx, len %llx [%s]} at %s)",
	      unreg ? "UNREGISTER" : "REGISTER", req.pid, pid_name[cls], req.flags,
	      (unsigned long long)req.start, (unsigned long long)req.len, r.how, how);
	t->calls++;
}

static int ranges_sane(const struct ksmod_range *r, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (r[i].start >= r[i].end || (r[i].start | r[i].end) & (PG - 1))
			return 0;
		if (i && r[i].start <= r[i - 1].end)	/* ordered, adjacent joined */
			return 0;
	}
	return 1;
}

static void op_query(struct thr *t)
{
	struct ksmod_query q = { 0 }, *arg = &q;
	struct ksmod_range *ranges = t->qbuf;
	unsigned long cap = QBUF_ENTRIES, room, k, fill = 0;
	const char *how = "ok", *rhow = "buffer";
	int cls;
	eset allowed, rest = B(0);
	long ret;

	q.pid = pick_pid(t, &cls);
	switch (rn(t, 5)) {
	case 0:
		q.nr = 0;
		break;
	case 1:
		q.nr = 1 + rn(t, 8);
		break;
	case 2:
		q.nr = rn(t, QBUF_ENTRIES + 1);
		break;
	case 3:
		q.nr = QBUF_ENTRIES + rn(t, 1U << 31);
		break;
	default:
		q.nr = -1U - rn(t, 16);
		break;
	}
	room = q.nr < 65536 ? q.nr : 65536;	/* KSMOD_QUERY_MAX */
	switch (rn(t, 8)) {
	case 0:
		ranges = bad_ptr(t, sizeof(*ranges), &rhow);
		cap = 0;
		break;
	case 1:	/* room for k entries before a PROT_NONE page */
		k = rn(t, 8);
		ranges = (struct ksmod_range *)(edge + PG - k * sizeof(*ranges) -
						(pct(t, 30) ? 8 : 0));
		cap = k;
		rhow = "short";
		break;
	}
	q.ranges = (uintptr_t)ranges;
	if (cap == QBUF_ENTRIES) {
		fill = room + 4 < cap ? room + 4 : cap;
		memset(ranges, 0xa5, fill * sizeof(*ranges));
	}
	if (pct(t, 4))
		q.flags = 1U << rn(t, 32);
	if (room && room > cap)
		rest = B(0) | B(EFAULT);	/* EFAULT if it has more ranges */
	allowed = q.flags ? B(EINVAL) : combine(pid_outcome(cls), rest);
	if (pct(t, 4)) {
		arg = bad_ptr(t, sizeof(q), &how);
		allowed = B(EFAULT);
	} else if (pct(t, 3)) {
		arg = (void *)(ro_page + 512);	/* pid 0, nr 0: written back */
		how = "read-only";
		allowed = B(EFAULT);
	}
	ret = ioctl(ksmod_fd, KSMOD_IOC_QUERY, arg);
	check(t, OP_QUERY, ret, errno, allowed,
	      "ioctl(QUERY, {pid %d (%s), flags %#x, nr %u, ranges %p (%s, room %lu)} at %s)",
	      q.pid, pid_name[cls], q.flags, q.nr, (void *)ranges, rhow, cap, how);
	t->calls++;
	if (ret || arg != &q)
		return;
	if (q.owner > KSMOD_OWNER_KERNEL)
		data_fail(t, "QUERY of pid %d (%s): owner %u", q.pid,
			  pid_name[cls], q.owner);
	if (cap == QBUF_ENTRIES) {
		unsigned long n = q.nr < room ? q.nr : room, i;

		if (!ranges_sane(ranges, n))
			data_fail(t, "QUERY of pid %d (%s): %lu ranges, not ordered page-aligned ranges",
				  q.pid, pid_name[cls], n);
		for (i = n; i < fill; i++) {
			const unsigned char *b = (const void *)&ranges[i];

			if (b[0] != 0xa5 || memcmp(b, b + 1, sizeof(*ranges) - 1)) {
				data_fail(t, "QUERY of pid %d (%s) with room %lu wrote entry %lu (%u ranges)",
					  q.pid, pid_name[cls], room, i, q.nr);
				break;
			}
		}
	}
}

static void op_mm_stats(struct thr *t)
{
	struct ksmod_mm_stats st, *arg = &st;
	const char *how = "ok";
	int cls;
	eset allowed;
	long ret;

	memset(&st, 0xee, sizeof(st));
	st.pid = pick_pid(t, &cls);
	st.flags = pct(t, 4) ? 1U << rn(t, 32) : 0;
	allowed = st.flags ? B(EINVAL) : combine(pid_outcome(cls), B(0));
	if (pct(t, 4)) {
		arg = bad_ptr(t, sizeof(st), &how);
		allowed = B(EFAULT);
	} else if (pct(t, 3)) {
		arg = (void *)(ro_page + 768);
		how = "read-only";
		allowed = B(EFAULT);
	}
	ret = ioctl(ksmod_fd, KSMOD_IOC_MM_STATS, arg);
	check(t, OP_MM_STATS, ret, errno, allowed,
	      "ioctl(MM_STATS, {pid %d (%s), flags %#x} at %s)", st.pid,
	      pid_name[cls], st.flags, how);
	t->calls++;
	if (ret || arg != &st)
		return;
	if (st.owner > KSMOD_OWNER_KERNEL || st.pad ||
	    (st.owner != KSMOD_OWNER_KSMOD &&
	     (st.cow_breaks || st.merging_pages || st.rmap_items)))
		data_fail(t, "MM_STATS of pid %d (%s): owner %u pad %u cow_breaks %llu merging_pages %llu rmap_items %llu",
			  st.pid, pid_name[cls], st.owner, st.pad,
			  (unsigned long long)st.cow_breaks,
			  (unsigned long long)st.merging_pages,
			  (unsigned long long)st.rmap_items);
}

static void op_version(struct thr *t, int bad)
{
	struct ksmod_version v, *arg = &v;
	const char *how = "ok";
	long ret;

	memset(&v, 0xee, sizeof(v));
	if (bad) {
		if (pct(t, 25)) {
			arg = (void *)ro_page;
			how = "read-only";
		} else {
			arg = bad_ptr(t, sizeof(v), &how);
		}
	}
	ret = ioctl(ksmod_fd, KSMOD_IOC_GET_VERSION, arg);
	check(t, bad ? OP_VERSION_BAD : OP_VERSION, ret, errno,
	      bad ? B(EFAULT) : B(0), "ioctl(GET_VERSION, %s)", how);
	t->calls++;
	if (!bad && !ret &&
	    (v.abi_major != KSMOD_ABI_MAJOR || v.abi_minor < KSMOD_ABI_MINOR ||
	     !memchr(v.release, 0, sizeof(v.release))))
		data_fail(t, "GET_VERSION: ABI %u.%u, release not terminated or wrong",
			  v.abi_major, v.abi_minor);
}

static int valid_cmd(unsigned long cmd)
{
	return cmd == KSMOD_IOC_GET_VERSION || cmd == KSMOD_IOC_REGISTER ||
	       cmd == KSMOD_IOC_UNREGISTER || cmd == KSMOD_IOC_QUERY ||
	       cmd == KSMOD_IOC_MM_STATS || cmd == KSMOD_IOC_SET_TAG ||
	       cmd == KSMOD_IOC_DOMAIN_STATS ||
	       cmd == KSMOD_IOC_REGISTER_CGROUP ||
	       cmd == KSMOD_IOC_UNREGISTER_CGROUP ||
	       cmd == KSMOD_IOC_CGROUP_STATS;
}

/* magics the VFS answers itself in do_vfs_ioctl(): FIO*, FIGETBSZ, FICLONE... */
static int vfs_magic(unsigned int m)
{
	return m == 0x00 || m == 0x15 || m == 'T' || m == 'X' || m == 'f' || m == 0x94;
}

static void op_ioctl_unknown(struct thr *t)
{
	static const unsigned long good[] = {
		KSMOD_IOC_GET_VERSION, KSMOD_IOC_REGISTER, KSMOD_IOC_UNREGISTER,
		KSMOD_IOC_QUERY, KSMOD_IOC_MM_STATS, KSMOD_IOC_SET_TAG,
		KSMOD_IOC_DOMAIN_STATS, KSMOD_IOC_REGISTER_CGROUP,
		KSMOD_IOC_UNREGISTER_CGROUP, KSMOD_IOC_CGROUP_STATS,
	};
	unsigned long cmd, g = good[rn(t, sizeof(good) / sizeof(good[0]))];
	const char *how;
	void *arg;
	long ret;

	switch (rn(t, 4)) {
	case 0:		/* a valid command with another size */
		do
			cmd = _IOC(_IOC_DIR(g), KSMOD_IOC_MAGIC, _IOC_NR(g),
				   rn(t, 1 << 14));
		while (valid_cmd(cmd));
		break;
	case 1:		/* another direction */
		do
			cmd = _IOC(rn(t, 4), KSMOD_IOC_MAGIC, _IOC_NR(g), _IOC_SIZE(g));
		while (valid_cmd(cmd));
		break;
	case 2:		/* ksmod's magic, another number */
		cmd = _IOC(rn(t, 4), KSMOD_IOC_MAGIC, 10 + rn(t, 246), rn(t, 1 << 14));
		break;
	default:	/* another magic */
		do
			cmd = _IOC(rn(t, 4), rn(t, 256), rn(t, 256), rn(t, 1 << 14));
		while (vfs_magic(_IOC_TYPE(cmd)) || _IOC_TYPE(cmd) == KSMOD_IOC_MAGIC);
		break;
	}
	if (pct(t, 50)) {
		arg = t->qbuf;
		how = "buffer";
	} else {
		arg = bad_ptr(t, 8, &how);
	}
	ret = syscall(SYS_ioctl, ksmod_fd, cmd, arg);
	check(t, OP_IOCTL_UNKNOWN, ret, errno, B(ENOTTY), "ioctl(%#lx, %s)", cmd, how);
	t->calls++;
}

/* every command with an argument the kernel cannot read */
static void op_ioctl_badarg(struct thr *t)
{
	static const unsigned long cmds[] = {
		KSMOD_IOC_GET_VERSION, KSMOD_IOC_REGISTER, KSMOD_IOC_UNREGISTER,
		KSMOD_IOC_QUERY, KSMOD_IOC_MM_STATS, KSMOD_IOC_SET_TAG,
		KSMOD_IOC_DOMAIN_STATS, KSMOD_IOC_REGISTER_CGROUP,
		KSMOD_IOC_UNREGISTER_CGROUP, KSMOD_IOC_CGROUP_STATS,
	};
	unsigned long cmd = cmds[rn(t, sizeof(cmds) / sizeof(cmds[0]))];
	const char *how;
	void *arg = bad_ptr(t, _IOC_SIZE(cmd), &how);
	long ret = ioctl(ksmod_fd, cmd, arg);

	check(t, OP_IOCTL_BADARG, ret, errno, B(EFAULT), "ioctl(%#lx, %s %p)", cmd,
	      how, arg);
	t->calls++;
}

/* --- prctl ------------------------------------------------------------------- */

static unsigned long rarg(struct thr *t)
{
	switch (rn(t, 4)) {
	case 0:
		return 1;
	case 1:
		return rnd(t);
	case 2:
		return -1UL;
	default:
		return 1UL << rn(t, 64);
	}
}

static void op_prctl(struct thr *t, int get)
{
	unsigned long a[4] = { 0 };
	long ret;
	eset allowed;
	int i;

	if (!get)
		a[0] = pct(t, 50) ? 0 : pct(t, 50) ? 1 : rarg(t);
	for (i = get ? 0 : 1; i < 4; i++)
		if (pct(t, 5))
			a[i] = rarg(t);
	if (get) {
		allowed = (a[0] | a[1] | a[2] | a[3]) ? B(EINVAL) : B(0);
		ret = syscall(SYS_prctl, PR_GET_MEMORY_MERGE, a[0], a[1], a[2], a[3]);
		if (!ret || ret == 1)
			ret = 0;	/* 0 or 1; anything else is wrong */
		else if (ret > 0)
			errno = 255;
	} else {
		/* ENOMEM: entering or unmerging (ksm_enable/disable_merge_any) */
		allowed = (a[1] | a[2] | a[3]) ? B(EINVAL) : B(0) | B(ENOMEM);
		ret = syscall(SYS_prctl, PR_SET_MEMORY_MERGE, a[0], a[1], a[2], a[3]);
	}
	check(t, get ? OP_PRCTL_GET : OP_PRCTL_SET, ret > 0 ? -1 : ret, errno, allowed,
	      "prctl(%s, %lx, %lx, %lx, %lx)",
	      get ? "PR_GET_MEMORY_MERGE" : "PR_SET_MEMORY_MERGE", a[0], a[1], a[2], a[3]);
	t->calls++;
}

/* --- NUMA: mbind, migrate_pages (KSM pages move between nodes) -------------- */

#define MPOL_MODES	6	/* DEFAULT ... PREFERRED_MANY: valid on 6.1 and 6.12 */
#define MPOL_MF_VALID_	7	/* STRICT, MOVE, MOVE_ALL */

/*
 * mbind's answer from its arguments (mm/mempolicy.c kernel_mbind(),
 * do_mbind()); *decided = 0 when the mappings decide
 */
static eset mbind_args(unsigned long s, unsigned long len, unsigned long mode,
		       unsigned long mask, unsigned long flags, int *decided)
{
	unsigned long mflags = mode & (7UL << 13), base = mode & ~(7UL << 13);
	unsigned long alen = align_up(len);

	*decided = 1;
	if (base >= MPOL_MODES + 1 || (mflags & (3UL << 14)) == 3UL << 14)
		return B(EINVAL);	/* 6.1 has 6 modes, 6.12 a 7th */
	if (base == MPOL_MODES)
		/*
		 * MPOL_WEIGHTED_INTERLEAVE: 6.1 refuses the mode before any
		 * other check (EINVAL, also for length 0); 6.12 answers as
		 * for MPOL_INTERLEAVE
		 */
		return B(EINVAL) | mbind_args(s, len, mflags | 3, mask, flags,
					      decided);
	if (flags & ~(unsigned long)MPOL_MF_VALID_)
		return B(EINVAL);
	if ((flags & 4) && run_uid)
		return B(EPERM);	/* MPOL_MF_MOVE_ALL needs CAP_SYS_NICE */
	if (s & (PG - 1))
		return B(EINVAL);
	if (s + alen < s)
		return B(EINVAL);
	if (s + alen == s)
		return B(0);		/* rounding up to 0 is length 0 here */
	*decided = 0;
	if (base == 0 && mask)
		return B(EINVAL);	/* MPOL_DEFAULT takes no nodes */
	(void)mflags;
	/* a hole: EFAULT; MPOL_MF_STRICT: EIO; no nodes for the mode: EINVAL */
	return B(0) | B(EFAULT) | B(EINVAL) | B(EIO) | B(ENOMEM);
}

static void op_mbind(struct thr *t)
{
	unsigned long mask = 1 + rn(t, 3), maxnode = 64, flags, mode;
	struct range r;
	eset allowed;
	int c, decided;
	long ret;

	lock_rd(t);
	gen_range(t, G_GLOBAL, &r);
	unlock(t);
	mode = pct(t, 90) ? rn(t, MPOL_MODES) : MPOL_MODES + rn(t, 100);
	if (pct(t, 5))
		mode |= 1UL << (14 + rn(t, 2));	/* MPOL_F_RELATIVE/STATIC_NODES */
	c = (int)rn(t, 100);
	flags = c < 30 ? 0 : c < 60 ? 2 : c < 80 ? 4 : c < 90 ? 1 | 2 : c < 95 ? 1 :
		1UL << (3 + rn(t, 20));
	if (pct(t, 5))
		mask = 0;
	allowed = mbind_args(r.s, r.len, mode, mask, flags, &decided);
	if (!decided && hits_special(r.s, r.len))
		allowed |= B(EINVAL);
	ret = syscall(SYS_mbind, r.s, r.len, mode, &mask, maxnode, flags);
	check(t, OP_MBIND, ret, errno, allowed, "mbind(%lx, %lx [%s], %#lx, {%#lx}, %lu, %#lx)",
	      r.s, r.len, r.how, mode, mask, maxnode, flags);
	t->calls++;
}

/* migrate_pages(): a pid's answers (mm/mempolicy.c kernel_migrate_pages()) */
static eset migrate_pid(int cls)
{
	int root = run_uid == 0;

	switch (cls) {
	case P_SELF0:
	case P_SELFPID:
		return B(0);
	case P_THREAD:
		return B(0) | B(ESRCH);
	case P_KID:
		return B(0) | B(ESRCH) | B(EINVAL);	/* exiting: no mm */
	case P_ZOMBIE:
		return B(EINVAL);
	case P_REAPED:
		return B(0) | B(ESRCH) | B(EPERM) | B(EINVAL);
	case P_INIT:
		return root ? B(0) : B(EPERM);
	case P_PEER:
		return (root ? B(0) | B(EINVAL) : B(EPERM)) | B(ESRCH);
	case P_KTHREAD:
		return root ? B(EINVAL) : B(EPERM);
	default:
		return B(ESRCH);
	}
}

static void op_migrate(struct thr *t)
{
	unsigned long from = 1 + rn(t, 3), to = 1 + rn(t, 3);
	int cls = P_SELF0;
	pid_t pid = pct(t, 70) ? 0 : pick_pid(t, &cls);
	eset allowed;
	long ret;

	/*
	 * the pages that could not move (>= 0), or ENOMEM; a node not
	 * allowed, unprivileged: EPERM; no online node to go to: EINVAL
	 */
	allowed = (to & ~online_nodes) && run_uid ? B(EPERM) :
		  (to & online_nodes) ? B(0) | B(ENOMEM) : B(EINVAL);
	allowed = combine(migrate_pid(cls), allowed);
	ret = syscall(SYS_migrate_pages, pid, 64UL, &from, &to);
	check(t, OP_MIGRATE, ret < 0 ? ret : 0, errno, allowed,
	      "migrate_pages(%d (%s), 64, {%#lx}, {%#lx}) = %ld", pid, pid_name[cls],
	      from, to, ret);
	t->calls++;
}

/* --- writes and checks -------------------------------------------------------- */

/* an interval, mostly not the sparse ones */
static int pick_iv(struct thr *t)
{
	int i, tries;

	for (tries = 0; tries < 4; tries++) {
		i = (int)rn(t, niv);
		if (ivs[i].kind != K_SPARSE || pct(t, 30))
			return i;
	}
	return (int)rn(t, niv);
}

/* a forked child's write, which may meet a range not there: 0 then */
static __attribute__((noinline)) int child_write(unsigned long p, unsigned char v)
{
	child_guard = 1;
	if (sigsetjmp(child_jmp, 1)) {
		child_guard = 0;
		return 0;
	}
	memset((void *)p, v, PG);
	child_guard = 0;
	return 1;
}

static void op_write(struct thr *t)
{
	int i, n = 1 + (int)rn(t, 8);

	lock_rd(t);
	while (niv && n--) {
		unsigned long p;
		unsigned char v;

		i = pick_iv(t);
		if (ivs[i].kind == K_SHM && t->child)
			continue;	/* the parent's memory too */
		if (!(ivs[i].prot & PROT_WRITE))
			continue;
		p = own_page(t, i, rpage(t, ivs[i].s, ivs[i].e));
		if (!p || S_MODE(shadow[SIDX(p)]) == S_NOACC)
			continue;
		v = pct(t, 10) ? 0 : 1 + (unsigned char)rn(t, 31);
		if (t->child) {
			/* a DONTFORK range is not there in a child */
			if (!child_write(p, v))
				continue;
			shadow[SIDX(p)] = v;
			page_ok(t, p, "child's write read back");
		} else {
			memset((void *)p, v, PG);
			shadow[SIDX(p)] = v;
		}
		count(t, OP_WRITE, 0);
	}
	unlock(t);
}

static void op_check(struct thr *t)
{
	int i, n = 8;

	lock_rd(t);
	while (niv && n--) {
		unsigned long p;

		i = pick_iv(t);
		if (!(ivs[i].prot & PROT_READ))
			continue;
		p = own_page(t, i, rpage(t, ivs[i].s, ivs[i].e));
		if (p)
			page_ok(t, p, "check");
	}
	unlock(t);
	count(t, OP_CHECK, 0);
	if (pct(t, 50))
		canary_check(t, 0);
}

/* --- mappings: mmap, munmap, mprotect, mremap ----------------------------------- */

/* a place in the arena for @len bytes, 2 MiB aligned when @thp */
static unsigned long arena_spot(struct thr *t, unsigned long len, int thp)
{
	unsigned long a;

	if (niv && pct(t, 50)) {	/* in or around a hole */
		int i = (int)rn(t, niv + 1);
		unsigned long lo = i ? ivs[i - 1].e : arena_lo;
		unsigned long hi = i < niv ? ivs[i].s : arena_hi;

		a = rpage(t, lo, hi > lo + len ? hi - len : lo + PG);
	} else if (niv && pct(t, 50)) {	/* onto a mapping */
		int i = (int)rn(t, niv);

		a = rpage(t, ivs[i].s, ivs[i].e);
	} else {
		a = rpage(t, arena_lo, arena_hi);
	}
	if (thp)
		a &= ~(HPG - 1);
	if (a < arena_lo)
		a = arena_lo;
	if (a + len > arena_hi)
		a = (arena_hi - len) & ~(thp ? HPG - 1 : PG - 1);
	return a;
}

static void op_mmap(struct thr *t)
{
	unsigned long len, addr, off = 0, r;
	int kind, prot, flags, fd = -1, thp = 0, c, hint;
	eset allowed;
	const char *how;
	long ret;

	lock_wr(t);
	c = (int)rn(t, 100);
	if (c < 55) {
		len = PG * (1 + rn(t, 64));
	} else if (c < 70) {
		len = PG * (64 + rn(t, 1024));
	} else if (c < 88) {
		len = HPG * (1 + rn(t, 4));
		thp = 1;
	} else {
		len = GiB * (1 + rn(t, 16)) + PG * rn(t, 4);
	}
	if (!iv_big_sparse()) {		/* keep a sparse region around */
		len = GiB * (16 + rn(t, 49));
		thp = 0;
	}
	c = (int)rn(t, 100);
	kind = len > BIG_ANON ? K_SPARSE : K_ANON;
	if (c < 15 && len <= 4 * MiB) {
		kind = K_SHM;
	} else if (c < 30 && len <= 4 * MiB) {
		kind = K_FILE;
		off = PG * rn(t, FILE_PAGES + 64);
		fd = file_fd;
	}
	if (kind != K_SPARSE && iv_bytes(0) + len > BUDGET) {
		/* make room instead */
		if (niv) {
			int i = (int)rn(t, niv);

			if (ivs[i].kind != K_SPARSE) {
				ret = syscall(SYS_munmap, ivs[i].s, ivs[i].e - ivs[i].s);
				check(t, OP_MUNMAP, ret, errno, B(0), "munmap(%lx, %lx) for room",
				      ivs[i].s, ivs[i].e - ivs[i].s);
				if (!ret)
					iv_remove(ivs[i].s, ivs[i].e);
				t->calls++;
			}
		}
		unlock_wr(t, __func__);
		return;
	}
	prot = pct(t, 75) ? PROT_READ | PROT_WRITE :
	       pct(t, 50) ? PROT_NONE : pct(t, 50) ? PROT_READ :
	       PROT_READ | PROT_EXEC;
	flags = (kind == K_SHM ? MAP_SHARED | MAP_ANONYMOUS :
		 kind == K_FILE ? MAP_PRIVATE : MAP_PRIVATE | MAP_ANONYMOUS);
	if (kind == K_SPARSE && (pct(t, 80) || len > 8 * GiB))
		flags |= MAP_NORESERVE;
	if (len <= 1024 * PG && pct(t, 5))
		flags |= MAP_POPULATE;
	addr = arena_spot(t, len, thp);
	c = (int)rn(t, 100);
	hint = 0;
	if (c < 70) {
		flags |= MAP_FIXED;
		how = "fixed";
	} else if (c < 85) {
		flags |= MAP_FIXED_NOREPLACE;
		how = "fixed-noreplace";
	} else {
		hint = 1;
		how = "hint";
	}
	/* ENOMEM: no memory, too many mappings, or overcommit says no */
	allowed = B(0) | B(ENOMEM);
	if ((flags & MAP_FIXED_NOREPLACE) && iv_kinds(addr, addr + len))
		allowed = B(EEXIST);
	ret = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	r = (unsigned long)ret;
	check(t, OP_MMAP, ret == -1 ? -1 : 0, errno, allowed,
	      "mmap(%lx, %lx, %d, %#x, %d, %lx) %s %s", addr, len, prot, flags,
	      fd, off, how, kind_name[kind]);
	t->calls++;
	if (ret == -1) {
		if (flags & MAP_FIXED)
			resync();	/* MAP_FIXED may have unmapped first */
		unlock_wr(t, __func__);
		return;
	}
	if (!hint && r != addr) {
		data_fail(t, "mmap(%lx, %lx, ..., %s) returned %lx", addr, len, how, r);
		resync();
	} else if (!in_arena(r, len)) {
		syscall(SYS_munmap, r, len);	/* ours: the hint was not taken */
	} else {
		iv_remove(r, r + len);
		iv_add(r, r + len, prot, kind);
		sh_new(r, r + len, kind, off / PG);
	}
	unlock_wr(t, __func__);
}

/* mmap with one argument the kernel must refuse (ksys_mmap_pgoff, do_mmap) */
static void op_mmap_bad(struct thr *t)
{
	unsigned long addr = rpage(t, arena_lo, arena_hi), len = PG * (1 + rn(t, 16));
	unsigned long off = 0;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS, fd = -1, prot = PROT_READ | PROT_WRITE;
	eset allowed = B(EINVAL);
	const char *how;
	long ret;

	switch (rn(t, 6)) {
	case 0:
		len = 0;
		how = "length 0";
		break;
	case 1:
		flags = MAP_ANONYMOUS;
		how = "neither private nor shared";
		break;
	case 2:
		flags = MAP_PRIVATE;
		fd = pct(t, 50) ? -1 : 999;
		allowed = B(EBADF);
		how = "bad fd";
		break;
	case 3:
		flags = MAP_PRIVATE;
		fd = file_fd;
		off = 1 + rn(t, PG - 1);
		how = "unaligned offset";
		break;
	case 4:
		flags = MAP_SHARED_VALIDATE | MAP_SYNC;
		fd = file_fd;
		allowed = B(EOPNOTSUPP);
		how = "MAP_SYNC on tmpfs";
		break;
	default:
		flags |= MAP_FIXED;
		addr += 1 + rn(t, PG - 1);
		how = "MAP_FIXED unaligned";
		break;
	}
	ret = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	check(t, OP_MMAP_BAD, ret == -1 ? -1 : 0, errno, allowed,
	      "mmap(%lx, %lx, %d, %#x, %d, %lx) %s", addr, len, prot, flags, fd,
	      off, how);
	t->calls++;
	if (ret != -1) {
		/* it should not exist: take it away again, the table intact */
		lock_wr(t);
		syscall(SYS_munmap, ret, len);
		resync();
		unlock_wr(t, __func__);
	}
}

static void op_munmap(struct thr *t)
{
	struct range r;
	eset allowed;
	long ret;

	lock_wr(t);
	gen_range(t, G_ARENA, &r);
	/*
	 * mm/mmap.c do_vmi_munmap(): unaligned, past TASK_SIZE (at most
	 * 2^57 with 5-level paging) or length 0 are EINVAL; else 0, or
	 * ENOMEM when a split would pass max_map_count.
	 */
	if ((r.s & (PG - 1)) || !r.len || r.s >= 1UL << 57 || r.len >= 1UL << 57)
		allowed = B(EINVAL);
	else if (in_arena(r.s, align_up(r.len)))
		allowed = vma_count > max_map_count / 2 ? B(0) | B(ENOMEM) : B(0);
	else
		allowed = 0;	/* not generated: could unmap what is not ours */
	if (allowed) {
		ret = syscall(SYS_munmap, r.s, r.len);
		check(t, OP_MUNMAP, ret, errno, allowed, "munmap(%lx, %lx [%s])", r.s,
		      r.len, r.how);
		t->calls++;
		if (!ret && (allowed & B(0)))
			iv_remove(r.s, r.s + align_up(r.len));
		else if (ret && (allowed & B(0)))
			resync();
	}
	unlock_wr(t, __func__);
}

static void op_mprotect(struct thr *t)
{
	struct range r;
	eset allowed;
	long ret;
	int prot, c = (int)rn(t, 100);

	prot = c < 40 ? PROT_READ | PROT_WRITE : c < 60 ? PROT_READ :
	       c < 80 ? PROT_NONE : c < 88 ? PROT_READ | PROT_WRITE | PROT_EXEC :
	       c < 92 ? PROT_READ | PROT_EXEC : c < 96 ? (int)(1U << rn(t, 32)) :
	       PROT_READ | (pct(t, 50) ? PROT_GROWSDOWN : PROT_GROWSUP);
	lock_wr(t);
	gen_range(t, G_ARENA, &r);
	/* mm/mprotect.c do_mprotect_pkey() */
	if ((prot & (PROT_GROWSDOWN | PROT_GROWSUP)) == (PROT_GROWSDOWN | PROT_GROWSUP))
		allowed = B(EINVAL);
	else if (r.s & (PG - 1))
		allowed = B(EINVAL);
	else if (!r.len)
		allowed = B(0);
	else if (r.s + align_up(r.len) <= r.s)
		allowed = B(ENOMEM);
	else if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM |
			  PROT_GROWSDOWN | PROT_GROWSUP))
		allowed = B(EINVAL);
	else if (r.s >= USER_TOP)
		allowed = B(ENOMEM);
	else if (prot & (PROT_GROWSDOWN | PROT_GROWSUP))
		allowed = B(EINVAL) | B(ENOMEM);	/* none of ours grows */
	else if (in_arena(r.s, align_up(r.len)))
		allowed = iv_hole(r.s, r.s + align_up(r.len)) ? B(ENOMEM) : B(0);
	else
		allowed = 0;	/* cannot happen: clamped */
	/* ENOMEM too: accounting a huge private mapping made writable; splits */
	if ((allowed & B(0)) && ((prot & PROT_WRITE) && r.len > GiB))
		allowed |= B(ENOMEM);
	if ((allowed & B(0)) && vma_count > max_map_count / 2)
		allowed |= B(ENOMEM);
	ret = syscall(SYS_mprotect, r.s, r.len, prot);
	check(t, OP_MPROTECT, ret, errno, allowed, "mprotect(%lx, %lx [%s], %#x)",
	      r.s, r.len, r.how, prot);
	t->calls++;
	if (!ret && r.len && in_arena(r.s, align_up(r.len)))
		iv_set_prot(r.s, r.s + align_up(r.len),
			    prot & (PROT_READ | PROT_WRITE | PROT_EXEC));
	else if (ret && in_arena(r.s, align_up(r.len)))
		resync();	/* done up to a hole */
	unlock_wr(t, __func__);
}

/* after a successful mremap of [addr, +ol) to [r, +nl): the table and shadow */
static void mremap_done(struct thr *t, unsigned long addr, unsigned long ol,
			unsigned long nl, int flags, unsigned long r)
{
	int i = iv_find(addr);
	struct iv old = i >= 0 ? ivs[i] : (struct iv){ 0 };
	unsigned long mv = ol < nl ? ol : nl, p;
	int inside = in_arena(r, nl);

	if (i < 0) {
		data_fail(t, "mremap(%lx, ...) succeeded on what the table calls a hole", addr);
		resync();
		return;
	}
	if (r != addr && ol && addr + mv > old.e) {
		/*
		 * 6.1 and 6.12 move one VMA only (EFAULT otherwise); 6.17 on
		 * may move several with the holes between them.
		 */
		if (!guard_advice)
			data_fail(t, "mremap(%lx, %lx, %lx, %#x) moved more than the mapping %lx-%lx",
				  addr, ol, nl, flags, old.s, old.e);
		if (flags & MREMAP_FIXED)
			iv_remove(r, r + nl);	/* what comes there is new */
		if (flags & MREMAP_DONTUNMAP)
			sh_any(addr, addr + ol);	/* emptied */
		resync();
		return;
	}
	if (!ol) {	/* a second mapping of shared memory: not kept */
		if (flags & MREMAP_FIXED)
			iv_remove(r, r + nl);
		syscall(SYS_munmap, r, nl);
		return;
	}
	if (r == addr) {	/* in place */
		if (nl < ol) {
			iv_remove(addr + nl, addr + ol);
		} else if (nl > ol) {
			unsigned long end = addr + nl;

			if (end > arena_hi) {
				/* grown in place past the arena: take that back */
				syscall(SYS_munmap, arena_hi, end - arena_hi);
				end = arena_hi;
			}
			if (end > addr + ol)
				iv_add(addr + ol, end, old.prot, old.kind);
			if (old.kind > K_SPARSE)
				for (p = addr + ol; p < end; p += PG)
					shadow[SIDX(p)] = S_NOACC;
		}
		return;
	}
	if (inside) {
		if (flags & MREMAP_FIXED)
			iv_remove(r, r + nl);
		memmove(shadow + SIDX(r), shadow + SIDX(addr), mv / PG);
	}
	if (flags & MREMAP_DONTUNMAP) {
		if (old.kind == K_SHM) {	/* would alias: not kept */
			syscall(SYS_munmap, addr, ol);
			iv_remove(addr, addr + ol);
		} else if (old.kind == K_FILE) {
			for (p = addr; p < addr + ol; p += PG)
				if (S_MODE(shadow[SIDX(p)]) != S_NOACC)
					shadow[SIDX(p)] = FILEVAL;
		} else {
			sh_fill(addr, addr + ol, 0);
		}
	} else {
		iv_remove(addr, addr + ol);
	}
	if (!inside) {
		syscall(SYS_munmap, r, nl);	/* moved out of the arena: ours */
		return;
	}
	iv_add(r, r + nl, old.prot, old.kind);
	if (nl > ol)
		for (p = r + ol; p < r + nl; p += PG)
			shadow[SIDX(p)] = old.kind <= K_SPARSE ? 0 : S_NOACC;
}

static void op_mremap(struct thr *t)
{
	unsigned long addr, ol, nl, na = 0, r;
	int flags, c, i;
	eset allowed;
	const char *how = "";
	long ret;

	lock_wr(t);
	i = niv ? (int)rn(t, niv) : -1;
	c = (int)rn(t, 100);
	if (i < 0 || c < 5) {
		addr = rpage(t, arena_lo, arena_hi);
		how = "anywhere";
	} else if (c < 50) {
		addr = ivs[i].s;
	} else {
		addr = rpage(t, ivs[i].s, ivs[i].e);
	}
	c = (int)rn(t, 100);
	if (i >= 0 && c < 60)
		ol = ivs[i].e > addr ? ivs[i].e - addr : PG;
	else if (c < 85)
		ol = PG * (1 + rn(t, 1024));
	else if (c < 92)
		ol = 0;
	else
		ol = rlen(t, arena_hi - addr);
	if (pct(t, 30) && ol > PG)
		ol = PG * (1 + rn(t, ol / PG));
	c = (int)rn(t, 100);
	nl = c < 30 ? ol : c < 55 ? PG * (1 + rn(t, ol / PG + 1)) :
	     c < 90 ? ol + PG * (1 + rn(t, pct(t, 20) ? 16384 : 512)) :
	     c < 95 ? 0 : HPG * (1 + rn(t, 8));
	if (ivs[i >= 0 ? i : 0].kind != K_SPARSE && nl > 16 * MiB && nl > ol)
		nl = ol + PG;
	c = (int)rn(t, 100);
	flags = c < 20 ? 0 : c < 50 ? MREMAP_MAYMOVE :
		c < 80 ? MREMAP_MAYMOVE | MREMAP_FIXED :
		c < 88 ? MREMAP_MAYMOVE | MREMAP_DONTUNMAP :
		c < 92 ? MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP :
		c < 96 ? MREMAP_FIXED : 1 << (3 + rn(t, 29));
	if ((flags & MREMAP_DONTUNMAP) && pct(t, 80))
		nl = ol;
	if (flags & MREMAP_FIXED)
		na = arena_spot(t, nl ? align_up(nl) : PG, pct(t, 30));
	if (pct(t, 3))
		addr += 1 + rn(t, PG - 1);
	if (pct(t, 2))
		na += 1 + rn(t, PG - 1);
	/* stay inside the arena: old range, and new range when fixed */
	if (!(addr & (PG - 1)) && align_up(ol) > arena_hi - addr)
		ol = arena_hi - addr;
	if ((flags & MREMAP_FIXED) && na + align_up(nl) > arena_hi)
		nl = arena_hi - na;

	/* mm/mremap.c: what the arguments decide */
	if (flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP))
		allowed = B(EINVAL);
	else if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
		allowed = B(EINVAL);
	else if ((flags & MREMAP_DONTUNMAP) &&
		 (!(flags & MREMAP_MAYMOVE) || ol != nl))
		allowed = B(EINVAL);
	else if (addr & (PG - 1))
		allowed = B(EINVAL);
	else if (!align_up(nl))
		allowed = B(EINVAL);
	else if (iv_find(addr) < 0)
		/* no VMA at addr; 6.17 on checks the new range first */
		allowed = B(EFAULT) | (guard_advice && (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) ?
				  B(EINVAL) : 0);
	else if ((flags & MREMAP_FIXED) && (na & (PG - 1)))
		allowed = B(EINVAL);
	else if ((flags & MREMAP_FIXED) && addr + align_up(ol) > na &&
		 na + align_up(nl) > addr)
		allowed = B(EINVAL);	/* overlap */
	else
		/*
		 * EFAULT: the old range is not one VMA; EINVAL: old length 0 of
		 * private memory, DONTUNMAP of special mappings; ENOMEM: cannot
		 * grow in place, no room, accounting; EAGAIN: mlock limits
		 */
		allowed = B(0) | B(EFAULT) | B(EINVAL) | B(ENOMEM) | B(EAGAIN);
	ret = syscall(SYS_mremap, addr, ol, nl, flags, na);
	r = (unsigned long)ret;
	if (debug_table)
		say("debug: mremap(%lx, %lx, %lx, %#x, %lx) = %lx (%s), table at addr: %d",
		    addr, ol, nl, flags, na, r, ret == -1 ? errname(errno) : "ok", iv_find(addr));
	check(t, OP_MREMAP, ret == -1 ? -1 : 0, errno, allowed,
	      "mremap(%lx, %lx, %lx, %#x, %lx) %s", addr, ol, nl, flags, na, how);
	t->calls++;
	if (ret == -1) {
		if (allowed & B(0))
			resync();	/* MREMAP_FIXED unmaps the target first */
		unlock_wr(t, __func__);
		return;
	}
	if (!(allowed & B(0))) {
		resync();
	} else if (((flags & MREMAP_FIXED) && r != na) ||
		   (!(flags & MREMAP_MAYMOVE) && r != addr)) {
		data_fail(t, "mremap(%lx, %lx, %lx, %#x, %lx) returned %lx",
			  addr, ol, nl, flags, na, r);
		resync();
	} else {
		mremap_done(t, addr, align_up(ol), align_up(nl), flags, r);
	}
	unlock_wr(t, __func__);
}

/* --- fork and children --------------------------------------------------------- */

static void child_sig(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (child_guard) {
		child_guard = 0;
		siglongjmp(child_jmp, 1);
	}
	say("FAIL child %d: signal %d at %p", (int)getpid(), sig, si->si_addr);
	_exit(5);
}

/* a few calls in a forked child, then exit: 0 when all went right */
static void child_main(struct thr *parent)
{
	struct thr *t = &child_thr;
	struct sigaction sa;
	int n, k;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = child_sig;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	t->id = parent->id;
	t->rng = rnd(parent) | 1;
	t->child = 1;
	t->qbuf = parent->qbuf;
	n = 1 + (int)rn(t, 24);
	while (n--) {
		k = (int)rn(t, 12);
		switch (k) {
		case 0:
			canary_check(t, pct(t, 10));
			break;
		case 1:
		case 2:
			op_madvise(t);	/* the child's own memory: any advice */
			break;
		case 3:
			if (!no_ksmod)
				op_range_ioctl(t, pct(t, 40));
			break;
		case 4:
			if (!no_ksmod)
				pct(t, 50) ? op_query(t) : op_mm_stats(t);
			break;
		case 5:
			op_prctl(t, pct(t, 40));
			break;
		case 6:
		case 7:
			op_write(t);
			break;
		case 8:
			usleep(rn(t, 3000));
			break;
		case 9:		/* its other pages may have been half written at fork */
			canary_check(t, 0);
			break;
		case 10:
			op_munmap(t);
			break;
		default:
			_exit(t->fails ? 1 : 0);
		}
	}
	_exit(t->fails ? 1 : 0);
}

static void kid_status(struct thr *t, pid_t pid, int status, int killed)
{
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && killed)
		return;
	t->fails++;
	__atomic_fetch_add(&child_fails, 1, __ATOMIC_RELAXED);
	if (may_print())
		say("FAIL pid %d thread %d: child %d %s %d%s", (int)getpid(), t->id,
		    (int)pid, WIFEXITED(status) ? "exited with" : "killed by signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
		    WIFEXITED(status) && WEXITSTATUS(status) == 1 ? " (see its lines)" : "");
}

static void reap(struct thr *t, int i, int kill_it)
{
	struct kid k = t->kids[i];
	int status;

	if (kill_it) {
		kill(k.pid, SIGKILL);
		k.killed = 1;
	}
	if (waitpid(k.pid, &status, 0) == k.pid)
		kid_status(t, k.pid, status, k.killed);
	t->reaped[t->nreaped++ % 8] = k.pid;
	t->kids[i] = t->kids[--t->nkids];
	count(t, OP_REAP, 0);
}

static void op_fork(struct thr *t)
{
	pid_t pid;
	int c, e;

	if (t->nkids == NKIDS)
		reap(t, (int)rn(t, NKIDS), pct(t, 50));
	lock_rd(t);	/* no half-made change of the table in the child */
	pid = fork();
	e = errno;
	if (!pid)
		child_main(t);
	unlock(t);
	check(t, OP_FORK, pid < 0 ? -1 : 0, e, B(0) | B(EAGAIN) | B(ENOMEM), "fork()");
	t->calls++;
	if (pid < 0)
		return;
	t->kids[t->nkids++] = (struct kid){ pid, 0 };
	c = (int)rn(t, 100);
	if (c < 30) {
		reap(t, t->nkids - 1, 0);
	} else if (c < 50) {
		usleep(rn(t, 3000));
		reap(t, t->nkids - 1, 1);
	}
}

/* --- the threads ------------------------------------------------------------- */

/* the start of a /proc file, NUL-terminated; 0 when there is nothing */
static int read_proc(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return 1;
}

static unsigned long rss_bytes(void)
{
	char buf[128];
	unsigned long size = 0, res = 0;

	if (!read_proc("/proc/self/statm", buf, sizeof(buf)))
		return 0;
	sscanf(buf, "%lu %lu", &size, &res);
	return res * PG;
}

/* keep the resident size bounded: drop sparse pages, then all */
static void trim(struct thr *t)
{
	int i, all;

	if (rss_bytes() < rss_limit)
		return;
	lock_wr(t);
	trims++;
	for (all = 0; all < 2; all++) {
		for (i = 0; i < niv; i++) {
			struct iv *v = &ivs[i];

			if (v->kind != K_SPARSE && !(all && v->kind == K_ANON))
				continue;
			if (madvise((void *)v->s, v->e - v->s, MADV_DONTNEED)) {
				say("ksm_fuzz: trimming %lx-%lx: %s", v->s, v->e,
				    strerror(errno));
				resync();
				break;
			}
			sh_fill(v->s, v->e, 0);
		}
		if (rss_bytes() < rss_limit * 3 / 4)
			break;
	}
	unlock_wr(t, __func__);
}

struct opw {
	void (*fn)(struct thr *t);
	int weight;
	int ksmod;
	const char *name;
};

static void op_register(struct thr *t) { op_range_ioctl(t, 0); }
static void op_unregister(struct thr *t) { op_range_ioctl(t, 1); }
static void op_version_good(struct thr *t) { op_version(t, 0); }
static void op_version_bad(struct thr *t) { op_version(t, 1); }
static void op_prctl_set(struct thr *t) { op_prctl(t, 0); }
static void op_prctl_get(struct thr *t) { op_prctl(t, 1); }

static void op_reap(struct thr *t)
{
	if (t->nkids)
		reap(t, (int)rn(t, t->nkids), pct(t, 50));
}

static void op_canary(struct thr *t)
{
	canary_check(t, 0);
}

static const struct opw ops[] = {
	{ op_madvise, 330, 0, "madvise" },
	{ op_madvise_invalid, 15, 0, "madvise_invalid" },
	{ op_register, 60, 1, "register" },
	{ op_unregister, 40, 1, "unregister" },
	{ op_query, 40, 1, "query" },
	{ op_mm_stats, 30, 1, "mm_stats" },
	{ op_version_good, 8, 1, "version_good" },
	{ op_version_bad, 8, 1, "version_bad" },
	{ op_ioctl_unknown, 15, 1, "ioctl_unknown" },
	{ op_ioctl_badarg, 12, 1, "ioctl_badarg" },
	{ op_write, 100, 0, "write" },
	{ op_check, 30, 0, "check" },
	{ op_mmap, 45, 0, "mmap" },
	{ op_mmap_bad, 10, 0, "mmap_bad" },
	{ op_munmap, 35, 0, "munmap" },
	{ op_mremap, 45, 0, "mremap" },
	{ op_mprotect, 40, 0, "mprotect" },
	{ op_prctl_set, 10, 0, "prctl_set" },
	{ op_prctl_get, 10, 0, "prctl_get" },
	{ op_fork, 4, 0, "fork" },
	{ op_reap, 4, 0, "reap" },
	{ op_canary, 10, 0, "canary" },
	{ op_mbind, 10, 0, "mbind" },
	{ op_migrate, 1, 0, "migrate" },
};
#define NOPW	((int)(sizeof(ops) / sizeof(ops[0])))
#define MIN_MAPPINGS	32	/* fewer in the arena: mmap instead of unmapping */
#define READ_ONCE_INT(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)

/* -W: does the watched page still read as its shadow says? */
static void watch_page(struct thr *t)
{
	static int bad;
	int i;

	lock_rd(t);
	i = iv_find(watch);
	if (i >= 0 && (ivs[i].prot & PROT_READ) && S_MODE(shadow[SIDX(watch)]) != S_NOACC) {
		unsigned char c = *(unsigned char *)watch, b = shadow[SIDX(watch)];
		int ok = S_MODE(b) == S_ANY || c == S_VAL(b) || (S_MODE(b) == S_EITHER && !c);

		if (!ok && !bad)
			say("watch: %lx reads %02x, shadow %02x, after op %lu: %s", watch,
			    c, b, t->ops, last_call[t->id]);
		bad = !ok;
	}
	unlock(t);
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	int total = 0, i, w, mmap_i = 0;
	double t0;

	t->tid = (pid_t)syscall(SYS_gettid);
	thread_tids[t->id] = t->tid;
	for (i = 0; i < NOPW; i++) {
		if (!ops[i].ksmod || !no_ksmod)
			total += ops[i].weight;
		if (ops[i].fn == op_mmap)
			mmap_i = i;
	}
	pthread_barrier_wait(&start_barrier);
	while (t->calls < t->quota && !stop_now) {
		t->ops++;
		if (!(t->ops & 255)) {
			trim(t);
			if (max_secs && now() > max_secs)
				stop_now = 1;
		}
		if (!(t->ops % 4096)) {
			lock_wr(t);
			verify_table(t, "a while");
			unlock(t);
		}
		if (!(t->ops % 20000)) {
			lock_rd(t);
			check_own(t, 0, "periodic check");
			unlock(t);
			if (!t->id)
				canary_check(t, 1);
		}
		w = (int)rn(t, total);
		for (i = 0; i < NOPW; i++) {
			if (ops[i].ksmod && no_ksmod)
				continue;
			w -= ops[i].weight;
			if (w < 0)
				break;
		}
		/* few mappings left: map rather than unmap (a racy look) */
		if ((ops[i].fn == op_munmap || ops[i].fn == op_mremap) &&
		    READ_ONCE_INT(niv) < MIN_MAPPINGS)
			i = mmap_i;
		t->t0 = t0 = now();
		ops[i].fn(t);
		t->busy[i] += now() - t0;
		if (watch)
			watch_page(t);
	}
	while (t->nkids)
		reap(t, 0, 1);
	__atomic_fetch_add(&threads_done, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* --- set-up -------------------------------------------------------------------- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	say("ksm_fuzz: %s", buf);
	exit(3);
}

static void parent_sig(int sig, siginfo_t *si, void *uc)
{
	unsigned long a = (unsigned long)si->si_addr;
	int i = a >= arena_lo && a < arena_hi ? iv_find(a) : -1;

	(void)uc;
	say("FAIL pid %d: signal %d at %lx (%s; table: %s, prot %d, shadow %02x)",
	    (int)getpid(), sig, a,
	    a >= arena_lo && a < arena_hi ? "arena" : "not the arena",
	    i >= 0 ? kind_name[ivs[i].kind] : "hole", i >= 0 ? ivs[i].prot : -1,
	    a >= arena_lo && a < arena_hi ? shadow[SIDX(a)] : 0);
	_exit(6);
}

static void *map_or_die(size_t len, int prot, int flags)
{
	void *p = mmap(NULL, len, prot, flags | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap of %zu bytes: %s", len, strerror(errno));
	return p;
}

/* map [a, a + len) of @kind in the arena at set-up */
static void setup_map(unsigned long a, unsigned long len, int kind, int prot)
{
	int flags = MAP_FIXED | (kind == K_SHM ? MAP_SHARED | MAP_ANONYMOUS :
				 kind == K_FILE ? MAP_PRIVATE :
				 MAP_PRIVATE | MAP_ANONYMOUS);
	void *p;

	if (kind == K_SPARSE)
		flags |= MAP_NORESERVE;
	p = mmap((void *)a, len, prot, flags, kind == K_FILE ? file_fd : -1, 0);
	if (p == MAP_FAILED)
		die("arena mapping at %lx: %s", a, strerror(errno));
	iv_add(a, a + len, prot, kind);
	sh_new(a, a + len, kind, 0);
}

static void fill(unsigned long a, unsigned char v)
{
	memset((void *)a, v, PG);
	shadow[SIDX(a)] = v;
}

static unsigned long anon_huge_kb(void)
{
	char buf[4096], *p;

	if (!read_proc("/proc/self/smaps_rollup", buf, sizeof(buf)))
		return 0;
	p = strstr(buf, "AnonHugePages:");
	return p ? strtoul(p + 14, NULL, 10) : 0;
}

static void setup_arena(uint64_t seed)
{
	struct thr t0 = { .rng = seed | 1 };
	unsigned long base, a, len, i, r;
	int k;
	void *p;

	/* reserve, then align to 1 GiB */
	p = map_or_die(ARENA_SIZE + GiB, PROT_NONE, MAP_PRIVATE | MAP_NORESERVE);
	base = ((unsigned long)p + GiB - 1) & ~(GiB - 1);
	if (base > (unsigned long)p)
		munmap(p, base - (unsigned long)p);
	munmap((void *)(base + ARENA_SIZE),
	       (unsigned long)p + ARENA_SIZE + GiB - base - ARENA_SIZE);
	arena_lo = base;
	arena_hi = base + ARENA_SIZE;
	shadow = map_or_die(ARENA_SIZE / PG, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_NORESERVE);

	/* four THP regions of 8 MiB, 2 MiB aligned, written whole */
	for (k = 0; k < 4; k++) {
		a = arena_lo + GiB + k * 32 * MiB;
		setup_map(a, 8 * MiB, K_ANON, PROT_READ | PROT_WRITE);
		for (i = 0; i < 8 * MiB / PG; i++)
			fill(a + i * PG, k == 0 || k == 1 ? 1 + i % 8 :
			     k == 2 ? 5 : (i & 1) ? 0 : 1 + i % 31);
		if (k == 0 || k == 2)
			madvise((void *)a, 8 * MiB, MADV_MERGEABLE);
	}
	/* a sparse region: 64 GiB, 64 touched pages */
	a = arena_lo + 16 * GiB;
	setup_map(a, SPARSE_SIZE, K_SPARSE, PROT_READ | PROT_WRITE);
	for (i = 0; i < 64; i++)
		fill(a + rn(&t0, SPARSE_SIZE / PG) * PG, 1 + i % 4);
	madvise((void *)a, SPARSE_SIZE, MADV_MERGEABLE);
	/* small private mappings */
	for (k = 0; k < 16; k++) {
		a = arena_lo + 2 * GiB + k * 4 * MiB + rn(&t0, 256) * PG;
		len = PG * (1 + rn(&t0, 64));
		setup_map(a, len, K_ANON, PROT_READ | PROT_WRITE);
		for (i = 0; i < len / PG; i++)
			fill(a + i * PG, 1 + rn(&t0, 4));
		if (k & 1)
			madvise((void *)a, len, MADV_MERGEABLE);
	}
	/* shared anonymous memory, 4 MiB */
	a = arena_lo + 3 * GiB;
	setup_map(a, 4 * MiB, K_SHM, PROT_READ | PROT_WRITE);
	for (i = 0; i < 4 * MiB / PG; i += 3)
		fill(a + i * PG, 1 + i % 5);
	/* a private mapping of the file, reaching 1 MiB past its end */
	a = arena_lo + 3 * GiB + 512 * MiB;
	setup_map(a, (FILE_PAGES + 256) * PG, K_FILE, PROT_READ | PROT_WRITE);
	for (i = 0; i < FILE_PAGES; i += 4)
		fill(a + i * PG, 1 + i % 3);
	madvise((void *)a, FILE_PAGES * PG, MADV_MERGEABLE);
	/* PROT_NONE ranges */
	for (k = 0; k < 4; k++) {
		a = arena_lo + 4 * GiB + k * MiB;
		setup_map(a, 16 * PG, K_ANON, PROT_NONE);
	}
	r = anon_huge_kb();
	printf("ksm_fuzz: arena %lx-%lx, %d mappings, AnonHugePages %lu kB after set-up\n",
	       arena_lo, arena_hi, niv, r);
}

static void setup_others(void)
{
	static char buf[1 << 16];
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *p, *nl;

	if (fd < 0)
		die("/proc/self/maps: %s", strerror(errno));
	for (n = 0;;) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);

		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	if (n <= 0)
		die("/proc/self/maps: empty");
	buf[n] = 0;
	for (p = buf; (nl = strchr(p, '\n')) && nothers < 128; p = nl + 1) {
		unsigned long s, e;

		*nl = 0;
		if (sscanf(p, "%lx-%lx", &s, &e) == 2 && s < USER_TOP) {
			others[nothers].s = s;
			others[nothers].e = e;
			/* vdso, vvar: a special mapping refuses to split (EINVAL) */
			others[nothers++].special = strstr(p, "[v") != NULL;
		}
	}
}

static void setup_file(void)
{
	char name[64], page[PG];
	struct stat st;
	int i;

	snprintf(name, sizeof(name), "ksm_fuzz.%d.data", (int)getpid());
	file_fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (file_fd < 0)
		die("%s: %s", name, strerror(errno));
	unlink(name);
	memset(page, FILEVAL, sizeof(page));
	for (i = 0; i < FILE_PAGES; i++)
		if (write(file_fd, page, PG) != (ssize_t)PG)
			die("%s: write: %s", name, strerror(errno));
	if (fstat(file_fd, &st))
		die("%s: fstat: %s", name, strerror(errno));
	file_ino = st.st_ino;
}

static void setup_buffers(void)
{
	struct ksmod_query *q;
	struct ksmod_mm_stats *st;
	struct ksmod_range_req *rq;
	unsigned long c;
	int i;

	/* the canary: 8 MiB, 2 MiB aligned, outside the arena */
	c = (unsigned long)map_or_die(CANARY_PAGES * PG + HPG, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE);
	canary = (unsigned char *)((c + HPG - 1) & ~(HPG - 1));
	canary_fill();
	if (madvise(canary, CANARY_PAGES * PG, MADV_MERGEABLE) && !no_ksmod)
		die("MADV_MERGEABLE on the canary: %s", strerror(errno));

	/* read-only requests: GET_VERSION at 0, REGISTER at 256, ... */
	ro_page = map_or_die(PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	rq = (void *)(ro_page + 256);
	rq->pid = 0;
	rq->start = (unsigned long)canary;
	rq->len = 0;
	q = (void *)(ro_page + 512);
	q->pid = 0;
	q->nr = 0;
	st = (void *)(ro_page + 768);
	st->pid = 0;
	mprotect(ro_page, PG, PROT_READ);

	edge = map_or_die(2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	mprotect(edge + PG, PG, PROT_NONE);

	for (i = 0; i < nthreads; i++) {
		unsigned char *b = map_or_die(QBUF_ENTRIES * sizeof(struct ksmod_range) + PG,
					      PROT_READ | PROT_WRITE, MAP_PRIVATE);

		mprotect(b + QBUF_ENTRIES * sizeof(struct ksmod_range), PG, PROT_NONE);
		thrs[i].qbuf = (struct ksmod_range *)b;
	}
}

/* drop the parts of the arena reservation that hold nothing: real holes */
static void open_holes(void)
{
	unsigned long at = arena_lo;
	int i;

	for (i = 0; i <= niv; i++) {
		unsigned long e = i < niv ? ivs[i].s : arena_hi;

		if (e > at)
			munmap((void *)at, e - at);
		if (i < niv)
			at = ivs[i].e;
	}
}

static void drop_privileges(uid_t uid)
{
	if (setgroups(0, NULL) || setgid(uid) || setuid(uid))
		die("dropping to uid %u: %s", (unsigned int)uid, strerror(errno));
	/* a changed uid makes the process undumpable: children too */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

static void read_limits(void)
{
	char buf[64];
	int fd, a, b;

	fd = open("/sys/devices/system/node/online", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		memset(buf, 0, sizeof(buf));
		if (read(fd, buf, sizeof(buf) - 1) > 0) {
			if (sscanf(buf, "%d-%d", &a, &b) == 2 && a >= 0 && b < 63)
				online_nodes = (2UL << b) - (1UL << a);
			else if (sscanf(buf, "%d", &a) == 1 && a >= 0 && a < 63)
				online_nodes = 1UL << a;
		}
		close(fd);
	}

	fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		memset(buf, 0, sizeof(buf));
		if (read(fd, buf, sizeof(buf) - 1) > 0)
			max_map_count = strtoul(buf, NULL, 10);
		close(fd);
	}
}

/* --- report ----------------------------------------------------------------- */

static void report(unsigned long calls, double secs)
{
	static unsigned long sum[NOPS][NERR];
	unsigned long tot[NERR] = { 0 }, ops_done = 0;
	int o, e, i;

	for (i = 0; i < nthreads; i++) {
		ops_done += thrs[i].ops;
		for (o = 0; o < NOPS; o++)
			for (e = 0; e < NERR; e++)
				sum[o][e] += thrs[i].cnt[o][e];
	}
	printf("ksm_fuzz: calls by operation (count, thread time, results):\n");
	for (o = 0; o < NOPS; o++) {
		char line[1024], name[64];
		unsigned long n = 0;
		double secs;
		int len;

		for (e = 0; e < NERR; e++)
			n += sum[o][e];
		if (!n)
			continue;
		if (o < OP_MADV0)
			snprintf(name, sizeof(name), "%s", op_names[o]);
		else
			snprintf(name, sizeof(name), "madvise %s", advs[o - OP_MADV0].name);
		for (i = 0, secs = 0; i < nthreads; i++)
			secs += thrs[i].opsec[o];
		len = snprintf(line, sizeof(line), "  %-32s %9lu %7.1f s:", name, n, secs);
		for (e = 0; e < NERR; e++) {
			tot[e] += sum[o][e];
			if (sum[o][e] && len < (int)sizeof(line) - 32)
				len += snprintf(line + len, sizeof(line) - len, " %s %lu",
						e == NERR - 1 ? "other" : errname(e), sum[o][e]);
		}
		printf("%s\n", line);
	}
	printf("ksm_fuzz: thread time by operation:");
	for (o = 0; o < NOPW; o++) {
		double b = 0;

		for (i = 0; i < nthreads; i++)
			b += thrs[i].busy[o];
		printf(" %s %.1f s", ops[o].name, b);
	}
	printf("\n");
	printf("ksm_fuzz: results:");
	for (e = 0; e < NERR; e++)
		if (tot[e])
			printf(" %s %lu", e == NERR - 1 ? "other" : errname(e), tot[e]);
	printf("\n");
	printf("ksm_fuzz: at most %lu mappings; at the end %d in the arena, %lu MiB and %lu GiB sparse; %lu trims of the resident size\n",
	       vma_count_max, niv, iv_bytes(0) / MiB, iv_bytes(1) / GiB, trims);
	printf("ksm_fuzz: %lu calls (%lu operations) in %.1f s: %.0f calls/s\n",
	       calls, ops_done, secs, secs > 0 ? calls / secs : 0);
}

int main(int argc, char **argv)
{
	unsigned long calls = 20000, done = 0;
	uint64_t seed = 0;
	int opt, i, seeded = 0, status = 0;
	pthread_t th[MAXT];
	pthread_rwlockattr_t ra;
	struct sigaction sa;
	long uid = -1;
	double secs;
	struct thr *t;

	no_thp = access("/sys/kernel/mm/transparent_hugepage", F_OK) != 0;
	while ((opt = getopt(argc, argv, "s:n:T:d:u:P:r:KvDW:h")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			seeded = 1;
			break;
		case 'n':
			calls = strtoul(optarg, NULL, 0);
			break;
		case 'T':
			nthreads = atoi(optarg);
			break;
		case 'd':
			max_secs = atof(optarg);
			break;
		case 'u':
			uid = atol(optarg);
			break;
		case 'P':
			peer_pid = atoi(optarg);
			break;
		case 'r':
			rss_limit = strtoul(optarg, NULL, 0) * MiB;
			break;
		case 'K':
			no_ksmod = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'D':
			debug_table = 1;
			break;
		case 'W':
			watch = strtoul(optarg, NULL, 16) & ~(PG - 1);
			break;
		default:
			fprintf(opt == 'h' ? stdout : stderr,
				"usage: ksm_fuzz [-s SEED] [-n CALLS] [-T THREADS] [-d SECS] [-u UID] [-P PID]\n"
				"                [-r RSS_MB] [-K] [-v] [-D] [-W ADDR]\n"
				"(see the comment at the top of tests/prog/ksm_fuzz.c)\n");
			return opt == 'h' ? 0 : 3;
		}
	}
	if (nthreads < 1 || nthreads > MAXT)
		die("-T: 1 to %d threads", MAXT);
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	if (!seeded)
		seed = (uint64_t)t_start.tv_nsec ^ ((uint64_t)getpid() << 32) ^
		       (uint64_t)time(NULL);
	my_pid = getpid();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ksm_fuzz: seed %llu, %d threads, %lu calls, pid %d\n",
	       (unsigned long long)seed, nthreads, calls, (int)my_pid);
	read_limits();
	{
		void *p = map_or_die(PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);

		/* a later kernel than the targets: its guard pages are valid */
		guard_advice = !madvise(p, PG, 103);
		munmap(p, PG);
	}

	if (!no_ksmod) {
		ksmod_fd = open(KSMOD_DEVICE, O_RDWR | O_CLOEXEC);
		if (ksmod_fd < 0)
			die("%s: %s", KSMOD_DEVICE, strerror(errno));
	}
	setup_file();
	setup_buffers();
	setup_others();
	setup_arena(seed);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = parent_sig;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	run_uid = getuid();
	if (uid >= 0) {
		drop_privileges((uid_t)uid);
		run_uid = (uid_t)uid;
	}
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&maplock, &ra);
	pthread_barrier_init(&start_barrier, NULL, nthreads + 1);
	for (i = 0; i < nthreads; i++) {
		t = &thrs[i];
		t->id = i;
		t->rng = (seed + 1) * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)(i + 1) << 48);
		if (!t->rng)
			t->rng = 1;
		t->quota = calls / nthreads + (i == 0 ? calls % nthreads : 0);
		if (pthread_create(&th[i], NULL, thread_main, t))
			die("pthread_create failed");
	}
	/* every thread stack is mapped now, outside the arena */
	open_holes();
	lock_wr(&thrs[0]);
	verify_table(&thrs[0], "set-up");
	unlock(&thrs[0]);
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	pthread_barrier_wait(&start_barrier);
	/* a progress line a minute, for long runs */
	for (;;) {
		unsigned long sofar = 0;
		int all_done = 0;

		for (i = 0; i < 60 && !all_done; i++) {
			sleep(1);
			all_done = __atomic_load_n(&threads_done, __ATOMIC_RELAXED) == nthreads;
		}
		if (all_done)
			break;
		for (i = 0; i < nthreads; i++)
			sofar += __atomic_load_n(&thrs[i].calls, __ATOMIC_RELAXED);
		printf("ksm_fuzz: progress: %lu calls in %.0f s, %lu failures so far\n",
		       sofar, now(), __atomic_load_n(&errno_fails, __ATOMIC_RELAXED) +
		       __atomic_load_n(&data_fails, __ATOMIC_RELAXED) +
		       __atomic_load_n(&child_fails, __ATOMIC_RELAXED) +
		       __atomic_load_n(&model_fails, __ATOMIC_RELAXED));
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	secs = now();

	/* the end: every page, the canary, the table */
	t = &thrs[0];
	verify_table(t, "the end");
	check_own(t, 1, "final check");
	canary_check(t, 1);
	for (i = 0; i < nthreads; i++)
		done += thrs[i].calls;
	report(done, secs);
	if (done < calls)
		printf("ksm_fuzz: stopped after %.0f s with %lu of %lu calls done\n",
		       secs, done, calls);
	if (errno_fails)
		status |= 1;
	if (data_fails || child_fails)
		status |= 2;
	if (model_fails)
		status |= 4;
	if (status)
		printf("ksm_fuzz: FAIL: %lu undocumented results, %lu data errors, %lu failed children, %lu table errors (seed %llu)\n",
		       errno_fails, data_fails, child_fails, model_fails,
		       (unsigned long long)seed);
	else
		printf("ksm_fuzz: PASS (seed %llu)\n", (unsigned long long)seed);
	return status;
}
