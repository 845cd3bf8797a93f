//! What a reply says: an uptime line, the daemon's error line, or another
//! answer. One verdict per reply, for every part of the client that tells
//! up from down.

use super::line::{Sample, read_line};

/// What the daemon's error lines start with.
pub const DAEMON_ERROR: &str = "ruptimed: ";

/// The daemon's error line for `message`: `ruptimed: MESSAGE\n`.
pub fn error_line(message: &str) -> Vec<u8> {
    format!("{DAEMON_ERROR}{message}\n").into_bytes()
}

/// What a reply is.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// An uptime line.
    Uptime(Sample),
    /// The daemon says it cannot report, or will not (`ruptimed: ...`), this text.
    DaemonError(String),
    /// Anything else: an answer all the same (the original client prints
    /// whatever comes), shown raw.
    Other,
}

impl Verdict {
    /// Judges `reply`.
    pub fn of(reply: &[u8]) -> Verdict {
        if let Some(sample) = read_line(reply) {
            return Verdict::Uptime(sample);
        }
        match reply.strip_suffix(b"\n") {
            Some(line) if line.starts_with(DAEMON_ERROR.as_bytes()) && !line.contains(&b'\n') => {
                Verdict::DaemonError(String::from_utf8_lossy(line).into_owned())
            }
            _ => Verdict::Other,
        }
    }

    /// Whether the host answered: any reply but the daemon's error line.
    pub fn answered(&self) -> bool {
        !matches!(self, Verdict::DaemonError(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uptime_line_an_error_line_and_anything_else() {
        let line = b" 03:11:28 up 6 min,  0 user,  load average: 0.24, 0.07, 0.02\n";
        assert!(matches!(Verdict::of(line), Verdict::Uptime(s) if s.uptime == 360));
        let error = error_line("cannot get system uptime: /proc/uptime holds no valid number");
        assert_eq!(
            Verdict::of(&error),
            Verdict::DaemonError(
                "ruptimed: cannot get system uptime: /proc/uptime holds no valid number".into()
            )
        );
        assert!(!Verdict::of(&error).answered());
        for other in [&b""[..], b"\n", b"ruptimed: two\nlines\n", b"uid=0(root)\n"] {
            assert_eq!(Verdict::of(other), Verdict::Other, "{other:?}");
            assert!(Verdict::of(other).answered());
        }
    }

    #[test]
    fn replies_of_exactly_the_cap_are_judged_whole() {
        let cap = super::super::MAX_REPLY;
        let line = b" 03:11:28 up 6 min,  0 user,  load average: 0.24, 0.07, 0.02\n";
        for filler in [b'9', b' ', b'\n', 0xff] {
            let mut reply = line.to_vec();
            reply.resize(cap, filler);
            assert_eq!(Verdict::of(&reply), Verdict::Other);
            let mut digits = b" 03:11:28 up ".to_vec();
            digits.resize(cap, b'9');
            assert_eq!(Verdict::of(&digits), Verdict::Other);
        }
    }
}
