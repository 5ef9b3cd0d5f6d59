// SPDX-License-Identifier: GPL-2.0
/*
 * KEVENT_SIGNAL: observe mode (count queued signals, normal delivery still
 * happens), consume mode (dequeue one instance per event with its siginfo,
 * as signalfd), RT signal bursts without loss or merging, standard signal
 * coalescing, SIGCHLD status, ordering against other sources, the atomic
 * sigmask of kevent_get_events(), fork, execve() and exit of the registering
 * process, unshare(), invalid ids and REMOVE.
 *
 * Every test runs in its own process (the harness forks), so signal
 * dispositions, masks and the handler counters start fresh.
 */
#include "kevent_test.h"
#include "../kselftest_harness.h"

#include <poll.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define MS	NSEC_PER_MSEC

static volatile sig_atomic_t hits[_NSIG];
static volatile pid_t hit_tid[_NSIG];

/* hit_tid first: a thread that sees the new count also sees its tid. */
static void count_handler(int sig)
{
	hit_tid[sig] = kt_gettid();
	hits[sig]++;
}

static int install_handler(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_handler;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

static int block_sig(int sig)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	return sigprocmask(SIG_BLOCK, &set, NULL);
}

static int unblock_sig(int sig)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	return sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* 1 if sig is pending for this thread or the process, 0 if not, -1 error. */
static int sig_is_pending(int sig)
{
	sigset_t set;

	if (sigpending(&set))
		return -1;
	return sigismember(&set, sig);
}

static int sig_add(int fd, int sig, __u32 flags, __u64 udata)
{
	struct ukevent ch;

	kevent_prep_signal(&ch, sig, flags, udata);
	return kt_ctl1(fd, &ch);
}

static int sig_modify(int fd, int sig, __u32 flags, __u64 udata)
{
	struct ukevent ch;

	kevent_prep_signal(&ch, sig, flags, udata);
	ch.op = KEVENT_CTL_MODIFY;
	return kt_ctl1(fd, &ch);
}

/* 1 if poll() reports the queue @fd readable now, 0 if not, -1 error. */
static int queue_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0);
}

/* Observe-mode fields: everything but the count is zero. */
#define CHECK_OBSERVE(ev, signo, ud, cnt)				\
	do {								\
		const struct ukevent *__e = &(ev);			\
		EXPECT_EQ(KEVENT_SIGNAL, __e->type);			\
		EXPECT_EQ((__u64)(signo), __e->id);			\
		EXPECT_EQ((__u64)(ud), __e->udata);			\
		EXPECT_EQ(0, __e->op);					\
		EXPECT_EQ(0U, __e->flags);				\
		EXPECT_EQ(KEVENT_SIGNAL_DELIVERED, __e->event);		\
		EXPECT_EQ(0U, __e->ret_flags);				\
		EXPECT_EQ((__u64)(cnt), __e->sig.count);		\
		EXPECT_EQ(0U, __e->sig.pid);				\
		EXPECT_EQ(0U, __e->sig.uid);				\
		EXPECT_EQ(0, __e->sig.code);				\
		EXPECT_EQ(0, __e->sig.status);				\
		EXPECT_EQ(0ULL, __e->sig.value);			\
	} while (0)

FIXTURE(sq)
{
	int fd;
	struct ukevent ev[8];
};

FIXTURE_SETUP(sq)
{
	self->fd = kt_queue(0, 0);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(sq)
{
	close(self->fd);
}

/* kill(): counted, the handler still runs, fields as documented. */
TEST_F(sq, sig_observe_kill_counted_handler_runs)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, install_handler(SIGUSR1));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR1, 0, 0x5151));
	ASSERT_EQ(0, kt_poll(self->fd, ev, 8));

	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	/* Unblocked, sent to ourselves: handled before kill() returns. */
	EXPECT_EQ(1, hits[SIGUSR1]);
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 2000));
	CHECK_OBSERVE(ev[0], SIGUSR1, 0x5151, 1);
	/*
	 * The count was consumed by the delivery, and nothing is left to
	 * collect: the queue is not readable (it once was, for a re-poll
	 * that found nothing).
	 */
	EXPECT_EQ(0, queue_readable(self->fd));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));

	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	EXPECT_EQ(3, hits[SIGUSR1]);
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 2000));
	CHECK_OBSERVE(ev[0], SIGUSR1, 0x5151, 2);
}

struct sleeper {
	pid_t tid;
	volatile int stop;
};

static void *sleeper_fn(void *arg)
{
	struct sleeper *s = arg;

	__atomic_store_n(&s->tid, kt_gettid(), __ATOMIC_RELEASE);
	while (!s->stop)
		kt_sleep_ms(1);
	return NULL;
}

/* tgkill() to another thread of the process: counted, that thread handles. */
TEST_F(sq, sig_observe_tgkill_thread_directed)
{
	struct ukevent *ev = self->ev;
	struct sleeper s = { 0, 0 };
	pthread_t th;
	int i;

	ASSERT_EQ(0, install_handler(SIGUSR1));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR1, 0, 7));
	ASSERT_EQ(0, pthread_create(&th, NULL, sleeper_fn, &s));
	while (!__atomic_load_n(&s.tid, __ATOMIC_ACQUIRE))
		kt_sleep_ms(1);

	ASSERT_EQ(0, syscall(SYS_tgkill, getpid(), s.tid, SIGUSR1));
	for (i = 0; i < 2000 && !hits[SIGUSR1]; i++)
		kt_sleep_ms(1);
	EXPECT_EQ(1, hits[SIGUSR1]);
	EXPECT_EQ(s.tid, hit_tid[SIGUSR1]);
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 2000));
	CHECK_OBSERVE(ev[0], SIGUSR1, 7, 1);

	/* Directed at the calling thread as well. */
	ASSERT_EQ(0, syscall(SYS_tgkill, getpid(), kt_gettid(), SIGUSR1));
	EXPECT_EQ(2, hits[SIGUSR1]);
	EXPECT_EQ(kt_gettid(), hit_tid[SIGUSR1]);
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 2000));
	CHECK_OBSERVE(ev[0], SIGUSR1, 7, 1);

	s.stop = 1;
	pthread_join(th, NULL);
}

