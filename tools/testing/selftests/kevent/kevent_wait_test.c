// SPDX-License-Identifier: GPL-2.0
/*
 * kevent_get_events() and kevent_wait(): argument checks, timeouts,
 * min_nr, the atomic signal mask, wake-one versus wake-all, nesting in
 * poll/epoll/select, fork, exec with CLOEXEC and close while waiting.
 */
#include "kevent_test.h"
#include "../kselftest_harness.h"

#include <limits.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/wait.h>

#define MS	NSEC_PER_MSEC
#define EXEC_ENV "KEVENT_TEST_EXEC_FD"

/*
 * Re-executed by fork_exec_cloexec_closes_queue: report whether the fd
 * named in the environment is still open (exit 0: closed, 1: open).
 */
static void __attribute__((constructor)) exec_check(void)
{
	const char *s = getenv(EXEC_ENV);

	if (!s)
		return;
	_exit(fcntl(atoi(s), F_GETFD) < 0 && errno == EBADF ? 0 : 1);
}

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

/* Argument checks */

TEST_F(q, get_events_bad_fd_ebadf)
{
	EXPECT_EQ(-1, kt_get(-1, self->ev, 0, 8, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, kt_get(INT_MAX, self->ev, 0, 8, 0));
	EXPECT_EQ(EBADF, errno);
}

TEST_F(q, get_events_not_kevent_fd_einval)
{
	int p[2];

	ASSERT_EQ(0, pipe(p));
	EXPECT_EQ(-1, kt_get(p[0], self->ev, 0, 8, 0));
	EXPECT_EQ(EINVAL, errno);
	close(p[0]);
	close(p[1]);
}

TEST_F(q, get_events_bad_counts_einval)
{
	/* max_nr 0 */
	EXPECT_EQ(-1, kt_get(self->fd, self->ev, 0, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	/* min_nr > max_nr */
	EXPECT_EQ(-1, kt_get(self->fd, self->ev, 3, 2, 0));
	EXPECT_EQ(EINVAL, errno);
	/* max_nr > INT_MAX / sizeof(struct ukevent) */
	EXPECT_EQ(-1, kt_get(self->fd, self->ev, 0, INT_MAX / 64 + 1, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, kt_get(self->fd, self->ev, 0, 0xffffffffU, 0));
	EXPECT_EQ(EINVAL, errno);
	/* Limits themselves are fine. */
	EXPECT_EQ(0, kt_get(self->fd, self->ev, 8, 8, 0));
}

TEST_F(q, get_events_bad_timespec_einval)
{
	struct __kernel_timespec ts;

	ts.tv_sec = 0;
	ts.tv_nsec = 1000000000LL;
	EXPECT_EQ(-1, kevent_get_events(self->fd, self->ev, 1, 8, &ts, NULL));
	EXPECT_EQ(EINVAL, errno);
	ts.tv_nsec = -1;
	EXPECT_EQ(-1, kevent_get_events(self->fd, self->ev, 1, 8, &ts, NULL));
	EXPECT_EQ(EINVAL, errno);
	ts.tv_sec = -1;
	ts.tv_nsec = 0;
	EXPECT_EQ(-1, kevent_get_events(self->fd, self->ev, 1, 8, &ts, NULL));
	EXPECT_EQ(EINVAL, errno);
	ts.tv_sec = 0;
	ts.tv_nsec = 999999999LL;
	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 0));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	EXPECT_EQ(1, kevent_get_events(self->fd, self->ev, 1, 8, &ts, NULL));
}

TEST_F(q, get_events_bad_wait_args_einval)
{
	struct __kernel_timespec ts = { 0, 0 };
	struct kevent_wait_args wa;
	sigset_t ss;
	int rfd;

	sigemptyset(&ss);
	kevent_prep_wait_args(&wa, NULL, 0, CLOCK_MONOTONIC);
	EXPECT_EQ(0, kevent_get_events(self->fd, self->ev, 1, 8, &ts, &wa));

	kevent_prep_wait_args(&wa, NULL, 2, CLOCK_MONOTONIC);
	EXPECT_EQ(-1, kevent_get_events(self->fd, self->ev, 1, 8, &ts, &wa));
	EXPECT_EQ(EINVAL, errno);
	kevent_prep_wait_args(&wa, NULL, 1U << 31, CLOCK_MONOTONIC);
	EXPECT_EQ(-1, kevent_get_events(self->fd, self->ev, 1, 8, &ts, &wa));
	EXPECT_EQ(EINVAL, errno);

	kevent_prep_wait_args(&wa, NULL, 0, CLOCK_MONOTONIC);
	wa.__reserved = 1;
	EXPECT_EQ(-1, kevent_get_events(self->fd, self->ev, 1, 8, &ts, &wa));
	EXPECT_EQ(EINVAL, errno);

	kevent_prep_wait_args(&wa, NULL, 0, CLOCK_PROCESS_CPUTIME_ID);
	EXPECT_EQ(-1, kevent_get_events(self->fd, self->ev, 1, 8, &ts, &wa));
	EXPECT_EQ(EINVAL, errno);
	kevent_prep_wait_args(&wa, NULL, KEVENT_WAIT_ABSTIME, 1000);
	EXPECT_EQ(-1, kevent_get_events(self->fd, self->ev, 1, 8, &ts, &wa));
	EXPECT_EQ(EINVAL, errno);

	kevent_prep_wait_args(&wa, &ss, 0, CLOCK_MONOTONIC);
	wa.sigsetsize = 16;
	EXPECT_EQ(-1, kevent_get_events(self->fd, self->ev, 1, 8, &ts, &wa));
	EXPECT_EQ(EINVAL, errno);
	wa.sigsetsize = 4;
	EXPECT_EQ(-1, kevent_get_events(self->fd, self->ev, 1, 8, &ts, &wa));
	EXPECT_EQ(EINVAL, errno);

	/* The same checks apply to kevent_wait (ring queue). */
	rfd = kt_queue(4, 0);
	ASSERT_LE(0, rfd);
	EXPECT_EQ(-1, kevent_wait(rfd, 1, &ts, &wa));
	EXPECT_EQ(EINVAL, errno);
	kevent_prep_wait_args(&wa, NULL, 4, CLOCK_MONOTONIC);
	EXPECT_EQ(-1, kevent_wait(rfd, 1, &ts, &wa));
	EXPECT_EQ(EINVAL, errno);
	ts.tv_nsec = -5;
	EXPECT_EQ(-1, kevent_wait(rfd, 1, &ts, NULL));
	EXPECT_EQ(EINVAL, errno);
	close(rfd);
}

TEST_F(q, get_events_unmapped_pointers_efault)
{
	struct __kernel_timespec ts = { 0, 0 };
	struct kevent_wait_args wa;
	void *bad = kt_unmapped();
	int rfd;

	EXPECT_EQ(-1, kevent_get_events(self->fd, self->ev, 1, 8, bad, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, kevent_get_events(self->fd, self->ev, 1, 8, &ts, bad));
	EXPECT_EQ(EFAULT, errno);
	kevent_prep_wait_args(&wa, NULL, 0, CLOCK_MONOTONIC);
	wa.sigmask = (__u64)(unsigned long)bad;
	wa.sigsetsize = KEVENT_SIGSET_SIZE;
	EXPECT_EQ(-1, kevent_get_events(self->fd, self->ev, 1, 8, &ts, &wa));
	EXPECT_EQ(EFAULT, errno);
	/* Output buffer: with an event ready to be copied. */
	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 0));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	EXPECT_EQ(-1, kevent_get_events(self->fd, bad, 1, 8, &ts, NULL));
	EXPECT_EQ(EFAULT, errno);

	rfd = kt_queue(4, 0);
	ASSERT_LE(0, rfd);
	bad = kt_unmapped();
	EXPECT_EQ(-1, kevent_wait(rfd, 1, bad, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, kevent_wait(rfd, 1, &ts, bad));
	EXPECT_EQ(EFAULT, errno);
	close(rfd);
}

/* Timeouts */

TEST_F(q, get_events_zero_timeout_polls)
{
	struct __kernel_timespec ts = { 0, 0 };
	__u64 t0 = kt_mono();

	EXPECT_EQ(0, kevent_get_events(self->fd, self->ev, 1, 8, &ts, NULL));
	EXPECT_EQ(0, kevent_get_events(self->fd, self->ev, 8, 8, &ts, NULL));
	EXPECT_GT(200 * MS, kt_mono() - t0);
}

TEST_F(q, get_events_min_nr_zero_never_waits)
{
	__u64 t0 = kt_mono();

	/* Infinite timeout, but min_nr 0. */
	EXPECT_EQ(0, kevent_get_events(self->fd, self->ev, 0, 8, NULL, NULL));
	EXPECT_GT(200 * MS, kt_mono() - t0);
	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 0));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	EXPECT_EQ(1, kevent_get_events(self->fd, self->ev, 0, 8, NULL, NULL));
}

