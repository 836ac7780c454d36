//! The datastore mechanism: its compiled config; its CPU, where running queries share the cores
//! equally (processor sharing) and beyond `max_connections` queries wait in a bounded FIFO queue;
//! the statement timeout that kills long ones and the wake-up at its next completion (timers it
//! arms itself through a `Ctx`); kills by operators or of abandoned queries; and its gauges.
//!
//! Processor sharing is computed with a shared "attained service" clock: every running query
//! receives CPU at the same rate `min(1, cores / running)`, so a query finishes when the clock has
//! advanced by its cost since it started. Queries of a kind whose cost is constant finish in the
//! order they started, so each such kind has a FIFO lane; the others share a min-heap. A killed
//! query's entry stays in its lane or the heap, recognised as dead because its key no longer
//! names a live query, until it reaches the front. Queries that finish together are released in
//! (finish clock, slot) order whichever lane they come from, so lanes change the cost, not the
//! order.

use crate::heap::MinHeap;
use crate::model::service::Sampler;
use crate::scenario::schema::DatastoreSpec;
use crate::scenario::series;
use crate::sim::{Ctx, Event};
use crate::slab::{Key, Slab};
use crate::time::{TimeUs, ms_to_us};
use std::collections::VecDeque;

/// A compiled datastore.
#[derive(Clone, Debug)]
pub struct DatastoreCfg {
    /// Cores.
    pub cores: u32,
    /// Concurrent queries.
    pub max_connections: u32,
    /// Waiting queries.
    pub queue_capacity: u32,
    /// Kill after (0 = never).
    pub statement_timeout_us: TimeUs,
    /// Cancel a running query whose caller has gone.
    pub cancel_abandoned: bool,
    /// Query costs in name order.
    pub queries: Vec<Sampler>,
}

impl DatastoreCfg {
    /// Compiles a validated datastore.
    pub fn compile(spec: &DatastoreSpec) -> Self {
        DatastoreCfg {
            cores: spec.cores,
            max_connections: spec.max_connections,
            queue_capacity: spec.queue_capacity,
            statement_timeout_us: ms_to_us(spec.statement_timeout_ms),
            cancel_abandoned: spec.cancel_abandoned_queries,
            queries: spec
                .queries
                .values()
                .map(|q| Sampler::new(&q.cost))
                .collect(),
        }
    }
}

/// Who is waiting for a query: a job.
pub type QueryOwner = Key;

/// A running query's place in the finishing order: (finish clock bits, query).
type Finishing = (u64, Key);

/// A query in the datastore.
#[derive(Clone, Debug)]
pub struct Query {
    /// Who gets the answer.
    pub owner: QueryOwner,
    /// CPU cost, µs.
    pub cost_us: f64,
    /// Attained-service clock value at which it finishes (running queries only).
    pub finish_at: f64,
    /// Whether it is running (else waiting for a connection).
    pub running: bool,
    /// Which of the datastore's queries it is (the caller's query index).
    pub kind: u16,
    /// Whether every query of its kind costs the same: it then finishes in its kind's FIFO lane.
    pub constant_cost: bool,
}

/// What became of a query submitted to the datastore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// Running now.
    Running(Key),
    /// Waiting for a connection.
    Queued(Key),
    /// Refused: the queue is full.
    Refused,
}

/// A datastore's run-time state.
#[derive(Clone, Debug, Default)]
pub struct Datastore {
    /// The live queries, running or waiting.
    pub queries: Slab<Query>,
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
    pub waiting: VecDeque<Key>,
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
    /// Queries that started running since their statement timeouts were last armed: the
    /// timeouts count from the start, not from the submit.
    started: Vec<Key>,
    /// Queries submitted in the current metrics window.
    submitted_in_window: u64,
    /// Queries killed (statement timeout, operator) in the current metrics window.
    killed_in_window: u64,
}

