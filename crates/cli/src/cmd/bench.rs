//! `ai4ict bench …`: speed and accuracy, each against a baseline measured in the same run.

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
    /// Flow classification (traffic classes, attacks): our gradient-boosted trees and random
    /// forest on a stratified split of a labelled CSV, per-class P/R/F1, confusion matrix and
    /// feature importance, beside LightGBM and scikit-learn's HistGradientBoosting on the same
    /// split when `--python` (or `AI4ICT_PEER_PYTHON`) names a Python with them.
    Classify(super::bench_classify::Args),
    /// The NetFlow / IPFIX collector on loopback: an exporter thread offers `--rate` flows/s;
    /// fails when the collector's count differs from the exporter's or the sequence numbers
    /// were not contiguous.
    Collector(super::bench_collector::Args),
    /// Flows per second on one core through the flow pipeline's nodes (features, classifier,
    /// class alerts, behaviour watch) on the sandbox's flows, with each stage's share of the
    /// time, beside the model alone and the row-by-row reference; fails when the classes
    /// differ from the reference's.
    Flows(super::bench_flows::Args),
    /// KPI values per second from a NATS JetStream stream through the shipped anomaly
    /// intent's chain, with one process and with a cluster (`--processes`), and their ratio
    /// (built with `--features nats`).
    #[cfg(feature = "nats")]
    Bus(super::bench_bus::Args),
    /// Rows and KPI values per second through the shipped anomaly intent's whole chain (PP, M,
    /// P, D, file sink) on the dataflow engine vs a plain loop running the same nodes and sink;
    /// fails when their alerts differ.
    Engine(super::bench_engine::Args),
    /// The HTTP push source under `--factor` (2) times the load its pipeline sustains: answers
    /// (202 / 503), peak memory, and a check that every row of every accepted request was
    /// scored.
    Ingest(super::bench_ingest::Args),
    /// Unknown attacks in the sandbox's flows: per-host window features scored by the
    /// behaviour model (no labels), precision, recall and time to detect per attack, beside
    /// an anomaly-crate detector on the same windows.
    Intrusion(super::bench_intrusion::Args),
    /// Forecast accuracy (MASE, sMAPE, RMSE, interval coverage, MSIS) and fit time by
    /// rolling-origin backtest on NAB's nyc_taxi and sandbox traffic, beside statsforecast's
    /// AutoETS and MSTL measured in the same run when `scripts/peer-venv-forecast.sh` has made
    /// their environment.
    Forecast {
        /// A `time,value…` CSV: NAB's nyc_taxi.csv by default. Its season is found from the
        /// data (a day or a week of its interval, else the autocorrelation peak).
        #[arg(
            long,
            default_value = "../shared/data/nab/data/realKnownCause/nyc_taxi.csv"
        )]
        nyc_taxi: std::path::PathBuf,
        /// The column of that file to forecast; by default `value`, else its only other
        /// column (a file with several must name one).
        #[arg(long)]
        field: Option<String>,
        /// Sandbox cells whose traffic is forecast.
        #[arg(long, default_value_t = 4)]
        cells: u32,
        /// Rolling-origin windows per series.
        #[arg(long, default_value_t = 2)]
        windows: usize,
    },
    /// Each detector's false-alarm rate on quiet streams of several shapes at scores 0.5, 0.7
    /// and 0.9, beside the rate the calibrated score promises.
    FalseAlarms(super::bench_false_alarms::Args),
    /// Our detectors on the Numenta Anomaly Benchmark, scored by NAB's rules, beside NAB's
    /// published scoreboard.
    Nab(super::bench_nab::Args),
    /// The hub server against hostile clients: `/health` while 2,000 half-open connections
    /// are held, the largest push it takes and a 1 GiB one, with the server's peak memory.
    Serve(super::bench_serve::Args),
    /// Every detector on the sandbox network with the default alert policy: precision, recall
    /// and time to detect per incident kind.
    Sandbox(super::bench_sandbox::Args),
}

/// Runs the chosen benchmark.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Anomaly(a) => return super::bench_anomaly::run(a),
        Command::Classify(a) => return super::bench_classify::run(a),
        Command::Collector(a) => return super::bench_collector::run(a),
        Command::Flows(a) => return super::bench_flows::run(a),
        Command::Nab(a) => return super::bench_nab::run(a),
        Command::Forecast {
            nyc_taxi,
            field,
            cells,
            windows,
        } => {
            let config = super::bench_forecast::BenchConfig {
                nyc_taxi,
                field,
                sandbox_cells: cells,
                windows,
                ..super::bench_forecast::BenchConfig::default()
            };
            out!("{}", super::bench_forecast::bench_forecast(&config)?);
        }
        Command::Sandbox(a) => return super::bench_sandbox::run(a),
        Command::Engine(a) => return super::bench_engine::run(a),
        #[cfg(feature = "nats")]
        Command::Bus(a) => return super::bench_bus::run(a),
        Command::Ingest(a) => return super::bench_ingest::run(a),
        Command::Intrusion(a) => return super::bench_intrusion::run(a),
        Command::Serve(a) => return super::bench_serve::run(a),
        Command::FalseAlarms(a) => return super::bench_false_alarms::run(a),
    }
    Ok(())
}

/// A memory line of a process's `/proc/PID/status` (`pid` "self" for this one), e.g.
/// `VmRSS` or `VmHWM`, in MiB; `None` where there is no such file (not Linux).
pub(super) fn proc_memory_mib(pid: &str, key: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// An address on 127.0.0.1 with a port no one listens on now.
pub(super) fn free_loopback() -> anyhow::Result<std::net::SocketAddr> {
    use anyhow::Context as _;
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .context("no free port on 127.0.0.1")
}
