//! Printing the outcomes.
//!
//! One host: its reply exactly as received, as the original prints it.
//! Several: each reply line prefixed with `HOST: `. Failures go to stderr,
//! one line each: `ruptime: HOST: REASON`.

use std::io::{self, Write};

use crate::query::Outcome;
use crate::target::Target;

/// Prints every outcome in order; whether every host answered.
pub fn print(targets: &[Target], outcomes: &[Outcome]) -> bool {
    let mut out = io::stdout().lock();
    let mut err = io::stderr().lock();
    let single = targets.len() == 1;
    let mut all_answered = true;
    for (target, outcome) in targets.iter().zip(outcomes) {
        match outcome {
            Ok(reply) if single => {
                let _ = out.write_all(reply);
            }
            Ok(reply) => {
                for line in reply.split_inclusive(|&b| b == b'\n') {
                    let _ = write!(out, "{}: ", target.name);
                    let _ = out.write_all(line);
                    if !line.ends_with(b"\n") {
                        let _ = out.write_all(b"\n");
                    }
                }
            }
            Err(e) => {
                all_answered = false;
                let _ = out.flush();
                let _ = writeln!(err, "ruptime: {}: {e}", target.name);
            }
        }
    }
    let _ = out.flush();
    all_answered
}
