//! The ML intent's schema. Each struct's doc comments are the user documentation and
//! become the JSON schema (`ai4ict intent schema`).

use std::path::Path;

use ai4ict_anomaly::DetectorConfig;
use ai4ict_connectors::{SinkConfig, StdoutSinkConfig};
use ai4ict_core::{leaves_working_dir, Interval, ProblemAt};
use ai4ict_sandbox::ScenarioConfig;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{IntentError, Problem};
use crate::locate;
use crate::SourceConfig;

/// An ML intent: the declarative, technology-agnostic description of an ML application that
/// the MLFO turns into a pipeline SRC → C → PP → M → P → D → SINK
/// (ITU-T Y.3172 §8.1 NOTE 12, Appendix II; fields per REQ-ML-SPEC-002).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MlIntent {
    /// Short name of the application, e.g. `cell-kpi-anomaly`.
    pub name: String,
    /// What the application does, in a sentence or two.
    #[serde(default)]
    pub description: String,
    /// The Resolution 101 domain the application serves.
    pub use_case: UseCase,
    /// Where the data comes from (the SRC node).
    pub source: SourceConfig,
    /// Labelled incidents of a file source: labels.json as `ai4ict sandbox generate` writes
    /// it, a CSV with the header `entity,start,end,kind`, or NAB's combined_windows.json. With
    /// them, Evaluate runs the pipeline on the file and scores its alerts against them
    /// (Y.3181 §8.2.1.2); the targets then gate deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub labels: Option<std::path::PathBuf>,
    /// `skip` deploys a file or live source that can be evaluated neither on labels nor in the
    /// sandbox (its fields are not sandbox KPIs); the report then says the pipeline was not
    /// evaluated.
    /// By default such a pipeline is not deployed without `--force`.
    #[serde(default, skip_serializing_if = "EvaluateMode::is_auto")]
    pub evaluate: EvaluateMode,
    /// What the collector (C) gathers, and at which granularity.
    #[serde(default)]
    pub collect: CollectConfig,
    /// Preprocessing steps (PP), applied in order per entity.
    #[serde(default)]
    pub preprocess: Vec<PreprocessStep>,
    /// The model (M).
    #[serde(default)]
    pub model: ModelConfig,
    /// Operator rules applied to the model's output (P; Y.3172 §8.1 NOTE 5).
    #[serde(default)]
    pub policy: PolicyConfig,
    /// Where the distributor (D) sends results (the SINKs).
    #[serde(default = "default_distribute")]
    pub distribute: Vec<SinkConfig>,
    /// What the MLFO checks in the sandbox before deploying (Y.3181 §8.2.1.2 evaluation KPIs).
    #[serde(default)]
    pub targets: Targets,
    /// The latency class of the application (Y.3172 REQ-ML-SPEC-002 NOTE 2).
    #[serde(default)]
    pub timing: Timing,
    /// The sandbox network the MLFO evaluates the pipeline on before deployment when the
    /// source is not the sandbox itself (Y.3172 §8.2). Defaults to the standard scenario.
    #[serde(default)]
    pub sandbox: Option<ScenarioConfig>,
    /// Checkpoints of the deployed pipeline, for a source that can resume (NATS JetStream,
    /// Kafka): every entity's state and the source's position saved atomically into `dir`
    /// every `interval`, messages acknowledged once a checkpoint covers them, and a restart
    /// resumed from the latest (`ai4ict run --checkpoint` overrides it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<CheckpointConfig>,
}

/// Where and how often the deployed pipeline checkpoints (`checkpoint` in an intent).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckpointConfig {
    /// The checkpoint directory (created when missing).
    pub dir: std::path::PathBuf,
    /// Time between checkpoints, e.g. `5s` (the default).
    #[serde(default = "default_checkpoint_interval")]
    #[schemars(with = "String")]
    pub interval: Interval,
}

fn default_checkpoint_interval() -> Interval {
    Interval::from_millis(5_000)
}

