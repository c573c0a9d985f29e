//! Standard output for the whole command: every `outln!`/`out!` goes through
//! [`ai4ict_connectors::PipeStdout`], so a reader that goes away (`ai4ict run … | head -1`)
//! stops the printing and the command still finishes its work (reports, files) and exits
//! normally, where `println!` would panic. Any other write error (a full disk behind a
//! redirection) stops the printing too and makes the command fail at the end.

use std::io::Write;
use std::sync::Mutex;

use ai4ict_connectors::PipeStdout;

/// The first write error other than a closed pipe.
static FAILED: Mutex<Option<String>> = Mutex::new(None);

/// Writes `args` to standard output in one piece.
pub fn print(args: std::fmt::Arguments<'_>) {
    let Ok(mut failed) = FAILED.lock() else {
        return;
    };
    if failed.is_some() {
        return;
    }
    let text = args.to_string();
    if let Err(e) = PipeStdout.write_all(text.as_bytes()) {
        *failed = Some(e.to_string());
    }
}

/// Fails when standard output could not be written for a reason other than a closed pipe.
pub fn finished() -> anyhow::Result<()> {
    if let Err(e) = PipeStdout.flush() {
        anyhow::bail!("writing to standard output: {e}");
    }
    match FAILED.lock().ok().and_then(|f| f.clone()) {
        Some(e) => anyhow::bail!("writing to standard output: {e}"),
        None => Ok(()),
    }
}
