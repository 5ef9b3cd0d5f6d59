// SPDX-License-Identifier: GPL-2.0
/*
 * KEVENT_TIMER: never early, overruns counted, absolute timers on every
 * clock, ids independent of the period, modes (oneshot, dispatch,
 * disabled), MODIFY re-arming and REMOVE cancelling.
 */
#include "kevent_test.h"
#include "../kselftest_harness.h"

#define MS	NSEC_PER_MSEC

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

TEST_F(q, timer_oneshot_never_early_fields)
{
	struct ukevent *ev = self->ev;
	__u64 t0, t1;

	t0 = kt_mono();
	ASSERT_EQ(0, kt_timer_add(self->fd, 77, 30 * MS, 0, CLOCK_MONOTONIC,
				  0, 0x1234));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 3000));
	t1 = kt_mono();
	EXPECT_LE(t0 + 30 * MS, t1);
	EXPECT_EQ(KEVENT_TIMER, ev[0].type);
	EXPECT_EQ(77ULL, ev[0].id);
	EXPECT_EQ(0x1234ULL, ev[0].udata);
	EXPECT_EQ(0, ev[0].op);
	EXPECT_EQ(0U, ev[0].flags);
	EXPECT_EQ(KEVENT_TIMER_EXPIRED, ev[0].event);
	EXPECT_EQ(0U, ev[0].ret_flags);
	EXPECT_EQ(1ULL, ev[0].data[0]);
	/* A one-shot timer fires exactly once. */
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, 60));
}

/* Many short timers: none fires before its expiry. */
TEST_F(q, timer_never_early_many)
{
	struct ukevent *ev = self->ev;
	__u64 t0, deadline[8], now;
	int i, n, got = 0;

	t0 = kt_mono();
	for (i = 0; i < 8; i++) {
		deadline[i] = t0 + (__u64)(5 + 7 * i) * MS;
		ASSERT_EQ(0, kt_timer_add(self->fd, i, (5 + 7 * i) * MS, 0,
					  CLOCK_MONOTONIC, 0, i));
	}
	while (got < 8) {
		n = kt_get(self->fd, ev, 1, 8, 3000);
		now = kt_mono();
		ASSERT_LT(0, n);
		for (i = 0; i < n; i++) {
			ASSERT_GT(8ULL, ev[i].id);
			EXPECT_LE(deadline[ev[i].id], now) {
				TH_LOG("timer %llu early",
				       (unsigned long long)ev[i].id);
			}
			EXPECT_EQ(1ULL, ev[i].data[0]);
		}
		got += n;
	}
	EXPECT_EQ(8, got);
}

/* Sleep through N periods without harvesting: data[0] counts them all. */
TEST_F(q, timer_periodic_overruns_counted)
{
	struct ukevent *ev = self->ev;
	__u64 a0, a1, h0, h1, h2, lo, hi, first;
	int n;

	a0 = kt_mono();
	ASSERT_EQ(0, kt_timer_add(self->fd, 1, 10 * MS, 10 * MS,
				  CLOCK_MONOTONIC, 0, 0));
	a1 = kt_mono();
	kt_sleep_ms(108);
	h0 = kt_mono();
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	h1 = kt_mono();
	/* Upper bound: never early. Lower: allow one period of slack. */
	hi = kt_expirations(a0, 10 * MS, 10 * MS, h1);
	lo = kt_expirations(a1, 10 * MS, 10 * MS, h0);
	EXPECT_LE(ev[0].data[0], hi);
	EXPECT_LE(lo ? lo - 1 : 0, ev[0].data[0]);
	EXPECT_LE(10ULL, hi);
	EXPECT_LE(9ULL, ev[0].data[0]);
	/*
	 * The count was consumed: a second harvest may only report
	 * expirations that happened after the first one (under QEMU TCG
	 * another 10 ms period can pass between the two calls), so both
	 * together never exceed the expirations due by its end.
	 */
	first = ev[0].data[0];
	n = kt_poll(self->fd, ev, 8);
	h2 = kt_mono();
	ASSERT_LE(0, n);
	ASSERT_GE(1, n);
	EXPECT_LE(first + (n ? ev[0].data[0] : 0),
		  kt_expirations(a0, 10 * MS, 10 * MS, h2));
	if (n)
		EXPECT_GE(kt_expirations(a0, 10 * MS, 10 * MS, h2) -
			  kt_expirations(a1, 10 * MS, 10 * MS, h0) + 1,
			  ev[0].data[0]);
}

