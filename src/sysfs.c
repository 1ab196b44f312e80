// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs.c - /sys/module/ksmod/ksm/, named and behaving like /sys/kernel/mm/ksm/.
 *
 * Each file has the name, the format and the write rules of the kernel's
 * file of the same name (Documentation/ABI/testing/sysfs-kernel-mm-ksm),
 * so tools written for KSM work when pointed here. Stores parse with
 * kstrto*() and answer what the kernel answers (-EINVAL, -ERANGE, -EBUSY).
 * Every refused write leaves a line in dmesg.
 */
#include "ksmod.h"

#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/sysfs.h>

#include "domain.h"
#include "merge.h"
#include "mm_hooks.h"
#include "rmap.h"
#include "scan.h"
#include "stable_tree.h"
#include "unstable_tree.h"
#include "sysfs.h"

static struct kobject *ksmod_ksm_kobj;

/*
 * How a tunable's store parses its input, as the kernel's store of the
 * same file does: most answer -EINVAL to anything unparsable, two pass
 * on kstrto*()'s own error (-ERANGE for an overflow).
 */
enum ksmod_parse {
	KSMOD_PARSE_UINT,	/* kstrtouint(), -EINVAL */
	KSMOD_PARSE_ULONG,	/* kstrtoul(), -EINVAL */
	KSMOD_PARSE_BOOL,	/* kstrtobool(), -EINVAL */
	KSMOD_PARSE_ULONG_ERR,	/* kstrtoul(), its error */
	KSMOD_PARSE_INT_ERR,	/* kstrtoint(), its error; passed as long */
};

/**
 * struct ksmod_tunable_attr - a tunable holding one number
 * @kattr:	the sysfs attribute
 * @parse:	how a write is parsed
 * @get:	the value shown
 * @set:	validates and applies a parsed value; 0 or -errno
 */
struct ksmod_tunable_attr {
	struct kobj_attribute kattr;
	enum ksmod_parse parse;
	unsigned long (*get)(void);
	int (*set)(unsigned long value);
};

static ssize_t tunable_show(struct kobject *kobj, struct kobj_attribute *kattr,
			    char *buf)
{
	struct ksmod_tunable_attr *a =
		container_of(kattr, struct ksmod_tunable_attr, kattr);

	return sysfs_emit(buf, "%lu\n", a->get());
}

static int tunable_parse(enum ksmod_parse parse, const char *buf,
			 unsigned long *value)
{
	unsigned int u;
	bool b;
	int i, err;

	switch (parse) {
	case KSMOD_PARSE_UINT:
		if (kstrtouint(buf, 10, &u))
			return -EINVAL;
		*value = u;
		return 0;
	case KSMOD_PARSE_ULONG:
		return kstrtoul(buf, 10, value) ? -EINVAL : 0;
	case KSMOD_PARSE_BOOL:
		if (kstrtobool(buf, &b))
			return -EINVAL;
		*value = b;
		return 0;
	case KSMOD_PARSE_ULONG_ERR:
		return kstrtoul(buf, 10, value);
	case KSMOD_PARSE_INT_ERR:
		err = kstrtoint(buf, 10, &i);
		*value = (unsigned long)(long)i;
		return err;
	}
	return -EINVAL;
}

static ssize_t tunable_store(struct kobject *kobj, struct kobj_attribute *kattr,
			     const char *buf, size_t count)
{
	struct ksmod_tunable_attr *a =
		container_of(kattr, struct ksmod_tunable_attr, kattr);
	unsigned long value;
	int err;

	err = tunable_parse(a->parse, buf, &value);
	if (!err)
		err = a->set(value);
	if (err)
		pr_info_ratelimited("ksm/%s: write refused: %pe\n",
				    kattr->attr.name, ERR_PTR(err));
	return err ?: count;
}

#define KSMOD_TUNABLE_ATTR(_name, _parse, _var, _set)			\
	static unsigned long _name##_get(void)				\
	{								\
		return READ_ONCE(_var);					\
	}								\
	static struct ksmod_tunable_attr _name##_attr = {		\
		.kattr = __ATTR(_name, 0644, tunable_show, tunable_store), \
		.parse = (_parse),					\
		.get = _name##_get,					\
		.set = (_set),						\
	}

KSMOD_TUNABLE_ATTR(run, KSMOD_PARSE_UINT, ksmod_run, ksmod_set_run);
KSMOD_TUNABLE_ATTR(pages_to_scan, KSMOD_PARSE_UINT, ksmod_pages_to_scan,
		   ksmod_set_pages_to_scan);
KSMOD_TUNABLE_ATTR(sleep_millisecs, KSMOD_PARSE_UINT, ksmod_sleep_millisecs,
		   ksmod_set_sleep_millisecs);
KSMOD_TUNABLE_ATTR(merge_across_nodes, KSMOD_PARSE_ULONG_ERR,
		   ksmod_merge_across_nodes, ksmod_set_merge_across_nodes);
KSMOD_TUNABLE_ATTR(smart_scan, KSMOD_PARSE_BOOL, ksmod_smart_scan,
		   ksmod_set_smart_scan);
