//! Permalinks: the player's state in the URL's query, versioned so that old links keep opening.
//!
//! Version 1 (the first) uses these parameters, all optional but `s`:
//! `v=1`, `s=<scenario id>`, `fix=<name,name>` (fixes from the start), `at=<name@seconds,…>` (to the µs)
//! (fixes applied mid-run), `seed=<n>`, `t=<seconds>`, `speed=<virtual s per wall s>`,
//! `cmp=0|1` (compare mode), `embed=1` (compact player), `controls=fixes` (fix switches in the
//! embed), `mode=lesson|drill` (questions; the on-call drill, where `at` names runbook actions). A link without `v` is read as version 1. Anything that does not check out is refused
//! with a message naming what is wrong; nothing in a link is ever rendered as HTML.

use crate::state::SPEEDS;
use cascade::Scenario;
use web_sys::UrlSearchParams;

/// The most fixes (or drill actions) a link applies mid-run: more is not a link a person made,
/// and each one costs the run a patch.
pub const MAX_MOMENTS: usize = 64;

/// The version written into new links.
pub const LINK_VERSION: u32 = 1;

/// What a link asks for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Link {
    /// Scenario id.
    pub scenario: String,
    /// Fixes from the start.
    pub fixes: Vec<String>,
    /// Fixes applied mid-run: (name, seconds).
    pub fixes_at: Vec<(String, f64)>,
    /// Seed (default: the scenario's).
    pub seed: Option<u64>,
    /// Moment, s.
    pub t_s: Option<f64>,
    /// Speed.
    pub speed: Option<f64>,
    /// Compare mode.
    pub compare: Option<bool>,
    /// Compact player for iframes.
    pub embed: bool,
    /// Fix switches in the compact player.
    pub embed_fixes: bool,
    /// Replay, lesson or drill.
    pub mode: Mode,
    /// Declared parameters set to other values (`set=PATH@VALUE,…`): (path, value).
    #[cfg(feature = "authoring")]
    pub set: Vec<(String, f64)>,
    /// A scenario of the user's own, fetched from this path on the page's origin (`src=`).
    #[cfg(feature = "authoring")]
    pub src: Option<String>,
    /// A scenario of the user's own, carried in the fragment (`#scenario=`), which the query
    /// does not hold.
    #[cfg(feature = "authoring")]
    pub fragment: Option<String>,
}

/// How a scenario is opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// The narrated replay with its fixes.
    #[default]
    Replay,
    /// The replay pauses to ask what happens next.
    Lesson,
    /// The on-call drill: the story hidden, alerts page, runbook actions.
    Drill,
}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Shows at most 40 characters of untrusted text in a message (as text, never as markup).
pub fn quote(text: &str) -> String {
    let shown: String = text.chars().take(40).collect();
    if shown.len() < text.len() {
        format!("“{shown}…”")
    } else {
        format!("“{shown}”")
    }
}

