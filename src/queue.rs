//! The event queue: a binary min-heap ordered by (time, insertion sequence), with FIFO lanes for
//! events scheduled a fixed delay after now.
//!
//! Ordering by an insertion sequence as the tie-breaker makes simultaneous events run first-in
//! first-out, so a run never depends on the heap's internal layout.
//!
//! Most events of a busy run are timeouts armed a fixed delay after now (an attempt's timeout, a
//! call's, a probe's). Events with the same delay are pushed in (time, sequence) order, because
//! now never goes back, so each delay gets a FIFO lane whose head alone competes for the front.
//! The order of events is exactly that of one heap; only the heap is smaller.
//!
//! A component that keeps one pending wake-up and moves it often (a datastore's next query
//! completion, a client's next arrival) gets a timer instead: re-arming it replaces its event in
//! place, with a new sequence number, so nothing stale is left behind to pop.

use crate::heap::MinHeap;
use crate::time::TimeUs;
use std::collections::VecDeque;

/// The most distinct delays that get a lane; events with other delays go to the heap.
const MAX_LANES: usize = 16;

/// The key of an empty lane or a disarmed timer: after every real event.
const NONE: (TimeUs, u64) = (TimeUs::MAX, u64::MAX);

/// The smallest key that is not `NONE`, with its index.
#[inline(always)]
fn earliest(keys: &[(TimeUs, u64)]) -> Option<((TimeUs, u64), usize)> {
    let mut best = (NONE, usize::MAX);
    for (i, &key) in keys.iter().enumerate() {
        if key < best.0 {
            best = (key, i);
        }
    }
    (best.1 != usize::MAX).then_some(best)
}

#[derive(Clone)]
struct Entry<E> {
    time_us: TimeUs,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.time_us, self.seq) == (other.time_us, other.seq)
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    #[inline(always)]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.time_us, self.seq).cmp(&(other.time_us, other.seq))
    }
}

/// Events of one fixed delay, in the order they were pushed (which is (time, seq) order).
#[derive(Clone)]
struct Lane<E> {
    delay_us: TimeUs,
    events: VecDeque<(TimeUs, u64, E)>,
}

/// Where the earliest event outside the heap is: a lane's head or an armed timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Lane(usize),
    Timer(usize),
}

/// The earliest pending event, as found by [`EventQueue::front`]: its time and where it is.
/// Valid until the queue next changes; [`EventQueue::take`] removes it without searching again.
#[derive(Clone, Copy, Debug)]
pub struct Front {
    /// When it is due.
    pub time_us: TimeUs,
    /// A lane's head or a timer; none: the heap's top.
    source: Option<Source>,
}

