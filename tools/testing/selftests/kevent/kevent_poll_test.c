// SPDX-License-Identifier: GPL-2.0
/*
 * KEVENT_POLL: any file with ->poll (pipe, eventfd, pidfd, epoll, another
 * kevent queue): POLLIN/POLLOUT/POLLHUP, the four delivery modes, MODIFY,
 * nesting limits (ELOOP), watch cycles through epoll, and the errors for
 * files without ->poll (EPERM), bad fds (EBADF) and non-zero data (EINVAL).
 */
#include "kevent_test.h"
#include "../kselftest_harness.h"

#include <linux/io_uring.h>

#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open	434
#endif

#define NEG_MS		50	/* wait for an event that must not come */
#define POS_MS		2000	/* wait for an event that must come */

static int poll_add(int q, int fd, __u32 mask, __u32 flags, __u64 udata)
{
	struct ukevent ch;

	kevent_prep_fd(&ch, KEVENT_POLL, fd, mask, flags, udata);
	return kt_ctl1(q, &ch);
}

static int poll_modify(int q, int fd, __u32 mask, __u32 flags, __u64 udata)
{
	struct ukevent ch;

	kevent_prep_fd(&ch, KEVENT_POLL, fd, mask, flags, udata);
	ch.op = KEVENT_CTL_MODIFY;
	return kt_ctl1(q, &ch);
}

/* The fields of a delivered poll event, checked exactly. */
#define CHECK_POLL(ev, fd, ev_mask, req, ud)				\
	do {								\
		const struct ukevent *_e = &(ev);			\
									\
		EXPECT_EQ(KEVENT_POLL, _e->type);			\
		EXPECT_EQ((__u64)(fd), _e->id);				\
		EXPECT_EQ((__u64)(ud), _e->udata);			\
		EXPECT_EQ((__u32)(req), _e->flags);			\
		EXPECT_EQ(0, _e->op);					\
		EXPECT_EQ((__u32)(ev_mask), _e->event);			\
		EXPECT_LE(1ULL, _e->data[0]);				\
	} while (0)

FIXTURE(q)
{
	int fd;
	int p[2];
	struct ukevent ev[8];
};

FIXTURE_SETUP(q)
{
	signal(SIGPIPE, SIG_IGN);
	self->fd = kt_queue(0, 0);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, pipe2(self->p, O_CLOEXEC | O_NONBLOCK));
}

FIXTURE_TEARDOWN(q)
{
	close(self->fd);
	if (self->p[0] >= 0)
		close(self->p[0]);
	if (self->p[1] >= 0)
		close(self->p[1]);
}

static int drain_fd(int fd)
{
	char buf[256];
	int total = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += (int)n;
	return total;
}

/* Pipe */

TEST_F(q, poll_pipe_pollin_level)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, poll_add(self->fd, self->p[0], POLLIN, 0, 0x51));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(5, write(self->p[1], "hello", 5));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_POLL(ev[0], self->p[0], POLLIN, 0, 0x51);
	EXPECT_EQ(0U, ev[0].ret_flags);
	/* Level: unread, reported again at each harvest. */
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	CHECK_POLL(ev[0], self->p[0], POLLIN, 0, 0x51);
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	/* Drained: quiet. */
	EXPECT_EQ(5, drain_fd(self->p[0]));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
}

TEST_F(q, poll_pipe_pollout_initially)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, poll_add(self->fd, self->p[1], POLLOUT, 0, 0x52));
	/* Readiness present at ADD is reported at once. */
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_POLL(ev[0], self->p[1], POLLOUT, 0, 0x52);
	EXPECT_EQ(0U, ev[0].ret_flags);
	/* The read end never gets POLLOUT; nothing for POLLIN either. */
	ASSERT_EQ(0, poll_add(self->fd, self->p[0], POLLIN | POLLOUT, 0, 0x53));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ((__u64)self->p[1], ev[0].id);
}

TEST_F(q, poll_pipe_pollhup_writer_closed)
{
	struct ukevent *ev = self->ev;

	/* POLLHUP is always watched, even if only POLLIN was asked for. */
	ASSERT_EQ(0, poll_add(self->fd, self->p[0], POLLIN, 0, 0x54));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, close(self->p[1]));
	self->p[1] = -1;
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_POLL(ev[0], self->p[0], POLLHUP, 0, 0x54);
	EXPECT_EQ(KEVENT_RET_EOF, ev[0].ret_flags);
	/* Level: the writer stays gone. */
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ((__u32)POLLHUP, ev[0].event);
}

TEST_F(q, poll_pipe_pollhup_with_data)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, poll_add(self->fd, self->p[0], POLLIN, KEVENT_REQ_ET,
			      0x55));
	ASSERT_EQ(2, write(self->p[1], "ab", 2));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_POLL(ev[0], self->p[0], POLLIN, KEVENT_REQ_ET, 0x55);
	ASSERT_EQ(0, close(self->p[1]));
	self->p[1] = -1;
	/* A new edge: unread data and hang-up. */
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_POLL(ev[0], self->p[0], POLLIN | POLLHUP, KEVENT_REQ_ET, 0x55);
	EXPECT_EQ(KEVENT_RET_EOF, ev[0].ret_flags);
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
}

TEST_F(q, poll_pipe_edge_once_per_write)
{
	struct ukevent *ev = self->ev;
	int i;

	ASSERT_EQ(0, poll_add(self->fd, self->p[0], POLLIN, KEVENT_REQ_ET,
			      0x56));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, write(self->p[1], "x", 1));
		ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
		CHECK_POLL(ev[0], self->p[0], POLLIN, KEVENT_REQ_ET, 0x56);
		/* Old unread data is not reported again. */
		EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	}
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	EXPECT_EQ(3, drain_fd(self->p[0]));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
}

