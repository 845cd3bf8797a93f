//! The shipped units, as `make install` lays them out: they parse cleanly,
//! their sandbox scores well, and uninstall removes exactly what install put.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ruptime_tests::bins::bin;
use ruptime_tests::process::{Finished, run, run_command};
use ruptime_tests::skip::have_tools;
use tempfile::TempDir;

const UNITS: [&str; 4] = [
    "ruptimed.service",
    "ruptimed.socket",
    "ruptimed-inetd.socket",
    "ruptimed-inetd@.service",
];

fn make(target: &str, destdir: &Path, vars: &[&str]) -> Finished {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let binaries = bin("ruptimed").parent().unwrap().to_path_buf();
    let mut command = Command::new("make");
    command.arg("-s").arg("-C").arg(root).arg(target);
    command
        .arg(format!("DESTDIR={}", destdir.display()))
        .arg(format!("BINARIES={}", binaries.display()));
    command.args(vars);
    let out = run_command(command, Duration::from_secs(120));
    assert!(out.status.success(), "make {target}: {out:?}");
    out
}

/// Every file below `dir`, relative to it, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    found.sort();
    found
}

/// A small root for `systemd-analyze --root`: systemd's own units, and ours installed.
fn analysis_root() -> TempDir {
    let root = TempDir::new().unwrap();
    let lib = root.path().join("usr/lib/systemd");
    fs::create_dir_all(&lib).unwrap();
    let copied = run(
        Path::new("cp"),
        &["-a", "/lib/systemd/system", lib.to_str().unwrap()],
        Duration::from_secs(30),
    );
    assert!(copied.status.success(), "{copied:?}");
    make("install", root.path(), &[]);
    root
}

#[test]
fn install_honours_prefix_and_destdir_and_uninstall_removes_it_all() {
    if !have_tools("the install test", &["make", "install"]) {
        return;
    }
    let dest = TempDir::new().unwrap();
    make("install", dest.path(), &["PREFIX=/opt/ruptime"]);
    let mut expected: Vec<PathBuf> = ["bin/ruptime", "sbin/ruptimed"]
        .iter()
        .map(PathBuf::from)
        .collect();
    expected.extend(
        UNITS
            .iter()
            .map(|u| PathBuf::from(format!("lib/systemd/system/{u}"))),
    );
    expected.push("lib/systemd/system/ruptimed.service.d/hardening.conf".into());
    expected.push("lib/systemd/system/ruptimed-inetd@.service.d/hardening.conf".into());
    let mut expected: Vec<PathBuf> = expected
        .iter()
        .map(|p| Path::new("opt/ruptime").join(p))
        .collect();
    expected.sort();
    assert_eq!(files(dest.path()), expected);
    let service = fs::read_to_string(
        dest.path()
            .join("opt/ruptime/lib/systemd/system/ruptimed.service"),
    )
    .unwrap();
    assert!(
        service.contains("ExecStart=/opt/ruptime/sbin/ruptimed --foreground"),
        "{service}"
    );
    make("uninstall", dest.path(), &["PREFIX=/opt/ruptime"]);
    assert_eq!(
        files(dest.path()),
        Vec::<PathBuf>::new(),
        "uninstall leaves nothing"
    );
}

#[test]
fn systemd_analyze_verify_says_nothing() {
    if !have_tools("systemd-analyze verify", &["systemd-analyze", "make"]) {
        return;
    }
    let root = analysis_root();
    let mut args = vec![
        "verify",
        "--man=no",
        "--root",
        root.path().to_str().unwrap(),
    ];
    args.extend(UNITS);
    args.push("ruptimed-inetd@1.service");
    let out = run(Path::new("systemd-analyze"), &args, Duration::from_secs(60));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stderr, "", "verify warns");
    assert_eq!(out.stdout_text(), "");
}

#[test]
fn the_services_score_at_most_1_5() {
    if !have_tools("systemd-analyze security", &["systemd-analyze", "make"]) {
        return;
    }
    let root = analysis_root();
    for (unit, at_most) in [("ruptimed.service", 1.5), ("ruptimed-inetd@1.service", 1.5)] {
        let args = [
            "security",
            "--offline=true",
            "--root",
            root.path().to_str().unwrap(),
            unit,
        ];
        let out = run(Path::new("systemd-analyze"), &args, Duration::from_secs(60));
        let text = out.stdout_text();
        let score: f64 = text
            .lines()
            .rev()
            .find_map(|l| {
                l.split_once("Overall exposure level for ")?
                    .1
                    .split_once(": ")?
                    .1
                    .split(' ')
                    .next()?
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("no score for {unit}: {out:?}"));
        assert!(score <= at_most, "{unit} scores {score}:\n{text}");
    }
}
