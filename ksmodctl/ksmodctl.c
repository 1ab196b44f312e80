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
 *
 * Module state comes from /sys/module/ksmod/ksm/ (any file there, so that
 * files added to the module show up without a new ksmodctl), processes and
 * ranges from the ioctls of /dev/ksmod (include/uapi/ksmod.h).
 *
 * bind-sysfs mounts ksmod's directory over /sys/kernel/mm/ksm for tools
 * that know no other path. The kernel's KSM is stopped first (run=2,
 * which also unmerges its pages) and its previous run value is kept in
 * STATE_FILE; unbind-sysfs and unload restore it.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "uapi/ksmod.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define SYSFS_MODULE	"/sys/module/ksmod"
#define SYSFS_KSM	SYSFS_MODULE "/ksm"
#define KERNEL_KSM	"/sys/kernel/mm/ksm"
/* the bind mount's root as /proc/self/mountinfo shows it (sysfs-relative) */
#define BIND_ROOT	"/module/ksmod/ksm"
#define STATE_DIR	"/run/ksmod"
#define STATE_FILE	STATE_DIR "/kernel-ksm-run"

/* Exit status, documented in ksmodctl.8. */
#define EXIT_OK		0
#define EXIT_FAIL	1	/* the operation failed */
#define EXIT_USAGE	2	/* bad command line */
#define EXIT_NOT_LOADED	3	/* ksmod is not loaded */
#define EXIT_PERM	4	/* permission denied */

#define MAX_FILES	64

static bool json;		/* --json: machine-readable output */
static long page_size;

static const char usage_text[] =
	"usage: ksmodctl [--json] COMMAND [ARGS]\n"
	"  load [-f FILE] [PARAM=VALUE...]  load ksmod (installed, or FILE)\n"
	"  unload                           unmerge, unbind-sysfs, remove ksmod\n"
	"  version                          ABI and release of the running module\n"
	"  status                           counters and tunables, memory saved\n"
	"  watch [-n SECS] [--count N]      status, redrawn every SECS (2)\n"
	"  ranges [PID...]                  registered ranges per process\n"
	"  register PID [START LEN | START-END]\n"
	"                                   let ksmod merge a range, or every\n"
	"                                   private anonymous writable mapping\n"
	"  unregister PID [START LEN | START-END]\n"
	"                                   undo it (whole process: every range)\n"
	"  unmerge                          unmerge everything, stop (run=2)\n"
	"  set NAME=VALUE...                write tunables (run, pages_to_scan...)\n"
	"  bind-sysfs                       show ksmod's files at " KERNEL_KSM "\n"
	"  unbind-sysfs                     show the kernel's again\n"
	"--json: JSON output for version, status, ranges and watch.\n"
	"Exit status: 0 ok, 1 failure, 2 usage, 3 ksmod not loaded,\n"
	"4 permission denied. See ksmodctl(8).\n";