fn default_distribute() -> Vec<SinkConfig> {
    vec![SinkConfig::Stdout(StdoutSinkConfig::default())]
}

/// Whether the MLFO must evaluate the pipeline before deploying it (`evaluate` in an intent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvaluateMode {
    /// On the labels when given, else in the sandbox; a pipeline that can be evaluated on
    /// neither is not deployed without `--force`.
    #[default]
    Auto,
    /// Deploy without an evaluation when none is possible; said in the report.
    Skip,
}

impl EvaluateMode {
    fn is_auto(&self) -> bool {
        *self == Self::Auto
    }
}

/// The Resolution 101 domain an application serves (`use_case` in an intent).
pub type UseCase = ai4ict_core::Domain;

/// The collector (C): which fields to gather and at which interval.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectConfig {
    /// Fields (KPIs) to collect, in order. Empty: every numeric field of the source.
    #[serde(default)]
    pub fields: Vec<String>,
    /// The interval observations are aligned to, e.g. `15m`.
    #[serde(default = "default_interval")]
    #[schemars(with = "String")]
    pub interval: Interval,
}

fn default_interval() -> Interval {
    Interval::from_minutes(15)
}

impl Default for CollectConfig {
    fn default() -> Self {
        Self {
            fields: Vec::new(),
            interval: default_interval(),
        }
    }
}

/// One preprocessing step (PP).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PreprocessStep {
    /// Align observations to the collect interval; several in one interval are averaged,
    /// late or duplicate ones (earlier than the entity's current interval) are dropped and counted.
    Resample {},
    /// Fill missing intervals and missing values.
    FillGaps(FillMethod),
    /// Clip a field into [min, max].
    Clip {
        /// The field to clip.
        field: String,
        /// Lower bound.
        #[serde(default)]
        min: Option<f64>,
        /// Upper bound.
        #[serde(default)]
        max: Option<f64>,
    },
    /// Replace a field by a rolling statistic over the last `window` intervals.
    Rolling {
        /// The field.
        field: String,
        /// Number of intervals.
        window: u32,
        /// The statistic.
        #[serde(default)]
        stat: RollingStat,
    },
}

/// How gaps are filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FillMethod {
    /// Linear interpolation between the neighbours (waits for the next value).
    Linear,
    /// Repeat the last value.
    Last,
    /// Leave gaps missing (the model sees NaN).
    None,
}

/// Statistic of a rolling window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RollingStat {
    /// Arithmetic mean.
    #[default]
    Mean,
    /// Minimum.
    Min,
    /// Maximum.
    Max,
}

/// The model (M).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelConfig {
    /// A streaming anomaly detector per entity.
    Anomaly(DetectorConfig),
    /// A forecaster per entity, with prediction intervals.
    Forecast(ai4ict_forecast::ForecasterConfig),
    /// A flow classifier (traffic classes, known attacks) for `source: {flows: …}`.
    Classify(crate::ClassifyModel),
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self::Anomaly(DetectorConfig::default())
    }
}

/// The policy node (P): operator safeguards between the model and the network
/// (Y.3172 §8.1 NOTE 5).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PolicyConfig {
    /// Raise alerts from anomaly scores.
    Alert(AlertPolicy),
    /// Put capacity layers, carriers or cells to sleep in low-load windows under a QoS guard
    /// (3GPP TS 38.300 §16.20 network energy saving), in the sandbox's closed loop.
    EnergySaving(ai4ict_policy::EnergySavingPolicy),
    /// Warn ahead of forecast SLA breaches on cells and backhaul links (ITU-T Y.3170).
    SlaBreach(ai4ict_policy::SlaPolicy),
    /// Publish forecasts with prediction intervals of a file's series to `forecast` sinks,
    /// after a rolling-origin backtest against seasonal naive.
    Forecast(ForecastPolicy),
    /// Alert on classified flows of chosen classes and on unusual host behaviour.
    FlowAlert(crate::FlowAlertPolicy),
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self::Alert(AlertPolicy::default())
    }
}

