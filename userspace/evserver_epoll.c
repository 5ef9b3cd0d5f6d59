// SPDX-License-Identifier: GPL-2.0
/*
 * evserver_epoll - the benchmark HTTP server on epoll, best practice.
 *
 * Non-blocking sockets; the listener is level-triggered and drained with
 * accept4() until EAGAIN; connections are edge-triggered (EPOLLET) and
 * read until a read returns less than the buffer or EAGAIN (until EOF
 * with EPOLLRDHUP, so a FIN that came with the data is seen); responses are
 * written at once and EPOLLOUT is only added (EPOLL_CTL_MOD) while a write
 * is partial. epoll_wait() harvests up to 512 events per call.
 *
 * HTTP handling is the shared httpcore.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpcore.h"

#define MAX_EVENTS		512
#define LISTENER_KEY		UINT64_MAX

static void conn_close(struct http_conn *c)
{
	close(c->fd);
	STAT_INC(c->t, closes);
	http_conn_free(c);
}

static void conn_set_write(int epfd, struct http_conn *c, bool on)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (on ? EPOLLOUT : 0),
		.data.u64 = http_conn_key(c),
	};

	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev))
		http_die("epoll_ctl MOD: %s", strerror(errno));
	STAT_INC(c->t, ev_ctl);
	c->want_write = on;
}

static void do_accept(struct http_thread *t, int epfd)
{
	struct http_conn *c;

	while ((c = http_accept(t))) {
		struct epoll_event ev = {
			.events = EPOLLIN | EPOLLRDHUP | EPOLLET,
			.data.u64 = http_conn_key(c),
		};

		STAT_INC(t, ev_ctl);
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev)) {
			http_warn("epoll_ctl ADD: %s", strerror(errno));
			conn_close(c);
		}
	}
}

static void loop(struct http_thread *t)
{
	struct epoll_event evs[MAX_EVENTS];
	struct epoll_event ev = {
		.events = EPOLLIN,
		.data.u64 = LISTENER_KEY,
	};
	int epfd = epoll_create1(EPOLL_CLOEXEC);

	if (epfd < 0)
		http_die("epoll_create1: %s", strerror(errno));
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, t->lfd, &ev))
		http_die("epoll_ctl ADD listener: %s", strerror(errno));

	for (;;) {
		int i, n = epoll_wait(epfd, evs, MAX_EVENTS, -1);

		STAT_INC(t, ev_wait);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			http_die("epoll_wait: %s", strerror(errno));
		}
		STAT_ADD(t, events, (unsigned long)n);
		for (i = 0; i < n; i++) {
			uint32_t mask = evs[i].events;
			struct http_conn *c;
			int ret;

			if (evs[i].data.u64 == LISTENER_KEY) {
				do_accept(t, epfd);
				continue;
			}
			c = http_conn_lookup(t, evs[i].data.u64);
			if (!c)
				continue;
			if (mask & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				ret = http_conn_on_readable(c, 0, mask &
					(EPOLLRDHUP | EPOLLHUP | EPOLLERR));
			else if (c->want_write)
				ret = http_conn_on_writable(c);
			else
				continue;
			if (ret == HTTP_CLOSE)
				conn_close(c);
			else if ((ret == HTTP_WANT_WRITE) != c->want_write)
				conn_set_write(epfd, c, ret == HTTP_WANT_WRITE);
		}
	}
}

static const struct http_server server = {
	.name	= "evserver_epoll",
	.loop	= loop,
};

int main(int argc, char **argv)
{
	return http_main(&server, argc, argv);
}