/* tgkill() to the harvesting thread, consume mode: si_code SI_TKILL. */
TEST_F(sq, sig_consume_tgkill_siginfo)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, install_handler(SIGUSR1));
	ASSERT_EQ(0, block_sig(SIGUSR1));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR1, KEVENT_SIGNAL_CONSUME, 3));
	ASSERT_EQ(0, syscall(SYS_tgkill, getpid(), kt_gettid(), SIGUSR1));
	ASSERT_EQ(1, sig_is_pending(SIGUSR1));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 2000));
	EXPECT_EQ(KEVENT_SIGNAL, ev[0].type);
	EXPECT_EQ((__u64)SIGUSR1, ev[0].id);
	EXPECT_EQ(3ULL, ev[0].udata);
	EXPECT_EQ(KEVENT_SIGNAL_CONSUME, ev[0].flags);
	EXPECT_EQ(KEVENT_SIGNAL_DELIVERED, ev[0].event);
	EXPECT_EQ(1ULL, ev[0].sig.count);
	EXPECT_EQ(SI_TKILL, ev[0].sig.code);
	EXPECT_EQ((__u32)getpid(), ev[0].sig.pid);
	EXPECT_EQ((__u32)getuid(), ev[0].sig.uid);
	EXPECT_EQ(0, sig_is_pending(SIGUSR1));
	ASSERT_EQ(0, unblock_sig(SIGUSR1));
	EXPECT_EQ(0, hits[SIGUSR1]);
}

/* sigqueue(): value, SI_QUEUE, sender pid and uid. */
TEST_F(sq, sig_consume_sigqueue_value_code_pid_uid)
{
	struct ukevent *ev = self->ev;
	union sigval v;

	ASSERT_EQ(0, block_sig(SIGUSR1));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR1, KEVENT_SIGNAL_CONSUME, 11));
	memset(&v, 0, sizeof(v));
	v.sival_ptr = (void *)0x1234abcdUL;
	ASSERT_EQ(0, sigqueue(getpid(), SIGUSR1, v));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 2000));
	EXPECT_EQ(KEVENT_SIGNAL, ev[0].type);
	EXPECT_EQ((__u64)SIGUSR1, ev[0].id);
	EXPECT_EQ(11ULL, ev[0].udata);
	EXPECT_EQ(0, ev[0].op);
	EXPECT_EQ(KEVENT_SIGNAL_CONSUME, ev[0].flags);
	EXPECT_EQ(KEVENT_SIGNAL_DELIVERED, ev[0].event);
	EXPECT_EQ(1ULL, ev[0].sig.count);
	EXPECT_EQ(0x1234abcdULL, ev[0].sig.value);
	EXPECT_EQ(SI_QUEUE, ev[0].sig.code);
	EXPECT_EQ((__u32)getpid(), ev[0].sig.pid);
	EXPECT_EQ((__u32)getuid(), ev[0].sig.uid);
	EXPECT_EQ(0, ev[0].sig.status);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
}

/* Consume takes the signal off the pending set; the handler never runs. */
TEST_F(sq, sig_consume_removes_pending)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, install_handler(SIGUSR1));
	ASSERT_EQ(0, block_sig(SIGUSR1));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR1, KEVENT_SIGNAL_CONSUME, 0));
	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	ASSERT_EQ(1, sig_is_pending(SIGUSR1));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 2000));
	EXPECT_EQ(SI_USER, ev[0].sig.code);
	EXPECT_EQ((__u32)getpid(), ev[0].sig.pid);
	EXPECT_EQ((__u32)getuid(), ev[0].sig.uid);
	EXPECT_EQ(0, sig_is_pending(SIGUSR1));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, unblock_sig(SIGUSR1));
	EXPECT_EQ(0, hits[SIGUSR1]);
}

/*
 * MODIFY from observe to consume with the signal already pending: the
 * next harvest consumes it, as after ADD (it once waited for the next
 * signal).
 */
TEST_F(sq, sig_modify_to_consume_takes_pending)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, block_sig(SIGUSR1));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR1, 0, 1));
	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	ASSERT_EQ(0, sig_modify(self->fd, SIGUSR1, KEVENT_SIGNAL_CONSUME, 2));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(2ULL, ev[0].udata);
	EXPECT_EQ(SI_USER, ev[0].sig.code);
	EXPECT_EQ((__u32)getpid(), ev[0].sig.pid);
	EXPECT_EQ(0, sig_is_pending(SIGUSR1));
}

/*
 * MODIFY from consume to observe before the pending signal was consumed:
 * it stays pending, and the queue is not readable for a consume request
 * the registration no longer has (it once was, until a harvest found
 * nothing).
 */
TEST_F(sq, sig_modify_to_observe_leaves_pending_and_queue_unreadable)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, install_handler(SIGUSR1));
	ASSERT_EQ(0, block_sig(SIGUSR1));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR1, KEVENT_SIGNAL_CONSUME, 1));
	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	EXPECT_EQ(1, queue_readable(self->fd));
	ASSERT_EQ(0, sig_modify(self->fd, SIGUSR1, 0, 2));
	EXPECT_EQ(0, queue_readable(self->fd));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(1, sig_is_pending(SIGUSR1));

	/* Delivered normally once unblocked; observed from now on. */
	ASSERT_EQ(0, unblock_sig(SIGUSR1));
	EXPECT_EQ(1, hits[SIGUSR1]);
	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	EXPECT_EQ(2, hits[SIGUSR1]);
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 2000));
	CHECK_OBSERVE(ev[0], SIGUSR1, 2, 1);
}

/* Observe does not consume: a blocked signal stays pending, then runs. */
TEST_F(sq, sig_observe_does_not_consume)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, install_handler(SIGUSR1));
	ASSERT_EQ(0, block_sig(SIGUSR1));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR1, 0, 0));
	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 2000));
	CHECK_OBSERVE(ev[0], SIGUSR1, 0, 1);
	/* Harvesting again does not dequeue it either. */
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(1, sig_is_pending(SIGUSR1));
	EXPECT_EQ(0, hits[SIGUSR1]);
	ASSERT_EQ(0, unblock_sig(SIGUSR1));
	EXPECT_EQ(1, hits[SIGUSR1]);
	EXPECT_EQ(0, sig_is_pending(SIGUSR1));
	/* Delivery to the handler is not a new queued signal. */
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
}

/* Raise RLIMIT_SIGPENDING to at least n; 0 on success, -1 if impossible. */
static int sigpending_limit_at_least(rlim_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_SIGPENDING, &rl))
		return -1;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < n) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < n)
			rl.rlim_max = n;	/* needs CAP_SYS_RESOURCE */
		rl.rlim_cur = n;
		if (setrlimit(RLIMIT_SIGPENDING, &rl))
			return -1;
	}
	return 0;
}

