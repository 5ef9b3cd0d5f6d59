/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kevent core internals, shared by queue.c, ring.c, wait.c and the KUnit
 * tests. Sources use include/linux/kevent.h only.
 *
 * Locking, outermost first:
 *
 *   queue->mutex	serialises kevent_ctl(), harvesting into user memory,
 *			re-polling and queue release; protects the index (RB
 *			tree); sources arm, disarm and re-poll under it and
 *			may sleep.
 *   origin locks	hrtimer base, wait queue heads of watched files; held
 *			by the source while it calls kevent_ready().
 *   queue->lock	irq-safe spinlock, taken from event context: protects
 *			the ready, deferred, reap and recheck lists, every kevent's
 *			pending_*, state and ring_pos, nr_ready,
 *			recheck_requests (written; waiters read it without
 *			the lock), nr_woken and the kernel's ring state
 *			(tail, overflow, flags, deferred_head).
 *   queue->wait.lock	taken by wake-ups issued under queue->lock.
 *   kevent_waking.lock	per-CPU local lock, and queue->poll_wait.lock
 *			inside it: taken after queue->lock is dropped, in
 *			process context or the queue's irq_work, never from
 *			event context; see kevent_wake_pollers().
 *
 * Lifetime: a struct kevent lives from ADD until the queue mutex holder
 * that unlinks it from the index has called source->detach() and taken it
 * off the ready list under queue->lock; only then is it freed. A struct
 * kevent_queue is freed when its reference count drops to zero: the file
 * holds one reference, and kevent_file_release() takes one while it waits
 * for the queue mutex. Its irq_work may still be pending then (queued by an
 * event just before the last registration went), or running, even on two
 * CPUs at once: kevent_queue_put() waits for it, then frees the queue after
 * an RCU grace period.
 */
#ifndef _KERNEL_KEVENT_KEVENT_H
#define _KERNEL_KEVENT_KEVENT_H

#include <linux/file.h>
#include <linux/irq_work.h>
#include <linux/kevent.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

/* Largest ring, in entries: 64 MiB of struct ukevent. */
#define KEVENT_RING_MAX_ENTRIES	SZ_1M

struct kevent_queue {
	refcount_t		ref;
	struct mutex		mutex;		/* see the locking rules above */
	struct rb_root		index;
	unsigned int		nr_queues_watched; /* under kevent_nest_mutex */
	unsigned int		nr_watchers;	/* under kevent_nest_mutex */

	spinlock_t		lock;		/* see the locking rules above */
	struct list_head	ready;		/* pending delivery */
	struct list_head	deferred;	/* entry unread: ring.c */
	struct list_head	reap;		/* fired oneshots to remove */
	unsigned int		nr_ready;	/* on ready or deferred */
	struct list_head	recheck;	/* to re-poll, process context */
	u32			recheck_requests; /* kevent_request_recheck()s */
	u32			nr_woken;	/* KEVENT_STATE_WOKEN set */

	wait_queue_head_t	wait;		/* get_events and wait */
	wait_queue_head_t	poll_wait;	/* poll() on the queue fd */
	struct irq_work		poll_work;	/* wakes poll_wait */
	struct rcu_head		rcu;		/* kevent_queue_put() */

	struct ucounts		*ucounts;	/* charged per registration */

	/* Ring, absent when ring_entries is zero. */
	struct kevent_ring	*ring;
	u32			ring_entries;
	u32			ring_mask;
	u32			ring_tail;	/* kernel copy, under lock */
	u32			ring_overflow;	/* kernel copy, under lock */
	u32			ring_flags;	/* kernel copy, under lock */
	u32			deferred_head;	/* at the last deferred walk */
	size_t			ring_size;	/* bytes mapped */
};

/*
 * Ring index arithmetic. Indices are free-running u32 values; the
 * difference tail - head is the number of unread entries, correct across
 * wrap-around. A head written by user space is untrusted: if it claims
 * more unread entries than the ring holds (it moved backwards or past the
 * tail), the ring is treated as full so no slot is ever overwritten.
 */
static inline u32 kevent_ring_unread(u32 head, u32 tail, u32 entries)
{
	u32 unread = tail - head;

	return unread > entries ? entries : unread;
}

static inline u32 kevent_ring_space(u32 head, u32 tail, u32 entries)
{
	return entries - kevent_ring_unread(head, tail, entries);
}

/*
 * Unread entries of @kq's ring; lockless, for wake-up decisions. Every
 * kevent_wait() and wake-up calls it several times: kept inline even in
 * kernels optimised for size.
 */
static __always_inline u32 kevent_ring_avail(struct kevent_queue *kq)
{
	return kevent_ring_unread(READ_ONCE(kq->ring->head),
				  READ_ONCE(kq->ring_tail), kq->ring_entries);
}

/*
 * Whether the ring entry last posted for @kev is still unread, i.e. in
 * [head, tail). @head was loaded with acquire; caller holds kq->lock. The
 * window test stays right when the indices wrap, however old the entry.
 */
