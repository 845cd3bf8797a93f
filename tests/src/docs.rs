//! The man pages and shell completions of `ruptime` and `ruptimed`, made
//! from their clap definitions (and each one's extra manual sections), so the
//! documentation cannot drift from the options. `make install` runs
//! `ruptime-docs DIR` and installs what it writes.

use std::fs;
use std::io;
use std::path::Path;

use clap::{Command, CommandFactory};
use clap_complete::Shell;
use clap_mangen::Man;
use roff::{Roff, roman};

/// A program to document.
struct Program {
    command: Command,
    section: &'static str,
    manual: &'static [(&'static str, &'static str)],
}

fn programs() -> [Program; 2] {
    [
        Program {
            command: ruptime::cli::Cli::command(),
            section: "1",
            manual: ruptime::cli::MANUAL,
        },
        Program {
            command: ruptimed::cli::Cli::command(),
            section: "8",
            manual: ruptimed::cli::MANUAL,
        },
    ]
}

/// Writes `DIR/man/NAME.SECTION` and `DIR/completions/{bash,zsh,fish}/...`
/// for both programs.
///
/// # Errors
/// A file cannot be written.
pub fn write_all(dir: &Path) -> io::Result<()> {
    for program in programs() {
        let name = program.command.get_name().to_owned();
        let man_dir = dir.join("man");
        fs::create_dir_all(&man_dir)?;
        fs::write(
            man_dir.join(format!("{name}.{}", program.section)),
            man_page(&program)?,
        )?;
        for (shell, file) in [
            (Shell::Bash, name.clone()),
            (Shell::Zsh, format!("_{name}")),
            (Shell::Fish, format!("{name}.fish")),
        ] {
            let shell_dir = dir.join("completions").join(shell.to_string());
            fs::create_dir_all(&shell_dir)?;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut program.command.clone(), &name, &mut script);
            fs::write(shell_dir.join(file), script)?;
        }
    }
    Ok(())
}

/// The man page: clap's sections without its "EXTRA" one, then the
/// program's own, preformatted.
fn man_page(program: &Program) -> io::Result<Vec<u8>> {
    let man =
        Man::new(program.command.clone().after_long_help(None::<&str>)).section(program.section);
    let mut page = Vec::new();
    man.render(&mut page)?;
    let mut extra = Roff::new();
    for (title, body) in program.manual {
        extra.control("SH", [*title]).control("nf", []);
        for line in body.lines() {
            extra.text([roman(line)]);
        }
        extra.control("fi", []);
    }
    extra.to_writer(&mut page)?;
    Ok(page)
}
