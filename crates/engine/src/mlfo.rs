//! The ML function orchestrator (ITU-T Y.3172 §8.1 item 2, §8.3): turns an ML intent into a
//! pipeline, trains and evaluates it in the sandbox against the intent's targets, and deploys
//! it on the intent's source only when the targets are met.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use ai4ict_connectors::AlertSink;
use ai4ict_core::{Entity, Incident, Interval, SourceFactory, Timestamp};
use ai4ict_eval::{event_metrics, EventMetrics};
use ai4ict_intent::{EvaluateMode, MlIntent, ModelConfig, PolicyConfig, SourceConfig};
use ai4ict_sandbox::{Network, SandboxSource, ScenarioConfig, KPIS};
use serde::Serialize;

use crate::checkpoint::{self, CheckpointError, CheckpointSpec};
use crate::dataflow::{self, PipelineSpec, Progress, RunOutput, SinkFactory};
use crate::state::{PipelineState, Span};
use crate::{Cluster, EngineError};

mod labelled;
pub use labelled::LabelledEvaluation;

/// Roles of the logical nodes of an ML pipeline (Y.3172 §8.1 item 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum NodeRole {
    /// Source of data.
    Src,
    /// Collector.
    C,
    /// Preprocessor.
    Pp,
    /// Model.
    M,
    /// Policy.
    P,
    /// Distributor.
    D,
    /// Target of the output.
    Sink,
}

impl NodeRole {
    /// The clause of Y.3172 that defines the role (§8.1 item 1 and its notes).
    pub fn clause(self) -> &'static str {
        match self {
            Self::Src => "Y.3172 §8.1 NOTE 2",
            Self::C => "Y.3172 §8.1 NOTE 3",
            Self::Pp => "Y.3172 §8.1 item 1",
            Self::M => "Y.3172 §8.1 NOTE 4",
            Self::P => "Y.3172 §8.1 NOTE 5",
            Self::D => "Y.3172 §8.1 NOTE 6",
            Self::Sink => "Y.3172 §8.1 NOTE 7",
        }
    }
}

/// One node of the planned pipeline.
#[derive(Clone, Debug, Serialize)]
pub struct PlannedNode {
    /// Its role.
    pub role: NodeRole,
    /// What it does, in words.
    pub description: String,
    /// The clause that defines its role.
    pub clause: &'static str,
    /// Why the runtime does not apply this node, when it does not (a closed loop's
    /// preprocessing, which its network's complete reports do not need, and its sinks: its
    /// results go to the run's report).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_applied: Option<&'static str>,
}

/// The pipeline the MLFO built from an intent (Y.3172 §8.3 chaining).
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// Fields in row order.
    pub fields: Vec<String>,
    /// Collect interval.
    #[serde(serialize_with = "as_string")]
    pub interval: Interval,
    /// The chain SRC → … → SINK.
    pub nodes: Vec<PlannedNode>,
}

fn as_string<S: serde::Serializer>(i: &Interval, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&i.to_string())
}

impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, n) in self.nodes.iter().enumerate() {
            let arrow = if i == 0 { "  " } else { "→ " };
            write!(
                f,
                "{arrow}{:<4} {}  [{}]",
                format!("{:?}", n.role).to_uppercase(),
                n.description,
                n.clause
            )?;
            match n.not_applied {
                Some(why) => writeln!(f, " — not applied: {why}")?,
                None => writeln!(f)?,
            }
        }
        Ok(())
    }
}

/// Lifecycle stages of a model under the MLFO (Y.3172 §8.3; TS 28.105 §4a.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The intent parsed and passed its checks.
    Validate,
    /// The pipeline was chained from the intent.
    Plan,
    /// The model warmed up on sandbox history.
    Train,
    /// The pipeline was checked against the intent's targets in the sandbox.
    Evaluate,
    /// The pipeline ran on the intent's source and delivered to its sinks.
    Deploy,
}

/// How a stage ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Done, and any check passed.
    Passed,
    /// Done, and a check failed.
    Failed,
    /// Not done; the detail says why.
    Skipped,
    /// Stopped by the operator before the end.
    Stopped,
}

/// The record of one lifecycle stage.
#[derive(Clone, Debug, Serialize)]
pub struct StageRecord {
    /// The stage.
    pub stage: Stage,
    /// Its outcome.
    pub status: Status,
    /// What happened, in words.
    pub detail: String,
    /// Wall-clock seconds it took.
    pub seconds: f64,
}

impl StageRecord {
    /// The record of `stage`.
    pub(crate) fn new(stage: Stage, status: Status, detail: String, seconds: f64) -> Self {
        Self {
            stage,
            status,
            detail,
            seconds,
        }
    }
}

/// One target of the intent and what was measured.
#[derive(Clone, Debug, Serialize)]
pub struct TargetCheck {
    /// `precision`, `recall`, `p99_latency_ms` or `mttd_minutes`.
    pub name: String,
    /// The target.
    pub target: f64,
    /// The measurement.
    pub measured: f64,
    /// Whether the measurement meets the target.
    pub passed: bool,
}

impl TargetCheck {
    /// The check of `measured` against an optional `target` (none when there is no target).
    pub(crate) fn new(
        name: &str,
        target: Option<f64>,
        measured: f64,
        higher_better: bool,
    ) -> Option<Self> {
        let target = target?;
        let passed = if higher_better {
            measured >= target
        } else {
            measured <= target
        };
        Some(Self {
            name: name.into(),
            target,
            measured,
            passed,
        })
    }
}

/// Runtime figures of one pipeline run.
#[derive(Clone, Debug, Serialize)]
pub struct RunStats {
    /// Rows the model scored.
    pub rows: u64,
    /// Entities seen.
    pub entities: u64,
    /// Alerts raised.
    pub alerts: usize,
    /// Rows per second of wall-clock time.
    pub rows_per_second: f64,
    /// Median batch latency, ms.
    pub latency_p50_ms: f64,
    /// 99th-percentile batch latency, ms.
    pub latency_p99_ms: f64,
    /// Rows PP dropped as late or duplicate.
    pub late: u64,
    /// Rows PP filled in.
    pub filled: u64,
    /// Alerts the policy withheld.
    pub suppressed: u64,
    /// Detector state per entity, bytes.
    pub state_bytes_per_entity: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Errors from sources and sinks.
    pub errors: Vec<String>,
}

