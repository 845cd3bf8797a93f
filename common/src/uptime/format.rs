//! The uptime line, byte for byte as procps-ng 4.0.2's `uptime` prints it.
//!
//! ```text
//! line   = " " HH ":" MM ":" SS " up " UPTIME USERS ",  load average: " L1 ", " L5 ", " L15 "\n"
//! UPTIME = [ D " day, " | D " days, " ]          ; only when D > 0; "day" iff D == 1
//!          ( H2 ":" MM2 ", "  |  M " min, " )    ; "H:MM" (%2d:%02d) iff H > 0, else "M min"
//! USERS  = %2d " user"  |  %2d " users"          ; "users" iff N > 1
//! ```
//!
//! Loads are printed `%.2f` with the locale's decimal separator; the words
//! are never translated. Every rule is here, so a later procps variant (which
//! counts logind sessions and prints `0 users`) can stand beside this one.
//!
//! Where we differ, on purpose: procps keeps the uptime in a C `int`, so past
//! 2^31 s (68 years) it prints negative garbage; we print the true days.

use std::fmt::{self, Write as _};
use std::io::Write as _;

/// Everything the line shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// The local time of day: hours, minutes, seconds.
    pub clock: (u8, u8, u8),
    /// Whole seconds since boot (`/proc/uptime`, truncated); a line read
    /// back gives them to the minute, as it shows them.
    pub uptime: u64,
    /// Logged-in users: utmp `USER_PROCESS` records with a name.
    pub users: u64,
    /// The 1, 5 and 15 minute load averages.
    pub loads: [f64; 3],
}

/// Appends `sample`'s line to `out`, with `radix` as the decimal separator.
pub fn write_line(sample: &Sample, radix: &str, out: &mut Vec<u8>) {
    let (hh, mm, ss) = sample.clock;
    let days = sample.uptime / 86_400;
    let hours = sample.uptime / 3_600 % 24;
    let minutes = sample.uptime / 60 % 60;
    // Writing to a Vec cannot fail.
    let _ = write!(out, " {hh:02}:{mm:02}:{ss:02} up ");
    match days {
        0 => {}
        1 => out.extend_from_slice(b"1 day, "),
        _ => {
            let _ = write!(out, "{days} days, ");
        }
    }
    if hours > 0 {
        let _ = write!(out, "{hours:2}:{minutes:02}, ");
    } else {
        let _ = write!(out, "{minutes} min, ");
    }
    let users = sample.users;
    let _ = write!(
        out,
        "{users:2} {},  load average: ",
        if users > 1 { "users" } else { "user" }
    );
    for (i, load) in sample.loads.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        write_load(*load, radix, out);
    }
    out.push(b'\n');
}

/// `%.2f` of `load`, as glibc prints it, with `radix` for the decimal point.
fn write_load(load: f64, radix: &str, out: &mut Vec<u8>) {
    let mut text = Buffer::default();
    if load.is_nan() {
        let _ = text.write_str(if load.is_sign_negative() {
            "-nan"
        } else {
            "nan"
        });
    } else if load.is_infinite() {
        let _ = text.write_str(if load < 0.0 { "-inf" } else { "inf" });
    } else {
        let _ = write!(text, "{load:.2}");
    }
    for part in text.as_bytes().split_inclusive(|&b| b == b'.') {
        match part.strip_suffix(b".") {
            Some(whole) => {
                out.extend_from_slice(whole);
                out.extend_from_slice(radix.as_bytes());
            }
            None => out.extend_from_slice(part),
        }
    }
}

/// A fixed buffer for one number: `%.2f` of the largest double is 312 bytes.
struct Buffer {
    bytes: [u8; 320],
    len: usize,
}

impl Default for Buffer {
    fn default() -> Buffer {
        Buffer {
            bytes: [0; 320],
            len: 0,
        }
    }
}

impl Buffer {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl fmt::Write for Buffer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.bytes
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(uptime: u64, users: u64, loads: [f64; 3], radix: &str) -> String {
        let sample = Sample {
            clock: (3, 11, 28),
            uptime,
            users,
            loads,
        };
        let mut out = Vec::new();
        write_line(&sample, radix, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// The text between "up " and the users field.
    fn uptime_text(seconds: u64) -> String {
        let full = line(seconds, 0, [0.0; 3], ".");
        let rest = full.strip_prefix(" 03:11:28 up ").unwrap();
        rest[..rest.find(" 0 user").unwrap()].to_owned()
    }

    #[test]
    fn a_whole_line() {
        assert_eq!(
            line(360, 0, [0.24, 0.07, 0.02], "."),
            " 03:11:28 up 6 min,  0 user,  load average: 0.24, 0.07, 0.02\n"
        );
    }

    #[test]
    fn the_uptime_edge_cases_of_the_notes() {
        for (seconds, text) in [
            (0, "0 min, "),
            (59, "0 min, "),
            (60, "1 min, "),
            (61, "1 min, "),
            (119, "1 min, "),
            (3599, "59 min, "),
            (3600, " 1:00, "),
            (3660, " 1:01, "),
            (36000, "10:00, "),
            (86399, "23:59, "),
            (86400, "1 day, 0 min, "),
            (86460, "1 day, 1 min, "),
            (90000, "1 day,  1:00, "),
            (172_800, "2 days, 0 min, "),
            (3 * 86400 + 59 * 60, "3 days, 59 min, "),
            (86_400_000, "1000 days, 0 min, "),
        ] {
            assert_eq!(uptime_text(seconds), text, "{seconds} s");
        }
    }

    #[test]
    fn past_two_to_the_31_seconds_the_days_are_true() {
        assert_eq!(uptime_text(2_147_483_647), "24855 days,  3:14, ");
        assert_eq!(uptime_text(2_147_483_648), "24855 days,  3:14, ");
        assert_eq!(uptime_text(8_589_934_590), "99420 days, 12:56, ");
    }

    #[test]
    fn users_are_padded_and_plural_from_two() {
        for (users, text) in [
            (0, ",  0 user,  "),
            (1, ",  1 user,  "),
            (2, ",  2 users,  "),
            (10, ", 10 users,  "),
            (100, ", 100 users,  "),
        ] {
            assert!(line(60, users, [0.0; 3], ".").contains(text), "{users}");
        }
    }

    #[test]
    fn loads_print_like_printf_two_decimals() {
        let loads = |l: [f64; 3]| {
            line(0, 0, l, ".")
                .split("average: ")
                .nth(1)
                .unwrap()
                .to_owned()
        };
        assert_eq!(loads([0.125, 2.675, 1.005]), "0.12, 2.67, 1.00\n");
        assert_eq!(loads([0.375, 0.005, 123.456]), "0.38, 0.01, 123.46\n");
        assert_eq!(loads([-1.5, 100.0, -0.0]), "-1.50, 100.00, -0.00\n");
        assert_eq!(
            loads([f64::NAN, -f64::NAN, f64::INFINITY]),
            "nan, -nan, inf\n"
        );
        assert_eq!(loads([f64::MAX, 0.0, 0.0]).len(), 309 + 3 + 12 + 1);
    }

    #[test]
    fn the_locale_s_decimal_separator() {
        assert_eq!(
            line(60, 1, [0.5, 10.25, 0.0], ","),
            " 03:11:28 up 1 min,  1 user,  load average: 0,50, 10,25, 0,00\n"
        );
        assert!(
            line(60, 1, [0.5, 0.0, 0.0], "\u{66b}")
                .ends_with("0\u{66b}50, 0\u{66b}00, 0\u{66b}00\n")
        );
    }
}
