//! The modelled mechanisms, one file each; the event loop that connects them is `sim`.
//!
//! Each module holds a mechanism's compiled config (or takes it from `sim::config`), its run-time
//! state and the decisions it makes. A module that arms its own timers (probes) or draws random
//! numbers (the look-aside cache's TTL jitter) is handed a `sim::Ctx`.

pub mod adaptive_limit;
pub mod circuit_breaker;
pub mod client;
pub mod connection;
pub mod datastore;
pub mod deploy;
pub mod http_cache;
pub mod load_balancer;
pub mod lookaside_cache;
pub mod memory;
pub mod probe;
pub mod retry_budget;
pub mod service;
pub mod timeline;
