// SPDX-License-Identifier: GPL-2.0
/*
 * ranges.c - ksmodctl register, unregister and ranges: the processes and
 * ranges ksmod merges, through the ioctls of /dev/ksmod
 * (include/uapi/ksmod.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "uapi/ksmod.h"
#include "ksmodctl.h"

static const char *owner_name(__u32 owner)
{
	switch (owner) {
	case KSMOD_OWNER_NONE:
		return "none";
	case KSMOD_OWNER_KSMOD:
		return "ksmod";
	case KSMOD_OWNER_KERNEL:
		return "kernel";
	default:
		return "unknown";
	}
}

static void read_comm(pid_t pid, char *buf, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (read_line(path, buf, size))
		snprintf(buf, size, "?");
}

/*
 * QUERY @pid: its ranges in *@r (malloc'ed, to free), their number in
 * *@nr, the owner in *@owner. 0 or -errno.
 */
static int query(int fd, pid_t pid, struct ksmod_range **r, __u32 *nr,
		 __u32 *owner)
{
	struct ksmod_range *buf = NULL;
	__u32 cap = 16;

	for (;;) {
		struct ksmod_query q = { .pid = pid, .nr = cap };
		struct ksmod_range *n = realloc(buf, cap * sizeof(*buf));

		if (!n) {
			free(buf);
			return -ENOMEM;
		}
		buf = n;
		q.ranges = (__u64)(unsigned long)buf;
		if (ioctl(fd, KSMOD_IOC_QUERY, &q)) {
			int err = -errno;

			free(buf);
			return err;
		}
		if (q.nr <= cap) {
			*r = buf;
			*nr = q.nr;
			*owner = q.owner;
			return 0;
		}
		cap = q.nr + 16;	/* it grew meanwhile: ask again */
	}
}

static int range_ioctl(int fd, unsigned long req, pid_t pid,
		       unsigned long long start, unsigned long long len)
{
	struct ksmod_range_req r = {
		.pid = pid, .start = start, .len = len,
	};

	return ioctl(fd, req, &r) ? -errno : 0;
}

static void range_error(const char *what, pid_t pid, unsigned long long start,
			unsigned long long end, int err)
{
	const char *hint = hint_for(err);

	if (err == EINVAL)
		hint = " (START must be a multiple of the page size; END above it)";
	else if (err == ENOMEM)
		hint = " (part of the range is not mapped; the mapped parts were done)";
	else if (err == ESRCH)
		hint = " (no such process)";
	else if (err == EPERM)
		hint = " (may not ptrace that process)";
	err_msg("%s %llx-%llx of pid %d: %s%s", what, start, end, pid,
		strerror(err), hint);
}

struct span {
	unsigned long long start, end;
};

/*
 * The mappings of @pid that KSM can merge: private, writable, anonymous
 * (no file; heap, stack and named anonymous mappings). Adjacent ones are
 * joined. *@spans is malloc'ed; returns their number or -errno.
 */
static int mergeable_maps(pid_t pid, struct span **spans)
{
	struct span *s = NULL;
	size_t cap = 0;
	char path[64], *line = NULL;
	int nr = 0, err = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &cap, f) > 0) {
		unsigned long long start, end, inode;
		char perms[8], name[256] = "";

		if (sscanf(line, "%llx-%llx %7s %*s %*s %llu %255s", &start,
			   &end, perms, &inode, name) < 4)
			continue;
		if (perms[1] != 'w' || perms[3] != 'p' || inode)
			continue;
		if (name[0] && strcmp(name, "[heap]") &&
		    strncmp(name, "[stack", 6) && strncmp(name, "[anon:", 6))
			continue;
		if (nr && s[nr - 1].end == start) {
			s[nr - 1].end = end;
			continue;
		}
		if (!(nr & 15)) {
			struct span *n = realloc(s, (nr + 16) * sizeof(*s));

			if (!n) {
				err = -ENOMEM;
				break;
			}
			s = n;
		}
		s[nr].start = start;
		s[nr].end = end;
		nr++;
	}
	free(line);
	fclose(f);
	if (err) {
		free(s);
		return err;
	}
	*spans = s;
	return nr;
}

/* "registered 2 ranges, 1.0 MiB, of pid 42 (name)" */
static void print_done(const char *what, int nr, unsigned long long bytes,
		       pid_t pid, int gone)
{
	char comm[32], h[32];

	read_comm(pid, comm, sizeof(comm));
	printf("%sed %d range%s, %s, of pid %d (%s)", what, nr,
	       nr == 1 ? "" : "s", human(h, sizeof(h), bytes), pid, comm);
	if (gone)
		printf("; %d unmapped meanwhile", gone);
	printf("\n");
}

