// SPDX-License-Identifier: GPL-2.0
/*
 * kevent poll source: readiness of any file that implements ->poll().
 *
 * Attaching works as in epoll: ->poll() is called once with a poll table
 * whose callback hooks a wait queue entry into each wait queue head the
 * file uses. Wake-ups then arrive in kevent_poll_wake(), in whatever
 * context the file wakes its queue. When the wake key carries a poll mask
 * (sockets, pipes, eventfd, ...) the event is reported from there without
 * calling ->poll() again; only keyless wake-ups, those a notification
 * queue's posting caused and level-triggered re-reports call ->poll(),
 * later, in process context.
 *
 * No registration holds a reference on its file. Files with registrations
 * are found through a global hash table keyed by the struct file pointer,
 * which __fput() consults (behind a static key, so kernels that never used
 * kevent pay nothing) to remove the registrations before the file goes:
 * close() always releases the file, and an event for an old file can never
 * be reported after its descriptor number has been reused.
 */

#include <linux/file.h>
#include <linux/hash.h>
#include <linux/init.h>
#include <linux/jump_label.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>

#include "kevent.h"
#include "poll.h"

/* The poll table of one attach: ->poll() hands it to the queue proc. */
struct kevent_poll_table {
	poll_table		pt;
	struct kevent_poll	*kp;
	unsigned int		nr_heads;
	int			error;	/* allocation failure */
};

/*
 * The registrations on one file.
 *
 * Lifetime: nodes come from a SLAB_TYPESAFE_BY_RCU cache. A node is marked
 * dead and taken out of the table, under @lock, when its list becomes
 * empty, and is freed at once; the memory stays a struct kevent_file for
 * RCU readers, but may already serve another file. So lookups run under
 * RCU, take @lock (set up once, by the cache's constructor) and trust the
 * node only if it still names their file and is not dead: see
 * kevent_file_live(). A free node is always dead; a new one stays dead
 * until it is in the table.
 */
struct kevent_file {
	struct rhash_head	node;
	spinlock_t		lock;		/* protects file, list, dead */
	struct file		*file;
	struct hlist_head	list;
	bool			dead;
};

/*
 * Every __fput() looks its file up once kevent is in use, so the key, a
 * pointer, is hashed with one multiplication (keyed by the table's random
 * seed) and compared as a pointer, not with jhash2() and memcmp().
 */
static u32 kevent_file_hash(const void *key, u32 len, u32 seed)
{
	return hash_long((unsigned long)*(struct file * const *)key ^ seed, 32);
}

static int kevent_file_cmp(struct rhashtable_compare_arg *arg,
			   const void *obj)
{
	const struct kevent_file *kf = obj;

	return kf->file != *(struct file * const *)arg->key;
}

/*
 * The table is not shrunk: the registrations of a server come and go with
 * its connections, and shrinking and growing again on every swing would
 * rehash the table each time. It keeps the size of its peak load.
 */
static const struct rhashtable_params kevent_files_params = {
	.key_len		= sizeof(struct file *),
	.key_offset		= offsetof(struct kevent_file, file),
	.head_offset		= offsetof(struct kevent_file, node),
	.hashfn			= kevent_file_hash,
	.obj_cmpfn		= kevent_file_cmp,
};

static struct rhashtable kevent_files;
static struct kmem_cache *kevent_file_cache;
DEFINE_STATIC_KEY_FALSE(kevent_files_watched);

/* Serialises the nesting counters of all queues. */
static DEFINE_MUTEX(kevent_nest_mutex);

static void kevent_file_init_once(void *obj)
{
	struct kevent_file *kf = obj;

	spin_lock_init(&kf->lock);
	kf->dead = true;
}

/*
 * Whether @kf, which a lookup under RCU found for @file, still serves it:
 * it may have been emptied, or even freed and reused, since. Caller holds
 * kf->lock.
 */
static bool kevent_file_live(const struct kevent_file *kf,
			     const struct file *file)
{
	return kf->file == file && !kf->dead;
}

