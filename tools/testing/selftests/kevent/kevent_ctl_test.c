// SPDX-License-Identifier: GPL-2.0
/*
 * kevent_init() and kevent_ctl(): argument checking, per-change results,
 * the (type, id) key and the per-user registration limit.
 */
#include "kevent_test.h"
#include "../kselftest_harness.h"

#define MAX_USER_REGS "/proc/sys/fs/kevent/max_user_registrations"

/* kevent_init */

TEST(init_returns_anon_inode_fd)
{
	char path[64], link[64];
	ssize_t n;
	int fd;

	fd = kt_queue(0, 0);
	ASSERT_LE(0, fd);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = 0;
	EXPECT_STREQ("anon_inode:[kevent]", link);
	EXPECT_EQ(0, close(fd));
}

TEST(init_unmapped_args_efault)
{
	EXPECT_EQ(-1, kevent_init(kt_unmapped(),
				  sizeof(struct kevent_init_args)));
	EXPECT_EQ(EFAULT, errno);
}

TEST(init_size_too_small_einval)
{
	struct kevent_init_args args = { 0 };

	EXPECT_EQ(-1, kevent_init(&args, KEVENT_INIT_ARGS_SIZE_VER0 - 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, kevent_init(&args, 0));
	EXPECT_EQ(EINVAL, errno);
}

TEST(init_larger_struct_nonzero_tail_e2big)
{
	struct {
		struct kevent_init_args args;
		__u64 ext[2];
	} big;
	int fd;

	memset(&big, 0, sizeof(big));
	ASSERT_EQ((size_t)KEVENT_INIT_ARGS_SIZE_VER0, sizeof(big.args));
	/* Zero bytes beyond what the kernel knows are fine. */
	fd = kevent_init(&big.args, sizeof(big));
	ASSERT_LE(0, fd);
	close(fd);
	/* A non-zero byte beyond is E2BIG, wherever it is. */
	big.ext[1] = 1ULL << 63;
	EXPECT_EQ(-1, kevent_init(&big.args, sizeof(big)));
	EXPECT_EQ(E2BIG, errno);
	big.ext[1] = 0;
	((unsigned char *)big.ext)[0] = 1;
	EXPECT_EQ(-1, kevent_init(&big.args, sizeof(big)));
	EXPECT_EQ(E2BIG, errno);
}

TEST(init_size_above_page_e2big)
{
	long psz = sysconf(_SC_PAGESIZE);
	void *buf = calloc(1, psz + 64);

	ASSERT_FALSE(!buf);
	EXPECT_EQ(-1, kevent_init(buf, psz + 8));
	EXPECT_EQ(E2BIG, errno);
	free(buf);
}

TEST(init_unknown_flags_einval)
{
	struct kevent_init_args args = { 0 };
	int bit;

	for (bit = 2; bit < 64; bit++) {
		args.flags = 1ULL << bit;
		EXPECT_EQ(-1, kevent_init(&args, sizeof(args))) {
			TH_LOG("flag bit %d accepted", bit);
		}
		EXPECT_EQ(EINVAL, errno);
	}
}

TEST(init_reserved_nonzero_einval)
{
	struct kevent_init_args args;

	memset(&args, 0, sizeof(args));
	args.__reserved0 = 1;
	EXPECT_EQ(-1, kevent_init(&args, sizeof(args)));
	EXPECT_EQ(EINVAL, errno);

	memset(&args, 0, sizeof(args));
	args.__reserved1[0] = 1;
	EXPECT_EQ(-1, kevent_init(&args, sizeof(args)));
	EXPECT_EQ(EINVAL, errno);

	memset(&args, 0, sizeof(args));
	args.__reserved1[1] = 1ULL << 63;
	EXPECT_EQ(-1, kevent_init(&args, sizeof(args)));
	EXPECT_EQ(EINVAL, errno);
}

TEST(init_ring_entries_above_max_einval)
{
	struct kevent_init_args args = { 0 };

	args.ring_entries = 1048576 + 1;
	EXPECT_EQ(-1, kevent_init(&args, sizeof(args)));
	EXPECT_EQ(EINVAL, errno);
	args.ring_entries = 0xffffffffU;
	EXPECT_EQ(-1, kevent_init(&args, sizeof(args)));
	EXPECT_EQ(EINVAL, errno);
}

TEST(init_ring_entries_rounded_to_power_of_two)
{
	static const unsigned int req[] = { 1, 2, 3, 5, 1000, 1024, 1025 };
	static const unsigned int exp[] = { 1, 2, 4, 8, 1024, 1024, 2048 };
	struct kevent_ring *ring;
	unsigned int i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(req); i++) {
		fd = kt_queue(req[i], 0);
		ASSERT_LE(0, fd);
		ring = mmap(NULL, sizeof(*ring), PROT_READ, MAP_SHARED, fd, 0);
		ASSERT_TRUE(ring != MAP_FAILED);
		EXPECT_EQ(exp[i], ring->entries);
		EXPECT_EQ(exp[i] - 1, ring->mask);
		EXPECT_EQ(0U, ring->head);
		EXPECT_EQ(0U, ring->tail);
		EXPECT_EQ(0U, ring->flags);
		EXPECT_EQ(0U, ring->overflow);
		munmap(ring, sizeof(*ring));
		close(fd);
	}
}

