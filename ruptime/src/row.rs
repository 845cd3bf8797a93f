//! One host's result: who, how, and what it said, understood.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use ruptime_common::mode::Mode;
use ruptime_common::protocol::Sample;

use ruptime_common::protocol::Verdict;

use crate::query::Outcome;
use crate::target::Target;

/// One host's result.
#[derive(Clone, Debug)]
pub struct Row {
    /// The host as given (or, for discovery, its name or address).
    pub host: String,
    /// How it was asked.
    pub mode: Mode,
    /// The address that answered.
    pub address: Option<SocketAddr>,
    /// The reply, as received.
    pub raw: Option<Vec<u8>>,
    /// What the reply says.
    pub state: State,
    /// How long its query took, when timed.
    pub took: Option<Duration>,
}

/// What a host's reply says.
#[derive(Clone, Debug)]
pub enum State {
    /// An uptime line.
    Up(Sample),
    /// An answer, but not an uptime line: shown raw.
    Other,
    /// No reply, or the daemon's error line: why.
    Down(String),
}

impl Row {
    /// The row for `host`, asked in `mode`, with this outcome.
    pub fn new(host: String, mode: Mode, outcome: Outcome) -> Row {
        match outcome {
            Ok(answer) => {
                let state = match answer.verdict {
                    Verdict::Uptime(sample) => State::Up(sample),
                    Verdict::DaemonError(text) => State::Down(text),
                    Verdict::Other => State::Other,
                };
                Row {
                    host,
                    mode,
                    address: Some(answer.from),
                    raw: Some(answer.reply),
                    state,
                    took: None,
                }
            }
            Err(e) => Row {
                host,
                mode,
                address: None,
                raw: None,
                state: State::Down(e.to_string()),
                took: None,
            },
        }
    }

    /// A row of `host` in `state`, asked over a stream, nothing else known.
    #[cfg(test)]
    pub(crate) fn bare(host: &str, state: State) -> Row {
        Row {
            host: host.into(),
            mode: Mode::Stream,
            address: None,
            raw: None,
            state,
            took: None,
        }
    }

    /// The row of `target`, asked in `mode`: a host given as an address
    /// has that address, answered or not.
    pub fn of(target: Target, mode: Mode, outcome: Outcome) -> Row {
        let literal = target.literal_address();
        let mut row = Row::new(target.name, mode, outcome);
        row.address = row.address.or(literal);
        row
    }

    /// Whether the host failed: no reply, or the daemon's error line. A
    /// host that answered with anything else has answered.
    pub fn is_down(&self) -> bool {
        matches!(self.state, State::Down(_))
    }

    /// Why the host failed, if it did.
    pub fn problem(&self) -> Option<&str> {
        match &self.state {
            State::Up(_) | State::Other => None,
            State::Down(why) => Some(why),
        }
    }
}

/// The hosts down in `rows`, by reason, the reasons in the order they
/// first come.
pub(crate) fn by_problem(rows: &[Row]) -> Vec<(&str, Vec<&str>)> {
    let mut slots: HashMap<&str, usize> = HashMap::new();
    let mut down: Vec<(&str, Vec<&str>)> = Vec::new();
    for row in rows {
        let Some(why) = row.problem() else { continue };
        let slot = *slots.entry(why).or_insert_with(|| {
            down.push((why, Vec::new()));
            down.len() - 1
        });
        down[slot].1.push(&row.host);
    }
    down
}

/// The rows of `targets`, asked in `mode`, with their `outcomes` and how
/// long each took, in order. Made from the back, the lists' memory given
/// back as the rows grow, so that a large fleet's three lists are not all
/// held at once.
pub fn rows(
    mut targets: Vec<Target>,
    mut outcomes: Vec<Outcome>,
    mut took: Vec<Option<Duration>>,
    mode: Mode,
) -> Vec<Row> {
    /// How many rows are made between two givings back.
    const GIVE_BACK: usize = 4096;
    let mut rows = Vec::with_capacity(targets.len());
    while let (Some(target), Some(outcome)) = (targets.pop(), outcomes.pop()) {
        rows.push(Row {
            took: took.pop().flatten(),
            ..Row::of(target, mode, outcome)
        });
        if rows.len() % GIVE_BACK == 0 {
            targets.shrink_to_fit();
            outcomes.shrink_to_fit();
            took.shrink_to_fit();
        }
    }
    rows.reverse();
    rows
}

/// How rows are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// As given.
    Given,
    /// Highest 1-minute load first (`-l`).
    Load,
    /// Longest uptime first (`-t`).
    Uptime,
    /// Most users first (`-u`).
    Users,
}

/// Sorts `rows` (stably): by `order`, then reversed with `reverse`. A sort
/// puts the hosts without an uptime line last, in the order given.
pub fn sort(rows: &mut [Row], order: Order, reverse: bool) {
    let by = |a: &Sample, b: &Sample| match order {
        Order::Given => Ordering::Equal,
        Order::Load => b.loads[0].total_cmp(&a.loads[0]),
        Order::Uptime => b.uptime.cmp(&a.uptime),
        Order::Users => b.users.cmp(&a.users),
    };
    if order == Order::Given {
        if reverse {
            rows.reverse();
        }
        return;
    }
    rows.sort_by(|a, b| match (&a.state, &b.state) {
        (State::Up(x), State::Up(y)) if reverse => by(y, x),
        (State::Up(x), State::Up(y)) => by(x, y),
        (State::Up(_), _) => Ordering::Less,
        (_, State::Up(_)) => Ordering::Greater,
        _ => Ordering::Equal,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(host: &str, uptime: u64, users: u64, load: f64) -> Row {
        let report = Sample {
            clock: (0, 0, 0),
            uptime,
            users,
            loads: [load, 0.0, 0.0],
        };
        Row::bare(host, State::Up(report))
    }

    fn down(host: &str) -> Row {
        Row::bare(host, State::Down("refused".into()))
    }

    fn hosts(rows: &[Row]) -> Vec<&str> {
        rows.iter().map(|r| r.host.as_str()).collect()
    }

    #[test]
    fn sorts_with_the_hosts_that_failed_last() {
        let rows = vec![
            down("d1"),
            up("a", 60, 3, 0.5),
            up("b", 600, 1, 2.0),
            down("d2"),
            up("c", 6, 9, 1.0),
        ];
        let sorted = |order, reverse| {
            let mut r = rows.clone();
            sort(&mut r, order, reverse);
            hosts(&r).join(" ")
        };
        assert_eq!(sorted(Order::Given, false), "d1 a b d2 c");
        assert_eq!(sorted(Order::Given, true), "c d2 b a d1");
        assert_eq!(sorted(Order::Load, false), "b c a d1 d2");
        assert_eq!(sorted(Order::Load, true), "a c b d1 d2");
        assert_eq!(sorted(Order::Uptime, false), "b a c d1 d2");
        assert_eq!(sorted(Order::Users, false), "c a b d1 d2");
        assert_eq!(sorted(Order::Users, true), "b a c d1 d2");
    }
}