/*
 * The first registration on kp->file: a new node, in the table with kp on
 * it. -EEXIST if another node for the file got into the table first.
 */
static int kevent_file_insert(struct kevent_poll *kp)
{
	struct kevent_file *kf, *old;

	kf = kmem_cache_alloc(kevent_file_cache, GFP_KERNEL_ACCOUNT);
	if (!kf)
		return -ENOMEM;
	/*
	 * A reader that looked the node up in its former life may lock it
	 * now: it sees it dead until it is in the table for kp->file.
	 */
	spin_lock(&kf->lock);
	kf->file = kp->file;
	INIT_HLIST_HEAD(&kf->list);
	old = rhashtable_lookup_get_insert_fast(&kevent_files, &kf->node,
						kevent_files_params);
	if (!old) {
		hlist_add_head(&kp->file_link, &kf->list);
		kf->dead = false;
		kp->kfile = kf;
	}
	spin_unlock(&kf->lock);
	if (!old)
		return 0;
	kmem_cache_free(kevent_file_cache, kf);
	return IS_ERR(old) ? PTR_ERR(old) : -EEXIST;
}

static int kevent_file_link(struct kevent_poll *kp)
{
	struct kevent_file *kf;
	int err;

	do {
		rcu_read_lock();
		kf = rhashtable_lookup(&kevent_files, &kp->file,
				       kevent_files_params);
		if (kf) {
			spin_lock(&kf->lock);
			if (kevent_file_live(kf, kp->file)) {
				hlist_add_head(&kp->file_link, &kf->list);
				kp->kfile = kf;
			}
			spin_unlock(&kf->lock);
		}
		rcu_read_unlock();
		if (kp->kfile)
			return 0;
		err = kevent_file_insert(kp);
		/* Someone else linked the first registration: use theirs. */
	} while (err == -EEXIST);
	return err;
}

static void kevent_file_unlink(struct kevent_poll *kp)
{
	struct kevent_file *kf = kp->kfile;
	bool empty;

	spin_lock(&kf->lock);
	hlist_del_init(&kp->file_link);
	empty = hlist_empty(&kf->list);
	if (empty) {
		kf->dead = true;
		rhashtable_remove_fast(&kevent_files, &kf->node,
				       kevent_files_params);
	}
	spin_unlock(&kf->lock);
	/* Type-safe: RCU readers that still hold it find it dead. */
	if (empty)
		kmem_cache_free(kevent_file_cache, kf);
	kp->kfile = NULL;
}

/* Is @kp still registered on @file? Caller holds kp's queue mutex. */
static bool kevent_file_has(struct file *file, struct kevent_poll *kp)
{
	struct kevent_file *kf;
	struct kevent_poll *cur;
	bool found = false;

	rcu_read_lock();
	kf = rhashtable_lookup(&kevent_files, &file, kevent_files_params);
	if (kf) {
		spin_lock(&kf->lock);
		if (kevent_file_live(kf, file)) {
			hlist_for_each_entry(cur, &kf->list, file_link) {
				if (cur == kp) {
					found = true;
					break;
				}
			}
		}
		spin_unlock(&kf->lock);
	}
	rcu_read_unlock();
	return found;
}

/**
 * __kevent_file_release - remove every registration of a dying file
 * @file:	the file, in __fput(), before ->release()
 *
 * Each round takes one registration off the file's list under RCU, pins
 * its queue, and removes it under the queue mutex if it is still on the
 * list then: it may have been removed meanwhile. No registration can be
 * added to a file whose last reference is gone, so the address of one on
 * the list names that registration, and this ends; once the only
 * registration left is handled there is nothing to look up again.
 */
