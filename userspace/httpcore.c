// SPDX-License-Identifier: GPL-2.0
/*
 * httpcore - the HTTP/1.1 core shared by the evserver_* benchmark servers.
 *
 * Options, listeners (one SO_REUSEPORT listener per thread), connection
 * table, request parsing (pipelining, HTTP/1.0 and 1.1 keep-alive rules),
 * the fixed response or static files, and the statistics printed on
 * SIGUSR1 and at exit. See httpcore.h.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httpcore.h"

#define LISTEN_BACKLOG		4096
#define MAX_THREADS		256
#define MAX_BODY		(64UL << 20)
#define MAX_FILE		(64UL << 20)

struct http_config http_cfg = {
	.addr		= "127.0.0.1",
	.port		= 8080,
	.threads	= 1,
	.body_size	= 128,
	.dir		= NULL,
};

const struct http_server *http_srv;

static struct http_thread *threads;

/* The fixed responses, built once. */
static char *resp_keep, *resp_close;
static size_t resp_keep_len, resp_close_len, resp_hdr_keep, resp_hdr_close;

/* ---------------------------------------------------------------------- */
/* Messages                                                                */
/* ---------------------------------------------------------------------- */

static void http_vwarn(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", http_srv ? http_srv->name : "evserver");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void http_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	http_vwarn(fmt, ap);
	va_end(ap);
	exit(1);
}

void http_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	http_vwarn(fmt, ap);
	va_end(ap);
}

static void *xmalloc(size_t size)
{
	void *p = malloc(size);

	if (!p)
		http_die("out of memory (%zu bytes)", size);
	return p;
}

static void *xrealloc(void *old, size_t size)
{
	void *p = realloc(old, size);

	if (!p)
		http_die("out of memory (%zu bytes)", size);
	return p;
}

/* ---------------------------------------------------------------------- */
/* Responses                                                               */
/* ---------------------------------------------------------------------- */

static size_t format_header(char *buf, size_t size, const char *status,
			    size_t len, bool keep)
{
	int n = snprintf(buf, size,
			 "HTTP/1.1 %s\r\n"
			 "Server: evserver\r\n"
			 "Content-Type: text/plain\r\n"
			 "Content-Length: %zu\r\n"
			 "Connection: %s\r\n"
			 "\r\n",
			 status, len, keep ? "keep-alive" : "close");

	if (n < 0 || (size_t)n >= size)
		http_die("response header too long");
	return (size_t)n;
}

/* Deterministic body: a repeating alphabet, one newline every 64 bytes. */
static void fill_body(char *p, size_t len)
{
	static const char pat[] = "0123456789abcdefghijklmnopqrstuvwxyz"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (i % 64 == 63) ? '\n' : pat[i % (sizeof(pat) - 1)];
}

static char *build_fixed(bool keep, size_t *hdr_len, size_t *total)
{
	char hdr[256];
	size_t h = format_header(hdr, sizeof(hdr), "200 OK",
				 http_cfg.body_size, keep);
	char *r = xmalloc(h + http_cfg.body_size);

	memcpy(r, hdr, h);
	fill_body(r + h, http_cfg.body_size);
	*hdr_len = h;
	*total = h + http_cfg.body_size;
	return r;
}

/* Nothing left to write: the next output starts at the front of out_buf. */
static void out_clear(struct http_conn *c)
{
	c->out = c->out_buf;
	c->out_off = 0;
	c->out_len = 0;
}

/*
 * Make out_buf hold at least @need bytes, keeping its first @keep bytes.
 * It grows at least twofold, so appending is amortised O(1).
 */
static void out_grow(struct http_conn *c, size_t need, size_t keep)
{
	if (c->out_cap >= need)
		return;
	if (need < 2 * c->out_cap)
		need = 2 * c->out_cap;
	if (keep) {
		c->out_buf = xrealloc(c->out_buf, need);
	} else {
		free(c->out_buf);
		c->out_buf = xmalloc(need);
	}
	c->out_cap = need;
}

/*
 * Room for @n more output bytes in out_buf; returns where to put them.
 * Pending bytes are moved to the front of out_buf first, copied there if
 * they are a shared response.
 */
