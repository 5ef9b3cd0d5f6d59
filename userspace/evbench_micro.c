// SPDX-License-Identifier: GPL-2.0
/*
 * evbench_micro - event delivery rate of kevent, epoll and io_uring.
 *
 *	evbench_micro -m MODE -n N [-r ROUNDS]
 *
 * N pipes; one byte is written into each and never read, so every read
 * end is permanently readable. A round delivers exactly N events (one per
 * fd) and the rate is events per second over ROUNDS rounds.
 *
 * Level modes (no producer work: the level condition is re-reported):
 *   ring       kevent queue with a ring (>= N entries), level KEVENT_POLL
 *              POLLIN. A level registration is re-reported by the next
 *              harvest once its previous ring entry was consumed, so a
 *              round is: kevent_wait(fd, N) (1 syscall), read the N
 *              entries from the ring, advance head.
 *   getevents  kevent queue without ring, same registrations; a round is
 *              kevent_get_events(fd, evs, N, N) (min_nr = N: 1 syscall).
 *   epoll      level-triggered EPOLLIN; a round is epoll_wait(maxevents
 *              = N) (1 syscall when all N are returned at once).
 *   uring      io_uring has no level-triggered multishot poll (a
 *              multishot poll posts a CQE per wake-up, never again for
 *              unread data), so the level equivalent is re-arming: a
 *              round queues N one-shot IORING_OP_POLL_ADD SQEs, submits
 *              them and waits for the N CQEs in one io_uring_enter().
 * Edge modes (a round first writes one byte into each pipe: N write()
 * syscalls, counted; then harvests the N resulting events):
 *   ring-et, getevents-et, epoll-et   KEVENT_REQ_ET / EPOLLET
 *   uring-multi   one IORING_POLL_ADD_MULTI per fd (armed once), CQEs
 *                 reaped from the CQ ring; io_uring_enter() only when
 *                 fewer than the expected CQEs are ready.
 * In the ring and uring modes events that are already in the ring are
 * harvested without a syscall. Every mode reads and checks the cookie of
 * every event (udata, data.u64, user_data).
 *
 * Output, one line per run:
 *   micro mode=M n=N events=E seconds=S events_per_sec=R
 *   syscalls_per_event=X ev_syscalls_per_event=Y
 * X counts every syscall of the measured loop (edge modes: including the
 * N trigger writes per round), Y only the event-notification syscalls
 * (kevent_wait, kevent_get_events, epoll_wait, io_uring_enter).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "libkevent.h"

#define MAX_N			100000
#define EDGE_MAX_ROUNDS		60000	/* pipe capacity: 64 KiB */
#define TARGET_EVENTS		2000000UL
#define EDGE_TARGET_EVENTS	500000UL	/* each also costs a write() */
#define WAIT_TIMEOUT_NS		2000000000ULL

static const char *prog = "evbench_micro";

static unsigned int n = 1;
static unsigned long rounds;
static int *rfd, *wfd;
static unsigned long sys_ev, sys_other;
static double t_start;		/* set when the measured rounds start */

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Every mode reads the cookie of every event it harvests and checks it,
 * as a program dispatching on it would: the same user-space work per
 * event whatever the mechanism.
 */
static inline void check_cookie(__u64 cookie)
{
	if (cookie >= n)
		die("bad event cookie %llu", (unsigned long long)cookie);
}

static void raise_nofile(unsigned long need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= need)
		return;
	if (rl.rlim_max < need) {
		rl.rlim_max = need > 65536 ? need : 65536;
		rl.rlim_cur = rl.rlim_max;
		if (!setrlimit(RLIMIT_NOFILE, &rl))
			return;
		die("RLIMIT_NOFILE: need %lu fds, hard limit too low (%s; run as root or raise ulimit -Hn)",
		    need, strerror(errno));
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit: %s", strerror(errno));
}

static void make_pipes(void)
{
	unsigned int i;

	rfd = calloc(n, sizeof(int));
	wfd = calloc(n, sizeof(int));
	if (!rfd || !wfd)
		die("out of memory");
	for (i = 0; i < n; i++) {
		int p[2];

		if (pipe2(p, O_NONBLOCK | O_CLOEXEC))
			die("pipe2 (%u of %u): %s", i, n, strerror(errno));
		rfd[i] = p[0];
		wfd[i] = p[1];
		if (write(p[1], "x", 1) != 1)
			die("write: %s", strerror(errno));
	}
}

