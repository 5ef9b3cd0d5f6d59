// SPDX-License-Identifier: GPL-2.0
/*
 * evload - connection-per-request HTTP load generator.
 *
 * C concurrent clients (spread over T threads, each with its own epoll
 * loop) for D seconds; each client does connect, "GET PATH" with
 * "Connection: close", reads the response until the server closes, closes
 * its socket and starts over. Latency is measured from connect() to the
 * end of the response. One parseable line at the end:
 *
 *   evload requests=R errors=E seconds=S requests_per_sec=X
 *   latency_avg_us=A latency_p50_us=.. latency_p90_us=.. latency_p99_us=..
 *   latency_p999_us=.. latency_max_us=..
 *
 *	evload [-a ADDR] [-p PORT] [-c CONNS] [-t THREADS] [-d SECONDS]
 *	       [-P PATH]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "evload";

static struct {
	const char	*addr;
	int		port;
	int		conns;
	int		threads;
	double		seconds;
	const char	*path;
} opt = {
	.addr		= "127.0.0.1",
	.port		= 8080,
	.conns		= 10,
	.threads	= 1,
	.seconds	= 5,
	.path		= "/",
};

static struct sockaddr_storage sa;
static socklen_t sa_len;
static char req[1024];
static size_t req_len;
static uint64_t t_end;

enum { C_CONNECTING, C_READING };

struct client {
	int		fd;
	int		state;
	bool		ok;		/* status line checked */
	size_t		got;
	uint64_t	start;
};

struct worker {
	pthread_t	tid;
	int		nr;		/* clients */
	unsigned long	requests;
	unsigned long	errors;
	uint64_t	*lat;		/* ns */
	size_t		nr_lat;
	size_t		cap_lat;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	exit(1);
}

static void client_start(int epfd, struct client *c)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

	c->fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	if (c->fd < 0)
		die("socket");
	c->state = C_CONNECTING;
	c->ok = false;
	c->got = 0;
	c->start = now_ns();
	if (connect(c->fd, (struct sockaddr *)&sa, sa_len) &&
	    errno != EINPROGRESS)
		die("connect");
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev))
		die("epoll_ctl");
}

static void client_end(int epfd, struct worker *w, struct client *c,
		       bool ok)
{
	uint64_t t = now_ns();

	close(c->fd);
	if (ok) {
		if (w->nr_lat == w->cap_lat) {
			w->cap_lat = w->cap_lat ? 2 * w->cap_lat : 65536;
			w->lat = realloc(w->lat, w->cap_lat * sizeof(*w->lat));
			if (!w->lat)
				die("realloc");
		}
		w->lat[w->nr_lat++] = t - c->start;
		w->requests++;
	} else {
		w->errors++;
	}
	if (t < t_end)
		client_start(epfd, c);
	else
		c->fd = -1;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct client *cl = calloc((size_t)w->nr, sizeof(*cl));
	struct epoll_event evs[256];
	int i, active = w->nr, epfd = epoll_create1(EPOLL_CLOEXEC);
	char buf[65536];

	if (!cl || epfd < 0)
		die("setup");
	for (i = 0; i < w->nr; i++)
		client_start(epfd, &cl[i]);
	while (active) {
		int n = epoll_wait(epfd, evs, 256, 100);

		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			struct client *c = evs[i].data.ptr;
			struct epoll_event ev = { .events = EPOLLIN,
						  .data.ptr = c };
			int err = 0;
			socklen_t len = sizeof(err);
			ssize_t r;

			if (c->state == C_CONNECTING) {
				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err,
					   &len);
				if (err || write(c->fd, req, req_len) !=
					   (ssize_t)req_len ||
				    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd,
					      &ev)) {
					client_end(epfd, w, c, false);
					if (c->fd < 0)
						active--;
					continue;
				}
				c->state = C_READING;
				continue;
			}
			for (;;) {
				r = read(c->fd, buf, sizeof(buf));
				if (r > 0) {
					if (!c->got && (r < 13 ||
					    memcmp(buf, "HTTP/1.1 200 ", 13)))
						r = -2;	/* bad status */
					else
						c->got += (size_t)r;
				}
				if (r <= 0)
					break;
			}
			if (r < 0 && r != -2 && errno == EAGAIN)
				continue;
			client_end(epfd, w, c, r == 0 && c->got);
			if (c->fd < 0)
				active--;
		}
	}
	close(epfd);
	free(cl);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-a ADDR] [-p PORT] [-c CONNS] [-t THREADS] [-d SECONDS] [-P PATH]\n"
		"  connection-per-request load (\"Connection: close\"); defaults:\n"
		"  -a 127.0.0.1 -p 8080 -c 10 -t 1 -d 5 -P /\n", prog);
}

