// SPDX-License-Identifier: GPL-2.0
// ksmod-probe: KSMOD_HAVE_VM_FLAGS_CLEAR: vma->vm_flags is read-only, changed with vm_flags_clear() under the mmap lock (6.3+)
#include <linux/mm.h>

void probe(struct vm_area_struct *vma);
void probe(struct vm_area_struct *vma)
{
	vm_flags_clear(vma, VM_MERGEABLE);
}