/// What a forecast pipeline publishes (the policy node of Y.3172 §8.1 for forecasts): how far
/// ahead, with which interval, at which season, and how the MLFO checks it before deploying
/// (a rolling-origin backtest against seasonal naive, Y.3181 §8.2.1.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForecastPolicy {
    /// Steps ahead, in collect intervals; 0 (the default): one season, or 24 steps when the
    /// series has none.
    #[serde(default)]
    pub horizon: usize,
    /// Probability that the prediction interval holds the value, strictly between 0 and 1.
    #[serde(default = "default_forecast_level")]
    pub level: f64,
    /// Seasonal period in collect intervals (1: none); absent: found from the data (a day or
    /// a week of the interval, else the autocorrelation peak).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub season: Option<usize>,
    /// Forecast origins of the backtest, one horizon apart at the end of each series.
    #[serde(default = "default_backtest_windows")]
    pub backtest_windows: usize,
}

fn default_forecast_level() -> f64 {
    0.9
}
fn default_backtest_windows() -> usize {
    4
}

impl Default for ForecastPolicy {
    fn default() -> Self {
        Self {
            horizon: 0,
            level: default_forecast_level(),
            season: None,
            backtest_windows: default_backtest_windows(),
        }
    }
}

/// Most steps a forecast may look ahead.
pub const MAX_FORECAST_HORIZON: usize = 100_000;

/// Alert when the score stays above a threshold for `for` consecutive intervals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertPolicy {
    /// Score threshold in (0, 1].
    #[serde(default = "default_score_above")]
    pub score_above: f64,
    /// Consecutive intervals above the threshold before an alert is raised.
    #[serde(default = "default_for", rename = "for")]
    pub for_intervals: u32,
    /// A single score at or above this (and `score_above`) alerts at once, whatever `for`
    /// (`null`: never). A reading of exactly 0 in the field that scored is not enough alone:
    /// one row of zeros is a counter reset or a missed poll, and zeros that last are the
    /// telemetry check's.
    #[serde(default = "default_at_once")]
    pub at_once: Option<f64>,
    /// After an alert, no new alert for the same entity within this time.
    #[serde(default = "default_suppress")]
    #[schemars(with = "String")]
    pub suppress: Interval,
    /// Score bands for severities.
    #[serde(default)]
    pub severity: SeverityBands,
    /// Hours (UTC) in which only alerts of at least `min_severity` are raised.
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
}

fn default_score_above() -> f64 {
    0.9
}
fn default_for() -> u32 {
    2
}
/// Chosen on the development side (sandbox seeds 7, 1, 2, 3, NAB's even files, GutenTAG seed
/// 1) from 0.95, 0.97 and 0.99 and none; see crates/anomaly/README.md.
fn default_at_once() -> Option<f64> {
    Some(0.97)
}
fn default_suppress() -> Interval {
    Interval::from_minutes(60)
}

impl AlertPolicy {
    /// When it alerts, in words: `score ≥ 0.9 for 2 intervals or ≥ 0.97 once`.
    pub fn condition(&self) -> String {
        let n = self.for_intervals;
        format!(
            "score ≥ {} for {n} interval{}{}",
            self.score_above,
            if n == 1 { "" } else { "s" },
            self.at_once
                .map_or(String::new(), |a| format!(" or ≥ {a} once"))
        )
    }
}

impl Default for AlertPolicy {
    fn default() -> Self {
        Self {
            score_above: default_score_above(),
            for_intervals: default_for(),
            at_once: default_at_once(),
            suppress: default_suppress(),
            severity: SeverityBands::default(),
            quiet_hours: None,
        }
    }
}

/// Lowest scores of the `major` and `critical` bands; below `major` an alert is minor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityBands {
    /// Lowest score of a major alert.
    #[serde(default = "default_major")]
    pub major: f64,
    /// Lowest score of a critical alert.
    #[serde(default = "default_critical")]
    pub critical: f64,
}

