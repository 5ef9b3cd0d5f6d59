// SPDX-License-Identifier: GPL-2.0
/*
 * Limits: the per-user registration limit (fs.kevent.max_user_registrations)
 * for an unprivileged user, across its queues and processes; only root can
 * change it, and raising it takes effect at once; the memory of
 * registrations and rings is charged to the memory cgroup and uncharged
 * when they go.
 *
 * The unprivileged user is a fixed uid with no other registrations. The
 * memory cgroup test needs cgroup2 with the memory controller (CONFIG_MEMCG,
 * make check-debug) and is skipped without it.
 */
#include "kevent_test.h"
#include "../kselftest_harness.h"

#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define MAX_USER_REGS	"/proc/sys/fs/kevent/max_user_registrations"
#define LIM_UID		4343
#define CGROOT		"/sys/fs/cgroup"
#define CGDIR		CGROOT "/kevent_limits_test"

/* Become LIM_UID for good: no capability left. */
static int drop_to_user(void)
{
	if (setgroups(0, NULL) || setresgid(LIM_UID, LIM_UID, LIM_UID) ||
	    setresuid(LIM_UID, LIM_UID, LIM_UID))
		return -1;
	return 0;
}

/* Add user events [first, first + n); returns how many were added. */
static int add_users(int fd, __u64 first, int n, int *last_err)
{
	struct ukevent ch;
	int i;

	*last_err = 0;
	for (i = 0; i < n; i++) {
		kevent_prep_user(&ch, first + i, 0, 0);
		*last_err = kt_ctl1(fd, &ch);
		if (*last_err)
			break;
	}
	return i;
}

/* One byte on a pipe: a step of the parent/child protocol below. */
static int step_send(int fd)
{
	return write(fd, "s", 1) == 1 ? 0 : -1;
}

static int step_recv(int fd)
{
	char c;

	return read(fd, &c, 1) == 1 ? 0 : -1;
}

FIXTURE(lim)
{
	char saved[64];
	int have_saved;
};

FIXTURE_SETUP(lim)
{
	self->have_saved = 0;
	if (access(MAX_USER_REGS, F_OK))
		SKIP(return, MAX_USER_REGS " not present");
	if (geteuid())
		SKIP(return, "needs root to set the limit and change uid");
	ASSERT_EQ(0, kt_read_file(MAX_USER_REGS, self->saved,
				  sizeof(self->saved)));
	self->have_saved = 1;
}

FIXTURE_TEARDOWN_PARENT(lim)
{
	if (self->have_saved)
		EXPECT_EQ(0, kt_write_file(MAX_USER_REGS, self->saved));
}

/*
 * An unprivileged user reaches the limit, in one queue or spread over
 * several and over two processes; it cannot raise the limit itself, root
 * can, and the new value holds at once; all its slots come back when its
 * queues are closed.
 */
