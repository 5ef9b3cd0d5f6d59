/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kevent: generic event notification queue.
 *
 * Every structure in this file has the same size and layout on 32-bit and
 * 64-bit ABIs: only fixed-width types, explicit padding, user pointers
 * carried in __u64. No compat translation is needed.
 *
 * See Documentation/userspace-api/kevent.rst.
 */
#ifndef _UAPI_LINUX_KEVENT_H
#define _UAPI_LINUX_KEVENT_H

#include <linux/types.h>
#include <linux/time_types.h>

/* struct ukevent.type: the event source. Zero is never a valid type. */
#define KEVENT_SOCKET		1	/* id: socket fd */
#define KEVENT_POLL		2	/* id: fd of any file with ->poll */
#define KEVENT_TIMER		3	/* id: chosen by the caller */
#define KEVENT_SIGNAL		4	/* id: signal number */
#define KEVENT_USER		5	/* id: chosen by the caller */
#define KEVENT_TYPE_MAX		6	/* first unused type */

/* struct ukevent.op: what kevent_ctl() does with one change. */
#define KEVENT_CTL_ADD		1	/* register; -EEXIST if (type, id) exists */
#define KEVENT_CTL_MODIFY	2	/* replace event mask, flags, udata, data */
#define KEVENT_CTL_REMOVE	3	/* unregister; pending events are dropped */
#define KEVENT_CTL_ENABLE	4	/* re-arm a disabled registration */
#define KEVENT_CTL_DISABLE	5	/* stop reporting, keep the registration */
#define KEVENT_CTL_TRIGGER	6	/* KEVENT_USER only: make it ready */

/*
 * struct ukevent.flags: request flags, valid for every type. Without any
 * of ET, ONESHOT or DISPATCH a registration is level-triggered.
 */
#define KEVENT_REQ_ET		(1U << 0) /* edge: once per new readiness */
#define KEVENT_REQ_ONESHOT	(1U << 1) /* remove after first delivery */
#define KEVENT_REQ_DISPATCH	(1U << 2) /* disable after each delivery */
#define KEVENT_REQ_WAKEUP_ALL	(1U << 3) /* wake every waiter, not one */
#define KEVENT_REQ_DISABLED	(1U << 4) /* ADD in the disabled state */
#define KEVENT_REQ_MASK		(KEVENT_REQ_ET | KEVENT_REQ_ONESHOT | \
				 KEVENT_REQ_DISPATCH | KEVENT_REQ_WAKEUP_ALL | \
				 KEVENT_REQ_DISABLED)

/* struct ukevent.flags: type-specific request flags. */
#define KEVENT_TIMER_ABSTIME	(1U << 16) /* timer.expires is absolute */
#define KEVENT_SIGNAL_CONSUME	(1U << 17) /* dequeue the signal (signalfd) */

/*
 * struct ukevent.event for KEVENT_SOCKET: requested mask on input, the
 * conditions that hold on output.
 */
#define KEVENT_SOCKET_RECV	(1U << 0) /* data queued; data[0] = bytes */
#define KEVENT_SOCKET_SEND	(1U << 1) /* write space available */
#define KEVENT_SOCKET_ACCEPT	(1U << 2) /* data[0] = accept backlog */
#define KEVENT_SOCKET_HUP	(1U << 3) /* both directions shut down */
#define KEVENT_SOCKET_RDHUP	(1U << 4) /* peer shut down writing */
#define KEVENT_SOCKET_ERR	(1U << 5) /* data[1] = pending so_error */

/* struct ukevent.event for KEVENT_POLL: POLLIN, POLLOUT, ... (poll.h). */

/* struct ukevent.event for KEVENT_TIMER, KEVENT_SIGNAL and KEVENT_USER. */
#define KEVENT_TIMER_EXPIRED	(1U << 0)
#define KEVENT_SIGNAL_DELIVERED	(1U << 0)
#define KEVENT_USER_TRIGGERED	(1U << 0)

/* struct ukevent.ret_flags in delivered events. */
#define KEVENT_RET_EOF		(1U << 0) /* source reached end of stream */
#define KEVENT_RET_ERROR	(1U << 1) /* source reports an error */

/*
 * One change passed to kevent_ctl() and one event delivered by
 * kevent_get_events() or through the ring: 64 bytes, one cache line.
 *
 * Change (kevent_ctl): type, id, op, flags, event, udata and data are
 * read; result is written back with 0 or a negative errno.
 * Event (delivered): type, id, flags and udata are those of the
 * registration; event is the ready mask, ret_flags says EOF/error and
 * data carries the per-type counts. op is zero.
 */
