// SPDX-License-Identifier: GPL-2.0
/*
 * kevent delivery: the ready list, wake-ups, kevent_get_events() and
 * kevent_wait().
 *
 * A source reports readiness with kevent_ready(). The registration's
 * pending state accumulates (masks are or-ed, counts added) and the
 * registration is put on the ready list once; on a queue with a ring it is
 * moved into the ring at once if there is space. Delivering an event
 * consumes exactly the pending state it reports, so counts are never lost
 * or reported twice, whatever races with the source. On a queue with a
 * ring, a report for a registration with nothing pending that is neither
 * oneshot nor dispatch (kevent_ring_post_direct()) skips the pending state
 * and goes straight into a free slot: the path of almost every event, edge
 * or level.
 */

#include <linux/file.h>
#include <linux/hrtimer.h>
#include <linux/local_lock.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/syscalls.h>
#include <linux/time64.h>
#include <linux/uaccess.h>

#include "kevent.h"

/*
 * Wake @nr_exclusive waiters, one per new event, or all of them (0).
 * Called with kq->lock held. Returns true if pollers of the queue fd must
 * be woken too, which the caller does once kq->lock is dropped.
 */
static bool kevent_wake(struct kevent_queue *kq, int nr_exclusive)
{
	/*
	 * One full barrier orders the state update before both checks, as
	 * wq_has_sleeper() does for one; it pairs with the barrier in
	 * set_current_state() of the waiters (prepare_to_wait_exclusive())
	 * and with the smp_mb() in kevent_queue_poll() of the pollers.
	 */
	smp_mb();
	/* Waiters: ordered after the update by the smp_mb() above. */
	if (waitqueue_active(&kq->wait))
		__wake_up(&kq->wait, TASK_INTERRUPTIBLE, nr_exclusive, NULL);
	/* Pollers: ordered after the update by the same smp_mb(). */
	return waitqueue_active(&kq->poll_wait);
}

/*
 * The queue whose pollers this CPU is waking, if any, and the task doing
 * it. The local lock keeps them ours: interrupts off, or on PREEMPT_RT,
 * where the pollers' callbacks take sleeping locks, a per-CPU lock with
 * migration disabled; there another task can run on this CPU meanwhile,
 * and its events are not covered by this wake-up (the task tells).
 */
struct kevent_waking {
	local_lock_t		lock;
	struct kevent_queue	*queue;
	struct task_struct	*task;
};

static DEFINE_PER_CPU(struct kevent_waking, kevent_waking) = {
	.lock = INIT_LOCAL_LOCK(lock),
};

/*
 * Whether the current task is in kevent_wake_pollers() for @kq on this CPU:
 * a wake-up reaching @kq now is then an echo of that one. Any context; on
 * another CPU or for another task the answer is no, whichever is read.
 */
bool kevent_waking_pollers(struct kevent_queue *kq)
{
	return this_cpu_read(kevent_waking.queue) == kq &&
	       this_cpu_read(kevent_waking.task) == current;
}

/*
 * Wake poll(), select() and epoll watchers of the queue fd, and kevent
 * queues watching it. Called from process context or from the queue's
 * irq_work, never from event context (see kevent_wake_pollers_later()),
 * and without kq->lock: a watcher's callback takes its own locks.
 *
 * A watch chain can come back to this queue through a file kevent cannot
 * see into (the queue watches an epoll file that watches the queue). The
 * registration on that file drops the echo (kevent_waking_pollers()), and
 * a report that still reaches kevent_wake_pollers_later() for the queue
 * being woken does not wake its pollers again: the wake-up in progress
 * covers it. Calls do not nest: a watcher's callback only queues the
 * irq_work.
 *
 * A cycle through two queues (both watch an epoll file that watches both)
 * would go on through the other queue's irq_work each round. The key
 * carries EPOLL_URING_WAKE, as io_uring's do for its completions: the
 * wake-up comes from a notification queue, and epoll passes the flag on
 * to its own pollers (ep_poll_callback()). A registration on a file other
 * than a queue turns such a wake-up into a re-poll request, served by a
 * task's next harvest, and further ones until then are covered by it
 * (kevent_request_recheck()). The cycle so stops after one round and goes
 * on only by system calls. io_uring ends a multishot poll on the first
 * wake-up so marked.
 */
void kevent_wake_pollers(struct kevent_queue *kq)
{
	unsigned long flags;

	local_lock_irqsave(&kevent_waking.lock, flags);
	__this_cpu_write(kevent_waking.queue, kq);
	__this_cpu_write(kevent_waking.task, current);
	spin_lock(&kq->poll_wait.lock);
	wake_up_locked_poll(&kq->poll_wait,
			    EPOLLIN | EPOLLRDNORM | EPOLL_URING_WAKE);
	spin_unlock(&kq->poll_wait.lock);
	__this_cpu_write(kevent_waking.task, NULL);
	__this_cpu_write(kevent_waking.queue, NULL);
	local_unlock_irqrestore(&kevent_waking.lock, flags);
}

