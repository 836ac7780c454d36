//! A generational slab: the one table of live things (requests, jobs, probe checks, datastore
//! queries) whose keys outlive them in the event queue.
//!
//! A key is a slot and the generation the slot had when the value was inserted. Every insert bumps
//! its slot's generation, so an event that still holds the key of something that ended (a
//! time-out for a request that succeeded, a wake-up for a killed query) finds nothing: `get`
//! answers only for the live value of that very generation. Freed slots are reused last freed
//! first, so the slot numbers a run hands out, like everything else in it, follow from the
//! scenario and the seed alone.

/// A slot and the generation of the value it names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// The slot.
    pub slot: u32,
    /// The slot's generation when the value was inserted.
    pub generation: u32,
}

impl Key {
    /// Slot and generation in one number (for the trace hash).
    pub fn packed(self) -> u64 {
        ((self.slot as u64) << 32) | self.generation as u64
    }
}

#[derive(Clone, Debug)]
struct Entry<T> {
    generation: u32,
    value: Option<T>,
}

/// Values that live for a while, named by [`Key`]s that go stale when they end.
#[derive(Clone, Debug)]
pub struct Slab<T> {
    entries: Vec<Entry<T>>,
    /// Free slots, the last freed on top.
    free: Vec<u32>,
    live: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            entries: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }
}

impl<T> Slab<T> {
    /// Stores `value` in the last freed slot (or a new one) under the slot's next generation.
    #[inline(always)]
    pub fn insert(&mut self, value: T) -> Key {
        self.live += 1;
        match self.free.pop() {
            Some(slot) => {
                let entry = &mut self.entries[slot as usize];
                entry.generation = entry.generation.wrapping_add(1);
                entry.value = Some(value);
                Key {
                    slot,
                    generation: entry.generation,
                }
            }
            None => {
                self.entries.push(Entry {
                    generation: 1,
                    value: Some(value),
                });
                Key {
                    slot: (self.entries.len() - 1) as u32,
                    generation: 1,
                }
            }
        }
    }

    /// The live value `key` names, if it has not ended.
    #[inline(always)]
    pub fn get(&self, key: Key) -> Option<&T> {
        match self.entries.get(key.slot as usize) {
            Some(entry) if entry.generation == key.generation => entry.value.as_ref(),
            _ => None,
        }
    }

    /// The live value `key` names, to change it.
    #[inline(always)]
    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.entries.get_mut(key.slot as usize) {
            Some(entry) if entry.generation == key.generation => entry.value.as_mut(),
            _ => None,
        }
    }

    /// Gives the live value `key` names a new generation, so that events holding the old key go
    /// stale (a job moving on to its next wait); `None` if it had ended.
    #[inline(always)]
    pub fn renew(&mut self, key: Key) -> Option<Key> {
        let entry = self.entries.get_mut(key.slot as usize)?;
        if entry.generation != key.generation || entry.value.is_none() {
            return None;
        }
        entry.generation = entry.generation.wrapping_add(1);
        Some(Key {
            slot: key.slot,
            generation: entry.generation,
        })
    }

    /// Ends the value `key` names and frees its slot; `None` if it had already ended.
    #[inline(always)]
    pub fn remove(&mut self, key: Key) -> Option<T> {
        let entry = self.entries.get_mut(key.slot as usize)?;
        if entry.generation != key.generation {
            return None;
        }
        let value = entry.value.take()?;
        self.free.push(key.slot);
        self.live -= 1;
        Some(value)
    }

    /// Number of live values.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Slots allocated so far, live or free (the table's high-water mark).
    pub fn slots(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is live.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The live values with their keys, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (Key, &T)> {
        self.entries.iter().enumerate().filter_map(|(slot, entry)| {
            let key = Key {
                slot: slot as u32,
                generation: entry.generation,
            };
            entry.value.as_ref().map(|value| (key, value))
        })
    }

    /// Bytes held by the table (for checkpoint budgets).
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry<T>>() + self.free.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_stale_key_finds_nothing_even_after_its_slot_is_reused() {
        let mut slab = Slab::default();
        let first = slab.insert("first");
        assert_eq!(slab.remove(first), Some("first"));
        let second = slab.insert("second");
        assert_eq!(second.slot, first.slot, "the freed slot is reused");
        assert_eq!(slab.get(first), None);
        assert_eq!(slab.remove(first), None, "a value ends once");
        assert_eq!(slab.get(second), Some(&"second"));
    }

    #[test]
    fn a_renewed_key_replaces_the_old_one() {
        let mut slab = Slab::default();
        let old = slab.insert(7);
        let new = slab.renew(old).unwrap();
        assert_eq!(
            (new.slot, slab.get(old), slab.get(new)),
            (old.slot, None, Some(&7))
        );
        assert_eq!(slab.renew(old), None);
        assert_eq!(slab.remove(new), Some(7));
        assert_eq!(slab.renew(new), None, "an ended value cannot be renewed");
    }

    #[test]
    fn the_last_freed_slot_is_reused_first() {
        let mut slab = Slab::default();
        let keys: Vec<Key> = (0..4).map(|i| slab.insert(i)).collect();
        slab.remove(keys[1]);
        slab.remove(keys[3]);
        assert_eq!(slab.insert(10).slot, 3);
        assert_eq!(slab.insert(11).slot, 1);
        assert_eq!(slab.insert(12).slot, 4);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert,
        Remove(usize),
        RemoveAgain(usize),
    }

    proptest! {
        /// Against a model that remembers every key ever handed out: a key answers exactly while
        /// its value is live, a value ends once, and `len` counts the live ones.
        #[test]
        fn keys_answer_exactly_while_live(ops in prop::collection::vec(
            prop_oneof![
                Just(Op::Insert),
                (0usize..64).prop_map(Op::Remove),
                (0usize..64).prop_map(Op::RemoveAgain),
            ],
            0..300,
        )) {
            let mut slab = Slab::default();
            let mut issued: Vec<(Key, u32, bool)> = Vec::new();
            let mut ended: Vec<usize> = Vec::new();
            for (n, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Insert => issued.push((slab.insert(n as u32), n as u32, true)),
                    Op::Remove(i) if !issued.is_empty() => {
                        let i = i % issued.len();
                        let (key, value, live) = issued[i];
                        prop_assert_eq!(slab.remove(key), live.then_some(value));
                        issued[i].2 = false;
                        ended.push(i);
                    }
                    Op::RemoveAgain(i) if !ended.is_empty() => {
                        let (key, _, _) = issued[ended[i % ended.len()]];
                        prop_assert_eq!(slab.remove(key), None);
                    }
                    _ => {}
                }
                for &(key, value, live) in &issued {
                    prop_assert_eq!(slab.get(key).copied(), live.then_some(value));
                }
                prop_assert_eq!(slab.len(), issued.iter().filter(|i| i.2).count());
                prop_assert_eq!(slab.iter().count(), slab.len());
            }
        }
    }
}
