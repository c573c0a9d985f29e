//! The flow pipeline (issue 15): SRC flow records → C → PP flow features → M classifier →
//! P flow alerts and the behaviour watch → D → SINKs (Y.3172 §8.1). Train fits the classifier
//! on labelled flows; Evaluate scores it on the share of each class held out before training
//! (Y.3181 §8.2.1.2) and checks `targets.macro_f1`; Deploy classifies the intent's source
//! (the sandbox, a flow table, or NetFlow / IPFIX exporters) and sends alerts to its sinks.
//!
//! It runs in one thread beside the dataflow, as the forecast pipeline does: classifying a
//! flow needs no per-entity state, and the behaviour watch keeps its windows of every host in
//! one bounded table ([`ai4ict_intrusion::HostWindows`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use ai4ict_classify::{
    encode_labels, stratified_split, ClassWeight, Classifier, Dataset, Forest, ForestConfig, Gbdt,
    GbdtConfig, Metrics, Model, Scorer,
};
use ai4ict_connectors::AlertSink;
use ai4ict_core::{Against, Alert, Entity, Explanation, Severity, SourceComponent, Timestamp};
use ai4ict_intent::{
    ClassWeighting, ClassifyAlgorithm, ClassifyModel, FlowAlertPolicy, MlIntent, ModelConfig,
    PolicyConfig, SourceConfig,
};
use ai4ict_intrusion::{
    evaluate, feature_names, flow_features, is_normal, watch_settings, BehaviourConfig, Directions,
    FlowObs, FlowSourceConfig, HostAlert, HostWatch, WindowConfig,
};
use ai4ict_sandbox::FlowClass;
use serde::Serialize;

use crate::mlfo::{
    NodeRole, Outcome, Plan, PlannedNode, RunOptions, Stage, StageRecord, Status, TargetCheck,
};
use crate::EngineError;

/// Flows scored per classifier call: large enough for the compiled scorer's blocks, small
/// enough that a live source's alerts are not held back.
pub const SCORE_BATCH: usize = 8_192;
/// (host, class) pairs the alert policy follows at most; beyond, pairs quiet for longer than
/// `suppress` are forgotten first, then new pairs are counted and not followed.
const MAX_TRACKED: usize = 200_000;

/// What the flow pipeline measured: the held-out evaluation, and the deployment's figures.
#[derive(Clone, Debug, Serialize)]
pub struct FlowEvaluation {
    /// `gbdt` or `random_forest`.
    pub algorithm: String,
    /// Boosting rounds kept (gbdt) or trees (forest).
    pub size: usize,
    /// Levels of its deepest tree (what scoring a flow walks through, per tree).
    pub depth: usize,
    /// Where the labelled flows came from.
    pub trained_on: String,
    /// Feature names, in order.
    pub features: Vec<String>,
    /// Class names, in order (the metrics' order).
    pub classes: Vec<String>,
    /// The classes that alert.
    pub alert_classes: Vec<String>,
    /// Flows trained on, and held out.
    pub training_flows: usize,
    /// Flows held out (the test side of the split declared in the intent).
    pub test_flows: usize,
    /// The declared split: share of each class held out, and its seed.
    pub test_fraction: f64,
    /// Seed of the split and the model.
    pub seed: u64,
    /// Labelled rows left out (no label).
    pub unlabelled: usize,
    /// Seconds training took.
    pub train_seconds: f64,
    /// Per-class precision, recall and F1, macro F1, confusion on the held-out flows.
    pub metrics: Metrics,
    /// Share of the total gain per feature (sums to 1).
    pub importance: Vec<f64>,
    /// sha256 of the training data (the model card's fingerprint, Y.3176).
    pub training_fingerprint: String,
    /// Checks against the intent's targets.
    pub targets: Vec<TargetCheck>,
    /// The deployment, when it ran.
    pub deployment: Option<FlowDeployment>,
    /// The classifier this run trained, with its card (the Y.3176 artefact the hub
    /// publishes); `None` when it was given (pulled from the hub).
    #[serde(skip)]
    pub classifier: Option<Arc<Classifier>>,
}

impl FlowEvaluation {
    /// True when every target is met.
    pub fn passed(&self) -> bool {
        self.targets.iter().all(|t| t.passed)
    }
}