/*
 * Wake the pollers from event context: in a wake-up callback, under the
 * lock of the watched file's wait queue (poll and socket sources), in a
 * timer or in the signal code. Waking them right there is not safe: a
 * poller can be an epoll file that a queue watches, whose own pollers can
 * be queues watched by that epoll file, and so on, so the chain can come
 * back to a wait queue whose lock is held further out on this CPU, which
 * kevent cannot see (epoll's loop check knows only epoll files). The
 * queue's irq_work wakes them instead, with no lock held.
 */
static void kevent_wake_pollers_later(struct kevent_queue *kq)
{
	if (!kevent_waking_pollers(kq))
		irq_work_queue(&kq->poll_work);
}

/* The queue's irq_work; see kevent_queue_put() for its end. */
void kevent_poll_work(struct irq_work *work)
{
	kevent_wake_pollers(container_of(work, struct kevent_queue, poll_work));
}

/*
 * Build the event that @kev reports now and return the number of pending
 * occurrences it stands for. Called with kq->lock held.
 */
u64 kevent_fill(struct kevent *kev, struct ukevent *uk)
{
	kevent_build_event(kev, uk, kev->pending_mask, kev->pending_ret_flags,
			   kev->pending_count, kev->pending_value);
	return kev->pending_count;
}

/*
 * @uk, built by kevent_fill() from @count pending occurrences, has been
 * delivered: subtract them and apply @kev's mode. What the source added
 * since kevent_fill() stays pending, except for a level registration: it
 * reports a state, which the re-poll after delivery reads afresh, so a
 * report that came in while its event was being copied out is dropped
 * rather than queued to be delivered later as a second, older reading of
 * that state. Called with kq->lock held; @kev is not queued.
 */
void kevent_delivered(struct kevent_queue *kq, struct kevent *kev, u64 count)
{
	kev->pending_count -= count;
	if (!kev->pending_count || kevent_is_level(kev)) {
		kev->pending_count = 0;
		kev->pending_mask = 0;
		kev->pending_ret_flags = 0;
	}

	if (kev->flags & KEVENT_REQ_ONESHOT) {
		kev->state |= KEVENT_STATE_DEAD;
		list_add_tail(&kev->ready_link, &kq->reap);
	} else if (kev->flags & KEVENT_REQ_DISPATCH) {
		kev->state |= KEVENT_STATE_DISABLED;
	} else if (kev->pending_count) {
		/* It occurred again since kevent_fill(): report it later. */
		list_add_tail(&kev->ready_link, &kq->ready);
		kev->state |= KEVENT_STATE_QUEUED;
		kq->nr_ready++;
	} else if (kevent_rechecks_after_delivery(kev)) {
		/*
		 * Level (here, every registration of a level source): report
		 * it again at the next harvest if it holds.
		 * Others: collect what waits at the origin. The re-poll that
		 * reported this event stopped at it, since it had to wait in
		 * the kernel: a harvest is due, as for a request.
		 */
		kevent_recheck_link(kq, kev);
		if (!kev->source->level)
			kevent_set_woken(kq, kev);
	}
}

/* As kevent_delivered(), for a queued @kev: take it off the ready list. */
void kevent_consume(struct kevent_queue *kq, struct kevent *kev, u64 count)
{
	kevent_unqueue(kq, kev);
	kevent_delivered(kq, kev, count);
}

/* The waiters a new event of @kev wakes, as kevent_wake() counts them. */
static int kevent_waiters_to_wake(const struct kevent *kev)
{
	return kev->flags & KEVENT_REQ_WAKEUP_ALL ? 0 : 1;
}

/*
 * Queue @kev if it has something to report and is armed, and move it into
 * the ring if there is one. Called with kq->lock held. Returns true if it
 * gave the waiters a new event: the caller then calls kevent_wake().
 */
static bool kevent_post_no_wake(struct kevent_queue *kq, struct kevent *kev)
{
	struct list_head *list = &kq->ready;

	if (!kev->pending_count ||
	    (kev->state & (KEVENT_STATE_DISABLED | KEVENT_STATE_DEAD)))
		return false;
	/* Queued already: the report is coalesced into the pending event. */
	if (kev->state & KEVENT_STATE_QUEUED)
		return (kev->state & KEVENT_STATE_DEFERRED) &&
		       kevent_ring_post_due(kq, kev);

	if (kq->ring) {
		/* Pairs with the consumer's store-release of head: ring.c */
		u32 head = smp_load_acquire(&kq->ring->head);

		/*
		 * A level registration whose last entry is unread waits on
		 * the deferred list until the entry has been read: the next
		 * flush or report of it then posts it (kevent_ring_flush(),
		 * kevent_ring_post_due()). Its counts (accept backlog,
		 * bytes) are then read afresh instead of being posted again,
		 * stale, behind it. An edge one of a source with
		 * one_unread_entry waits there too, and its reports add up
		 * meanwhile.
		 */
		if (kevent_waits_for_entry(kq, kev, head)) {
			list = &kq->deferred;
			kev->state |= KEVENT_STATE_DEFERRED;
		} else if (kevent_ring_post(kq, kev, head)) {
			/* Straight into a free ring slot. */
			return true;
		}
	}

	kev->state |= KEVENT_STATE_QUEUED;
	kq->nr_ready++;
	list_add_tail(&kev->ready_link, list);
	/* A deferred one changes nothing the ring shows: no flush. */
	if (kq->ring && list == &kq->ready) {
		kevent_ring_flush(kq);
		if (kev->state & KEVENT_STATE_QUEUED) {
			/* Ring full: it waits in the kernel, visibly. */
			kq->ring_overflow++;
			WRITE_ONCE(kq->ring->overflow, kq->ring_overflow);
		}
	}
	return true;
}

