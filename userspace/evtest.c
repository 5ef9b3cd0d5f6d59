// SPDX-License-Identifier: GPL-2.0
/*
 * evtest - register kevent timers and user events and watch them arrive.
 *
 * Creates a kevent queue, registers the timers and user events given on
 * the command line, and prints every event as it is delivered, either
 * copied out by kevent_get_events() or read straight from the mmap'd ring
 * (kevent_wait() only when the ring is empty).
 *
 * Example:
 *	evtest --timer 1:100000000:100000000 --user 7 --trigger-after 250 \
 *	       --count 10
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "libkevent.h"

#ifndef __printf
#define __printf(a, b)		__attribute__((format(printf, a, b)))
#endif
#ifndef __noreturn
#define __noreturn		__attribute__((noreturn))
#endif

#define NSEC_PER_SEC		1000000000ULL
#define NSEC_PER_MSEC		1000000ULL
#define DEFAULT_PERIOD_NS	NSEC_PER_SEC
#define DEFAULT_RING_ENTRIES	256
#define DEFAULT_BATCH		64
#define CTL_CHUNK		1024

/* Exit status */
#define EXIT_USAGE		2	/* bad command line */
#define EXIT_SHORT		3	/* --count not reached */

struct reg {
	__u16	type;
	__u64	id;
	__s64	expires;	/* timers */
	__u64	interval;	/* timers */
	clockid_t clock;	/* timers */
};

static const char *prog = "evtest";

static struct reg *regs;
static unsigned int nr_regs;

static struct {
	__u32		req_flags;	/* KEVENT_REQ_* from --mode */
	bool		dispatch;
	bool		ring;
	unsigned int	ring_entries;	/* 0: no ring */
	unsigned int	batch;
	unsigned long	count;		/* 0: no limit */
	unsigned long	duration_ms;	/* 0: no limit */
	bool		have_user;
	__u64		user_id;
	long		trigger_ms;	/* -1: never */
	bool		quiet;
} opt = {
	.batch = DEFAULT_BATCH,
	.trigger_ms = -1,
};

static int kfd = -1;
static struct timespec t_start;
static volatile sig_atomic_t got_signal;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [OPTION]...\n"
		"Create a kevent queue, register timers and user events, and print every\n"
		"event as it arrives.\n"
		"\n"
		"Registrations:\n"
		"  -t, --timer ID:EXPIRES_NS[:INTERVAL_NS[:CLOCK]]\n"
		"                        add a timer with id ID that first expires after\n"
		"                        EXPIRES_NS nanoseconds, then every INTERVAL_NS\n"
		"                        (default 0: fires once); CLOCK is monotonic\n"
		"                        (default), realtime or boottime; repeatable\n"
		"  -n, --timers N        add N periodic timers with ids 1..N\n"
		"  -p, --period NS       expiry and period of the --timers timers in\n"
		"                        nanoseconds (default %llu)\n"
		"  -u, --user ID         add a user event with id ID\n"
		"  -T, --trigger-after MS\n"
		"                        trigger the user event once from a second thread\n"
		"                        MS milliseconds after start; the value passed\n"
		"                        (printed in data[1]) is the trigger time in ns\n"
		"                        since start\n"
		"  -m, --mode MODE       delivery mode of every registration: level\n"
		"                        (default), edge, oneshot or dispatch; in dispatch\n"
		"                        mode each registration is re-enabled after its\n"
		"                        event is printed\n"
		"\n"
		"Harvesting:\n"
		"  -r, --ring            read events from the mmap'd ring, calling\n"
		"                        kevent_wait() only when it is empty (default:\n"
		"                        kevent_get_events())\n"
		"  -e, --ring-entries N  ring size (rounded up to a power of two by the\n"
		"                        kernel; default %u with --ring); without --ring,\n"
		"                        a queue with a ring drained by kevent_get_events()\n"
		"  -b, --batch N         at most N events per kevent_get_events() call\n"
		"                        (default %u)\n"
		"\n"
		"Stopping (default: run until SIGINT or SIGTERM):\n"
		"  -c, --count N         stop after N events\n"
		"  -d, --duration MS     stop after MS milliseconds\n"
		"\n"
		"Other:\n"
		"  -q, --quiet           print only the summary\n"
		"  -h, --help            print this help and exit\n"
		"\n"
		"Each event is printed as: time since start in seconds, type, id, udata\n"
		"(the registration's position on the command line, from 1), ready event\n"
		"mask, return flags and data[0] (coalesced count: timer expirations or\n"
		"user triggers) and data[1] (user events: value of the last trigger).\n"
		"\n"
		"Exit status: 0 on success, 1 if a system call or a registration failed,\n"
		"%d on a command-line error, %d if --count events did not arrive before\n"
		"--duration or a signal.\n",
		prog, (unsigned long long)DEFAULT_PERIOD_NS,
		DEFAULT_RING_ENTRIES, DEFAULT_BATCH, EXIT_USAGE, EXIT_SHORT);
}

