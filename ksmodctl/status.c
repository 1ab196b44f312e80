// SPDX-License-Identifier: GPL-2.0
/*
 * status.c - ksmodctl status and watch: every file of
 * /sys/module/ksmod/ksm/ (any file there, so that files added to the
 * module show up without a new ksmodctl), the memory saved, and what
 * /sys/kernel/mm/ksm shows.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "uapi/ksmod.h"
#include "ksmodctl.h"

#define MAX_FILES	64

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
	{ "merge_domain", "whose pages may merge with whose" },
	{ "merge_domain_cgroup_level", "cgroup depth of a domain" },
	{ "merge_zero_across_domains", "1: empty pages merge across domains" },
	{ "merge_new_page", "1: a merge copies into a fresh page" },
	{ "early_merge", "1: merge on a page's first visit" },
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

/*
 * Each merge domain's figures, unless merge_domain is global (then there
 * is one, the totals above) or the device cannot be opened. Under global
 * the device is not asked: its answer waits for the scanner's batch in
 * progress (a second or more with a large pages_to_scan), and status is
 * to answer at once.
 */
static void print_domains_text(const struct ksm_state *st)
{
	const char *md = state_get(st, "merge_domain");
	struct ksmod_domain_stat *d;
	unsigned int i, nr, mode;
	char saved[32], profit[32], id[48];

	if (md && strstr(md, "[global]"))
		return;
	if (domain_stats(&d, &nr, &mode))
		return;
	/* a mode (1 uid, 2 cgroup, 3 tag) is the kind of its domains */
	if (mode != KSMOD_DOMAIN_KIND_ALL) {
		printf("merge domains:  %u by %s\n", nr, domain_kind(mode));
		for (i = 0; i < nr; i++) {
			snprintf(id, sizeof(id), "%s %llu",
				 domain_kind(d[i].kind),
				 (unsigned long long)d[i].id);
			printf("  %-22s %s saved, %llu KSM page%s, %llu pages tracked, profit %s\n",
			       id, human(saved, sizeof(saved),
					 d[i].pages_sharing * page_size),
			       (unsigned long long)d[i].pages_shared,
			       d[i].pages_shared == 1 ? "" : "s",
			       (unsigned long long)d[i].rmap_items,
			       human(profit, sizeof(profit),
				     domain_profit(&d[i])));
		}
	}
	free(d);
}

/* "domains": [...] for status --json, when the device can be opened */
static void print_domains_json(void)
{
	struct ksmod_domain_stat *d;
	unsigned int i, nr, mode;

	if (domain_stats(&d, &nr, &mode))
		return;
	printf(", \"domains\": [");
	for (i = 0; i < nr; i++)
		printf("%s{\"kind\": \"%s\", \"id\": %llu, \"pages_shared\": %llu, \"pages_sharing\": %llu, \"rmap_items\": %llu, \"profit\": %lld}",
		       i ? ", " : "", domain_kind(d[i].kind),
		       (unsigned long long)d[i].id,
		       (unsigned long long)d[i].pages_shared,
		       (unsigned long long)d[i].pages_sharing,
		       (unsigned long long)d[i].rmap_items,
		       domain_profit(&d[i]));
	printf("]");
	free(d);
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
	print_domains_json();
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
	printf("%s: %s\n", KERNEL_KSM, bind_text(st));
	print_domains_text(st);
	printf("\n");

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

int cmd_status(int argc, char **argv)
{
	struct ksm_state st;
	int err;

	if (argc == 2 && !strcmp(argv[0], "--cgroup"))
		return cgroup_status(1, argv + 1);
	if (argc)
		return usage();
	err = load_state(&st);

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

int cmd_watch(int argc, char **argv)
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