/// Pending events, earliest first; equal times in insertion order.
///
/// Three stores hold them: a heap for events at arbitrary times, FIFO lanes for events a fixed
/// delay after now, and re-armable timers. The heads of the few lanes and timers are compared
/// directly (the earliest of them is cached), so only arbitrary events pay for the heap.
#[derive(Clone)]
pub struct EventQueue<E> {
    heap: MinHeap<Entry<E>>,
    lanes: Vec<Lane<E>>,
    /// Events held in lanes.
    in_lanes: usize,
    next_seq: u64,
    /// The latest `now_us` given to `push_after`: lanes rely on it never going back.
    last_now_us: TimeUs,
    /// Each lane's head as (time, seq), or `NONE` when empty: a flat array to scan quickly.
    lane_keys: Vec<(TimeUs, u64)>,
    /// Re-armable single events, by timer id.
    timers: Vec<Option<(TimeUs, u64, E)>>,
    /// Each timer's (time, seq), or `NONE` when disarmed.
    timer_keys: Vec<(TimeUs, u64)>,
    /// Timers armed.
    armed_timers: usize,
    /// The earliest lane head, with its (time, seq).
    first_lane: Option<((TimeUs, u64), Source)>,
    /// The earliest armed timer, with its (time, seq).
    first_timer: Option<((TimeUs, u64), Source)>,
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
            heap: MinHeap::new(),
            lanes: Vec::new(),
            in_lanes: 0,
            next_seq: 0,
            last_now_us: 0,
            lane_keys: Vec::new(),
            timers: Vec::new(),
            timer_keys: Vec::new(),
            armed_timers: 0,
            first_lane: None,
            first_timer: None,
        }
    }

    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Schedules `event` at `time_us`.
    pub fn push(&mut self, time_us: TimeUs, event: E) {
        let seq = self.take_seq();
        self.heap.push(Entry {
            time_us,
            seq,
            event,
        });
    }

    /// Schedules `event` `delay_us` after `now_us`, the caller's current time (which never goes
    /// back). Runs in exactly the same order as `push(now_us + delay_us, event)`, but keeps the
    /// heap small when many events share a delay.
    // Inlined natively: the event is then written where it is stored, instead of through the
    // caller's stack, which stalls on store forwarding (-9% of error-flood's time). Not in wasm,
    // where size comes first.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    pub fn push_after(&mut self, now_us: TimeUs, delay_us: TimeUs, event: E) {
        let time_us = now_us.saturating_add(delay_us);
        if now_us < self.last_now_us {
            // Not the caller's clock: lanes would lose their order, so use the heap.
            return self.push(time_us, event);
        }
        self.last_now_us = now_us;
        let lane = match self.lanes.iter().position(|l| l.delay_us == delay_us) {
            Some(lane) => lane,
            None if self.lanes.len() < MAX_LANES => {
                self.lanes.push(Lane {
                    delay_us,
                    events: VecDeque::new(),
                });
                self.lane_keys.push(NONE);
                self.lanes.len() - 1
            }
            None => return self.push(time_us, event),
        };
        let seq = self.take_seq();
        let events = &mut self.lanes[lane].events;
        events.push_back((time_us, seq, event));
        self.in_lanes += 1;
        if events.len() == 1 {
            self.lane_keys[lane] = (time_us, seq);
            if self
                .first_lane
                .is_none_or(|(first, _)| (time_us, seq) < first)
            {
                self.first_lane = Some(((time_us, seq), Source::Lane(lane)));
            }
        }
    }

    /// Arms timer `id` for `event` at `time_us`, replacing what it held: it runs as if pushed
    /// now, and whatever the timer held before never runs.
    // Inlined natively: the event is then written where it is stored, instead of through the
    // caller's stack, which stalls on store forwarding (-9% of error-flood's time). Not in wasm,
    // where size comes first.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    pub fn set_timer(&mut self, id: usize, time_us: TimeUs, event: E) {
        if self.timers.len() <= id {
            self.timers.resize_with(id + 1, || None);
            self.timer_keys.resize(id + 1, NONE);
        }
        let seq = self.take_seq();
        let was_armed = self.timers[id].replace((time_us, seq, event)).is_some();
        self.timer_keys[id] = (time_us, seq);
        if !was_armed {
            self.armed_timers += 1;
        }
        if self
            .first_timer
            .is_some_and(|(_, s)| s == Source::Timer(id))
        {
            self.find_first_timer();
        } else if self
            .first_timer
            .is_none_or(|(first, _)| (time_us, seq) < first)
        {
            self.first_timer = Some(((time_us, seq), Source::Timer(id)));
        }
    }

    /// Disarms timer `id`.
    pub fn clear_timer(&mut self, id: usize) {
        if let Some(timer) = self.timers.get_mut(id)
            && timer.take().is_some()
        {
            self.timer_keys[id] = NONE;
            self.armed_timers -= 1;
            if self
                .first_timer
                .is_some_and(|(_, s)| s == Source::Timer(id))
            {
                self.find_first_timer();
            }
        }
    }

    /// Finds the earliest lane head from scratch.
    #[inline(always)]
    fn find_first_lane(&mut self) {
        self.first_lane = earliest(&self.lane_keys).map(|(key, i)| (key, Source::Lane(i)));
    }

    /// Finds the earliest armed timer from scratch.
    #[inline(always)]
    fn find_first_timer(&mut self) {
        self.first_timer = earliest(&self.timer_keys).map(|(key, i)| (key, Source::Timer(i)));
    }

    /// The first source, if it runs before the heap's first entry.
    #[inline(always)]
    fn source_first(&self) -> Option<Source> {
        let (key, source) = match (self.first_lane, self.first_timer) {
            (Some(lane), Some(timer)) => lane.min(timer),
            (lane, timer) => lane.or(timer)?,
        };
        match self.heap.peek() {
            Some(entry) if (entry.time_us, entry.seq) < key => None,
            _ => Some(source),
        }
    }

    /// Time of the earliest pending event.
    pub fn peek_time_us(&self) -> Option<TimeUs> {
        self.front().map(|front| front.time_us)
    }

    /// The earliest pending event and its time, left in place.
    pub fn peek(&self) -> Option<(TimeUs, &E)> {
        self.front()
            .map(|front| (front.time_us, self.event(&front)))
    }

    /// Where the earliest pending event is, and when it is due.
    #[inline(always)]
    pub fn front(&self) -> Option<Front> {
        match self.source_first() {
            Some(source) => {
                let time_us = match source {
                    Source::Lane(lane) => self.lane_keys[lane].0,
                    Source::Timer(id) => self.timer_keys[id].0,
                };
                Some(Front {
                    time_us,
                    source: Some(source),
                })
            }
            None => self.heap.peek().map(|entry| Front {
                time_us: entry.time_us,
                source: None,
            }),
        }
    }

    /// The event at `front` (found by [`EventQueue::front`] since the queue last changed).
    #[inline(always)]
    pub fn event(&self, front: &Front) -> &E {
        match front.source {
            Some(Source::Lane(lane)) => &self.lanes[lane].events.front().expect("a head").2,
            Some(Source::Timer(id)) => &self.timers[id].as_ref().expect("armed").2,
            None => &self.heap.peek().expect("a top").event,
        }
    }

    /// Removes the event at `front` (found by [`EventQueue::front`] since the queue last
    /// changed) and returns it.
    #[inline(always)]
    pub fn take(&mut self, front: Front) -> E {
        self.take_from(front.source).1
    }

    /// Removes and returns the earliest event with its time.
    pub fn pop(&mut self) -> Option<(TimeUs, E)> {
        if self.is_empty() {
            return None;
        }
        Some(self.take_from(self.source_first()))
    }

    /// Removes the first event of `source` (none: the heap's top).
    #[inline(always)]
    fn take_from(&mut self, source: Option<Source>) -> (TimeUs, E) {
        match source {
            Some(Source::Lane(lane)) => {
                let events = &mut self.lanes[lane].events;
                let (time, _, event) = events.pop_front().expect("a head");
                self.lane_keys[lane] = events.front().map_or(NONE, |&(t, s, _)| (t, s));
                self.in_lanes -= 1;
                self.find_first_lane();
                (time, event)
            }
            Some(Source::Timer(id)) => {
                let (time, _, event) = self.timers[id].take().expect("armed");
                self.timer_keys[id] = NONE;
                self.armed_timers -= 1;
                self.find_first_timer();
                (time, event)
            }
            None => {
                let entry = self.heap.pop().expect("a top");
                (entry.time_us, entry.event)
            }
        }
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len() + self.in_lanes + self.armed_timers
    }

    /// True when no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held by the queue's buffers (for memory budgets).
    pub fn heap_bytes(&self) -> usize {
        self.heap.capacity() * std::mem::size_of::<Entry<E>>()
            + self
                .lanes
                .iter()
                .map(|l| l.events.capacity() * std::mem::size_of::<(TimeUs, u64, E)>())
                .sum::<usize>()
            + self.timers.capacity() * std::mem::size_of::<Option<(TimeUs, u64, E)>>()
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

    /// Lanes change nothing about the order: a random mix of plain and delayed pushes, with pops
    /// in between, comes out exactly as from a plain heap.
    #[test]
    fn lanes_keep_the_order_of_a_plain_heap() {
        let mut rng = crate::rng::Rng::new(7);
        let mut laned = EventQueue::new();
        let mut plain = EventQueue::new();
        let mut now = 0;
        let delays = [5, 10, 10, 250, 1_000, 0];
        for id in 0..20_000u32 {
            match rng.below(4) {
                0 => {
                    let at = now + rng.below(2_000);
                    laned.push(at, id);
                    plain.push(at, id);
                }
                1 | 2 => {
                    let delay = delays[rng.below(delays.len() as u64) as usize];
                    laned.push_after(now, delay, id);
                    plain.push(now + delay, id);
                }
                _ => {
                    let a = laned.pop();
                    assert_eq!(a, plain.pop());
                    if let Some((t, _)) = a {
                        now = t;
                    }
                }
            }
            assert_eq!(laned.len(), plain.len());
        }
        while let Some(a) = plain.pop() {
            assert_eq!(laned.pop(), Some(a));
        }
        assert!(laned.is_empty());
    }

    /// Heap, lanes and timers together run exactly as one ordered map of (time, seq) in which a
    /// re-armed timer's earlier event is removed.
    #[test]
    fn heap_lanes_and_timers_together_match_an_ordered_map() {
        use std::collections::BTreeMap;
        let mut rng = crate::rng::Rng::new(11);
        let mut queue = EventQueue::new();
        let mut reference: BTreeMap<(TimeUs, u64), u32> = BTreeMap::new();
        let mut timer_keys: [Option<(TimeUs, u64)>; 3] = [None; 3];
        let mut seq = 0u64;
        let mut now = 0;
        for id in 0..30_000u32 {
            match rng.below(6) {
                0 => {
                    let at = now + rng.below(500);
                    queue.push(at, id);
                    reference.insert((at, seq), id);
                    seq += 1;
                }
                1 | 2 => {
                    let delay = [0, 7, 100, 100, 900][rng.below(5) as usize];
                    queue.push_after(now, delay, id);
                    reference.insert((now + delay, seq), id);
                    seq += 1;
                }
                3 => {
                    let timer = rng.below(3) as usize;
                    if rng.below(5) == 0 {
                        queue.clear_timer(timer);
                        if let Some(key) = timer_keys[timer].take() {
                            reference.remove(&key);
                        }
                    } else {
                        let at = now + rng.below(300);
                        queue.set_timer(timer, at, id);
                        if let Some(key) = timer_keys[timer].replace((at, seq)) {
                            reference.remove(&key);
                        }
                        reference.insert((at, seq), id);
                        seq += 1;
                    }
                }
                _ => {
                    let expected = reference.pop_first().map(|((t, s), id)| {
                        for key in timer_keys.iter_mut() {
                            if *key == Some((t, s)) {
                                *key = None;
                            }
                        }
                        (t, id)
                    });
                    assert_eq!(queue.peek().map(|(t, &e)| (t, e)), expected);
                    assert_eq!(queue.pop(), expected);
                    if let Some((t, _)) = expected {
                        now = t;
                    }
                }
            }
            assert_eq!(queue.len(), reference.len());
        }
    }

    /// A timer runs in the place of its latest arming, exactly like a push at that moment whose
    /// earlier versions were removed.
    #[test]
    fn timers_run_as_their_latest_push() {
        let mut queue = EventQueue::new();
        queue.push(10, "a");
        queue.set_timer(0, 5, "t-old");
        queue.push(20, "b");
        queue.set_timer(0, 20, "t"); // same time as b, pushed after it
        queue.set_timer(1, 10, "u"); // same time as a, pushed after it
        queue.push(20, "c");
        let order: Vec<_> = std::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(
            order,
            vec![(10, "a"), (10, "u"), (20, "b"), (20, "t"), (20, "c")]
        );
        queue.set_timer(3, 1, "x");
        queue.clear_timer(3);
        assert!(queue.is_empty());
        assert_eq!(queue.pop(), None);
    }
}
