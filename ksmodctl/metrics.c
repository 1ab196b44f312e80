// SPDX-License-Identifier: GPL-2.0
/*
 * ksmodctl metrics: every counter and tunable of
 * /sys/module/ksmod/ksm/ in the Prometheus text exposition format 0.0.4,
 * for node_exporter's textfile collector or any scraper of that format.
 *
 * The names are stable: "ksmod_", the name of the sysfs file, and the
 * unit: "_total" on counters, "_bytes", "_seconds" (the millisecond files
 * are converted) and "_ratio" (a percentage divided by 100). A name says
 * what is counted, never for whom: everything here is the whole module
 * and has no label, and figures per merge domain or cgroup, when ksmod
 * has them, are families of their own under the prefixes ksmod_domain_
 * and ksmod_cgroup_ with a domain or cgroup label, so that these names
 * never change and a sum over one family never counts a page twice (a
 * cgroup nested in another registered one is counted in both, as its
 * processes are: ksmod_cgroup_ figures are per subtree).
 *
 * There is nothing per process: the ioctls of /dev/ksmod answer for one
 * pid at a time and none lists ksmod's processes, so that each scrape
 * would walk /proc with an ioctl per process (and need ptrace rights over
 * each), and pids make series that come and go without bound.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uapi/ksmod.h"
#include "ksmodctl.h"

#define PREFIX		"ksmod_"

/*
 * The files of /sys/module/ksmod/ksm/ in the order status shows them:
 * @file, its metric @name after PREFIX, @type, @shift (the value is the
 * file's divided by 10^shift) and @help, one line saying what it means.
 * A file that holds a list of words with the one chosen in brackets
 * (advisor_mode, merge_domain) gives a sample per word, labelled by it: 1 for the one
 * chosen, 0 for the others, as node_exporter shows a state.
 */