/*
 * As kevent_post_no_wake(), then wake a waiter. Called with kq->lock held.
 * Returns true if the caller must call kevent_wake_pollers().
 */
bool kevent_post_locked(struct kevent_queue *kq, struct kevent *kev)
{
	return kevent_post_no_wake(kq, kev) &&
	       kevent_wake(kq, kevent_waiters_to_wake(kev));
}

/* What kevent_ready_locked() did with a report. */
enum kevent_ready_result {
	/* the waiters have a new event: the caller calls kevent_wake() */
	KEVENT_READY_POSTED	= 1,
	/* the event is not delivered yet: what kevent_ready() returns */
	KEVENT_READY_HELD	= 2,
};

/*
 * kevent_ready() with kq->lock held, minus the wake-up. Returns a mask of
 * enum kevent_ready_result.
 */
static __always_inline unsigned int
kevent_ready_locked(struct kevent_queue *kq, struct kevent *kev,
		    const struct kevent_report *r)
{
	unsigned int result;

	if (kq->ring && kevent_ring_post_direct(kq, kev, r->mask, r->count,
						r->value, r->ret_flags))
		return KEVENT_READY_POSTED;
	if (kev->state & KEVENT_STATE_DEAD)
		return KEVENT_READY_HELD;
	kev->pending_mask |= r->mask;
	kev->pending_count += r->count;
	kev->pending_value = r->value;
	kev->pending_ret_flags |= r->ret_flags;
	result = kevent_post_no_wake(kq, kev) ? KEVENT_READY_POSTED : 0;
	if (kev->pending_count || (kev->state & KEVENT_STATE_DISABLED))
		result |= KEVENT_READY_HELD;
	return result;
}

/**
 * kevent_ready - report that a registration's condition occurred
 * @kev:	the registration
 * @mask:	conditions to add to the reported event mask
 * @count:	occurrences to add to the reported count (data[0]), >= 1
 * @value:	value reported in data[1] (the last one wins)
 * @ret_flags:	KEVENT_RET_* to report
 *
 * Safe from any context, including hard interrupts; never sleeps or
 * allocates. A registration that is already queued is not queued twice:
 * the new occurrence is coalesced into the pending event.
 *
 * Returns true if the event is not delivered yet: it waits on the ready
 * list (no ring, or no room in it), or the registration is disabled or
 * being removed. A source that fires by itself (a timer) then only needs
 * to count, not to fire often.
 */
bool kevent_ready(struct kevent *kev, u32 mask, u64 count, u64 value,
		  u32 ret_flags)
{
	const struct kevent_report report = {
		.mask = mask, .ret_flags = ret_flags,
		.count = count, .value = value,
	};
	struct kevent_queue *kq = kev->queue;
	unsigned int result;
	unsigned long flags;
	bool wake = false;

	spin_lock_irqsave(&kq->lock, flags);
	result = kevent_ready_locked(kq, kev, &report);
	if (result & KEVENT_READY_POSTED)
		wake = kevent_wake(kq, kevent_waiters_to_wake(kev));
	spin_unlock_irqrestore(&kq->lock, flags);
	if (wake)
		kevent_wake_pollers_later(kq);
	return result & KEVENT_READY_HELD;
}

/**
 * kevent_request_recheck - ask for @kev to be evaluated in process context
 * @kev:	the registration
 *
 * For a wake-up that does not say what happened (no poll mask in the wake
 * key) or that a notification queue's posting caused (EPOLL_URING_WAKE),
 * or an origin that must be served by a particular thread (signals to
 * consume): the next kevent_get_events() or kevent_wait(), or a waiter
 * woken now, calls source->recheck(), in a task that may
 * (source->may_recheck). Every waiter is woken, since only some may be
 * able to serve it. Safe from any context.
 */
