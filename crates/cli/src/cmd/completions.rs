//! `ai4ict completions SHELL`: a shell completion script generated from the command-line
//! definitions, so it always matches the binary.

use clap::CommandFactory;

/// Print a completion script for SHELL to stdout, e.g.
/// `ai4ict completions bash > ~/.local/share/bash-completion/completions/ai4ict`,
/// `ai4ict completions zsh > ~/.zfunc/_ai4ict`,
/// `ai4ict completions fish > ~/.config/fish/completions/ai4ict.fish`.
#[derive(clap::Args)]
pub struct Args {
    /// The shell.
    shell: clap_complete::Shell,
}

/// Writes the script.
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut cmd = crate::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "ai4ict", &mut script);
    super::files::to_stdout(&script)
}
