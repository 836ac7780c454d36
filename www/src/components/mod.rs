//! The player's components, one per file.

pub mod chart;
pub mod controls;
#[cfg(feature = "training")]
pub mod drill;
#[cfg(feature = "authoring")]
pub mod editor;
#[cfg(feature = "authoring")]
pub mod explore;
pub mod fixes;
pub mod gallery;
pub mod glossary;
pub mod help;
#[cfg(feature = "training")]
pub mod lesson;
pub mod narration;
pub mod share;
pub mod story;
pub mod timeline;
pub mod topology;
#[cfg(feature = "authoring")]
pub mod what_if;
