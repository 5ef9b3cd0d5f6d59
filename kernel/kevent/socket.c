// SPDX-License-Identifier: GPL-2.0
/*
 * kevent socket source: accept, receive, send, hang-up and error events
 * of TCP (IPv4 and IPv6), UDP and UNIX sockets.
 *
 * It attaches to the socket's wait queue like any pollable file (poll.c);
 * nothing is hooked into protocol code. The wake key carries the poll
 * mask, which is translated into KEVENT_SOCKET_* bits; the counts are read
 * locklessly from the socket, as tcp_poll() does, when the event is
 * delivered.
 */

#include <linux/init.h>
#include <linux/net.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/udp.h>

#include "kevent.h"
#include "poll.h"

static int kevent_socket_check(struct file *file)
{
	return sock_from_file(file) ? 0 : -ENOTSOCK;
}

static __poll_t kevent_socket_interest(u32 event)
{
	__poll_t mask = 0;

	if (event & (KEVENT_SOCKET_RECV | KEVENT_SOCKET_ACCEPT))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (event & KEVENT_SOCKET_SEND)
		mask |= EPOLLOUT | EPOLLWRNORM;
	if (event & KEVENT_SOCKET_RDHUP)
		mask |= EPOLLRDHUP;
	return mask;
}

static struct sock *kevent_socket_sk(struct kevent_poll *kp)
{
	/*
	 * kevent_socket_check() let only socket files in, whose private_data
	 * is their struct socket (sock_from_file()); it lives until __fput()
	 * has removed the registration.
	 */
	struct socket *sock = kp->file->private_data;

	return sock->sk;
}

/* From wake-up context: translate and keep only what was asked for. */
static u32 kevent_socket_report(struct kevent_poll *kp, __poll_t mask,
				u32 *ret_flags)
{
	struct sock *sk = kevent_socket_sk(kp);
	u32 event = 0;

	if (mask & (EPOLLIN | EPOLLRDNORM))
		event |= READ_ONCE(sk->sk_state) == TCP_LISTEN ?
			 KEVENT_SOCKET_ACCEPT : KEVENT_SOCKET_RECV;
	if (mask & (EPOLLOUT | EPOLLWRNORM))
		event |= KEVENT_SOCKET_SEND;
	event &= kp->kev.event;
	if (mask & EPOLLRDHUP) {
		event |= KEVENT_SOCKET_RDHUP;
		*ret_flags |= KEVENT_RET_EOF;
	}
	if (mask & EPOLLHUP) {
		event |= KEVENT_SOCKET_HUP;
		*ret_flags |= KEVENT_RET_EOF;
	}
	if (mask & EPOLLERR) {
		event |= KEVENT_SOCKET_ERR;
		*ret_flags |= KEVENT_RET_ERROR;
	}
	return event;
}

static bool kevent_socket_is_inet(const struct sock *sk, int type,
				  int protocol)
{
	return sk->sk_type == type && sk->sk_protocol == protocol &&
	       (sk->sk_family == AF_INET || sk->sk_family == AF_INET6);
}

/* Packets queued; UDP moves them to its reader queue on the first read. */
static u64 kevent_socket_packets(struct sock *sk)
{
	u64 packets = skb_queue_len_lockless(&sk->sk_receive_queue);

	if (kevent_socket_is_inet(sk, SOCK_DGRAM, IPPROTO_UDP))
		packets += skb_queue_len_lockless(&udp_sk(sk)->reader_queue);
	return packets;
}

/*
 * data[0]: the accept backlog for ACCEPT; for RECV the bytes queued on a
 * TCP socket (as SIOCINQ) or the packets queued on other sockets. data[1]:
 * the pending socket error for ERR, left pending for the caller to read
 * with SO_ERROR. Lockless reads, as in tcp_poll().
 */
static void kevent_socket_fill(struct kevent *kev, struct ukevent *uk)
{
	struct sock *sk = kevent_socket_sk(to_kevent_poll(kev));

	if ((uk->event & KEVENT_SOCKET_ACCEPT) && sk->sk_family == AF_UNIX)
		/* UNIX listeners queue embryo connections as skbs. */
		uk->data[0] = skb_queue_len_lockless(&sk->sk_receive_queue);
	else if (uk->event & KEVENT_SOCKET_ACCEPT)
		uk->data[0] = READ_ONCE(sk->sk_ack_backlog);
	else if ((uk->event & KEVENT_SOCKET_RECV) &&
		 kevent_socket_is_inet(sk, SOCK_STREAM, IPPROTO_TCP))
		uk->data[0] = max(0, tcp_inq(sk));
	else if (uk->event & KEVENT_SOCKET_RECV)
		uk->data[0] = kevent_socket_packets(sk);
	else
		uk->data[0] = 0;
	uk->data[1] = (uk->event & KEVENT_SOCKET_ERR) ? READ_ONCE(sk->sk_err) : 0;
}

static const struct kevent_poll_ops kevent_socket_ops = {
	.check		= kevent_socket_check,
	.interest	= kevent_socket_interest,
	.report		= kevent_socket_report,
};

static int kevent_socket_attach(struct kevent *kev, const struct ukevent *uk)
{
	return kevent_poll_attach(kev, uk, &kevent_socket_ops);
}

static const struct kevent_source kevent_socket_source = {
	.type		= KEVENT_SOCKET,
	.size		= sizeof(struct kevent_poll),
	.event_mask	= KEVENT_SOCKET_RECV | KEVENT_SOCKET_SEND |
			  KEVENT_SOCKET_ACCEPT | KEVENT_SOCKET_HUP |
			  KEVENT_SOCKET_RDHUP | KEVENT_SOCKET_ERR,
	.attach		= kevent_socket_attach,
	.modify		= kevent_poll_modify,
	.detach		= kevent_poll_detach,
	.fill		= kevent_socket_fill,
	.recheck	= kevent_poll_recheck,
	.level		= true,
};

static int __init kevent_socket_init(void)
{
	kevent_source_register(&kevent_socket_source);
	return 0;
}
core_initcall(kevent_socket_init);
