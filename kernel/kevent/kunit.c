// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the kevent ring index arithmetic, the order of the
 * per-queue registration index, what a delivery leaves pending, how a
 * level or file registration waits for its unread ring entry and how
 * re-polls are reported a batch at a time.
 */

#include <kunit/test.h>
#include <linux/limits.h>

#include "kevent.h"

static void kevent_ring_unread_wraps(struct kunit *test)
{
	/* Free-running indices: the difference survives u32 wrap-around. */
	KUNIT_EXPECT_EQ(test, kevent_ring_unread(0, 0, 8), 0U);
	KUNIT_EXPECT_EQ(test, kevent_ring_unread(3, 7, 8), 4U);
	KUNIT_EXPECT_EQ(test, kevent_ring_unread(U32_MAX - 1, 2, 8), 4U);
	KUNIT_EXPECT_EQ(test, kevent_ring_unread(U32_MAX, U32_MAX, 8), 0U);
	KUNIT_EXPECT_EQ(test, kevent_ring_unread(U32_MAX - 7, 0, 8), 8U);
	KUNIT_EXPECT_EQ(test, kevent_ring_space(U32_MAX - 1, 2, 8), 4U);
}

static void kevent_ring_bad_head_means_full(struct kunit *test)
{
	/* A head ahead of the tail or too far behind: no space at all. */
	KUNIT_EXPECT_EQ(test, kevent_ring_space(10, 5, 8), 0U);
	KUNIT_EXPECT_EQ(test, kevent_ring_space(0, 100, 8), 0U);
	KUNIT_EXPECT_EQ(test, kevent_ring_unread(0, 100, 8), 8U);
	KUNIT_EXPECT_EQ(test, kevent_ring_space(U32_MAX, 0, 1), 0U);
	KUNIT_EXPECT_EQ(test, kevent_ring_space(0, 0, 1), 1U);
}

static void kevent_ring_entries_rounding(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, kevent_ring_entries(0), 0U);
	KUNIT_EXPECT_EQ(test, kevent_ring_entries(1), 1U);
	KUNIT_EXPECT_EQ(test, kevent_ring_entries(3), 4U);
	KUNIT_EXPECT_EQ(test, kevent_ring_entries(1000), 1024U);
	KUNIT_EXPECT_EQ(test, kevent_ring_entries(KEVENT_RING_MAX_ENTRIES),
			KEVENT_RING_MAX_ENTRIES);
	KUNIT_EXPECT_EQ(test, kevent_ring_entries(KEVENT_RING_MAX_ENTRIES + 1),
			0U);
}

static void kevent_ring_layout(struct kunit *test)
{
	/* The ABI promises one cache line per entry and per index. */
	KUNIT_EXPECT_EQ(test, sizeof(struct ukevent), 64UL);
	KUNIT_EXPECT_EQ(test, offsetof(struct kevent_ring, head), 0UL);
	KUNIT_EXPECT_EQ(test, offsetof(struct kevent_ring, tail), 64UL);
	KUNIT_EXPECT_EQ(test, offsetof(struct kevent_ring, events), 192UL);
	KUNIT_EXPECT_EQ(test, KEVENT_RING_SIZE(4), 192UL + 4 * 64);
}

static void kevent_key_order(struct kunit *test)
{
	KUNIT_EXPECT_LT(test, kevent_key_cmp(KEVENT_SOCKET, 9, KEVENT_TIMER, 1), 0);
	KUNIT_EXPECT_GT(test, kevent_key_cmp(KEVENT_USER, 0, KEVENT_TIMER, ~0ULL), 0);
	KUNIT_EXPECT_LT(test, kevent_key_cmp(KEVENT_TIMER, 1, KEVENT_TIMER, 2), 0);
	KUNIT_EXPECT_LT(test, kevent_key_cmp(KEVENT_TIMER, 1, KEVENT_TIMER, ~0ULL), 0);
	KUNIT_EXPECT_EQ(test, kevent_key_cmp(KEVENT_USER, 5, KEVENT_USER, 5), 0);
}