#define BURST	1000

static int queue_burst(int sig)
{
	union sigval v;
	int i;

	for (i = 0; i < BURST; i++) {
		memset(&v, 0, sizeof(v));
		v.sival_ptr = (void *)(unsigned long)i;
		if (sigqueue(getpid(), sig, v))
			return -1;
	}
	return 0;
}

/* Record a burst event; returns 0 if fine, -1 on a bad or repeated value. */
static int burst_record(const struct ukevent *ev, unsigned char *seen,
			int sig)
{
	if (ev->type != KEVENT_SIGNAL || ev->id != (__u64)sig ||
	    ev->sig.count != 1 || ev->sig.code != SI_QUEUE ||
	    ev->sig.pid != (__u32)getpid() || ev->sig.value >= BURST ||
	    seen[ev->sig.value])
		return -1;
	seen[ev->sig.value] = 1;
	return 0;
}

/* 1000 RT signals on a ring queue: kevent_wait() + drain, none lost. */
TEST(sig_rt_burst_1000_ring_each_once)
{
	static unsigned char seen[BURST];
	struct kevent_ring_map map;
	struct ukevent *ev;
	int fd, n, got = 0, bad = 0, rounds = 0;
	int sig = SIGRTMIN;

	if (sigpending_limit_at_least(BURST + 64))
		SKIP(return, "RLIMIT_SIGPENDING below %d", BURST + 64);
	ASSERT_EQ(0, block_sig(sig));
	fd = kt_queue(1024, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kevent_ring_mmap(fd, 1024, &map));
	ASSERT_EQ(0, sig_add(fd, sig, KEVENT_SIGNAL_CONSUME, 0x77));
	ASSERT_EQ(0, queue_burst(sig));

	while (got < BURST && rounds++ < BURST + 10) {
		n = kt_wait(fd, 1, 2000);
		if (n <= 0)
			break;
		while ((ev = kevent_ring_peek(map.ring))) {
			if (burst_record(ev, seen, sig))
				bad++;
			else
				got++;
			kevent_ring_advance(map.ring, 1);
		}
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(BURST, got) {
		TH_LOG("%d of %d values after %d rounds", got, BURST, rounds);
	}
	EXPECT_EQ(0, sig_is_pending(sig));
	/* Nothing more. */
	EXPECT_EQ(0, kt_wait(fd, 1, 50));
	kevent_ring_munmap(&map);
	close(fd);
}

static int sigqueue_int(int sig, int value)
{
	union sigval v;

	memset(&v, 0, sizeof(v));
	v.sival_int = value;
	return sigqueue(getpid(), sig, v);
}

/* A ring queue with SIGRTMIN blocked, for the consume cases below. */
FIXTURE(rq)
{
	int fd;
	int sig;
	struct kevent_ring_map map;
};

FIXTURE_SETUP(rq)
{
	self->sig = SIGRTMIN;
	ASSERT_EQ(0, block_sig(self->sig));
	self->fd = kt_queue(8, 0);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kevent_ring_mmap(self->fd, 8, &self->map));
}

FIXTURE_TEARDOWN(rq)
{
	kevent_ring_munmap(&self->map);
	close(self->fd);
}

/* Wait for one ring entry and check that it carries signal value @value. */
static void ring_take_sig_value(struct __test_metadata *_metadata, int fd,
				struct kevent_ring *ring, __u64 value)
{
	struct ukevent *ev;

	ASSERT_EQ(1, kt_wait(fd, 1, 2000));
	ev = kevent_ring_peek(ring);
	ASSERT_TRUE(!!ev);
	EXPECT_EQ(value, ev->sig.value);
	kevent_ring_advance(ring, 1);
}

/*
 * Wait for one ring entry, an observe event of @sig counting one signal
 * with cookie @udata, and consume it.
 */
static void ring_take_observed_once(struct __test_metadata *_metadata,
				    int fd, struct kevent_ring *ring, int sig,
				    __u64 udata)
{
	struct ukevent *ev;

	ASSERT_EQ(1, kt_wait(fd, 1, 2000));
	ev = kevent_ring_peek(ring);
	ASSERT_TRUE(!!ev);
	CHECK_OBSERVE(*ev, sig, udata, 1);
	kevent_ring_advance(ring, 1);
}

/*
 * A consume registration with @flags and two instances queued (values 1
 * and 2): a harvest takes the first, and nothing more is reported while
 * the second stays pending in the process.
 */
static void consume_two_take_first(struct __test_metadata *_metadata, int fd,
				   struct kevent_ring *ring, int sig,
				   __u32 flags)
{
	ASSERT_EQ(0, sig_add(fd, sig, KEVENT_SIGNAL_CONSUME | flags, 0));
	ASSERT_EQ(0, sigqueue_int(sig, 1));
	ASSERT_EQ(0, sigqueue_int(sig, 2));
	ring_take_sig_value(_metadata, fd, ring, 1);
	EXPECT_EQ(0, kt_wait(fd, 1, 50));
	EXPECT_EQ(1, sig_is_pending(sig));
}

/*
 * Observe mode on a ring queue: once user space has consumed the entry,
 * the queue is not readable (it once was, for a re-poll that found
 * nothing), and the next signal is the next entry.
 */
TEST_F(rq, sig_observe_ring_consumed_entry_leaves_queue_unreadable)
{
	ASSERT_EQ(0, sig_add(self->fd, self->sig, 0, 0x77));
	ASSERT_EQ(0, sigqueue_int(self->sig, 1));
	ring_take_observed_once(_metadata, self->fd, self->map.ring,
				self->sig, 0x77);
	EXPECT_EQ(0, queue_readable(self->fd));

	ASSERT_EQ(0, sigqueue_int(self->sig, 2));
	EXPECT_EQ(1, queue_readable(self->fd));
	ring_take_observed_once(_metadata, self->fd, self->map.ring,
				self->sig, 0x77);
	EXPECT_EQ(0, queue_readable(self->fd));
}

/*
 * Consume with KEVENT_REQ_ONESHOT on a ring queue: one instance is taken,
 * the other stays pending in the process (it was once dequeued with the
 * registration already gone, and lost).
 */
TEST_F(rq, sig_consume_oneshot_ring_takes_one_instance)
{
	consume_two_take_first(_metadata, self->fd, self->map.ring, self->sig,
			       KEVENT_REQ_ONESHOT);
	/* The registration is gone. */
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_SIGNAL, self->sig,
				 KEVENT_CTL_REMOVE));
}

