//! The line on stderr after a table of more than one host: `N hosts: U
//! up, D down`, and the commonest reasons of those down.

use crate::row::{Row, by_problem};

/// The reasons told, the commonest first.
const REASONS: usize = 3;

/// The summary of `rows`.
pub(crate) fn line(rows: &[Row]) -> String {
    let mut reasons: Vec<(&str, usize)> = by_problem(rows)
        .into_iter()
        .map(|(why, hosts)| (why, hosts.len()))
        .collect();
    let down: usize = reasons.iter().map(|(_, count)| count).sum();
    let mut line = format!(
        "{} hosts: {} up, {} down",
        rows.len(),
        rows.len() - down,
        down
    );
    // Stable: equal counts keep the order they first came in.
    reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
    if !reasons.is_empty() {
        let told: Vec<String> = reasons
            .iter()
            .take(REASONS)
            .map(|(why, count)| format!("{count} {why}"))
            .collect();
        let more = reasons.len().saturating_sub(REASONS);
        let rest = if more > 0 {
            format!("; {more} more")
        } else {
            String::new()
        };
        line.push_str(&format!(" ({}{rest})", told.join("; ")));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::State;

    fn row(state: State) -> Row {
        Row::bare("h", state)
    }

    #[test]
    fn counts_and_the_commonest_reasons() {
        let down = |why: &str| row(State::Down(why.into()));
        let mut rows = vec![row(State::Other), row(State::Other)];
        assert_eq!(line(&rows), "2 hosts: 2 up, 0 down");
        rows.extend([down("a"), down("b"), down("b"), down("c"), down("d")]);
        assert_eq!(line(&rows), "7 hosts: 2 up, 5 down (2 b; 1 a; 1 c; 1 more)");
    }
}
