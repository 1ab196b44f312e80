// SPDX-License-Identifier: GPL-2.0
/*
 * scan.c - the scanner thread ("ksmod"), modelled on the kernel's ksmd.
 *
 * While run is 1 the thread scans pages_to_scan pages, then sleeps
 * sleep_millisecs; otherwise it sleeps until run changes. It is freezable
 * and runs at nice 5, like ksmd, so it yields to real work.
 *
 * Locking: ksmod_thread_mutex is held for a whole batch and while run
 * changes, so that "run=2" never races a batch. Nothing in a batch waits
 * for a writer of the tunables.
 *
 * A write to pages_to_scan or sleep_millisecs takes effect at once,
 * unlike ksmd, which finishes its batch and its sleep first: the write
 * counts ksmod_tune_seq up, a batch in progress ends after its current
 * page, and a sleeping thread wakes to start a batch with the new values.
 * A write to run, as in the kernel, returns when the batch in progress
 * has ended, or later, as the mutex falls (tools count on it: the kernel's
 * ksm_tests writes run=1, then counts two full scans from the one it
 * reads). Ending the batch at once for run, or letting its writer in at
 * the very next batch, both made ksm_tests -N -m 1 fail every try: the
 * page it had just madvised got one visit too few.
 */
#include "ksmod.h"

#include <linux/freezer.h>
#include <linux/jump_label.h>
#include <linux/kthread.h>
#include <linux/memory.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/wait.h>
#include <linux/wait_bit.h>

#include "compat.h"
#include "domain.h"
#include "merge.h"
#include "registry.h"
#include "rmap.h"
#include "scan.h"
#include "stable_tree.h"
#include "symbols.h"
#include "unstable_tree.h"

/* 0 stop, 1 merge, 2 stop and unmerge everything */
unsigned int ksmod_run = KSMOD_RUN_STOP;
module_param_named(run, ksmod_run, uint, 0);
MODULE_PARM_DESC(run, "value of ksm/run at load: 0 stop, 1 merge (default 0)");

/* pages scanned per batch (the advisor sets it while it runs) */
unsigned int ksmod_pages_to_scan = KSMOD_PAGES_TO_SCAN;
module_param_named(pages_to_scan, ksmod_pages_to_scan, uint, 0);
MODULE_PARM_DESC(pages_to_scan, "value of ksm/pages_to_scan at load (default 100)");

/* sleep between batches */
unsigned int ksmod_sleep_millisecs = 20;
module_param_named(sleep_millisecs, ksmod_sleep_millisecs, uint, 0);
MODULE_PARM_DESC(sleep_millisecs, "value of ksm/sleep_millisecs at load (default 20)");

/* 1: one tree for all NUMA nodes; 0: pages merge only within a node */
unsigned int ksmod_merge_across_nodes = 1;

/* skip pages that keep failing to merge, for longer and longer */
unsigned int ksmod_smart_scan = 1;
/* merge on a page's first visit when its twin held still (scan.c) */
unsigned int ksmod_early_merge = 1;
module_param_named(early_merge, ksmod_early_merge, uint, 0);
MODULE_PARM_DESC(early_merge,
		 "value of ksm/early_merge at load (default 1; 0: the kernel's two-pass gate)");

/* map pages of zeroes to the zero page instead of merging them */
unsigned int ksmod_use_zero_pages;

/* checksum of a page of zeroes */
static u32 ksmod_zero_checksum;

static bool test_unmerge_fail;
module_param(test_unmerge_fail, bool, 0644);
MODULE_PARM_DESC(test_unmerge_fail,
		 "testing only: run=2 stops at the first process with -ENOMEM");

static DEFINE_MUTEX(ksmod_thread_mutex);
static DECLARE_WAIT_QUEUE_HEAD(ksmod_thread_wait);	/* run became 1 */

/*
 * Bit KSMOD_OFFLINING is set while memory goes offline (MEM_GOING_OFFLINE
 * to MEM_OFFLINE or MEM_CANCEL_OFFLINE): no scan, run=2, tunable change or
 * unload walks the stable tree meanwhile. A flag, as the kernel's
 * KSM_RUN_OFFLINE, rather than ksmod_thread_mutex held across the offline:
 * that made the mutex an outer lock of what offline_pages() takes after
 * the notifier, and lockdep reported a circular dependency with
 * pcp_batch_high_lock (setup_per_zone_wmarks()).
 */
static unsigned long ksmod_offline_flags;
#define KSMOD_OFFLINING	0
static DECLARE_WAIT_QUEUE_HEAD(ksmod_iter_wait);	/* a tunable changed */
static atomic_t ksmod_tune_seq = ATOMIC_INIT(0);
static struct task_struct *ksmod_thread;

/* batches run since load, under ksmod_thread_mutex */
static unsigned long ksmod_batches;

/*
 * Where the scanner's time goes (debugfs "profile", make bench): off
 * unless asked for, then a local_clock() read between phases, each phase's
 * time and count kept by the scanner thread alone (under the thread
 * mutex), since the last "1" written. Under QEMU's -icount the clock
 * counts instructions, so the shares are of instructions executed.
 */
enum ksmod_phase {
	KSMOD_PH_WALK,		/* the next page: VMA, page table, rmap item */
	KSMOD_PH_CHECKSUM,
	KSMOD_PH_STABLE,	/* stable tree search, memcmp included */
	KSMOD_PH_UNSTABLE,	/* unstable tree search and insert */
	KSMOD_PH_MERGE,		/* write-protect, replace the pte, stable node */
	KSMOD_PH_OTHER,
	KSMOD_NR_PHASES
};

static const char * const ksmod_phase_names[] = {
	"walk", "checksum", "stable", "unstable", "merge", "other",
};

static DEFINE_STATIC_KEY_FALSE(ksmod_profiling);
static u64 ksmod_prof_ns[KSMOD_NR_PHASES];
static u64 ksmod_prof_calls[KSMOD_NR_PHASES];
static u64 ksmod_prof_last;