static char *out_reserve(struct http_conn *c, size_t n)
{
	size_t pending = http_conn_out_pending(c);

	if (!pending) {
		out_grow(c, n, 0);
		out_clear(c);
	} else if (c->out != c->out_buf) {
		const char *shared = c->out + c->out_off;

		out_grow(c, pending + n, 0);
		memcpy(c->out_buf, shared, pending);
		c->out = c->out_buf;
		c->out_off = 0;
		c->out_len = pending;
	} else if (c->out_cap - c->out_len < n) {
		if (c->out_off) {
			memmove(c->out_buf, c->out_buf + c->out_off, pending);
			c->out_off = 0;
			c->out_len = pending;
		}
		out_grow(c, pending + n, pending);
		c->out = c->out_buf;
	}
	return c->out_buf + c->out_len;
}

static void out_add(struct http_conn *c, const char *p, size_t n)
{
	memcpy(out_reserve(c, n), p, n);
	c->out_len += n;
}

static void queue_status(struct http_conn *c, const char *status, bool keep,
			 bool head)
{
	char buf[384];
	size_t blen = strlen(status) + 1;
	size_t h = format_header(buf, sizeof(buf) - blen, status, blen, keep);

	if (!head) {
		memcpy(buf + h, status, blen - 1);
		buf[h + blen - 1] = '\n';
		h += blen;
	}
	out_add(c, buf, h);
	if (!keep)
		c->close_after = true;
}

/*
 * The fixed response is built once; with no other output pending it is
 * written straight from there (c->out points into it, read-only), so the
 * body is not copied for each request. out_reserve() copies what is left
 * of it into out_buf when more output is queued behind it.
 */
static void queue_fixed(struct http_conn *c, bool keep, bool head)
{
	const char *resp = keep ? resp_keep : resp_close;
	size_t len;

	if (keep)
		len = head ? resp_hdr_keep : resp_keep_len;
	else
		len = head ? resp_hdr_close : resp_close_len;
	if (http_conn_out_pending(c)) {
		out_add(c, resp, len);
	} else {
		c->out = resp;
		c->out_off = 0;
		c->out_len = len;
	}
	if (!keep)
		c->close_after = true;
}

/* -d DIR: GET /path -> DIR/path, 404 for anything else. */
static void queue_file(struct http_conn *c, const char *path, size_t plen,
		       bool keep, bool head)
{
	struct http_thread *t = c->t;
	char name[PATH_MAX];
	struct stat st;
	size_t i, h, got = 0;
	char *p;
	int fd, n;

	for (i = 0; i < plen; i++)
		if (path[i] == '?' || path[i] == '#')
			break;
	plen = i;
	if (!plen || path[0] != '/' || memchr(path, '\0', plen))
		goto notfound;
	/* reject any ".." path component */
	for (i = 0; i + 3 <= plen; i++)
		if (path[i] == '/' && path[i + 1] == '.' &&
		    path[i + 2] == '.' && (i + 3 == plen || path[i + 3] == '/'))
			goto notfound;
	n = snprintf(name, sizeof(name), "%s%.*s", http_cfg.dir, (int)plen,
		     path);
	if (n < 0 || (size_t)n >= sizeof(name))
		goto notfound;
	fd = open(name, O_RDONLY | O_CLOEXEC);
	STAT_INC(t, other);
	if (fd < 0)
		goto notfound;
	STAT_INC(t, other);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > MAX_FILE) {
		close(fd);
		STAT_INC(t, other);
		goto notfound;
	}
	{
		char hdr[256];

		h = format_header(hdr, sizeof(hdr), "200 OK",
				  (size_t)st.st_size, keep);
		p = out_reserve(c, h + (head ? 0 : (size_t)st.st_size));
		memcpy(p, hdr, h);
	}
	while (!head && got < (size_t)st.st_size) {
		ssize_t r = pread(fd, p + h + got, (size_t)st.st_size - got,
				  (off_t)got);

		STAT_INC(t, other);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			/* file shrank: pad with zeroes to keep the length */
			memset(p + h + got, 0, (size_t)st.st_size - got);
			break;
		}
		got += (size_t)r;
	}
	close(fd);
	STAT_INC(t, other);
	c->out_len += h + (head ? 0 : (size_t)st.st_size);
	if (!keep)
		c->close_after = true;
	return;
notfound:
	queue_status(c, "404 Not Found", keep, head);
}

/* ---------------------------------------------------------------------- */
/* Request parsing                                                         */
/* ---------------------------------------------------------------------- */

