//! `ai4ict bench engine`: the whole chain of the shipped anomaly intent — PP, M, P, D and a
//! JSON-lines file SINK — on the timely dataflow, against a plain loop that runs the same
//! nodes and the same sink on the same rows in the same process. The ratio is the engine's
//! overhead; the two must raise the same alerts in the same order, or the bench fails.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use ai4ict_connectors::{AlertSink, FileSinkConfig, SinkConfig};
use ai4ict_core::{Alert, Batch};
use ai4ict_engine::dataflow::{self, PipelineSpec, Progress};
use ai4ict_engine::feeds::MemoryFeed;
use ai4ict_engine::nodes::{ModelNode, PolicyNode, Preprocessor, Scored};
use ai4ict_engine::{Cluster, Span};
use ai4ict_intent::{MlIntent, ModelConfig, Origin, PolicyConfig};
use ai4ict_sandbox::{Network, ScenarioConfig, KPIS};
use anyhow::{bail, Context};

const INTENT: &str = include_str!("../../../../intents/cell-kpi-anomaly.yaml");

/// Options of `bench engine`.
#[derive(clap::Args)]
pub struct Args {
    /// Sandbox cells.
    #[arg(long, default_value_t = 2000)]
    cells: u32,
    /// Days of 15-minute data.
    #[arg(long, default_value_t = 7)]
    days: u32,
    /// Engine worker threads.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Repetitions (the best of each side is reported).
    #[arg(long, default_value_t = 3)]
    reps: usize,
}

/// Runs the benchmark and prints rows/s and KPI values/s of both sides and their ratio.
pub fn run(args: Args) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "note: this is a debug build; measure with `cargo run --release -- bench engine`"
        );
    }
    let intent = MlIntent::parse(INTENT, "intents/cell-kpi-anomaly.yaml", Origin::Local)?;
    let (ModelConfig::Anomaly(detector), PolicyConfig::Alert(policy)) =
        (&intent.model, &intent.policy)
    else {
        bail!("the shipped anomaly intent has no anomaly model and alert policy");
    };
    let scenario = ScenarioConfig {
        cells: args.cells,
        days: args.days,
        ..ScenarioConfig::default()
    };
    let net = Network::new(&scenario)?;
    let fields = intent.collect.fields.clone();
    let idx: Vec<usize> = fields
        .iter()
        .map(|f| KPIS.iter().position(|k| k == f))
        .collect::<Option<_>>()
        .context("the shipped intent names a field the sandbox does not simulate")?;
    eprintln!(
        "bench engine: generating {} cells × {} days of sandbox KPIs…",
        args.cells, args.days
    );
    // The source is generated before either side is timed: both measure PP → SINK.
    let batches: Vec<Batch> = (0..net.steps())
        .map(|s| net.batch(s, 0..net.cells().len(), &idx))
        .collect();
    let rows: u64 = batches.iter().map(|b| b.len() as u64).sum();
    let spec = PipelineSpec {
        fields: fields.clone(),
        interval: net.interval(),
        preprocess: intent.preprocess.clone(),
        detector: detector.clone(),
        policy: policy.clone(),
        trace: Vec::new(),
        span: Span::default(),
        checkpoint: None,
    };
    let cluster = Cluster {
        workers: args.workers,
        ..Cluster::default()
    };
    let dir = tempfile::tempdir()?;
    let (mut best_engine, mut best_loop) = (0.0f64, 0.0f64);
    let (mut engine_alerts, mut loop_alerts) = (Vec::new(), Vec::new());
    for rep in 0..args.reps.max(1) {
        let copy = batches.clone();
        let sink = sink_config(dir.path(), "loop", rep);
        let t = Instant::now();
        loop_alerts = plain_loop(copy, &spec, sink.build()?)?;
        best_loop = best_loop.max(rows as f64 / t.elapsed().as_secs_f64());
        eprintln!("  rep {}: plain loop done", rep + 1);

        let copy = batches.clone();
        let sink = sink_config(dir.path(), "engine", rep);
        let t = Instant::now();
        let out = dataflow::run(
            spec.clone(),
            &cluster,
            MemoryFeed::factory(copy),
            Arc::new(move || Ok(vec![sink.build().map_err(to_engine)?])),
            Arc::new(Progress::default()),
        )?;
        best_engine = best_engine.max(rows as f64 / t.elapsed().as_secs_f64());
        if !out.errors.is_empty() {
            bail!("the engine reported errors: {}", out.errors.join("; "));
        }
        engine_alerts = out.alerts;
        eprintln!("  rep {}: engine done", rep + 1);
    }
    let width = fields.len() as f64;
    outln!(
        "bench engine: {rows} rows × {} fields, {} entities, the shipped intent's chain \
         (PP {}, M {}, P, D, JSON-lines file sink), best of {}",
        fields.len(),
        net.cells().len(),
        intent
            .preprocess
            .iter()
            .map(|s| serde_json::to_string(s).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(" → "),
        detector.detector.name(),
        args.reps.max(1)
    );
    outln!(
        "  plain loop (same nodes and sink, no dataflow): {:>11.0} rows/s  {:>12.0} KPI values/s",
        best_loop,
        best_loop * width
    );
    outln!(
        "  engine, {} worker(s):                           {:>11.0} rows/s  {:>12.0} KPI values/s",
        args.workers,
        best_engine,
        best_engine * width
    );
    outln!(
        "  engine / loop = {:.3}  (overhead {:+.1} %)",
        best_engine / best_loop,
        100.0 * (best_loop / best_engine - 1.0)
    );
    if engine_alerts != loop_alerts {
        bail!(
            "the engine and the plain loop disagree: {} vs {} alerts",
            engine_alerts.len(),
            loop_alerts.len()
        );
    }
    outln!(
        "  alerts: {} from each, identical in content and order",
        engine_alerts.len()
    );
    Ok(())
}