/* The time since the last mark was spent in @phase. */
static inline void ksmod_prof(enum ksmod_phase phase)
{
	u64 now;

	if (!static_branch_unlikely(&ksmod_profiling))
		return;
	now = local_clock();
	if (ksmod_prof_last) {	/* 0: enabled since the last mark */
		ksmod_prof_ns[phase] += now - ksmod_prof_last;
		ksmod_prof_calls[phase]++;
	}
	ksmod_prof_last = now;
}

static inline void ksmod_prof_mark(void)
{
	if (static_branch_unlikely(&ksmod_profiling))
		ksmod_prof_last = local_clock();
}

/* counters of /sys/module/ksmod/ksm, as in /sys/kernel/mm/ksm */
unsigned long ksmod_pages_scanned;
unsigned long ksmod_pages_skipped;
unsigned long ksmod_full_scans;

/*
 * The scan cursor: the slot (ksmod_scan_slot, registry.c), the next
 * address in it, and where in its rmap list that address goes.
 */
static unsigned long ksmod_scan_address;
static struct ksmod_rmap_item **ksmod_scan_rmap_list;

/*
 * The rmap item for @addr: the one already at *@list, or a new one linked
 * there. Items before it are for addresses no longer mergeable: freed.
 */
static struct ksmod_rmap_item *ksmod_next_item(struct mm_struct *mm,
					       struct ksmod_rmap_item **list,
					       unsigned long addr)
{
	struct ksmod_rmap_item *item;

	while ((item = *list)) {
		if (ksmod_rmap_addr(item) == addr)
			return item;
		if (ksmod_rmap_addr(item) > addr)
			break;
		*list = item->rmap_list;
		ksmod_rmap_item_free(item);
	}
	item = ksmod_rmap_item_alloc(mm, addr);
	if (item) {
		item->rmap_list = *list;
		*list = item;
	}
	return item;
}

static void ksmod_free_items_from(struct ksmod_rmap_item **list)
{
	while (*list) {
		struct ksmod_rmap_item *item = *list;

		*list = item->rmap_list;
		ksmod_rmap_item_free(item);
	}
}

/*
 * smart_scan: a page seen three times without merging is then tried in
 * every 2nd pass, from its 5th visit in every 4th and from its 10th in
 * every 8th (the kernel's KSM skips it for 1, 2, 4, then 8 visits).
 * KSM pages, and items still on a stable node (their unstable fields hold
 * something else), are never skipped.
 *
 * The kernel counts each page's skips on its own. Two twins that have not
 * merged meet only in a pass in which both are tried, and twins whose
 * counts differ (one's item is newer, or its age restarted when a merge
 * of it was undone) can be tried in alternate passes forever: a pair of
 * twins inside one huge page stayed apart here for 20 s. So a page is
 * tried when the pass number is a multiple of its period. Periods are
 * powers of two: any two pages are both tried at least every 8th pass
 * (tests/guest/skipped_twins.sh).
 */
static unsigned int ksmod_skip_period(u8 age)
{
	if (age <= 3)
		return 2;
	if (age <= 8)
		return 4;
	return 8;
}

static bool ksmod_should_skip(struct page *page, struct ksmod_rmap_item *item)
{
	u8 age;

	if (!READ_ONCE(ksmod_smart_scan))
		return false;
	if (folio_test_ksm(page_folio(page)) ||
	    (item->address & KSMOD_STABLE_FLAG))
		return false;
	age = item->age;
	if (age != U8_MAX)
		item->age++;
	if (age < 3 || !(ksmod_scan_seqnr & (ksmod_skip_period(age) - 1)))
		return false;
	ksmod_pages_skipped++;
	ksmod_rmap_item_unlink(item);
	return true;
}

/*
 * The scan-time advisor (advisor_mode=scan-time), the kernel's algorithm:
 * at the end of each full pass, pages_to_scan is scaled so that a pass
 * takes advisor_target_scan_time seconds, smoothed by a moving average of
 * its changes, and kept between 10% and advisor_max_cpu% of one CPU for
 * the scanner and at most advisor_max_pages_to_scan. Scanner only, under
 * ksmod_thread_mutex (as are mode changes).
 */
#define KSMOD_ADVISOR_MIN_CPU	10	/* percent */
#define KSMOD_EWMA_WEIGHT	30	/* percent */

unsigned int ksmod_advisor;
unsigned int ksmod_advisor_max_cpu = KSMOD_ADVISOR_MAX_CPU;
unsigned long ksmod_advisor_min_pages_to_scan = KSMOD_ADVISOR_MIN_PAGES_TO_SCAN;
unsigned long ksmod_advisor_max_pages_to_scan = KSMOD_ADVISOR_MAX_PAGES_TO_SCAN;
unsigned long ksmod_advisor_target_scan_time = KSMOD_ADVISOR_TARGET_SCAN_TIME;

/**
 * struct ksmod_advisor_ctx - what the advisor remembers between passes
 * @start_scan:	when the current pass began
 * @scan_time:	seconds the previous pass took
 * @change:	smoothed change of pages_to_scan, in percent
 * @cpu_time:	the scanner's CPU time at the end of the previous pass, ns
 */
struct ksmod_advisor_ctx {
	ktime_t start_scan;
	unsigned long scan_time;
	unsigned long change;
	unsigned long long cpu_time;
};

static struct ksmod_advisor_ctx ksmod_advisor_ctx;

static void ksmod_advisor_start_scan(void)
{
	if (ksmod_advisor == KSMOD_ADVISOR_SCAN_TIME)
		ksmod_advisor_ctx.start_scan = ktime_get();
}

static unsigned long ksmod_ewma(unsigned long prev, unsigned long curr)
{
	return ((100 - KSMOD_EWMA_WEIGHT) * prev + KSMOD_EWMA_WEIGHT * curr) /
	       100;
}