/// What the deployed flow pipeline did.
#[derive(Clone, Debug, Serialize)]
pub struct FlowDeployment {
    /// The source, in words.
    pub source: String,
    /// Flows classified.
    pub flows: u64,
    /// Rows of a file skipped as malformed (first ones listed in `notes`).
    pub skipped: u64,
    /// Flows per predicted class, in class order.
    pub predicted: Vec<u64>,
    /// Alerts on classified flows.
    pub class_alerts: u64,
    /// Alerts of the behaviour watch.
    pub behaviour_alerts: u64,
    /// Flows of an alerting class not alerted because their host and class had alerted
    /// within `suppress`.
    pub suppressed: u64,
    /// Flows per second of the time spent on them (features, model, policy, behaviour watch,
    /// sinks), on one thread; reading the source is not counted.
    pub flows_per_second: f64,
    /// Seconds it ran.
    pub seconds: f64,
    /// Per-flow metrics against the source's own labels, when it has them (the sandbox, a
    /// labelled table); flows of a class the model does not know are left out and counted.
    pub metrics: Option<Metrics>,
    /// Labelled flows of a class the model was not trained on.
    pub unknown_class_flows: u64,
    /// Class alerts on a host that took part in an attack of the source (either side), and
    /// all class alerts, when the source has labels.
    pub class_alert_precision: Option<f64>,
    /// Behaviour watch against the labels: alert precision, share of attack actors found.
    pub behaviour_precision: Option<f64>,
    /// Share of attack actors the behaviour watch found.
    pub behaviour_recall: Option<f64>,
    /// Records a collector source decoded, and the records its exporters' sequence numbers
    /// say were lost on the way (NetFlow, IPFIX).
    pub collected: Option<(u64, u64)>,
    /// Remarks: skipped rows, collector counts.
    pub notes: Vec<String>,
    /// Sink failures (each sink's first).
    pub errors: Vec<String>,
}

fn node(role: NodeRole, description: String) -> PlannedNode {
    PlannedNode {
        role,
        description,
        clause: NodeRole::clause(role),
        not_applied: None,
    }
}

fn parts(
    i: &MlIntent,
) -> Result<(&FlowSourceConfig, &ClassifyModel, &FlowAlertPolicy), EngineError> {
    match (&i.source, &i.model, &i.policy) {
        (SourceConfig::Flows(s), ModelConfig::Classify(m), PolicyConfig::FlowAlert(p)) => {
            Ok((s, m, p))
        }
        _ => Err(EngineError::Plan(
            "a flow pipeline needs `source: {flows: …}`, `model: {classify: …}` and `policy: {flow_alert: …}`".into(),
        )),
    }
}

/// The flow pipeline's graph (Y.3172 §8.3 chaining).
pub(crate) fn plan(i: &MlIntent) -> Result<Plan, EngineError> {
    let (source, model, policy) = parts(i)?;
    let features: Vec<String> = feature_names(model.directions)
        .into_iter()
        .map(String::from)
        .collect();
    let mut nodes = vec![
        node(NodeRole::Src, source.describe()),
        node(
            NodeRole::C,
            "flow records (start, addresses, ports, protocol, packets, bytes, TCP flags), sorted by start".into(),
        ),
        node(
            NodeRole::Pp,
            format!(
                "{} flow features ({} direction{}): {}",
                features.len(),
                match model.directions {
                    Directions::Both => "both",
                    Directions::Forward => "the initiator's",
                },
                if model.directions == Directions::Both { "s" } else { "" },
                features.join(", ")
            ),
        ),
        node(
            NodeRole::M,
            format!(
                "{}{} trained on {}, {:.0}% of each class held out (seed {})",
                match model.algorithm {
                    ClassifyAlgorithm::Gbdt => format!("gradient-boosted trees, at most {} rounds", model.rounds),
                    ClassifyAlgorithm::RandomForest => format!("random forest of {} trees", model.trees),
                },
                model.max_depth.map_or(String::new(), |d| format!(" of depth {d} at most")),
                model.train.describe(),
                model.test_fraction * 100.0,
                model.seed
            ),
        ),
        node(
            NodeRole::P,
            format!(
                "alert on {} after {} flow(s) of a host, once per host and class per {}{}",
                match &policy.alert_classes {
                    None => "attack classes".to_string(),
                    Some(c) if c.is_empty() => "no class (class mix only)".to_string(),
                    Some(c) => c.join(", "),
                },
                policy.min_flows,
                policy.suppress,
                policy.behaviour.as_ref().map_or(String::new(), |b| format!(
                    "; host behaviour over {} × {} windows, alert above {}, once per {}",
                    b.hops, b.hop, b.score_above, b.suppress
                ))
            ),
        ),
        node(
            NodeRole::D,
            format!("{} sink(s), in flow order", i.distribute.len()),
        ),
    ];
    nodes.extend(
        i.distribute
            .iter()
            .map(|d| node(NodeRole::Sink, d.describe())),
    );
    Ok(Plan {
        fields: features,
        interval: policy.suppress,
        nodes,
    })
}

