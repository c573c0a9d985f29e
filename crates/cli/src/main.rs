//! The `ai4ict` command: a thin layer over the library crates. Each subcommand lives in
//! `cmd/<name>.rs` with its clap `Args` struct and a `run` function.

mod cmd;
mod report;

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
    /// Measure speed and accuracy against baselines run in the same process.
    Bench(cmd::bench::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(cmd::completions::Args),
    /// Run the shipped cell-KPI anomaly intent on the default sandbox network.
    Demo(cmd::demo::Args),
    /// Detect anomalies in a CSV or JSON-lines file: scores, alerts and a plot page.
    Detect(cmd::detect::Args),
    /// Share what works: standards catalogue, cooperation map, use cases, model marketplace.
    Hub(cmd::hub::Args),
    /// Work with the ML intent format.
    Intent(cmd::intent::Args),
    /// Write manual pages: ai4ict(1) to stdout, or one page per subcommand into a folder.
    Man(cmd::man::Args),
    /// Run an ML intent: plan, train and evaluate in the sandbox, deploy, report.
    Run(cmd::run::Args),
    /// The ML sandbox's simulated network: generate telemetry with ground-truth incidents.
    Sandbox(cmd::sandbox::Args),
    /// Check ML intents without running them.
    Validate(cmd::validate::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<()> = match cli.command {
        Command::Bench(a) => cmd::bench::run(a),
        Command::Completions(a) => cmd::completions::run(a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Detect(a) => cmd::detect::run(a),
        Command::Hub(a) => cmd::hub::run(a),
        Command::Intent(a) => cmd::intent::run(a),
        Command::Man(a) => cmd::man::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Sandbox(a) => cmd::sandbox::run(a),
        Command::Validate(a) => cmd::validate::run(a),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