TEST(init_cloexec_flag)
{
	int fd;

	fd = kt_queue(0, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);

	fd = kt_queue(0, KEVENT_INIT_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
}

TEST(init_nonblock_flag_never_sleeps)
{
	struct ukevent ev[2];
	__u64 t0;
	int fd;

	fd = kt_queue(0, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);

	fd = kt_queue(4, KEVENT_INIT_NONBLOCK);
	ASSERT_LE(0, fd);
	EXPECT_EQ(O_NONBLOCK, fcntl(fd, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* Infinite timeout, nothing ready: behaves as a zero timeout. */
	t0 = kt_mono();
	EXPECT_EQ(0, kevent_get_events(fd, ev, 1, 2, NULL, NULL));
	EXPECT_EQ(0, kevent_wait(fd, 1, NULL, NULL));
	EXPECT_GT(500 * NSEC_PER_MSEC, kt_mono() - t0);
	close(fd);
}

/* kevent_ctl: whole-call errors */

TEST(ctl_bad_fd_ebadf)
{
	struct ukevent ch;
	int fd;

	kevent_prep_user(&ch, 1, 0, 0);
	EXPECT_EQ(-1, kevent_ctl(-1, &ch, 1, 0));
	EXPECT_EQ(EBADF, errno);
	fd = kt_queue(0, 0);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(-1, kevent_ctl(fd, &ch, 1, 0));
	EXPECT_EQ(EBADF, errno);
}

TEST(ctl_not_kevent_fd_einval)
{
	struct ukevent ch;
	int p[2];

	ASSERT_EQ(0, pipe(p));
	kevent_prep_user(&ch, 1, 0, 0);
	EXPECT_EQ(-1, kevent_ctl(p[0], &ch, 1, 0));
	EXPECT_EQ(EINVAL, errno);
	close(p[0]);
	close(p[1]);
}

TEST(ctl_nonzero_flags_einval)
{
	struct ukevent ch;
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	kevent_prep_user(&ch, 1, 0, 0);
	EXPECT_EQ(-1, kevent_ctl(fd, &ch, 1, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, kevent_ctl(fd, &ch, 1, 0x80000000U));
	EXPECT_EQ(EINVAL, errno);
	/* Nothing was registered. */
	EXPECT_EQ(-ENOENT, kt_op(fd, KEVENT_USER, 1, KEVENT_CTL_REMOVE));
	close(fd);
}

TEST(ctl_nr_zero_returns_zero)
{
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, kevent_ctl(fd, NULL, 0, 0));
	EXPECT_EQ(0, kevent_ctl(fd, kt_unmapped(), 0, 0));
	close(fd);
}

TEST(ctl_nr_above_int_max_einval)
{
	struct ukevent ch;
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	kevent_prep_user(&ch, 1, 0, 0);
	EXPECT_EQ(-1, kevent_ctl(fd, &ch, 0x80000000U, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, kevent_ctl(fd, &ch, 0xffffffffU, 0));
	EXPECT_EQ(EINVAL, errno);
	/* Checked before anything is read: nothing registered. */
	EXPECT_EQ(-ENOENT, kt_op(fd, KEVENT_USER, 1, KEVENT_CTL_REMOVE));
	close(fd);
}

TEST(ctl_unmapped_changes_efault)
{
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, kevent_ctl(fd, kt_unmapped(), 1, 0));
	EXPECT_EQ(EFAULT, errno);
	close(fd);
}

/*
 * Changes straddling the end of a mapping: the ones before the unreadable
 * change are applied and carry their result; processing stops there.
 */
TEST(ctl_efault_midway_keeps_earlier_changes)
{
	long psz = sysconf(_SC_PAGESIZE);
	struct ukevent *ch;
	char *buf;
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	buf = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(buf != MAP_FAILED);
	ASSERT_EQ(0, munmap(buf + psz, psz));
	ch = (struct ukevent *)(buf + psz) - 2;
	kevent_prep_user(&ch[0], 10, 0, 0);
	kevent_prep_user(&ch[1], 11, 0, 0);
	ch[0].result = 12345;
	ch[1].result = 12345;
	EXPECT_EQ(-1, kevent_ctl(fd, ch, 3, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, ch[0].result);
	EXPECT_EQ(0, ch[1].result);
	/* Both were applied. */
	EXPECT_EQ(-EEXIST, kt_user_add(fd, 10, 0, 0));
	EXPECT_EQ(-EEXIST, kt_user_add(fd, 11, 0, 0));
	munmap(buf, psz);
	close(fd);
}

/*
 * A change whose result cannot be written back was applied (as accept()
 * takes a connection whose address it cannot store): the man page says so.
 */
TEST(ctl_readonly_changes_efault)
{
	long psz = sysconf(_SC_PAGESIZE);
	struct ukevent *ch;
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	ch = mmap(NULL, psz, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(ch != MAP_FAILED);
	kevent_prep_user(ch, 1, 0, 0);
	ASSERT_EQ(0, mprotect(ch, psz, PROT_READ));
	/* The result cannot be written back. */
	EXPECT_EQ(-1, kevent_ctl(fd, ch, 1, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-EEXIST, kt_user_add(fd, 1, 0, 0));
	munmap(ch, psz);
	close(fd);
}

/* kevent_ctl: per-change results */

TEST(ctl_invalid_type_einval_batch_continues)
{
	struct ukevent ch[6];
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	kevent_prep(&ch[0], 0, 1, KEVENT_CTL_ADD, 0, 0, 0);
	kevent_prep_user(&ch[1], 1, 0, 0);
	kevent_prep(&ch[2], KEVENT_TYPE_MAX, 1, KEVENT_CTL_ADD, 0, 0, 0);
	kevent_prep_user(&ch[3], 2, 0, 0);
	kevent_prep(&ch[4], 0xffff, 1, KEVENT_CTL_ADD, 0, 0, 0);
	kevent_prep(&ch[5], KEVENT_TYPE_MAX + 1, 1, KEVENT_CTL_ADD, 0, 0, 0);
	EXPECT_EQ(4, kevent_ctl(fd, ch, 6, 0));
	EXPECT_EQ(-EINVAL, ch[0].result);
	EXPECT_EQ(0, ch[1].result);
	EXPECT_EQ(-EINVAL, ch[2].result);
	EXPECT_EQ(0, ch[3].result);
	EXPECT_EQ(-EINVAL, ch[4].result);
	EXPECT_EQ(-EINVAL, ch[5].result);
	EXPECT_EQ(-EEXIST, kt_user_add(fd, 1, 0, 0));
	EXPECT_EQ(-EEXIST, kt_user_add(fd, 2, 0, 0));
	close(fd);
}

TEST(ctl_invalid_op_einval)
{
	struct ukevent ch[3];
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	kevent_prep_user(&ch[0], 1, 0, 0);
	ch[0].op = 0;
	kevent_prep_user(&ch[1], 1, 0, 0);
	ch[1].op = KEVENT_CTL_TRIGGER + 1;
	kevent_prep_user(&ch[2], 1, 0, 0);
	ch[2].op = 0xffff;
	EXPECT_EQ(3, kevent_ctl(fd, ch, 3, 0));
	EXPECT_EQ(-EINVAL, ch[0].result);
	EXPECT_EQ(-EINVAL, ch[1].result);
	EXPECT_EQ(-EINVAL, ch[2].result);
	EXPECT_EQ(-ENOENT, kt_op(fd, KEVENT_USER, 1, KEVENT_CTL_REMOVE));
	close(fd);
}

TEST(ctl_unknown_flag_bits_einval)
{
	static const __u32 bad_user[] = {
		1U << 5, 1U << 15, KEVENT_TIMER_ABSTIME, KEVENT_SIGNAL_CONSUME,
		1U << 18, 1U << 31,
	};
	static const __u32 bad_timer[] = {
		1U << 5, KEVENT_SIGNAL_CONSUME, 1U << 31,
	};
	struct ukevent ch;
	unsigned int i;
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(bad_user); i++) {
		kevent_prep_user(&ch, 1, bad_user[i], 0);
		EXPECT_EQ(-EINVAL, kt_ctl1(fd, &ch)) {
			TH_LOG("user flags %#x", bad_user[i]);
		}
	}
	for (i = 0; i < ARRAY_SIZE(bad_timer); i++) {
		kevent_prep_timer(&ch, 1, NSEC_PER_SEC, 0, CLOCK_MONOTONIC,
				  bad_timer[i], 0);
		EXPECT_EQ(-EINVAL, kt_ctl1(fd, &ch)) {
			TH_LOG("timer flags %#x", bad_timer[i]);
		}
	}
	/* Every valid request flag alone is accepted. */
	EXPECT_EQ(0, kt_user_add(fd, 2, KEVENT_REQ_ET, 0));
	EXPECT_EQ(0, kt_user_add(fd, 3, KEVENT_REQ_ONESHOT, 0));
	EXPECT_EQ(0, kt_user_add(fd, 4, KEVENT_REQ_DISPATCH, 0));
	EXPECT_EQ(0, kt_user_add(fd, 5, KEVENT_REQ_WAKEUP_ALL, 0));
	EXPECT_EQ(0, kt_user_add(fd, 6, KEVENT_REQ_DISABLED, 0));
	close(fd);
}

TEST(ctl_oneshot_with_dispatch_einval)
{
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, kt_user_add(fd, 1,
				       KEVENT_REQ_ONESHOT | KEVENT_REQ_DISPATCH,
				       0));
	EXPECT_EQ(-EINVAL, kt_user_add(fd, 1, KEVENT_REQ_ET |
				       KEVENT_REQ_ONESHOT | KEVENT_REQ_DISPATCH,
				       0));
	EXPECT_EQ(0, kt_user_add(fd, 2, KEVENT_REQ_ET | KEVENT_REQ_ONESHOT, 0));
	EXPECT_EQ(0, kt_user_add(fd, 3, KEVENT_REQ_ET | KEVENT_REQ_DISPATCH,
				 0));
	EXPECT_EQ(-ENOENT, kt_op(fd, KEVENT_USER, 1, KEVENT_CTL_REMOVE));
	close(fd);
}

TEST(ctl_unknown_event_bits_einval)
{
	struct ukevent ch;
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	kevent_prep_user(&ch, 1, 0, 0);
	ch.event = KEVENT_USER_TRIGGERED | 2;
	EXPECT_EQ(-EINVAL, kt_ctl1(fd, &ch));
	ch.event = 1U << 31;
	EXPECT_EQ(-EINVAL, kt_ctl1(fd, &ch));
	kevent_prep_timer(&ch, 1, NSEC_PER_SEC, 0, CLOCK_MONOTONIC, 0, 0);
	ch.event = 2;
	EXPECT_EQ(-EINVAL, kt_ctl1(fd, &ch));
	/* 0 and the known bit are both accepted. */
	ch.event = 0;
	EXPECT_EQ(0, kt_ctl1(fd, &ch));
	kevent_prep_user(&ch, 1, 0, 0);
	ch.event = 0;
	EXPECT_EQ(0, kt_ctl1(fd, &ch));
	kevent_prep_user(&ch, 2, 0, 0);
	EXPECT_EQ(0, kt_ctl1(fd, &ch));
	close(fd);
}

TEST(ctl_trigger_non_user_type_einval)
{
	struct ukevent ch;
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_timer_add(fd, 7, 10 * NSEC_PER_SEC, 0,
				  CLOCK_MONOTONIC, 0, 0));
	kevent_prep_op(&ch, KEVENT_TIMER, 7, KEVENT_CTL_TRIGGER);
	EXPECT_EQ(-EINVAL, kt_ctl1(fd, &ch));
	kevent_prep_op(&ch, KEVENT_SIGNAL, SIGUSR1, KEVENT_CTL_TRIGGER);
	EXPECT_EQ(-EINVAL, kt_ctl1(fd, &ch));
	close(fd);
}

TEST(ctl_timer_bad_clockid_einval)
{
	static const __u32 bad[] = {
		CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
		CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
		CLOCK_MONOTONIC_COARSE, 12, 0x7fffffff, 0xffffffffU,
	};
	struct ukevent ch;
	unsigned int i;
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		kevent_prep_timer(&ch, 1, NSEC_PER_SEC, 0, CLOCK_MONOTONIC, 0,
				  0);
		ch.timer.clockid = bad[i];
		EXPECT_EQ(-EINVAL, kt_ctl1(fd, &ch)) {
			TH_LOG("clockid %u", bad[i]);
		}
	}
	EXPECT_EQ(0, kt_timer_add(fd, 1, NSEC_PER_SEC, 0, CLOCK_MONOTONIC, 0,
				  0));
	EXPECT_EQ(0, kt_timer_add(fd, 2, NSEC_PER_SEC, 0, CLOCK_REALTIME, 0,
				  0));
	EXPECT_EQ(0, kt_timer_add(fd, 3, NSEC_PER_SEC, 0, CLOCK_BOOTTIME, 0,
				  0));
	close(fd);
}

TEST(ctl_timer_negative_expires_einval)
{
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, kt_timer_add(fd, 1, -1, 0, CLOCK_MONOTONIC, 0, 0));
	EXPECT_EQ(-EINVAL, kt_timer_add(fd, 1, INT64_MIN, NSEC_PER_SEC,
					CLOCK_MONOTONIC, KEVENT_TIMER_ABSTIME,
					0));
	EXPECT_EQ(-ENOENT, kt_op(fd, KEVENT_TIMER, 1, KEVENT_CTL_REMOVE));
	close(fd);
}

TEST(ctl_timer_nonzero_pad_einval)
{
	struct ukevent ch;
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	kevent_prep_timer(&ch, 1, NSEC_PER_SEC, 0, CLOCK_MONOTONIC, 0, 0);
	ch.timer.__pad0 = 1;
	EXPECT_EQ(-EINVAL, kt_ctl1(fd, &ch));
	kevent_prep_timer(&ch, 1, NSEC_PER_SEC, 0, CLOCK_MONOTONIC, 0, 0);
	ch.timer.__pad1 = 1ULL << 63;
	EXPECT_EQ(-EINVAL, kt_ctl1(fd, &ch));
	/* Also on MODIFY. */
	kevent_prep_timer(&ch, 1, NSEC_PER_SEC, 0, CLOCK_MONOTONIC, 0, 0);
	ASSERT_EQ(0, kt_ctl1(fd, &ch));
	ch.op = KEVENT_CTL_MODIFY;
	ch.timer.__pad1 = 1;
	EXPECT_EQ(-EINVAL, kt_ctl1(fd, &ch));
	close(fd);
}

TEST(ctl_add_duplicate_eexist)
{
	struct ukevent ch[2];
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	kevent_prep_user(&ch[0], 42, 0, 1);
	kevent_prep_user(&ch[1], 42, 0, 2);
	ch[0].result = 999;
	ch[1].result = 999;
	EXPECT_EQ(1, kevent_ctl(fd, ch, 2, 0));
	EXPECT_EQ(0, ch[0].result);
	EXPECT_EQ(-EEXIST, ch[1].result);
	ASSERT_EQ(0, kt_timer_add(fd, 42, 10 * NSEC_PER_SEC, 0,
				  CLOCK_MONOTONIC, 0, 0));
	EXPECT_EQ(-EEXIST, kt_timer_add(fd, 42, 10 * NSEC_PER_SEC, 0,
					CLOCK_MONOTONIC, 0, 0));
	close(fd);
}

/* The key is (type, id); the udata of the first ADD is kept. */
TEST(ctl_same_id_different_types_independent)
{
	struct ukevent ev[4];
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_user_add(fd, 5, 0, 100));
	ASSERT_EQ(0, kt_timer_add(fd, 5, 1, 0, CLOCK_MONOTONIC, 0, 200));
	ASSERT_EQ(1, kt_get(fd, ev, 1, 4, 1000));
	EXPECT_EQ(KEVENT_TIMER, ev[0].type);
	EXPECT_EQ(200ULL, ev[0].udata);
	ASSERT_EQ(0, kt_op(fd, KEVENT_TIMER, 5, KEVENT_CTL_REMOVE));
	/* The user event with the same id is still there. */
	ASSERT_EQ(0, kt_trigger(fd, 5, 0));
	ASSERT_EQ(1, kt_poll(fd, ev, 4));
	EXPECT_EQ(KEVENT_USER, ev[0].type);
	EXPECT_EQ(100ULL, ev[0].udata);
	EXPECT_EQ(-EEXIST, kt_user_add(fd, 5, 0, 300));
	close(fd);
}

