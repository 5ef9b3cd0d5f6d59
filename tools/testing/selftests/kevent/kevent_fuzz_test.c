// SPDX-License-Identifier: GPL-2.0
/*
 * kevent system call fuzzer: seeded random sequences of kevent_init(),
 * kevent_ctl(), kevent_get_events(), kevent_wait() and ring mmap() with
 * valid and hostile arguments (bad and stale descriptors, NULL, unaligned,
 * read-only, inaccessible and kernel addresses, huge counts, unknown types,
 * ops and flags, non-zero reserved fields, wrong ring offsets, lengths and
 * protections), from several threads sharing the same descriptors, queues
 * and ring mappings (close, dup2, munmap and ring scribbling while others
 * wait), with forks midway.
 *
 * For every call it checks that:
 *  - a failure's errno, and a change's result, is one documented for that
 *    call (Documentation/userspace-api/kevent.rst, Documentation/man/);
 *  - the return value is consistent: kevent_ctl() returns the number of
 *    changes whose result is not zero, kevent_get_events() at most max_nr
 *    events; arguments that are certainly valid are accepted and arguments
 *    that are certainly invalid are refused;
 *  - no 64-bit word of a delivered event (copied out or in the ring) looks
 *    like a kernel address: every value the fuzzer registers, triggers or
 *    writes into a ring has bit 63 clear, so such a word can only come
 *    from the kernel.
 * Kernel-side checks (KASAN, lockdep, UBSAN, kmemleak) are the lab's: see
 * make check-debug.
 *
 *   kevent_fuzz_test [-s SEED] [-n CALLS] [-j THREADS] [harness options]
 *
 * SEED defaults to $KEVENT_FUZZ_SEED, else to one taken from the clock, and
 * is printed; CALLS (kevent calls: the four system calls and the ring
 * mmap()/munmap()) to $KEVENT_FUZZ_CALLS (in a 32-bit build,
 * $KEVENT_FUZZ_CALLS_32 first), else 20000; THREADS to 4. Each
 * thread (and each forked child) draws from its own generator seeded from
 * SEED, so a seed reproduces every thread's sequence of calls; with -j 1
 * it reproduces the whole run as far as the kernel answers the same
 * (events depend on timing).
 */
#include "kevent_test.h"
#include "../kselftest_harness.h"

#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#define FZ_SLOTS	40	/* descriptors shared by all threads */
#define FZ_MAPS		12	/* ring mappings shared by all threads */
#define FZ_RW_PAGES	16	/* per-thread argument area */
#define FZ_MAX_THREADS	16
#define FZ_CHILD_CALLS	300	/* calls made by a forked child */
#define FZ_MAX_REPORTS	25	/* violations printed */
#define FZ_BIG_RING	1048576	/* the largest ring */
#define FZ_SENTINEL	0x7eadbeef

/* Values of ukevent.timer.clockid and kevent_wait_args.clockid. */
#define FZ_CLOCKS	3

static const int fz_clocks[FZ_CLOCKS] = {
	CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME
};

enum fz_kind {
	FK_NONE, FK_QUEUE, FK_PIPE, FK_EVENTFD, FK_UNIX, FK_UDP, FK_TCP,
	FK_FILE, FK_DEVNULL, FK_DIR, FK_EPOLL, FK_KINDS
};

struct fz_slot {
	int	fd;
	int	kind;
};

struct fz_map {
	char	*addr;
	size_t	len;
};

/* Counters shared with forked children (MAP_SHARED). */
struct fz_stats {
	unsigned long	calls;
	unsigned long	violations;
	unsigned long	events;
};

static struct {
	uint64_t		seed;
	unsigned long		calls;
	unsigned int		threads;
	long			psz;
	struct fz_stats		*stats;
	pthread_mutex_t		lock;	/* slots and maps */
	pthread_mutex_t		out;	/* output; never held with lock */
	struct fz_slot		slot[FZ_SLOTS];
	struct fz_map		map[FZ_MAPS];
	int			big_ring;	/* a 1M-entry ring exists */
	int			stop;	/* atomic */
} fz = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.out = PTHREAD_MUTEX_INITIALIZER,
};

struct fz_thread {
	pthread_t	thread;
	pid_t		tid;	/* for the interrupter, 0 once done */
	unsigned int	index;
	uint64_t	rng;
	unsigned long	quota;
	int		in_child;
	char		*rw;	/* FZ_RW_PAGES pages, then a PROT_NONE page */
	char		*ro;	/* a read-only page of valid changes */
	char		*none;	/* a PROT_NONE page */
	unsigned long	call;	/* index of the current call */
	const char	*what;	/* name of the current call */
};

/* ------------------------------------------------------------------ */
/* Random numbers: splitmix64, one state per thread                    */
/* ------------------------------------------------------------------ */

