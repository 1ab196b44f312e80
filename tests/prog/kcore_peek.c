// SPDX-License-Identifier: GPL-2.0
/*
 * kcore_peek - print the first 4 bytes at kernel addresses, read from
 * /proc/kcore, so tests can check ksmod's view of kernel text on their own.
 *
 *   kcore_peek ADDR...   one line per address: "ADDR b0 b1 b2 b3"
 */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	Elf64_Ehdr eh;
	Elf64_Phdr *ph;
	int fd, i, j;

	fd = open("/proc/kcore", O_RDONLY);
	if (fd < 0 || pread(fd, &eh, sizeof(eh), 0) != sizeof(eh)) {
		perror("/proc/kcore");
		return 1;
	}
	ph = calloc(eh.e_phnum, sizeof(*ph));
	if (!ph || pread(fd, ph, eh.e_phnum * sizeof(*ph), eh.e_phoff) !=
		   (ssize_t)(eh.e_phnum * sizeof(*ph))) {
		perror("program headers");
		return 1;
	}
	for (i = 1; i < argc; i++) {
		unsigned long long addr = strtoull(argv[i], NULL, 16);
		unsigned char b[4];
		int found = 0;

		for (j = 0; j < eh.e_phnum; j++) {
			if (ph[j].p_type != PT_LOAD || addr < ph[j].p_vaddr ||
			    addr + 4 > ph[j].p_vaddr + ph[j].p_memsz)
				continue;
			if (pread(fd, b, 4, ph[j].p_offset +
				  (addr - ph[j].p_vaddr)) == 4)
				found = 1;
			break;
		}
		if (found)
			printf("%s %02x %02x %02x %02x\n", argv[i],
			       b[0], b[1], b[2], b[3]);
		else
			printf("%s unreadable\n", argv[i]);
	}
	return 0;
}
