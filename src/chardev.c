// SPDX-License-Identifier: GPL-2.0
/*
 * chardev.c - /dev/ksmod: a misc device, mode 0600, whose ioctls are the
 * userspace ABI of include/uapi/ksmod.h. An open file holds a reference on
 * the module, so the module cannot go away under an ioctl.
 */
#include "ksmod.h"

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "uapi/ksmod.h"
#include "chardev.h"

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

static long ksmod_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case KSMOD_IOC_GET_VERSION:
		return ksmod_get_version(uarg);
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