TEST_F(q, poll_pipe_oneshot_removed)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, poll_add(self->fd, self->p[0], POLLIN, KEVENT_REQ_ONESHOT,
			      0x57));
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_POLL(ev[0], self->p[0], POLLIN, KEVENT_REQ_ONESHOT, 0x57);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(1, write(self->p[1], "y", 1));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_POLL, self->p[0],
				 KEVENT_CTL_REMOVE));
	EXPECT_EQ(-ENOENT, poll_modify(self->fd, self->p[0], POLLIN, 0, 0));
	/* ADD works again; data present at ADD is reported. */
	ASSERT_EQ(0, poll_add(self->fd, self->p[0], POLLIN, KEVENT_REQ_ONESHOT,
			      0x58));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_POLL(ev[0], self->p[0], POLLIN, KEVENT_REQ_ONESHOT, 0x58);
}

TEST_F(q, poll_pipe_dispatch_enable)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(0, poll_add(self->fd, self->p[0], POLLIN, KEVENT_REQ_DISPATCH,
			      0x59));
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_POLL(ev[0], self->p[0], POLLIN, KEVENT_REQ_DISPATCH, 0x59);
	/* Disabled: not even a new write is reported. */
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(1, write(self->p[1], "y", 1));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	/* ENABLE: still readable, reported again, then disabled again. */
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_POLL, self->p[0],
			   KEVENT_CTL_ENABLE));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_POLL(ev[0], self->p[0], POLLIN, KEVENT_REQ_DISPATCH, 0x59);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	/* Drained then ENABLE: nothing. */
	EXPECT_EQ(2, drain_fd(self->p[0]));
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_POLL, self->p[0],
			   KEVENT_CTL_ENABLE));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	/* Still registered. */
	EXPECT_EQ(0, kt_op(self->fd, KEVENT_POLL, self->p[0],
			   KEVENT_CTL_REMOVE));
}

TEST_F(q, poll_pipe_disabled_at_add)
{
	struct ukevent *ev = self->ev;

	ASSERT_EQ(1, write(self->p[1], "x", 1));
	ASSERT_EQ(0, poll_add(self->fd, self->p[0], POLLIN, KEVENT_REQ_DISABLED,
			      0x5a));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_POLL, self->p[0],
			   KEVENT_CTL_ENABLE));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	EXPECT_EQ((__u64)self->p[0], ev[0].id);
	EXPECT_EQ((__u32)POLLIN, ev[0].event);
	/* DISABLE withdraws the pending level event. */
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_POLL, self->p[0],
			   KEVENT_CTL_DISABLE));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
}

TEST_F(q, poll_pipe_modify_pollin_to_pollout)
{
	struct ukevent *ev = self->ev;
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, poll_add(self->fd, sv[0], POLLIN, 0, 0x5b));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	/* Writable now: MODIFY re-polls and reports at once. */
	ASSERT_EQ(0, poll_modify(self->fd, sv[0], POLLOUT, 0, 0x5c));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_POLL(ev[0], sv[0], POLLOUT, 0, 0x5c);
	ASSERT_EQ(0, poll_modify(self->fd, sv[0], POLLIN | POLLRDNORM, 0,
				 0x5d));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(1, write(sv[1], "z", 1));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_POLL(ev[0], sv[0], POLLIN | POLLRDNORM, 0, 0x5d);
	close(sv[0]);
	close(sv[1]);
}

/* eventfd, pidfd, epoll */

TEST_F(q, poll_eventfd_counter)
{
	struct ukevent *ev = self->ev;
	__u64 v = 3;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, poll_add(self->fd, efd, POLLIN, 0, 0x60));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(8, write(efd, &v, sizeof(v)));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_POLL(ev[0], efd, POLLIN, 0, 0x60);
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	v = 0;
	ASSERT_EQ(8, read(efd, &v, sizeof(v)));
	EXPECT_EQ(3ULL, v);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	/* POLLOUT: an eventfd below its maximum is writable. */
	ASSERT_EQ(0, poll_modify(self->fd, efd, POLLIN | POLLOUT, 0, 0x61));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_POLL(ev[0], efd, POLLOUT, 0, 0x61);
	close(efd);
}

TEST_F(q, poll_eventfd_edge_per_write)
{
	struct ukevent *ev = self->ev;
	__u64 v = 1;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, poll_add(self->fd, efd, POLLIN, KEVENT_REQ_ET, 0x62));
	ASSERT_EQ(8, write(efd, &v, sizeof(v)));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_POLL(ev[0], efd, POLLIN, KEVENT_REQ_ET, 0x62);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(8, write(efd, &v, sizeof(v)));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_POLL(ev[0], efd, POLLIN, KEVENT_REQ_ET, 0x62);
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	close(efd);
}

TEST_F(q, poll_pidfd_child_exit)
{
	struct ukevent *ev = self->ev;
	int ctl[2], pidfd, status;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe2(ctl, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(ctl[1]);
		_exit(read(ctl[0], &c, 1) == 1 ? 7 : 1);
	}
	close(ctl[0]);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		close(ctl[1]);
		waitpid(pid, &status, 0);
		SKIP(return, "pidfd_open: %s", strerror(errno));
	}
	ASSERT_EQ(0, poll_add(self->fd, pidfd, POLLIN, 0, 0x63));
	/* Running: not readable. */
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	ASSERT_EQ(1, write(ctl[1], "x", 1));
	/* Exited (not reaped yet): POLLIN. */
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_POLL(ev[0], pidfd, POLLIN, 0, 0x63);
	EXPECT_EQ(0U, ev[0].ret_flags);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(7, WEXITSTATUS(status));
	/* Reaped: POLLIN and POLLHUP (always watched), EOF. */
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	CHECK_POLL(ev[0], pidfd, POLLIN | POLLHUP, 0, 0x63);
	EXPECT_EQ(KEVENT_RET_EOF, ev[0].ret_flags);
	close(ctl[1]);
	close(pidfd);
}

struct eventfd_writer {
	int		efd;
	atomic_bool	stop;
};

static void *eventfd_writer_loop(void *arg)
{
	struct eventfd_writer *w = arg;
	__u64 v = 1;

	while (!atomic_load(&w->stop))
		if (write(w->efd, &v, sizeof(v)) != sizeof(v))
			break;
	return NULL;
}

