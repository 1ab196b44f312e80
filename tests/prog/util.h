/* SPDX-License-Identifier: GPL-2.0 */
/*
 * util.h - small helpers shared by the test and benchmark programs.
 */
#ifndef KSMOD_TEST_UTIL_H
#define KSMOD_TEST_UTIL_H

#include <stdint.h>
#include <unistd.h>

/* read() until @len bytes came; -1 on EOF or error */
static inline int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* qsort() order of uint64_t (page frame numbers) */
static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

#endif
