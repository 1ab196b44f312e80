// SPDX-License-Identifier: GPL-2.0
/*
 * chardev.c - /dev/ksmod: a misc device, mode 0600, whose ioctls are the
 * userspace ABI of include/uapi/ksmod.h. An open file holds a reference on
 * the module, so the module cannot go away under an ioctl.
 */
#include "ksmod.h"

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "uapi/ksmod.h"
#include "chardev.h"
#include "domain.h"
#include "follow.h"
#include "registry.h"

static long ksmod_get_version(void __user *arg)
{
	struct ksmod_version ver = {
		.abi_major = KSMOD_ABI_MAJOR,
		.abi_minor = KSMOD_ABI_MINOR,
	};

	strscpy(ver.release, KSMOD_RELEASE, sizeof(ver.release));
	if (copy_to_user(arg, &ver, sizeof(ver)))
		return -EFAULT;
	return 0;
}

/* REGISTER and UNREGISTER: madvise on behalf of a process */
static long ksmod_range_ioctl(void __user *arg, int advice)
{
	struct ksmod_range_req req;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags == KSMOD_RANGE_WHOLE)
		return req.start || req.len ? -EINVAL :
		       ksmod_register_whole(req.pid, advice == MADV_MERGEABLE);
	if (req.flags)
		return -EINVAL;
	/* do_madvise() takes a size_t and an unsigned long */
	if (req.start != (unsigned long)req.start ||
	    req.len != (size_t)req.len)
		return -EINVAL;
	return ksmod_register_range(req.pid, req.start, req.len, advice);
}

static long ksmod_query_ioctl(void __user *arg)
{
	struct ksmod_query q;
	int err;

	if (copy_from_user(&q, arg, sizeof(q)))
		return -EFAULT;
	if (q.flags)
		return -EINVAL;
	err = ksmod_query_ranges(&q);
	if (err)
		return err;
	if (copy_to_user(arg, &q, sizeof(q)))
		return -EFAULT;
	return 0;
}

static long ksmod_stats_ioctl(void __user *arg)
{
	struct ksmod_mm_stats st;
	int err;

	if (copy_from_user(&st, arg, sizeof(st)))
		return -EFAULT;
	if (st.flags)
		return -EINVAL;
	err = ksmod_query_stats(&st);
	if (err)
		return err;
	if (copy_to_user(arg, &st, sizeof(st)))
		return -EFAULT;
	return 0;
}

static long ksmod_tag_ioctl(void __user *arg)
{
	struct ksmod_domain_req req;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags || req.tag > KSMOD_TAG_MAX)
		return -EINVAL;
	return ksmod_set_tag(req.pid, req.tag);
}

/* REGISTER_CGROUP, UNREGISTER_CGROUP: the counts go back on success */
static long ksmod_cgroup_ioctl(void __user *arg, bool on)
{
	struct ksmod_cgroup_req req;
	int err;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	err = ksmod_cgroup_register(&req, on);
	if (!err && copy_to_user(arg, &req, sizeof(req)))
		err = -EFAULT;
	return err;
}

static long ksmod_cgroup_stats_ioctl(void __user *arg)
{
	struct ksmod_cgroup_stats req;
	int err;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	err = ksmod_cgroup_stats(&req);
	if (!err && copy_to_user(arg, &req, sizeof(req)))
		err = -EFAULT;
	return err;
}

static long ksmod_domain_stats_ioctl(void __user *arg)
{
	struct ksmod_domain_stats req;
	int err;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags || req.pad)
		return -EINVAL;
	err = ksmod_domain_stats(&req);
	if (!err && copy_to_user(arg, &req, sizeof(req)))
		err = -EFAULT;
	return err;
}

static long ksmod_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case KSMOD_IOC_GET_VERSION:
		return ksmod_get_version(uarg);
	case KSMOD_IOC_REGISTER:
		return ksmod_range_ioctl(uarg, MADV_MERGEABLE);
	case KSMOD_IOC_UNREGISTER:
		return ksmod_range_ioctl(uarg, MADV_UNMERGEABLE);
	case KSMOD_IOC_QUERY:
		return ksmod_query_ioctl(uarg);
	case KSMOD_IOC_MM_STATS:
		return ksmod_stats_ioctl(uarg);
	case KSMOD_IOC_SET_TAG:
		return ksmod_tag_ioctl(uarg);
	case KSMOD_IOC_DOMAIN_STATS:
		return ksmod_domain_stats_ioctl(uarg);
	case KSMOD_IOC_REGISTER_CGROUP:
		return ksmod_cgroup_ioctl(uarg, true);
	case KSMOD_IOC_UNREGISTER_CGROUP:
		return ksmod_cgroup_ioctl(uarg, false);
	case KSMOD_IOC_CGROUP_STATS:
		return ksmod_cgroup_stats_ioctl(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations ksmod_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= ksmod_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice ksmod_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "ksmod",
	.fops	= &ksmod_fops,
	.mode	= 0600,
};

int ksmod_chardev_init(void)
{
	int err = misc_register(&ksmod_miscdev);

	if (err)
		pr_err("cannot register /dev/ksmod: %d\n", err);
	return err;
}

void ksmod_chardev_exit(void)
{
	misc_deregister(&ksmod_miscdev);
}
