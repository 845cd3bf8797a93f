//! What a request is answered with: the uptime line built natively (the
//! default), or the output of a command run per request (`--command`, the
//! originals' behaviour).
//!
//! A native line built within the same wall-clock second is reused: the clock
//! field cannot change within it, and the uptime and loads it shows may lag by
//! under a second. The report path reuses one buffer and allocates nothing.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use ruptime_common::uptime::{self, Reporter as LineBuilder};

use crate::command::Command;
use crate::throttle::{Throttle, held_note};

/// The most a stream client is sent: what the client reads at most.
pub const MAX_STREAM_REPLY: usize = 64 * 1024;

/// The most a datagram reply holds: one line, cut so that it is never fragmented.
pub const MAX_DATAGRAM_REPLY: usize = 1024;

/// The source of reports.
#[derive(Debug)]
pub enum Reporter {
    /// Build the line from /proc and utmp.
    Native(Native),
    /// Run a command per request and send its output.
    Command(Command),
}

impl Reporter {
    /// How reports are made, for the start line of the log.
    pub fn describe(&self) -> String {
        match self {
            Reporter::Native(_) => "native report".to_owned(),
            Reporter::Command(command) => format!("command {}", command.shown()),
        }
    }

    /// The reply for a stream client.
    pub fn stream_reply(&mut self) -> Cow<'_, [u8]> {
        match self {
            Reporter::Native(native) => Cow::Borrowed(native.current()),
            Reporter::Command(command) => {
                Cow::Owned(command.capture(MAX_STREAM_REPLY).unwrap_or_else(|e| {
                    let line = format!(
                        "cannot run {}: {}",
                        command.shown(),
                        ruptime_common::oserror::describe(&e)
                    );
                    log::error!("{line}");
                    format!("ruptimed: {line}\n").into_bytes()
                }))
            }
        }
    }

    /// How long the datagram reply is, when known before it is made (the
    /// native line; not a command's output).
    pub fn datagram_len(&mut self) -> Option<usize> {
        match self {
            Reporter::Native(native) => {
                Some(first_line(native.current(), MAX_DATAGRAM_REPLY).len())
            }
            Reporter::Command(_) => None,
        }
    }

    /// The reply for a datagram client: the first line of the stream reply,
    /// cut to [`MAX_DATAGRAM_REPLY`] bytes.
    pub fn datagram_reply(&mut self) -> Cow<'_, [u8]> {
        match self.stream_reply() {
            Cow::Borrowed(text) => first_line(text, MAX_DATAGRAM_REPLY),
            Cow::Owned(text) => Cow::Owned(first_line(&text, MAX_DATAGRAM_REPLY).into_owned()),
        }
    }
}

/// The native line, rebuilt at most once per wall-clock second.
#[derive(Debug)]
pub struct Native {
    builder: LineBuilder,
    built_at: Option<i64>,
    line: Vec<u8>,
    errors: Throttle,
}

impl Native {
    /// Lines for the locale the daemon's environment selects, as `uptime`'s.
    ///
    /// The time zone (`/etc/localtime`) is read at once, so that forked
    /// children inherit it instead of each reading it again.
    pub fn new() -> Native {
        let _ = uptime::clock::time_of_day(uptime::now());
        Native {
            builder: LineBuilder::from_environment(),
            built_at: None,
            line: Vec::with_capacity(128),
            errors: Throttle::new(Duration::from_secs(60)),
        }
    }

    /// The line for this second; an error line when none can be built.
    pub fn current(&mut self) -> &[u8] {
        let now = uptime::now();
        if self.built_at != Some(now) {
            self.line.clear();
            self.built_at = match self.builder.write_line(now, &mut self.line) {
                Ok(()) => Some(now),
                Err(e) => {
                    if let Some(held) = self.errors.check(Instant::now()) {
                        log::error!("{e}{}", held_note(held));
                    }
                    self.line.clear();
                    self.line
                        .extend_from_slice(format!("ruptimed: {e}\n").as_bytes());
                    None
                }
            };
        }
        &self.line
    }

    /// A line built now, not reused: the work of a forked child.
    pub fn fresh(&mut self) -> &[u8] {
        self.built_at = None;
        self.current()
    }
}

impl Default for Native {
    fn default() -> Native {
        Native::new()
    }
}

/// The first line of `text` with its newline, at most `max` bytes, still
/// ending in a newline when it was cut.
fn first_line(text: &[u8], max: usize) -> Cow<'_, [u8]> {
    let end = text
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| i + 1);
    if end <= max {
        return Cow::Borrowed(&text[..end]);
    }
    let mut cut = text[..max - 1].to_vec();
    cut.push(b'\n');
    Cow::Owned(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_is_cut_to_fit() {
        assert_eq!(&*first_line(b"one\ntwo\n", 10), b"one\n");
        assert_eq!(&*first_line(b"no newline", 100), b"no newline");
        assert_eq!(&*first_line(b"0123456789\n", 5), b"0123\n");
        assert_eq!(&*first_line(b"", 5), b"");
    }

    #[test]
    fn the_native_line_is_reused_within_its_second_only() {
        let mut native = Native::new();
        loop {
            let now = uptime::now();
            native.built_at = Some(now);
            native.line = b"cached\n".to_vec();
            let got = native.current().to_vec();
            if uptime::now() == now {
                assert_eq!(got, b"cached\n");
                break;
            }
        }
        native.built_at = Some(uptime::now() - 1);
        let fresh = native.current().to_vec();
        assert!(
            fresh.starts_with(b" ") && fresh.ends_with(b"\n") && fresh.len() > 50,
            "{fresh:?}"
        );
    }
}
