/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ksmodctl.h - what the files of ksmodctl share: paths, exit status, the
 * global options, the helpers of util.c and the commands that ksmodctl.c
 * dispatches to, one group a file.
 */
#ifndef KSMODCTL_H
#define KSMODCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define SYSFS_MODULE	"/sys/module/ksmod"
#define SYSFS_KSM	SYSFS_MODULE "/ksm"
#define KERNEL_KSM	"/sys/kernel/mm/ksm"
#define STATE_DIR	"/run/ksmod"
#define STATE_FILE	STATE_DIR "/kernel-ksm-run"	/* the kernel's run */

/* Exit status, documented in ksmodctl.8. */
#define EXIT_OK		0
#define EXIT_FAIL	1	/* the operation failed */
#define EXIT_USAGE	2	/* bad command line */
#define EXIT_NOT_LOADED	3	/* ksmod is not loaded */
#define EXIT_PERM	4	/* permission denied */

/* ksmodctl.c: options and usage */
extern bool json;		/* --json: machine-readable output */
extern long page_size;
int usage(void);

/* util.c: errors; a message is "ksmodctl: ..." on stderr */
void err_msg(const char *fmt, ...);
int exit_for(int err);
const char *hint_for(int err);
bool ksmod_loaded(void);
int not_loaded(void);

/* util.c: files, numbers, JSON, Prometheus text, /dev/ksmod */
int read_line(const char *path, char *buf, size_t size);
int read_ksm(const char *dir, const char *name, char *buf, size_t size);
int write_ksm(const char *dir, const char *name, const char *val);
bool is_integer(const char *s);
const char *human(char *buf, size_t size, long long bytes);
int parse_pid(const char *s, pid_t *pid);
int parse_addr(const char *s, unsigned long long *v);
int parse_len(const char *s, unsigned long long *v);
void json_string(const char *s);
void json_member(bool *first, const char *name, const char *value);
int open_dev(void);
void prom_family(const char *name, const char *type, const char *help);
void prom_sample(const char *name, const char *value, ...);

/* util.c: merge domains (KSMOD_IOC_DOMAIN_STATS) */
struct ksmod_domain_stat;
#define CGROUP_ROOT	"/sys/fs/cgroup"	/* where cgroup v2 is mounted */
#define RMAP_ITEM_BYTES	64	/* what general_profit counts per page tracked */
int domain_stats(struct ksmod_domain_stat **out, unsigned int *nr,
		 unsigned int *mode);
const char *domain_kind(unsigned int kind);
long long domain_profit(const struct ksmod_domain_stat *d);

/* bind.c: the bind mount on KERNEL_KSM */
int ksm_bound(void);
int sysfs_unbind(bool quiet);

/* the commands: an exit status each */
int cmd_load(int argc, char **argv);		/* module.c */
int cmd_unload(void);
int cmd_version(void);
int cmd_status(int argc, char **argv);				/* status.c */
int cmd_watch(int argc, char **argv);
int cmd_set(int argc, char **argv);		/* set.c */
int cmd_unmerge(void);
int cmd_bind_sysfs(void);			/* bind.c */
int cmd_unbind_sysfs(void);
int cmd_register(int argc, char **argv);	/* ranges.c */
int cmd_unregister(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cgroup_register(bool reg, int argc, char **argv);	/* cgroup.c */
int cgroup_status(int argc, char **argv);
int cmd_ranges(int argc, char **argv);
int cmd_metrics(void);				/* metrics.c */

#endif /* KSMODCTL_H */
