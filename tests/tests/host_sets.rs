//! Host sets as pdsh and ClusterShell write them, ClusterShell's groups,
//! `-x`, the fleet file, the summary line, `--fold` and colour.
//!
//! The named hosts live in a network namespace with a hosts file of its
//! own (no name is ever looked up in DNS): `node01`-`node04` and
//! `rack[1-2]-n[01-02]` have a daemon, `node05`-`node06` refuse, and
//! `node07`-`node08` are in a subnet where every packet vanishes.
//! ClusterShell's configuration is the user's (`~/.local/etc/clustershell`),
//! with a YAML file of groups (`autodir`) and a source whose `map` command
//! runs (`confdir`).

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ruptime_tests::bins::bin;
use ruptime_tests::daemon::Daemon;
use ruptime_tests::fleetnet::FleetNet;
use ruptime_tests::process::{Finished, run_command, ruptime};
use ruptime_tests::prometheus::free_port;
use ruptime_tests::skip::{can_run, have_tools};
use tempfile::TempDir;

/// Where the namespace's daemon listens.
const PORT: &str = "4000";

const REFUSED: &str = "can't connect: Connection refused";
const SILENT: &str = "no answer to the connection attempt within 1 s";

/// The namespace, its daemon, and a home with ClusterShell's groups.
struct Fleet {
    net: FleetNet,
    home: TempDir,
    _daemon: Daemon,
}

impl Fleet {
    fn new() -> Fleet {
        let net = FleetNet::new(16);
        let mut lines = String::new();
        let mut listen = Vec::new();
        for i in 0..6 {
            lines.push_str(&format!("{} node{:02}\n", FleetNet::live(i), i + 1));
        }
        for i in 0..2 {
            lines.push_str(&format!("{} node{:02}\n", FleetNet::silent(i), i + 7));
        }
        for (i, name) in ["rack1-n01", "rack1-n02", "rack2-n01", "rack2-n02"]
            .iter()
            .enumerate()
        {
            lines.push_str(&format!("{} {name}\n", FleetNet::live(8 + i)));
        }
        net.hosts_file(&lines);
        for i in (0..4).chain(8..12) {
            listen.push(FleetNet::live(i).to_string());
        }
        let mut args = vec!["-p", PORT];
        for addr in &listen {
            args.extend(["-l", addr.as_str()]);
        }
        let daemon = Daemon::start_command(net.command(&bin("ruptimed"), &[]), &args);
        let home = TempDir::new().unwrap();
        clustershell(home.path());
        Fleet {
            net,
            home,
            _daemon: daemon,
        }
    }

    /// `ruptime -w 1 -p PORT ARGS` in the namespace, with the home.
    fn ask(&self, args: &[&str]) -> Finished {
        let mut all = vec!["-w", "1", "-p", PORT];
        all.extend_from_slice(args);
        let mut command = self.net.command(&bin("ruptime"), &all);
        command
            .env("HOME", self.home.path())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("NO_COLOR");
        run_command(command, Duration::from_secs(60))
    }
}

/// ClusterShell's configuration in `home`, as `nodeset(1)` finds it.
fn clustershell(home: &Path) {
    let dir = home.join(".local/etc/clustershell");
    fs::create_dir_all(dir.join("groups.d")).unwrap();
    fs::create_dir_all(dir.join("groups.conf.d")).unwrap();
    fs::write(
        dir.join("groups.conf"),
        format!(
            "[Main]\ndefault: fleet\nconfdir: {0}/groups.conf.d\nautodir: {0}/groups.d\n",
            dir.display()
        ),
    )
    .unwrap();
    fs::write(
        dir.join("groups.d/fleet.yaml"),
        "fleet:\n  web: 'node[01-03]'\n  db: node04\n  racks: 'rack[1-2]-n[01-02]'\n\
         lab:\n  broken: 'node[05-06]'\n",
    )
    .unwrap();
    fs::write(
        dir.join("groups.conf.d/script.conf"),
        "[script]\nmap: echo node0$GROUP\n",
    )
    .unwrap();
}