TEST_F(lim, unprivileged_user_limit_and_root_raises_it)
{
	int to_child[2], to_parent[2], status, i;
	pid_t pid[2];

	ASSERT_EQ(0, kt_write_file(MAX_USER_REGS, "10"));
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));

	pid[0] = fork();
	ASSERT_LE(0, pid[0]);
	if (!pid[0]) {
		int q1, q2, err, n;

		if (drop_to_user())
			_exit(10);
		/* The limit is root's to change. */
		if (kt_write_file(MAX_USER_REGS, "1000000") != -EACCES)
			_exit(11);
		q1 = kt_queue(0, 0);
		q2 = kt_queue(16, 0);
		if (q1 < 0 || q2 < 0)
			_exit(12);
		/* 6 + 4 = the limit of 10, across two queues. */
		n = add_users(q1, 0, 6, &err);
		n += add_users(q2, 0, 4, &err);
		if (n != 10)
			_exit(13);
		if (add_users(q1, 100, 1, &err) || err != -ENOSPC ||
		    add_users(q2, 100, 1, &err) || err != -ENOSPC)
			_exit(14);
		/* A timer counts the same. */
		if (kt_timer_add(q1, 1, NSEC_PER_SEC, 0, CLOCK_MONOTONIC, 0,
				 0) != -ENOSPC)
			_exit(15);
		/* Root raises the limit to 15: 5 more, not 6. */
		if (step_send(to_parent[1]) || step_recv(to_child[0]))
			_exit(16);
		n = add_users(q1, 200, 6, &err);
		if (n != 5 || err != -ENOSPC)
			_exit(17);
		/* REMOVE gives one back. */
		if (kt_op(q1, KEVENT_USER, 200, KEVENT_CTL_REMOVE) ||
		    add_users(q2, 300, 2, &err) != 1 || err != -ENOSPC)
			_exit(18);
		/* Hold them while a second process of the same user tries. */
		if (step_send(to_parent[1]) || step_recv(to_child[0]))
			_exit(19);
		close(q1);
		close(q2);
		_exit(0);
	}

	/* Child 0 is at the limit of 10: raise it to 15. */
	ASSERT_EQ(0, step_recv(to_parent[0]));
	ASSERT_EQ(0, kt_write_file(MAX_USER_REGS, "15"));
	ASSERT_EQ(0, step_send(to_child[1]));
	ASSERT_EQ(0, step_recv(to_parent[0]));

	/* Same user, another process: the 15 slots are all taken. */
	pid[1] = fork();
	ASSERT_LE(0, pid[1]);
	if (!pid[1]) {
		int q, err;

		if (drop_to_user())
			_exit(20);
		q = kt_queue(0, 0);
		if (q < 0 || add_users(q, 0, 1, &err) || err != -ENOSPC)
			_exit(21);
		_exit(0);
	}
	ASSERT_EQ(pid[1], waitpid(pid[1], &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* Root is another user: its own count. */
	i = kt_queue(0, 0);
	ASSERT_LE(0, i);
	EXPECT_EQ(0, kt_user_add(i, 1, 0, 0));
	close(i);

	ASSERT_EQ(0, step_send(to_child[1]));
	ASSERT_EQ(pid[0], waitpid(pid[0], &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* Child 0's queues are gone: all 15 slots are free again. */
	pid[1] = fork();
	ASSERT_LE(0, pid[1]);
	if (!pid[1]) {
		int q, err;

		if (drop_to_user())
			_exit(30);
		q = kt_queue(0, 0);
		if (q < 0 || add_users(q, 0, 16, &err) != 15 || err != -ENOSPC)
			_exit(31);
		_exit(0);
	}
	ASSERT_EQ(pid[1], waitpid(pid[1], &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* ------------------------------------------------------------------ */
/* Memory cgroup accounting                                            */
/* ------------------------------------------------------------------ */

static long cg_read_long(const char *file)
{
	char path[128], buf[64];

	snprintf(path, sizeof(path), CGDIR "/%s", file);
	if (kt_read_file(path, buf, sizeof(buf)))
		return -1;
	return atol(buf);
}

/* A cgroup2 hierarchy with the memory controller, mounted if need be. */
static int cg_setup(void)
{
	char buf[256];

	if (kt_read_file(CGROOT "/cgroup.controllers", buf, sizeof(buf)))
		mount("cgroup2", CGROOT, "cgroup2", 0, NULL);
	if (kt_read_file(CGROOT "/cgroup.controllers", buf, sizeof(buf)) ||
	    !strstr(buf, "memory"))
		return -1;
	if (kt_write_file(CGROOT "/cgroup.subtree_control", "+memory"))
		return -1;
	rmdir(CGDIR);
	return mkdir(CGDIR, 0755);
}

/*
 * Registrations and a ring are charged to the cgroup of the process that
 * makes them, and uncharged when the queue goes. The cgroup's counter
 * is page-granular with per-CPU caches, hence the slack.
 */
#define CG_REGS		20000
#define CG_RING		16384		/* entries: 1 MiB */
#define CG_SLACK	(512 * 1024)

TEST(memcg_charges_registrations_and_ring)
{
	long base, with_regs, with_ring, after;
	int to_child[2], to_parent[2], status;
	char pidbuf[16];
	pid_t pid;

	if (geteuid())
		SKIP(return, "needs root for cgroups");
	if (cg_setup())
		SKIP(return, "no cgroup2 memory controller (CONFIG_MEMCG)");
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int q, rq, err;
		void *ring;

		/* Wait until moved into the cgroup, then allocate. */
		if (step_recv(to_child[0]))
			_exit(10);
		q = kt_queue(0, 0);
		if (q < 0 || step_send(to_parent[1]) || step_recv(to_child[0]))
			_exit(11);
		if (add_users(q, 0, CG_REGS, &err) != CG_REGS)
			_exit(12);
		if (step_send(to_parent[1]) || step_recv(to_child[0]))
			_exit(13);
		rq = kt_queue(CG_RING, 0);
		if (rq < 0)
			_exit(14);
		ring = mmap(NULL, KEVENT_RING_SIZE(CG_RING), PROT_READ,
			    MAP_SHARED, rq, 0);
		if (ring == MAP_FAILED)
			_exit(15);
		munmap(ring, KEVENT_RING_SIZE(CG_RING));
		if (step_send(to_parent[1]) || step_recv(to_child[0]))
			_exit(16);
		close(q);
		close(rq);
		if (step_send(to_parent[1]) || step_recv(to_child[0]))
			_exit(17);
		_exit(0);
	}
	snprintf(pidbuf, sizeof(pidbuf), "%d", pid);
	ASSERT_EQ(0, kt_write_file(CGDIR "/cgroup.procs", pidbuf));
	ASSERT_EQ(0, step_send(to_child[1]));
	ASSERT_EQ(0, step_recv(to_parent[0]));
	base = cg_read_long("memory.current");
	ASSERT_LT(0, base);

	ASSERT_EQ(0, step_send(to_child[1]));
	ASSERT_EQ(0, step_recv(to_parent[0]));
	with_regs = cg_read_long("memory.current");
	ASSERT_EQ(0, step_send(to_child[1]));
	ASSERT_EQ(0, step_recv(to_parent[0]));
	with_ring = cg_read_long("memory.current");
	ASSERT_EQ(0, step_send(to_child[1]));
	ASSERT_EQ(0, step_recv(to_parent[0]));
	/* Frees behind RCU (none for user events) have had their chance. */
	kt_sleep_ms(100);
	after = cg_read_long("memory.current");
	ksft_print_msg("memcg: base %ld, %d regs +%ld, ring of %d +%ld, after close %+ld\n",
		       base, CG_REGS, with_regs - base, CG_RING,
		       with_ring - with_regs, after - base);

	/* Each registration is at least a struct kevent (> 64 bytes). */
	EXPECT_LE(base + (long)CG_REGS * 64, with_regs);
	/* The ring is at least its size. */
	EXPECT_LE(with_regs + (long)KEVENT_RING_SIZE(CG_RING) - CG_SLACK,
		  with_ring);
	EXPECT_GE(base + CG_SLACK, after);

	ASSERT_EQ(0, step_send(to_child[1]));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, rmdir(CGDIR));
}

TEST_HARNESS_MAIN
