/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kevent: in-kernel interface between the queue core and event sources.
 *
 * A source (timer, user, poll, socket, signal) describes itself with a
 * struct kevent_source and registers it at boot. The core owns struct
 * kevent: it allocates source->size bytes per registration, indexes it in
 * the queue's RB tree and calls the source to arm and disarm it. When the
 * origin becomes ready, the source calls kevent_ready() from whatever
 * context it is in (hard or soft interrupt, a wait queue callback, process
 * context); kevent_ready() never sleeps and never allocates.
 */
#ifndef _LINUX_KEVENT_H
#define _LINUX_KEVENT_H

#include <linux/array_size.h>
#include <linux/jump_label.h>
#include <linux/list.h>
#include <linux/rbtree.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <uapi/linux/kevent.h>

struct file;

struct kevent_queue;

/**
 * struct kevent - one registration in one queue
 * @node:	link in the queue's index, keyed by (@type, @id)
 * @ready_link:	link in the queue's ready list, or its reap list once dead
 * @recheck_link: link in the queue's list of registrations to re-poll
 * @queue:	owning queue; the registration never outlives it
 * @source:	the event source that serves @type
 * @type:	KEVENT_* type
 * @id:		user-chosen identifier (fd, timer id, signal number, ...)
 * @udata:	user cookie copied into every delivered event
 * @flags:	KEVENT_REQ_* and type-specific request flags
 * @event:	requested event mask
 * @pending_mask: ready conditions not yet delivered
 * @pending_count: coalesced count not yet delivered (data[0])
 * @pending_value: last value for data[1]
 * @pending_ret_flags: KEVENT_RET_* not yet delivered
 * @state:	KEVENT_STATE_* bits
 * @ring_pos:	ring index of the last event posted for it
 *
 * @queue, @source, @type and @id never change after ADD. @udata, @flags,
 * @event and the source's private fields change only under the queue's
 * mutex. The pending_* fields and @state are protected by the queue's
 * spinlock, which kevent_ready() takes from event context.
 */
struct kevent {
	struct rb_node			node;
	struct list_head		ready_link;
	struct list_head		recheck_link;
	struct kevent_queue		*queue;
	const struct kevent_source	*source;
	u16				type;
	u64				id;
	u64				udata;
	u32				flags;
	u32				event;
	u32				pending_mask;
	u64				pending_count;
	u64				pending_value;
	u32				pending_ret_flags;
	u32				state;
	u32				ring_pos;
};

/* struct kevent.state bits */
#define KEVENT_STATE_QUEUED	BIT(0)	/* on the ready list */
#define KEVENT_STATE_DISABLED	BIT(1)	/* DISABLE, DISPATCH or REQ_DISABLED */
#define KEVENT_STATE_DEAD	BIT(2)	/* removed or oneshot fired */
#define KEVENT_STATE_RECHECK	BIT(3)	/* on a list of registrations to re-poll */
#define KEVENT_STATE_WOKEN	BIT(4)	/* re-poll requested by a wake-up */
#define KEVENT_STATE_POSTED	BIT(5)	/* ring_pos names an entry posted for it */
#define KEVENT_STATE_DEFERRED	BIT(6)	/* queued on the deferred list */
#define KEVENT_STATE_RESTRICTED	BIT(7)	/* source->may_recheck() decides */
#define KEVENT_STATE_ORPHANED	BIT(8)	/* origin gone: never re-polled */

/**
 * struct kevent_report - one occurrence, as source->recheck() reports it
 * @mask:	conditions to add to the reported event mask
 * @ret_flags:	KEVENT_RET_* to report
 * @count:	occurrences to add to the reported count (data[0]), >= 1
 * @value:	value reported in data[1]
 *
 * The arguments of kevent_ready(), for the core to pass on.
 */
struct kevent_report {
	u32	mask;
	u32	ret_flags;
	u64	count;
	u64	value;
};

