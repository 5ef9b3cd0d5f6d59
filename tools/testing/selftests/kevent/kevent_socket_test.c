// SPDX-License-Identifier: GPL-2.0
/*
 * KEVENT_SOCKET: RECV/SEND/ACCEPT/HUP/RDHUP/ERR on TCP (IPv4, IPv6), UDP,
 * UNIX stream, datagram and seqpacket sockets, in level, edge, oneshot and
 * dispatch mode; counts in data[0]/data[1]; 1000 loopback connections
 * through the ring; an accept storm; batched registration; the lifetime
 * of a registration across close, fd reuse, dup, fork and SCM_RIGHTS.
 */
#include "kevent_test.h"
#include "../kselftest_harness.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <poll.h>

/* Returned by the pair helpers when IPv6 loopback is not available. */
#define KT_NOV6		1

#define NEG_MS		50	/* wait for an event that must not come */
#define POS_MS		2000	/* wait for an event that must come */

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void set_timeouts(int fd, unsigned int ms)
{
	struct timeval tv = {
		.tv_sec = ms / 1000,
		.tv_usec = (ms % 1000) * 1000,
	};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/*
 * A TCP listener on the loopback address of family (AF_INET: 127.0.0.1,
 * AF_INET6: ::1), ephemeral port. Returns the fd, -1 on error, or
 * -KT_NOV6 - 1 if IPv6 is not usable. The address is stored in ss/len.
 */
static int tcp_listener(int family, int backlog, struct sockaddr_storage *ss,
			socklen_t *len)
{
	int fd, one = 1;

	memset(ss, 0, sizeof(*ss));
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return family == AF_INET6 ? -KT_NOV6 - 1 : -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		*len = sizeof(*sin6);
	}
	if (bind(fd, (struct sockaddr *)ss, *len)) {
		close(fd);
		return family == AF_INET6 ? -KT_NOV6 - 1 : -1;
	}
	if (listen(fd, backlog) ||
	    getsockname(fd, (struct sockaddr *)ss, len)) {
		close(fd);
		return -1;
	}
	set_timeouts(fd, POS_MS);
	return fd;
}

