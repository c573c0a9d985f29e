//! `ai4ict run INTENT`: the MLFO lifecycle for one intent, with progress and a report.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use ai4ict_connectors::{SinkConfig, WriteMode};
use ai4ict_engine::marketplace;
use ai4ict_engine::mlfo::{Stage, Status};
use ai4ict_engine::{Cluster, Mlfo, Outcome, RunOptions};
use ai4ict_intent::{MlIntent, SourceConfig};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::{exit, report};

/// Run an ML intent: plan the pipeline, train and evaluate it in the sandbox, deploy it.
#[derive(clap::Args)]
pub struct Args {
    /// The intent file (YAML).
    pub intent: PathBuf,
    #[command(flatten)]
    pub runtime: Runtime,
}

/// How and where the pipeline runs.
#[derive(clap::Args, Clone)]
pub struct Runtime {
    /// Worker threads per process.
    #[arg(short = 'w', long, default_value_t = 1)]
    pub workers: usize,
    /// Number of processes in the cluster (each started with its own --process).
    #[arg(long, default_value_t = 1)]
    pub processes: usize,
    /// This process's index in the cluster.
    #[arg(long, default_value_t = 0)]
    pub process: usize,
    /// File listing `host:port` per process (default: 127.0.0.1 from --base-port up).
    #[arg(long)]
    pub hostfile: Option<PathBuf>,
    /// First port when no hostfile is given.
    #[arg(long, default_value_t = 2101)]
    pub base_port: u16,
    /// Seconds the processes of a cluster wait for each other at start before giving up.
    #[arg(long, default_value_t = 60)]
    pub connect_timeout: u64,
    /// Folder for the reports (default: out/<intent name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Deploy even if the sandbox evaluation misses a target, and replace existing sink and
    /// quarantine files (the intent's `mode: create` refuses them).
    #[arg(long)]
    pub force: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Hub database that records the run as evidence for the intent's use case and its
    /// intelligence level [default: $AI4ICT_HUB, else ~/.local/share/ai4ict/hub.db].
    #[arg(long)]
    pub hub: Option<String>,
    /// Do not record the run in the hub.
    #[arg(long)]
    pub no_hub: bool,
    /// Take the trained model from the hub's marketplace instead of training it (Y.3176
    /// Model_Selection and Model_Pull): an anomaly pipeline's state, or a flow intent's
    /// classifier. `NAME` picks the version with the best F1, `NAME@ALIAS` or
    /// `NAME@VERSION` a given one (e.g. `cell-kpi-anomaly@production`).
    #[arg(long, value_name = "NAME[@VERSION]")]
    pub model_from_hub: Option<String>,
    /// Checkpoint the deployed pipeline into DIR (every entity's state and the source's
    /// position, written atomically) and resume from its latest checkpoint. The source must
    /// be able to resume (NATS JetStream): its messages are acknowledged once a checkpoint
    /// covers them, so after a crash nothing is lost and at most one interval is scored again.
    #[arg(long, value_name = "DIR")]
    pub checkpoint: Option<PathBuf>,
    /// Time between checkpoints, e.g. `500ms`, `10s`.
    #[arg(
        long,
        value_name = "INTERVAL",
        default_value = "5s",
        requires = "checkpoint"
    )]
    pub checkpoint_every: ai4ict_core::Interval,
}

/// Parses and runs the intent file.
pub fn run(args: Args) -> anyhow::Result<()> {
    let intent = read_intent(&args.intent)?;
    run_intent(intent, &args.runtime)
}

/// Reads and validates an intent file; its problems are printed one per line as
/// `FILE:LINE:COLUMN: …` before the error.
pub(crate) fn read_intent(path: &Path) -> anyhow::Result<MlIntent> {
    super::files::regular_file(path)?;
    match MlIntent::from_file(path) {
        Ok(i) => Ok(i),
        Err(e) if e.problems().is_empty() => Err(e.into()),
        Err(e) => {
            for p in e.problems() {
                eprintln!("{}:{p}", path.display());
            }
            anyhow::bail!("{} is not a valid intent", path.display())
        }
    }
}