static void ksmod_advisor_stop_scan(void)
{
	struct ksmod_advisor_ctx *ctx = &ksmod_advisor_ctx;
	unsigned long scan_time, last_scan_time, factor, change, pages;
	unsigned long cpu_ms, per_page_cost, nr = ksmod_pages_to_scan;
	unsigned long long cpu_time;
	unsigned int cpu_percent;

	if (ksmod_advisor != KSMOD_ADVISOR_SCAN_TIME)
		return;
	scan_time = ktime_ms_delta(ktime_get(), ctx->start_scan) / MSEC_PER_SEC;
	scan_time = scan_time ?: 1;

	/* task_sched_runtime() is not exported: this lags by a tick at most */
	cpu_time = current->se.sum_exec_runtime;
	cpu_ms = (cpu_time - ctx->cpu_time) / NSEC_PER_MSEC;
	cpu_percent = cpu_ms * 100 / (scan_time * 1000);
	cpu_percent = cpu_percent ?: 1;
	last_scan_time = ctx->scan_time ?: scan_time;

	/* the pass as a percentage of the target, and of the previous pass */
	factor = READ_ONCE(ksmod_advisor_target_scan_time) * 100 / scan_time;
	factor = factor ?: 1;
	change = scan_time * 100 / last_scan_time;
	change = ksmod_ewma(ctx->change, change ?: 1);

	pages = nr * 100 / factor;
	pages = pages * change / 100;

	per_page_cost = nr / cpu_percent;
	per_page_cost = per_page_cost ?: 1;
	pages = min(pages, per_page_cost * READ_ONCE(ksmod_advisor_max_cpu));
	pages = max(pages, per_page_cost * KSMOD_ADVISOR_MIN_CPU);
	pages = min(pages, READ_ONCE(ksmod_advisor_max_pages_to_scan));

	ctx->change = change;
	ctx->scan_time = scan_time;
	ctx->cpu_time = cpu_time;
	WRITE_ONCE(ksmod_pages_to_scan, pages);
}

/**
 * ksmod_set_advisor() - the "advisor_mode" store
 * @mode:	KSMOD_ADVISOR_NONE or KSMOD_ADVISOR_SCAN_TIME
 *
 * A change starts over from the mode's default pages_to_scan: 100 without
 * the advisor, advisor_min_pages_to_scan with it.
 */
void ksmod_set_advisor(unsigned int mode)
{
	mutex_lock(&ksmod_thread_mutex);
	if (ksmod_advisor != mode) {
		WRITE_ONCE(ksmod_advisor, mode);
		if (mode == KSMOD_ADVISOR_SCAN_TIME) {
			ksmod_advisor_ctx = (struct ksmod_advisor_ctx){ 0 };
			ksmod_advisor_ctx.start_scan = ktime_get();
			WRITE_ONCE(ksmod_pages_to_scan,
				   READ_ONCE(ksmod_advisor_min_pages_to_scan));
		} else {
			WRITE_ONCE(ksmod_pages_to_scan, KSMOD_PAGES_TO_SCAN);
		}
	}
	mutex_unlock(&ksmod_thread_mutex);
}

int ksmod_set_advisor_max_cpu(unsigned long value)
{
	/* the kernel keeps it in an unsigned int too */
	WRITE_ONCE(ksmod_advisor_max_cpu, value);
	return 0;
}

int ksmod_set_advisor_min_pages_to_scan(unsigned long value)
{
	WRITE_ONCE(ksmod_advisor_min_pages_to_scan, value);
	return 0;
}

int ksmod_set_advisor_max_pages_to_scan(unsigned long value)
{
	WRITE_ONCE(ksmod_advisor_max_pages_to_scan, value);
	return 0;
}

/* At least 1 second. */
int ksmod_set_advisor_target_scan_time(unsigned long value)
{
	if (value < 1)
		return -EINVAL;
	WRITE_ONCE(ksmod_advisor_target_scan_time, value);
	return 0;
}

/* Leave the cursor's slot for the next one; free it if its mm is gone. */
static void ksmod_scan_next_slot(void)
{
	struct ksmod_mm_slot *slot = ksmod_scan_slot, *next;
	struct mm_struct *mm = slot->mm;
	bool gone = !atomic_read(&mm->mm_users);

	if (gone)
		ksmod_free_items_from(&slot->rmap_list);
	spin_lock(&ksmod_mm_lock);
	next = list_is_last(&slot->list, &ksmod_mm_list) ? NULL :
		list_next_entry(slot, list);
	if (gone)
		ksmod_mm_slot_unlink(slot);
	ksmod_scan_slot = next;
	spin_unlock(&ksmod_mm_lock);
	if (gone) {
		clear_bit(MMF_VM_MERGEABLE, &mm->flags);
		ksmod_mm_slot_free(slot);
	}
	if (next) {
		ksmod_scan_address = 0;
		ksmod_scan_rmap_list = &next->rmap_list;
	} else {
		/* a full pass is done */
		ksmod_full_scans++;
		ksmod_unstable_reset();
		ksmod_stable_prune_unused();
	}
}

/*
 * At the start of @slot in a pass, its mmap lock held: its merge domain
 * key now (domain.c). When it changed (setuid, a move to another cgroup),
 * its KSM pages, shared in the old domain, are broken and its rmap items
 * freed, as for MADV_UNMERGEABLE, before any of its pages meets a page of
 * the new domain. False when that failed (no memory, a fatal signal): the
 * slot is skipped until the next pass.
 */
static bool ksmod_slot_domain_ok(struct ksmod_mm_slot *slot)
{
	u64 domain;

	spin_lock(&ksmod_mm_lock);
	domain = slot->tag;
	spin_unlock(&ksmod_mm_lock);
	domain = ksmod_domain_of(slot->mm, domain);

	if (domain == slot->domain)
		return true;
	if (slot->domain != KSMOD_DOMAIN_UNSET) {
		if (ksmod_unmerge_mm(slot->mm))
			return false;
		ksmod_free_items_from(&slot->rmap_list);
	}
	ksmod_set_slot_domain(slot, domain);
	return true;
}

/*
 * The next page to look at, referenced, and its rmap item; NULL at the
 * end of a pass or when memory is short.
 */
static struct ksmod_rmap_item *ksmod_scan_next(struct page **page)
{
	struct ksmod_mm_slot *slot;
	struct vm_area_struct *vma;
	struct mm_struct *mm;

