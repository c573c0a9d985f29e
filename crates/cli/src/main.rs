//! The `ai4ict` command: a thin layer over the library crates. Each subcommand lives in
//! `cmd/<name>.rs` with its clap `Args` struct and a `run` function.

/// Writes a line to standard output through [`out::print`]: a closed pipe
/// (`ai4ict … | head -1`) stops the printing, not the program.
macro_rules! outln {
    () => { $crate::out::print(format_args!("\n")) };
    ($($t:tt)*) => { $crate::out::print(format_args!("{}\n", format_args!($($t)*))) };
}

/// Writes to standard output through [`out::print`] (see `outln!`).
macro_rules! out {
    ($($t:tt)*) => { $crate::out::print(format_args!($($t)*)) };
}

mod cmd;
mod exit;
mod out;
mod progress;
mod report;

use clap::{Parser, Subcommand};

/// The exit statuses, as `--help` shows them (the README has the same list).
const EXIT_STATUS: &str = "Exit status:
  0    success
  1    error (bad input, a file that cannot be read or written, a failed stage)
  2    usage: unknown command or option, missing argument
  3    the evaluation (sandbox or labels) missed a target of the intent, or a file
       source could not be evaluated and was not deployed (the report says which)
  130  interrupted (Ctrl-C or SIGTERM): the partial report is written, nothing is
       published, aliased or recorded as evidence in the hub";

/// AI for telecom/ICT networks, the ITU-T way: ML intents run as Y.3172 pipelines,
/// evaluated in a sandbox, shared through a hub.
#[derive(Parser)]
#[command(
    name = "ai4ict",
    version,
    about,
    propagate_version = true,
    after_help = EXIT_STATUS
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    // Each variant wraps one cmd module's Args; keep them in alphabetical order.
    /// Measure speed and accuracy against baselines run in the same process.
    Bench(cmd::bench::Args),
    /// Receive NetFlow v5 / v9 and IPFIX over UDP and write the flow records as CSV.
    Collect(cmd::collect::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(cmd::completions::Args),
    /// Run the shipped cell-KPI anomaly intent on the default sandbox network.
    Demo(cmd::demo::Args),
    /// Detect anomalies in a CSV or JSON-lines file: scores, alerts and a plot page.
    Detect(cmd::detect::Args),
    /// Forecast the series of a CSV or JSON-lines file: backtest against seasonal naive,
    /// forecasts with intervals, and a plot page.
    Forecast(cmd::forecast::Args),
    /// Share what works: standards catalogue, cooperation map, use cases, model marketplace.
    Hub(cmd::hub::Args),
    /// Work with the ML intent format.
    Intent(cmd::intent::Args),
    /// Find attacks in a flow table from host behaviour, unknown attacks included: per-host
    /// windows scored against the population of hosts, no training or labels needed.
    Intrusion(cmd::intrusion::Args),
    /// Write manual pages: ai4ict(1) to stdout, or one page per subcommand into a folder.
    Man(cmd::man::Args),
    /// Run an ML intent: plan, train and evaluate in the sandbox, deploy, report.
    Run(cmd::run::Args),
    /// The ML sandbox's simulated network: generate telemetry with ground-truth incidents.
    Sandbox(cmd::sandbox::Args),
    /// Run ML pipelines continuously beside the hub's API and web console.
    Serve(cmd::serve::Args),
    /// Print records passing a node of a pipeline an `ai4ict serve` runs, as JSON lines.
    Tap(cmd::tap::Args),
    /// Show the pipelines of a running `ai4ict serve`: state, rows and alerts per second,
    /// and per node records per second and lag.
    Top(cmd::top::Args),
    /// Check ML intents without running them.
    Validate(cmd::validate::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<()> = match cli.command {
        Command::Bench(a) => cmd::bench::run(a),
        Command::Collect(a) => cmd::collect::run(a),
        Command::Completions(a) => cmd::completions::run(a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Detect(a) => cmd::detect::run(a),
        Command::Forecast(a) => cmd::forecast::run(a),
        Command::Hub(a) => cmd::hub::run(a),
        Command::Intent(a) => cmd::intent::run(a),
        Command::Intrusion(a) => cmd::intrusion::run(a),
        Command::Man(a) => cmd::man::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Sandbox(a) => cmd::sandbox::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Tap(a) => cmd::tap::run(a),
        Command::Top(a) => cmd::top::run(a),
        Command::Validate(a) => cmd::validate::run(a),
    };
    let result = result.and_then(|()| out::finished());
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => match e.downcast_ref::<exit::Verdict>() {
            Some(v) => {
                eprintln!("{v}");
                std::process::ExitCode::from(v.code())
            }
            None => {
                eprintln!("error: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}