struct ukevent {
	__u64	id;		/* fd, timer id, signal number, user id */
	__u64	udata;		/* caller's cookie, returned untouched */
	__u16	type;		/* KEVENT_SOCKET ... KEVENT_USER */
	__u16	op;		/* KEVENT_CTL_*; zero in delivered events */
	__u32	flags;		/* KEVENT_REQ_* and type-specific flags */
	__u32	event;		/* requested mask in, ready mask out */
	union {
		__s32	result;		/* kevent_ctl: 0 or -errno */
		__u32	ret_flags;	/* delivered: KEVENT_RET_* */
	};
	union {
		__u64	data[4];
		/* KEVENT_TIMER, input of ADD and MODIFY */
		struct {
			__s64	expires;	/* first expiry, ns */
			__u64	interval;	/* period in ns, 0: one-shot */
			__u32	clockid;	/* MONOTONIC, REALTIME, BOOTTIME */
			__u32	__pad0;
			__u64	__pad1;		/* must be zero */
		} timer;
		/* KEVENT_SIGNAL, delivered events */
		struct {
			__u64	count;		/* deliveries coalesced */
			__u32	pid;		/* si_pid of the sender */
			__u32	uid;		/* si_uid of the sender */
			__s32	code;		/* si_code */
			__s32	status;		/* si_status (SIGCHLD) */
			__u64	value;		/* si_value (sigqueue) */
		} sig;
	};
};

/*
 * Delivered events, data[0] for every type: how many times the condition
 * was coalesced into this one event (bytes queued for RECV, accept
 * backlog, timer expirations, signal deliveries, user triggers).
 * KEVENT_USER: data[1] is the value passed in data[0] by the last
 * KEVENT_CTL_TRIGGER.
 */

/* kevent_init() flags */
#define KEVENT_INIT_CLOEXEC	(1ULL << 0)	/* O_CLOEXEC on the queue fd */
#define KEVENT_INIT_NONBLOCK	(1ULL << 1)	/* O_NONBLOCK on the queue fd */
#define KEVENT_INIT_FLAGS	(KEVENT_INIT_CLOEXEC | KEVENT_INIT_NONBLOCK)

/*
 * kevent_init(args, size): extensible like clone3() and openat2(). size is
 * sizeof(struct kevent_init_args) as the caller knows it; a larger struct
 * with non-zero bytes past what the kernel knows gives -E2BIG.
 */
struct kevent_init_args {
	__u64	flags;		/* KEVENT_INIT_* */
	__u32	ring_entries;	/* 0: no ring; else rounded up to 2^n */
	__u32	__reserved0;	/* must be zero */
	__u64	__reserved1[2];	/* must be zero */
};

#define KEVENT_INIT_ARGS_SIZE_VER0	32

/*
 * The ring: mmap(NULL, KEVENT_RING_SIZE(entries), PROT_READ | PROT_WRITE,
 * MAP_SHARED, fd, 0). The kernel writes tail and the free slots (from tail
 * up to head + entries); user space writes head and reads the unread slots
 * (from head up to tail).
 *
 * Producer (kernel): write entries[tail & mask], then store-release tail.
 * Consumer (user):   load-acquire tail, read entries[head & mask] up to
 *                    tail, then store-release head to free the slots.
 * The kernel loads head with acquire, so it never overwrites a slot whose
 * contents the consumer may still be reading.
 *
 * Indices are free-running __u32 and wrap; tail - head is the number of
 * unread entries. When the ring is full the kernel keeps further events
 * on its own list, sets KEVENT_RING_OVERFLOW in flags and counts them in
 * overflow; they are moved into the ring, in order, by the next
 * kevent_wait() or kevent_get_events() or when a later event arrives and
 * space has been freed. No event is lost or posted twice.
 */
struct kevent_ring {
	__u32	head;		/* consumer index, written by user space */
	__u32	__pad0[15];
	__u32	tail;		/* producer index, written by the kernel */
	__u32	__pad1[15];
	__u32	mask;		/* entries - 1 */
	__u32	entries;	/* number of slots, a power of two */
	__u32	flags;		/* KEVENT_RING_* */
	__u32	overflow;	/* events that had to wait for space */
	__u32	__pad2[12];
	struct ukevent	events[];
};

/*
 * struct kevent_ring.flags: work that waits for a system call on the queue,
 * which kevent_wait(fd, 0, NULL) does without sleeping. Hints for a
 * consumer that reads the ring without system calls, outside the two
 * ordering pairs: a plain load will do.
 */
#define KEVENT_RING_OVERFLOW	(1U << 0) /* events wait in the kernel */
#define KEVENT_RING_REPOLL	(1U << 1) /* re-polls wait for a harvest */

#define KEVENT_RING_SIZE(entries) \
	(sizeof(struct kevent_ring) + (entries) * sizeof(struct ukevent))

/*
 * Optional last argument of kevent_get_events() and kevent_wait(). NULL
 * means: no signal mask change, relative timeout on CLOCK_MONOTONIC.
 */
struct kevent_wait_args {
	__u64	sigmask;	/* user pointer to a sigset_t, or 0 */
	__u32	sigsetsize;	/* sizeof the kernel sigset_t (8) */
	__u32	flags;		/* KEVENT_WAIT_* */
	__u32	clockid;	/* MONOTONIC, REALTIME or BOOTTIME */
	__u32	__reserved;	/* must be zero */
};

/* struct kevent_wait_args.flags */
#define KEVENT_WAIT_ABSTIME	(1U << 0) /* timeout is absolute on clockid */

#endif /* _UAPI_LINUX_KEVENT_H */