fn sink_config(dir: &Path, side: &str, rep: usize) -> SinkConfig {
    SinkConfig::File(FileSinkConfig {
        path: dir.join(format!("{side}-{rep}.jsonl")),
        format: None,
        mode: Default::default(),
    })
}

fn to_engine(e: ai4ict_connectors::ConnectorError) -> ai4ict_engine::EngineError {
    ai4ict_engine::EngineError::Output(e.to_string())
}

/// PP → M → P → D → SINK called directly, batch after batch; alerts of a batch ordered as the
/// engine's distributor orders a round's (time, then entity).
fn plain_loop(
    batches: Vec<Batch>,
    spec: &PipelineSpec,
    mut sink: Box<dyn AlertSink>,
) -> anyhow::Result<Vec<Alert>> {
    let interval = spec.interval;
    let mut pre = Preprocessor::new(&spec.preprocess, &spec.fields, interval);
    let mut model = ModelNode::new(&spec.detector, spec.fields.len(), interval)?;
    let mut policy = PolicyNode::new(&spec.policy, &spec.fields, interval);
    let (mut buf, mut scored) = (Batch::new(spec.fields.len()), Scored::default());
    let (mut alerts, mut all) = (Vec::new(), Vec::new());
    let mut step = |batch: Batch, alerts: &mut Vec<Alert>| -> anyhow::Result<()> {
        model.process(batch, &mut scored);
        policy.process(&scored, alerts);
        alerts.sort_by(|a, b| (a.time, a.entity.name()).cmp(&(b.time, b.entity.name())));
        sink.write(alerts)?;
        all.append(alerts);
        Ok(())
    };
    for b in batches {
        if pre.is_identity() {
            step(b, &mut alerts)?;
        } else {
            pre.process(&b, &mut buf);
            step(std::mem::take(&mut buf), &mut alerts)?;
        }
    }
    pre.flush(&mut buf);
    step(buf, &mut alerts)?;
    sink.finish()?;
    Ok(all)
}