static int tcp_connect(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	set_timeouts(fd, POS_MS);
	if (connect(fd, (const struct sockaddr *)ss, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A connected TCP pair over loopback: sv[0] accepted (server side),
 * sv[1] the client. Returns 0, -1 on error, KT_NOV6 without IPv6. The
 * listener is closed unless lfd is given.
 */
static int tcp_pair(int family, int sv[2], int *lfd)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int l = tcp_listener(family, 16, &ss, &len);

	if (l == -KT_NOV6 - 1)
		return KT_NOV6;
	if (l < 0)
		return -1;
	sv[1] = tcp_connect(&ss, len);
	if (sv[1] < 0) {
		close(l);
		return -1;
	}
	sv[0] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (sv[0] < 0) {
		close(sv[1]);
		close(l);
		return -1;
	}
	set_timeouts(sv[0], POS_MS);
	if (lfd)
		*lfd = l;
	else
		close(l);
	return 0;
}

/* A connected UDP pair on 127.0.0.1: sv[0] receives from sv[1]. */
static int udp_pair(int sv[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int i;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sv[0] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sv[1] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sv[0] < 0 || sv[1] < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		a.sin_port = 0;
		if (bind(sv[i], (struct sockaddr *)&a, sizeof(a)))
			return -1;
	}
	for (i = 0; i < 2; i++) {
		if (getsockname(sv[!i], (struct sockaddr *)&a, &len) ||
		    connect(sv[i], (struct sockaddr *)&a, sizeof(a)))
			return -1;
	}
	return 0;
}

/* Bytes queued for reading (SIOCINQ), -1 on error. */
static int inq(int fd)
{
	int n;

	if (ioctl(fd, FIONREAD, &n))
		return -1;
	return n;
}

/* Wait until exactly n bytes are queued on fd (TCP); 0 or -1. */
static int wait_inq(int fd, int n, unsigned int ms)
{
	__u64 end = kt_mono() + (__u64)ms * NSEC_PER_MSEC;

	do {
		if (inq(fd) == n)
			return 0;
		kt_sleep_ms(1);
	} while (kt_mono() < end);
	return -1;
}

/* Accept backlog of a TCP listener (TCP_INFO tcpi_unacked), -1 on error. */
static int tcp_backlog(int lfd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(lfd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -1;
	return (int)ti.tcpi_unacked;
}

static int wait_backlog(int lfd, int n, unsigned int ms)
{
	__u64 end = kt_mono() + (__u64)ms * NSEC_PER_MSEC;

	do {
		if (tcp_backlog(lfd) == n)
			return 0;
		kt_sleep_ms(1);
	} while (kt_mono() < end);
	return -1;
}

/* Wait until poll() reports all of bits on fd; 0 or -1. */
static int wait_pollbits(int fd, short bits, unsigned int ms)
{
	__u64 end = kt_mono() + (__u64)ms * NSEC_PER_MSEC;
	struct pollfd pfd = { .fd = fd, .events = bits };

	do {
		pfd.revents = 0;
		if (poll(&pfd, 1, 10) > 0 && (pfd.revents & bits) == bits)
			return 0;
	} while (kt_mono() < end);
	return -1;
}

/* Write exactly len bytes; 0 or -1. */
static int send_all(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* Read and discard everything queued on a non-blocking fd. */
static int drain(int fd)
{
	char buf[4096];
	ssize_t n;
	int total = 0;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (int)n;
	return total;
}

static int sock_add(int q, int fd, __u32 mask, __u32 flags, __u64 udata)
{
	struct ukevent ch;

	kevent_prep_fd(&ch, KEVENT_SOCKET, fd, mask, flags, udata);
	return kt_ctl1(q, &ch);
}

static int sock_modify(int q, int fd, __u32 mask, __u32 flags, __u64 udata)
{
	struct ukevent ch;

	kevent_prep_fd(&ch, KEVENT_SOCKET, fd, mask, flags, udata);
	ch.op = KEVENT_CTL_MODIFY;
	return kt_ctl1(q, &ch);
}

/* The fields of a delivered socket event, checked exactly. */
#define CHECK_FIELDS(ev, fd, ev_mask, req, ud)				\
	do {								\
		const struct ukevent *_e = &(ev);			\
									\
		EXPECT_EQ(KEVENT_SOCKET, _e->type);			\
		EXPECT_EQ((__u64)(fd), _e->id);				\
		EXPECT_EQ((__u64)(ud), _e->udata);			\
		EXPECT_EQ((__u32)(req), _e->flags);			\
		EXPECT_EQ(0, _e->op);					\
		EXPECT_EQ((__u32)(ev_mask), _e->event);			\
	} while (0)

FIXTURE(q)
{
	int fd;
	struct ukevent ev[8];
};

FIXTURE_SETUP(q)
{
	signal(SIGPIPE, SIG_IGN);
	self->fd = kt_queue(0, 0);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(q)
{
	close(self->fd);
}

/* TCP RECV */

static void tcp_recv_level(struct __test_metadata *_metadata,
			   struct ukevent *ev, int q, int family)
{
	char buf[16];
	int sv[2], ret;

	ret = tcp_pair(family, sv, NULL);
	if (ret == KT_NOV6)
		SKIP(return, "no IPv6 loopback (::1)");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, sock_add(q, sv[0], KEVENT_SOCKET_RECV, 0, 0xabc));
	/* Nothing to read yet. */
	EXPECT_EQ(0, kt_poll(q, ev, 8));

	ASSERT_EQ(0, send_all(sv[1], "0123456789", 10));
	ASSERT_EQ(0, wait_inq(sv[0], 10, POS_MS));
	ASSERT_EQ(1, kt_get(q, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RECV, 0, 0xabc);
	EXPECT_EQ(0U, ev[0].ret_flags);
	EXPECT_EQ(10ULL, ev[0].data[0]);
	EXPECT_EQ(0ULL, ev[0].data[1]);

	/* Level: still unread, so reported again at the next harvest. */
	ASSERT_EQ(1, kt_poll(q, ev, 8));
	EXPECT_EQ(KEVENT_SOCKET_RECV, ev[0].event);
	EXPECT_EQ(10ULL, ev[0].data[0]);

	/* Partly read: the count follows SIOCINQ. */
	ASSERT_EQ(4, recv(sv[0], buf, 4, MSG_DONTWAIT));
	ASSERT_EQ(1, kt_poll(q, ev, 8));
	EXPECT_EQ(KEVENT_SOCKET_RECV, ev[0].event);
	EXPECT_EQ(6ULL, ev[0].data[0]);

	/* Drained: no longer reported. */
	ASSERT_EQ(6, recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(0, kt_poll(q, ev, 8));
	EXPECT_EQ(0, kt_get(q, ev, 1, 8, NEG_MS));
	close(sv[0]);
	close(sv[1]);
}

TEST_F(q, tcp4_recv_level_bytes)
{
	tcp_recv_level(_metadata, self->ev, self->fd, AF_INET);
}

TEST_F(q, tcp6_recv_level_bytes)
{
	tcp_recv_level(_metadata, self->ev, self->fd, AF_INET6);
}

static void tcp_recv_edge(struct __test_metadata *_metadata,
			  struct ukevent *ev, int q, int family)
{
	int sv[2], ret;

	ret = tcp_pair(family, sv, NULL);
	if (ret == KT_NOV6)
		SKIP(return, "no IPv6 loopback (::1)");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, sock_add(q, sv[0], KEVENT_SOCKET_RECV, KEVENT_REQ_ET, 5));
	EXPECT_EQ(0, kt_poll(q, ev, 8));

	ASSERT_EQ(0, send_all(sv[1], "0123456789", 10));
	ASSERT_EQ(0, wait_inq(sv[0], 10, POS_MS));
	ASSERT_EQ(1, kt_get(q, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RECV, KEVENT_REQ_ET, 5);
	EXPECT_EQ(10ULL, ev[0].data[0]);
	/* Edge: old unread data is not reported again. */
	EXPECT_EQ(0, kt_poll(q, ev, 8));
	EXPECT_EQ(0, kt_get(q, ev, 1, 8, NEG_MS));

	/* A new arrival is a new edge; data[0] counts everything queued. */
	ASSERT_EQ(0, send_all(sv[1], "abcde", 5));
	ASSERT_EQ(0, wait_inq(sv[0], 15, POS_MS));
	ASSERT_EQ(1, kt_get(q, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RECV, KEVENT_REQ_ET, 5);
	EXPECT_EQ(15ULL, ev[0].data[0]);
	EXPECT_EQ(0, kt_get(q, ev, 1, 8, NEG_MS));

	/* Still registered after all that. */
	EXPECT_EQ(0, kt_op(q, KEVENT_SOCKET, sv[0], KEVENT_CTL_REMOVE));
	close(sv[0]);
	close(sv[1]);
}

TEST_F(q, tcp4_recv_edge_once_per_arrival)
{
	tcp_recv_edge(_metadata, self->ev, self->fd, AF_INET);
}

TEST_F(q, tcp6_recv_edge_once_per_arrival)
{
	tcp_recv_edge(_metadata, self->ev, self->fd, AF_INET6);
}

TEST_F(q, tcp4_recv_oneshot_removed)
{
	struct ukevent *ev = self->ev;
	int sv[2];

	ASSERT_EQ(0, tcp_pair(AF_INET, sv, NULL));
	ASSERT_EQ(0, sock_add(self->fd, sv[0], KEVENT_SOCKET_RECV,
			      KEVENT_REQ_ONESHOT, 9));
	ASSERT_EQ(0, send_all(sv[1], "xyz", 3));
	ASSERT_EQ(0, wait_inq(sv[0], 3, POS_MS));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RECV, KEVENT_REQ_ONESHOT, 9);
	EXPECT_EQ(3ULL, ev[0].data[0]);
	/* Removed: not reported although still readable, and gone. */
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, send_all(sv[1], "w", 1));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_SOCKET, sv[0],
				 KEVENT_CTL_REMOVE));
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_SOCKET, sv[0],
				 KEVENT_CTL_ENABLE));
	/* ADD of the same id works again and reports at once (4 bytes). */
	ASSERT_EQ(0, wait_inq(sv[0], 4, POS_MS));
	ASSERT_EQ(0, sock_add(self->fd, sv[0], KEVENT_SOCKET_RECV, 0, 10));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RECV, 0, 10);
	EXPECT_EQ(4ULL, ev[0].data[0]);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(q, tcp4_recv_dispatch_enable)
{
	struct ukevent *ev = self->ev;
	char buf[16];
	int sv[2];

	ASSERT_EQ(0, tcp_pair(AF_INET, sv, NULL));
	ASSERT_EQ(0, sock_add(self->fd, sv[0], KEVENT_SOCKET_RECV,
			      KEVENT_REQ_DISPATCH, 11));
	ASSERT_EQ(0, send_all(sv[1], "ab", 2));
	ASSERT_EQ(0, wait_inq(sv[0], 2, POS_MS));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RECV, KEVENT_REQ_DISPATCH, 11);
	EXPECT_EQ(2ULL, ev[0].data[0]);
	/* Disabled: neither old nor new data is reported. */
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, send_all(sv[1], "cde", 3));
	ASSERT_EQ(0, wait_inq(sv[0], 5, POS_MS));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	/* ENABLE re-polls: still readable, reported with everything queued. */
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_SOCKET, sv[0], KEVENT_CTL_ENABLE));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RECV, KEVENT_REQ_DISPATCH, 11);
	EXPECT_EQ(5ULL, ev[0].data[0]);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	/* Drained, then ENABLE: nothing to report until new data. */
	ASSERT_EQ(5, recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_SOCKET, sv[0], KEVENT_CTL_ENABLE));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	ASSERT_EQ(0, send_all(sv[1], "f", 1));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	EXPECT_EQ(KEVENT_SOCKET_RECV, ev[0].event);
	EXPECT_EQ(1ULL, ev[0].data[0]);
	close(sv[0]);
	close(sv[1]);
}

/* TCP SEND, ACCEPT, RDHUP/HUP, ERR */

