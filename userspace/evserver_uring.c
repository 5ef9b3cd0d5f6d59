// SPDX-License-Identifier: GPL-2.0
/*
 * evserver_uring - the benchmark HTTP server on io_uring (liburing 2.3).
 *
 * One multishot accept on the listener; per connection one multishot recv
 * (IORING_RECV_MULTISHOT) that picks buffers from a provided buffer ring;
 * responses go out with IORING_OP_SEND, at most one in flight per
 * connection; a connection is closed with a linked SHUTDOWN + CLOSE pair
 * (the shutdown terminates the multishot recv, which would otherwise keep
 * the socket alive: close() cancels nothing in io_uring). Every loop
 * iteration is one io_uring_submit_and_wait(ring, 1): it submits all new
 * SQEs and waits for completions, which are then reaped from the CQ ring.
 * The ring is set up with SINGLE_ISSUER | DEFER_TASKRUN | COOP_TASKRUN,
 * falling back to fewer flags if the kernel refuses them.
 *
 * liburing 2.3 has no io_uring_setup_buf_ring(): the buffer ring is
 * mmap'd and registered with io_uring_register_buf_ring() by hand.
 *
 * HTTP handling is the shared httpcore.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <liburing.h>

#include "httpcore.h"

#define SQ_ENTRIES		4096
#define CQ_ENTRIES		16384
#define BR_ENTRIES		1024		/* provided buffers */
#define BR_BUF_SIZE		4096
#define BR_GROUP		0

/* user_data: operation in the top 8 bits, connection key below. */
#define OP_SHIFT		56
#define OP_ACCEPT		1ULL
#define OP_RECV			2ULL
#define OP_SEND			3ULL
#define OP_CLOSE		4ULL
#define KEY_GEN_MASK		0xffffffULL /* 24 bits of generation */

struct uring_thread {
	struct io_uring		ring;
	struct io_uring_buf_ring *br;
	char			*bufs;
	unsigned int		br_added;	/* not yet published */
};

static uint64_t conn_ud(const struct http_conn *c, uint64_t op)
{
	return (op << OP_SHIFT) | ((uint64_t)(c->gen & KEY_GEN_MASK) << 32) |
	       (uint32_t)c->fd;
}

static struct http_conn *ud_conn(struct http_thread *t, uint64_t ud)
{
	uint32_t fd = (uint32_t)ud;
	struct http_conn *c;

	if (fd >= t->nr_conns)
		return NULL;
	c = t->conns[fd];
	if (!c || (c->gen & KEY_GEN_MASK) != ((ud >> 32) & KEY_GEN_MASK))
		return NULL;
	return c;
}

static struct io_uring_sqe *get_sqe(struct http_thread *t)
{
	struct uring_thread *u = t->priv;
	struct io_uring_sqe *sqe;

	while (!(sqe = io_uring_get_sqe(&u->ring))) {
		/* SQ full: submit what we have (one syscall) */
		STAT_INC(t, ev_wait);
		io_uring_submit(&u->ring);
	}
	return sqe;
}

static void arm_accept(struct http_thread *t)
{
	struct io_uring_sqe *sqe = get_sqe(t);

	io_uring_prep_multishot_accept(sqe, t->lfd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, OP_ACCEPT << OP_SHIFT);
}

static void arm_recv(struct http_thread *t, struct http_conn *c)
{
	struct io_uring_sqe *sqe = get_sqe(t);

	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BR_GROUP;
	io_uring_sqe_set_data64(sqe, conn_ud(c, OP_RECV));
}

static void recycle_buf(struct http_thread *t, unsigned int bid)
{
	struct uring_thread *u = t->priv;

	io_uring_buf_ring_add(u->br, u->bufs + (size_t)bid * BR_BUF_SIZE,
			      BR_BUF_SIZE, (unsigned short)bid,
			      io_uring_buf_ring_mask(BR_ENTRIES),
			      (int)u->br_added);
	u->br_added++;
}

static void conn_close(struct http_conn *c)
{
	struct http_thread *t = c->t;
	struct io_uring_sqe *sqe;

	if (c->busy) {
		/* the in-flight send uses c->out: finish on its completion */
		c->closing = true;
		return;
	}
	sqe = get_sqe(t);
	io_uring_prep_shutdown(sqe, c->fd, SHUT_RDWR);
	sqe->flags |= IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, OP_CLOSE << OP_SHIFT);
	sqe = get_sqe(t);
	io_uring_prep_close(sqe, c->fd);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, OP_CLOSE << OP_SHIFT);
	STAT_INC(t, closes);
	http_conn_free(c);
}

/* Send pending output, or close if that was the last response. */
static void conn_kick(struct http_conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->busy)
		return;
	if (!http_conn_out_pending(c)) {
		if (c->close_after || c->closing)
			conn_close(c);
		return;
	}
	sqe = get_sqe(c->t);
	io_uring_prep_send(sqe, c->fd, c->out + c->out_off,
			   http_conn_out_pending(c), MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, conn_ud(c, OP_SEND));
	c->busy = true;
}

