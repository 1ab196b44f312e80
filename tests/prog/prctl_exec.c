// SPDX-License-Identifier: GPL-2.0
/*
 * prctl_exec - run a program with prctl(PR_SET_MEMORY_MERGE) set, for the
 * guest tests: whole-process merging of a program that was not written
 * for KSM.
 *
 *   prctl_exec PROG [ARG...]
 *
 * Calls prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0), then execvp(PROG, ARGs).
 * The setting survives exec (on 6.12 in the kernel, on 6.1 with ksmod
 * loaded), so PROG and everything it maps are merge-any from its start.
 * Whoever owns the prctl (the kernel's KSM, or ksmod when loaded) merges it.
 *
 * Exit status: PROG's, or 1 when the prctl or the exec fails (with the
 * reason on stderr), 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: prctl_exec PROG [ARG...]\n");
		return 2;
	}
	if (prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0)) {
		fprintf(stderr, "prctl_exec: PR_SET_MEMORY_MERGE: %s\n",
			strerror(errno));
		return 1;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "prctl_exec: %s: %s\n", argv[1], strerror(errno));
	return 1;
}