/*
 * Consume with KEVENT_REQ_DISPATCH on a ring queue: while disabled after
 * its event, the next instance stays pending in the process; ENABLE
 * reports it.
 */
TEST_F(rq, sig_consume_dispatch_ring_leaves_pending_until_enable)
{
	consume_two_take_first(_metadata, self->fd, self->map.ring, self->sig,
			       KEVENT_REQ_DISPATCH);
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_SIGNAL, self->sig,
			   KEVENT_CTL_ENABLE));
	ring_take_sig_value(_metadata, self->fd, self->map.ring, 2);
	EXPECT_EQ(0, sig_is_pending(self->sig));
}

/*
 * A signal to consume is dequeued by a harvest, not where it arrives:
 * KEVENT_RING_REPOLL tells a consumer that only reads the ring that one is
 * due, from ADD (which takes one already pending) and from each arrival
 * until the harvest that serves it.
 */
TEST_F(rq, sig_consume_ring_repoll_flag_until_harvest)
{
	struct kevent_ring *ring = self->map.ring;

	ASSERT_EQ(0, sig_add(self->fd, self->sig, KEVENT_SIGNAL_CONSUME, 0));
	EXPECT_EQ(KEVENT_RING_REPOLL, ring->flags);
	EXPECT_EQ(0, kt_wait(self->fd, 0, 0));
	EXPECT_EQ(0U, ring->flags);

	ASSERT_EQ(0, sigqueue_int(self->sig, 5));
	EXPECT_EQ(KEVENT_RING_REPOLL, ring->flags);
	EXPECT_TRUE(kevent_ring_harvest_due(ring));
	EXPECT_EQ(0U, kevent_ring_count(ring));
	ring_take_sig_value(_metadata, self->fd, ring, 5);
	EXPECT_EQ(0U, ring->flags);
	EXPECT_FALSE(kevent_ring_harvest_due(ring));
	EXPECT_EQ(0, sig_is_pending(self->sig));
}

/* Removing a registration with a re-poll due clears the flag. */
TEST_F(rq, sig_consume_remove_clears_ring_repoll_flag)
{
	struct kevent_ring *ring = self->map.ring;

	ASSERT_EQ(0, sig_add(self->fd, self->sig, KEVENT_SIGNAL_CONSUME, 0));
	EXPECT_EQ(0, kt_wait(self->fd, 0, 0));
	EXPECT_EQ(0U, ring->flags);
	ASSERT_EQ(0, sigqueue_int(self->sig, 7));
	EXPECT_EQ(KEVENT_RING_REPOLL, ring->flags);
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_SIGNAL, self->sig,
			   KEVENT_CTL_REMOVE));
	EXPECT_EQ(0U, ring->flags);
	EXPECT_EQ(0, kt_wait(self->fd, 0, 0));
	EXPECT_EQ(1, sig_is_pending(self->sig));
}

/*
 * A consumer that calls kevent_wait(fd, 0, NULL) only when
 * kevent_ring_harvest_due() says so gets every instance, also the ones
 * left pending in the process while the ring (8 entries) was full: the
 * event that waited for space marks the registration for the harvest
 * that dequeues the next one.
 */
TEST_F(rq, sig_consume_ring_full_harvest_due_until_all_taken)
{
	struct kevent_ring *ring = self->map.ring;
	unsigned int got = 0, calls = 0;
	struct ukevent *ev;
	int i;

	ASSERT_EQ(0, sig_add(self->fd, self->sig, KEVENT_SIGNAL_CONSUME, 0));
	for (i = 1; i <= 10; i++)
		ASSERT_EQ(0, sigqueue_int(self->sig, i));
	while (kevent_ring_harvest_due(ring) && calls++ < 20) {
		ASSERT_LE(0, kt_wait(self->fd, 0, 0));
		while ((ev = kevent_ring_peek(ring)) != NULL) {
			EXPECT_EQ(++got, ev->sig.value);
			kevent_ring_advance(ring, 1);
		}
	}
	EXPECT_EQ(10U, got) TH_LOG("%u system calls", calls);
	EXPECT_EQ(0, sig_is_pending(self->sig));
	EXPECT_EQ(0U, ring->flags);
}

/* The same on a queue without ring: at most one event per call. */
TEST(sig_rt_burst_1000_noring_each_once)
{
	static unsigned char seen[BURST];
	struct ukevent ev[8];
	int fd, n, i, got = 0, bad = 0, calls = 0, multi = 0;
	int sig = SIGRTMIN;

	if (sigpending_limit_at_least(BURST + 64))
		SKIP(return, "RLIMIT_SIGPENDING below %d", BURST + 64);
	ASSERT_EQ(0, block_sig(sig));
	fd = kt_queue(0, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sig_add(fd, sig, KEVENT_SIGNAL_CONSUME, 0x78));
	ASSERT_EQ(0, queue_burst(sig));

	while (got < BURST && calls++ < BURST + 10) {
		n = kt_get(fd, ev, 1, 8, 2000);
		if (n <= 0)
			break;
		if (n > 1)
			multi++;
		for (i = 0; i < n; i++) {
			if (burst_record(&ev[i], seen, sig))
				bad++;
			else
				got++;
		}
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, multi);
	EXPECT_EQ(BURST, got) {
		TH_LOG("%d of %d values after %d calls", got, BURST, calls);
	}
	EXPECT_EQ(0, sig_is_pending(sig));
	EXPECT_EQ(0, kt_poll(fd, ev, 8));
	close(fd);
}

/* A standard signal sent three times while blocked is pending once. */
TEST_F(sq, sig_standard_coalesced_consume_once)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, block_sig(SIGUSR2));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR2, KEVENT_SIGNAL_CONSUME, 2));
	ASSERT_EQ(0, kill(getpid(), SIGUSR2));
	ASSERT_EQ(0, kill(getpid(), SIGUSR2));
	ASSERT_EQ(0, kill(getpid(), SIGUSR2));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 2000));
	EXPECT_EQ((__u64)SIGUSR2, ev[0].id);
	EXPECT_EQ(1ULL, ev[0].sig.count);
	EXPECT_EQ(SI_USER, ev[0].sig.code);
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, 100));
	EXPECT_EQ(0, sig_is_pending(SIGUSR2));
}

