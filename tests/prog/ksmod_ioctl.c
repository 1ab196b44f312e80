// SPDX-License-Identifier: GPL-2.0
/*
 * ksmod_ioctl - poke /dev/ksmod for the guest tests.
 *
 *   ksmod_ioctl version        print "ABI_MAJOR ABI_MINOR FEATURES RELEASE"
 *   ksmod_ioctl stats PID      KSMOD_IOC_MM_STATS: print "owner=O
 *                              cow_breaks=C merging_pages=M rmap_items=R",
 *                              or the errno name
 *   ksmod_ioctl raw CMD [bad]  issue ioctl number CMD (hex or decimal) with
 *                              a valid buffer (or a bad pointer); print
 *                              "ok" or the errno name
 * --fd N before the command: use descriptor N, /dev/ksmod inherited open
 * (opened by another user, say), instead of opening it.
 * Exit status: 0 when it could ask, 1 on usage or open errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "uapi/ksmod.h"
#include "errname.h"
#include "util.h"

int main(int argc, char **argv)
{
	int fd = inherited_fd(&argc, &argv);

	if (argc < 2) {
		fprintf(stderr, "usage: ksmod_ioctl [--fd N] version | stats PID | raw CMD [bad]\n");
		return 1;
	}
	if (fd < 0)
		fd = open(KSMOD_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror(KSMOD_DEVICE);
		return 1;
	}
	if (!strcmp(argv[1], "version")) {
		struct ksmod_version v;

		memset(&v, 0xff, sizeof(v));
		if (ioctl(fd, KSMOD_IOC_GET_VERSION, &v)) {
			printf("%s\n", errname(errno));
			return 0;
		}
		printf("%u %u %llu %.*s\n", v.abi_major, v.abi_minor,
		       (unsigned long long)v.features,
		       (int)sizeof(v.release), v.release);
		return 0;
	}
	if (!strcmp(argv[1], "stats") && argc == 3) {
		struct ksmod_mm_stats st;

		memset(&st, 0xff, sizeof(st));
		st.pid = atoi(argv[2]);
		st.flags = 0;
		if (ioctl(fd, KSMOD_IOC_MM_STATS, &st)) {
			printf("%s\n", errname(errno));
			return 0;
		}
		printf("owner=%u cow_breaks=%llu merging_pages=%llu rmap_items=%llu\n",
		       st.owner, (unsigned long long)st.cow_breaks,
		       (unsigned long long)st.merging_pages,
		       (unsigned long long)st.rmap_items);
		return 0;
	}
	if (!strcmp(argv[1], "raw") && argc >= 3) {
		unsigned long cmd = strtoul(argv[2], NULL, 0);
		static char buf[4096];
		void *arg = buf;

		if (argc >= 4 && !strcmp(argv[3], "bad"))
			arg = (void *)16;	/* unmapped page zero */
		if (ioctl(fd, cmd, arg))
			printf("%s\n", errname(errno));
		else
			printf("ok\n");
		return 0;
	}
	fprintf(stderr, "ksmod_ioctl: unknown command %s\n", argv[1]);
	return 1;
}