static int usage(void)
{
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

static void err_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("ksmodctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Exit status for a failure with positive errno @err. */
static int exit_for(int err)
{
	return err == EACCES || err == EPERM ? EXIT_PERM : EXIT_FAIL;
}

/* A hint to append to an error message, "" if none. */
static const char *hint_for(int err)
{
	if (err == EACCES || err == EPERM)
		return " (needs root; see ksmodctl(8) for /dev/ksmod group access)";
	return "";
}

static bool ksmod_loaded(void)
{
	return access(SYSFS_KSM, F_OK) == 0;
}

static int not_loaded(void)
{
	err_msg("ksmod is not loaded");
	return EXIT_NOT_LOADED;
}

/* ---- files ------------------------------------------------------------ */

/* Read the first line of @path into @buf, newline removed: 0 or -errno. */
static int read_line(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * Write @val to @path in one write(2), as sysfs wants it: 0 or the -errno
 * of the write, which is what the kernel's store returned.
 */
static int write_value(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int err = 0;
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

static int read_ksm(const char *dir, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return read_line(path, buf, size);
}

static int write_ksm(const char *dir, const char *name, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return write_value(path, val);
}

/* ---- numbers and units ---------------------------------------------- */

static bool is_integer(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* "1.5 MiB": @bytes in binary units, into @buf. */
static const char *human(char *buf, size_t size, long long bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = bytes < 0 ? -(double)bytes : (double)bytes;
	int u = -1;

	while (v >= 1024 && u + 1 < (int)ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, size, "%lld B", bytes);
	else
		snprintf(buf, size, "%s%.1f %s", bytes < 0 ? "-" : "", v,
			 units[u]);
	return buf;
}

/* A pid: decimal, 1..INT_MAX. */
static int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return -EINVAL;
	*pid = v;
	return 0;
}

/* An address: hex, "0x" optional (as /proc/PID/maps prints them). */
static int parse_addr(const char *s, unsigned long long *v)
{
	char *end;

	if (!isxdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 16);
	return errno || *end ? -EINVAL : 0;
}

/* A length: 0x-hex, or decimal with an optional K, M or G (binary). */
static int parse_len(const char *s, unsigned long long *v)
{
	unsigned long long mul = 1;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	if (!strncasecmp(s, "0x", 2))
		*v = strtoull(s + 2, &end, 16);
	else
		*v = strtoull(s, &end, 10);
	if (errno || end == s || (!strncasecmp(s, "0x", 2) && end == s + 2))
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'K':
		mul = 1ULL << 10;
		break;
	case 'M':
		mul = 1ULL << 20;
		break;
	case 'G':
		mul = 1ULL << 30;
		break;
	default:
		return -EINVAL;
	}
	if (*end && (end[1] || !strncasecmp(s, "0x", 2)))
		return -EINVAL;
	if (*v > ULLONG_MAX / mul)
		return -EINVAL;
	*v *= mul;
	return 0;
}

/* ---- JSON output ------------------------------------------------------ */

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		/* bytes past ASCII as Latin-1: valid JSON whatever comm holds */
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* "name": value, with the value a number when it is an integer */
static void json_member(bool *first, const char *name, const char *value)
{
	printf("%s", *first ? "" : ", ");
	*first = false;
	json_string(name);
	printf(": ");
	if (is_integer(value))
		printf("%s", value);
	else
		json_string(value);
}

/* ---- the bind mount ---------------------------------------------------- */

/*
 * What is mounted on KERNEL_KSM, from /proc/self/mountinfo: 1 if the top
 * mount there is a bind of ksmod's directory (also one left stale by a
 * removed module), 0 if not, -errno if mountinfo cannot be read.
 */
static int ksm_bound(void)
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
static int unbind(bool quiet)
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

static int cmd_bind(void)
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

static int cmd_unbind(void)
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
	return unbind(false);
}

/* ---- load and unload ---------------------------------------------------- */

/* The installed module, or the one in @path when not NULL. */
static struct kmod_module *ksmod_module(struct kmod_ctx **ctx,
					const char *path)
{
	struct kmod_module *mod = NULL;
	int err;

	*ctx = kmod_new(NULL, NULL);
	if (!*ctx) {
		err_msg("cannot start libkmod");
		return NULL;
	}
	if (path)
		err = kmod_module_new_from_path(*ctx, path, &mod);
	else
		err = kmod_module_new_from_name(*ctx, "ksmod", &mod);
	if (err < 0) {
		err_msg("%s: %s", path ?: "ksmod", strerror(-err));
		kmod_unref(*ctx);
		return NULL;
	}
	return mod;
}

static int cmd_load(int argc, char **argv)
{
	const char *path = NULL;
	char opts[1024] = "";
	struct kmod_ctx *ctx;
	struct kmod_module *mod;
	int i, err;

	if (argc >= 2 && !strcmp(argv[0], "-f")) {
		path = argv[1];
		argc -= 2;
		argv += 2;
	}
	for (i = 0; i < argc; i++) {
		if (!strchr(argv[i], '=') || argv[i][0] == '=' ||
		    strlen(opts) + strlen(argv[i]) + 2 > sizeof(opts)) {
			err_msg("bad parameter '%s' (want NAME=VALUE)", argv[i]);
			return EXIT_USAGE;
		}
		strcat(opts, argv[i]);
		strcat(opts, " ");
	}
	mod = ksmod_module(&ctx, path);
	if (!mod)
		return EXIT_FAIL;
	if (path)
		err = kmod_module_insert_module(mod, 0, opts);
	else
		err = kmod_module_probe_insert_module(mod,
						      KMOD_PROBE_FAIL_ON_LOADED,
						      opts, NULL, NULL, NULL);
	if (err == -EEXIST)
		err_msg("ksmod is already loaded");
	else if (err < 0)
		err_msg("cannot load ksmod: %s (see dmesg)", strerror(-err));
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return err < 0 ? exit_for(-err) : EXIT_OK;
}

/*
 * Unmerge first, so that a failure leaves the module in place with every
 * page it merged accounted for; then remove the bind mount, then the
 * module.
 */
static int cmd_unload(void)
{
	struct kmod_ctx *ctx;
	struct kmod_module *mod;
	int err, ret;

	if (!ksmod_loaded()) {
		/* a bind left by a module removed without ksmodctl */
		if (ksm_bound() == 1 && unbind(true) == EXIT_OK)
			err_msg("removed the stale bind mount on %s",
				KERNEL_KSM);
		return not_loaded();
	}
	err = write_ksm(SYSFS_KSM, "run", "2");
	if (err) {
		err_msg("cannot unmerge ksmod's pages (run=2): %s%s; ksmod stays loaded",
			strerror(-err), hint_for(-err));
		return exit_for(-err);
	}
	if (ksm_bound() == 1) {
		ret = unbind(true);
		if (ret != EXIT_OK) {
			err_msg("ksmod stays loaded, stopped (run=2)");
			return ret;
		}
	}
	mod = ksmod_module(&ctx, NULL);
	if (!mod)
		return EXIT_FAIL;
	err = kmod_module_remove_module(mod, 0);
	if (err == -ENOENT)
		err_msg("ksmod is not loaded");
	else if (err == -EAGAIN || err == -EBUSY)
		err_msg("ksmod is in use (is /dev/ksmod open?); it stays loaded, stopped (run=2)");
	else if (err < 0)
		err_msg("cannot unload ksmod: %s", strerror(-err));
	kmod_module_unref(mod);
	kmod_unref(ctx);
	if (err == -ENOENT)
		return EXIT_NOT_LOADED;
	return err < 0 ? exit_for(-err) : EXIT_OK;
}

/* ---- /dev/ksmod ------------------------------------------------------- */

/* Open /dev/ksmod: the fd, or -(exit status) after a message. */
static int open_dev(void)
{
	int err, fd = open(KSMOD_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	err = errno;
	if (err == ENOENT && !ksmod_loaded()) {
		not_loaded();
		return -EXIT_NOT_LOADED;
	}
	err_msg("%s: %s%s", KSMOD_DEVICE, strerror(err), hint_for(err));
	return -exit_for(err);
}

static int cmd_version(void)
{
	struct ksmod_version v;
	int fd = open_dev();

	if (fd < 0)
		return -fd;
	if (ioctl(fd, KSMOD_IOC_GET_VERSION, &v)) {
		err_msg("GET_VERSION: %s", strerror(errno));
		close(fd);
		return EXIT_FAIL;
	}
	close(fd);
	v.release[sizeof(v.release) - 1] = '\0';
	if (json) {
		printf("{\"release\": ");
		json_string(v.release);
		printf(", \"abi_major\": %u, \"abi_minor\": %u, \"features\": %llu, \"ksmodctl_abi_major\": %u, \"ksmodctl_abi_minor\": %u}\n",
		       v.abi_major, v.abi_minor,
		       (unsigned long long)v.features, KSMOD_ABI_MAJOR,
		       KSMOD_ABI_MINOR);
	} else {
		printf("ksmod %s, ABI %u.%u (ksmodctl built for ABI %u.%u)\n",
		       v.release, v.abi_major, v.abi_minor, KSMOD_ABI_MAJOR,
		       KSMOD_ABI_MINOR);
	}
	if (v.abi_major != KSMOD_ABI_MAJOR) {
		err_msg("ABI major mismatch: this ksmodctl speaks %u, ksmod %u",
			KSMOD_ABI_MAJOR, v.abi_major);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* ---- status ------------------------------------------------------------ */

/* Files of /sys/kernel/mm/ksm/ in the order status shows them. */
static const struct {
	const char *name;
	const char *meaning;
} known_files[] = {
	{ "run", NULL },
	{ "pages_to_scan", "pages per batch" },
	{ "sleep_millisecs", "ms between batches" },
	{ "merge_across_nodes", "1: merge pages of different NUMA nodes" },
	{ "use_zero_pages", "1: map empty pages to the zero page" },
	{ "max_page_sharing", "most mappings of one KSM page" },
	{ "stable_node_chains_prune_millisecs", "ms between chain prunes" },
	{ "smart_scan", "1: skip pages that did not merge" },
	{ "advisor_mode", "scan-time: pages_to_scan set by the advisor" },
	{ "advisor_max_cpu", "advisor: most CPU %" },
	{ "advisor_min_pages_to_scan", "advisor: fewest pages per batch" },
	{ "advisor_max_pages_to_scan", "advisor: most pages per batch" },
	{ "advisor_target_scan_time", "advisor: seconds per full scan" },
	{ "pages_shared", "KSM pages in use" },
	{ "pages_sharing", "more mappings of them: memory saved" },
	{ "pages_unshared", "unique pages, checked every pass" },
	{ "pages_volatile", "pages changing too fast to merge" },
	{ "pages_skipped", "pages smart_scan skipped" },
	{ "ksm_zero_pages", "empty pages mapped to the zero page" },
	{ "stable_node_chains", "KSM pages with too many mappings" },
	{ "stable_node_dups", "their duplicates" },
	{ "general_profit", "bytes saved, minus metadata" },
	{ "pages_scanned", "pages scanned since load" },
	{ "full_scans", "complete passes over registered memory" },
	{ "cow_breaks", "writes that copied a KSM page" },
};

struct ksm_file {
	char name[64];
	char value[64];
	unsigned int order;	/* index in known_files, or past it */
};

/* What status shows: every file of SYSFS_KSM and the module's state. */
struct ksm_state {
	struct ksm_file files[MAX_FILES];
	unsigned int nr;
	char release[64];
	int bound;		/* ksm_bound() */
	bool by_ksmodctl;	/* STATE_FILE exists */
};

static int cmp_files(const void *a, const void *b)
{
	const struct ksm_file *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Fill @st: 0, or -errno (-ENOENT: ksmod is not loaded). */
static int load_state(struct ksm_state *st)
{
	struct dirent *de;
	DIR *dir;

	memset(st, 0, sizeof(*st));
	dir = opendir(SYSFS_KSM);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)) && st->nr < MAX_FILES) {
		struct ksm_file *f = &st->files[st->nr];
		unsigned int i;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(f->name))
			continue;
		snprintf(f->name, sizeof(f->name), "%s", de->d_name);
		if (read_ksm(SYSFS_KSM, f->name, f->value, sizeof(f->value)))
			snprintf(f->value, sizeof(f->value), "?");
		f->order = ARRAY_SIZE(known_files);
		for (i = 0; i < ARRAY_SIZE(known_files); i++)
			if (!strcmp(f->name, known_files[i].name))
				f->order = i;
		st->nr++;
	}
	closedir(dir);
	qsort(st->files, st->nr, sizeof(st->files[0]), cmp_files);
	if (read_line(SYSFS_MODULE "/version", st->release,
		      sizeof(st->release)))
		snprintf(st->release, sizeof(st->release), "(unknown)");
	st->bound = ksm_bound();
	st->by_ksmodctl = access(STATE_FILE, F_OK) == 0;
	return 0;
}

static const char *state_get(const struct ksm_state *st, const char *name)
{
	unsigned int i;

	for (i = 0; i < st->nr; i++)
		if (!strcmp(st->files[i].name, name))
			return st->files[i].value;
	return NULL;
}

/* The value of file @name as a number; false when absent or not one. */
static bool state_num(const struct ksm_state *st, const char *name,
		      long long *v)
{
	const char *s = state_get(st, name);

	if (!s || !is_integer(s))
		return false;
	*v = strtoll(s, NULL, 10);
	return true;
}

static const char *run_meaning(const char *run)
{
	if (!strcmp(run, "0"))
		return "stopped";
	if (!strcmp(run, "1"))
		return "merging";
	if (!strcmp(run, "2"))
		return "stopped, unmerged";
	return "?";
}

static const char *bind_text(const struct ksm_state *st)
{
	if (st->bound < 0)
		return "unknown (cannot read /proc/self/mountinfo)";
	if (!st->bound)
		return "the kernel's KSM (ksmodctl bind-sysfs shows ksmod's there)";
	if (st->by_ksmodctl)
		return "ksmod's files (ksmodctl bind-sysfs; the kernel's KSM is stopped)";
	return "ksmod's files (a bind mount not made by ksmodctl)";
}

static void print_status_json(const struct ksm_state *st)
{
	bool first = true;
	long long sharing;
	unsigned int i;

	printf("{\"loaded\": true, \"release\": ");
	json_string(st->release);
	printf(", \"page_size\": %ld, \"ksm\": {", page_size);
	for (i = 0; i < st->nr; i++)
		json_member(&first, st->files[i].name, st->files[i].value);
	printf("}");
	if (state_num(st, "pages_sharing", &sharing))
		printf(", \"memory_saved\": %lld", sharing * page_size);
	printf(", \"sysfs_bound\": %s, \"sysfs_bound_by_ksmodctl\": %s}\n",
	       st->bound == 1 ? "true" : "false",
	       st->bound == 1 && st->by_ksmodctl ? "true" : "false");
}

/* @prev: the state of the previous frame, for rates (watch), or NULL. */
static void print_status_text(const struct ksm_state *st,
			      const struct ksm_state *prev, double secs)
{
	long long sharing, shared, profit, scanned, scans, v0;
	const char *run = state_get(st, "run");
	unsigned int i, width = 0, vwidth = 0;
	char h[32];

	printf("ksmod %s: %s (run=%s)\n", st->release,
	       run ? run_meaning(run) : "?", run ?: "?");
	if (state_num(st, "pages_sharing", &sharing) &&
	    state_num(st, "pages_shared", &shared))
		printf("memory saved:   %s (%lld mappings share %lld KSM page%s)\n",
		       human(h, sizeof(h), sharing * page_size), sharing + shared,
		       shared, shared == 1 ? "" : "s");
	if (state_num(st, "general_profit", &profit))
		printf("profit:         %s (saved minus metadata)\n",
		       human(h, sizeof(h), profit));
	if (state_num(st, "full_scans", &scans) &&
	    state_num(st, "pages_scanned", &scanned)) {
		printf("scan progress:  %lld full scans, %lld pages scanned",
		       scans, scanned);
		if (prev && secs > 0 && state_num(prev, "pages_scanned", &v0) &&
		    scanned >= v0)
			printf(", %.0f pages/s", (scanned - v0) / secs);
		printf("\n");
	}
	printf("%s: %s\n\n", KERNEL_KSM, bind_text(st));

	for (i = 0; i < st->nr; i++) {
		if (strlen(st->files[i].name) > width)
			width = strlen(st->files[i].name);
		if (strlen(st->files[i].value) > vwidth)
			vwidth = strlen(st->files[i].value);
	}
	for (i = 0; i < st->nr; i++) {
		const struct ksm_file *f = &st->files[i];
		const char *meaning = NULL;

		if (f->order < ARRAY_SIZE(known_files))
			meaning = known_files[f->order].meaning;
		if (!strcmp(f->name, "run"))
			meaning = run_meaning(f->value);
		printf("%-*s  %*s%s%s\n", width, f->name, vwidth, f->value,
		       meaning ? "  " : "", meaning ?: "");
	}
}

static int cmd_status(void)
{
	struct ksm_state st;
	int err = load_state(&st);

	if (err == -ENOENT) {
		if (json)
			printf("{\"loaded\": false}\n");
		return not_loaded();
	}
	if (err) {
		err_msg("%s: %s", SYSFS_KSM, strerror(-err));
		return exit_for(-err);
	}
	if (json)
		print_status_json(&st);
	else
		print_status_text(&st, NULL, 0);
	return EXIT_OK;
}

static void no_op(int sig)
{
	(void)sig;
}

static int cmd_watch(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = no_op };
	struct ksm_state *st, *prev;
	sigset_t quit;
	double interval = 2, secs = 0;
	long count = -1, frame;
	struct timespec t0, t1;
	char *end;
	int i;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			interval = strtod(argv[++i], &end);
			if (*end || !(interval >= 0.1 && interval <= 86400)) {
				err_msg("bad interval '%s' (0.1 to 86400 seconds)",
					argv[i]);
				return EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			count = strtol(argv[++i], &end, 10);
			if (*end || count <= 0) {
				err_msg("bad count '%s'", argv[i]);
				return EXIT_USAGE;
			}
		} else {
			return usage();
		}
	}
	st = calloc(2, sizeof(*st));
	if (!st) {
		err_msg("out of memory");
		return EXIT_FAIL;
	}
	prev = st + 1;
	/*
	 * SIGINT and SIGTERM end the sleep between frames, and the loop.
	 * A handler, even one never run, keeps them from being discarded
	 * when the shell started us with them ignored (in the background).
	 */
	sigemptyset(&quit);
	sigaddset(&quit, SIGINT);
	sigaddset(&quit, SIGTERM);
	sigprocmask(SIG_BLOCK, &quit, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (frame = 0; frame != count; frame++) {
		struct timespec ts;
		bool loaded = !load_state(st);

		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		t0 = t1;
		if (json) {
			if (loaded)
				print_status_json(st);
			else
				printf("{\"loaded\": false}\n");
		} else {
			/* clear the screen, cursor home: redraw in place */
			printf("\033[H\033[2J");
			printf("ksmodctl watch: every %.1f s, Ctrl-C quits\n\n",
			       interval);
			if (loaded)
				print_status_text(st, frame ? prev : NULL,
						  secs);
			else
				printf("ksmod is not loaded\n");
		}
		fflush(stdout);
		memcpy(prev, st, sizeof(*st));
		if (frame + 1 == count)
			break;
		ts.tv_sec = (time_t)interval;
		ts.tv_nsec = (long)((interval - ts.tv_sec) * 1e9);
		if (sigtimedwait(&quit, NULL, &ts) > 0)
			break;
	}
	free(st);
	return EXIT_OK;
}

/* ---- set and unmerge -------------------------------------------------- */

static int cmd_set(int argc, char **argv)
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
static int cmd_unmerge(void)
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

/* ---- register, unregister, ranges -------------------------------------- */

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

static int cmd_register(bool reg, int argc, char **argv)
{
	const char *what = reg ? "register" : "unregister";
	unsigned long long start = 0, end = 0, len = 0;
	struct ksmod_range *r;
	__u32 nr, owner;
	pid_t pid;
	char *dash;
	int fd, err, ret = EXIT_OK;

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

static int cmd_ranges(int argc, char **argv)
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

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
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
	if (!strcmp(cmd, "load"))
		return cmd_load(argc, argv);
	if (!strcmp(cmd, "register") || !strcmp(cmd, "unregister"))
		return cmd_register(cmd[0] == 'r', argc, argv);
	if (!strcmp(cmd, "ranges"))
		return cmd_ranges(argc, argv);
	if (!strcmp(cmd, "watch"))
		return cmd_watch(argc, argv);
	if (!strcmp(cmd, "set"))
		return cmd_set(argc, argv);
	if (argc)
		return usage();
	if (!strcmp(cmd, "unload"))
		return cmd_unload();
	if (!strcmp(cmd, "version"))
		return cmd_version();
	if (!strcmp(cmd, "status"))
		return cmd_status();
	if (!strcmp(cmd, "unmerge"))
		return cmd_unmerge();
	if (!strcmp(cmd, "bind-sysfs"))
		return cmd_bind();
	if (!strcmp(cmd, "unbind-sysfs"))
		return cmd_unbind();
	return usage();
}