/* SIGCHLD from a child's exit carries its pid, CLD_EXITED and status. */
TEST_F(sq, sig_sigchld_child_exit_status)
{
	struct ukevent *ev = self->ev;
	int status;
	pid_t pid;

	ASSERT_TRUE(signal(SIGCHLD, SIG_DFL) != SIG_ERR);
	ASSERT_EQ(0, block_sig(SIGCHLD));
	ASSERT_EQ(0, sig_add(self->fd, SIGCHLD, KEVENT_SIGNAL_CONSUME, 17));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(42);
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 5000));
	EXPECT_EQ((__u64)SIGCHLD, ev[0].id);
	EXPECT_EQ(17ULL, ev[0].udata);
	EXPECT_EQ(1ULL, ev[0].sig.count);
	EXPECT_EQ(CLD_EXITED, ev[0].sig.code);
	EXPECT_EQ(42, ev[0].sig.status);
	EXPECT_EQ((__u32)pid, ev[0].sig.pid);
	EXPECT_EQ((__u32)getuid(), ev[0].sig.uid);
	EXPECT_EQ(0, sig_is_pending(SIGCHLD));
	/* Dequeuing SIGCHLD does not reap the child. */
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(42, WEXITSTATUS(status));
}

/* Unblocked signal with a handler: handler count == event count. */
TEST_F(sq, sig_observe_unblocked_handler_count_equals_events)
{
	struct ukevent *ev = self->ev;
	__u64 total = 0;
	int i, n;

	ASSERT_EQ(0, install_handler(SIGUSR2));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR2, 0, 0));
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, kill(getpid(), SIGUSR2));
	n = kt_get(self->fd, ev, 1, 8, 2000);
	ASSERT_EQ(1, n);
	EXPECT_EQ(5ULL, ev[0].sig.count);
	total += ev[0].sig.count;
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, kill(getpid(), SIGUSR2));
		ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 2000));
		EXPECT_EQ(1ULL, ev[0].sig.count);
		total += ev[0].sig.count;
	}
	EXPECT_EQ(9, hits[SIGUSR2]);
	EXPECT_EQ((__u64)hits[SIGUSR2], total);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
}

/*
 * Blocked, sent three times: merged by the signal code, so queued (and
 * counted) once, and the handler runs once when unblocked. Unblocked
 * again, each one counts.
 */
TEST_F(sq, sig_observe_blocked_then_unblocked_counts)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, install_handler(SIGUSR2));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR2, 0, 0));
	ASSERT_EQ(0, block_sig(SIGUSR2));
	ASSERT_EQ(0, kill(getpid(), SIGUSR2));
	ASSERT_EQ(0, kill(getpid(), SIGUSR2));
	ASSERT_EQ(0, kill(getpid(), SIGUSR2));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 2000));
	EXPECT_EQ(1ULL, ev[0].sig.count);
	EXPECT_EQ(0, hits[SIGUSR2]);
	ASSERT_EQ(0, unblock_sig(SIGUSR2));
	EXPECT_EQ(1, hits[SIGUSR2]);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));

	ASSERT_EQ(0, kill(getpid(), SIGUSR2));
	ASSERT_EQ(0, kill(getpid(), SIGUSR2));
	EXPECT_EQ(3, hits[SIGUSR2]);
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 2000));
	EXPECT_EQ(2ULL, ev[0].sig.count);
}

/* A signal pending before ADD is consumed at the next harvest. */
TEST_F(sq, sig_pending_at_add_consumed_next_harvest)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, block_sig(SIGUSR1));
	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	ASSERT_EQ(1, sig_is_pending(SIGUSR1));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR1, KEVENT_SIGNAL_CONSUME, 4));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ((__u64)SIGUSR1, ev[0].id);
	EXPECT_EQ(4ULL, ev[0].udata);
	EXPECT_EQ(1ULL, ev[0].sig.count);
	EXPECT_EQ(SI_USER, ev[0].sig.code);
	EXPECT_EQ((__u32)getpid(), ev[0].sig.pid);
	EXPECT_EQ(0, sig_is_pending(SIGUSR1));
}

/* Signal, timer, socket, user event made ready in that order: ring order. */
TEST(sig_ring_order_signal_timer_socket_user)
{
	struct kevent_ring_map map;
	struct ukevent ch;
	int fd, sv[2], i;
	char c = 'x';

	ASSERT_EQ(0, install_handler(SIGUSR1));
	fd = kt_queue(16, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kevent_ring_mmap(fd, 16, &map));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_EQ(0, sig_add(fd, SIGUSR1, 0, 1));
	kevent_prep_fd(&ch, KEVENT_SOCKET, sv[0], KEVENT_SOCKET_RECV, 0, 3);
	ASSERT_EQ(0, kt_ctl1(fd, &ch));
	ASSERT_EQ(0, kt_user_add(fd, 4, 0, 4));
	ASSERT_EQ(0U, kevent_ring_count(map.ring));

	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	kt_sleep_ms(10);
	ASSERT_EQ(0, kt_timer_add(fd, 2, 1 * MS, 0, CLOCK_MONOTONIC, 0, 2));
	kt_sleep_ms(30);
	ASSERT_EQ(1, write(sv[1], &c, 1));
	kt_sleep_ms(10);
	ASSERT_EQ(0, kt_trigger(fd, 4, 0));

	ASSERT_EQ(4, kt_wait(fd, 4, 2000));
	for (i = 0; i < 4; i++) {
		struct ukevent *ev = kevent_ring_get(map.ring, i);

		EXPECT_EQ((__u64)(i + 1), ev->udata) {
			TH_LOG("ring[%d]: type %u id %llu udata %llu", i,
			       ev->type, (unsigned long long)ev->id,
			       (unsigned long long)ev->udata);
		}
	}
	EXPECT_EQ(KEVENT_SIGNAL, kevent_ring_get(map.ring, 0)->type);
	EXPECT_EQ(KEVENT_TIMER, kevent_ring_get(map.ring, 1)->type);
	EXPECT_EQ(KEVENT_SOCKET, kevent_ring_get(map.ring, 2)->type);
	EXPECT_EQ(KEVENT_USER, kevent_ring_get(map.ring, 3)->type);
	EXPECT_EQ(1, hits[SIGUSR1]);
	kevent_ring_advance(map.ring, 4);
	kevent_ring_munmap(&map);
	close(sv[0]);
	close(sv[1]);
	close(fd);
}

/*
 * The wait's signal mask is installed atomically: a blocked, pending
 * signal that the mask unblocks interrupts the wait at once.
 */