static bool token_in(const char *v, size_t len, const char *tok)
{
	size_t tl = strlen(tok), i = 0;

	while (i < len) {
		size_t s, e;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && !strncasecmp(v + s, tok, tl))
			return true;
	}
	return false;
}

/*
 * Handle the complete requests at the start of @buf. Returns the number
 * of bytes consumed. Stops at an incomplete request, when the output is
 * above HTTP_OUT_HIGH, or after a request that closes the connection.
 */
static size_t process_buf(struct http_conn *c, const char *buf, size_t len)
{
	struct http_thread *t = c->t;
	size_t pos = 0;

	while (pos < len && !c->close_after &&
	       http_conn_out_pending(c) < HTTP_OUT_HIGH) {
		const char *req = buf + pos, *end, *line, *eol, *sp1, *sp2;
		size_t avail = len - pos, hlen, clen = 0;
		bool keep, http10, head, get, conn_close = false;
		bool conn_keep = false;

		/* tolerate empty lines between requests (RFC 9112 2.2) */
		if (req[0] == '\r' || req[0] == '\n') {
			pos++;
			continue;
		}
		end = memmem(req, avail, "\r\n\r\n", 4);
		if (!end) {
			if (avail > HTTP_HDR_MAX) {
				queue_status(c,
					"431 Request Header Fields Too Large",
					false, false);
				pos = len;
			}
			break;
		}
		hlen = (size_t)(end - req) + 4;

		/* request line: METHOD SP TARGET SP HTTP/1.x */
		eol = memchr(req, '\r', hlen);
		sp1 = memchr(req, ' ', (size_t)(eol - req));
		sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) :
			    NULL;
		if (!sp1 || !sp2 || sp1 == req || sp2 == sp1 + 1 ||
		    eol - sp2 - 1 != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) ||
		    (sp2[8] != '0' && sp2[8] != '1')) {
			queue_status(c, "400 Bad Request", false, false);
			pos = len;
			break;
		}
		http10 = sp2[8] == '0';
		get = sp1 - req == 3 && !memcmp(req, "GET", 3);
		head = sp1 - req == 4 && !memcmp(req, "HEAD", 4);

		/* headers */
		for (line = eol + 2; line < end + 2; line = eol + 2) {
			const char *colon, *v;
			size_t vlen;

			eol = memchr(line, '\r', (size_t)(end + 2 - line));
			colon = memchr(line, ':', (size_t)(eol - line));
			if (!colon)
				continue;
			v = colon + 1;
			vlen = (size_t)(eol - v);
			if (colon - line == 10 &&
			    !strncasecmp(line, "Connection", 10)) {
				conn_close |= token_in(v, vlen, "close");
				conn_keep |= token_in(v, vlen, "keep-alive");
			} else if (colon - line == 14 &&
				   !strncasecmp(line, "Content-Length", 14)) {
				char num[24];

				while (vlen && (*v == ' ' || *v == '\t')) {
					v++;
					vlen--;
				}
				if (!vlen || vlen >= sizeof(num))
					goto bad;
				memcpy(num, v, vlen);
				num[vlen] = '\0';
				clen = strtoul(num, NULL, 10);
			} else if (colon - line == 17 &&
				   !strncasecmp(line, "Transfer-Encoding",
						17)) {
				queue_status(c, "501 Not Implemented", false,
					     false);
				pos = len;
				goto out;
			}
		}
		if (clen > HTTP_IN_MAX / 2) {
			queue_status(c, "413 Content Too Large", false, false);
			pos = len;
			break;
		}
		if (avail < hlen + clen)
			break;	/* wait for the request body */

		keep = http10 ? (conn_keep && !conn_close) : !conn_close;
		if (!get && !head)
			queue_status(c, "405 Method Not Allowed", keep, false);
		else if (http_cfg.dir)
			queue_file(c, sp1 + 1, (size_t)(sp2 - sp1 - 1), keep,
				   head);
		else
			queue_fixed(c, keep, head);
		STAT_INC(t, requests);
		pos += hlen + clen;
		continue;
bad:
		queue_status(c, "400 Bad Request", false, false);
		pos = len;
		break;
	}
out:
	return pos;
}

void http_conn_process(struct http_conn *c)
{
	size_t used;

	if (!c->in_len)
		return;
	used = process_buf(c, c->in, c->in_len);
	if (used) {
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
	}
}