/*
 * A level registration appears at most once per kevent_get_events(), even
 * while its file keeps waking it: every write() to the eventfd is a keyed
 * wake-up that queues the registration again, also while a harvest is
 * copying it out. The race is timing-dependent; many rounds with the
 * writer on another CPU make it likely to show if the rule broke.
 */
TEST_F(q, poll_level_once_per_call_under_wakeups)
{
	struct eventfd_writer w = { .efd = eventfd(0, EFD_CLOEXEC) };
	struct ukevent *ev = self->ev;
	pthread_t writer;
	int i, n;

	ASSERT_LE(0, w.efd);
	ASSERT_EQ(0, poll_add(self->fd, w.efd, POLLIN, 0, 0x64));
	ASSERT_EQ(0, pthread_create(&writer, NULL, eventfd_writer_loop, &w));
	for (i = 0; i < 20000; i++) {
		n = kt_get(self->fd, ev, 1, 8, POS_MS);
		if (n != 1)
			break;
	}
	atomic_store(&w.stop, true);
	pthread_join(writer, NULL);
	EXPECT_EQ(1, n) TH_LOG("round %d: %d events for one registration", i, n);
	close(w.efd);
}

TEST_F(q, poll_nested_epoll_with_pipe)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = 1 };
	struct ukevent *ev = self->ev;
	int efd = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, epoll_ctl(efd, EPOLL_CTL_ADD, self->p[0], &e));
	ASSERT_EQ(0, poll_add(self->fd, efd, POLLIN, 0, 0x64));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_POLL(ev[0], efd, POLLIN, 0, 0x64);
	/* Level through epoll's own level-triggered item. */
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ((__u64)efd, ev[0].id);
	EXPECT_EQ(1, drain_fd(self->p[0]));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	close(efd);
}

/*
 * Watch cycles through epoll, which kevent cannot see into: the epoll
 * file watches two queues (or a pipe and a queue) and one queue watches
 * the epoll file. An event in the other queue (or the pipe) wakes the
 * epoll file, which wakes the watching queue, whose pollers are the epoll
 * file again: that wake-up must not be issued while the first one still
 * holds the epoll file's wait queue lock (it used to deadlock the CPU).
 */
static void epoll_cycle(struct __test_metadata *_metadata, int q, int efd,
			int other, __u64 other_data)
{
	struct epoll_event e = { .events = EPOLLIN }, out[4];
	struct ukevent ev[4];

	e.data.u64 = other_data;
	ASSERT_EQ(0, epoll_ctl(efd, EPOLL_CTL_ADD, other, &e));
	e.data.u64 = 2;
	ASSERT_EQ(0, epoll_ctl(efd, EPOLL_CTL_ADD, q, &e));
	ASSERT_EQ(0, poll_add(q, efd, POLLIN, KEVENT_REQ_ET, 0x66));
	EXPECT_EQ(0, kt_poll(q, ev, 4));
	EXPECT_EQ(0, epoll_wait(efd, out, 4, 0));
}

static void epoll_cycle_check(struct __test_metadata *_metadata, int q,
			      int efd, __u64 other_data)
{
	struct epoll_event out[4];
	struct ukevent ev[4];
	int i, n, seen = 0;

	/* q saw the epoll file become readable... */
	ASSERT_EQ(1, kt_get(q, ev, 1, 4, POS_MS));
	CHECK_POLL(ev[0], efd, POLLIN, KEVENT_REQ_ET, 0x66);
	/* ...and the epoll file reports the source (and q, readable since). */
	n = epoll_wait(efd, out, 4, POS_MS);
	ASSERT_LE(1, n);
	for (i = 0; i < n; i++)
		seen |= out[i].data.u64 == other_data;
	EXPECT_TRUE(seen);
}

TEST_F(q, poll_epoll_cycle_through_other_queue)
{
	int efd = epoll_create1(EPOLL_CLOEXEC), other = kt_queue(0, 0);

	ASSERT_LE(0, efd);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, kt_user_add(other, 1, 0, 0));
	epoll_cycle(_metadata, self->fd, efd, other, 1);
	ASSERT_EQ(0, kt_trigger(other, 1, 5));
	epoll_cycle_check(_metadata, self->fd, efd, 1);
	close(other);
	close(efd);
}

TEST_F(q, poll_epoll_cycle_through_pipe)
{
	int efd = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, efd);
	epoll_cycle(_metadata, self->fd, efd, self->p[0], 3);
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	epoll_cycle_check(_metadata, self->fd, efd, 3);
	close(efd);
}

/* A queue with a ring of 8 entries, mapped, and a non-blocking pipe. */
FIXTURE(rq)
{
	int fd;
	int p[2];
	struct kevent_ring_map map;
};

FIXTURE_SETUP(rq)
{
	self->fd = kt_queue(8, 0);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kevent_ring_mmap(self->fd, 8, &self->map));
	ASSERT_EQ(0, pipe2(self->p, O_NONBLOCK | O_CLOEXEC));
}

FIXTURE_TEARDOWN(rq)
{
	kevent_ring_munmap(&self->map);
	close(self->p[0]);
	close(self->p[1]);
	close(self->fd);
}

/* The next ring entry is the pipe's edge event counting @count wake-ups. */
static void consume_edge_entry(struct __test_metadata *_metadata,
			       struct kevent_ring *ring, int rfd, __u64 count)
{
	struct ukevent *ev = kevent_ring_peek(ring);

	ASSERT_FALSE(!ev);
	CHECK_POLL(*ev, rfd, POLLIN, KEVENT_REQ_ET, 0x67);
	EXPECT_EQ(count, ev->data[0]);
	kevent_ring_advance(ring, 1);
}

/*
 * On a queue with a ring, an edge-triggered registration has at most one
 * unread entry too: wake-ups while it is unread are counted into the next
 * entry, which is posted once user space has consumed the first.
 */
