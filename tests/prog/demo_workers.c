// SPDX-License-Identifier: GPL-2.0
/*
 * demo_workers - processes holding the same data, as a pool of identical
 * workers or VMs would.
 *
 *   demo_workers NPROC MIB
 *
 * Forks NPROC processes; each maps MIB MiB of private anonymous memory
 * and fills it with the same data (256 different pages, repeated); huge
 * pages are what the system gives (Debian: transparent_hugepage=always,
 * so a worker's memory is mostly 2 MiB huge pages, as a real one's). None
 * of them asks for KSM: each prints "PID ADDRESS LENGTH" (hex address and
 * length) on one line, and they all sleep until killed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long psize = sysconf(_SC_PAGESIZE), len, i;
	int nproc, n;

	if (argc != 3) {
		fprintf(stderr, "usage: demo_workers NPROC MIB\n");
		return 2;
	}
	nproc = atoi(argv[1]);
	len = atol(argv[2]) << 20;
	for (n = 0; n < nproc; n++) {
		if (fork())
			continue;
		char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (buf == MAP_FAILED)
			_exit(1);
		for (i = 0; i < len / psize; i++)
			memset(buf + i * psize, (int)(i % 256), psize);
		printf("%d %lx %lx\n", getpid(), (unsigned long)buf, len);
		fflush(stdout);
		for (;;)
			pause();
	}
	return 0;
}