/**
 * struct kevent_source - an event source ("kevent user" in 2006 terms)
 * @type:	KEVENT_* type served
 * @size:	bytes to allocate per registration, struct kevent first
 * @event_mask:	ukevent.event bits the source accepts
 * @flags_mask:	type-specific ukevent.flags bits the source accepts
 * @attach:	validate @uk and arm the registration; may sleep; called
 *		under the queue mutex before the registration is visible
 * @modify:	validate @uk, then call kevent_reset(@kev, @uk) before
 *		re-arming with the new parameters, so that the first report
 *		of the re-armed origin carries them; may sleep
 * @detach:	disarm; may sleep; after it returns no callback of the
 *		source may touch @kev any more
 * @trigger:	KEVENT_CTL_TRIGGER; optional
 * @fill:	add source-specific data to a delivered event; called with
 *		the queue's spinlock held, from any context; optional
 * @recheck:	evaluate the condition again, in process context under the
 *		queue mutex; called after each delivery (level sources:
 *		unless edge-triggered) and on kevent_request_recheck(),
 *		as @recheck_flags and @may_recheck allow; optional. If it
 *		holds, fill @report and return true: the core reports it as
 *		kevent_ready() would, together with the other re-polls of
 *		the same harvest under one hold of the queue's spinlock. A
 *		source that reports several events at once calls
 *		kevent_ready() for each and returns false.
 * @recheck_flags: if nonzero, @recheck serves only the registrations with
 *		one of these type-specific flags (signals: consume mode);
 *		the others are never re-polled
 * @may_recheck: whether the current task may run @recheck for @kev (a
 *		signal to consume: only a thread of the registering
 *		process); optional. A registration is never due for a task
 *		that may not re-poll it: poll() on the queue does not count
 *		it, a harvest leaves it to a task that may. Must not sleep;
 *		called in the context of whichever task polls or harvests
 *		the queue, also under the queue's spinlock.
 * @level:	readiness is a state that @recheck re-evaluates (files),
 *		not a count of occurrences (timers, user events, signals)
 * @one_unread_entry: edge-triggered registrations too (not oneshot or
 *		dispatch ones) have at most one unread ring entry, as level
 *		ones do: reports while it is unread are coalesced into the
 *		next one. For sources whose wake-ups can bring nothing new:
 *		a file may wake its pollers when its state did not change
 *		(epoll does on every event of a file it watches), and files
 *		can watch each other in cycles that go through kevent queues.
 */
struct kevent_source {
	u16	type;
	size_t	size;
	u32	event_mask;
	u32	flags_mask;
	u32	recheck_flags;
	int	(*attach)(struct kevent *kev, const struct ukevent *uk);
	int	(*modify)(struct kevent *kev, const struct ukevent *uk);
	void	(*detach)(struct kevent *kev);
	int	(*trigger)(struct kevent *kev, const struct ukevent *uk);
	void	(*fill)(struct kevent *kev, struct ukevent *uk);
	bool	(*recheck)(struct kevent *kev, struct kevent_report *report);
	bool	(*may_recheck)(const struct kevent *kev);
	bool	level;
	bool	one_unread_entry;
};

/* Sources: the data words from @first on must be zero (else -EINVAL). */
static inline int kevent_check_data_zero(const struct ukevent *uk,
					 unsigned int first)
{
	unsigned int i;

	for (i = first; i < ARRAY_SIZE(uk->data); i++)
		if (uk->data[i])
			return -EINVAL;
	return 0;
}

void kevent_source_register(const struct kevent_source *source);
bool kevent_ready(struct kevent *kev, u32 mask, u64 count, u64 value,
		  u32 ret_flags);
void kevent_reset(struct kevent *kev, const struct ukevent *uk);
void kevent_request_recheck(struct kevent *kev);

#ifdef CONFIG_KEVENT
DECLARE_STATIC_KEY_FALSE(kevent_files_watched);
void __kevent_file_release(struct file *file);

/*
 * Called by __fput() before ->release(): remove the file's registrations.
 * The static key is enabled the first time a file is registered.
 */
static inline void kevent_file_release(struct file *file)
{
	if (static_branch_unlikely(&kevent_files_watched))
		__kevent_file_release(file);
}
#else
static inline void kevent_file_release(struct file *file)
{
}
#endif

#if defined(CONFIG_KEVENT) && defined(CONFIG_SIGNALFD)
DECLARE_STATIC_KEY_FALSE(kevent_signals_watched);
void __kevent_signal_notify(wait_queue_head_t *wqh, int sig);

/*
 * Called by signalfd_notify() when signal @sig is queued for the process
 * whose signalfd wait queue is @wqh, with its sighand lock held.
 */
static inline void kevent_signal_notify(wait_queue_head_t *wqh, int sig)
{
	if (static_branch_unlikely(&kevent_signals_watched))
		__kevent_signal_notify(wqh, sig);
}
#else
static inline void kevent_signal_notify(wait_queue_head_t *wqh, int sig)
{
}
#endif

#endif /* _LINUX_KEVENT_H */