static inline bool kevent_ring_entry_unread(struct kevent_queue *kq,
					    struct kevent *kev, u32 head)
{
	return (kev->state & KEVENT_STATE_POSTED) &&
	       kev->ring_pos - head < kevent_ring_unread(head, kq->ring_tail,
							 kq->ring_entries);
}

/* Level-triggered: reported while the condition holds. */
static inline bool kevent_is_level(const struct kevent *kev)
{
	return kev->source->level &&
	       !(kev->flags & (KEVENT_REQ_ET | KEVENT_REQ_ONESHOT |
			       KEVENT_REQ_DISPATCH));
}

/*
 * Whether @kev has at most one unread entry in the ring: a level
 * registration does, since while its last entry is unread that entry
 * already says it is ready, and so does an edge-triggered one of a source
 * with one_unread_entry. (Oneshot and dispatch registrations post one
 * entry per arming.)
 */
static inline bool kevent_has_one_unread_entry(const struct kevent *kev)
{
	return kevent_is_level(kev) ||
	       (kev->source->one_unread_entry &&
		!(kev->flags & (KEVENT_REQ_ONESHOT | KEVENT_REQ_DISPATCH)));
}

/*
 * Whether @kev must wait for its last ring entry to be read before it
 * posts another. @head was loaded with acquire; caller holds kq->lock.
 */
static inline bool kevent_waits_for_entry(struct kevent_queue *kq,
					  struct kevent *kev, u32 head)
{
	return kevent_has_one_unread_entry(kev) &&
	       kevent_ring_entry_unread(kq, kev, head);
}

/* Round a requested ring size up to a power of two; 0 if invalid. */
static inline u32 kevent_ring_entries(u32 requested)
{
	if (!requested || requested > KEVENT_RING_MAX_ENTRIES)
		return 0;
	return 1U << fls(requested - 1);
}

/* Index order: by type, then by id. */
static inline int kevent_key_cmp(u16 type_a, u64 id_a, u16 type_b, u64 id_b)
{
	if (type_a != type_b)
		return type_a < type_b ? -1 : 1;
	if (id_a != id_b)
		return id_a < id_b ? -1 : 1;
	return 0;
}

/*
 * Write into @uk the event @kev reports: the given conditions, KEVENT_RET_*
 * flags and data[0..1], then what the source adds. Every field is written,
 * and struct ukevent has no padding (asserted below): @uk may be a ring
 * slot that held an older event, nothing of it shows through. Called with
 * kq->lock held.
 */
static inline void kevent_build_event(struct kevent *kev, struct ukevent *uk,
				      u32 mask, u32 ret_flags, u64 count,
				      u64 value)
{
	BUILD_BUG_ON(sizeof(*uk) != sizeof(uk->id) + sizeof(uk->udata) +
		     sizeof(uk->type) + sizeof(uk->op) + sizeof(uk->flags) +
		     sizeof(uk->event) + sizeof(uk->ret_flags) +
		     sizeof(uk->data));
	uk->id = kev->id;
	uk->udata = kev->udata;
	uk->type = kev->type;
	uk->op = 0;
	uk->flags = kev->flags;
	uk->event = mask;
	uk->ret_flags = ret_flags;
	uk->data[0] = count;
	uk->data[1] = value;
	uk->data[2] = 0;
	uk->data[3] = 0;
	if (kev->source->fill)
		kev->source->fill(kev, uk);
}

/* Whether source->recheck() serves @kev: see source->recheck_flags. */
static inline bool kevent_has_recheck(const struct kevent *kev)
{
	const struct kevent_source *source = kev->source;

	return source->recheck &&
	       (!source->recheck_flags || (kev->flags & source->recheck_flags));
}

/*
 * Whether @kev's origin is polled again once everything pending has been
 * delivered: a level registration reports again while its condition
 * holds, other sources collect what waits at the origin.
 */
static inline bool kevent_rechecks_after_delivery(const struct kevent *kev)
{
	if (kev->state & KEVENT_STATE_ORPHANED)
		return false;
	/* Every level source has a recheck: kevent_source_register(). */
	if (kev->source->level)
		return !(kev->flags & KEVENT_REQ_ET);
	return kevent_has_recheck(kev);
}

/*
 * Put @kev on the list of registrations to re-poll, unless it is on it
 * (or on kevent_recheck_all()'s private list, which keeps the bit set).
 * Caller holds kq->lock.
 */
static inline void kevent_recheck_link(struct kevent_queue *kq,
				       struct kevent *kev)
{
	if (!(kev->state & KEVENT_STATE_RECHECK)) {
		list_add_tail(&kev->recheck_link, &kq->recheck);
		kev->state |= KEVENT_STATE_RECHECK;
	}
}

/*
 * Write the ring's flags word from the kernel's own state, never from the
 * shared page: KEVENT_RING_OVERFLOW while events wait on the ready list,
 * KEVENT_RING_REPOLL while re-poll requests wait for a harvest. The copy in
 * kq->ring_flags lets the path of every event test it instead
 * (kevent_ring_publish_one()). Caller holds kq->lock.
 */
