// SPDX-License-Identifier: GPL-2.0
/*
 * symbols.c - resolve the unexported kernel functions ksmod needs.
 *
 * Debian's System.map is a stub and kallsyms_lookup_name() is no longer
 * exported. Calling it through a pointer found with a kprobe is the usual
 * trick, but on 6.12 it is sealed at boot (design §2), so an indirect call
 * to it faults on CPUs that enforce IBT. Instead each name is resolved by
 * registering a disabled kprobe on it: the kprobe core looks the name up
 * for us and never arms the probe. A kprobe's address is the function
 * start plus 4 when the function begins with ENDBR (or its sealed poison),
 * so sprint_symbol() gives the offset back and the start is recovered.
 * A variable (KSYM_DATA) cannot be probed: register_kprobe() refuses it,
 * but only after it has looked the name up and stored the address.
 *
 * Everything is resolved once, at load, into one table; a required name
 * that is missing fails the load with -ENOENT and that name in dmesg.
 */
#include "ksmod.h"

#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/ksm.h>
#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/string.h>

#include "symbols.h"

struct ksmod_symbols ksym;

static char *test_missing_symbol;
module_param(test_missing_symbol, charp, 0);
MODULE_PARM_DESC(test_missing_symbol,
		 "testing only: pretend this kernel symbol does not exist");

#define KSYM(sym, fl)		KSYM_ENTRY(sym, ksym.sym, fl)
#define KSYM_RAW(sym, fl)	KSYM_ENTRY_RAW(sym, ksym.sym, fl)

static struct ksym ksmod_symtab[] = {
	/* where core mm enters KSM (hooks.c, mm_hooks.c) */
	KSYM(ksm_madvise, KSYM_REQUIRED | KSYM_HOOKED | KSYM_CALLED),
	KSYM(__ksm_enter, KSYM_REQUIRED | KSYM_HOOKED | KSYM_CALLED),
	KSYM(__ksm_exit, KSYM_REQUIRED | KSYM_HOOKED | KSYM_CALLED),
	KSYM_RAW(rmap_walk_ksm, KSYM_REQUIRED | KSYM_HOOKED),
	KSYM_RAW(folio_migrate_ksm, KSYM_REQUIRED | KSYM_HOOKED),
	/* static: another build may inline it; then COW breaks go uncounted */
	KSYM_RAW(do_wp_page, KSYM_HOOKED),
	/*
	 * a change of uid or cgroup re-keys a process at once (domain.c);
	 * without them the scanner does when it next enters the process
	 */
	KSYM_RAW(commit_creds, KSYM_HOOKED),
	KSYM_RAW(cgroup_attach_task, KSYM_HOOKED),
	KSYM_RAW(cgroup_post_fork, KSYM_HOOKED),

	/* what the engine calls */
	KSYM(do_madvise, KSYM_REQUIRED | KSYM_CALLED),
	KSYM(ptrace_may_access, KSYM_REQUIRED | KSYM_CALLED),
	KSYM(page_vma_mapped_walk, KSYM_REQUIRED | KSYM_CALLED),
	KSYM(ptep_clear_flush, KSYM_REQUIRED | KSYM_CALLED),
	KSYM(__put_anon_vma, KSYM_REQUIRED | KSYM_CALLED),
	KSYM(anon_vma_interval_tree_iter_first, KSYM_REQUIRED | KSYM_CALLED),
	KSYM(anon_vma_interval_tree_iter_next, KSYM_REQUIRED | KSYM_CALLED),
	KSYM(lru_add_drain_all, KSYM_REQUIRED | KSYM_CALLED),
	KSYM(folio_free_swap, KSYM_REQUIRED | KSYM_CALLED),
#ifdef CONFIG_MEMCG
	KSYM(__mem_cgroup_charge, KSYM_CALLED),
#endif
};

/**
 * ksmod_symbol() - the i-th entry of the whole table
 * @i:	index, from 0
 *
 * Return: the entry, or NULL past the end.
 */
struct ksym *ksmod_symbol(unsigned int i)
{
	if (i < ARRAY_SIZE(ksmod_symtab))
		return &ksmod_symtab[i];
	i -= ARRAY_SIZE(ksmod_symtab);
	if (i < ksmod_nr_compat_symbols)
		return &ksmod_compat_symtab[i];
	return NULL;
}

/*
 * Turn the address a kprobe reports into the function's start: the probe
 * may sit past an ENDBR. The name sprint_symbol() gives back must be the
 * one asked for, or the lookup found something else.
 */