TEST_F(sq, sig_get_events_sigmask_atomic_eintr)
{
	struct ukevent *ev = self->ev;
	struct __kernel_timespec ts = { 1, 0 };
	struct kevent_wait_args args;
	sigset_t waitmask, now;
	__u64 t0, t1;
	int ret, err;

	ASSERT_EQ(0, install_handler(SIGUSR1));
	ASSERT_EQ(0, block_sig(SIGUSR1));
	ASSERT_EQ(0, raise(SIGUSR1));
	ASSERT_EQ(1, sig_is_pending(SIGUSR1));
	EXPECT_EQ(0, hits[SIGUSR1]);

	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, NULL, &waitmask));
	sigdelset(&waitmask, SIGUSR1);
	kevent_prep_wait_args(&args, &waitmask, 0, CLOCK_MONOTONIC);
	t0 = kt_mono();
	ret = kevent_get_events(self->fd, ev, 1, 8, &ts, &args);
	err = errno;
	t1 = kt_mono();
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINTR, err);
	EXPECT_GT(500 * MS, t1 - t0);
	EXPECT_EQ(1, hits[SIGUSR1]);
	/* The old mask is back. */
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, NULL, &now));
	EXPECT_EQ(1, sigismember(&now, SIGUSR1));
	EXPECT_EQ(0, sig_is_pending(SIGUSR1));
}

/* A child sharing the queue: its own signals are not reported. */
TEST_F(sq, sig_fork_child_signal_not_reported)
{
	struct ukevent *ev = self->ev;
	int status;
	pid_t pid;

	ASSERT_EQ(0, install_handler(SIGUSR1));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR1, 0, 9));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (kill(getpid(), SIGUSR1))
			_exit(2);
		_exit(hits[SIGUSR1] == 1 ? 0 : 3);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, 100));
	EXPECT_EQ(0, hits[SIGUSR1]);

	/* The parent's own signal is. */
	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 2000));
	CHECK_OBSERVE(ev[0], SIGUSR1, 9, 1);
}

/*
 * A child sharing the queue cannot consume the parent's signals, and does
 * not see them as events: the queue is not readable for it, before or
 * after its harvest (it once stayed readable for it until the parent
 * harvested).
 */
TEST_F(sq, sig_fork_child_harvest_does_not_consume)
{
	struct ukevent *ev = self->ev;
	struct __kernel_timespec ts = { 0, 0 };
	int status;
	pid_t pid;

	ASSERT_EQ(0, block_sig(SIGUSR1));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR1, KEVENT_SIGNAL_CONSUME, 9));
	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Not the registering process: must not dequeue or lose it. */
		int n;

		if (queue_readable(self->fd))
			_exit(2);
		n = kevent_get_events(self->fd, ev, 0, 8, &ts, NULL);
		if (n)
			_exit(10 + n);
		_exit(queue_readable(self->fd) ? 3 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(1, sig_is_pending(SIGUSR1));
	EXPECT_EQ(1, queue_readable(self->fd));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ((__u32)getpid(), ev[0].sig.pid);
	EXPECT_EQ(SI_USER, ev[0].sig.code);
	EXPECT_EQ(0, sig_is_pending(SIGUSR1));
}

/*
 * ENABLE from another process, of a consume registration with a signal
 * pending: that process cannot dequeue it, so it wakes the registering
 * process's waiters, one of which does (it once left it for the next
 * harvest without a wake-up, and the waiter slept until its timeout).
 */
TEST_F(sq, sig_fork_child_enable_wakes_registering_waiter)
{
	struct ukevent *ev = self->ev;
	struct kt_waiter w;
	int status;
	pid_t pid;

	ASSERT_EQ(0, block_sig(SIGUSR1));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR1,
			     KEVENT_SIGNAL_CONSUME | KEVENT_REQ_DISPATCH, 9));
	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 2000));
	/* Disabled after its event: the next instance stays pending. */
	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	EXPECT_EQ(1, sig_is_pending(SIGUSR1));

	ASSERT_EQ(0, kt_waiter_start(&w, self->fd, 0, 1, 10000));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(kt_op(self->fd, KEVENT_SIGNAL, SIGUSR1,
			    KEVENT_CTL_ENABLE) ? 2 : 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, pthread_join(w.thread, NULL));
	ASSERT_EQ(1, w.ret);
	/* Woken, not collected by its own harvest after the timeout. */
	EXPECT_GT(10000U, kt_waiter_ms(&w));
	EXPECT_EQ((__u64)SIGUSR1, w.evs[0].id);
	EXPECT_EQ(9ULL, w.evs[0].udata);
	EXPECT_EQ((__u32)getpid(), w.evs[0].sig.pid);
	EXPECT_EQ(SI_USER, w.evs[0].sig.code);
	EXPECT_EQ(0, sig_is_pending(SIGUSR1));
}

/*
 * A registration takes no reference on the signal handler table, so the
 * kernel does not count it as a sharer: unshare(CLONE_SIGHAND) works in
 * this single-threaded process while it exists (it once failed with
 * EINVAL), and the registration goes on reporting.
 */
TEST_F(sq, sig_registration_leaves_unshare_sighand_alone)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, install_handler(SIGUSR1));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR1, 0, 3));
	EXPECT_EQ(0, unshare(CLONE_SIGHAND));
	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 2000));
	CHECK_OBSERVE(ev[0], SIGUSR1, 3, 1);
	EXPECT_EQ(1, hits[SIGUSR1]);
}

/* argv[1] of this program run again by execve() in the test below. */
#define EXEC_CHILD_ARG	"--after-exec"

/*
 * The new image of sig_execve_registrations_keep_reporting: SIGUSR1 and
 * SIGUSR2 are still blocked (the mask survives execve()); the queue @fd
 * holds the old image's registrations, SIGUSR1 observed with cookie 1,
 * SIGUSR2 consumed with cookie 2. Both must report this image's signals.
 * Returns the exit status: 0 if they do, the failed step otherwise.
 */
