// SPDX-License-Identifier: GPL-2.0
/*
 * kevent signal source: signals as events in the same queue as every other
 * event, so their order against them is never ambiguous.
 *
 * A registration (id = signal number) hooks a wait queue entry into the
 * registering process's signalfd wait queue, the one signalfd uses. The
 * signal code calls signalfd_notify(), with the signal number, each time
 * it queues a signal for the process (a standard signal that is already
 * pending is merged by the signal code and not queued again); that calls
 * kevent_signal_notify(), which hands the number to kevent entries only.
 *
 * Two modes:
 *  - observe (default): the event counts the signals queued while normal
 *    delivery (handler or default action) still happens;
 *  - consume (KEVENT_SIGNAL_CONSUME), as signalfd: the caller keeps the
 *    signal blocked; the thread that harvests (kevent_get_events() or
 *    kevent_wait()) dequeues one instance per event and the event carries
 *    its siginfo. Real-time signals are queued per instance by the signal
 *    code and dequeued one by one here, so none is ever merged.
 *
 * The registration belongs to the process that added it, not to the
 * queue's later users: a child that inherits the queue fd across fork()
 * does not get its own signals reported, and only a thread of the
 * registering process can consume. It takes no reference on the process
 * or its sighand, so it changes neither exec() nor unshare(): like an
 * epoll entry on a signalfd, it is unhooked by the POLLFREE wake-up that
 * the release of the sighand sends, and stays registered, inert, after
 * the process is gone.
 */

#include <linux/init.h>
#include <linux/jump_label.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/slab.h>

#include "kevent.h"

struct kevent_signal {
	struct kevent		kev;
	wait_queue_entry_t	wait;
	/*
	 * The registering process's sighand, which identifies it; no
	 * reference. Set at ADD, cleared by POLLFREE (kevent_signal_wake()).
	 */
	struct sighand_struct	*sighand;
	/* siginfo of the consumed instance, under the queue's spinlock */
	u32			pid;
	u32			uid;
	s32			code;
	s32			status;
	u64			value;
};

DEFINE_STATIC_KEY_FALSE(kevent_signals_watched);

/* Only current itself replaces its sighand (exec), so no RCU is needed. */
static struct sighand_struct *kevent_current_sighand(void)
{
	return rcu_dereference_protected(current->sighand, true);
}

static struct kevent_signal *to_kevent_signal(struct kevent *kev)
{
	return container_of(kev, struct kevent_signal, kev);
}

/*
 * Called by wake_up() on the signalfd wait queue, with its lock held and
 * interrupts off. The signal number comes through kevent_signal_notify()
 * instead, so only the POLLFREE teardown matters here: the sighand's last
 * user is gone (the process exited) and the sighand is freed after this.
 * Nothing can signal the registration or consume for it any more: it is
 * orphaned, so a re-poll that only that process could serve is neither
 * pending (which clears KEVENT_RING_REPOLL if it was the last) nor asked
 * for again, by a later delivery of what it has pending, MODIFY or ENABLE.
 */
static int kevent_signal_wake(wait_queue_entry_t *wait, unsigned int mode,
			      int sync, void *key)
{
	struct kevent_signal *ks;
	struct kevent_queue *kq;

	if (!(key_to_poll(key) & POLLFREE))
		return 0;
	ks = container_of(wait, struct kevent_signal, wait);
	kq = ks->kev.queue;
	list_del_init(&wait->entry);
	spin_lock(&kq->lock);
	kevent_orphan(kq, &ks->kev);
	spin_unlock(&kq->lock);
	/*
	 * Pairs with the load-acquire in kevent_signal_detach(), which then
	 * skips the wait queue. After this store nothing keeps ks alive: do
	 * not touch it.
	 */
	smp_store_release(&ks->sighand, NULL);
	return 0;
}

/**
 * __kevent_signal_notify - a signal was queued for a watched process
 * @wqh:	the process's signalfd wait queue
 * @sig:	the signal number
 *
 * Called from signalfd_notify() with the sighand lock held and interrupts
 * off. Takes the wait queue lock, so registrations cannot come or go.
 */
