//! The hosts to ask, written as pdsh, ClusterShell and Slurm write them:
//! the arguments, then the hosts of each `-f FILE` (`-f -`: standard
//! input; one or more per line, `#` starting a comment), or with neither
//! the fleet file ([`fleet_file`]), as BSD `ruptime` lists every host when
//! given none; less those of each `-x SET`.
//!
//! Each word is a host set in the nodeset syntax (`node[01-64]`, padding
//! kept; `node[1,3,7-9]`; `rack[1-2]-n[01-08]`; `@group` and
//! `@source:group` from ClusterShell's group configuration, read as
//! `nodeset(1)` reads it), expanded by the `nodeset` crate, in the order
//! given word by word (a set's own hosts come sorted, as nodeset sorts
//! them). An IP address is taken as it is: an IPv6 literal, with its zone,
//! or a bracket whose content holds a `:` (`[::1]:4000`), never reaches
//! the nodeset parser, which would read its brackets as ranges.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read};
use std::net::{IpAddr, Ipv6Addr};
use std::path::{Path, PathBuf};

use nodeset::{IdRangeList, NodeSet, Parser};
use ruptime_common::oserror::describe;

use crate::clustershell::Groups;

/// The most hosts one set may name: a typo (`node[1-100000000]`) is not a
/// fleet.
pub(crate) const MAX_SET: usize = 1_000_000;

/// The system's fleet file, read when no user's is.
pub(crate) const SYSTEM_FLEET: &str = "/etc/ruptime/hosts";

/// Where the hosts come from, as the command line says.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sources<'a> {
    /// The host sets given as arguments.
    pub(crate) args: &'a [String],
    /// The files of `-f`.
    pub(crate) files: &'a [PathBuf],
    /// The sets of `-x`.
    pub(crate) excluded: &'a [String],
}

/// The hosts `sources` name, in order, less the excluded ones.
///
/// # Errors
/// A one-line reason, a usage error: a file that cannot be read, a set
/// that is not well formed or names no host, no host and no fleet file,
/// no host at all or none left.
pub(crate) fn gather(sources: Sources<'_>) -> Result<Vec<String>, String> {
    let mut sets = Sets::default();
    let mut hosts = Vec::new();
    for arg in sources.args {
        hosts.extend(sets.expand(arg)?);
    }
    let fleet;
    let files = if sources.args.is_empty() && sources.files.is_empty() {
        fleet = [fleet_file()?];
        &fleet[..]
    } else {
        sources.files
    };
    for file in files {
        let text = read(file).map_err(|e| format!("{}: {}", file.display(), describe(&e)))?;
        for word in listed(&text) {
            let named = sets
                .expand(word)
                .map_err(|why| format!("{}: {why}", file.display()))?;
            hosts.extend(named);
        }
    }
    if hosts.is_empty() {
        return Err("no host to ask".to_owned());
    }
    let mut excluded = HashSet::new();
    for set in sources.excluded {
        excluded.extend(sets.expand(set)?);
    }
    hosts.retain(|host| !excluded.contains(host));
    if hosts.is_empty() {
        return Err("no host left to ask: -x excludes them all".to_owned());
    }
    Ok(hosts)
}

/// The fleet file: `$XDG_CONFIG_HOME/ruptime/hosts` (by default
/// `~/.config/ruptime/hosts`) if it is there, else [`SYSTEM_FLEET`].
///
/// # Errors
/// Neither is there: the reason names both.
pub(crate) fn fleet_file() -> Result<PathBuf, String> {
    let user = user_fleet();
    if let Some(user) = user.as_ref().filter(|path| path.exists()) {
        return Ok(user.clone());
    }
    if Path::new(SYSTEM_FLEET).exists() {
        return Ok(PathBuf::from(SYSTEM_FLEET));
    }
    let user = user.map_or_else(
        || "$XDG_CONFIG_HOME/ruptime/hosts".to_owned(),
        |p| p.display().to_string(),
    );
    Err(format!(
        "no host to ask: name some, or list them in {user} or {SYSTEM_FLEET}"
    ))
}

/// The user's fleet file, where it would be.
fn user_fleet() -> Option<PathBuf> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let config =
        absolute("XDG_CONFIG_HOME").or_else(|| absolute("HOME").map(|h| h.join(".config")));
    config.map(|c| c.join("ruptime/hosts"))
}

/// The longest host list read (`-f /dev/zero` is not one).
const MAX_LIST: u64 = 64 << 20;