TEST_F(q, tcp4_send_writable_at_add)
{
	struct ukevent *ev = self->ev;
	int sv[2];

	ASSERT_EQ(0, tcp_pair(AF_INET, sv, NULL));
	ASSERT_EQ(0, sock_add(self->fd, sv[1], KEVENT_SOCKET_SEND, 0, 12));
	/* Readiness present at ADD is reported immediately. */
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[1], KEVENT_SOCKET_SEND, 0, 12);
	EXPECT_EQ(0U, ev[0].ret_flags);
	EXPECT_EQ(0ULL, ev[0].data[1]);
	/* Level: still writable. */
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(KEVENT_SOCKET_SEND, ev[0].event);
	close(sv[0]);
	close(sv[1]);
}

static void tcp_accept_backlog(struct __test_metadata *_metadata,
			       struct ukevent *ev, int q, int family,
			       __u32 req)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int l, c[3], a, i;

	l = tcp_listener(family, 16, &ss, &len);
	if (l == -KT_NOV6 - 1)
		SKIP(return, "no IPv6 loopback (::1)");
	ASSERT_LE(0, l);
	ASSERT_EQ(0, set_nonblock(l));
	ASSERT_EQ(0, sock_add(q, l, KEVENT_SOCKET_ACCEPT, req, 13));
	EXPECT_EQ(0, kt_poll(q, ev, 8));
	for (i = 0; i < 3; i++) {
		c[i] = tcp_connect(&ss, len);
		ASSERT_LE(0, c[i]);
	}
	ASSERT_EQ(0, wait_backlog(l, 3, POS_MS));
	ASSERT_EQ(1, kt_get(q, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], l, KEVENT_SOCKET_ACCEPT, req, 13);
	EXPECT_EQ(3ULL, ev[0].data[0]);

	a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, a);
	close(a);
	if (!req) {
		/* Level: reported again with the new backlog length. */
		ASSERT_EQ(1, kt_poll(q, ev, 8));
		EXPECT_EQ(KEVENT_SOCKET_ACCEPT, ev[0].event);
		EXPECT_EQ(2ULL, ev[0].data[0]);
	} else {
		/* Edge: no new connection, no new event. */
		EXPECT_EQ(0, kt_poll(q, ev, 8));
	}
	for (i = 0; i < 2; i++) {
		a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		ASSERT_LE(0, a);
		close(a);
	}
	EXPECT_EQ(-1, accept4(l, NULL, NULL, SOCK_CLOEXEC));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, kt_poll(q, ev, 8));
	EXPECT_EQ(0, kt_get(q, ev, 1, 8, NEG_MS));
	for (i = 0; i < 3; i++)
		close(c[i]);
	close(l);
}

TEST_F(q, tcp4_accept_backlog_level)
{
	tcp_accept_backlog(_metadata, self->ev, self->fd, AF_INET, 0);
}

TEST_F(q, tcp6_accept_backlog_edge)
{
	tcp_accept_backlog(_metadata, self->ev, self->fd, AF_INET6,
			   KEVENT_REQ_ET);
}

/*
 * Ring: a level registration has at most one unread entry. Wake-ups while
 * it is unread add none; once it has been read, the next harvest (or the
 * next wake-up) posts one entry with the count as it is then.
 */
TEST(ring_level_one_unread_entry_fresh_count)
{
	struct sockaddr_storage ss;
	struct kevent_ring_map map;
	const struct ukevent *e;
	int q, l, c[4], a, i;
	socklen_t len;

	q = kt_queue(16, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, kevent_ring_mmap(q, 16, &map));
	l = tcp_listener(AF_INET, 16, &ss, &len);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, set_nonblock(l));
	ASSERT_EQ(0, sock_add(q, l, KEVENT_SOCKET_ACCEPT, 0, 21));

	/* Three connections, one at a time: three wake-ups, one entry. */
	for (i = 0; i < 3; i++) {
		c[i] = tcp_connect(&ss, len);
		ASSERT_LE(0, c[i]);
		ASSERT_EQ(0, wait_backlog(l, i + 1, POS_MS));
	}
	ASSERT_EQ(1U, kevent_ring_count(map.ring));
	e = kevent_ring_get(map.ring, 0);
	EXPECT_EQ(21ULL, e->udata);
	EXPECT_EQ(KEVENT_SOCKET_ACCEPT, e->event);
	EXPECT_EQ(1ULL, e->data[0]);
	EXPECT_FALSE(kevent_ring_overflowed(map.ring));

	/* Read it and accept one: the next harvest reports the rest. */
	kevent_ring_advance(map.ring, 1);
	a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, a);
	close(a);
	ASSERT_EQ(1, kevent_wait(q, 1, NULL, NULL));
	ASSERT_EQ(1U, kevent_ring_count(map.ring));
	e = kevent_ring_get(map.ring, 0);
	EXPECT_EQ(21ULL, e->udata);
	EXPECT_EQ(2ULL, e->data[0]);

	/* Read: a new connection posts an entry at once, no syscall. */
	kevent_ring_advance(map.ring, 1);
	c[3] = tcp_connect(&ss, len);
	ASSERT_LE(0, c[3]);
	ASSERT_EQ(0, wait_backlog(l, 3, POS_MS));
	ASSERT_EQ(1U, kevent_ring_count(map.ring));
	EXPECT_EQ(3ULL, kevent_ring_get(map.ring, 0)->data[0]);
	kevent_ring_advance(map.ring, 1);

	for (i = 0; i < 4; i++)
		close(c[i]);
	close(l);
	kevent_ring_munmap(&map);
	close(q);
}

static void tcp_rdhup_hup(struct __test_metadata *_metadata,
			  struct ukevent *ev, int q, int family)
{
	int sv[2], ret;

