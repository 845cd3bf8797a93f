//! Which datagram requests get a reply, and the summary of those that do not.
//!
//! A request is answered only when it holds 1 to [`MAX_REQUEST`] bytes, comes
//! from a real sender (not port 0, not a broadcast, multicast or unspecified
//! address, which no reply could reach but a spoofer's victim), and its
//! budget allows ([`ratelimit`](crate::ratelimit)). A request at least as
//! long as the line, or of at least `PADDED_LEN` bytes, is *padded*: its
//! reply is never longer than it (a longer `--command` line is cut to the
//! request's length). A shorter one is *legacy* and gets the whole line from
//! the legacy budget. Dropped requests are counted and logged as one
//! [summary](crate::summary) line per interval while drops go on.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use ruptime_common::protocol::MAX_DATAGRAM_REPLY;
use ruptime_common::protocol::request::{MAX_REQUEST, RequestKind};

use crate::allow::Allow;
use crate::ratelimit::{Class, Decision, Limits, RateLimiter};
use crate::summary::Due;
use crate::udp::Request;

/// Why a request gets no reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dropped {
    /// Empty, or longer than [`MAX_REQUEST`].
    Malformed,
    /// From port 0, or a broadcast, multicast or unspecified address.
    BadSender,
    /// From a sender `--allow` does not name.
    NotAllowed,
    /// A legacy request whose source is over its rate limit.
    SourceLimit,
    /// A legacy request, and the legacy budget is spent.
    LegacyLimit,
    /// A padded request, and the daemon is over its global rate limit.
    GlobalLimit,
}

/// The sender of an acceptable request.
///
/// # Errors
/// The [`Dropped`] that says why the request is not acceptable.
pub(crate) fn check(request: &Request) -> Result<SocketAddr, Dropped> {
    if request.len == 0 || request.len > MAX_REQUEST || request.truncated {
        return Err(Dropped::Malformed);
    }
    let sender = request.sender().ok_or(Dropped::BadSender)?;
    if sender.port() == 0 || !reachable(sender.ip()) {
        return Err(Dropped::BadSender);
    }
    Ok(sender)
}

/// What a request of `len` bytes is, the line being `line` bytes long (when
/// known), and the budget it is paid from.
pub(crate) fn classify(len: usize, line: Option<usize>) -> (RequestKind, Class) {
    let kind = RequestKind::of(len, line);
    let class = match kind {
        RequestKind::Padded(_) => Class::Padded,
        // A line not known yet is paid as the longest it can be, and the
        // rest given back once it is sent (see `Guard::sent_legacy`).
        RequestKind::Legacy => Class::Legacy(line.unwrap_or(MAX_DATAGRAM_REPLY)),
    };
    (kind, class)
}

/// Whether a reply to `addr` could reach one host.
fn reachable(addr: IpAddr) -> bool {
    let addr = match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    };
    let broadcast = matches!(addr, IpAddr::V4(v4) if v4.is_broadcast());
    !(addr.is_unspecified() || addr.is_multicast() || broadcast)
}

/// Counts of dropped requests since the last summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Drops {
    malformed: u64,
    bad_sender: u64,
    not_allowed: u64,
    source_limit: u64,
    legacy_limit: u64,
    global_limit: u64,
}

/// The rate limiter and the drop counts.
#[derive(Debug)]
pub(crate) struct Guard {
    allow: Allow,
    limiter: RateLimiter,
    drops: Drops,
    summary: Due,
}

impl Guard {
    /// A guard with these limits, for the senders `allow` admits.
    pub(crate) fn new(limits: Limits, allow: Allow) -> Guard {
        Guard {
            allow,
            limiter: RateLimiter::new(limits, Instant::now()),
            drops: Drops::default(),
            summary: Due::default(),
        }
    }

