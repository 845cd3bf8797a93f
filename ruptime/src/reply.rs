//! Reading a reply: an uptime line, a daemon's error line, or something else.
//!
//! The parser knows the line `uptime` prints (procps-ng; see
//! `ruptime_common::uptime::format`), with either decimal separator and any
//! run of spaces where the line pads, and nothing more: anything else is
//! [`Reply::Unknown`], shown raw. It works on bytes and never panics,
//! whatever a daemon sends (property-tested below). A line understood is
//! the [`Sample`] the daemon formatted, its uptime to the minute.

use ruptime_common::uptime::Sample;

/// What a reply is.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// An uptime line.
    Uptime(Sample),
    /// The daemon says it cannot report (`ruptimed: ...`), this text.
    DaemonError(String),
    /// Anything else.
    Unknown,
}

/// What ruptimed's error lines start with.
const DAEMON_ERROR: &[u8] = b"ruptimed: ";

/// Reads `reply`.
pub fn parse(reply: &[u8]) -> Reply {
    if let Some(report) = parse_line(reply) {
        return Reply::Uptime(report);
    }
    match reply.strip_suffix(b"\n") {
        Some(line) if line.starts_with(DAEMON_ERROR) && !line.contains(&b'\n') => {
            Reply::DaemonError(String::from_utf8_lossy(line).into_owned())
        }
        _ => Reply::Unknown,
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
            let whole = self.number()?;
            if self.eat(b".").is_none() {
                self.eat(b",")?;
            }
            let hundredths = self.two_digits(100)?;
            // One division, so that 1.89 reads as the double nearest 1.89
            // (1 + 0.89 is 1.8900000000000001).
            (u128::from(whole) * 100 + u128::from(hundredths)) as f64 / 100.0
        };
        Some(if negative { -value } else { value })
    }
}

