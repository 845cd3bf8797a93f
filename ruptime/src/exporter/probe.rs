//! Making a probe: asking one host, as `ruptime` asks it.
//!
//! Stream and dgram probes look the name up on the exporter's shared slots
//! ([`Lookups`]), then run the query of [`crate::query`] on a blocking
//! thread (its SIGALRM timers are aimed at that thread). The exporter runs
//! threads, and fork mode forks, which is safe only with one thread: a fork
//! probe runs `ruptime -m fork --json` as a child process (from
//! `/proc/self/exe`, so an upgrade in place does not change it mid-run, and
//! in a group of its own, [`Children`]) and reads its one row back.

use std::time::{Duration, Instant};

use ruptime_common::duration::SHORTEST;
use ruptime_common::mode::Mode;
use serde_json::Value;
use tokio::process::Command;

use super::children::Children;
use super::lookup::Lookups;
use super::request::Probe;
use crate::query::{self, Answer, Options, QueryError, Unwatched};
use crate::row::Row;
use crate::target::{Family, Target};

/// How long past its own timeout a fork probe's child may run before it is
/// killed: to start, and to print its row.
const CHILD_GRACE: Duration = Duration::from_secs(1);

/// The most a fork probe's child may print: one row of JSON.
const MAX_CHILD_OUTPUT: usize = 1024 * 1024;

/// Asks `probe`'s host by `deadline`, its name looked up on `lookups`, a
/// fork probe's child run among `children`; its row, timed.
pub(super) async fn run(
    probe: Probe,
    options: &Options,
    lookups: &Lookups,
    children: &Children,
    deadline: Instant,
) -> Row {
    let started = Instant::now();
    let timeout = deadline.saturating_duration_since(started);
    let mode = probe.mode;
    let mut row = if timeout < SHORTEST {
        let silent = QueryError::Failed("no time left to probe".to_owned());
        Row::of(probe.target, mode, Err(silent))
    } else {
        let mut options = options.clone();
        options.timeout = timeout;
        match mode {
            Mode::Fork => in_child(probe.target, &options, children).await,
            Mode::Stream | Mode::Dgram => {
                let family = options.family;
                match lookups
                    .resolve(probe.target.clone(), family, deadline, timeout)
                    .await
                {
                    Ok(target) => {
                        // What the lookup left of the probe's time.
                        options.timeout = deadline.saturating_duration_since(Instant::now());
                        if options.timeout < SHORTEST {
                            let late = QueryError::Unanswered(timeout);
                            Row::of(target, mode, Err(late))
                        } else {
                            here(target, mode, options).await
                        }
                    }
                    Err(e) => Row::of(probe.target, mode, Err(e)),
                }
            }
        }
    };
    row.took = Some(started.elapsed());
    row
}

/// Asks from a blocking thread of this process.
async fn here(target: Target, mode: Mode, options: Options) -> Row {
    let name = target.name.clone();
    let asked = tokio::task::spawn_blocking(move || {
        let outcome = query::ask_all(
            mode,
            std::slice::from_ref(&target),
            &options,
            &mut Unwatched,
        )
        .pop()
        .unwrap_or_else(|| Err(QueryError::Failed("not asked".to_owned())));
        Row::of(target, mode, outcome)
    })
    .await;
    asked.unwrap_or_else(|e| {
        Row::new(
            name,
            mode,
            Err(QueryError::Failed(format!("probe failed: {e}"))),
        )
    })
}

/// Asks from a child `ruptime -m fork --json`.
async fn in_child(target: Target, options: &Options, children: &Children) -> Row {
    let name = target.name.clone();
    let Some(addr) = target.endpoint() else {
        // Checked before: a target that cannot be read is not probed.
        return Row::of(
            target,
            Mode::Fork,
            Err(QueryError::Failed("bad target".to_owned())),
        );
    };
    let mut command = Command::new("/proc/self/exe");
    command
        .arg0("ruptime")
        .args(["--mode", "fork", "--json", "--pace", "0", "--timeout"])
        .arg(format!("{:.3}", options.timeout.as_secs_f64()))
        .arg("--port")
        .arg(addr.1.to_string())
        .args(match options.family {
            Family::Any => None,
            Family::V4 => Some("-4"),
            Family::V6 => Some("-6"),
        })
        .arg("--")
        .arg(bracketed(addr.0));
    let ran = children
        .run(command, MAX_CHILD_OUTPUT + 1, options.timeout + CHILD_GRACE)
        .await;
    let outcome = match ran {
        Ok(output) => read_child(&output.stdout, &output.stderr),
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            Err("fork probe did not end in time".to_owned())
        }
        Err(e) => Err(format!("cannot start the fork probe: {e}")),
    };
    match outcome {
        Ok(row) => Row { host: name, ..row },
        Err(why) => Row::of(target, Mode::Fork, Err(QueryError::Failed(why))),
    }
}

/// A host as the command line takes it: an IPv6 address in brackets.
fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// The row a child printed as JSON, or why there is none.
fn read_child(stdout: &[u8], stderr: &[u8]) -> Result<Row, String> {
    let failed = || {
        let why = String::from_utf8_lossy(stderr);
        let why = why.lines().next().unwrap_or("no output");
        format!("fork probe failed: {why}")
    };
    if stdout.len() > MAX_CHILD_OUTPUT {
        return Err(failed());
    }
    let rows: Vec<Value> = serde_json::from_slice(stdout).map_err(|_| failed())?;
    let [row] = rows.as_slice() else {
        return Err(failed());
    };
    let text = |key: &str| row.get(key).and_then(Value::as_str);
    let host = text("host").unwrap_or_default().to_owned();
    let from = text("address").and_then(|a| a.parse().ok());
    let outcome = match (text("raw"), from) {
        (Some(raw), Some(from)) => Ok(Answer {
            reply: raw.as_bytes().to_vec(),
            from,
        }),
        _ => Err(QueryError::Failed(
            text("error").unwrap_or("no reply").to_owned(),
        )),
    };
    Ok(Row::new(host, Mode::Fork, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::State;

    #[test]
    fn a_childs_row_is_read_back() {
        let json = br#"[{"host":"h","address":"127.0.0.1:4000","mode":"fork","up":true,
            "raw":" 10:00:00 up 1 day, 0 min,  2 users,  load average: 0.50, 1.00, 2.25\n"}]"#;
        let row = read_child(json, b"").unwrap();
        let State::Up(sample) = row.state else {
            panic!("{row:?}")
        };
        assert_eq!(sample.loads, [0.5, 1.0, 2.25]);
        assert_eq!(row.address, Some("127.0.0.1:4000".parse().unwrap()));
        let json = br#"[{"host":"h","address":null,"raw":null,"error":"can't connect: refused"}]"#;
        let row = read_child(json, b"").unwrap();
        assert_eq!(row.problem(), Some("can't connect: refused"));
    }

    #[test]
    fn a_child_without_a_row_fails_with_its_stderr() {
        let why = read_child(b"", b"ruptime: boom\nmore\n").unwrap_err();
        assert_eq!(why, "fork probe failed: ruptime: boom");
        assert!(read_child(b"[]", b"").is_err());
        assert!(read_child(b"[{}, {}]", b"").is_err());
    }
}
