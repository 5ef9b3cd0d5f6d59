// SPDX-License-Identifier: GPL-2.0
/*
 * The mmap'd ready ring: mmap errors, wrapping, overflow without loss or
 * duplication, the head bounds check, kevent_wait(), level re-reports and
 * the interplay with kevent_get_events().
 */
#include "kevent_test.h"
#include "../kselftest_harness.h"
#include <poll.h>

#define MS	NSEC_PER_MSEC

static size_t ring_map_len(unsigned int entries)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);

	return (KEVENT_RING_SIZE(entries) + psz - 1) & ~(psz - 1);
}

/* Register user events [first, first + n) with udata = 1000 + id. */
static int add_users(int fd, __u64 first, unsigned int n)
{
	struct ukevent ch;
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		kevent_prep_user(&ch, first + i, 0, 1000 + first + i);
		ret = kt_ctl1(fd, &ch);
		if (ret)
			return ret;
	}
	return 0;
}

/* mmap errors */

TEST(ring_mmap_without_ring_enodev)
{
	void *p;
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(ENODEV, errno);
	close(fd);
}

TEST(ring_mmap_nonzero_offset_einval)
{
	long psz = sysconf(_SC_PAGESIZE);
	void *p;
	int fd = kt_queue(256, 0);

	ASSERT_LE(0, fd);
	p = mmap(NULL, psz, PROT_READ, MAP_SHARED, fd, psz);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, psz, PROT_READ, MAP_SHARED, fd, 16 * psz);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(ring_mmap_too_long_einval)
{
	size_t len = ring_map_len(64);
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	void *p;
	int fd = kt_queue(64, 0);

	ASSERT_LE(0, fd);
	p = mmap(NULL, len + psz, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(EINVAL, errno);
	/* The exact (page rounded) length works. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	munmap(p, len);
	close(fd);
}

TEST(ring_mmap_private_einval)
{
	void *p;
	int fd = kt_queue(64, 0);

	ASSERT_LE(0, fd);
	p = mmap(NULL, ring_map_len(64), PROT_READ | PROT_WRITE, MAP_PRIVATE,
		 fd, 0);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(ring_mremap_grow_fails)
{
	size_t len = ring_map_len(64);
	void *p, *q;
	int fd = kt_queue(64, 0);

	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	q = mremap(p, len, 4 * len, MREMAP_MAYMOVE);
	EXPECT_TRUE(q == MAP_FAILED);
	if (q != MAP_FAILED)
		p = q;
	munmap(p, len);
	close(fd);
}

/* The mapping keeps the queue alive after close(). */
TEST(ring_mapping_survives_close)
{
	struct kevent_ring_map map;
	int fd = kt_queue(8, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kevent_ring_mmap(fd, 8, &map));
	ASSERT_EQ(0, kt_user_add(fd, 1, 0, 0));
	ASSERT_EQ(0, kt_trigger(fd, 1, 3));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(1U, kevent_ring_count(map.ring));
	EXPECT_EQ(1ULL, kevent_ring_peek(map.ring)->id);
	EXPECT_EQ(3ULL, kevent_ring_peek(map.ring)->data[1]);
	kevent_ring_advance(map.ring, 1);
	EXPECT_EQ(0, kevent_ring_munmap(&map));
}

/* kevent_wait argument checks */

TEST(ring_wait_without_ring_einval)
{
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, kt_wait(fd, 1, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, kt_wait(fd, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(ring_wait_min_nr_above_entries_einval)
{
	int fd = kt_queue(6, 0);	/* rounded up to 8 */

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, kt_wait(fd, 9, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, kt_wait(fd, 0xffffffffU, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, kt_wait(fd, 8, 0));
	close(fd);
}

/*
 * kevent_get_events() on a ring queue takes its events from the ring, which
 * never holds more than its entries: a larger min_nr could never be met,
 * even with more events ready than that.
 */
TEST(ring_get_events_min_nr_above_entries_einval)
{
	struct ukevent ev[16];
	int fd = kt_queue(6, 0);	/* rounded up to 8 */
	int i;

	ASSERT_LE(0, fd);
	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, kt_user_add(fd, i, 0, 0));
		ASSERT_EQ(0, kt_trigger(fd, i, 1));
	}
	EXPECT_EQ(-1, kt_get(fd, ev, 9, 16, 1000));
	EXPECT_EQ(EINVAL, errno);
	/* The largest min_nr the ring can meet is fine, at once. */
	EXPECT_EQ(8, kt_get(fd, ev, 8, 16, 1000));
	close(fd);
}

TEST(ring_wait_bad_fd)
{
	int p[2];

	EXPECT_EQ(-1, kt_wait(-1, 1, 0));
	EXPECT_EQ(EBADF, errno);
	ASSERT_EQ(0, pipe(p));
	EXPECT_EQ(-1, kt_wait(p[0], 1, 0));
	EXPECT_EQ(EINVAL, errno);
	close(p[0]);
	close(p[1]);
}

/* kevent_wait returns the unread count; entries carry the fields. */
TEST(ring_wait_returns_unread_count_and_fields)
{
	struct kevent_ring_map map;
	struct ukevent *ev;
	int fd = kt_queue(8, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kevent_ring_mmap(fd, 8, &map));
	ASSERT_EQ(0, add_users(fd, 0, 3));
	EXPECT_EQ(0, kt_wait(fd, 0, 0));
	ASSERT_EQ(0, kt_trigger(fd, 0, 10));
	ASSERT_EQ(0, kt_trigger(fd, 1, 11));
	ASSERT_EQ(0, kt_trigger(fd, 2, 12));
	EXPECT_EQ(3, kt_wait(fd, 1, 0));
	EXPECT_EQ(3, kt_wait(fd, 3, 1000));
	ASSERT_EQ(3U, kevent_ring_count(map.ring));
	ev = kevent_ring_peek(map.ring);
	ASSERT_FALSE(!ev);
	EXPECT_EQ(0ULL, ev->id);
	EXPECT_EQ(1000ULL, ev->udata);
	EXPECT_EQ(KEVENT_USER, ev->type);
	EXPECT_EQ(0, ev->op);
	EXPECT_EQ(KEVENT_USER_TRIGGERED, ev->event);
	EXPECT_EQ(1ULL, ev->data[0]);
	EXPECT_EQ(10ULL, ev->data[1]);
	kevent_ring_advance(map.ring, 1);
	EXPECT_EQ(2, kt_wait(fd, 1, 0));
	kevent_ring_advance(map.ring, 2);
	EXPECT_EQ(0, kt_wait(fd, 1, 0));
	EXPECT_TRUE(!kevent_ring_peek(map.ring));
	EXPECT_EQ(3U, map.ring->tail);
	kevent_ring_munmap(&map);
	close(fd);
}

TEST(ring_wait_times_out_when_empty)
{
	__u64 t0;
	int fd = kt_queue(8, 0);

	ASSERT_LE(0, fd);
	t0 = kt_mono();
	EXPECT_EQ(0, kt_wait(fd, 1, 50));
	EXPECT_LE(t0 + 50 * MS, kt_mono());
	close(fd);
}

/* Timer expiries are posted into the ring from timer context. */
TEST(ring_receives_timer_events)
{
	struct kevent_ring_map map;
	struct ukevent *ev;
	unsigned int i, nr, seen = 0;
	int fd = kt_queue(8, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kevent_ring_mmap(fd, 8, &map));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, kt_timer_add(fd, i, (i + 1) * 5 * MS, 0,
					  CLOCK_MONOTONIC, 0, 50 + i));
	ASSERT_EQ(3, kt_wait(fd, 3, 2000));
	nr = kevent_ring_count(map.ring);
	for (i = 0; i < nr; i++) {
		ev = kevent_ring_get(map.ring, i);
		EXPECT_EQ(KEVENT_TIMER, ev->type);
		ASSERT_GT(3ULL, ev->id);
		EXPECT_EQ(50 + ev->id, ev->udata);
		EXPECT_EQ(1ULL, ev->data[0]);
		seen |= 1U << ev->id;
	}
	kevent_ring_advance(map.ring, nr);
	EXPECT_EQ(3U, nr);
	EXPECT_EQ(7U, seen);
	kevent_ring_munmap(&map);
	close(fd);
}

/* On a ring queue, kevent_get_events copies from the ring and moves head. */
TEST(ring_get_events_consumes_ring)
{
	struct kevent_ring_map map;
	struct ukevent ev[8];
	int fd = kt_queue(8, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kevent_ring_mmap(fd, 8, &map));
	ASSERT_EQ(0, add_users(fd, 0, 4));
	ASSERT_EQ(0, kt_trigger(fd, 2, 0));
	ASSERT_EQ(0, kt_trigger(fd, 0, 0));
	ASSERT_EQ(0, kt_trigger(fd, 3, 0));
	ASSERT_EQ(3U, kevent_ring_count(map.ring));
	ASSERT_EQ(2, kt_poll(fd, ev, 2));
	EXPECT_EQ(2ULL, ev[0].id);
	EXPECT_EQ(0ULL, ev[1].id);
	EXPECT_EQ(2U, kevent_ring_head(map.ring));
	EXPECT_EQ(1U, kevent_ring_count(map.ring));
	ASSERT_EQ(1, kt_poll(fd, ev, 8));
	EXPECT_EQ(3ULL, ev[0].id);
	EXPECT_EQ(3U, kevent_ring_head(map.ring));
	EXPECT_EQ(0U, kevent_ring_count(map.ring));
	kevent_ring_munmap(&map);
	close(fd);
}

/*
 * Wrap the ring 25 times: 200 events through 8 slots, consumed in
 * chunks; each event seen exactly once, in order.
 */
TEST(ring_wraps_every_event_seen_once)
{
	enum { ENTRIES = 8, IDS = 16, TOTAL = 200 };
	struct __kernel_timespec ts = { 2, 0 };
	struct kevent_ring_map map;
	struct ukevent ch[8], *ev;
	unsigned int seq = 0, next = 0, k, i, n;
	int fd = kt_queue(ENTRIES, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kevent_ring_mmap(fd, ENTRIES, &map));
	ASSERT_EQ(0, add_users(fd, 0, IDS));
	while (seq < TOTAL) {
		k = 1 + seq % 7;
		if (k > TOTAL - seq)
			k = TOTAL - seq;
		for (i = 0; i < k; i++, seq++)
			kevent_prep_trigger(&ch[i], seq % IDS, seq);
		ASSERT_EQ(0, kevent_ctl(fd, ch, k, 0));
		while (next < seq) {
			ASSERT_LT(0, kevent_ring_wait(&map, 1, &ts));
			/* Consume at most 3 at a time. */
			for (n = 0; n < 3; n++) {
				ev = kevent_ring_peek(map.ring);
				if (!ev)
					break;
				ASSERT_GT(seq, next);
				ASSERT_EQ((__u64)next, ev->data[1]);
				ASSERT_EQ((__u64)(next % IDS), ev->id);
				ASSERT_EQ(1000ULL + next % IDS, ev->udata);
				ASSERT_EQ(1ULL, ev->data[0]);
				kevent_ring_advance(map.ring, 1);
				next++;
			}
		}
		ASSERT_EQ(0U, kevent_ring_count(map.ring));
	}
	EXPECT_EQ((__u32)TOTAL, map.ring->tail);
	EXPECT_EQ((__u32)TOTAL, map.ring->head);
	EXPECT_EQ(0U, map.ring->flags);
	EXPECT_EQ(0U, map.ring->overflow);
	EXPECT_EQ(0, kt_wait(fd, 1, 0));
	kevent_ring_munmap(&map);
	close(fd);
}

/*
 * Level registrations on a ring, more of them than the kernel re-polls
 * per batch: each round reports every readable pipe exactly once (one
 * unread entry each, however often the queue is waited on) and, once
 * consumed, again; a pipe drained in between is no longer reported.
 */
TEST(ring_level_many_reported_once_per_round)
{
	enum { PIPES = 40, ROUNDS = 3, ENTRIES = 64 };
	struct kevent_ring_map map;
	struct ukevent ch;
	int p[PIPES][2], seen[PIPES];
	unsigned int i, r, n, expect = PIPES;
	char c;
	int fd = kt_queue(ENTRIES, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kevent_ring_mmap(fd, ENTRIES, &map));
	for (i = 0; i < PIPES; i++) {
		ASSERT_EQ(0, pipe2(p[i], O_NONBLOCK | O_CLOEXEC));
		ASSERT_EQ(1, write(p[i][1], "x", 1));
		kevent_prep_fd(&ch, KEVENT_POLL, p[i][0], POLLIN, 0, i);
		ASSERT_EQ(0, kt_ctl1(fd, &ch));
	}
	for (r = 0; r < ROUNDS; r++) {
		ASSERT_EQ((int)expect, kt_wait(fd, expect, 1000));
		/* Unread entries are not posted again. */
		EXPECT_EQ((int)expect, kt_wait(fd, 1, 0));
		n = kevent_ring_count(map.ring);
		ASSERT_EQ(expect, n);
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < n; i++) {
			struct ukevent *ev = kevent_ring_get(map.ring, i);

			ASSERT_GT((__u64)PIPES, ev->udata);
			EXPECT_EQ(POLLIN, ev->event & POLLIN);
			seen[ev->udata]++;
		}
		kevent_ring_advance(map.ring, n);
		for (i = 0; i < PIPES; i++)
			EXPECT_EQ(i % 2 && r ? 0 : 1, seen[i]);
		/* Drain the odd pipes: from the next round on, quiet. */
		if (!r) {
			for (i = 1; i < PIPES; i += 2)
				ASSERT_EQ(1, read(p[i][0], &c, 1));
			expect = PIPES / 2;
		}
	}
	EXPECT_EQ(0U, map.ring->overflow);
	for (i = 0; i < PIPES; i++) {
		close(p[i][0]);
		close(p[i][1]);
	}
	kevent_ring_munmap(&map);
	close(fd);
}

/*
 * Overflow: 20 events into 4 slots. Flag and counter are set, then
 * kevent_wait() drains the backlog in order: zero lost, zero duplicated.
 */
TEST(ring_overflow_flag_counter_then_drain_no_loss)
{
	enum { ENTRIES = 4, N = 20 };
	struct kevent_ring_map map;
	struct ukevent ch[N], *ev;
	unsigned int next = 0, i, nr, seen[N] = { 0 };
	int fd = kt_queue(ENTRIES, 0), ret, loops = 0;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kevent_ring_mmap(fd, ENTRIES, &map));
	ASSERT_EQ(0, add_users(fd, 0, N));
	for (i = 0; i < N; i++)
		kevent_prep_trigger(&ch[i], i, 100 + i);
	ASSERT_EQ(0, kevent_ctl(fd, ch, N, 0));

	EXPECT_EQ((__u32)ENTRIES, map.ring->tail);
	EXPECT_EQ((__u32)ENTRIES, kevent_ring_count(map.ring));
	EXPECT_EQ(KEVENT_RING_OVERFLOW, map.ring->flags & KEVENT_RING_OVERFLOW);
	EXPECT_EQ((__u32)(N - ENTRIES), map.ring->overflow);
	/* The queue is readable while the backlog exists. */
	EXPECT_EQ(ENTRIES, kt_wait(fd, 1, 0));

	while (next < N && loops++ < 4 * N) {
		nr = kevent_ring_count(map.ring);
		for (i = 0; i < nr; i++) {
			ev = kevent_ring_get(map.ring, i);
			ASSERT_GT((__u64)N, ev->id);
			/* In order, each once. */
			EXPECT_EQ((__u64)next, ev->id);
			EXPECT_EQ(100ULL + ev->id, ev->data[1]);
			EXPECT_EQ(1ULL, ev->data[0]);
			seen[ev->id]++;
			next++;
		}
		kevent_ring_advance(map.ring, nr);
		if (next == N)
			break;
		ret = kt_wait(fd, 1, 1000);
		ASSERT_LT(0, ret);
		ASSERT_GE(ENTRIES, ret);
	}
	for (i = 0; i < N; i++) {
		EXPECT_EQ(1U, seen[i]) {
			TH_LOG("event %u seen %u times", i, seen[i]);
		}
	}
	EXPECT_EQ((__u32)N, map.ring->tail);
	EXPECT_EQ(0U, map.ring->flags & KEVENT_RING_OVERFLOW);
	EXPECT_EQ(0, kt_wait(fd, 1, 0));
	EXPECT_EQ(0, kt_poll(fd, ch, N));
	kevent_ring_munmap(&map);
	close(fd);
}

/* The backlog is also moved, before it, when a later event arrives. */
TEST(ring_overflow_backlog_moved_before_new_event)
{
	struct kevent_ring_map map;
	struct ukevent ch[6];
	unsigned int i;
	int fd = kt_queue(2, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kevent_ring_mmap(fd, 2, &map));
	ASSERT_EQ(0, add_users(fd, 0, 6));
	for (i = 0; i < 4; i++)
		kevent_prep_trigger(&ch[i], i, 0);
	ASSERT_EQ(0, kevent_ctl(fd, ch, 4, 0));
	ASSERT_EQ(2U, kevent_ring_count(map.ring));
	EXPECT_EQ(2U, map.ring->overflow);
	/* Free both slots, then a new event arrives. */
	kevent_ring_advance(map.ring, 2);
	ASSERT_EQ(0, kt_trigger(fd, 4, 0));
	/* Events 2 and 3 come first; 4 waits. */
	ASSERT_EQ(2U, kevent_ring_count(map.ring));
	EXPECT_EQ(2ULL, kevent_ring_get(map.ring, 0)->id);
	EXPECT_EQ(3ULL, kevent_ring_get(map.ring, 1)->id);
	EXPECT_EQ(KEVENT_RING_OVERFLOW, map.ring->flags);
	kevent_ring_advance(map.ring, 2);
	ASSERT_EQ(1, kt_wait(fd, 1, 1000));
	EXPECT_EQ(4ULL, kevent_ring_peek(map.ring)->id);
	kevent_ring_advance(map.ring, 1);
	EXPECT_EQ(0U, map.ring->flags);
	EXPECT_EQ(0, kt_wait(fd, 1, 0));
	kevent_ring_munmap(&map);
	close(fd);
}

/* kevent_get_events drains ring and backlog: no loss, no duplicate. */
TEST(ring_overflow_drained_by_get_events)
{
	struct kevent_ring_map map;
	struct ukevent ch[10], ev[16];
	unsigned int next = 0;
	int fd = kt_queue(4, 0), n, i, loops = 0;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kevent_ring_mmap(fd, 4, &map));
	ASSERT_EQ(0, add_users(fd, 0, 10));
	for (i = 0; i < 10; i++)
		kevent_prep_trigger(&ch[i], i, 0);
	ASSERT_EQ(0, kevent_ctl(fd, ch, 10, 0));
	while (next < 10 && loops++ < 20) {
		n = kt_poll(fd, ev, 16);
		ASSERT_LE(0, n);
		for (i = 0; i < n; i++) {
			EXPECT_EQ((__u64)next, ev[i].id);
			next++;
		}
	}
	EXPECT_EQ(10U, next);
	EXPECT_EQ(0, kt_poll(fd, ev, 16));
	EXPECT_EQ(0U, map.ring->flags);
	kevent_ring_munmap(&map);
	close(fd);
}

