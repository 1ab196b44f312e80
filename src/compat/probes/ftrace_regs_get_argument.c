// SPDX-License-Identifier: GPL-2.0
// ksmod-probe: KSMOD_HAVE_FTRACE_REGS_GET_ARGUMENT: struct ftrace_regs is opaque, read arguments with ftrace_regs_get_argument() (6.2+)
#include <linux/ftrace.h>

unsigned long probe(struct ftrace_regs *fregs);
unsigned long probe(struct ftrace_regs *fregs)
{
	return ftrace_regs_get_argument(fregs, 0);
}
