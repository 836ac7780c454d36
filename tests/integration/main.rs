//! Native integration tests, as one binary: scenarios, determinism, invariants, bad input, CLI.

mod apply_now;
mod bad_input;
mod cli;
mod determinism;
mod docs;
mod drill;
mod invariants;
mod mechanisms;
mod reachable;
mod scenarios;
mod sensitivity;
mod sweep;