TEST_F(rq, poll_ring_edge_one_unread_entry)
{
	struct kevent_ring *ring = self->map.ring;
	int fd = self->fd, *p = self->p;

	ASSERT_EQ(0, poll_add(fd, p[0], POLLIN, KEVENT_REQ_ET, 0x67));
	EXPECT_EQ(0, kt_wait(fd, 0, 0));
	ASSERT_EQ(1, write(p[1], "a", 1));
	ASSERT_EQ(1, kt_wait(fd, 1, POS_MS));
	ASSERT_EQ(1, write(p[1], "b", 1));
	ASSERT_EQ(1, write(p[1], "c", 1));
	/* Two wake-ups while the entry is unread: no entry for them yet. */
	EXPECT_EQ(1, kt_wait(fd, 0, 0));
	consume_edge_entry(_metadata, ring, p[0], 1);
	/* Consumed: one entry for both. */
	ASSERT_EQ(1, kt_wait(fd, 1, POS_MS));
	consume_edge_entry(_metadata, ring, p[0], 2);
	EXPECT_EQ(0, kt_wait(fd, 1, NEG_MS));
	EXPECT_EQ(3, drain_fd(p[0]));
	EXPECT_EQ(0U, kevent_ring_overflow_count(ring));
}

/*
 * An entry that waits for the registration's unread one is posted by the
 * registration's own next wake-up once user space has consumed that one,
 * without a system call on the queue: a consumer that watches the queue
 * (epoll, another queue) learns of it by that wake-up only.
 */
static void deferred_posted_by_wakeup(struct __test_metadata *_metadata,
				      int fd, const int p[2],
				      struct kevent_ring *ring, __u32 flags)
{
	struct ukevent *ev;

	ASSERT_EQ(0, poll_add(fd, p[0], POLLIN, flags, 0x6b));
	ASSERT_EQ(1, write(p[1], "a", 1));
	ASSERT_EQ(1, kt_wait(fd, 1, POS_MS));
	ASSERT_EQ(1, write(p[1], "b", 1));
	kevent_ring_advance(ring, 1);
	EXPECT_EQ(0U, kevent_ring_count(ring));
	ASSERT_EQ(1, write(p[1], "c", 1));
	ASSERT_EQ(1U, kevent_ring_count(ring));
	ev = kevent_ring_peek(ring);
	ASSERT_FALSE(!ev);
	CHECK_POLL(*ev, p[0], POLLIN, flags, 0x6b);
	if (flags & KEVENT_REQ_ET)
		EXPECT_EQ(2ULL, ev->data[0]);
	kevent_ring_advance(ring, 1);
	EXPECT_EQ(3, drain_fd(p[0]));
	EXPECT_EQ(0, kt_wait(fd, 1, NEG_MS));
}

TEST_F(rq, poll_ring_level_deferred_posted_by_wakeup)
{
	deferred_posted_by_wakeup(_metadata, self->fd, self->p, self->map.ring,
				  0);
}

TEST_F(rq, poll_ring_edge_deferred_posted_by_wakeup)
{
	deferred_posted_by_wakeup(_metadata, self->fd, self->p, self->map.ring,
				  KEVENT_REQ_ET);
}

/*
 * A dispatch registration posts one entry per arming: ENABLE reports at
 * once, even while the entry of the previous arming is unread.
 */
TEST_F(rq, poll_ring_edge_dispatch_enable_posts_at_once)
{
	const __u32 flags = KEVENT_REQ_ET | KEVENT_REQ_DISPATCH;
	struct kevent_ring *ring = self->map.ring;
	int fd = self->fd, *p = self->p;

	ASSERT_EQ(0, poll_add(fd, p[0], POLLIN, flags, 0x6c));
	ASSERT_EQ(1, write(p[1], "a", 1));
	ASSERT_EQ(1, kt_wait(fd, 1, POS_MS));
	ASSERT_EQ(0, kt_op(fd, KEVENT_POLL, p[0], KEVENT_CTL_ENABLE));
	ASSERT_EQ(2U, kevent_ring_count(ring));
	CHECK_POLL(*kevent_ring_get(ring, 1), p[0], POLLIN, flags, 0x6c);
	kevent_ring_advance(ring, 2);
	EXPECT_EQ(0, kt_wait(fd, 1, NEG_MS));
}

/*
 * Two queues with rings, x and y, watch one epoll file that watches both.
 * An event in x wakes the epoll file, which wakes y's registration, whose
 * queue's pollers are the epoll file again, which wakes x's, and so on:
 * epoll wakes its pollers on every wake-up of a watched file, even one
 * that changes nothing for it. Such a wake-up carries EPOLL_URING_WAKE, so
 * each registration turns it into one re-poll request, served by its
 * queue's next harvest: without harvests the cycle stops at once. It used
 * to run, one irq_work per round, as long as the entries were read.
 */
struct ring_cycle {
	struct kevent_ring_map	mx, my;
	int			x, y, efd;
};

static void ring_cycle_setup(struct __test_metadata *_metadata,
			     struct ring_cycle *c, __u32 flags)
{
	enum { ENTRIES = 64 };
	struct epoll_event e = { .events = EPOLLIN };

	c->x = kt_queue(ENTRIES, 0);
	c->y = kt_queue(ENTRIES, 0);
	c->efd = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, c->x);
	ASSERT_LE(0, c->y);
	ASSERT_LE(0, c->efd);
	ASSERT_EQ(0, kevent_ring_mmap(c->x, ENTRIES, &c->mx));
	ASSERT_EQ(0, kevent_ring_mmap(c->y, ENTRIES, &c->my));
	ASSERT_EQ(0, epoll_ctl(c->efd, EPOLL_CTL_ADD, c->x, &e));
	ASSERT_EQ(0, epoll_ctl(c->efd, EPOLL_CTL_ADD, c->y, &e));
	ASSERT_EQ(0, poll_add(c->x, c->efd, POLLIN, flags, 0x68));
	ASSERT_EQ(0, poll_add(c->y, c->efd, POLLIN, flags, 0x69));
	ASSERT_EQ(0, kt_user_add(c->x, 1, 0, 0x6a));
	EXPECT_EQ(0, kt_wait(c->x, 0, 0));
	EXPECT_EQ(0, kt_wait(c->y, 0, 0));
}

