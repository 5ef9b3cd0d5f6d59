// SPDX-License-Identifier: GPL-2.0
/*
 * Stress, with every event count-checked (nothing lost, nothing twice):
 *  - 100,000 registrations in one queue, harvested with
 *    kevent_get_events() and through a ring that overflows;
 *  - 10,000 sockets in one queue;
 *  - 8 threads hammering kevent_ctl(), kevent_wait(), kevent_get_events()
 *    and the ring for $KEVENT_STRESS_SECS seconds (default 3; 60 in make
 *    check-debug).
 * Each test checks that the memory charged to its memory cgroup is back
 * to its baseline once the queues are closed (when cgroup2 has the memory
 * controller, make check-debug).
 *
 * Prints "# KEVENT-STAT events_checked=N" for the lab's summary: the
 * occurrences (triggers, datagrams) whose delivery was counted exactly.
 */
#include "kevent_test.h"
#include "../kselftest_harness.h"

#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define MAX_USER_REGS	"/proc/sys/fs/kevent/max_user_registrations"
#define CGROOT		"/sys/fs/cgroup"
#define CGDIR		CGROOT "/kevent_stress_test"
#define MEM_SLACK	(1024 * 1024)	/* page-granular, per-CPU caches */

#define NREGS		100000
#define NSOCKS		10000
#define BATCH		1000

/* ------------------------------------------------------------------ */
/* Memory: the memory cgroup this test process runs in                 */
/* ------------------------------------------------------------------ */

/* Move into a cgroup of our own; 0 if memory accounting can be read. */
static int mem_setup(void)
{
	char buf[256], pid[16];

	if (kt_read_file(CGROOT "/cgroup.controllers", buf, sizeof(buf)))
		mount("cgroup2", CGROOT, "cgroup2", 0, NULL);
	if (kt_read_file(CGROOT "/cgroup.controllers", buf, sizeof(buf)) ||
	    !strstr(buf, "memory") ||
	    kt_write_file(CGROOT "/cgroup.subtree_control", "+memory"))
		return -1;
	mkdir(CGDIR, 0755);
	snprintf(pid, sizeof(pid), "%d", getpid());
	return kt_write_file(CGDIR "/cgroup.procs", pid);
}

static long mem_current(void)
{
	char buf[64];

	if (kt_read_file(CGDIR "/memory.current", buf, sizeof(buf)))
		return -1;
	return atol(buf);
}

/* ------------------------------------------------------------------ */

/* Register, trigger and change user events [0, n) in batches. */
static int users_op(int fd, unsigned int n, __u16 op, __u32 flags)
{
	static struct ukevent ch[BATCH];
	unsigned int i, k;
	int ret;

	for (i = 0; i < n; i += k) {
		for (k = 0; k < BATCH && i + k < n; k++) {
			if (op == KEVENT_CTL_TRIGGER) {
				kevent_prep_trigger(&ch[k], i + k, 3ULL * (i + k) + 1);
			} else {
				kevent_prep_user(&ch[k], i + k, flags, i + k);
				ch[k].op = op;
			}
		}
		ret = kevent_ctl(fd, ch, k, 0);
		if (ret)
			return ret < 0 ? -errno : -EPROTO;
	}
	return 0;
}

/* Check one delivered user event against id range and expectations. */
static int check_user_event(const struct ukevent *e, unsigned int n,
			    unsigned char *seen)
{
	if (e->type != KEVENT_USER || e->id >= n || seen[e->id] ||
	    e->event != KEVENT_USER_TRIGGERED || e->data[0] != 1 ||
	    e->data[1] != 3 * e->id + 1 || e->udata != e->id)
		return -1;
	seen[e->id] = 1;
	return 0;
}

FIXTURE(st)
{
	char saved[64];
	int have_saved;
	int memcg;
	long mem_base;
	unsigned long checked;
};

FIXTURE_SETUP(st)
{
	self->have_saved = 0;
	self->checked = 0;
	if (geteuid())
		SKIP(return, "needs root to raise the limits");
	ASSERT_EQ(0, kt_read_file(MAX_USER_REGS, self->saved,
				  sizeof(self->saved)));
	self->have_saved = 1;
	ASSERT_EQ(0, kt_write_file(MAX_USER_REGS, "1000000"));
	self->memcg = !mem_setup();
	if (self->memcg)
		self->mem_base = mem_current();
}

