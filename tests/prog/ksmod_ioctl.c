// SPDX-License-Identifier: GPL-2.0
/*
 * ksmod_ioctl - poke /dev/ksmod for the guest tests.
 *
 *   ksmod_ioctl version        print "ABI_MAJOR ABI_MINOR FEATURES RELEASE"
 *   ksmod_ioctl stats PID      KSMOD_IOC_MM_STATS: print "owner=O
 *                              cow_breaks=C merging_pages=M rmap_items=R",
 *                              or the errno name
 *   ksmod_ioctl tag PID TAG [FLAGS]
 *                              KSMOD_IOC_SET_TAG: print "ok" or the errno
 *                              name
 *   ksmod_ioctl domains [ROOM] KSMOD_IOC_DOMAIN_STATS with room for ROOM
 *                              (default 64): "mode=M nr=N", then a line
 *                              "KIND:ID shared=S sharing=G items=I" per
 *                              domain written (KIND all, uid, cgroup,
 *                              tag, alone)
 *   ksmod_ioctl cgroup reg|unreg PATH [FLAGS]
 *                              KSMOD_IOC_REGISTER_CGROUP or _UNREGISTER_
 *                              CGROUP with PATH opened read-only (a
 *                              number: that descriptor as it is): print
 *                              "nr=N skipped=S" or the errno name
 *   ksmod_ioctl raw CMD [bad]  issue ioctl number CMD (hex or decimal) with
 *                              a valid buffer (or a bad pointer); print
 *                              "ok" or the errno name
 * --fd N before the command: use descriptor N, /dev/ksmod inherited open
 * (opened by another user, say), instead of opening it.
 * Exit status: 0 when it could ask, 1 on usage or open errors.
 */
#include <errno.h>
#include <stdbool.h>
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
		fprintf(stderr, "usage: ksmod_ioctl [--fd N] version | stats PID | tag PID TAG [FLAGS] | domains [ROOM] | cgroup reg|unreg PATH [FLAGS] | raw CMD [bad]\n");
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
	if (!strcmp(argv[1], "tag") && (argc == 4 || argc == 5)) {
		struct ksmod_domain_req req = {
			.pid = atoi(argv[2]),
			.flags = argc == 5 ? strtoul(argv[4], NULL, 0) : 0,
			.tag = strtoull(argv[3], NULL, 0),
		};

		printf("%s\n", ioctl(fd, KSMOD_IOC_SET_TAG, &req) ?
		       errname(errno) : "ok");
		return 0;
	}
	if (!strcmp(argv[1], "domains") && argc <= 3) {
		static const char * const kinds[] = {
			"all", "uid", "cgroup", "tag", "alone"
		};
		struct ksmod_domain_stat d[64];
		struct ksmod_domain_stats req = {
			.nr = argc == 3 ? atoi(argv[2]) : 64,
			.domains = (unsigned long)d,
		};
		unsigned int i;

		if (req.nr > 64)
			req.nr = 64;
		memset(d, 0xff, sizeof(d));
		if (ioctl(fd, KSMOD_IOC_DOMAIN_STATS, &req)) {
			printf("%s\n", errname(errno));
			return 0;
		}
		printf("mode=%u nr=%u\n", req.mode, req.nr);
		for (i = 0; i < req.nr && i < 64 &&
		     (argc < 3 || i < (unsigned int)atoi(argv[2])); i++)
			printf("%s:%llu shared=%llu sharing=%llu items=%llu\n",
			       d[i].kind < 5 ? kinds[d[i].kind] : "?",
			       (unsigned long long)d[i].id,
			       (unsigned long long)d[i].pages_shared,
			       (unsigned long long)d[i].pages_sharing,
			       (unsigned long long)d[i].rmap_items);
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
	if (!strcmp(argv[1], "cgroup") && (argc == 4 || argc == 5)) {
		struct ksmod_cgroup_req req = {
			.flags = argc == 5 ? strtoul(argv[4], NULL, 0) : 0,
		};
		bool reg = !strcmp(argv[2], "reg");
		char *end;

		req.cgroup_fd = strtol(argv[3], &end, 10);
		if (*end || end == argv[3])
			req.cgroup_fd = open(argv[3], O_RDONLY | O_CLOEXEC);
		if (req.cgroup_fd == -1 && *end) {
			perror(argv[3]);
			return 1;
		}
		if (ioctl(fd, reg ? KSMOD_IOC_REGISTER_CGROUP :
			  KSMOD_IOC_UNREGISTER_CGROUP, &req))
			printf("%s\n", errname(errno));
		else
			printf("nr=%u skipped=%u\n", req.nr, req.skipped);
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
