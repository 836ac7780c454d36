//! The bundled scenarios as the web app receives them: precompiled by `build.rs` (no TOML).

use cascade::Scenario;
use cascade::scenario::ScenarioError;

/// Every bundled scenario: its file name and precompiled bytes, sorted by file name.
pub fn precompiled() -> &'static [(&'static str, &'static [u8])] {
    include!(concat!(env!("OUT_DIR"), "/precompiled.rs"))
}

/// Reads the bundled scenario with this id, if there is one.
pub fn load(id: &str) -> Option<Result<Scenario, ScenarioError>> {
    precompiled()
        .iter()
        .find(|(name, _)| name.strip_suffix(".toml") == Some(id))
        .map(|(name, bytes)| Scenario::from_precompiled(name, bytes))
}