	if (!ksmod_scan_slot) {
		spin_lock(&ksmod_mm_lock);
		ksmod_scan_slot = list_first_entry_or_null(&ksmod_mm_list,
							   struct ksmod_mm_slot,
							   list);
		spin_unlock(&ksmod_mm_lock);
		if (!ksmod_scan_slot) {
			/* nobody registered: what nodes remain are unused */
			ksmod_stable_prune_unused();
			return NULL;
		}
		ksmod_scan_address = 0;
		ksmod_scan_rmap_list = &ksmod_scan_slot->rmap_list;
		ksmod_advisor_start_scan();
		/*
		 * As the kernel's ksmd, once a pass: a page still in a
		 * per-CPU LRU batch holds an extra reference, which makes
		 * write-protecting it fail; on an idle CPU nothing else
		 * drains the batch, and the page would never merge.
		 */
		ksym.lru_add_drain_all();
	}

	while ((slot = ksmod_scan_slot)) {
		VMA_ITERATOR(vmi, slot->mm, ksmod_scan_address);

		mm = slot->mm;
		mmap_read_lock(mm);
		if (!atomic_read(&mm->mm_users))
			goto next_slot;
		if (!ksmod_scan_address && !ksmod_slot_domain_ok(slot)) {
			mmap_read_unlock(mm);
			ksmod_scan_next_slot();
			if (!ksmod_scan_slot) {
				ksmod_advisor_stop_scan();
				return NULL;
			}
			continue;
		}
		for_each_vma(vmi, vma) {
			unsigned long addr = max(ksmod_scan_address,
						 vma->vm_start);

			if (!ksmod_vma_mergeable(vma) || !vma->anon_vma)
				continue;
			for (; addr < vma->vm_end; addr += PAGE_SIZE) {
				struct ksmod_rmap_item *item;
				struct page *p;

				if (!atomic_read(&mm->mm_users))
					goto next_slot;
				p = ksmod_next_anon_page(vma, &addr,
							 vma->vm_end);
				if (!p)
					break;
				item = ksmod_next_item(mm, ksmod_scan_rmap_list,
						       addr);
				if (item) {
					ksmod_scan_rmap_list = &item->rmap_list;
					ksmod_scan_address = addr + PAGE_SIZE;
					if (ksmod_should_skip(p, item)) {
						put_page(p);
						cond_resched();
						continue;
					}
					*page = p;
				} else {
					put_page(p);
				}
				mmap_read_unlock(mm);
				return item;
			}
		}
next_slot:
		/* what is left in the list has no mergeable page any more */
		ksmod_free_items_from(atomic_read(&mm->mm_users) ?
				      ksmod_scan_rmap_list : &slot->rmap_list);
		mmap_read_unlock(mm);
		ksmod_scan_next_slot();
		if (!ksmod_scan_slot) {
			ksmod_advisor_stop_scan();
			return NULL;
		}
	}
	return NULL;
}

/*
 * early_merge=1: the kernel's KSM only records a page's checksum on its
 * first visit, and a page enters the unstable tree once its checksum held
 * still for a whole pass, so identical pages merge on the second pass at
 * the earliest. ksmod lets a page go on at its first visit too, marked
 * unverified: it enters the unstable tree, or merges with a twin found
 * there if that twin held still: verified by a pass, or, if unverified
 * itself, seen in an earlier batch (a sleep ago) with the checksum its
 * page still has. So fresh duplicates merge in one pass. A page that
 * keeps changing gets this chance once, at its first visit (a new rmap
 * item); every later visit is the kernel's gate. Merging is safe either
 * way (the pte write-protected or cleared, then compared); the gate only
 * keeps pages that change from being merged in vain.
 *
 * Has @tree_item's page, found as a twin in the unstable tree, held
 * still? Only an unverified item needs asking.
 */
static bool ksmod_twin_held_still(struct ksmod_rmap_item *tree_item,
				  struct page *tree_page)
{
	if (!tree_item->unverified)
		return true;
	if (tree_item->seen_batch == (unsigned int)ksmod_batches ||
	    ksmod_checksum(tree_page) != tree_item->oldchecksum)
		return false;
	tree_item->unverified = 0;
	return true;
}

/*
 * Merge @page (@item) with its twin @tree_page (@tree_item, referenced:
 * the reference is dropped) into a new KSM page and put it in the stable
 * tree.
 */
static void ksmod_merge_pair(struct page *page, struct ksmod_rmap_item *item,
			     struct ksmod_rmap_item *tree_item,
			     struct page *tree_page, u64 domain)
{
	struct ksmod_stable_node *n;
	struct page *kpage;
	bool refused, split;

	kpage = ksmod_merge_two_pages(item, page, tree_item, tree_page,
				      &refused);
	/*
	 * The twin refused, @page did not: someone holds the twin (a pin,
	 * direct I/O, a pipe) or had it locked. The kernel's KSM leaves it
	 * in the unstable tree, where every page of its content meets it
	 * and fails in turn, pass after pass while it is held (with the
	 * passes smart_scan aligns, for good: pinned.sh). Here it leaves the
	 * tree for the rest of the pass: the next page of that content goes
	 * in instead and the others meet that one. The twin is back at its
	 * next visit.
	 */
	if (refused)
		ksmod_rmap_item_unlink(tree_item);
	/*
	 * Twins in one large folio: splitting it failed on the reference
	 * we hold on each. As the kernel's KSM, split it now with one
	 * reference dropped; they merge on a later pass.
	 */
	split = !kpage && PageTransCompound(page) &&
		page_folio(page) == page_folio(tree_page);
	put_page(tree_page);
	if (split && trylock_page(page)) {
		ksmod_split_page(page);
		unlock_page(page);
	}
	if (!kpage)
		return;
	lock_page(kpage);
	n = ksmod_stable_insert(kpage, domain);
	if (n) {
		ksmod_stable_append(tree_item, n);
		ksmod_stable_append(item, n);
	}
	unlock_page(kpage);
	if (!n) {
		ksmod_break_cow(tree_item);
		ksmod_break_cow(item);
	}
	if (kpage != page)	/* merge_new_page's fresh page */
		put_page(kpage);
}