/* Harvest a periodic timer repeatedly: counts add up to its expirations. */
TEST_F(q, timer_periodic_counts_sum_to_expirations)
{
	static const unsigned int naps[] = { 3, 17, 0, 25, 8, 40, 1, 12 };
	struct ukevent *ev = self->ev;
	__u64 a0, a1, h0, h1, sum = 0;
	unsigned int i;
	int n, j;

	a0 = kt_mono();
	ASSERT_EQ(0, kt_timer_add(self->fd, 1, 5 * MS, 5 * MS,
				  CLOCK_MONOTONIC, KEVENT_REQ_ET, 0));
	a1 = kt_mono();
	for (i = 0; i < ARRAY_SIZE(naps); i++) {
		kt_sleep_ms(naps[i]);
		n = kt_poll(self->fd, ev, 8);
		ASSERT_LE(0, n);
		/*
		 * Expirations after an event was built are reported by a
		 * second event of the same harvest: counts never overlap.
		 */
		for (j = 0; j < n; j++) {
			EXPECT_EQ(1ULL, ev[j].id);
			EXPECT_LT(0ULL, ev[j].data[0]);
			sum += ev[j].data[0];
		}
	}
	/* The final harvest waits for one. */
	h0 = kt_mono();
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 1000));
	h1 = kt_mono();
	sum += ev[0].data[0];
	EXPECT_LE(sum, kt_expirations(a0, 5 * MS, 5 * MS, h1));
	/* One period of slack for timer interrupt latency. */
	EXPECT_LE(kt_expirations(a1, 5 * MS, 5 * MS, h0) - 1, sum);
}

/* Bug of the 2006 code: timer id equal to the period. */
TEST_F(q, timer_same_period_distinct_ids_both_fire)
{
	struct ukevent *ev = self->ev;
	unsigned int seen = 0;
	int n, i;

	ASSERT_EQ(0, kt_timer_add(self->fd, 1, 20 * MS, 20 * MS,
				  CLOCK_MONOTONIC, 0, 101));
	ASSERT_EQ(0, kt_timer_add(self->fd, 2, 20 * MS, 20 * MS,
				  CLOCK_MONOTONIC, 0, 102));
	/* An id equal to the period is just an id. */
	ASSERT_EQ(0, kt_timer_add(self->fd, 20 * MS, 20 * MS, 20 * MS,
				  CLOCK_MONOTONIC, 0, 103));
	while (seen != 7) {
		n = kt_get(self->fd, ev, 1, 8, 2000);
		ASSERT_LT(0, n);
		for (i = 0; i < n; i++) {
			if (ev[i].id == 1) {
				EXPECT_EQ(101ULL, ev[i].udata);
				seen |= 1;
			} else if (ev[i].id == 2) {
				EXPECT_EQ(102ULL, ev[i].udata);
				seen |= 2;
			} else {
				EXPECT_EQ(20 * MS, ev[i].id);
				EXPECT_EQ(103ULL, ev[i].udata);
				seen |= 4;
			}
		}
	}
	EXPECT_EQ(7U, seen);
}

static void abs_timer_on(struct __test_metadata *_metadata, int fd,
			 struct ukevent *ev, clockid_t clk)
{
	__u64 target, now;

	target = kt_now(clk) + 40 * MS;
	ASSERT_EQ(0, kt_timer_add(fd, 1, (__s64)target, 0, clk,
				  KEVENT_TIMER_ABSTIME, 9));
	ASSERT_EQ(1, kt_get(fd, ev, 1, 8, 3000));
	now = kt_now(clk);
	EXPECT_LE(target, now);
	EXPECT_GT(target + 2000 * MS, now);
	EXPECT_EQ(1ULL, ev[0].data[0]);
	EXPECT_EQ(KEVENT_TIMER_ABSTIME, ev[0].flags);
	EXPECT_EQ(9ULL, ev[0].udata);
}