static void __printf(1, 2) __noreturn usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
	exit(EXIT_USAGE);
}

/* Print "prog: what: strerror(err)" and exit(1). */
static void __noreturn die_errno(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(err));
	exit(EXIT_FAILURE);
}

static void *xrealloc(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		die_errno("realloc", ENOMEM);
	p = realloc(p, n * size);
	if (!p && n)
		die_errno("realloc", errno);
	return p;
}

/*
 * Parse an unsigned decimal (or 0x hex) number that must fill the string
 * and lie in [min, max]. Returns false on any error.
 */
static bool parse_u64(const char *s, unsigned long long min,
		      unsigned long long max, unsigned long long *val)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return false;
	*val = v;
	return true;
}

static unsigned long long opt_num(const char *name, const char *arg,
				  unsigned long long min,
				  unsigned long long max)
{
	unsigned long long v;

	if (!parse_u64(arg, min, max, &v))
		usage_error("invalid %s '%s': expected an integer in [%llu, %llu]",
			    name, arg, min, max);
	return v;
}

static bool parse_clock(const char *s, clockid_t *clock)
{
	if (!strcasecmp(s, "monotonic"))
		*clock = CLOCK_MONOTONIC;
	else if (!strcasecmp(s, "realtime"))
		*clock = CLOCK_REALTIME;
	else if (!strcasecmp(s, "boottime"))
		*clock = CLOCK_BOOTTIME;
	else
		return false;
	return true;
}

static struct reg *new_reg(void)
{
	regs = xrealloc(regs, nr_regs + 1, sizeof(*regs));
	memset(&regs[nr_regs], 0, sizeof(*regs));
	return &regs[nr_regs++];
}

/* --timer ID:EXPIRES_NS[:INTERVAL_NS[:CLOCK]] */
static void parse_timer(const char *arg)
{
	char *buf, *field[5], *p;
	unsigned long long v;
	struct reg *r;
	int n = 0;

	buf = strdup(arg);
	if (!buf)
		die_errno("strdup", errno);
	for (p = buf; n < 5; n++) {
		field[n] = p;
		p = strchr(p, ':');
		if (!p) {
			n++;
			break;
		}
		*p++ = '\0';
	}
	if (n < 2 || n > 4)
		usage_error("invalid --timer '%s': expected ID:EXPIRES_NS[:INTERVAL_NS[:CLOCK]]",
			    arg);

	r = new_reg();
	r->type = KEVENT_TIMER;
	r->clock = CLOCK_MONOTONIC;
	if (!parse_u64(field[0], 0, UINT64_MAX, &v))
		usage_error("invalid --timer '%s': bad ID '%s'", arg, field[0]);
	r->id = v;
	if (!parse_u64(field[1], 0, INT64_MAX, &v))
		usage_error("invalid --timer '%s': bad EXPIRES_NS '%s'",
			    arg, field[1]);
	r->expires = (__s64)v;
	if (n > 2) {
		if (!parse_u64(field[2], 0, UINT64_MAX, &v))
			usage_error("invalid --timer '%s': bad INTERVAL_NS '%s'",
				    arg, field[2]);
		r->interval = v;
	}
	if (n > 3 && !parse_clock(field[3], &r->clock))
		usage_error("invalid --timer '%s': bad CLOCK '%s'", arg,
			    field[3]);
	free(buf);
}