/* Merge @page, if it can be, and keep @item in the right tree. */
static void ksmod_cmp_and_merge(struct page *page, struct ksmod_rmap_item *item)
{
	struct ksmod_rmap_item *tree_item;
	struct ksmod_stable_node *n;
	struct page *kpage, *tree_page;
	bool first = false, ours;
	u32 checksum;
	u64 domain;
	int err;

	/*
	 * Already on this page's node: nothing to do. The item's node is
	 * ksmod's, so the page's mapping alone says it (no xarray lookup,
	 * on the pass's commonest path).
	 */
	if ((item->address & KSMOD_STABLE_FLAG) &&
	    READ_ONCE(page_folio(page)->mapping) ==
	    (void *)((unsigned long)item->head | PAGE_MAPPING_KSM))
		return;
	ksmod_rmap_item_unlink(item);

	/* its process's merge domain; pages of zeroes may merge across */
	domain = ksmod_scan_slot->domain;
	if (domain != KSMOD_DOMAIN_ALL && ksmod_domain_zero_page(page))
		domain = KSMOD_DOMAIN_ALL;

	/*
	 * As 6.12's KSM: a page that is not one of ksmod's KSM pages goes
	 * on only if its checksum held still since the last visit, before
	 * either tree is searched. 6.1's KSM searched the stable tree first,
	 * merging pages that kept changing into a KSM page they matched for
	 * a moment, only to copy them again at the next write (early.sh: 18
	 * times the copy-on-write breaks of 6.12's KSM). With early_merge, a
	 * first visit goes on too, unverified (ksmod_twin_held_still()).
	 * ksmod's KSM page (a fork's, or one on another node's tree) goes
	 * straight to the stable tree, as the kernel's does.
	 */
	ours = ksmod_folio_node(page_folio(page));
	if (!ours && !item->visited && READ_ONCE(ksmod_early_merge) &&
	    !READ_ONCE(ksmod_use_zero_pages)) {
		/*
		 * A first visit's checksum says nothing of whether the page
		 * holds still: it is kept for the next visit, and for a twin
		 * meeting the page in the unstable tree. A page that joins a
		 * KSM page now needs none, so it is taken after the stable
		 * search, when the page goes on to the unstable tree (in
		 * make bench most pages join a KSM page on their first visit,
		 * and the checksum was 14% of the scanner's time).
		 * The kernel checksums first; its first visit ends there.
		 */
		first = true;
		item->visited = 1;
		item->seen_batch = ksmod_batches;
		item->unverified = 1;
	} else if (!ours) {
		ksmod_prof(KSMOD_PH_OTHER);
		checksum = ksmod_checksum(page);
		ksmod_prof(KSMOD_PH_CHECKSUM);
		if (item->visited && item->oldchecksum != checksum) {
			item->oldchecksum = checksum;
			return;
		}
		if (!item->visited) {
			item->visited = 1;
			item->seen_batch = ksmod_batches;
			item->oldchecksum = checksum;
			/* pages of zeroes wait for the gate, as in the kernel */
			if (!READ_ONCE(ksmod_early_merge) ||
			    (READ_ONCE(ksmod_use_zero_pages) &&
			     checksum == ksmod_zero_checksum))
				return;
			item->unverified = 1;
		} else {
			item->unverified = 0;
			if (READ_ONCE(ksmod_use_zero_pages) &&
			    checksum == ksmod_zero_checksum &&
			    !ksmod_merge_zero_page(item, page))
				return;
		}
	} else {
		item->unverified = 0;
	}

	for (;;) {
		ksmod_prof(KSMOD_PH_OTHER);
		kpage = ksmod_stable_search(page, domain, !item->tail_differs);
		ksmod_prof(KSMOD_PH_STABLE);
		if (IS_ERR(kpage)) {
			/* a KSM page of another domain, a fork's from before */
			ksmod_break_item(item);
			return;
		}
		if (!kpage)
			break;
		err = ksmod_merge_with_ksm_page(item, page, kpage);
		if (err != -EAGAIN || item->tail_differs)
			break;
		/* it matched on its first bytes only: search whole pages */
		ksmod_prof(KSMOD_PH_MERGE);
		put_page(kpage);
		item->tail_differs = 1;
	}
	if (kpage) {
		if (err) {
			if (first)	/* not merged: the next visit needs it */
				item->oldchecksum = ksmod_checksum(page);
		} else {
			lock_page(kpage);
			n = ksmod_folio_node(page_folio(kpage));
			if (n) {
				ksmod_stable_append(item, n);
			} else {
				/* the node went away meanwhile: undo */
				unlock_page(kpage);
				ksmod_break_cow(item);
				put_page(kpage);
				return;
			}
			unlock_page(kpage);
		}
		put_page(kpage);
		ksmod_prof(KSMOD_PH_MERGE);
		return;
	}

	if (first) {
		ksmod_prof(KSMOD_PH_OTHER);
		item->oldchecksum = ksmod_checksum(page);
		ksmod_prof(KSMOD_PH_CHECKSUM);
	}
	tree_item = ksmod_unstable_search_insert(item, page, domain, &tree_page);
	ksmod_prof(KSMOD_PH_UNSTABLE);
	if (!tree_item)
		return;
	if (!ksmod_twin_held_still(tree_item, tree_page)) {
		put_page(tree_page);
		return;
	}
	ksmod_merge_pair(page, item, tree_item, tree_page, domain);
	ksmod_prof(KSMOD_PH_MERGE);
}

/* Scan up to @nr_pages pages, fewer when a tunable changes (@seq). */
static void ksmod_do_scan(unsigned int nr_pages, int seq)
{
	struct ksmod_rmap_item *item;
	struct page *page;

	ksmod_batches++;
	while (nr_pages--) {
		cond_resched();
		if (atomic_read(&ksmod_tune_seq) != seq)
			return;
		ksmod_prof_mark();
		item = ksmod_scan_next(&page);
		ksmod_prof(KSMOD_PH_WALK);
		if (!item)
			return;
		ksmod_cmp_and_merge(page, item);
		put_page(page);
		ksmod_prof(KSMOD_PH_OTHER);
		ksmod_pages_scanned++;
	}
}