KSMOD_TUNABLE_ATTR(use_zero_pages, KSMOD_PARSE_BOOL, ksmod_use_zero_pages,
		   ksmod_set_use_zero_pages);
KSMOD_TUNABLE_ATTR(merge_domain_cgroup_level, KSMOD_PARSE_UINT,
		   ksmod_merge_domain_cgroup_level,
		   ksmod_set_merge_domain_cgroup_level);
KSMOD_TUNABLE_ATTR(merge_zero_across_domains, KSMOD_PARSE_BOOL,
		   ksmod_merge_zero_across_domains,
		   ksmod_set_merge_zero_across_domains);
KSMOD_TUNABLE_ATTR(merge_new_page, KSMOD_PARSE_BOOL, ksmod_merge_new_page,
		   ksmod_set_merge_new_page);
KSMOD_TUNABLE_ATTR(early_merge, KSMOD_PARSE_BOOL, ksmod_early_merge,
		   ksmod_set_early_merge);

KSMOD_TUNABLE_ATTR(max_page_sharing, KSMOD_PARSE_INT_ERR,
		   ksmod_max_page_sharing, ksmod_set_max_page_sharing);
KSMOD_TUNABLE_ATTR(stable_node_chains_prune_millisecs, KSMOD_PARSE_UINT,
		   ksmod_stable_node_chains_prune_msecs,
		   ksmod_set_chains_prune_msecs);
KSMOD_TUNABLE_ATTR(advisor_max_cpu, KSMOD_PARSE_ULONG, ksmod_advisor_max_cpu,
		   ksmod_set_advisor_max_cpu);
KSMOD_TUNABLE_ATTR(advisor_min_pages_to_scan, KSMOD_PARSE_ULONG,
		   ksmod_advisor_min_pages_to_scan,
		   ksmod_set_advisor_min_pages_to_scan);
KSMOD_TUNABLE_ATTR(advisor_max_pages_to_scan, KSMOD_PARSE_ULONG,
		   ksmod_advisor_max_pages_to_scan,
		   ksmod_set_advisor_max_pages_to_scan);
KSMOD_TUNABLE_ATTR(advisor_target_scan_time, KSMOD_PARSE_ULONG,
		   ksmod_advisor_target_scan_time,
		   ksmod_set_advisor_target_scan_time);

/* "[none] scan-time" or "none [scan-time]", as the kernel shows it */
static ssize_t advisor_mode_show(struct kobject *kobj,
				 struct kobj_attribute *kattr, char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  READ_ONCE(ksmod_advisor) == KSMOD_ADVISOR_SCAN_TIME ?
			  "none [scan-time]" : "[none] scan-time");
}

static ssize_t advisor_mode_store(struct kobject *kobj,
				  struct kobj_attribute *kattr,
				  const char *buf, size_t count)
{
	if (sysfs_streq(buf, "scan-time")) {
		ksmod_set_advisor(KSMOD_ADVISOR_SCAN_TIME);
	} else if (sysfs_streq(buf, "none")) {
		ksmod_set_advisor(KSMOD_ADVISOR_NONE);
	} else {
		pr_info_ratelimited("ksm/advisor_mode: write refused: %pe\n",
				    ERR_PTR(-EINVAL));
		return -EINVAL;
	}
	return count;
}

static struct kobj_attribute advisor_mode_attr = __ATTR_RW(advisor_mode);

static ssize_t merge_domain_show(struct kobject *kobj,
				 struct kobj_attribute *kattr, char *buf)
{
	return ksmod_domain_show(buf);
}

static ssize_t merge_domain_store(struct kobject *kobj,
				  struct kobj_attribute *kattr,
				  const char *buf, size_t count)
{
	int mode = ksmod_domain_parse(buf);
	int err = mode < 0 ? mode : ksmod_set_merge_domain(mode);

	if (err)
		pr_info_ratelimited("ksm/merge_domain: write refused: %pe\n",
				    ERR_PTR(err));
	return err ?: count;
}

static struct kobj_attribute merge_domain_attr = __ATTR_RW(merge_domain);

/**
 * struct ksmod_counter_attr - a read-only counter
 * @kattr:	the sysfs attribute
 * @read:	its value now
 */
struct ksmod_counter_attr {
	struct kobj_attribute kattr;
	unsigned long (*read)(void);
};

static ssize_t counter_show(struct kobject *kobj,
			    struct kobj_attribute *kattr, char *buf)
{
	struct ksmod_counter_attr *a =
		container_of(kattr, struct ksmod_counter_attr, kattr);

	return sysfs_emit(buf, "%lu\n", a->read());
}

#define KSMOD_COUNTER_ATTR(_name)					\
	static unsigned long _name##_read(void)				\
	{								\
		return READ_ONCE(ksmod_##_name);			\
	}								\
	static struct ksmod_counter_attr _name##_attr = {		\
		.kattr = __ATTR(_name, 0444, counter_show, NULL),	\
		.read = _name##_read,					\
	}

KSMOD_COUNTER_ATTR(pages_shared);
KSMOD_COUNTER_ATTR(pages_sharing);
KSMOD_COUNTER_ATTR(pages_unshared);
KSMOD_COUNTER_ATTR(pages_scanned);
KSMOD_COUNTER_ATTR(pages_skipped);
KSMOD_COUNTER_ATTR(full_scans);

