// SPDX-License-Identifier: GPL-2.0
/*
 * KEVENT_USER events and the delivery modes: level, edge, oneshot,
 * dispatch, disabled at ADD, DISABLE/ENABLE, MODIFY and REMOVE.
 */
#include "kevent_test.h"
#include "../kselftest_harness.h"

FIXTURE(q)
{
	int fd;
	struct ukevent ev[8];
};

FIXTURE_SETUP(q)
{
	self->fd = kt_queue(0, 0);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(q)
{
	close(self->fd);
}

TEST_F(q, user_trigger_delivers_all_fields)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, kt_user_add(self->fd, 0x123456789abcdefULL,
				 KEVENT_REQ_ET, 0xfeedfacecafebeefULL));
	/* Not ready before the trigger. */
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	memset(ev, 0x5a, sizeof(self->ev));
	ASSERT_EQ(0, kt_trigger(self->fd, 0x123456789abcdefULL, 77));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(0x123456789abcdefULL, ev[0].id);
	EXPECT_EQ(0xfeedfacecafebeefULL, ev[0].udata);
	EXPECT_EQ(KEVENT_USER, ev[0].type);
	EXPECT_EQ(0, ev[0].op);
	EXPECT_EQ(KEVENT_REQ_ET, ev[0].flags);
	EXPECT_EQ(KEVENT_USER_TRIGGERED, ev[0].event);
	EXPECT_EQ(0U, ev[0].ret_flags);
	EXPECT_EQ(1ULL, ev[0].data[0]);
	EXPECT_EQ(77ULL, ev[0].data[1]);
	/* Only one event was copied: the next slot is untouched. */
	EXPECT_EQ(0x5a5a5a5a5a5a5a5aULL, ev[1].id);
}

TEST_F(q, user_triggers_coalesce_count_and_last_value)
{
	struct ukevent ch[3], *ev = self->ev;

	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 0));
	kevent_prep_trigger(&ch[0], 1, 10);
	kevent_prep_trigger(&ch[1], 1, 20);
	kevent_prep_trigger(&ch[2], 1, 30);
	ASSERT_EQ(0, kevent_ctl(self->fd, ch, 3, 0));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 40));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(4ULL, ev[0].data[0]);
	EXPECT_EQ(40ULL, ev[0].data[1]);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
}

/* Level: delivering the event consumes the count. */
TEST_F(q, user_level_reported_once_per_count)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 5));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(1ULL, ev[0].data[0]);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	/* Still registered: a new trigger is reported again. */
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(1ULL, ev[0].data[0]);
	EXPECT_EQ(5ULL, ev[0].udata);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
}

TEST_F(q, user_edge_reported_once_per_trigger)
{
	struct ukevent *ev = self->ev;
	int i;

	ASSERT_EQ(0, kt_user_add(self->fd, 1, KEVENT_REQ_ET, 0));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, kt_trigger(self->fd, 1, i));
		ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
		EXPECT_EQ(1ULL, ev[0].data[0]);
		EXPECT_EQ((__u64)i, ev[0].data[1]);
		EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	}
}

TEST_F(q, user_oneshot_removed_after_delivery)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, kt_user_add(self->fd, 1, KEVENT_REQ_ONESHOT, 9));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(2ULL, ev[0].data[0]);
	EXPECT_EQ(KEVENT_REQ_ONESHOT, ev[0].flags);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(-ENOENT, kt_trigger(self->fd, 1, 0));
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_USER, 1,
				 KEVENT_CTL_REMOVE));
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_USER, 1,
				 KEVENT_CTL_ENABLE));
	/* ADD of the same id works again. */
	EXPECT_EQ(0, kt_user_add(self->fd, 1, KEVENT_REQ_ONESHOT, 10));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(10ULL, ev[0].udata);
}

/* Oneshot with a pending event not yet harvested stays registered. */
TEST_F(q, user_oneshot_stays_until_harvested)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, kt_user_add(self->fd, 1, KEVENT_REQ_ONESHOT, 0));
	EXPECT_EQ(-EEXIST, kt_user_add(self->fd, 1, 0, 0));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	EXPECT_EQ(-EEXIST, kt_user_add(self->fd, 1, 0, 0));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(0, kt_user_add(self->fd, 1, 0, 0));
}

TEST_F(q, user_dispatch_disabled_after_delivery_counts_accumulate)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, kt_user_add(self->fd, 1, KEVENT_REQ_DISPATCH, 3));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 1));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(1ULL, ev[0].data[0]);
	EXPECT_EQ(KEVENT_REQ_DISPATCH, ev[0].flags);
	/* Disabled now: triggers accumulate but are not reported. */
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 2));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 3));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	/* ENABLE reports the accumulated count. */
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_USER, 1, KEVENT_CTL_ENABLE));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(2ULL, ev[0].data[0]);
	EXPECT_EQ(3ULL, ev[0].data[1]);
	EXPECT_EQ(3ULL, ev[0].udata);
	/* And disabled again. */
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 4));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	/* Still registered. */
	EXPECT_EQ(-EEXIST, kt_user_add(self->fd, 1, 0, 0));
}

TEST_F(q, user_add_disabled_reported_after_enable)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, kt_user_add(self->fd, 1, KEVENT_REQ_DISABLED, 0));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 8));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_USER, 1, KEVENT_CTL_ENABLE));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(1ULL, ev[0].data[0]);
	EXPECT_EQ(8ULL, ev[0].data[1]);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
}

