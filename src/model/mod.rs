//! The modelled mechanisms, one file each; the event loop that connects them is `sim`.
//!
//! Each module holds a component's run-time state and parameters (already converted to µs) and
//! the pure decisions it makes; none of them schedules events itself.

pub mod client;
pub mod load_balancer;
pub mod service;
