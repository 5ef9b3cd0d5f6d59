// SPDX-License-Identifier: GPL-2.0
/*
 * kevent ready ring: a single-producer (kernel), single-consumer (user
 * space) ring of struct ukevent shared through mmap of the queue fd.
 *
 * The kernel writes tail and the free slots; user space writes head and
 * reads the unread slots in [head, tail). Memory ordering, each pair
 * written once here and in the UAPI:
 *
 *  (A) kernel: fill slot, smp_store_release(&ring->tail)
 *      user:   load-acquire tail, then read the slots before it.
 *  (B) user:   read slots, then store-release head
 *      kernel: smp_load_acquire(&ring->head), then reuse the slots before
 *              it, so a slot is never rewritten while still being read.
 *
 * The kernel keeps its own copy of tail and never reads it back from the
 * shared page. The head written by user space is only used through
 * kevent_ring_unread(), which clamps it, so a corrupt head can make the
 * ring look full but never lets the kernel write outside it or overwrite
 * an unread slot.
 */

#include <linux/mm.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "kevent.h"

int kevent_ring_alloc(struct kevent_queue *kq, u32 entries)
{
	size_t size = PAGE_ALIGN(KEVENT_RING_SIZE(entries));
	struct kevent_ring *ring;

	/*
	 * vmalloc_user() with the memory charged to the caller's memcg. The
	 * size is the caller's choice (up to 64 MiB): a failure is its
	 * ENOMEM, not a warning in the kernel log.
	 */
	ring = __vmalloc_node_range(size, SHMLBA, VMALLOC_START, VMALLOC_END,
				    GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN,
				    PAGE_KERNEL, VM_USERMAP, NUMA_NO_NODE,
				    __builtin_return_address(0));
	if (!ring)
		return -ENOMEM;
	ring->entries = entries;
	ring->mask = entries - 1;
	kq->ring = ring;
	kq->ring_entries = entries;
	kq->ring_mask = entries - 1;
	kq->ring_size = size;
	return 0;
}

void kevent_ring_free(struct kevent_queue *kq)
{
	vfree(kq->ring);
	kq->ring = NULL;
}

int kevent_ring_mmap(struct kevent_queue *kq, struct vm_area_struct *vma)
{
	if (!kq->ring)
		return -ENODEV;
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start > kq->ring_size)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	return remap_vmalloc_range(vma, kq->ring, 0);
}

/*
 * Build @kev's event in the free slot @tail. User space does not read the
 * slot before the tail is published, and the kernel never reads it back.
 * Called with kq->lock held; @kev is not queued.
 */
static void kevent_ring_write(struct kevent_queue *kq, struct kevent *kev,
			      u32 tail)
{
	u64 count = kevent_fill(kev, &kq->ring->events[tail & kq->ring_mask]);

	kev->ring_pos = tail;
	kev->state |= KEVENT_STATE_POSTED;
	kevent_delivered(kq, kev, count);
}

/*
 * Move ready registrations into free ring slots, oldest first, and publish
 * them with one store-release of tail. Whatever does not fit stays on the
 * ready list, in order, and KEVENT_RING_OVERFLOW tells user space that
 * events wait in the kernel. Called with kq->lock held, from any context.
 */
void kevent_ring_flush(struct kevent_queue *kq)
{
	struct kevent_ring *ring = kq->ring;
	u32 tail = kq->ring_tail;
	struct kevent *kev, *next;
	u32 head, space;

	if (list_empty(&kq->ready) && list_empty(&kq->deferred))
		goto out;

	/* Pairs with the consumer's store-release of head: (B) above. */
	head = smp_load_acquire(&ring->head);

	/*
	 * Deferred registrations whose last entry has been read are due.
	 * Each was deferred with its entry unread, and an entry is read only
	 * once head moves past it, so the list is walked only when head has
	 * moved since the last walk, not on every wake-up in between. (A
	 * consumer that moves head backwards only delays its own events.)
	 */
	if (head != kq->deferred_head) {
		kq->deferred_head = head;
		list_for_each_entry_safe(kev, next, &kq->deferred, ready_link) {
			if (kevent_ring_entry_unread(kq, kev, head))
				continue;
			kev->state &= ~KEVENT_STATE_DEFERRED;
			list_move_tail(&kev->ready_link, &kq->ready);
		}
	}

	space = kevent_ring_space(head, tail, kq->ring_entries);
	while (space && !list_empty(&kq->ready)) {
		kev = list_first_entry(&kq->ready, struct kevent, ready_link);
		kevent_unqueue(kq, kev);
		kevent_ring_write(kq, kev, tail);
		tail++;
		space--;
	}
	if (tail != kq->ring_tail) {
		kq->ring_tail = tail;
		/* Publish the slots: (A) above. */
		smp_store_release(&ring->tail, tail);
	}
out:
	kevent_ring_show_flags(kq);
	WRITE_ONCE(ring->overflow, kq->ring_overflow);
}

/*
 * @kev, deferred until its last entry is read, has been reported again. If
 * user space has read the entry since, post @kev now, with whatever else
 * is due, rather than leave it to the next harvest or to an event of
 * another registration: a consumer that watches the queue instead of
 * sleeping in kevent_wait() is told by this report or not at all. Returns
 * true if the waiters have a new event. Called with kq->lock held.
 */
bool kevent_ring_post_due(struct kevent_queue *kq, struct kevent *kev)
{
	/* Pairs with the consumer's store-release of head: (B) above. */
	u32 head = smp_load_acquire(&kq->ring->head);

	if (kevent_ring_entry_unread(kq, kev, head))
		return false;
	kevent_ring_flush(kq);
	return true;
}

