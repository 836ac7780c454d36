//! The player's components, one per file.

pub mod chart;
pub mod scenario_picker;
