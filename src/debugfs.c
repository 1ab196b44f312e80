// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs.c - /sys/kernel/debug/ksmod/: what the tests look at.
 *
 * Not an ABI. Failing to create it never fails the load.
 *   symbols  name, address, entry instruction (plain/endbr/sealed), flags
 *   hooks    name, installed or absent, entries seen
 *   scan     scanner thread progress
 *   objects  live objects (mm_slots N), for leak tests
 */
#include "ksmod.h"

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "debugfs.h"
#include "mm_hooks.h"
#include "registry.h"
#include "scan.h"
#include "symbols.h"

static struct dentry *ksmod_debugfs_dir;

static int symbols_show(struct seq_file *m, void *v)
{
	ksmod_symbols_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(symbols);

static int hooks_show(struct seq_file *m, void *v)
{
	ksmod_mm_hooks_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hooks);

static int objects_show(struct seq_file *m, void *v)
{
	ksmod_registry_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(objects);

static int scan_show(struct seq_file *m, void *v)
{
	ksmod_scan_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(scan);

static int profile_show(struct seq_file *m, void *v)
{
	ksmod_profile_show(m);
	return 0;
}

static int profile_open(struct inode *inode, struct file *file)
{
	return single_open(file, profile_show, NULL);
}

static ssize_t profile_write(struct file *file, const char __user *buf,
			     size_t count, loff_t *ppos)
{
	bool on;
	int err = kstrtobool_from_user(buf, count, &on);

	if (err)
		return err;
	ksmod_profile_enable(on);
	return count;
}

static const struct file_operations profile_fops = {
	.owner = THIS_MODULE,
	.open = profile_open,
	.read = seq_read,
	.write = profile_write,
	.llseek = seq_lseek,
	.release = single_release,
};

void ksmod_debugfs_init(void)
{
	ksmod_debugfs_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("symbols", 0400, ksmod_debugfs_dir, NULL,
			    &symbols_fops);
	debugfs_create_file("hooks", 0400, ksmod_debugfs_dir, NULL,
			    &hooks_fops);
	debugfs_create_file("scan", 0400, ksmod_debugfs_dir, NULL,
			    &scan_fops);
	debugfs_create_file("objects", 0400, ksmod_debugfs_dir, NULL,
			    &objects_fops);
	debugfs_create_file("profile", 0600, ksmod_debugfs_dir, NULL,
			    &profile_fops);
}

void ksmod_debugfs_exit(void)
{
	debugfs_remove_recursive(ksmod_debugfs_dir);
}