/// Labelled flows for training: each flow with its class name; rows without one are counted.
fn labelled(train: &FlowSourceConfig) -> Result<(Vec<FlowObs>, Vec<String>, usize), EngineError> {
    let src = |e: ai4ict_intrusion::IntrusionError| EngineError::Source(e.to_string());
    let mut reader = train.open().map_err(src)?;
    let never = std::sync::atomic::AtomicBool::new(false);
    let (mut flows, mut classes, mut unlabelled) = (Vec::new(), Vec::new(), 0);
    while let Some(batch) = reader.next_batch(&never) {
        let batch = batch.map_err(src)?;
        for (f, c) in batch.flows.into_iter().zip(batch.classes) {
            match c.filter(|c| !c.trim().is_empty()) {
                Some(c) => {
                    flows.push(f);
                    classes.push(c.trim().to_string());
                }
                None => unlabelled += 1,
            }
        }
    }
    if flows.is_empty() {
        return Err(EngineError::Source(format!(
            "{}: no labelled flow to train on (a flow table needs a label column)",
            train.target()
        )));
    }
    Ok((flows, classes, unlabelled))
}

/// The classes whose flows alert: the policy's, or every class that is not normal traffic.
pub fn alert_classes(
    policy: &FlowAlertPolicy,
    classes: &[String],
) -> Result<Vec<bool>, EngineError> {
    match &policy.alert_classes {
        None => Ok(classes.iter().map(|c| is_attack(c)).collect()),
        Some(listed) => {
            if let Some(unknown) = listed.iter().find(|l| !classes.contains(l)) {
                return Err(EngineError::Plan(format!(
                    "policy.flow_alert.alert_classes: `{unknown}` is not a class of the training data ({})",
                    classes.join(", ")
                )));
            }
            Ok(classes.iter().map(|c| listed.contains(c)).collect())
        }
    }
}

/// Whether a class name is an attack: not normal traffic by [`is_normal`] and not one of the
/// sandbox's normal classes.
fn is_attack(class: &str) -> bool {
    let sandbox_normal = FlowClass::ALL
        .iter()
        .any(|c| !c.is_attack() && c.name().eq_ignore_ascii_case(class));
    !sandbox_normal && !is_normal(Some(class))
}

/// The classifier compiled once for scoring (GBDT or forest), as a pipeline node holds it.
#[derive(Clone)]
pub struct Scoring(Box<Scorer>);

impl Scoring {
    /// The classifier compiled for scoring, and its size (rounds or trees).
    pub fn new(classifier: &Classifier) -> Result<(Self, usize), EngineError> {
        let (scorer, size) = match &classifier.model {
            Model::Gbdt(g) => (g.scorer(), g.rounds),
            Model::Forest(f) => (f.scorer(), f.trees.len()),
        };
        Ok((Self(Box::new(scorer.map_err(fit_error)?)), size))
    }

    /// The class of each row of a row-major matrix.
    pub fn predict(&self, rows: &[f64]) -> Result<Vec<u32>, EngineError> {
        self.0.predict_rows(rows).map_err(fit_error)
    }
}

fn fit_error(e: ai4ict_classify::ClassifyError) -> EngineError {
    EngineError::Plan(format!("classifier: {e}"))
}