/* Whether a registration's last ring entry is unread, across the wrap. */
static void kevent_ring_entry_window(struct kunit *test)
{
	struct kevent_queue *kq = kunit_kzalloc(test, sizeof(*kq), GFP_KERNEL);
	struct kevent kev = { .ring_pos = 0 };

	KUNIT_ASSERT_NOT_NULL(test, kq);
	kq->ring_entries = 8;
	kq->ring_tail = 5;
	/* Never posted: ring_pos means nothing. */
	KUNIT_EXPECT_FALSE(test, kevent_ring_entry_unread(kq, &kev, 0));
	kev.state = KEVENT_STATE_POSTED;
	KUNIT_EXPECT_TRUE(test, kevent_ring_entry_unread(kq, &kev, 0));
	KUNIT_EXPECT_FALSE(test, kevent_ring_entry_unread(kq, &kev, 1));

	/* Indices wrapping around zero. */
	kq->ring_tail = 3;
	kev.ring_pos = U32_MAX;
	KUNIT_EXPECT_TRUE(test, kevent_ring_entry_unread(kq, &kev, U32_MAX - 1));
	KUNIT_EXPECT_FALSE(test, kevent_ring_entry_unread(kq, &kev, 0));

	/* An entry read more than 2^31 events ago is not "ahead". */
	kev.ring_pos = 10;
	kq->ring_tail = 10 + (1U << 31) + 3;
	KUNIT_EXPECT_FALSE(test,
			   kevent_ring_entry_unread(kq, &kev, kq->ring_tail - 2));
}

/* Holds unless the id is a multiple of 3, and reports the id. */
static bool kevent_test_recheck(struct kevent *kev,
				struct kevent_report *report)
{
	if (!(kev->id % 3))
		return false;
	report->mask = 1;
	report->ret_flags = 0;
	report->count = kev->id;
	report->value = kev->id * 10;
	return true;
}

static const struct kevent_source kevent_test_level_source = {
	.type		= KEVENT_POLL,
	.recheck	= kevent_test_recheck,
	.level		= true,
};

static const struct kevent_source kevent_test_count_source = {
	.type		= KEVENT_USER,
};

static const struct kevent_source kevent_test_file_source = {
	.type		= KEVENT_POLL,
	.recheck	= kevent_test_recheck,
	.level		= true,
	.one_unread_entry = true,
};

/*
 * A queue without a ring, set up as kevent_init() sets one up, with @nr
 * registrations: kev[i] with id i + 1, from the level source except the
 * last one, which is from the counting source. Returns kev; the queue is
 * kev[0].queue.
 */
static struct kevent *kevent_test_setup(struct kunit *test, unsigned int nr)
{
	struct kevent_queue *kq = kunit_kzalloc(test, sizeof(*kq), GFP_KERNEL);
	struct kevent *kev = kunit_kcalloc(test, nr, sizeof(*kev), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, kq);
	KUNIT_ASSERT_NOT_NULL(test, kev);
	kevent_queue_setup(kq);
	for (i = 0; i < nr; i++) {
		INIT_LIST_HEAD(&kev[i].ready_link);
		INIT_LIST_HEAD(&kev[i].recheck_link);
		kev[i].queue = kq;
		kev[i].id = i + 1;
		kev[i].source = i + 1 < nr ? &kevent_test_level_source :
					     &kevent_test_count_source;
	}
	return kev;
}

/*
 * A report that comes in while a registration's event is being copied out
 * (kevent_fill() to kevent_consume()): a counting registration keeps it
 * pending and is queued again; a level one drops it and is re-polled
 * instead, so that its state is read afresh rather than reported twice.
 */
static void kevent_delivered_level_once(struct kunit *test)
{
	struct kevent *kev = kevent_test_setup(test, 2);
	struct kevent_queue *kq = kev[0].queue;
	int i;

	for (i = 0; i < 2; i++) {
		kev[i].pending_mask = 1;
		/* one occurrence filled and copied, one more since */
		kev[i].pending_count = 2;
		spin_lock_irq(&kq->lock);
		kevent_delivered(kq, &kev[i], 1);
		spin_unlock_irq(&kq->lock);
	}

	KUNIT_EXPECT_EQ(test, kev[0].pending_count, 0ULL);
	KUNIT_EXPECT_EQ(test, kev[0].pending_mask, 0U);
	KUNIT_EXPECT_EQ(test, kev[0].state, (u32)KEVENT_STATE_RECHECK);
	KUNIT_EXPECT_PTR_EQ(test, kq->recheck.next, &kev[0].recheck_link);
	KUNIT_EXPECT_TRUE(test, list_empty(&kev[0].ready_link));

	KUNIT_EXPECT_EQ(test, kev[1].pending_count, 1ULL);
	KUNIT_EXPECT_EQ(test, kev[1].pending_mask, 1U);
	KUNIT_EXPECT_EQ(test, kev[1].state, (u32)KEVENT_STATE_QUEUED);
	KUNIT_EXPECT_PTR_EQ(test, kq->ready.next, &kev[1].ready_link);
	KUNIT_EXPECT_EQ(test, kq->nr_ready, 1U);
}