	ret = tcp_pair(family, sv, NULL);
	if (ret == KT_NOV6)
		SKIP(return, "no IPv6 loopback (::1)");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, sock_add(q, sv[0], KEVENT_SOCKET_RDHUP, 0, 14));
	EXPECT_EQ(0, kt_poll(q, ev, 8));
	/* The peer shuts down writing: RDHUP, EOF, no HUP yet. */
	ASSERT_EQ(0, shutdown(sv[1], SHUT_WR));
	ASSERT_EQ(1, kt_get(q, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RDHUP, 0, 14);
	EXPECT_EQ(KEVENT_RET_EOF, ev[0].ret_flags);
	/* Level: the condition holds. */
	ASSERT_EQ(1, kt_poll(q, ev, 8));
	EXPECT_EQ(KEVENT_SOCKET_RDHUP, ev[0].event);
	/* We shut down writing too: both directions, HUP (always watched). */
	ASSERT_EQ(0, shutdown(sv[0], SHUT_WR));
	ASSERT_EQ(1, kt_get(q, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RDHUP | KEVENT_SOCKET_HUP,
		     0, 14);
	EXPECT_EQ(KEVENT_RET_EOF, ev[0].ret_flags);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(q, tcp4_rdhup_then_hup_after_shutdown)
{
	tcp_rdhup_hup(_metadata, self->ev, self->fd, AF_INET);
}

TEST_F(q, tcp6_rdhup_then_hup_after_shutdown)
{
	tcp_rdhup_hup(_metadata, self->ev, self->fd, AF_INET6);
}

static void tcp_err_reset(struct __test_metadata *_metadata,
			  struct ukevent *ev, int q, int family, __u32 req)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	__u32 want = KEVENT_SOCKET_ERR | KEVENT_SOCKET_HUP | KEVENT_SOCKET_RDHUP;
	socklen_t len = sizeof(int);
	int sv[2], ret, err = 0;

	ret = tcp_pair(family, sv, NULL);
	if (ret == KT_NOV6)
		SKIP(return, "no IPv6 loopback (::1)");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, sock_add(q, sv[0], KEVENT_SOCKET_ERR | KEVENT_SOCKET_RDHUP,
			      req, 15));
	EXPECT_EQ(0, kt_poll(q, ev, 8));
	/* Abortive close of the peer: RST. */
	ASSERT_EQ(0, setsockopt(sv[1], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_EQ(0, close(sv[1]));
	/* The error is set just before the state changes: let both land. */
	ASSERT_EQ(0, wait_pollbits(sv[0], POLLERR | POLLHUP, POS_MS));
	ASSERT_EQ(1, kt_get(q, ev, 1, 8, POS_MS));
	/* After a reset the socket is closed: ERR, HUP and RDHUP hold. */
	CHECK_FIELDS(ev[0], sv[0], want, req, 15);
	EXPECT_EQ((__u32)(KEVENT_RET_ERROR | KEVENT_RET_EOF), ev[0].ret_flags);
	EXPECT_EQ((__u64)ECONNRESET, ev[0].data[1]);
	if (!req) {
		/* The error is not consumed by delivery: reported again. */
		ASSERT_EQ(1, kt_poll(q, ev, 8));
		EXPECT_EQ(want, ev[0].event);
		EXPECT_EQ((__u64)ECONNRESET, ev[0].data[1]);
	} else {
		EXPECT_EQ(0, kt_poll(q, ev, 8));
		EXPECT_EQ(-ENOENT, kt_op(q, KEVENT_SOCKET, sv[0],
					 KEVENT_CTL_REMOVE));
	}
	/* ... and SO_ERROR still returns it. */
	ASSERT_EQ(0, getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &err, &len));
	EXPECT_EQ(ECONNRESET, err);
	close(sv[0]);
}

TEST_F(q, tcp4_err_econnreset_after_rst)
{
	tcp_err_reset(_metadata, self->ev, self->fd, AF_INET, 0);
}

TEST_F(q, tcp6_err_econnreset_after_rst_oneshot)
{
	tcp_err_reset(_metadata, self->ev, self->fd, AF_INET6,
		      KEVENT_REQ_ONESHOT);
}

/* UDP */

/* Level mode re-reads the count at each harvest: wait until it is n. */
static int harvest_count(int q, struct ukevent *ev, __u64 n)
{
	__u64 end = kt_mono() + POS_MS * NSEC_PER_MSEC;
	int ret;

	do {
		ret = kt_get(q, ev, 1, 8, 100);
		if (ret != 1 || ev[0].data[0] == n)
			return ret;
		kt_sleep_ms(2);
	} while (kt_mono() < end);
	return ret;
}

TEST_F(q, udp_recv_level_packets)
{
	struct ukevent *ev = self->ev;
	char buf[64];
	int sv[2];

	ASSERT_EQ(0, udp_pair(sv));
	ASSERT_EQ(0, sock_add(self->fd, sv[0], KEVENT_SOCKET_RECV, 0, 16));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, send_all(sv[1], "one", 3));
	ASSERT_EQ(0, send_all(sv[1], "two!", 4));
	ASSERT_EQ(0, send_all(sv[1], "three", 5));
	/* data[0] counts packets, not bytes. */
	ASSERT_EQ(1, harvest_count(self->fd, ev, 3));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RECV, 0, 16);
	EXPECT_EQ(3ULL, ev[0].data[0]);
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(3ULL, ev[0].data[0]);
	ASSERT_EQ(3, recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(KEVENT_SOCKET_RECV, ev[0].event);
	EXPECT_EQ(2ULL, ev[0].data[0]);
	ASSERT_EQ(4, recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(5, recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	close(sv[0]);
	close(sv[1]);
}

TEST_F(q, udp_recv_edge_and_send)
{
	struct ukevent *ev = self->ev;
	int sv[2];

	ASSERT_EQ(0, udp_pair(sv));
	ASSERT_EQ(0, sock_add(self->fd, sv[0], KEVENT_SOCKET_RECV,
			      KEVENT_REQ_ET, 17));
	ASSERT_EQ(0, sock_add(self->fd, sv[1], KEVENT_SOCKET_SEND,
			      KEVENT_REQ_ONESHOT, 18));
	/* The sender is writable at once (oneshot: only once). */
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[1], KEVENT_SOCKET_SEND, KEVENT_REQ_ONESHOT, 18);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_SOCKET, sv[1],
				 KEVENT_CTL_REMOVE));

	ASSERT_EQ(0, send_all(sv[1], "p1", 2));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RECV, KEVENT_REQ_ET, 17);
	EXPECT_EQ(1ULL, ev[0].data[0]);
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	ASSERT_EQ(0, send_all(sv[1], "p2", 2));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RECV, KEVENT_REQ_ET, 17);
	EXPECT_EQ(2ULL, ev[0].data[0]);
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	close(sv[0]);
	close(sv[1]);
}

/* UNIX stream */

TEST_F(q, unix_stream_recv_edge_packets)
{
	struct ukevent *ev = self->ev;
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, sock_add(self->fd, sv[0], KEVENT_SOCKET_RECV,
			      KEVENT_REQ_ET, 19));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, send_all(sv[1], "abc", 3));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RECV, KEVENT_REQ_ET, 19);
	/* Not TCP: data[0] counts the queued packets (one write each). */
	EXPECT_EQ(1ULL, ev[0].data[0]);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, send_all(sv[1], "de", 2));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	EXPECT_EQ(KEVENT_SOCKET_RECV, ev[0].event);
	EXPECT_EQ(2ULL, ev[0].data[0]);
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	EXPECT_EQ(5, inq(sv[0]));
	close(sv[0]);
	close(sv[1]);
}

static int unix_listener(struct sockaddr_un *sun, socklen_t *len, int type)
{
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	/* Abstract address: nothing to clean up. */
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1,
		 "kevent-test-%d-%d", (int)getpid(), fd);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			   strlen(sun->sun_path + 1));
	if (bind(fd, (struct sockaddr *)sun, *len) || listen(fd, 16)) {
		close(fd);
		return -1;
	}
	return fd;
}

TEST_F(q, unix_stream_accept_backlog_oneshot)
{
	struct ukevent *ev = self->ev;
	struct sockaddr_un sun;
	socklen_t len;
	int l, c[2], a, i;

	l = unix_listener(&sun, &len, SOCK_STREAM);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, set_nonblock(l));
	ASSERT_EQ(0, sock_add(self->fd, l, KEVENT_SOCKET_ACCEPT,
			      KEVENT_REQ_ONESHOT, 20));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	for (i = 0; i < 2; i++) {
		c[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ASSERT_LE(0, c[i]);
		ASSERT_EQ(0, connect(c[i], (struct sockaddr *)&sun, len));
	}
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], l, KEVENT_SOCKET_ACCEPT, KEVENT_REQ_ONESHOT, 20);
	EXPECT_EQ(2ULL, ev[0].data[0]);
	/* Oneshot: gone. */
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_SOCKET, l,
				 KEVENT_CTL_REMOVE));
	/* Level re-registration reports the remaining backlog. */
	a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, a);
	close(a);
	ASSERT_EQ(0, sock_add(self->fd, l, KEVENT_SOCKET_ACCEPT, 0, 21));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], l, KEVENT_SOCKET_ACCEPT, 0, 21);
	EXPECT_EQ(1ULL, ev[0].data[0]);
	a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, a);
	close(a);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	for (i = 0; i < 2; i++)
		close(c[i]);
	close(l);
}

