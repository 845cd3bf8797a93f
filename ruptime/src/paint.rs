//! Colour for the state word: green when up, red when down, as `--color`
//! says (`auto`: when standard output is a terminal and `NO_COLOR` is
//! unset or empty, as no-color.org asks).

/// When to colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Whether the state words are coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Paint(bool);

impl Paint {
    /// As `when` says, standard output being a terminal or not, with
    /// `no_color` the value of `NO_COLOR`.
    pub(crate) fn new(when: ColorWhen, terminal: bool, no_color: Option<&str>) -> Paint {
        Paint(match when {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => terminal && no_color.is_none_or(str::is_empty),
        })
    }

    /// `up`, green.
    pub(crate) fn up(self) -> &'static str {
        if self.0 { "\x1b[32mup\x1b[0m" } else { "up" }
    }

    /// `down`, red.
    pub(crate) fn down(self) -> &'static str {
        if self.0 {
            "\x1b[31mdown\x1b[0m"
        } else {
            "down"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_means_a_terminal_and_no_no_color() {
        let auto = |terminal, no_color| Paint::new(ColorWhen::Auto, terminal, no_color);
        assert_eq!(auto(true, None).up(), "\x1b[32mup\x1b[0m");
        assert_eq!(auto(true, Some("")).down(), "\x1b[31mdown\x1b[0m");
        assert_eq!(auto(true, Some("1")).up(), "up");
        assert_eq!(auto(false, None).down(), "down");
        assert_eq!(
            Paint::new(ColorWhen::Always, false, Some("1")).up(),
            "\x1b[32mup\x1b[0m"
        );
        assert_eq!(Paint::new(ColorWhen::Never, true, None).down(), "down");
    }
}
