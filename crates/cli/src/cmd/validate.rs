//! `ai4ict validate FILE…`: check intents without running them.

use std::path::PathBuf;

use ai4ict_intent::MlIntent;
use anyhow::bail;

/// Check ML intents: syntax, unknown fields, values; every problem with line, column and field.
#[derive(clap::Args)]
pub struct Args {
    /// Intent files (YAML).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Validates each file; fails when any is invalid.
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut bad = 0;
    for f in &args.files {
        if let Err(e) = super::files::regular_file(f) {
            bad += 1;
            eprintln!("{e:#}");
            continue;
        }
        match MlIntent::from_file(f) {
            Ok(i) => outln!(
                "{}: ok ({}, use case {})",
                f.display(),
                i.name,
                i.use_case.as_str()
            ),
            Err(e) => {
                bad += 1;
                let problems = e.problems();
                if problems.is_empty() {
                    eprintln!("{e}");
                }
                for p in problems {
                    eprintln!("{}:{p}", f.display());
                }
            }
        }
    }
    if bad > 0 {
        bail!("{bad} of {} intent(s) invalid", args.files.len());
    }
    Ok(())
}