void __kevent_file_release(struct file *file)
{
	for (;;) {
		struct kevent_queue *kq = NULL;
		struct kevent_poll *kp = NULL;
		struct kevent_file *kf;
		bool last = false;

		rcu_read_lock();
		kf = rhashtable_lookup(&kevent_files, &file,
				       kevent_files_params);
		if (kf) {
			spin_lock(&kf->lock);
			if (kevent_file_live(kf, file)) {
				/* A live node's list is not empty. */
				kp = hlist_entry(kf->list.first,
						 struct kevent_poll, file_link);
				/* Its queue lives while kp is on the list. */
				kq = kp->kev.queue;
				refcount_inc(&kq->ref);
				last = !kp->file_link.next;
			}
			spin_unlock(&kf->lock);
		}
		rcu_read_unlock();
		if (!kq)
			return;

		/* kp leaves the list only under this mutex. */
		mutex_lock(&kq->mutex);
		if (kevent_file_has(file, kp))
			kevent_remove(kq, &kp->kev);
		mutex_unlock(&kq->mutex);
		kevent_queue_put(kq);
		if (last)
			return;
	}
}

/*
 * One level of queue nesting: a queue may watch other queues only while
 * nobody watches it, and may be watched only while it watches none, which
 * rules out cycles and deep wake-up recursion.
 */
static int kevent_nest(struct kevent_queue *watcher,
		       struct kevent_queue *watched)
{
	int err = 0;

	mutex_lock(&kevent_nest_mutex);
	if (watcher == watched || watched->nr_queues_watched ||
	    watcher->nr_watchers) {
		err = -ELOOP;
	} else {
		watcher->nr_queues_watched++;
		watched->nr_watchers++;
	}
	mutex_unlock(&kevent_nest_mutex);
	return err;
}

static void kevent_unnest(struct kevent_queue *watcher,
			  struct kevent_queue *watched)
{
	mutex_lock(&kevent_nest_mutex);
	watcher->nr_queues_watched--;
	watched->nr_watchers--;
	mutex_unlock(&kevent_nest_mutex);
}

/*
 * Report @mask from the wake-up callback or attach. No struct
 * kevent_report here: the wake-up path would pay for zeroing it on the
 * stack (CONFIG_INIT_STACK_ALL_ZERO).
 */
static void kevent_poll_report(struct kevent_poll *kp, __poll_t mask)
{
	u32 ret_flags = 0;
	u32 event = kp->ops->report(kp, mask, &ret_flags);

	/* Nothing that was asked for (e.g. RECV on a listening socket). */
	if (event || ret_flags)
		kevent_ready(&kp->kev, event, 1, 0, ret_flags);
}

/*
 * Wake-up callback, called with the file's wait queue head lock held, in
 * any context. It never allocates and never calls ->poll().
 */
static int kevent_poll_wake(wait_queue_entry_t *wait, unsigned int mode,
			    int sync, void *key)
{
	struct kevent_poll_entry *pe = container_of(wait,
						    struct kevent_poll_entry,
						    wait);
	struct kevent_poll *kp = wait->private;
	__poll_t mask = key_to_poll(key);

	if (mask & POLLFREE) {
		/*
		 * The head is going away (signalfd, binder, ...). Unhook.
		 * After the store below nothing protects kp: do not touch it.
		 */
		list_del_init(&wait->entry);
		/* Pairs with the load-acquire in kevent_poll_unhook(). */
		smp_store_release(&pe->whead, NULL);
		return 0;
	}

	if (!mask) {
		kevent_request_recheck(&kp->kev);
	} else if (mask & READ_ONCE(kp->interest)) {
		/*
		 * Caused by a notification queue's posting: a kevent queue's
		 * through epoll, or io_uring's (its ring fd, its eventfd).
		 * It may be going round a cycle, so a re-poll request, served
		 * by the next harvest (kevent_wake_pollers()). An echo of the
		 * registration's own queue's wake-up changes nothing for that
		 * queue's consumer. A watched queue is not such a file: queue
		 * nesting has no cycles.
		 */
		if ((mask & EPOLL_URING_WAKE) && !kp->watched) {
			if (!kevent_waking_pollers(kp->kev.queue))
				kevent_request_recheck(&kp->kev);
		} else {
			kevent_poll_report(kp, mask & READ_ONCE(kp->interest));
		}
	}
	return 0;
}

