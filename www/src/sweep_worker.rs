//! The sweep worker (authoring module): runs the seeds of one cell of a stability map, or of
//! the "many seeds" view, with the core's own `sweep::run_seeds`, so a cell's numbers are the
//! CLI's. The page keeps one per core busy, a cell at a time.

use crate::worker::LastParsed;
use cascade::sweep::{self, Axis, Outcome};
use gloo_worker::{HandlerId, Worker, WorkerScope};
use serde::{Deserialize, Serialize};

/// One cell's seeds to run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellJob {
    /// The sweep's id (the page drops answers to a sweep it has replaced).
    pub sweep: u32,
    /// The scenario's file name (for messages).
    pub name: String,
    /// The documented scenario, precompiled.
    pub scenario: Vec<u8>,
    /// Fixes from the start.
    pub fixes: Vec<String>,
    /// The axes; none for the scenario itself.
    pub axes: Vec<Axis>,
    /// The cell (row-major, the last axis fastest).
    pub cell: usize,
    /// Its seeds.
    pub seeds: Vec<u64>,
}

/// What a cell's seeds gave.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellDone {
    /// The sweep.
    pub sweep: u32,
    /// The cell.
    pub cell: usize,
    /// Each seed's outcome, or why the cell could not run.
    pub outcomes: Result<Vec<Outcome>, String>,
}

/// The worker: one job at a time, its scenario kept parsed between jobs.
pub struct SweepWorker {
    parsed: LastParsed,
}

impl Worker for SweepWorker {
    type Message = ();
    type Input = CellJob;
    type Output = CellDone;

    fn create(_: &WorkerScope<Self>) -> Self {
        SweepWorker {
            parsed: LastParsed::default(),
        }
    }

    fn update(&mut self, _: &WorkerScope<Self>, _: ()) {}

    fn received(&mut self, scope: &WorkerScope<Self>, job: CellJob, owner: HandlerId) {
        let outcomes = self
            .parsed
            .get(&job.name, job.scenario)
            .and_then(|scenario| {
                sweep::run_seeds(&scenario, &job.fixes, &job.axes, job.cell, &job.seeds)
            });
        scope.respond(
            owner,
            CellDone {
                sweep: job.sweep,
                cell: job.cell,
                outcomes,
            },
        );
    }
}
