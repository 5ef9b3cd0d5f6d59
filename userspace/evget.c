// SPDX-License-Identifier: GPL-2.0
/*
 * evget - minimal HTTP/1.1 client that prints the raw response bytes.
 *
 * Sends one GET (or -n N pipelined GETs in one write) and copies the raw
 * bytes of the responses to stdout, exactly as received. Keep-alive: reads
 * until N complete responses (by Content-Length) have arrived. With -c
 * ("Connection: close" on the last request) or -0 (HTTP/1.0): also checks
 * that the server closes the connection after the last response.
 *
 *	evget [-c] [-0] [-n N] [-w MS] [-T MS] ADDR PORT [PATH]
 *
 * Exit: 0 ok, 1 error (connect, timeout, malformed or incomplete response,
 * server did not close), 2 usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_RESP	(64UL << 20)

static const char *prog = "evget";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-c] [-0] [-n N] [-w MS] [-T MS] ADDR PORT [PATH]\n"
		"  -c      send \"Connection: close\" (on the last request)\n"
		"  -0      HTTP/1.0 requests (no keep-alive header)\n"
		"  -n N    N pipelined requests in one write (default 1)\n"
		"  -w MS   retry connecting for up to MS ms (server start-up)\n"
		"  -T MS   I/O timeout (default 5000)\n"
		"Prints the raw response bytes on stdout.\n", prog);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int do_connect(const char *addr, int port, long wait_ms)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	long deadline = now_ms() + wait_ms;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		len = sizeof(*sin6);
	} else {
		fprintf(stderr, "%s: bad address '%s'\n", prog, addr);
		exit(2);
	}
	for (;;) {
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			fprintf(stderr, "%s: socket: %s\n", prog,
				strerror(errno));
			exit(1);
		}
		if (!connect(fd, (struct sockaddr *)&ss, len))
			return fd;
		close(fd);
		if (errno != ECONNREFUSED || now_ms() >= deadline) {
			fprintf(stderr, "%s: connect %s:%d: %s\n", prog, addr,
				port, strerror(errno));
			exit(1);
		}
		usleep(20000);
	}
}

/* Length of the complete response at @p, 0 if incomplete, -1 if bad. */
static long resp_len(const char *p, size_t len)
{
	const char *end = memmem(p, len, "\r\n\r\n", 4);
	const char *line;
	long clen = -1;

	if (!end)
		return 0;
	if (len < 9 || memcmp(p, "HTTP/1.", 7))
		return -1;
	for (line = memchr(p, '\n', (size_t)(end - p)) + 1; line < end;
	     line = memchr(line, '\n', (size_t)(end + 2 - line)) + 1) {
		if (!strncasecmp(line, "Content-Length:", 15))
			clen = strtol(line + 15, NULL, 10);
	}
	if (clen < 0)
		return -1;
	if ((size_t)(end + 4 - p) + (size_t)clen > len)
		return 0;
	return (long)(end + 4 - p) + clen;
}

int main(int argc, char **argv)
{
	bool conn_close = false, http10 = false, want_eof;
	long wait_ms = 0, timeout = 5000;
	size_t len = 0, cap = 65536, done = 0, req_len = 0;
	char *buf, *req, *path = "/";
	int c, n = 1, i, fd, got = 0;

	while ((c = getopt(argc, argv, "c0n:w:T:h")) != -1) {
		switch (c) {
		case 'c':
			conn_close = true;
			break;
		case '0':
			http10 = true;
			break;
		case 'n':
			n = atoi(optarg);
			break;
		case 'w':
			wait_ms = atol(optarg);
			break;
		case 'T':
			timeout = atol(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind < 2 || argc - optind > 3 || n < 1 || n > 1000) {
		usage(stderr);
		return 2;
	}
	if (argc - optind == 3)
		path = argv[optind + 2];
	want_eof = conn_close || http10;

	req = malloc((size_t)n * (strlen(path) + 128));
	buf = malloc(cap);
	if (!req || !buf) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	for (i = 0; i < n; i++)
		req_len += (size_t)sprintf(req + req_len,
					   "GET %s HTTP/1.%c\r\nHost: %s\r\n%s\r\n",
					   path, http10 ? '0' : '1',
					   argv[optind],
					   conn_close && i == n - 1 ?
					   "Connection: close\r\n" : "");

	fd = do_connect(argv[optind], atoi(argv[optind + 1]), wait_ms);
	if (write(fd, req, req_len) != (ssize_t)req_len) {
		fprintf(stderr, "%s: write: %s\n", prog, strerror(errno));
		return 1;
	}

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;
		long l = 0;

		while (got < n && (l = resp_len(buf + done, len - done)) > 0) {
			done += (size_t)l;
			got++;
		}
		if (l < 0) {
			fprintf(stderr, "%s: malformed response\n", prog);
			return 1;
		}
		if (got == n && !want_eof)
			break;
		if (poll(&pfd, 1, (int)timeout) <= 0) {
			fprintf(stderr, "%s: timeout (%d of %d responses%s)\n",
				prog, got, n,
				got == n ? ", server did not close" : "");
			return 1;
		}
		if (len == cap) {
			if (cap >= MAX_RESP) {
				fprintf(stderr, "%s: response too long\n",
					prog);
				return 1;
			}
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf) {
				fprintf(stderr, "%s: out of memory\n", prog);
				return 1;
			}
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0) {
			fprintf(stderr, "%s: read: %s\n", prog,
				strerror(errno));
			return 1;
		}
		if (r == 0) {
			if (got < n) {
				fprintf(stderr,
					"%s: connection closed after %d of %d responses\n",
					prog, got, n);
				return 1;
			}
			break;
		}
		len += (size_t)r;
		if (want_eof && got == n && len > done) {
			fprintf(stderr, "%s: extra bytes after the last response\n",
				prog);
			return 1;
		}
	}
	if (fwrite(buf, 1, len, stdout) != len || fflush(stdout)) {
		fprintf(stderr, "%s: write stdout: %s\n", prog,
			strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}