/// What a datastore does on a step of the run: the handlers the event loop calls. `index` is
/// the datastore's own (its wake-up timer and events name it); each handler leaves the
/// statement timeouts of newly started queries and the next wake-up armed.
impl Datastore {
    /// Job `owner` submits a query of kind `kind`: its cost is drawn, and it runs, waits for a
    /// connection, or is refused when the queue is full.
    pub(crate) fn submit_query(
        &mut self,
        index: u16,
        cfg: &DatastoreCfg,
        owner: QueryOwner,
        kind: u16,
        ctx: &mut Ctx,
    ) -> Submitted {
        self.submitted_in_window += 1;
        let sampler = &cfg.queries[kind as usize];
        let cost = sampler.sample_us(ctx.rng).max(1) as f64;
        // Queries of one constant-cost kind finish in the order they start: a FIFO lane.
        let constant = matches!(sampler, Sampler::Constant(_));
        self.advance(ctx.now_us, cfg.cores);
        let submitted = self.submit(
            owner,
            cost,
            kind,
            constant,
            cfg.max_connections,
            cfg.queue_capacity,
        );
        if submitted != Submitted::Refused {
            self.settle(index, cfg, ctx);
        }
        submitted
    }

    /// Its wake-up (armed at `generation`) fired: the queries due have finished, and their
    /// owners are put in `finished`. False when the wake-up was stale.
    pub(crate) fn on_wake(
        &mut self,
        index: u16,
        cfg: &DatastoreCfg,
        generation: u32,
        finished: &mut Vec<QueryOwner>,
        ctx: &mut Ctx,
    ) -> bool {
        if self.wake_generation != generation {
            return false;
        }
        self.wake_armed = None;
        self.advance(ctx.now_us, cfg.cores);
        self.take_finished(cfg.max_connections, finished);
        self.settle(index, cfg, ctx);
        true
    }

    /// Kills those of `queries` still live (a statement timeout, an operator): returns their
    /// owners, whose calls fail.
    pub(crate) fn kill_queries(
        &mut self,
        index: u16,
        cfg: &DatastoreCfg,
        queries: &[Key],
        ctx: &mut Ctx,
    ) -> Vec<QueryOwner> {
        self.advance(ctx.now_us, cfg.cores);
        let owners: Vec<_> = queries
            .iter()
            .filter_map(|&query| self.kill(query, cfg.max_connections))
            .collect();
        self.killed_in_window += owners.len() as u64;
        self.settle(index, cfg, ctx);
        owners
    }

    /// The caller of `query` stopped waiting for it (time-out or crash). A query still waiting
    /// for a connection goes with it (the wait was the caller's); a running one runs on until
    /// it finishes or the statement timeout kills it, as a database that does not check on its
    /// clients does, unless the datastore cancels abandoned queries.
    pub(crate) fn abandon(&mut self, index: u16, cfg: &DatastoreCfg, query: Key, ctx: &mut Ctx) {
        if self.is_running(query) && !cfg.cancel_abandoned {
            return;
        }
        self.advance(ctx.now_us, cfg.cores);
        if self.kill(query, cfg.max_connections).is_some() {
            self.settle(index, cfg, ctx);
        }
    }

    /// After its queries changed (one was submitted, started, finished or was killed, or its
    /// config changed): arms the statement timeouts of the queries that started, then its
    /// wake-up.
    pub(crate) fn settle(&mut self, index: u16, cfg: &DatastoreCfg, ctx: &mut Ctx) {
        self.arm_statement_timeouts(index, cfg, ctx);
        self.schedule_wake(index, cfg, ctx);
    }

    /// The window's gauges at `window_end_us`, in [`series::DATASTORE`] order; starts the next
    /// window.
    pub fn close_window(
        &mut self,
        cfg: &DatastoreCfg,
        window_end_us: TimeUs,
        window_us: f64,
        per_s: f64,
    ) -> [f64; series::DATASTORE.len()] {
        self.advance(window_end_us, cfg.cores);
        let values = [
            100.0 * self.busy_core_us / (cfg.cores as f64 * window_us),
            self.running() as f64,
            self.waiting.len() as f64,
            self.killed_in_window as f64,
            self.submitted_in_window as f64 * per_s,
        ];
        self.busy_core_us = 0.0;
        self.killed_in_window = 0;
        self.submitted_in_window = 0;
        values
    }