void kevent_request_recheck(struct kevent *kev)
{
	struct kevent_queue *kq = kev->queue;
	unsigned long flags;
	bool wake = false;

	spin_lock_irqsave(&kq->lock, flags);
	/*
	 * A request that is still unserved covers this one: the re-poll
	 * comes after it, and its wake-up went out. Not waking again is what
	 * ends a wake-up cycle through this registration until a task serves
	 * the request (see kevent_wake_pollers()). Not for a restricted one:
	 * the task that took the earlier wake-up (through an edge-triggered
	 * watcher of the queue) may not be one that can serve it. None for
	 * an orphan: no task could.
	 */
	if (!(kev->state & (KEVENT_STATE_DEAD | KEVENT_STATE_DISABLED |
			    KEVENT_STATE_ORPHANED)) &&
	    (kev->state & (KEVENT_STATE_WOKEN | KEVENT_STATE_RESTRICTED)) !=
	    KEVENT_STATE_WOKEN) {
		kevent_recheck_link(kq, kev);
		kevent_set_woken(kq, kev);
		/* Linked first: pairs with kevent_recheck_requests(). */
		smp_store_release(&kq->recheck_requests,
				  kq->recheck_requests + 1);
		wake = kevent_wake(kq, 0);
	}
	spin_unlock_irqrestore(&kq->lock, flags);
	if (wake)
		kevent_wake_pollers_later(kq);
}

/*
 * A registration on the recheck list is due unless the current task may
 * not re-poll it (it stays on the list for a task that may) or it is a
 * level event whose last ring entry user space has not consumed yet: a
 * level event has at most one unread entry in the ring. Called with
 * kq->lock held, for every registration on the list: inline even in
 * kernels optimised for size.
 */
static __always_inline bool kevent_recheck_due(struct kevent_queue *kq,
					       struct kevent *kev, u32 head)
{
	/* One test of the state on the common path, as without the hook. */
	if (unlikely(kev->state & (KEVENT_STATE_WOKEN |
				   KEVENT_STATE_RESTRICTED))) {
		if ((kev->state & KEVENT_STATE_RESTRICTED) &&
		    !kev->source->may_recheck(kev))
			return false;
		if (kev->state & KEVENT_STATE_WOKEN)
			return true;
	}
	return !kq->ring || !kevent_ring_entry_unread(kq, kev, head);
}

/*
 * Registrations kevent_recheck_all() takes off its private list per hold
 * of kq->lock, to poll them after it is dropped.
 */
#define KEVENT_RECHECK_BATCH	16

/* A re-polled registration whose condition holds, and what it reports. */
struct kevent_recheck_hit {
	struct kevent		*kev;
	struct kevent_report	report;
};

/**
 * kevent_recheck_one - evaluate @kev again now and report it if it holds
 * @kev:	the registration
 *
 * For a registration armed anew (MODIFY, ENABLE). One the current task
 * may not re-poll is left to the tasks that may, woken for it. Called
 * under the queue mutex.
 */
void kevent_recheck_one(struct kevent *kev)
{
	struct kevent_report report;

	if (kev->source->may_recheck && !kev->source->may_recheck(kev)) {
		kevent_request_recheck(kev);
		return;
	}
	if (kev->source->recheck(kev, &report))
		kevent_ready(kev, report.mask, report.count, report.value,
			     report.ret_flags);
}

/*
 * Evaluate the registrations on the recheck list that are due. Caller
 * holds kq->mutex, which keeps them registered and their files open.
 * Returns the count of re-poll requests made before the list was read:
 * those it served, as far as the current task may serve them.
 */
u32 kevent_recheck_all(struct kevent_queue *kq)
{
	/* Only hit[0..n) is read, each written first: no stack clearing. */
	struct kevent_recheck_hit hit[KEVENT_RECHECK_BATCH] __uninitialized;
	struct kevent *kev, *next;
	bool pollers = false, wake_all;
	unsigned int i, n, nr_hits;
	int nr_posted;
	LIST_HEAD(due);
	u32 head = 0, served;

	if (kq->ring) {
		/* Pairs with the consumer's store-release of head: ring.c */
		head = smp_load_acquire(&kq->ring->head);
	}

	/*
	 * Due registrations move to a private list but keep their RECHECK
	 * bit until just before they are polled, so a wake-up meanwhile
	 * neither links them twice nor is lost: the poll comes after it.
	 * A request counted by now has linked its registration already.
	 */
	spin_lock_irq(&kq->lock);
	served = kq->recheck_requests;
	list_for_each_entry_safe(kev, next, &kq->recheck, recheck_link)
		if (kevent_recheck_due(kq, kev, head))
			list_move_tail(&kev->recheck_link, &due);

	/*
	 * A batch at a time leaves the private list and loses its bits under
	 * the lock, then is polled without it. A wake-up between the two
	 * links it to kq->recheck again, to be polled once more later. What
	 * holds is reported at the next hold of the lock, the whole batch at
	 * once, with one wake-up for all of it.
	 */
	while (!list_empty(&due)) {
		n = 0;
		list_for_each_entry_safe(kev, next, &due, recheck_link) {
			kevent_recheck_unlink(kq, kev);
			hit[n++].kev = kev;
			if (n == KEVENT_RECHECK_BATCH)
				break;
		}
		spin_unlock_irq(&kq->lock);
		/* hit[i].kev is read before hit[nr_hits] is written: i >= nr_hits. */
		nr_hits = 0;
		for (i = 0; i < n; i++) {
			kev = hit[i].kev;
			if (kev->source->recheck(kev, &hit[nr_hits].report))
				hit[nr_hits++].kev = kev;
		}
		spin_lock_irq(&kq->lock);
		nr_posted = 0;
		wake_all = false;
		for (i = 0; i < nr_hits; i++) {
			kev = hit[i].kev;
			if (!(kevent_ready_locked(kq, kev, &hit[i].report) &
			      KEVENT_READY_POSTED))
				continue;
			nr_posted++;
			wake_all |= !kevent_waiters_to_wake(kev);
		}
		if (nr_posted)
			pollers |= kevent_wake(kq, wake_all ? 0 : nr_posted);
	}
	spin_unlock_irq(&kq->lock);
	/* Process context, no lock held: the pollers can be woken here. */
	if (pollers)
		kevent_wake_pollers(kq);
	return served;
}