TEST(ctl_unregistered_enoent)
{
	static const __u16 ops[] = {
		KEVENT_CTL_MODIFY, KEVENT_CTL_REMOVE, KEVENT_CTL_ENABLE,
		KEVENT_CTL_DISABLE, KEVENT_CTL_TRIGGER,
	};
	struct ukevent ch[5];
	unsigned int i;
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	/* Registered as a timer, not as a user event. */
	ASSERT_EQ(0, kt_timer_add(fd, 9, 10 * NSEC_PER_SEC, 0,
				  CLOCK_MONOTONIC, 0, 0));
	for (i = 0; i < 5; i++) {
		kevent_prep_user(&ch[i], 9, 0, 0);
		ch[i].op = ops[i];
	}
	EXPECT_EQ(5, kevent_ctl(fd, ch, 5, 0));
	for (i = 0; i < 5; i++) {
		EXPECT_EQ(-ENOENT, ch[i].result) {
			TH_LOG("op %u", ops[i]);
		}
	}
	for (i = 0; i < 4; i++) {
		kevent_prep_timer(&ch[i], 8, NSEC_PER_SEC, 0,
				  CLOCK_MONOTONIC, 0, 0);
		ch[i].op = ops[i];
	}
	EXPECT_EQ(4, kevent_ctl(fd, ch, 4, 0));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(-ENOENT, ch[i].result);
	close(fd);
}

