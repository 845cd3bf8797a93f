//! What /proc says about a process the test started, and which there are.

use std::fs;

/// Every process's id.
pub fn pids() -> Vec<u32> {
    fs::read_dir("/proc")
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Its command name (`comm`), or `None` once it is gone.
pub fn name(pid: u32) -> Option<String> {
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(comm.trim_end_matches('\n').to_owned())
}

/// Its command line, each argument ended by a NUL; empty once it is gone.
pub fn command_line(pid: u32) -> String {
    let line = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    String::from_utf8_lossy(&line).into_owned()
}

/// Its open descriptors, by number.
pub fn fds(pid: u32) -> Vec<u32> {
    let mut fds: Vec<u32> = fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    fds.sort_unstable();
    fds
}

/// The lowest descriptor number it does not use.
pub fn lowest_free_fd(pid: u32) -> u32 {
    let used = fds(pid);
    (0..).find(|fd| !used.contains(fd)).unwrap_or(0)
}

/// Its children (zombies included).
pub fn children(pid: u32) -> Vec<u32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .map(|text| {
            text.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The fields of /proc/PID/stat after the command name: state, ppid, pgrp,
/// session, tty_nr ...; `None` once the process is gone.
pub fn stat(pid: u32) -> Option<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    Some(after_name.split_whitespace().map(str::to_owned).collect())
}

/// Its state letter (`R`, `S`, `Z` ...), or `None` once it is gone.
pub fn state(pid: u32) -> Option<char> {
    stat(pid)?.first()?.chars().next()
}

/// Microseconds in a clock tick (`USER_HZ` is 100 on Linux).
pub const TICK_MICROS: u64 = 10_000;

/// The sum of numeric /proc/PID/stat fields (counted after the state).
fn stat_sum(pid: u32, fields: &[usize]) -> u64 {
    let stat = stat(pid).unwrap_or_default();
    fields
        .iter()
        .filter_map(|&i| stat.get(i)?.parse::<u64>().ok())
        .sum()
}

/// User plus system CPU time, in clock ticks.
pub fn cpu_ticks(pid: u32) -> u64 {
    stat_sum(pid, &[11, 12])
}

/// User plus system CPU time, its waited-for children's included, in clock ticks.
pub fn cpu_ticks_with_children(pid: u32) -> u64 {
    stat_sum(pid, &[11, 12, 13, 14])
}

/// A number from /proc/PID/status, e.g. `VmHWM:` (KiB) or `voluntary_ctxt_switches:`.
pub fn status_field(pid: u32, field: &str) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