/* register/unregister PID: every mergeable mapping, or every range. */
static int whole_process(int fd, bool reg, pid_t pid)
{
	const char *what = reg ? "register" : "unregister";
	unsigned long req = reg ? KSMOD_IOC_REGISTER : KSMOD_IOC_UNREGISTER;
	unsigned long long bytes = 0;
	struct span *spans = NULL;
	struct ksmod_range *r = NULL;
	int i, nr, done = 0, gone = 0, err;
	__u32 nr_r, owner;

	if (reg) {
		nr = mergeable_maps(pid, &spans);
	} else {
		err = query(fd, pid, &r, &nr_r, &owner);
		nr = err ?: (int)nr_r;
		if (!err) {
			spans = calloc(nr_r + 1, sizeof(*spans));
			if (!spans)
				nr = -ENOMEM;
			for (i = 0; spans && i < nr; i++) {
				spans[i].start = r[i].start;
				spans[i].end = r[i].end;
			}
			free(r);
		}
	}
	if (nr < 0) {
		err_msg("%s pid %d: %s%s", what, pid, strerror(-nr),
			hint_for(-nr));
		return exit_for(-nr);
	}
	for (i = 0; i < nr; i++) {
		err = range_ioctl(fd, req, pid, spans[i].start,
				  spans[i].end - spans[i].start);
		if (err == -ENOMEM) {
			gone++;	/* unmapped since we looked */
			continue;
		}
		if (err) {
			range_error(what, pid, spans[i].start, spans[i].end,
				    -err);
			free(spans);
			return exit_for(-err);
		}
		done++;
		bytes += spans[i].end - spans[i].start;
	}
	free(spans);
	print_done(what, done, bytes, pid, gone);
	return EXIT_OK;
}

/* register, or unregister (@reg false): PID [START LEN | START-END] */
static int do_register(bool reg, int argc, char **argv)
{
	const char *what = reg ? "register" : "unregister";
	unsigned long long start = 0, end = 0, len = 0;
	struct ksmod_range *r;
	__u32 nr, owner;
	pid_t pid;
	char *dash;
	int fd, err, ret = EXIT_OK;

	if (argc >= 1 && !strcmp(argv[0], "--cgroup"))
		return cgroup_register(reg, argc - 1, argv + 1);
	if (argc < 1 || argc > 3 || parse_pid(argv[0], &pid))
		return usage();
	if (argc == 2) {
		dash = strchr(argv[1], '-');
		if (dash)
			*dash = '\0';
		if (!dash || parse_addr(argv[1], &start) ||
		    parse_addr(dash + 1, &end) || end <= start) {
			err_msg("bad range '%s%s%s' (want START-END in hex, END above START, or START LEN)",
				argv[1], dash ? "-" : "", dash ? dash + 1 : "");
			return EXIT_USAGE;
		}
		len = end - start;
	} else if (argc == 3) {
		if (parse_addr(argv[1], &start) || parse_len(argv[2], &len) ||
		    !len) {
			err_msg("bad range '%s %s' (want START in hex, LEN: bytes, K, M, G or 0x)",
				argv[1], argv[2]);
			return EXIT_USAGE;
		}
		end = start + len;
	}
	fd = open_dev();
	if (fd < 0)
		return -fd;
	if (argc == 1) {
		ret = whole_process(fd, reg, pid);
	} else {
		err = range_ioctl(fd, reg ? KSMOD_IOC_REGISTER :
				  KSMOD_IOC_UNREGISTER, pid, start, len);
		if (err) {
			range_error(what, pid, start, end, -err);
			ret = exit_for(-err);
		} else {
			print_done(what, 1, len, pid, 0);
		}
	}
	/* madvise of a process the kernel's KSM had goes to the kernel's */
	if (reg && ret == EXIT_OK && !query(fd, pid, &r, &nr, &owner)) {
		if (owner == KSMOD_OWNER_KERNEL)
			err_msg("note: pid %d belongs to the kernel's KSM (it asked before ksmod was loaded): the kernel merges it, not ksmod",
				pid);
		free(r);
	}
	close(fd);
	return ret;
}

int cmd_register(int argc, char **argv)
{
	return do_register(true, argc, argv);
}

int cmd_unregister(int argc, char **argv)
{
	return do_register(false, argc, argv);
}

/* tag PID TAG: the process's merge domain tag (merge_domain tag) */
int cmd_tag(int argc, char **argv)
{
	struct ksmod_domain_req req = { 0 };
	unsigned long long tag;
	char *end;
	pid_t pid;
	int fd, ret = EXIT_OK;

	if (argc != 2 || parse_pid(argv[0], &pid))
		return usage();
	errno = 0;
	tag = strtoull(argv[1], &end, 0);
	if (errno || end == argv[1] || *end || argv[1][0] == '-' ||
	    tag > KSMOD_TAG_MAX) {
		err_msg("bad tag '%s' (want a number below 2^62)", argv[1]);
		return EXIT_USAGE;
	}
	req.pid = pid;
	req.tag = tag;
	fd = open_dev();
	if (fd < 0)
		return -fd;
	if (ioctl(fd, KSMOD_IOC_SET_TAG, &req)) {
		int err = errno;

		err_msg("tag pid %d: %s%s", pid, strerror(err),
			err == ENOENT ? " (register it first)" : "");
		ret = exit_for(err);
	} else {
		printf("pid %d: tag %llu\n", pid, tag);
	}
	close(fd);
	return ret;
}