void __kevent_signal_notify(wait_queue_head_t *wqh, int sig)
{
	wait_queue_entry_t *wait;

	spin_lock(&wqh->lock);
	list_for_each_entry(wait, &wqh->head, entry) {
		struct kevent_signal *ks;

		if (wait->func != kevent_signal_wake)
			continue;
		ks = container_of(wait, struct kevent_signal, wait);
		if (ks->kev.id != sig)
			continue;
		/*
		 * Racing with a MODIFY of the mode, the signal is handled as
		 * before or as after it; one handled as consumed by a
		 * registration that now observes counts as arrived before
		 * MODIFY, which drops what was pending.
		 */
		if (READ_ONCE(ks->kev.flags) & KEVENT_SIGNAL_CONSUME)
			kevent_request_recheck(&ks->kev);
		else
			kevent_ready(&ks->kev, KEVENT_SIGNAL_DELIVERED, 1, 0, 0);
	}
	spin_unlock(&wqh->lock);
}

static int kevent_signal_check(const struct ukevent *uk)
{
	if (!uk->id || uk->id > _NSIG || uk->id == SIGKILL ||
	    uk->id == SIGSTOP)
		return -EINVAL;
	return kevent_check_data_zero(uk, 0);
}

static int kevent_signal_attach(struct kevent *kev, const struct ukevent *uk)
{
	struct kevent_signal *ks = to_kevent_signal(kev);
	int err = kevent_signal_check(uk);

	if (err)
		return err;
	if (!static_key_enabled(&kevent_signals_watched))
		static_branch_enable(&kevent_signals_watched);

	/* current keeps its sighand alive while this runs. */
	ks->sighand = kevent_current_sighand();
	init_waitqueue_func_entry(&ks->wait, kevent_signal_wake);
	add_wait_queue(&ks->sighand->signalfd_wqh, &ks->wait);

	/* A signal already pending can be consumed at once. */
	if (uk->flags & KEVENT_SIGNAL_CONSUME)
		kevent_request_recheck(kev);
	return 0;
}

static int kevent_signal_modify(struct kevent *kev, const struct ukevent *uk)
{
	int err = kevent_signal_check(uk);

	if (err)
		return err;
	kevent_reset(kev, uk);
	/*
	 * As at ADD: a signal already pending can be consumed at once, by the
	 * registering process. If it is gone, the orphan ignores the request;
	 * if it is going, its POLLFREE voids it.
	 */
	if (uk->flags & KEVENT_SIGNAL_CONSUME)
		kevent_request_recheck(kev);
	return 0;
}

static void kevent_signal_detach(struct kevent *kev)
{
	struct kevent_signal *ks = to_kevent_signal(kev);
	struct sighand_struct *sighand;

	/*
	 * sighand_cachep is SLAB_TYPESAFE_BY_RCU: under RCU a sighand that
	 * POLLFREE is releasing stays a sighand, its wait queue lock valid.
	 * Otherwise remove_wait_queue() takes that lock, so no callback for
	 * this entry is running when it returns.
	 */
	rcu_read_lock();
	/* Pairs with the store-release in kevent_signal_wake(). */
	sighand = smp_load_acquire(&ks->sighand);
	if (sighand)
		remove_wait_queue(&sighand->signalfd_wqh, &ks->wait);
	rcu_read_unlock();
}

/* Keep the siginfo fields that are valid for this kind of signal. */
static void kevent_signal_store(struct kevent_signal *ks,
				const kernel_siginfo_t *info)
{
	ks->pid = 0;
	ks->uid = 0;
	ks->status = 0;
	ks->value = 0;
	ks->code = info->si_code;
	switch (siginfo_layout(info->si_signo, info->si_code)) {
	case SIL_CHLD:
		ks->status = info->si_status;
		fallthrough;
	case SIL_KILL:
		ks->pid = info->si_pid;
		ks->uid = info->si_uid;
		break;
	case SIL_RT:
		ks->pid = info->si_pid;
		ks->uid = info->si_uid;
		ks->value = (unsigned long)info->si_ptr;
		break;
	case SIL_TIMER:
		ks->value = (unsigned long)info->si_ptr;
		break;
	default:
		break;
	}
}

