//! The uptime line, byte for byte as procps-ng 4.0.2's `uptime` prints it:
//! [`write_line`] writes it (the daemon), [`read_line`] reads it back (the
//! client), side by side so that every rule is in one place.
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
//!
//! The reader knows that line, with either decimal separator and any run of
//! spaces where the line pads (coreutils' `uptime` pads otherwise), and
//! nothing more. It works on bytes and never panics, whatever a daemon
//! sends. A line read gives the [`Sample`] the daemon wrote, its uptime to
//! the minute; writing it again gives the same bytes.

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

/// A cursor over the line's bytes.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn spaces(&mut self) -> usize {
        let n = self.rest.iter().take_while(|&&b| b == b' ').count();
        self.rest = &self.rest[n..];
        n
    }

    /// At least one space.
    fn gap(&mut self) -> Option<()> {
        (self.spaces() > 0).then_some(())
    }

    fn eat(&mut self, word: &[u8]) -> Option<()> {
        self.rest = self.rest.strip_prefix(word)?;
        Some(())
    }

    /// `word` if it is there.
    fn skip(&mut self, word: &[u8]) {
        let _ = self.eat(word);
    }

    fn peek(&self, word: &[u8]) -> bool {
        self.rest.starts_with(word)
    }

    /// Decimal digits, at least one, at most 18.
    fn number(&mut self) -> Option<u64> {
        let n = self.rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 || n > 18 {
            return None;
        }
        let value = self.rest[..n]
            .iter()
            .fold(0u64, |v, d| v * 10 + u64::from(d - b'0'));
        self.rest = &self.rest[n..];
        Some(value)
    }

    /// Exactly two digits, below `limit`.
    fn two_digits(&mut self, limit: u8) -> Option<u8> {
        match self.rest {
            [a @ b'0'..=b'9', b @ b'0'..=b'9', rest @ ..] => {
                let value = (a - b'0') * 10 + (b - b'0');
                self.rest = rest;
                (value < limit).then_some(value)
            }
            _ => None,
        }
    }

    /// `%.2f` with either decimal separator, or `nan`/`inf` as glibc prints them.
    fn load(&mut self) -> Option<f64> {
        let negative = self.eat(b"-").is_some();
        let value = if self.eat(b"nan").is_some() {
            f64::NAN
        } else if self.eat(b"inf").is_some() {
            f64::INFINITY
        } else {
            // Any number of digits: the writer writes any double.
            let n = self.rest.iter().take_while(|b| b.is_ascii_digit()).count();
            let (whole, rest) = self.rest.split_at(n);
            self.rest = rest;
            if whole.is_empty() || (self.eat(b".").is_none() && self.eat(b",").is_none()) {
                return None;
            }
            let hundredths = self.two_digits(100)?;
            // Read as text, so that 1.89 is the double nearest 1.89 (1 +
            // 0.89 is 1.8900000000000001).
            let text = format!("{}.{hundredths:02}", std::str::from_utf8(whole).ok()?);
            text.parse().ok()?
        };
        Some(if negative { -value } else { value })
    }
}

