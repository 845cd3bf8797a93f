//! The datagram request, padded so that no reply is longer than it, and
//! what a request of a given length may be answered with.
//!
//! The original client sends one byte and the daemon answers with a line of
//! about 70: spoofed requests would make the daemon an amplifier. As QUIC
//! does before it has checked a client's address (RFC 9000 §8), the daemon
//! never answers a request with more bytes than the request had, unless it
//! is a *legacy* request (shorter than the reply), which it answers from a
//! small budget of its own. Our client pads its request to
//! [`PADDED_LEN`] bytes: a NUL (what the original sends), the marker
//! [`MARKER`], then zeros. The original daemon ignores what a request holds,
//! so it answers this one too.

/// Our client's request length: at least any native uptime line (at most
/// about 100 bytes, whatever the uptime, the users and the loads), well
/// within one packet on any link (IPv6 guarantees 1 280 bytes).
pub const PADDED_LEN: usize = 256;

/// The marker after the leading NUL: which client, which version of the format.
pub const MARKER: &[u8] = b"ruptime/1";

/// The longest request the daemon answers; a longer one is ignored.
pub const MAX_REQUEST: usize = 1024;

/// Our client's request.
pub const fn padded_request() -> [u8; PADDED_LEN] {
    let mut request = [0; PADDED_LEN];
    let mut i = 0;
    while i < MARKER.len() {
        request[1 + i] = MARKER[i];
        i += 1;
    }
    request
}

/// What a datagram request may be answered with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// As long as the line, or [`PADDED_LEN`] bytes at least: a reply of at
    /// most this many bytes (the request's own length).
    Padded(usize),
    /// Shorter (the original client's one byte): the whole line, from a
    /// budget of its own.
    Legacy,
}

impl RequestKind {
    /// What a request of `len` bytes is, the line being `line` bytes long
    /// when that is known before it is made.
    pub fn of(len: usize, line: Option<usize>) -> RequestKind {
        if len >= PADDED_LEN || line.is_some_and(|l| len >= l) {
            RequestKind::Padded(len)
        } else {
            RequestKind::Legacy
        }
    }

    /// The most bytes of `reply` this request may get.
    pub fn cut(self, reply: &[u8]) -> &[u8] {
        match self {
            RequestKind::Padded(len) => &reply[..reply.len().min(len)],
            RequestKind::Legacy => reply,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_starts_as_the_original_s_and_carries_the_marker() {
        let request = padded_request();
        assert_eq!(request.len(), PADDED_LEN);
        assert_eq!(request[0], 0);
        assert_eq!(&request[1..10], b"ruptime/1");
        assert!(request[10..].iter().all(|&b| b == 0));
        const { assert!(PADDED_LEN <= MAX_REQUEST) };
    }

    #[test]
    fn a_request_as_long_as_the_line_is_padded_and_cuts_it() {
        assert_eq!(RequestKind::of(256, None), RequestKind::Padded(256));
        assert_eq!(RequestKind::of(70, Some(70)), RequestKind::Padded(70));
        assert_eq!(RequestKind::of(1, Some(70)), RequestKind::Legacy);
        assert_eq!(RequestKind::of(100, None), RequestKind::Legacy);
        assert_eq!(RequestKind::Padded(3).cut(b"abcdef"), b"abc");
        assert_eq!(RequestKind::Padded(300).cut(b"abcdef"), b"abcdef");
        assert_eq!(RequestKind::Legacy.cut(b"abcdef"), b"abcdef");
    }
}
