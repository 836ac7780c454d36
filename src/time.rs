//! Integer virtual time: microseconds since the start of a run, with unit conversions.
//!
//! Time is a `u64` count of microseconds so that event order never depends on floating-point
//! rounding. Conversions from the scenario's human units (ms, s) happen once, at validation.

/// Virtual time or a duration, in microseconds.
pub type TimeUs = u64;

/// Microseconds in one millisecond.
pub const US_PER_MS: TimeUs = 1_000;
/// Microseconds in one second.
pub const US_PER_S: TimeUs = 1_000_000;

/// Converts milliseconds (as written in a scenario) to microseconds, rounding to the nearest µs.
pub fn ms_to_us(ms: f64) -> TimeUs {
    if ms <= 0.0 {
        0
    } else {
        (ms * US_PER_MS as f64 + 0.5) as TimeUs
    }
}

/// Converts seconds (as written in a scenario) to microseconds, rounding to the nearest µs.
pub fn s_to_us(s: f64) -> TimeUs {
    if s <= 0.0 {
        0
    } else {
        (s * US_PER_S as f64 + 0.5) as TimeUs
    }
}

/// Converts microseconds to seconds for display and series.
pub fn us_to_s(us: TimeUs) -> f64 {
    us as f64 / US_PER_S as f64
}

/// Converts microseconds to milliseconds for display and series.
pub fn us_to_ms(us: TimeUs) -> f64 {
    us as f64 / US_PER_MS as f64
}

/// Parses a duration such as `90s`, `1.5m`, `2h`, `250ms`, `10us` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<TimeUs, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.trim().parse().map_err(|_| {
        format!(
            "`{text}` is not a duration: expected a number and a unit, like 90s, 5m, 1h or 250ms"
        )
    })?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!(
            "`{text}` is not a duration: it must be zero or positive"
        ));
    }
    let us_per_unit = match unit {
        "" | "s" => US_PER_S as f64,
        "ms" => US_PER_MS as f64,
        "us" | "µs" => 1.0,
        "m" | "min" => 60.0 * US_PER_S as f64,
        "h" => 3_600.0 * US_PER_S as f64,
        other => {
            return Err(format!(
                "`{text}` has an unknown unit `{other}`: use us, ms, s, m or h"
            ));
        }
    };
    Ok((value * us_per_unit + 0.5) as TimeUs)
}

/// Formats a time as `h:mm:ss` (or `m:ss.s` below an hour) for captions and CLI output.
pub fn format_clock(us: TimeUs) -> String {
    let total_s = us / US_PER_S;
    let (h, m, s) = (total_s / 3600, (total_s / 60) % 60, total_s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations_in_every_unit() {
        assert_eq!(parse_duration("90s"), Ok(90 * US_PER_S));
        assert_eq!(parse_duration("90"), Ok(90 * US_PER_S));
        assert_eq!(parse_duration("1.5m"), Ok(90 * US_PER_S));
        assert_eq!(parse_duration("2h"), Ok(7_200 * US_PER_S));
        assert_eq!(parse_duration("250ms"), Ok(250 * US_PER_MS));
        assert_eq!(parse_duration("7us"), Ok(7));
    }

    #[test]
    fn rejects_bad_durations_with_a_reason() {
        assert!(
            parse_duration("abc")
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(
            parse_duration("5 fortnights")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_duration("-3s").unwrap_err().contains("positive"));
    }

    #[test]
    fn converts_units() {
        assert_eq!(ms_to_us(1.5), 1_500);
        assert_eq!(s_to_us(0.25), 250_000);
        assert_eq!(us_to_ms(2_500), 2.5);
        assert_eq!(format_clock(3_725 * US_PER_S), "1:02:05");
        assert_eq!(format_clock(65 * US_PER_S), "1:05");
    }
}