static void kevent_test_ring_free(void *kq)
{
	kevent_ring_free(kq);
}

/* Give @kq a ring of @entries, freed when the test ends. */
static void kevent_test_add_ring(struct kunit *test, struct kevent_queue *kq,
				 u32 entries)
{
	KUNIT_ASSERT_EQ(test, kevent_ring_alloc(kq, entries), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							kevent_test_ring_free,
							kq), 0);
}

/* One occurrence of @kev, reported as kevent_ready() does. */
static void kevent_test_report(struct kevent_queue *kq, struct kevent *kev)
{
	spin_lock_irq(&kq->lock);
	kev->pending_mask |= 1;
	kev->pending_count++;
	kevent_post_locked(kq, kev);
	spin_unlock_irq(&kq->lock);
}

/*
 * An edge-triggered registration of a source with one_unread_entry waits
 * for its unread entry too, but keeps what it is woken for: the entry
 * posted once the first has been read counts the wake-ups since. Its own
 * next report posts it.
 */
static void kevent_ring_deferred_edge(struct kunit *test)
{
	struct kevent *kev = kevent_test_setup(test, 1);
	struct kevent_queue *kq = kev->queue;

	kev->source = &kevent_test_file_source;
	kev->flags = KEVENT_REQ_ET;
	kevent_test_add_ring(test, kq, 4);

	kevent_test_report(kq, kev);
	KUNIT_EXPECT_EQ(test, kq->ring_tail, 1U);
	KUNIT_EXPECT_EQ(test, kq->ring->events[0].data[0], 1ULL);

	kevent_test_report(kq, kev);
	kevent_test_report(kq, kev);
	KUNIT_EXPECT_EQ(test, kq->ring_tail, 1U);
	KUNIT_EXPECT_TRUE(test, kev->state & KEVENT_STATE_DEFERRED);
	KUNIT_EXPECT_EQ(test, kev->pending_count, 2ULL);

	/* User space reads the entry: the next wake-up posts all three. */
	smp_store_release(&kq->ring->head, 1);
	KUNIT_EXPECT_EQ(test, kq->ring_tail, 1U);
	kevent_test_report(kq, kev);
	KUNIT_EXPECT_EQ(test, kq->ring_tail, 2U);
	KUNIT_EXPECT_EQ(test, kev->ring_pos, 1U);
	KUNIT_EXPECT_EQ(test, kq->ring->events[1].data[0], 3ULL);
	KUNIT_EXPECT_EQ(test, kev->pending_count, 0ULL);
	KUNIT_EXPECT_FALSE(test, kev->state & KEVENT_STATE_DEFERRED);
	KUNIT_EXPECT_TRUE(test, list_empty(&kq->deferred));
	KUNIT_EXPECT_EQ(test, kq->nr_ready, 0U);
}

/*
 * A level registration woken while its ring entry is unread waits on the
 * deferred list, adding no entry, while other events still go into the
 * ring. Once user space has moved head past its entry, the next report of
 * any registration posts it too.
 */
static void kevent_ring_deferred_level(struct kunit *test)
{
	struct kevent *kev = kevent_test_setup(test, 2);
	struct kevent *level = &kev[0], *count = &kev[1];
	struct kevent_queue *kq = level->queue;

	kevent_test_add_ring(test, kq, 4);

	kevent_test_report(kq, level);
	KUNIT_EXPECT_EQ(test, kq->ring_tail, 1U);
	KUNIT_EXPECT_EQ(test, level->ring_pos, 0U);

	/* Its entry is unread: the wake-up adds no second entry. */
	kevent_test_report(kq, level);
	KUNIT_EXPECT_EQ(test, kq->ring_tail, 1U);
	KUNIT_EXPECT_TRUE(test, level->state & KEVENT_STATE_DEFERRED);
	KUNIT_EXPECT_EQ(test, kq->nr_ready, 1U);

	/* Nothing due waits in the kernel: straight into the ring. */
	kevent_test_report(kq, count);
	KUNIT_EXPECT_EQ(test, kq->ring_tail, 2U);
	KUNIT_EXPECT_EQ(test, count->ring_pos, 1U);
	KUNIT_EXPECT_TRUE(test, level->state & KEVENT_STATE_DEFERRED);
	KUNIT_EXPECT_EQ(test, READ_ONCE(kq->ring->flags), 0U);

	/* User space reads the level entry: the next report posts both. */
	smp_store_release(&kq->ring->head, 1);
	kevent_test_report(kq, count);
	KUNIT_EXPECT_EQ(test, kq->ring_tail, 4U);
	KUNIT_EXPECT_EQ(test, count->ring_pos, 2U);
	KUNIT_EXPECT_EQ(test, level->ring_pos, 3U);
	KUNIT_EXPECT_FALSE(test, level->state & KEVENT_STATE_DEFERRED);
	KUNIT_EXPECT_TRUE(test, list_empty(&kq->deferred));
	KUNIT_EXPECT_TRUE(test, list_empty(&kq->ready));
	KUNIT_EXPECT_EQ(test, kq->nr_ready, 0U);
	KUNIT_EXPECT_EQ(test, kq->ring->events[3].id, 1ULL);
	KUNIT_EXPECT_EQ(test, kq->ring->events[2].id, 2ULL);
}