static int ksym_start(const char *name, unsigned long addr,
		      unsigned long *start)
{
	char buf[KSYM_SYMBOL_LEN];
	size_t len = strlen(name);
	unsigned long off;
	char *plus, *slash;

	sprint_symbol(buf, addr);
	plus = buf + len;
	if (strncmp(buf, name, len) || *plus != '+')
		return -EINVAL;
	slash = strchr(plus, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	if (kstrtoul(plus + 1, 0, &off) || off > addr)
		return -EINVAL;
	*start = addr - off;
	return 0;
}

/*
 * Find one name; 0 and -ENOENT are the only answers for a normal miss, 1
 * a registered kprobe, 2 a variable's address without one.
 */
static int ksym_lookup(struct ksym *s, struct kprobe *kp)
{
	int ret;

	if (test_missing_symbol && !strcmp(test_missing_symbol, s->name))
		return -ENOENT;

	memset(kp, 0, sizeof(*kp));
	kp->symbol_name = s->name;
	kp->flags = KPROBE_FLAG_DISABLED;	/* resolve, never arm */
	ret = register_kprobe(kp);
	if (ret && (s->flags & KSYM_DATA) && kp->addr)
		return 2;
	if (ret)
		return ret;
	return 1;	/* registered: the caller unregisters */
}

/**
 * ksmod_symbols_resolve() - fill &ksym from the kernel's symbol table
 *
 * Return: 0, or -ENOENT when a required symbol is missing, or the error
 * that stopped a lookup.
 */
int ksmod_symbols_resolve(void)
{
	unsigned int nr = ARRAY_SIZE(ksmod_symtab) + ksmod_nr_compat_symbols;
	unsigned int i, nr_regd = 0;
	struct kprobe *kps, **regd;
	int err = 0;

	kps = kcalloc(nr, sizeof(*kps), GFP_KERNEL);
	regd = kcalloc(nr, sizeof(*regd), GFP_KERNEL);
	if (!kps || !regd) {
		err = -ENOMEM;
		goto out;
	}

	for (i = 0; i < nr; i++) {
		struct ksym *s = ksmod_symbol(i);
		unsigned long start;
		int ret;

		*s->slot = NULL;
		ret = ksym_lookup(s, &kps[i]);
		if (ret == 1 || ret == 2) {
			if (ret == 1)
				regd[nr_regd++] = &kps[i];
			ret = ksym_start(s->name, (unsigned long)kps[i].addr,
					 &start);
			if (ret)
				pr_err("%s: kprobe address is in %pS\n",
				       s->name, kps[i].addr);
			else
				*s->slot = (void *)start;
		}
		if (ret == -ENOENT || ret == -EINVAL) {
			if (!(s->flags & KSYM_REQUIRED)) {
				pr_info("optional symbol %s not found\n",
					s->name);
				continue;
			}
			pr_err("required symbol %s not found: this kernel is not supported\n",
			       s->name);
			err = err ?: -ENOENT;
		} else if (ret < 0) {
			pr_err("cannot look up %s: error %d\n", s->name, ret);
			err = err ?: ret;
		}
	}

	/* One RCU grace period for all of them. */
	if (nr_regd)
		unregister_kprobes(regd, nr_regd);
out:
	kfree(regd);
	kfree(kps);
	return err;
}

static const char *const ksym_kind_names[] = {
	[KSYM_ENTRY_UNKNOWN] = "unknown",
	[KSYM_ENTRY_PLAIN] = "plain",
	[KSYM_ENTRY_ENDBR] = "endbr",
	[KSYM_ENTRY_SEALED] = "sealed",
};

/*
 * debugfs "symbols": name address entry-kind flags, one per line. Raw
 * addresses on purpose: tests compare them with /proc/kallsyms and read
 * /proc/kcore there; the file is root-only and debugfs is off under lockdown.
 */
void ksmod_symbols_show(struct seq_file *m)
{
	struct ksym *s;
	unsigned int i;

	for_each_ksym(s, i)
		seq_printf(m, "%s %px %s %s%s%s%s\n", s->name, *s->slot,
			   ksym_kind_names[s->kind],
			   s->flags & KSYM_REQUIRED ? "required" : "optional",
			   s->flags & KSYM_CALLED ? ",called" : "",
			   s->flags & KSYM_HOOKED ? ",hooked" : "",
			   s->flags & KSYM_DATA ? ",data" : "");
}
