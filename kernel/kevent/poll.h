/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kevent registrations on files: the machinery shared by the generic poll
 * source (poll.c) and the socket source (socket.c).
 *
 * A registration hooks a wait queue entry into each wait queue head the
 * file's ->poll() hands out, as epoll does, and holds no reference on the
 * file: kevent_file_release(), called from __fput(), removes every
 * registration of a file before the file goes away.
 */
#ifndef _KERNEL_KEVENT_POLL_H
#define _KERNEL_KEVENT_POLL_H

#include <linux/kevent.h>
#include <linux/poll.h>

struct kevent_file;
struct kevent_poll;
struct kevent_queue;

/**
 * struct kevent_poll_ops - how a file source talks about readiness
 * @check:	refuse files the source does not serve; optional
 * @interest:	poll bits to watch for a ukevent.event mask
 * @report:	ukevent.event bits and KEVENT_RET_* for ready poll bits;
 *		called from wake-up context, must not sleep
 */
struct kevent_poll_ops {
	int	(*check)(struct file *file);
	__poll_t (*interest)(u32 event);
	u32	(*report)(struct kevent_poll *kp, __poll_t mask, u32 *ret_flags);
};

/**
 * struct kevent_poll_entry - a registration's hook in one wait queue head
 * @wait:	the entry; @wait.private is the registration
 * @whead:	the head it is in; NULL if unused, or after POLLFREE
 * @next:	the registration's next entry, if its file has more heads
 */
struct kevent_poll_entry {
	wait_queue_entry_t		wait;
	wait_queue_head_t		*whead;
	struct kevent_poll_entry	*next;
};

/**
 * struct kevent_poll - a registration on a file
 * @kev:	the core registration, first
 * @file:	the watched file; not a reference, see kevent_file_release()
 * @kfile:	per-file list this registration is on
 * @file_link:	link in @kfile's list, under its lock
 * @first:	the entry for the first wait queue head of the file, built
 *		in since most files have only one; the others are allocated
 *		and chained from it. The chain is changed under the queue
 *		mutex; a POLLFREE wake-up clears an entry's @whead.
 * @watched:	the queue behind @file if it is a kevent queue
 * @ops:	the source's translation of readiness
 * @interest:	poll bits watched; written under the queue mutex, read by
 *		the wake-up callback
 *
 * 256 bytes on 64-bit: one kmalloc-256 object per registration.
 */
struct kevent_poll {
	struct kevent			kev;
	struct file			*file;
	struct kevent_file		*kfile;
	struct hlist_node		file_link;
	struct kevent_poll_entry	first;
	struct kevent_queue		*watched;
	const struct kevent_poll_ops	*ops;
	__poll_t			interest;
};

static inline struct kevent_poll *to_kevent_poll(struct kevent *kev)
{
	return container_of(kev, struct kevent_poll, kev);
}

int kevent_poll_attach(struct kevent *kev, const struct ukevent *uk,
		       const struct kevent_poll_ops *ops);
int kevent_poll_modify(struct kevent *kev, const struct ukevent *uk);
void kevent_poll_detach(struct kevent *kev);
bool kevent_poll_recheck(struct kevent *kev, struct kevent_report *report);

#endif /* _KERNEL_KEVENT_POLL_H */