TEST_F(q, user_enable_without_count_reports_nothing)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, kt_user_add(self->fd, 1, KEVENT_REQ_DISABLED, 0));
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_USER, 1, KEVENT_CTL_ENABLE));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	/* ENABLE of an enabled registration is harmless. */
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_USER, 1, KEVENT_CTL_ENABLE));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(1ULL, ev[0].data[0]);
}

/*
 * DISABLE withdraws an event pending in the kernel; the count is kept
 * (counts are never lost) and reported after ENABLE.
 */
TEST_F(q, user_disable_withdraws_pending_event)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 0));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 5));
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_USER, 1, KEVENT_CTL_DISABLE));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 6));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_USER, 1, KEVENT_CTL_ENABLE));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(2ULL, ev[0].data[0]);
	EXPECT_EQ(6ULL, ev[0].data[1]);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
}

TEST_F(q, user_remove_drops_pending_event)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 0));
	ASSERT_EQ(0, kt_user_add(self->fd, 2, 0, 0));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	ASSERT_EQ(0, kt_trigger(self->fd, 2, 0));
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_USER, 1, KEVENT_CTL_REMOVE));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(2ULL, ev[0].id);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	/* A new registration with the same id starts from zero. */
	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 0));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
}

TEST_F(q, user_modify_replaces_udata_and_flags)
{
	struct ukevent ch, *ev = self->ev;

	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 100));
	kevent_prep_user(&ch, 1, KEVENT_REQ_ONESHOT, 200);
	ch.op = KEVENT_CTL_MODIFY;
	ASSERT_EQ(0, kt_ctl1(self->fd, &ch));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(200ULL, ev[0].udata);
	EXPECT_EQ(KEVENT_REQ_ONESHOT, ev[0].flags);
	/* Now oneshot: gone. */
	EXPECT_EQ(-ENOENT, kt_trigger(self->fd, 1, 0));
	/* MODIFY drops triggers not yet delivered. */
	ASSERT_EQ(0, kt_user_add(self->fd, 3, 0, 0));
	ASSERT_EQ(0, kt_trigger(self->fd, 3, 7));
	kevent_prep_user(&ch, 3, 0, 300);
	ch.op = KEVENT_CTL_MODIFY;
	ASSERT_EQ(0, kt_ctl1(self->fd, &ch));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	/* MODIFY validates like ADD. */
	ASSERT_EQ(0, kt_user_add(self->fd, 2, 0, 0));
	kevent_prep_user(&ch, 2, KEVENT_REQ_ONESHOT | KEVENT_REQ_DISPATCH, 0);
	ch.op = KEVENT_CTL_MODIFY;
	EXPECT_EQ(-EINVAL, kt_ctl1(self->fd, &ch));
}

/* max_nr smaller than the ready count: the rest stays, no duplicates. */
TEST_F(q, user_get_events_max_nr_partial_no_duplicates)
{
	struct ukevent ch[6], *ev = self->ev;
	unsigned int seen = 0;
	int i, n;

	for (i = 0; i < 6; i++)
		kevent_prep_user(&ch[i], i, 0, 1000 + i);
	ASSERT_EQ(0, kevent_ctl(self->fd, ch, 6, 0));
	for (i = 0; i < 6; i++)
		kevent_prep_trigger(&ch[i], i, i);
	ASSERT_EQ(0, kevent_ctl(self->fd, ch, 6, 0));

	n = kt_poll(self->fd, ev, 4);
	ASSERT_EQ(4, n);
	for (i = 0; i < n; i++) {
		ASSERT_GT(6ULL, ev[i].id);
		EXPECT_EQ(0ULL, seen & (1U << ev[i].id));
		EXPECT_EQ(1000 + ev[i].id, ev[i].udata);
		seen |= 1U << ev[i].id;
	}
	n = kt_poll(self->fd, ev, 8);
	ASSERT_EQ(2, n);
	for (i = 0; i < n; i++) {
		ASSERT_GT(6ULL, ev[i].id);
		EXPECT_EQ(0ULL, seen & (1U << ev[i].id));
		seen |= 1U << ev[i].id;
	}
	EXPECT_EQ(0x3fU, seen);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
}

/* Events are delivered in the order they became ready. */
TEST_F(q, user_delivery_order_is_trigger_order)
{
	static const int order[] = { 3, 0, 5, 1, 4, 2 };
	struct ukevent ch[6], *ev = self->ev;
	int i;

	for (i = 0; i < 6; i++)
		kevent_prep_user(&ch[i], i, 0, 0);
	ASSERT_EQ(0, kevent_ctl(self->fd, ch, 6, 0));
	for (i = 0; i < 6; i++)
		ASSERT_EQ(0, kt_trigger(self->fd, order[i], 0));
	ASSERT_EQ(6, kt_poll(self->fd, ev, 8));
	for (i = 0; i < 6; i++)
		EXPECT_EQ((__u64)order[i], ev[i].id);
}

static void *trigger_later(void *arg)
{
	int fd = *(int *)arg;

	kt_sleep_ms(50);
	kt_trigger(fd, 1, 0xabc);
	return NULL;
}

TEST_F(q, user_trigger_from_other_thread_wakes_waiter)
{
	struct ukevent *ev = self->ev;
	pthread_t t;
	__u64 t0;

	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 0));
	t0 = kt_mono();
	ASSERT_EQ(0, pthread_create(&t, NULL, trigger_later, &self->fd));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 5000));
	EXPECT_EQ(0xabcULL, ev[0].data[1]);
	EXPECT_LE(40 * NSEC_PER_MSEC, kt_mono() - t0);
	EXPECT_GT(4000 * NSEC_PER_MSEC, kt_mono() - t0);
	pthread_join(t, NULL);
}

TEST_HARNESS_MAIN
