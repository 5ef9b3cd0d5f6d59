// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection on the kevent paths: each allocation made by each
 * kevent system call (and the ring mmap()) is failed in turn, with
 * /proc/thread-self/fail-nth (failslab and fail_page_alloc, as syzkaller
 * does). After an injected fault the call must have failed with ENOMEM, or
 * succeeded (the failed allocation had a fallback), and it must have left
 * no partial state: no descriptor, no registration, no charge against the
 * per-user limit, nothing on the ready list (a stale entry would be a
 * use-after-free under KASAN). make check-debug scans kmemleak afterwards.
 *
 * The calls run in a child with its own uid (so its registrations are
 * counted from zero) and a per-user limit of FT_LIMIT registrations:
 * exactly FT_LIMIT minus the registrations it holds can be added after
 * every call, whether it failed or not.
 *
 * Needs CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC and
 * CONFIG_FAULT_INJECTION_DEBUG_FS (make check-debug); skipped without.
 * Prints "# KEVENT-STAT faults_injected=N" for the lab's summary.
 */
#include "kevent_test.h"
#include "../kselftest_harness.h"

#include <limits.h>
#include <sys/mount.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>

#define MAX_USER_REGS	"/proc/sys/fs/kevent/max_user_registrations"
#define DEBUGFS		"/sys/kernel/debug"
#define FT_UID		4242	/* nobody else's registrations */
#define FT_LIMIT	8	/* its per-user limit */
#define FT_MAX_NTH	4000	/* no kevent path allocates that often */
#define FT_FIFO		"/tmp/kevent_fault_fifo"

/* The debugfs knobs that make fail-nth fail GFP_KERNEL allocations. */
static const struct {
	const char *path;
	const char *value;
} ft_knobs[] = {
	{ DEBUGFS "/failslab/ignore-gfp-wait", "N" },
	{ DEBUGFS "/failslab/verbose", "0" },
	{ DEBUGFS "/fail_page_alloc/ignore-gfp-wait", "N" },
	{ DEBUGFS "/fail_page_alloc/ignore-gfp-highmem", "N" },
	{ DEBUGFS "/fail_page_alloc/min-order", "0" },
	{ DEBUGFS "/fail_page_alloc/verbose", "0" },
};

/* State of one call under test, set up fresh before each injection. */
struct ft_ctx {
	int		q;		/* a queue without a ring */
	int		rq;		/* a queue with a ring of 64 */
	int		inner;		/* a queue to nest */
	int		pipe[2];
	int		fifo;		/* FIFO opened read-write: two heads */
	int		sock;		/* the socket for KEVENT_SOCKET */
	int		newfd;		/* kevent_init() result */
	void		*map;		/* mmap() result */
	int		held;		/* registrations held, besides the op's */
	struct ukevent	ch[4];
};

/* ft_op.check */
#define FT_ALL_OR_NOTHING	0	/* present() is 1 iff the call worked */
#define FT_PER_CHANGE		1	/* a batch: present() checks each */
#define FT_UNCHANGED		2	/* present() is 1 either way */

struct ft_op {
	const char	*name;
	/* Prepare the call; outside the injection window. */
	int		(*setup)(struct ft_ctx *c);
	/* The call: 0 or -errno. */
	int		(*run)(struct ft_ctx *c);
	/* How much of the call's effect is there, -1 if inconsistent. */
	int		(*present)(struct ft_ctx *c);
	/* What present() says (FT_*) and whether it counts registrations. */
	int		check;
	int		adds;
	/* Files it needs: a writer thread hammers the FIFO meanwhile. */
	int		with_writer;
};

/* ------------------------------------------------------------------ */

