// SPDX-License-Identifier: GPL-2.0
/*
 * Whole cgroups: register --cgroup, unregister --cgroup, status --cgroup.
 *
 * Every process of a cgroup v2 subtree is merged as if it had called
 * prctl(PR_SET_MEMORY_MERGE): KSMOD_IOC_REGISTER with KSMOD_RANGE_WHOLE,
 * which its children inherit. With --follow, ksmodctl stays and looks at
 * the subtree every few seconds: processes moved in are registered,
 * processes that left it (and that it registered) unregistered, which
 * unmerges them; it stops on SIGINT or SIGTERM, leaving them registered.
 * The figures of a subtree are the sum of its processes' KSMOD_IOC_MM_STATS;
 * its profit the sum of their ksm_process_profit (merging pages times the
 * page size, minus 64 bytes per page tracked).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "uapi/ksmod.h"
#include "ksmodctl.h"

#define CGROUP_ROOT	"/sys/fs/cgroup"

struct pids {
	pid_t *pid;
	size_t nr, room;
};

static int pids_add(struct pids *p, pid_t pid)
{
	if (p->nr == p->room) {
		size_t room = p->room ? 2 * p->room : 64;
		pid_t *n = realloc(p->pid, room * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->pid = n;
		p->room = room;
	}
	p->pid[p->nr++] = pid;
	return 0;
}

static bool pids_has(const struct pids *p, pid_t pid)
{
	size_t i;

	for (i = 0; i < p->nr; i++)
		if (p->pid[i] == pid)
			return true;
	return false;
}

/*
 * Add the processes of cgroup directory @dir and of every cgroup below it
 * to @p: 0 or -errno (-ENOENT when @dir is gone; a child cgroup removed
 * meanwhile is no error).
 */
static int subtree_pids(const char *dir, struct pids *p, int depth)
{
	char path[4096], line[32];
	struct dirent *de;
	FILE *f;
	DIR *d;
	int err = 0;

	if (depth > 64)
		return -ELOOP;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!err && fgets(line, sizeof(line), f))
		err = pids_add(p, atoi(line));
	fclose(f);
	d = opendir(dir);
	if (!d)
		return err ?: -errno;
	while (!err && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		err = subtree_pids(path, p, depth + 1);
		if (err == -ENOENT)
			err = 0;
	}
	closedir(d);
	return err;
}

