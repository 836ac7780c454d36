//! A datastore's CPU: running queries share the cores equally (processor sharing), beyond
//! `max_connections` queries wait in a bounded FIFO queue, and a statement timeout kills long ones.
//!
//! Processor sharing is computed with a shared "attained service" clock: every running query
//! receives CPU at the same rate `min(1, cores / running)`, so a query finishes when the clock has
//! advanced by its cost since it started. Queries of a kind whose cost is constant finish in the
//! order they started, so each such kind has a FIFO lane; the others share a min-heap. A killed
//! query's entry stays in its lane or the heap, recognised as dead by its slot's generation, until
//! it reaches the front. Queries that finish together are released in (finish clock, slot) order
//! whichever lane they come from, so lanes change the cost, not the order.

use crate::heap::MinHeap;
use crate::time::TimeUs;
use std::collections::VecDeque;

/// Who is waiting for a query: a job (by slot and generation).
pub type QueryOwner = (u32, u32);

/// A running query's place in the finishing order: (finish clock bits, slot, generation).
type Finishing = (u64, u32, u32);

/// A query in the datastore.
#[derive(Clone, Debug)]
pub struct Query {
    /// Generation: bumps when the slot is reused, so stale events are recognised.
    pub generation: u32,
    /// Who gets the answer.
    pub owner: QueryOwner,
    /// CPU cost, µs.
    pub cost_us: f64,
    /// Attained-service clock value at which it finishes (running queries only).
    pub finish_at: f64,
    /// Whether it is running (else queued or free).
    pub running: bool,
    /// Whether the slot is in use.
    pub live: bool,
    /// Which of the datastore's queries it is (the caller's query index).
    pub kind: u16,
    /// Whether every query of its kind costs the same: it then finishes in its kind's FIFO lane.
    pub constant_cost: bool,
}

impl Query {
    /// Whether it is live and running under `generation`.
    fn runs_as(&self, generation: u32) -> bool {
        self.live && self.running && self.generation == generation
    }
}

/// What became of a query submitted to the datastore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// Running now (slot, generation).
    Running(u32, u32),
    /// Waiting for a connection (slot, generation).
    Queued(u32, u32),
    /// Refused: the queue is full.
    Refused,
}

/// A datastore's run-time state.
#[derive(Clone, Debug, Default)]
pub struct Datastore {
    /// Query slots.
    pub queries: Vec<Query>,
    free: Vec<u32>,
    /// Running queries of variable cost, earliest finish first; may hold dead entries of killed
    /// queries below the top.
    finishing: MinHeap<Finishing>,
    /// Running queries of each constant-cost kind, in starting (hence finishing) order; dead
    /// entries may sit behind the front.
    lanes: Vec<VecDeque<Finishing>>,
    /// Scratch for the entries that fall due together (kept to avoid an allocation per wake-up).
    due: Vec<Finishing>,
    /// Queries running now.
    running_count: usize,
    /// Waiting queries, oldest first.
    pub waiting: VecDeque<u32>,
    /// Attained-service clock, µs of CPU per query.
    clock: f64,
    /// When `clock` was last brought up to date.
    clock_at_us: TimeUs,
    /// Bumps whenever a query starts or ends, i.e. whenever the next completion may move.
    pub wake_generation: u32,
    /// The wake-up armed in the event queue: (when, `wake_generation` when armed).
    pub wake_armed: Option<(TimeUs, u32)>,
    /// Busy core·µs accumulated in the current metrics window.
    pub busy_core_us: f64,
    /// Queries that started running since the owner last looked (slot, generation): the owner
    /// arms their statement timeouts, which count from the start, not from the submit.
    pub started: Vec<(u32, u32)>,
}

impl Datastore {
    /// Bytes held by the query tables.
    pub fn heap_bytes(&self) -> usize {
        self.queries.capacity() * std::mem::size_of::<Query>()
            + self.free.capacity() * 4
            + self.finishing.capacity() * std::mem::size_of::<Finishing>()
            + self
                .lanes
                .iter()
                .map(|lane| lane.capacity() * std::mem::size_of::<Finishing>())
                .sum::<usize>()
            + self.waiting.capacity() * 4
            + self.started.capacity() * 8
            + self.due.capacity() * std::mem::size_of::<Finishing>()
    }