TEST(ctl_remove_then_add_again)
{
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_user_add(fd, 1, 0, 0));
	EXPECT_EQ(0, kt_op(fd, KEVENT_USER, 1, KEVENT_CTL_REMOVE));
	EXPECT_EQ(-ENOENT, kt_op(fd, KEVENT_USER, 1, KEVENT_CTL_REMOVE));
	EXPECT_EQ(-ENOENT, kt_trigger(fd, 1, 0));
	EXPECT_EQ(0, kt_user_add(fd, 1, 0, 0));
	EXPECT_EQ(0, kt_trigger(fd, 1, 0));
	close(fd);
}

/* Changes in one batch are applied in order. */
TEST(ctl_batch_applied_in_order)
{
	struct ukevent ch[5], ev[2];
	int fd = kt_queue(0, 0);

	ASSERT_LE(0, fd);
	kevent_prep_user(&ch[0], 1, 0, 11);
	kevent_prep_trigger(&ch[1], 1, 5);
	kevent_prep_op(&ch[2], KEVENT_USER, 1, KEVENT_CTL_REMOVE);
	kevent_prep_user(&ch[3], 1, 0, 22);
	kevent_prep_trigger(&ch[4], 1, 6);
	EXPECT_EQ(0, kevent_ctl(fd, ch, 5, 0));
	ASSERT_EQ(1, kt_poll(fd, ev, 2));
	EXPECT_EQ(22ULL, ev[0].udata);
	EXPECT_EQ(1ULL, ev[0].data[0]);
	EXPECT_EQ(6ULL, ev[0].data[1]);
	close(fd);
}