/// Reads a query string (with or without `?`). `Ok(None)`: no scenario asked for.
pub fn parse(query: &str) -> Result<Option<Link>, String> {
    let params = UrlSearchParams::new_with_str(query)
        .map_err(|_| "The link could not be read.".to_string())?;
    if let Some(v) = params.get("v") {
        match v.parse::<u32>() {
            Ok(v) if (1..=LINK_VERSION).contains(&v) => {}
            Ok(v) if v > LINK_VERSION => {
                return Err(format!(
                    "This link was made by a newer Cascade Lab (link version {v}); this one reads up to version {LINK_VERSION}."
                ));
            }
            _ => {
                return Err(format!(
                    "The link's version {} is not a version number.",
                    quote(&v)
                ));
            }
        }
    }
    // A scenario of the user's own, fetched from a path beside the page (its id comes with it);
    // the player's module hands such links to the authoring module before reading them.
    #[cfg(feature = "authoring")]
    let src = params.get("src");
    #[cfg(feature = "authoring")]
    if let Some(path) = &src
        && (path.is_empty() || path.len() > 512 || path.chars().any(char::is_control))
    {
        return Err(format!(
            "The link's scenario file {} is not a path.",
            quote(path)
        ));
    }
    #[cfg(feature = "authoring")]
    let scenario = params
        .get("s")
        .or_else(|| src.as_ref().map(|_| String::new()));
    #[cfg(not(feature = "authoring"))]
    let scenario = params.get("s");
    let Some(scenario) = scenario else {
        return Ok(None);
    };
    #[cfg(feature = "authoring")]
    let own = scenario.is_empty() && src.is_some();
    #[cfg(not(feature = "authoring"))]
    let own = false;
    if !(is_name(&scenario) || own) {
        return Err(format!(
            "The link names the scenario {}, which is not a scenario id.",
            quote(&scenario)
        ));
    }
    let mut link = Link {
        scenario,
        #[cfg(feature = "authoring")]
        src,
        ..Link::default()
    };
    if let Some(fixes) = params.get("fix").filter(|f| !f.is_empty()) {
        for name in fixes.split(',') {
            if !is_name(name) {
                return Err(format!(
                    "The link names the fix {}, which is not a fix name.",
                    quote(name)
                ));
            }
            link.fixes.push(name.to_string());
        }
    }
    if let Some(at) = params.get("at").filter(|f| !f.is_empty()) {
        let count = at.split(',').count();
        if count > MAX_MOMENTS {
            return Err(format!(
                "The link applies {count} changes mid-run; a link carries at most {MAX_MOMENTS}."
            ));
        }
        for item in at.split(',') {
            let parsed = item
                .split_once('@')
                .and_then(|(name, t)| Some((name, number(t)?)));
            match parsed {
                Some((name, t)) if is_name(name) && t.is_finite() && t > 0.0 => {
                    link.fixes_at.push((name.to_string(), t))
                }
                _ => {
                    return Err(format!(
                        "The link's mid-run fix {} is not NAME@SECONDS.",
                        quote(item)
                    ));
                }
            }
        }
    }
    if let Some(seed) = params.get("seed") {
        link.seed = Some(
            seed.parse()
                .map_err(|_| format!("The link's seed {} is not a whole number.", quote(&seed)))?,
        );
    }
    if let Some(t) = params.get("t") {
        match number(&t) {
            Some(t) if t >= 0.0 => link.t_s = Some(t),
            _ => {
                return Err(format!(
                    "The link's time {} is not a number of seconds.",
                    quote(&t)
                ));
            }
        }
    }
    if let Some(speed) = params.get("speed") {
        match number(&speed) {
            Some(s) if SPEEDS.iter().any(|&known| (known - s).abs() < 1e-9) => link.speed = Some(s),
            _ => {
                return Err(format!(
                    "The link's speed {} is not one of the player's speeds.",
                    quote(&speed)
                ));
            }
        }
    }
    if let Some(cmp) = params.get("cmp") {
        link.compare = match cmp.as_str() {
            "1" => Some(true),
            "0" => Some(false),
            _ => {
                return Err(format!(
                    "The link's compare mode {} is neither 0 nor 1.",
                    quote(&cmp)
                ));
            }
        };
    }
    link.mode = match params.get("mode").as_deref() {
        None | Some("replay") => Mode::Replay,
        Some("lesson") => Mode::Lesson,
        Some("drill") => Mode::Drill,
        Some(other) => {
            return Err(format!(
                "The link's mode {} is none of replay, lesson and drill.",
                quote(other)
            ));
        }
    };
    #[cfg(feature = "authoring")]
    if let Some(set) = params.get("set").filter(|f| !f.is_empty()) {
        for item in set.split(',').take(MAX_MOMENTS + 1) {
            let parsed = item
                .rsplit_once('@')
                .and_then(|(path, v)| Some((path, number(v)?)));
            match parsed {
                Some((path, v))
                    if !path.is_empty()
                        && path.len() <= 200
                        && path.split('.').all(is_name)
                        && link.set.len() < MAX_MOMENTS =>
                {
                    link.set.push((path.to_string(), v))
                }
                _ => {
                    return Err(format!(
                        "The link's parameter {} is not PATH@VALUE.",
                        quote(item)
                    ));
                }
            }
        }
    }
    #[cfg(feature = "authoring")]
    if link.mode != Mode::Replay && (link.src.is_some() || !link.set.is_empty()) {
        return Err(
            "Lessons and drills replay the outages as documented; this link also changes the \
             scenario (src= or set=)."
                .into(),
        );
    }
    link.embed = params.get("embed").as_deref() == Some("1");
    if link.embed && link.mode != Mode::Replay {
        return Err("Lessons and drills open in the full player, not in an embed.".into());
    }
    link.embed_fixes = params.get("controls").as_deref() == Some("fixes");
    Ok(Some(link))
}