    /// Number of running queries.
    pub fn running(&self) -> usize {
        self.running_count
    }

    fn rate(&self, cores: u32) -> f64 {
        let n = self.running_count;
        if n == 0 {
            0.0
        } else {
            (cores as f64 / n as f64).min(1.0)
        }
    }

    /// Brings the attained-service clock (and the busy-core integral) up to `now_us`.
    pub fn advance(&mut self, now_us: TimeUs, cores: u32) {
        let dt = now_us.saturating_sub(self.clock_at_us) as f64;
        if dt > 0.0 {
            self.clock += dt * self.rate(cores);
            self.busy_core_us += dt * (self.running_count as f64).min(cores as f64);
        }
        self.clock_at_us = now_us;
    }

    fn slot(&mut self, owner: QueryOwner, cost_us: f64, kind: u16, constant_cost: bool) -> u32 {
        let query = Query {
            generation: 0,
            owner,
            cost_us,
            finish_at: 0.0,
            running: false,
            live: true,
            kind,
            constant_cost,
        };
        match self.free.pop() {
            Some(i) => {
                let generation = self.queries[i as usize].generation.wrapping_add(1);
                self.queries[i as usize] = Query {
                    generation,
                    ..query
                };
                i
            }
            None => {
                self.queries.push(query);
                (self.queries.len() - 1) as u32
            }
        }
    }

    fn start(&mut self, slot: u32) {
        let q = &mut self.queries[slot as usize];
        q.running = true;
        q.finish_at = self.clock + q.cost_us;
        let entry = (q.finish_at.to_bits(), slot, q.generation);
        if !q.constant_cost {
            self.finishing.push(entry);
        } else {
            let lane = q.kind as usize;
            if self.lanes.len() <= lane {
                self.lanes.resize_with(lane + 1, VecDeque::new);
            }
            // The clock never goes back and the cost is the same, so the lane stays sorted.
            self.lanes[lane].push_back(entry);
        }
        self.running_count += 1;
        self.wake_generation = self.wake_generation.wrapping_add(1);
        self.started.push((slot, q.generation));
    }

    /// Submits a query of kind `kind` (the caller's query index) at `now_us` (after `advance`).
    /// Queries of a kind whose cost is constant (`constant_cost`) finish in a lane of their own.
    pub fn submit(
        &mut self,
        owner: QueryOwner,
        cost_us: f64,
        kind: u16,
        constant_cost: bool,
        max_connections: u32,
        queue_capacity: u32,
    ) -> Submitted {
        if self.running_count < max_connections as usize {
            let slot = self.slot(owner, cost_us, kind, constant_cost);
            self.start(slot);
            Submitted::Running(slot, self.queries[slot as usize].generation)
        } else if self.waiting.len() < queue_capacity as usize {
            let slot = self.slot(owner, cost_us, kind, constant_cost);
            self.waiting.push_back(slot);
            Submitted::Queued(slot, self.queries[slot as usize].generation)
        } else {
            Submitted::Refused
        }
    }

    /// Time of the next completion, if any query runs (after `advance`).
    pub fn next_completion_us(&self, now_us: TimeUs, cores: u32) -> Option<TimeUs> {
        let bits = self.first_finish_bits()?;
        let remaining = (f64::from_bits(bits) - self.clock).max(0.0);
        let rate = self.rate(cores);
        Some(now_us + (remaining / rate).ceil() as TimeUs)
    }

    /// The earliest finish clock (as bits) among running queries: fronts are kept live.
    fn first_finish_bits(&self) -> Option<u64> {
        let heap = self.finishing.peek().map(|e| e.0);
        self.lanes
            .iter()
            .filter_map(|lane| lane.front().map(|e| e.0))
            .chain(heap)
            .min()
    }

