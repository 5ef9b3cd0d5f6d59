/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the kevent selftests. Include before
 * ../kselftest_harness.h. Helpers never use ASSERT_*: they return values
 * that the test asserts, so they are safe to call from helper threads.
 */
#ifndef _KEVENT_TEST_H
#define _KEVENT_TEST_H

/*
 * kselftest_harness.h itself is not -Wextra clean (unused parameters in
 * its TEST() wrappers, a setjmp()-clobbered local in TEST_F()).
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#ifndef __clang__
#pragma GCC diagnostic ignored "-Wclobbered"
#endif

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include "libkevent.h"

#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL

/* Returned by kt_ctl1() when the system call itself failed (errno set). */
#define KT_SYSFAIL	0x5f5f
/* Returned by kt_ctl1() when return value and result disagree. */
#define KT_BADRET	0x5f5e

static inline __u64 kt_now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (__u64)ts.tv_sec * NSEC_PER_SEC + (__u64)ts.tv_nsec;
}

static inline __u64 kt_mono(void)
{
	return kt_now(CLOCK_MONOTONIC);
}

static inline void kt_sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static inline pid_t kt_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* A fresh queue: ring_entries 0 means no ring. */
static inline int kt_queue(unsigned int ring_entries, __u64 flags)
{
	return kevent_queue_init(ring_entries, flags);
}

/*
 * Submit one change. Returns its result (0 or -errno) after checking that
 * the return value agrees (0 for success, 1 for failure); KT_SYSFAIL if
 * the call failed as a whole, KT_BADRET on a mismatch.
 */
static inline int kt_ctl1(int fd, struct ukevent *ch)
{
	int ret;

	ch->result = 0x7eadbeef;
	ret = kevent_ctl(fd, ch, 1, 0);
	if (ret < 0)
		return KT_SYSFAIL;
	if (ch->result > 0)
		return KT_BADRET;
	if (!ret != !ch->result || ret > 1)
		return KT_BADRET;
	return ch->result;
}

static inline int kt_user_add(int fd, __u64 id, __u32 flags, __u64 udata)
{
	struct ukevent ch;

	kevent_prep_user(&ch, id, flags, udata);
	return kt_ctl1(fd, &ch);
}

static inline int kt_trigger(int fd, __u64 id, __u64 value)
{
	struct ukevent ch;

	kevent_prep_trigger(&ch, id, value);
	return kt_ctl1(fd, &ch);
}

static inline int kt_op(int fd, __u16 type, __u64 id, __u16 op)
{
	struct ukevent ch;

	kevent_prep_op(&ch, type, id, op);
	return kt_ctl1(fd, &ch);
}

static inline int kt_timer_add(int fd, __u64 id, __s64 expires,
			       __u64 interval, clockid_t clk, __u32 flags,
			       __u64 udata)
{
	struct ukevent ch;

	kevent_prep_timer(&ch, id, expires, interval, clk, flags, udata);
	return kt_ctl1(fd, &ch);
}

/* Harvest without waiting. */
static inline int kt_poll(int fd, struct ukevent *evs, unsigned int max)
{
	struct __kernel_timespec ts = { 0, 0 };

	return kevent_get_events(fd, evs, 0, max, &ts, NULL);
}

/* Harvest, waiting up to ms milliseconds for min events. */
static inline int kt_get(int fd, struct ukevent *evs, unsigned int min,
			 unsigned int max, unsigned int ms)
{
	struct __kernel_timespec ts;

	kevent_ts_from_ns(&ts, (__u64)ms * NSEC_PER_MSEC);
	return kevent_get_events(fd, evs, min, max, &ts, NULL);
}

/* kevent_wait() with a timeout in milliseconds. */
static inline int kt_wait(int fd, unsigned int min, unsigned int ms)
{
	struct __kernel_timespec ts;

	kevent_ts_from_ns(&ts, (__u64)ms * NSEC_PER_MSEC);
	return kevent_wait(fd, min, &ts, NULL);
}