TEST_F(q, get_events_relative_timeout_not_early)
{
	__u64 t0 = kt_mono(), dt;

	EXPECT_EQ(0, kt_get(self->fd, self->ev, 1, 8, 60));
	dt = kt_mono() - t0;
	EXPECT_LE(60 * MS, dt);
	EXPECT_GT(3000 * MS, dt);
}

static void abs_timeout_on(struct __test_metadata *_metadata, int fd,
			   struct ukevent *ev, clockid_t clk)
{
	struct __kernel_timespec ts;
	struct kevent_wait_args wa;
	__u64 target, now;

	kevent_prep_wait_args(&wa, NULL, KEVENT_WAIT_ABSTIME, clk);
	target = kt_now(clk) + 50 * MS;
	kevent_ts_from_ns(&ts, target);
	EXPECT_EQ(0, kevent_get_events(fd, ev, 1, 8, &ts, &wa));
	now = kt_now(clk);
	EXPECT_LE(target, now);
	EXPECT_GT(target + 3000 * MS, now);
	/* An absolute time in the past returns at once. */
	kevent_ts_from_ns(&ts, target - 1000 * MS);
	EXPECT_EQ(0, kevent_get_events(fd, ev, 1, 8, &ts, &wa));
	EXPECT_GT(now + 500 * MS, kt_now(clk));
}

