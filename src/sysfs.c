// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs.c - /sys/module/ksmod/ksm/, named and behaving like /sys/kernel/mm/ksm/.
 *
 * Each file has the name, the format and the write rules of the kernel's
 * file of the same name (Documentation/ABI/testing/sysfs-kernel-mm-ksm),
 * so tools written for KSM work when pointed here. Stores parse with
 * kstrto*() and answer -EINVAL on anything else, as the kernel does.
 */
#include "ksmod.h"

#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/sysfs.h>

#include "mm_hooks.h"
#include "rmap.h"
#include "scan.h"
#include "stable_tree.h"
#include "unstable_tree.h"
#include "sysfs.h"

static struct kobject *ksmod_ksm_kobj;

/**
 * struct ksmod_uint_attr - a tunable holding one unsigned int
 * @kattr:	the sysfs attribute
 * @value:	the variable shown
 * @set:	validates and applies a parsed value; 0 or -errno
 */
struct ksmod_uint_attr {
	struct kobj_attribute kattr;
	unsigned int *value;
	int (*set)(unsigned int value);
};

static ssize_t uint_show(struct kobject *kobj, struct kobj_attribute *kattr,
			 char *buf)
{
	struct ksmod_uint_attr *a =
		container_of(kattr, struct ksmod_uint_attr, kattr);

	return sysfs_emit(buf, "%u\n", READ_ONCE(*a->value));
}

static ssize_t uint_store(struct kobject *kobj, struct kobj_attribute *kattr,
			  const char *buf, size_t count)
{
	struct ksmod_uint_attr *a =
		container_of(kattr, struct ksmod_uint_attr, kattr);
	unsigned int value;
	int err;

	if (kstrtouint(buf, 10, &value))
		return -EINVAL;
	err = a->set(value);
	return err ?: count;
}

#define KSMOD_UINT_ATTR(_name, _var, _set)				\
	struct ksmod_uint_attr _name##_attr = {				\
		.kattr = __ATTR(_name, 0644, uint_show, uint_store),	\
		.value = &(_var),					\
		.set = (_set),						\
	}

static KSMOD_UINT_ATTR(run, ksmod_run, ksmod_set_run);
static KSMOD_UINT_ATTR(pages_to_scan, ksmod_pages_to_scan,
		       ksmod_set_pages_to_scan);
static KSMOD_UINT_ATTR(sleep_millisecs, ksmod_sleep_millisecs,
		       ksmod_set_sleep_millisecs);

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
KSMOD_COUNTER_ATTR(full_scans);

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

static struct attribute *ksmod_ksm_attrs[] = {
	&run_attr.kattr.attr,
	&pages_to_scan_attr.kattr.attr,
	&sleep_millisecs_attr.kattr.attr,
	&pages_shared_attr.kattr.attr,
	&pages_sharing_attr.kattr.attr,
	&pages_unshared_attr.kattr.attr,
	&pages_volatile_attr.kattr.attr,
	&pages_scanned_attr.kattr.attr,
	&full_scans_attr.kattr.attr,
	&cow_breaks_attr.kattr.attr,
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