static const struct metric {
	const char *file;
	const char *name;
	const char *type;
	unsigned int shift;
	const char *help;
} metrics[] = {
	{ "run", "run", "gauge", 0,
	  "The scanner: 0 stopped, 1 merging, 2 stopped with every page unmerged (run)." },
	{ "pages_to_scan", "pages_to_scan", "gauge", 0,
	  "Pages the scanner scans in one batch (pages_to_scan)." },
	{ "sleep_millisecs", "sleep_seconds", "gauge", 3,
	  "Time the scanner sleeps between two batches (sleep_millisecs / 1000)." },
	{ "merge_across_nodes", "merge_across_nodes", "gauge", 0,
	  "1 if pages of different NUMA nodes merge, 0 if each node has trees of its own (merge_across_nodes)." },
	{ "use_zero_pages", "use_zero_pages", "gauge", 0,
	  "1 if pages of zeroes are mapped to the zero page instead of merged with each other (use_zero_pages)." },
	{ "max_page_sharing", "max_page_sharing", "gauge", 0,
	  "Most mappings one KSM page takes; more make another KSM page of the same contents (max_page_sharing)." },
	{ "stable_node_chains_prune_millisecs",
	  "stable_node_chains_prune_seconds", "gauge", 3,
	  "How often a stable node chain is checked for KSM pages that are gone (stable_node_chains_prune_millisecs / 1000)." },
	{ "smart_scan", "smart_scan", "gauge", 0,
	  "1 if pages that did not merge are skipped for a growing number of passes (smart_scan)." },
	{ "advisor_mode", "advisor_mode", "gauge", 0,
	  "1 for the advisor that sets pages_to_scan, 0 for the others, by mode (advisor_mode)." },
	{ "advisor_max_cpu", "advisor_max_cpu_ratio", "gauge", 2,
	  "Most of one CPU the scan-time advisor lets the scanner use (advisor_max_cpu / 100)." },
	{ "advisor_min_pages_to_scan", "advisor_min_pages_to_scan", "gauge", 0,
	  "Fewest pages per batch the scan-time advisor sets (advisor_min_pages_to_scan)." },
	{ "advisor_max_pages_to_scan", "advisor_max_pages_to_scan", "gauge", 0,
	  "Most pages per batch the scan-time advisor sets (advisor_max_pages_to_scan)." },
	{ "advisor_target_scan_time", "advisor_target_scan_time_seconds",
	  "gauge", 0,
	  "Time the scan-time advisor wants one full scan to take (advisor_target_scan_time)." },
	{ "pages_shared", "pages_shared", "gauge", 0,
	  "KSM pages in use: merged pages that several mappings share (pages_shared)." },
	{ "pages_sharing", "pages_sharing", "gauge", 0,
	  "Mappings of KSM pages past the first of each, the pages saved (pages_sharing)." },
	{ "pages_unshared", "pages_unshared", "gauge", 0,
	  "Pages with no twin yet, checked again every pass (pages_unshared)." },
	{ "pages_volatile", "pages_volatile", "gauge", 0,
	  "Pages that change too fast to be put in a tree (pages_volatile)." },
	{ "pages_skipped", "pages_skipped_total", "counter", 0,
	  "Page visits that smart_scan skipped since the module was loaded (pages_skipped)." },
	{ "ksm_zero_pages", "ksm_zero_pages", "gauge", 0,
	  "Pages of zeroes mapped to the zero page and still mapped; 0 on 6.1 (ksm_zero_pages)." },
	{ "stable_node_chains", "stable_node_chains", "gauge", 0,
	  "Contents kept on several KSM pages because of max_page_sharing (stable_node_chains)." },
	{ "stable_node_dups", "stable_node_dups", "gauge", 0,
	  "KSM pages in stable node chains (stable_node_dups)." },
	{ "general_profit", "general_profit_bytes", "gauge", 0,
	  "Memory saved (pages sharing and zero pages) minus the metadata of the pages tracked, may be negative (general_profit)." },
	{ "pages_scanned", "pages_scanned_total", "counter", 0,
	  "Pages scanned since the module was loaded (pages_scanned)." },
	{ "full_scans", "full_scans_total", "counter", 0,
	  "Complete passes over all mergeable memory; 0 again after run=2 (full_scans)." },
	{ "cow_breaks", "cow_breaks_total", "counter", 0,
	  "Write faults that copied a KSM page ksmod made, since the module was loaded (cow_breaks)." },
	{ "merge_domain", "merge_domain", "gauge", 0,
	  "1 for the rule that decides whose pages may merge with whose, 0 for the others, by mode (merge_domain)." },
	{ "merge_domain_cgroup_level", "merge_domain_cgroup_level", "gauge", 0,
	  "Depth in the cgroup v2 hierarchy of a merge domain under merge_domain cgroup (merge_domain_cgroup_level)." },
	{ "merge_zero_across_domains", "merge_zero_across_domains", "gauge", 0,
	  "1 if pages of zeroes merge across merge domains (merge_zero_across_domains)." },
	{ "merge_new_page", "merge_new_page", "gauge", 0,
	  "1 if each new KSM page is a freshly allocated copy (merge_new_page)." },
	{ "early_merge", "early_merge", "gauge", 0,
	  "1 if a page may merge on its first visit with a twin that held still (early_merge)." },
};

/*
 * @v, an integer, divided by 10^@shift, as a decimal into @buf: "20" and
 * 3 give "0.02". Exact, whatever the size of @v; @buf has room for @v,
 * @shift zeroes, a sign, "0." and the NUL.
 */
static const char *shifted(char *buf, size_t size, const char *v,
			   unsigned int shift)
{
	size_t len, point, i, n = 0;

	if (*v == '-')
		buf[n++] = *v++;
	len = strlen(v);
	if (n + len + shift + 3 > size)
		return NULL;
	point = len > shift ? len - shift : 0;
	if (!point)
		buf[n++] = '0';
	memcpy(buf + n, v, point);
	n += point;
	buf[n++] = '.';
	for (i = len; i < shift; i++)
		buf[n++] = '0';
	memcpy(buf + n, v + point, len - point);
	n += len - point;
	/* no trailing zeroes, no point without decimals */
	while (buf[n - 1] == '0')
		n--;
	if (buf[n - 1] == '.')
		n--;
	buf[n] = '\0';
	return buf;
}

/* A sample per word of @val ("[none] scan-time"), 1 for the bracketed one */
static void print_states(const char *name, char *val)
{
	char *word, *save;

	for (word = strtok_r(val, " ", &save); word;
	     word = strtok_r(NULL, " ", &save)) {
		bool on = word[0] == '[';

		if (on) {
			word++;
			word[strcspn(word, "]")] = '\0';
		}
		prom_sample(name, on ? "1" : "0", "mode", word, NULL);
	}
}

static bool is_known(const char *file)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(metrics); i++)
		if (!strcmp(file, metrics[i].file))
			return true;
	return false;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Files this ksmodctl has no name for (a newer module): those that hold
 * an integer, in one family by file name, untyped. 0 or -errno.
 */