TEST_F(q, get_events_absolute_timeout_monotonic)
{
	abs_timeout_on(_metadata, self->fd, self->ev, CLOCK_MONOTONIC);
}

TEST_F(q, get_events_absolute_timeout_realtime_boottime)
{
	abs_timeout_on(_metadata, self->fd, self->ev, CLOCK_REALTIME);
	abs_timeout_on(_metadata, self->fd, self->ev, CLOCK_BOOTTIME);
}

/* Relative timeout measured on another clock with args->clockid. */
TEST_F(q, get_events_relative_timeout_on_boottime)
{
	struct __kernel_timespec ts;
	struct kevent_wait_args wa;
	__u64 t0 = kt_now(CLOCK_BOOTTIME);

	kevent_prep_wait_args(&wa, NULL, 0, CLOCK_BOOTTIME);
	kevent_ts_from_ns(&ts, 40 * MS);
	EXPECT_EQ(0, kevent_get_events(self->fd, self->ev, 1, 8, &ts, &wa));
	EXPECT_LE(t0 + 40 * MS, kt_now(CLOCK_BOOTTIME));
}

/* min_nr */

struct trig_arg {
	int fd;
	unsigned int n;
	unsigned int gap_ms;
	__u64 t_last;
};

static void *trigger_spaced(void *p)
{
	struct trig_arg *a = p;
	unsigned int i;

	for (i = 0; i < a->n; i++) {
		kt_sleep_ms(a->gap_ms);
		a->t_last = kt_mono();
		kt_trigger(a->fd, i, i);
	}
	return NULL;
}

TEST_F(q, get_events_waits_for_min_nr)
{
	struct trig_arg a = { .fd = self->fd, .n = 3, .gap_ms = 30 };
	pthread_t t;
	__u64 t_ret;
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, kt_user_add(self->fd, i, 0, 0));
	ASSERT_EQ(0, pthread_create(&t, NULL, trigger_spaced, &a));
	ASSERT_EQ(3, kt_get(self->fd, self->ev, 3, 8, 5000));
	t_ret = kt_mono();
	pthread_join(t, NULL);
	/* Did not return before the third trigger. */
	EXPECT_LE(a.t_last, t_ret);
	for (i = 0; i < 3; i++)
		EXPECT_EQ((__u64)i, self->ev[i].id);
}