int main(int argc, char **argv)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&sa;
	unsigned long requests = 0, errors = 0;
	struct worker *w;
	uint64_t *all, t0, sum = 0;
	size_t nr = 0, k;
	double secs;
	int c, i;

	while ((c = getopt(argc, argv, "a:p:c:t:d:P:h")) != -1) {
		switch (c) {
		case 'a':
			opt.addr = optarg;
			break;
		case 'p':
			opt.port = atoi(optarg);
			break;
		case 'c':
			opt.conns = atoi(optarg);
			break;
		case 't':
			opt.threads = atoi(optarg);
			break;
		case 'd':
			opt.seconds = atof(optarg);
			break;
		case 'P':
			opt.path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || opt.conns < 1 || opt.threads < 1 ||
	    opt.threads > opt.conns || opt.seconds <= 0 ||
	    opt.port < 1 || opt.port > 65535 || strlen(opt.path) > 512) {
		usage(stderr);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	if (inet_pton(AF_INET, opt.addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)opt.port);
		sa_len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, opt.addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)opt.port);
		sa_len = sizeof(*sin6);
	} else {
		fprintf(stderr, "%s: bad address '%s'\n", prog, opt.addr);
		return 2;
	}
	req_len = (size_t)snprintf(req, sizeof(req),
				   "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
				   opt.path, opt.addr);

	w = calloc((size_t)opt.threads, sizeof(*w));
	if (!w)
		die("calloc");
	t0 = now_ns();
	t_end = t0 + (uint64_t)(opt.seconds * 1e9);
	for (i = 0; i < opt.threads; i++) {
		w[i].nr = opt.conns / opt.threads +
			  (i < opt.conns % opt.threads);
		errno = pthread_create(&w[i].tid, NULL, worker_main, &w[i]);
		if (errno)
			die("pthread_create");
	}
	for (i = 0; i < opt.threads; i++) {
		pthread_join(w[i].tid, NULL);
		requests += w[i].requests;
		errors += w[i].errors;
		nr += w[i].nr_lat;
	}
	secs = (double)(now_ns() - t0) / 1e9;
	all = malloc((nr ? nr : 1) * sizeof(*all));
	if (!all)
		die("malloc");
	for (i = 0, k = 0; i < opt.threads; i++) {
		memcpy(all + k, w[i].lat, w[i].nr_lat * sizeof(*all));
		k += w[i].nr_lat;
	}
	qsort(all, nr, sizeof(*all), cmp_u64);
	for (k = 0; k < nr; k++)
		sum += all[k];
#define PCT(p)	\
	(nr ? (double)all[(size_t)((double)(nr - 1) * (p))] / 1e3 : 0.0)
	printf("evload requests=%lu errors=%lu seconds=%.3f requests_per_sec=%.1f latency_avg_us=%.1f latency_p50_us=%.1f latency_p90_us=%.1f latency_p99_us=%.1f latency_p999_us=%.1f latency_max_us=%.1f\n",
	       requests, errors, secs, (double)requests / secs,
	       nr ? (double)sum / (double)nr / 1e3 : 0.0,
	       PCT(0.50), PCT(0.90), PCT(0.99), PCT(0.999), PCT(1.0));
	return errors ? 1 : 0;
}