TEST_F(q, unix_stream_rdhup_hup_dispatch)
{
	struct ukevent *ev = self->ev;
	__u32 req = KEVENT_REQ_DISPATCH;
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, sock_add(self->fd, sv[0], KEVENT_SOCKET_RDHUP, req, 22));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, shutdown(sv[1], SHUT_WR));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RDHUP, req, 22);
	EXPECT_EQ(KEVENT_RET_EOF, ev[0].ret_flags);
	/* Dispatch: disabled now, even when HUP follows. */
	ASSERT_EQ(0, shutdown(sv[0], SHUT_WR));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_SOCKET, sv[0], KEVENT_CTL_ENABLE));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RDHUP | KEVENT_SOCKET_HUP,
		     req, 22);
	EXPECT_EQ(KEVENT_RET_EOF, ev[0].ret_flags);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	close(sv[0]);
	close(sv[1]);
}

/* Fill a UNIX stream socket's send buffer (non-blocking). */
static int fill_unix(int fd)
{
	char buf[1024];
	int total = 0, i;

	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < 100000; i++) {
		ssize_t n = send(fd, buf, sizeof(buf),
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN ? total : -1;
		total += (int)n;
	}
	return -1;
}

TEST_F(q, unix_stream_send_edge_after_full)
{
	struct ukevent *ev = self->ev;
	int sv[2], sz = 4096, filled;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)));
	ASSERT_EQ(0, sock_add(self->fd, sv[1], KEVENT_SOCKET_SEND,
			      KEVENT_REQ_ET, 23));
	/* Writable at ADD: one edge. */
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[1], KEVENT_SOCKET_SEND, KEVENT_REQ_ET, 23);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	filled = fill_unix(sv[1]);
	ASSERT_LT(0, filled);
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	/* The reader frees the space: a new SEND edge. */
	EXPECT_EQ(filled, drain(sv[0]));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[1], KEVENT_SOCKET_SEND, KEVENT_REQ_ET, 23);
	EXPECT_EQ(0U, ev[0].ret_flags);
	close(sv[0]);
	close(sv[1]);
}

/* UNIX datagram and seqpacket */

TEST_F(q, unix_dgram_recv_dispatch_packets)
{
	struct ukevent *ev = self->ev;
	__u32 req = KEVENT_REQ_DISPATCH;
	char buf[16];
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, sock_add(self->fd, sv[0], KEVENT_SOCKET_RECV, req, 24));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, send_all(sv[1], "a", 1));
	ASSERT_EQ(0, send_all(sv[1], "bb", 2));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RECV, req, 24);
	EXPECT_EQ(2ULL, ev[0].data[0]);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, send_all(sv[1], "ccc", 3));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	ASSERT_EQ(1, recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(0, kt_op(self->fd, KEVENT_SOCKET, sv[0], KEVENT_CTL_ENABLE));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RECV, req, 24);
	EXPECT_EQ(2ULL, ev[0].data[0]);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(q, unix_dgram_send_level)
{
	struct ukevent *ev = self->ev;
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, sock_add(self->fd, sv[1], KEVENT_SOCKET_SEND, 0, 25));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[1], KEVENT_SOCKET_SEND, 0, 25);
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	CHECK_FIELDS(ev[0], sv[1], KEVENT_SOCKET_SEND, 0, 25);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(q, unix_seqpacket_recv_level_packets)
{
	struct ukevent *ev = self->ev;
	char buf[16];
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, sock_add(self->fd, sv[0], KEVENT_SOCKET_RECV, 0, 26));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, send_all(sv[1], "12", 2));
	ASSERT_EQ(0, send_all(sv[1], "345", 3));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RECV, 0, 26);
	EXPECT_EQ(2ULL, ev[0].data[0]);
	ASSERT_EQ(2, recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(1ULL, ev[0].data[0]);
	ASSERT_EQ(3, recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	close(sv[0]);
	close(sv[1]);
}

TEST_F(q, unix_seqpacket_rdhup_hup_edge)
{
	struct ukevent *ev = self->ev;
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, sock_add(self->fd, sv[0], KEVENT_SOCKET_RDHUP,
			      KEVENT_REQ_ET, 27));
	ASSERT_EQ(0, shutdown(sv[1], SHUT_WR));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RDHUP, KEVENT_REQ_ET, 27);
	EXPECT_EQ(KEVENT_RET_EOF, ev[0].ret_flags);
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	/* The peer goes away entirely: a new edge with HUP. */
	ASSERT_EQ(0, close(sv[1]));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RDHUP | KEVENT_SOCKET_HUP,
		     KEVENT_REQ_ET, 27);
	EXPECT_EQ(KEVENT_RET_EOF, ev[0].ret_flags);
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	close(sv[0]);
}

/* MODIFY and argument checks */

TEST_F(q, socket_modify_recv_to_send_reports_at_once)
{
	struct ukevent *ev = self->ev;
	int sv[2];

	ASSERT_EQ(0, tcp_pair(AF_INET, sv, NULL));
	ASSERT_EQ(0, sock_add(self->fd, sv[0], KEVENT_SOCKET_RECV, 0, 28));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, sock_modify(self->fd, sv[0], KEVENT_SOCKET_SEND, 0, 29));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_SEND, 0, 29);
	/* Back to RECV only: nothing readable, nothing reported. */
	ASSERT_EQ(0, sock_modify(self->fd, sv[0], KEVENT_SOCKET_RECV, 0, 30));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	ASSERT_EQ(0, send_all(sv[1], "q", 1));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RECV, 0, 30);
	EXPECT_EQ(1ULL, ev[0].data[0]);
	/* MODIFY of something not registered. */
	EXPECT_EQ(-ENOENT, sock_modify(self->fd, sv[1], KEVENT_SOCKET_SEND,
				       0, 0));
	close(sv[0]);
	close(sv[1]);
}