/// The lifecycle of a flow intent: train, evaluate on the held-out share, deploy on the
/// source when the targets are met (or `force`).
pub(crate) fn run_intent(
    intent: &MlIntent,
    options: &RunOptions,
    outcome: &mut Outcome,
) -> Result<(), EngineError> {
    let (source, model, policy) = parts(intent)?;
    let t = Instant::now();
    let (flows, names, unlabelled) = labelled(&model.train)?;
    let (classes, labels) = encode_labels(&names);
    let features = feature_names(model.directions);
    let mut columns = vec![Vec::with_capacity(flows.len()); features.len()];
    let mut row = Vec::with_capacity(features.len());
    for f in &flows {
        row.clear();
        flow_features(f, model.directions, &mut row);
        for (c, v) in columns.iter_mut().zip(&row) {
            c.push(*v);
        }
    }
    let data = Dataset {
        features: features.iter().map(|s| s.to_string()).collect(),
        columns,
        labels,
        classes: classes.clone(),
    };
    data.validate()
        .map_err(|e| EngineError::Source(format!("{}: {e}", model.train.target())))?;
    let (train_rows, test_rows) =
        stratified_split(&data.labels, classes.len(), model.test_fraction, model.seed);
    let (train, test) = (data.subset(&train_rows), data.subset(&test_rows));
    let class_weight = match model.class_weight {
        ClassWeighting::None => ClassWeight::None,
        ClassWeighting::Balanced => ClassWeight::Balanced,
    };
    let classifier = match &options.classifier {
        Some(pulled) => {
            if pulled.card.features != data.features {
                return Err(EngineError::Plan(format!(
                    "the given classifier reads {}; this intent computes {}",
                    pulled.card.features.join(", "),
                    data.features.join(", ")
                )));
            }
            if pulled.card.classes != classes {
                return Err(EngineError::Plan(format!(
                    "the given classifier knows the classes {}; the training data has {}",
                    pulled.card.classes.join(", "),
                    classes.join(", ")
                )));
            }
            Arc::clone(pulled)
        }
        None => {
            let model = match model.algorithm {
                ClassifyAlgorithm::Gbdt => Model::Gbdt(
                    Gbdt::fit(
                        &train,
                        &GbdtConfig {
                            rounds: model.rounds,
                            seed: model.seed,
                            class_weight,
                            max_depth: model.max_depth.unwrap_or(GbdtConfig::default().max_depth),
                            ..GbdtConfig::default()
                        },
                    )
                    .map_err(fit_error)?,
                ),
                ClassifyAlgorithm::RandomForest => Model::Forest(
                    Forest::fit(
                        &train,
                        &ForestConfig {
                            trees: model.trees,
                            seed: model.seed,
                            class_weight,
                            max_depth: model.max_depth.unwrap_or(ForestConfig::default().max_depth),
                            ..ForestConfig::default()
                        },
                    )
                    .map_err(fit_error)?,
                ),
            };
            Arc::new(Classifier::new(&intent.name, model, &train))
        }
    };
    let (scoring, size) = Scoring::new(&classifier)?;
    let train_seconds = t.elapsed().as_secs_f64();
    outcome.stages.push(StageRecord::new(
        Stage::Train,
        Status::Passed,
        format!(
            "{} {} {} flows of {} classes ({} held out){}",
            classifier.card.algorithm,
            if options.classifier.is_some() {
                "pulled, not trained; its training data has"
            } else {
                "on"
            },
            train.rows(),
            classes.len(),
            test.rows(),
            if unlabelled > 0 {
                format!("; {unlabelled} flows without a label left out")
            } else {
                String::new()
            }
        ),
        train_seconds,
    ));

    let t = Instant::now();
    let mut x = Vec::with_capacity(test.rows() * features.len());
    for r in 0..test.rows() {
        x.extend(test.columns.iter().map(|c| c[r]));
    }
    let predicted = scoring.predict(&x)?;
    let metrics = Metrics::new(&test.labels, &predicted, classes.len());
    let gain = classifier.importance();
    let total: f64 = gain.iter().sum::<f64>();
    let importance = gain
        .iter()
        .map(|g| if total > 0.0 { g / total } else { 0.0 })
        .collect();
    let targets: Vec<TargetCheck> =
        TargetCheck::new("macro_f1", intent.targets.macro_f1, metrics.macro_f1, true)
            .into_iter()
            .collect();
    let alerting = alert_classes(policy, &classes)?;
    let mut evaluation = FlowEvaluation {
        algorithm: classifier.card.algorithm.clone(),
        size,
        depth: classifier.depth(),
        trained_on: model.train.describe(),
        features: data.features.clone(),
        classes: classes.clone(),
        alert_classes: classes
            .iter()
            .zip(&alerting)
            .filter(|(_, a)| **a)
            .map(|(c, _)| c.clone())
            .collect(),
        training_flows: train.rows(),
        test_flows: test.rows(),
        test_fraction: model.test_fraction,
        seed: model.seed,
        unlabelled,
        train_seconds,
        metrics,
        importance,
        training_fingerprint: classifier.card.training_fingerprint.clone(),
        targets,
        deployment: None,
        // A pulled classifier is in the hub already: only a trained one is new.
        classifier: options
            .classifier
            .is_none()
            .then(|| Arc::clone(&classifier)),
    };
    let passed = evaluation.passed();
    outcome.stages.push(StageRecord::new(
        Stage::Evaluate,
        if passed {
            Status::Passed
        } else {
            Status::Failed
        },
        format!(
            "held-out flows: macro F1 {:.4}, accuracy {:.4} over {} flows{}",
            evaluation.metrics.macro_f1,
            evaluation.metrics.accuracy,
            test.rows(),
            evaluation
                .targets
                .iter()
                .map(|c| format!(
                    "; {} {:.4} against {} ({})",
                    c.name,
                    c.measured,
                    c.target,
                    if c.passed { "met" } else { "missed" }
                ))
                .collect::<String>()
        ),
        t.elapsed().as_secs_f64(),
    ));
    if options.progress.stop.load(Ordering::Relaxed) {
        outcome.stages.push(StageRecord::new(
            Stage::Deploy,
            Status::Skipped,
            "the run was stopped by the operator; nothing deployed".into(),
            0.0,
        ));
    } else if !passed && !options.force {
        outcome.stages.push(StageRecord::new(
            Stage::Deploy,
            Status::Skipped,
            "the held-out evaluation missed a target; nothing deployed (use --force to deploy anyway)".into(),
            0.0,
        ));
    } else {
        let deployed = Deployed {
            intent,
            source,
            model,
            policy,
            scoring: &scoring,
            classes: &classes,
            alerting: &alerting,
        };
        let t = Instant::now();
        let d = deployed.run(options)?;
        let status = if options.progress.stop.load(Ordering::Relaxed) && !source.is_live() {
            Status::Stopped
        } else if !d.errors.is_empty() {
            Status::Failed
        } else {
            Status::Passed
        };
        outcome.stages.push(StageRecord::new(
            Stage::Deploy,
            status,
            format!(
                "{} flows from {}, {} class alerts and {} behaviour alerts delivered to {} sink(s)",
                d.flows,
                source.target(),
                d.class_alerts,
                d.behaviour_alerts,
                intent.distribute.len()
            ),
            t.elapsed().as_secs_f64(),
        ));
        evaluation.deployment = Some(d);
    }
    outcome.flows = Some(evaluation);
    Ok(())
}