/* Edge modes: make every read end readable again (a new wake-up). */
static void trigger(void)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (write(wfd[i], "x", 1) != 1)
			die("trigger write: %s", strerror(errno));
	sys_other += n;
}

/* ---------------------------------------------------------------------- */
/* kevent                                                                  */
/* ---------------------------------------------------------------------- */

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

static int kevent_setup(unsigned int ring_entries, __u32 flags)
{
	struct ukevent *ch = calloc(n, sizeof(*ch));
	unsigned int i;
	int fd, ret;

	if (!ch)
		die("out of memory");
	if (kevent_missing())
		die("this kernel has no kevent (no /proc/sys/fs/kevent)");
	fd = kevent_queue_init(ring_entries, KEVENT_INIT_CLOEXEC);
	if (fd < 0)
		die("kevent_init: %s%s", strerror(errno),
		    errno == ENOSYS ? " (kernel without kevent?)" : "");
	for (i = 0; i < n; i++)
		kevent_prep_fd(&ch[i], KEVENT_POLL, rfd[i], POLLIN, flags, i);
	ret = kevent_ctl(fd, ch, n, 0);
	if (ret < 0)
		die("kevent_ctl: %s", strerror(errno));
	if (ret > 0) {
		for (i = 0; i < n; i++)
			if (ch[i].result)
				die("kevent_ctl fd %d: %s", rfd[i],
				    strerror(-ch[i].result));
	}
	free(ch);
	return fd;
}

static unsigned long run_ring(bool edge)
{
	unsigned int entries = kevent_ring_roundup(n < 64 ? 64 : n);
	struct __kernel_timespec ts;
	struct kevent_ring_map map;
	unsigned long r, events = 0;
	int fd = kevent_setup(entries, edge ? KEVENT_REQ_ET : 0);

	if (kevent_ring_mmap(fd, entries, &map))
		die("kevent ring mmap: %s", strerror(errno));
	kevent_ts_from_ns(&ts, WAIT_TIMEOUT_NS);
	/* the ADD-time reports are harvested before the clock starts */
	while (kevent_ring_count(map.ring) < n)
		if (kevent_wait(fd, n, &ts, NULL) <= 0)
			die("kevent_wait (setup): %s", strerror(errno));
	kevent_ring_advance(map.ring, kevent_ring_count(map.ring));

	t_start = now();
	for (r = 0; r < rounds; r++) {
		unsigned int got = 0;

		if (edge)
			trigger();
		while (got < n) {
			unsigned int i, nr;

			if (kevent_ring_count(map.ring) < n - got ||
			    kevent_ring_harvest_due(map.ring)) {
				int ret = kevent_wait(fd, n - got, &ts, NULL);

				sys_ev++;
				if (ret < 0 && errno != EINTR)
					die("kevent_wait: %s",
					    strerror(errno));
				if (ret == 0)
					die("kevent_wait: timeout after %u of %u events in round %lu (level re-report missing?)",
					    got, n, r);
			}
			nr = kevent_ring_count(map.ring);
			for (i = 0; i < nr; i++) {
				check_cookie(kevent_ring_get(map.ring,
							     i)->udata);
			}
			kevent_ring_advance(map.ring, nr);
			got += nr;
		}
		if (got != n)
			die("round %lu: %u events, expected %u", r, got, n);
		events += got;
	}
	return events;
}

static unsigned long run_getevents(bool edge)
{
	struct ukevent *evs = calloc(n, sizeof(*evs));
	struct __kernel_timespec ts;
	unsigned long r, events = 0;
	unsigned int i;
	int fd = kevent_setup(0, edge ? KEVENT_REQ_ET : 0);

	if (!evs)
		die("out of memory");
	kevent_ts_from_ns(&ts, WAIT_TIMEOUT_NS);
	if (edge) {
		/* drain the ADD-time reports */
		unsigned int got = 0;

		while (got < n) {
			int ret = kevent_get_events(fd, evs, n - got, n, &ts,
						    NULL);
			if (ret <= 0)
				die("kevent_get_events (setup): %s",
				    ret ? strerror(errno) : "timeout");
			got += (unsigned int)ret;
		}
	}
	t_start = now();
	for (r = 0; r < rounds; r++) {
		unsigned int got = 0;

		if (edge)
			trigger();
		while (got < n) {
			int ret = kevent_get_events(fd, evs, n - got, n - got,
						    &ts, NULL);

			sys_ev++;
			if (ret < 0) {
				if (errno == EINTR)
					continue;
				die("kevent_get_events: %s", strerror(errno));
			}
			if (ret == 0)
				die("kevent_get_events: timeout after %u of %u events in round %lu",
				    got, n, r);
			for (i = 0; i < (unsigned int)ret; i++)
				check_cookie(evs[i].udata);
			got += (unsigned int)ret;
		}
		events += got;
	}
	free(evs);
	return events;
}