    /// Arms the statement timeout of each query that started running since the last call: the
    /// timeout counts running time, so a query waiting for a connection is armed when it starts.
    fn arm_statement_timeouts(&mut self, index: u16, cfg: &DatastoreCfg, ctx: &mut Ctx) {
        if cfg.statement_timeout_us > 0 {
            for &query in &self.started {
                ctx.queue.push_after(
                    ctx.now_us,
                    cfg.statement_timeout_us,
                    Event::StatementTimeout {
                        datastore: index,
                        query,
                    },
                );
            }
        }
        self.started.clear();
    }

    /// Arms its one wake-up, a timer of the queue, for its next completion (after `advance`).
    /// Once a query starts or ends, the armed wake-up is replaced; while none has, the
    /// completion time stands and the wake-up armed first is kept. Nothing stale is left to
    /// pop, and wake-ups run in the order they would as one event per change.
    fn schedule_wake(&mut self, index: u16, cfg: &DatastoreCfg, ctx: &mut Ctx) {
        match self.next_completion_us(ctx.now_us, cfg.cores) {
            Some(at) => {
                let generation = self.wake_generation;
                if self.wake_armed.is_some_and(|(armed_at, armed_generation)| {
                    armed_generation == generation && armed_at <= at
                }) {
                    return;
                }
                self.wake_armed = Some((at, generation));
                ctx.queue.set_timer(
                    index as usize,
                    at,
                    Event::DatastoreWake {
                        datastore: index,
                        generation,
                    },
                );
            }
            None => {
                self.wake_armed = None;
                ctx.queue.clear_timer(index as usize);
            }
        }
    }
}

