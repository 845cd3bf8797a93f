//! The hosts to ask: the arguments, then the hosts of each `-f FILE` in turn
//! (`-f -` reads standard input): one per line, `#` starting a comment.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use ruptime_common::oserror::describe;

/// The hosts of `args`, then of each file, in order.
///
/// # Errors
/// A file cannot be read: the path and the reason.
pub(crate) fn gather(args: &[String], files: &[PathBuf]) -> Result<Vec<String>, String> {
    let mut hosts = args.to_vec();
    for file in files {
        let text = read(file).map_err(|e| format!("{}: {}", file.display(), describe(&e)))?;
        hosts.extend(listed(&text).map(str::to_owned));
    }
    Ok(hosts)
}

fn read(file: &Path) -> io::Result<String> {
    if file == Path::new("-") {
        let mut text = String::new();
        io::stdin().read_to_string(&mut text)?;
        Ok(text)
    } else {
        std::fs::read_to_string(file)
    }
}

/// The hosts of a list: words, comments after `#` left out.
pub(crate) fn listed(text: &str) -> impl Iterator<Item = &str> {
    text.lines().flat_map(|line| {
        line.split('#')
            .next()
            .unwrap_or_default()
            .split_whitespace()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_skip_comments_and_blank_lines() {
        let text = "# fleet\nalpha\n\n  bravo   # the old one\n[::1]:4000\n#charlie\n";
        assert_eq!(
            listed(text).collect::<Vec<_>>(),
            ["alpha", "bravo", "[::1]:4000"]
        );
    }

    #[test]
    fn arguments_come_first_and_a_missing_file_is_named() {
        let dir = std::env::temp_dir().join(format!("ruptime-hosts-{}", std::process::id()));
        std::fs::write(&dir, "bravo\n").unwrap();
        assert_eq!(
            gather(&["alpha".into()], std::slice::from_ref(&dir)).unwrap(),
            ["alpha", "bravo"]
        );
        std::fs::remove_file(&dir).unwrap();
        let err = gather(&[], std::slice::from_ref(&dir)).unwrap_err();
        assert_eq!(err, format!("{}: No such file or directory", dir.display()));
    }
}
