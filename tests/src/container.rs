//! A real systemd, booted by `systemd-nspawn` from this machine's own root
//! through a tmpfs overlay (nothing downloaded, the host untouched), in a
//! network namespace the test made; halted and cleaned up when dropped.
//!
//! The overlay's upper layer starts with the files of a directory tree the
//! test prepares (e.g. a `make install DESTDIR=...`), a hostname and a fresh
//! machine id. nspawn starts from cgroups of its own below the test's, which
//! are removed afterwards.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tempfile::TempDir;

use crate::process::{Finished, run_command, wait_until};
use crate::procfs;

/// Host units that would only slow the boot or bind ports.
const MASKED: [&str; 16] = [
    "ssh.service",
    "postgresql.service",
    "snmpd.service",
    "prometheus-node-exporter.service",
    "prometheus.service",
    "prometheus-blackbox-exporter.service",
    "prometheus-pushgateway.service",
    "prometheus-alertmanager.service",
    "rsyslog.service",
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "man-db.timer",
    "e2scrub_all.timer",
    "fstrim.timer",
    "dpkg-db-backup.timer",
    "getty@tty1.service",
];

/// How long booting, or halting, may take.
const PATIENCE: Duration = Duration::from_secs(60);

/// A booted container.
#[derive(Debug)]
pub struct Container {
    name: String,
    nspawn: Child,
    leader: Pid,
    cgroups: Vec<PathBuf>,
    _work: TempDir,
}

impl Container {
    /// Boots `name` in the network namespace `netns` with the files of `tree`
    /// laid over the root; panics (after cleaning up) unless systemd reaches
    /// `running` in time.
    pub fn boot(name: &str, netns: &str, tree: &Path) -> Container {
        let work = tempfile::Builder::new()
            .prefix("ruptime-nspawn")
            .tempdir_in("/var/tmp")
            .expect("a work dir");
        let cgroups = own_cgroups(&format!("ruptime-{}-{name}", std::process::id()));
        let w = work.path().display();
        let script = format!(
            "set -e
             for g in {cgroups}; do echo $$ > $g/cgroup.procs 2>/dev/null || true; done
             mkdir -p {w}/t {w}/merged
             mount -t tmpfs -o size=256m tmpfs {w}/t
             mkdir -p {w}/t/upper/etc {w}/t/work
             cp -a {tree}/. {w}/t/upper/
             echo {name} > {w}/t/upper/etc/hostname
             systemd-id128 new > {w}/t/upper/etc/machine-id
             mount -t overlay overlay -o lowerdir=/,upperdir={w}/t/upper,workdir={w}/t/work {w}/merged
             exec systemd-nspawn -q -b -D {w}/merged -M {name} --register=no --keep-unit --console=passive \
                  --network-namespace-path=/run/netns/{netns} {masks}",
            cgroups = cgroups.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(" "),
            tree = tree.display(),
            masks = MASKED.iter().map(|u| format!("systemd.mask={u}")).collect::<Vec<_>>().join(" "),
        );
        let nspawn = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("unshare starts");
        let mut container = Container {
            name: name.to_owned(),
            nspawn,
            leader: Pid::from_raw(0),
            cgroups,
            _work: work,
        };
        let deadline = Instant::now() + PATIENCE;
        container.leader = container.find_leader(deadline);
        container.wait_running(deadline);
        container
    }

    /// The container's PID 1, once nspawn has started it.
    fn find_leader(&mut self, deadline: Instant) -> Pid {
        let nspawn = self.nspawn.id().to_string();
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.nspawn.try_wait() {
                panic!("{}: nspawn ended before booting: {status:?}", self.name);
            }
            for pid in procfs::pids() {
                let ppid = procfs::stat(pid).and_then(|stat| stat.get(1).cloned());
                if procfs::name(pid).as_deref() == Some("systemd")
                    && ppid.as_deref() == Some(nspawn.as_str())
                    && let Ok(pid) = i32::try_from(pid)
                {
                    return Pid::from_raw(pid);
                }
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!("{}: no systemd started in time", self.name);
    }

    fn wait_running(&self, deadline: Instant) {
        let mut state = String::new();
        while Instant::now() < deadline {
            state = self
                .run(&["systemctl", "is-system-running"])
                .stdout_text()
                .trim()
                .to_owned();
            if state == "running" || state == "degraded" {
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
        panic!("{}: systemd is {state:?}, not running", self.name);
    }

    /// `ARGS` run inside the container (every namespace of its PID 1).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("nsenter");
        command
            .args(["-t", &self.leader.to_string(), "-a"])
            .args(args);
        command
    }

    /// `ARGS` run inside the container, to their end.
    pub fn run(&self, args: &[&str]) -> Finished {
        run_command(self.command(args), Duration::from_secs(60))
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        // nspawn turns SIGTERM into a clean halt of the container.
        if let Ok(pid) = i32::try_from(self.nspawn.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        if wait_until(&mut self.nspawn, Instant::now() + PATIENCE).is_none() {
            let _ = self.nspawn.kill();
            let _ = self.nspawn.wait();
        }
        for cgroup in &self.cgroups {
            remove_tree(cgroup);
        }
    }
}

/// Makes a cgroup named `leaf` below this process's own cgroup in every
/// hierarchy; their paths.
fn own_cgroups(leaf: &str) -> Vec<PathBuf> {
    let mine = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    mine.lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, ':');
            let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
            let mount = match controllers {
                "" => "unified",
                "name=systemd" => "systemd",
                other => other,
            };
            let dir = Path::new("/sys/fs/cgroup")
                .join(mount)
                .join(path.trim_start_matches('/'))
                .join(leaf);
            fs::create_dir_all(&dir).ok()?;
            Some(dir)
        })
        .collect()
}

/// Removes a cgroup and the ones below it, deepest first.
fn remove_tree(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_tree(&entry.path());
            }
        }
    }
    let _ = fs::remove_dir(dir);
}
