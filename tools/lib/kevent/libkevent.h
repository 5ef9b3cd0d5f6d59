/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * libkevent.h - thin header-only user-space library for kevent.
 *
 * In the style of liburing's helpers: raw system call wrappers, helpers to
 * fill struct ukevent changes, and helpers to consume the mmap'd ready ring
 * without system calls.
 *
 * The system call wrappers follow the usual libc convention: they return
 * -1 and set errno on failure (they do not return -errno).
 *
 * Build: the UAPI header <linux/kevent.h> must be on the include path, e.g.
 * the result of "make headers_install" (-I<hdr>/include).
 *
 * Typical use:
 *
 *	struct kevent_init_args args = { .ring_entries = 256 };
 *	struct kevent_ring_map map;
 *	struct ukevent ch, *ev;
 *	int fd = kevent_init(&args, sizeof(args));
 *
 *	kevent_ring_mmap(fd, 0, &map);
 *	kevent_prep_timer(&ch, 1, 1000000, 1000000, CLOCK_MONOTONIC, 0, 42);
 *	kevent_ctl(fd, &ch, 1, 0);
 *	for (;;) {
 *		kevent_ring_wait(&map, 1, NULL);
 *		while ((ev = kevent_ring_peek(map.ring)) != NULL) {
 *			handle(ev);
 *			kevent_ring_advance(map.ring, 1);
 *		}
 *	}
 */
#ifndef _LIBKEVENT_H
#define _LIBKEVENT_H

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <linux/types.h>
#include <linux/time_types.h>
#include <linux/kevent.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * System call numbers: the same in the x86_64 common table, on i386 and in
 * asm-generic/unistd.h. Defined here for libc headers that predate kevent.
 */
#ifndef __NR_kevent_init
#define __NR_kevent_init	463
#endif
#ifndef __NR_kevent_ctl
#define __NR_kevent_ctl		464
#endif
#ifndef __NR_kevent_get_events
#define __NR_kevent_get_events	465
#endif
#ifndef __NR_kevent_wait
#define __NR_kevent_wait	466
#endif

/*
 * Size of the kernel's sigset_t, the only value accepted in
 * kevent_wait_args.sigsetsize (_NSIG / 8; 8 on x86 and most architectures).
 * Note that glibc's sigset_t is larger (128 bytes): passing a pointer to it
 * is fine, the kernel reads only the first KEVENT_SIGSET_SIZE bytes.
 */
#ifndef KEVENT_SIGSET_SIZE
#define KEVENT_SIGSET_SIZE	8
#endif

/* ---------------------------------------------------------------------- */
/* Raw system calls                                                        */
/* ---------------------------------------------------------------------- */

/**
 * kevent_init() - create a kevent queue
 * @args: flags (KEVENT_INIT_*) and ring size; reserved fields must be zero
 * @size: sizeof(*args) as known to the caller (>= KEVENT_INIT_ARGS_SIZE_VER0)
 *
 * Return: a new file descriptor, or -1 with errno set.
 */
static inline int kevent_init(const struct kevent_init_args *args,
			      size_t size)
{
	return (int)syscall(__NR_kevent_init, args, size);
}

/**
 * kevent_queue_init() - convenience wrapper around kevent_init()
 * @ring_entries: 0 for a queue without ring, else the ring size hint
 * @flags: KEVENT_INIT_CLOEXEC and/or KEVENT_INIT_NONBLOCK
 *
 * Return: a new file descriptor, or -1 with errno set.
 */
static inline int kevent_queue_init(unsigned int ring_entries, __u64 flags)
{
	struct kevent_init_args args;

	memset(&args, 0, sizeof(args));
	args.flags = flags;
	args.ring_entries = ring_entries;
	return kevent_init(&args, sizeof(args));
}