/**
 * kevent_reset - forget what @kev had pending and not yet delivered
 * @kev:	the registration
 * @uk:		for MODIFY, the change: take its udata, flags and event too
 *
 * For sources' ->modify(), before they re-arm the origin, and for
 * re-enabling a level registration (@uk NULL), whose state is then polled
 * afresh. Events already in the ring are not withdrawn. Called under the
 * queue mutex.
 */
void kevent_reset(struct kevent *kev, const struct ukevent *uk)
{
	struct kevent_queue *kq = kev->queue;

	spin_lock_irq(&kq->lock);
	if (uk) {
		kev->udata = uk->udata;
		kev->flags = uk->flags & ~KEVENT_REQ_DISABLED;
		kev->event = uk->event;
		/*
		 * Not re-polled in its new mode: off the list. Under the
		 * queue mutex no re-poll holds it on a private list.
		 */
		if (!kevent_has_recheck(kev))
			kevent_recheck_unlink(kq, kev);
	}
	kev->pending_mask = 0;
	kev->pending_count = 0;
	kev->pending_value = 0;
	kev->pending_ret_flags = 0;
	if (kev->state & KEVENT_STATE_QUEUED)
		kevent_unqueue(kq, kev);
	spin_unlock_irq(&kq->lock);
}

/*
 * Events available to a waiter: unread ring entries, or queued
 * registrations on a queue without a ring. Lockless: a hint for the wake
 * function, re-checked under the lock by the waiter.
 */
static u32 kevent_avail_hint(struct kevent_queue *kq)
{
	if (kq->ring)
		return kevent_ring_avail(kq);
	return READ_ONCE(kq->nr_ready);
}

/*
 * Wake one more waiter for events that are available: a waiter that took
 * a wake-up and leaves some of them (it was interrupted, or harvested
 * fewer than there are) hands the wake-up on, as one event wakes one.
 */
static void kevent_pass_on_wake(struct kevent_queue *kq)
{
	spin_lock_irq(&kq->lock);
	kevent_wake(kq, 1);
	spin_unlock_irq(&kq->lock);
}

/* kevent_avail() when events may wait to enter the ring: under the lock. */
static u32 kevent_avail_flush(struct kevent_queue *kq)
{
	u32 avail;

	spin_lock_irq(&kq->lock);
	if (kq->ring) {
		kevent_ring_flush(kq);
		avail = kevent_ring_avail(kq);
	} else {
		avail = kq->nr_ready;
	}
	spin_unlock_irq(&kq->lock);
	return avail;
}

/*
 * As kevent_avail_hint(), after moving waiting events into the ring. A
 * waiter calls it up to three times per kevent_wait(): the common case is
 * inline.
 */
static __always_inline u32 kevent_avail(struct kevent_queue *kq)
{
	/*
	 * Nothing waits to enter the ring (nothing queued, and no stale
	 * KEVENT_RING_OVERFLOW to clear) and no re-poll request waits for a
	 * harvest (KEVENT_RING_REPOLL): the ring's count is the answer,
	 * without the lock. An event queued after this look is flushed into
	 * the ring (or deferred, counted in nr_ready) by whoever queues it,
	 * who then wakes the waiters (kevent_post_locked()); a waiter is on
	 * the wait queue before it looks, so it is not missed. ring->flags
	 * is in the shared page: a value scribbled there only sends us down
	 * the locked path, which rewrites it.
	 */
	if (kq->ring && !READ_ONCE(kq->nr_ready) &&
	    !READ_ONCE(kq->ring->flags))
		return kevent_ring_avail(kq);
	return kevent_avail_flush(kq);
}

