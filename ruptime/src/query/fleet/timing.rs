//! What the round trips say: when a host is asked again, when a silent
//! connection gets another beside it, when a connection took too long, and
//! what an answer tells its group.

use std::time::Duration;

use super::super::dgram::first_resend;
use super::super::round_trip::RoundTrip;
use super::{FIRST_HEDGE, Fleet, SYN_AGAIN};

impl Fleet<'_> {
    /// The round trip's timeout for hosts of `group`: the group's own, or
    /// while it has none the run's.
    fn rto(&self, group: u32) -> Option<Duration> {
        self.groups
            .round_trip(group)
            .and_then(RoundTrip::timeout)
            .or_else(|| self.round_trip.timeout())
    }

    /// How long a datagram host of `group` waits before it sends again: the
    /// round trip's timeout, or the fixed first wait while none is measured.
    pub(super) fn resend(&self, group: u32) -> Duration {
        self.rto(group)
            .unwrap_or_else(|| first_resend(self.options.timeout))
    }

    /// How long a silent connection of `group` waits before another is
    /// opened beside it: the round trip's timeout, or [`FIRST_HEDGE`] while
    /// none is measured; none while descriptors are short.
    pub(super) fn hedge(&self, group: u32) -> Option<Duration> {
        self.has_room()
            .then(|| self.rto(group).unwrap_or(FIRST_HEDGE))
    }

    /// How long a connection of `group` takes at most before its SYN must
    /// have been sent again.
    pub(super) fn syn_again(&self, group: u32) -> Duration {
        let rtt = self
            .groups
            .round_trip(group)
            .and_then(RoundTrip::smoothed)
            .unwrap_or_default();
        rtt + SYN_AGAIN
    }

    /// A host of `group` answered, `round_trip` after it was asked if it
    /// was asked once only.
    pub(super) fn answered(&mut self, group: u32, round_trip: Option<Duration>) {
        if let Some(rtt) = round_trip {
            self.round_trip.sample(rtt);
        }
        // The answer may have waited while the loop worked.
        self.groups.answered(group, round_trip, self.busy);
    }
}
