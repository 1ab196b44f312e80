// SPDX-License-Identifier: GPL-2.0
/*
 * ksmod_reg - the registration ioctls of /dev/ksmod, for the guest tests.
 *
 *   ksmod_reg [--fd N] [--as-nobody] register|unregister PID START LEN [FLAGS]
 *	KSMOD_IOC_REGISTER / _UNREGISTER; prints "ok" or the errno name.
 *	PID decimal (0: this process), START hex (0x optional), LEN and
 *	FLAGS decimal or 0x-hex. START "self": map LEN bytes here first and
 *	use them; then a QUERY of pid 0 follows, printed as below except
 *	that a range equal to the mapped one prints as "self". START
 *	"mine": the same, the bytes madvised MADV_MERGEABLE before the
 *	ioctl (something for UNREGISTER to undo).
 *   ksmod_reg [--fd N] [--as-nobody] query PID [CAP [FLAGS]]
 *	KSMOD_IOC_QUERY with room for CAP ranges (default 64; 0 passes a
 *	NULL array; "bad" passes 4 and an unmapped address). Prints
 *	"owner=ksmod|kernel|none nr=N", then "START-END" (hex) for each range
 *	written, or the errno name. The array has sentinels past CAP: if the
 *	kernel wrote there, prints "CLOBBERED entry I past capacity" last.
 *   ksmod_reg badarg register|unregister|query
 *	the ioctl with an unmapped argument pointer; prints "ok" or errno
 *   ksmod_reg mg PID ADDR
 *	"mg", "no mg" or "unmapped": is the VMA of PID that contains ADDR
 *	(hex) mergeable, per its VmFlags in /proc/PID/smaps?
 *
 * --fd N: use descriptor N, /dev/ksmod inherited open (opened by another
 * user, say), instead of opening it.
 * --as-nobody: open /dev/ksmod as root, then drop to uid and gid 65534 and
 * no supplementary groups before the ioctl.
 * Exit status: 0 when it could ask (whatever the answer), 1 on usage,
 * open or set-up errors, 3 when the kernel wrote past the capacity.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "uapi/ksmod.h"
#include "errname.h"
#include "util.h"

#define DEFAULT_CAP	64
#define NSENTINEL	4
#define SENTINEL_BYTE	0xa5
#define BAD_PTR		((void *)16)	/* in the unmapped page zero */

static const char *owner_name(__u32 owner)
{
	switch (owner) {
	case KSMOD_OWNER_NONE: return "none";
	case KSMOD_OWNER_KSMOD: return "ksmod";
	case KSMOD_OWNER_KERNEL: return "kernel";
	default: return "unknown";
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ksmod_reg [--fd N] [--as-nobody] register|unregister PID START|self|mine LEN [FLAGS]\n"
		"       ksmod_reg [--fd N] [--as-nobody] query PID [CAP|bad [FLAGS]]\n"
		"       ksmod_reg badarg register|unregister|query\n"
		"       ksmod_reg mg PID ADDR\n");
	exit(1);
}

static int parse_u64(const char *s, int base, __u64 *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, base);
	return errno || !*s || *end ? -1 : 0;
}

static __s32 parse_pid(const char *s)
{
	__u64 v;

	if (parse_u64(s, 10, &v) || v > INT32_MAX)
		usage();
	return (__s32)v;
}

static int drop_to_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534)) {
		perror("ksmod_reg: dropping to uid 65534");
		return -1;
	}
	return 0;
}

/*
 * QUERY with room for cap ranges (or a bad array when bad); print the
 * answer. Ranges equal to [self_start, self_end) print as "self".
 */
static int query(int fd, __s32 pid, __u32 cap, int bad, __u32 flags,
		 __u64 self_start, __u64 self_end)
{
	struct ksmod_range *r = NULL;
	struct ksmod_query q;
	__u32 i, shown;
	size_t j;

	if (!bad && cap) {
		r = malloc((cap + NSENTINEL) * sizeof(*r));
		if (!r) {
			perror("ksmod_reg: malloc");
			return 1;
		}
		memset(r, SENTINEL_BYTE, (cap + NSENTINEL) * sizeof(*r));
	}
	memset(&q, 0, sizeof(q));
	q.pid = pid;
	q.flags = flags;
	q.nr = bad ? 4 : cap;
	q.owner = 0xdead;
	q.ranges = (__u64)(uintptr_t)(bad ? BAD_PTR : r);
	if (ioctl(fd, KSMOD_IOC_QUERY, &q)) {
		printf("%s\n", errname(errno));
		return 0;
	}
	printf("owner=%s nr=%u\n", owner_name(q.owner), q.nr);
	shown = bad ? 0 : (q.nr < cap ? q.nr : cap);
	for (i = 0; i < shown; i++) {
		if (r[i].start == self_start && r[i].end == self_end)
			printf("self\n");
		else
			printf("%llx-%llx\n", (unsigned long long)r[i].start,
			       (unsigned long long)r[i].end);
	}
	if (r) {
		const unsigned char *s = (const unsigned char *)&r[cap];

		for (j = 0; j < NSENTINEL * sizeof(*r); j++)
			if (s[j] != SENTINEL_BYTE) {
				printf("CLOBBERED entry %zu past capacity\n",
				       j / sizeof(*r));
				return 3;
			}
	}
	free(r);
	return 0;
}