/**
 * kevent_ctl() - apply a batch of changes
 * @fd: kevent queue
 * @changes: array of @nr changes; each one's result field is written back
 * @nr: number of changes
 * @flags: must be 0
 *
 * Return: the number of changes that failed (0: all applied), or -1 with
 * errno set if the call as a whole failed (EBADF, EINVAL, EFAULT).
 */
static inline int kevent_ctl(int fd, struct ukevent *changes, unsigned int nr,
			     unsigned int flags)
{
	return (int)syscall(__NR_kevent_ctl, fd, changes, nr, flags);
}

/**
 * kevent_get_events() - wait for and copy out ready events
 * @fd: kevent queue
 * @events: output array of @max_nr entries
 * @min_nr: wait until at least this many events are ready (0: never wait)
 * @max_nr: capacity of @events
 * @timeout: NULL (infinite), {0, 0} (poll), else relative (or absolute with
 *	     KEVENT_WAIT_ABSTIME in @args->flags)
 * @args: NULL, or sigmask / clock selection (see struct kevent_wait_args)
 *
 * Return: the number of events copied, or -1 with errno set.
 */
static inline int kevent_get_events(int fd, struct ukevent *events,
				    unsigned int min_nr, unsigned int max_nr,
				    const struct __kernel_timespec *timeout,
				    const struct kevent_wait_args *args)
{
	return (int)syscall(__NR_kevent_get_events, fd, events, min_nr, max_nr,
			    timeout, args);
}

/**
 * kevent_wait() - wait until the ring holds at least @min_nr unread entries
 * @fd: kevent queue with a ring
 * @min_nr: number of unread entries to wait for (<= ring entries)
 * @timeout: as for kevent_get_events()
 * @args: as for kevent_get_events()
 *
 * Events waiting in the kernel (ring overflow) are moved into the ring first.
 *
 * Return: the number of unread entries in the ring, or -1 with errno set.
 */
static inline int kevent_wait(int fd, unsigned int min_nr,
			      const struct __kernel_timespec *timeout,
			      const struct kevent_wait_args *args)
{
	return (int)syscall(__NR_kevent_wait, fd, min_nr, timeout, args);
}

/* ---------------------------------------------------------------------- */
/* Timeouts and wait arguments                                             */
/* ---------------------------------------------------------------------- */

/** kevent_ts_from_ns() - fill a __kernel_timespec from nanoseconds */
static inline struct __kernel_timespec *
kevent_ts_from_ns(struct __kernel_timespec *ts, __u64 ns)
{
	ts->tv_sec = (__kernel_time64_t)(ns / 1000000000ULL);
	ts->tv_nsec = (long long)(ns % 1000000000ULL);
	return ts;
}

/**
 * kevent_prep_wait_args() - fill a struct kevent_wait_args
 * @args: structure to fill (reserved fields are zeroed)
 * @sigmask: signal mask to install during the wait, or NULL for none
 * @flags: KEVENT_WAIT_* (KEVENT_WAIT_ABSTIME)
 * @clockid: CLOCK_MONOTONIC, CLOCK_REALTIME or CLOCK_BOOTTIME
 */
static inline void kevent_prep_wait_args(struct kevent_wait_args *args,
					 const sigset_t *sigmask,
					 unsigned int flags, clockid_t clockid)
{
	memset(args, 0, sizeof(*args));
	args->sigmask = (__u64)(unsigned long)sigmask;
	args->sigsetsize = sigmask ? KEVENT_SIGSET_SIZE : 0;
	args->flags = flags;
	args->clockid = (__u32)clockid;
}

/* ---------------------------------------------------------------------- */
/* Change helpers: each one clears the whole struct ukevent first          */
/* ---------------------------------------------------------------------- */

/**
 * kevent_prep() - fill a generic change
 * @ev: change to fill
 * @type: KEVENT_SOCKET ... KEVENT_USER
 * @id: identifier within @type
 * @op: KEVENT_CTL_*
 * @flags: KEVENT_REQ_* and type-specific flags
 * @event: requested event mask
 * @udata: cookie returned in delivered events
 */