/// The sandbox evaluation (Y.3181 §8.2.1.2): metrics against ground truth, on the period after
/// the warm-up, which the model never scored while learning its baseline.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    /// The simulated network.
    pub scenario: ScenarioConfig,
    /// Start of the scored period (end of warm-up).
    pub scored_from: Timestamp,
    /// Event-level metrics.
    pub metrics: EventMetrics,
    /// Checks against the intent's targets.
    pub targets: Vec<TargetCheck>,
    /// Runtime figures.
    pub stats: RunStats,
}

impl Evaluation {
    /// True when every target is met.
    pub fn passed(&self) -> bool {
        self.targets.iter().all(|t| t.passed)
    }
}

/// Everything one MLFO run produced.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// The intent's name.
    pub intent: String,
    /// The intent's use case.
    pub use_case: String,
    /// The chained pipeline.
    pub plan: Plan,
    /// Lifecycle stages, in order.
    pub stages: Vec<StageRecord>,
    /// Sandbox evaluation, when one ran.
    pub evaluation: Option<Evaluation>,
    /// Evaluation on the labels of a file source, when the intent gives them.
    pub labelled: Option<LabelledEvaluation>,
    /// What the `auto` detector chose, with the number of entities per choice, as the trained
    /// (or, on labels, the evaluated) state holds it; empty for other detectors.
    pub auto_choices: std::collections::BTreeMap<String, usize>,
    /// Deployment run figures, when it ran.
    pub deployment: Option<RunStats>,
    /// Ground truth of the evaluation (for reports).
    #[serde(skip)]
    pub incidents: Vec<Incident>,
    /// Alerts of the evaluation run (for reports).
    #[serde(skip)]
    pub eval_alerts: Vec<ai4ict_core::Alert>,
    /// Traced entities of the evaluation run (for plots).
    #[serde(skip)]
    pub traces: std::collections::BTreeMap<Entity, Vec<dataflow::TracePoint>>,
    /// The alert policy's score threshold, drawn on plots.
    #[serde(skip)]
    pub alert_threshold: Option<f64>,
    /// Closed-loop evaluation (energy saving, SLA-breach prediction), when the intent has one.
    pub closed_loop: Option<ClosedLoop>,
    /// The trained model (Y.3176 artefact): the pipeline's state at the end of training, which
    /// evaluation and deployment resumed from.
    #[serde(skip)]
    pub trained: Option<Arc<PipelineState>>,
    /// Forecasts of a file's series and their backtest, for a forecast policy.
    pub forecast: Option<crate::forecast_run::ForecastEvaluation>,
    /// The flow classifier's held-out evaluation and deployment, for a flow intent.
    pub flows: Option<crate::flow_run::FlowEvaluation>,
    /// The run ended because its cluster failed (a process lost, or one that never came): the
    /// stage it failed is an error, even the evaluation, never a target missed.
    #[serde(skip)]
    pub cluster_failed: bool,
}

/// A closed-loop evaluation in the sandbox: the policy's actions are applied to the simulated
/// network and scored against baselines (Y.3181 §8.2; 3GPP TS 38.300 §16.20 for energy saving).
#[derive(Clone, Debug, Serialize)]
pub struct ClosedLoop {
    /// The scenario.
    pub scenario: ScenarioConfig,
    /// Energy saving results against always-on, reactive and oracle baselines.
    pub energy: Option<ai4ict_energy::EnergyReport>,
    /// SLA-breach prediction scores, per SLA.
    pub sla: Vec<ai4ict_energy::SlaScores>,
    /// Checks against the intent's targets.
    pub targets: Vec<TargetCheck>,
    /// Reports (one per cell and interval) the loop read from the network.
    pub records: u64,
    /// Seconds the loop ran.
    pub seconds: f64,
}

impl ClosedLoop {
    /// True when every target is met.
    pub fn passed(&self) -> bool {
        self.targets.iter().all(|t| t.passed)
    }
}

/// The outcome of a run whose cluster failed (a process lost, or one that never came): the
/// stage under way is `failed` with the reason, so the report covers what ran before it. Any
/// other error is returned as it is.
fn cluster_failed(mut outcome: Outcome, e: EngineError) -> Result<Outcome, EngineError> {
    let EngineError::Cluster(why) = e else {
        return Err(e);
    };
    let stage = match outcome.stages.last().map(|s| s.stage) {
        None | Some(Stage::Validate | Stage::Plan) => Stage::Train,
        Some(Stage::Train) => Stage::Evaluate,
        Some(Stage::Evaluate | Stage::Deploy) => Stage::Deploy,
    };
    outcome.stages.push(StageRecord {
        stage,
        status: Status::Failed,
        detail: format!("{why}; the report covers what ran before, and nothing passed"),
        seconds: 0.0,
    });
    outcome.cluster_failed = true;
    Ok(outcome)
}