static int range_cmd(int fd, unsigned long cmd, int argc, char **argv)
{
	struct ksmod_range_req req;
	void *self = NULL;
	__u64 v;

	if (argc < 3 || argc > 4)
		usage();
	memset(&req, 0, sizeof(req));
	req.pid = parse_pid(argv[0]);
	if (parse_u64(argv[2], 0, &req.len))
		usage();
	if (argc == 4) {
		if (parse_u64(argv[3], 0, &v) || v > UINT32_MAX)
			usage();
		req.flags = (__u32)v;
	}
	if (!strcmp(argv[1], "self") || !strcmp(argv[1], "mine")) {
		self = mmap(NULL, req.len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (self == MAP_FAILED) {
			perror("ksmod_reg: mmap");
			return 1;
		}
		memset(self, 0x3c, req.len);
		if (!strcmp(argv[1], "mine") &&
		    madvise(self, req.len, MADV_MERGEABLE)) {
			perror("ksmod_reg: madvise");
			return 1;
		}
		req.start = (__u64)(uintptr_t)self;
	} else if (parse_u64(argv[1], 16, &req.start)) {
		usage();
	}
	if (ioctl(fd, cmd, &req)) {
		printf("%s\n", errname(errno));
		return 0;
	}
	printf("ok\n");
	if (self)
		return query(fd, 0, DEFAULT_CAP, 0, 0, req.start,
			     req.start + req.len);
	return 0;
}

/* Print whether the VMA of pid containing addr has VM_MERGEABLE. */
static int mg(const char *pid, const char *addr_s)
{
	char path[64], line[1024];
	int in_vma = 0;
	__u64 addr;
	FILE *f;

	if (parse_u64(addr_s, 16, &addr))
		usage();
	snprintf(path, sizeof(path), "/proc/%s/smaps", pid);
	f = fopen(path, "r");
	if (!f) {
		perror(path);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi;
		char c;

		if (sscanf(line, "%llx-%llx %c", &lo, &hi, &c) == 3 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in_vma = lo <= addr && addr < hi;
			continue;
		}
		if (in_vma && !strncmp(line, "VmFlags:", 8)) {
			fclose(f);
			printf("%s\n", strstr(line, " mg") ? "mg" : "no mg");
			return 0;
		}
	}
	fclose(f);
	printf("unmapped\n");
	return 0;
}

static unsigned long cmd_number(const char *name)
{
	if (!strcmp(name, "register"))
		return KSMOD_IOC_REGISTER;
	if (!strcmp(name, "unregister"))
		return KSMOD_IOC_UNREGISTER;
	if (!strcmp(name, "query"))
		return KSMOD_IOC_QUERY;
	usage();
	return 0;
}

int main(int argc, char **argv)
{
	int nobody = 0, fd;
	__u64 v;

	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = inherited_fd(&argc, &argv);
	if (argc > 1 && !strcmp(argv[1], "--as-nobody")) {
		nobody = 1;
		argv++;
		argc--;
	}
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "mg")) {
		if (argc != 4 || nobody || fd >= 0)
			usage();
		return mg(argv[2], argv[3]);
	}
	if (fd < 0)
		fd = open(KSMOD_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror(KSMOD_DEVICE);
		return 1;
	}
	if (nobody && drop_to_nobody())
		return 1;
	if (!strcmp(argv[1], "register") || !strcmp(argv[1], "unregister"))
		return range_cmd(fd, cmd_number(argv[1]), argc - 2, argv + 2);
	if (!strcmp(argv[1], "query")) {
		__u32 cap = DEFAULT_CAP, flags = 0;
		int bad = 0;

		if (argc < 3 || argc > 5)
			usage();
		if (argc >= 4) {
			if (!strcmp(argv[3], "bad"))
				bad = 1;
			else if (parse_u64(argv[3], 0, &v) || v > 1 << 20)
				usage();
			else
				cap = (__u32)v;
		}
		if (argc == 5) {
			if (parse_u64(argv[4], 0, &v) || v > UINT32_MAX)
				usage();
			flags = (__u32)v;
		}
		return query(fd, parse_pid(argv[2]), cap, bad, flags, 1, 0);
	}
	if (!strcmp(argv[1], "badarg")) {
		if (argc != 3)
			usage();
		if (ioctl(fd, cmd_number(argv[2]), BAD_PTR))
			printf("%s\n", errname(errno));
		else
			printf("ok\n");
		return 0;
	}
	usage();
	return 1;
}