/// The text of `file` (`-`: standard input), at most [`MAX_LIST`] bytes.
fn read(file: &Path) -> io::Result<String> {
    let source: Box<dyn Read> = if file == Path::new("-") {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(file)?)
    };
    let mut bytes = Vec::new();
    source.take(MAX_LIST + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_LIST {
        return Err(io::Error::other(format!(
            "longer than {} MiB: not a host list",
            MAX_LIST >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|_| io::Error::other("not UTF-8 text: not a host list"))
}

/// The words of a host list, comments after `#` left out.
pub(crate) fn listed(text: &str) -> impl Iterator<Item = &str> {
    text.lines().flat_map(|line| {
        line.split('#')
            .next()
            .unwrap_or_default()
            .split_whitespace()
    })
}

/// Whether `word` is an IP address as given (an IPv6 one with its zone, or
/// in brackets with a port), which names one host as it is.
fn is_address(word: &str) -> bool {
    if word.parse::<IpAddr>().is_ok() {
        return true;
    }
    if let Some(rest) = word.strip_prefix('[') {
        return rest
            .split_once(']')
            .is_some_and(|(inside, _)| inside.contains(':'));
    }
    word.split_once('%')
        .is_some_and(|(ip, zone)| ip.parse::<Ipv6Addr>().is_ok() && !zone.is_empty())
}

/// Whether `word` is one host's name as it is (`host`, `host:4000`,
/// `10.0.0.1`): nothing in it the nodeset syntax reads.
fn is_plain(word: &str) -> bool {
    !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'))
}

/// The expander of host sets; ClusterShell's groups are read when a set
/// first names one.
#[derive(Default)]
pub(crate) struct Sets {
    groups: Option<Groups>,
}

impl Sets {
    /// An expander that reads no group configuration (and runs none of
    /// its commands): every `@group` is unknown.
    #[cfg(feature = "fuzzing")]
    pub(crate) fn without_groups() -> Sets {
        Sets {
            groups: Some(Groups::none()),
        }
    }

    /// The hosts `word` names.
    pub(crate) fn expand(&mut self, word: &str) -> Result<Vec<String>, String> {
        if is_address(word) || is_plain(word) {
            return Ok(vec![word.to_owned()]);
        }
        if !word.contains('@') {
            return expand_with(&Parser::default(), word);
        }
        // "All groups" runs each source's list command, which the nodeset
        // crate cannot be told has failed.
        if word.contains("@*") || word.contains(":*") {
            return Err(format!("'{word}': all groups (@*) cannot be asked"));
        }
        self.groups
            .get_or_insert_with(Groups::from_config)
            .expand(word)
    }
}

/// The hosts `word` names, as `parser` reads it.
///
/// # Errors
/// The set is not well formed, names no host, or more than [`MAX_SET`].
pub(crate) fn expand_with(parser: &Parser, word: &str) -> Result<Vec<String>, String> {
    let set: NodeSet<IdRangeList> = parser.parse(word).map_err(|e| format!("'{word}': {e}"))?;
    match set.len() {
        0 => Err(format!("'{word}' names no host")),
        n if n > MAX_SET => Err(format!(
            "'{word}' names {n} hosts; a set may name {MAX_SET} at most"
        )),
        _ => Ok(set.iter().collect()),
    }
}

/// `names` folded as nodeset folds them (`h[01-04,10-40]`), names that
/// the nodeset syntax cannot hold (IPv6 addresses, ports) listed after,
/// with commas.
pub(crate) fn fold(names: &[&str]) -> String {
    let (addresses, named): (Vec<&str>, Vec<&str>) = names
        .iter()
        .partition(|name| name.contains([':', '%', '[', ']', ',', '@', ' ']));
    let mut parts = Vec::new();
    if !named.is_empty() {
        match Parser::default().parse::<IdRangeList>(&named.join(",")) {
            Ok(set) => parts.push(set.to_string()),
            Err(_) => parts.extend(named.iter().map(|n| (*n).to_owned())),
        }
    }
    parts.extend(addresses.iter().map(|a| (*a).to_owned()));
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(word: &str) -> Result<Vec<String>, String> {
        Sets::default().expand(word)
    }

    #[test]
    fn sets_expand_as_pdsh_and_clustershell_write_them() {
        assert_eq!(
            expand("node[01-03]").unwrap(),
            ["node01", "node02", "node03"]
        );
        assert_eq!(
            expand("node[1,3,7-9]").unwrap(),
            ["node1", "node3", "node7", "node8", "node9"]
        );
        assert_eq!(expand("rack[1-2]-n[01-08]").unwrap().len(), 16);
        assert_eq!(expand("alpha").unwrap(), ["alpha"]);
        assert_eq!(
            expand("10.1.2.[3-4]:4000").unwrap(),
            ["10.1.2.3:4000", "10.1.2.4:4000"]
        );
        for address in [
            "::1",
            "[::1]:4000",
            "[fe80::1%eth0]:4000",
            "fe80::1%lo",
            "10.0.0.1",
        ] {
            assert_eq!(expand(address).unwrap(), [address], "{address}");
        }
    }

    #[test]
    fn a_bad_set_is_named_with_what_is_wrong() {
        for (word, why) in [
            ("node[1-", "'node[1-': unable to parse"),
            ("node[5-1]", "'node[5-1]': invalid range"),
            ("@*", "'@*': all groups (@*) cannot be asked"),
        ] {
            let err = expand(word).unwrap_err();
            assert!(err.starts_with(why), "{word}: {err}");
        }
        let err = expand("n[1-2000000]").unwrap_err();
        assert_eq!(
            err,
            "'n[1-2000000]' names 2000000 hosts; a set may name 1000000 at most"
        );
    }

    #[test]
    fn names_fold_as_nodeset_folds_them() {
        let hosts: Vec<String> = (1..=4).chain(10..=40).map(|i| format!("h{i:02}")).collect();
        let names: Vec<&str> = hosts.iter().map(String::as_str).collect();
        assert_eq!(fold(&names), "h[01-04,10-40]");
        assert_eq!(fold(&["alpha", "bravo"]), "alpha,bravo");
        assert_eq!(fold(&["h1", "[::1]:4000", "h2"]), "h[1-2],[::1]:4000");
    }

    #[test]
    fn lists_skip_comments_and_blank_lines() {
        let text = "# fleet\nalpha\n\n  bravo node[1-2]  # the old one\n[::1]:4000\n#charlie\n";
        assert_eq!(
            listed(text).collect::<Vec<_>>(),
            ["alpha", "bravo", "node[1-2]", "[::1]:4000"]
        );
    }
}