/*
 * run=2: private copies everywhere, every rmap item freed; the processes
 * stay registered. Thread mutex held.
 */
static int ksmod_unmerge_all(void)
{
	struct ksmod_mm_slot *slot;
	int err = 0;

	spin_lock(&ksmod_mm_lock);
	ksmod_scan_slot = list_first_entry_or_null(&ksmod_mm_list,
						   struct ksmod_mm_slot, list);
	spin_unlock(&ksmod_mm_lock);

	while ((slot = ksmod_scan_slot)) {
		struct mm_struct *mm = slot->mm;

		mmap_read_lock(mm);
		if (READ_ONCE(test_unmerge_fail))
			err = -ENOMEM;
		else if (atomic_read(&mm->mm_users))
			err = ksmod_unmerge_mm(mm);
		if (!err)
			ksmod_free_items_from(&slot->rmap_list);
		mmap_read_unlock(mm);
		if (err)
			break;
		ksmod_scan_next_slot();
	}
	spin_lock(&ksmod_mm_lock);
	ksmod_scan_slot = NULL;
	spin_unlock(&ksmod_mm_lock);
	return err;
}

static bool ksmod_should_run(void)
{
	return READ_ONCE(ksmod_run) == KSMOD_RUN_MERGE;
}

/* With ksmod_thread_mutex held: wait until no memory is going offline. */
static void ksmod_wait_while_offlining(void)
{
	while (test_bit(KSMOD_OFFLINING, &ksmod_offline_flags)) {
		mutex_unlock(&ksmod_thread_mutex);
		wait_on_bit(&ksmod_offline_flags, KSMOD_OFFLINING,
			    TASK_UNINTERRUPTIBLE);
		mutex_lock(&ksmod_thread_mutex);
	}
}

/**
 * ksmod_rekey_now() - give @mm's process its merge domain key at once
 * @mm:	a process's mm; the caller holds its mm_users
 *
 * What the scanner does when it next enters the process, done before the
 * caller returns (SET_TAG, and a change of uid or cgroup: domain.c): when
 * the key changed, the KSM pages it maps, shared in its old domain, are
 * broken and its rmap items freed, so that no write of the process can
 * time a page of the old domain afterwards. A cursor inside the process
 * starts it again from its first page. The slot is looked up under the
 * thread mutex: a live mm's slot is only freed under it (unload).
 *
 * Return: 0 (also when ksmod does not merge @mm), or -ENOMEM/-EINTR when
 * unmerging failed (the scanner tries again when it enters the process).
 */
int ksmod_rekey_now(struct mm_struct *mm)
{
	struct ksmod_mm_slot *slot;
	int err = 0;

	mutex_lock(&ksmod_thread_mutex);
	ksmod_wait_while_offlining();
	slot = ksmod_mm_slot_find(mm);
	if (!slot)
		goto out;
	mmap_read_lock(mm);
	if (!ksmod_slot_domain_ok(slot)) {
		err = fatal_signal_pending(current) ? -EINTR : -ENOMEM;
	} else if (slot == ksmod_scan_slot && !slot->rmap_list) {
		ksmod_scan_address = 0;
		ksmod_scan_rmap_list = &slot->rmap_list;
	}
	mmap_read_unlock(mm);
out:
	mutex_unlock(&ksmod_thread_mutex);
	return err;
}

/* A tunable's store: the thread takes the new value at once. */
static void ksmod_tuned(void)
{
	atomic_inc(&ksmod_tune_seq);
	wake_up_interruptible(&ksmod_iter_wait);
}

static int ksmod_scan_thread(void *unused)
{
	int seq;

	set_freezable();
	set_user_nice(current, 5);

	while (!kthread_should_stop()) {
		seq = atomic_read(&ksmod_tune_seq);
		mutex_lock(&ksmod_thread_mutex);
		ksmod_wait_while_offlining();
		if (ksmod_should_run())
			ksmod_do_scan(READ_ONCE(ksmod_pages_to_scan), seq);
		mutex_unlock(&ksmod_thread_mutex);

		if (ksmod_should_run()) {
			wait_event_freezable_timeout(ksmod_iter_wait,
				atomic_read(&ksmod_tune_seq) != seq ||
				kthread_should_stop(),
				msecs_to_jiffies(READ_ONCE(ksmod_sleep_millisecs)));
		} else {
			wait_event_freezable(ksmod_thread_wait,
					     ksmod_should_run() ||
					     kthread_should_stop());
		}
	}
	return 0;
}

/**
 * ksmod_set_run() - the "run" store: 0 stop, 1 merge, 2 unmerge all
 * @run:	the new value
 *
 * run=2 succeeds only when no KSM page of ksmod's is left at all (no
 * stable node): the module stays loaded while one is (stable_tree.c).
 *
 * Return: 0, -EINVAL for another value, or the error that stopped
 * unmerging (run is then 0, as in the kernel's KSM): -ENOMEM or
 * -ERESTARTSYS from unmerging, -EBUSY when a KSM page is still mapped
 * where unmerging cannot reach it. The package's modprobe.d rule writes 2
 * before removal and stops on that error.
 */
int ksmod_set_run(unsigned long run)
{
	bool changed;
	int err = 0;

	if (run > KSMOD_RUN_UNMERGE)
		return -EINVAL;
	mutex_lock(&ksmod_thread_mutex);
	ksmod_wait_while_offlining();
	changed = ksmod_run != run;
	if (changed) {
		WRITE_ONCE(ksmod_run, run);
		if (run == KSMOD_RUN_UNMERGE) {
			err = ksmod_unmerge_all();
			if (!err)
				err = ksmod_stable_drain();
			/* the kernel's full_scans counts from 0 again */
			if (!err)
				ksmod_full_scans = 0;
			if (err) {
				WRITE_ONCE(ksmod_run, KSMOD_RUN_STOP);
				pr_warn("run=2: unmerging stopped (%pe), %ld KSM pages still shared; run is 0\n",
					ERR_PTR(err),
					atomic_long_read(&ksmod_nr_stable_nodes));
			}
		}
	}
	mutex_unlock(&ksmod_thread_mutex);

	/*
	 * The thread may be asleep either way: stopped, or in the sleep
	 * after a batch of a run the writer has just stopped and restarted.
	 */
	if (changed)
		ksmod_tuned();
	if (run == KSMOD_RUN_MERGE)
		wake_up_interruptible(&ksmod_thread_wait);
	return err;
}