KSMOD_COUNTER_ATTR(stable_node_chains);
KSMOD_COUNTER_ATTR(stable_node_dups);

/*
 * KSM zero pages ksmod mapped and nobody unmapped yet (signed, as 6.12);
 * 0 where core mm counts none (6.1, see ksmod_map_zero_page())
 */
static ssize_t ksm_zero_pages_show(struct kobject *kobj,
				   struct kobj_attribute *kattr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", ksmod_zero_pages());
}

static struct kobj_attribute ksm_zero_pages_attr = __ATTR_RO(ksm_zero_pages);

/*
 * Memory saved (pages sharing and zero pages) minus what the rmap items
 * cost, in bytes, as 6.12 computes it (ksmod's rmap item is as large as
 * the kernel's): may be negative. The zero-page term is 0 on 6.1.
 */
static ssize_t general_profit_show(struct kobject *kobj,
				   struct kobj_attribute *kattr, char *buf)
{
	long profit = ((long)READ_ONCE(ksmod_pages_sharing) +
		       ksmod_zero_pages()) * PAGE_SIZE -
		      atomic_long_read(&ksmod_nr_rmap_items) *
		      (long)sizeof(struct ksmod_rmap_item);

	return sysfs_emit(buf, "%ld\n", profit);
}

static struct kobj_attribute general_profit_attr = __ATTR_RO(general_profit);

/* rmap items in no tree: pages changing too fast to merge */
static unsigned long pages_volatile_read(void)
{
	long volatile_pages = atomic_long_read(&ksmod_nr_rmap_items) -
			      READ_ONCE(ksmod_pages_shared) -
			      READ_ONCE(ksmod_pages_sharing) -
			      READ_ONCE(ksmod_pages_unshared);

	/* the counters are read one by one: clamp a transient negative */
	return max(volatile_pages, 0L);
}

static struct ksmod_counter_attr pages_volatile_attr = {
	.kattr = __ATTR(pages_volatile, 0444, counter_show, NULL),
	.read = pages_volatile_read,
};

/* ksmod's own: write faults that broke a merged page (kernel: cow_ksm) */
static unsigned long cow_breaks_read(void)
{
	return atomic_long_read(&ksmod_cow_breaks);
}

static struct ksmod_counter_attr cow_breaks_attr = {
	.kattr = __ATTR(cow_breaks, 0444, counter_show, NULL),
	.read = cow_breaks_read,
};

/* The kernel's files in 6.12's order, then ksmod's own. */
static struct attribute *ksmod_ksm_attrs[] = {
	&sleep_millisecs_attr.kattr.attr,
	&pages_to_scan_attr.kattr.attr,
	&run_attr.kattr.attr,
	&pages_scanned_attr.kattr.attr,
	&pages_shared_attr.kattr.attr,
	&pages_sharing_attr.kattr.attr,
	&pages_unshared_attr.kattr.attr,
	&pages_volatile_attr.kattr.attr,
	&pages_skipped_attr.kattr.attr,
	&ksm_zero_pages_attr.attr,
	&full_scans_attr.kattr.attr,
	&merge_across_nodes_attr.kattr.attr,
	&max_page_sharing_attr.kattr.attr,
	&stable_node_chains_attr.kattr.attr,
	&stable_node_dups_attr.kattr.attr,
	&stable_node_chains_prune_millisecs_attr.kattr.attr,
	&use_zero_pages_attr.kattr.attr,
	&general_profit_attr.attr,
	&smart_scan_attr.kattr.attr,
	&advisor_mode_attr.attr,
	&advisor_max_cpu_attr.kattr.attr,
	&advisor_min_pages_to_scan_attr.kattr.attr,
	&advisor_max_pages_to_scan_attr.kattr.attr,
	&advisor_target_scan_time_attr.kattr.attr,
	&cow_breaks_attr.kattr.attr,
	&merge_domain_attr.attr,
	&merge_domain_cgroup_level_attr.kattr.attr,
	&merge_zero_across_domains_attr.kattr.attr,
	&merge_new_page_attr.kattr.attr,
	&early_merge_attr.kattr.attr,
	NULL,
};

static const struct attribute_group ksmod_ksm_group = {
	.attrs = ksmod_ksm_attrs,
};

int ksmod_sysfs_init(void)
{
	int err;

	ksmod_ksm_kobj = kobject_create_and_add("ksm", &THIS_MODULE->mkobj.kobj);
	if (!ksmod_ksm_kobj)
		return -ENOMEM;
	err = sysfs_create_group(ksmod_ksm_kobj, &ksmod_ksm_group);
	if (err) {
		pr_err("cannot create /sys/module/%s/ksm: %d\n",
		       KBUILD_MODNAME, err);
		kobject_put(ksmod_ksm_kobj);
	}
	return err;
}

void ksmod_sysfs_exit(void)
{
	sysfs_remove_group(ksmod_ksm_kobj, &ksmod_ksm_group);
	kobject_put(ksmod_ksm_kobj);
}