static inline void kevent_prep(struct ukevent *ev, __u16 type, __u64 id,
			       __u16 op, __u32 flags, __u32 event, __u64 udata)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->id = id;
	ev->op = op;
	ev->flags = flags;
	ev->event = event;
	ev->udata = udata;
}

/**
 * kevent_prep_op() - fill a change that only names a registration
 * @ev: change to fill
 * @type: event type
 * @id: identifier
 * @op: KEVENT_CTL_REMOVE, _ENABLE, _DISABLE (or _TRIGGER, see
 *	kevent_prep_trigger())
 */
static inline void kevent_prep_op(struct ukevent *ev, __u16 type, __u64 id,
				  __u16 op)
{
	kevent_prep(ev, type, id, op, 0, 0, 0);
}

/**
 * kevent_prep_timer() - fill a KEVENT_CTL_ADD change for a timer
 * @ev: change to fill
 * @id: timer id chosen by the caller (independent of the period)
 * @expires_ns: first expiry in ns, relative, or absolute on @clockid with
 *		KEVENT_TIMER_ABSTIME in @flags
 * @interval_ns: period in ns, 0 for a one-shot timer
 * @clockid: CLOCK_MONOTONIC, CLOCK_REALTIME or CLOCK_BOOTTIME
 * @flags: KEVENT_REQ_* | KEVENT_TIMER_ABSTIME
 * @udata: cookie
 *
 * Set ev->op = KEVENT_CTL_MODIFY afterwards to re-arm an existing timer.
 */
static inline void kevent_prep_timer(struct ukevent *ev, __u64 id,
				     __s64 expires_ns, __u64 interval_ns,
				     clockid_t clockid, __u32 flags,
				     __u64 udata)
{
	kevent_prep(ev, KEVENT_TIMER, id, KEVENT_CTL_ADD, flags,
		    KEVENT_TIMER_EXPIRED, udata);
	ev->timer.expires = expires_ns;
	ev->timer.interval = interval_ns;
	ev->timer.clockid = (__u32)clockid;
}

/**
 * kevent_prep_user() - fill a KEVENT_CTL_ADD change for a user event
 * @ev: change to fill
 * @id: identifier chosen by the caller
 * @flags: KEVENT_REQ_*
 * @udata: cookie
 */
static inline void kevent_prep_user(struct ukevent *ev, __u64 id, __u32 flags,
				    __u64 udata)
{
	kevent_prep(ev, KEVENT_USER, id, KEVENT_CTL_ADD, flags,
		    KEVENT_USER_TRIGGERED, udata);
}

/**
 * kevent_prep_trigger() - fill a KEVENT_CTL_TRIGGER change for a user event
 * @ev: change to fill
 * @id: identifier of a registered KEVENT_USER event
 * @value: reported in data[1] of the delivered event
 */
static inline void kevent_prep_trigger(struct ukevent *ev, __u64 id,
				       __u64 value)
{
	kevent_prep(ev, KEVENT_USER, id, KEVENT_CTL_TRIGGER, 0, 0, 0);
	ev->data[0] = value;
}

/**
 * kevent_prep_fd() - fill a KEVENT_CTL_ADD change for a file descriptor
 * @ev: change to fill
 * @type: KEVENT_SOCKET or KEVENT_POLL
 * @fd: the file descriptor
 * @mask: KEVENT_SOCKET_* or POLL* mask
 * @flags: KEVENT_REQ_*
 * @udata: cookie
 */
static inline void kevent_prep_fd(struct ukevent *ev, __u16 type, int fd,
				  __u32 mask, __u32 flags, __u64 udata)
{
	kevent_prep(ev, type, (__u64)(unsigned int)fd, KEVENT_CTL_ADD, flags,
		    mask, udata);
}