/*
 * Whether an event may be written straight into the ring: nothing waits in
 * the kernel to go first and a slot is free. Deferred registrations wait
 * for their entries to be read; none can have become due while head is
 * where the last walk of the list saw it (kevent_ring_flush()). @head was
 * loaded with acquire, (B) above. Called with kq->lock held.
 */
static bool kevent_ring_has_room(struct kevent_queue *kq, u32 head)
{
	return list_empty(&kq->ready) &&
	       (list_empty(&kq->deferred) || head == kq->deferred_head) &&
	       kevent_ring_space(head, kq->ring_tail, kq->ring_entries);
}

/*
 * Publish the one slot just built at the old tail. The ready list is
 * empty, so clear a KEVENT_RING_OVERFLOW left by a removal that emptied
 * it; KEVENT_RING_REPOLL is kept up to date where it changes. Called with
 * kq->lock held.
 */
static void kevent_ring_publish_one(struct kevent_queue *kq)
{
	kq->ring_tail++;
	/* Publish the slot: (A) above. */
	smp_store_release(&kq->ring->tail, kq->ring_tail);
	if (unlikely(kq->ring_flags & KEVENT_RING_OVERFLOW))
		kevent_ring_show_flags(kq);
}

/*
 * Post @kev, which has just become ready and is not queued, straight into
 * the ring. @head was loaded with acquire, (B) above. Returns false,
 * leaving @kev untouched, when it must go through the ready list instead:
 * events wait there already (they go first) or the ring is full. Called
 * with kq->lock held.
 */
bool kevent_ring_post(struct kevent_queue *kq, struct kevent *kev, u32 head)
{
	if (!kevent_ring_has_room(kq, head))
		return false;
	/* @kev is delivered whole: its count cannot grow under kq->lock. */
	kevent_ring_write(kq, kev, kq->ring_tail);
	kevent_ring_publish_one(kq);
	return true;
}

/*
 * Whether an event of @kev can be delivered by writing it into the ring
 * and nothing more than kevent_delivered() does for a registration that
 * has nothing pending: no oneshot removal and no disabling.
 */
static bool kevent_delivery_is_plain(const struct kevent *kev)
{
	return !(kev->flags & (KEVENT_REQ_ONESHOT | KEVENT_REQ_DISPATCH));
}

/*
 * kevent_ready() for @kev on a queue with a ring, when @kev has nothing
 * pending and is armed, its delivery is plain and the ring has room (and,
 * if it has at most one unread entry, its last one has been read). The
 * event is built from the report itself and published, and @kev is left
 * as it was, with nothing pending, and due for a re-poll if it is re-polled
 * after each delivery. That is where kevent_ready(), kevent_post_locked(),
 * kevent_ring_post() and kevent_delivered() would leave it too, minus the
 * detour through the pending state. Returns false, leaving @kev
 * untouched, otherwise. Called with kq->lock held.
 */
bool kevent_ring_post_direct(struct kevent_queue *kq, struct kevent *kev,
			     u32 mask, u64 count, u64 value, u32 ret_flags)
{
	u32 tail = kq->ring_tail;
	u32 head;

	if (kev->pending_count ||
	    (kev->state & (KEVENT_STATE_QUEUED | KEVENT_STATE_DISABLED |
			   KEVENT_STATE_DEAD)) ||
	    !kevent_delivery_is_plain(kev))
		return false;
	/* Pairs with the consumer's store-release of head: (B) above. */
	head = smp_load_acquire(&kq->ring->head);
	if (!kevent_ring_has_room(kq, head) ||
	    kevent_waits_for_entry(kq, kev, head))
		return false;
	kevent_build_event(kev, &kq->ring->events[tail & kq->ring_mask], mask,
			   ret_flags, count, value);
	kev->ring_pos = tail;
	kev->state |= KEVENT_STATE_POSTED;
	kevent_ring_publish_one(kq);
	/*
	 * As kevent_delivered() with nothing left pending, for an event that
	 * did not wait: a re-poll that reports it goes on collecting.
	 */
	if (kevent_rechecks_after_delivery(kev))
		kevent_recheck_link(kq, kev);
	return true;
}

/*
 * kevent_get_events() on a queue with a ring: the kernel acts as the
 * consumer. Caller holds kq->mutex, which serialises kernel consumers.
 */
int kevent_ring_copy_to_user(struct kevent_queue *kq,
			     struct ukevent __user *events, u32 max)
{
	struct kevent_ring *ring = kq->ring;
	u32 head, tail, n, i;

	spin_lock_irq(&kq->lock);
	kevent_ring_flush(kq);
	tail = kq->ring_tail;
	spin_unlock_irq(&kq->lock);

	/* Slots before tail are stable until head passes them. */
	head = smp_load_acquire(&ring->head);
	if (tail - head > kq->ring_entries)
		return -EINVAL;
	n = min(tail - head, max);
	for (i = 0; i < n; i++) {
		if (copy_to_user(&events[i],
				 &ring->events[(head + i) & kq->ring_mask],
				 sizeof(*events)))
			break;
	}
	if (!i && n)
		return -EFAULT;
	/* Free the copied slots for the producer: (B) above. */
	smp_store_release(&ring->head, head + i);

	spin_lock_irq(&kq->lock);
	kevent_ring_flush(kq);
	spin_unlock_irq(&kq->lock);
	return i;
}
