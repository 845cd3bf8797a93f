//! Asking from this process: one host needing no lookup with the blocking
//! query (no resolver to wait for, no loop to set up), any other run with
//! the event loop. Fork mode's children ask their share this way too.

use std::time::Instant;

use ruptime_common::resolve::Proto;

use super::blocking::ask_one;
use super::fleet;
use super::options::Options;
use super::outcome::Outcome;
use super::trace::Untraced;
use super::watch::Watch;
use crate::target::Target;

/// Asks every target over `proto`; the outcomes in the targets' order.
pub(super) fn ask_all(
    proto: Proto,
    targets: &[Target],
    options: &Options,
    watch: &mut dyn Watch,
) -> Vec<Outcome> {
    if let [target] = targets
        && target.is_resolved()
    {
        let deadline = Instant::now() + options.timeout;
        watch.begun(0, deadline);
        let outcome = ask_one(proto, target, options, deadline, &mut Untraced);
        watch.ended(0, &outcome);
        return vec![outcome];
    }
    fleet::ask_all(proto, targets, options, watch)
}