TEST_F(q, timer_absolute_monotonic_not_early)
{
	abs_timer_on(_metadata, self->fd, self->ev, CLOCK_MONOTONIC);
}

TEST_F(q, timer_absolute_realtime_not_early)
{
	abs_timer_on(_metadata, self->fd, self->ev, CLOCK_REALTIME);
}

TEST_F(q, timer_absolute_boottime_not_early)
{
	abs_timer_on(_metadata, self->fd, self->ev, CLOCK_BOOTTIME);
}

TEST_F(q, timer_relative_realtime_and_boottime_not_early)
{
	struct ukevent *ev = self->ev;
	__u64 t0, now;
	int n, got = 0;

	t0 = kt_mono();
	ASSERT_EQ(0, kt_timer_add(self->fd, 1, 30 * MS, 0, CLOCK_REALTIME,
				  0, 0));
	ASSERT_EQ(0, kt_timer_add(self->fd, 2, 30 * MS, 0, CLOCK_BOOTTIME,
				  0, 0));
	while (got < 2) {
		n = kt_get(self->fd, ev, 1, 8, 3000);
		ASSERT_LT(0, n);
		got += n;
		now = kt_mono();
		EXPECT_LE(t0 + 30 * MS, now);
	}
	EXPECT_EQ(2, got);
}

/* An absolute expiry in the past fires at once, periodic ones count. */
TEST_F(q, timer_absolute_in_past_fires_immediately)
{
	struct ukevent *ev = self->ev;
	__u64 now = kt_mono();

	ASSERT_EQ(0, kt_timer_add(self->fd, 1, (__s64)(now - 1000 * MS), 0,
				  CLOCK_MONOTONIC, KEVENT_TIMER_ABSTIME, 0));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 1000));
	EXPECT_EQ(1ULL, ev[0].data[0]);
	/* 0 is a valid absolute time (long ago). */
	ASSERT_EQ(0, kt_timer_add(self->fd, 2, 0, 0, CLOCK_MONOTONIC,
				  KEVENT_TIMER_ABSTIME, 0));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 1000));
	EXPECT_EQ(2ULL, ev[0].id);
	EXPECT_EQ(1ULL, ev[0].data[0]);
}

/* Without ONESHOT a fired one-shot timer stays; MODIFY re-arms it. */
TEST_F(q, timer_fired_stays_registered_modify_rearms)
{
	struct ukevent ch, *ev = self->ev;
	__u64 t0;

	ASSERT_EQ(0, kt_timer_add(self->fd, 1, 1 * MS, 0, CLOCK_MONOTONIC, 0,
				  0));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 1000));
	EXPECT_EQ(-EEXIST, kt_timer_add(self->fd, 1, MS, 0, CLOCK_MONOTONIC,
					0, 0));
	kevent_prep_timer(&ch, 1, 30 * MS, 0, CLOCK_MONOTONIC, 0, 55);
	ch.op = KEVENT_CTL_MODIFY;
	t0 = kt_mono();
	ASSERT_EQ(0, kt_ctl1(self->fd, &ch));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 1000));
	EXPECT_LE(t0 + 30 * MS, kt_mono());
	EXPECT_EQ(55ULL, ev[0].udata);
	EXPECT_EQ(1ULL, ev[0].data[0]);
}

/* MODIFY resets the count and withdraws what was pending. */
TEST_F(q, timer_modify_resets_count)
{
	struct ukevent ch, *ev = self->ev;

	ASSERT_EQ(0, kt_timer_add(self->fd, 1, 2 * MS, 2 * MS,
				  CLOCK_MONOTONIC, 0, 0));
	kt_sleep_ms(30);
	kevent_prep_timer(&ch, 1, 10000 * MS, 0, CLOCK_MONOTONIC, 0, 0);
	ch.op = KEVENT_CTL_MODIFY;
	ASSERT_EQ(0, kt_ctl1(self->fd, &ch));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	/* And re-arms with the new values. */
	kevent_prep_timer(&ch, 1, 20 * MS, 0, CLOCK_MONOTONIC, 0, 0);
	ch.op = KEVENT_CTL_MODIFY;
	ASSERT_EQ(0, kt_ctl1(self->fd, &ch));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 1000));
	EXPECT_EQ(1ULL, ev[0].data[0]);
}