/* Room for at least @n more input bytes; false if over the limit. */
static bool in_reserve(struct http_conn *c, size_t n)
{
	size_t need;

	if (c->in_cap - c->in_len >= n)
		return true;
	need = c->in_len + n;
	if (need > HTTP_IN_MAX + HTTP_IN_MIN)
		return false;
	if (need < 2 * c->in_cap)
		need = 2 * c->in_cap;
	c->in = xrealloc(c->in, need);
	c->in_cap = need;
	return true;
}

/* ---------------------------------------------------------------------- */
/* Readiness-based I/O                                                     */
/* ---------------------------------------------------------------------- */

static int conn_flush(struct http_conn *c)
{
	struct http_thread *t = c->t;

	for (;;) {
		while (http_conn_out_pending(c)) {
			ssize_t n = write(c->fd, c->out + c->out_off,
					  http_conn_out_pending(c));

			STAT_INC(t, writes);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN)
					return HTTP_WANT_WRITE;
				return HTTP_CLOSE;
			}
			c->out_off += (size_t)n;
		}
		out_clear(c);
		if (c->close_after)
			return HTTP_CLOSE;
		/* requests held back while output was pending */
		if (c->in_len) {
			http_conn_process(c);
			if (http_conn_out_pending(c))
				continue;
		}
		return c->eof ? HTTP_CLOSE : HTTP_OK;
	}
}

int http_conn_on_readable(struct http_conn *c, size_t hint, bool rdhup)
{
	struct http_thread *t = c->t;
	bool eof = false;

	if (hint > HTTP_IN_MAX / 4)
		hint = HTTP_IN_MAX / 4;
	for (;;) {
		size_t want = hint ? hint + 1 : 1024;
		size_t space;
		ssize_t n;

		if (!in_reserve(c, want))
			return HTTP_CLOSE;
		space = c->in_cap - c->in_len;
		n = read(c->fd, c->in + c->in_len, space);
		STAT_INC(t, reads);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return HTTP_CLOSE;
		}
		if (n == 0) {
			eof = true;
			break;
		}
		c->in_len += (size_t)n;
		/* peer shut down writing: read on to see the EOF */
		if ((size_t)n < space && !rdhup)
			break;
		hint = 0;
	}
	if (eof)
		c->eof = true;	/* answer what came, then close */
	if (!http_conn_out_pending(c))
		http_conn_process(c);
	return conn_flush(c);
}

int http_conn_on_writable(struct http_conn *c)
{
	return conn_flush(c);
}

/* ---------------------------------------------------------------------- */
/* Completion-based I/O                                                    */
/* ---------------------------------------------------------------------- */

int http_conn_feed(struct http_conn *c, const char *data, size_t len)
{
	if (!c->in_len && !c->busy) {
		size_t used = process_buf(c, data, len);

		data += used;
		len -= used;
	}
	if (!len)
		return HTTP_OK;
	if (!in_reserve(c, len))
		return HTTP_CLOSE;
	memcpy(c->in + c->in_len, data, len);
	c->in_len += len;
	if (!c->busy)
		http_conn_process(c);
	return HTTP_OK;
}

void http_conn_sent(struct http_conn *c, size_t n)
{
	c->out_off += n;
	if (c->out_off >= c->out_len)
		out_clear(c);
}

/* ---------------------------------------------------------------------- */
/* Connection table                                                        */
/* ---------------------------------------------------------------------- */

/*
 * Accept one connection from the thread's non-blocking listener, with
 * TCP_NODELAY set, and give it a connection slot. Returns NULL when the
 * backlog is empty (or on an error, which is reported).
 */
struct http_conn *http_accept(struct http_thread *t)
{
	static const int one = 1;
	int fd;

	for (;;) {
		fd = accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		STAT_INC(t, accept_calls);
		if (fd >= 0)
			break;
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN)
			http_warn("accept4: %s", strerror(errno));
		return NULL;
	}
	STAT_INC(t, accepts);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	STAT_INC(t, other);
	return http_conn_new(t, fd);
}

struct http_conn *http_conn_new(struct http_thread *t, int fd)
{
	struct http_conn *c;

