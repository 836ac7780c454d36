//! Scenarios that are not bundled: read from TOML in the browser (typed in the editor, opened
//! from a file, fetched from a `?src=` path on the same origin, or carried in a `#scenario=`
//! fragment), checked as the CLI checks them, and precompiled for the player and its workers.
//!
//! Everything here treats its input as hostile: sizes are bounded before anything is parsed,
//! the validator bounds the work a run may take (`cascade::scenario::budget`), and nothing is
//! ever rendered as markup.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cascade::{Scenario, ScenarioError};

/// The largest scenario text read (the bundled files are 10–30 KB).
pub const MAX_SOURCE_BYTES: usize = 256 * 1024;

/// The longest `#scenario=` fragment written or read: links this long still paste into chats,
/// tickets and documents (browsers take more, but what carries links between people does not).
pub const MAX_FRAGMENT_CHARS: usize = 32 * 1024;

/// The version of the fragment's format, its first field.
const FRAGMENT_VERSION: &str = "1";

/// A scenario read from text: checked, with its precompiled form for the player's workers.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The scenario.
    pub scenario: Scenario,
    /// Its precompiled bytes (what a bundled scenario's `.bin` file holds).
    pub bytes: Vec<u8>,
}

/// Parses and checks `text` as the CLI does (`name` is the file name shown in messages).
pub fn compile(name: &str, text: &str) -> Result<Compiled, ScenarioError> {
    if text.len() > MAX_SOURCE_BYTES {
        return Err(ScenarioError {
            file: name.to_string(),
            location: None,
            path: None,
            message: format!(
                "{} KB: a scenario file is at most {} KB of TOML",
                text.len() / 1024,
                MAX_SOURCE_BYTES / 1024
            ),
        });
    }
    let scenario = Scenario::parse(name, text)?;
    let bytes = scenario.precompile();
    Ok(Compiled { scenario, bytes })
}

/// The `#scenario=` payload for `text`: `1.<FNV-1a of the text, hex>.<deflated text, base64url>`,
/// or a message when it is too long for a link.
pub fn encode_fragment(text: &str) -> Result<String, String> {
    let deflated = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 9);
    let payload = format!(
        "{FRAGMENT_VERSION}.{:016x}.{}",
        cascade::trace::fnv1a64(text.as_bytes()),
        URL_SAFE_NO_PAD.encode(deflated)
    );
    if payload.len() > MAX_FRAGMENT_CHARS {
        return Err(format!(
            "This scenario needs a link of {} KB, more than the {} KB a link can carry between \
             people: download the TOML and host it beside the site (…/?src=my-scenario.toml).",
            payload.len() / 1024,
            MAX_FRAGMENT_CHARS / 1024
        ));
    }
    Ok(payload)
}

/// Reads a `#scenario=` payload back into the scenario's text, refusing anything that is not
/// exactly what [`encode_fragment`] wrote.
pub fn decode_fragment(payload: &str) -> Result<String, String> {
    const BROKEN: &str = "The scenario in this link is damaged (was the link cut short?).";
    if payload.len() > MAX_FRAGMENT_CHARS {
        return Err(format!(
            "The scenario in this link is {} KB long; a link carries at most {} KB.",
            payload.len() / 1024,
            MAX_FRAGMENT_CHARS / 1024
        ));
    }
    let mut fields = payload.splitn(3, '.');
    let (Some(version), Some(checksum), Some(data)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err(BROKEN.into());
    };
    if version != FRAGMENT_VERSION {
        return Err(format!(
            "The scenario in this link is in a format this Cascade Lab does not read (version \
             {}).",
            version.chars().take(8).collect::<String>()
        ));
    }
    let checksum = u64::from_str_radix(checksum, 16).map_err(|_| BROKEN.to_string())?;
    let deflated = URL_SAFE_NO_PAD
        .decode(data)
        .map_err(|_| BROKEN.to_string())?;
    let bytes = miniz_oxide::inflate::decompress_to_vec_with_limit(&deflated, MAX_SOURCE_BYTES)
        .map_err(|_| {
            format!(
                "The scenario in this link is damaged or larger than {} KB.",
                MAX_SOURCE_BYTES / 1024
            )
        })?;
    if cascade::trace::fnv1a64(&bytes) != checksum {
        return Err(BROKEN.into());
    }
    String::from_utf8(bytes).map_err(|_| BROKEN.to_string())
}

