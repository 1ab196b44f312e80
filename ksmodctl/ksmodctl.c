// SPDX-License-Identifier: GPL-2.0
/*
 * ksmodctl - control ksmod (see ksmodctl.8 for the manual).
 *
 *   ksmodctl load [-f FILE] [PARAM=VALUE...]   load (libkmod)
 *   ksmodctl unload                            unmerge, unbind, remove
 *   ksmodctl version | status | ranges [PID...] [--json]
 *   ksmodctl register|unregister PID [START LEN | START-END]
 *   ksmodctl unmerge | set NAME=VALUE... | watch [-n SECS] [--count N]
 *   ksmodctl bind-sysfs | unbind-sysfs
 *   ksmodctl metrics                           Prometheus text format
 *
 * Module state comes from /sys/module/ksmod/ksm/, processes and ranges
 * from the ioctls of /dev/ksmod (include/uapi/ksmod.h).
 *
 * Laid out as kmod's tools are: this file is the dispatcher (options,
 * usage, the table of commands), each command or group of commands has a
 * file of its own (module.c, status.c, set.c, bind.c, ranges.c,
 * metrics.c), and
 * util.c holds what they share, declared in ksmodctl.h. A new command is
 * a function in one of them and a line in commands[] below.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ksmodctl.h"

bool json;			/* --json: machine-readable output */
long page_size;

static const char usage_text[] =
	"usage: ksmodctl [--json] COMMAND [ARGS]\n"
	"  load [-f FILE] [PARAM=VALUE...]  load ksmod (installed, or FILE)\n"
	"  unload                           unmerge, unbind-sysfs, remove ksmod\n"
	"  version                          ABI and release of the running module\n"
	"  status [--cgroup PATH]           counters and tunables, memory saved\n"
	"                                   (of a cgroup v2 subtree's processes)\n"
	"  watch [-n SECS] [--count N]      status, redrawn every SECS (2)\n"
	"  ranges [PID...]                  registered ranges per process\n"
	"  register PID [START LEN | START-END]\n"
	"                                   let ksmod merge a range, or every\n"
	"                                   private anonymous writable mapping\n"
	"  unregister PID [START LEN | START-END]\n"
	"                                   undo it (whole process: every range)\n"
	"  register --cgroup PATH [--follow [SECS]]\n"
	"                                   every process of a cgroup subtree,\n"
	"                                   whole (PR_SET_MEMORY_MERGE), and those\n"
	"                                   moved in later (ksmod follows it);\n"
	"                                   --follow: stay until SIGINT/SIGTERM\n"
	"  unregister --cgroup PATH         undo it, unmerging\n"
	"  tag PID TAG                      its merge domain tag (merge_domain tag)\n"
	"  unmerge                          unmerge everything, stop (run=2)\n"
	"  set NAME=VALUE...                write tunables (run, pages_to_scan...)\n"
	"  bind-sysfs                       show ksmod's files at " KERNEL_KSM "\n"
	"  unbind-sysfs                     show the kernel's again\n"
	"  metrics                          counters and tunables in the\n"
	"                                   Prometheus text format\n"
	"--json: JSON output for version, status, ranges and watch.\n"
	"Exit status: 0 ok, 1 failure, 2 usage, 3 ksmod not loaded,\n"
	"4 permission denied. See ksmodctl(8).\n";

int usage(void)
{
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

/*
 * The commands, in the order of the usage text: @run takes the command's
 * arguments, @run_noargs is for a command that takes none (any is a usage
 * error).
 */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	int (*run_noargs)(void);
} commands[] = {
	{ .name = "load",		.run = cmd_load },
	{ .name = "unload",		.run_noargs = cmd_unload },
	{ .name = "version",		.run_noargs = cmd_version },
	{ .name = "status",		.run = cmd_status },
	{ .name = "watch",		.run = cmd_watch },
	{ .name = "ranges",		.run = cmd_ranges },
	{ .name = "register",		.run = cmd_register },
	{ .name = "unregister",		.run = cmd_unregister },
	{ .name = "tag",		.run = cmd_tag },
	{ .name = "unmerge",		.run_noargs = cmd_unmerge },
	{ .name = "set",		.run = cmd_set },
	{ .name = "bind-sysfs",		.run_noargs = cmd_bind_sysfs },
	{ .name = "unbind-sysfs",	.run_noargs = cmd_unbind_sysfs },
	{ .name = "metrics",		.run_noargs = cmd_metrics },
};

int main(int argc, char **argv)
{
	const struct command *c;
	const char *cmd;
	int i, n = 0;

	page_size = sysconf(_SC_PAGESIZE);
	/* --json anywhere: no other argument can be spelt like it */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else
			argv[++n] = argv[i];
	}
	argc = n + 1;
	argv[argc] = NULL;
	if (argc < 2)
		return usage();
	cmd = argv[1];
	argc -= 2;
	argv += 2;

	if (!strcmp(cmd, "help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "--help")) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	for (c = commands; c < commands + ARRAY_SIZE(commands); c++) {
		if (strcmp(cmd, c->name))
			continue;
		if (c->run)
			return c->run(argc, argv);
		return argc ? usage() : c->run_noargs();
	}
	return usage();
}
