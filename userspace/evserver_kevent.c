// SPDX-License-Identifier: GPL-2.0
/*
 * evserver_kevent - the benchmark HTTP server on kevent.
 *
 * The listener is registered as KEVENT_SOCKET / KEVENT_SOCKET_ACCEPT
 * (level); data[0] of its event is the accept backlog, so exactly that
 * many accept4() calls are made (no trailing EAGAIN call: if more
 * connections arrived meanwhile, the level-triggered listener is reported
 * again). Connections are registered as KEVENT_SOCKET / RECV, edge
 * (KEVENT_REQ_ET); data[0] of a RECV event is the number of bytes queued,
 * used to size the read so that one read() takes everything. SEND interest
 * is added with KEVENT_CTL_MODIFY only while a write is partial. All the
 * changes of one loop iteration (registrations of the accepted sockets,
 * MODIFYs) go to the kernel in ONE kevent_ctl() call at the end of the
 * iteration. close() alone unregisters a socket.
 *
 * Default mode: an iteration handles every entry present in the ring
 * without a syscall (kevent_ring_count/get/advance), then makes its one
 * kevent_ctl(); if KEVENT_RING_OVERFLOW or KEVENT_RING_REPOLL is set
 * (kevent_ring_harvest_due()), one kevent_wait(fd, 0, NULL) moves the
 * kernel backlog and re-polled events in; kevent_wait(fd, 1, NULL) is
 * only called when the ring is empty.
 * --get-events: a queue without ring, harvested with kevent_get_events()
 * in batches of 512 (for comparison).
 *
 * HTTP handling is the shared httpcore.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libkevent.h"
#include "httpcore.h"

#define DEFAULT_RING		8192
#define MAX_EVENTS		512		/* --get-events batch */
#define MAX_CHANGES		1024	/* changes per kevent_ctl() */
#define LISTENER_KEY		UINT64_MAX

#define OPT_GET_EVENTS		0x100

#define CONN_MASK		(KEVENT_SOCKET_RECV | KEVENT_SOCKET_RDHUP)

static unsigned int ring_entries = DEFAULT_RING;
static bool get_events;

struct kev_thread {
	int			kfd;
	struct kevent_ring_map	map;
	struct ukevent		chg[MAX_CHANGES];
	unsigned int		nr_chg;
};

static void flush_changes(struct http_thread *t);

/*
 * Syscalls 463-466 are other syscalls on kernels without kevent (6.13+:
 * the *xattrat family): refuse to issue them when procfs is mounted and
 * has no /proc/sys/fs/kevent.
 */
static bool kevent_missing(void)
{
	return !access("/proc/sys/fs", F_OK) &&
	       access("/proc/sys/fs/kevent", F_OK);
}

static void conn_close(struct http_conn *c)
{
	struct http_thread *t = c->t;
	struct kev_thread *k = t->priv;

	/* drop changes still queued for this connection */
	if (c->pending) {
		uint64_t key = http_conn_key(c);
		unsigned int i, j;

		for (i = j = 0; i < k->nr_chg; i++)
			if (k->chg[i].udata != key)
				k->chg[j++] = k->chg[i];
		k->nr_chg = j;
	}
	close(c->fd);	/* removes the registration */
	STAT_INC(t, closes);
	http_conn_free(c);
}

static struct ukevent *queue_change(struct http_thread *t)
{
	struct kev_thread *k = t->priv;

	if (k->nr_chg == MAX_CHANGES)
		flush_changes(t);
	return &k->chg[k->nr_chg++];
}

static void queue_conn_change(struct http_conn *c, __u16 op, __u32 mask)
{
	struct ukevent *ch = queue_change(c->t);

	kevent_prep(ch, KEVENT_SOCKET, (__u64)c->fd, op, KEVENT_REQ_ET, mask,
		    http_conn_key(c));
	c->pending++;
}

static void flush_changes(struct http_thread *t)
{
	struct kev_thread *k = t->priv;
	unsigned int i, nr = k->nr_chg;
	int ret;

	if (!nr)
		return;
	k->nr_chg = 0;
	ret = kevent_ctl(k->kfd, k->chg, nr, 0);
	STAT_INC(t, ev_ctl);
	if (ret < 0)
		http_die("kevent_ctl: %s", strerror(errno));
	for (i = 0; i < nr; i++) {
		struct ukevent *ch = &k->chg[i];
		struct http_conn *c;

		if (ch->udata == LISTENER_KEY) {
			if (ch->result)
				http_die("kevent_ctl listener: %s",
					 strerror(-ch->result));
			continue;
		}
		c = http_conn_lookup(t, ch->udata);
		if (!c)
			continue;
		c->pending = 0;
		if (ch->result) {
			http_warn("kevent_ctl fd %d: %s", c->fd,
				  strerror(-ch->result));
			conn_close(c);
		}
	}
}

static void do_accept(struct http_thread *t, unsigned long backlog)
{
	struct http_conn *c;
	unsigned long i;

	/* backlog 0 (unknown): accept until the listener is empty */
	for (i = 0; !backlog || i < backlog; i++) {
		c = http_accept(t);
		if (!c)
			return;
		queue_conn_change(c, KEVENT_CTL_ADD, CONN_MASK);
	}
}

