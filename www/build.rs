//! Build script: precompiles every bundled scenario (parsed and validated by the core, natively)
//! into its compact binary form, so the web build carries no TOML parser, no scenario text and
//! no comments. A scenario that does not parse stops the build with its file, line and message.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let out_dir = std::env::var("OUT_DIR").expect("OUT_DIR");
    let mut index = String::from("&[\n");
    for bundled in cascade::scenario::bundled() {
        let scenario = cascade::Scenario::parse(bundled.file_name, bundled.source)
            .unwrap_or_else(|err| panic!("{err}"));
        let bin = Path::new(&out_dir).join(bundled.file_name.replace(".toml", ".bin"));
        std::fs::write(&bin, scenario.precompile()).expect("write a precompiled scenario");
        writeln!(
            index,
            "    ({:?}, include_bytes!({:?})),",
            bundled.file_name,
            bin.display().to_string()
        )
        .unwrap();
    }
    index.push(']');
    std::fs::write(Path::new(&out_dir).join("precompiled.rs"), index).expect("write the index");
}
