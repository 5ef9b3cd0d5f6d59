// SPDX-License-Identifier: GPL-2.0
/*
 * kevent timer source: one hrtimer per registration.
 *
 * The id is the caller's; the expiry and the period are parameters, so
 * two timers with the same period never collide. Expirations that happen
 * before the event is harvested are counted, never dropped: data[0] of the
 * delivered event is the number of expirations it stands for.
 */

#include <linux/hrtimer.h>
#include <linux/init.h>
#include <linux/jiffies.h>
#include <linux/kevent.h>
#include <linux/time.h>

struct kevent_timer {
	struct kevent	kev;
	struct hrtimer	timer;
	ktime_t		interval;	/* 0: one-shot */
	u64		carry;		/* periods skipped, see below */
};

static struct kevent_timer *to_kevent_timer(struct kevent *kev)
{
	return container_of(kev, struct kevent_timer, kev);
}

/*
 * Hard (or, on PREEMPT_RT, soft) interrupt context.
 *
 * While the event of a periodic timer is not delivered (no room in the
 * ring, nobody harvesting, disabled), the timer only has to count, so it
 * fires at most once a tick: with an interval of a few nanoseconds it
 * would otherwise keep the CPU in interrupt context, at no one's request.
 * So does a timer with a period shorter than a tick that its own
 * interrupt outlasts (more than one period had passed when it fired), even
 * while user space keeps room in the ring. The periods it skips are all in
 * the past when it fires next, and are counted then (carry): the counts
 * stay exact, the skipped expirations are only reported up to a tick
 * later.
 */
static enum hrtimer_restart kevent_timer_fn(struct hrtimer *timer)
{
	struct kevent_timer *kt = container_of(timer, struct kevent_timer,
					       timer);
	ktime_t soonest;
	u64 expired;

	if (!kt->interval) {
		kevent_ready(&kt->kev, KEVENT_TIMER_EXPIRED, 1, 0, 0);
		return HRTIMER_NORESTART;
	}
	/* This expiry and every period missed since. */
	expired = hrtimer_forward_now(timer, kt->interval);
	if (kevent_ready(&kt->kev, KEVENT_TIMER_EXPIRED, expired + kt->carry,
			 0, 0) ||
	    (expired > 1 && kt->interval < TICK_NSEC)) {
		soonest = ktime_add_ns(hrtimer_cb_get_time(timer), TICK_NSEC);
		kt->carry = hrtimer_forward(timer, soonest, kt->interval);
	} else {
		kt->carry = 0;
	}
	return HRTIMER_RESTART;
}

static int kevent_timer_check(const struct ukevent *uk)
{
	if (uk->timer.clockid != CLOCK_MONOTONIC &&
	    uk->timer.clockid != CLOCK_REALTIME &&
	    uk->timer.clockid != CLOCK_BOOTTIME)
		return -EINVAL;
	if (uk->timer.expires < 0 || uk->timer.interval > KTIME_MAX ||
	    uk->timer.__pad0 || uk->timer.__pad1)
		return -EINVAL;
	return 0;
}

/* Called with the timer inactive. */
static void kevent_timer_start(struct kevent_timer *kt,
			       const struct ukevent *uk)
{
	enum hrtimer_mode mode = (uk->flags & KEVENT_TIMER_ABSTIME) ?
				 HRTIMER_MODE_ABS : HRTIMER_MODE_REL;

	hrtimer_init(&kt->timer, uk->timer.clockid, mode);
	kt->timer.function = kevent_timer_fn;
	kt->interval = ns_to_ktime(uk->timer.interval);
	kt->carry = 0;
	hrtimer_start(&kt->timer, ns_to_ktime(uk->timer.expires), mode);
}

static int kevent_timer_attach(struct kevent *kev, const struct ukevent *uk)
{
	int err = kevent_timer_check(uk);

	if (err)
		return err;
	kevent_timer_start(to_kevent_timer(kev), uk);
	return 0;
}

/* MODIFY re-arms with the new parameters and forgets old expirations. */
static int kevent_timer_modify(struct kevent *kev, const struct ukevent *uk)
{
	struct kevent_timer *kt = to_kevent_timer(kev);
	int err = kevent_timer_check(uk);

	if (err)
		return err;
	hrtimer_cancel(&kt->timer);
	kevent_reset(kev, uk);
	kevent_timer_start(kt, uk);
	return 0;
}

/* hrtimer_cancel() waits for a running callback: none can follow. */
static void kevent_timer_detach(struct kevent *kev)
{
	hrtimer_cancel(&to_kevent_timer(kev)->timer);
}

static const struct kevent_source kevent_timer_source = {
	.type		= KEVENT_TIMER,
	.size		= sizeof(struct kevent_timer),
	.event_mask	= KEVENT_TIMER_EXPIRED,
	.flags_mask	= KEVENT_TIMER_ABSTIME,
	.attach		= kevent_timer_attach,
	.modify		= kevent_timer_modify,
	.detach		= kevent_timer_detach,
};

static int __init kevent_timer_init(void)
{
	kevent_source_register(&kevent_timer_source);
	return 0;
}
core_initcall(kevent_timer_init);