/* Everything is closed by now: the memory must be back. */
FIXTURE_TEARDOWN(st)
{
	long now;
	int i;

	if (self->have_saved)
		EXPECT_EQ(0, kt_write_file(MAX_USER_REGS, self->saved));
	if (self->checked)
		ksft_print_msg("KEVENT-STAT events_checked=%lu\n", self->checked);
	if (!self->memcg)
		return;
	/* Files (sockets) are freed after an RCU grace period: wait some. */
	for (i = 0; i < 50; i++) {
		now = mem_current();
		if (now <= self->mem_base + MEM_SLACK)
			break;
		kt_sleep_ms(100);
	}
	ksft_print_msg("memcg: %ld bytes at start, %ld after close\n",
		       self->mem_base, now);
	EXPECT_GE(self->mem_base + MEM_SLACK, now);
}

/*
 * 100,000 user events in one queue, added by one kevent_ctl() call: each
 * delivered exactly once.
 */
TEST_F_TIMEOUT(st, hundred_thousand_registrations, 900)
{
	struct ukevent *all = calloc(NREGS, sizeof(*all));
	static struct ukevent ev[BATCH];
	unsigned char *seen = calloc(NREGS, 1);
	unsigned int got = 0, rounds = 0;
	int fd, n, i;

	ASSERT_TRUE(seen && all);
	fd = kt_queue(0, 0);
	ASSERT_LE(0, fd);
	for (i = 0; i < NREGS; i++)
		kevent_prep_user(&all[i], i, 0, i);
	ASSERT_EQ(0, kevent_ctl(fd, all, NREGS, 0));
	free(all);
	/* All registered: another ADD of any of them is EEXIST. */
	EXPECT_EQ(-EEXIST, kt_user_add(fd, NREGS / 2, 0, 0));
	ASSERT_EQ(0, users_op(fd, NREGS, KEVENT_CTL_TRIGGER, 0));
	while (got < NREGS && rounds++ < 10 * NREGS / BATCH) {
		n = kt_poll(fd, ev, BATCH);
		ASSERT_LE(0, n);
		for (i = 0; i < n; i++)
			ASSERT_EQ(0, check_user_event(&ev[i], NREGS, seen));
		got += n;
	}
	EXPECT_EQ(NREGS, got);
	EXPECT_EQ(0, kt_poll(fd, ev, BATCH));
	self->checked += got;

	/* Remove every other one: the rest still work, the others are gone. */
	for (i = 0; i < NREGS; i += 2)
		ASSERT_EQ(0, kt_op(fd, KEVENT_USER, i, KEVENT_CTL_REMOVE));
	EXPECT_EQ(-ENOENT, kt_trigger(fd, 0, 0));
	EXPECT_EQ(0, kt_trigger(fd, NREGS - 1, 3 * (NREGS - 1) + 1));
	ASSERT_EQ(1, kt_poll(fd, ev, BATCH));
	EXPECT_EQ((__u64)NREGS - 1, ev[0].id);
	self->checked++;
	/* Closing frees the other 50,000. */
	close(fd);
	free(seen);
}

/* The same through a ring of 4096: 100,000 events overflow it. */
TEST_F_TIMEOUT(st, hundred_thousand_through_overflowing_ring, 900)
{
	unsigned char *seen = calloc(NREGS, 1);
	struct kevent_ring_map map;
	struct ukevent *e;
	unsigned int got = 0, idle = 0;
	int fd, n;

	ASSERT_TRUE(!!seen);
	fd = kt_queue(4096, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kevent_ring_mmap(fd, 4096, &map));
	ASSERT_EQ(0, users_op(fd, NREGS, KEVENT_CTL_ADD, 0));
	ASSERT_EQ(0, users_op(fd, NREGS, KEVENT_CTL_TRIGGER, 0));
	EXPECT_TRUE(kevent_ring_overflowed(map.ring));
	EXPECT_EQ(NREGS - 4096, kevent_ring_overflow_count(map.ring));
	while (got < NREGS && idle < 100) {
		while ((e = kevent_ring_peek(map.ring)) != NULL) {
			ASSERT_EQ(0, check_user_event(e, NREGS, seen));
			kevent_ring_advance(map.ring, 1);
			got++;
		}
		/* Pull in what waits in the kernel. */
		n = kt_wait(fd, 0, 0);
		ASSERT_LE(0, n);
		idle = n ? 0 : idle + 1;
	}
	EXPECT_EQ(NREGS, got);
	EXPECT_FALSE(kevent_ring_overflowed(map.ring));
	EXPECT_EQ(0, kevent_ring_count(map.ring));
	self->checked += got;
	kevent_ring_munmap(&map);
	close(fd);
	free(seen);
}