static int print_unknown(void)
{
	char *names[64], val[64];
	unsigned int i, nr = 0, shown = 0;
	struct dirent *de;
	DIR *dir = opendir(SYSFS_KSM);

	if (!dir)
		return -errno;
	while ((de = readdir(dir)) && nr < ARRAY_SIZE(names)) {
		if (de->d_name[0] == '.' || is_known(de->d_name))
			continue;
		names[nr] = strdup(de->d_name);
		if (names[nr])
			nr++;
	}
	closedir(dir);
	qsort(names, nr, sizeof(names[0]), cmp_names);
	for (i = 0; i < nr; i++) {
		if (!read_ksm(SYSFS_KSM, names[i], val, sizeof(val)) &&
		    is_integer(val)) {
			if (!shown++)
				prom_family(PREFIX "sysfs_value", "untyped",
					    "A file of /sys/module/ksmod/ksm/ that this ksmodctl has no metric for, by name.");
			prom_sample(PREFIX "sysfs_value", val, "file", names[i],
				    NULL);
		}
		free(names[i]);
	}
	return 0;
}

/*
 * ksmod_info: the release, from GET_VERSION or else sysfs, and the ABI,
 * "unknown" to a user who may not open /dev/ksmod.
 */
static void print_info(void)
{
	struct ksmod_version v;
	char release[64], abi[32] = "unknown";
	int fd = open(KSMOD_DEVICE, O_RDWR | O_CLOEXEC);

	if (read_line(SYSFS_MODULE "/version", release, sizeof(release)))
		snprintf(release, sizeof(release), "unknown");
	if (fd >= 0 && !ioctl(fd, KSMOD_IOC_GET_VERSION, &v)) {
		v.release[sizeof(v.release) - 1] = '\0';
		snprintf(release, sizeof(release), "%s", v.release);
		snprintf(abi, sizeof(abi), "%u.%u", v.abi_major, v.abi_minor);
	}
	if (fd >= 0)
		close(fd);
	prom_family(PREFIX "info", "gauge",
		    "Always 1: the module's release and the ABI of /dev/ksmod (unknown without access to it).");
	prom_sample(PREFIX "info", "1", "version", release, "abi", abi, NULL);
}

/*
 * Per merge domain, labelled domain="KIND:ID" (all:0 under merge_domain
 * global): what DOMAIN_STATS says, when /dev/ksmod can be opened.
 */
static void print_domains(void)
{
	static const struct {
		const char *name;
		const char *help;
	} fam[] = {
		{ PREFIX "domain_pages_shared",
		  "KSM pages of a merge domain (merge_domain)." },
		{ PREFIX "domain_pages_sharing",
		  "Mappings of a merge domain's KSM pages past the first of each, the pages it saves." },
		{ PREFIX "domain_rmap_items",
		  "Pages of a merge domain's processes ksmod tracks." },
		{ PREFIX "domain_profit_bytes",
		  "Memory a merge domain saves minus the metadata of its pages tracked, as general_profit." },
	};
	struct ksmod_domain_stat *d;
	unsigned int f, i, nr, mode;
	char label[48], val[32];

	if (domain_stats(&d, &nr, &mode))
		return;
	for (f = 0; nr && f < ARRAY_SIZE(fam); f++) {
		prom_family(fam[f].name, "gauge", fam[f].help);
		for (i = 0; i < nr; i++) {
			long long v[] = {
				d[i].pages_shared, d[i].pages_sharing,
				d[i].rmap_items, domain_profit(&d[i]),
			};

			snprintf(label, sizeof(label), "%s:%llu",
				 domain_kind(d[i].kind),
				 (unsigned long long)d[i].id);
			snprintf(val, sizeof(val), "%lld", v[f]);
			prom_sample(fam[f].name, val, "domain", label, NULL);
		}
	}
	free(d);
}

/*
 * The path under /sys/fs/cgroup ("/a/b") of the cgroup whose directory has
 * inode @ino, into @path; "id:INO" when no directory has it (removed).
 */
static void cgroup_path_of(unsigned long long ino, char *path, size_t size,
			   const char *dir, int depth)
{
	struct dirent *de;
	struct stat st;
	char sub[4096];
	DIR *d;

	if (!depth)
		snprintf(path, size, "id:%llu", ino);
	if (depth > 32)
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		if (!stat(sub, &st) && st.st_ino == ino) {
			snprintf(path, size, "%s", sub + strlen(CGROUP_ROOT));
			break;
		}
		cgroup_path_of(ino, path, size, sub, depth + 1);
		if (strncmp(path, "id:", 3))
			break;
	}
	closedir(d);
}