static void ring_cycle_teardown(struct ring_cycle *c)
{
	kevent_ring_munmap(&c->mx);
	kevent_ring_munmap(&c->my);
	close(c->efd);
	close(c->x);
	close(c->y);
}

/* Each harvest reports the epoll file once; nothing moves in between. */
TEST(poll_ring_epoll_cycle_two_queues_harvest)
{
	struct ring_cycle c;
	__u32 tx, ty;
	int n;

	ring_cycle_setup(_metadata, &c, KEVENT_REQ_ET);
	ASSERT_EQ(0, kt_trigger(c.x, 1, 5));
	/* y's waiter is woken to serve the re-poll: the epoll file holds. */
	ASSERT_EQ(1, kt_wait(c.y, 1, POS_MS));
	CHECK_POLL(*kevent_ring_peek(c.my.ring), c.efd, POLLIN, KEVENT_REQ_ET,
		   0x69);
	kt_sleep_ms(NEG_MS);
	/* x: the user event; its re-poll waits for x's harvest. */
	EXPECT_EQ(1U, kevent_ring_count(c.mx.ring));
	EXPECT_EQ(1U, kevent_ring_count(c.my.ring));
	ASSERT_EQ(2, kt_wait(c.x, 0, 0));
	CHECK_POLL(*kevent_ring_get(c.mx.ring, 1), c.efd, POLLIN,
		   KEVENT_REQ_ET, 0x68);
	tx = kevent_ring_tail(c.mx.ring);
	ty = kevent_ring_tail(c.my.ring);
	kt_sleep_ms(NEG_MS);
	EXPECT_EQ(tx, kevent_ring_tail(c.mx.ring));
	EXPECT_EQ(ty, kevent_ring_tail(c.my.ring));

	/* Consumed: at most one more entry each, then quiet. */
	kevent_ring_advance(c.mx.ring, kevent_ring_count(c.mx.ring));
	kevent_ring_advance(c.my.ring, kevent_ring_count(c.my.ring));
	n = kt_wait(c.x, 0, 0);
	EXPECT_TRUE(n == 0 || n == 1) TH_LOG("x: %d", n);
	n = kt_wait(c.y, 0, 0);
	EXPECT_TRUE(n == 0 || n == 1) TH_LOG("y: %d", n);
	tx = kevent_ring_tail(c.mx.ring);
	ty = kevent_ring_tail(c.my.ring);
	kt_sleep_ms(NEG_MS);
	EXPECT_EQ(tx, kevent_ring_tail(c.mx.ring));
	EXPECT_EQ(ty, kevent_ring_tail(c.my.ring));
	EXPECT_EQ(0U, kevent_ring_overflow_count(c.mx.ring));
	EXPECT_EQ(0U, kevent_ring_overflow_count(c.my.ring));
	ring_cycle_teardown(&c);
}

/* Drains both rings without system calls, counting the entries. */
struct cycle_spinner {
	struct ring_cycle	*c;
	atomic_bool		stop;
	atomic_uint		user, epoll;
};

static void cycle_spinner_drain(struct cycle_spinner *s,
				struct kevent_ring *ring)
{
	struct ukevent *ev;

	while ((ev = kevent_ring_peek(ring)) != NULL) {
		if (ev->type == KEVENT_POLL)
			atomic_fetch_add(&s->epoll, 1);
		else
			atomic_fetch_add(&s->user, 1);
		kevent_ring_advance(ring, 1);
	}
}

static void *cycle_spinner_loop(void *arg)
{
	struct cycle_spinner *s = arg;

	while (!atomic_load(&s->stop)) {
		cycle_spinner_drain(s, s->c->mx.ring);
		cycle_spinner_drain(s, s->c->my.ring);
	}
	return NULL;
}

/*
 * A consumer that reads every entry at once and never enters the kernel
 * does not keep the cycle going: the epoll file's wake-ups wait for a
 * harvest. The rounds are many because the old loop depended on the
 * spinner reading an entry before the next round posted: most rounds ran
 * until the test ended, some stopped after an entry each.
 */
static void epoll_cycle_spinning(struct __test_metadata *_metadata,
				 __u32 flags)
{
	struct cycle_spinner s = { 0 };
	struct ring_cycle c;
	pthread_t spinner;
	unsigned int n;
	int round;

	ring_cycle_setup(_metadata, &c, flags);
	s.c = &c;
	ASSERT_EQ(0, pthread_create(&spinner, NULL, cycle_spinner_loop, &s));
	for (round = 0; round < 10; round++) {
		ASSERT_EQ(0, kt_trigger(c.x, 1, 5));
		kt_sleep_ms(NEG_MS);
		n = atomic_exchange(&s.epoll, 0);
		EXPECT_EQ(0U, n) TH_LOG("round %d: %u epoll file entries",
					round, n);
		EXPECT_EQ(1U, atomic_exchange(&s.user, 0));
	}
	atomic_store(&s.stop, true);
	pthread_join(spinner, NULL);
	/*
	 * The wake-ups were not lost: the flag says a harvest is due, and
	 * one reports the epoll file.
	 */
	EXPECT_TRUE(kevent_ring_harvest_due(c.my.ring));
	ASSERT_EQ(1, kt_wait(c.y, 0, 0));
	CHECK_POLL(*kevent_ring_peek(c.my.ring), c.efd, POLLIN, flags, 0x69);
	ring_cycle_teardown(&c);
}

TEST(poll_ring_epoll_cycle_spinning_consumer_edge)
{
	epoll_cycle_spinning(_metadata, KEVENT_REQ_ET);
}

TEST(poll_ring_epoll_cycle_spinning_consumer_level)
{
	epoll_cycle_spinning(_metadata, 0);
}