/* PATH as given, or under /sys/fs/cgroup when relative to its root */
static int cgroup_dir(const char *arg, char *dir, size_t size)
{
	if (!strncmp(arg, CGROUP_ROOT "/", sizeof(CGROUP_ROOT)))
		snprintf(dir, size, "%s", arg);
	else
		snprintf(dir, size, CGROUP_ROOT "%s%s",
			 arg[0] == '/' ? "" : "/", arg);
	if (access(dir, F_OK)) {
		err_msg("no cgroup %s: %s", dir, strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * The cgroup directory of @arg into @dir, /dev/ksmod open into *@fd, the
 * processes of the subtree into @now: EXIT_OK, or an exit status after a
 * message (and nothing open).
 */
static int open_subtree(const char *arg, char *dir, size_t size, int *fd,
			struct pids *now)
{
	int err;

	if (cgroup_dir(arg, dir, size))
		return EXIT_FAIL;
	*fd = open_dev();
	if (*fd < 0)
		return -*fd;
	err = subtree_pids(dir, now, 0);
	if (err) {
		err_msg("%s: %s", dir, strerror(-err));
		close(*fd);
		return exit_for(-err);
	}
	return EXIT_OK;
}

static int whole(int fd, unsigned long req, pid_t pid)
{
	struct ksmod_range_req r = { .pid = pid, .flags = KSMOD_RANGE_WHOLE };

	return ioctl(fd, req, &r) ? -errno : 0;
}

/*
 * (Un)register each process of @now not in @skip; those done go into
 * @done (when given). Gone processes are no error. The first error, or 0.
 */
static int register_each(int fd, bool reg, const struct pids *now,
			 const struct pids *skip, struct pids *done, int *nr)
{
	const char *what = reg ? "register" : "unregister";
	int err, first = 0;
	size_t i;

	for (i = 0; i < now->nr; i++) {
		if (skip && pids_has(skip, now->pid[i]))
			continue;
		err = whole(fd, reg ? KSMOD_IOC_REGISTER : KSMOD_IOC_UNREGISTER,
			    now->pid[i]);
		if (err == -ESRCH)
			continue;	/* exited meanwhile */
		if (err) {
			err_msg("%s pid %d: %s%s", what, now->pid[i],
				strerror(-err), hint_for(-err));
			first = first ?: err;
			continue;
		}
		(*nr)++;
		if (done && pids_add(done, now->pid[i]))
			return -ENOMEM;
	}
	return first;
}

/* register --cgroup PATH [--follow [SECS]], unregister --cgroup PATH */
int cgroup_register(bool reg, int argc, char **argv)
{
	struct pids now = { 0 }, mine = { 0 }, left = { 0 };
	int fd, err, nr = 0, secs = 0;
	struct timespec every;
	char dir[4096];
	sigset_t stop;
	size_t i;

	if (argc < 1 || argc > 3)
		return usage();
	if (argc >= 2) {
		if (!reg || strcmp(argv[1], "--follow"))
			return usage();
		secs = argc == 3 ? atoi(argv[2]) : 2;
		if (secs < 1)
			return usage();
	}
	err = open_subtree(argv[0], dir, sizeof(dir), &fd, &now);
	if (err)
		return err;
	err = register_each(fd, reg, &now, NULL, &mine, &nr);
	printf("%s %d process%s of %s\n", reg ? "registered" : "unregistered",
	       nr, nr == 1 ? "" : "es", dir);
	fflush(stdout);
	/* SIGINT or SIGTERM ends the wait between two looks, and the loop */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	every.tv_sec = secs;
	every.tv_nsec = 0;
	while (secs && sigtimedwait(&stop, NULL, &every) < 0) {
		now.nr = 0;
		err = subtree_pids(dir, &now, 0);
		if (err == -ENOENT) {
			err_msg("cgroup %s is gone", dir);
			break;
		}
		if (err) {	/* a partial list: let go of nobody */
			err_msg("%s: %s", dir, strerror(-err));
			continue;
		}
		nr = 0;
		register_each(fd, true, &now, &mine, &mine, &nr);
		if (nr)
			printf("registered %d process%s moved into %s\n", nr,
			       nr == 1 ? "" : "es", dir);
		/* those that left: unregistered, forgotten */
		left.nr = 0;
		for (i = 0; i < mine.nr; i++)
			if (!pids_has(&now, mine.pid[i]) &&
			    pids_add(&left, mine.pid[i]))
				break;
		nr = 0;
		register_each(fd, false, &left, NULL, NULL, &nr);
		if (nr)
			printf("unregistered %d process%s that left %s\n", nr,
			       nr == 1 ? "" : "es", dir);
		for (i = 0; i < mine.nr; )
			if (pids_has(&left, mine.pid[i]))
				mine.pid[i] = mine.pid[--mine.nr];
			else
				i++;
		fflush(stdout);
	}
	close(fd);
	free(now.pid);
	free(mine.pid);
	free(left.pid);
	return err ? exit_for(-err) : EXIT_OK;
}

/* status --cgroup PATH: the sum of the subtree's processes' figures */
int cgroup_status(int argc, char **argv)
{
	unsigned long long merging = 0, cow = 0, items = 0;
	struct pids now = { 0 };
	int fd, err, ours = 0;
	char dir[4096], h[32];
	size_t i;

	if (argc != 1)
		return usage();
	err = open_subtree(argv[0], dir, sizeof(dir), &fd, &now);
	if (err)
		return err;
	for (i = 0; i < now.nr; i++) {
		struct ksmod_mm_stats st = { .pid = now.pid[i] };

		if (ioctl(fd, KSMOD_IOC_MM_STATS, &st) ||
		    st.owner != KSMOD_OWNER_KSMOD)
			continue;
		ours++;
		merging += st.merging_pages;
		cow += st.cow_breaks;
		items += st.rmap_items;
	}
	close(fd);
	if (json) {
		printf("{\"cgroup\": ");
		json_string(dir);
		printf(", \"processes\": %zu, \"ksmod_processes\": %d, \"merging_pages\": %llu, \"cow_breaks\": %llu, \"rmap_items\": %llu, \"profit\": %lld}\n",
		       now.nr, ours, merging, cow, items,
		       (long long)merging * page_size -
		       (long long)items * RMAP_ITEM_BYTES);
	} else {
		printf("cgroup %s: %zu processes, %d merged by ksmod\n", dir,
		       now.nr, ours);
		printf("merging pages:  %llu (%s)\n", merging,
		       human(h, sizeof(h), (long long)merging * page_size));
		printf("cow breaks:     %llu\n", cow);
		printf("pages tracked:  %llu\n", items);
		printf("profit:         %s (ksm_process_profit, summed)\n",
		       human(h, sizeof(h), (long long)merging * page_size -
			     (long long)items * RMAP_ITEM_BYTES));
	}
	free(now.pid);
	return EXIT_OK;
}