/*
 * An address that is not mapped: the second page of an 8-page area we just
 * unmapped. mmap() allocates top-down, so a few later small mappings (e.g.
 * a ring, a thread stack) do not reuse it; still, call it right before use.
 */
static inline void *kt_unmapped(void)
{
	long psz = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 8 * psz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return (void *)16;
	munmap(p, 8 * psz);
	return p + psz;
}

/*
 * Wait until thread tid of this process sleeps interruptibly (state 'S' in
 * /proc/self/task/<tid>/stat), i.e. it is blocked in the system call.
 * Returns 1 when it does, 0 after about max_ms.
 */
static inline int kt_wait_sleeping(pid_t tid, unsigned int max_ms)
{
	char path[64], buf[256], *p;
	unsigned int i;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	for (i = 0; i < max_ms; i++) {
		fd = open(path, O_RDONLY);
		if (fd < 0)
			return 0;
		n = (int)read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			p = strrchr(buf, ')');
			if (p && p[1] == ' ' && p[2] == 'S')
				return 1;
		}
		kt_sleep_ms(1);
	}
	return 0;
}

/*
 * A helper thread blocked in kevent_get_events() or kevent_wait().
 * Results are stored for the main thread to assert.
 */
struct kt_waiter {
	pthread_t	thread;
	int		fd;
	int		use_wait;	/* 1: kevent_wait, 0: get_events */
	unsigned int	min_nr;
	unsigned int	max_nr;		/* <= 8 */
	unsigned int	timeout_ms;
	pid_t		tid;
	int		ret;
	int		err;
	__u64		t_start;
	__u64		t_end;
	struct ukevent	evs[8];
};

static inline void *kt_waiter_fn(void *arg)
{
	struct kt_waiter *w = arg;

	w->t_start = kt_mono();
	__atomic_store_n(&w->tid, kt_gettid(), __ATOMIC_RELEASE);
	if (w->use_wait)
		w->ret = kt_wait(w->fd, w->min_nr, w->timeout_ms);
	else
		w->ret = kt_get(w->fd, w->evs, w->min_nr, w->max_nr,
				w->timeout_ms);
	w->err = w->ret < 0 ? errno : 0;
	w->t_end = kt_mono();
	return NULL;
}

/*
 * Start a waiter and wait until it sleeps in the kernel. Returns 0 on
 * success, -1 if the thread could not be started or never slept.
 */
static inline int kt_waiter_start(struct kt_waiter *w, int fd, int use_wait,
				  unsigned int min_nr, unsigned int timeout_ms)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->use_wait = use_wait;
	w->min_nr = min_nr;
	w->max_nr = min_nr > 8 ? 8 : (min_nr ? min_nr : 1);
	w->timeout_ms = timeout_ms;
	if (pthread_create(&w->thread, NULL, kt_waiter_fn, w))
		return -1;
	while (!__atomic_load_n(&w->tid, __ATOMIC_ACQUIRE))
		kt_sleep_ms(1);
	return kt_wait_sleeping(w->tid, 2000) ? 0 : -1;
}

static inline unsigned int kt_waiter_ms(const struct kt_waiter *w)
{
	return (unsigned int)((w->t_end - w->t_start) / NSEC_PER_MSEC);
}

/*
 * Number of expirations of a timer armed at time a with first expiry
 * a + expires and period interval, at time x (all ns, same clock).
 */
static inline __u64 kt_expirations(__u64 a, __u64 expires, __u64 interval,
				   __u64 x)
{
	if (x < a + expires)
		return 0;
	if (!interval)
		return 1;
	return (x - a - expires) / interval + 1;
}

/* Write a value to a sysctl file; returns 0 or -errno. */
static inline int kt_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	return 0;
}

static inline int kt_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

#endif /* _KEVENT_TEST_H */