    /// Whether `request` gets a reply at `now`, the line being `line` bytes
    /// long (`None`: not known before it is made, as with `--command`): what
    /// kind of request it is, which says how much of the line it may get.
    /// Counts the request when it gets none.
    pub(crate) fn admit(
        &mut self,
        request: &Request,
        line: Option<usize>,
        now: Instant,
    ) -> Option<RequestKind> {
        let (kind, class) = classify(request.len, line);
        let allow = &mut self.allow;
        let verdict = check(request)
            .and_then(|sender| {
                if allow.admits(sender.ip(), now) {
                    Ok(sender)
                } else {
                    Err(Dropped::NotAllowed)
                }
            })
            .and_then(|sender| match self.limiter.check(sender, class, now) {
                Decision::Reply => Ok(kind),
                Decision::SourceLimit => Err(Dropped::SourceLimit),
                Decision::LegacyLimit => Err(Dropped::LegacyLimit),
                Decision::GlobalLimit => Err(Dropped::GlobalLimit),
            });
        match verdict {
            Ok(kind) => Some(kind),
            Err(why) => {
                self.count(why, now);
                None
            }
        }
    }

    /// A reply of `bytes` went to a legacy request admitted before its line
    /// was known (a `--command` line), and paid as the longest line: the
    /// rest goes back to the legacy budget.
    pub(crate) fn sent_legacy(&mut self, bytes: usize) {
        self.limiter
            .refund_legacy(MAX_DATAGRAM_REPLY.saturating_sub(bytes));
    }

    /// Counts a request dropped at `now` for `why`.
    fn count(&mut self, why: Dropped, now: Instant) {
        let drops = &mut self.drops;
        match why {
            Dropped::Malformed => drops.malformed += 1,
            Dropped::BadSender => drops.bad_sender += 1,
            Dropped::NotAllowed => drops.not_allowed += 1,
            Dropped::SourceLimit => drops.source_limit += 1,
            Dropped::LegacyLimit => drops.legacy_limit += 1,
            Dropped::GlobalLimit => drops.global_limit += 1,
        }
        self.summary.noted(now);
    }

    /// When the next summary is due, if requests were dropped.
    pub(crate) fn summary_due(&self) -> Option<Instant> {
        self.summary.at()
    }

    /// Logs the summary if it is due at `now` (or `now` is the end), and
    /// starts counting anew.
    pub(crate) fn summarize(&mut self, now: Instant, at_end: bool) {
        if !self.summary.take(now, at_end) {
            return;
        }
        let d = std::mem::take(&mut self.drops);
        let total = d.malformed
            + d.bad_sender
            + d.not_allowed
            + d.source_limit
            + d.legacy_limit
            + d.global_limit;
        log::warn!(
            "dropped {total} datagram requests: {} legacy over a source's rate limit, {} legacy over \
             the legacy budget, {} over the global rate limit, {} malformed, {} from senders no reply \
             could reach, {} from senders not in --allow",
            d.source_limit,
            d.legacy_limit,
            d.global_limit,
            d.malformed,
            d.bad_sender,
            d.not_allowed
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_never_outgrows_a_padded_request() {
        // Our client's request, and another client's zero padding.
        let padded = |len| (RequestKind::Padded(len), Class::Padded);
        assert_eq!(classify(256, Some(70)), padded(256));
        assert_eq!(classify(70, Some(70)), padded(70));
        // A --command line of unknown length: cut to the request's length.
        assert_eq!(classify(256, None), padded(256));
        // The original client's single byte: legacy, the whole line.
        assert_eq!(
            classify(1, Some(70)),
            (RequestKind::Legacy, Class::Legacy(70))
        );
        assert_eq!(
            classify(100, None),
            (RequestKind::Legacy, Class::Legacy(MAX_DATAGRAM_REPLY))
        );
    }

    #[test]
    fn only_hosts_a_reply_can_reach_are_answered() {
        for (addr, ok) in [
            ("10.0.0.1", true),
            ("::1", true),
            ("255.255.255.255", false),
            ("0.0.0.0", false),
            ("224.0.0.1", false),
            ("ff02::1", false),
            ("::", false),
            ("::ffff:255.255.255.255", false),
            ("::ffff:10.0.0.1", true),
        ] {
            assert_eq!(reachable(addr.parse().unwrap()), ok, "{addr}");
        }
    }
}
