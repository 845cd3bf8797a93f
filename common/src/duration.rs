//! Durations on the command line: seconds, whole or fractional.

use std::time::Duration;

/// Parses a positive number of seconds such as `5`, `0.25` or `1.5`.
///
/// # Errors
/// A one-line reason for clap to show, for zero, negative or non-numeric input.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if secs.is_nan() || secs <= 0.0 {
        return Err(format!("'{text}' must be more than 0 seconds"));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| format!("'{text}' seconds is too long"))
}

/// Shows a duration the way a user would type it: `5 s`, `0.25 s`.
pub fn show_seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_whole_and_fractional_seconds() {
        assert_eq!(parse_seconds("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_seconds("0.25"), Ok(Duration::from_millis(250)));
        for bad in ["0", "-1", "abc", "", "NaN", "inf", "1e300"] {
            assert!(parse_seconds(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn shows_seconds_plainly() {
        assert_eq!(show_seconds(Duration::from_secs(5)), "5 s");
        assert_eq!(show_seconds(Duration::from_millis(1500)), "1.5 s");
    }
}