TEST_F(q, kevent_wait_waits_for_min_nr)
{
	struct trig_arg a = { .n = 3, .gap_ms = 30 };
	pthread_t t;
	__u64 t_ret;
	int fd = kt_queue(8, 0), i;

	ASSERT_LE(0, fd);
	a.fd = fd;
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, kt_user_add(fd, i, 0, 0));
	ASSERT_EQ(0, pthread_create(&t, NULL, trigger_spaced, &a));
	ASSERT_EQ(3, kt_wait(fd, 3, 5000));
	t_ret = kt_mono();
	pthread_join(t, NULL);
	EXPECT_LE(a.t_last, t_ret);
	close(fd);
}

/* On timeout fewer than min_nr events may be returned. */
TEST_F(q, get_events_timeout_returns_fewer_than_min_nr)
{
	__u64 t0;

	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 0));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	t0 = kt_mono();
	EXPECT_EQ(1, kt_get(self->fd, self->ev, 3, 8, 50));
	EXPECT_LE(t0 + 50 * MS, kt_mono());
	EXPECT_EQ(1ULL, self->ev[0].id);
}

/* Signals */

/* Written by the handler: atomics, so no volatile is needed. */
static int got_usr1;

static void usr1_handler(int sig)
{
	__atomic_fetch_add(&got_usr1, 1, __ATOMIC_SEQ_CST);
}

static int install_usr1(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = usr1_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART */
	__atomic_store_n(&got_usr1, 0, __ATOMIC_SEQ_CST);
	return sigaction(SIGUSR1, &sa, NULL);
}

/* A pending blocked signal unblocked by args->sigmask: EINTR at once. */
TEST_F(q, get_events_sigmask_unblocks_pending_eintr)
{
	struct __kernel_timespec ts;
	struct kevent_wait_args wa;
	sigset_t block, wait_mask, cur;
	__u64 t0;

	ASSERT_EQ(0, install_usr1());
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &block, NULL));
	ASSERT_EQ(0, raise(SIGUSR1));
	EXPECT_EQ(0, __atomic_load_n(&got_usr1, __ATOMIC_SEQ_CST));

	sigemptyset(&wait_mask);
	kevent_prep_wait_args(&wa, &wait_mask, 0, CLOCK_MONOTONIC);
	kevent_ts_from_ns(&ts, 2000 * MS);
	t0 = kt_mono();
	EXPECT_EQ(-1, kevent_get_events(self->fd, self->ev, 1, 8, &ts, &wa));
	EXPECT_EQ(EINTR, errno);
	EXPECT_GT(1000 * MS, kt_mono() - t0);
	EXPECT_EQ(1, __atomic_load_n(&got_usr1, __ATOMIC_SEQ_CST));
	/* The original mask is restored. */
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, NULL, &cur));
	EXPECT_EQ(1, sigismember(&cur, SIGUSR1));
}

/* The same through kevent_wait on a ring queue. */
TEST_F(q, kevent_wait_sigmask_unblocks_pending_eintr)
{
	struct __kernel_timespec ts;
	struct kevent_wait_args wa;
	sigset_t block, wait_mask;
	int fd = kt_queue(4, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, install_usr1());
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &block, NULL));
	ASSERT_EQ(0, raise(SIGUSR1));
	sigemptyset(&wait_mask);
	kevent_prep_wait_args(&wa, &wait_mask, 0, CLOCK_MONOTONIC);
	kevent_ts_from_ns(&ts, 2000 * MS);
	EXPECT_EQ(-1, kevent_wait(fd, 1, &ts, &wa));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(1, __atomic_load_n(&got_usr1, __ATOMIC_SEQ_CST));
	close(fd);
}

struct kill_arg {
	pthread_t target;
	pid_t tid;
	unsigned int delay_ms;
};

static void *kill_later(void *p)
{
	struct kill_arg *a = p;

	kt_wait_sleeping(a->tid, 2000);
	kt_sleep_ms(a->delay_ms);
	pthread_kill(a->target, SIGUSR1);
	return NULL;
}

