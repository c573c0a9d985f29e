//! The `ai4ict` command: a thin layer over the library crates. Each subcommand lives in
//! `cmd/<name>.rs` with its clap `Args` struct and a `run` function.

mod cmd;

use clap::{Parser, Subcommand};

/// AI for telecom/ICT networks, the ITU-T way: ML intents run as Y.3172 pipelines,
/// evaluated in a sandbox, shared through a hub.
#[derive(Parser)]
#[command(name = "ai4ict", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    // Each variant wraps one cmd module's Args; keep them in alphabetical order.
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<()> = match cli.command {};
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
