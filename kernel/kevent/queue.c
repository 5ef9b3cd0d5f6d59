// SPDX-License-Identifier: GPL-2.0
/*
 * kevent queue: the file, its index of registrations and kevent_ctl().
 *
 * A queue is an anonymous-inode file. Registrations are kept in an RB tree
 * keyed by (type, id), so ADD, MODIFY, REMOVE and lookup are O(log n).
 * Locking and lifetime rules are at the top of kevent.h.
 */

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/syscalls.h>
#include <linux/sysctl.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>

#include "kevent.h"

/* Filled by kevent_source_register() from initcalls, read-only after. */
static const struct kevent_source *kevent_sources[KEVENT_TYPE_MAX] __ro_after_init;

void __init kevent_source_register(const struct kevent_source *source)
{
	if (WARN_ON(!source->type || source->type >= KEVENT_TYPE_MAX ||
		    source->size < sizeof(struct kevent) ||
		    !source->attach || !source->modify || !source->detach ||
		    (source->recheck_flags & ~source->flags_mask) ||
		    ((source->recheck_flags || source->may_recheck ||
		      source->level) && !source->recheck) ||
		    kevent_sources[source->type]))
		return;
	kevent_sources[source->type] = source;
}

/*
 * Where (type, id) is in the index: the link that points to its node, or
 * the empty link where that node belongs; *@parent is set to the node
 * that link hangs from. Caller holds kq->mutex, which keeps an empty link
 * valid until a node is linked there.
 */
struct rb_node **kevent_index_find(struct kevent_queue *kq, u16 type, u64 id,
				   struct rb_node **parent)
{
	struct rb_node **link = &kq->index.rb_node;

	*parent = NULL;
	while (*link) {
		struct kevent *cur = rb_entry(*link, struct kevent, node);
		int cmp = kevent_key_cmp(type, id, cur->type, cur->id);

		if (!cmp)
			break;
		*parent = *link;
		link = cmp < 0 ? &cur->node.rb_left : &cur->node.rb_right;
	}
	return link;
}

/* Caller holds kq->mutex. */
struct kevent *kevent_lookup(struct kevent_queue *kq, u16 type, u64 id)
{
	struct rb_node *parent;
	struct rb_node **link = kevent_index_find(kq, type, id, &parent);

	return *link ? rb_entry(*link, struct kevent, node) : NULL;
}

/*
 * Link @kev at the empty @link under @parent that kevent_index_find() gave
 * for its key. Caller holds kq->mutex, and has held it since the find.
 */
void kevent_index_link(struct kevent_queue *kq, struct kevent *kev,
		       struct rb_node *parent, struct rb_node **link)
{
	rb_link_node(&kev->node, parent, link);
	rb_insert_color(&kev->node, &kq->index);
}

static void kevent_free(struct kevent_queue *kq, struct kevent *kev)
{
	dec_ucount_held(kq->ucounts, UCOUNT_KEVENT_REGISTRATIONS);
	kfree(kev);
}

/*
 * Take a disarmed @kev off the ready (or reap) and recheck lists, for
 * good: no source callback can reach it any more. Caller holds kq->mutex.
 */
static void kevent_unlink(struct kevent_queue *kq, struct kevent *kev)
{
	spin_lock_irq(&kq->lock);
	if (kev->state & KEVENT_STATE_QUEUED)
		kq->nr_ready--;
	list_del_init(&kev->ready_link);
	kevent_recheck_unlink(kq, kev);
	kev->state = KEVENT_STATE_DEAD;
	spin_unlock_irq(&kq->lock);
}

/*
 * Unregister @kev: unlink it from the index, disarm it (after detach() no
 * source callback can reach it), then take it off the ready or reap list.
 * Caller holds kq->mutex.
 */
void kevent_remove(struct kevent_queue *kq, struct kevent *kev)
{
	rb_erase(&kev->node, &kq->index);
	kev->source->detach(kev);
	kevent_unlink(kq, kev);
	kevent_free(kq, kev);
}

/*
 * Remove the oneshot registrations that fired since the last call. They
 * were marked dead and put on kq->reap under kq->lock by the delivery
 * path; the index and the source are only touched here, under kq->mutex.
 */
void kevent_reap(struct kevent_queue *kq)
{
	struct kevent *kev, *next;
	LIST_HEAD(dead);

	/*
	 * Lockless peek, for the common empty case. A oneshot whose event
	 * the caller has seen is on the list already: it was put there
	 * before the event was published (ring tail store-release, or the
	 * copy under kq->mutex).
	 */
	if (list_empty_careful(&kq->reap))
		return;
	spin_lock_irq(&kq->lock);
	list_splice_init(&kq->reap, &dead);
	spin_unlock_irq(&kq->lock);

	/* Dead registrations are never queued again: dead is ours alone. */
	list_for_each_entry_safe(kev, next, &dead, ready_link) {
		list_del_init(&kev->ready_link);
		kevent_remove(kq, kev);
	}
}