/* 10,000 sockets in one queue: one event for each, then for some again. */
TEST_F_TIMEOUT(st, ten_thousand_sockets, 900)
{
	static struct ukevent ch[BATCH], ev[BATCH];
	struct rlimit rl = { 2 * NSOCKS, 2 * NSOCKS };
	int *sock = calloc(NSOCKS, sizeof(int));
	int *index = calloc(2 * NSOCKS, sizeof(int));	/* by descriptor */
	unsigned char *seen = calloc(NSOCKS, 1);
	int fd, i, k, n, got, rounds;

	ASSERT_TRUE(sock && index && seen);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	fd = kt_queue(0, 0);
	ASSERT_LE(0, fd);
	for (i = 0; i < 2 * NSOCKS; i++)
		index[i] = -1;
	for (i = 0; i < NSOCKS; i += 2)
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK |
					SOCK_CLOEXEC, 0, &sock[i]));
	for (i = 0; i < NSOCKS; i++)
		index[sock[i]] = i;
	for (i = 0; i < NSOCKS; i += k) {
		for (k = 0; k < BATCH && i + k < NSOCKS; k++)
			kevent_prep_fd(&ch[k], KEVENT_SOCKET, sock[i + k],
				       KEVENT_SOCKET_RECV, KEVENT_REQ_ET, i + k);
		ASSERT_EQ(0, kevent_ctl(fd, ch, k, 0));
	}
	EXPECT_EQ(0, kt_poll(fd, ev, BATCH));

	/* One datagram into each socket, sent by its peer. */
	for (i = 0; i < NSOCKS; i++)
		ASSERT_EQ(1, send(sock[i ^ 1], "d", 1, 0));
	for (got = 0, rounds = 0; got < NSOCKS && rounds < 1000; rounds++) {
		n = kt_get(fd, ev, 1, BATCH, 1000);
		ASSERT_LE(0, n);
		for (k = 0; k < n; k++) {
			ASSERT_GT(2 * NSOCKS, ev[k].id);
			i = index[ev[k].id];
			ASSERT_LE(0, i);
			ASSERT_EQ(0, seen[i]);
			seen[i] = 1;
			ASSERT_EQ((__u64)i, ev[k].udata);
			ASSERT_EQ(KEVENT_SOCKET_RECV, ev[k].event);
			ASSERT_EQ(1ULL, ev[k].data[0]);
		}
		got += n;
	}
	EXPECT_EQ(NSOCKS, got);
	EXPECT_EQ(0, kt_poll(fd, ev, BATCH));
	self->checked += got;

	/* Two more into the first 1000: one edge each, both counted. */
	for (i = 0; i < 1000; i++) {
		ASSERT_EQ(1, send(sock[i ^ 1], "e", 1, 0));
		ASSERT_EQ(1, send(sock[i ^ 1], "f", 1, 0));
	}
	memset(seen, 0, NSOCKS);
	for (got = 0, rounds = 0; got < 1000 && rounds < 1000; rounds++) {
		n = kt_get(fd, ev, 1, BATCH, 1000);
		ASSERT_LE(0, n);
		for (k = 0; k < n; k++) {
			ASSERT_GT(2 * NSOCKS, ev[k].id);
			i = index[ev[k].id];
			ASSERT_TRUE(i >= 0 && i < 1000);
			ASSERT_EQ(0, seen[i]);
			seen[i] = 1;
			ASSERT_EQ(3ULL, ev[k].data[0]);
		}
		got += n;
	}
	EXPECT_EQ(1000, got);
	self->checked += 2 * got;

	/* Closing the sockets removes their registrations. */
	for (i = 0; i < NSOCKS; i++)
		close(sock[i]);
	EXPECT_EQ(0, kt_poll(fd, ev, BATCH));
	EXPECT_EQ(-ENOENT, kt_op(fd, KEVENT_SOCKET, sock[0],
				 KEVENT_CTL_REMOVE));
	EXPECT_EQ(-ENOENT, kt_op(fd, KEVENT_SOCKET, sock[NSOCKS - 1],
				 KEVENT_CTL_REMOVE));
	close(fd);
	free(seen);
	free(index);
	free(sock);
}

