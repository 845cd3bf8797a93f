//! `/proc/uptime` and `/proc/loadavg`, read as procps reads them: numbers in
//! the C locale, as `sscanf("%lf %lf %lf")` finds them.
//!
//! Exact for what the kernel writes and for plain decimal numbers (`1e5`,
//! `-1.5`, `inf` and `nan` included); hexadecimal floats are not read.

use std::fs::File;
use std::io::{self, Read};

/// Where the seconds since boot are.
pub const UPTIME: &str = "/proc/uptime";

/// Where the load averages are.
pub const LOADAVG: &str = "/proc/loadavg";

/// Why the seconds since boot are unknown.
#[derive(Debug)]
pub enum UptimeError {
    /// `/proc/uptime` cannot be read.
    Unreadable(io::Error),
    /// It holds no number, or a negative or infinite one.
    Invalid,
}

/// Whole seconds since boot (truncated, never rounded).
///
/// # Errors
/// The file cannot be read or holds no usable number.
pub fn uptime_seconds() -> Result<u64, UptimeError> {
    let mut buf = [0u8; 128];
    let text = read_small(UPTIME, &mut buf).map_err(UptimeError::Unreadable)?;
    parse_uptime(text)
}

/// Whole seconds since boot from the text of `/proc/uptime`.
///
/// # Errors
/// [`UptimeError::Invalid`] when it holds no usable number.
pub fn parse_uptime(text: &[u8]) -> Result<u64, UptimeError> {
    match leading_number(text) {
        Some((seconds, _)) if seconds.is_finite() && seconds >= 0.0 => {
            // A float-to-integer `as` truncates toward zero, as C's cast does.
            Ok(seconds as u64)
        }
        _ => Err(UptimeError::Invalid),
    }
}

/// The 1, 5 and 15 minute loads; 0 for each one that cannot be read.
pub fn loads() -> [f64; 3] {
    let mut buf = [0u8; 256];
    read_small(LOADAVG, &mut buf).map_or([0.0; 3], parse_loads)
}

/// The first three numbers of `text` (of `/proc/loadavg`), as `sscanf`
/// assigns them: reading stops at the first one that is not a number, and
/// the rest stay 0.
pub fn parse_loads(mut text: &[u8]) -> [f64; 3] {
    let mut loads = [0.0; 3];
    for load in &mut loads {
        let Some((value, rest)) = leading_number(text) else {
            break;
        };
        *load = value;
        text = rest;
    }
    loads
}

/// Reads a file up to the end of its first line, at most `buf.len()` bytes
/// (the rest is ignored). The kernel writes these files' one line in one
/// read, so that read is usually the only one: no second read to find the end.
fn read_small<'b>(path: &str, buf: &'b mut [u8]) -> io::Result<&'b [u8]> {
    let mut file = File::open(path)?;
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => {
                len += n;
                if buf[len - n..len].contains(&b'\n') {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(&buf[..len])
}

/// The number `strtod` reads at the start of `text` (after white space), and what follows it.
fn leading_number(text: &[u8]) -> Option<(f64, &[u8])> {
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    let text = &text[start..];
    let len = number_len(text)?;
    let value = std::str::from_utf8(&text[..len]).ok()?.parse().ok()?;
    Some((value, &text[len..]))
}

/// The length of the longest number at the start of `text`:
/// `[+-] (digits [. digits] | . digits) [(e|E) [+-] digits]`, or `inf`,
/// `infinity` or `nan` in any case.
fn number_len(text: &[u8]) -> Option<usize> {
    let sign = usize::from(matches!(text.first(), Some(b'+' | b'-')));
    let body = &text[sign..];
    for word in ["infinity", "inf", "nan"] {
        if body.len() >= word.len() && body[..word.len()].eq_ignore_ascii_case(word.as_bytes()) {
            return Some(sign + word.len());
        }
    }
    let digits = |from: usize| {
        body[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let whole = digits(0);
    let mut len = whole;
    if body.get(len) == Some(&b'.') {
        let fraction = digits(len + 1);
        if whole + fraction == 0 {
            return None;
        }
        len += 1 + fraction;
    } else if whole == 0 {
        return None;
    }
    if matches!(body.get(len), Some(b'e' | b'E')) {
        let exp_sign = usize::from(matches!(body.get(len + 1), Some(b'+' | b'-')));
        let exp_digits = digits(len + 1 + exp_sign);
        if exp_digits > 0 {
            len += 1 + exp_sign + exp_digits;
        }
    }
    Some(sign + len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_first_line_s_end_within_the_buffer() {
        let path = std::env::temp_dir().join(format!("ruptime-proc-{}", std::process::id()));
        let mut buf = [0u8; 64];
        for (content, expected) in [
            (&b"12.5 3\nsecond line\n"[..], &b"12.5 3\nsecond line\n"[..]),
            (b"no newline", b"no newline"),
            (b"", b""),
        ] {
            std::fs::write(&path, content).unwrap();
            let got = read_small(path.to_str().unwrap(), &mut buf).unwrap();
            assert_eq!(got, expected);
        }
        std::fs::write(&path, [b'7'; 100]).unwrap();
        assert_eq!(
            read_small(path.to_str().unwrap(), &mut buf).unwrap(),
            [b'7'; 64]
        );
        std::fs::remove_file(&path).unwrap();
        let line = read_small(UPTIME, &mut buf).unwrap();
        assert!(line.ends_with(b"\n"), "{line:?}");
    }

    #[test]
    fn reads_numbers_as_strtod_does() {
        assert_eq!(
            leading_number(b"  350.75 1200.50\n"),
            Some((350.75, &b" 1200.50\n"[..]))
        );
        assert_eq!(leading_number(b"1e5 1"), Some((100_000.0, &b" 1"[..])));
        assert_eq!(leading_number(b"-1.5"), Some((-1.5, &b""[..])));
        assert_eq!(leading_number(b".5x"), Some((0.5, &b"x"[..])));
        assert_eq!(leading_number(b"7."), Some((7.0, &b""[..])));
        assert_eq!(leading_number(b"3e+x"), Some((3.0, &b"e+x"[..])));
        assert!(leading_number(b"nan").is_some_and(|(v, _)| v.is_nan()));
        assert_eq!(
            leading_number(b"-Infinity"),
            Some((f64::NEG_INFINITY, &b""[..]))
        );
        for none in [&b""[..], b"   ", b"abc", b".", b"-", b"+.e5"] {
            assert_eq!(leading_number(none), None, "{none:?}");
        }
    }

    #[test]
    fn loads_stop_at_the_first_that_is_not_a_number() {
        assert_eq!(
            parse_loads(b"0.24 0.07 0.02 1/123 4567\n"),
            [0.24, 0.07, 0.02]
        );
        assert_eq!(parse_loads(b"1 2"), [1.0, 2.0, 0.0]);
        assert_eq!(parse_loads(b"abc 1 2"), [0.0; 3]);
        assert_eq!(parse_loads(b"1.5,2.5 3"), [1.5, 0.0, 0.0]);
        assert_eq!(parse_loads(b"-1.5 1e2 0.5x"), [-1.5, 100.0, 0.5]);
    }
}