/**
 * kevent_prep_signal() - fill a KEVENT_CTL_ADD change for a signal
 * @ev: change to fill
 * @signo: signal number
 * @flags: KEVENT_REQ_* | KEVENT_SIGNAL_CONSUME
 * @udata: cookie
 */
static inline void kevent_prep_signal(struct ukevent *ev, int signo,
				      __u32 flags, __u64 udata)
{
	kevent_prep(ev, KEVENT_SIGNAL, (__u64)(unsigned int)signo,
		    KEVENT_CTL_ADD, flags, KEVENT_SIGNAL_DELIVERED, udata);
}

/* ---------------------------------------------------------------------- */
/* Ring                                                                     */
/* ---------------------------------------------------------------------- */

/*
 * Memory ordering. The ring has one producer (the kernel) and must have
 * one consumer (user space; serialise consumers yourself):
 *
 * (1) tail: the kernel writes entries[tail & mask] and then store-releases
 *     tail. kevent_ring_peek()/kevent_ring_count() load-acquire tail, so
 *     every entry below the observed tail is fully visible.
 * (2) head: the consumer reads entries and then kevent_ring_advance()
 *     store-releases head. The kernel load-acquires head before reusing a
 *     slot, so it never overwrites an entry still being read.
 *
 * head is written only by user space, so the consumer may read it with a
 * relaxed load. mask and entries are constant after kevent_init().
 */

/**
 * struct kevent_ring_map - a mapped ring
 * @ring: start of the mapping
 * @size: length of the mapping in bytes
 * @fd: the kevent queue (used by kevent_ring_wait())
 */
struct kevent_ring_map {
	struct kevent_ring	*ring;
	size_t			size;
	int			fd;
};

/** kevent_ring_roundup() - the ring size the kernel uses for @entries */
static inline unsigned int kevent_ring_roundup(unsigned int entries)
{
	unsigned int n = 1;

	while (n < entries && n < (1U << 31))
		n <<= 1;
	return n;
}

/**
 * kevent_ring_mmap() - map the ring of a kevent queue
 * @fd: kevent queue created with ring_entries != 0
 * @entries: ring_entries as passed to kevent_init(), or 0 to read the real
 *	     size from the ring header first (one extra mmap/munmap)
 * @map: filled on success
 *
 * Return: 0, or -1 with errno set (ENODEV: the queue has no ring; EIO: the
 * ring header does not match @entries).
 */
static inline int kevent_ring_mmap(int fd, unsigned int entries,
				   struct kevent_ring_map *map)
{
	struct kevent_ring *ring;
	size_t size;

	if (!entries) {
		ring = (struct kevent_ring *)mmap(NULL,
						   sizeof(struct kevent_ring),
						   PROT_READ, MAP_SHARED,
						   fd, 0);
		if (ring == MAP_FAILED)
			return -1;
		entries = ring->entries;
		munmap(ring, sizeof(struct kevent_ring));
		if (!entries) {
			errno = EIO;
			return -1;
		}
	} else {
		entries = kevent_ring_roundup(entries);
	}

	size = KEVENT_RING_SIZE(entries);
	ring = (struct kevent_ring *)mmap(NULL, size, PROT_READ | PROT_WRITE,
					  MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED)
		return -1;
	if (ring->entries != entries || ring->mask != entries - 1) {
		munmap(ring, size);
		errno = EIO;
		return -1;
	}
	map->ring = ring;
	map->size = size;
	map->fd = fd;
	return 0;
}

/** kevent_ring_munmap() - unmap a ring mapped by kevent_ring_mmap() */
static inline int kevent_ring_munmap(struct kevent_ring_map *map)
{
	int ret = munmap(map->ring, map->size);

	map->ring = NULL;
	map->size = 0;
	return ret;
}

/** kevent_ring_head() - consumer index (owned by user space: relaxed) */
static inline __u32 kevent_ring_head(const struct kevent_ring *ring)
{
	return __atomic_load_n(&ring->head, __ATOMIC_RELAXED);
}