static int kevent_add(struct kevent_queue *kq,
		      const struct kevent_source *source,
		      const struct ukevent *uk)
{
	struct rb_node *parent, **link;
	struct kevent *kev;
	int err;

	/* One walk of the index finds both a duplicate and the slot. */
	link = kevent_index_find(kq, uk->type, uk->id, &parent);
	if (*link)
		return -EEXIST;
	kev = kzalloc(source->size, GFP_KERNEL_ACCOUNT);
	if (!kev)
		return -ENOMEM;
	/* Charged to the counts the queue pinned when it was created. */
	if (!inc_ucount_held(kq->ucounts, UCOUNT_KEVENT_REGISTRATIONS)) {
		kfree(kev);
		return -ENOSPC;
	}

	INIT_LIST_HEAD(&kev->ready_link);
	INIT_LIST_HEAD(&kev->recheck_link);
	kev->queue = kq;
	kev->source = source;
	kev->type = uk->type;
	kev->id = uk->id;
	kev->udata = uk->udata;
	kev->flags = uk->flags & ~KEVENT_REQ_DISABLED;
	kev->event = uk->event;
	if (uk->flags & KEVENT_REQ_DISABLED)
		kev->state = KEVENT_STATE_DISABLED;
	/* Never changes: the re-poll scan tests it instead of the source. */
	if (source->may_recheck)
		kev->state |= KEVENT_STATE_RESTRICTED;
	kevent_index_link(kq, kev, parent, link);

	/* attach() may report readiness at once: kev must be indexed. */
	err = source->attach(kev, uk);
	if (err) {
		rb_erase(&kev->node, &kq->index);
		/*
		 * A failed attach() has undone its hooks, but an event that
		 * came through one of them before (a file with two wait
		 * queues, the second hook's allocation failing) may have
		 * queued kev: take it off the lists before freeing it.
		 */
		kevent_unlink(kq, kev);
		kevent_free(kq, kev);
	}
	return err;
}

/*
 * The source takes the new udata, flags and event (kevent_reset()) before
 * it re-arms: a report of the re-armed origin never goes out under the old
 * ones (an old ONESHOT would remove the registration MODIFY just armed).
 */
static int kevent_modify(struct kevent *kev, const struct ukevent *uk)
{
	int err = kev->source->modify(kev, uk);

	if (err)
		return err;
	/* Level sources report the new condition if it holds already. */
	if (kev->source->level)
		kevent_recheck_one(kev);
	return 0;
}

static void kevent_enable(struct kevent *kev)
{
	struct kevent_queue *kq = kev->queue;
	bool wake;

	if (kev->source->level) {
		/* Level sources report the condition as it is now. */
		kevent_reset(kev, NULL);
		spin_lock_irq(&kq->lock);
		kev->state &= ~KEVENT_STATE_DISABLED;
		spin_unlock_irq(&kq->lock);
		kevent_recheck_one(kev);
		return;
	}
	spin_lock_irq(&kq->lock);
	kev->state &= ~KEVENT_STATE_DISABLED;
	/* Counting sources report what accumulated while disabled... */
	wake = kevent_post_locked(kq, kev);
	spin_unlock_irq(&kq->lock);
	if (wake)
		kevent_wake_pollers(kq);
	/* ...and may have more waiting at the origin. */
	if (kevent_has_recheck(kev))
		kevent_recheck_one(kev);
}

static void kevent_disable(struct kevent *kev)
{
	struct kevent_queue *kq = kev->queue;

	spin_lock_irq(&kq->lock);
	kev->state |= KEVENT_STATE_DISABLED;
	if (kev->state & KEVENT_STATE_QUEUED)
		kevent_unqueue(kq, kev);
	spin_unlock_irq(&kq->lock);
}

