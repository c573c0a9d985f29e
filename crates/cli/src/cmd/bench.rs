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
}

/// Runs the chosen benchmark.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Engine { cells, days, workers, reps } => {
            if cfg!(debug_assertions) {
                eprintln!("note: this is a debug build; measure with `cargo run --release -- bench engine`");
            }
            let b = bench::engine(cells, days, workers, reps)?;
            println!(
                "bench engine: {} rows × {} fields, {} entities, default detector and policy, best of {reps}",
                b.rows, b.fields, b.entities
            );
            println!("  plain loop (same nodes, no dataflow): {:>12.0} rows/s", b.loop_rows_per_second);
            println!("  engine, {} worker(s):                  {:>12.0} rows/s", b.workers, b.engine_rows_per_second);
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
