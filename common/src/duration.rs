//! Durations on the command line: seconds, whole or fractional.

use std::time::{Duration, Instant};

/// The shortest duration a flag takes: one millisecond.
pub const SHORTEST: Duration = Duration::from_millis(1);

/// The longest duration a flag takes: a day. Longer is a typo, and an
/// instant that far ahead can overflow.
pub const LONGEST: Duration = Duration::from_secs(86_400);

/// Parses a number of seconds such as `5`, `0.25` or `1.5`, from
/// [`SHORTEST`] to [`LONGEST`].
///
/// # Errors
/// A one-line reason for clap to show, for input that is not a number or
/// is out of that range.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    let range = || format!("'{text}' is out of range: 0.001 to 86400 seconds (a day)");
    if !secs.is_finite() {
        return Err(range());
    }
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if (SHORTEST..=LONGEST).contains(&d) => Ok(d),
        _ => Err(range()),
    }
}

/// Shows a duration the way a user would type it: `5 s`, `0.25 s`.
pub fn show_seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

/// The whole milliseconds from `now` until `at`, rounded up: a wait of
/// that many (`poll`, `epoll_wait`) never ends just before `at`.
pub fn millis_until(at: Instant, now: Instant) -> u128 {
    at.saturating_duration_since(now).as_micros().div_ceil(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_whole_and_fractional_seconds() {
        assert_eq!(parse_seconds("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_seconds("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_seconds("86400"), Ok(LONGEST));
        assert_eq!(parse_seconds("0.001"), Ok(SHORTEST));
        for bad in [
            "0", "-1", "abc", "", "NaN", "inf", "1e300", "1e19", "86400.5", "0.0001",
        ] {
            assert!(parse_seconds(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(
            parse_seconds("1e19").unwrap_err(),
            "'1e19' is out of range: 0.001 to 86400 seconds (a day)"
        );
    }

    #[test]
    fn shows_seconds_plainly() {
        assert_eq!(show_seconds(Duration::from_secs(5)), "5 s");
        assert_eq!(show_seconds(Duration::from_millis(1500)), "1.5 s");
    }

    #[test]
    fn waits_round_up_to_whole_milliseconds() {
        let now = Instant::now();
        assert_eq!(millis_until(now, now), 0);
        assert_eq!(millis_until(now + Duration::from_micros(1), now), 1);
        assert_eq!(millis_until(now + Duration::from_micros(1000), now), 1);
        assert_eq!(millis_until(now + Duration::from_micros(1001), now), 2);
        assert_eq!(millis_until(now, now + Duration::from_secs(1)), 0);
    }
}