/// Checks a link against the scenario it names: its fixes exist and its times fit the run.
pub fn check_against(link: &Link, scenario: &Scenario) -> Result<(), String> {
    let duration = scenario.file.scenario.duration_s;
    if link.mode == Mode::Drill {
        let runbook = &scenario.file.drill.runbook;
        if runbook.is_empty() {
            return Err(format!("“{}” has no drill.", scenario.file.scenario.title));
        }
        if !link.fixes.is_empty() {
            return Err("A drill starts without fixes: the link names some.".into());
        }
        if let Some((name, _)) = link
            .fixes_at
            .iter()
            .find(|(n, _)| !runbook.iter().any(|a| a.name == *n))
        {
            return Err(format!(
                "The link takes the action {}, which the runbook of “{}” does not have.",
                quote(name),
                scenario.file.scenario.title
            ));
        }
    }
    let fixes_at = link.fixes_at.iter().filter(|_| link.mode != Mode::Drill);
    for name in link.fixes.iter().chain(fixes_at.map(|(n, _)| n)) {
        if !scenario.file.fixes.contains_key(name) {
            return Err(format!(
                "The link asks for the fix {}, which “{}” does not have.",
                quote(name),
                scenario.file.scenario.title
            ));
        }
    }
    if let Some(t) = link.t_s.filter(|&t| t > duration) {
        return Err(format!(
            "The link's time {t} s is past the end of the replay ({duration} s)."
        ));
    }
    if let Some((name, t)) = link.fixes_at.iter().find(|(_, t)| *t > duration) {
        return Err(format!(
            "The link applies {} at {t} s, past the end of the replay.",
            quote(name)
        ));
    }
    Ok(())
}

/// A finite decimal number as written in a link or a form field (digits, sign, point,
/// exponent), read by the browser's own number parser: the page then carries no float parser of
/// its own (a few KB of wasm).
pub fn number(text: &str) -> Option<f64> {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    if !plain {
        return None;
    }
    // `Number(text)`: the whole text must be a number (NaN otherwise, unlike parseFloat).
    let value = match text.parse::<js_sys::Number>() {
        Ok(number) => number.value_of(),
        Err(never) => match never {},
    };
    value.is_finite().then_some(value)
}

/// The query string (with `?`) of a link.
pub fn to_query(link: &Link) -> String {
    let params = UrlSearchParams::new().expect("URLSearchParams exists in browsers");
    params.append("v", &LINK_VERSION.to_string());
    params.append("s", &link.scenario);
    #[cfg(feature = "authoring")]
    if let Some(src) = &link.src {
        params.append("src", src);
    }
    #[cfg(feature = "authoring")]
    if !link.set.is_empty() {
        let items: Vec<String> = link
            .set
            .iter()
            .map(|(path, v)| format!("{path}@{v}"))
            .collect();
        params.append("set", &items.join(","));
    }
    if !link.fixes.is_empty() {
        params.append("fix", &link.fixes.join(","));
    }
    if !link.fixes_at.is_empty() {
        let items: Vec<String> = link
            .fixes_at
            .iter()
            .map(|(n, t)| format!("{n}@{}", exact(*t)))
            .collect();
        params.append("at", &items.join(","));
    }
    if let Some(seed) = link.seed {
        params.append("seed", &seed.to_string());
    }
    if let Some(t) = link.t_s {
        params.append("t", &round(t));
    }
    if let Some(speed) = link.speed {
        params.append("speed", &speed.to_string());
    }
    if let Some(compare) = link.compare {
        params.append("cmp", if compare { "1" } else { "0" });
    }
    match link.mode {
        Mode::Replay => {}
        Mode::Lesson => params.append("mode", "lesson"),
        Mode::Drill => params.append("mode", "drill"),
    }
    if link.embed {
        params.append("embed", "1");
    }
    if link.embed_fixes {
        params.append("controls", "fixes");
    }
    format!("?{}", String::from(params.to_string()))
}

/// What follows the page's URL for a link: its query and, for a scenario carried in the link
/// itself, its `#scenario=` fragment.
pub fn to_address(link: &Link) -> String {
    #[allow(unused_mut)]
    let mut address = to_query(link);
    #[cfg(feature = "authoring")]
    if let Some(fragment) = &link.fragment {
        address = format!("{address}#scenario={fragment}");
    }
    address
}

