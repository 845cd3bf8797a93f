//! The live progress line: drawn on a terminal (a pseudo-terminal made by
//! `script`) and erased before the table; never on a pipe, nor with --json.

use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use ruptime_tests::bins::bin;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::process::{run_command, ruptime};
use ruptime_tests::skip;

/// A terminal's erase-line sequence.
const ERASE_LINE: &str = "\x1b[2K";

/// `ruptime ARGS` on a pseudo-terminal: everything it wrote there, and its status.
fn on_a_terminal(args: &[String]) -> (String, i32) {
    let quoted: Vec<String> = std::iter::once(bin("ruptime").display().to_string())
        .chain(args.iter().cloned())
        .map(|a| format!("'{a}'"))
        .collect();
    let mut command = Command::new("script");
    command
        .args(["-qefc", &quoted.join(" "), "/dev/null"])
        .env("TERM", "xterm");
    let out = run_command(command, Duration::from_secs(30));
    (out.stdout_text(), out.code())
}

#[test]
fn the_progress_line_shows_on_a_terminal_and_nowhere_else() {
    if !skip::have_tools("the progress line test", &["script"]) {
        return;
    }
    let daemon = Daemon::start(&["-l", "127.0.0.1"]);
    let hung = TcpListener::bind("127.0.0.1:0").unwrap();
    let live = format!("127.0.0.1:{}", daemon.port());
    let silent = hung.local_addr().unwrap().to_string();
    let args: Vec<String> = ["-w", "2", &live, &silent].map(String::from).into();

    let (screen, code) = on_a_terminal(&args);
    assert_eq!(code, 1, "{screen:?}");
    let progress = screen
        .rfind("ruptime: asked 2 of 2, 1 up, 0 down, 1 waiting, ")
        .unwrap_or_else(|| panic!("no progress line: {screen:?}"));
    let erased = screen[progress..]
        .find(ERASE_LINE)
        .map(|at| progress + at)
        .unwrap_or_else(|| panic!("the line is not erased: {screen:?}"));
    let row = screen
        .find(&format!("{silent} "))
        .unwrap_or_else(|| panic!("no table: {screen:?}"));
    assert!(erased < row, "erased after the table: {screen:?}");
    assert!(
        screen.contains("connected, but no reply within 2 s"),
        "{screen:?}"
    );

    let mut json = args.clone();
    json.insert(0, "--json".into());
    let (screen, _) = on_a_terminal(&json);
    assert!(!screen.contains("ruptime: asked"), "{screen:?}");

    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let piped = ruptime(&arg_refs);
    assert_eq!(piped.code(), 1);
    assert_eq!(
        piped.stderr, "2 hosts: 1 up, 1 down (1 connected, but no reply within 2 s)\n",
        "nothing but the table and its summary on a pipe"
    );
    assert!(
        piped
            .stdout_text()
            .contains("connected, but no reply within 2 s")
    );
}