/// The first column of a table.
fn hosts(out: &Finished) -> Vec<String> {
    out.stdout_text()
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn host_sets_groups_and_exclusions_as_fleet_tools_write_them() {
    if !can_run("host sets in a namespace", &["ip"]) {
        return;
    }
    let fleet = Fleet::new();

    let out = fleet.ask(&["node[01-03]", "rack[1-2]-n[01-02]"]);
    assert_eq!(out.code(), 0, "{out:?}");
    assert_eq!(
        hosts(&out),
        [
            "node01",
            "node02",
            "node03",
            "rack1-n01",
            "rack1-n02",
            "rack2-n01",
            "rack2-n02"
        ]
    );
    assert_eq!(out.stderr, "7 hosts: 7 up, 0 down\n");

    let out = fleet.ask(&["node[01,03-04]", "-x", "node04"]);
    assert_eq!(hosts(&out), ["node01", "node03"], "{out:?}");

    // Fork mode forks once the thread that read the groups has ended.
    for mode in ["stream", "fork"] {
        let out = fleet.ask(&[
            "-m",
            mode,
            "@web",
            "@racks",
            "-x",
            "rack[1-2]-n02",
            "-x",
            "@db",
        ]);
        assert_eq!(
            hosts(&out),
            ["node01", "node02", "node03", "rack1-n01", "rack2-n01"],
            "{mode}: {out:?}"
        );
        assert_eq!(out.stderr, "5 hosts: 5 up, 0 down\n", "{mode}");
    }
    let out = fleet.ask(&["@lab:broken", "@script:7"]);
    assert_eq!(out.code(), 1);
    assert_eq!(hosts(&out), ["node05", "node06", "node07"], "{out:?}");

    let dir = TempDir::new().unwrap();
    let list = dir.path().join("list");
    fs::write(&list, "node[01-02]  # two of the web\n@db\n\n# done\n").unwrap();
    let out = fleet.ask(&["-f", list.to_str().unwrap(), "-x", "node02"]);
    assert_eq!(hosts(&out), ["node01", "node04"], "{out:?}");

    let out = fleet.ask(&["@nosuch"]);
    assert_eq!(
        (out.code(), out.stdout_text(), out.stderr.as_str()),
        (2, String::new(), "ruptime: '@nosuch' names no host\n")
    );
    let out = fleet.ask(&["node01", "-x", "node[01-02]"]);
    assert_eq!(
        (out.code(), out.stderr.as_str()),
        (2, "ruptime: no host left to ask: -x excludes them all\n")
    );
}

#[test]
fn fold_gathers_hosts_by_outcome_and_the_table_ends_with_a_summary() {
    if !can_run("--fold in a namespace", &["ip"]) {
        return;
    }
    let fleet = Fleet::new();
    let out = fleet.ask(&["--fold", "node[01-08]"]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert_eq!(
        out.stdout_text(),
        format!("up node[01-04]\ndown node[05-06] ({REFUSED})\ndown node[07-08] ({SILENT})\n")
    );
    assert_eq!(out.stderr, "", "no summary after --fold");

    let out = fleet.ask(&["node[01-08]"]);
    assert_eq!(out.code(), 1);
    assert_eq!(out.stdout_text().lines().count(), 8);
    assert_eq!(
        out.stderr,
        format!("8 hosts: 4 up, 4 down (2 {REFUSED}; 2 {SILENT})\n")
    );
    for format in ["--json", "--prometheus"] {
        let out = fleet.ask(&[format, "node[01-08]"]);
        assert_eq!(out.stderr, "", "{format}: no summary");
    }
    let out = fleet.ask(&["node01"]);
    assert_eq!(
        (out.code(), out.stderr.as_str()),
        (0, ""),
        "one host: no summary"
    );
}

#[test]
fn a_bad_expression_is_a_usage_error_that_names_it() {
    for (set, why) in [
        ("node[1-", "'node[1-': unable to parse '[1-'"),
        ("node[5-1]", "'node[5-1]': invalid range"),
        ("@*", "'@*': all groups (@*) cannot be asked"),
        (
            "n[1-2000000]",
            "'n[1-2000000]' names 2000000 hosts; a set may name 1000000 at most",
        ),
    ] {
        let out = ruptime(&[set]);
        assert_eq!(out.code(), 2, "{set}: {out:?}");
        assert!(
            out.stderr.starts_with(&format!("ruptime: {why}")),
            "{set}: {}",
            out.stderr
        );
        assert_eq!(out.stderr.lines().count(), 1, "{set}: one line");
        assert_eq!(out.stdout, b"", "{set}");
    }
}

#[test]
fn a_group_source_that_hangs_or_a_list_that_never_ends_is_a_usage_error() {
    let home = TempDir::new().unwrap();
    clustershell(home.path());
    let conf = home
        .path()
        .join(".local/etc/clustershell/groups.conf.d/slow.conf");
    // Ends by itself 2 s after the client has given up on it.
    fs::write(&conf, "[slow]\nmap: sleep 12; echo node01\n").unwrap();
    let out = ruptime_env(&["@slow:web"], &[("HOME", home.path())]);
    assert_eq!(
        (out.code(), out.stderr.as_str()),
        (
            2,
            "ruptime: '@slow:web': ClusterShell's group sources gave no answer within 10 s\n"
        )
    );
    assert!(out.elapsed < Duration::from_secs(12), "{:?}", out.elapsed);

    let out = ruptime(&["-f", "/dev/zero"]);
    assert_eq!(
        (out.code(), out.stderr.as_str()),
        (
            2,
            "ruptime: /dev/zero: longer than 64 MiB: not a host list\n"
        )
    );
}

#[test]
fn addresses_in_brackets_are_addresses_not_ranges() {
    let daemon = Daemon::start(&["-l", "::1", "-l", "127.0.0.1"]);
    let port = daemon.port().to_string();
    for host in [format!("[::1]:{port}"), format!("127.0.0.1:{port}")] {
        let out = ruptime(&["-w", "5", &host]);
        assert_eq!(out.code(), 0, "{host}: {out:?}");
        assert!(out.stdout_text().contains(" up "), "{host}: {out:?}");
    }
    let out = ruptime(&["-w", "5", "-p", &port, "::1", "127.0.0.[1-1]"]);
    assert_eq!(hosts(&out), ["::1", "127.0.0.1"], "{out:?}");
}

/// `ruptime ARGS` with this environment.
fn ruptime_env(args: &[&str], env: &[(&str, &Path)]) -> Finished {
    let mut command = Command::new(bin("ruptime"));
    command
        .args(args)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("HOME");
    for (name, value) in env {
        command.env(name, value);
    }
    run_command(command, Duration::from_secs(60))
}

#[test]
fn with_no_host_the_fleet_file_is_asked() {
    let daemon = Daemon::start(&["-l", "127.0.0.1"]);
    let live = format!("127.0.0.1:{}", daemon.port());
    let dead = format!("127.0.0.1:{}", free_port());
    let (config, home) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    fs::create_dir_all(config.path().join("ruptime")).unwrap();
    fs::write(
        config.path().join("ruptime/hosts"),
        format!("{live}\n{dead} # off\n"),
    )
    .unwrap();
    let out = ruptime_env(
        &["-w", "5"],
        &[("XDG_CONFIG_HOME", config.path()), ("HOME", home.path())],
    );
    assert_eq!(out.code(), 1, "{out:?}");
    assert_eq!(hosts(&out), [live.clone(), dead.clone()]);

    let user = home.path().join(".config/ruptime");
    fs::create_dir_all(&user).unwrap();
    fs::write(user.join("hosts"), format!("{live}\n")).unwrap();
    let out = ruptime_env(&["-w", "5"], &[("HOME", home.path())]);
    assert_eq!(
        (out.code(), hosts(&out)),
        (0, vec![live.clone()]),
        "{out:?}"
    );
    let out = ruptime_env(&["-w", "5", &dead], &[("HOME", home.path())]);
    assert_eq!(out.code(), 1, "a host named: the file is not read");

    fs::remove_file(user.join("hosts")).unwrap();
    if Path::new("/etc/ruptime/hosts").exists() {
        panic!("/etc/ruptime/hosts exists on this machine: the test needs it absent");
    }
    let out = ruptime_env(&[], &[("HOME", home.path())]);
    assert_eq!(
        (out.code(), out.stderr),
        (
            2,
            format!(
                "ruptime: no host to ask: name some, or list them in {} or /etc/ruptime/hosts\n",
                user.join("hosts").display()
            )
        )
    );
}

#[test]
fn the_system_fleet_file_when_the_user_has_none() {
    if !can_run("/etc/ruptime/hosts in a mount namespace", &["unshare"]) {
        return;
    }
    let daemon = Daemon::start(&["-l", "127.0.0.1"]);
    let live = format!("127.0.0.1:{}", daemon.port());
    let dir = TempDir::new().unwrap();
    let (upper, work) = (dir.path().join("upper"), dir.path().join("work"));
    fs::create_dir_all(upper.join("ruptime")).unwrap();
    fs::create_dir_all(&work).unwrap();
    fs::write(upper.join("ruptime/hosts"), format!("{live}\n")).unwrap();
    // /etc as it is, with /etc/ruptime/hosts added, for this command only.
    let setup = format!(
        "mount -t overlay overlay -o lowerdir=/etc,upperdir={},workdir={} /etc",
        upper.display(),
        work.display()
    );
    let mut command =
        ruptime_tests::namespace::with_private_mounts(&setup, &bin("ruptime"), &["-w", "5"]);
    command
        .env("HOME", dir.path())
        .env_remove("XDG_CONFIG_HOME");
    let out = run_command(command, Duration::from_secs(60));
    assert_eq!((out.code(), hosts(&out)), (0, vec![live]), "{out:?}");
}

#[test]
fn the_state_word_is_coloured_on_a_terminal_unless_no_color() {
    let daemon = Daemon::start(&["-l", "127.0.0.1"]);
    let live = format!("127.0.0.1:{}", daemon.port());
    let dead = format!("127.0.0.1:{}", free_port());
    let (green, red) = ("\x1b[32mup\x1b[0m", "\x1b[31mdown\x1b[0m");
    let out = ruptime(&["--color", "always", &live, &dead]);
    let text = out.stdout_text();
    assert!(text.contains(green) && text.contains(red), "{text:?}");
    for color in [&["--color", "never"][..], &[], &["--color", "auto"]] {
        let mut args = color.to_vec();
        args.extend([live.as_str(), dead.as_str()]);
        let out = ruptime(&args);
        assert!(!out.stdout_text().contains('\x1b'), "{color:?}: {out:?}");
    }
    let out = ruptime(&["--color", "sometimes", &live]);
    assert_eq!(out.code(), 2, "{out:?}");

    if !have_tools("colour on a terminal", &["script"]) {
        return;
    }
    let on_terminal = |no_color: Option<&str>| {
        let line = format!("{} {live} {dead}", bin("ruptime").display());
        let mut command = Command::new("script");
        command.args(["-qec", &line, "/dev/null"]);
        match no_color {
            Some(value) => command.env("NO_COLOR", value),
            None => command.env_remove("NO_COLOR"),
        };
        run_command(command, Duration::from_secs(60)).stdout_text()
    };
    let text = on_terminal(None);
    assert!(text.contains(green) && text.contains(red), "{text:?}");
    // The progress line on the terminal has escapes of its own.
    let text = on_terminal(Some("1"));
    assert!(
        text.contains(" down ") && !text.contains(green) && !text.contains(red),
        "NO_COLOR: {text:?}"
    );
}