static void on_accept(struct http_thread *t, struct io_uring_cqe *cqe)
{
	static const int one = 1;
	struct http_conn *c;

	if (!(cqe->flags & IORING_CQE_F_MORE))
		arm_accept(t);
	if (cqe->res < 0) {
		if (cqe->res != -ECONNABORTED && cqe->res != -EINTR)
			http_warn("accept: %s", strerror(-cqe->res));
		return;
	}
	STAT_INC(t, accepts);
	setsockopt(cqe->res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	STAT_INC(t, other);
	c = http_conn_new(t, cqe->res);
	arm_recv(t, c);
}

static void on_recv(struct http_thread *t, struct io_uring_cqe *cqe)
{
	struct uring_thread *u = t->priv;
	struct http_conn *c = ud_conn(t, cqe->user_data);
	bool more = cqe->flags & IORING_CQE_F_MORE;
	int ret = HTTP_OK;

	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned int bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;

		if (c && !c->closing && cqe->res > 0) {
			STAT_INC(t, reads);
			ret = http_conn_feed(c, u->bufs +
					     (size_t)bid * BR_BUF_SIZE,
					     (size_t)cqe->res);
		}
		recycle_buf(t, bid);
	}
	if (!c || c->closing)
		return;
	if (cqe->res == 0 || (cqe->res < 0 && cqe->res != -ENOBUFS) ||
	    ret == HTTP_CLOSE) {
		/* EOF or error: answer what was received, then close */
		c->closing = true;
		conn_kick(c);
		return;
	}
	if (!more)
		arm_recv(t, c);	/* out of buffers or ended: re-arm */
	conn_kick(c);
}

static void on_send(struct http_thread *t, struct io_uring_cqe *cqe)
{
	struct http_conn *c = ud_conn(t, cqe->user_data);

	if (!c)
		return;
	c->busy = false;
	STAT_INC(t, writes);
	if (cqe->res <= 0) {
		conn_close(c);
		return;
	}
	http_conn_sent(c, (size_t)cqe->res);
	if (!http_conn_out_pending(c) && !c->close_after)
		http_conn_process(c);	/* held back during the send */
	conn_kick(c);
}

static int setup_ring(struct io_uring *ring)
{
	static const unsigned int flag_sets[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
			IORING_SETUP_COOP_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	unsigned int i;
	int ret = -EINVAL;

	for (i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
		struct io_uring_params p;

		memset(&p, 0, sizeof(p));
		p.flags = flag_sets[i] | IORING_SETUP_CQSIZE;
		p.cq_entries = CQ_ENTRIES;
		ret = io_uring_queue_init_params(SQ_ENTRIES, ring, &p);
		if (ret != -EINVAL)
			break;
	}
	if (!ret && i)
		http_warn("io_uring setup flags 0x%x refused, using 0x%x",
			  flag_sets[0], flag_sets[i]);
	return ret;
}

static void setup_buf_ring(struct http_thread *t)
{
	struct uring_thread *u = t->priv;
	struct io_uring_buf_reg reg;
	size_t len = BR_ENTRIES * sizeof(struct io_uring_buf);
	unsigned int i;
	int ret;

	u->br = mmap(NULL, len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->br == MAP_FAILED)
		http_die("mmap buffer ring: %s", strerror(errno));
	io_uring_buf_ring_init(u->br);
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (unsigned long)u->br;
	reg.ring_entries = BR_ENTRIES;
	reg.bgid = BR_GROUP;
	ret = io_uring_register_buf_ring(&u->ring, &reg, 0);
	if (ret)
		http_die("io_uring_register_buf_ring: %s", strerror(-ret));
	u->bufs = malloc((size_t)BR_ENTRIES * BR_BUF_SIZE);
	if (!u->bufs)
		http_die("out of memory");
	for (i = 0; i < BR_ENTRIES; i++)
		recycle_buf(t, i);
	io_uring_buf_ring_advance(u->br, (int)u->br_added);
	u->br_added = 0;
}

static void loop(struct http_thread *t)
{
	struct uring_thread *u = calloc(1, sizeof(*u));
	int ret;

	if (!u)
		http_die("out of memory");
	t->priv = u;
	ret = setup_ring(&u->ring);
	if (ret)
		http_die("io_uring_queue_init: %s", strerror(-ret));
	setup_buf_ring(t);
	arm_accept(t);

	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned int head, n = 0;

		ret = io_uring_submit_and_wait(&u->ring, 1);
		STAT_INC(t, ev_wait);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN &&
		    ret != -EBUSY)
			http_die("io_uring_submit_and_wait: %s",
				 strerror(-ret));
		io_uring_for_each_cqe(&u->ring, head, cqe) {
			switch (cqe->user_data >> OP_SHIFT) {
			case OP_ACCEPT:
				on_accept(t, cqe);
				break;
			case OP_RECV:
				on_recv(t, cqe);
				break;
			case OP_SEND:
				on_send(t, cqe);
				break;
			default:
				break;	/* failed shutdown/close */
			}
			n++;
		}
		io_uring_cq_advance(&u->ring, n);
		STAT_ADD(t, events, n);
		if (u->br_added) {
			io_uring_buf_ring_advance(u->br, (int)u->br_added);
			u->br_added = 0;
		}
	}
}

static const struct http_server server = {
	.name		= "evserver_uring",
	.loop		= loop,
	.async_io	= true,
};

int main(int argc, char **argv)
{
	return http_main(&server, argc, argv);
}