static int after_exec_child(int fd)
{
	struct ukevent ev[8];
	bool observed = false, consumed = false;
	union sigval v = { .sival_int = 42 };
	int i, n, got = 0;

	if (kill(getpid(), SIGUSR1) || sigqueue(getpid(), SIGUSR2, v))
		return 10;
	while (got < 2) {
		n = kt_get(fd, ev, 1, 8, 2000);
		if (n <= 0)
			return 11 + got;
		for (i = 0; i < n; i++, got++) {
			if (ev[i].udata == 1 && ev[i].id == SIGUSR1 &&
			    ev[i].sig.count == 1)
				observed = true;
			else if (ev[i].udata == 2 && ev[i].id == SIGUSR2 &&
				 ev[i].sig.value == 42 &&
				 ev[i].sig.code == SI_QUEUE &&
				 ev[i].sig.pid == (__u32)getpid())
				consumed = true;
			else
				return 20;
		}
	}
	if (!observed || !consumed)
		return 21;
	/* Consumed: no longer pending. Observed: still pending. */
	if (sig_is_pending(SIGUSR2) != 0 || sig_is_pending(SIGUSR1) != 1)
		return 22;
	return 0;
}

/*
 * A registering process that calls execve() with the queue open keeps its
 * registrations, as a signalfd keeps working: the new image's signals are
 * reported, observed and consumed. (They once stopped: the registration's
 * reference on the signal handler table made execve() replace the table.)
 */
TEST_F(sq, sig_execve_registrations_keep_reporting)
{
	char fdarg[16];
	int status;
	pid_t pid;

	snprintf(fdarg, sizeof(fdarg), "%d", self->fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (block_sig(SIGUSR1) || block_sig(SIGUSR2) ||
		    sig_add(self->fd, SIGUSR1, 0, 1) ||
		    sig_add(self->fd, SIGUSR2, KEVENT_SIGNAL_CONSUME, 2))
			_exit(2);
		execl("/proc/self/exe", "kevent_signal_test", EXEC_CHILD_ARG,
		      fdarg, (char *)NULL);
		_exit(3);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * A consume registration made by a process that then exits with a signal
 * pending and never harvests: its re-poll could only ever be served by
 * that process, so KEVENT_RING_REPOLL clears when the process is reaped
 * and its signal handler table released (it once stayed set for good).
 * The registration stays, inert, until it is removed.
 */
TEST_F(rq, sig_consume_registering_process_exit_clears_repoll_flag)
{
	struct kevent_ring *ring = self->map.ring;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (sig_add(self->fd, self->sig, KEVENT_SIGNAL_CONSUME, 4) ||
		    kt_wait(self->fd, 0, 0) || ring->flags)
			_exit(2);
		if (sigqueue_int(self->sig, 1))
			_exit(3);
		_exit(ring->flags == KEVENT_RING_REPOLL ? 0 : 4);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0U, ring->flags);
	EXPECT_FALSE(kevent_ring_harvest_due(ring));
	EXPECT_EQ(0, kt_wait(self->fd, 0, 0));
	EXPECT_EQ(0U, kevent_ring_count(ring));
	/* Still registered; this process's own signal is not its business. */
	EXPECT_EQ(-EEXIST, sig_add(self->fd, self->sig, 0, 0));
	ASSERT_EQ(0, sigqueue_int(self->sig, 2));
	EXPECT_EQ(0U, ring->flags);
	EXPECT_EQ(0, kt_wait(self->fd, 1, 50));
	EXPECT_EQ(0, kt_op(self->fd, KEVENT_SIGNAL, self->sig,
			   KEVENT_CTL_REMOVE));
	EXPECT_EQ(1, sig_is_pending(self->sig));
}

/*
 * A consumed instance that waits in the kernel (the ring was full) when
 * the registering process exits is still delivered, with its siginfo.
 * Neither its delivery nor a later MODIFY or ENABLE asks for a re-poll
 * that no process could serve.
 */
TEST_F(rq, sig_consume_after_registrant_exit_delivery_rearm_set_no_repoll)
{
	struct kevent_ring *ring = self->map.ring;
	struct ukevent *ev;
	int status, i;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (sig_add(self->fd, self->sig, KEVENT_SIGNAL_CONSUME, 4))
			_exit(2);
		for (i = 0; i < 8; i++)
			if (kt_user_add(self->fd, i, 0, 0) ||
			    kt_trigger(self->fd, i, 1))
				_exit(3);
		if (kevent_ring_count(ring) != 8 || sigqueue_int(self->sig, 7))
			_exit(4);
		/* Dequeued here; waits in the kernel for a free slot. */
		if (kt_wait(self->fd, 0, 0) < 0 ||
		    ring->flags != KEVENT_RING_OVERFLOW ||
		    sig_is_pending(self->sig))
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(KEVENT_RING_OVERFLOW, ring->flags);
	kevent_ring_advance(ring, 8);
	ASSERT_EQ(1, kt_wait(self->fd, 0, 0));
	ev = kevent_ring_peek(ring);
	ASSERT_TRUE(!!ev);
	EXPECT_EQ(KEVENT_SIGNAL, ev->type);
	EXPECT_EQ(4U, ev->udata);
	EXPECT_EQ(7U, ev->sig.value);
	EXPECT_EQ((__u32)pid, ev->sig.pid);
	kevent_ring_advance(ring, 1);
	EXPECT_EQ(0U, ring->flags);
	EXPECT_FALSE(kevent_ring_harvest_due(ring));
	EXPECT_EQ(0, kt_wait(self->fd, 0, 0));
	EXPECT_EQ(0U, ring->flags);
	/* Re-arming it in consume mode asks for nothing either. */
	EXPECT_EQ(0, sig_modify(self->fd, self->sig, KEVENT_SIGNAL_CONSUME, 5));
	EXPECT_EQ(0U, ring->flags);
	EXPECT_EQ(0, kt_op(self->fd, KEVENT_SIGNAL, self->sig,
			   KEVENT_CTL_ENABLE));
	EXPECT_EQ(0U, ring->flags);
	EXPECT_EQ(0, kt_wait(self->fd, 0, 0));
}

#define EXIT_RACE_ROUNDS	300

/*
 * The release of a registering process's signal handler table (POLLFREE)
 * racing with the removal of its registration by another process: REMOVE,
 * a harvest or the close of the queue. SIGCHLD is ignored, so each child
 * is reaped, and its table released, in its own exit, on its own CPU,
 * while this process acts after a varying delay. Every REMOVE finds the
 * registration (a released table leaves it registered), the flag is clear
 * afterwards, and the kernel log stays clean (checked by the host).
 */
TEST(sig_registrant_exit_races_remove_harvest_close)
{
	struct kevent_ring_map map;
	int sig = SIGRTMIN, round, fd = -1;
	struct sigaction sa;
	char byte;
	int sync[2];
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	ASSERT_EQ(0, sigaction(SIGCHLD, &sa, NULL));
	ASSERT_EQ(0, block_sig(sig));
	for (round = 0; round < EXIT_RACE_ROUNDS; round++) {
		bool close_it = round % 3 == 2;

		if (fd < 0) {
			fd = kt_queue(8, 0);
			ASSERT_LE(0, fd);
			ASSERT_EQ(0, kevent_ring_mmap(fd, 8, &map));
		}
		ASSERT_EQ(0, pipe(sync));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			if (sig_add(fd, sig, KEVENT_SIGNAL_CONSUME, round) ||
			    sigqueue_int(sig, round))
				_exit(2);
			_exit(write(sync[1], "x", 1) == 1 ? 0 : 3);
		}
		close(sync[1]);
		ASSERT_EQ(1, read(sync[0], &byte, 1)) {
			TH_LOG("round %d: the child failed to register", round);
		}
		close(sync[0]);
		usleep(round % 7 * 50);
		ASSERT_LE(0, kt_wait(fd, 0, 0));
		if (close_it) {
			kevent_ring_munmap(&map);
			ASSERT_EQ(0, close(fd));
			fd = -1;
		} else {
			ASSERT_EQ(0, kt_op(fd, KEVENT_SIGNAL, sig,
					   KEVENT_CTL_REMOVE)) {
				TH_LOG("round %d", round);
			}
			EXPECT_EQ(0U, map.ring->flags) {
				TH_LOG("round %d", round);
			}
		}
	}
	if (fd >= 0) {
		kevent_ring_munmap(&map);
		close(fd);
	}
	/* Every child is gone (SIGCHLD ignored: nothing to reap). */
	EXPECT_EQ(-1, wait(NULL));
	EXPECT_EQ(ECHILD, errno);
	EXPECT_EQ(0, sig_is_pending(sig));
}