    /// Moves the queries that have finished by now (after `advance`) into `done` as (slot, owner)
    /// pairs, in (finish clock, slot) order, then starts waiting queries on the freed connections.
    pub fn take_finished(&mut self, max_connections: u32, done: &mut Vec<(u32, QueryOwner)>) {
        done.clear();
        // A tolerance of a nanosecond of CPU absorbs rounding in the clock.
        let threshold = self.clock + 1e-3;
        let due = |bits: u64| f64::from_bits(bits) <= threshold;
        let mut batch = std::mem::take(&mut self.due);
        batch.clear();
        while let Some(&entry) = self.finishing.peek() {
            if !due(entry.0) {
                break;
            }
            self.finishing.pop();
            batch.push(entry);
        }
        for lane in &mut self.lanes {
            while let Some(&entry) = lane.front() {
                if !due(entry.0) {
                    break;
                }
                lane.pop_front();
                batch.push(entry);
            }
        }
        if batch.is_empty() {
            self.due = batch;
            return;
        }
        // The heap's own entries come sorted; those from lanes join them in the same order. A
        // batch is a handful of entries: an insertion sort (no sort routine in the web build).
        for i in 1..batch.len() {
            let mut j = i;
            while j > 0 && batch[j - 1] > batch[j] {
                batch.swap(j - 1, j);
                j -= 1;
            }
        }
        for &(_, slot, generation) in &batch {
            if self.is_running(slot, generation) {
                self.running_count -= 1;
                done.push((slot, self.release(slot)));
            }
        }
        self.due = batch;
        self.drop_dead_fronts();
        if !done.is_empty() {
            self.fill(max_connections);
        }
    }

    /// Pops entries of killed queries off the heap's top and the lanes' fronts, so each front is
    /// a running query.
    fn drop_dead_fronts(&mut self) {
        let queries = &self.queries;
        let dead = |&(_, slot, generation): &Finishing| !queries[slot as usize].runs_as(generation);
        while self.finishing.peek().is_some_and(dead) {
            self.finishing.pop();
        }
        for lane in &mut self.lanes {
            while lane.front().is_some_and(dead) {
                lane.pop_front();
            }
        }
    }

    fn release(&mut self, slot: u32) -> QueryOwner {
        let q = &mut self.queries[slot as usize];
        q.live = false;
        q.running = false;
        self.free.push(slot);
        self.wake_generation = self.wake_generation.wrapping_add(1);
        q.owner
    }

    /// Starts waiting queries while connections are free.
    pub fn fill(&mut self, max_connections: u32) {
        while self.running_count < max_connections as usize {
            let Some(slot) = self.waiting.pop_front() else {
                break;
            };
            self.start(slot);
        }
    }

    /// Kills a query (statement timeout) if `generation` still names it; returns its owner.
    pub fn kill(&mut self, slot: u32, generation: u32, max_connections: u32) -> Option<QueryOwner> {
        let q = self.queries.get(slot as usize)?;
        if !q.live || q.generation != generation {
            return None;
        }
        let was_running = q.running;
        if !was_running {
            self.waiting.retain(|&s| s != slot);
        }
        let owner = self.release(slot);
        if was_running {
            self.running_count -= 1;
            self.drop_dead_fronts();
        }
        self.fill(max_connections);
        Some(owner)
    }

    /// Live queries (running or waiting), of kind `kind` or of every kind: (slot, generation).
    pub fn live_queries(&self, kind: Option<u16>) -> Vec<(u32, u32)> {
        self.queries
            .iter()
            .enumerate()
            .filter(|(_, q)| q.live && kind.is_none_or(|k| q.kind == k))
            .map(|(slot, q)| (slot as u32, q.generation))
            .collect()
    }