/* Any value, as in the kernel's KSM; 0 scans nothing. Not while the
 * advisor sets it (-EINVAL, as the kernel).
 */
int ksmod_set_pages_to_scan(unsigned long nr)
{
	if (READ_ONCE(ksmod_advisor) != KSMOD_ADVISOR_NONE)
		return -EINVAL;
	WRITE_ONCE(ksmod_pages_to_scan, nr);
	ksmod_tuned();
	return 0;
}

/* Any value; the thread sleeping on the old one wakes to take it. */
int ksmod_set_sleep_millisecs(unsigned long msecs)
{
	WRITE_ONCE(ksmod_sleep_millisecs, msecs);
	ksmod_tuned();
	return 0;
}

/**
 * ksmod_set_merge_across_nodes() - the "merge_across_nodes" store
 * @knob:	0 or 1
 *
 * As in the kernel, it changes only while no KSM page exists: unmerge
 * (run=2) first. Trees of the old setting are empty then, but for the
 * unstable tree, whose items remember which tree they are in.
 *
 * Return: 0, -EINVAL for another value, -EBUSY while KSM pages exist.
 */
int ksmod_set_merge_across_nodes(unsigned long knob)
{
	int err = 0;

	if (knob > 1)
		return -EINVAL;
	mutex_lock(&ksmod_thread_mutex);
	ksmod_wait_while_offlining();
	if (ksmod_merge_across_nodes != knob) {
		if (ksmod_pages_shared || !ksmod_stable_empty()) {
			pr_info_ratelimited("merge_across_nodes: KSM pages exist: write 2 to run first\n");
			err = -EBUSY;
		} else {
			WRITE_ONCE(ksmod_merge_across_nodes, knob);
		}
	}
	mutex_unlock(&ksmod_thread_mutex);
	return err;
}

/**
 * ksmod_set_max_page_sharing() - the "max_page_sharing" store
 * @value:	the new limit, an int (passed as long)
 *
 * As in the kernel: at least 2 (a KSM page starts with two mappings), and
 * changed only while no KSM page exists, since chains were built for the
 * old limit: unmerge (run=2) first.
 *
 * Return: 0, -EINVAL below 2, -EBUSY while KSM pages exist.
 */
int ksmod_set_max_page_sharing(unsigned long value)
{
	long knob = (long)value;
	int err = 0;

	if (knob < 2)
		return -EINVAL;
	if (knob == READ_ONCE(ksmod_max_page_sharing))
		return 0;
	mutex_lock(&ksmod_thread_mutex);
	ksmod_wait_while_offlining();
	if (ksmod_max_page_sharing != knob) {
		if (ksmod_pages_shared || !ksmod_stable_empty()) {
			pr_info_ratelimited("max_page_sharing: KSM pages exist: write 2 to run first\n");
			err = -EBUSY;
		} else {
			WRITE_ONCE(ksmod_max_page_sharing, knob);
		}
	}
	mutex_unlock(&ksmod_thread_mutex);
	return err;
}

/* Any value, as in the kernel's KSM; 0 checks whole chains every search. */
int ksmod_set_chains_prune_msecs(unsigned long msecs)
{
	WRITE_ONCE(ksmod_stable_node_chains_prune_msecs, msecs);
	return 0;
}

/* 0 or 1 (the sysfs store parses a boolean). */
int ksmod_set_early_merge(unsigned long on)
{
	WRITE_ONCE(ksmod_early_merge, !!on);
	return 0;
}

int ksmod_set_smart_scan(unsigned long on)
{
	WRITE_ONCE(ksmod_smart_scan, !!on);
	return 0;
}

/*
 * 0 or 1 (the sysfs store parses a boolean). What a KSM zero page is
 * follows the kernel: see ksmod_map_zero_page().
 */
int ksmod_set_use_zero_pages(unsigned long on)
{
	WRITE_ONCE(ksmod_use_zero_pages, !!on);
	return 0;
}

/*
 * A change of which pages may merge with which (merge_domain, and the
 * tunables that refine it) unmerges everything, as run=2, when it changes
 * any process's key: pages then merge again by the new rule, and no page
 * stays shared across a boundary the new rule draws. Slots take their new
 * keys when the scanner next enters them.
 */
static int ksmod_set_domain_knob(unsigned int *knob, unsigned int value,
				 bool rekeys)
{
	int err = 0;

	mutex_lock(&ksmod_thread_mutex);
	ksmod_wait_while_offlining();
	if (*knob != value && rekeys) {
		err = ksmod_unmerge_all();
		if (!err)
			err = ksmod_stable_drain();
		if (err)
			pr_warn("merge domains unchanged: unmerging stopped (%pe), %ld KSM pages still shared\n",
				ERR_PTR(err),
				atomic_long_read(&ksmod_nr_stable_nodes));
		else
			ksmod_reset_slot_domains();
	}
	if (!err)
		WRITE_ONCE(*knob, value);
	mutex_unlock(&ksmod_thread_mutex);
	return err;
}

int ksmod_set_merge_domain(unsigned int mode)
{
	return ksmod_set_domain_knob(&ksmod_merge_domain, mode, true);
}

/* A depth in the cgroup v2 hierarchy: 0 is the root (all one domain). */
int ksmod_set_merge_domain_cgroup_level(unsigned long level)
{
	if (level > INT_MAX)
		return -EINVAL;
	return ksmod_set_domain_knob(&ksmod_merge_domain_cgroup_level, level,
			READ_ONCE(ksmod_merge_domain) == KSMOD_DOMAIN_CGROUP);
}