static void parse_mode(const char *arg)
{
	opt.dispatch = false;
	if (!strcmp(arg, "level"))
		opt.req_flags = 0;
	else if (!strcmp(arg, "edge") || !strcmp(arg, "et"))
		opt.req_flags = KEVENT_REQ_ET;
	else if (!strcmp(arg, "oneshot"))
		opt.req_flags = KEVENT_REQ_ONESHOT;
	else if (!strcmp(arg, "dispatch"))
		opt.req_flags = KEVENT_REQ_DISPATCH;
	else
		usage_error("invalid --mode '%s': expected level, edge, oneshot or dispatch",
			    arg);
	opt.dispatch = opt.req_flags == KEVENT_REQ_DISPATCH;
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "timer",		required_argument, NULL, 't' },
		{ "timers",		required_argument, NULL, 'n' },
		{ "period",		required_argument, NULL, 'p' },
		{ "user",		required_argument, NULL, 'u' },
		{ "trigger-after",	required_argument, NULL, 'T' },
		{ "mode",		required_argument, NULL, 'm' },
		{ "ring",		no_argument,	   NULL, 'r' },
		{ "ring-entries",	required_argument, NULL, 'e' },
		{ "batch",		required_argument, NULL, 'b' },
		{ "count",		required_argument, NULL, 'c' },
		{ "duration",		required_argument, NULL, 'd' },
		{ "quiet",		no_argument,	   NULL, 'q' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL,			0,		   NULL, 0 }
	};
	unsigned long long ntimers = 0, period = DEFAULT_PERIOD_NS, i;
	bool have_period = false;
	struct reg *r;
	int c;

	while ((c = getopt_long(argc, argv, "t:n:p:u:T:m:re:b:c:d:qh",
				longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			parse_timer(optarg);
			break;
		case 'n':
			ntimers = opt_num("--timers", optarg, 1, 1U << 24);
			break;
		case 'p':
			period = opt_num("--period", optarg, 1, INT64_MAX);
			have_period = true;
			break;
		case 'u':
			if (opt.have_user)
				usage_error("--user given twice");
			opt.have_user = true;
			opt.user_id = opt_num("--user", optarg, 0, UINT64_MAX);
			r = new_reg();
			r->type = KEVENT_USER;
			r->id = opt.user_id;
			break;
		case 'T':
			opt.trigger_ms = opt_num("--trigger-after", optarg, 0,
						 INT_MAX);
			break;
		case 'm':
			parse_mode(optarg);
			break;
		case 'r':
			opt.ring = true;
			break;
		case 'e':
			opt.ring_entries = opt_num("--ring-entries", optarg, 1,
						   UINT32_MAX);
			break;
		case 'b':
			opt.batch = opt_num("--batch", optarg, 1, 1U << 20);
			break;
		case 'c':
			opt.count = opt_num("--count", optarg, 1, ULONG_MAX);
			break;
		case 'd':
			opt.duration_ms = opt_num("--duration", optarg, 1,
						  INT_MAX);
			break;
		case 'q':
			opt.quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n",
				prog);
			exit(EXIT_USAGE);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (have_period && !ntimers)
		usage_error("--period needs --timers");
	if (opt.trigger_ms >= 0 && !opt.have_user)
		usage_error("--trigger-after needs --user");
	if (!nr_regs && !ntimers)
		usage_error("nothing to watch: give --timer, --timers or --user");
	if (opt.ring && !opt.ring_entries)
		opt.ring_entries = DEFAULT_RING_ENTRIES;

	for (i = 1; i <= ntimers; i++) {
		r = new_reg();
		r->type = KEVENT_TIMER;
		r->id = i;
		r->expires = (__s64)period;
		r->interval = period;
		r->clock = CLOCK_MONOTONIC;
	}
}

static __u64 ns_since_start(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t_start.tv_sec) * NSEC_PER_SEC +
	       now.tv_nsec - t_start.tv_nsec;
}

static const char *type_name(unsigned int type)
{
	switch (type) {
	case KEVENT_SOCKET:
		return "socket";
	case KEVENT_POLL:
		return "poll";
	case KEVENT_TIMER:
		return "timer";
	case KEVENT_SIGNAL:
		return "signal";
	case KEVENT_USER:
		return "user";
	default:
		return "?";
	}
}

static const char *reg_what(unsigned int type)
{
	return type == KEVENT_TIMER ? "timer" : "user event";
}