/* ------------------------------------------------------------------ */
/* 8 threads: 4 trigger (with DISABLE/ENABLE and timer churn), 2 drain a */
/* ring with kevent_wait(), 2 harvest another queue with               */
/* kevent_get_events(); every trigger must be delivered exactly once.  */
/* ------------------------------------------------------------------ */

#define HM_IDS		64
#define HM_PRODUCERS	4

struct hammer {
	int		q[2];		/* q[0]: ring, q[1]: no ring */
	struct kevent_ring_map map;
	pthread_mutex_t	ring_lock;	/* one ring consumer at a time */
	int		stop_producers;
	int		stop_consumers;
	unsigned long	sent[2][HM_IDS];	/* atomic */
	unsigned long	delivered[2][HM_IDS];	/* atomic */
	unsigned long	entries;	/* events read: atomic */
	int		error;		/* atomic: first bad event */
};

struct hm_thread {
	pthread_t	thread;
	struct hammer	*h;
	unsigned int	index;
	uint64_t	rng;
};

static unsigned int hm_rand(struct hm_thread *t, unsigned int n)
{
	t->rng = t->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned int)(t->rng >> 33) % n;
}

static void hm_account(struct hammer *h, int q, const struct ukevent *e)
{
	__atomic_add_fetch(&h->entries, 1, __ATOMIC_RELAXED);
	if (e->type == KEVENT_TIMER)
		return;	/* churn, not counted */
	if (e->type != KEVENT_USER || e->id >= HM_IDS || !e->data[0]) {
		__atomic_store_n(&h->error, 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_add_fetch(&h->delivered[q][e->id], e->data[0],
			   __ATOMIC_RELAXED);
}

static void *hm_producer(void *arg)
{
	struct hm_thread *t = arg;
	struct hammer *h = t->h;
	struct ukevent ch[16];
	unsigned long it = 0;
	unsigned int k, n;
	int q, ret;

	while (!__atomic_load_n(&h->stop_producers, __ATOMIC_ACQUIRE)) {
		q = (int)(it++ & 1);
		n = 1 + hm_rand(t, 16);
		for (k = 0; k < n; k++)
			kevent_prep_trigger(&ch[k], hm_rand(t, HM_IDS), it);
		ret = kevent_ctl(h->q[q], ch, n, 0);
		for (k = 0; k < n; k++)
			if (!ch[k].result)
				__atomic_add_fetch(&h->sent[q][ch[k].id], 1,
						   __ATOMIC_RELAXED);
		if (ret)
			__atomic_store_n(&h->error, 2, __ATOMIC_RELAXED);
		/* Churn that must not change any count. */
		switch (hm_rand(t, 8)) {
		case 0:
			k = hm_rand(t, HM_IDS);
			kevent_prep_op(&ch[0], KEVENT_USER, k,
				       KEVENT_CTL_DISABLE);
			kevent_prep_op(&ch[1], KEVENT_USER, k,
				       KEVENT_CTL_ENABLE);
			if (kevent_ctl(h->q[q], ch, 2, 0))
				__atomic_store_n(&h->error, 3, __ATOMIC_RELAXED);
			break;
		case 1:
			/* Timers of this thread come and go. */
			k = 1000 + t->index * 16 + hm_rand(t, 16);
			kevent_prep_timer(&ch[0], k, hm_rand(t, 2000000),
					  hm_rand(t, 2) * 1000000,
					  CLOCK_MONOTONIC, 0, 0);
			if (kevent_ctl(h->q[q], ch, 1, 0)) {
				kevent_prep_op(&ch[0], KEVENT_TIMER, k,
					       KEVENT_CTL_REMOVE);
				kevent_ctl(h->q[q], ch, 1, 0);
			}
			break;
		default:
			break;
		}
	}
	return NULL;
}

static void *hm_ring_consumer(void *arg)
{
	struct hm_thread *t = arg;
	struct hammer *h = t->h;
	unsigned int n, k, i;

	while (!__atomic_load_n(&h->stop_consumers, __ATOMIC_ACQUIRE)) {
		if (kt_wait(h->q[0], 1, 10) < 0 && errno != EINTR)
			__atomic_store_n(&h->error, 4, __ATOMIC_RELAXED);
		pthread_mutex_lock(&h->ring_lock);
		n = kevent_ring_count(h->map.ring);
		if (n > h->map.ring->entries)
			__atomic_store_n(&h->error, 6, __ATOMIC_RELAXED);
		/* Part of what is there, freed in one go. */
		k = n ? 1 + hm_rand(t, n) : 0;
		for (i = 0; i < k && i <= h->map.ring->entries; i++)
			hm_account(h, 0, kevent_ring_get(h->map.ring, i));
		kevent_ring_advance(h->map.ring, i);
		pthread_mutex_unlock(&h->ring_lock);
	}
	return NULL;
}

static void *hm_getter(void *arg)
{
	struct hm_thread *t = arg;
	struct hammer *h = t->h;
	struct ukevent ev[32];
	int n, i;

	while (!__atomic_load_n(&h->stop_consumers, __ATOMIC_ACQUIRE)) {
		n = kt_get(h->q[1], ev, 1, 1 + hm_rand(t, 32), 10);
		if (n < 0 && errno != EINTR)
			__atomic_store_n(&h->error, 5, __ATOMIC_RELAXED);
		for (i = 0; i < n; i++)
			hm_account(h, 1, &ev[i]);
	}
	return NULL;
}

static unsigned long hm_total(unsigned long (*c)[HM_IDS])
{
	unsigned long sum = 0;
	int q, i;

	for (q = 0; q < 2; q++)
		for (i = 0; i < HM_IDS; i++)
			sum += __atomic_load_n(&c[q][i], __ATOMIC_RELAXED);
	return sum;
}

TEST_F_TIMEOUT(st, eight_threads_ctl_wait_ring, 900)
{
	static struct hammer h;
	struct hm_thread th[8];
	const char *env = getenv("KEVENT_STRESS_SECS");
	unsigned int secs = env ? (unsigned int)atoi(env) : 3;
	unsigned long sent, delivered, last = 0;
	int i, q, idle = 0;

	memset(&h, 0, sizeof(h));
	pthread_mutex_init(&h.ring_lock, NULL);
	h.q[0] = kt_queue(256, 0);
	h.q[1] = kt_queue(0, 0);
	ASSERT_LE(0, h.q[0]);
	ASSERT_LE(0, h.q[1]);
	ASSERT_EQ(0, kevent_ring_mmap(h.q[0], 256, &h.map));
	for (q = 0; q < 2; q++)
		for (i = 0; i < HM_IDS; i++)
			ASSERT_EQ(0, kt_user_add(h.q[q], i,
						 i % 3 ? 0 : KEVENT_REQ_ET, i));

	for (i = 0; i < 8; i++) {
		th[i].h = &h;
		th[i].index = i;
		th[i].rng = 0x1234567ULL * (i + 1);
		ASSERT_EQ(0, pthread_create(&th[i].thread, NULL,
					    i < HM_PRODUCERS ? hm_producer :
					    i < 6 ? hm_ring_consumer : hm_getter,
					    &th[i]));
	}
	ksft_print_msg("hammering for %u s\n", secs);
	kt_sleep_ms(secs * 1000);
	__atomic_store_n(&h.stop_producers, 1, __ATOMIC_RELEASE);
	for (i = 0; i < HM_PRODUCERS; i++)
		pthread_join(th[i].thread, NULL);

	/* Drain: stop once all is delivered, or nothing moves for 10 s. */
	sent = hm_total(h.sent);
	while ((delivered = hm_total(h.delivered)) < sent && idle < 100) {
		idle = delivered == last ? idle + 1 : 0;
		last = delivered;
		kt_sleep_ms(100);
	}
	/* Let a duplicate show up, if there were one. */
	kt_sleep_ms(100);
	__atomic_store_n(&h.stop_consumers, 1, __ATOMIC_RELEASE);
	for (i = HM_PRODUCERS; i < 8; i++)
		pthread_join(th[i].thread, NULL);

	delivered = hm_total(h.delivered);
	ksft_print_msg("%lu triggers, %lu delivered in %lu events, ring overflowed %u times\n",
		       sent, delivered, h.entries,
		       kevent_ring_overflow_count(h.map.ring));
	EXPECT_EQ(0, h.error);
	for (q = 0; q < 2; q++)
		for (i = 0; i < HM_IDS; i++)
			EXPECT_EQ(h.sent[q][i], h.delivered[q][i]);
	EXPECT_LT(0, sent);
	self->checked += delivered;

	kevent_ring_munmap(&h.map);
	close(h.q[0]);
	close(h.q[1]);
}

TEST_HARNESS_MAIN