static inline void kevent_ring_show_flags(struct kevent_queue *kq)
{
	u32 flags = 0;

	if (!list_empty(&kq->ready))
		flags |= KEVENT_RING_OVERFLOW;
	if (kq->nr_woken)
		flags |= KEVENT_RING_REPOLL;
	kq->ring_flags = flags;
	WRITE_ONCE(kq->ring->flags, flags);
}

/*
 * A re-poll of @kev was requested (KEVENT_STATE_WOKEN): user space that
 * reads the ring without system calls learns that a harvest is due from
 * KEVENT_RING_REPOLL. Caller holds kq->lock.
 */
static inline void kevent_set_woken(struct kevent_queue *kq,
				    struct kevent *kev)
{
	if (kev->state & KEVENT_STATE_WOKEN)
		return;
	kev->state |= KEVENT_STATE_WOKEN;
	if (!kq->nr_woken++ && kq->ring)
		kevent_ring_show_flags(kq);
}

/*
 * @kev's re-poll request is being served, or is void (removal, MODIFY):
 * the last one clears KEVENT_RING_REPOLL. Caller holds kq->lock.
 */
static inline void kevent_clear_woken(struct kevent_queue *kq,
				      struct kevent *kev)
{
	if (!(kev->state & KEVENT_STATE_WOKEN))
		return;
	kev->state &= ~KEVENT_STATE_WOKEN;
	if (!--kq->nr_woken && kq->ring)
		kevent_ring_show_flags(kq);
}

/*
 * Take @kev off the list of registrations to re-poll, or off the private
 * list of kevent_recheck_all() that holds it (the bit is set on either),
 * and void its re-poll request. Caller holds kq->lock.
 */
static inline void kevent_recheck_unlink(struct kevent_queue *kq,
					 struct kevent *kev)
{
	list_del_init(&kev->recheck_link);
	kev->state &= ~KEVENT_STATE_RECHECK;
	kevent_clear_woken(kq, kev);
}

/*
 * The origin of @kev is gone for good (the POLLFREE of a signal handler
 * table): nothing can be collected from it, so @kev is never re-polled
 * again, and a re-poll it had asked for is void. It stays registered,
 * and what it has pending is still delivered. Caller holds kq->lock.
 */
static inline void kevent_orphan(struct kevent_queue *kq, struct kevent *kev)
{
	kev->state |= KEVENT_STATE_ORPHANED;
	kevent_recheck_unlink(kq, kev);
}

/* Take a queued registration off the ready list. Caller holds kq->lock. */
static inline void kevent_unqueue(struct kevent_queue *kq, struct kevent *kev)
{
	list_del_init(&kev->ready_link);
	kev->state &= ~(KEVENT_STATE_QUEUED | KEVENT_STATE_DEFERRED);
	kq->nr_ready--;
}

/* queue.c */
struct rb_node **kevent_index_find(struct kevent_queue *kq, u16 type, u64 id,
				   struct rb_node **parent);
void kevent_index_link(struct kevent_queue *kq, struct kevent *kev,
		       struct rb_node *parent, struct rb_node **link);
struct kevent *kevent_lookup(struct kevent_queue *kq, u16 type, u64 id);
void kevent_reap(struct kevent_queue *kq);
void kevent_remove(struct kevent_queue *kq, struct kevent *kev);
struct kevent_queue *kevent_queue_get(struct fd f);
struct kevent_queue *kevent_queue_from_file(struct file *file);
void kevent_queue_setup(struct kevent_queue *kq);
void kevent_queue_put(struct kevent_queue *kq);

/* ring.c */
int kevent_ring_alloc(struct kevent_queue *kq, u32 entries);
void kevent_ring_free(struct kevent_queue *kq);
int kevent_ring_mmap(struct kevent_queue *kq, struct vm_area_struct *vma);
void kevent_ring_flush(struct kevent_queue *kq);
bool kevent_ring_post_due(struct kevent_queue *kq, struct kevent *kev);
bool kevent_ring_post(struct kevent_queue *kq, struct kevent *kev, u32 head);
bool kevent_ring_post_direct(struct kevent_queue *kq, struct kevent *kev,
			     u32 mask, u64 count, u64 value, u32 ret_flags);
int kevent_ring_copy_to_user(struct kevent_queue *kq,
			     struct ukevent __user *events, u32 max);

/* wait.c */
u64 kevent_fill(struct kevent *kev, struct ukevent *uk);
void kevent_delivered(struct kevent_queue *kq, struct kevent *kev, u64 count);
void kevent_consume(struct kevent_queue *kq, struct kevent *kev, u64 count);
bool kevent_post_locked(struct kevent_queue *kq, struct kevent *kev);
void kevent_wake_pollers(struct kevent_queue *kq);
bool kevent_waking_pollers(struct kevent_queue *kq);
void kevent_poll_work(struct irq_work *work);
bool kevent_queue_has_events(struct kevent_queue *kq);
void kevent_recheck_one(struct kevent *kev);
u32 kevent_recheck_all(struct kevent_queue *kq);
u32 kevent_recheck_slow(struct kevent_queue *kq);

#endif /* _KERNEL_KEVENT_KEVENT_H */