/*
 * poll() on the queue fd. It cannot re-poll watched files here (that needs
 * kq->mutex, which may not nest inside a watcher's locks), so
 * registrations due for a re-poll report POLLIN; a harvest then re-polls
 * them. Due means due for the calling task (source->may_recheck).
 */
bool kevent_queue_has_events(struct kevent_queue *kq)
{
	struct kevent *kev;
	bool due = false;
	u32 head = 0;

	if (kevent_avail(kq))
		return true;
	if (kq->ring) {
		/* Pairs with the consumer's store-release of head: ring.c */
		head = smp_load_acquire(&kq->ring->head);
	}
	spin_lock_irq(&kq->lock);
	list_for_each_entry(kev, &kq->recheck, recheck_link) {
		if (kevent_recheck_due(kq, kev, head)) {
			due = true;
			break;
		}
	}
	spin_unlock_irq(&kq->lock);
	return due;
}

/* Re-poll requests made so far, for a caller to compare with those served. */
static __always_inline u32 kevent_recheck_requests(struct kevent_queue *kq)
{
	/*
	 * Pairs with the store-release in kevent_request_recheck(): the
	 * registration of a request counted here is on the list, or taken
	 * off it by a re-poll that serves it.
	 */
	return smp_load_acquire(&kq->recheck_requests);
}

/* kevent_recheck() when something may be due: takes kq->mutex. */
u32 kevent_recheck_slow(struct kevent_queue *kq)
{
	u32 served;

	mutex_lock(&kq->mutex);
	served = kevent_recheck_all(kq);
	mutex_unlock(&kq->mutex);
	return served;
}

/*
 * Re-poll due registrations, if there may be any: requests the caller has
 * not served (*@served counts those it has), or registrations on the list.
 * A task that may not serve a request still counts it served, so it never
 * spins on it; the tasks that may were all woken for it, and see it unless
 * they served it.
 */
static __always_inline void kevent_recheck(struct kevent_queue *kq,
					   u32 *served)
{
	if (kevent_recheck_requests(kq) != *served ||
	    !list_empty_careful(&kq->recheck))
		WRITE_ONCE(*served, kevent_recheck_slow(kq));
}

/*
 * @served is written by the waiter only while it is awake, and read by
 * the wake function: a stale value only wakes it once more, and such a
 * wake-up takes no event's place (kevent_wake_function()).
 */
struct kevent_waiter {
	struct wait_queue_entry	wq;
	struct kevent_queue	*kq;
	u32			min_nr;
	u32			served;		/* re-poll requests served */
};

/*
 * Waiters sleep exclusively, so a wake-up for one event wakes one of them.
 * A waiter that could not return yet (fewer than its min_nr events) does
 * not count, so the wake-up goes on to the next one. A re-poll request it
 * has not served wakes it in any case, but then it counts only if it can
 * also return: an event's wake-up still reaches a waiter that can take it.
 */
static int kevent_wake_function(struct wait_queue_entry *wq, unsigned int mode,
				int sync, void *key)
{
	struct kevent_waiter *w = container_of(wq, struct kevent_waiter, wq);
	bool enough = kevent_avail_hint(w->kq) >= w->min_nr;

	if (!enough &&
	    READ_ONCE(w->kq->recheck_requests) == READ_ONCE(w->served))
		return 0;
	return autoremove_wake_function(wq, mode, sync, key) && enough;
}

struct kevent_timeout {
	bool		infinite;
	ktime_t		expires;	/* absolute, on clockid */
	clockid_t	clockid;
};

static ktime_t kevent_clock_now(clockid_t clockid)
{
	switch (clockid) {
	case CLOCK_REALTIME:
		return ktime_get_real();
	case CLOCK_BOOTTIME:
		return ktime_get_boottime();
	default:
		return ktime_get();
	}
}

/*
 * Read the timeout; a relative one is made absolute on to->clockid. Only
 * through kevent_get_timeout().
 */
static int kevent_read_timeout(const struct __kernel_timespec __user *uts,
			       struct kevent_timeout *to, bool abstime)
{
	struct timespec64 ts;

	if (get_timespec64(&ts, uts))
		return -EFAULT;
	if (!timespec64_valid(&ts))
		return -EINVAL;
	to->expires = timespec64_to_ktime(ts);
	if (!abstime)
		to->expires = ktime_add_safe(kevent_clock_now(to->clockid),
					     to->expires);
	return 0;
}

/*
 * The optional timeout: none means wait forever. Inline, so that a call
 * without one does not enter kevent_read_timeout(), whose timespec is
 * zeroed on entry in kernels that initialise the stack.
 */
static __always_inline int
kevent_get_timeout(const struct __kernel_timespec __user *uts,
		   struct kevent_timeout *to, bool abstime)
{
	to->infinite = !uts;
	return uts ? kevent_read_timeout(uts, to, abstime) : 0;
}

