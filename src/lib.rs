//! Cascade Lab's simulation core: deterministic discrete-event replays of cascading outages.
//!
//! No I/O, no wall clock, no OS entropy and no web dependencies live here: the CLI (`src/bin`) and
//! the web app (`www/`) drive the same [`sim::Simulation`] built from a validated
//! [`scenario::Scenario`].

pub mod check;
pub mod drill;
pub mod heap;
pub mod metrics;
pub mod model;
pub mod queue;
pub mod replay;
pub mod rng;
pub mod scenario;
pub mod sim;
pub mod slab;
pub mod small_sort;
pub mod sweep;
pub mod time;
pub mod trace;
pub mod verdict;

pub use replay::Replay;
pub use scenario::{Scenario, ScenarioError, bundled};
pub use sim::{Limits, SimError, Simulation};