    /// Whether `generation` still names a live query in `slot` that is running.
    pub fn is_running(&self, slot: u32, generation: u32) -> bool {
        self.queries
            .get(slot as usize)
            .is_some_and(|q| q.runs_as(generation))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(ds: &mut Datastore, max_connections: u32) -> Vec<(u32, QueryOwner)> {
        let mut done = Vec::new();
        ds.take_finished(max_connections, &mut done);
        done
    }

    #[test]
    fn one_query_alone_takes_its_cost() {
        let mut ds = Datastore::default();
        ds.advance(0, 4);
        assert!(matches!(
            ds.submit((1, 0), 1_000.0, 0, false, 10, 10),
            Submitted::Running(..)
        ));
        assert_eq!(ds.next_completion_us(0, 4), Some(1_000));
        ds.advance(1_000, 4);
        assert_eq!(finished(&mut ds, 10), vec![(0, (1, 0))]);
    }

    #[test]
    fn more_queries_than_cores_share_the_cpu() {
        // 8 queries of 1 ms on 4 cores: each runs at half speed and all finish at 2 ms.
        let mut ds = Datastore::default();
        ds.advance(0, 4);
        for i in 0..8 {
            ds.submit((i, 0), 1_000.0, 0, false, 100, 100);
        }
        assert_eq!(ds.next_completion_us(0, 4), Some(2_000));
        ds.advance(2_000, 4);
        assert_eq!(finished(&mut ds, 100).len(), 8);
        assert_eq!(ds.busy_core_us, 8_000.0, "4 cores busy for 2 ms");
    }

    #[test]
    fn a_late_arrival_slows_the_others() {
        let mut ds = Datastore::default();
        ds.advance(0, 1);
        ds.submit((0, 0), 1_000.0, 0, false, 10, 10);
        ds.advance(500, 1);
        ds.submit((1, 0), 1_000.0, 0, false, 10, 10);
        // The first has 500 µs left at half speed: done at 1500.
        assert_eq!(ds.next_completion_us(500, 1), Some(1_500));
        ds.advance(1_500, 1);
        assert_eq!(finished(&mut ds, 10).len(), 1);
        // The second got 500 µs of CPU so far; 500 left alone: done at 2000.
        assert_eq!(ds.next_completion_us(1_500, 1), Some(2_000));
    }

    #[test]
    fn connections_limit_running_queries_and_the_queue_is_bounded() {
        let mut ds = Datastore::default();
        ds.advance(0, 4);
        assert!(matches!(
            ds.submit((0, 0), 1_000.0, 0, false, 1, 1),
            Submitted::Running(..)
        ));
        assert!(matches!(
            ds.submit((1, 0), 1_000.0, 0, false, 1, 1),
            Submitted::Queued(..)
        ));
        assert_eq!(
            ds.submit((2, 0), 1_000.0, 0, false, 1, 1),
            Submitted::Refused
        );
        ds.advance(1_000, 4);
        assert_eq!(finished(&mut ds, 1).len(), 1);
        assert_eq!(ds.running(), 1, "the queued query starts");
    }

    #[test]
    fn killing_frees_the_cpu_and_ignores_stale_generations() {
        let mut ds = Datastore::default();
        ds.advance(0, 1);
        let Submitted::Running(slot, generation) = ds.submit((7, 3), 10_000.0, 0, false, 10, 10)
        else {
            panic!()
        };
        assert_eq!(ds.kill(slot, generation + 1, 10), None);
        assert_eq!(ds.kill(slot, generation, 10), Some((7, 3)));
        assert_eq!(ds.running(), 0);
        assert_eq!(ds.kill(slot, generation, 10), None);
    }

    #[test]
    fn lanes_and_heap_release_together_in_slot_order() {
        // Slots 0 and 2 go to the heap, slot 1 to a constant-cost lane: all three finish at the
        // same clock, and come out by slot whichever structure held them.
        let mut ds = Datastore::default();
        ds.advance(0, 3);
        ds.submit((10, 0), 1_000.0, 0, false, 10, 10);
        ds.submit((11, 0), 1_000.0, 0, true, 10, 10);
        ds.submit((12, 0), 1_000.0, 0, false, 10, 10);
        assert_eq!(ds.next_completion_us(0, 3), Some(1_000));
        ds.advance(1_000, 3);
        assert_eq!(
            finished(&mut ds, 10),
            vec![(0, (10, 0)), (1, (11, 0)), (2, (12, 0))]
        );
    }

    #[test]
    fn a_killed_query_at_a_lane_front_does_not_hold_up_the_next() {
        let mut ds = Datastore::default();
        ds.advance(0, 1);
        let Submitted::Running(first, generation) = ds.submit((1, 0), 1_000.0, 2, true, 10, 10)
        else {
            panic!()
        };
        ds.advance(100, 1);
        ds.submit((2, 0), 1_000.0, 2, true, 10, 10);
        ds.submit((3, 0), 5_000.0, 0, false, 10, 10);
        ds.advance(200, 1);
        assert_eq!(ds.kill(first, generation, 10), Some((1, 0)));
        // The lane's front is now dead; its live query (finishing at clock 1,100) still comes
        // before the heap's (5,150).
        let at = ds.next_completion_us(200, 1).unwrap();
        ds.advance(at, 1);
        assert_eq!(finished(&mut ds, 10), vec![(1, (2, 0))]);
        assert_eq!(ds.running(), 1);
    }
}
