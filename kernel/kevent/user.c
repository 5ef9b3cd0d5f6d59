// SPDX-License-Identifier: GPL-2.0
/*
 * kevent user source: events that the process raises itself with
 * KEVENT_CTL_TRIGGER, for instance to wake a thread blocked on the queue
 * (as kqueue's EVFILT_USER). Triggers before a harvest coalesce: data[0]
 * counts them and data[1] carries the value given with the last one.
 */

#include <linux/init.h>
#include <linux/kevent.h>

static int kevent_user_attach(struct kevent *kev, const struct ukevent *uk)
{
	return kevent_check_data_zero(uk, 0);
}

/* MODIFY drops the triggers not yet delivered, as other sources do. */
static int kevent_user_modify(struct kevent *kev, const struct ukevent *uk)
{
	int err = kevent_check_data_zero(uk, 0);

	if (!err)
		kevent_reset(kev, uk);
	return err;
}

static int kevent_user_trigger(struct kevent *kev, const struct ukevent *uk)
{
	/* data[0] is the value passed on; the rest must be zero. */
	int err = kevent_check_data_zero(uk, 1);

	if (!err)
		kevent_ready(kev, KEVENT_USER_TRIGGERED, 1, uk->data[0], 0);
	return err;
}

/* Nothing to disarm: triggers come only through kevent_ctl(). */
static void kevent_user_detach(struct kevent *kev)
{
}

static const struct kevent_source kevent_user_source = {
	.type		= KEVENT_USER,
	.size		= sizeof(struct kevent),
	.event_mask	= KEVENT_USER_TRIGGERED,
	.attach		= kevent_user_attach,
	.modify		= kevent_user_modify,
	.detach		= kevent_user_detach,
	.trigger	= kevent_user_trigger,
};

static int __init kevent_user_init(void)
{
	kevent_source_register(&kevent_user_source);
	return 0;
}
core_initcall(kevent_user_init);
