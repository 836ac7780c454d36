//! A 4-ary min-heap: the event queue's store for events at arbitrary times, and a datastore's
//! finishing order.
//!
//! A node's four children sit side by side in memory and the tree is half as deep as a binary
//! one, so a pop from a heap of thousands touches fewer cache lines than `BinaryHeap` does. Items
//! with equal keys come out in no particular order, so callers give every item a unique key
//! (the event queue's insertion sequence, a query's slot and generation): the order is then fully
//! determined by the keys.

/// Children per node.
const ARITY: usize = 4;

/// A min-heap: [`MinHeap::pop`] gives the least item first.
#[derive(Clone, Debug)]
pub struct MinHeap<T> {
    items: Vec<T>,
}

impl<T> Default for MinHeap<T> {
    fn default() -> Self {
        MinHeap { items: Vec::new() }
    }
}

impl<T: Ord> MinHeap<T> {
    /// An empty heap.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Items it can hold without growing.
    pub fn capacity(&self) -> usize {
        self.items.capacity()
    }

    /// The least item.
    pub fn peek(&self) -> Option<&T> {
        self.items.first()
    }

    /// Adds an item.
    #[inline(always)]
    pub fn push(&mut self, item: T) {
        // Parents larger than the item move down into the hole, which rises; the item goes
        // where the hole stops (one move per level instead of a swap).
        let mut i = self.items.len();
        self.items.push(item);
        let items = self.items.as_mut_slice();
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if items[parent] <= items[i] {
                break;
            }
            items.swap(i, parent);
            i = parent;
        }
    }

    /// Removes and returns the least item.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<T> {
        let last = self.items.pop()?;
        if self.items.is_empty() {
            return Some(last);
        }
        let top = std::mem::replace(&mut self.items[0], last);
        self.sift_down();
        Some(top)
    }

    /// Moves the root down to its place.
    #[inline(always)]
    fn sift_down(&mut self) {
        let items = self.items.as_mut_slice();
        let len = items.len();
        let mut i = 0;
        loop {
            let first = i * ARITY + 1;
            if first >= len {
                break;
            }
            let mut least = first;
            if first + ARITY <= len {
                // A full set of children: compare them without bounds checks per child.
                let children = &items[first..first + ARITY];
                for (c, child) in children.iter().enumerate().skip(1) {
                    if *child < items[least] {
                        least = first + c;
                    }
                }
            } else {
                for c in first + 1..len {
                    if items[c] < items[least] {
                        least = c;
                    }
                }
            }
            if items[i] <= items[least] {
                break;
            }
            items.swap(i, least);
            i = least;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    proptest! {
        /// Pushes and pops, interleaved, give what `BinaryHeap` gives.
        #[test]
        fn behaves_as_a_binary_heap(ops in prop::collection::vec(prop::option::of(0u32..50), 0..400)) {
            let mut ours = MinHeap::new();
            let mut std_heap = BinaryHeap::new();
            for (seq, op) in ops.into_iter().enumerate() {
                match op {
                    Some(key) => {
                        ours.push((key, seq));
                        std_heap.push(Reverse((key, seq)));
                    }
                    None => prop_assert_eq!(ours.pop(), std_heap.pop().map(|r| r.0)),
                }
                prop_assert_eq!(ours.peek(), std_heap.peek().map(|r| &r.0));
                prop_assert_eq!(ours.len(), std_heap.len());
            }
            while let Some(item) = std_heap.pop() {
                prop_assert_eq!(ours.pop(), Some(item.0));
            }
            prop_assert!(ours.is_empty());
        }
    }
}