TEST_F(q, timer_oneshot_flag_removes_periodic_timer)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, kt_timer_add(self->fd, 1, 5 * MS, 5 * MS,
				  CLOCK_MONOTONIC, KEVENT_REQ_ONESHOT, 0));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 1000));
	EXPECT_LE(1ULL, ev[0].data[0]);
	/* Removed: no further periods, MODIFY/REMOVE give ENOENT. */
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, 40));
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_TIMER, 1,
				 KEVENT_CTL_REMOVE));
	EXPECT_EQ(0, kt_timer_add(self->fd, 1, 5 * MS, 5 * MS,
				  CLOCK_MONOTONIC, KEVENT_REQ_ONESHOT, 0));
}

/* DISPATCH: disabled after delivery, expirations accumulate, ENABLE. */
TEST_F(q, timer_dispatch_accumulates_until_enable)
{
	struct ukevent *ev = self->ev;
	__u64 a0, a1, h0, h1, sum;

	a0 = kt_mono();
	ASSERT_EQ(0, kt_timer_add(self->fd, 1, 5 * MS, 5 * MS,
				  CLOCK_MONOTONIC, KEVENT_REQ_DISPATCH, 0));
	a1 = kt_mono();
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 1000));
	sum = ev[0].data[0];
	EXPECT_EQ(KEVENT_REQ_DISPATCH, ev[0].flags);
	/* Disabled: nothing reported across several periods. */
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, 40));
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_TIMER, 1, KEVENT_CTL_ENABLE));
	h0 = kt_mono();
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	h1 = kt_mono();
	sum += ev[0].data[0];
	EXPECT_LE(6ULL, ev[0].data[0]);
	EXPECT_LE(sum, kt_expirations(a0, 5 * MS, 5 * MS, h1));
	EXPECT_LE(kt_expirations(a1, 5 * MS, 5 * MS, h0) - 1, sum);
	/* Disabled again after this delivery. */
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, 20));
}

/* DISABLED at ADD: the timer runs, expirations counted, ENABLE reports. */
TEST_F(q, timer_added_disabled_reports_after_enable)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, kt_timer_add(self->fd, 1, 1 * MS, 0, CLOCK_MONOTONIC,
				  KEVENT_REQ_DISABLED, 0));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, 30));
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_TIMER, 1, KEVENT_CTL_ENABLE));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(1ULL, ev[0].data[0]);
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, 20));
}

/* DISABLE withdraws a pending expiry; nothing is lost (counts kept). */
TEST_F(q, timer_disable_withdraws_pending)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, kt_timer_add(self->fd, 1, 1 * MS, 0, CLOCK_MONOTONIC, 0,
				  0));
	kt_sleep_ms(20);
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_TIMER, 1, KEVENT_CTL_DISABLE));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_TIMER, 1, KEVENT_CTL_ENABLE));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(1ULL, ev[0].data[0]);
}

TEST_F(q, timer_remove_cancels_and_drops_pending)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, kt_timer_add(self->fd, 1, 1 * MS, 0, CLOCK_MONOTONIC, 0,
				  0));
	ASSERT_EQ(0, kt_timer_add(self->fd, 2, 20 * MS, 0, CLOCK_MONOTONIC,
				  0, 0));
	kt_sleep_ms(5);
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_TIMER, 1, KEVENT_CTL_REMOVE));
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_TIMER, 2, KEVENT_CTL_REMOVE));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, 50));
}

/*
 * A 1 ns period, far shorter than the timer interrupt, on a ring that user
 * space keeps empty: the timer still fires at most about once a tick, so
 * its events come at most that often, and they count every period. Without
 * high-resolution timers (clock_getres() gives the tick) hrtimers fire
 * from the tick anyway, and count periods of at least the resolution.
 */