/* ---------------------------------------------------------------------- */
/* epoll                                                                   */
/* ---------------------------------------------------------------------- */

static unsigned long run_epoll(bool edge)
{
	struct epoll_event *evs = calloc(n, sizeof(*evs));
	unsigned long r, events = 0;
	unsigned int i;
	int epfd = epoll_create1(EPOLL_CLOEXEC);

	if (!evs)
		die("out of memory");
	if (epfd < 0)
		die("epoll_create1: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		struct epoll_event ev = {
			.events = EPOLLIN | (edge ? EPOLLET : 0),
			.data.u64 = i,
		};

		if (epoll_ctl(epfd, EPOLL_CTL_ADD, rfd[i], &ev))
			die("epoll_ctl: %s", strerror(errno));
	}
	if (edge) {
		unsigned int got = 0;

		while (got < n) {
			int ret = epoll_wait(epfd, evs, (int)n, 2000);

			if (ret <= 0)
				die("epoll_wait (setup): %s",
				    ret ? strerror(errno) : "timeout");
			got += (unsigned int)ret;
		}
	}
	t_start = now();
	for (r = 0; r < rounds; r++) {
		unsigned int got = 0;

		if (edge)
			trigger();
		while (got < n) {
			int ret = epoll_wait(epfd, evs, (int)(n - got), 2000);

			sys_ev++;
			if (ret < 0) {
				if (errno == EINTR)
					continue;
				die("epoll_wait: %s", strerror(errno));
			}
			if (ret == 0)
				die("epoll_wait: timeout after %u of %u events in round %lu",
				    got, n, r);
			for (i = 0; i < (unsigned int)ret; i++)
				check_cookie(evs[i].data.u64);
			got += (unsigned int)ret;
		}
		events += got;
	}
	free(evs);
	return events;
}

/* ---------------------------------------------------------------------- */
/* io_uring                                                                */
/* ---------------------------------------------------------------------- */

static void uring_setup(struct io_uring *ring)
{
	struct io_uring_params p;
	unsigned int sq = 64;
	int ret;

	while (sq < n && sq < 32768)
		sq <<= 1;
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = sq * 2 < n * 2 ? n * 2 : sq * 2;
	ret = io_uring_queue_init_params(sq, ring, &p);
	if (ret)
		die("io_uring_queue_init: %s", strerror(-ret));
}

static struct io_uring_sqe *uring_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe;

	while (!(sqe = io_uring_get_sqe(ring))) {
		sys_ev++;
		io_uring_submit(ring);
	}
	return sqe;
}

/* Reap exactly @want CQEs, entering the kernel only when needed. */
static void uring_reap(struct io_uring *ring, unsigned int want, bool multi,
		       unsigned long r)
{
	struct __kernel_timespec ts = {
		.tv_sec = WAIT_TIMEOUT_NS / 1000000000,
	};
	unsigned int got = 0;

	while (got < want) {
		struct io_uring_cqe *cqe;
		unsigned int head, nr = 0;

		if (io_uring_cq_ready(ring) < want - got ||
		    io_uring_sq_ready(ring)) {
			/* submit and wait: one io_uring_enter() */
			int ret = io_uring_submit_and_wait_timeout(ring, &cqe,
								   want - got,
								   &ts, NULL);

			sys_ev++;
			if (ret == -ETIME)
				die("io_uring: timeout after %u of %u CQEs in round %lu",
				    got, want, r);
			if (ret < 0 && ret != -EINTR)
				die("io_uring_submit_and_wait_timeout: %s",
				    strerror(-ret));
		}
		io_uring_for_each_cqe(ring, head, cqe) {
			if (cqe->res < 0)
				die("poll CQE: %s (round %lu)",
				    strerror(-cqe->res), r);
			if (multi && !(cqe->flags & IORING_CQE_F_MORE))
				die("multishot poll terminated (round %lu)",
				    r);
			check_cookie(io_uring_cqe_get_data64(cqe));
			if (++nr == want - got)
				break;
		}
		io_uring_cq_advance(ring, nr);
		got += nr;
	}
}