/// The figures of `line`, if it is an uptime line (newline and all).
pub fn read_line(line: &[u8]) -> Option<Sample> {
    let mut c = Cursor { rest: line };
    c.spaces();
    let hours = c.two_digits(24)?;
    c.eat(b":")?;
    let minutes = c.two_digits(60)?;
    c.eat(b":")?;
    let clock = (hours, minutes, c.two_digits(61)?);
    c.gap()?;
    c.eat(b"up")?;
    c.gap()?;
    let mut uptime = 0;
    let mut first = c.number()?;
    if c.peek(b" day") {
        c.eat(b" day")?;
        c.skip(b"s");
        c.eat(b",")?;
        c.gap()?;
        uptime = first.checked_mul(86_400)?;
        first = c.number()?;
    }
    // Checked all through: a number out of range is not an uptime.
    let rest = if c.eat(b":").is_some() {
        first
            .checked_mul(3_600)?
            .checked_add(u64::from(c.two_digits(60)?) * 60)?
    } else {
        c.gap()?;
        c.eat(b"min")?;
        first.checked_mul(60)?
    };
    uptime = uptime.checked_add(rest)?;
    c.eat(b",")?;
    c.gap()?;
    let users = c.number()?;
    c.gap()?;
    c.eat(b"user")?;
    c.skip(b"s");
    c.eat(b",")?;
    c.gap()?;
    c.eat(b"load average:")?;
    c.gap()?;
    let mut loads = [0.0; 3];
    for (i, load) in loads.iter_mut().enumerate() {
        if i > 0 {
            c.eat(b",")?;
            c.gap()?;
        }
        *load = c.load()?;
    }
    c.eat(b"\n")?;
    c.rest.is_empty().then_some(Sample {
        clock,
        uptime,
        users,
        loads,
    })
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

    fn read(text: &str) -> Option<Sample> {
        read_line(text.as_bytes())
    }

    #[test]
    fn reads_every_form_of_the_line() {
        let r = read(" 03:11:28 up 6 min,  0 user,  load average: 0.24, 0.07, 0.02\n").unwrap();
        assert_eq!(
            r,
            Sample {
                clock: (3, 11, 28),
                uptime: 360,
                users: 0,
                loads: [0.24, 0.07, 0.02]
            }
        );
        let r = read(" 10:00:00 up 2 days,  3:04,  3 users,  load average: 0,50, 10,25, 0,00\n")
            .unwrap();
        assert_eq!(
            (r.uptime, r.users, r.loads),
            (2 * 86400 + 3 * 3600 + 4 * 60, 3, [0.5, 10.25, 0.0])
        );
        let r = read(" 23:59:59 up 1 day, 0 min, 100 users,  load average: 123.45, 0.00, 0.00\n")
            .unwrap();
        assert_eq!((r.uptime, r.users), (86400, 100));
        let r = read(" 07:05:02  up   0:34,  5 users,  load average: 1.00, 0.50, 0.25\n").unwrap();
        assert_eq!(r.uptime, 34 * 60, "coreutils pads differently; same fields");
        let r = read(" 00:00:00 up 0 min,  0 user,  load average: nan, -nan, inf\n").unwrap();
        assert!(r.loads[0].is_nan() && r.loads[1].is_nan() && r.loads[2].is_infinite());
    }

    #[test]
    fn loads_are_the_doubles_nearest_what_was_written() {
        let line =
            b" 10:00:00 up 1 min,  1 user,  load average: 1.89, 1.14, 999999999999999999.68\n";
        let sample = read_line(line).unwrap();
        assert_eq!(sample.loads, [1.89, 1.14, 999_999_999_999_999_999.68]);
        assert_eq!(sample.loads[0].to_string(), "1.89");
        // The largest load the writer writes reads back.
        let mut huge = Vec::new();
        let most = Sample {
            loads: [f64::MAX, f64::MIN, 0.0],
            ..sample
        };
        write_line(&most, ".", &mut huge);
        assert_eq!(read_line(&huge).map(|s| s.loads), Some(most.loads));
    }

    #[test]
    fn anything_else_is_not_a_line() {
        for odd in [
            "",
            "\n",
            " 03:11:28 up 6 min,  0 user,  load average: 0.24, 0.07, 0.02",
            " 03:11:28 up 6 min,  0 user,  load average: 0.24, 0.07, 0.02\nmore\n",
            " 03:11:28 up 6 min,  0 user,  load average: 0.2, 0.07, 0.02\n",
            " 25:11:28 up 6 min,  0 user,  load average: 0.24, 0.07, 0.02\n",
            " 03:11:28 up 6 hrs,  0 user,  load average: 0.24, 0.07, 0.02\n",
            "uid=0(root) gid=0(root)\n",
            "ruptimed: cannot get system uptime\n",
            // Days, hours and minutes that overflow 64 bits of seconds.
            " 03:11:28 up 213503982334601 days, 999 min,  0 user,  load average: 0.24, 0.07, 0.02\n",
            " 03:11:28 up 213503982334601 days, 23:59,  0 user,  load average: 0.24, 0.07, 0.02\n",
            " 03:11:28 up 999999999999999999 min,  0 user,  load average: 0.24, 0.07, 0.02\n",
        ] {
            assert_eq!(read(odd), None, "{odd:?}");
        }
    }

    /// The figures a line shows of `sample`: the uptime to the minute, the
    /// loads to the hundredth.
    fn shown(sample: &Sample) -> Sample {
        Sample {
            uptime: sample.uptime / 60 * 60,
            loads: sample.loads.map(|l| (l * 100.0).round() / 100.0),
            ..*sample
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let _ = read_line(&bytes);
        }

        /// Replies up to the 64 KiB cap: long runs of digits, spaces and
        /// line pieces, whatever their size.
        #[test]
        fn replies_up_to_the_cap_never_panic(
            pieces in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(b" 03:11:28 up ".to_vec()),
                    proptest::strategy::Just(b" days, ".to_vec()),
                    proptest::strategy::Just(b"load average: ".to_vec()),
                    proptest::collection::vec(b'0'..=b'9', 1..40),
                    proptest::collection::vec(proptest::strategy::Just(b' '), 1..2048),
                    proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096),
                ],
                1..64,
            )
        ) {
            let mut reply: Vec<u8> = pieces.concat();
            reply.truncate(super::super::MAX_REPLY);
            let _ = read_line(&reply);
        }

        #[test]
        fn damaged_lines_never_panic(cut in 0usize..80, junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..8)) {
            let mut line = b" 03:11:28 up 2 days,  3:04, 12 users,  load average: 0.24, 0.07, 0.02\n".to_vec();
            let at = cut.min(line.len());
            line.splice(at..at, junk);
            let _ = read_line(&line);
        }

        /// A written line reads back as the figures it shows, and those
        /// write the very same bytes again.
        #[test]
        fn a_line_written_reads_back_and_writes_the_same_bytes(
            clock in (0u8..24, 0u8..60, 0u8..60),
            uptime in 0u64..400_000_000_000,
            users in 0u64..100_000,
            hundredths in proptest::array::uniform3(0u32..100_000),
            comma in proptest::prelude::any::<bool>(),
        ) {
            let radix = if comma { "," } else { "." };
            let loads = hundredths.map(|h| f64::from(h) / 100.0);
            let sample = Sample { clock, uptime, users, loads };
            let mut written = Vec::new();
            write_line(&sample, radix, &mut written);
            let read = read_line(&written);
            proptest::prop_assert_eq!(read, Some(shown(&sample)));
            let mut again = Vec::new();
            write_line(&shown(&sample), radix, &mut again);
            proptest::prop_assert_eq!(again, written);
        }
    }
}