/* kevent_wait_prepare() with a struct kevent_wait_args to read. */
static int kevent_wait_args_prepare(const struct __kernel_timespec __user *uts,
				    const struct kevent_wait_args __user *uargs,
				    struct kevent_timeout *to)
{
	struct kevent_wait_args args;
	int err;

	if (copy_from_user(&args, uargs, sizeof(args)))
		return -EFAULT;
	if ((args.flags & ~KEVENT_WAIT_ABSTIME) || args.__reserved)
		return -EINVAL;
	if (args.clockid != CLOCK_MONOTONIC && args.clockid != CLOCK_REALTIME &&
	    args.clockid != CLOCK_BOOTTIME)
		return -EINVAL;

	to->clockid = args.clockid;
	err = kevent_get_timeout(uts, to, args.flags & KEVENT_WAIT_ABSTIME);
	if (err || !args.sigmask)
		return err;
	return set_user_sigmask(u64_to_user_ptr(args.sigmask),
				args.sigsetsize);
}

/*
 * Read the optional wait arguments and timeout, and install the signal
 * mask. On success the caller must call restore_saved_sigmask_unless().
 * The common case, no arguments and no timeout, reads nothing.
 */
static int kevent_wait_prepare(const struct __kernel_timespec __user *uts,
			       const struct kevent_wait_args __user *uargs,
			       struct kevent_timeout *to)
{
	if (uargs)
		return kevent_wait_args_prepare(uts, uargs, to);
	to->clockid = CLOCK_MONOTONIC;
	return kevent_get_timeout(uts, to, false);
}

/*
 * Leave the wait queue on a timeout (return what is available) or a signal
 * (-EINTR). An event may have woken this waiter, and used up its exclusive
 * wake-up, since it last looked: once finish_wait() has taken it off the
 * queue, a waker picks another waiter, and what an earlier one posted is
 * visible. Take it if it is enough, as prepare_to_wait_event() makes
 * exclusive waiters do; otherwise pass a wake-up on to the next waiter
 * (one with a smaller min_nr), so that no event is left unread while one
 * that could take it sleeps.
 */
static int kevent_wait_give_up(struct kevent_queue *kq,
			       struct kevent_waiter *w, bool timed_out)
{
	u32 avail;

	finish_wait(&kq->wait, &w->wq);
	avail = kevent_avail(kq);
	if (avail >= w->min_nr || timed_out)
		return avail;
	if (avail)
		kevent_pass_on_wake(kq);
	return -EINTR;
}

/*
 * kevent_wait_events() when fewer than @min_nr events are available: sleep
 * until there are, the timeout passes or a signal arrives (-EINTR). One
 * hrtimer sleeper per wait. Out of line, so that a call that does not
 * sleep does not set up (and, with CONFIG_INIT_STACK_ALL_ZERO, clear) the
 * wait entry.
 */
static noinline int kevent_wait_sleep(struct kevent_queue *kq, u32 min_nr,
				      struct kevent_timeout *to, u32 served)
{
	struct kevent_waiter w;
	bool timed_out = false;
	int ret = 0;
	u32 avail;

	w.kq = kq;
	w.min_nr = min_nr;
	w.served = served;
	init_wait_entry(&w.wq, 0);
	w.wq.func = kevent_wake_function;
	for (;;) {
		prepare_to_wait_exclusive(&kq->wait, &w.wq, TASK_INTERRUPTIBLE);
		avail = kevent_avail(kq);
		if (avail >= min_nr) {
			ret = avail;
			break;
		}
		if (kevent_recheck_requests(kq) != w.served) {
			/* Requested since the last re-poll: serve it first. */
			__set_current_state(TASK_RUNNING);
			kevent_recheck(kq, &w.served);
			continue;
		}
		if (timed_out || signal_pending(current)) {
			ret = kevent_wait_give_up(kq, &w, timed_out);
			break;
		}
		if (!schedule_hrtimeout_range_clock(to->infinite ? NULL :
						    &to->expires,
						    current->timer_slack_ns,
						    HRTIMER_MODE_ABS,
						    to->clockid))
			timed_out = true;
		/*
		 * Most wake-ups bring what we wait for: then return without
		 * queueing the wait entry again (the waker dequeued it).
		 */
		if (kevent_recheck_requests(kq) == w.served) {
			avail = kevent_avail(kq);
			if (avail >= min_nr) {
				ret = avail;
				break;
			}
		}
		/* Re-poll what woke us, awake; cheap when there is nothing. */
		kevent_recheck(kq, &w.served);
	}
	finish_wait(&kq->wait, &w.wq);
	return ret;
}

/*
 * Wait until at least @min_nr events are available, the timeout passes
 * (at once if @nonblock) or a signal arrives (-EINTR); return the number
 * of events available.
 */