/*
 * poll_wait() callback while attaching; process context. The first head
 * gets the registration's built-in entry, any further one an allocated
 * entry.
 */
static void kevent_poll_queue_proc(struct file *file, wait_queue_head_t *whead,
				   poll_table *pt)
{
	struct kevent_poll_table *kpt = container_of(pt,
						     struct kevent_poll_table,
						     pt);
	struct kevent_poll *kp = kpt->kp;
	struct kevent_poll_entry *pe = &kp->first;

	if (kpt->error)
		return;
	if (kpt->nr_heads++) {
		pe = kmalloc(sizeof(*pe), GFP_KERNEL_ACCOUNT);
		if (!pe) {
			kpt->error = -ENOMEM;
			return;
		}
		pe->next = kp->first.next;
		kp->first.next = pe;
	}
	init_waitqueue_func_entry(&pe->wait, kevent_poll_wake);
	pe->wait.private = kp;
	pe->whead = whead;
	add_wait_queue(whead, &pe->wait);
}

static void kevent_poll_unhook(struct kevent_poll *kp)
{
	struct kevent_poll_entry *pe, *next;

	for (pe = &kp->first; pe; pe = next) {
		wait_queue_head_t *whead;

		next = pe->next;
		/*
		 * A head cleared by POLLFREE is freed after an RCU grace
		 * period. Otherwise remove_wait_queue() takes the head's
		 * lock, so no callback for this entry is running when it
		 * returns.
		 */
		rcu_read_lock();
		/* Pairs with the store-release in kevent_poll_wake(). */
		whead = smp_load_acquire(&pe->whead);
		if (whead)
			remove_wait_queue(whead, &pe->wait);
		rcu_read_unlock();
		if (pe != &kp->first)
			kfree(pe);
	}
	kp->first.whead = NULL;
	kp->first.next = NULL;
}

/* Errors and hang-ups are always watched, as in epoll. */
static __poll_t kevent_poll_interest_of(const struct kevent_poll_ops *ops,
					const struct ukevent *uk)
{
	return ops->interest(uk->event) | EPOLLERR | EPOLLHUP;
}

/* Called under the queue mutex for KEVENT_CTL_ADD. */
int kevent_poll_attach(struct kevent *kev, const struct ukevent *uk,
		       const struct kevent_poll_ops *ops)
{
	struct kevent_poll *kp = to_kevent_poll(kev);
	struct kevent_poll_table kpt = { .kp = kp };
	struct kevent_queue *watched;
	struct file *file;
	__poll_t mask;
	int err;

	err = kevent_check_data_zero(uk, 0);
	if (err)
		return err;
	if (uk->id > INT_MAX)
		return -EBADF;
	file = fget(uk->id);
	if (!file)
		return -EBADF;
	err = -EPERM;
	if (!file_can_poll(file))
		goto out_fput;
	if (ops->check) {
		err = ops->check(file);
		if (err)
			goto out_fput;
	}

	watched = kevent_queue_from_file(file);
	if (watched) {
		err = kevent_nest(kev->queue, watched);
		if (err)
			goto out_fput;
		kp->watched = watched;
	}

	/* Before the first link, so the __fput() of this file sees it. */
	if (!static_key_enabled(&kevent_files_watched))
		static_branch_enable(&kevent_files_watched);
	kp->file = file;
	kp->ops = ops;
	kp->interest = kevent_poll_interest_of(ops, uk);
	err = kevent_file_link(kp);
	if (err)
		goto out_unnest;

	init_poll_funcptr(&kpt.pt, kevent_poll_queue_proc);
	mask = vfs_poll(file, &kpt.pt);
	if (kpt.error) {
		err = kpt.error;
		kevent_poll_unhook(kp);
		kevent_file_unlink(kp);
		goto out_unnest;
	}
	mask &= kp->interest;
	if (mask)
		kevent_poll_report(kp, mask);
	fput(file);
	return 0;

out_unnest:
	if (kp->watched)
		kevent_unnest(kev->queue, kp->watched);
out_fput:
	fput(file);
	return err;
}

