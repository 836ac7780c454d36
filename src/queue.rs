//! The event queue: a binary min-heap ordered by (time, insertion sequence).
//!
//! Ordering by an insertion sequence as the tie-breaker makes simultaneous events run first-in
//! first-out, so a run never depends on the heap's internal layout.

use crate::time::TimeUs;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Entry<E> {
    time_us: TimeUs,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time_us == other.time_us && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest (time, seq) first.
        (other.time_us, other.seq).cmp(&(self.time_us, self.seq))
    }
}

impl<E: Clone> Clone for Entry<E> {
    fn clone(&self) -> Self {
        Entry {
            time_us: self.time_us,
            seq: self.seq,
            event: self.event.clone(),
        }
    }
}

/// Pending events, earliest first; equal times in insertion order.
#[derive(Clone)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

impl<E: Clone> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Clone> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time_us`.
    pub fn push(&mut self, time_us: TimeUs, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry {
            time_us,
            seq,
            event,
        });
    }

    /// Time of the earliest pending event.
    pub fn peek_time_us(&self) -> Option<TimeUs> {
        self.heap.peek().map(|entry| entry.time_us)
    }

    /// Removes and returns the earliest event with its time.
    pub fn pop(&mut self) -> Option<(TimeUs, E)> {
        self.heap.pop().map(|entry| (entry.time_us, entry.event))
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_then_insertion_order() {
        let mut queue = EventQueue::new();
        queue.push(30, "c");
        queue.push(10, "a1");
        queue.push(20, "b");
        queue.push(10, "a2");
        queue.push(10, "a3");
        let order: Vec<_> = std::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(
            order,
            vec![(10, "a1"), (10, "a2"), (10, "a3"), (20, "b"), (30, "c")]
        );
    }

    #[test]
    fn peek_reports_the_earliest_time() {
        let mut queue = EventQueue::new();
        assert_eq!(queue.peek_time_us(), None);
        queue.push(5, ());
        queue.push(2, ());
        assert_eq!(queue.peek_time_us(), Some(2));
        assert_eq!(queue.len(), 2);
    }
}