/*
 * kevent_recheck_all() polls the due registrations a batch at a time and
 * posts, in list order, each one whose condition holds with what its
 * recheck reported: more registrations than two batches, some of them
 * quiet. One with an unread entry is not due; once head has passed it, it
 * is polled and posted again.
 */
static void kevent_recheck_reports_in_order(struct kunit *test)
{
	enum { NR_LEVEL = 40, NR_HOLD = NR_LEVEL - NR_LEVEL / 3 };
	struct kevent *kev = kevent_test_setup(test, NR_LEVEL + 1);
	struct kevent_queue *kq = kev[0].queue;
	struct ukevent *uk;
	unsigned int i, pos = 0;

	KUNIT_ASSERT_EQ(test, kevent_ring_alloc(kq, 64), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							kevent_test_ring_free,
							kq), 0);
	spin_lock_irq(&kq->lock);
	for (i = 0; i < NR_LEVEL; i++)
		kevent_recheck_link(kq, &kev[i]);
	spin_unlock_irq(&kq->lock);

	kevent_recheck_slow(kq);
	KUNIT_ASSERT_EQ(test, kq->ring_tail, (u32)NR_HOLD);
	for (i = 0; i < NR_LEVEL; i++) {
		if (!(kev[i].id % 3)) {
			KUNIT_EXPECT_EQ(test, kev[i].state, 0U);
			KUNIT_EXPECT_TRUE(test, list_empty(&kev[i].recheck_link));
			continue;
		}
		uk = &kq->ring->events[pos];
		KUNIT_EXPECT_EQ(test, uk->id, kev[i].id);
		KUNIT_EXPECT_EQ(test, uk->event, 1U);
		KUNIT_EXPECT_EQ(test, uk->data[0], kev[i].id);
		KUNIT_EXPECT_EQ(test, uk->data[1], kev[i].id * 10);
		KUNIT_EXPECT_EQ(test, kev[i].ring_pos, pos);
		/* Due again once its entry has been read. */
		KUNIT_EXPECT_EQ(test, kev[i].state, (u32)(KEVENT_STATE_POSTED |
							  KEVENT_STATE_RECHECK));
		pos++;
	}

	/* Every entry is unread: nothing is due. */
	kevent_recheck_slow(kq);
	KUNIT_EXPECT_EQ(test, kq->ring_tail, (u32)NR_HOLD);

	/* User space reads every entry: a store-release, as its own is. */
	smp_store_release(&kq->ring->head, NR_HOLD);
	kevent_recheck_slow(kq);
	KUNIT_EXPECT_EQ(test, kq->ring_tail, (u32)(2 * NR_HOLD));
	KUNIT_EXPECT_EQ(test, kq->ring->events[NR_HOLD].id, 1ULL);
	KUNIT_EXPECT_EQ(test, kq->ring->events[2 * NR_HOLD - 1].id,
			(u64)NR_LEVEL);
}

/*
 * A re-poll request made while an earlier one is unserved is covered by
 * it: it is not counted and wakes nobody, which ends a wake-up cycle
 * through the registration until a harvest serves the request. Once it is
 * served, the next request counts again; a restricted registration's
 * always counts.
 */
static void kevent_recheck_request_covered(struct kunit *test)
{
	struct kevent *kev = kevent_test_setup(test, 2);
	struct kevent_queue *kq = kev[0].queue;

	kevent_request_recheck(&kev[0]);
	kevent_request_recheck(&kev[0]);
	KUNIT_EXPECT_EQ(test, kq->recheck_requests, 1U);
	KUNIT_EXPECT_EQ(test, kev[0].state,
			(u32)(KEVENT_STATE_RECHECK | KEVENT_STATE_WOKEN));
	KUNIT_EXPECT_PTR_EQ(test, kq->recheck.next, &kev[0].recheck_link);

	KUNIT_EXPECT_EQ(test, kevent_recheck_slow(kq), 1U);
	/* Served: its state held, so it is queued. */
	KUNIT_EXPECT_EQ(test, kev[0].state, (u32)KEVENT_STATE_QUEUED);

	kevent_request_recheck(&kev[0]);
	KUNIT_EXPECT_EQ(test, kq->recheck_requests, 2U);
	KUNIT_EXPECT_TRUE(test, kev[0].state & KEVENT_STATE_WOKEN);

	/*
	 * A restricted registration is never covered: whoever took the
	 * earlier wake-up may not have been able to serve it.
	 */
	spin_lock_irq(&kq->lock);
	kev[0].state |= KEVENT_STATE_RESTRICTED;
	spin_unlock_irq(&kq->lock);
	kevent_request_recheck(&kev[0]);
	KUNIT_EXPECT_EQ(test, kq->recheck_requests, 3U);
}