/* args->sigmask blocks a signal for the duration of the wait only. */
TEST_F(q, get_events_sigmask_blocks_during_wait)
{
	struct kill_arg a = { .delay_ms = 10 };
	struct __kernel_timespec ts;
	struct kevent_wait_args wa;
	sigset_t wait_mask;
	pthread_t t;
	__u64 t0;

	ASSERT_EQ(0, install_usr1());
	sigemptyset(&wait_mask);
	sigaddset(&wait_mask, SIGUSR1);
	kevent_prep_wait_args(&wa, &wait_mask, 0, CLOCK_MONOTONIC);
	kevent_ts_from_ns(&ts, 150 * MS);
	a.target = pthread_self();
	a.tid = kt_gettid();
	ASSERT_EQ(0, pthread_create(&t, NULL, kill_later, &a));
	t0 = kt_mono();
	/* Not interrupted: times out. */
	EXPECT_EQ(0, kevent_get_events(self->fd, self->ev, 1, 8, &ts, &wa));
	EXPECT_LE(t0 + 150 * MS, kt_mono());
	pthread_join(t, NULL);
	/* Delivered once the normal (unblocked) mask is back. */
	EXPECT_EQ(1, __atomic_load_n(&got_usr1, __ATOMIC_SEQ_CST));
}

TEST_F(q, get_events_signal_interrupts_eintr)
{
	struct kill_arg a = { .delay_ms = 10 };
	pthread_t t;
	__u64 t0;

	ASSERT_EQ(0, install_usr1());
	a.target = pthread_self();
	a.tid = kt_gettid();
	ASSERT_EQ(0, pthread_create(&t, NULL, kill_later, &a));
	t0 = kt_mono();
	EXPECT_EQ(-1, kt_get(self->fd, self->ev, 1, 8, 3000));
	EXPECT_EQ(EINTR, errno);
	EXPECT_GT(2000 * MS, kt_mono() - t0);
	pthread_join(t, NULL);
	EXPECT_EQ(1, __atomic_load_n(&got_usr1, __ATOMIC_SEQ_CST));
}

/* Wake-up policy */

#define NWAITERS 4

/*
 * One user event, NWAITERS threads in kevent_get_events(min 1, 600 ms):
 * exactly one gets it, early; the others time out with 0.
 */
TEST_F(q, wake_one_get_events_single_event_one_thread)
{
	struct kt_waiter w[NWAITERS];
	int i, winners = 0, early = 0;

	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 0));
	for (i = 0; i < NWAITERS; i++)
		ASSERT_EQ(0, kt_waiter_start(&w[i], self->fd, 0, 1, 600));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	for (i = 0; i < NWAITERS; i++) {
		pthread_join(w[i].thread, NULL);
		ASSERT_LE(0, w[i].ret);
		if (w[i].ret == 1) {
			winners++;
			EXPECT_EQ(1ULL, w[i].evs[0].id);
		}
		if (kt_waiter_ms(&w[i]) < 300)
			early++;
	}
	EXPECT_EQ(1, winners);
	EXPECT_EQ(1, early);
}

/*
 * As many events as waiters, in one kevent_ctl: each waiter (max_nr 1)
 * is woken and gets exactly one; no wake-up is lost.
 */
TEST_F(q, wake_one_per_event_no_lost_wakeup)
{
	struct kt_waiter w[NWAITERS];
	struct ukevent ch[NWAITERS];
	unsigned int seen = 0;
	int i;

	for (i = 0; i < NWAITERS; i++)
		ASSERT_EQ(0, kt_user_add(self->fd, i, 0, 0));
	for (i = 0; i < NWAITERS; i++)
		ASSERT_EQ(0, kt_waiter_start(&w[i], self->fd, 0, 1, 2000));
	for (i = 0; i < NWAITERS; i++)
		kevent_prep_trigger(&ch[i], i, 0);
	ASSERT_EQ(0, kevent_ctl(self->fd, ch, NWAITERS, 0));
	for (i = 0; i < NWAITERS; i++) {
		pthread_join(w[i].thread, NULL);
		ASSERT_EQ(1, w[i].ret);
		ASSERT_GT((__u64)NWAITERS, w[i].evs[0].id);
		EXPECT_EQ(0U, seen & (1U << w[i].evs[0].id));
		seen |= 1U << w[i].evs[0].id;
		EXPECT_GT(1000U, kt_waiter_ms(&w[i]));
	}
	EXPECT_EQ((1U << NWAITERS) - 1, seen);
}

