//! `ai4ict serve [INTENT…]`: the hub's API and web console with ML pipelines running
//! continuously (the MLFO as a service, Y.3172 §8.3), started from the command line or over
//! `POST /pipelines`, stopped over `DELETE /pipelines/{name}` or on SIGTERM / Ctrl-C, when
//! every pipeline drains and writes its report before the server stops.

mod pipelines;

use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use ai4ict_server::{Background, Served};
use anyhow::Context;

use super::hub::serve::{init_logging, prepare, ServeArgs};
use super::run::read_intent;
use pipelines::Running;

/// Run ML pipelines continuously beside the hub's API and web console.
///
/// Each intent runs its whole lifecycle (plan, train and evaluate in the sandbox, deploy);
/// the deployed pipeline reads its source until it ends or is stopped. A sandbox or file
/// source is played at --speed seconds of event time per second, so it behaves like a live
/// network; live sources (MQTT, NATS) run at their own pace. Reports go to --runs/<name>/,
/// which the console lists. GET /pipelines shows what runs; POST /pipelines (an intent in
/// YAML) starts one and DELETE /pipelines/{name} stops one, both with the write token; their
/// figures, per pipeline and per node, are in GET /metrics (`ai4ict top` shows them), and GET
/// /pipelines/{name}/tap/{node} samples records passing a node (`ai4ict tap`). SIGTERM or
/// Ctrl-C stops every pipeline, waits for them to drain (at most --drain-timeout) and exits; a
/// second one exits at once.
#[derive(clap::Args)]
pub struct Args {
    /// Intents to start at once (YAML files).
    pub intents: Vec<PathBuf>,
    /// Hub database [default: $AI4ICT_HUB, else ~/.local/share/ai4ict/hub.db].
    #[arg(long)]
    pub db: Option<String>,
    /// Seconds of event time per second of wall-clock time for sandbox and file sources (1:
    /// real time).
    #[arg(long, default_value_t = 60.0)]
    pub speed: f64,
    /// Most pipelines running at once.
    #[arg(long, default_value_t = 8)]
    pub max_pipelines: usize,
    /// Seconds to wait for the pipelines to drain at shutdown.
    #[arg(long, default_value_t = 60)]
    pub drain_timeout: u64,
    /// Do not record finished runs in the hub.
    #[arg(long)]
    pub no_hub: bool,
    #[command(flatten)]
    pub server: ServeArgs,
}

/// Starts the server and the given intents, and serves until SIGTERM or Ctrl-C.
pub fn run(mut args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.speed.is_finite() && args.speed > 0.0,
        "--speed {}: must be a positive number",
        args.speed
    );
    let intents = args
        .intents
        .iter()
        .map(|path| read_intent(path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let runs = args
        .server
        .runs
        .get_or_insert_with(|| PathBuf::from("out"))
        .clone();
    std::fs::create_dir_all(&runs).with_context(|| format!("creating {}", runs.display()))?;
    let mut prepared = prepare(args.db.clone(), &args.server)?;
    let hub = (!args.no_hub).then(|| args.db.clone());
    let running = Arc::new(Running::new(
        runs.clone(),
        args.speed,
        args.max_pipelines,
        hub,
    ));
    prepared.config.pipelines = Some(Served(Arc::clone(&running) as _));
    init_logging();
    let (tx, signals) = mpsc::channel::<()>();
    ctrlc::set_handler(move || {
        if tx.send(()).is_err() {
            std::process::exit(i32::from(crate::exit::INTERRUPTED));
        }
    })
    .context("installing the SIGTERM and Ctrl-C handler")?;
    let server = Background::start(prepared.hubs, prepared.config, prepared.addr)
        .with_context(|| format!("serving on {}", prepared.addr))?;
    let url = server.url();
    eprintln!("ai4ict serving on {url} (SIGTERM or Ctrl-C to stop); web console at {url}/");
    for note in &prepared.notes {
        eprintln!("{note}");
    }
    eprintln!(
        "pipelines: GET {url}/pipelines; reports in {}; sandbox and files played at {}× real time",
        runs.display(),
        args.speed
    );
    for intent in intents {
        let name = intent.name.clone();
        match running.launch(intent) {
            Ok(_) => eprintln!("started pipeline `{name}`"),
            Err(e) => eprintln!("error: pipeline `{name}` not started: {e}"),
        }
    }
    // Wait for the first signal; the handler's second one exits at once.
    let _ = signals.recv();
    drop(signals);
    eprintln!("stopping: every pipeline drains and writes its report…");
    let left = running.stop_all(Duration::from_secs(args.drain_timeout));
    server.stop()?;
    if left.is_empty() {
        eprintln!("stopped");
        Ok(())
    } else {
        anyhow::bail!(
            "{} pipeline(s) did not drain within {} s: {}",
            left.len(),
            args.drain_timeout,
            left.join(", ")
        )
    }
}