/* Drains one ring and sleeps in kevent_wait(), until stopped. */
struct cycle_waiter {
	int			fd;
	struct kevent_ring	*ring;
	atomic_bool		*stop;
	atomic_uint		entries;
};

static void *cycle_waiter_loop(void *arg)
{
	struct cycle_waiter *w = arg;
	unsigned int n;

	while (!atomic_load(w->stop)) {
		n = kevent_ring_count(w->ring);
		kevent_ring_advance(w->ring, n);
		atomic_fetch_add(&w->entries, n);
		kt_wait(w->fd, 1, NEG_MS);
	}
	return NULL;
}

/*
 * A thread per queue in the usual loop (drain the ring, sleep in
 * kevent_wait()): an event in x gives a few epoll file entries, then the
 * queues go quiet. The echo of a queue's own wake-up is not a re-poll
 * request; if it were, each harvest would find the other queue's request
 * and report the epoll file again, as long as the two threads keep
 * winning that race: hundreds to thousands of entries in most rounds.
 */
TEST(poll_ring_epoll_cycle_waiting_consumers_quiet)
{
	atomic_bool stop = false;
	struct cycle_waiter wx = { .stop = &stop }, wy = { .stop = &stop };
	struct ring_cycle c;
	pthread_t tx, ty;
	unsigned int nx, ny;
	int round;

	ring_cycle_setup(_metadata, &c, KEVENT_REQ_ET);
	wx.fd = c.x;
	wx.ring = c.mx.ring;
	wy.fd = c.y;
	wy.ring = c.my.ring;
	ASSERT_EQ(0, pthread_create(&tx, NULL, cycle_waiter_loop, &wx));
	ASSERT_EQ(0, pthread_create(&ty, NULL, cycle_waiter_loop, &wy));
	for (round = 0; round < 10; round++) {
		ASSERT_EQ(0, kt_trigger(c.x, 1, 5));
		kt_sleep_ms(4 * NEG_MS);
		nx = atomic_exchange(&wx.entries, 0);
		ny = atomic_exchange(&wy.entries, 0);
		EXPECT_GE(32U, nx + ny) TH_LOG("round %d: x %u, y %u entries",
					       round, nx, ny);
		kt_sleep_ms(2 * NEG_MS);
		nx = atomic_exchange(&wx.entries, 0);
		ny = atomic_exchange(&wy.entries, 0);
		EXPECT_EQ(0U, nx + ny) TH_LOG("round %d, quiet: x %u, y %u",
					      round, nx, ny);
	}
	atomic_store(&stop, true);
	pthread_join(tx, NULL);
	pthread_join(ty, NULL);
	ring_cycle_teardown(&c);
}

/*
 * Not a cycle: y watches an epoll file that watches x. An event in x makes
 * y readable for its pollers at once, before any harvest of y, and y's
 * harvest then reports the epoll file.
 */
TEST(poll_epoll_chain_from_queue_wakes_pollers)
{
	struct epoll_event e = { .events = EPOLLIN };
	int x = kt_queue(0, 0), y = kt_queue(0, 0);
	int efd = epoll_create1(EPOLL_CLOEXEC);
	struct pollfd pfd;
	struct ukevent ev[4];

	ASSERT_LE(0, x);
	ASSERT_LE(0, y);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, epoll_ctl(efd, EPOLL_CTL_ADD, x, &e));
	ASSERT_EQ(0, poll_add(y, efd, POLLIN, KEVENT_REQ_ET, 0x6d));
	ASSERT_EQ(0, kt_user_add(x, 1, 0, 0x6e));
	pfd = (struct pollfd){ .fd = y, .events = POLLIN };
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, kt_trigger(x, 1, 5));
	ASSERT_EQ(1, poll(&pfd, 1, POS_MS));
	EXPECT_EQ(POLLIN, pfd.revents);
	ASSERT_EQ(1, kt_poll(y, ev, 4));
	CHECK_POLL(ev[0], efd, POLLIN, KEVENT_REQ_ET, 0x6d);
	EXPECT_EQ(0, kt_poll(y, ev, 4));
	close(efd);
	close(x);
	close(y);
}

/*
 * The same chain with a ring on the watching queue: the wake-up that x's
 * event causes reaches the registration as a re-poll request, and a
 * consumer that only reads the ring learns of it from KEVENT_RING_REPOLL,
 * set until the harvest that serves it. Removing the registration voids
 * the request and clears the flag too.
 */
TEST(poll_ring_repoll_flag_set_until_harvest)
{
	enum { ENTRIES = 8 };
	struct epoll_event e = { .events = EPOLLIN };
	int x = kt_queue(0, 0), y = kt_queue(ENTRIES, 0);
	int efd = epoll_create1(EPOLL_CLOEXEC);
	struct kevent_ring_map my;
	struct kevent_ring *ring;
	struct ukevent ev[4];
	struct pollfd pfd;

	ASSERT_LE(0, x);
	ASSERT_LE(0, y);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, kevent_ring_mmap(y, ENTRIES, &my));
	ring = my.ring;
	ASSERT_EQ(0, epoll_ctl(efd, EPOLL_CTL_ADD, x, &e));
	ASSERT_EQ(0, poll_add(y, efd, POLLIN, KEVENT_REQ_ET, 0x6f));
	ASSERT_EQ(0, kt_user_add(x, 1, 0, 0x70));
	EXPECT_EQ(0, kt_wait(y, 0, 0));
	EXPECT_EQ(0U, ring->flags);

	ASSERT_EQ(0, kt_trigger(x, 1, 5));
	/* The request wakes y's pollers, with the flag already set. */
	pfd = (struct pollfd){ .fd = y, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, POS_MS));
	EXPECT_EQ(KEVENT_RING_REPOLL, ring->flags);
	EXPECT_TRUE(kevent_ring_harvest_due(ring));
	EXPECT_EQ(0U, kevent_ring_count(ring));
	ASSERT_EQ(1, kt_wait(y, 0, 0));
	CHECK_POLL(*kevent_ring_peek(ring), efd, POLLIN, KEVENT_REQ_ET, 0x6f);
	EXPECT_EQ(0U, ring->flags);
	EXPECT_FALSE(kevent_ring_harvest_due(ring));
	kevent_ring_advance(ring, 1);
	EXPECT_EQ(0, kt_wait(y, 0, 0));

	/* x's event harvested, the next one wakes the epoll file again. */
	ASSERT_EQ(1, kt_poll(x, ev, 4));
	ASSERT_EQ(0, kt_trigger(x, 1, 6));
	ASSERT_EQ(1, poll(&pfd, 1, POS_MS));
	EXPECT_EQ(KEVENT_RING_REPOLL, ring->flags);
	ASSERT_EQ(0, kt_op(y, KEVENT_POLL, efd, KEVENT_CTL_REMOVE));
	EXPECT_EQ(0U, ring->flags);
	EXPECT_EQ(0, kt_wait(y, 0, 0));
	EXPECT_EQ(0U, ring->flags);
	kevent_ring_munmap(&my);
	close(efd);
	close(x);
	close(y);
}