TEST_F(q, socket_add_errors)
{
	struct ukevent ch;
	int sv[2], p[2], bad;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	/* Not a socket. */
	EXPECT_EQ(-ENOTSOCK, sock_add(self->fd, p[0], KEVENT_SOCKET_RECV, 0, 0));
	/* Not an open fd. */
	bad = dup(p[0]);
	ASSERT_LE(0, bad);
	close(bad);
	EXPECT_EQ(-EBADF, sock_add(self->fd, bad, KEVENT_SOCKET_RECV, 0, 0));
	kevent_prep(&ch, KEVENT_SOCKET, (__u64)INT_MAX + 1, KEVENT_CTL_ADD, 0,
		    KEVENT_SOCKET_RECV, 0);
	EXPECT_EQ(-EBADF, kt_ctl1(self->fd, &ch));
	kevent_prep(&ch, KEVENT_SOCKET, 1ULL << 32 | (unsigned int)sv[0],
		    KEVENT_CTL_ADD, 0, KEVENT_SOCKET_RECV, 0);
	EXPECT_EQ(-EBADF, kt_ctl1(self->fd, &ch));
	/* Unknown event bit, non-zero data. */
	EXPECT_EQ(-EINVAL, sock_add(self->fd, sv[0], 1U << 6, 0, 0));
	kevent_prep_fd(&ch, KEVENT_SOCKET, sv[0], KEVENT_SOCKET_RECV, 0, 0);
	ch.data[3] = 1;
	EXPECT_EQ(-EINVAL, kt_ctl1(self->fd, &ch));
	/* ONESHOT together with DISPATCH. */
	EXPECT_EQ(-EINVAL, sock_add(self->fd, sv[0], KEVENT_SOCKET_RECV,
				    KEVENT_REQ_ONESHOT | KEVENT_REQ_DISPATCH,
				    0));
	/* None of these left a registration behind. */
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_SOCKET, sv[0],
				 KEVENT_CTL_REMOVE));
	EXPECT_EQ(0, sock_add(self->fd, sv[0], KEVENT_SOCKET_RECV, 0, 0));
	EXPECT_EQ(-EEXIST, sock_add(self->fd, sv[0], KEVENT_SOCKET_SEND, 0, 0));
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

/* Batched registration */

TEST_F(q, socket_batch_accepted_recv_and_send_one_ctl)
{
	struct ukevent ch[2], *ev = self->ev;
	int sv[2], i, got_sock = 0, got_poll = 0;

	ASSERT_EQ(0, tcp_pair(AF_INET, sv, NULL));
	/*
	 * The key is (type, id): RECV through the socket source and write
	 * space through the poll source, on the same fresh socket.
	 */
	kevent_prep_fd(&ch[0], KEVENT_SOCKET, sv[0], KEVENT_SOCKET_RECV, 0, 31);
	kevent_prep_fd(&ch[1], KEVENT_POLL, sv[0], POLLOUT, 0, 32);
	ch[0].result = 0x7eadbeef;
	ch[1].result = 0x7eadbeef;
	ASSERT_EQ(0, kevent_ctl(self->fd, ch, 2, 0));
	EXPECT_EQ(0, ch[0].result);
	EXPECT_EQ(0, ch[1].result);
	ASSERT_EQ(0, send_all(sv[1], "hello", 5));
	ASSERT_EQ(0, wait_inq(sv[0], 5, POS_MS));
	ASSERT_EQ(2, kt_get(self->fd, ev, 2, 8, POS_MS));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ((__u64)sv[0], ev[i].id);
		if (ev[i].type == KEVENT_SOCKET) {
			got_sock++;
			EXPECT_EQ(KEVENT_SOCKET_RECV, ev[i].event);
			EXPECT_EQ(5ULL, ev[i].data[0]);
			EXPECT_EQ(31ULL, ev[i].udata);
		} else {
			got_poll++;
			EXPECT_EQ(KEVENT_POLL, ev[i].type);
			EXPECT_EQ((__u32)POLLOUT, ev[i].event);
			EXPECT_EQ(32ULL, ev[i].udata);
		}
	}
	EXPECT_EQ(1, got_sock);
	EXPECT_EQ(1, got_poll);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(q, socket_batch_add_then_modify_one_ctl)
{
	struct ukevent ch[3], *ev = self->ev;
	int sv[2];

	ASSERT_EQ(0, tcp_pair(AF_INET, sv, NULL));
	ASSERT_EQ(0, send_all(sv[1], "abc", 3));
	ASSERT_EQ(0, wait_inq(sv[0], 3, POS_MS));
	/* ADD RECV, a second ADD (EEXIST), MODIFY to RECV|SEND. */
	kevent_prep_fd(&ch[0], KEVENT_SOCKET, sv[0], KEVENT_SOCKET_RECV, 0, 33);
	kevent_prep_fd(&ch[1], KEVENT_SOCKET, sv[0], KEVENT_SOCKET_SEND, 0, 34);
	kevent_prep_fd(&ch[2], KEVENT_SOCKET, sv[0],
		       KEVENT_SOCKET_RECV | KEVENT_SOCKET_SEND, 0, 35);
	ch[2].op = KEVENT_CTL_MODIFY;
	ASSERT_EQ(1, kevent_ctl(self->fd, ch, 3, 0));
	EXPECT_EQ(0, ch[0].result);
	EXPECT_EQ(-EEXIST, ch[1].result);
	EXPECT_EQ(0, ch[2].result);
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], sv[0], KEVENT_SOCKET_RECV | KEVENT_SOCKET_SEND,
		     0, 35);
	EXPECT_EQ(3ULL, ev[0].data[0]);
	/* Level: reported again with both conditions. */
	ASSERT_EQ(1, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(KEVENT_SOCKET_RECV | KEVENT_SOCKET_SEND, ev[0].event);
	close(sv[0]);
	close(sv[1]);
}

#define NBATCH	64

TEST_F(q, socket_batch_64_in_one_ctl)
{
	struct ukevent ch[NBATCH], ev[2 * NBATCH];
	int sv[NBATCH][2], seen[NBATCH], i, n;

	for (i = 0; i < NBATCH; i++) {
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0,
					sv[i]));
		kevent_prep_fd(&ch[i], KEVENT_SOCKET, sv[i][0],
			       KEVENT_SOCKET_RECV, KEVENT_REQ_ET, 1000 + i);
		ch[i].result = 0x7eadbeef;
		seen[i] = 0;
	}
	ASSERT_EQ(0, kevent_ctl(self->fd, ch, NBATCH, 0));
	for (i = 0; i < NBATCH; i++)
		EXPECT_EQ(0, ch[i].result);
	EXPECT_EQ(0, kt_poll(self->fd, ev, 2 * NBATCH));
	for (i = 0; i < NBATCH; i++)
		ASSERT_EQ(0, send_all(sv[i][1], &i, sizeof(i)));
	n = kt_get(self->fd, ev, NBATCH, 2 * NBATCH, POS_MS);
	ASSERT_EQ(NBATCH, n);
	for (i = 0; i < n; i++) {
		int k = (int)(ev[i].udata - 1000);

		ASSERT_TRUE(k >= 0 && k < NBATCH);
		EXPECT_EQ((__u64)sv[k][0], ev[i].id);
		EXPECT_EQ(KEVENT_SOCKET_RECV, ev[i].event);
		EXPECT_EQ(1ULL, ev[i].data[0]);
		seen[k]++;
	}
	for (i = 0; i < NBATCH; i++)
		EXPECT_EQ(1, seen[i]);
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 2 * NBATCH, NEG_MS));
	for (i = 0; i < NBATCH; i++) {
		close(sv[i][0]);
		close(sv[i][1]);
	}
}

/* Lifetime: close, fd reuse, dup, fork, SCM_RIGHTS */