/// One (host, class) pair the alert policy follows.
#[derive(Clone, Copy)]
struct Pair {
    /// Flows since the first of the current run.
    count: u32,
    /// The first flow of the current run.
    first: Timestamp,
    /// The latest flow.
    last: Timestamp,
    /// The last alert.
    alerted: Option<Timestamp>,
}

/// The P node for classified flows: `min_flows` flows of an alerting class at one host (on
/// either side of the flow: a scanner, a flood's victim) within `suppress` raise one alert,
/// then none for that host and class within `suppress`.
struct ClassAlerts {
    min_flows: u32,
    suppress: i64,
    pairs: HashMap<(IpAddr, u32), Pair>,
    suppressed: u64,
    untracked: u64,
}

impl ClassAlerts {
    fn new(policy: &FlowAlertPolicy) -> Self {
        Self {
            min_flows: policy.min_flows.max(1),
            suppress: policy.suppress.millis(),
            pairs: HashMap::new(),
            suppressed: 0,
            untracked: 0,
        }
    }

    fn push(&mut self, host: IpAddr, class: u32, time: Timestamp) -> Option<Timestamp> {
        if self.pairs.len() >= MAX_TRACKED && !self.pairs.contains_key(&(host, class)) {
            let (suppress, now) = (self.suppress, time.0);
            self.pairs.retain(|_, p| now - p.last.0 < suppress);
            if self.pairs.len() >= MAX_TRACKED {
                self.untracked += 1;
                return None;
            }
        }
        let p = self.pairs.entry((host, class)).or_insert(Pair {
            count: 0,
            first: time,
            last: time,
            alerted: None,
        });
        p.last = time;
        if p.alerted.is_some_and(|a| time.0 - a.0 < self.suppress) {
            self.suppressed += 1;
            return None;
        }
        if p.count == 0 || time.0 - p.first.0 >= self.suppress {
            p.count = 0;
            p.first = time;
        }
        p.count += 1;
        if p.count < self.min_flows {
            return None;
        }
        p.count = 0;
        p.alerted = Some(time);
        Some(p.first)
    }
}

