//! How spx talks to a person: whether informational messages are shown (`--quiet`), whether
//! output is coloured (`--color`, `NO_COLOR`, a terminal), and progress bars on stderr.
//!
//! The settings are process-wide, set once by the binary from the global flags ([`init`]);
//! library callers that never call it get the defaults: not quiet, colour `auto`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// `--color`: `auto` colours a stream that is a terminal when `NO_COLOR` is unset or empty;
/// `always` colours even into a pipe or file; `never` never does. (No doc comments on the
/// variants: clap would then switch every command's help to its long layout.)
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// The stream a piece of text is written to (each is a terminal or not on its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

static QUIET: AtomicBool = AtomicBool::new(false);
/// 0 auto, 1 always, 2 never.
static COLOR: AtomicU8 = AtomicU8::new(0);

/// Record the global flags (called once by the binary, before any command runs).
pub fn init(color: ColorChoice, quiet: bool) {
    COLOR.store(
        match color {
            ColorChoice::Auto => 0,
            ColorChoice::Always => 1,
            ColorChoice::Never => 2,
        },
        Ordering::Relaxed,
    );
    QUIET.store(quiet, Ordering::Relaxed);
}

fn choice() -> ColorChoice {
    match COLOR.load(Ordering::Relaxed) {
        1 => ColorChoice::Always,
        2 => ColorChoice::Never,
        _ => ColorChoice::Auto,
    }
}

/// `--quiet`: informational messages (progress, "updated …", notes) are not shown. Errors,
/// warnings and the data a command was asked for always are.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// The colour decision, without side effects: `always` and `never` are final; `auto` colours
/// a terminal unless `NO_COLOR` holds a non-empty value (https://no-color.org).
pub fn decide(choice: ColorChoice, no_color: Option<&std::ffi::OsStr>, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && no_color.is_none_or(|v| v.is_empty()),
    }
}

fn is_terminal(s: Stream) -> bool {
    match s {
        Stream::Stdout => std::io::stdout().is_terminal(),
        Stream::Stderr => std::io::stderr().is_terminal(),
    }
}

/// Whether text written to `s` is coloured.
pub fn color(s: Stream) -> bool {
    decide(
        choice(),
        std::env::var_os("NO_COLOR").as_deref(),
        is_terminal(s),
    )
}

/// A colour for [`paint`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Problems, failures, removals.
    Red,
    /// Success, additions.
    Green,
    /// Warnings, changes, notes.
    Yellow,
    Bold,
    Dim,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Red => "31",
            Style::Green => "32",
            Style::Yellow => "33",
            Style::Bold => "1",
            Style::Dim => "2",
        }
    }
}

/// `text` in `style` when `on`, else unchanged.
pub fn paint_if(on: bool, style: Style, text: &str) -> String {
    if on && !text.is_empty() {
        format!("\x1b[{}m{text}\x1b[0m", style.code())
    } else {
        text.to_string()
    }
}

/// `text` in `style` if output to `s` is coloured.
pub fn paint(s: Stream, style: Style, text: &str) -> String {
    paint_if(color(s), style, text)
}

/// The `spx:` prefix of error messages (red on a colour terminal).
pub fn error_prefix() -> String {
    paint(Stream::Stderr, Style::Red, "spx:")
}

/// An informational line on stderr, left out with `--quiet`.
pub fn info(msg: impl AsRef<str>) {
    if !quiet() {
        eprintln!("{}", msg.as_ref());
    }
}

/// A progress bar on stderr, or nothing: it is drawn only when stderr is a terminal, `--quiet`
/// is off and there is more than one step. Cheap to clone and to share between threads.
#[derive(Clone)]
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

/// A progress bar over `len` steps, labelled `label` (e.g. the command's name).
pub fn progress(len: usize, label: &str) -> Progress {
    let shown = show_progress(len, quiet(), is_terminal(Stream::Stderr));
    progress_if(shown, len, label, color(Stream::Stderr))
}

/// Whether a bar over `len` steps is drawn: only on a terminal (indicatif's stderr target
/// would hide itself elsewhere too; this does not rely on it), never with `--quiet`, and not
/// for a single step.
pub fn show_progress(len: usize, quiet: bool, stderr_terminal: bool) -> bool {
    len > 1 && !quiet && stderr_terminal
}

/// A bar drawn when `shown`: the decision made by [`progress`], taken apart for tests.
pub fn progress_if(shown: bool, len: usize, label: &str, colored: bool) -> Progress {
    if !shown {
        return Progress { bar: None };
    }
    let template = if colored {
        "{prefix:.bold} [{bar:30.green/dim}] {pos}/{len} {wide_msg:.dim}"
    } else {
        "{prefix} [{bar:30}] {pos}/{len} {wide_msg}"
    };
    let style = indicatif::ProgressStyle::with_template(template)
        .expect("valid progress template")
        .progress_chars("=> ");
    // Explicitly stderr: stdout carries the data a command prints, never the bar.
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len as u64),
        indicatif::ProgressDrawTarget::stderr(),
    )
    .with_style(style)
    .with_prefix(label.to_string())
    // Cleared when the last handle drops, also on an early return.
    .with_finish(indicatif::ProgressFinish::AndClear);
    bar.tick();
    Progress { bar: Some(bar) }
}

impl Progress {
    /// Whether a bar is drawn.
    pub fn visible(&self) -> bool {
        self.bar.is_some()
    }

    /// One step done; `what` (a file or target name, never a value) shown beside the bar.
    pub fn step(&self, what: &str) {
        if let Some(b) = &self.bar {
            b.set_message(what.to_string());
            b.inc(1);
        }
    }

    /// Name the step under way without counting it.
    pub fn working_on(&self, what: &str) {
        if let Some(b) = &self.bar {
            b.set_message(what.to_string());
        }
    }

    /// Run `f` (which prints) with the bar cleared, then redraw it.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(b) => b.suspend(f),
            None => f(),
        }
    }

    /// Remove the bar from the terminal.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn auto_colours_only_a_terminal_without_no_color() {
        assert!(decide(ColorChoice::Auto, None, true));
        assert!(!decide(ColorChoice::Auto, None, false));
        assert!(!decide(ColorChoice::Auto, Some(OsStr::new("1")), true));
        assert!(!decide(ColorChoice::Auto, Some(OsStr::new("0")), true));
        // An empty NO_COLOR does not count.
        assert!(decide(ColorChoice::Auto, Some(OsStr::new("")), true));
    }

    #[test]
    fn always_and_never_are_final() {
        for nc in [None, Some(OsStr::new("1"))] {
            for tty in [false, true] {
                assert!(decide(ColorChoice::Always, nc, tty));
                assert!(!decide(ColorChoice::Never, nc, tty));
            }
        }
    }

    #[test]
    fn paint_wraps_in_sgr_codes_only_when_on() {
        assert_eq!(paint_if(true, Style::Red, "spx:"), "\x1b[31mspx:\x1b[0m");
        assert_eq!(paint_if(false, Style::Red, "spx:"), "spx:");
        assert_eq!(paint_if(true, Style::Green, ""), "");
    }

    #[test]
    fn progress_only_on_a_terminal_and_not_quiet() {
        assert!(show_progress(3, false, true));
        assert!(!show_progress(3, false, false));
        assert!(!show_progress(3, true, true));
        assert!(!show_progress(1, false, true));
        assert!(!show_progress(0, false, true));
    }

    #[test]
    fn hidden_progress_is_a_no_op() {
        let p = progress_if(false, 10, "test", false);
        assert!(!p.visible());
        p.step("a");
        assert_eq!(p.suspend(|| 7), 7);
        p.finish();
    }
}
