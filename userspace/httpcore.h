/* SPDX-License-Identifier: GPL-2.0 */
/*
 * httpcore - the HTTP/1.1 core shared by the evserver_* benchmark servers.
 *
 * The servers (epoll, kevent, io_uring) only differ in how they learn that
 * a socket is ready; connection state, request parsing, responses, option
 * parsing, listeners, threads and statistics live here, so that every
 * server does exactly the same work per request and sends byte-identical
 * responses.
 */
#ifndef _HTTPCORE_H
#define _HTTPCORE_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef __printf
#define __printf(a, b)		__attribute__((format(printf, a, b)))
#endif
#ifndef __noreturn
#define __noreturn		__attribute__((noreturn))
#endif

#define HTTP_IN_MIN		4096	/* initial input buffer */
#define HTTP_HDR_MAX		16384	/* request line + headers */
#define HTTP_IN_MAX		(1 << 20) /* input buffer limit */
#define HTTP_OUT_HIGH		(256 << 10) /* stop parsing above this */

/*
 * Per-thread counters. Each is written by its own thread only (relaxed
 * load + store, no locked instruction) and read by the main thread when
 * printing statistics.
 */
struct http_stats {
	unsigned long	requests;	/* responses queued */
	unsigned long	accepts;	/* connections accepted */
	unsigned long	accept_calls;	/* accept4() incl. EAGAIN */
	unsigned long	ev_wait;	/* *_wait(), io_uring_enter() */
	unsigned long	ev_ctl;		/* epoll_ctl/kevent_ctl */
	unsigned long	events;		/* events, completions */
	unsigned long	reads;		/* read()s, recv CQEs */
	unsigned long	writes;		/* write()s, send CQEs */
	unsigned long	closes;		/* connections closed */
	unsigned long	other;		/* other syscalls */
};

#define STAT_ADD(t, field, n)						\
	__atomic_store_n(&(t)->stats.field,				\
			 __atomic_load_n(&(t)->stats.field,		\
					 __ATOMIC_RELAXED) + (n),	\
			 __ATOMIC_RELAXED)
#define STAT_INC(t, field)	STAT_ADD(t, field, 1)

struct http_thread;

/* One client connection. */
struct http_conn {
	struct http_thread *t;
	int		fd;
	uint32_t	gen;		/* see http_conn_key() */
	char		*in;		/* unparsed input */
	size_t		in_len;
	size_t		in_cap;
	const char	*out;		/* unwritten output: in out_buf, or the
					   shared fixed response (queue_fixed()) */
	size_t		out_off;	/* first unwritten byte */
	size_t		out_len;	/* end of the queued bytes */
	char		*out_buf;	/* this connection's output buffer */
	size_t		out_cap;	/* its size */
	bool		close_after;	/* close once out is flushed */
	bool		eof;		/* peer shut down writing */
	bool		want_write;	/* write interest registered */
	bool		busy;		/* io_uring: send in flight */
	bool		closing;	/* io_uring: shutting down */
	unsigned int	pending;	/* server-private */
};

/* One event loop: its listener, connection table and counters. */
struct http_thread {
	int		id;
	int		lfd;		/* SO_REUSEPORT listener */
	struct http_conn **conns;	/* indexed by fd */
	unsigned int	nr_conns;	/* size of conns[] */
	uint32_t	next_gen;
	struct http_stats stats;
	void		*priv;		/* server-private */
};

/* What a server plugs into the core. */
struct http_server {
	const char	*name;		/* "evserver_epoll" */
	const char	*usage;		/* extra usage, or NULL */
	const struct option *longopts;	/* extra long options, or NULL */
	const char	*shortopts;	/* extra short options, or NULL */
	/* handle one extra option; return false for a bad value */
	bool		(*opt)(int c, const char *arg);
	/* the event loop of one thread; never returns on success */
	void		(*loop)(struct http_thread *t);
	/* true if reads/writes/closes are io_uring operations, not syscalls */
	bool		async_io;
};

struct http_config {
	const char	*addr;
	int		port;
	int		threads;
	size_t		body_size;
	const char	*dir;
};

extern struct http_config http_cfg;
extern const struct http_server *http_srv;

/* Parses the options, opens the listeners, runs the loops. */
int http_main(const struct http_server *srv, int argc, char **argv);

void __printf(1, 2) __noreturn http_die(const char *fmt, ...);
void __printf(1, 2) http_warn(const char *fmt, ...);

/* Connection table, indexed by fd. */
struct http_conn *http_conn_new(struct http_thread *t, int fd);
struct http_conn *http_accept(struct http_thread *t);
void http_conn_free(struct http_conn *c);	/* does not close c->fd */

/*
 * 64-bit key naming a connection in event cookies: fd in the low 32 bits,
 * generation above, so that a stale event for a closed (and maybe reused)
 * fd is recognised and dropped by http_conn_lookup().
 */
static inline uint64_t http_conn_key(const struct http_conn *c)
{
	return (uint64_t)(uint32_t)c->fd | ((uint64_t)c->gen << 32);
}

struct http_conn *http_conn_lookup(struct http_thread *t, uint64_t key);

/* Result of the I/O helpers. */
enum {
	HTTP_OK = 0,		/* all written, keep the connection */
	HTTP_WANT_WRITE,	/* output left: wait for write space */
	HTTP_CLOSE,		/* close the connection now */
};

/*
 * Readiness-based loops (epoll, kevent).
 *
 * http_conn_on_readable(): read until a read returns less than asked or
 * EAGAIN (@hint: bytes known to be queued, 0 if unknown; the buffer is
 * sized to take them in one read; @rdhup: the peer shut down writing, so
 * read on until EOF, which a short read would hide from an edge-triggered
 * loop), parse every complete request, queue the responses and write
 * them. After EOF the responses are still written, then HTTP_CLOSE.
 * http_conn_on_writable(): write the pending output (and parse requests
 * that were held back while output was pending).
 */
int http_conn_on_readable(struct http_conn *c, size_t hint, bool rdhup);
int http_conn_on_writable(struct http_conn *c);

/*
 * Completion-based loops (io_uring).
 *
 * http_conn_feed(): @len received bytes; parses and queues responses (in
 * place when no partial request is buffered). Returns HTTP_OK, or
 * HTTP_CLOSE on a fatal error (no response possible).
 * http_conn_process(): parse requests still buffered in c->in.
 * http_conn_sent(): @n bytes of the output were written.
 */
int http_conn_feed(struct http_conn *c, const char *data, size_t len);
void http_conn_process(struct http_conn *c);
void http_conn_sent(struct http_conn *c, size_t n);

static inline size_t http_conn_out_pending(const struct http_conn *c)
{
	return c->out_len - c->out_off;
}

/* Print the counters of all threads to stderr. */
void http_print_stats(void);

#endif /* _HTTPCORE_H */
