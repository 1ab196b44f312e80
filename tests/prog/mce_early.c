// SPDX-License-Identifier: GPL-2.0
/*
 * mce_early - a memory error in a KSM page, and who hears of it early.
 *
 *   mce_early [-k SYSFS_DIR] [-t SECONDS] NPAGES
 *
 * Two children map pages and madvise them MADV_MERGEABLE: E has NPAGES
 * pages, the first filled with one byte and the others each different;
 * L has one page like E's first. E asks to be told of memory errors early
 * (prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY)) and catches
 * SIGBUS; L does not. Once pagemap shows E's first page and L's page on
 * one frame (merged by whoever SYSFS_DIR, default /sys/module/ksmod/ksm,
 * belongs to), this process poisons that frame through L's mapping
 * (madvise(MADV_HWPOISON) in L). Then:
 *   early CODE   the si_code of the SIGBUS E got without touching the page
 *                (4 BUS_MCEERR_AR, 5 BUS_MCEERR_AO), or "none"
 *   poison RET   madvise's result in L ("ok" or the errno name)
 *   touch CODE   the si_code E gets when it reads the page afterwards
 *   others OK    whether E's other pages still read back right
 * Prints those "key value" lines; exit 0 when the merge and the poisoning
 * happened (the caller judges the codes, which differ by kernel), 1 if not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
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

#include "errname.h"
#include "util.h"

#ifndef PR_MCE_KILL_EARLY
#define PR_MCE_KILL_EARLY 1
#endif

static long psize;
static volatile sig_atomic_t bus_code = -1;
static sigjmp_buf jump;
static volatile int jumping;

static void on_bus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	bus_code = si->si_code;
	if (jumping)
		siglongjmp(jump, 1);
}

static uint64_t pfn_of(void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd >= 0) {
		if (pread(fd, &e, 8, (uintptr_t)addr / psize * 8) != 8)
			e = 0;
		close(fd);
	}
	return (e & (1ULL << 63)) ? e & ((1ULL << 55) - 1) : 0;
}

/* page 0 of 0x6d, the others of 0x6e stamped with their index */
static char *map_pages(long npages)
{
	char *buf = mmap(NULL, npages * psize, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long i;

	if (buf == MAP_FAILED)
		exit(3);
	memset(buf, 0x6d, psize);
	for (i = 1; i < npages; i++) {
		memset(buf + i * psize, 0x6e, psize);
		memcpy(buf + i * psize, &i, sizeof(i));
	}
	if (madvise(buf, npages * psize, MADV_MERGEABLE))
		exit(4);
	return buf;
}

/*
 * A child: map, report the first page's frame on request ('p'), poison
 * it ('x', L only), report the early SIGBUS ('e'), touch it ('t'), check
 * the others ('o'); 'q' exits.
 */
static int child(int rfd, int wfd, long npages, int early)
{
	struct sigaction sa = {
		.sa_sigaction = on_bus,
		.sa_flags = SA_SIGINFO | SA_RESTART,
	};
	static char *buf;	/* static: sigsetjmp() below */
	char cmd;
	long i, j;

	if (early && prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0))
		return 5;
	sigaction(SIGBUS, &sa, NULL);
	buf = map_pages(early ? npages : 1);
	while (read(rfd, &cmd, 1) == 1) {
		int64_t v = 0;

		switch (cmd) {
		case 'p':
			v = pfn_of(buf);
			break;
		case 'x':
			v = madvise(buf, psize, MADV_HWPOISON) ? errno : 0;
			break;
		case 'e':
			v = bus_code;
			break;
		case 't':
			bus_code = -1;
			jumping = 1;
			if (!sigsetjmp(jump, 1))
				v = *(volatile char *)buf;
			jumping = 0;
			v = bus_code;
			break;
		case 'o':
			for (i = 1; i < npages; i++) {
				v |= memcmp(buf + i * psize, &i, sizeof(i));
				for (j = sizeof(i); j < psize; j++)
					v |= buf[i * psize + j] != 0x6e;
			}
			break;
		default:
			return 0;
		}
		if (write(wfd, &v, sizeof(v)) != sizeof(v))
			return 6;
	}
	return 0;
}

static int64_t ask(int (*p)[2], char cmd)
{
	int64_t v = -1;

	if (write(p[0][1], &cmd, 1) != 1 || read_all(p[1][0], &v, sizeof(v)))
		return -1;
	return v;
}

static const char *code_name(int64_t code)
{
	return code == 4 ? "BUS_MCEERR_AR" : code == 5 ? "BUS_MCEERR_AO" :
	       code < 0 ? "none" : "other";
}

int main(int argc, char **argv)
{
	const char *dir = "/sys/module/ksmod/ksm";
	int pe[2][2], pl[2][2], opt, timeout = 60;
	long npages;
	pid_t e, l;
	time_t end;
	int64_t v;

	psize = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "k:t:")) != -1) {
		if (opt == 'k')
			dir = optarg;
		else if (opt == 't')
			timeout = atoi(optarg);
		else
			return 2;
	}
	if (argc - optind != 1)
		return 2;
	npages = atol(argv[optind]);
	if (pipe(pe[0]) || pipe(pe[1]) || pipe(pl[0]) || pipe(pl[1]))
		return 1;
	e = fork();
	if (!e)
		_exit(child(pe[0][0], pe[1][1], npages, 1));
	l = fork();
	if (!l)
		_exit(child(pl[0][0], pl[1][1], npages, 0));

	end = time(NULL) + timeout;
	while (time(NULL) < end &&
	       (read_counter(dir, "pages_sharing") < 1 ||
		ask(pe, 'p') != ask(pl, 'p') || ask(pe, 'p') <= 0))
		usleep(100000);
	if (ask(pe, 'p') != ask(pl, 'p') || ask(pe, 'p') <= 0) {
		printf("merged no\n");
		return 1;
	}
	printf("merged yes\n");
	v = ask(pl, 'x');
	printf("poison %s\n", v ? errname(v) : "ok");
	usleep(500000);
	printf("early %s\n", code_name(ask(pe, 'e')));
	printf("touch %s\n", code_name(ask(pe, 't')));
	printf("others %s\n", ask(pe, 'o') ? "WRONG" : "intact");
	/* each child holds every pipe end too: no EOF for them */
	kill(e, SIGKILL);
	kill(l, SIGKILL);
	waitpid(e, NULL, 0);
	waitpid(l, NULL, 0);
	return v ? 1 : 0;
}