/// Runs a parsed intent and writes its reports.
pub fn run_intent(mut intent: MlIntent, rt: &Runtime) -> anyhow::Result<()> {
    let (mut trained, mut classifier) = (None, None);
    if let Some(spec) = &rt.model_from_hub {
        let mut hub = super::hub::open_read_only(rt.hub.clone())?;
        let model = marketplace::select(&mut hub, spec, &intent)?;
        outln!("{model}");
        match model.artefact {
            marketplace::Artefact::Pipeline(state) => {
                intent.model = ai4ict_intent::ModelConfig::Anomaly(state.detector.clone());
                trained = Some(Arc::new(state));
            }
            marketplace::Artefact::Classifier(c) => classifier = Some(Arc::new(c)),
        }
    }
    let cluster = Cluster {
        workers: rt.workers,
        processes: rt.processes,
        process: rt.process,
        hostfile: rt.hostfile.clone(),
        base_port: rt.base_port,
        connect_timeout: std::time::Duration::from_secs(rt.connect_timeout),
    };
    let leader = cluster.process == 0;
    if rt.force {
        overwrite_outputs(&mut intent);
    }
    let dir = rt
        .out
        .clone()
        .unwrap_or_else(|| Path::new("out").join(&intent.name));
    link_report(&mut intent, &dir);
    check_outputs(&intent)?;
    if rt.checkpoint.is_some() && !intent.source.component().resumable() {
        return Err(ai4ict_engine::EngineError::from(
            ai4ict_engine::checkpoint::CheckpointError::NotResumable(
                intent.source.component().target(),
            ),
        )
        .into());
    }
    let options = RunOptions {
        cluster,
        force: rt.force,
        model: trained,
        classifier,
        checkpoint: rt.checkpoint.clone().map(|d| {
            let every = rt.checkpoint_every.millis().max(0) as u64;
            (d, Duration::from_millis(every))
        }),
        ..RunOptions::default()
    };
    let stop = Arc::clone(&options.progress);
    // Ctrl-C or SIGTERM stops the sources; the pipeline drains and the partial report is
    // written. A second one ends the process at once.
    let _ = ctrlc::set_handler(move || {
        if stop.stop.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(exit::INTERRUPTED));
        }
    });
    let mlfo = Mlfo::new(intent.clone(), options.clone());
    let plan = mlfo.plan()?;
    if leader {
        outln!(
            "ML intent `{}` ({}) — pipeline planned by the MLFO (Y.3172):",
            intent.name,
            intent.use_case.as_str()
        );
        out!("{plan}");
    }
    let bar = (!rt.quiet && leader).then(|| progress_bar(&options));
    let outcome = mlfo.run();
    if let Some((bar, handle)) = bar {
        bar.finish_and_clear();
        let _ = handle.join();
    }
    // Interrupted before there was anything to report (e.g. while waiting for the other
    // processes): the error says where, the exit says interrupted.
    let outcome = match outcome {
        Err(e) if options.progress.stop.load(Ordering::SeqCst) => {
            eprintln!("error: {e}\ninterrupted before the run had anything to report: no report written, nothing published");
            std::process::exit(i32::from(exit::INTERRUPTED));
        }
        outcome => outcome?,
    };
    // Anything stopped early is partial: reported, never published nor taken as evidence.
    let stopped = options.progress.stop.load(Ordering::SeqCst)
        || outcome.stages.iter().any(|s| s.status == Status::Stopped);
    if !leader {
        outln!(
            "process {} finished; the report is written by process 0",
            rt.process
        );
        return verdict(&outcome, stopped);
    }
    out!("{}", report::text(&outcome));
    let files = report::write(&outcome, &intent, &dir)
        .with_context(|| format!("writing reports to {}", dir.display()))?;
    for f in files {
        outln!("report: {}", f.display());
    }
    if !rt.no_hub && !stopped {
        match record_in_hub(&outcome, &intent, rt.hub.clone(), &dir) {
            Ok(Some(note)) => outln!("{note}"),
            Ok(None) => {}
            Err(e) => eprintln!("warning: the run was not recorded in the hub: {e:#}"),
        }
    }
    verdict(&outcome, stopped)
}