/// How the MLFO runs pipelines.
#[derive(Clone)]
pub struct RunOptions {
    /// Workers and processes.
    pub cluster: Cluster,
    /// Deploy even when the sandbox evaluation misses a target.
    pub force: bool,
    /// Live counters and the stop flag.
    pub progress: Arc<Progress>,
    /// Name of the current phase, for progress displays.
    pub phase: Arc<Mutex<String>>,
    /// A trained model to start from instead of training (e.g. pulled from the hub).
    pub model: Option<Arc<PipelineState>>,
    /// For a flow intent: a trained classifier to deploy instead of training one (e.g. pulled
    /// from the hub); it is still evaluated on the intent's held-out flows.
    pub classifier: Option<Arc<ai4ict_classify::Classifier>>,
    /// Deliver the deployed pipeline's rows at this many seconds of event time per second
    /// of wall-clock time (1: real time), so a sandbox or a file plays like a live network;
    /// `None`: as fast as they are read. Training and evaluation are never paced.
    pub pace: Option<f64>,
    /// Checkpoint the deployed pipeline into this directory at this interval, and resume
    /// from its latest checkpoint (see [`crate::checkpoint`]); instead of the intent's
    /// `checkpoint`.
    pub checkpoint: Option<(std::path::PathBuf, std::time::Duration)>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            cluster: Cluster::default(),
            force: false,
            progress: Arc::new(Progress::default()),
            phase: Arc::new(Mutex::new(String::new())),
            model: None,
            classifier: None,
            pace: None,
            checkpoint: None,
        }
    }
}

/// The ML function orchestrator for one intent.
pub struct Mlfo {
    intent: MlIntent,
    options: RunOptions,
}

impl Mlfo {
    /// An MLFO for a validated intent.
    pub fn new(intent: MlIntent, options: RunOptions) -> Self {
        Self { intent, options }
    }

    /// Whether the run is the anomaly pipeline, which counts [`Progress::nodes`] (flows,
    /// forecasts and closed loops do not).
    pub fn counts_nodes(&self) -> bool {
        !matches!(self.intent.source, SourceConfig::Flows(_))
            && matches!(self.intent.policy, PolicyConfig::Alert(_))
    }

