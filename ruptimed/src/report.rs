//! What a request is answered with: the uptime line built natively (the
//! default), or the output of a command run per request (`--command`, the
//! originals' behaviour).
//!
//! A native line built within the same wall-clock second is reused: the clock
//! field cannot change within it, and the uptime and loads it shows may lag by
//! under a second. The report path reuses one buffer and allocates nothing.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use ruptime_common::protocol::verdict::error_line;
use ruptime_common::protocol::{MAX_DATAGRAM_REPLY, MAX_REPLY};
use ruptime_common::uptime::{self, LineBuilder};

use crate::command::Command;
use crate::throttle::{Throttle, held_note};

/// What requests are answered with.
#[derive(Debug)]
pub(crate) enum ReplySource {
    /// Build the line from /proc and utmp.
    Native(Native),
    /// Run a command per request and send its output.
    Command(Command),
}

impl ReplySource {
    /// How reports are made, for the start line of the log.
    pub(crate) fn describe(&self) -> String {
        match self {
            ReplySource::Native(_) => "native report".to_owned(),
            ReplySource::Command(command) => format!("command {}", command.shown()),
        }
    }

    /// The reply for a stream client.
    pub(crate) fn stream_reply(&mut self) -> Cow<'_, [u8]> {
        match self {
            ReplySource::Native(native) => Cow::Borrowed(native.current(uptime::now())),
            ReplySource::Command(command) => {
                Cow::Owned(command.capture(MAX_REPLY).unwrap_or_else(|e| {
                    let line = format!(
                        "cannot run {}: {}",
                        command.shown(),
                        ruptime_common::oserror::describe(&e)
                    );
                    log::error!("{line}");
                    error_line(&line)
                }))
            }
        }
    }

    /// How long the datagram reply is, when known before it is made (the
    /// native line; not a command's output).
    pub(crate) fn datagram_len(&mut self) -> Option<usize> {
        match self {
            ReplySource::Native(native) => {
                Some(first_line(native.current(uptime::now()), MAX_DATAGRAM_REPLY).len())
            }
            ReplySource::Command(_) => None,
        }
    }

    /// The reply for a datagram client: the first line of the stream reply,
    /// cut to [`MAX_DATAGRAM_REPLY`] bytes.
    pub(crate) fn datagram_reply(&mut self) -> Cow<'_, [u8]> {
        match self.stream_reply() {
            Cow::Borrowed(text) => first_line(text, MAX_DATAGRAM_REPLY),
            Cow::Owned(text) => Cow::Owned(first_line(&text, MAX_DATAGRAM_REPLY).into_owned()),
        }
    }
}

/// The native line, rebuilt at most once per wall-clock second.
#[derive(Debug)]
pub(crate) struct Native {
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
    pub(crate) fn new() -> Native {
        let _ = uptime::clock::time_of_day(uptime::now());
        Native {
            builder: LineBuilder::from_environment(),
            built_at: None,
            line: Vec::with_capacity(128),
            errors: Throttle::new(Duration::from_secs(60)),
        }
    }

    /// The line for `now` (seconds since the epoch), reused within its
    /// second; an error line when none can be built.
    pub(crate) fn current(&mut self, now: i64) -> &[u8] {
        if self.built_at != Some(now) {
            self.line.clear();
            self.built_at = match self.builder.write_line(now, &mut self.line) {
                Ok(()) => Some(now),
                Err(e) => {
                    if let Some(held) = self.errors.check(Instant::now()) {
                        log::error!("{e}{}", held_note(held));
                    }
                    self.line.clear();
                    self.line.extend_from_slice(&error_line(&e.to_string()));
                    None
                }
            };
        }
        &self.line
    }

    /// A line built for `now`, not reused: the work of a forked child.
    pub(crate) fn fresh(&mut self, now: i64) -> &[u8] {
        self.built_at = None;
        self.current(now)
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
        let now = uptime::now();
        let first = native.current(now).to_vec();
        assert!(
            first.starts_with(b" ") && first.ends_with(b"\n") && first.len() > 50,
            "{first:?}"
        );
        let of_second = |t: i64| {
            let (h, m, s) = uptime::clock::time_of_day(t).unwrap();
            format!(" {h:02}:{m:02}:{s:02} up ").into_bytes()
        };
        assert!(first.starts_with(&of_second(now)));
        native.line = b"cached\n".to_vec();
        assert_eq!(native.current(now), b"cached\n");
        let next = native.current(now + 1).to_vec();
        assert!(next.starts_with(&of_second(now + 1)), "{next:?}");
        native.line = b"cached\n".to_vec();
        let fresh = native.fresh(now + 1).to_vec();
        assert!(
            fresh.starts_with(&of_second(now + 1)),
            "a child's line is its own"
        );
    }
}