#define KEVENT_TEST_NODES	64

static void kevent_index_sorted_unique(struct kunit *test)
{
	struct kevent_queue *kq = kunit_kzalloc(test, sizeof(*kq), GFP_KERNEL);
	struct kevent *kev = kunit_kcalloc(test, KEVENT_TEST_NODES,
					   sizeof(*kev), GFP_KERNEL);
	struct rb_node *node, *parent, **link;
	u16 prev_type = 0;
	u64 prev_id = 0;
	int i, seen = 0;

	KUNIT_ASSERT_NOT_NULL(test, kq);
	KUNIT_ASSERT_NOT_NULL(test, kev);
	kevent_queue_setup(kq);

	/*
	 * Insert in a scrambled order, alternating types, as kevent_add()
	 * does: a free key finds an empty link, which takes the node.
	 */
	for (i = 0; i < KEVENT_TEST_NODES; i++) {
		kev[i].type = (i & 1) ? KEVENT_TIMER : KEVENT_USER;
		kev[i].id = (i * 37) % KEVENT_TEST_NODES / 2;
		link = kevent_index_find(kq, kev[i].type, kev[i].id, &parent);
		KUNIT_ASSERT_NULL(test, *link);
		kevent_index_link(kq, &kev[i], parent, link);
	}

	/*
	 * A taken key finds the link that holds its node, which is how
	 * kevent_add() finds -EEXIST.
	 */
	for (i = 0; i < KEVENT_TEST_NODES; i++) {
		link = kevent_index_find(kq, kev[i].type, kev[i].id, &parent);
		KUNIT_EXPECT_PTR_EQ(test, *link, &kev[i].node);
		KUNIT_EXPECT_PTR_EQ(test, parent, rb_parent(&kev[i].node));
	}

	for (node = rb_first(&kq->index); node; node = rb_next(node)) {
		struct kevent *cur = rb_entry(node, struct kevent, node);

		if (seen)
			KUNIT_EXPECT_LT(test, kevent_key_cmp(prev_type, prev_id,
							     cur->type, cur->id), 0);
		prev_type = cur->type;
		prev_id = cur->id;
		seen++;
	}
	KUNIT_EXPECT_EQ(test, seen, KEVENT_TEST_NODES);

	for (i = 0; i < KEVENT_TEST_NODES; i++)
		KUNIT_EXPECT_PTR_EQ(test, kevent_lookup(kq, kev[i].type,
							kev[i].id), &kev[i]);
	KUNIT_EXPECT_NULL(test, kevent_lookup(kq, KEVENT_SIGNAL, 0));
	KUNIT_EXPECT_NULL(test, kevent_lookup(kq, KEVENT_TIMER,
					      KEVENT_TEST_NODES));
}

static struct kunit_case kevent_test_cases[] = {
	KUNIT_CASE(kevent_ring_entry_window),
	KUNIT_CASE(kevent_ring_unread_wraps),
	KUNIT_CASE(kevent_ring_bad_head_means_full),
	KUNIT_CASE(kevent_ring_entries_rounding),
	KUNIT_CASE(kevent_ring_layout),
	KUNIT_CASE(kevent_key_order),
	KUNIT_CASE(kevent_index_sorted_unique),
	KUNIT_CASE(kevent_delivered_level_once),
	KUNIT_CASE(kevent_ring_deferred_level),
	KUNIT_CASE(kevent_ring_deferred_edge),
	KUNIT_CASE(kevent_recheck_reports_in_order),
	KUNIT_CASE(kevent_recheck_request_covered),
	{}
};

static struct kunit_suite kevent_test_suite = {
	.name = "kevent",
	.test_cases = kevent_test_cases,
};

kunit_test_suite(kevent_test_suite);

MODULE_DESCRIPTION("KUnit tests for kevent");
MODULE_LICENSE("GPL");