/*
 * kevent_wait on a ring: the entry stays in the ring, so every woken
 * waiter returns at once. Without WAKEUP_ALL exactly one is woken (the
 * others return at their timeout); with it all return early.
 */
static void ring_wake(struct __test_metadata *_metadata, __u32 flags,
		      int expect_early)
{
	struct kt_waiter w[NWAITERS];
	int i, early = 0, fd = kt_queue(8, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_user_add(fd, 1, flags, 0));
	for (i = 0; i < NWAITERS; i++)
		ASSERT_EQ(0, kt_waiter_start(&w[i], fd, 1, 1, 600));
	ASSERT_EQ(0, kt_trigger(fd, 1, 0));
	for (i = 0; i < NWAITERS; i++) {
		pthread_join(w[i].thread, NULL);
		EXPECT_EQ(1, w[i].ret);
		if (kt_waiter_ms(&w[i]) < 300)
			early++;
	}
	EXPECT_EQ(expect_early, early);
	close(fd);
}

TEST(wake_one_kevent_wait_one_thread_woken)
{
	ring_wake(_metadata, 0, 1);
}

TEST(wake_all_kevent_wait_all_threads_woken)
{
	ring_wake(_metadata, KEVENT_REQ_WAKEUP_ALL, NWAITERS);
}

/*
 * WAKEUP_ALL with kevent_get_events: all waiters are woken, exactly one
 * gets the event, none gets it twice.
 */
TEST_F(q, wake_all_get_events_event_delivered_once)
{
	struct kt_waiter w[NWAITERS];
	int i, winners = 0;

	ASSERT_EQ(0, kt_user_add(self->fd, 1, KEVENT_REQ_WAKEUP_ALL, 0));
	for (i = 0; i < NWAITERS; i++)
		ASSERT_EQ(0, kt_waiter_start(&w[i], self->fd, 0, 1, 400));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	for (i = 0; i < NWAITERS; i++) {
		pthread_join(w[i].thread, NULL);
		ASSERT_LE(0, w[i].ret);
		winners += w[i].ret;
	}
	EXPECT_EQ(1, winners);
}

/* Nesting */

TEST_F(q, poll_pollin_only_when_ready)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };

	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 0));
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	pfd.revents = 0;
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents & (POLLIN | POLLERR | POLLHUP));
	pfd.events = POLLRDNORM;
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLRDNORM, pfd.revents & POLLRDNORM);
	ASSERT_EQ(1, kt_poll(self->fd, self->ev, 8));
	pfd.events = POLLIN;
	EXPECT_EQ(0, poll(&pfd, 1, 0));
}

static void *trigger_after_50ms(void *p)
{
	int fd = *(int *)p;

	kt_sleep_ms(50);
	kt_trigger(fd, 1, 0);
	return NULL;
}

TEST_F(q, poll_blocking_woken_by_trigger)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	pthread_t t;
	__u64 t0;

	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 0));
	t0 = kt_mono();
	ASSERT_EQ(0, pthread_create(&t, NULL, trigger_after_50ms, &self->fd));
	EXPECT_EQ(1, poll(&pfd, 1, 3000));
	EXPECT_EQ(POLLIN, pfd.revents);
	EXPECT_LE(t0 + 40 * MS, kt_mono());
	EXPECT_GT(t0 + 2000 * MS, kt_mono());
	pthread_join(t, NULL);
}

TEST_F(q, select_readable_when_ready)
{
	struct timeval tv = { 0, 0 };
	fd_set rfds;

	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 0));
	FD_ZERO(&rfds);
	FD_SET(self->fd, &rfds);
	EXPECT_EQ(0, select(self->fd + 1, &rfds, NULL, NULL, &tv));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	FD_ZERO(&rfds);
	FD_SET(self->fd, &rfds);
	EXPECT_EQ(1, select(self->fd + 1, &rfds, NULL, NULL, &tv));
	EXPECT_TRUE(FD_ISSET(self->fd, &rfds));
}