/** kevent_ring_tail() - producer index, load-acquire: pairs with (1) */
static inline __u32 kevent_ring_tail(const struct kevent_ring *ring)
{
	return __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
}

/**
 * kevent_ring_count() - number of unread entries (tail - head)
 *
 * The tail is loaded with acquire (1): the counted entries may be read.
 */
static inline unsigned int kevent_ring_count(const struct kevent_ring *ring)
{
	return kevent_ring_tail(ring) - kevent_ring_head(ring);
}

/**
 * kevent_ring_peek() - the next unread entry, or NULL if the ring is empty
 *
 * The tail is loaded with acquire (1), so the returned entry is complete.
 * The entry stays valid until kevent_ring_advance() passes it.
 */
static inline struct ukevent *kevent_ring_peek(struct kevent_ring *ring)
{
	__u32 head = kevent_ring_head(ring);

	if (head == kevent_ring_tail(ring))
		return NULL;
	return &ring->events[head & ring->mask];
}

/**
 * kevent_ring_get() - the @i-th unread entry (0 = oldest), no bounds check
 *
 * Call kevent_ring_count() first and only ask for i < count.
 */
static inline struct ukevent *kevent_ring_get(struct kevent_ring *ring,
					      unsigned int i)
{
	return &ring->events[(kevent_ring_head(ring) + i) & ring->mask];
}

/**
 * kevent_ring_advance() - free @n consumed entries
 *
 * head is store-released (2): reads of the consumed entries happen before
 * the kernel, which load-acquires head, can reuse their slots.
 */
static inline void kevent_ring_advance(struct kevent_ring *ring,
				       unsigned int n)
{
	__atomic_store_n(&ring->head, kevent_ring_head(ring) + n,
			 __ATOMIC_RELEASE);
}

/** kevent_ring_overflowed() - true if events wait in the kernel */
static inline int kevent_ring_overflowed(const struct kevent_ring *ring)
{
	return !!(__atomic_load_n(&ring->flags, __ATOMIC_RELAXED) &
		  KEVENT_RING_OVERFLOW);
}

/**
 * kevent_ring_harvest_due() - true if kevent_wait(fd, 0, NULL) is due
 *
 * Events wait in the kernel for ring space (KEVENT_RING_OVERFLOW), or
 * registrations wait to be polled again by a system call on the queue
 * (KEVENT_RING_REPOLL). A consumer whose ring may never run empty checks
 * this once per batch and then makes that one call; it sleeps in
 * kevent_wait() when the ring is empty, as usual. Do not loop on it: a
 * re-poll that only another process may do (its signals to consume)
 * keeps KEVENT_RING_REPOLL set across this process's calls.
 */
static inline int kevent_ring_harvest_due(const struct kevent_ring *ring)
{
	return !!(__atomic_load_n(&ring->flags, __ATOMIC_RELAXED) &
		  (KEVENT_RING_OVERFLOW | KEVENT_RING_REPOLL));
}

/** kevent_ring_overflow_count() - events that had to wait for ring space */
static inline __u32 kevent_ring_overflow_count(const struct kevent_ring *ring)
{
	return __atomic_load_n(&ring->overflow, __ATOMIC_RELAXED);
}

/**
 * kevent_ring_wait() - kevent_wait() on the mapped queue
 * @map: mapped ring
 * @min_nr: unread entries to wait for
 * @timeout: relative timeout on CLOCK_MONOTONIC, NULL for infinite
 *
 * Return: the number of unread entries, or -1 with errno set.
 */
static inline int kevent_ring_wait(struct kevent_ring_map *map,
				   unsigned int min_nr,
				   const struct __kernel_timespec *timeout)
{
	return kevent_wait(map->fd, min_nr, timeout, NULL);
}

#ifdef __cplusplus
}
#endif

#endif /* _LIBKEVENT_H */
