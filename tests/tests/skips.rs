//! A skip cannot pass silently: it is listed for `make test`'s summary, and
//! under `CI=true` it fails the test. Run on a probe test of this file that
//! needs a tool nobody has.

use std::process::Command;

use ruptime_tests::skip;

/// Run only by the test below, through this binary.
#[test]
#[ignore = "a probe, run by a_skip_is_listed_and_fails_under_ci"]
fn probe_needing_a_missing_tool() {
    assert!(!skip::have_tools(
        "the skip probe",
        &["no-such-tool-ruptime"]
    ));
}

fn probe(ci: Option<&str>, record: &std::path::Path) -> std::process::Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.env("RUPTIME_SKIP_RECORD", record);
    command.args([
        "--exact",
        "probe_needing_a_missing_tool",
        "--ignored",
        "--nocapture",
    ]);
    command.env_remove("CI");
    if let Some(ci) = ci {
        command.env("CI", ci);
    }
    command.output().unwrap()
}

#[test]
fn a_skip_is_listed_and_fails_under_ci() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("skips.txt");
    let out = probe(None, &record);
    assert!(out.status.success(), "{out:?}");
    let listed = std::fs::read_to_string(&record).unwrap_or_default();
    assert!(
        listed.contains("skipped: the skip probe: needs no-such-tool-ruptime"),
        "{listed}"
    );
    let out = probe(Some("true"), &record);
    assert!(!out.status.success(), "under CI=true a skip fails: {out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("CI=true: every test must run")
            || String::from_utf8_lossy(&out.stdout).contains("CI=true: every test must run"),
        "{out:?}"
    );
}