static void handle_event(struct http_thread *t, const struct ukevent *ev)
{
	struct http_conn *c;
	int ret;

	if (ev->udata == LISTENER_KEY) {
		if (ev->event & KEVENT_SOCKET_ACCEPT)
			do_accept(t, (unsigned long)ev->data[0]);
		return;
	}
	c = http_conn_lookup(t, ev->udata);
	if (!c)
		return;		/* stale: the connection was closed */
	if (ev->event & (KEVENT_SOCKET_RECV | KEVENT_SOCKET_RDHUP |
			 KEVENT_SOCKET_HUP | KEVENT_SOCKET_ERR))
		ret = http_conn_on_readable(c, (ev->event &
						KEVENT_SOCKET_RECV) ?
					    (size_t)ev->data[0] : 0,
					    ev->event & (KEVENT_SOCKET_RDHUP |
							 KEVENT_SOCKET_HUP |
							 KEVENT_SOCKET_ERR));
	else if (c->want_write)
		ret = http_conn_on_writable(c);
	else
		return;
	if (ret == HTTP_CLOSE) {
		conn_close(c);
	} else if ((ret == HTTP_WANT_WRITE) != c->want_write) {
		c->want_write = ret == HTTP_WANT_WRITE;
		queue_conn_change(c, KEVENT_CTL_MODIFY, CONN_MASK |
				  (c->want_write ? KEVENT_SOCKET_SEND : 0));
	}
}

static void loop_ring(struct http_thread *t)
{
	struct kev_thread *k = t->priv;
	struct kevent_ring *ring = k->map.ring;

	for (;;) {
		unsigned int i, nr = kevent_ring_count(ring);

		/* harvest what is in the ring: no syscall */
		for (i = 0; i < nr; i++)
			handle_event(t, kevent_ring_get(ring, i));
		if (nr) {
			kevent_ring_advance(ring, nr);
			STAT_ADD(t, events, nr);
		}
		/* this iteration's registrations: one kevent_ctl() */
		if (k->nr_chg)
			flush_changes(t);
		if (kevent_ring_harvest_due(ring)) {
			/* move the kernel backlog and re-polls into the ring */
			STAT_INC(t, ev_wait);
			if (kevent_wait(k->kfd, 0, NULL, NULL) < 0 &&
			    errno != EINTR)
				http_die("kevent_wait: %s", strerror(errno));
		}
		/* what arrived meanwhile is harvested without a syscall */
		if (kevent_ring_count(ring))
			continue;
		STAT_INC(t, ev_wait);
		if (kevent_wait(k->kfd, 1, NULL, NULL) < 0 && errno != EINTR)
			http_die("kevent_wait: %s", strerror(errno));
	}
}

static void loop_get_events(struct http_thread *t)
{
	struct kev_thread *k = t->priv;
	struct ukevent *evs = calloc(MAX_EVENTS, sizeof(*evs));

	if (!evs)
		http_die("out of memory");
	for (;;) {
		int i, n;

		flush_changes(t);
		n = kevent_get_events(k->kfd, evs, 1, MAX_EVENTS, NULL, NULL);
		STAT_INC(t, ev_wait);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			http_die("kevent_get_events: %s", strerror(errno));
		}
		STAT_ADD(t, events, (unsigned long)n);
		for (i = 0; i < n; i++)
			handle_event(t, &evs[i]);
	}
}

static void loop(struct http_thread *t)
{
	struct kev_thread *k = calloc(1, sizeof(*k));
	struct ukevent *ch;

	if (!k)
		http_die("out of memory");
	t->priv = k;
	if (kevent_missing())
		http_die("this kernel has no kevent (no /proc/sys/fs/kevent)");
	k->kfd = kevent_queue_init(get_events ? 0 : ring_entries,
				   KEVENT_INIT_CLOEXEC);
	if (k->kfd < 0)
		http_die("kevent_init: %s%s", strerror(errno),
			 errno == ENOSYS ? " (kernel without kevent?)" : "");
	if (!get_events && kevent_ring_mmap(k->kfd, ring_entries, &k->map))
		http_die("kevent ring mmap: %s", strerror(errno));

	ch = queue_change(t);
	kevent_prep_fd(ch, KEVENT_SOCKET, t->lfd, KEVENT_SOCKET_ACCEPT, 0,
		       LISTENER_KEY);
	flush_changes(t);

	if (get_events)
		loop_get_events(t);
	else
		loop_ring(t);
}

static bool parse_opt(int c, const char *arg)
{
	char *end;
	unsigned long v;

	switch (c) {
	case 'r':
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || !v || v > (1UL << 20))
			return false;
		ring_entries = (unsigned int)v;
		return true;
	case OPT_GET_EVENTS:
		get_events = true;
		return true;
	}
	return false;
}

static const struct option longopts[] = {
	{ "ring",	required_argument,	NULL, 'r' },
	{ "get-events",	no_argument,		NULL, OPT_GET_EVENTS },
	{ NULL,		0,			NULL, 0 },
};

static const struct http_server server = {
	.name		= "evserver_kevent",
	.usage		= "  -r, --ring N        ring entries (default 8192)\n"
			  "      --get-events    no ring: harvest with kevent_get_events()\n"
			  "                      in batches of 512\n",
	.longopts	= longopts,
	.shortopts	= "r:",
	.opt		= parse_opt,
	.loop		= loop,
};

int main(int argc, char **argv)
{
	return http_main(&server, argc, argv);
}