fn default_major() -> f64 {
    0.97
}
fn default_critical() -> f64 {
    0.995
}

impl Default for SeverityBands {
    fn default() -> Self {
        Self {
            major: default_major(),
            critical: default_critical(),
        }
    }
}

/// An operator guard: between `from` and `to` (UTC hours, 0–23, wrapping past midnight) only
/// alerts of at least `min_severity` are raised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// First quiet hour.
    pub from: u8,
    /// First hour after the quiet period.
    pub to: u8,
    /// Least severity still raised in quiet hours.
    #[serde(default = "default_min_severity")]
    pub min_severity: ai4ict_core::Severity,
}

fn default_min_severity() -> ai4ict_core::Severity {
    ai4ict_core::Severity::Critical
}

/// Targets the MLFO checks in the sandbox before deploying (Y.3181 §8.2.1.2).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// Least event-level precision.
    #[serde(default)]
    pub precision: Option<f64>,
    /// Least event-level recall.
    #[serde(default)]
    pub recall: Option<f64>,
    /// Most 99th-percentile pipeline latency per batch, in milliseconds.
    #[serde(default)]
    pub p99_latency_ms: Option<f64>,
    /// Longest mean time to detect.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub mttd: Option<Interval>,
    /// Energy saving: least share of the oracle's saving (1 = as good as perfect foresight).
    #[serde(default)]
    pub energy_saved_vs_oracle: Option<f64>,
    /// Energy saving: most unserved traffic added over always-on, percent of offered traffic.
    #[serde(default)]
    pub max_unserved_pct: Option<f64>,
    /// Forecasts: most backtest MASE, the mean over series (1 = as accurate as the in-sample
    /// seasonal naive forecast).
    #[serde(default)]
    pub max_mase: Option<f64>,
    /// Flow classifiers: least macro F1 over the classes on the held-out flows.
    #[serde(default)]
    pub macro_f1: Option<f64>,
}

/// The application's latency class (Y.3172 REQ-ML-SPEC-002 NOTE 2).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// The class.
    #[serde(default)]
    pub class: LatencyClass,
}

/// Latency classes named by Y.3172.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LatencyClass {
    /// Microseconds: beamforming, scheduling, link adaptation.
    Microseconds,
    /// Milliseconds: transport and core network control.
    Milliseconds,
    /// Minutes to days: management, anomaly and coverage-hole detection.
    #[default]
    Minutes,
}

/// Where an intent comes from; decides how much it is trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The command line of the machine's own user: paths may point anywhere they can read.
    Local,
    /// A remote submitter (HTTP): paths must stay inside the working directory.
    Remote,
}

const MAX_INTENT_BYTES: usize = 1 << 20;

/// The error for an intent of `len` bytes, over [`MAX_INTENT_BYTES`].
fn too_large(origin: &str, len: u64) -> IntentError {
    IntentError::Syntax {
        origin: origin.to_string(),
        problem: Box::new(Problem {
            line: None,
            column: None,
            field: None,
            message: format!("the intent is {len} bytes; at most {MAX_INTENT_BYTES} are accepted"),
            hint: None,
        }),
    }
}