/// The behaviour watch's windows and scoring of `policy`, when it has one.
fn watch_settings_of(policy: &FlowAlertPolicy) -> Option<(WindowConfig, BehaviourConfig)> {
    policy
        .behaviour
        .as_ref()
        .map(|b| watch_settings(b.hop.millis(), b.hops, b.score_above, b.suppress.millis()))
}

/// The per-flow nodes of a deployed flow pipeline on one thread: PP (each flow's features
/// into one reused buffer), M (the classifier), P (class alerts) and the behaviour watch.
/// Each stage is a call of its own so that `ai4ict bench flows` can time it; a deployment
/// calls them in order on each chunk of flows.
pub struct FlowNodes<'a> {
    directions: Directions,
    scoring: &'a Scoring,
    classes: &'a [String],
    alerting: &'a [bool],
    policy: ClassAlerts,
    watch: Option<HostWatch>,
    features: Vec<f64>,
    predicted: Vec<u32>,
    host_alerts: Vec<HostAlert>,
}

impl<'a> FlowNodes<'a> {
    /// Nodes scoring with `scoring` the features of `directions`, alerting on the classes
    /// `alerting` marks (one flag per class of `classes`) as `policy` says.
    pub fn new(
        scoring: &'a Scoring,
        directions: Directions,
        classes: &'a [String],
        alerting: &'a [bool],
        policy: &FlowAlertPolicy,
    ) -> Result<Self, EngineError> {
        let watch = watch_settings_of(policy)
            .map(|(w, b)| HostWatch::new(w, b))
            .transpose()
            .map_err(|e| EngineError::Source(e.to_string()))?;
        Ok(Self {
            directions,
            scoring,
            classes,
            alerting,
            policy: ClassAlerts::new(policy),
            watch,
            features: Vec::new(),
            predicted: Vec::new(),
            host_alerts: Vec::new(),
        })
    }

    /// PP: the features of `flows`, in place of the previous chunk's.
    pub fn features(&mut self, flows: &[FlowObs]) {
        self.features.clear();
        for f in flows {
            flow_features(f, self.directions, &mut self.features);
        }
    }

    /// M: the class of each flow given to the last [`FlowNodes::features`].
    pub fn score(&mut self) -> Result<&[u32], EngineError> {
        self.predicted = self.scoring.predict(&self.features)?;
        Ok(&self.predicted)
    }

    /// P: the class alerts of `flows` (the chunk last scored), in flow order; each alerted
    /// host also goes to `hosts`.
    pub fn alert(&mut self, flows: &[FlowObs], alerts: &mut Vec<Alert>, hosts: &mut Vec<IpAddr>) {
        for (f, &p) in flows.iter().zip(&self.predicted) {
            if !self.alerting[p as usize] {
                continue;
            }
            for host in [f.src, f.dst] {
                if let Some(onset) = self.policy.push(host, p, f.start) {
                    hosts.push(host);
                    alerts.push(Alert {
                        entity: Entity::new(host.to_string()),
                        time: f.start,
                        onset,
                        score: 1.0,
                        severity: Severity::Major,
                        field: self.classes[p as usize].clone(),
                        why: None,
                    });
                }
            }
        }
    }