TEST(timer_tiny_period_fires_once_a_tick_with_room_in_ring)
{
	struct kevent_ring_map map;
	__u64 a0, t_end, sum = 0, events = 0, res_ns;
	struct timespec res;
	unsigned int n, i;
	int fd = kt_queue(1024, 0);

	ASSERT_EQ(0, clock_getres(CLOCK_MONOTONIC, &res));
	res_ns = res.tv_sec * NSEC_PER_SEC + res.tv_nsec;
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kevent_ring_mmap(fd, 1024, &map));
	a0 = kt_mono();
	ASSERT_EQ(0, kt_timer_add(fd, 1, 1, 1, CLOCK_MONOTONIC, 0, 0));
	t_end = a0 + 200 * MS;
	while (kt_mono() < t_end) {
		n = kevent_ring_count(map.ring);
		for (i = 0; i < n; i++)
			sum += kevent_ring_get(map.ring, i)->data[0];
		kevent_ring_advance(map.ring, n);
		events += n;
	}
	ASSERT_EQ(0, kt_op(fd, KEVENT_TIMER, 1, KEVENT_CTL_REMOVE));
	/* 200 ticks in 200 ms at HZ=1000, the highest HZ; twice that. */
	EXPECT_GE(400ULL, events);
	EXPECT_LT(0ULL, events);
	/* Each event counts the periods since the last: 1e6 per ms. */
	EXPECT_LT(100 * MS / (res_ns ? res_ns : 1), sum);
	EXPECT_GE(kt_expirations(a0, 1, 1, kt_mono()), sum);
	kevent_ring_munmap(&map);
	close(fd);
}

/*
 * MODIFY re-arms a oneshot timer as a plain one that expires at once: its
 * first expiry carries the new flags and udata, however soon it comes, so
 * the registration stays (under the old ONESHOT it would be removed).
 * Many rounds, each giving the expiry a chance to beat the update.
 */
TEST(timer_modify_first_expiry_has_new_flags)
{
	struct kevent_ring_map map;
	struct ukevent ch, *ev;
	int fd = kt_queue(64, 0);
	int round;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kevent_ring_mmap(fd, 64, &map));
	for (round = 0; round < 1000; round++) {
		ASSERT_EQ(0, kt_timer_add(fd, round, 10000 * MS, 0,
					  CLOCK_MONOTONIC, KEVENT_REQ_ONESHOT,
					  1));
		kevent_prep_timer(&ch, round, 0, 0, CLOCK_MONOTONIC, 0, 2);
		ch.op = KEVENT_CTL_MODIFY;
		ASSERT_EQ(0, kt_ctl1(fd, &ch));
		ASSERT_EQ(1, kt_wait(fd, 1, 2000));
		ev = kevent_ring_peek(map.ring);
		ASSERT_TRUE(!!ev);
		EXPECT_EQ(2ULL, ev->udata);
		EXPECT_EQ(0U, ev->flags);
		kevent_ring_advance(map.ring, 1);
		ASSERT_EQ(0, kt_op(fd, KEVENT_TIMER, round,
				   KEVENT_CTL_REMOVE)) {
			TH_LOG("round %d: the registration was removed", round);
		}
	}
	kevent_ring_munmap(&map);
	close(fd);
}

/* Closing a queue with many armed timers cancels them (no crash). */
TEST(timer_close_queue_with_armed_timers)
{
	struct ukevent ch[64];
	int fd, i, round;

	for (round = 0; round < 4; round++) {
		fd = kt_queue(round & 1 ? 16 : 0, 0);
		ASSERT_LE(0, fd);
		for (i = 0; i < 64; i++)
			kevent_prep_timer(&ch[i], i, (i % 4) * MS, MS,
					  CLOCK_MONOTONIC, 0, 0);
		ASSERT_EQ(0, kevent_ctl(fd, ch, 64, 0));
		kt_sleep_ms(3);
		ASSERT_EQ(0, close(fd));
	}
	kt_sleep_ms(10);
}

TEST_HARNESS_MAIN
