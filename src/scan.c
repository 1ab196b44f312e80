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
 */
#include "ksmod.h"

#include <linux/freezer.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/wait.h>

#include "scan.h"

/* 0 stop, 1 merge, 2 stop and unmerge everything */
unsigned int ksmod_run = KSMOD_RUN_STOP;
module_param_named(run, ksmod_run, uint, 0);
MODULE_PARM_DESC(run, "value of ksm/run at load: 0 stop, 1 merge (default 0)");

/* pages scanned per batch */
unsigned int ksmod_pages_to_scan = 100;
module_param_named(pages_to_scan, ksmod_pages_to_scan, uint, 0);
MODULE_PARM_DESC(pages_to_scan, "value of ksm/pages_to_scan at load (default 100)");

/* sleep between batches */
unsigned int ksmod_sleep_millisecs = 20;
module_param_named(sleep_millisecs, ksmod_sleep_millisecs, uint, 0);
MODULE_PARM_DESC(sleep_millisecs, "value of ksm/sleep_millisecs at load (default 20)");

static DEFINE_MUTEX(ksmod_thread_mutex);
static DECLARE_WAIT_QUEUE_HEAD(ksmod_thread_wait);	/* run became 1 */
static DECLARE_WAIT_QUEUE_HEAD(ksmod_iter_wait);	/* sleep changed */
static struct task_struct *ksmod_thread;

/* batches run since load, under ksmod_thread_mutex */
static unsigned long ksmod_batches;

static void ksmod_do_scan(unsigned int nr_pages)
{
	ksmod_batches++;
}

static bool ksmod_should_run(void)
{
	return READ_ONCE(ksmod_run) == KSMOD_RUN_MERGE;
}

static int ksmod_scan_thread(void *unused)
{
	unsigned int sleep_ms;

	set_freezable();
	set_user_nice(current, 5);

	while (!kthread_should_stop()) {
		mutex_lock(&ksmod_thread_mutex);
		if (ksmod_should_run())
			ksmod_do_scan(READ_ONCE(ksmod_pages_to_scan));
		mutex_unlock(&ksmod_thread_mutex);

		if (ksmod_should_run()) {
			sleep_ms = READ_ONCE(ksmod_sleep_millisecs);
			wait_event_freezable_timeout(ksmod_iter_wait,
				sleep_ms != READ_ONCE(ksmod_sleep_millisecs) ||
				kthread_should_stop(),
				msecs_to_jiffies(sleep_ms));
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
 * Return: 0, -EINVAL for another value, or the error that stopped
 * unmerging (run is then 0).
 */
int ksmod_set_run(unsigned int run)
{
	int err = 0;

	if (run > KSMOD_RUN_UNMERGE)
		return -EINVAL;
	mutex_lock(&ksmod_thread_mutex);
	if (ksmod_run != run) {
		WRITE_ONCE(ksmod_run, run);
		/* unmerging arrives with the merge engine: nothing is merged yet */
	}
	mutex_unlock(&ksmod_thread_mutex);

	if (run == KSMOD_RUN_MERGE)
		wake_up_interruptible(&ksmod_thread_wait);
	return err;
}

/* Any value, as in the kernel's KSM; 0 scans nothing. */
int ksmod_set_pages_to_scan(unsigned int nr)
{
	WRITE_ONCE(ksmod_pages_to_scan, nr);
	return 0;
}

/* Any value; the thread sleeping on the old one wakes to take it. */
int ksmod_set_sleep_millisecs(unsigned int msecs)
{
	WRITE_ONCE(ksmod_sleep_millisecs, msecs);
	wake_up_interruptible(&ksmod_iter_wait);
	return 0;
}

int ksmod_scan_init(void)
{
	if (ksmod_run > KSMOD_RUN_MERGE) {
		pr_err("run=%u: at load, run must be 0 or 1\n", ksmod_run);
		return -EINVAL;
	}
	ksmod_thread = kthread_run(ksmod_scan_thread, NULL, "ksmod");
	if (IS_ERR(ksmod_thread)) {
		pr_err("cannot start the scanner thread\n");
		return PTR_ERR(ksmod_thread);
	}
	return 0;
}

void ksmod_scan_exit(void)
{
	kthread_stop(ksmod_thread);
}

/* debugfs "scan" */
void ksmod_scan_show(struct seq_file *m)
{
	mutex_lock(&ksmod_thread_mutex);
	seq_printf(m, "batches %lu\n", ksmod_batches);
	mutex_unlock(&ksmod_thread_mutex);
}
