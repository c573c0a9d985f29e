//! `ai4ict bench …`: speed and accuracy, each against a baseline measured in the same run.

use ai4ict_engine::bench;

/// Measure speed and accuracy against baselines run in the same process.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Points/s on one core and bytes of state per entity of each detector, beside river
    /// HalfSpaceTrees and pyod IForest on the same stream (when scripts/peer-venv.sh was run).
    Anomaly(super::bench_anomaly::Args),
    /// Rows/s through the whole pipeline on the dataflow engine vs a plain loop running the
    /// same node code (the engine's overhead).
    Engine {
        /// Sandbox cells.
        #[arg(long, default_value_t = 2000)]
        cells: u32,
        /// Days of 15-minute data.
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// Engine worker threads.
        #[arg(long, default_value_t = 1)]
        workers: usize,
        /// Repetitions (the best is reported).
        #[arg(long, default_value_t = 3)]
        reps: usize,
    },
    /// Forecast accuracy (MASE, sMAPE, RMSE, interval coverage, MSIS) and fit time by
    /// rolling-origin backtest on NAB's nyc_taxi and sandbox traffic, beside statsforecast's
    /// AutoETS and MSTL measured in the same run when `scripts/peer-venv-forecast.sh` has made
    /// their environment.
    Forecast {
        /// NAB's nyc_taxi.csv.
        #[arg(
            long,
            default_value = "../shared/data/nab/data/realKnownCause/nyc_taxi.csv"
        )]
        nyc_taxi: std::path::PathBuf,
        /// Sandbox cells whose traffic is forecast.
        #[arg(long, default_value_t = 4)]
        cells: u32,
        /// Rolling-origin windows per series.
        #[arg(long, default_value_t = 2)]
        windows: usize,
    },
    /// Our detectors on the Numenta Anomaly Benchmark, scored by NAB's rules, beside NAB's
    /// published scoreboard.
    Nab(super::bench_nab::Args),
    /// Every detector on the sandbox network with the default alert policy: precision, recall
    /// and time to detect per incident kind.
    Sandbox(super::bench_sandbox::Args),
}

/// Runs the chosen benchmark.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Anomaly(a) => return super::bench_anomaly::run(a),
        Command::Nab(a) => return super::bench_nab::run(a),
        Command::Forecast {
            nyc_taxi,
            cells,
            windows,
        } => {
            let config = ai4ict_energy::BenchConfig {
                nyc_taxi,
                sandbox_cells: cells,
                windows,
                ..ai4ict_energy::BenchConfig::default()
            };
            print!("{}", ai4ict_energy::bench_forecast(&config)?);
        }
        Command::Sandbox(a) => return super::bench_sandbox::run(a),
        Command::Engine {
            cells,
            days,
            workers,
            reps,
        } => {
            if cfg!(debug_assertions) {
                eprintln!("note: this is a debug build; measure with `cargo run --release -- bench engine`");
            }
            eprintln!("bench engine: {cells} cells × {days} days, {reps} repetition(s)");
            let b = bench::engine(cells, days, workers, reps, &mut |step| {
                eprintln!("  {step}");
            })?;
            println!(
                "bench engine: {} rows × {} fields, {} entities, default detector and policy, best of {reps}",
                b.rows, b.fields, b.entities
            );
            println!(
                "  plain loop (same nodes, no dataflow): {:>12.0} rows/s",
                b.loop_rows_per_second
            );
            println!(
                "  engine, {} worker(s):                  {:>12.0} rows/s",
                b.workers, b.engine_rows_per_second
            );
            println!(
                "  engine / loop = {:.3}  (overhead {:+.1} %)",
                b.engine_rows_per_second / b.loop_rows_per_second,
                100.0 * b.overhead()
            );
            println!("  alerts: engine {}, loop {}", b.alerts.0, b.alerts.1);
        }
    }
    Ok(())
}