static int kevent_ctl_one(struct kevent_queue *kq, const struct ukevent *uk)
{
	const struct kevent_source *source = NULL;
	struct kevent *kev;

	/* type is the caller's: no speculative load past the table. */
	if (uk->type && uk->type < KEVENT_TYPE_MAX)
		source = kevent_sources[array_index_nospec(uk->type,
							   KEVENT_TYPE_MAX)];
	if (!source || !uk->op || uk->op > KEVENT_CTL_TRIGGER)
		return -EINVAL;
	if (uk->flags & ~(KEVENT_REQ_MASK | source->flags_mask))
		return -EINVAL;
	if ((uk->flags & KEVENT_REQ_ONESHOT) &&
	    (uk->flags & KEVENT_REQ_DISPATCH))
		return -EINVAL;
	if (uk->event & ~source->event_mask)
		return -EINVAL;
	if (uk->op == KEVENT_CTL_TRIGGER && !source->trigger)
		return -EINVAL;

	if (uk->op == KEVENT_CTL_ADD)
		return kevent_add(kq, source, uk);

	kev = kevent_lookup(kq, uk->type, uk->id);
	if (!kev)
		return -ENOENT;

	switch (uk->op) {
	case KEVENT_CTL_MODIFY:
		return kevent_modify(kev, uk);
	case KEVENT_CTL_REMOVE:
		kevent_remove(kq, kev);
		return 0;
	case KEVENT_CTL_ENABLE:
		kevent_enable(kev);
		return 0;
	case KEVENT_CTL_DISABLE:
		kevent_disable(kev);
		return 0;
	default:
		return source->trigger(kev, uk);
	}
}

void kevent_queue_put(struct kevent_queue *kq)
{
	if (!refcount_dec_and_test(&kq->ref))
		return;
	/*
	 * No registration is left to queue poll_work again: wait for a run
	 * already queued. That is not enough to free the queue. A run clears
	 * PENDING as it starts, so an event may queue the work again while it
	 * runs, and that second run, on another CPU, can end and clear BUSY
	 * while the first is still using the queue: irq_work_sync() then
	 * returns too early. Every run is an RCU reader (a hardirq; on
	 * PREEMPT_RT, irq_workd runs it under rcu_read_lock()), so the queue
	 * is freed after a grace period.
	 */
	irq_work_sync(&kq->poll_work);
	kevent_ring_free(kq);
	put_ucounts(kq->ucounts);
	kfree_rcu(kq, rcu);
}

static int kevent_queue_release(struct inode *inode, struct file *file)
{
	struct kevent_queue *kq = file->private_data;
	struct rb_node *node;

	mutex_lock(&kq->mutex);
	kevent_reap(kq);
	/*
	 * Always restart from the first node: never walk an erased one.
	 * A queue can hold as many registrations as the user may have:
	 * yield between them (the mutex may be held while sleeping).
	 */
	while ((node = rb_first(&kq->index))) {
		kevent_remove(kq, rb_entry(node, struct kevent, node));
		cond_resched();
	}
	mutex_unlock(&kq->mutex);

	kevent_queue_put(kq);
	return 0;
}

static __poll_t kevent_queue_poll(struct file *file, poll_table *wait)
{
	struct kevent_queue *kq = file->private_data;

	if (!poll_does_not_wait(wait)) {
		poll_wait(file, &kq->poll_wait, wait);
		/*
		 * The entry is on poll_wait before we look at the queue: pairs
		 * with the smp_mb() in kevent_wake() between an event and its
		 * lockless look at poll_wait, which add_wait_queue()'s unlock
		 * alone does not order against our loads (as sock_poll_wait()).
		 */
		smp_mb();
	}
	return kevent_queue_has_events(kq) ? EPOLLIN | EPOLLRDNORM : 0;
}

static int kevent_queue_mmap(struct file *file, struct vm_area_struct *vma)
{
	return kevent_ring_mmap(file->private_data, vma);
}

static const struct file_operations kevent_fops = {
	.release	= kevent_queue_release,
	.poll		= kevent_queue_poll,
	.mmap		= kevent_queue_mmap,
	.llseek		= noop_llseek,
};

/* Returns the queue behind @file, or NULL if it is not a kevent file. */
struct kevent_queue *kevent_queue_from_file(struct file *file)
{
	if (file->f_op != &kevent_fops)
		return NULL;
	return file->private_data;
}

struct kevent_queue *kevent_queue_get(struct fd f)
{
	return fd_file(f) ? kevent_queue_from_file(fd_file(f)) : NULL;
}

/*
 * What a new, zeroed queue needs before use that allocates nothing: one
 * reference, an empty index and empty lists. kevent_init() allocates the
 * rest; the KUnit tests use queues with nothing more.
 */
void kevent_queue_setup(struct kevent_queue *kq)
{
	refcount_set(&kq->ref, 1);
	mutex_init(&kq->mutex);
	kq->index = RB_ROOT;
	INIT_LIST_HEAD(&kq->reap);
	spin_lock_init(&kq->lock);
	INIT_LIST_HEAD(&kq->ready);
	INIT_LIST_HEAD(&kq->deferred);
	INIT_LIST_HEAD(&kq->recheck);
	init_waitqueue_head(&kq->wait);
	init_waitqueue_head(&kq->poll_wait);
	init_irq_work(&kq->poll_work, kevent_poll_work);
}