int ksmod_set_merge_zero_across_domains(unsigned long on)
{
	return ksmod_set_domain_knob(&ksmod_merge_zero_across_domains, !!on,
			READ_ONCE(ksmod_merge_domain) != KSMOD_DOMAIN_GLOBAL);
}

/*
 * KSM zero pages in ksmod's processes: core mm keeps each mm's count, also
 * when it unmaps them; ksmod only adds them up. Always 0 where core mm
 * counts none (6.1), as there is no hook where they are unmapped.
 */
long ksmod_zero_pages(void)
{
	struct ksmod_mm_slot *slot;
	long sum = 0;

	spin_lock(&ksmod_mm_lock);
	list_for_each_entry(slot, &ksmod_mm_list, list)
		sum += ksmod_mm_zero_pages(slot->mm);
	spin_unlock(&ksmod_mm_lock);
	return sum;
}

/*
 * Memory hotplug: no scan, unmerge-all or unload may walk the stable tree
 * while memory goes offline (KSMOD_OFFLINING, set at MEM_GOING_OFFLINE and
 * cleared at MEM_OFFLINE or MEM_CANCEL_OFFLINE, in one task); at
 * MEM_OFFLINE, nodes left pointing into the offlined range are pruned.
 * Rmap walks and migration need no mutex. Unlike the kernel, which prunes
 * with only its flag set, the prune takes ksmod_thread_mutex: the trees
 * change only under it.
 */
static int ksmod_memory_callback(struct notifier_block *nb,
				 unsigned long action, void *arg)
{
	struct memory_notify *mn = arg;

	switch (action) {
	case MEM_GOING_OFFLINE:
		mutex_lock(&ksmod_thread_mutex);
		set_bit(KSMOD_OFFLINING, &ksmod_offline_flags);
		mutex_unlock(&ksmod_thread_mutex);
		break;
	case MEM_OFFLINE:
	case MEM_CANCEL_OFFLINE:
		mutex_lock(&ksmod_thread_mutex);
		if (action == MEM_OFFLINE)
			ksmod_stable_prune(mn->start_pfn,
					   mn->start_pfn + mn->nr_pages);
		clear_bit(KSMOD_OFFLINING, &ksmod_offline_flags);
		mutex_unlock(&ksmod_thread_mutex);
		smp_mb();	/* wake_up_bit() wants one after clear_bit() */
		wake_up_bit(&ksmod_offline_flags, KSMOD_OFFLINING);
		break;
	}
	return NOTIFY_OK;
}

static struct notifier_block ksmod_memory_nb = {
	.notifier_call = ksmod_memory_callback,
};

int ksmod_scan_init(void)
{
	ksmod_zero_checksum = ksmod_checksum(ZERO_PAGE(0));
	if (ksmod_run > KSMOD_RUN_MERGE) {
		pr_err("run=%u: at load, run must be 0 or 1\n", ksmod_run);
		return -EINVAL;
	}
	/* the parameters take what their sysfs files would */
	ksmod_set_early_merge(ksmod_early_merge);
	if (ksmod_set_merge_new_page(ksmod_merge_new_page)) {
		pr_err("merge_new_page=1: the kernel's __mem_cgroup_charge was not found, a fresh page could not be charged\n");
		return -EOPNOTSUPP;
	}
	ksmod_thread = kthread_run(ksmod_scan_thread, NULL, "ksmod");
	if (IS_ERR(ksmod_thread)) {
		pr_err("cannot start the scanner thread\n");
		return PTR_ERR(ksmod_thread);
	}
	register_memory_notifier(&ksmod_memory_nb);
	return 0;
}

/* Stop the thread (unload); nothing scans after this returns. */
void ksmod_scan_stop(void)
{
	kthread_stop(ksmod_thread);
	ksmod_thread = NULL;
	ksmod_scan_slot = NULL;
}

/* Keep scans, memory offlining and run=2 off the trees (unload). */
void ksmod_scan_lock(void)
{
	mutex_lock(&ksmod_thread_mutex);
	ksmod_wait_while_offlining();
}

void ksmod_scan_unlock(void)
{
	mutex_unlock(&ksmod_thread_mutex);
}

void ksmod_scan_exit(void)
{
	if (ksmod_thread)
		ksmod_scan_stop();
	unregister_memory_notifier(&ksmod_memory_nb);
}

/* debugfs "scan" */
/* debugfs "profile": each phase's time (ns) and count since enabled */
void ksmod_profile_show(struct seq_file *m)
{
	unsigned int i;

	mutex_lock(&ksmod_thread_mutex);
	seq_printf(m, "enabled %d\n", static_key_enabled(&ksmod_profiling));
	for (i = 0; i < KSMOD_NR_PHASES; i++)
		seq_printf(m, "%s %llu %llu\n", ksmod_phase_names[i],
			   ksmod_prof_ns[i], ksmod_prof_calls[i]);
	mutex_unlock(&ksmod_thread_mutex);
}

/*
 * "1": start again from zero and profile; "0": stop. The key is switched
 * outside the thread mutex (switching takes the CPU hotplug lock).
 */
void ksmod_profile_enable(bool on)
{
	if (!on) {
		static_branch_disable(&ksmod_profiling);
		return;
	}
	mutex_lock(&ksmod_thread_mutex);
	memset(ksmod_prof_ns, 0, sizeof(ksmod_prof_ns));
	memset(ksmod_prof_calls, 0, sizeof(ksmod_prof_calls));
	ksmod_prof_last = 0;
	mutex_unlock(&ksmod_thread_mutex);
	static_branch_enable(&ksmod_profiling);
}

void ksmod_scan_show(struct seq_file *m)
{
	mutex_lock(&ksmod_thread_mutex);
	seq_printf(m, "batches %lu\n", ksmod_batches);
	seq_printf(m, "seqnr %lu\n", ksmod_scan_seqnr);
	mutex_unlock(&ksmod_thread_mutex);
}
