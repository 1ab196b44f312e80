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

#include "scan.h"
#include "sysfs.h"

static struct kobject *ksmod_ksm_kobj;

static ssize_t run_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(ksmod_run));
}

static ssize_t run_store(struct kobject *kobj, struct kobj_attribute *attr,
			 const char *buf, size_t count)
{
	unsigned int run;
	int err;

	if (kstrtouint(buf, 10, &run) || run > KSMOD_RUN_UNMERGE)
		return -EINVAL;
	err = ksmod_set_run(run);
	return err ?: count;
}
static struct kobj_attribute run_attr = __ATTR_RW(run);

static ssize_t pages_to_scan_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(ksmod_pages_to_scan));
}

static ssize_t pages_to_scan_store(struct kobject *kobj,
				   struct kobj_attribute *attr,
				   const char *buf, size_t count)
{
	unsigned int nr;

	if (kstrtouint(buf, 10, &nr))
		return -EINVAL;
	ksmod_set_pages_to_scan(nr);
	return count;
}
static struct kobj_attribute pages_to_scan_attr = __ATTR_RW(pages_to_scan);

static ssize_t sleep_millisecs_show(struct kobject *kobj,
				    struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(ksmod_sleep_millisecs));
}

static ssize_t sleep_millisecs_store(struct kobject *kobj,
				     struct kobj_attribute *attr,
				     const char *buf, size_t count)
{
	unsigned int msecs;

	if (kstrtouint(buf, 10, &msecs))
		return -EINVAL;
	ksmod_set_sleep_millisecs(msecs);
	return count;
}
static struct kobj_attribute sleep_millisecs_attr = __ATTR_RW(sleep_millisecs);

static struct attribute *ksmod_ksm_attrs[] = {
	&run_attr.attr,
	&pages_to_scan_attr.attr,
	&sleep_millisecs_attr.attr,
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