/*
 * Per followed cgroup (KSMOD_IOC_REGISTER_CGROUP), labelled cgroup="/PATH"
 * under /sys/fs/cgroup: what CGROUP_STATS says, when /dev/ksmod can be
 * opened and the module has it (ABI 1.4).
 */
static void print_cgroups(void)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ PREFIX "cgroup_processes", "gauge",
		  "Processes of a registered cgroup subtree that ksmod merges whole." },
		{ PREFIX "cgroup_merging_pages", "gauge",
		  "Pages of a registered cgroup subtree's processes that map a ksmod KSM page." },
		{ PREFIX "cgroup_cow_breaks_total", "counter",
		  "Write faults of a registered cgroup subtree's processes that copied a ksmod KSM page." },
		{ PREFIX "cgroup_rmap_items", "gauge",
		  "Pages of a registered cgroup subtree's processes ksmod tracks." },
		{ PREFIX "cgroup_profit_bytes", "gauge",
		  "Memory a registered cgroup subtree saves minus the metadata of its pages tracked, as ksm_process_profit summed." },
	};
	struct ksmod_cgroup_stat c[64];
	struct ksmod_cgroup_stats req = {
		.nr = 64,
		.cgroups = (unsigned long)c,
	};
	char path[4096], val[32];
	unsigned int f, i;
	int fd;

	fd = open(KSMOD_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	if (ioctl(fd, KSMOD_IOC_CGROUP_STATS, &req))
		req.nr = 0;	/* an older module: no such figures */
	close(fd);
	if (req.nr > 64)
		req.nr = 64;	/* at most 64 are followed */
	for (f = 0; req.nr && f < ARRAY_SIZE(fam); f++) {
		prom_family(fam[f].name, fam[f].type, fam[f].help);
		for (i = 0; i < req.nr; i++) {
			long long v[] = {
				c[i].processes, c[i].merging_pages,
				c[i].cow_breaks, c[i].rmap_items,
				(long long)c[i].merging_pages * page_size -
				(long long)c[i].rmap_items * RMAP_ITEM_BYTES,
			};

			cgroup_path_of(c[i].id, path, sizeof(path),
				       CGROUP_ROOT, 0);
			snprintf(val, sizeof(val), "%lld", v[f]);
			prom_sample(fam[f].name, val, "cgroup", path, NULL);
		}
	}
}

int cmd_metrics(void)
{
	char val[64], buf[sizeof(val) + 8], name[128];
	const struct metric *m;
	int err, ret = EXIT_OK;
	bool states;

	if (json) {
		err_msg("metrics has no JSON output");
		return EXIT_USAGE;
	}
	prom_family(PREFIX "up", "gauge",
		    "1 if the ksmod module is loaded, else 0 and no other metric.");
	if (!ksmod_loaded()) {
		prom_sample(PREFIX "up", "0", NULL);
		fflush(stdout);
		return not_loaded();
	}
	prom_sample(PREFIX "up", "1", NULL);
	print_info();
	prom_family(PREFIX "page_size_bytes", "gauge",
		    "Size of a page, the unit of the pages_* metrics.");
	snprintf(buf, sizeof(buf), "%ld", page_size);
	prom_sample(PREFIX "page_size_bytes", buf, NULL);

	for (m = metrics; m < metrics + ARRAY_SIZE(metrics); m++) {
		const char *num = NULL;

		err = read_ksm(SYSFS_KSM, m->file, val, sizeof(val));
		if (err == -ENOENT)
			continue;	/* an older module */
		states = !err && strchr(val, '[');
		if (!err && !states) {
			if (is_integer(val))
				num = shifted(buf, sizeof(buf), val, m->shift);
			if (!num)
				err = -EINVAL;
		}
		if (err) {
			err_msg("%s/%s: %s", SYSFS_KSM, m->file, strerror(-err));
			ret = EXIT_FAIL;
			continue;
		}
		snprintf(name, sizeof(name), PREFIX "%s", m->name);
		prom_family(name, m->type, m->help);
		if (states)
			print_states(name, val);
		else
			prom_sample(name, num, NULL);
	}
	print_domains();
	print_cgroups();
	err = print_unknown();
	if (err) {
		err_msg("%s: %s", SYSFS_KSM, strerror(-err));
		ret = EXIT_FAIL;
	}
	return ret;
}
