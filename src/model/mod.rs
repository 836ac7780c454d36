//! The modelled mechanisms, one file each; the event loop that connects them is `sim`.
//!
//! Each module holds a component's run-time state and the pure decisions it makes; none of them
//! schedules events itself.

pub mod adaptive_limit;
pub mod circuit_breaker;
pub mod client;
pub mod datastore;
pub mod http_cache;
pub mod load_balancer;
pub mod lookaside_cache;
pub mod retry_budget;
pub mod service;
