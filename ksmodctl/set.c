// SPDX-License-Identifier: GPL-2.0
/*
 * set.c - ksmodctl set and unmerge: writes to ksmod's tunables.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ksmodctl.h"

int cmd_set(int argc, char **argv)
{
	int i, err;

	if (!argc)
		return usage();
	for (i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq || eq == argv[i] || strchr(argv[i], '/')) {
			err_msg("bad setting '%s' (want NAME=VALUE)", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!ksmod_loaded())
		return not_loaded();
	for (i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		*eq = '\0';
		err = write_ksm(SYSFS_KSM, argv[i], eq + 1);
		if (err == -ENOENT) {
			err_msg("%s: ksmod has no such file", argv[i]);
			return EXIT_FAIL;
		}
		if (err) {
			err_msg("%s=%s: %s%s%s", argv[i], eq + 1, strerror(-err),
				err == -EBUSY ? " (not while pages are merged: unmerge first)" : "",
				hint_for(-err));
			return exit_for(-err);
		}
	}
	return EXIT_OK;
}

/*
 * Like the kernel's KSM, run stays 2 afterwards (stopped): merging again
 * at once would undo the unmerge. `ksmodctl set run=1` resumes.
 */
int cmd_unmerge(void)
{
	char v[32];
	int err;

	if (!ksmod_loaded())
		return not_loaded();
	err = write_ksm(SYSFS_KSM, "run", "2");
	if (err) {
		err_msg("unmerge failed: %s%s", strerror(-err), hint_for(-err));
		if (!read_ksm(SYSFS_KSM, "pages_sharing", v, sizeof(v)))
			err_msg("ksmod is stopped (run=0), pages_sharing=%s: some pages are still merged",
				v);
		return exit_for(-err);
	}
	printf("unmerged; ksmod is stopped (run=2): 'ksmodctl set run=1' resumes\n");
	return EXIT_OK;
}
