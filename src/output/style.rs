//! Terminal styles: whether to colour, how wide to wrap, and the few colours aepact uses, named
//! by what they mean so every renderer paints the same thing the same way.

use std::io::IsTerminal;

use anstyle::{AnsiColor, Style as Ansi};

use crate::cli::ColorMode;

/// Whether to colour output: `always`/`never` as asked; `auto` colours a terminal unless
/// `NO_COLOR` is set to a non-empty value (<https://no-color.org>).
pub fn color_enabled(mode: ColorMode, is_terminal: bool) -> bool {
    match mode {
        ColorMode::Always => true,
        ColorMode::Never => false,
        ColorMode::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

/// Terminal settings for human output.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    /// Wrap width for diagnostics.
    pub width: usize,
}

impl Style {
    /// The style for stdout: colour per `mode`, width from `COLUMNS` (default 100).
    pub fn for_stdout(mode: ColorMode) -> Self {
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse::<usize>().ok())
            .filter(|&w| w >= 40)
            .unwrap_or(100);
        Self {
            color: color_enabled(mode, std::io::stdout().is_terminal()),
            width,
        }
    }

    /// Plain text at a fixed width: what tests and logs see.
    pub fn plain() -> Self {
        Self {
            color: false,
            width: 100,
        }
    }

    pub fn paint(&self, style: anstyle::Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }
}

/// Emphasis: plan names, headings.
pub fn strong() -> Ansi {
    Ansi::new().bold()
}

/// Done, succeeded, already applied.
pub fn good() -> Ansi {
    Ansi::new().fg_color(Some(AnsiColor::Green.into())).bold()
}

/// Failed, refused, an error.
pub fn bad() -> Ansi {
    Ansi::new().fg_color(Some(AnsiColor::Red.into())).bold()
}

/// To do: what `apply` will send.
pub fn pending() -> Ansi {
    Ansi::new().fg_color(Some(AnsiColor::Yellow.into())).bold()
}

/// A warning's code, a note.
pub fn note() -> Ansi {
    Ansi::new().fg_color(Some(AnsiColor::Cyan.into())).bold()
}