    /// The behaviour watch: counts `flows`; the alerts of the hops they close go to `alerts`.
    pub fn watch(&mut self, flows: &[FlowObs], alerts: &mut Vec<Alert>) {
        if let Some(w) = self.watch.as_mut() {
            for f in flows {
                w.push(f, &mut self.host_alerts);
            }
            alerts.extend(self.host_alerts.drain(..).map(behaviour_alert));
        }
    }

    /// Closes the behaviour watch's open hop (at the end of the stream); its alerts go to
    /// `alerts`.
    pub fn finish(&mut self, alerts: &mut Vec<Alert>) {
        if let Some(w) = self.watch.as_mut() {
            w.finish(&mut self.host_alerts);
            alerts.extend(self.host_alerts.drain(..).map(behaviour_alert));
        }
    }

    /// Flows of an alerting class not alerted because their host and class had alerted
    /// within `suppress`.
    pub fn suppressed(&self) -> u64 {
        self.policy.suppressed
    }

    /// Flows of alerting classes not counted because `MAX_TRACKED` pairs were followed.
    pub fn untracked(&self) -> u64 {
        self.policy.untracked
    }
}

/// The deployed flow pipeline, borrowing what training made.
struct Deployed<'a> {
    intent: &'a MlIntent,
    source: &'a FlowSourceConfig,
    model: &'a ClassifyModel,
    policy: &'a FlowAlertPolicy,
    scoring: &'a Scoring,
    classes: &'a [String],
    alerting: &'a [bool],
}