    /// Chains the pipeline from the intent (Y.3172 §8.1 NOTE 11): resolves the fields, the
    /// detector and the sinks, and describes every node.
    pub fn plan(&self) -> Result<Plan, EngineError> {
        let i = &self.intent;
        if matches!(i.source, SourceConfig::Flows(_)) {
            return crate::flow_run::plan(i);
        }
        let fields = self.fields()?;
        let mut nodes = Vec::new();
        let node = |role, description: String| PlannedNode {
            role,
            description,
            clause: NodeRole::clause(role),
            not_applied: None,
        };
        nodes.push(node(NodeRole::Src, i.source.component().describe()));
        nodes.push(node(
            NodeRole::C,
            format!(
                "{} fields every {}: {}",
                fields.len(),
                i.collect.interval,
                fields.join(", ")
            ),
        ));
        let pp = if i.preprocess.is_empty() {
            "none".to_string()
        } else {
            i.preprocess
                .iter()
                .map(|s| serde_json::to_string(s).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(" → ")
        };
        nodes.push(node(NodeRole::Pp, pp));
        nodes.push(node(
            NodeRole::M,
            match &i.model {
                ModelConfig::Anomaly(d) => format!(
                    "anomaly detector {}",
                    serde_json::to_string(d).unwrap_or_default()
                ),
                ModelConfig::Forecast(f) => format!(
                    "forecaster {}",
                    serde_json::to_string(f).unwrap_or_default()
                ),
                ModelConfig::Classify(_) => {
                    return Err(EngineError::Plan(
                        "a flow classifier reads `source: {flows: …}`".into(),
                    ))
                }
            },
        ));
        nodes.push(node(
            NodeRole::P,
            match &i.policy {
                PolicyConfig::Alert(p) => {
                    format!("alert when {}, suppress {}", p.condition(), p.suppress)
                }
                // The closed loops chain their own graph on the dataflow (crate::closed_loop):
                // the network's reports are their collected data.
                PolicyConfig::EnergySaving(_) | PolicyConfig::SlaBreach(_) => {
                    return self.loop_plan(fields)
                }
                PolicyConfig::FlowAlert(_) => {
                    return Err(EngineError::Plan(
                        "a flow alert policy acts on `source: {flows: …}`".into(),
                    ))
                }
                PolicyConfig::Forecast(p) => format!(
                    "forecast {} with {:.0}% intervals, season {}, after a {}-window backtest against seasonal naive",
                    if p.horizon == 0 {
                        "one season ahead".to_string()
                    } else {
                        format!("{} steps ahead", p.horizon)
                    },
                    p.level * 100.0,
                    p.season.map_or("from the data".to_string(), |m| m.to_string()),
                    p.backtest_windows
                ),
            },
        ));
        nodes.push(node(
            NodeRole::D,
            format!("{} sink(s), ordered by time", i.distribute.len()),
        ));
        for d in &i.distribute {
            nodes.push(node(NodeRole::Sink, d.describe()));
        }
        Ok(Plan {
            fields,
            interval: i.collect.interval,
            nodes,
        })
    }

    /// The graph a closed loop runs on (`crate::closed_loop::run_energy`, `run_sla`).
    fn loop_plan(&self, fields: Vec<String>) -> Result<Plan, EngineError> {
        let i = &self.intent;
        let (SourceConfig::Sandbox(s), ModelConfig::Forecast(f)) = (&i.source, &i.model) else {
            return Err(EngineError::Plan(
                "a closed loop needs a sandbox source and a forecast model".into(),
            ));
        };
        let node = |role, description: String| PlannedNode {
            role,
            description,
            clause: NodeRole::clause(role),
            not_applied: None,
        };
        let sandbox = format!(
            "sandbox: {} network, {} cells, {} days, seed {}",
            s.scenario.as_str(),
            s.cells,
            s.days,
            s.seed
        );
        let f = serde_json::to_string(f).unwrap_or_default();
        let mut nodes = match &i.policy {
            PolicyConfig::EnergySaving(p) => vec![
                node(
                    NodeRole::Src,
                    format!("{sandbox}; each worker reads the coverage clusters it owns (a small cell and every cell that may take its traffic)"),
                ),
                node(
                    NodeRole::C,
                    format!(
                        "the network's report per cell every {}: offered load, power drawn, unserved traffic, carriers asleep and woken; exchanged by coverage cluster",
                        i.collect.interval
                    ),
                ),
                self.loop_preprocess(&node),
                node(
                    NodeRole::M,
                    format!(
                        "forecaster per cell, refitted each midnight on {} days for the day ahead: {f}",
                        p.history_days
                    ),
                ),
                node(
                    NodeRole::P,
                    format!(
                        "energy saving per coverage cluster: sleep units when the {:.0}% forecast bound fits under headroom {} for {} intervals",
                        p.level * 100.0,
                        p.guard.headroom,
                        p.guard.min_sleep_steps
                    ),
                ),
                node(
                    NodeRole::Sink,
                    "actuator: the sandbox network puts carriers and small cells to sleep and wakes them; its reports are the next round's input".into(),
                ),
                node(
                    NodeRole::D,
                    "cluster outcomes to the first worker of every process, summed in cluster order, against always-on, reactive and oracle baselines (reference, beside the loop)".into(),
                ),
            ],
            PolicyConfig::SlaBreach(p) => vec![
                node(
                    NodeRole::Src,
                    format!("{sandbox}; each worker reads the cells and sites it owns"),
                ),
                node(
                    NodeRole::C,
                    format!(
                        "every {}: each cell's user-plane latency and each site's backhaul-link utilisation (its cells' offered traffic over the link capacity); exchanged by cell and site",
                        i.collect.interval
                    ),
                ),
                self.loop_preprocess(&node),
                node(
                    NodeRole::M,
                    format!(
                        "forecaster per cell and per site, refitted each midnight on {} days for the day ahead and {} intervals past it: {f}",
                        p.history_days, p.lead_steps
                    ),
                ),
                node(
                    NodeRole::P,
                    format!(
                        "SLA breach warning per cell and per site, {} intervals ahead, when a breach is more likely than {} (latency > {} ms, link utilisation > {})",
                        p.lead_steps, p.alert_probability, p.latency_limit_ms, p.link_utilisation_limit
                    ),
                ),
                node(
                    NodeRole::D,
                    "warnings scored per cell and per site against the breaches that happen (attributed with the same network without incidents, beside the loop), to the first worker of every process, summed in entity order".into(),
                ),
            ],
            PolicyConfig::Alert(_) | PolicyConfig::Forecast(_) | PolicyConfig::FlowAlert(_) => {
                return Err(EngineError::Plan(
                    "only energy saving and SLA-breach prediction run as closed loops".into(),
                ))
            }
        };
        for d in &i.distribute {
            nodes.push(PlannedNode {
                not_applied: Some(
                    "the loop's results go to the run's report; no alerts are written",
                ),
                ..node(NodeRole::Sink, d.describe())
            });
        }
        Ok(Plan {
            fields,
            interval: i.collect.interval,
            nodes,
        })
    }

    /// A closed loop's PP node: none, or the intent's steps, which the loop does not apply.
    fn loop_preprocess(&self, node: &dyn Fn(NodeRole, String) -> PlannedNode) -> PlannedNode {
        let pp = &self.intent.preprocess;
        if pp.is_empty() {
            return node(NodeRole::Pp, "none".into());
        }
        let steps = pp
            .iter()
            .map(|s| serde_json::to_string(s).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(" → ");
        PlannedNode {
            not_applied: Some(
                "the network reports every entity every interval; there are no gaps to fill",
            ),
            ..node(NodeRole::Pp, steps)
        }
    }

    fn fields(&self) -> Result<Vec<String>, EngineError> {
        if !self.intent.collect.fields.is_empty() {
            return Ok(self.intent.collect.fields.clone());
        }
        self.intent
            .source
            .component()
            .fields()
            .map_err(|e| EngineError::Plan(e.0))
    }

    fn spec(
        &self,
        plan: &Plan,
        trace: Vec<Entity>,
        span: Span,
    ) -> Result<PipelineSpec, EngineError> {
        let (ModelConfig::Anomaly(detector), PolicyConfig::Alert(policy)) =
            (&self.intent.model, &self.intent.policy)
        else {
            return Err(EngineError::Plan(
                "a streaming pipeline needs an anomaly model and an alert policy".into(),
            ));
        };
        Ok(PipelineSpec {
            fields: plan.fields.clone(),
            interval: plan.interval,
            preprocess: self.intent.preprocess.clone(),
            detector: detector.clone(),
            policy: policy.clone(),
            trace,
            span,
            checkpoint: None,
        })
    }

    /// Replays `entities` alone over `feed` from `span`, tracing their fields and scores for
    /// plots: each entity's nodes are independent of the others', so the traces are those of
    /// the run that `span` repeats, at a fraction of its cost.
    fn trace(
        &self,
        plan: &Plan,
        feed: SourceFactory,
        span: Span,
        entities: Vec<Entity>,
    ) -> Result<BTreeMap<Entity, Vec<dataflow::TracePoint>>, EngineError> {
        if entities.is_empty() {
            return Ok(BTreeMap::new());
        }
        let run = dataflow::run(
            self.spec(plan, entities.clone(), span)?,
            &self.options.cluster,
            crate::feeds::only(feed, entities),
            no_sinks(),
            Arc::new(Progress::default()),
        )?;
        Ok(run.traces)
    }

    /// The anomaly model of the intent.
    fn detector(&self) -> Result<ai4ict_anomaly::DetectorConfig, EngineError> {
        match &self.intent.model {
            ModelConfig::Anomaly(d) => Ok(d.clone()),
            ModelConfig::Forecast(_) | ModelConfig::Classify(_) => Err(EngineError::Plan(
                "a streaming pipeline needs an anomaly model".into(),
            )),
        }
    }

    fn set_phase(&self, phase: &str) {
        if let Ok(mut p) = self.options.phase.lock() {
            *p = phase.to_string();
        }
        self.options.progress.rows.store(0, Ordering::Relaxed);
        self.options.progress.event_time.store(0, Ordering::Relaxed);
        self.options.progress.nodes.reset();
    }

    /// Runs the lifecycle: plan → train and evaluate in the sandbox → deploy → outcome.
    pub fn run(&self) -> Result<Outcome, EngineError> {
        let mut stages = vec![StageRecord {
            stage: Stage::Validate,
            status: Status::Passed,
            detail: "schema and semantic checks passed".into(),
            seconds: 0.0,
        }];
        let t = Instant::now();
        let plan = self.plan()?;
        stages.push(StageRecord {
            stage: Stage::Plan,
            status: Status::Passed,
            detail: format!("{} nodes chained", plan.nodes.len()),
            seconds: t.elapsed().as_secs_f64(),
        });
        let mut outcome = Outcome {
            intent: self.intent.name.clone(),
            use_case: self.intent.use_case.as_str().to_string(),
            plan,
            stages,
            evaluation: None,
            labelled: None,
            auto_choices: Default::default(),
            deployment: None,
            incidents: Vec::new(),
            eval_alerts: Vec::new(),
            traces: Default::default(),
            alert_threshold: match &self.intent.policy {
                PolicyConfig::Alert(p) => Some(p.score_above),
                _ => None,
            },
            closed_loop: None,
            trained: None,
            forecast: None,
            flows: None,
            cluster_failed: false,
        };
        if matches!(self.intent.source, SourceConfig::Flows(_)) {
            self.set_phase("flows");
            crate::flow_run::run_intent(&self.intent, &self.options, &mut outcome)?;
            return Ok(outcome);
        }
        if matches!(self.intent.policy, PolicyConfig::Forecast(_)) {
            self.set_phase("forecast");
            crate::forecast_run::run_intent(&self.intent, self.options.force, &mut outcome)?;
            return Ok(outcome);
        }
        if !matches!(self.intent.policy, PolicyConfig::Alert(_)) {
            if let Err(e) = self.closed_loop(&mut outcome) {
                return cluster_failed(outcome, e);
            }
            return Ok(outcome);
        }

        let proceed = match self.evaluate(&mut outcome) {
            Ok(proceed) => proceed,
            Err(e) => return cluster_failed(outcome, e),
        };
        let stopped_here = self.options.progress.stop.load(Ordering::Relaxed);
        if stopped_here || outcome.stages.iter().any(|s| s.status == Status::Stopped) {
            outcome.stages.push(StageRecord {
                stage: Stage::Deploy,
                status: Status::Skipped,
                detail: if stopped_here {
                    "the run was stopped by the operator; nothing deployed"
                } else {
                    "another process of the cluster was stopped, so this run covers part of the entities; nothing deployed"
                }
                .into(),
                seconds: 0.0,
            });
            return Ok(outcome);
        }
        if !proceed && !self.options.force {
            let detail = if outcome.labelled.is_some() {
                "the evaluation on the labels missed a target; nothing deployed (use --force to deploy anyway)"
            } else if outcome.evaluation.is_some() {
                "the sandbox evaluation missed a target; nothing deployed (use --force to deploy anyway)"
            } else {
                "the pipeline was not evaluated; nothing deployed (give the file's `labels:`, or set `evaluate: skip` or use --force to deploy without an evaluation)"
            };
            outcome.stages.push(StageRecord {
                stage: Stage::Deploy,
                status: Status::Skipped,
                detail: detail.into(),
                seconds: 0.0,
            });
            return Ok(outcome);
        }
        match self.deploy(&mut outcome) {
            Ok(()) => Ok(outcome),
            Err(e) => cluster_failed(outcome, e),
        }
    }

    fn scenario(&self) -> Option<ScenarioConfig> {
        match &self.intent.source {
            SourceConfig::Sandbox(s) => Some(s.clone()),
            // Any other source is evaluated in the intent's `sandbox` network.
            _ => Some(self.intent.sandbox.clone().unwrap_or_default()),
        }
    }

    /// Train (warm up on the sandbox's quiet history) and evaluate; returns whether to deploy.
    fn evaluate(&self, outcome: &mut Outcome) -> Result<bool, EngineError> {
        if let (SourceConfig::File(file), Some(labels)) = (&self.intent.source, &self.intent.labels)
        {
            return self.evaluate_on_labels(outcome, file, labels);
        }
        let t = Instant::now();
        let fields = &outcome.plan.fields;
        let unknown: Vec<&String> = fields
            .iter()
            .filter(|f| !KPIS.contains(&f.as_str()))
            .collect();
        let Some(scenario) = self.scenario().filter(|_| unknown.is_empty()) else {
            let why = format!(
                "the sandbox does not simulate {}; evaluation needs sandbox KPIs",
                unknown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return Ok(self.not_evaluated(outcome, &why));
        };
        let net = Arc::new(Network::new(&scenario).map_err(|e| EngineError::Plan(e.to_string()))?);
        let warmup_end = Timestamp(net.start().0 + i64::from(scenario.history()) * 86_400_000);
        let field_idx: Vec<usize> = fields
            .iter()
            .map(|f| KPIS.iter().position(|k| k == f).expect("checked above"))
            .collect();
        let feed = || SandboxSource::factory(Arc::clone(&net), field_idx.clone());
        // Train: the warm-up history, ending in a snapshot of every entity's state — or the
        // trained model the MLFO was given.
        self.set_phase("train (sandbox)");
        let (trained, train_detail) = match &self.options.model {
            Some(model) => {
                model.check(fields, outcome.plan.interval, &self.detector()?)?;
                let detail = format!(
                    "trained model given: {} entities, trained until {}, {} model state bytes per entity",
                    model.entities.len(),
                    model.until.map_or("the end of its stream".into(), |t| t.to_string()),
                    model.model_bytes().checked_div(model.entities.len()).unwrap_or(0)
                );
                (Arc::clone(model), detail)
            }
            None => {
                let span = Span {
                    until: Some(warmup_end),
                    snapshot: true,
                    ..Span::default()
                };
                let run = dataflow::run(
                    self.spec(&outcome.plan, Vec::new(), span)?,
                    &self.options.cluster,
                    feed(),
                    no_sinks(),
                    Arc::clone(&self.options.progress),
                )?;
                let state = match run.state {
                    Some(state) if !run.stopped => state,
                    _ => {
                        outcome.stages.push(StageRecord {
                            stage: Stage::Train,
                            status: Status::Stopped,
                            detail: format!("stopped after {} rows of warm-up history", run.rows),
                            seconds: t.elapsed().as_secs_f64(),
                        });
                        outcome.stages.push(StageRecord {
                            stage: Stage::Evaluate,
                            status: Status::Stopped,
                            detail: "not reached: the run was stopped during training".into(),
                            seconds: 0.0,
                        });
                        return Ok(false);
                    }
                };
                let detail = format!(
                    "{} entities warmed up on {} days of sandbox history, {} of them incident-free ({} state bytes per entity); snapshot taken",
                    run.entities,
                    scenario.history(),
                    scenario.quiet_days.min(scenario.history()),
                    run.state_bytes.checked_div(run.entities).unwrap_or(0)
                );
                (Arc::new(state), detail)
            }
        };
        outcome.stages.push(StageRecord {
            stage: Stage::Train,
            status: Status::Passed,
            detail: train_detail,
            seconds: t.elapsed().as_secs_f64(),
        });
        outcome.auto_choices = crate::report::auto_choices(&trained);
        outcome.trained = Some(Arc::clone(&trained));
        // Evaluate: resume from the snapshot where training stopped.
        let t = Instant::now();
        self.set_phase("evaluate (sandbox)");
        let from = trained.until.unwrap_or(warmup_end);
        let span = Span {
            start: Some(trained),
            from: Some(from),
            ..Span::default()
        };
        // Plots replay a few entities from where this run's state began: the start of the
        // history when trained here, the given model otherwise.
        let replay = if self.options.model.is_some() {
            span.clone()
        } else {
            Span::default()
        };
        let run = dataflow::run(
            self.spec(&outcome.plan, Vec::new(), span)?,
            &self.options.cluster,
            feed(),
            no_sinks(),
            Arc::clone(&self.options.progress),
        )?;
        let seconds = t.elapsed().as_secs_f64();
        let stopped = run.stopped;
        let warmup_end = warmup_end.max(from);
        let alerts: Vec<_> = run
            .alerts
            .iter()
            .filter(|a| a.time >= warmup_end)
            .cloned()
            .collect();
        // A stopped run is scored on the incidents that began before the last row it read.
        let read_until = if stopped {
            Timestamp(self.options.progress.event_time.load(Ordering::Relaxed))
        } else {
            Timestamp(i64::MAX)
        };
        let incidents: Vec<Incident> = net
            .incidents()
            .iter()
            .filter(|i| i.start >= warmup_end && i.start <= read_until)
            .cloned()
            .collect();
        let grace = 4 * outcome.plan.interval.millis();
        let metrics = event_metrics(&alerts, &incidents, grace);
        let stats = stats(&run, seconds);
        let targets = self.check_targets(&metrics, &stats);
        let evaluation = Evaluation {
            scenario,
            scored_from: warmup_end,
            metrics,
            targets,
            stats,
        };
        let passed = evaluation.passed();
        outcome.stages.push(StageRecord {
            stage: Stage::Evaluate,
            status: if stopped {
                Status::Stopped
            } else if passed {
                Status::Passed
            } else {
                Status::Failed
            },
            detail: evaluation
                .targets
                .iter()
                .map(|c| {
                    format!(
                        "{} {:.3} {} {}",
                        c.name,
                        c.measured,
                        if c.passed { "meets" } else { "misses" },
                        c.target
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            seconds: 0.0,
        });
        if let Some(s) = outcome.stages.last_mut().filter(|_| stopped) {
            s.detail
                .insert_str(0, "stopped early; partial measurements, not a verdict: ");
        }
        if !stopped {
            let plotted = ai4ict_eval::report::plot_order(
                &alerts,
                &incidents,
                grace,
                crate::report::PLOTTED_ENTITIES,
            );
            outcome.traces = self.trace(&outcome.plan, feed(), replay, plotted)?;
        }
        outcome.incidents = incidents;
        outcome.eval_alerts = alerts;
        outcome.evaluation = Some(evaluation);
        Ok(passed && !stopped)
    }

    /// Records that no evaluation was possible; returns whether to deploy all the same (only
    /// under `evaluate: skip`). Without it and without --force, Evaluate fails.
    fn not_evaluated(&self, outcome: &mut Outcome, why: &str) -> bool {
        let skip = self.intent.evaluate == EvaluateMode::Skip;
        outcome.stages.push(StageRecord {
            stage: Stage::Train,
            status: Status::Skipped,
            detail: format!("{why}; the detectors learn online from the source's first row"),
            seconds: 0.0,
        });
        let (status, detail) = if skip {
            (Status::Skipped, format!("the pipeline was not evaluated ({why}); deployed as the intent says `evaluate: skip`"))
        } else if self.options.force {
            (
                Status::Skipped,
                format!("the pipeline was not evaluated ({why}); deployed because of --force"),
            )
        } else {
            (Status::Failed, format!("the pipeline was not evaluated ({why}): give the file's labelled incidents as `labels:`, or set `evaluate: skip` or use --force to deploy without an evaluation"))
        };
        outcome.stages.push(StageRecord {
            stage: Stage::Evaluate,
            status,
            detail,
            seconds: 0.0,
        });
        skip
    }

    /// Energy saving or SLA-breach prediction: forecasters train on the scenario's history
    /// days, then the policy acts on the simulated network in closed loop and is scored.
    fn closed_loop(&self, outcome: &mut Outcome) -> Result<(), EngineError> {
        let (ModelConfig::Forecast(forecaster), SourceConfig::Sandbox(scenario)) =
            (&self.intent.model, &self.intent.source)
        else {
            return Err(EngineError::Plan(
                "a closed loop needs a forecast model and a sandbox source".into(),
            ));
        };
        let t = Instant::now();
        self.set_phase("closed loop (sandbox)");
        let targets = &self.intent.targets;
        let mut checks = Vec::new();
        let mut check = |name: &str, target: Option<f64>, measured: f64, higher_better: bool| {
            checks.extend(TargetCheck::new(name, target, measured, higher_better));
        };
        let records;
        let stopped;
        let (energy, sla, history, detail) = match &self.intent.policy {
            PolicyConfig::EnergySaving(policy) => {
                let config = ai4ict_energy::EnergyConfig {
                    sandbox: scenario.clone(),
                    forecaster: forecaster.clone(),
                    policy: policy.clone(),
                    ..Default::default()
                };
                let run = crate::closed_loop::run_energy(
                    &config,
                    &self.options.cluster,
                    Arc::clone(&self.options.progress),
                )?;
                if let Some(e) = run.errors.first() {
                    return Err(EngineError::Plan(format!("energy-saving loop: {e}")));
                }
                records = run.records;
                stopped = run.stopped;
                match run.energy {
                    Some(r) => {
                        let f = r.policy("forecast").cloned();
                        let saved = f.as_ref().map_or(0.0, |f| f.saved_pct);
                        let extra = f.as_ref().map_or(f64::INFINITY, |f| f.extra_unserved_pct);
                        check(
                            "energy_saved_vs_oracle",
                            targets.energy_saved_vs_oracle,
                            r.saved_vs_oracle,
                            true,
                        );
                        check("max_unserved_pct", targets.max_unserved_pct, extra, false);
                        let detail = format!(
                            "forecast policy saved {saved:.2} % ({:.3} of the oracle's saving), extra unserved {extra:.4} %",
                            r.saved_vs_oracle
                        );
                        (Some(r), Vec::new(), policy.history_days, detail)
                    }
                    None => (
                        None,
                        Vec::new(),
                        policy.history_days,
                        format!("stopped by the operator after {records} reports; no verdict"),
                    ),
                }
            }
            PolicyConfig::SlaBreach(policy) => {
                let config = ai4ict_energy::SlaConfig {
                    sandbox: scenario.clone(),
                    forecaster: forecaster.clone(),
                    policy: policy.clone(),
                };
                let run = crate::closed_loop::run_sla(
                    &config,
                    &self.options.cluster,
                    Arc::clone(&self.options.progress),
                )?;
                if let Some(e) = run.errors.first() {
                    return Err(EngineError::Plan(format!("SLA-breach loop: {e}")));
                }
                records = run.records;
                stopped = run.stopped;
                match run.sla {
                    Some(scores) => {
                        let (alerts, true_alerts, breaches, warned) =
                            scores.iter().fold((0, 0, 0, 0), |a, s| {
                                (
                                    a.0 + s.alerts,
                                    a.1 + s.true_alerts,
                                    a.2 + s.breaches,
                                    a.3 + s.warned,
                                )
                            });
                        let precision = if alerts > 0 {
                            true_alerts as f64 / alerts as f64
                        } else {
                            0.0
                        };
                        let recall = if breaches > 0 {
                            warned as f64 / breaches as f64
                        } else {
                            1.0
                        };
                        check("precision", targets.precision, precision, true);
                        check("recall", targets.recall, recall, true);
                        let detail = format!("{alerts} warnings, {breaches} breaches, precision {precision:.3}, recall {recall:.3}");
                        (None, scores, policy.history_days, detail)
                    }
                    None => (
                        None,
                        Vec::new(),
                        policy.history_days,
                        format!("stopped by the operator after {records} observations; no verdict"),
                    ),
                }
            }
            PolicyConfig::Alert(_) | PolicyConfig::Forecast(_) | PolicyConfig::FlowAlert(_) => {
                unreachable!("closed_loop is only called for closed-loop policies")
            }
        };
        let seconds = t.elapsed().as_secs_f64();
        outcome.stages.push(StageRecord {
            stage: Stage::Train,
            status: Status::Passed,
            detail: format!(
                "forecasters fitted on {history} days of sandbox history, refitted daily"
            ),
            seconds,
        });
        let closed = ClosedLoop {
            scenario: scenario.clone(),
            energy,
            sla,
            targets: checks,
            records,
            seconds,
        };
        let passed = closed.passed();
        outcome.stages.push(StageRecord {
            stage: Stage::Evaluate,
            status: if stopped {
                Status::Stopped
            } else if passed {
                Status::Passed
            } else {
                Status::Failed
            },
            detail: closed
                .targets
                .iter()
                .map(|c| {
                    format!(
                        "{} {:.3} {} {}",
                        c.name,
                        c.measured,
                        if c.passed { "meets" } else { "misses" },
                        c.target
                    )
                })
                .chain(std::iter::once(detail))
                .collect::<Vec<_>>()
                .join("; "),
            seconds: 0.0,
        });
        outcome.stages.push(StageRecord {
            stage: Stage::Deploy,
            status: Status::Skipped,
            detail: "closed-loop policies act on the simulated network only; no live network is connected".into(),
            seconds: 0.0,
        });
        outcome.closed_loop = Some(closed);
        Ok(())
    }

    fn check_targets(&self, m: &EventMetrics, s: &RunStats) -> Vec<TargetCheck> {
        let t = &self.intent.targets;
        let mut out = Vec::new();
        let mut check = |name: &str, target: Option<f64>, measured: f64, higher_better: bool| {
            out.extend(TargetCheck::new(name, target, measured, higher_better));
        };
        check("precision", t.precision, m.precision, true);
        check("recall", t.recall, m.recall, true);
        check("p99_latency_ms", t.p99_latency_ms, s.latency_p99_ms, false);
        let mttd = m.mean_ttd_ms.map_or(f64::INFINITY, |ms| ms / 60_000.0);
        check(
            "mttd_minutes",
            t.mttd.map(|i| i.millis() as f64 / 60_000.0),
            mttd,
            false,
        );
        out
    }

    fn deploy(&self, outcome: &mut Outcome) -> Result<(), EngineError> {
        let t = Instant::now();
        // The deployed pipeline resumes from the trained model: on the sandbox it was trained
        // on, from where training stopped; on a file, from a given model's entities.
        let span = match (&self.intent.source, &outcome.trained) {
            (SourceConfig::Sandbox(_), Some(trained)) => Span {
                start: Some(Arc::clone(trained)),
                from: trained.until,
                ..Span::default()
            },
            (SourceConfig::File(_), Some(_)) if self.options.model.is_some() => Span {
                start: outcome.trained.clone(),
                ..Span::default()
            },
            _ => Span::default(),
        };
        let fields = outcome.plan.fields.clone();
        let source = self.intent.source.component();
        let (span, checkpoint) = self.checkpoint(span, &outcome.plan, source)?;
        let resumed = span.start.as_ref().map(|s| s.entities.len());
        let pace_from = span.from;
        let mut spec = self.spec(&outcome.plan, Vec::new(), span)?;
        spec.checkpoint = checkpoint;
        let feeds = source.open(&fields).map_err(|e| EngineError::Source(e.0))?;
        let target = source.target();
        let feeds = match self.options.pace {
            Some(speed) => crate::feeds::paced(feeds, speed, pace_from),
            None => feeds,
        };
        self.set_phase("deploy");
        let distribute = self.intent.distribute.clone();
        let intent = self.intent.name.clone();
        let sinks: SinkFactory = Arc::new(move || {
            distribute
                .iter()
                .map(|d| {
                    d.build_for(&intent)
                        .map_err(|e| EngineError::Output(e.to_string()))
                })
                .collect::<Result<Vec<Box<dyn AlertSink>>, _>>()
        });
        let spec_resume = spec.checkpoint.as_ref().and_then(|c| c.resume.clone());
        let run = dataflow::run(
            spec,
            &self.options.cluster,
            feeds,
            sinks,
            Arc::clone(&self.options.progress),
        )?;
        let seconds = t.elapsed().as_secs_f64();
        let status = if run.stopped {
            Status::Stopped
        } else if run.errors.is_empty() {
            Status::Passed
        } else {
            Status::Failed
        };
        outcome.stages.push(StageRecord {
            stage: Stage::Deploy,
            status,
            detail: format!(
                "{} rows from {target}{}, {} alerts delivered to {} sink(s){}{}{}",
                run.rows,
                match (&spec_resume, resumed) {
                    (Some(r), Some(n)) => format!(
                        " (resumed from checkpoint {} of {n} entities after {} rows)",
                        r.epoch, r.rows
                    ),
                    (None, Some(n)) => format!(" (resumed from the trained state of {n} entities)"),
                    _ => String::new(),
                },
                run.alerts.len(),
                self.intent.distribute.len(),
                run.source_notes
                    .iter()
                    .map(|n| format!("; source: {n}"))
                    .collect::<String>(),
                run.checkpoint
                    .map_or(String::new(), |(epoch, rows)| format!(
                        "; checkpoint {epoch} covers {rows} rows in all"
                    )),
                if run.errors.is_empty() {
                    String::new()
                } else {
                    format!("; errors: {}", run.errors.join("; "))
                }
            ),
            seconds,
        });
        outcome.deployment = Some(stats(&run, seconds));
        Ok(())
    }
}

impl Mlfo {
    /// With checkpoints: the span resuming from the latest one (its state, checked against
    /// the plan, replaces the trained one) and the checkpoint spec.
    fn checkpoint(
        &self,
        span: Span,
        plan: &Plan,
        source: &dyn ai4ict_core::SourceComponent,
    ) -> Result<(Span, Option<CheckpointSpec>), EngineError> {
        let from_intent = self.intent.checkpoint.as_ref().map(|c| {
            let every = std::time::Duration::from_millis(c.interval.millis().max(0) as u64);
            (c.dir.clone(), every)
        });
        let Some((dir, every)) = self.options.checkpoint.clone().or(from_intent) else {
            return Ok((span, None));
        };
        if !source.resumable() {
            return Err(CheckpointError::NotResumable(source.target()).into());
        }
        let partitions = source.partitions();
        let last = checkpoint::latest(&dir, partitions)?;
        checkpoint::clear_after(&dir, last.as_ref().map(|c| c.epoch))?;
        let (span, resume) = match last {
            None => (span, None),
            Some(c) => {
                if let ModelConfig::Anomaly(detector) = &self.intent.model {
                    c.state.check(&plan.fields, plan.interval, detector)?;
                }
                let start = Span {
                    start: Some(Arc::new(c.state)),
                    ..Span::default()
                };
                (start, Some(c.resume))
            }
        };
        let spec = CheckpointSpec {
            dir,
            every,
            partitions,
            resume,
        };
        Ok((span, Some(spec)))
    }
}

fn no_sinks() -> SinkFactory {
    Arc::new(|| Ok(Vec::new()))
}

fn stats(run: &RunOutput, seconds: f64) -> RunStats {
    let mut lat = run.latencies_ms.clone();
    lat.sort_by(f64::total_cmp);
    let pct = |q: f64| {
        if lat.is_empty() {
            0.0
        } else {
            lat[((lat.len() - 1) as f64 * q).round() as usize]
        }
    };
    RunStats {
        rows: run.rows,
        entities: run.entities,
        alerts: run.alerts.len(),
        rows_per_second: if seconds > 0.0 {
            run.rows as f64 / seconds
        } else {
            0.0
        },
        latency_p50_ms: pct(0.5),
        latency_p99_ms: pct(0.99),
        late: run.late,
        filled: run.filled,
        suppressed: run.suppressed,
        state_bytes_per_entity: if run.entities > 0 {
            run.state_bytes as f64 / run.entities as f64
        } else {
            0.0
        },
        seconds,
        errors: run.errors.clone(),
    }
}