static unsigned long run_uring(bool multi)
{
	struct io_uring ring;
	unsigned long r, events = 0;
	unsigned int i;

	uring_setup(&ring);
	if (multi) {
		for (i = 0; i < n; i++) {
			struct io_uring_sqe *sqe = uring_sqe(&ring);

			io_uring_prep_poll_multishot(sqe, rfd[i], POLLIN);
			io_uring_sqe_set_data64(sqe, i);
		}
		/* the first CQE of each (readable at arm time) */
		uring_reap(&ring, n, true, 0);
	}
	t_start = now();
	for (r = 0; r < rounds; r++) {
		if (multi) {
			trigger();
		} else {
			for (i = 0; i < n; i++) {
				struct io_uring_sqe *sqe = uring_sqe(&ring);

				io_uring_prep_poll_add(sqe, rfd[i], POLLIN);
				io_uring_sqe_set_data64(sqe, i);
			}
		}
		uring_reap(&ring, n, multi, r);
		events += n;
	}
	io_uring_queue_exit(&ring);
	return events;
}

/* ---------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s -m MODE -n N [-r ROUNDS]\n"
		"  -m MODE    ring, getevents, epoll, uring (level);\n"
		"             ring-et, getevents-et, epoll-et, uring-multi (edge)\n"
		"  -n N       ready fds (pipes), e.g. 1, 100, 10000\n"
		"  -r ROUNDS  rounds of N events (default: about %lu events;\n"
		"             edge modes about %lu, in at most %d rounds)\n",
		prog, TARGET_EVENTS, EDGE_TARGET_EVENTS, EDGE_MAX_ROUNDS);
}

static bool known_mode(const char *mode)
{
	static const char * const modes[] = {
		"ring", "getevents", "epoll", "uring",
		"ring-et", "getevents-et", "epoll-et", "uring-multi",
	};
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(mode, modes[i]))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	const char *mode = NULL;
	unsigned long events = 0;
	double t1;
	bool edge;
	int c;

	while ((c = getopt(argc, argv, "m:n:r:h")) != -1) {
		switch (c) {
		case 'm':
			mode = optarg;
			break;
		case 'n':
			n = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!mode || optind != argc || !n || n > MAX_N) {
		usage(stderr);
		return 2;
	}
	if (!known_mode(mode)) {
		fprintf(stderr, "%s: unknown mode '%s'\n", prog, mode);
		usage(stderr);
		return 2;
	}
	edge = strstr(mode, "-et") || !strcmp(mode, "uring-multi");
	if (!rounds) {
		unsigned long target = edge ? EDGE_TARGET_EVENTS : TARGET_EVENTS;

		rounds = target / n ? target / n : 1;
	}
	if (edge && rounds > EDGE_MAX_ROUNDS)
		rounds = EDGE_MAX_ROUNDS;

	raise_nofile(2UL * n + 64);
	make_pipes();

	if (!strcmp(mode, "ring") || !strcmp(mode, "ring-et"))
		events = run_ring(edge);
	else if (!strcmp(mode, "getevents") || !strcmp(mode, "getevents-et"))
		events = run_getevents(edge);
	else if (!strcmp(mode, "epoll") || !strcmp(mode, "epoll-et"))
		events = run_epoll(edge);
	else
		events = run_uring(edge);
	t1 = now();

	printf("micro mode=%s n=%u events=%lu seconds=%.6f events_per_sec=%.0f syscalls_per_event=%.6f ev_syscalls_per_event=%.6f\n",
	       mode, n, events, t1 - t_start,
	       t1 > t_start ? (double)events / (t1 - t_start) : 0.0,
	       events ? (double)(sys_ev + sys_other) / events : 0.0,
	       events ? (double)sys_ev / events : 0.0);
	return 0;
}