static int kevent_wait_events(struct kevent_queue *kq, u32 min_nr,
			      struct kevent_timeout *to, bool nonblock)
{
	/*
	 * A request counted by now has linked its registration: the list
	 * shows it, until it is served. Later ones change the count.
	 */
	u32 served = kevent_recheck_requests(kq);
	u32 avail;

	if (!list_empty_careful(&kq->recheck))
		served = kevent_recheck_slow(kq);
	avail = kevent_avail(kq);
	if (avail >= min_nr || nonblock)
		return avail;
	return kevent_wait_sleep(kq, min_nr, to, served);
}

/*
 * Queue without a ring: copy out up to @max of the events that are ready
 * when it starts. Under kq->mutex the ready list only grows, at its tail,
 * so these are its first entries; a registration queued again while they
 * are copied (its file woke it once more) is left for the next call, and
 * none is returned twice by one call.
 */
static int kevent_harvest(struct kevent_queue *kq,
			  struct ukevent __user *events, u32 max)
{
	int n = 0;

	mutex_lock(&kq->mutex);
	spin_lock_irq(&kq->lock);
	max = min(max, kq->nr_ready);
	spin_unlock_irq(&kq->lock);
	while (n < max) {
		struct kevent *kev;
		struct ukevent uk;
		u64 count;

		/*
		 * Under kq->mutex nothing but the source can change a queued
		 * registration, and sources only add to it: kev stays valid
		 * and queued across the copy, and kevent_consume() takes away
		 * exactly what was copied.
		 */
		spin_lock_irq(&kq->lock);
		kev = list_first_entry_or_null(&kq->ready, struct kevent,
					       ready_link);
		if (kev)
			count = kevent_fill(kev, &uk);
		spin_unlock_irq(&kq->lock);
		if (!kev)
			break;

		if (copy_to_user(&events[n], &uk, sizeof(uk))) {
			if (!n)
				n = -EFAULT;
			break;
		}

		spin_lock_irq(&kq->lock);
		kevent_consume(kq, kev, count);
		spin_unlock_irq(&kq->lock);
		n++;
	}
	kevent_reap(kq);
	mutex_unlock(&kq->mutex);
	return n;
}

SYSCALL_DEFINE6(kevent_get_events, int, fd, struct ukevent __user *, events,
		unsigned int, min_nr, unsigned int, max_nr,
		const struct __kernel_timespec __user *, timeout,
		const struct kevent_wait_args __user *, uargs)
{
	struct kevent_timeout to;
	struct kevent_queue *kq;
	int ret, err;
	struct fd f;

	f = fdget(fd);
	if (!fd_file(f))
		return -EBADF;
	kq = kevent_queue_get(f);
	ret = -EINVAL;
	if (!kq || !max_nr || min_nr > max_nr ||
	    max_nr > INT_MAX / sizeof(struct ukevent))
		goto out;
	/* A ring never holds more than its entries: such a wait never ends. */
	if (kq->ring && min_nr > kq->ring_entries)
		goto out;

	ret = kevent_wait_prepare(timeout, uargs, &to);
	if (ret)
		goto out;

	err = min(kevent_wait_events(kq, min_nr, &to,
				     fd_file(f)->f_flags & O_NONBLOCK), 0);
	if (kq->ring) {
		mutex_lock(&kq->mutex);
		ret = kevent_ring_copy_to_user(kq, events, max_nr);
		kevent_reap(kq);
		mutex_unlock(&kq->mutex);
	} else {
		ret = kevent_harvest(kq, events, max_nr);
	}
	/* Events were interrupted by a signal only if none were copied. */
	if (!ret && err)
		ret = err;

	/* Pass on a wake-up this caller took but did not use up. */
	if (ret >= 0 && kevent_avail_hint(kq))
		kevent_pass_on_wake(kq);
	restore_saved_sigmask_unless(ret == -EINTR);
out:
	fdput(f);
	return ret;
}

SYSCALL_DEFINE4(kevent_wait, int, fd, unsigned int, min_nr,
		const struct __kernel_timespec __user *, timeout,
		const struct kevent_wait_args __user *, uargs)
{
	struct kevent_timeout to;
	struct kevent_queue *kq;
	struct fd f;
	int ret;

	f = fdget(fd);
	if (!fd_file(f))
		return -EBADF;
	kq = kevent_queue_get(f);
	ret = -EINVAL;
	if (!kq || !kq->ring || min_nr > kq->ring_entries)
		goto out;

	ret = kevent_wait_prepare(timeout, uargs, &to);
	if (ret)
		goto out;

	ret = kevent_wait_events(kq, min_nr, &to,
				 fd_file(f)->f_flags & O_NONBLOCK);
	restore_saved_sigmask_unless(ret == -EINTR);

	/* Oneshots that fired into the ring are removed here or by ctl. */
	if (!list_empty_careful(&kq->reap)) {
		mutex_lock(&kq->mutex);
		kevent_reap(kq);
		mutex_unlock(&kq->mutex);
	}
out:
	fdput(f);
	return ret;
}