/* Apply changes in chunks; report every failed change and exit. */
static void apply_changes(struct ukevent *ch, unsigned int nr,
			  const char *what)
{
	unsigned int done, n, i;
	bool failed = false;
	int ret;

	for (done = 0; done < nr; done += n) {
		n = nr - done < CTL_CHUNK ? nr - done : CTL_CHUNK;
		ret = kevent_ctl(kfd, ch + done, n, 0);
		if (ret < 0)
			die_errno("kevent_ctl", errno);
		for (i = 0; ret > 0 && i < n; i++) {
			struct ukevent *c = &ch[done + i];

			if (!c->result)
				continue;
			fprintf(stderr, "%s: %s %s %llu: %s\n", prog, what,
				reg_what(c->type), (unsigned long long)c->id,
				strerror(-c->result));
			failed = true;
		}
	}
	if (failed)
		exit(EXIT_FAILURE);
}

static void register_all(void)
{
	struct ukevent *ch;
	unsigned int i;

	ch = xrealloc(NULL, nr_regs, sizeof(*ch));
	for (i = 0; i < nr_regs; i++) {
		struct reg *r = &regs[i];

		if (r->type == KEVENT_TIMER)
			kevent_prep_timer(&ch[i], r->id, r->expires,
					  r->interval, r->clock,
					  opt.req_flags, i + 1);
		else
			kevent_prep_user(&ch[i], r->id, opt.req_flags, i + 1);
	}
	apply_changes(ch, nr_regs, "register");
	free(ch);
}

static void *trigger_thread(void *arg)
{
	struct timespec ts = {
		.tv_sec = opt.trigger_ms / 1000,
		.tv_nsec = (opt.trigger_ms % 1000) * NSEC_PER_MSEC,
	};
	struct ukevent t;
	int ret;

	(void)arg;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	kevent_prep_trigger(&t, opt.user_id, ns_since_start());
	ret = kevent_ctl(kfd, &t, 1, 0);
	if (ret < 0)
		die_errno("kevent_ctl(KEVENT_CTL_TRIGGER)", errno);
	if (t.result)
		die_errno("trigger user event", -t.result);
	return NULL;
}

static void start_trigger(void)
{
	pthread_t thr;
	sigset_t all, old;
	int err;

	/* The thread must not take SIGINT/SIGTERM: block all signals in it. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&thr, NULL, trigger_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		die_errno("pthread_create", err);
	pthread_detach(thr);
}

static void on_signal(int sig)
{
	got_signal = sig;
}

/*
 * SIGINT and SIGTERM are blocked except while waiting in the kernel, where
 * kevent_wait_args.sigmask unblocks them atomically: a signal either
 * interrupts the wait (EINTR) or stays pending until the next one.
 */
static void setup_signals(struct kevent_wait_args *wa, sigset_t *waitmask,
			  const struct __kernel_timespec *deadline)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, waitmask);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGTERM);

	kevent_prep_wait_args(wa, waitmask,
			      deadline ? KEVENT_WAIT_ABSTIME : 0,
			      CLOCK_MONOTONIC);
}

struct stats {
	unsigned long	events;
	__u64		timer_expirations;
	__u64		user_triggers;
};

static void print_event(const struct ukevent *ev, __u64 t)
{
	if (opt.quiet)
		return;
	printf("%5llu.%09llu %-6s id=%llu udata=%llu event=%#x ret_flags=%#x data=[%llu, %llu]\n",
	       (unsigned long long)(t / NSEC_PER_SEC),
	       (unsigned long long)(t % NSEC_PER_SEC),
	       type_name(ev->type), (unsigned long long)ev->id,
	       (unsigned long long)ev->udata, ev->event, ev->ret_flags,
	       (unsigned long long)ev->data[0],
	       (unsigned long long)ev->data[1]);
}

/* Account for one event, print it, re-enable it in dispatch mode. */
static void handle_event(const struct ukevent *ev, struct stats *st)
{
	struct ukevent ch;

	print_event(ev, ns_since_start());
	st->events++;
	if (ev->type == KEVENT_TIMER)
		st->timer_expirations += ev->data[0];
	else if (ev->type == KEVENT_USER)
		st->user_triggers += ev->data[0];

	if (opt.dispatch) {
		kevent_prep_op(&ch, ev->type, ev->id, KEVENT_CTL_ENABLE);
		apply_changes(&ch, 1, "re-enable");
	}
}