impl MlIntent {
    /// Parses and validates an intent read from `path`.
    pub fn from_file(path: &Path) -> Result<Self, IntentError> {
        use std::io::{Error, ErrorKind, Read};
        let origin = path.display().to_string();
        let io = |source| IntentError::Io {
            path: origin.clone(),
            source,
        };
        // Checked before opening: opening a FIFO would wait for a writer.
        let not_a_file = || {
            io(Error::new(
                ErrorKind::InvalidInput,
                "not a regular file (a device, pipe or folder); an intent is a YAML file",
            ))
        };
        if !std::fs::metadata(path).map_err(io)?.is_file() {
            return Err(not_a_file());
        }
        let file = std::fs::File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len > MAX_INTENT_BYTES as u64 {
            return Err(too_large(&origin, len));
        }
        // The size is checked while reading too: the file may grow after the check.
        let mut bytes = Vec::with_capacity(len as usize);
        file.take(MAX_INTENT_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() > MAX_INTENT_BYTES {
            return Err(too_large(&origin, bytes.len() as u64));
        }
        let text =
            String::from_utf8(bytes).map_err(|e| io(Error::new(ErrorKind::InvalidData, e)))?;
        Self::parse(&text, &origin, Origin::Local)
    }

    /// Parses and validates an intent given as YAML text from the local user.
    pub fn from_yaml(text: &str) -> Result<Self, IntentError> {
        Self::parse(text, "<input>", Origin::Local)
    }

    /// Parses and validates YAML `text`; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str, trust: Origin) -> Result<Self, IntentError> {
        let syntax = |problem| IntentError::Syntax {
            origin: origin.to_string(),
            problem: Box::new(problem),
        };
        if text.len() > MAX_INTENT_BYTES {
            return Err(too_large(origin, text.len() as u64));
        }
        let intent: MlIntent = serde_saphyr::from_str_with_options(text, yaml_options())
            .map_err(|e| syntax(yaml_problem(text, &e)))?;
        let problems = intent.check(trust);
        if problems.is_empty() {
            return Ok(intent);
        }
        let problems = problems
            .into_iter()
            .map(|(field, message, hint)| {
                let at = locate::find(text, &field);
                Problem {
                    line: at.map(|a| a.0),
                    column: at.map(|a| a.1),
                    field: Some(field),
                    message,
                    hint,
                }
            })
            .collect();
        Err(IntentError::Invalid {
            origin: origin.to_string(),
            problems,
        })
    }