TEST_F(q, socket_fd_reuse_no_stale_event)
{
	struct ukevent *ev = self->ev;
	int sv[2], nv[2], old;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	old = sv[0];
	ASSERT_EQ(0, sock_add(self->fd, old, KEVENT_SOCKET_RECV, 0, 36));
	/* Last reference: the registration goes away with the file. */
	ASSERT_EQ(0, close(old));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, nv));
	ASSERT_EQ(old, nv[0]);
	ASSERT_EQ(0, send_all(nv[1], "new", 3));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_SOCKET, old,
				 KEVENT_CTL_REMOVE));
	/* The number can be registered again, for the new socket. */
	ASSERT_EQ(0, sock_add(self->fd, nv[0], KEVENT_SOCKET_RECV, 0, 37));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], nv[0], KEVENT_SOCKET_RECV, 0, 37);
	EXPECT_EQ(1ULL, ev[0].data[0]);
	close(nv[0]);
	close(nv[1]);
	close(sv[1]);
}

TEST_F(q, socket_dup_keeps_registration)
{
	struct ukevent *ev = self->ev;
	int sv[2], d, id;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	id = sv[0];
	ASSERT_EQ(0, sock_add(self->fd, id, KEVENT_SOCKET_RECV, 0, 38));
	d = fcntl(id, F_DUPFD_CLOEXEC, 100);
	ASSERT_LE(100, d);
	ASSERT_EQ(0, close(id));
	/* The file lives on through the dup: still reported, by old id. */
	ASSERT_EQ(0, send_all(sv[1], "x", 1));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], id, KEVENT_SOCKET_RECV, 0, 38);
	EXPECT_EQ(1ULL, ev[0].data[0]);
	/* The dup's number is not a registration. */
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_SOCKET, d,
				 KEVENT_CTL_DISABLE));
	/* Last reference gone: so is the registration. */
	ASSERT_EQ(0, close(d));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_SOCKET, id,
				 KEVENT_CTL_REMOVE));
	close(sv[1]);
}

TEST_F(q, socket_remove_by_id_after_dup_close)
{
	struct ukevent *ev = self->ev;
	int sv[2], d, id;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	id = sv[0];
	ASSERT_EQ(0, sock_add(self->fd, id, KEVENT_SOCKET_RECV, 0, 39));
	d = fcntl(id, F_DUPFD_CLOEXEC, 100);
	ASSERT_LE(100, d);
	ASSERT_EQ(0, close(id));
	/* REMOVE by id works while the file lives (unlike EPOLL_CTL_DEL). */
	EXPECT_EQ(0, kt_op(self->fd, KEVENT_SOCKET, id, KEVENT_CTL_REMOVE));
	ASSERT_EQ(0, send_all(sv[1], "x", 1));
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_SOCKET, id,
				 KEVENT_CTL_REMOVE));
	close(d);
	close(sv[1]);
}

/* Child: wait for one byte on ctl, then exit (closing everything). */
static void child_wait_then_exit(int ctl)
{
	char c;

	_exit(read(ctl, &c, 1) == 1 ? 0 : 1);
}

TEST_F(q, socket_fork_child_keeps_registration)
{
	struct ukevent *ev = self->ev;
	int sv[2], ctl[2], id, status;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, pipe2(ctl, O_CLOEXEC));
	id = sv[0];
	ASSERT_EQ(0, sock_add(self->fd, id, KEVENT_SOCKET_RECV, 0, 40));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(ctl[1]);
		child_wait_then_exit(ctl[0]);
	}
	close(ctl[0]);
	/* The child still holds the socket. */
	ASSERT_EQ(0, close(id));
	ASSERT_EQ(0, send_all(sv[1], "f", 1));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], id, KEVENT_SOCKET_RECV, 0, 40);
	EXPECT_EQ(1ULL, ev[0].data[0]);
	/* The child exits: last reference, registration gone. */
	ASSERT_EQ(1, write(ctl[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_SOCKET, id,
				 KEVENT_CTL_REMOVE));
	close(ctl[1]);
	close(sv[1]);
}

static int send_fd(int via, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))], b = 'F';
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(via, &mh, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

static int recv_fd(int via)
{
	char cbuf[CMSG_SPACE(sizeof(int))], b;
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(via, &mh, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

TEST_F(q, socket_scm_rights_receiver_keeps_registration)
{
	struct ukevent *ev = self->ev;
	int sv[2], ctl[2], id, status;
	pid_t pid;
	char c;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl));
	set_timeouts(ctl[0], POS_MS);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd;

		/* Hold only what is received; drop everything inherited. */
		close(ctl[0]);
		close(sv[0]);
		close(sv[1]);
		close(self->fd);
		set_timeouts(ctl[1], 5000);
		fd = recv_fd(ctl[1]);
		if (fd < 0 || write(ctl[1], "r", 1) != 1)
			_exit(2);
		if (read(ctl[1], &c, 1) != 1)
			_exit(3);
		close(fd);
		_exit(write(ctl[1], "c", 1) == 1 ? 0 : 4);
	}
	close(ctl[1]);
	id = sv[0];
	ASSERT_EQ(0, sock_add(self->fd, id, KEVENT_SOCKET_RECV, 0, 41));
	ASSERT_EQ(0, send_fd(ctl[0], id));
	ASSERT_EQ(1, read(ctl[0], &c, 1));
	ASSERT_EQ('r', c);
	/* Only the receiver holds the socket now. */
	ASSERT_EQ(0, close(id));
	ASSERT_EQ(0, send_all(sv[1], "s", 1));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], id, KEVENT_SOCKET_RECV, 0, 41);
	EXPECT_EQ(1ULL, ev[0].data[0]);
	/* The receiver closes it: gone. */
	ASSERT_EQ(1, write(ctl[0], "x", 1));
	ASSERT_EQ(1, read(ctl[0], &c, 1));
	ASSERT_EQ('c', c);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	EXPECT_EQ(0, kt_poll(self->fd, ev, 8));
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_SOCKET, id,
				 KEVENT_CTL_REMOVE));
	close(ctl[0]);
	close(sv[1]);
}

/* Closing the watched socket while a thread waits on the queue. */
static void check_close_wake(struct __test_metadata *_metadata,
			     struct kt_waiter *w, int id)
{
	EXPECT_EQ(0, w->err);
	EXPECT_LE(0, w->ret);
	EXPECT_GE(1, w->ret);
	if (w->ret == 1) {
		EXPECT_EQ(KEVENT_SOCKET, w->evs[0].type);
		EXPECT_EQ((__u64)id, w->evs[0].id);
		EXPECT_EQ(KEVENT_SOCKET_HUP, w->evs[0].event & KEVENT_SOCKET_HUP);
	}
}