SYSCALL_DEFINE2(kevent_init, const struct kevent_init_args __user *, uargs,
		size_t, usize)
{
	struct kevent_init_args args;
	struct kevent_queue *kq;
	struct file *file;
	int fd, err;

	BUILD_BUG_ON(sizeof(struct kevent_init_args) !=
		     KEVENT_INIT_ARGS_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct ukevent) != 64);

	if (usize < KEVENT_INIT_ARGS_SIZE_VER0)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	err = copy_struct_from_user(&args, sizeof(args), uargs, usize);
	if (err)
		return err;
	if (args.flags & ~KEVENT_INIT_FLAGS)
		return -EINVAL;
	if (args.__reserved0 || args.__reserved1[0] || args.__reserved1[1])
		return -EINVAL;
	if (args.ring_entries > KEVENT_RING_MAX_ENTRIES)
		return -EINVAL;

	kq = kzalloc(sizeof(*kq), GFP_KERNEL_ACCOUNT);
	if (!kq)
		return -ENOMEM;
	kevent_queue_setup(kq);

	err = -ENOMEM;
	kq->ucounts = get_ucounts(current_ucounts());
	if (!kq->ucounts)
		goto out_free;
	if (args.ring_entries) {
		err = kevent_ring_alloc(kq, kevent_ring_entries(args.ring_entries));
		if (err)
			goto out_put;
	}

	fd = get_unused_fd_flags((args.flags & KEVENT_INIT_CLOEXEC) ?
				 O_CLOEXEC : 0);
	if (fd < 0) {
		err = fd;
		goto out_ring;
	}
	file = anon_inode_getfile("[kevent]", &kevent_fops, kq,
				  O_RDWR | ((args.flags & KEVENT_INIT_NONBLOCK) ?
					    O_NONBLOCK : 0));
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		err = PTR_ERR(file);
		goto out_ring;
	}
	fd_install(fd, file);
	return fd;

out_ring:
	kevent_ring_free(kq);
out_put:
	put_ucounts(kq->ucounts);
out_free:
	kfree(kq);
	return err;
}

/*
 * Apply @nr changes in order under one hold of the queue mutex. Each
 * change gets its own result; a failing change does not stop the batch.
 * Returns the number of changes that failed, or -EFAULT if a change
 * could not be read or its result written (the ones before it applied).
 */
SYSCALL_DEFINE4(kevent_ctl, int, fd, struct ukevent __user *, changes,
		unsigned int, nr, unsigned int, flags)
{
	struct kevent_queue *kq;
	unsigned int i;
	int failed = 0;
	struct fd f;

	if (flags || nr > INT_MAX)
		return -EINVAL;

	f = fdget(fd);
	if (!fd_file(f))
		return -EBADF;
	kq = kevent_queue_get(f);
	if (!kq) {
		fdput(f);
		return -EINVAL;
	}

	mutex_lock(&kq->mutex);
	kevent_reap(kq);
	for (i = 0; i < nr; i++) {
		struct ukevent uk;
		int result;

		if (copy_from_user(&uk, &changes[i], sizeof(uk))) {
			failed = -EFAULT;
			break;
		}
		result = kevent_ctl_one(kq, &uk);
		if (put_user(result, &changes[i].result)) {
			failed = -EFAULT;
			break;
		}
		if (result)
			failed++;
		/* nr is the caller's: yield between changes. */
		cond_resched();
	}
	mutex_unlock(&kq->mutex);
	fdput(f);
	return failed;
}

/* What one registration costs, for the default per-user limit. */
#define KEVENT_REGISTRATION_COST	(sizeof(struct kevent) + 128)

static long kevent_zero;
static long kevent_int_max = INT_MAX;

static struct ctl_table kevent_sysctls[] = {
	{
		.procname	= "max_user_registrations",
		.data		= &init_user_ns.ucount_max[UCOUNT_KEVENT_REGISTRATIONS],
		.maxlen		= sizeof(long),
		.mode		= 0644,
		.proc_handler	= proc_doulongvec_minmax,
		.extra1		= &kevent_zero,
		.extra2		= &kevent_int_max,
	},
};

static int __init kevent_sysctl_init(void)
{
	struct sysinfo si;

	/* As epoll's max_user_watches: 4% of low memory. */
	si_meminfo(&si);
	init_user_ns.ucount_max[UCOUNT_KEVENT_REGISTRATIONS] =
		(((si.totalram - si.totalhigh) / 25) << PAGE_SHIFT) /
		KEVENT_REGISTRATION_COST;
	register_sysctl_init("fs/kevent", kevent_sysctls);
	return 0;
}
fs_initcall(kevent_sysctl_init);
