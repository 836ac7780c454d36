//! Build script: precompiles every bundled scenario (parsed and validated by the core, natively)
//! into its compact binary form, so the web build carries no TOML parser, no scenario text and
//! no comments. A scenario that does not parse stops the build with its file, line and message.
//!
//! The module embeds each scenario's `[scenario]` section (what the gallery lists) and the
//! checksum of its whole precompiled file, which the page fetches when the scenario is opened
//! (`cascade precompile` writes those files for the site). With the `embedded-scenarios`
//! feature (on by default: the component tests use it; the site's build turns it off) the
//! whole files are embedded too.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let out_dir = std::env::var("OUT_DIR").expect("OUT_DIR");
    let embed = std::env::var_os("CARGO_FEATURE_EMBEDDED_SCENARIOS").is_some();
    let mut index = String::from("&[\n");
    for bundled in cascade::scenario::bundled() {
        let scenario = cascade::Scenario::parse(bundled.file_name, bundled.source)
            .unwrap_or_else(|err| panic!("{err}"));
        let whole = scenario.precompile();
        let stem = bundled.file_name.trim_end_matches(".toml");
        let meta = Path::new(&out_dir).join(format!("{stem}.meta.bin"));
        std::fs::write(&meta, scenario.precompile_meta()).expect("write a scenario's metadata");
        let embedded = if embed {
            let bin = Path::new(&out_dir).join(format!("{stem}.bin"));
            std::fs::write(&bin, &whole).expect("write a precompiled scenario");
            format!("Some(include_bytes!({:?}))", bin.display().to_string())
        } else {
            "None".to_string()
        };
        writeln!(
            index,
            "    Bundled {{ file_name: {:?}, meta: include_bytes!({:?}), checksum: {:#x}, embedded: {embedded} }},",
            bundled.file_name,
            meta.display().to_string(),
            cascade::trace::fnv1a64(&whole),
        )
        .unwrap();
    }
    index.push(']');
    std::fs::write(Path::new(&out_dir).join("precompiled.rs"), index).expect("write the index");

    // The glossary, fetched (or embedded) the same way.
    use cascade::scenario::glossary::{Glossary, SOURCE};
    let glossary = Glossary::parse(SOURCE)
        .and_then(|g| g.precompile())
        .unwrap_or_else(|err| panic!("scenarios/glossary.toml: {err}"));
    let embedded = if embed {
        let bin = Path::new(&out_dir).join("glossary.bin");
        std::fs::write(&bin, &glossary).expect("write the glossary");
        format!("Some(include_bytes!({:?}))", bin.display().to_string())
    } else {
        "None".to_string()
    };
    std::fs::write(
        Path::new(&out_dir).join("glossary.rs"),
        format!(
            "Bundled {{ file_name: \"glossary.toml\", meta: &[], checksum: {:#x}, embedded: {embedded} }}",
            cascade::trace::fnv1a64(&glossary)
        ),
    )
    .expect("write the glossary's entry");
}