TEST_F(q, socket_close_races_blocked_waiter)
{
	struct kt_waiter w;
	int sv[2], i;

	/* One waiter known to be asleep, then quick rounds. */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, sock_add(self->fd, sv[0], KEVENT_SOCKET_RECV, 0, 42));
	ASSERT_EQ(0, kt_waiter_start(&w, self->fd, 0, 1, 200));
	ASSERT_EQ(0, close(sv[0]));
	ASSERT_EQ(0, pthread_join(w.thread, NULL));
	check_close_wake(_metadata, &w, sv[0]);
	EXPECT_GE(1500U, kt_waiter_ms(&w));
	close(sv[1]);
	EXPECT_EQ(-ENOENT, kt_op(self->fd, KEVENT_SOCKET, sv[0],
				 KEVENT_CTL_REMOVE));

	for (i = 0; i < 10; i++) {
		memset(&w, 0, sizeof(w));
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
					0, sv));
		ASSERT_EQ(0, sock_add(self->fd, sv[0], KEVENT_SOCKET_RECV |
				      KEVENT_SOCKET_RDHUP, 0, 43));
		w.fd = self->fd;
		w.min_nr = 1;
		w.max_nr = 1;
		w.timeout_ms = 20;
		ASSERT_EQ(0, pthread_create(&w.thread, NULL, kt_waiter_fn, &w));
		if (i & 1)
			sched_yield();
		ASSERT_EQ(0, close(sv[0]));
		ASSERT_EQ(0, pthread_join(w.thread, NULL));
		check_close_wake(_metadata, &w, sv[0]);
		close(sv[1]);
	}
	/* The queue still works. */
	ASSERT_EQ(0, kt_user_add(self->fd, 1, 0, 44));
	ASSERT_EQ(0, kt_trigger(self->fd, 1, 5));
	ASSERT_EQ(1, kt_get(self->fd, self->ev, 1, 8, POS_MS));
	EXPECT_EQ(KEVENT_USER, self->ev[0].type);
	EXPECT_EQ(44ULL, self->ev[0].udata);
}

/* Scale: accept storm and 1000 connections through the ring */

#define NSTORM	200

TEST_F(q, tcp_accept_storm_200)
{
	struct ukevent *ev = self->ev;
	struct sockaddr_storage ss;
	socklen_t len;
	int l, c[NSTORM], i, n, a, accepted = 0, events = 0;
	__u64 end;

	l = tcp_listener(AF_INET, 256, &ss, &len);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, set_nonblock(l));
	ASSERT_EQ(0, sock_add(self->fd, l, KEVENT_SOCKET_ACCEPT,
			      KEVENT_REQ_ET, 45));
	for (i = 0; i < NSTORM; i++) {
		c[i] = tcp_connect(&ss, len);
		ASSERT_LE(0, c[i]) TH_LOG("connect %d: %s", i, strerror(errno));
	}
	ASSERT_EQ(0, wait_backlog(l, NSTORM, POS_MS));
	ASSERT_EQ(1, kt_get(self->fd, ev, 1, 8, POS_MS));
	CHECK_FIELDS(ev[0], l, KEVENT_SOCKET_ACCEPT, KEVENT_REQ_ET, 45);
	EXPECT_EQ((__u64)NSTORM, ev[0].data[0]);
	events++;
	/* Drain with accept4 until EAGAIN; repeat on any further event. */
	end = kt_mono() + 5 * NSEC_PER_SEC;
	for (;;) {
		while ((a = accept4(l, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
			accepted++;
			close(a);
		}
		ASSERT_EQ(EAGAIN, errno);
		if (accepted >= NSTORM || kt_mono() > end)
			break;
		n = kt_get(self->fd, ev, 1, 8, 200);
		ASSERT_LE(0, n);
		events += n;
	}
	EXPECT_EQ(NSTORM, accepted);
	EXPECT_EQ(1, events);
	EXPECT_EQ(0, kt_get(self->fd, ev, 1, 8, NEG_MS));
	EXPECT_EQ(0, tcp_backlog(l));
	for (i = 0; i < NSTORM; i++)
		close(c[i]);
	close(l);
}

#define NCONN	1000
#define NRING	1024

TEST_F_TIMEOUT(q, tcp_1000_connections_ring_recv, 120)
{
	static int srv[NCONN], cli[NCONN];
	static unsigned char seen[NCONN];
	struct ukevent ch[64], *e;
	struct kevent_ring_map map;
	struct sockaddr_storage ss;
	struct rlimit rl;
	socklen_t len;
	unsigned int i, nr, j, k;
	int q, l, n, events = 0, distinct = 0, idle = 0;
	__u64 t0, end, tag;

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < 4096) {
		rl.rlim_cur = 4096;
		if (rl.rlim_max < 4096)
			rl.rlim_max = 4096;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			SKIP(return, "cannot raise RLIMIT_NOFILE to 4096");
	}

	t0 = kt_mono();
	q = kt_queue(NRING, 0);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, kevent_ring_mmap(q, NRING, &map));
	l = tcp_listener(AF_INET, 1024, &ss, &len);
	ASSERT_LE(0, l);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < NCONN; i++) {
		cli[i] = tcp_connect(&ss, len);
		ASSERT_LE(0, cli[i]) TH_LOG("connect %u: %s", i, strerror(errno));
		srv[i] = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		ASSERT_LE(0, srv[i]) TH_LOG("accept %u: %s", i, strerror(errno));
	}
	/* Register in batches of 64; udata = index. */
	for (i = 0; i < NCONN; i += 64) {
		nr = NCONN - i < 64 ? NCONN - i : 64;
		for (j = 0; j < nr; j++)
			kevent_prep_fd(&ch[j], KEVENT_SOCKET, srv[i + j],
				       KEVENT_SOCKET_RECV, 0, i + j);
		ASSERT_EQ(0, kevent_ctl(q, ch, nr, 0));
	}
	ASSERT_EQ(0U, kevent_ring_count(map.ring));
	for (i = 0; i < NCONN; i++) {
		tag = 0x6b65000000000000ULL | i;
		ASSERT_EQ(0, send_all(cli[i], &tag, sizeof(tag)));
	}
	end = kt_mono() + 60 * NSEC_PER_SEC;
	while (distinct < NCONN && kt_mono() < end && idle < 3) {
		n = kt_wait(q, 1, 1000);
		ASSERT_LE(0, n);
		if (!n) {
			idle++;
			continue;
		}
		nr = kevent_ring_count(map.ring);
		for (j = 0; j < nr; j++) {
			e = kevent_ring_get(map.ring, j);
			events++;
			k = (unsigned int)e->udata;
			ASSERT_GT((unsigned int)NCONN, k);
			EXPECT_EQ(KEVENT_SOCKET, e->type);
			EXPECT_EQ((__u64)srv[k], e->id);
			EXPECT_EQ(KEVENT_SOCKET_RECV, e->event);
			EXPECT_EQ(8ULL, e->data[0]);
			if (!seen[k]++)
				distinct++;
			/* Read before freeing the slot: level stays quiet. */
			tag = 0;
			EXPECT_EQ(8, recv(srv[k], &tag, sizeof(tag), 0));
			EXPECT_EQ(0x6b65000000000000ULL | k, tag);
		}
		kevent_ring_advance(map.ring, nr);
	}
	EXPECT_EQ(NCONN, distinct);
	EXPECT_EQ(NCONN, events);
	/* Nothing further: every socket was drained. */
	EXPECT_EQ(0, kt_wait(q, 1, NEG_MS));
	TH_LOG("%d connections, %d events in %llu ms", NCONN, events,
	       (unsigned long long)((kt_mono() - t0) / NSEC_PER_MSEC));
	kevent_ring_munmap(&map);
	close(q);
	for (i = 0; i < NCONN; i++) {
		close(cli[i]);
		close(srv[i]);
	}
	close(l);
}

TEST_HARNESS_MAIN
