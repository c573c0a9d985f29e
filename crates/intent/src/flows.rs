//! What a flow pipeline learns and alerts on: the classifier (M) and its alert policy (P)
//! for `source: { flows: … }` (issue 15's intrusion detection and traffic classification).

use ai4ict_core::Interval;
use ai4ict_intrusion::{Directions, FlowSourceConfig, SandboxFlows};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A flow classifier (the M node of a flow pipeline, Y.3172 §8.1 NOTE 4): trained on
/// labelled flows, evaluated on a held-out share of them declared here before training
/// (Y.3181 §8.2.1.2), then scoring the intent's source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ClassifyModel {
    /// `gbdt` (histogram gradient-boosted trees) or `random_forest`.
    pub algorithm: ClassifyAlgorithm,
    /// The labelled flows it learns from: `{sandbox: {…}}` (the default: 100,000 flows of a
    /// 50-cell network, seed 7) or `{file: {path: …}}` with a label column.
    pub train: FlowSourceConfig,
    /// Share of each class held out for the evaluation, in (0, 1).
    pub test_fraction: f64,
    /// Seed of the split and the model.
    pub seed: u64,
    /// Boosting rounds at most (gbdt; early stopping may end sooner).
    pub rounds: usize,
    /// Trees (random forest).
    pub trees: usize,
    /// Levels of a tree at most, 1 to 64 (default: 8 for `gbdt`, 20 for `random_forest`).
    /// Scoring walks every level of a tree, so shallower trees score faster.
    pub max_depth: Option<usize>,
    /// Weigh each class as much as every other (`balanced`), or every flow as 1 (`none`).
    pub class_weight: ClassWeighting,
    /// `both` directions of a flow (bidirectional records) or the initiator's only
    /// (`forward`): what NetFlow and IPFIX exports carry. A collector source needs `forward`.
    pub directions: Directions,
}

impl Default for ClassifyModel {
    fn default() -> Self {
        Self {
            algorithm: ClassifyAlgorithm::Gbdt,
            train: FlowSourceConfig::Sandbox(SandboxFlows::default()),
            test_fraction: 0.3,
            seed: 7,
            rounds: 200,
            trees: 100,
            max_depth: None,
            class_weight: ClassWeighting::None,
            directions: Directions::Both,
        }
    }
}

/// The classifier's algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClassifyAlgorithm {
    /// Histogram gradient-boosted trees (multi-class softmax, early stopping).
    #[default]
    Gbdt,
    /// A random forest.
    RandomForest,
}

/// How much each class's flows count in training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeighting {
    /// Every flow counts 1.
    #[default]
    None,
    /// Each class weighs as much as every other.
    Balanced,
}

/// When classified flows raise alerts (the P node of a flow pipeline, Y.3172 §8.1 NOTE 5),
/// and whether hosts are also watched for behaviour no class describes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FlowAlertPolicy {
    /// Classes whose flows raise alerts. Left out: every attack class (all but normal
    /// traffic: the sandbox's normal classes, `benign`, `normal`, `background`); `[]`: none
    /// (traffic classification publishes its class mix only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_classes: Option<Vec<String>>,
    /// Flows of one class from one host, within `suppress`, before the first alert.
    pub min_flows: u32,
    /// One alert per host and class within this time.
    #[schemars(with = "String")]
    pub suppress: Interval,
    /// Watch every host's behaviour over sliding windows and alert on the unusual, which
    /// finds attacks no class describes; `null` to turn it off.
    pub behaviour: Option<BehaviourWatch>,
}

impl Default for FlowAlertPolicy {
    fn default() -> Self {
        Self {
            alert_classes: None,
            min_flows: 3,
            suppress: Interval::from_minutes(10),
            behaviour: Some(BehaviourWatch::default()),
        }
    }
}

/// Per-host behaviour over sliding windows, scored against the population of hosts
/// (no labels, no training).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BehaviourWatch {
    /// Alert when a window scores above this, in (0, 1).
    pub score_above: f64,
    /// Window hop: each host is scored at most once per hop.
    #[schemars(with = "String")]
    pub hop: Interval,
    /// Hops per window.
    pub hops: usize,
    /// No new alert for a host within this time of its last.
    #[schemars(with = "String")]
    pub suppress: Interval,
}

impl Default for BehaviourWatch {
    fn default() -> Self {
        Self {
            score_above: 0.9,
            hop: Interval::from_minutes(1),
            hops: 5,
            suppress: Interval::from_minutes(30),
        }
    }
}

/// Problems of a flow pipeline's model and policy: (field path, message, hint).
pub(crate) fn check(
    source: &FlowSourceConfig,
    model: &ClassifyModel,
    policy: &FlowAlertPolicy,
    remote: bool,
) -> Vec<(String, String, Option<String>)> {
    use ai4ict_core::{ProblemAt, SourceComponent};
    let mut out = Vec::new();
    let mut bad =
        |f: &str, m: String, h: Option<&str>| out.push((f.to_string(), m, h.map(str::to_string)));
    let train = match &model.train {
        FlowSourceConfig::Sandbox(_) => "sandbox",
        FlowSourceConfig::File(_) => "file",
        FlowSourceConfig::Netflow(_) => {
            bad(
                "model.classify.train",
                "a classifier learns from labelled flows; a collector has no labels".into(),
                Some("use `train: {sandbox: {…}}` or `train: {file: {path: …}}`"),
            );
            "netflow"
        }
    };
    for p in model.train.problems(&[], remote) {
        let at = match p.at {
            ProblemAt::Key(key) => format!("model.classify.train.{train}.{key}"),
            _ => format!("model.classify.train.{train}"),
        };
        bad(&at, p.message, p.hint.as_deref());
    }
    if !(model.test_fraction > 0.0 && model.test_fraction < 1.0) {
        bad(
            "model.classify.test_fraction",
            format!("{} is not strictly between 0 and 1", model.test_fraction),
            Some("e.g. 0.3: 30 % of each class held out"),
        );
    }
    if model.rounds == 0 || model.rounds > 10_000 {
        bad(
            "model.classify.rounds",
            format!("{}: give 1 to 10,000", model.rounds),
            None,
        );
    }
    if model.trees == 0 || model.trees > 10_000 {
        bad(
            "model.classify.trees",
            format!("{}: give 1 to 10,000", model.trees),
            None,
        );
    }
    if let Some(d) = model.max_depth.filter(|d| !(1..=64).contains(d)) {
        bad(
            "model.classify.max_depth",
            format!("{d}: give 1 to 64"),
            None,
        );
    }
    if matches!(source, FlowSourceConfig::Netflow(_)) && model.directions != Directions::Forward {
        bad(
            "model.classify.directions",
            "NetFlow and IPFIX records carry one direction each: the model must learn from the initiator's side only".into(),
            Some("write `directions: forward`"),
        );
    }
    if policy.min_flows == 0 {
        bad(
            "policy.flow_alert.min_flows",
            "must be at least 1".into(),
            None,
        );
    }
    if let Some(b) = &policy.behaviour {
        if !(b.score_above > 0.0 && b.score_above < 1.0) {
            bad(
                "policy.flow_alert.behaviour.score_above",
                format!("{} is not strictly between 0 and 1", b.score_above),
                None,
            );
        }
        if b.hops == 0 || b.hops > 1_000 {
            bad(
                "policy.flow_alert.behaviour.hops",
                format!("{}: give 1 to 1,000", b.hops),
                None,
            );
        }
        if b.hop.millis() <= 0 {
            bad(
                "policy.flow_alert.behaviour.hop",
                "must be longer than 0".into(),
                None,
            );
        }
    }
    out
}