TEST_F(q, epoll_nested_queue_level_and_edge)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = 7 }, out[2];
	int efd, efd_et;

	efd = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, efd);
	efd_et = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, efd_et);
	ASSERT_EQ(0, epoll_ctl(efd, EPOLL_CTL_ADD, self->fd, &e));
	e.events = EPOLLIN | EPOLLET;
	ASSERT_EQ(0, epoll_ctl(efd_et, EPOLL_CTL_ADD, self->fd, &e));
	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 0));

	EXPECT_EQ(0, epoll_wait(efd, out, 2, 0));
	EXPECT_EQ(0, epoll_wait(efd_et, out, 2, 0));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	ASSERT_EQ(1, epoll_wait(efd, out, 2, 0));
	EXPECT_EQ((__u32)EPOLLIN, out[0].events);
	EXPECT_EQ(7ULL, out[0].data.u64);
	/* Level: still ready until harvested. */
	EXPECT_EQ(1, epoll_wait(efd, out, 2, 0));
	/* Edge: reported once. */
	EXPECT_EQ(1, epoll_wait(efd_et, out, 2, 0));
	EXPECT_EQ(0, epoll_wait(efd_et, out, 2, 0));
	ASSERT_EQ(1, kt_poll(self->fd, self->ev, 8));
	EXPECT_EQ(0, epoll_wait(efd, out, 2, 0));
	/* A new trigger is a new edge. */
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 0));
	EXPECT_EQ(1, epoll_wait(efd_et, out, 2, 0));
	close(efd);
	close(efd_et);
}

TEST_F(q, epoll_wait_woken_by_trigger_from_thread)
{
	struct epoll_event e = { .events = EPOLLIN }, out;
	pthread_t t;
	__u64 t0;
	int efd = epoll_create1(0);

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, epoll_ctl(efd, EPOLL_CTL_ADD, self->fd, &e));
	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 0));
	t0 = kt_mono();
	ASSERT_EQ(0, pthread_create(&t, NULL, trigger_after_50ms, &self->fd));
	EXPECT_EQ(1, epoll_wait(efd, &out, 1, 3000));
	EXPECT_LE(t0 + 40 * MS, kt_mono());
	EXPECT_GT(t0 + 2000 * MS, kt_mono());
	pthread_join(t, NULL);
	close(efd);
}

/* With a ring, POLLIN means unread entries in the ring. */
TEST(poll_ring_queue_pollin_with_unread_entries)
{
	struct pollfd pfd = { .events = POLLIN };
	struct kevent_ring_map map;
	int fd = kt_queue(4, 0);

	ASSERT_LE(0, fd);
	pfd.fd = fd;
	ASSERT_EQ(0, kevent_ring_mmap(fd, 4, &map));
	ASSERT_EQ(0, kt_user_add(fd, 1, 0, 0));
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, kt_trigger(fd, 1, 0));
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents);
	kevent_ring_advance(map.ring, 1);
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	kevent_ring_munmap(&map);
	close(fd);
}

/* Lifetime: fork, exec, close */