impl Datastore {
    /// Bytes held by the query tables.
    pub fn heap_bytes(&self) -> usize {
        self.queries.heap_bytes()
            + self.finishing.capacity() * std::mem::size_of::<Finishing>()
            + self
                .lanes
                .iter()
                .map(|lane| lane.capacity() * std::mem::size_of::<Finishing>())
                .sum::<usize>()
            + (self.waiting.capacity() + self.started.capacity()) * std::mem::size_of::<Key>()
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

    fn insert(&mut self, owner: QueryOwner, cost_us: f64, kind: u16, constant_cost: bool) -> Key {
        self.queries.insert(Query {
            owner,
            cost_us,
            finish_at: 0.0,
            running: false,
            kind,
            constant_cost,
        })
    }

    fn start(&mut self, query: Key) {
        let q = self.queries.get_mut(query).expect("a live query");
        q.running = true;
        q.finish_at = self.clock + q.cost_us;
        let entry = (q.finish_at.to_bits(), query);
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
        self.started.push(query);
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
            let query = self.insert(owner, cost_us, kind, constant_cost);
            self.start(query);
            Submitted::Running(query)
        } else if self.waiting.len() < queue_capacity as usize {
            let query = self.insert(owner, cost_us, kind, constant_cost);
            self.waiting.push_back(query);
            Submitted::Queued(query)
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

    /// Moves the owners of the queries that have finished by now (after `advance`) into `done`,
    /// in (finish clock, slot) order, then starts waiting queries on the freed connections.
    pub fn take_finished(&mut self, max_connections: u32, done: &mut Vec<QueryOwner>) {
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
        for &(_, query) in &batch {
            if self.is_running(query) {
                self.running_count -= 1;
                done.push(self.release(query));
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
        let dead = |&(_, query): &Finishing| !queries.get(query).is_some_and(|q| q.running);
        while self.finishing.peek().is_some_and(dead) {
            self.finishing.pop();
        }
        for lane in &mut self.lanes {
            while lane.front().is_some_and(dead) {
                lane.pop_front();
            }
        }
    }

    fn release(&mut self, query: Key) -> QueryOwner {
        let q = self.queries.remove(query).expect("a live query");
        self.wake_generation = self.wake_generation.wrapping_add(1);
        q.owner
    }

    /// Starts waiting queries while connections are free.
    pub fn fill(&mut self, max_connections: u32) {
        while self.running_count < max_connections as usize {
            let Some(query) = self.waiting.pop_front() else {
                break;
            };
            self.start(query);
        }
    }

    /// Kills a query (statement timeout, operator) if `query` still names it; returns its owner.
    pub fn kill(&mut self, query: Key, max_connections: u32) -> Option<QueryOwner> {
        let was_running = self.queries.get(query)?.running;
        if !was_running {
            self.waiting.retain(|&q| q != query);
        }
        let owner = self.release(query);
        if was_running {
            self.running_count -= 1;
            self.drop_dead_fronts();
        }
        self.fill(max_connections);
        Some(owner)
    }

    /// Live queries (running or waiting), of kind `kind` or of every kind, in slot order.
    pub fn live_queries(&self, kind: Option<u16>) -> Vec<Key> {
        self.queries
            .iter()
            .filter(|(_, q)| kind.is_none_or(|k| q.kind == k))
            .map(|(query, _)| query)
            .collect()
    }

    /// Whether `query` still names a live query that is running.
    pub fn is_running(&self, query: Key) -> bool {
        self.queries.get(query).is_some_and(|q| q.running)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job key standing for the owner of a query.
    fn owner(n: u32) -> QueryOwner {
        Key {
            slot: n,
            generation: 1,
        }
    }

    fn finished(ds: &mut Datastore, max_connections: u32) -> Vec<QueryOwner> {
        let mut done = Vec::new();
        ds.take_finished(max_connections, &mut done);
        done
    }

    #[test]
    fn statement_timeouts_count_from_the_start_and_the_wake_up_follows_completions() {
        // One connection, 1 ms queries, a 5 ms statement timeout.
        let cfg = DatastoreCfg {
            cores: 1,
            max_connections: 1,
            queue_capacity: 1,
            statement_timeout_us: 5_000,
            cancel_abandoned: false,
            queries: vec![Sampler::Constant(1_000)],
        };
        let mut alone = crate::sim::Alone::new(1);
        let mut ctx = alone.ctx();
        let mut ds = Datastore::default();
        let first = ds.submit_query(3, &cfg, owner(1), 0, &mut ctx);
        let second = ds.submit_query(3, &cfg, owner(2), 0, &mut ctx);
        assert!(matches!(first, Submitted::Running(_)));
        assert!(matches!(second, Submitted::Queued(_)));
        assert_eq!(
            ds.submit_query(3, &cfg, owner(3), 0, &mut ctx),
            Submitted::Refused
        );
        // Armed: the first query's timeout (at 5 ms) and the wake-up at its completion (1 ms).
        let mut events = Vec::new();
        while let Some((at_us, event)) = ctx.queue.pop() {
            ctx.now_us = at_us;
            if let Event::DatastoreWake {
                datastore,
                generation,
            } = event
            {
                assert_eq!(datastore, 3);
                let mut done = Vec::new();
                assert!(ds.on_wake(3, &cfg, generation, &mut done, &mut ctx));
                events.push((
                    at_us,
                    format!("done {:?}", done.iter().map(|k| k.slot).collect::<Vec<_>>()),
                ));
            } else if let Event::StatementTimeout { query, .. } = event {
                events.push((at_us, format!("timeout, running: {}", ds.is_running(query))));
            }
        }
        assert_eq!(
            events,
            [
                (1_000, "done [1]".to_string()),
                (2_000, "done [2]".to_string()),
                // The second query's timeout counts from its start at 1 ms, not its submit.
                (5_000, "timeout, running: false".to_string()),
                (6_000, "timeout, running: false".to_string()),
            ]
        );
        let gauges = ds.close_window(&cfg, 10_000, 10_000.0, 100.0);
        assert_eq!(
            gauges,
            [20.0, 0.0, 0.0, 0.0, 300.0],
            "2 ms busy of 10; 3 submitted"
        );
    }

    #[test]
    fn one_query_alone_takes_its_cost() {
        let mut ds = Datastore::default();
        ds.advance(0, 4);
        assert!(matches!(
            ds.submit(owner(1), 1_000.0, 0, false, 10, 10),
            Submitted::Running(..)
        ));
        assert_eq!(ds.next_completion_us(0, 4), Some(1_000));
        ds.advance(1_000, 4);
        assert_eq!(finished(&mut ds, 10), vec![owner(1)]);
    }

    #[test]
    fn more_queries_than_cores_share_the_cpu() {
        // 8 queries of 1 ms on 4 cores: each runs at half speed and all finish at 2 ms.
        let mut ds = Datastore::default();
        ds.advance(0, 4);
        for i in 0..8 {
            ds.submit(owner(i), 1_000.0, 0, false, 100, 100);
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
        ds.submit(owner(0), 1_000.0, 0, false, 10, 10);
        ds.advance(500, 1);
        ds.submit(owner(1), 1_000.0, 0, false, 10, 10);
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
            ds.submit(owner(0), 1_000.0, 0, false, 1, 1),
            Submitted::Running(..)
        ));
        assert!(matches!(
            ds.submit(owner(1), 1_000.0, 0, false, 1, 1),
            Submitted::Queued(..)
        ));
        assert_eq!(
            ds.submit(owner(2), 1_000.0, 0, false, 1, 1),
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
        let Submitted::Running(query) = ds.submit(owner(7), 10_000.0, 0, false, 10, 10) else {
            panic!()
        };
        let stale = Key {
            generation: query.generation + 1,
            ..query
        };
        assert_eq!(ds.kill(stale, 10), None);
        assert_eq!(ds.kill(query, 10), Some(owner(7)));
        assert_eq!(ds.running(), 0);
        assert_eq!(ds.kill(query, 10), None);
    }

    #[test]
    fn lanes_and_heap_release_together_in_slot_order() {
        // Slots 0 and 2 go to the heap, slot 1 to a constant-cost lane: all three finish at the
        // same clock, and come out by slot whichever structure held them.
        let mut ds = Datastore::default();
        ds.advance(0, 3);
        ds.submit(owner(10), 1_000.0, 0, false, 10, 10);
        ds.submit(owner(11), 1_000.0, 0, true, 10, 10);
        ds.submit(owner(12), 1_000.0, 0, false, 10, 10);
        assert_eq!(ds.next_completion_us(0, 3), Some(1_000));
        ds.advance(1_000, 3);
        assert_eq!(finished(&mut ds, 10), vec![owner(10), owner(11), owner(12)]);
    }

    #[test]
    fn a_killed_query_at_a_lane_front_does_not_hold_up_the_next() {
        let mut ds = Datastore::default();
        ds.advance(0, 1);
        let Submitted::Running(first) = ds.submit(owner(1), 1_000.0, 2, true, 10, 10) else {
            panic!()
        };
        ds.advance(100, 1);
        ds.submit(owner(2), 1_000.0, 2, true, 10, 10);
        ds.submit(owner(3), 5_000.0, 0, false, 10, 10);
        ds.advance(200, 1);
        assert_eq!(ds.kill(first, 10), Some(owner(1)));
        // The lane's front is now dead; its live query (finishing at clock 1,100) still comes
        // before the heap's (5,150).
        let at = ds.next_completion_us(200, 1).unwrap();
        ds.advance(at, 1);
        assert_eq!(finished(&mut ds, 10), vec![owner(2)]);
        assert_eq!(ds.running(), 1);
    }
}