impl Deployed<'_> {
    fn run(&self, options: &RunOptions) -> Result<FlowDeployment, EngineError> {
        let began = Instant::now();
        let src = |e: ai4ict_intrusion::IntrusionError| EngineError::Source(e.to_string());
        let mut reader = self.source.open().map_err(src)?;
        let mut sinks: Vec<Box<dyn AlertSink>> = self
            .intent
            .distribute
            .iter()
            .map(|d| {
                d.build_for(&self.intent.name)
                    .map_err(|e| EngineError::Output(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let mut nodes = FlowNodes::new(
            self.scoring,
            self.model.directions,
            self.classes,
            self.alerting,
            self.policy,
        )?;
        let index: HashMap<&str, u32> = self
            .classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i as u32))
            .collect();
        let k = self.classes.len();
        let mut d = FlowDeployment {
            source: self.source.describe(),
            flows: 0,
            skipped: 0,
            predicted: vec![0; k],
            class_alerts: 0,
            behaviour_alerts: 0,
            suppressed: 0,
            flows_per_second: 0.0,
            seconds: 0.0,
            metrics: None,
            unknown_class_flows: 0,
            class_alert_precision: None,
            behaviour_precision: None,
            behaviour_recall: None,
            collected: None,
            notes: Vec::new(),
            errors: Vec::new(),
        };
        let (mut truth, mut guessed) = (Vec::new(), Vec::new());
        // Kept only for a labelled source, to score the alerts afterwards.
        let (mut kept_flows, mut kept_labels) = (Vec::new(), Vec::new());
        let mut alerts: Vec<Alert> = Vec::new();
        let mut alerted_hosts: Vec<IpAddr> = Vec::new();
        let stop = &options.progress.stop;
        let mut busy = std::time::Duration::ZERO;
        while let Some(batch) = reader.next_batch(stop) {
            let batch = batch.map_err(src)?;
            let work = Instant::now();
            for (chunk, labels) in batch
                .flows
                .chunks(SCORE_BATCH)
                .zip(batch.classes.chunks(SCORE_BATCH))
            {
                nodes.features(chunk);
                let predicted = nodes.score()?;
                for (&p, label) in predicted.iter().zip(labels) {
                    d.predicted[p as usize] += 1;
                    if let Some(label) = label {
                        match index.get(label.trim()) {
                            Some(&t) => {
                                truth.push(t);
                                guessed.push(p);
                            }
                            None => d.unknown_class_flows += 1,
                        }
                    }
                }
                nodes.alert(chunk, &mut alerts, &mut alerted_hosts);
                let class_alerts = alerts.len();
                nodes.watch(chunk, &mut alerts);
                d.class_alerts += class_alerts as u64;
                d.behaviour_alerts += (alerts.len() - class_alerts) as u64;
                deliver(&mut sinks, &alerts, &mut d.errors);
                options
                    .progress
                    .alerts
                    .fetch_add(alerts.len() as u64, Ordering::Relaxed);
                alerts.clear();
                d.flows += chunk.len() as u64;
                options
                    .progress
                    .rows
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                if let Some(last) = chunk.last() {
                    options
                        .progress
                        .event_time
                        .store(last.start.0, Ordering::Relaxed);
                }
            }
            busy += work.elapsed();
            if batch.classes.iter().any(Option::is_some) {
                kept_flows.extend_from_slice(&batch.flows);
                kept_labels.extend(
                    batch
                        .classes
                        .iter()
                        .map(|c| c.as_deref().filter(|c| is_attack(c)).map(str::to_string)),
                );
            }
        }
        nodes.finish(&mut alerts);
        d.behaviour_alerts += alerts.len() as u64;
        deliver(&mut sinks, &alerts, &mut d.errors);
        for s in &mut sinks {
            if let Err(e) = s.finish() {
                d.errors.push(e.to_string());
            }
        }
        d.seconds = began.elapsed().as_secs_f64();
        d.flows_per_second = d.flows as f64 / busy.as_secs_f64().max(1e-9);
        d.suppressed = nodes.suppressed();
        if nodes.untracked() > 0 {
            d.notes.push(format!(
                "{} flows of alerting classes past the {MAX_TRACKED} followed host-class pairs were not counted",
                nodes.untracked()
            ));
        }
        let (problems, more) = reader.skipped();
        d.skipped = problems.len() as u64 + more;
        d.notes.extend(
            problems
                .iter()
                .take(5)
                .map(|p| format!("{}: {p} (row skipped)", self.source.target())),
        );
        if let Some(stats) = reader.collector_stats() {
            d.collected = Some((stats.total.records, stats.total.lost_records));
            d.notes
                .extend(stats.to_string().lines().map(|l| format!("collector: {l}")));
        }
        if !truth.is_empty() {
            d.metrics = Some(Metrics::new(&truth, &guessed, k));
        }
        if kept_labels.iter().any(Option::is_some) {
            let attackers: std::collections::HashSet<IpAddr> = kept_flows
                .iter()
                .zip(&kept_labels)
                .filter(|(_, l)| l.is_some())
                .flat_map(|(f, _)| [f.src, f.dst])
                .collect();
            if !alerted_hosts.is_empty() {
                let hits = alerted_hosts
                    .iter()
                    .filter(|h| attackers.contains(h))
                    .count();
                d.class_alert_precision = Some(hits as f64 / alerted_hosts.len() as f64);
            }
            if let Some((window, watch_config)) = watch_settings_of(self.policy) {
                let e = evaluate(&kept_flows, &kept_labels, window, watch_config).map_err(src)?;
                d.behaviour_precision = Some(e.precision());
                d.behaviour_recall = Some(e.recall());
            }
        }
        Ok(d)
    }
}

/// A behaviour watch alert as the sinks take it: the host, the feature most out of line.
fn behaviour_alert(a: HostAlert) -> Alert {
    Alert {
        entity: Entity::new(a.host.to_string()),
        time: a.time,
        onset: a.time,
        score: a.score,
        severity: if a.score >= 0.97 {
            Severity::Major
        } else {
            Severity::Minor
        },
        field: format!("behaviour: {}", a.feature),
        why: Some(Explanation {
            against: Against::Population,
            field: a.feature.to_string(),
            value: Some(a.value),
            expected: a.usual,
            spread: None,
            partner: None,
            intervals: None,
            surprise: None,
        }),
    }
}

/// Writes `alerts` to every sink; a failure is kept (once per message), and the other sinks
/// go on.
fn deliver(sinks: &mut [Box<dyn AlertSink>], alerts: &[Alert], errors: &mut Vec<String>) {
    if alerts.is_empty() {
        return;
    }
    for s in sinks.iter_mut() {
        if let Err(e) = s.write(alerts) {
            let e = e.to_string();
            if !errors.contains(&e) {
                errors.push(e);
            }
        }
    }
}