/*
 * Called under the queue mutex: the current state, if it holds, as
 * kevent_poll_report() would report it.
 */
bool kevent_poll_recheck(struct kevent *kev, struct kevent_report *report)
{
	struct kevent_poll *kp = to_kevent_poll(kev);
	__poll_t mask = vfs_poll(kp->file, NULL) & kp->interest;

	if (!mask)
		return false;
	report->ret_flags = 0;
	report->mask = kp->ops->report(kp, mask, &report->ret_flags);
	report->count = 1;
	report->value = 0;
	return report->mask || report->ret_flags;
}

/* Called under the queue mutex for KEVENT_CTL_MODIFY. */
int kevent_poll_modify(struct kevent *kev, const struct ukevent *uk)
{
	struct kevent_poll *kp = to_kevent_poll(kev);
	int err = kevent_check_data_zero(uk, 0);

	if (err)
		return err;
	/* Forget what the old mask reported; the caller re-polls. */
	kevent_reset(kev, uk);
	WRITE_ONCE(kp->interest, kevent_poll_interest_of(kp->ops, uk));
	return 0;
}

/* Called under the queue mutex; no callback runs for kev afterwards. */
void kevent_poll_detach(struct kevent *kev)
{
	struct kevent_poll *kp = to_kevent_poll(kev);

	kevent_poll_unhook(kp);
	/*
	 * A watched queue is only known to live while kp is on its file's
	 * list: its __fput() waits in __kevent_file_release() until kp is
	 * gone. So unnest first, then unlink.
	 */
	if (kp->watched)
		kevent_unnest(kev->queue, kp->watched);
	kevent_file_unlink(kp);
}

static __poll_t kevent_poll_interest(u32 event)
{
	return (__force __poll_t)event;
}

static u32 kevent_poll_report_mask(struct kevent_poll *kp, __poll_t mask,
				   u32 *ret_flags)
{
	if (mask & (EPOLLHUP | EPOLLRDHUP))
		*ret_flags |= KEVENT_RET_EOF;
	if (mask & EPOLLERR)
		*ret_flags |= KEVENT_RET_ERROR;
	return (__force u32)mask;
}

static const struct kevent_poll_ops kevent_poll_file_ops = {
	.interest	= kevent_poll_interest,
	.report		= kevent_poll_report_mask,
};

static int kevent_poll_source_attach(struct kevent *kev,
				     const struct ukevent *uk)
{
	return kevent_poll_attach(kev, uk, &kevent_poll_file_ops);
}

static const struct kevent_source kevent_poll_source = {
	.type		= KEVENT_POLL,
	.size		= sizeof(struct kevent_poll),
	.event_mask	= (__force u32)(EPOLLIN | EPOLLPRI | EPOLLOUT |
					EPOLLERR | EPOLLHUP | EPOLLNVAL |
					EPOLLRDNORM | EPOLLRDBAND |
					EPOLLWRNORM | EPOLLWRBAND |
					EPOLLMSG | EPOLLRDHUP),
	.attach		= kevent_poll_source_attach,
	.modify		= kevent_poll_modify,
	.detach		= kevent_poll_detach,
	.recheck	= kevent_poll_recheck,
	.level		= true,
	.one_unread_entry = true,
};

static int __init kevent_poll_init(void)
{
	int err;

	kevent_file_cache = kmem_cache_create("kevent_file",
					      sizeof(struct kevent_file), 0,
					      SLAB_TYPESAFE_BY_RCU |
					      SLAB_ACCOUNT | SLAB_PANIC,
					      kevent_file_init_once);
	err = rhashtable_init(&kevent_files, &kevent_files_params);
	if (err)
		return err;
	kevent_source_register(&kevent_poll_source);
	return 0;
}
core_initcall(kevent_poll_init);
