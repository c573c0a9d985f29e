//! `ai4ict man`: manual pages (roff) generated from the command-line definitions, so they
//! always match the binary.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::CommandFactory;

/// Write manual pages: the ai4ict(1) page to stdout, or with --out one page per command and
/// subcommand (ai4ict.1, ai4ict-run.1, ai4ict-hub-guidance.1, …) into a folder, e.g.
/// `ai4ict man --out ~/.local/share/man/man1`, then `man ai4ict-run`.
#[derive(clap::Args)]
pub struct Args {
    /// Folder for one page per command (created if needed); pages already there are kept
    /// unless --force is given.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace pages that already exist in --out.
    #[arg(long, requires = "out")]
    force: bool,
}

/// Renders `cmd`'s page and those of its visible subcommands, depth first, as (file name,
/// roff) pairs.
fn pages(cmd: &clap::Command, into: &mut Vec<(String, Vec<u8>)>) -> anyhow::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut page = Vec::new();
    man.render(&mut page)?;
    into.push((man.get_filename(), page));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages(sub, into)?;
    }
    Ok(())
}

/// Writes the page(s).
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut cmd = crate::Cli::command().disable_help_subcommand(true);
    // Building names each subcommand after its path (`ai4ict-hub-guidance`).
    cmd.build();
    let Some(dir) = args.out else {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd).render(&mut page)?;
        return super::files::to_stdout(&page);
    };
    let mut all = Vec::new();
    pages(&cmd, &mut all)?;
    if !args.force {
        let existing: Vec<&str> = all
            .iter()
            .filter(|(name, _)| dir.join(name).exists())
            .map(|(name, _)| name.as_str())
            .collect();
        if !existing.is_empty() {
            let more = if existing.len() > 3 { ", …" } else { "" };
            bail!(
                "{} of the {} pages already exist in {} ({}{more}); pass --force to replace them",
                existing.len(),
                all.len(),
                dir.display(),
                existing[..existing.len().min(3)].join(", ")
            );
        }
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, page) in &all {
        let path = dir.join(name);
        std::fs::write(&path, page).with_context(|| format!("writing {}", path.display()))?;
    }
    outln!("wrote {} manual pages to {}", all.len(), dir.display());
    Ok(())
}
