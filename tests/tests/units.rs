//! What `make install` lays out: the units parse cleanly and their sandbox
//! scores well, the man pages render, the completions load, and uninstall
//! removes exactly what install put.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ruptime_tests::install::make;
use ruptime_tests::process::{run, run_command};
use ruptime_tests::skip::have_tools;
use tempfile::TempDir;

const UNITS: [&str; 6] = [
    "ruptimed.service",
    "ruptimed.socket",
    "ruptimed-inetd.socket",
    "ruptimed-inetd@.service",
    "ruptime-exporter.service",
    "ruptime-exporter.socket",
];

/// The programs, as completions name them.
const PROGRAMS: [&str; 3] = ["ruptime", "ruptimed", "ruptime-exporter"];

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
    let mut expected: Vec<PathBuf> = ["bin/ruptime", "bin/ruptime-exporter", "sbin/ruptimed"]
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
    expected.push("lib/systemd/system/ruptime-exporter.service.d/hardening.conf".into());
    for doc in [
        "share/man/man1/ruptime.1",
        "share/man/man1/ruptime-exporter.1",
        "share/man/man8/ruptimed.8",
        "share/ruptime/prometheus/ruptime.rules.yml",
    ] {
        expected.push(doc.into());
    }
    for program in PROGRAMS {
        expected.push(format!("share/bash-completion/completions/{program}").into());
        expected.push(format!("share/zsh/site-functions/_{program}").into());
        expected.push(format!("share/fish/vendor_completions.d/{program}.fish").into());
    }
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
    let exporter = fs::read_to_string(
        dest.path()
            .join("opt/ruptime/lib/systemd/system/ruptime-exporter.service"),
    )
    .unwrap();
    assert!(
        exporter.contains("\nExecStart=/opt/ruptime/bin/ruptime-exporter --web.systemd-socket\n"),
        "{exporter}"
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
    for (unit, at_most) in [
        ("ruptimed.service", 1.5),
        ("ruptimed-inetd@1.service", 1.5),
        ("ruptime-exporter.service", 1.5),
    ] {
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

#[test]
fn the_man_pages_render_and_the_completions_load() {
    if !have_tools("the documentation test", &["make", "man", "bash"]) {
        return;
    }
    let dest = TempDir::new().unwrap();
    make("install", dest.path(), &[]);
    let share = dest.path().join("usr/local/share");
    for (page, sections) in [
        (
            "man1/ruptime.1",
            &[
                "NAME",
                "SYNOPSIS",
                "OPTIONS",
                "EXAMPLES",
                "EXIT STATUS",
                "FILES",
                "PROTOCOL",
            ][..],
        ),
        (
            "man8/ruptimed.8",
            &[
                "NAME",
                "SYNOPSIS",
                "OPTIONS",
                "EXAMPLES",
                "EXIT STATUS",
                "SIGNALS",
                "FILES",
                "PROTOCOL",
            ][..],
        ),
        (
            "man1/ruptime-exporter.1",
            &[
                "NAME",
                "SYNOPSIS",
                "OPTIONS",
                "ENDPOINTS",
                "EXAMPLES",
                "EXIT STATUS",
                "FILES",
            ][..],
        ),
    ] {
        let path = share.join("man").join(page);
        let mut man = Command::new("man");
        man.arg("-l")
            .arg(&path)
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat");
        let out = run_command(man, Duration::from_secs(30));
        assert!(out.status.success(), "{page}: {out:?}");
        let text = out.stdout_text();
        let headings: Vec<&str> = text
            .lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
            .collect();
        for section in sections {
            assert!(
                headings.contains(section),
                "{page}: no {section} in {headings:?}"
            );
        }
        // Reads like a Debian man page: the synopsis as the README has it
        // (option arguments and all), 80 columns, no clap or Markdown left.
        let readme =
            fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
        let (synopsis, option) = match page {
            "man1/ruptime.1" => (ruptime::cli::MANUAL.synopsis, "--discover"),
            "man8/ruptimed.8" => (ruptimed::cli::MANUAL.synopsis, "--inetd"),
            _ => (ruptime_exporter::cli::MANUAL.synopsis, "--web.config.file"),
        };
        assert!(text.contains(option), "{page}: no {option}");
        assert!(
            readme.contains(synopsis),
            "{page}: the README's synopsis differs"
        );
        for line in synopsis.lines() {
            assert!(
                text.contains(line.trim_start()),
                "{page}: {line:?} not in {text}"
            );
        }
        for wrong in ["Print help (see", "`", "\u{2010}"] {
            assert!(!text.contains(wrong), "{page}: {wrong:?} in {text}");
        }
        let long: Vec<&str> = text.lines().filter(|l| l.chars().count() > 80).collect();
        assert!(long.is_empty(), "{page}: lines over 80 columns: {long:?}");
    }
    for program in PROGRAMS {
        let script = share.join("bash-completion/completions").join(program);
        let check = format!("source {}; complete -p {program}", script.display());
        let out = run(Path::new("bash"), &["-c", &check], Duration::from_secs(30));
        assert!(
            out.status.success() && out.stdout_text().contains(program),
            "{program}: {out:?}"
        );
        let fish =
            fs::read_to_string(share.join(format!("fish/vendor_completions.d/{program}.fish")))
                .unwrap();
        assert!(fish.contains("mode"), "{program}: {fish}");
        let zsh = fs::read_to_string(share.join(format!("zsh/site-functions/_{program}"))).unwrap();
        assert!(zsh.starts_with(&format!("#compdef {program}")), "{program}");
    }
}

#[test]
fn failed_inetd_instances_are_collected_not_kept() {
    let unit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../systemd/ruptimed-inetd@.service");
    let text = std::fs::read_to_string(unit).unwrap();
    assert!(
        text.lines().any(|l| l == "CollectMode=inactive-or-failed"),
        "{text}"
    );
}

#[test]
fn make_demo_answers_in_every_mode_without_a_root_warning() {
    if !have_tools("make demo", &["make"]) {
        return;
    }
    let dest = TempDir::new().unwrap();
    let out = make("demo", dest.path(), &[]);
    let text = format!("{}{}", out.stdout_text(), out.stderr);
    assert_eq!(text.matches("load average:").count(), 3, "{text}");
    assert!(!text.contains("running as root"), "{text}");
}