    /// Semantic checks: (field path, message, hint) for each problem.
    fn check(&self, trust: Origin) -> Vec<(String, String, Option<String>)> {
        let mut out = Vec::new();
        let mut out_flows = Vec::new();
        let mut bad = |f: &str, m: String, h: Option<&str>| {
            out.push((f.to_string(), m, h.map(str::to_string)))
        };
        if self.name.trim().is_empty() {
            bad(
                "name",
                "must not be empty".into(),
                Some("give the application a short name"),
            );
        }
        let source = self.source.name();
        for p in self
            .source
            .component()
            .problems(&self.collect.fields, trust == Origin::Remote)
        {
            let at = match p.at {
                ProblemAt::Whole => format!("source.{source}"),
                ProblemAt::Key(key) => format!("source.{source}.{key}"),
                ProblemAt::CollectFields => "collect.fields".to_string(),
            };
            bad(&at, p.message, p.hint.as_deref());
        }
        let flows = matches!(self.source, SourceConfig::Flows(_));
        if self.source.is_live() && !flows && self.collect.fields.is_empty() {
            bad(
                "collect.fields",
                "a live source needs its fields named: there is no file to find them in".into(),
                Some("e.g. `collect: {fields: [prb_util, dl_throughput]}`"),
            );
        }
        if let Some(labels) = &self.labels {
            if !matches!(self.source, SourceConfig::File(_)) {
                bad(
                    "labels",
                    "labels are the ground truth of a file source; the sandbox has its own".into(),
                    Some("remove `labels`, or use `source: {file: {path: …}}`"),
                );
            }
            if trust == Origin::Remote && leaves_working_dir(labels) {
                bad(
                    "labels",
                    format!("`{}` leaves the working directory", labels.display()),
                    Some("an intent submitted remotely may only read files below the working directory"),
                );
            }
        }
        if let Some(c) = &self.checkpoint {
            if !self.source.component().resumable() {
                bad(
                    "checkpoint",
                    format!(
                        "checkpoints need a source that can resume from a position; {} cannot",
                        self.source.component().target()
                    ),
                    Some("use `source: {nats: {…}}` or `source: {kafka: {…}}`, or remove `checkpoint`"),
                );
            }
            if trust == Origin::Remote && leaves_working_dir(&c.dir) {
                bad(
                    "checkpoint.dir",
                    format!("`{}` leaves the working directory", c.dir.display()),
                    Some("an intent submitted remotely may only write below the working directory"),
                );
            }
        }
        if let Some(s) = &self.sandbox {
            if let Err(ai4ict_sandbox::SandboxError::InvalidConfig { field, message }) =
                s.validate()
            {
                bad(&format!("sandbox.{field}"), message, None);
            }
        }
        let mut seen = std::collections::HashSet::new();
        for f in &self.collect.fields {
            if !seen.insert(f) {
                bad("collect.fields", format!("`{f}` is listed twice"), None);
            }
        }
        for (i, step) in self.preprocess.iter().enumerate() {
            match step {
                PreprocessStep::Clip { field, min, max } => {
                    if min.is_none() && max.is_none() {
                        bad(
                            &format!("preprocess.{i}.clip"),
                            "needs `min` or `max`".into(),
                            None,
                        );
                    }
                    if let (Some(a), Some(b)) = (min, max) {
                        if a > b {
                            bad(
                                &format!("preprocess.{i}.clip.min"),
                                format!("min {a} is above max {b}"),
                                None,
                            );
                        }
                    }
                    self.check_field(field, &format!("preprocess.{i}.clip.field"), &mut bad);
                }
                PreprocessStep::Rolling { field, window, .. } => {
                    if *window == 0 {
                        bad(
                            &format!("preprocess.{i}.rolling.window"),
                            "must be at least 1".into(),
                            None,
                        );
                    }
                    self.check_field(field, &format!("preprocess.{i}.rolling.field"), &mut bad);
                }
                PreprocessStep::Resample {} | PreprocessStep::FillGaps(_) => {}
            }
        }
        let closed_loop = matches!(
            self.policy,
            PolicyConfig::EnergySaving(_) | PolicyConfig::SlaBreach(_)
        );
        match (&self.source, &self.model, &self.policy) {
            (SourceConfig::Flows(src), ModelConfig::Classify(m), PolicyConfig::FlowAlert(p)) => {
                out_flows.extend(crate::flows::check(src, m, p, trust == Origin::Remote));
            }
            (SourceConfig::Flows(_), _, _) | (_, ModelConfig::Classify(_), _) => {
                bad(
                    "model",
                    "flow records go to a flow classifier, and a classifier reads flow records"
                        .into(),
                    Some("use `source: {flows: …}`, `model: {classify: {…}}` and `policy: {flow_alert: {…}}` together"),
                );
            }
            (_, _, PolicyConfig::FlowAlert(_)) => {
                bad(
                    "policy",
                    "a flow alert policy acts on classified flows".into(),
                    Some("use `model: {classify: {…}}` and `source: {flows: …}`"),
                );
            }
            (_, ModelConfig::Anomaly(_), PolicyConfig::Alert(_)) => {}
            (
                _,
                ModelConfig::Forecast(_),
                PolicyConfig::EnergySaving(_)
                | PolicyConfig::SlaBreach(_)
                | PolicyConfig::Forecast(_),
            ) => {}
            (_, ModelConfig::Anomaly(_), _) => {
                bad(
                    "policy",
                    "this policy acts on forecasts".into(),
                    Some("use `model: {forecast: {…}}`"),
                );
            }
            (_, ModelConfig::Forecast(_), _) => {
                bad(
                    "policy",
                    "an alert policy acts on anomaly scores".into(),
                    Some("use `model: {anomaly: {…}}`, or `policy: {forecast: {horizon: …}}` to publish forecasts"),
                );
            }
        }
        if closed_loop && !matches!(self.source, SourceConfig::Sandbox(_)) {
            bad(
                "source",
                "energy saving and SLA-breach prediction run in the sandbox's closed loop".into(),
                Some("use `source: {sandbox: {…}}`, or `policy: {forecast: {…}}` to forecast the file"),
            );
        }
        let forecasts = matches!(self.policy, PolicyConfig::Forecast(_));
        if let PolicyConfig::Forecast(f) = &self.policy {
            if !matches!(self.source, SourceConfig::File(_)) {
                bad(
                    "source",
                    "a forecast policy forecasts a file's series".into(),
                    Some("use `source: {file: {path: …}}` (`ai4ict sandbox generate` writes one)"),
                );
            }
            if !(f.level > 0.0 && f.level < 1.0) {
                bad(
                    "policy.forecast.level",
                    format!("{} is not strictly between 0 and 1", f.level),
                    Some("e.g. 0.9 for 90 % intervals"),
                );
            }
            if f.horizon > MAX_FORECAST_HORIZON {
                bad(
                    "policy.forecast.horizon",
                    format!("{} steps is more than {MAX_FORECAST_HORIZON}", f.horizon),
                    None,
                );
            }
            if f.backtest_windows == 0 {
                bad(
                    "policy.forecast.backtest_windows",
                    "must be at least 1".into(),
                    None,
                );
            }
            if f.season == Some(0) {
                bad(
                    "policy.forecast.season",
                    "must be at least 1 (1: no season); leave it out to find it from the data"
                        .into(),
                    None,
                );
            }
        }
        for (i, d) in self.distribute.iter().enumerate() {
            if d.takes().accepts(forecasts) {
                continue;
            }
            let at = format!("distribute.{i}.{}", d.name());
            if forecasts {
                let msg = format!(
                    "a `{}` sink takes alerts; forecasts go to a `forecast` sink",
                    d.name()
                );
                bad(&at, msg, Some("write `forecast: {path: forecast.csv}`"));
            } else {
                let msg = format!("a `{}` sink needs `policy: {{forecast: {{…}}}}`", d.name());
                bad(&at, msg, Some("alerts go to `file` or `stdout` sinks"));
            }
        }
        let p = match &self.policy {
            PolicyConfig::Alert(p) => p.clone(),
            PolicyConfig::EnergySaving(_)
            | PolicyConfig::SlaBreach(_)
            | PolicyConfig::Forecast(_)
            | PolicyConfig::FlowAlert(_) => AlertPolicy::default(),
        };
        if !(p.score_above > 0.0 && p.score_above <= 1.0) {
            bad(
                "policy.alert.score_above",
                format!("{} is not in (0, 1]", p.score_above),
                None,
            );
        }
        if p.for_intervals == 0 {
            bad(
                "policy.alert.for",
                "must be at least 1 interval".into(),
                None,
            );
        }
        if let Some(a) = p.at_once {
            if !(a > 0.0 && a <= 1.0) {
                bad(
                    "policy.alert.at_once",
                    format!("{a} is not in (0, 1] (null for never)"),
                    None,
                );
            }
        }
        if p.severity.major.is_nan() || p.severity.major > p.severity.critical {
            bad(
                "policy.alert.severity",
                "major must not be above critical".into(),
                None,
            );
        }
        if let Some(q) = &p.quiet_hours {
            if q.from > 23 || q.to > 23 {
                bad("policy.alert.quiet_hours", "hours are 0 to 23".into(), None);
            }
        }
        if let Some(v) = self.targets.max_mase {
            if v.is_nan() || v <= 0.0 {
                bad("targets.max_mase", format!("{v} must be positive"), None);
            }
        }
        for (name, v) in [
            ("precision", self.targets.precision),
            ("recall", self.targets.recall),
            ("macro_f1", self.targets.macro_f1),
        ] {
            if let Some(v) = v {
                if !(0.0..=1.0).contains(&v) {
                    bad(
                        &format!("targets.{name}"),
                        format!("{v} is not in [0, 1]"),
                        None,
                    );
                }
            }
        }
        if let Some(v) = self.targets.p99_latency_ms {
            if v.is_nan() || v <= 0.0 {
                bad(
                    "targets.p99_latency_ms",
                    format!("{v} must be positive"),
                    None,
                );
            }
        }
        for (i, d) in self.distribute.iter().enumerate() {
            for (key, var) in d
                .secret_vars()
                .into_iter()
                .filter(|_| trust == Origin::Remote)
            {
                if let Some(msg) = ai4ict_connectors::remote_var_problem(var) {
                    let at = format!("distribute.{i}.{}.{key}", d.name());
                    bad(&at, msg, Some("name the secret's variable AI4ICT_…"));
                }
            }
            for file in d.files().into_iter().filter(|_| trust == Origin::Remote) {
                let at = format!("distribute.{i}.{}.{}", d.name(), file.key);
                if file.secret {
                    let msg = ai4ict_connectors::remote_file_problem(file.path);
                    bad(&at, msg, Some("use `token_env` or `password_env`"));
                } else if leaves_working_dir(file.path) {
                    let msg = format!("`{}` leaves the working directory", file.path.display());
                    bad(&at, msg, None);
                }
            }
        }
        out.extend(out_flows);
        out
    }