fn parse_line(line: &[u8]) -> Option<Sample> {
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
    use proptest::prelude::*;
    use ruptime_common::uptime::format::write_line;

    fn report(line: &str) -> Option<Sample> {
        match parse(line.as_bytes()) {
            Reply::Uptime(report) => Some(report),
            _ => None,
        }
    }

    #[test]
    fn reads_every_form_of_the_line() {
        let r = report(" 03:11:28 up 6 min,  0 user,  load average: 0.24, 0.07, 0.02\n").unwrap();
        assert_eq!(
            r,
            Sample {
                clock: (3, 11, 28),
                uptime: 360,
                users: 0,
                loads: [0.24, 0.07, 0.02]
            }
        );
        let r = report(" 10:00:00 up 2 days,  3:04,  3 users,  load average: 0,50, 10,25, 0,00\n")
            .unwrap();
        assert_eq!(
            (r.uptime, r.users, r.loads),
            (2 * 86400 + 3 * 3600 + 4 * 60, 3, [0.5, 10.25, 0.0])
        );
        let r = report(" 23:59:59 up 1 day, 0 min, 100 users,  load average: 123.45, 0.00, 0.00\n")
            .unwrap();
        assert_eq!((r.uptime, r.users), (86400, 100));
        let r =
            report(" 07:05:02  up   0:34,  5 users,  load average: 1.00, 0.50, 0.25\n").unwrap();
        assert_eq!(r.uptime, 34 * 60, "coreutils pads differently; same fields");
        let r = report(" 00:00:00 up 0 min,  0 user,  load average: nan, -nan, inf\n").unwrap();
        assert!(r.loads[0].is_nan() && r.loads[1].is_nan() && r.loads[2].is_infinite());
    }

    #[test]
    fn loads_are_the_doubles_nearest_what_was_written() {
        let line =
            b" 10:00:00 up 1 min,  1 user,  load average: 1.89, 1.14, 999999999999999999.68\n";
        let Reply::Uptime(sample) = parse(line) else {
            panic!("not read")
        };
        assert_eq!(sample.loads, [1.89, 1.14, 999_999_999_999_999_999.68]);
        assert_eq!(sample.loads[0].to_string(), "1.89");
    }

    #[test]
    fn anything_else_is_unknown_or_a_daemon_error() {
        for odd in [
            "",
            "\n",
            " 03:11:28 up 6 min,  0 user,  load average: 0.24, 0.07, 0.02",
            " 03:11:28 up 6 min,  0 user,  load average: 0.24, 0.07, 0.02\nmore\n",
            " 03:11:28 up 6 min,  0 user,  load average: 0.2, 0.07, 0.02\n",
            " 25:11:28 up 6 min,  0 user,  load average: 0.24, 0.07, 0.02\n",
            " 03:11:28 up 6 hrs,  0 user,  load average: 0.24, 0.07, 0.02\n",
            "uid=0(root) gid=0(root)\n",
            // Days, hours and minutes that overflow 64 bits of seconds.
            " 03:11:28 up 213503982334601 days, 999 min,  0 user,  load average: 0.24, 0.07, 0.02\n",
            " 03:11:28 up 213503982334601 days, 23:59,  0 user,  load average: 0.24, 0.07, 0.02\n",
            " 03:11:28 up 999999999999999999 min,  0 user,  load average: 0.24, 0.07, 0.02\n",
        ] {
            assert_eq!(parse(odd.as_bytes()), Reply::Unknown, "{odd:?}");
        }
        assert_eq!(
            parse(b"ruptimed: cannot get system uptime: /proc/uptime holds no valid number\n"),
            Reply::DaemonError(
                "ruptimed: cannot get system uptime: /proc/uptime holds no valid number".into()
            )
        );
        assert_eq!(parse(b"ruptimed: two\nlines\n"), Reply::Unknown);
    }

    #[test]
    fn replies_of_exactly_the_cap_are_read_whole() {
        let cap = crate::query::MAX_REPLY;
        let line = b" 03:11:28 up 6 min,  0 user,  load average: 0.24, 0.07, 0.02\n";
        for filler in [b'9', b' ', b'\n', 0xff] {
            let mut reply = line.to_vec();
            reply.resize(cap, filler);
            assert_eq!(parse(&reply), Reply::Unknown);
            let mut digits = b" 03:11:28 up ".to_vec();
            digits.resize(cap, b'9');
            assert_eq!(parse(&digits), Reply::Unknown);
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse(&bytes);
        }

        /// Replies up to the 64 KiB cap: long runs of digits, spaces and
        /// line pieces, whatever their size.
        #[test]
        fn replies_up_to_the_cap_never_panic(
            pieces in proptest::collection::vec(
                prop_oneof![
                    Just(b" 03:11:28 up ".to_vec()),
                    Just(b" days, ".to_vec()),
                    Just(b"load average: ".to_vec()),
                    proptest::collection::vec(b'0'..=b'9', 1..40),
                    proptest::collection::vec(Just(b' '), 1..2048),
                    proptest::collection::vec(any::<u8>(), 0..4096),
                ],
                1..64,
            )
        ) {
            let mut reply: Vec<u8> = pieces.concat();
            reply.truncate(crate::query::MAX_REPLY);
            let _ = parse(&reply);
        }

        #[test]
        fn damaged_lines_never_panic(cut in 0usize..80, junk in proptest::collection::vec(any::<u8>(), 0..8)) {
            let mut line = b" 03:11:28 up 2 days,  3:04, 12 users,  load average: 0.24, 0.07, 0.02\n".to_vec();
            let at = cut.min(line.len());
            line.splice(at..at, junk);
            let _ = parse(&line);
        }

        #[test]
        fn every_line_the_daemon_writes_reads_back(
            clock in (0u8..24, 0u8..60, 0u8..60),
            uptime in 0u64..400_000_000,
            users in 0u64..100_000,
            hundredths in proptest::array::uniform3(0u32..100_000),
            comma in any::<bool>(),
        ) {
            let loads = hundredths.map(|h| f64::from(h) / 100.0);
            let mut line = Vec::new();
            write_line(&Sample { clock, uptime, users, loads }, if comma { "," } else { "." }, &mut line);
            let report = match parse(&line) {
                Reply::Uptime(report) => report,
                other => panic!("{:?} read as {other:?}", String::from_utf8_lossy(&line)),
            };
            prop_assert_eq!(report.clock, clock);
            prop_assert_eq!(report.uptime, uptime / 60 * 60);
            prop_assert_eq!(report.users, users);
            for (got, want) in report.loads.iter().zip(loads) {
                prop_assert!((got - want).abs() < 0.001, "{} vs {}", got, want);
            }
        }
    }
}