/* 0, 65, SIGKILL, SIGSTOP: EINVAL; 1 and 64 are fine. */
TEST_F(sq, sig_invalid_ids_einval)
{
	static const int bad[] = { 0, 65, SIGKILL, SIGSTOP };
	struct ukevent ch;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, sig_add(self->fd, bad[i], 0, 0)) {
			TH_LOG("signal %d", bad[i]);
		}
		EXPECT_EQ(-EINVAL, sig_add(self->fd, bad[i],
					   KEVENT_SIGNAL_CONSUME, 0)) {
			TH_LOG("signal %d, consume", bad[i]);
		}
	}
	kevent_prep(&ch, KEVENT_SIGNAL, 1ULL << 32 | SIGUSR1, KEVENT_CTL_ADD,
		    0, KEVENT_SIGNAL_DELIVERED, 0);
	EXPECT_EQ(-EINVAL, kt_ctl1(self->fd, &ch));
	/* Non-zero data words and unknown event bits. */
	kevent_prep_signal(&ch, SIGUSR1, 0, 0);
	ch.data[2] = 1;
	EXPECT_EQ(-EINVAL, kt_ctl1(self->fd, &ch));
	kevent_prep_signal(&ch, SIGUSR1, 0, 0);
	ch.event |= 2;
	EXPECT_EQ(-EINVAL, kt_ctl1(self->fd, &ch));
	/* Nothing of that was registered. */
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_SIGNAL, SIGUSR1,
				 KEVENT_CTL_REMOVE));
	/* Edge values that are valid. */
	EXPECT_EQ(0, sig_add(self->fd, 1, 0, 0));
	EXPECT_EQ(0, sig_add(self->fd, 64, 0, 0));
	EXPECT_EQ(-EEXIST, sig_add(self->fd, 64, 0, 0));
}

/* KEVENT_SIGNAL_CONSUME is a signal-only flag. */
TEST_F(sq, sig_consume_flag_on_timer_or_user_einval)
{
	EXPECT_EQ(-EINVAL, kt_timer_add(self->fd, 1, 10 * MS, 0,
					CLOCK_MONOTONIC,
					KEVENT_SIGNAL_CONSUME, 0));
	EXPECT_EQ(-EINVAL, kt_user_add(self->fd, 1, KEVENT_SIGNAL_CONSUME, 0));
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_TIMER, 1,
				 KEVENT_CTL_REMOVE));
}

/* REMOVE drops a pending event and stops reporting. */
TEST_F(sq, sig_remove_stops_reporting)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, install_handler(SIGUSR1));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR1, 0, 0));
	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_SIGNAL, SIGUSR1,
			   KEVENT_CTL_REMOVE));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, 100));
	EXPECT_EQ(2, hits[SIGUSR1]);
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_SIGNAL, SIGUSR1,
				 KEVENT_CTL_REMOVE));
	/* Can be added again and reports again. */
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR1, 0, 5));
	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, 2000));
	CHECK_OBSERVE(ev[0], SIGUSR1, 5, 1);
}

/* REMOVE of a consume registration leaves the signal pending. */
TEST_F(sq, sig_remove_consume_leaves_signal_pending)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, install_handler(SIGUSR1));
	ASSERT_EQ(0, block_sig(SIGUSR1));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR1, KEVENT_SIGNAL_CONSUME, 0));
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_SIGNAL, SIGUSR1,
			   KEVENT_CTL_REMOVE));
	ASSERT_EQ(0, kill(getpid(), SIGUSR1));
	/* Non-blocking harvest: see the next test for the blocking one. */
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(1, sig_is_pending(SIGUSR1));
	ASSERT_EQ(0, unblock_sig(SIGUSR1));
	EXPECT_EQ(1, hits[SIGUSR1]);
}

/*
 * ADD in consume mode asks for a recheck; REMOVE before any harvest must
 * not leave the queue believing a recheck is wanted: a blocking harvest
 * on the now empty queue times out normally.
 */
TEST_F(sq, sig_remove_consume_then_blocking_wait_times_out)
{
	struct ukevent *ev = self->ev;
	__u64 t0, t1;

	ASSERT_EQ(0, block_sig(SIGUSR1));
	ASSERT_EQ(0, sig_add(self->fd, SIGUSR1, KEVENT_SIGNAL_CONSUME, 0));
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_SIGNAL, SIGUSR1,
			   KEVENT_CTL_REMOVE));
	t0 = kt_mono();
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, 100));
	t1 = kt_mono();
	EXPECT_LE(100 * MS, t1 - t0);
	EXPECT_GT(2000 * MS, t1 - t0);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], EXEC_CHILD_ARG))
		return after_exec_child(atoi(argv[2]));
	return test_harness_run(argc, argv);
}