TEST_F(q, fork_child_shares_queue)
{
	int c2p[2], p2c[2], status;
	char c = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(c2p));
	ASSERT_EQ(0, pipe(p2c));
	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 11));
	ASSERT_EQ(0, kt_user_add(self->fd, 2, 0, 22));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct ukevent ev[4];

		/* The child sees the parent's registrations... */
		if (kt_trigger(self->fd, 1, 0x77))
			_exit(1);
		/* ...a registration made by the child is the parent's... */
		if (kt_user_add(self->fd, 3, 0, 33))
			_exit(2);
		if (write(c2p[1], &c, 1) != 1 || read(p2c[0], &c, 1) != 1)
			_exit(3);
		/* ...and it receives what the parent triggers. */
		if (kt_get(self->fd, ev, 1, 4, 3000) != 1)
			_exit(4);
		if (ev[0].id != 2 || ev[0].udata != 22 || ev[0].data[1] != 9)
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(1, read(c2p[0], &c, 1));
	ASSERT_EQ(1, kt_get(self->fd, self->ev, 1, 8, 3000));
	EXPECT_EQ(1ULL, self->ev[0].id);
	EXPECT_EQ(11ULL, self->ev[0].udata);
	EXPECT_EQ(0x77ULL, self->ev[0].data[1]);
	EXPECT_EQ(-EEXIST, kt_user_add(self->fd, 3, 0, 0));
	ASSERT_EQ(0, kt_trigger(self->fd, 2, 9));
	ASSERT_EQ(1, write(p2c[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, kt_poll(self->fd, self->ev, 8));
}

TEST(fork_child_sees_shared_ring)
{
	struct kevent_ring_map map;
	pid_t pid;
	int status, fd = kt_queue(8, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kevent_ring_mmap(fd, 8, &map));
	ASSERT_EQ(0, kt_user_add(fd, 1, 0, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct __kernel_timespec ts = { 3, 0 };
		struct ukevent *ev;

		if (kevent_ring_wait(&map, 1, &ts) != 1)
			_exit(1);
		ev = kevent_ring_peek(map.ring);
		if (!ev || ev->id != 1 || ev->data[1] != 5)
			_exit(2);
		kevent_ring_advance(map.ring, 1);
		_exit(0);
	}
	ASSERT_EQ(0, kt_trigger(fd, 1, 5));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The child's head update is visible to the parent. */
	EXPECT_EQ(1U, kevent_ring_head(map.ring));
	EXPECT_EQ(0U, kevent_ring_count(map.ring));
	kevent_ring_munmap(&map);
	close(fd);
}

static int exec_child_sees_fd(int fd)
{
	char buf[16];
	pid_t pid;
	int status;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char *const argv[] = { (char *)"kevent_wait_test", NULL };

		snprintf(buf, sizeof(buf), "%d", fd);
		setenv(EXEC_ENV, buf, 1);
		execv("/proc/self/exe", argv);
		_exit(2);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);	/* 0: closed, 1: open */
}

TEST(exec_cloexec_closes_queue)
{
	int fd;

	fd = kt_queue(0, KEVENT_INIT_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, exec_child_sees_fd(fd));
	close(fd);
	fd = kt_queue(0, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, exec_child_sees_fd(fd));
	close(fd);
}

/*
 * Another thread closes the queue fd while a waiter sleeps on it: the
 * waiter keeps the file alive and returns on its timeout.
 */
TEST(close_while_waiting_returns_on_timeout)
{
	struct kt_waiter w;
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_user_add(fd, 1, 0, 0));
	ASSERT_EQ(0, kt_timer_add(fd, 1, 1000 * MS, 0, CLOCK_MONOTONIC, 0,
				  0));
	ASSERT_EQ(0, kt_waiter_start(&w, fd, 0, 1, 300));
	ASSERT_EQ(0, close(fd));
	pthread_join(w.thread, NULL);
	EXPECT_EQ(0, w.ret);
	EXPECT_LE(300U, kt_waiter_ms(&w));
	/* The fd is gone. */
	EXPECT_EQ(-1, kt_poll(fd, w.evs, 1));
	EXPECT_EQ(EBADF, errno);
}

/* Same, but a dup keeps the queue reachable: an event still wakes it. */
TEST(close_while_waiting_dup_still_delivers)
{
	struct kt_waiter w;
	int fd = kt_queue(0, 0), fd2;

	ASSERT_LE(0, fd);
	fd2 = dup(fd);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, kt_user_add(fd, 1, 0, 0));
	ASSERT_EQ(0, kt_waiter_start(&w, fd, 0, 1, 3000));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, kt_trigger(fd2, 1, 4));
	pthread_join(w.thread, NULL);
	EXPECT_EQ(1, w.ret);
	EXPECT_EQ(4ULL, w.evs[0].data[1]);
	EXPECT_GT(2000U, kt_waiter_ms(&w));
	close(fd2);
}

/* kevent_wait variant with a ring queue and a mapping. */
TEST(close_while_kevent_wait_returns_on_timeout)
{
	struct kevent_ring_map map;
	struct kt_waiter w;
	int fd = kt_queue(4, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kevent_ring_mmap(fd, 4, &map));
	ASSERT_EQ(0, kt_waiter_start(&w, fd, 1, 1, 300));
	ASSERT_EQ(0, close(fd));
	pthread_join(w.thread, NULL);
	EXPECT_EQ(0, w.ret);
	EXPECT_LE(300U, kt_waiter_ms(&w));
	kevent_ring_munmap(&map);
}

TEST_HARNESS_MAIN