/// The exit of a finished run: interrupted (130), a failed stage other than the evaluation
/// or a cluster that failed in any stage (1), targets missed (3), or success.
fn verdict(outcome: &Outcome, stopped: bool) -> anyhow::Result<()> {
    if stopped {
        return Err(exit::Verdict::Interrupted.into());
    }
    let mut failed = outcome.stages.iter().filter(|s| s.status == Status::Failed);
    // A failed deployment (or any stage but the evaluation, or the evaluation when the cluster
    // lost a process under it) is an error, before missed targets.
    if let Some(f) = failed
        .clone()
        .find(|s| s.stage != Stage::Evaluate || outcome.cluster_failed)
    {
        anyhow::bail!("the {:?} stage failed: {}", f.stage, f.detail);
    }
    if let Some(f) = failed.find(|s| s.stage == Stage::Evaluate) {
        return Err(exit::Verdict::TargetsMissed(f.detail.clone()).into());
    }
    Ok(())
}

/// `--force`: every file sink and quarantine file left at `mode: create` is replaced.
fn overwrite_outputs(intent: &mut MlIntent) {
    for d in &mut intent.distribute {
        if let SinkConfig::File(f) = d {
            if f.mode == WriteMode::Create {
                f.mode = WriteMode::Overwrite;
            }
        }
    }
    if let SourceConfig::File(f) = &mut intent.source {
        if f.quarantine_mode == WriteMode::Create {
            f.quarantine_mode = WriteMode::Overwrite;
        }
    }
}

/// Alertmanager sinks without a `report_url` link their alerts to this run's HTML report.
pub(crate) fn link_report(intent: &mut MlIntent, dir: &Path) {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    for d in &mut intent.distribute {
        if let SinkConfig::Alertmanager(a) = d {
            if a.report_url.is_none() {
                a.report_url = Some(format!("file://{}", dir.join("report.html").display()));
            }
        }
    }
}

/// Refuses, before any work, output files that exist and may not be overwritten.
pub(crate) fn check_outputs(intent: &MlIntent) -> anyhow::Result<()> {
    for d in &intent.distribute {
        d.check()?;
    }
    if let SourceConfig::File(f) = &intent.source {
        f.check_quarantine()?;
    }
    Ok(())
}

fn progress_bar(options: &RunOptions) -> (ProgressBar, std::thread::JoinHandle<()>) {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let (b, progress, phase) = (
        bar.clone(),
        Arc::clone(&options.progress),
        Arc::clone(&options.phase),
    );
    let handle = std::thread::spawn(move || {
        let mut last = (std::time::Instant::now(), 0u64);
        let mut rate = 0.0;
        while !b.is_finished() {
            std::thread::sleep(Duration::from_millis(200));
            let rows = progress.rows.load(Ordering::Relaxed);
            let dt = last.0.elapsed().as_secs_f64();
            if rows >= last.1 && dt > 0.0 {
                rate = 0.5 * rate + 0.5 * (rows - last.1) as f64 / dt;
            }
            last = (std::time::Instant::now(), rows);
            let t = ai4ict_core::Timestamp(progress.event_time.load(Ordering::Relaxed));
            let phase = phase.lock().map(|p| p.clone()).unwrap_or_default();
            b.set_message(format!(
                "{phase}: {rows} records, {:.0} records/s, event time {t}",
                rate
            ));
            b.tick();
        }
    });
    (bar, handle)
}

/// Records the run in the hub (its level, its use case's evidence, its published model).
pub(crate) fn record_in_hub(
    outcome: &Outcome,
    intent: &MlIntent,
    db: Option<String>,
    dir: &Path,
) -> anyhow::Result<Option<String>> {
    let mut hub = super::hub::open(db)?;
    Ok(marketplace::record_run(&mut hub, outcome, intent, dir)?)
}