static int ft_socket(int type)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    (type == SOCK_STREAM && listen(fd, 4))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int base_setup(struct ft_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->q = kt_queue(0, 0);
	c->rq = kt_queue(64, 0);
	c->inner = kt_queue(0, 0);
	c->newfd = -1;
	c->map = MAP_FAILED;
	c->sock = -1;
	if (c->q < 0 || c->rq < 0 || c->inner < 0 ||
	    pipe2(c->pipe, O_NONBLOCK | O_CLOEXEC))
		return -1;
	c->fifo = open(FT_FIFO, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	return c->fifo < 0 ? -1 : 0;
}

static void base_teardown(struct ft_ctx *c)
{
	if (c->map != MAP_FAILED)
		munmap(c->map, KEVENT_RING_SIZE(64));
	if (c->newfd >= 0)
		close(c->newfd);
	if (c->sock >= 0)
		close(c->sock);
	close(c->fifo);
	close(c->pipe[0]);
	close(c->pipe[1]);
	close(c->inner);
	close(c->rq);
	close(c->q);
}

/* Result of a one-change kevent_ctl(): 0, -errno, or -EPROTO if odd. */
static int ctl_result(int fd, struct ukevent *ch, unsigned int nr)
{
	unsigned int i, failed = 0;
	int ret;

	for (i = 0; i < nr; i++)
		ch[i].result = 0x7eadbeef;
	ret = kevent_ctl(fd, ch, nr, 0);
	if (ret < 0)
		return -errno;
	for (i = 0; i < nr; i++) {
		if (ch[i].result > 0 || ch[i].result == 0x7eadbeef)
			return -EPROTO;
		failed += ch[i].result != 0;
	}
	if ((unsigned int)ret != failed)
		return -EPROTO;
	/* The batch's first failure stands for it. */
	for (i = 0; i < nr; i++)
		if (ch[i].result)
			return ch[i].result;
	return 0;
}

/* Is (type, id) registered in fd? DISABLE is harmless and says so. */
static int registered(int fd, __u16 type, __u64 id)
{
	return !kt_op(fd, type, id, KEVENT_CTL_DISABLE);
}

/* kevent_init() */

static int run_init_noring(struct ft_ctx *c)
{
	c->newfd = kt_queue(0, KEVENT_INIT_CLOEXEC);
	return c->newfd < 0 ? -errno : 0;
}

static int run_init_ring(struct ft_ctx *c)
{
	c->newfd = kt_queue(64, KEVENT_INIT_CLOEXEC);
	return c->newfd < 0 ? -errno : 0;
}

static int present_newfd(struct ft_ctx *c)
{
	return c->newfd >= 0;
}

/* The ring mmap() */

static int run_mmap(struct ft_ctx *c)
{
	c->map = mmap(NULL, KEVENT_RING_SIZE(64), PROT_READ | PROT_WRITE,
		      MAP_SHARED, c->rq, 0);
	return c->map == MAP_FAILED ? -errno : 0;
}

static int present_map(struct ft_ctx *c)
{
	return c->map != MAP_FAILED;
}

/* kevent_ctl() ADD, one per source and file kind */

static int run_add(struct ft_ctx *c, int fd)
{
	return ctl_result(fd, c->ch, 1);
}

static int present_add(struct ft_ctx *c)
{
	return registered(c->q, c->ch[0].type, c->ch[0].id);
}

static int run_add_user(struct ft_ctx *c)
{
	kevent_prep_user(&c->ch[0], 1, 0, 1);
	return run_add(c, c->q);
}

static int run_add_timer(struct ft_ctx *c)
{
	kevent_prep_timer(&c->ch[0], 1, 1000 * NSEC_PER_MSEC, NSEC_PER_MSEC,
			  CLOCK_MONOTONIC, 0, 1);
	return run_add(c, c->q);
}

static int run_add_signal(struct ft_ctx *c)
{
	kevent_prep_signal(&c->ch[0], SIGUSR1, KEVENT_SIGNAL_CONSUME, 1);
	return run_add(c, c->q);
}

static int run_add_pipe(struct ft_ctx *c)
{
	kevent_prep_fd(&c->ch[0], KEVENT_POLL, c->pipe[0], POLLIN, 0, 1);
	return run_add(c, c->q);
}

static int run_add_fifo(struct ft_ctx *c)
{
	kevent_prep_fd(&c->ch[0], KEVENT_POLL, c->fifo, POLLIN | POLLOUT, 0,
		       1);
	return run_add(c, c->q);
}

static int run_add_queue(struct ft_ctx *c)
{
	kevent_prep_fd(&c->ch[0], KEVENT_POLL, c->inner, POLLIN, 0, 1);
	return run_add(c, c->q);
}

static int setup_tcp(struct ft_ctx *c)
{
	if (base_setup(c))
		return -1;
	c->sock = ft_socket(SOCK_STREAM);
	return c->sock < 0 ? -1 : 0;
}

static int setup_udp(struct ft_ctx *c)
{
	if (base_setup(c))
		return -1;
	c->sock = ft_socket(SOCK_DGRAM);
	return c->sock < 0 ? -1 : 0;
}

static int run_add_socket(struct ft_ctx *c)
{
	kevent_prep_fd(&c->ch[0], KEVENT_SOCKET, c->sock,
		       KEVENT_SOCKET_RECV | KEVENT_SOCKET_ACCEPT, 0, 1);
	return run_add(c, c->q);
}

/* A batch of four ADDs: a failed change must not stop the others. */
static int run_add_batch(struct ft_ctx *c)
{
	kevent_prep_user(&c->ch[0], 1, 0, 1);
	kevent_prep_fd(&c->ch[1], KEVENT_POLL, c->pipe[0], POLLIN, 0, 2);
	kevent_prep_timer(&c->ch[2], 3, 1000 * NSEC_PER_MSEC, 0,
			  CLOCK_MONOTONIC, 0, 3);
	kevent_prep_fd(&c->ch[3], KEVENT_POLL, c->fifo, POLLIN, 0, 4);
	return ctl_result(c->q, c->ch, 4);
}

/* How many are registered: exactly those whose result is 0 (or -1). */
static int present_batch(struct ft_ctx *c)
{
	int i, n = 0, reg;

	for (i = 0; i < 4; i++) {
		reg = registered(c->q, c->ch[i].type, c->ch[i].id);
		if (reg != !c->ch[i].result)
			return -1;
		n += reg;
	}
	return n;
}

/* Ops on existing registrations: no allocation expected, checked anyway. */

static int setup_held(struct ft_ctx *c)
{
	if (base_setup(c) || kt_user_add(c->q, 7, 0, 7))
		return -1;
	kevent_prep_fd(&c->ch[0], KEVENT_POLL, c->pipe[0], POLLIN, 0, 8);
	if (kt_ctl1(c->q, &c->ch[0]))
		return -1;
	c->held = 2;
	return 0;
}

static int run_modify_trigger(struct ft_ctx *c)
{
	kevent_prep_fd(&c->ch[0], KEVENT_POLL, c->pipe[0], POLLOUT, 0, 9);
	c->ch[0].op = KEVENT_CTL_MODIFY;
	kevent_prep_trigger(&c->ch[1], 7, 1);
	kevent_prep_op(&c->ch[2], KEVENT_USER, 7, KEVENT_CTL_DISABLE);
	kevent_prep_op(&c->ch[3], KEVENT_USER, 7, KEVENT_CTL_ENABLE);
	return ctl_result(c->q, c->ch, 4);
}

static int present_held(struct ft_ctx *c)
{
	return registered(c->q, KEVENT_USER, 7) &&
	       registered(c->q, KEVENT_POLL, c->pipe[0]);
}

static int run_get_events(struct ft_ctx *c)
{
	struct ukevent ev[4];
	int n = kt_poll(c->q, ev, 4);

	return n < 0 ? -errno : 0;
}

static int run_wait(struct ft_ctx *c)
{
	struct __kernel_timespec ts = { 0, 0 };

	return kevent_wait(c->rq, 0, &ts, NULL) < 0 ? -errno : 0;
}

static int present_true(struct ft_ctx *c)
{
	return 1;
}

#define AON	FT_ALL_OR_NOTHING
static const struct ft_op ft_ops[] = {
	{ "init", base_setup, run_init_noring, present_newfd, AON, 0, 0 },
	{ "init_ring", base_setup, run_init_ring, present_newfd, AON, 0, 0 },
	{ "mmap_ring", base_setup, run_mmap, present_map, AON, 0, 0 },
	{ "add_user", base_setup, run_add_user, present_add, AON, 1, 0 },
	{ "add_timer", base_setup, run_add_timer, present_add, AON, 1, 0 },
	{ "add_signal", base_setup, run_add_signal, present_add, AON, 1, 0 },
	{ "add_poll_pipe", base_setup, run_add_pipe, present_add, AON, 1, 0 },
	{ "add_poll_fifo_two_heads", base_setup, run_add_fifo, present_add,
	  AON, 1, 1 },
	{ "add_poll_queue", base_setup, run_add_queue, present_add, AON, 1, 0 },
	{ "add_socket_tcp", setup_tcp, run_add_socket, present_add, AON, 1, 0 },
	{ "add_socket_udp", setup_udp, run_add_socket, present_add, AON, 1, 0 },
	{ "add_batch", base_setup, run_add_batch, present_batch,
	  FT_PER_CHANGE, 1, 1 },
	{ "modify_trigger_enable", setup_held, run_modify_trigger,
	  present_held, FT_UNCHANGED, 0, 0 },
	{ "get_events", setup_held, run_get_events, present_held,
	  FT_UNCHANGED, 0, 0 },
	{ "wait", base_setup, run_wait, present_true, FT_UNCHANGED, 0, 0 },
};

/* ------------------------------------------------------------------ */

/* fail-nth of this thread, opened once: reading it must not allocate. */
static int ft_nth_fd = -1;

static int ft_arm(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(ft_nth_fd, buf, (size_t)len, 0) == len ? 0 : -1;
}

/* Disarm; returns how many of the armed count were left (0: injected). */
static int ft_disarm(void)
{
	char buf[16] = "";
	ssize_t n = pread(ft_nth_fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0 || ft_arm(0))
		return -1;
	buf[n] = 0;
	return atoi(buf);
}

/* How many registrations can still be added under the per-user limit. */
static int free_slots(int q)
{
	struct ukevent ch;
	int n, ret = 0;

	for (n = 0; n <= FT_LIMIT; n++) {
		kevent_prep_user(&ch, (1ULL << 40) + n, 0, 0);
		ret = kt_ctl1(q, &ch);
		if (ret)
			break;
	}
	for (int i = 0; i < n; i++)
		kt_op(q, KEVENT_USER, (1ULL << 40) + i, KEVENT_CTL_REMOVE);
	return ret == -ENOSPC ? n : -1;
}

/* The lowest free descriptor number. */
static int lowest_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static int ft_writer_stop;	/* atomic */

/*
 * Writes into the FIFO (through its own descriptor, opened before, so
 * that descriptor numbers do not move under the leak check) while a
 * registration hooks into it.
 */
static void *ft_writer(void *arg)
{
	int fd = *(int *)arg;
	char buf[64];

	while (!__atomic_load_n(&ft_writer_stop, __ATOMIC_RELAXED)) {
		if (write(fd, "x", 1) < 0 || read(fd, buf, sizeof(buf)) < 0)
			sched_yield();
	}
	return NULL;
}

/*
 * Run every op with every allocation failed in turn, in a child with its
 * own uid. Returns the faults injected, or -1 after printing a failure.
 */
static long ft_child(int rounds)
{
	long faults = 0;
	unsigned int k, n;
	pthread_t writer;
	int r, wfd;

	for (r = 0; r < rounds; r++) {
		for (k = 0; k < ARRAY_SIZE(ft_ops); k++) {
			const struct ft_op *op = &ft_ops[k];
			int ret, left, present, added, slots, fd0, fd1;
			struct ft_ctx c;

			/* Later rounds: only the ops racing with the writer. */
			if (r && !op->with_writer)
				continue;
			__atomic_store_n(&ft_writer_stop, 0, __ATOMIC_RELAXED);
			if (op->with_writer) {
				wfd = open(FT_FIFO, O_RDWR | O_NONBLOCK | O_CLOEXEC);
				if (wfd < 0 ||
				    pthread_create(&writer, NULL, ft_writer, &wfd))
					return -1;
			}
			for (n = 1; n < FT_MAX_NTH; n++) {
				if (op->setup(&c)) {
					printf("# %s: setup failed: %s\n", op->name,
					       strerror(errno));
					return -1;
				}
				fd0 = lowest_fd();
				if (ft_arm(n))
					return -1;
				ret = op->run(&c);
				left = ft_disarm();
				if (left < 0)
					return -1;
				fd1 = lowest_fd();
				present = op->present(&c);
				slots = free_slots(c.q);
				/* Drain the ready list: a stale entry would be a UAF. */
				run_get_events(&c);
				base_teardown(&c);

				/* Without a fault it works; with one, at most ENOMEM. */
				if (ret && (left || ret != -ENOMEM)) {
					printf("# %s, allocation %u%s: %s\n", op->name, n,
					       left ? " (none failed)" : "",
					       strerror(-ret));
					return -1;
				}
				/* All or nothing, change by change, or untouched. */
				if (present < 0 ||
				    (op->check == FT_ALL_OR_NOTHING && present != !ret) ||
				    (op->check == FT_UNCHANGED && present != 1)) {
					printf("# %s, allocation %u: returned %d, effect %d\n",
					       op->name, n, ret, present);
					return -1;
				}
				/* The per-user count is exact. */
				added = op->adds ? present : 0;
				if (slots != FT_LIMIT - c.held - added) {
					printf("# %s, alloc %u: %d more registrations, not %d\n",
					       op->name, n, slots,
					       FT_LIMIT - c.held - added);
					return -1;
				}
				if (ret && fd1 != fd0) {
					printf("# %s, allocation %u: a descriptor leaked\n",
					       op->name, n);
					return -1;
				}
				if (left)
					break;
				faults++;
			}
			if (op->with_writer) {
				__atomic_store_n(&ft_writer_stop, 1, __ATOMIC_RELAXED);
				pthread_join(writer, NULL);
				close(wfd);
			}
			if (n == FT_MAX_NTH) {
				printf("# %s: still failing after %u allocations\n",
				       op->name, n);
				return -1;
			}
			if (!r)
				printf("# %s: %u allocation(s) failed in turn\n",
				       op->name, n - 1);
		}
	}
	return faults;
}

FIXTURE(fault)
{
	char saved_limit[32];
	char saved[ARRAY_SIZE(ft_knobs)][32];
	int have_saved;
};

FIXTURE_SETUP(fault)
{
	unsigned int i;

	self->have_saved = 0;
	if (access("/proc/thread-self/fail-nth", W_OK))
		SKIP(return, "no /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION)");
	if (access(DEBUGFS "/failslab", F_OK))
		mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
	if (access(DEBUGFS "/failslab", F_OK) ||
	    access(DEBUGFS "/fail_page_alloc", F_OK))
		SKIP(return, "no failslab/fail_page_alloc in debugfs");
	ASSERT_EQ(0, kt_read_file(MAX_USER_REGS, self->saved_limit,
				  sizeof(self->saved_limit)));
	for (i = 0; i < ARRAY_SIZE(ft_knobs); i++)
		ASSERT_EQ(0, kt_read_file(ft_knobs[i].path, self->saved[i],
					  sizeof(self->saved[i])));
	self->have_saved = 1;
	for (i = 0; i < ARRAY_SIZE(ft_knobs); i++)
		ASSERT_EQ(0, kt_write_file(ft_knobs[i].path, ft_knobs[i].value));
	ASSERT_EQ(0, kt_write_file(MAX_USER_REGS, "8"));
	unlink(FT_FIFO);
	ASSERT_EQ(0, mkfifo(FT_FIFO, 0666));
	/* Not narrowed by the umask: the child has another uid. */
	ASSERT_EQ(0, chmod(FT_FIFO, 0666));
}

FIXTURE_TEARDOWN_PARENT(fault)
{
	unsigned int i;

	unlink(FT_FIFO);
	if (!self->have_saved)
		return;
	EXPECT_EQ(0, kt_write_file(MAX_USER_REGS, self->saved_limit));
	for (i = 0; i < ARRAY_SIZE(ft_knobs); i++)
		EXPECT_EQ(0, kt_write_file(ft_knobs[i].path, self->saved[i]));
}

TEST_F_TIMEOUT(fault, every_allocation_fails_cleanly, 1200)
{
	long faults;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Open fail-nth while still allowed to. */
		ft_nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
		if (ft_nth_fd < 0 || setgroups(0, NULL) ||
		    setresgid(FT_UID, FT_UID, FT_UID) ||
		    setresuid(FT_UID, FT_UID, FT_UID))
			_exit(2);
		/* Five rounds of the ops that race with the FIFO writer. */
		faults = ft_child(5);
		if (faults > 0)
			printf("# KEVENT-STAT faults_injected=%ld\n", faults);
		fflush(stdout);
		_exit(faults > 0 ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