/*
 * Whether the registration can take one more instance now: none of its
 * events is undelivered, and it is neither disabled nor a oneshot that
 * fired (an instance dequeued then would be held in the kernel, or lost,
 * instead of staying pending in the process). Under the queue mutex and
 * the siglock only this source reports for it, and a registration with
 * nothing pending is on no list that a delivery walks, so the answer holds
 * until the caller reports.
 */
static bool kevent_signal_can_take(struct kevent *kev)
{
	struct kevent_queue *kq = kev->queue;
	bool can_take;

	spin_lock(&kq->lock);
	can_take = !kev->pending_count &&
		   !(kev->state & (KEVENT_STATE_DISABLED | KEVENT_STATE_DEAD));
	spin_unlock(&kq->lock);
	return can_take;
}

/*
 * Only a thread of the registering process can dequeue its signals: the
 * core leaves the registration to one (and another process that shares
 * the queue sees nothing it could harvest).
 */
static bool kevent_signal_may_recheck(const struct kevent *kev)
{
	const struct kevent_signal *ks =
		container_of_const(kev, struct kevent_signal, kev);

	return kevent_current_sighand() == READ_ONCE(ks->sighand);
}

/*
 * Consume mode, process context under the queue mutex, in a thread of the
 * registering process (kevent_signal_may_recheck()): dequeue pending
 * instances of the signal, one per event, while the registration can take
 * one. Each event is reported here, with its siginfo stored: nothing is
 * left for the core. Observe mode has nothing to collect: the core does
 * not re-poll it (.recheck_flags); the test below is for a signal
 * notified under the old consume flags while a MODIFY made the
 * registration an observe one.
 */
static bool kevent_signal_recheck(struct kevent *kev,
				  struct kevent_report *report)
{
	struct kevent_signal *ks = to_kevent_signal(kev);
	/* ks->sighand, by may_recheck(); current keeps it alive. */
	struct sighand_struct *sighand = kevent_current_sighand();
	struct kevent_queue *kq = kev->queue;
	kernel_siginfo_t info;
	enum pid_type type;
	sigset_t blocked;

	if (!(kev->flags & KEVENT_SIGNAL_CONSUME))
		return false;

	/* dequeue_signal() takes the signals outside this mask. */
	siginitsetinv(&blocked, sigmask(kev->id));
	spin_lock_irq(&sighand->siglock);
	while (kevent_signal_can_take(kev) &&
	       dequeue_signal(&blocked, &info, &type)) {
		spin_lock(&kq->lock);
		kevent_signal_store(ks, &info);
		spin_unlock(&kq->lock);
		kevent_ready(kev, KEVENT_SIGNAL_DELIVERED, 1, 0, 0);
	}
	spin_unlock_irq(&sighand->siglock);
	return false;
}

static void kevent_signal_fill(struct kevent *kev, struct ukevent *uk)
{
	struct kevent_signal *ks = to_kevent_signal(kev);

	if (!(kev->flags & KEVENT_SIGNAL_CONSUME))
		return;
	uk->sig.pid = ks->pid;
	uk->sig.uid = ks->uid;
	uk->sig.code = ks->code;
	uk->sig.status = ks->status;
	uk->sig.value = ks->value;
}

static const struct kevent_source kevent_signal_source = {
	.type		= KEVENT_SIGNAL,
	.size		= sizeof(struct kevent_signal),
	.event_mask	= KEVENT_SIGNAL_DELIVERED,
	.flags_mask	= KEVENT_SIGNAL_CONSUME,
	.attach		= kevent_signal_attach,
	.modify		= kevent_signal_modify,
	.detach		= kevent_signal_detach,
	.fill		= kevent_signal_fill,
	.recheck	= kevent_signal_recheck,
	.recheck_flags	= KEVENT_SIGNAL_CONSUME,
	.may_recheck	= kevent_signal_may_recheck,
};

static int __init kevent_signal_init(void)
{
	kevent_source_register(&kevent_signal_source);
	return 0;
}
core_initcall(kevent_signal_init);
