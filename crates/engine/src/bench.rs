//! `ai4ict bench engine`: rows per second through SRC → C → PP → M → P → D → SINK on the
//! dataflow, against a plain loop that runs the same node code on the same rows in the same
//! process. The ratio is the engine's overhead.

use std::sync::Arc;
use std::time::Instant;

use ai4ict_core::Batch;
use ai4ict_intent::AlertPolicy;
use ai4ict_sandbox::{Network, ScenarioConfig, KPIS};
use serde::Serialize;

use crate::dataflow::{self, PipelineSpec, Progress};
use crate::feeds::MemoryFeed;
use crate::nodes::{ModelNode, PolicyNode, Scored};
use crate::{Cluster, EngineError};

/// What `bench engine` measured.
#[derive(Clone, Debug, Serialize)]
pub struct EngineBench {
    /// Rows per run.
    pub rows: u64,
    /// Fields per row.
    pub fields: usize,
    /// Entities.
    pub entities: usize,
    /// Worker threads the engine used.
    pub workers: usize,
    /// Engine rows per second (best of the repetitions).
    pub engine_rows_per_second: f64,
    /// Plain-loop rows per second (best of the repetitions).
    pub loop_rows_per_second: f64,
    /// Alerts raised by each (they must agree).
    pub alerts: (usize, usize),
}

impl EngineBench {
    /// Engine time over loop time minus one: the share of time the engine adds (0.1 = 10 %).
    pub fn overhead(&self) -> f64 {
        self.loop_rows_per_second / self.engine_rows_per_second - 1.0
    }
}

/// Runs the benchmark on `cells` sandbox cells over `days`, `reps` times each, with the
/// default detector and policy of an intent. `on_step` is told of each finished step (the
/// network generated, each repetition of the loop and of the engine) as a line of text.
pub fn engine(
    cells: u32,
    days: u32,
    workers: usize,
    reps: usize,
    on_step: &mut dyn FnMut(&str),
) -> Result<EngineBench, EngineError> {
    let began = Instant::now();
    let scenario = ScenarioConfig {
        cells,
        days,
        ..ScenarioConfig::default()
    };
    let net = Network::new(&scenario).map_err(|e| EngineError::Plan(e.to_string()))?;
    let fields: Vec<String> = KPIS.iter().map(|s| s.to_string()).collect();
    let idx: Vec<usize> = (0..fields.len()).collect();
    let batches: Vec<Batch> = (0..net.steps())
        .map(|s| net.batch(s, 0..net.cells().len(), &idx))
        .collect();
    let rows: u64 = batches.iter().map(|b| b.len() as u64).sum();
    on_step(&format!(
        "sandbox network: {rows} rows generated in {:.1} s",
        began.elapsed().as_secs_f64()
    ));
    // The defaults an intent gets when it names neither model nor policy.
    let detector = ai4ict_anomaly::DetectorConfig::default();
    let policy = AlertPolicy::default();
    let interval = net.interval();
    let spec = PipelineSpec {
        fields: fields.clone(),
        interval,
        preprocess: Vec::new(),
        detector: detector.clone(),
        policy: policy.clone(),
        trace: Vec::new(),
    };
    let cluster = Cluster {
        workers,
        ..Cluster::default()
    };
    let (mut best_engine, mut best_loop) = (0.0f64, 0.0f64);
    let (mut engine_alerts, mut loop_alerts) = (0, 0);
    let reps = reps.max(1);
    for rep in 1..=reps {
        // Baseline: the same nodes, called directly.
        let copy = batches.clone();
        let t = Instant::now();
        let alerts = plain_loop(copy, &detector, &policy, &fields, interval)?;
        let rate = rows as f64 / t.elapsed().as_secs_f64();
        on_step(&format!(
            "repetition {rep}/{reps}: plain loop {rate:.0} rows/s"
        ));
        best_loop = best_loop.max(rate);
        loop_alerts = alerts;

        let copy = batches.clone();
        let t = Instant::now();
        let out = dataflow::run(
            spec.clone(),
            &cluster,
            MemoryFeed::factory(copy),
            Arc::new(|| Ok(Vec::new())),
            Arc::new(Progress::default()),
        )?;
        let rate = rows as f64 / t.elapsed().as_secs_f64();
        on_step(&format!("repetition {rep}/{reps}: engine {rate:.0} rows/s"));
        best_engine = best_engine.max(rate);
        engine_alerts = out.alerts.len();
    }
    Ok(EngineBench {
        rows,
        fields: fields.len(),
        entities: net.cells().len(),
        workers,
        engine_rows_per_second: best_engine,
        loop_rows_per_second: best_loop,
        alerts: (engine_alerts, loop_alerts),
    })
}

fn plain_loop(
    batches: Vec<Batch>,
    detector: &ai4ict_anomaly::DetectorConfig,
    policy: &AlertPolicy,
    fields: &[String],
    interval: ai4ict_core::Interval,
) -> Result<usize, EngineError> {
    let mut model = ModelNode::new(detector, fields.len(), interval)?;
    let mut policy = PolicyNode::new(policy, fields, interval);
    let mut scored = Scored::default();
    let mut alerts = Vec::new();
    for b in batches {
        model.process(b, &mut scored);
        policy.process(&scored, &mut alerts);
    }
    Ok(alerts.len())
}