static uint64_t rnd(struct fz_thread *t)
{
	uint64_t z = (t->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t below(struct fz_thread *t, uint32_t n)
{
	return n ? (uint32_t)(rnd(t) % n) : 0;
}

static int chance(struct fz_thread *t, unsigned int percent)
{
	return below(t, 100) < percent;
}

/* A value the fuzzer may see again in an event: bit 63 clear. */
static uint64_t rnd_user(struct fz_thread *t)
{
	switch (below(t, 4)) {
	case 0:
		return below(t, 4);
	case 1:
		return INT64_MAX - below(t, 2);
	default:
		return rnd(t) >> 1;
	}
}

/*
 * A ring size: mostly small (a ring is vmalloc()ed, mapped and cleared,
 * which is slow under KASAN), sometimes up to 4096 entries.
 */
static uint32_t rnd_ring(struct fz_thread *t)
{
	switch (below(t, 8)) {
	case 0:
		return 1 + below(t, 4096);
	case 1:
	case 2:
		return 17 + below(t, 240);
	default:
		return 1 + below(t, 16);
	}
}

/* Any 32-bit value, edges first. */
static uint32_t rnd_u32(struct fz_thread *t)
{
	static const uint32_t edge[] = {
		0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, 0xffff,
	};

	return chance(t, 50) ? edge[below(t, ARRAY_SIZE(edge))] :
			       (uint32_t)rnd(t);
}

/* ------------------------------------------------------------------ */
/* Reporting                                                           */
/* ------------------------------------------------------------------ */

static void violation(struct fz_thread *t, const char *fmt, ...)
{
	unsigned long n;
	va_list ap;

	n = __atomic_add_fetch(&fz.stats->violations, 1, __ATOMIC_RELAXED);
	if (n > FZ_MAX_REPORTS)
		return;
	pthread_mutex_lock(&fz.out);
	printf("# VIOLATION seed %llu thread %u%s call %lu %s: ",
	       (unsigned long long)fz.seed, t->index,
	       t->in_child ? " (forked child)" : "", t->call, t->what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	pthread_mutex_unlock(&fz.out);
}

static void count_call(struct fz_thread *t, const char *what)
{
	unsigned long n;

	t->what = what;
	t->call++;
	n = __atomic_add_fetch(&fz.stats->calls, 1, __ATOMIC_RELAXED);
	/* Progress, so that a long run keeps the console alive. */
	if (!(n % 100000)) {
		pthread_mutex_lock(&fz.out);
		printf("# fuzz: %lu calls\n", n);
		fflush(stdout);
		pthread_mutex_unlock(&fz.out);
	}
}

/* Is err in the 0-terminated list? */
static int errno_in(int err, const int *list)
{
	for (; *list; list++)
		if (*list == err)
			return 1;
	return 0;
}

/*
 * Errors documented per call, 0-terminated; kevent_ctl() results are the
 * negated values of result_errnos.
 */
static const int init_errnos[] = {
	EFAULT, EINVAL, E2BIG, ENOMEM, EMFILE, ENFILE, 0
};

/* kevent_init() errors that valid arguments may still get. */
static const int init_resource_errnos[] = { ENOMEM, EMFILE, ENFILE, 0 };

static const int ctl_errnos[] = { EBADF, EINVAL, EFAULT, 0 };

static const int result_errnos[] = {
	EINVAL, EEXIST, ENOENT, ENOSPC, ENOMEM, EBADF, EPERM, ENOTSOCK, ELOOP, 0
};

static const int get_errnos[] = { EBADF, EINVAL, EFAULT, EINTR, 0 };

static const int wait_errnos[] = { EBADF, EINVAL, EFAULT, EINTR, 0 };

/*
 * mmap() of a queue: ENODEV, EINVAL (kevent.rst); the others are mmap(2)'s
 * own, for other files and for flags and lengths mmap() itself refuses.
 */
static const int mmap_errnos[] = {
	ENODEV, EINVAL, EBADF, EACCES, EAGAIN, ENOMEM, EPERM, EOVERFLOW,
	EOPNOTSUPP, 0
};

/* A 64-bit word that only the kernel could have written. */
static int kernel_like(uint64_t v)
{
	return v >= 0xffff800000000000ULL && v < 0xffffffffffffff00ULL;
}

/* Check an event read back from the kernel (copied out or in the ring). */
static void check_event(struct fz_thread *t, const struct ukevent *ev,
			const char *where)
{
	uint64_t w[sizeof(*ev) / 8];
	unsigned int i;

	memcpy(w, ev, sizeof(w));
	for (i = 0; i < ARRAY_SIZE(w); i++)
		if (kernel_like(w[i]))
			violation(t, "%s: word %u of an event is %#llx, a kernel address?",
				  where, i, (unsigned long long)w[i]);
	__atomic_add_fetch(&fz.stats->events, 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* Guarded access to ring mappings (they may be unmapped or mprotect()ed */
/* by another thread, or be a mapping of something that faults)        */
/* ------------------------------------------------------------------ */

static __thread void *fz_guard;	/* a sigjmp_buf */
static __thread struct fz_thread *fz_self;

/*
 * The guard is set before the access and cleared after it, in program
 * order as the signal handler sees it (signal fences: compiler barriers).
 */
static void guard_set(sigjmp_buf *jb)
{
	__atomic_store_n(&fz_guard, jb, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static void guard_clear(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&fz_guard, NULL, __ATOMIC_RELAXED);
}

static void fz_fault(int sig, siginfo_t *si, void *uc)
{
	sigjmp_buf *jb = (sigjmp_buf *)__atomic_load_n(&fz_guard,
						      __ATOMIC_RELAXED);
	char msg[160];
	int n;

	if (jb)
		siglongjmp(*jb, 1);
	/* A fault outside a guarded access: a bug of the fuzzer itself. */
	n = snprintf(msg, sizeof(msg), "# fuzzer: signal %d at %p in %s\n",
		     sig, si->si_addr, fz_self ? fz_self->what : "?");
	if (write(2, msg, (size_t)n) < 0)
		n = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Copy @len bytes from @src; returns 0, or -1 if it faulted. */
static int guarded_read(void *dst, const void *src, size_t len)
{
	sigjmp_buf jb;
	int ret = 0;

	if (sigsetjmp(jb, 1)) {
		ret = -1;
	} else {
		guard_set(&jb);
		memcpy(dst, src, len);
	}
	guard_clear();
	return ret;
}

/* Load-acquire a 32-bit word; returns 0, or -1 if it faulted. */
static int guarded_load32(const uint32_t *p, uint32_t *v)
{
	sigjmp_buf jb;
	int ret = 0;

	if (sigsetjmp(jb, 1)) {
		ret = -1;
	} else {
		guard_set(&jb);
		*v = __atomic_load_n(p, __ATOMIC_ACQUIRE);
	}
	guard_clear();
	return ret;
}

static int guarded_write32(uint32_t *p, uint32_t v, int release)
{
	sigjmp_buf jb;
	int ret = 0;

	if (sigsetjmp(jb, 1)) {
		ret = -1;
	} else {
		guard_set(&jb);
		if (release)
			__atomic_store_n(p, v, __ATOMIC_RELEASE);
		else
			__atomic_store_n(p, v, __ATOMIC_RELAXED);
	}
	guard_clear();
	return ret;
}

/* ------------------------------------------------------------------ */
/* Shared descriptors                                                  */
/* ------------------------------------------------------------------ */

/* Take a descriptor out of the pool (to close it); -1 if empty. */
static int slot_take(struct fz_thread *t, int *kind)
{
	unsigned int i = below(t, FZ_SLOTS);
	int fd;

	pthread_mutex_lock(&fz.lock);
	fd = fz.slot[i].fd;
	if (kind)
		*kind = fz.slot[i].kind;
	fz.slot[i].fd = -1;
	fz.slot[i].kind = FK_NONE;
	pthread_mutex_unlock(&fz.lock);
	return fd;
}

/* Put a new descriptor into the pool, closing what it replaces. */
static void slot_put(struct fz_thread *t, int fd, int kind)
{
	unsigned int i = below(t, FZ_SLOTS);
	int old;

	pthread_mutex_lock(&fz.lock);
	old = fz.slot[i].fd;
	fz.slot[i].fd = fd;
	fz.slot[i].kind = kind;
	pthread_mutex_unlock(&fz.lock);
	if (old >= 0)
		close(old);
}

/*
 * A descriptor number to pass to a call: usually one of the pool, of the
 * wanted kind if @kind is not FK_NONE and there is one; it may be closed
 * or reused by another thread before the call is made.
 */
static int pick_fd(struct fz_thread *t, int kind)
{
	unsigned int i, start;
	int fd = -1;

	switch (below(t, 20)) {
	case 0:
		return -1;
	case 1:
		return INT_MAX;
	case 2:
		return (int)below(t, 200);
	default:
		break;
	}
	start = below(t, FZ_SLOTS);
	pthread_mutex_lock(&fz.lock);
	for (i = 0; i < FZ_SLOTS; i++) {
		struct fz_slot *s = &fz.slot[(start + i) % FZ_SLOTS];

		if (s->fd < 0)
			continue;
		if (fd < 0)
			fd = s->fd;
		if (kind == FK_NONE || s->kind == kind) {
			fd = s->fd;
			break;
		}
	}
	pthread_mutex_unlock(&fz.lock);
	return fd;
}

static int pick_queue(struct fz_thread *t)
{
	return pick_fd(t, chance(t, 85) ? FK_QUEUE : FK_NONE);
}

/* ------------------------------------------------------------------ */
/* Pointers                                                            */
/* ------------------------------------------------------------------ */

enum fz_ptr { FP_VALID, FP_NULL, FP_LOW, FP_NONE, FP_KERNEL, FP_EDGE,
	      FP_READONLY, FP_UNALIGNED };

static void *kernel_address(struct fz_thread *t)
{
	if (sizeof(void *) == 8)
		return (void *)(uintptr_t)(chance(t, 50) ?
					   0xffff888000000000ULL :
					   0xffffffff81000000ULL);
	/* Above the compat TASK_SIZE: never a user address. */
	return (void *)(uintptr_t)0xfffff000UL;
}

/*
 * Where to put an argument of @len bytes: *kind says what the pointer is.
 * FP_VALID and FP_UNALIGNED point into the read-write area with @len
 * bytes available; FP_EDGE ends less than @len bytes before the guard page.
 */
static char *pick_ptr(struct fz_thread *t, size_t len, unsigned int bad_pct,
		      enum fz_ptr *kind)
{
	size_t area = FZ_RW_PAGES * fz.psz;

	if (len > area - 64)
		len = area - 64;
	*kind = FP_VALID;
	if (chance(t, bad_pct))
		*kind = (enum fz_ptr)(1 + below(t, 7));
	switch (*kind) {
	case FP_NULL:
		return NULL;
	case FP_LOW:
		return (char *)(uintptr_t)(16 + below(t, 4096));
	case FP_NONE:
		return t->none + below(t, (uint32_t)fz.psz);
	case FP_KERNEL:
		return kernel_address(t);
	case FP_EDGE:
		/* Fewer than len bytes before the guard page. */
		return t->rw + area - (len > 1 ? 1 + below(t, (uint32_t)len - 1) : 0);
	case FP_READONLY:
		return t->ro;
	case FP_UNALIGNED:
		return t->rw + area - len - 1 - below(t, 63);
	default:
		return t->rw + area - len - 64 * below(t, 2);
	}
}

/* ------------------------------------------------------------------ */
/* Changes                                                             */
/* ------------------------------------------------------------------ */

static uint16_t rnd_type(struct fz_thread *t)
{
	static const uint16_t types[] = {
		KEVENT_USER, KEVENT_USER, KEVENT_USER, KEVENT_TIMER,
		KEVENT_TIMER, KEVENT_POLL, KEVENT_POLL, KEVENT_SOCKET,
		KEVENT_SIGNAL, KEVENT_SIGNAL,
	};

	switch (below(t, 20)) {
	case 0:
		return 0;
	case 1:
		return chance(t, 50) ? KEVENT_TYPE_MAX : (uint16_t)rnd(t);
	default:
		return types[below(t, ARRAY_SIZE(types))];
	}
}

static uint16_t rnd_op(struct fz_thread *t, uint16_t type)
{
	static const uint16_t ops[] = {
		KEVENT_CTL_ADD, KEVENT_CTL_ADD, KEVENT_CTL_ADD,
		KEVENT_CTL_MODIFY, KEVENT_CTL_REMOVE, KEVENT_CTL_REMOVE,
		KEVENT_CTL_ENABLE, KEVENT_CTL_DISABLE, KEVENT_CTL_TRIGGER,
	};

	if (chance(t, 5))
		return chance(t, 50) ? 0 : (uint16_t)(7 + below(t, 0xfff0));
	if (type == KEVENT_USER && chance(t, 30))
		return KEVENT_CTL_TRIGGER;
	return ops[below(t, ARRAY_SIZE(ops))];
}

static uint32_t rnd_flags(struct fz_thread *t, uint16_t type)
{
	uint32_t f = 0;

	if (chance(t, 5))
		return (uint32_t)rnd(t);
	if (chance(t, 5))
		return 1U << below(t, 32);
	if (chance(t, 20))
		f |= KEVENT_REQ_ET;
	if (chance(t, 15))
		f |= KEVENT_REQ_ONESHOT;
	if (chance(t, 15))
		f |= KEVENT_REQ_DISPATCH;
	if (chance(t, 15))
		f |= KEVENT_REQ_WAKEUP_ALL;
	if (chance(t, 10))
		f |= KEVENT_REQ_DISABLED;
	if ((f & KEVENT_REQ_ONESHOT) && (f & KEVENT_REQ_DISPATCH) &&
	    !chance(t, 20))
		f &= ~KEVENT_REQ_DISPATCH;
	if (type == KEVENT_TIMER && chance(t, 20))
		f |= KEVENT_TIMER_ABSTIME;
	if (type == KEVENT_SIGNAL && chance(t, 40))
		f |= KEVENT_SIGNAL_CONSUME;
	if (chance(t, 3))
		f |= chance(t, 50) ? KEVENT_TIMER_ABSTIME : KEVENT_SIGNAL_CONSUME;
	return f;
}

static uint32_t rnd_event(struct fz_thread *t, uint16_t type)
{
	static const uint32_t pollbits[] = {
		EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLLERR, EPOLLHUP, POLLNVAL,
		EPOLLRDNORM, EPOLLRDBAND, EPOLLWRNORM, EPOLLWRBAND, EPOLLMSG,
		EPOLLRDHUP,
	};
	uint32_t e = 0;
	unsigned int i;

	if (chance(t, 5))
		return rnd_u32(t);
	switch (type) {
	case KEVENT_POLL:
		for (i = 0; i < ARRAY_SIZE(pollbits); i++)
			if (chance(t, 30))
				e |= pollbits[i];
		return e;
	case KEVENT_SOCKET:
		return (uint32_t)rnd(t) & 0x3f;
	default:
		return chance(t, 80);
	}
}

/* An absolute time near now on @clk, in ns: up to 2 ms past or future. */
static int64_t near_now(struct fz_thread *t, int clk)
{
	int64_t now = (int64_t)kt_now(clk);

	return now - 2000000 + (int64_t)below(t, 4000000);
}

static uint64_t rnd_id(struct fz_thread *t, uint16_t type)
{
	switch (type) {
	case KEVENT_POLL:
	case KEVENT_SOCKET:
		if (chance(t, 85))
			return (uint64_t)(unsigned int)pick_fd(t, FK_NONE);
		return chance(t, 50) ? below(t, 300) : rnd_user(t);
	case KEVENT_SIGNAL:
		if (chance(t, 80))
			return 1 + below(t, 64);
		return chance(t, 50) ? below(t, 70) : rnd_user(t);
	default:
		return chance(t, 90) ? below(t, 24) : rnd_user(t);
	}
}

static void gen_change(struct fz_thread *t, struct ukevent *uk)
{
	unsigned int i;
	int clk;

	memset(uk, 0, sizeof(*uk));
	uk->type = rnd_type(t);
	uk->op = rnd_op(t, uk->type);
	uk->id = rnd_id(t, uk->type);
	uk->flags = rnd_flags(t, uk->type);
	uk->event = rnd_event(t, uk->type);
	uk->udata = rnd_user(t);
	uk->result = FZ_SENTINEL;

	if (uk->type == KEVENT_TIMER &&
	    (uk->op == KEVENT_CTL_ADD || uk->op == KEVENT_CTL_MODIFY)) {
		clk = chance(t, 90) ? fz_clocks[below(t, FZ_CLOCKS)] :
				      (int)rnd_u32(t);
		uk->timer.clockid = (uint32_t)clk;
		if ((uk->flags & KEVENT_TIMER_ABSTIME) && clk >= 0 &&
		    clk < 8 && chance(t, 80))
			uk->timer.expires = near_now(t, clk);
		else if (chance(t, 85))
			uk->timer.expires = below(t, 20000000);
		else if (chance(t, 50))
			uk->timer.expires = -(int64_t)below(t, 1000) - 1;
		else
			uk->timer.expires = INT64_MAX - below(t, 2);
		switch (below(t, 50)) {
		case 0:
			/* A tiny period: the kernel must keep up. */
			uk->timer.interval = 1 + below(t, 1000);
			break;
		case 1:
			uk->timer.interval = chance(t, 50) ? UINT64_MAX :
					     (uint64_t)INT64_MAX + 1;
			break;
		default:
			uk->timer.interval = chance(t, 50) ? 0 :
					     1000000 + below(t, 50000000);
			break;
		}
		if (chance(t, 5))
			uk->timer.__pad0 = rnd_u32(t);
		if (chance(t, 5))
			uk->timer.__pad1 = rnd_user(t) | 1;
		return;
	}
	if (uk->op == KEVENT_CTL_TRIGGER && chance(t, 90)) {
		uk->data[0] = rnd_user(t);
		return;
	}
	/* Other types and ops: data must be zero, sometimes is not. */
	if (chance(t, 8))
		for (i = 0; i < 4; i++)
			if (chance(t, 50))
				uk->data[i] = rnd_user(t) | 1;
}

/* ------------------------------------------------------------------ */
/* The calls                                                           */
/* ------------------------------------------------------------------ */

/* Register, trigger and harvest a user event on a ring queue. */
static void do_ring_events(struct fz_thread *t, int fd)
{
	struct __kernel_timespec ts = { 0, 0 };
	struct ukevent ch, *ev = (struct ukevent *)(t->rw + fz.psz);
	int ret, i;

	kevent_prep_user(&ch, 1, 0, 1);
	count_call(t, "kevent_ctl");
	kevent_ctl(fd, &ch, 1, 0);
	kevent_prep_trigger(&ch, 1, 2);
	count_call(t, "kevent_ctl");
	if (kevent_ctl(fd, &ch, 1, 0) || ch.result)
		violation(t, "trigger on a big ring: %d", ch.result);
	count_call(t, "kevent_wait");
	ret = kevent_wait(fd, 0, &ts, NULL);
	if (ret < 0 && !errno_in(errno, wait_errnos))
		violation(t, "kevent_wait errno %d", errno);
	count_call(t, "kevent_get_events");
	ret = kevent_get_events(fd, ev, 0, 8, &ts, NULL);
	if (ret < 0 && !errno_in(errno, get_errnos))
		violation(t, "kevent_get_events errno %d", errno);
	for (i = 0; i < ret && i < 8; i++)
		check_event(t, &ev[i], "big ring");
}

/* The largest ring: map it all, use it a little, close it at once. */
static void fz_big_ring(struct fz_thread *t, int fd)
{
	size_t len = KEVENT_RING_SIZE(FZ_BIG_RING);
	struct kevent_ring *ring;

	count_call(t, "mmap");
	ring = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED) {
		if (errno != ENOMEM)
			violation(t, "mmap of a %u-entry ring: %s", FZ_BIG_RING,
				  strerror(errno));
	} else {
		if (ring->entries != FZ_BIG_RING ||
		    ring->mask != FZ_BIG_RING - 1)
			violation(t, "ring of %u entries has entries %u mask %#x",
				  FZ_BIG_RING, ring->entries, ring->mask);
		do_ring_events(t, fd);
		/* The last slot: a head just behind a wrapped tail. */
		__atomic_store_n(&ring->head, ring->tail - FZ_BIG_RING,
				 __ATOMIC_RELEASE);
		do_ring_events(t, fd);
		count_call(t, "munmap");
		munmap(ring, len);
	}
	close(fd);
	__atomic_store_n(&fz.big_ring, 0, __ATOMIC_RELEASE);
}

static void do_init(struct fz_thread *t)
{
	struct kevent_init_args *a;
	size_t size = sizeof(*a), i;
	int valid = 1, big = 0, fd;
	enum fz_ptr pk;
	uint32_t ring;

	switch (below(t, 12)) {
	case 0:
		size = below(t, sizeof(*a));
		valid = 0;
		break;
	case 1:
		size = sizeof(*a) + 1 + below(t, 64);
		break;
	case 2:
		size = chance(t, 50) ? (size_t)fz.psz : (size_t)fz.psz + 1;
		break;
	case 3:
		size = chance(t, 50) ? SIZE_MAX : (size_t)rnd_u32(t);
		break;
	default:
		break;
	}
	if (size < sizeof(*a) || size > (size_t)fz.psz)
		valid = 0;
	a = (void *)pick_ptr(t, size > (size_t)fz.psz ? (size_t)fz.psz :
			     size < sizeof(*a) ? sizeof(*a) : size, 8, &pk);
	if (pk != FP_VALID && pk != FP_UNALIGNED)
		valid = 0;

	if (pk == FP_VALID || pk == FP_UNALIGNED) {
		memset(a, 0, size > (size_t)fz.psz ? (size_t)fz.psz : size);
		if (chance(t, 85)) {
			a->flags = chance(t, 50) ? 0 : below(t, 4);
		} else {
			a->flags = rnd(t);
			valid &= !(a->flags & ~KEVENT_INIT_FLAGS);
		}
		switch (below(t, 20)) {
		case 0:
			ring = chance(t, 50) ? FZ_BIG_RING + 1 : rnd_u32(t);
			break;
		case 1:
			/*
			 * Rarely (64 MiB to clear), and at most one at a
			 * time.
			 */
			big = !below(t, 200) &&
			      !__atomic_exchange_n(&fz.big_ring, 1,
						   __ATOMIC_ACQ_REL);
			ring = big ? FZ_BIG_RING : rnd_ring(t);
			break;
		default:
			ring = chance(t, 40) ? 0 : rnd_ring(t);
			break;
		}
		a->ring_entries = ring;
		valid &= ring <= FZ_BIG_RING;
		if (chance(t, 4)) {
			a->__reserved0 = rnd_u32(t) | 1;
			valid = 0;
		}
		if (chance(t, 4)) {
			a->__reserved1[below(t, 2)] = rnd(t) | 1;
			valid = 0;
		}
		/* Bytes beyond the known structure: zero, or not. */
		if (size > sizeof(*a) && size <= (size_t)fz.psz && chance(t, 30)) {
			i = sizeof(*a) + below(t, (uint32_t)(size - sizeof(*a)));
			((char *)a)[i] = 1 + below(t, 255);
			valid = 0;
		}
	}

	count_call(t, "kevent_init");
	fd = kevent_init(a, size);
	if (fd < 0) {
		int err = errno;

		if (!errno_in(err, init_errnos))
			violation(t, "kevent_init(size %zu): errno %d (%s)",
				  size, err, strerror(err));
		else if (valid && !errno_in(err, init_resource_errnos))
			violation(t, "kevent_init(size %zu) of valid arguments: %s",
				  size, strerror(err));
		if (big)
			__atomic_store_n(&fz.big_ring, 0, __ATOMIC_RELEASE);
		return;
	}
	if (!valid)
		violation(t, "kevent_init(size %zu, pointer kind %d) accepted invalid arguments",
			  size, pk);
	if (big)
		fz_big_ring(t, fd);
	else
		slot_put(t, fd, FK_QUEUE);
}

static void do_ctl(struct fz_thread *t)
{
	size_t area = FZ_RW_PAGES * fz.psz;
	unsigned int nr, cap, i, failed = 0, flags = 0;
	struct ukevent *ch;
	enum fz_ptr pk;
	int fd, ret, err;

	switch (below(t, 20)) {
	case 0:
		nr = 0;
		break;
	case 1:
		nr = chance(t, 50) ? (unsigned int)INT_MAX + below(t, 3) :
				     UINT_MAX;
		break;
	case 2:
	case 3:
		nr = 9 + below(t, 120);
		break;
	default:
		nr = 1 + below(t, 8);
		break;
	}
	if (chance(t, 3))
		flags = rnd_u32(t) | 1;
	fd = pick_queue(t);
	ch = (struct ukevent *)pick_ptr(t, (size_t)(nr < 256 ? nr : 256) *
					sizeof(*ch), 8, &pk);
	/* How many changes are readable and writable at ch. */
	cap = 0;
	if (pk == FP_VALID || pk == FP_UNALIGNED || pk == FP_EDGE)
		cap = (unsigned int)((t->rw + area - (char *)ch) / sizeof(*ch));
	for (i = 0; i < cap && i < nr; i++)
		gen_change(t, &ch[i]);

	count_call(t, "kevent_ctl");
	ret = kevent_ctl(fd, ch, nr, flags);
	err = errno;
	if (ret < 0) {
		if (!errno_in(err, ctl_errnos))
			violation(t, "kevent_ctl(fd %d, nr %u, flags %#x): errno %d (%s)",
				  fd, nr, flags, err, strerror(err));
	} else if (flags || nr > INT_MAX) {
		violation(t, "kevent_ctl(nr %u, flags %#x) returned %d, must fail",
			  nr, flags, ret);
	} else if (nr > cap) {
		violation(t, "kevent_ctl(nr %u) with %u accessible changes returned %d",
			  nr, cap, ret);
	}
	/* Results that were written back are documented ones. */
	for (i = 0; i < cap && i < nr; i++) {
		int r = ch[i].result;

		if (r == FZ_SENTINEL) {
			if (ret >= 0)
				violation(t, "kevent_ctl returned %d but change %u has no result",
					  ret, i);
			continue;
		}
		if (r && (r > 0 || !errno_in(-r, result_errnos)))
			violation(t, "kevent_ctl change %u (type %u op %u): undocumented result %d",
				  i, ch[i].type, ch[i].op, r);
		failed += r != 0;
	}
	if (ret >= 0 && (unsigned int)ret != failed)
		violation(t, "kevent_ctl returned %d, %u changes failed", ret,
			  failed);
}

/* A timeout and wait arguments for get_events/wait. */
static void pick_wait(struct fz_thread *t, struct __kernel_timespec **tsp,
		      struct kevent_wait_args **argsp, int *valid)
{
	char *base = t->rw + 64;	/* clear of the event buffers */
	struct __kernel_timespec *ts = (void *)base;
	struct kevent_wait_args *a = (void *)(base + 64);
	sigset_t *set = (void *)(base + 128);
	int abs = 0, clk = CLOCK_MONOTONIC;

	*argsp = NULL;
	if (chance(t, 45)) {
		memset(a, 0, sizeof(*a));
		clk = fz_clocks[below(t, FZ_CLOCKS)];
		a->clockid = (uint32_t)clk;
		if (chance(t, 25)) {
			a->flags = KEVENT_WAIT_ABSTIME;
			abs = 1;
		}
		if (chance(t, 40)) {
			/* Never block SIGALRM: it ends infinite waits. */
			memset(set, 0, sizeof(*set));
			((uint32_t *)set)[0] = (uint32_t)rnd(t);
			((uint32_t *)set)[1] = (uint32_t)rnd(t);
			sigdelset(set, SIGALRM);
			a->sigmask = (uint64_t)(uintptr_t)set;
			a->sigsetsize = KEVENT_SIGSET_SIZE;
		}
		switch (below(t, 16)) {
		case 0:
			a->flags = rnd_u32(t) | 2;
			*valid = 0;
			break;
		case 1:
			a->__reserved = rnd_u32(t) | 1;
			*valid = 0;
			break;
		case 2:
			a->clockid = rnd_u32(t);
			*valid &= a->clockid == CLOCK_MONOTONIC ||
				  a->clockid == CLOCK_REALTIME ||
				  a->clockid == CLOCK_BOOTTIME;
			break;
		case 3:
			a->sigmask = (uint64_t)(uintptr_t)kernel_address(t);
			a->sigsetsize = KEVENT_SIGSET_SIZE;
			*valid = 0;
			break;
		case 4:
			a->sigmask = (uint64_t)(uintptr_t)set;
			sigemptyset(set);
			a->sigsetsize = rnd_u32(t);
			*valid &= a->sigsetsize == KEVENT_SIGSET_SIZE;
			break;
		default:
			break;
		}
		*argsp = chance(t, 95) ? a : (struct kevent_wait_args *)
					     kernel_address(t);
		if (*argsp != a)
			*valid = 0;
	}

	switch (below(t, 40)) {
	case 0:
		/* Infinite: a SIGALRM from the interrupter thread ends it. */
		*tsp = t->in_child ? ts : NULL;
		ts->tv_sec = 0;
		ts->tv_nsec = 0;
		return;
	case 2:
		*tsp = ts;
		ts->tv_sec = chance(t, 50) ? -1 : 0;
		ts->tv_nsec = chance(t, 50) ? 1000000000 : -1;
		*valid = 0;
		return;
	case 3:
		*tsp = (void *)kernel_address(t);
		*valid = 0;
		return;
	default:
		*tsp = ts;
		if (abs) {
			int64_t at = near_now(t, clk);

			ts->tv_sec = at / (int64_t)NSEC_PER_SEC;
			ts->tv_nsec = at % (int64_t)NSEC_PER_SEC;
		} else {
			ts->tv_sec = 0;
			ts->tv_nsec = chance(t, 60) ? 0 : below(t, 1000000);
		}
		return;
	}
}

static void do_get_events(struct fz_thread *t)
{
	unsigned int min_nr, max_nr, cap = 0, i;
	struct kevent_wait_args *args;
	struct __kernel_timespec *ts;
	struct ukevent *ev;
	enum fz_ptr pk;
	int fd, ret, err, valid = 1;

	switch (below(t, 16)) {
	case 0:
		max_nr = 0;
		valid = 0;
		break;
	case 1:
		max_nr = INT_MAX / sizeof(*ev) + below(t, 2);
		valid &= max_nr <= INT_MAX / sizeof(*ev);
		break;
	case 2:
		max_nr = UINT_MAX;
		valid = 0;
		break;
	case 3:
		max_nr = 17 + below(t, 100);
		break;
	default:
		max_nr = 1 + below(t, 16);
		break;
	}
	min_nr = chance(t, 60) ? 0 : below(t, max_nr ? max_nr : 1) + 1;
	if (chance(t, 5))
		min_nr = rnd_u32(t);
	valid &= min_nr <= max_nr;
	fd = pick_queue(t);
	ev = (struct ukevent *)pick_ptr(t, 8 * fz.psz, 5, &pk);
	if (pk == FP_VALID || pk == FP_UNALIGNED || pk == FP_EDGE)
		cap = (unsigned int)((t->rw + FZ_RW_PAGES * fz.psz - (char *)ev) /
				     sizeof(*ev));
	pick_wait(t, &ts, &args, &valid);

	count_call(t, "kevent_get_events");
	ret = kevent_get_events(fd, ev, min_nr, max_nr, ts, args);
	err = errno;
	if (ret < 0) {
		if (!errno_in(err, get_errnos))
			violation(t, "kevent_get_events(fd %d, min %u, max %u): errno %d (%s)",
				  fd, min_nr, max_nr, err, strerror(err));
		return;
	}
	if (!valid || (unsigned int)ret > max_nr || (unsigned int)ret > cap) {
		violation(t, "kevent_get_events(fd %d, min %u, max %u, buffer of %u) returned %d",
			  fd, min_nr, max_nr, cap, ret);
		return;
	}
	for (i = 0; i < (unsigned int)ret; i++)
		check_event(t, &ev[i], "kevent_get_events");
}

static void do_wait(struct fz_thread *t)
{
	struct kevent_wait_args *args;
	struct __kernel_timespec *ts;
	int fd, ret, err, valid = 1;
	unsigned int min_nr;

	switch (below(t, 10)) {
	case 0:
		min_nr = rnd_u32(t);
		break;
	case 1:
		min_nr = 1 + below(t, 4096);
		break;
	default:
		min_nr = below(t, 4);
		break;
	}
	fd = pick_queue(t);
	pick_wait(t, &ts, &args, &valid);

	count_call(t, "kevent_wait");
	ret = kevent_wait(fd, min_nr, ts, args);
	err = errno;
	if (ret < 0) {
		if (!errno_in(err, wait_errnos))
			violation(t, "kevent_wait(fd %d, min %u): errno %d (%s)",
				  fd, min_nr, err, strerror(err));
		return;
	}
	if (!valid || (unsigned int)ret > FZ_BIG_RING)
		violation(t, "kevent_wait(fd %d, min %u) returned %d",
			  fd, min_nr, ret);
}

/* Ring size in bytes for a mapping length guess. */
static size_t ring_len(unsigned int entries)
{
	return (KEVENT_RING_SIZE(entries) + fz.psz - 1) & ~(fz.psz - 1);
}

static void map_put(struct fz_thread *t, char *addr, size_t len)
{
	unsigned int i = below(t, FZ_MAPS);
	struct fz_map old;

	pthread_mutex_lock(&fz.lock);
	old = fz.map[i];
	fz.map[i].addr = addr;
	fz.map[i].len = len;
	if (old.addr) {
		count_call(t, "munmap");
		munmap(old.addr, old.len);
	}
	pthread_mutex_unlock(&fz.lock);
}

static void do_mmap(struct fz_thread *t)
{
	static const int prots[] = {
		PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE, PROT_READ,
		PROT_WRITE, PROT_NONE, PROT_READ | PROT_EXEC,
		PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	unsigned int entries = kevent_ring_roundup(rnd_ring(t));
	int fd, prot, flags = MAP_SHARED, err;
	off_t off = 0;
	size_t len;
	void *p;

	fd = pick_queue(t);
	switch (below(t, 10)) {
	case 0:
		len = ring_len(entries) + fz.psz;
		break;
	case 1:
		len = chance(t, 50) ? 0 : 1 + below(t, 100);
		break;
	case 2:
		len = chance(t, 50) ? SIZE_MAX - below(t, 2) * fz.psz :
				      (size_t)rnd_u32(t);
		break;
	case 3:
		len = fz.psz;
		break;
	default:
		len = ring_len(entries);
		break;
	}
	if (chance(t, 10))
		off = chance(t, 50) ? fz.psz * (off_t)(1 + below(t, 8)) :
				      (off_t)below(t, (uint32_t)fz.psz);
	prot = chance(t, 95) ? prots[below(t, ARRAY_SIZE(prots))] :
			       (int)rnd_u32(t);
	switch (below(t, 20)) {
	case 0:
		flags = MAP_PRIVATE;
		break;
	case 1:
		flags = MAP_SHARED | MAP_POPULATE;
		break;
	case 2:
		/*
		 * Never MAP_FIXED: it could replace the fuzzer's memory; never
		 * MAP_ANONYMOUS: with MAP_LOCKED or MAP_POPULATE and a huge
		 * length, it would only fill the memory (the OOM killer ended
		 * a run that way).
		 */
		flags = (int)(rnd_u32(t) & ~(MAP_FIXED | MAP_FIXED_NOREPLACE |
					     MAP_ANONYMOUS));
		break;
	default:
		break;
	}

	count_call(t, "mmap");
	p = mmap(NULL, len, prot, flags, fd, off);
	err = errno;
	if (p == MAP_FAILED) {
		if (!errno_in(err, mmap_errnos))
			violation(t, "mmap(len %zu, prot %#x, flags %#x, off %lld, fd %d): %d",
				  len, prot, flags, (long long)off, fd, err);
		return;
	}
	map_put(t, p, len);
}

/* Ring traffic from user space: consume, scribble, move, unmap. */
static void do_ring(struct fz_thread *t)
{
	unsigned int i = below(t, FZ_MAPS), n, k;
	struct kevent_ring hdr;
	struct fz_map *m;
	struct ukevent ev;
	uint32_t head, tail;
	void *p;

	pthread_mutex_lock(&fz.lock);
	m = &fz.map[i];
	if (!m->addr)
		goto out;
	switch (below(t, 10)) {
	case 0:
		/* Unmap, whole or the first page, while others may wait. */
		count_call(t, "munmap");
		if (m->len > (size_t)fz.psz && chance(t, 50)) {
			munmap(m->addr, fz.psz);
			m->addr += fz.psz;
			m->len -= fz.psz;
		} else {
			munmap(m->addr, m->len);
			m->addr = NULL;
		}
		break;
	case 1:
		/* Scribble: values with bit 31 clear (see check_event()). */
		if (m->len < 4)
			break;
		k = below(t, (uint32_t)(m->len / 4));
		guarded_write32((uint32_t *)m->addr + k, (uint32_t)rnd(t) >> 1, 0);
		break;
	case 2:
		/* A hostile head: the kernel must stay within the ring. */
		if (m->len >= sizeof(hdr))
			guarded_write32(&((struct kevent_ring *)m->addr)->head,
					rnd_u32(t) >> (chance(t, 50) ? 28 : 0), 1);
		break;
	case 3:
		/* Move it; growing must fail (VM_DONTEXPAND). */
		p = mremap(m->addr, m->len, m->len + (chance(t, 50) ? fz.psz : 0),
			   MREMAP_MAYMOVE);
		if (p != MAP_FAILED)
			m->addr = p;
		break;
	case 4:
		mprotect(m->addr, m->len, chance(t, 50) ? PROT_READ :
			 PROT_READ | PROT_WRITE);
		break;
	default:
		/* Consume what is unread, checking each entry. */
		if (m->len < sizeof(hdr) ||
		    guarded_read(&hdr, m->addr, sizeof(hdr)))
			break;
		head = hdr.head;
		if (guarded_load32(&((struct kevent_ring *)m->addr)->tail, &tail))
			break;
		if (!hdr.entries || (hdr.entries & (hdr.entries - 1)) ||
		    tail - head > hdr.entries)
			break;
		for (n = 0; n < tail - head && n < 64; n++) {
			size_t off = sizeof(hdr) + ((head + n) & (hdr.entries - 1)) *
				     sizeof(ev);

			if (off + sizeof(ev) > m->len ||
			    guarded_read(&ev, m->addr + off, sizeof(ev)))
				break;
			check_event(t, &ev, "ring");
		}
		guarded_write32(&((struct kevent_ring *)m->addr)->head,
				head + n, 1);
		break;
	}
out:
	pthread_mutex_unlock(&fz.lock);
}

/* Other files: targets for KEVENT_POLL and KEVENT_SOCKET, and readiness. */
static void do_files(struct fz_thread *t)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	int fds[2], fd, kind;
	char buf[64] = "x";
	struct epoll_event ee;

	/* Mostly I/O: creating files (sockets above all) is slow. */
	switch (below(t, 40)) {
	case 0:
		if (!pipe2(fds, O_NONBLOCK | O_CLOEXEC)) {
			slot_put(t, fds[0], FK_PIPE);
			slot_put(t, fds[1], FK_PIPE);
		}
		break;
	case 1:
		fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (fd >= 0)
			slot_put(t, fd, FK_EVENTFD);
		break;
	case 2:
		if (!socketpair(AF_UNIX, chance(t, 50) ? SOCK_STREAM : SOCK_DGRAM,
				0, fds)) {
			fcntl(fds[0], F_SETFL, O_NONBLOCK);
			fcntl(fds[1], F_SETFL, O_NONBLOCK);
			slot_put(t, fds[0], FK_UNIX);
			slot_put(t, fds[1], FK_UNIX);
		}
		break;
	case 3:
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (fd < 0)
			break;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(fd, (struct sockaddr *)&sin, sizeof(sin));
		/* Talk to itself: every write makes it readable. */
		getsockname(fd, (struct sockaddr *)&sin, &slen);
		connect(fd, (struct sockaddr *)&sin, sizeof(sin));
		slot_put(t, fd, FK_UDP);
		break;
	case 4:
		/* A listener with a connection waiting to be accepted. */
		if (below(t, 4))
			break;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fd < 0)
			break;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
		    listen(fd, 4) ||
		    getsockname(fd, (struct sockaddr *)&sin, &slen)) {
			close(fd);
			break;
		}
		slot_put(t, fd, FK_TCP);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fd < 0)
			break;
		connect(fd, (struct sockaddr *)&sin, sizeof(sin));
		slot_put(t, fd, FK_TCP);
		break;
	case 5:
		switch (below(t, 3)) {
		case 0:
			/* Not pollable, not mappable (write-only). */
			fd = open("/tmp/kevent_fuzz_file",
				  O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
			kind = FK_FILE;
			break;
		case 1:
			fd = open("/dev/null", O_RDWR | O_CLOEXEC);
			kind = FK_DEVNULL;
			break;
		default:
			fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			kind = FK_DIR;
			break;
		}
		if (fd >= 0)
			slot_put(t, fd, kind);
		break;
	case 6:
		/* epoll watching queues that may watch it back. */
		fd = pick_fd(t, FK_EPOLL);
		if (fd < 0 || chance(t, 30)) {
			fd = epoll_create1(EPOLL_CLOEXEC);
			if (fd >= 0)
				slot_put(t, fd, FK_EPOLL);
		}
		ee.events = EPOLLIN | (chance(t, 50) ? EPOLLET : 0);
		ee.data.u64 = 0;
		epoll_ctl(fd, EPOLL_CTL_ADD, pick_fd(t, FK_QUEUE), &ee);
		break;
	case 7:
	case 8:
		/* Close a shared descriptor, possibly in use by others. */
		fd = slot_take(t, NULL);
		if (fd >= 0)
			close(fd);
		break;
	case 9:
		/* Replace a descriptor in place: its number now names another file. */
		pthread_mutex_lock(&fz.lock);
		{
			struct fz_slot *to = &fz.slot[below(t, FZ_SLOTS)];
			struct fz_slot *from = &fz.slot[below(t, FZ_SLOTS)];

			if (to->fd >= 0 && from->fd >= 0 && to != from &&
			    dup2(from->fd, to->fd) >= 0)
				to->kind = from->kind;
		}
		pthread_mutex_unlock(&fz.lock);
		break;
	case 10:
		fd = pick_fd(t, chance(t, 50) ? FK_QUEUE : FK_NONE);
		if (fd >= 3) {
			fd = dup(fd);
			if (fd >= 0)
				slot_put(t, fd, FK_NONE);
		}
		break;
	case 11:
		fd = pick_fd(t, FK_TCP);
		if (fd >= 3) {
			fd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd >= 0)
				slot_put(t, fd, FK_TCP);
		}
		break;
	default:
		/* Readiness: write or read some bytes. */
		fd = pick_fd(t, FK_NONE);
		if (fd < 3)
			break;
		if (chance(t, 60)) {
			uint64_t one = 1;

			if (send(fd, buf, 1 + below(t, sizeof(buf)),
				 MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
				if (write(fd, &one, sizeof(one)) < 0)
					break;
		} else if (read(fd, buf, sizeof(buf)) < 0) {
			break;
		}
		break;
	}
}

static void do_signal(struct fz_thread *t)
{
	union sigval v = { .sival_int = (int)(rnd(t) & 0x7fffffff) };

	switch (below(t, 4)) {
	case 0:
		raise(SIGUSR1);
		break;
	case 1:
		kill(getpid(), SIGUSR2);
		break;
	default:
		sigqueue(getpid(), SIGRTMIN + (int)below(t, 3), v);
		break;
	}
}

static void fz_child(struct fz_thread *t);

static void do_fork(struct fz_thread *t, pid_t *child)
{
	int status;
	pid_t pid;

	if (*child > 0) {
		if (waitpid(*child, &status, 0) == *child &&
		    (!WIFEXITED(status) || WEXITSTATUS(status)))
			violation(t, "forked child ended with status %#x", status);
		*child = 0;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return;
	if (!pid)
		fz_child(t);
	*child = pid;
}

/* One random call (or a few), chosen by weight. */
static void fz_step(struct fz_thread *t, pid_t *child)
{
	unsigned int r = below(t, 20000) / 2;	/* forks: 1 in 20000 */

	if (r < 400)
		do_init(t);
	else if (r < 4400)
		do_ctl(t);
	else if (r < 6200)
		do_get_events(t);
	else if (r < 7400)
		do_wait(t);
	else if (r < 7900)
		do_mmap(t);
	else if (r < 8700)
		do_ring(t);
	else if (r < 9800)
		do_files(t);
	else if (r < 9999 || t->in_child || !child)
		do_signal(t);
	else
		do_fork(t, child);
}

static void alarm_handler(int sig)
{
}

/*
 * A forked child: the same pool (its own copies of the descriptors, the
 * same queues), a generator derived from the parent's, a few hundred
 * calls, then _exit() with 1 if it saw a violation. The interrupter thread
 * does not exist here: an interval timer interrupts infinite waits.
 */
static void fz_child(struct fz_thread *t)
{
	struct itimerval it = {
		.it_interval = { 0, 5000 }, .it_value = { 0, 5000 },
	};
	unsigned long before = __atomic_load_n(&fz.stats->violations,
					       __ATOMIC_RELAXED);
	unsigned long i;

	t->in_child = 1;
	t->rng ^= 0x5851f42d4c957f2dULL * (t->call + 1);
	setitimer(ITIMER_REAL, &it, NULL);
	for (i = 0; i < FZ_CHILD_CALLS; i++)
		fz_step(t, NULL);
	_exit(__atomic_load_n(&fz.stats->violations, __ATOMIC_RELAXED) !=
	      before);
}

static void *fz_thread_fn(void *arg)
{
	struct fz_thread *t = arg;
	pid_t child = 0;
	int status;

	fz_self = t;
	__atomic_store_n(&t->tid, kt_gettid(), __ATOMIC_RELEASE);
	while (__atomic_load_n(&fz.stats->calls, __ATOMIC_RELAXED) < fz.calls &&
	       t->call < t->quota)
		fz_step(t, &child);
	if (child > 0 && waitpid(child, &status, 0) == child &&
	    (!WIFEXITED(status) || WEXITSTATUS(status)))
		violation(t, "forked child ended with status %#x", status);
	__atomic_store_n(&t->tid, 0, __ATOMIC_RELEASE);
	return NULL;
}

/* Sends SIGALRM to every fuzzing thread, so no wait lasts long. */
static void *fz_interrupter(void *arg)
{
	struct fz_thread *th = arg;
	unsigned int i;

	while (!__atomic_load_n(&fz.stop, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < fz.threads; i++) {
			pid_t tid = __atomic_load_n(&th[i].tid,
						    __ATOMIC_ACQUIRE);

			/* tgkill(): a thread that is gone is just ESRCH. */
			if (tid > 0)
				syscall(SYS_tgkill, getpid(), tid, SIGALRM);
		}
		kt_sleep_ms(10);
	}
	return NULL;
}

static int fz_thread_init(struct fz_thread *t, unsigned int index)
{
	size_t area = (FZ_RW_PAGES + 1) * fz.psz;
	struct ukevent *ch;
	unsigned int i;

	memset(t, 0, sizeof(*t));
	t->index = index;
	t->rng = fz.seed * 0x2545f4914f6cdd1dULL + index * 0x9e3779b97f4a7c15ULL;
	t->quota = fz.calls / fz.threads + 1;
	t->rw = mmap(NULL, area, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t->ro = mmap(NULL, 2 * fz.psz, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->rw == MAP_FAILED || t->ro == MAP_FAILED)
		return -1;
	/* A guard page after the argument area. */
	if (mprotect(t->rw + FZ_RW_PAGES * fz.psz, fz.psz, PROT_NONE))
		return -1;
	/* Valid changes in a read-only page: results cannot be written. */
	ch = (struct ukevent *)t->ro;
	for (i = 0; i < fz.psz / sizeof(*ch); i++)
		kevent_prep_user(&ch[i], 100 + i, 0, i);
	t->none = t->ro + fz.psz;
	if (mprotect(t->ro, fz.psz, PROT_READ) ||
	    mprotect(t->none, fz.psz, PROT_NONE))
		return -1;
	return 0;
}

static void fz_atfork_prepare(void)
{
	pthread_mutex_lock(&fz.lock);
	pthread_mutex_lock(&fz.out);
}

static void fz_atfork_done(void)
{
	pthread_mutex_unlock(&fz.out);
	pthread_mutex_unlock(&fz.lock);
}

static void fz_signals(void)
{
	struct sigaction sa;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = alarm_handler;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	for (sig = SIGRTMIN; sig < SIGRTMIN + 3; sig++)
		sigaction(sig, &sa, NULL);
	sa.sa_sigaction = fz_fault;
	sa.sa_flags = SA_NODEFER | SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static uint64_t fz_seed_opt;
static unsigned long fz_calls_opt;
static unsigned int fz_threads_opt;

FIXTURE(fuzz)
{
	struct fz_thread th[FZ_MAX_THREADS];
};

FIXTURE_SETUP(fuzz)
{
	const char *s;
	unsigned int i;

	fz.psz = sysconf(_SC_PAGESIZE);
	fz.seed = fz_seed_opt;
	if (!fz.seed) {
		s = getenv("KEVENT_FUZZ_SEED");
		fz.seed = s ? strtoull(s, NULL, 0) : kt_now(CLOCK_REALTIME);
	}
	fz.calls = fz_calls_opt;
	if (!fz.calls) {
		/* make check-debug asks fewer of the i386 build. */
		s = sizeof(long) == 4 ? getenv("KEVENT_FUZZ_CALLS_32") : NULL;
		if (!s)
			s = getenv("KEVENT_FUZZ_CALLS");
		fz.calls = s ? strtoul(s, NULL, 0) : 20000;
	}
	fz.threads = fz_threads_opt ? fz_threads_opt : 4;
	if (fz.threads > FZ_MAX_THREADS)
		fz.threads = FZ_MAX_THREADS;
	fz.stats = mmap(NULL, sizeof(*fz.stats), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(fz.stats != MAP_FAILED);
	for (i = 0; i < FZ_SLOTS; i++)
		fz.slot[i].fd = -1;
	for (i = 0; i < fz.threads; i++)
		ASSERT_EQ(0, fz_thread_init(&self->th[i], i));
	fz_signals();
	pthread_atfork(fz_atfork_prepare, fz_atfork_done, fz_atfork_done);
	ksft_print_msg("fuzz: seed %llu (reproduce: -s %llu -n %lu -j %u), %lu calls, %u threads\n",
		       (unsigned long long)fz.seed,
		       (unsigned long long)fz.seed, fz.calls, fz.threads,
		       fz.calls, fz.threads);
}

FIXTURE_TEARDOWN(fuzz)
{
	unsigned int i;

	for (i = 0; i < FZ_SLOTS; i++)
		if (fz.slot[i].fd >= 0)
			close(fz.slot[i].fd);
	for (i = 0; i < FZ_MAPS; i++)
		if (fz.map[i].addr)
			munmap(fz.map[i].addr, fz.map[i].len);
	unlink("/tmp/kevent_fuzz_file");
}

/* Print what a thread is blocked in, as far as /proc tells. */
static void fz_dump_thread(struct fz_thread *t)
{
	char path[64], buf[1024];
	pid_t tid = __atomic_load_n(&t->tid, __ATOMIC_ACQUIRE);
	static const char * const files[] = { "wchan", "stack" };
	unsigned int i;

	printf("# thread %u (tid %d): call %lu, %s\n", t->index, tid, t->call,
	       t->what ? t->what : "-");
	for (i = 0; tid && i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "/proc/self/task/%d/%s", tid,
			 files[i]);
		if (!kt_read_file(path, buf, sizeof(buf)))
			printf("#   %s: %s\n", files[i], buf);
	}
}

/*
 * Wait for the threads; if no call was made for FZ_STALL_SECS, report
 * where every thread is and give up (a kernel hang, or a fuzzer bug).
 */
#define FZ_STALL_SECS	60
static int fz_wait_threads(struct fz_thread *th)
{
	unsigned long last = ~0UL, now;
	unsigned int i, idle = 0, running;

	for (;;) {
		running = 0;
		for (i = 0; i < fz.threads; i++)
			running += !!__atomic_load_n(&th[i].tid, __ATOMIC_ACQUIRE);
		if (!running)
			return 0;
		now = __atomic_load_n(&fz.stats->calls, __ATOMIC_RELAXED);
		idle = now == last ? idle + 1 : 0;
		last = now;
		if (idle == FZ_STALL_SECS) {
			pthread_mutex_lock(&fz.out);
			printf("# fuzz: no call for %d s, after %lu calls\n",
			       FZ_STALL_SECS, now);
			for (i = 0; i < fz.threads; i++)
				fz_dump_thread(&th[i]);
			fflush(stdout);
			pthread_mutex_unlock(&fz.out);
			return -1;
		}
		kt_sleep_ms(1000);
	}
}

/* Long: a million calls under a debug kernel; the lab's run has its own limit. */
TEST_F_TIMEOUT(fuzz, random_calls, 3600)
{
	pthread_t interrupter;
	unsigned int i;

	for (i = 0; i < fz.threads; i++) {
		/* Running from here on: fz_wait_threads() counts it. */
		self->th[i].tid = -1;
		ASSERT_EQ(0, pthread_create(&self->th[i].thread, NULL,
					    fz_thread_fn, &self->th[i]));
	}
	ASSERT_EQ(0, pthread_create(&interrupter, NULL, fz_interrupter,
				    self->th));
	ASSERT_EQ(0, fz_wait_threads(self->th));
	for (i = 0; i < fz.threads; i++)
		pthread_join(self->th[i].thread, NULL);
	__atomic_store_n(&fz.stop, 1, __ATOMIC_RELEASE);
	pthread_join(interrupter, NULL);
	while (wait(NULL) > 0)
		;

	ksft_print_msg("fuzz: seed %llu, %lu calls, %lu events checked, %lu violations\n",
		       (unsigned long long)fz.seed, fz.stats->calls,
		       fz.stats->events, fz.stats->violations);
	ksft_print_msg("KEVENT-STAT fuzz_calls=%lu\n", fz.stats->calls);
	EXPECT_EQ(0, fz.stats->violations);
	EXPECT_LE(fz.calls, fz.stats->calls);
}

/* The fuzzer's own options come first; the rest goes to the harness. */
int main(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "+s:n:j:")) != -1) {
		switch (opt) {
		case 's':
			fz_seed_opt = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			fz_calls_opt = strtoul(optarg, NULL, 0);
			break;
		case 'j':
			fz_threads_opt = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-s SEED] [-n CALLS] [-j THREADS] [...]\n",
				argv[0]);
			return KSFT_FAIL;
		}
	}
	argv[optind - 1] = argv[0];
	argc -= optind - 1;
	argv += optind - 1;
	optind = 0;	/* glibc: restart getopt() for the harness */
	return test_harness_run(argc, argv);
}
