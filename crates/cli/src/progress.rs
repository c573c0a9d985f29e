//! Progress on stderr for commands that run longer than a second: a spinner with the
//! elapsed time and the step under way, shown only on a terminal and never with `--quiet`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

/// A spinner on stderr with the elapsed time, the step under way and the size of the file
/// being written; hidden unless stderr is a terminal.
pub struct Progress {
    bar: ProgressBar,
    writing: Arc<Mutex<Option<PathBuf>>>,
}

impl Progress {
    /// A spinner, hidden when `quiet` or when stderr is no terminal.
    pub fn new(quiet: bool) -> Self {
        let writing: Arc<Mutex<Option<PathBuf>>> = Arc::default();
        let watched = Arc::clone(&writing);
        let size = move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let path = watched.lock().ok().and_then(|p| p.clone());
            if let Some(len) = path
                .and_then(|p| std::fs::metadata(p).ok())
                .map(|m| m.len())
            {
                let _ = write!(w, ": {:.1} MB", len as f64 / 1e6);
            }
        };
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}{size}") {
                bar.set_style(style.with_key("size", size));
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        };
        Self { bar, writing }
    }

    /// Shows `step`; `file` is the file it writes, whose size is shown as it grows.
    pub fn step(&self, step: String, file: Option<PathBuf>) {
        if let Ok(mut w) = self.writing.lock() {
            *w = file;
        }
        self.bar.set_message(step);
    }

    /// Runs `f` (that prints) with the spinner out of the way.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    /// Shows `step` (no file).
    pub fn say(&self, step: impl Into<String>) {
        self.step(step.into(), None);
    }
}

impl Drop for Progress {
    /// Clears the spinner, also when the command fails and the error is printed.
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