/* A minimal io_uring, by its system calls: one multishot poll at a time. */
struct uring {
	int			fd;
	struct io_uring_params	p;
	void			*sq, *cq;
	size_t			sq_len, cq_len;
	struct io_uring_sqe	*sqes;
};

static int uring_setup(struct uring *u)
{
	memset(u, 0, sizeof(*u));
	u->fd = syscall(__NR_io_uring_setup, 4, &u->p);
	if (u->fd < 0)
		return -1;
	u->sq_len = u->p.sq_off.array + u->p.sq_entries * sizeof(__u32);
	u->cq_len = u->p.cq_off.cqes +
		    u->p.cq_entries * sizeof(struct io_uring_cqe);
	u->sq = mmap(NULL, u->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		     u->fd, IORING_OFF_SQ_RING);
	u->cq = mmap(NULL, u->cq_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		     u->fd, IORING_OFF_CQ_RING);
	u->sqes = mmap(NULL, u->p.sq_entries * sizeof(struct io_uring_sqe),
		       PROT_READ | PROT_WRITE, MAP_SHARED, u->fd,
		       IORING_OFF_SQES);
	if (u->sq == MAP_FAILED || u->cq == MAP_FAILED ||
	    u->sqes == MAP_FAILED)
		return -1;
	return 0;
}

static void uring_teardown(struct uring *u)
{
	munmap(u->sqes, u->p.sq_entries * sizeof(struct io_uring_sqe));
	munmap(u->cq, u->cq_len);
	munmap(u->sq, u->sq_len);
	close(u->fd);
}

/* Submit a multishot POLLIN poll on @fd. */
static int uring_poll_multishot(struct uring *u, int fd)
{
	__u32 *tail = u->sq + u->p.sq_off.tail;
	__u32 *array = u->sq + u->p.sq_off.array;
	__u32 mask = *(__u32 *)(u->sq + u->p.sq_off.ring_mask);
	__u32 t = *tail;
	struct io_uring_sqe *sqe = &u->sqes[t & mask];

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_POLL_ADD;
	sqe->fd = fd;
	sqe->poll32_events = POLLIN;
	sqe->len = IORING_POLL_ADD_MULTI;
	sqe->user_data = 1;
	array[t & mask] = t & mask;
	__atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
	return syscall(__NR_io_uring_enter, u->fd, 1, 0, 0, NULL, 0);
}

/* Wait for one completion and return its flags, or -1. */
static int uring_reap(struct uring *u, __s32 *res)
{
	__u32 *head = u->cq + u->p.cq_off.head;
	__u32 *tail = u->cq + u->p.cq_off.tail;
	__u32 mask = *(__u32 *)(u->cq + u->p.cq_off.ring_mask);
	struct io_uring_cqe *cqes = u->cq + u->p.cq_off.cqes;
	__u32 h = *head;
	int flags;

	if (syscall(__NR_io_uring_enter, u->fd, 0, 1, IORING_ENTER_GETEVENTS,
		    NULL, 0) < 0 ||
	    __atomic_load_n(tail, __ATOMIC_ACQUIRE) == h)
		return -1;
	*res = cqes[h & mask].res;
	flags = cqes[h & mask].flags;
	__atomic_store_n(head, h + 1, __ATOMIC_RELEASE);
	return flags;
}

/*
 * A queue marks the wake-ups of its pollers as io_uring marks its own
 * (EPOLL_URING_WAKE), so io_uring ends a multishot poll on a queue at its
 * first event, as on an io_uring or on an epoll file that one feeds: the
 * completion has no IORING_CQE_F_MORE. On a pipe the poll goes on.
 */
TEST_F(q, poll_io_uring_multishot_on_queue_ends)
{
	struct uring u;
	__s32 res;

	ASSERT_EQ(0, uring_setup(&u));
	ASSERT_EQ(1, uring_poll_multishot(&u, self->p[0]));
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	EXPECT_EQ(IORING_CQE_F_MORE, uring_reap(&u, &res));
	EXPECT_EQ(POLLIN, res);

	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 0x6f));
	ASSERT_EQ(1, uring_poll_multishot(&u, self->fd));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 5));
	EXPECT_EQ(0, uring_reap(&u, &res));
	EXPECT_EQ(POLLIN, res);
	uring_teardown(&u);
}

/* kevent queues inside kevent queues */

TEST_F(q, poll_kevent_nested_one_level)
{
	struct ukevent *ev = self->ev, inner_ev[4];
	int inner = kt_queue(0, 0);

	ASSERT_LE(0, inner);
	ASSERT_EQ(0, kt_user_add(inner, 1, 0, 0x70));
	ASSERT_EQ(0, poll_add(self->fd, inner, POLLIN, 0, 0x65));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, kt_trigger(inner, 1, 9));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_POLL(ev[0], inner, POLLIN, 0, 0x65);
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	/* Harvesting the inner queue ends the outer readiness. */
	ASSERT_EQ(1, kt_poll(inner, inner_ev, 4));
	EXPECT_EQ(0x70ULL, inner_ev[0].udata);
	EXPECT_EQ(9ULL, inner_ev[0].data[1]);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	close(inner);
}

