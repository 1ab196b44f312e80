/* SPDX-License-Identifier: GPL-2.0 */
/*
 * errname.h - errno values as their names, for test helpers whose output
 * the guest tests compare ("EPERM", not "Operation not permitted").
 */
#ifndef KSMOD_TEST_ERRNAME_H
#define KSMOD_TEST_ERRNAME_H

#include <errno.h>

static inline const char *errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case ENOTTY: return "ENOTTY";
	case ENOMEM: return "ENOMEM";
	case EBUSY: return "EBUSY";
	case EACCES: return "EACCES";
	case EAGAIN: return "EAGAIN";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EBADF: return "EBADF";
	case ENOSPC: return "ENOSPC";
	case EINTR: return "EINTR";
	default: return "EOTHER";
	}
}

#endif