/* Per-user registration limit */

FIXTURE(user_limit)
{
	char saved[64];
	int have_saved;
};

FIXTURE_SETUP(user_limit)
{
	self->have_saved = 0;
	if (access(MAX_USER_REGS, F_OK))
		SKIP(return, MAX_USER_REGS " not present");
	ASSERT_EQ(0, kt_read_file(MAX_USER_REGS, self->saved,
				  sizeof(self->saved)));
	if (kt_write_file(MAX_USER_REGS, self->saved))
		SKIP(return, "cannot write " MAX_USER_REGS " (not root?)");
	self->have_saved = 1;
}

FIXTURE_TEARDOWN_PARENT(user_limit)
{
	if (self->have_saved)
		EXPECT_EQ(0, kt_write_file(MAX_USER_REGS, self->saved));
}

TEST_F(user_limit, ctl_add_over_user_limit_enospc)
{
	struct ukevent ch[32];
	int fd, fd2, i, ret, ok = 0, first_fail = -1;

	fd = kt_queue(0, 0);
	ASSERT_LE(0, fd);
	fd2 = kt_queue(0, 0);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, kt_write_file(MAX_USER_REGS, "8"));

	for (i = 0; i < 32; i++)
		kevent_prep_user(&ch[i], i, 0, 0);
	ret = kevent_ctl(fd, ch, 32, 0);
	ASSERT_LT(0, ret);
	for (i = 0; i < 32; i++) {
		if (!ch[i].result) {
			ok++;
			/* No success after the first failure. */
			EXPECT_EQ(-1, first_fail);
		} else {
			EXPECT_EQ(-ENOSPC, ch[i].result);
			if (first_fail < 0)
				first_fail = i;
		}
	}
	/* Other registrations of this uid may exist elsewhere. */
	EXPECT_GE(8, ok);
	EXPECT_EQ(32 - ok, ret);
	ASSERT_LE(0, first_fail);

	/* The limit is per user, across queues. */
	EXPECT_EQ(-ENOSPC, kt_user_add(fd2, 1000, 0, 0));
	EXPECT_EQ(-ENOSPC, kt_timer_add(fd2, 1000, NSEC_PER_SEC, 0,
					CLOCK_MONOTONIC, 0, 0));
	if (ok) {
		/* REMOVE frees a slot. */
		EXPECT_EQ(0, kt_op(fd, KEVENT_USER, 0, KEVENT_CTL_REMOVE));
		EXPECT_EQ(0, kt_user_add(fd2, 1000, 0, 0));
		EXPECT_EQ(-ENOSPC, kt_user_add(fd2, 1001, 0, 0));
		/* Closing a queue frees all of its slots. */
		close(fd);
		fd = -1;
		EXPECT_EQ(0, kt_user_add(fd2, 1001, 0, 0));
	}
	/* Raising the limit allows more again. */
	ASSERT_EQ(0, kt_write_file(MAX_USER_REGS, self->saved));
	EXPECT_EQ(0, kt_user_add(fd2, 2000, 0, 0));
	if (fd >= 0)
		close(fd);
	close(fd2);
}

TEST_HARNESS_MAIN