/* True if the --duration deadline has passed. */
static bool timed_out(const struct __kernel_timespec *deadline)
{
	struct timespec now;

	if (!deadline)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec &&
		now.tv_nsec >= deadline->tv_nsec);
}

/* Checked before each harvest: --count, --duration and signals. */
static bool want_more(const struct stats *st,
		      const struct __kernel_timespec *deadline)
{
	if (got_signal || (opt.count && st->events >= opt.count))
		return false;
	return !timed_out(deadline);
}

static void loop_get_events(const struct __kernel_timespec *deadline,
			    const struct kevent_wait_args *wa,
			    struct stats *st)
{
	struct ukevent *ev;
	unsigned int max;
	int i, n;

	ev = xrealloc(NULL, opt.batch, sizeof(*ev));
	while (want_more(st, deadline)) {
		max = opt.batch;
		if (opt.count && opt.count - st->events < max)
			max = opt.count - st->events;
		n = kevent_get_events(kfd, ev, 1, max, deadline, wa);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die_errno("kevent_get_events", errno);
		}
		for (i = 0; i < n; i++)
			handle_event(&ev[i], st);
	}
	free(ev);
}

static void loop_ring(const struct __kernel_timespec *deadline,
		      const struct kevent_wait_args *wa, struct stats *st)
{
	struct kevent_ring_map map;
	struct ukevent *ev;

	if (kevent_ring_mmap(kfd, opt.ring_entries, &map))
		die_errno("mmap of the kevent ring", errno);
	if (!opt.quiet)
		printf("# ring: %u entries\n", map.ring->entries);

	while (want_more(st, deadline)) {
		ev = kevent_ring_peek(map.ring);
		if (ev) {
			handle_event(ev, st);
			kevent_ring_advance(map.ring, 1);
			continue;
		}
		/*
		 * Empty: this also pulls in events that waited in the kernel
		 * because the ring was full.
		 */
		if (kevent_wait(kfd, 1, deadline, wa) < 0 && errno != EINTR)
			die_errno("kevent_wait", errno);
	}
	if (!opt.quiet && kevent_ring_overflow_count(map.ring))
		printf("# ring: %u events waited for space\n",
		       kevent_ring_overflow_count(map.ring));
	kevent_ring_munmap(&map);
}

int main(int argc, char **argv)
{
	struct __kernel_timespec deadline_ts, *deadline = NULL;
	struct kevent_wait_args wa;
	struct stats st = { 0 };
	sigset_t waitmask;
	__u64 elapsed;

	if (argc > 0 && argv[0][0])
		prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1
					     : argv[0];
	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);

	clock_gettime(CLOCK_MONOTONIC, &t_start);
	if (opt.duration_ms) {
		__u64 end = t_start.tv_nsec +
			    opt.duration_ms * NSEC_PER_MSEC;

		deadline_ts.tv_sec = t_start.tv_sec + end / NSEC_PER_SEC;
		deadline_ts.tv_nsec = end % NSEC_PER_SEC;
		deadline = &deadline_ts;
	}
	setup_signals(&wa, &waitmask, deadline);

	kfd = kevent_queue_init(opt.ring_entries, KEVENT_INIT_CLOEXEC);
	if (kfd < 0)
		die_errno("kevent_init", errno);

	register_all();
	if (opt.trigger_ms >= 0)
		start_trigger();

	if (opt.ring)
		loop_ring(deadline, &wa, &st);
	else
		loop_get_events(deadline, &wa, &st);

	elapsed = ns_since_start();
	printf("# %lu events (%llu timer expirations, %llu user triggers) in %llu.%03llu s%s\n",
	       st.events, (unsigned long long)st.timer_expirations,
	       (unsigned long long)st.user_triggers,
	       (unsigned long long)(elapsed / NSEC_PER_SEC),
	       (unsigned long long)(elapsed % NSEC_PER_SEC / NSEC_PER_MSEC),
	       got_signal ? ", interrupted" : "");
	close(kfd);

	if (opt.count && st.events < opt.count) {
		fprintf(stderr, "%s: %lu of %lu events received\n", prog,
			st.events, opt.count);
		return EXIT_SHORT;
	}
	return EXIT_SUCCESS;
}