/// The `#scenario=` payload of the page's address, if it has one.
pub fn location_fragment() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    hash.strip_prefix("#scenario=").map(str::to_string)
}

/// The absolute URL of a `?src=` path if it stays on the page's origin, or why not.
pub fn src_url(src: &str) -> Result<String, String> {
    let refuse = || {
        format!(
            "The link's scenario file {} is not a path on this site: `src` takes a .toml file \
             beside the page, such as src=incidents/my-outage.toml.",
            crate::permalink::quote(src)
        )
    };
    let window = web_sys::window().ok_or_else(refuse)?;
    let base = window
        .document()
        .and_then(|d| d.base_uri().ok().flatten())
        .ok_or_else(refuse)?;
    let url = web_sys::Url::new_with_base(src, &base).map_err(|_| refuse())?;
    let here = window.location().origin().map_err(|_| refuse())?;
    if url.origin() != here || !url.pathname().ends_with(".toml") {
        return Err(refuse());
    }
    Ok(url.href())
}

/// The `?src=` file's text, fetched from the page's origin, at most [`MAX_SOURCE_BYTES`].
pub async fn fetch_src(src: &str) -> Result<String, String> {
    let url = src_url(src)?;
    let bytes = crate::app::fetch_bytes(&url).await.map_err(|e| {
        format!(
            "The scenario file {} could not be loaded: {e}",
            crate::permalink::quote(src)
        )
    })?;
    if bytes.len() > MAX_SOURCE_BYTES {
        return Err(format!(
            "The scenario file {} is {} KB; a scenario file is at most {} KB of TOML.",
            crate::permalink::quote(src),
            bytes.len() / 1024,
            MAX_SOURCE_BYTES / 1024
        ));
    }
    String::from_utf8(bytes).map_err(|_| {
        format!(
            "The scenario file {} is not UTF-8 text.",
            crate::permalink::quote(src)
        )
    })
}

/// The text of a bundled scenario's file as written (comments and all), fetched from beside
/// the site (`scenarios/<id>.toml`, written by `cascade precompile`).
pub async fn fetch_bundled_source(id: &str) -> Result<String, String> {
    let bytes = crate::app::fetch_bytes(&format!("scenarios/{id}.toml")).await?;
    String::from_utf8(bytes).map_err(|_| format!("scenarios/{id}.toml is not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn fragments_round_trip_and_refuse_damage() {
        let text = "[scenario]\nid = \"x\"\n# a comment, kept\n".repeat(50);
        let payload = encode_fragment(&text).unwrap();
        assert!(payload.starts_with("1."));
        assert!(payload.len() < text.len(), "compressed");
        assert_eq!(decode_fragment(&payload).unwrap(), text);
        // One character changed, the end cut off, another version, junk: refused.
        let mut damaged = payload.clone().into_bytes();
        let last = damaged.len() - 2;
        damaged[last] = if damaged[last] == b'A' { b'B' } else { b'A' };
        assert!(decode_fragment(std::str::from_utf8(&damaged).unwrap()).is_err());
        assert!(decode_fragment(&payload[..payload.len() / 2]).is_err());
        assert!(decode_fragment(&payload.replacen('1', "9", 1)).is_err());
        assert!(decode_fragment("<script>").is_err());
        // A bomb: a small payload that inflates past the limit.
        let bomb = "a".repeat(MAX_SOURCE_BYTES + 1);
        let deflated = miniz_oxide::deflate::compress_to_vec(bomb.as_bytes(), 9);
        let payload = format!(
            "1.{:016x}.{}",
            cascade::trace::fnv1a64(bomb.as_bytes()),
            URL_SAFE_NO_PAD.encode(deflated)
        );
        assert!(
            decode_fragment(&payload)
                .unwrap_err()
                .contains("larger than")
        );
    }

    #[wasm_bindgen_test]
    fn a_link_too_long_for_people_says_so() {
        // Text that does not compress: a long run of distinct numbers.
        let text: String = (0..40_000u64)
            .map(|i| format!("{:x}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            .collect();
        let err = encode_fragment(&text).unwrap_err();
        assert!(err.contains("?src="), "{err}");
    }
}
