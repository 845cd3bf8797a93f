//! What a request is answered with.
//!
//! Every report comes from running a command, `/usr/bin/uptime` by default,
//! as the originals do.

use crate::command::Command;

/// The command the originals run.
pub const UPTIME: &str = "/usr/bin/uptime";

/// The most a stream client is sent: what the client reads at most.
pub const MAX_STREAM_REPLY: usize = 64 * 1024;

/// The most a datagram reply holds: one line, cut so that it is never fragmented.
pub const MAX_DATAGRAM_REPLY: usize = 1024;

/// The source of reports.
#[derive(Debug)]
pub enum Reporter {
    /// Run a command per request and send its output.
    Command(Command),
}

impl Reporter {
    /// The reply for a stream client.
    pub fn stream_reply(&mut self) -> Vec<u8> {
        match self {
            Reporter::Command(command) => command.capture(MAX_STREAM_REPLY).unwrap_or_else(|e| {
                let line = format!(
                    "cannot run {}: {}",
                    command.shown(),
                    ruptime_common::oserror::describe(&e)
                );
                log::error!("{line}");
                format!("ruptimed: {line}\n").into_bytes()
            }),
        }
    }

    /// The reply for a datagram client: the first line of the stream reply,
    /// cut to [`MAX_DATAGRAM_REPLY`] bytes.
    pub fn datagram_reply(&mut self) -> Vec<u8> {
        first_line(self.stream_reply(), MAX_DATAGRAM_REPLY)
    }
}

/// The first line of `text` with its newline, at most `max` bytes, still ending in a newline.
fn first_line(mut text: Vec<u8>, max: usize) -> Vec<u8> {
    let end = text
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| i + 1);
    text.truncate(end);
    if text.len() > max {
        text.truncate(max - 1);
        text.push(b'\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_is_cut_to_fit() {
        assert_eq!(first_line(b"one\ntwo\n".to_vec(), 10), b"one\n");
        assert_eq!(first_line(b"no newline".to_vec(), 100), b"no newline");
        assert_eq!(first_line(b"0123456789\n".to_vec(), 5), b"0123\n");
        assert_eq!(first_line(Vec::new(), 5), b"");
    }
}