	if ((unsigned int)fd >= t->nr_conns) {
		unsigned int n = t->nr_conns ? t->nr_conns : 1024;

		while (n <= (unsigned int)fd)
			n *= 2;
		t->conns = xrealloc(t->conns, n * sizeof(*t->conns));
		memset(t->conns + t->nr_conns, 0,
		       (n - t->nr_conns) * sizeof(*t->conns));
		t->nr_conns = n;
	}
	c = xmalloc(sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->t = t;
	c->fd = fd;
	c->gen = ++t->next_gen;
	if (!c->gen)
		c->gen = ++t->next_gen;
	c->in = xmalloc(HTTP_IN_MIN);
	c->in_cap = HTTP_IN_MIN;
	t->conns[fd] = c;
	return c;
}

void http_conn_free(struct http_conn *c)
{
	struct http_thread *t = c->t;

	if ((unsigned int)c->fd < t->nr_conns && t->conns[c->fd] == c)
		t->conns[c->fd] = NULL;
	free(c->in);
	free(c->out_buf);
	free(c);
}

struct http_conn *http_conn_lookup(struct http_thread *t, uint64_t key)
{
	uint32_t fd = (uint32_t)key;
	struct http_conn *c;

	if (fd >= t->nr_conns)
		return NULL;
	c = t->conns[fd];
	if (!c || c->gen != (uint32_t)(key >> 32))
		return NULL;
	return c;
}

/* ---------------------------------------------------------------------- */
/* Statistics                                                              */
/* ---------------------------------------------------------------------- */

#define LD(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)

void http_print_stats(void)
{
	struct http_stats s = { 0 };
	unsigned long sys;
	int i;

	for (i = 0; i < http_cfg.threads; i++) {
		struct http_stats *p = &threads[i].stats;

		s.requests += LD(p->requests);
		s.accepts += LD(p->accepts);
		s.accept_calls += LD(p->accept_calls);
		s.ev_wait += LD(p->ev_wait);
		s.ev_ctl += LD(p->ev_ctl);
		s.events += LD(p->events);
		s.reads += LD(p->reads);
		s.writes += LD(p->writes);
		s.closes += LD(p->closes);
		s.other += LD(p->other);
	}
	/* with async_io, reads, writes and closes are io_uring operations */
	sys = s.accept_calls + s.ev_wait + s.ev_ctl + s.other;
	if (!http_srv->async_io)
		sys += s.reads + s.writes + s.closes;
	fprintf(stderr,
		"%s: stats requests=%lu accepts=%lu ev_syscalls=%lu ev_wait=%lu ev_ctl=%lu events=%lu reads=%lu writes=%lu accept_calls=%lu closes=%lu other=%lu syscalls=%lu ev_syscalls_per_request=%.4f syscalls_per_request=%.4f\n",
		http_srv->name, s.requests, s.accepts, s.ev_wait + s.ev_ctl,
		s.ev_wait, s.ev_ctl, s.events, s.reads, s.writes,
		s.accept_calls, s.closes, s.other, sys,
		s.requests ? (double)(s.ev_wait + s.ev_ctl) / s.requests : 0.0,
		s.requests ? (double)sys / s.requests : 0.0);
}

/* ---------------------------------------------------------------------- */
/* Options, listeners, threads                                             */
/* ---------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [options]\n"
		"  -p, --port PORT     TCP port (default 8080)\n"
		"  -a, --addr ADDR     IPv4 or IPv6 address (default 127.0.0.1)\n"
		"  -t, --threads N     event loops, each with its own SO_REUSEPORT\n"
		"                      listener (default 1)\n"
		"  -s, --size BYTES    body size of the fixed response (default 128)\n"
		"  -d, --dir DIR       serve GET /path from DIR/path (404 otherwise)\n"
		"  -h, --help          this help\n"
		"%s"
		"Counters are printed to stderr on SIGUSR1 and at exit (SIGINT,\n"
		"SIGTERM).\n",
		http_srv->name, http_srv->usage ? http_srv->usage : "");
}

static void __noreturn bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", http_srv->name);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	usage(stderr);
	exit(2);
}

static long parse_num(const char *arg, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		bad_usage(what, arg);
	return v;
}

static void parse_opts(int argc, char **argv)
{
	static const struct option base[] = {
		{ "port",	required_argument,	NULL, 'p' },
		{ "addr",	required_argument,	NULL, 'a' },
		{ "threads",	required_argument,	NULL, 't' },
		{ "size",	required_argument,	NULL, 's' },
		{ "dir",	required_argument,	NULL, 'd' },
		{ "help",	no_argument,		NULL, 'h' },
	};
	size_t nb = sizeof(base) / sizeof(base[0]), nx = 0;
	struct option *longopts;
	char shortopts[64];
	int c;

	while (http_srv->longopts && http_srv->longopts[nx].name)
		nx++;
	longopts = xmalloc((nb + nx + 1) * sizeof(*longopts));
	memcpy(longopts, base, sizeof(base));
	if (nx)
		memcpy(longopts + nb, http_srv->longopts,
		       nx * sizeof(*longopts));
	memset(longopts + nb + nx, 0, sizeof(*longopts));
	snprintf(shortopts, sizeof(shortopts), ":p:a:t:s:d:h%s",
		 http_srv->shortopts ? http_srv->shortopts : "");

	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			http_cfg.port = (int)parse_num(optarg, 0, 65535,
						       "bad port '%s'");
			break;
		case 'a':
			http_cfg.addr = optarg;
			break;
		case 't':
			http_cfg.threads = (int)parse_num(optarg, 1,
							  MAX_THREADS,
							  "bad thread count '%s'");
			break;
		case 's':
			http_cfg.body_size = (size_t)parse_num(optarg, 0,
							       MAX_BODY,
							       "bad body size '%s'");
			break;
		case 'd':
			http_cfg.dir = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			bad_usage("option '%s' needs an argument",
				  argv[optind - 1]);
		case '?':
			bad_usage("unknown option '%s'", argv[optind - 1]);
		default:
			if (!http_srv->opt || !http_srv->opt(c, optarg))
				bad_usage("bad option value '%s'",
					  optarg ? optarg : "");
			break;
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	free(longopts);
}

static socklen_t make_addr(struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, http_cfg.addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)http_cfg.port);
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, http_cfg.addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)http_cfg.port);
		return sizeof(*sin6);
	}
	fprintf(stderr, "%s: bad address '%s'\n", http_srv->name,
		http_cfg.addr);
	usage(stderr);
	exit(2);
}

static int open_listener(const struct sockaddr_storage *ss, socklen_t len,
			 bool reuseport)
{
	int one = 1;
	int fd = socket(ss->ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		http_die("socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		http_die("SO_REUSEADDR: %s", strerror(errno));
	if (reuseport &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
		http_die("SO_REUSEPORT: %s", strerror(errno));
	if (bind(fd, (const struct sockaddr *)ss, len))
		http_die("bind %s:%d: %s", http_cfg.addr, http_cfg.port,
			 strerror(errno));
	return fd;
}

static void *thread_main(void *arg)
{
	struct http_thread *t = arg;

	http_srv->loop(t);
	http_die("thread %d: event loop returned", t->id);
}

int http_main(const struct http_server *srv, int argc, char **argv)
{
	struct sockaddr_storage ss;
	pthread_t *tids;
	socklen_t len;
	sigset_t set;
	int i, fd;

	http_srv = srv;
	parse_opts(argc, argv);
	len = make_addr(&ss);

	resp_keep = build_fixed(true, &resp_hdr_keep, &resp_keep_len);
	resp_close = build_fixed(false, &resp_hdr_close, &resp_close_len);

	/*
	 * Listeners with SO_REUSEPORT join any other SO_REUSEPORT group of
	 * the same user on the port: bind a plain socket first so that a
	 * port in use is reported as EADDRINUSE instead of silently shared.
	 */
	fd = open_listener(&ss, len, false);
	close(fd);

	threads = xmalloc((size_t)http_cfg.threads * sizeof(*threads));
	memset(threads, 0, (size_t)http_cfg.threads * sizeof(*threads));
	for (i = 0; i < http_cfg.threads; i++) {
		struct http_thread *t = &threads[i];

		t->id = i;
		t->lfd = open_listener(&ss, len, true);
		if (listen(t->lfd, LISTEN_BACKLOG))
			http_die("listen %s:%d: %s", http_cfg.addr,
				 http_cfg.port, strerror(errno));
	}

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	tids = xmalloc((size_t)http_cfg.threads * sizeof(*tids));
	for (i = 0; i < http_cfg.threads; i++) {
		int err = pthread_create(&tids[i], NULL, thread_main,
					 &threads[i]);

		if (err)
			http_die("pthread_create: %s", strerror(err));
	}

	for (;;) {
		int sig;

		if (sigwait(&set, &sig))
			continue;
		http_print_stats();
		if (sig != SIGUSR1)
			break;
	}
	fflush(stderr);
	_exit(0);
}