/*
 * A bogus head (tail - head > entries) makes the kernel treat the ring as
 * full: it must not crash nor write any slot; events stay pending.
 */
TEST(ring_bogus_head_never_overwrites)
{
	enum { ENTRIES = 4 };
	struct kevent_ring_map map;
	struct ukevent snap[ENTRIES], ch[4], *ev;
	unsigned int i, nr, next = 0;
	int fd = kt_queue(ENTRIES, 0), loops = 0;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kevent_ring_mmap(fd, ENTRIES, &map));
	ASSERT_EQ(0, add_users(fd, 0, 6));
	ASSERT_EQ(0, kt_trigger(fd, 0, 0));
	ASSERT_EQ(0, kt_trigger(fd, 1, 0));
	ASSERT_EQ(2U, map.ring->tail);
	memcpy(snap, map.ring->events, sizeof(snap));

	/* head ahead of tail: tail - head wraps to a huge value. */
	__atomic_store_n(&map.ring->head, 4, __ATOMIC_RELEASE);
	for (i = 0; i < 3; i++)
		kevent_prep_trigger(&ch[i], 2 + i, 0);
	ASSERT_EQ(0, kevent_ctl(fd, ch, 3, 0));
	EXPECT_EQ(2U, map.ring->tail);
	EXPECT_EQ(KEVENT_RING_OVERFLOW, map.ring->flags);
	/* kevent_wait must cope too (its return value is not checked). */
	kt_wait(fd, 1, 0);
	EXPECT_EQ(2U, map.ring->tail);

	/* head far behind: tail - head = 7 > entries. */
	__atomic_store_n(&map.ring->head, (__u32)-5, __ATOMIC_RELEASE);
	ASSERT_EQ(0, kt_trigger(fd, 5, 0));
	/* A timer firing in interrupt context must respect it as well. */
	ASSERT_EQ(0, kt_timer_add(fd, 9, MS, 0, CLOCK_MONOTONIC, 0, 0));
	kt_sleep_ms(20);
	kt_wait(fd, 1, 0);
	EXPECT_EQ(2U, map.ring->tail);
	EXPECT_EQ(0, memcmp(snap, map.ring->events, sizeof(snap)));

	/* Restore a sane head: everything arrives exactly once, in order. */
	__atomic_store_n(&map.ring->head, 0, __ATOMIC_RELEASE);
	while (next < 7 && loops++ < 20) {
		ASSERT_LT(0, kt_wait(fd, 1, 1000));
		nr = kevent_ring_count(map.ring);
		for (i = 0; i < nr; i++) {
			ev = kevent_ring_get(map.ring, i);
			if (next < 6) {
				EXPECT_EQ(KEVENT_USER, ev->type);
				EXPECT_EQ((__u64)next, ev->id);
			} else {
				EXPECT_EQ(KEVENT_TIMER, ev->type);
				EXPECT_EQ(9ULL, ev->id);
			}
			next++;
		}
		kevent_ring_advance(map.ring, nr);
	}
	EXPECT_EQ(7U, next);
	EXPECT_EQ(0, kt_wait(fd, 1, 0));
	EXPECT_EQ(0U, map.ring->flags);
	kevent_ring_munmap(&map);
	close(fd);
}

/* The helper can discover the ring size from the header. */
TEST(ring_helper_probe_size)
{
	struct kevent_ring_map map;
	int fd = kt_queue(100, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kevent_ring_mmap(fd, 0, &map));
	EXPECT_EQ(128U, map.ring->entries);
	EXPECT_EQ(KEVENT_RING_SIZE(128), map.size);
	kevent_ring_munmap(&map);
	close(fd);
}

TEST_HARNESS_MAIN
