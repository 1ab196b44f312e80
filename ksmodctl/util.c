// SPDX-License-Identifier: GPL-2.0
/*
 * util.c - what the commands of ksmodctl share: error messages and exit
 * status, reading and writing sysfs files, numbers and units, JSON and
 * Prometheus text output and opening /dev/ksmod.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "uapi/ksmod.h"
#include "ksmodctl.h"

/* ---- errors ------------------------------------------------------------ */

void err_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("ksmodctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Exit status for a failure with positive errno @err. */
int exit_for(int err)
{
	return err == EACCES || err == EPERM ? EXIT_PERM : EXIT_FAIL;
}

/* A hint to append to an error message, "" if none. */
const char *hint_for(int err)
{
	if (err == EACCES || err == EPERM)
		return " (needs root; see ksmodctl(8) for /dev/ksmod group access)";
	return "";
}

bool ksmod_loaded(void)
{
	return access(SYSFS_KSM, F_OK) == 0;
}

int not_loaded(void)
{
	err_msg("ksmod is not loaded");
	return EXIT_NOT_LOADED;
}

/* ---- files ------------------------------------------------------------ */

/* Read the first line of @path into @buf, newline removed: 0 or -errno. */
int read_line(const char *path, char *buf, size_t size)
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

int read_ksm(const char *dir, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return read_line(path, buf, size);
}

int write_ksm(const char *dir, const char *name, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return write_value(path, val);
}

/* ---- numbers and units ---------------------------------------------- */

bool is_integer(const char *s)
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
const char *human(char *buf, size_t size, long long bytes)
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
int parse_pid(const char *s, pid_t *pid)
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
int parse_addr(const char *s, unsigned long long *v)
{
	char *end;

	if (!isxdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 16);
	return errno || *end ? -EINVAL : 0;
}

/* A length: 0x-hex, or decimal with an optional K, M or G (binary). */
int parse_len(const char *s, unsigned long long *v)
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

void json_string(const char *s)
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
void json_member(bool *first, const char *name, const char *value)
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

/* ---- Prometheus text output (exposition format 0.0.4) ----------------- */

/*
 * "# HELP" and "# TYPE" of family @name: before its first sample. In the
 * text of a HELP line a backslash and a newline are escaped.
 */
void prom_family(const char *name, const char *type, const char *help)
{
	printf("# HELP %s ", name);
	for (; *help; help++) {
		if (*help == '\\')
			fputs("\\\\", stdout);
		else if (*help == '\n')
			fputs("\\n", stdout);
		else
			putchar(*help);
	}
	printf("\n# TYPE %s %s\n", name, type);
}

/*
 * One sample: "name{label="value",...} value". The labels are pairs of
 * name and value after @value, ended by a NULL; a label value has its
 * backslashes, double quotes and newlines escaped.
 */
void prom_sample(const char *name, const char *value, ...)
{
	const char *label, *v;
	bool first = true;
	va_list ap;

	fputs(name, stdout);
	va_start(ap, value);
	while ((label = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		printf("%s%s=\"", first ? "{" : ",", label);
		first = false;
		for (; *v; v++) {
			if (*v == '\\' || *v == '"')
				printf("\\%c", *v);
			else if (*v == '\n')
				fputs("\\n", stdout);
			else
				putchar(*v);
		}
		putchar('"');
	}
	va_end(ap);
	printf("%s %s\n", first ? "" : "}", value);
}

/* ---- /dev/ksmod ------------------------------------------------------- */

/* Open /dev/ksmod: the fd, or -(exit status) after a message. */
int open_dev(void)
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

/* ---- merge domains ---------------------------------------------------- */

/*
 * The figures of every merge domain (KSMOD_IOC_DOMAIN_STATS) into *@out
 * (malloc'd, *@nr of them) and merge_domain into *@mode: 0, or -errno
 * with nothing printed (no access to /dev/ksmod is no error of the
 * caller's: status and metrics then show no domains).
 */
int domain_stats(struct ksmod_domain_stat **out, unsigned int *nr,
		 unsigned int *mode)
{
	struct ksmod_domain_stats req = { 0 };
	struct ksmod_domain_stat *d = NULL;
	int fd, err = 0;

	fd = open(KSMOD_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		unsigned int room = req.nr;

		req.domains = (unsigned long)d;
		if (ioctl(fd, KSMOD_IOC_DOMAIN_STATS, &req)) {
			err = -errno;
			break;
		}
		if (req.nr <= room)
			break;
		/* more than room: ask again with room for them all */
		free(d);
		d = calloc(req.nr, sizeof(*d));
		if (!d) {
			err = -ENOMEM;
			break;
		}
	}
	close(fd);
	if (err) {
		free(d);
		return err;
	}
	*out = d;
	*nr = req.nr;
	*mode = req.mode;
	return 0;
}

/* "uid", "cgroup"... for KSMOD_DOMAIN_KIND_* */
const char *domain_kind(unsigned int kind)
{
	static const char * const kinds[] = {
		[KSMOD_DOMAIN_KIND_ALL] = "all",
		[KSMOD_DOMAIN_KIND_UID] = "uid",
		[KSMOD_DOMAIN_KIND_CGROUP] = "cgroup",
		[KSMOD_DOMAIN_KIND_TAG] = "tag",
		[KSMOD_DOMAIN_KIND_ALONE] = "alone",
	};

	return kind < ARRAY_SIZE(kinds) ? kinds[kind] : "unknown";
}

/* A domain's profit in bytes, as general_profit: saved minus metadata. */
long long domain_profit(const struct ksmod_domain_stat *d)
{
	return (long long)d->pages_sharing * page_size -
	       (long long)d->rmap_items * RMAP_ITEM_BYTES;
}
