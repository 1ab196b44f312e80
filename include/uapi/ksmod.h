/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ksmod userspace ABI: the ioctls of /dev/ksmod.
 *
 * This is the only ksmod header userspace includes. Every struct is made
 * of fixed-size fields with explicit padding, so that 32- and 64-bit
 * callers see one layout. Ask KSMOD_IOC_GET_VERSION first: a caller built
 * against a newer major ABI must refuse to talk to an older module.
 */
#ifndef _UAPI_KSMOD_H
#define _UAPI_KSMOD_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define KSMOD_DEVICE		"/dev/ksmod"

/* 0xBA is unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst */
#define KSMOD_IOC_MAGIC		0xBA

/* Incompatible changes bump the major, additions bump the minor. */
#define KSMOD_ABI_MAJOR		1
#define KSMOD_ABI_MINOR		0

/**
 * struct ksmod_version - answer of KSMOD_IOC_GET_VERSION
 * @abi_major:	KSMOD_ABI_MAJOR of the running module
 * @abi_minor:	KSMOD_ABI_MINOR of the running module
 * @features:	KSMOD_FEAT_* bits, for additions within one major ABI
 * @release:	the module's release string, NUL-terminated
 */
struct ksmod_version {
	__u32 abi_major;
	__u32 abi_minor;
	__u64 features;
	char release[32];
};

#define KSMOD_IOC_GET_VERSION	_IOR(KSMOD_IOC_MAGIC, 0x00, struct ksmod_version)

#endif /* _UAPI_KSMOD_H */
