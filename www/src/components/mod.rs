//! The player's components, one per file.

pub mod chart;
pub mod controls;
pub mod fixes;
pub mod gallery;
pub mod help;
pub mod narration;
pub mod share;
pub mod story;
pub mod timeline;
pub mod topology;
