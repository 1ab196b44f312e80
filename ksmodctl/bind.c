// SPDX-License-Identifier: GPL-2.0
/*
 * bind.c - ksmodctl bind-sysfs and unbind-sysfs.
 *
 * bind-sysfs mounts ksmod's directory over /sys/kernel/mm/ksm for tools
 * that know no other path. The kernel's KSM is stopped first (run=2,
 * which also unmerges its pages) and its previous run value is kept in
 * STATE_FILE; unbind-sysfs and unload restore it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ksmodctl.h"

/* the bind mount's root as /proc/self/mountinfo shows it (sysfs-relative) */
#define BIND_ROOT	"/module/ksmod/ksm"

/*
 * What is mounted on KERNEL_KSM, from /proc/self/mountinfo: 1 if the top
 * mount there is a bind of ksmod's directory (also one left stale by a
 * removed module), 0 if not, -errno if mountinfo cannot be read.
 */
int ksm_bound(void)
{
	char *line = NULL;
	size_t cap = 0;
	int bound = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char root[PATH_MAX], point[PATH_MAX];

		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... */
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, point) != 2)
			continue;
		if (strcmp(point, KERNEL_KSM))
			continue;
		/* the last mount on a path is the one on top */
		bound = !strncmp(root, BIND_ROOT, strlen(BIND_ROOT)) &&
			(root[strlen(BIND_ROOT)] == '\0' ||
			 root[strlen(BIND_ROOT)] == '\\');
	}
	free(line);
	fclose(f);
	return bound;
}

/* Remove the bind mount and restore the kernel's run: an exit status. */
int sysfs_unbind(bool quiet)
{
	char prev[16] = "";
	bool restore;
	int err;

	if (umount2(KERNEL_KSM, UMOUNT_NOFOLLOW)) {
		err = errno;
		if (err != EBUSY) {
			err_msg("cannot unmount %s: %s", KERNEL_KSM,
				strerror(err));
			return exit_for(err);
		}
		/* a process is inside: detach now, it goes when they leave */
		if (umount2(KERNEL_KSM, MNT_DETACH | UMOUNT_NOFOLLOW)) {
			err = errno;
			err_msg("cannot unmount %s: %s", KERNEL_KSM,
				strerror(err));
			return exit_for(err);
		}
		err_msg("%s was busy: detached, it goes once unused",
			KERNEL_KSM);
	}
	restore = !read_line(STATE_FILE, prev, sizeof(prev)) &&
		  is_integer(prev);
	if (ksm_bound() == 1) {
		/* another bind lies below: not the kernel's files yet */
		err_msg("%s still shows ksmod's files: bound more than once?",
			KERNEL_KSM);
		return EXIT_FAIL;
	}
	if (restore) {
		err = write_ksm(KERNEL_KSM, "run", prev);
		if (err) {
			err_msg("unbound, but cannot restore the kernel's %s/run to %s: %s",
				KERNEL_KSM, prev, strerror(-err));
			return exit_for(-err);
		}
	}
	unlink(STATE_FILE);
	if (!quiet) {
		if (restore)
			printf("%s shows the kernel's KSM again (its run restored to %s)\n",
			       KERNEL_KSM, prev);
		else
			printf("%s shows the kernel's KSM again\n", KERNEL_KSM);
	}
	return EXIT_OK;
}

int cmd_bind_sysfs(void)
{
	char prev[16];
	int err, fd;

	if (!ksmod_loaded())
		return not_loaded();
	err = ksm_bound();
	if (err < 0) {
		err_msg("/proc/self/mountinfo: %s", strerror(-err));
		return EXIT_FAIL;
	}
	if (err) {
		err_msg("%s already shows ksmod's files", KERNEL_KSM);
		return EXIT_FAIL;
	}
	err = read_ksm(KERNEL_KSM, "run", prev, sizeof(prev));
	if (err) {
		err_msg("%s/run: %s%s", KERNEL_KSM, strerror(-err),
			err == -ENOENT ? " (this kernel has no KSM)" : "");
		return exit_for(-err);
	}
	/* Keep the kernel's run first: a failure below must leave no trace. */
	if (mkdir(STATE_DIR, 0755) && errno != EEXIST) {
		err = errno;
		err_msg("%s: %s", STATE_DIR, strerror(err));
		return exit_for(err);
	}
	fd = open(STATE_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || dprintf(fd, "%s\n", prev) < 0 || close(fd)) {
		err = errno;
		err_msg("%s: %s", STATE_FILE, strerror(err));
		unlink(STATE_FILE);
		return exit_for(err);
	}
	/* Stop the kernel's KSM; 2 also unmerges what it merged. */
	err = write_ksm(KERNEL_KSM, "run", "2");
	if (err) {
		err_msg("cannot stop the kernel's KSM (%s/run=2): %s; nothing bound",
			KERNEL_KSM, strerror(-err));
		write_ksm(KERNEL_KSM, "run", prev);
		unlink(STATE_FILE);
		return exit_for(-err);
	}
	if (mount(SYSFS_KSM, KERNEL_KSM, NULL, MS_BIND, NULL)) {
		err = errno;
		err_msg("cannot bind %s on %s: %s", SYSFS_KSM, KERNEL_KSM,
			strerror(err));
		write_ksm(KERNEL_KSM, "run", prev);
		unlink(STATE_FILE);
		return exit_for(err);
	}
	printf("%s shows ksmod's files; the kernel's KSM is stopped (run was %s, now 2 until unbind-sysfs or unload)\n",
	       KERNEL_KSM, prev);
	return EXIT_OK;
}

int cmd_unbind_sysfs(void)
{
	int bound = ksm_bound();

	if (bound < 0) {
		err_msg("/proc/self/mountinfo: %s", strerror(-bound));
		return EXIT_FAIL;
	}
	if (!bound) {
		err_msg("%s is not bound to ksmod's files", KERNEL_KSM);
		return EXIT_FAIL;
	}
	return sysfs_unbind(false);
}