    fn check_field(&self, field: &str, at: &str, bad: &mut impl FnMut(&str, String, Option<&str>)) {
        if !self.collect.fields.is_empty() && !self.collect.fields.iter().any(|f| f == field) {
            let hint = format!("collected fields are {}", self.collect.fields.join(", "));
            bad(at, format!("`{field}` is not collected"), Some(&hint));
        }
    }

    /// The JSON schema of the intent, for editors and `ai4ict intent schema`.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(MlIntent)).unwrap_or_default()
    }
}

fn yaml_options() -> serde_saphyr::Options {
    // Intents are small: a tight budget stops alias bombs ("billion laughs") and deep nesting
    // long before they cost memory or time.
    let mut budget = serde_saphyr::Budget::default();
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_events = 200_000;
    budget.max_nodes = 100_000;
    budget.max_recorded_anchor_events = 20_000;
    budget.max_depth = 32;
    let mut o = serde_saphyr::Options::default();
    o.budget = Some(budget);
    o.with_snippet = false;
    o
}

const TOP_FIELDS: [&str; 12] = [
    "name",
    "description",
    "use_case",
    "source",
    "collect",
    "preprocess",
    "model",
    "policy",
    "distribute",
    "targets",
    "timing",
    "sandbox",
];

fn yaml_problem(text: &str, e: &serde_saphyr::Error) -> Problem {
    let loc = e.location().filter(|l| l.line() > 0);
    let line = loc.map(|l| l.line() as usize);
    let column = loc.map(|l| l.column() as usize);
    let full = e.without_snippet().to_string();
    // The library appends its own "at line X column Y"; we give the place separately.
    let message = match full.find(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full.clone(),
    };
    let field = line.and_then(|l| locate::path_at(text, l, column.unwrap_or(1)));
    let hint = hint_for(&message);
    Problem {
        line,
        column,
        field,
        message,
        hint,
    }
}

fn hint_for(message: &str) -> Option<String> {
    let quoted: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    let first = quoted.first()?;
    let expected: Vec<&str> = match message.find("expected ") {
        Some(i) => message[i + "expected ".len()..]
            .trim_start_matches("one of ")
            .split([',', ' '])
            .map(|w| w.trim_matches(['`', '.']))
            .filter(|w| !w.is_empty() && *w != "or")
            .collect(),
        None => Vec::new(),
    };
    if message.contains("unknown field") {
        let cands = if expected.is_empty() {
            TOP_FIELDS.to_vec()
        } else {
            expected
        };
        return Some(match locate::did_you_mean(first, &cands) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("allowed here: {}", cands.join(", ")),
        });
    }
    if message.contains("unknown variant") && !expected.is_empty() {
        return Some(match locate::did_you_mean(first, &expected) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("one of: {}", expected.join(", ")),
        });
    }
    None
}
