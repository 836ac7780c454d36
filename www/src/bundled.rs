//! The bundled scenarios as the web app receives them: precompiled by `build.rs` (no TOML). The
//! module holds what the gallery lists; a scenario's whole file is fetched when it is opened
//! (embedded instead with the `embedded-scenarios` feature, as the component tests build it).

/// One bundled scenario.
#[derive(Debug)]
pub struct Bundled {
    /// Its file name, such as `retry-storm.toml`.
    pub file_name: &'static str,
    /// Its `[scenario]` section, precompiled.
    pub meta: &'static [u8],
    /// The FNV-1a checksum of its whole precompiled file.
    pub checksum: u64,
    /// The whole precompiled file, when the module embeds it.
    pub embedded: Option<&'static [u8]>,
}

/// Every bundled scenario, sorted by file name.
pub fn precompiled() -> &'static [Bundled] {
    include!(concat!(env!("OUT_DIR"), "/precompiled.rs"))
}

/// Where the page fetches a bundled scenario's whole file from, relative to the page (the
/// checksum in the query makes a new build's file a new URL for every cache on the way).
pub fn url(bundled: &Bundled) -> String {
    let stem = bundled.file_name.trim_end_matches(".toml");
    format!("scenarios/{stem}.bin?v={:016x}", bundled.checksum)
}

/// Reads fetched bytes if they are the file this page was built with.
pub fn checked(bundled: &Bundled, bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    if cascade::trace::fnv1a64(&bytes) != bundled.checksum {
        return Err(format!(
            "The file {} on the server is not the one this page was built with: reload the page.",
            bundled.file_name.trim_end_matches(".toml")
        ));
    }
    Ok(bytes)
}

/// The glossary (its `file_name` is `glossary.toml`; no metadata).
pub fn glossary() -> &'static Bundled {
    const GLOSSARY: Bundled = include!(concat!(env!("OUT_DIR"), "/glossary.rs"));
    &GLOSSARY
}