/// Seconds to the microsecond, without trailing zeros: a fix applied mid-run changes the run
/// from that very moment, so a link must name it exactly to replay the same run.
fn exact(t: f64) -> String {
    let text = format!("{t:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

/// Seconds with at most one decimal, without a trailing `.0` (where the playhead stands).
fn round(t: f64) -> String {
    let t = (t * 10.0).round() / 10.0;
    if t.fract() == 0.0 {
        format!("{}", t as u64)
    } else {
        format!("{t:.1}")
    }
}

/// An `<iframe>` snippet embedding `page_url` (an absolute URL of the sandbox) with `link`.
pub fn embed_snippet(page_url: &str, link: &Link, title: &str) -> String {
    let mut embedded = link.clone();
    embedded.embed = true;
    let src = format!("{page_url}{}", to_address(&embedded));
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    format!(
        "<iframe src=\"{}\" title=\"{}\" width=\"800\" height=\"450\" style=\"border:0;max-width:100%\" loading=\"lazy\"></iframe>",
        escape(&src),
        escape(&format!("Cascade Lab replay: {title}"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn links_round_trip() {
        let link = Link {
            scenario: "retry-storm".into(),
            fixes: vec!["jitter".into()],
            fixes_at: vec![("honor-timeout".into(), 12.5), ("jitter".into(), 7.654321)],
            seed: Some(7),
            t_s: Some(33.3),
            speed: Some(60.0),
            compare: Some(false),
            embed: true,
            embed_fixes: true,
            mode: Mode::Replay,
            #[cfg(feature = "authoring")]
            set: vec![
                ("clients.users.rate_rps".into(), 42.5),
                ("timeline.1.at_s".into(), 9.0),
            ],
            #[cfg(feature = "authoring")]
            src: Some("incidents/our outage.toml".into()),
            #[cfg(feature = "authoring")]
            fragment: None,
        };
        assert_eq!(parse(&to_query(&link)).unwrap(), Some(link));
        // A scenario file beside the page needs no id; a path must be one.
        #[cfg(feature = "authoring")]
        let own = parse("?src=incidents/ours.toml").unwrap().unwrap();
        assert_eq!(
            (own.scenario.as_str(), own.src.as_deref()),
            ("", Some("incidents/ours.toml"))
        );
        assert!(parse("?src=").unwrap_err().contains("not a path"));
        assert!(parse("?src=a%0Ab.toml").unwrap_err().contains("not a path"));
        assert!(parse("?s=%3Cscript%3E&src=a.toml").is_err());
        for mode in [Mode::Lesson, Mode::Drill] {
            let link = Link {
                scenario: "retry-storm".into(),
                mode,
                ..Link::default()
            };
            assert_eq!(parse(&to_query(&link)).unwrap(), Some(link));
        }
        assert!(
            parse("?s=retry-storm&mode=exam")
                .unwrap_err()
                .contains("none of replay, lesson and drill")
        );
        // A fix applied at any microsecond is named to the microsecond.
        let query = to_query(&Link {
            scenario: "retry-storm".into(),
            fixes: vec![],
            fixes_at: vec![
                ("jitter".into(), 12_345_678.0 / 1e6),
                ("honor-timeout".into(), 30.0),
            ],
            seed: None,
            t_s: None,
            speed: None,
            compare: None,
            embed: false,
            embed_fixes: false,
            mode: Mode::Replay,
            ..Link::default()
        });
        assert!(query.contains("jitter%4012.345678"), "{query}");
        assert!(query.contains("honor-timeout%4030"), "{query}");
        let parsed = parse(&query).unwrap().unwrap();
        assert_eq!(cascade::time::s_to_us(parsed.fixes_at[0].1), 12_345_678);
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("?v=1").unwrap(), None);
    }

    #[wasm_bindgen_test]
    fn bad_links_say_what_is_wrong() {
        assert!(parse("?v=9&s=retry-storm").unwrap_err().contains("newer"));
        assert!(
            parse("?s=<script>alert(1)</script>")
                .unwrap_err()
                .contains("not a scenario id")
        );
        assert!(
            parse("?s=retry-storm&seed=-1")
                .unwrap_err()
                .contains("seed")
        );
        assert!(parse("?s=retry-storm&t=soon").unwrap_err().contains("time"));
        assert!(parse("?s=retry-storm&t=0x10").unwrap_err().contains("time"));
        assert!(parse("?s=retry-storm&t=-3").unwrap_err().contains("time"));
        assert!(
            parse("?s=retry-storm&t=Infinity")
                .unwrap_err()
                .contains("time")
        );
        assert_eq!(number("12.5"), Some(12.5));
        assert_eq!(number("1e3"), Some(1000.0));
        assert_eq!(number("0.1"), Some(0.1));
        for bad in ["", "12abc", "1.2.3", "-", "1e999", " 1"] {
            assert_eq!(number(bad), None, "{bad:?}");
        }
        assert!(
            parse("?s=retry-storm&speed=7")
                .unwrap_err()
                .contains("speed")
        );
        assert!(
            parse("?s=retry-storm&at=jitter")
                .unwrap_err()
                .contains("NAME@SECONDS")
        );
        let long = format!("?s={}", "x".repeat(500));
        assert!(
            parse(&long).unwrap_err().len() < 200,
            "untrusted text is cut short"
        );
    }

    #[wasm_bindgen_test]
    fn the_embed_snippet_escapes_its_attributes() {
        let link = Link {
            scenario: "retry-storm".into(),
            fixes: vec!["jitter".into()],
            ..Link::default()
        };
        let snippet = embed_snippet("https://example.org/lab/", &link, "A \"quoted\" <title>");
        assert!(snippet.starts_with("<iframe src=\"https://example.org/lab/?v=1&amp;s=retry-storm&amp;fix=jitter&amp;embed=1\""), "{snippet}");
        assert!(snippet.contains("A &quot;quoted&quot; &lt;title&gt;"));
    }
}