/* width of the columns before RANGE in the text of `ranges` */
#define RANGES_INDENT	50

/*
 * One process of `ranges`; a text header is printed before the first.
 * Merging pages from /proc (whoever merges), COW breaks from MM_STATS
 * (ksmod's processes, ABI 1.2).
 */
static void print_process(int fd, pid_t pid, __u32 owner,
			  const struct ksmod_range *r, __u32 nr, bool *first)
{
	struct ksmod_mm_stats ms = { .pid = pid };
	char comm[32], path[64], merging[32], cow[32], h[32];
	__u32 i;

	read_comm(pid, comm, sizeof(comm));
	snprintf(path, sizeof(path), "/proc/%d/ksm_merging_pages", pid);
	if (read_line(path, merging, sizeof(merging)) || !is_integer(merging))
		snprintf(merging, sizeof(merging), json ? "null" : "-");
	if (owner == KSMOD_OWNER_KSMOD && !ioctl(fd, KSMOD_IOC_MM_STATS, &ms))
		snprintf(cow, sizeof(cow), "%llu",
			 (unsigned long long)ms.cow_breaks);
	else
		snprintf(cow, sizeof(cow), json ? "null" : "-");
	if (json) {
		printf("%s{\"pid\": %d, \"comm\": ", *first ? "" : ", ", pid);
		json_string(comm);
		printf(", \"owner\": \"%s\", \"merging_pages\": %s, \"cow_breaks\": %s, \"ranges\": [",
		       owner_name(owner), merging, cow);
		for (i = 0; i < nr; i++)
			printf("%s{\"start\": \"0x%llx\", \"end\": \"0x%llx\", \"bytes\": %llu}",
			       i ? ", " : "", (unsigned long long)r[i].start,
			       (unsigned long long)r[i].end,
			       (unsigned long long)(r[i].end - r[i].start));
		printf("]}");
	} else {
		if (*first)
			printf("%7s  %-16s %-6s %8s %8s  %-25s %10s\n", "PID",
			       "COMMAND", "OWNER", "MERGING", "COW", "RANGE",
			       "SIZE");
		printf("%7d  %-16s %-6s %8s %8s", pid, comm, owner_name(owner),
		       merging, cow);
		for (i = 0; i < nr; i++) {
			char range[40];

			snprintf(range, sizeof(range), "%llx-%llx",
				 (unsigned long long)r[i].start,
				 (unsigned long long)r[i].end);
			printf("%*s  %-25s %10s\n", i ? RANGES_INDENT : 0, "",
			       range, human(h, sizeof(h), r[i].end - r[i].start));
		}
		if (!nr)
			printf("\n");
	}
	*first = false;
}

int cmd_ranges(int argc, char **argv)
{
	bool first = true;
	struct ksmod_range *r;
	__u32 nr, owner;
	pid_t pid;
	int i, fd, err, ret = EXIT_OK;

	for (i = 0; i < argc; i++)
		if (parse_pid(argv[i], &pid))
			return usage();
	fd = open_dev();
	if (fd < 0)
		return -fd;
	if (json)
		printf("{\"processes\": [");
	if (argc) {
		for (i = 0; i < argc; i++) {
			parse_pid(argv[i], &pid);
			err = query(fd, pid, &r, &nr, &owner);
			if (err) {
				err_msg("pid %d: %s%s", pid, strerror(-err),
					err == -ESRCH ? "" : hint_for(-err));
				ret = exit_for(-err);
				continue;
			}
			print_process(fd, pid, owner, r, nr, &first);
			free(r);
		}
	} else {
		/* every process ksmod has; they come and go meanwhile */
		struct dirent *de;
		DIR *dir = opendir("/proc");

		if (!dir) {
			err_msg("/proc: %s", strerror(errno));
			close(fd);
			return EXIT_FAIL;
		}
		while ((de = readdir(dir))) {
			if (parse_pid(de->d_name, &pid))
				continue;
			if (query(fd, pid, &r, &nr, &owner))
				continue;	/* gone, a kernel thread... */
			if (owner == KSMOD_OWNER_KSMOD)
				print_process(fd, pid, owner, r, nr, &first);
			free(r);
		}
		closedir(dir);
		if (first && !json)
			printf("no process is registered with ksmod\n");
	}
	if (json)
		printf("]}\n");
	close(fd);
	return ret;
}
