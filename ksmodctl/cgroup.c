// SPDX-License-Identifier: GPL-2.0
/*
 * Whole cgroups: register --cgroup, unregister --cgroup, status --cgroup.
 *
 * Every process of a cgroup v2 subtree is merged as if it had called
 * prctl(PR_SET_MEMORY_MERGE), and its children after it, and ksmod follows
 * the subtree: a process moved in is registered, one it registered that
 * moves out unregistered, which unmerges it (KSMOD_IOC_REGISTER_CGROUP,
 * ABI 1.4). The figures of a subtree are the sum of its processes'
 * KSMOD_IOC_MM_STATS;
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

/*
 * register --cgroup PATH [--follow [SECS]], unregister --cgroup PATH:
 * KSMOD_IOC_REGISTER_CGROUP, which also makes ksmod follow the subtree,
 * and KSMOD_IOC_UNREGISTER_CGROUP. --follow is what made ksmodctl stay
 * and poll before ksmod followed cgroups itself (ABI 1.4): it now only
 * keeps ksmodctl in the foreground until SIGINT or SIGTERM (SECS is
 * ignored), for scripts and service units written for it.
 */
int cgroup_register(bool reg, int argc, char **argv)
{
	struct ksmod_cgroup_req r = { 0 };
	char dir[4096];
	sigset_t stop;
	int fd, cfd;

	if (argc < 1 || argc > 3)
		return usage();
	if (argc >= 2 && (!reg || strcmp(argv[1], "--follow") ||
			  (argc == 3 && atoi(argv[2]) < 1)))
		return usage();
	if (cgroup_dir(argv[0], dir, sizeof(dir)))
		return EXIT_FAIL;
	fd = open_dev();
	if (fd < 0)
		return -fd;
	cfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfd < 0) {
		err_msg("%s: %s", dir, strerror(errno));
		close(fd);
		return exit_for(errno);
	}
	r.cgroup_fd = cfd;
	if (ioctl(fd, reg ? KSMOD_IOC_REGISTER_CGROUP :
		  KSMOD_IOC_UNREGISTER_CGROUP, &r)) {
		int err = errno;

		err_msg("%s --cgroup %s: %s%s", reg ? "register" : "unregister",
			dir, strerror(err),
			err == ENOTTY ? " (ksmod older than ABI 1.4)" :
			err == ENOSPC ? " (64 cgroups are followed)" :
			hint_for(err));
		close(cfd);
		close(fd);
		return exit_for(err);
	}
	close(cfd);
	close(fd);
	printf("%s %u process%s of %s\n", reg ? "registered" : "unregistered",
	       r.nr, r.nr == 1 ? "" : "es", dir);
	fflush(stdout);
	if (r.skipped)
		err_msg("%u process%s of %s left as %s: no right to ptrace %s%s",
			r.skipped, r.skipped == 1 ? "" : "es", dir,
			r.skipped == 1 ? "it was" : "they were",
			r.skipped == 1 ? "it" : "them",
			reg ? "" : ", or not merged whole by ksmod");
	if (argc >= 2) {
		sigemptyset(&stop);
		sigaddset(&stop, SIGINT);
		sigaddset(&stop, SIGTERM);
		sigprocmask(SIG_BLOCK, &stop, NULL);
		while (sigwaitinfo(&stop, NULL) < 0 && errno == EINTR)
			;
	}
	return r.skipped && reg ? EXIT_PERM : EXIT_OK;
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