TEST_F(q, poll_kevent_self_eloop)
{
	EXPECT_EQ(-ELOOP, poll_add(self->fd, self->fd, POLLIN, 0, 0));
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_POLL, self->fd,
				 KEVENT_CTL_REMOVE));
}

TEST_F(q, poll_kevent_cycle_and_depth_eloop)
{
	int a = self->fd, b = kt_queue(0, 0), c = kt_queue(0, 0);
	int d = kt_queue(0, 0);

	ASSERT_LE(0, b);
	ASSERT_LE(0, c);
	ASSERT_LE(0, d);
	/* a watches b: one level is fine. */
	ASSERT_EQ(0, poll_add(a, b, POLLIN, 0, 0));
	/* b watching a would be a cycle. */
	EXPECT_EQ(-ELOOP, poll_add(b, a, POLLIN, 0, 0));
	/* a is a watcher: it cannot be watched (second level). */
	EXPECT_EQ(-ELOOP, poll_add(c, a, POLLIN, 0, 0));
	/* b is watched: it cannot watch another queue. */
	EXPECT_EQ(-ELOOP, poll_add(b, d, POLLIN, 0, 0));
	/* Once a stops watching b, both are plain queues again. */
	ASSERT_EQ(0, kt_op(a, KEVENT_POLL, b, KEVENT_CTL_REMOVE));
	EXPECT_EQ(0, poll_add(b, d, POLLIN, 0, 0));
	EXPECT_EQ(0, poll_add(c, a, POLLIN, 0, 0));
	close(b);
	close(c);
	close(d);
}

/* Errors */

TEST_F(q, poll_regular_file_eperm)
{
	char path[] = "/tmp/kevent_poll_XXXXXX";
	int fd = mkostemp(path, O_CLOEXEC);

	ASSERT_LE(0, fd);
	unlink(path);
	EXPECT_EQ(-EPERM, poll_add(self->fd, fd, POLLIN, 0, 0));
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_POLL, fd, KEVENT_CTL_REMOVE));
	close(fd);
}

TEST_F(q, poll_socket_type_on_pipe_enotsock)
{
	struct ukevent ch;

	kevent_prep_fd(&ch, KEVENT_SOCKET, self->p[0], KEVENT_SOCKET_RECV, 0, 0);
	EXPECT_EQ(-ENOTSOCK, kt_ctl1(self->fd, &ch));
	kevent_prep_fd(&ch, KEVENT_SOCKET, self->p[1], KEVENT_SOCKET_SEND, 0, 0);
	EXPECT_EQ(-ENOTSOCK, kt_ctl1(self->fd, &ch));
	/* The same pipe is fine for the poll source. */
	EXPECT_EQ(0, poll_add(self->fd, self->p[0], POLLIN, 0, 0));
}

TEST_F(q, poll_bad_fd_ebadf)
{
	struct ukevent ch;
	int bad = dup(self->p[0]);

	ASSERT_LE(0, bad);
	ASSERT_EQ(0, close(bad));
	EXPECT_EQ(-EBADF, poll_add(self->fd, bad, POLLIN, 0, 0));
	kevent_prep_fd(&ch, KEVENT_SOCKET, bad, KEVENT_SOCKET_RECV, 0, 0);
	EXPECT_EQ(-EBADF, kt_ctl1(self->fd, &ch));
	/* -1 as an id is 0xffffffff: above INT_MAX. */
	EXPECT_EQ(-EBADF, poll_add(self->fd, -1, POLLIN, 0, 0));
	kevent_prep(&ch, KEVENT_POLL, (__u64)INT_MAX + 1, KEVENT_CTL_ADD, 0,
		    POLLIN, 0);
	EXPECT_EQ(-EBADF, kt_ctl1(self->fd, &ch));
	kevent_prep(&ch, KEVENT_POLL, 1ULL << 32 | (unsigned int)self->p[0],
		    KEVENT_CTL_ADD, 0, POLLIN, 0);
	EXPECT_EQ(-EBADF, kt_ctl1(self->fd, &ch));
}

TEST_F(q, poll_bad_mask_or_data_einval)
{
	struct ukevent ch;
	int i;

	for (i = 0; i < 4; i++) {
		kevent_prep_fd(&ch, KEVENT_POLL, self->p[0], POLLIN, 0, 0);
		ch.data[i] = 1;
		EXPECT_EQ(-EINVAL, kt_ctl1(self->fd, &ch));
	}
	/* A bit outside the poll.h masks. */
	EXPECT_EQ(-EINVAL, poll_add(self->fd, self->p[0], 1U << 20, 0, 0));
	ASSERT_EQ(0, poll_add(self->fd, self->p[0], POLLIN, 0, 0));
	kevent_prep_fd(&ch, KEVENT_POLL, self->p[0], POLLIN, 0, 0);
	ch.op = KEVENT_CTL_MODIFY;
	ch.data[0] = 5;
	EXPECT_EQ(-EINVAL, kt_ctl1(self->fd, &ch));
}

TEST_F(q, poll_pipe_close_removes_registration)
{
	struct ukevent *ev = self->ev;
	int p2[2], old = self->p[0];

	ASSERT_EQ(0, poll_add(self->fd, old, POLLIN, 0, 0x66));
	ASSERT_EQ(0, close(old));
	self->p[0] = -1;
	/* A new pipe takes the number; its readiness is not ours. */
	ASSERT_EQ(0, pipe2(p2, O_CLOEXEC | O_NONBLOCK));
	ASSERT_EQ(old, p2[0]);
	ASSERT_EQ(1, write(p2[1], "n", 1));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_POLL, old,
				 KEVENT_CTL_REMOVE));
	close(p2[0]);
	close(p2[1]);
}

TEST_HARNESS_MAIN
