//! The run in the hub: Model_Push of a trained model with its model card, Model_Selection and
//! Model_Pull for the MLFO (Y.3176 §7, the ML marketplace), and the run recorded as evidence
//! of its use case and intelligence level.
//!
//! The artefact is the pipeline's trained state ([`PipelineState`] bytes), or for a flow
//! intent the classifier ([`Classifier`] bytes): pulling a model pulls what it learned, not
//! a recipe. It lives here, not in the hub crate, so that the hub
//! (a catalogue and store also served over HTTP) stays free of the runtime.

use std::path::Path;

use ai4ict_classify::Classifier;
use ai4ict_hub::models::{sha256_hex, ModelMetadata, ModelQuery, ModelSelection, Port};
use ai4ict_hub::{Hub, HubError};
use ai4ict_intent::{MlIntent, SourceConfig};

use crate::mlfo::{Evaluation, Mlfo, Outcome, RunOptions};
use crate::state::{PipelineState, StateError, STATE_FORMAT};
use crate::EngineError;

/// The alias a model gets when it met its intent's targets.
pub const PRODUCTION: &str = "production";

/// Why a model could not be published or selected.
#[derive(Debug, thiserror::Error)]
pub enum MarketplaceError {
    /// The hub refused or failed.
    #[error("hub: {0}")]
    Hub(#[from] HubError),
    /// The trained state could not be written.
    #[error("model state: {0}")]
    State(#[from] StateError),
    /// The intent the model is selected for cannot be planned.
    #[error("{0}")]
    Plan(#[from] EngineError),
    /// A model card could not be encoded.
    #[error("model card: {0}")]
    Json(#[from] serde_json::Error),
    /// No published model answers the selection.
    #[error("no model `{0}` in the hub")]
    NotFound(String),
    /// The selected version has no artefact.
    #[error("model {name}@{version} has no artifact")]
    NoArtifact {
        /// Model name.
        name: String,
        /// Version.
        version: String,
    },
    /// The artefact is no state this build can run.
    #[error("model {name}@{version} holds no trained state this build can run (published by an older ai4ict? run the intent again to publish one): {source}")]
    Unreadable {
        /// Model name.
        name: String,
        /// Version.
        version: String,
        /// Why.
        #[source]
        source: StateError,
    },
    /// The artefact is no flow classifier this build can run.
    #[error("model {name}@{version} holds no flow classifier this build can run: {source}")]
    UnreadableClassifier {
        /// Model name.
        name: String,
        /// Version.
        version: String,
        /// Why.
        #[source]
        source: ai4ict_classify::ClassifyError,
    },
    /// The classifier reads other features than the intent's flow pipeline computes.
    #[error("model {name}@{version} does not fit intent `{intent}`: {why}")]
    ClassifierMismatch {
        /// Model name.
        name: String,
        /// Version.
        version: String,
        /// The intent's name.
        intent: String,
        /// What differs.
        why: String,
    },
    /// The state was trained on other fields or at another interval than the intent's.
    #[error("model {name}@{version} does not fit intent `{intent}`: {source}")]
    Mismatch {
        /// Model name.
        name: String,
        /// Version.
        version: String,
        /// The intent's name.
        intent: String,
        /// What differs.
        #[source]
        source: StateError,
    },
}

/// A model chosen from the marketplace for an intent (Y.3176 Model_Selection + Model_Pull).
#[derive(Debug)]
pub struct Selected {
    /// The trained model, checked against the hub's sha256 and the intent.
    pub artefact: Artefact,
    /// Model name.
    pub name: String,
    /// Version.
    pub version: String,
    /// The artefact's sha256 as published.
    pub sha256: String,
}

/// What a marketplace model is: a pipeline's trained state, or a flow classifier.
#[derive(Debug)]
pub enum Artefact {
    /// The per-entity state of an anomaly pipeline (`AI4ICTps`), for its fields and interval.
    Pipeline(PipelineState),
    /// A flow classifier with its card (`AI4ICTcl`), for the intent's flow features.
    Classifier(Classifier),
}

impl std::fmt::Display for Selected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "model selected from the hub: {}@{} (sha256 {})",
            self.name, self.version, self.sha256
        )
    }
}

/// Y.3176 Model_Selection and Model_Pull for the MLFO: `NAME` picks the version with the
/// best F1, `NAME@ALIAS` or `NAME@VERSION` a given one. A pulled pipeline state must have
/// been trained on the intent's fields at its interval; a pulled classifier (for a flow
/// intent) on the flow features the intent computes.
pub fn select(hub: &mut Hub, spec: &str, intent: &MlIntent) -> Result<Selected, MarketplaceError> {
    let record = match spec.split_once('@') {
        Some((name, version)) => hub.model(name, version)?,
        None => hub.select_model(&ModelSelection {
            query: ModelQuery {
                name: Some(spec.to_string()),
                ..Default::default()
            },
            metric: Some("f1".into()),
            higher_is_better: true,
        })?,
    }
    .ok_or_else(|| MarketplaceError::NotFound(spec.to_string()))?;
    let (name, version) = (record.metadata.name, record.metadata.version);
    let (_, artifact) =
        hub.pull_model(&name, &version)?
            .ok_or_else(|| MarketplaceError::NoArtifact {
                name: name.clone(),
                version: version.clone(),
            })?;
    let plan = Mlfo::new(intent.clone(), RunOptions::default()).plan()?;
    let artefact = if matches!(intent.source, SourceConfig::Flows(_)) {
        let classifier = Classifier::from_bytes(&artifact).map_err(|source| {
            MarketplaceError::UnreadableClassifier {
                name: name.clone(),
                version: version.clone(),
                source,
            }
        })?;
        if classifier.card.features != plan.fields {
            return Err(MarketplaceError::ClassifierMismatch {
                name,
                version,
                intent: intent.name.clone(),
                why: format!(
                    "it reads {}; the intent computes {}",
                    classifier.card.features.join(", "),
                    plan.fields.join(", ")
                ),
            });
        }
        Artefact::Classifier(classifier)
    } else {
        let state = match PipelineState::from_bytes(&artifact) {
            Ok(s) => s,
            Err(source) => {
                return Err(MarketplaceError::Unreadable {
                    name,
                    version,
                    source,
                })
            }
        };
        // The detector comes from the model itself; fields and interval from the intent.
        if let Err(source) = state.check(&plan.fields, plan.interval, &state.detector) {
            return Err(MarketplaceError::Mismatch {
                name,
                version,
                intent: intent.name.clone(),
                source,
            });
        }
        Artefact::Pipeline(state)
    };
    Ok(Selected {
        artefact,
        name,
        version,
        sha256: record.metadata.sha256,
    })
}

/// Records a finished run in the hub: the Y.3173 level of its pipeline and — for a built-in
/// intent — its metrics as evidence of the AI-for-Good use case; an evaluated anomaly model is
/// also published. Returns what was recorded, or `None` for a run with nothing to record.
pub fn record_run(
    hub: &mut Hub,
    outcome: &Outcome,
    intent: &MlIntent,
    report_dir: &Path,
) -> Result<Option<String>, MarketplaceError> {
    let sandbox = |s: &ai4ict_sandbox::ScenarioConfig| {
        format!(
            "sandbox:{} cells={} days={} seed={}",
            s.scenario.as_str(),
            s.cells,
            s.days,
            s.seed
        )
    };
    let (mut metrics, source, passed) =
        match (&outcome.evaluation, &outcome.closed_loop, &outcome.flows) {
            (Some(e), _, _) => (
                serde_json::json!({
                    "precision": e.metrics.precision,
                    "recall": e.metrics.recall,
                    "f1": e.metrics.f1,
                    "mean_ttd_minutes": e.metrics.mean_ttd_ms.map(|ms| ms / 60_000.0),
                    "incidents": e.metrics.incidents,
                    "alerts": e.metrics.alerts,
                }),
                sandbox(&e.scenario),
                e.passed(),
            ),
            (None, Some(c), _) => {
                let mut m = serde_json::Map::new();
                for t in &c.targets {
                    m.insert(t.name.clone(), serde_json::json!(t.measured));
                }
                if let Some(f) = c.energy.as_ref().and_then(|e| e.policy("forecast")) {
                    m.insert("energy_saved_pct".into(), serde_json::json!(f.saved_pct));
                    m.insert("energy_saved_kwh".into(), serde_json::json!(f.saved_kwh));
                    m.insert(
                        "extra_unserved_pct".into(),
                        serde_json::json!(f.extra_unserved_pct),
                    );
                }
                for sla in &c.sla {
                    m.insert(
                        format!("{}_precision", sla.sla),
                        serde_json::json!(sla.precision),
                    );
                    m.insert(format!("{}_recall", sla.sla), serde_json::json!(sla.recall));
                }
                (
                    serde_json::Value::Object(m),
                    sandbox(&c.scenario),
                    c.passed(),
                )
            }
            (None, None, Some(f)) => (
                serde_json::json!({
                    "macro_f1": f.metrics.macro_f1,
                    "accuracy": f.metrics.accuracy,
                    "held_out_flows": f.test_flows,
                    "classes": f.classes.len(),
                }),
                format!(
                    "{}; {:.0}% of each class held out, seed {}",
                    f.trained_on,
                    f.test_fraction * 100.0,
                    f.seed
                ),
                f.passed(),
            ),
            (None, None, None) => return Ok(None),
        };
    let level = crate::capabilities(outcome).assess();
    hub.record_level(
        &intent.name,
        level.overall.number(),
        &serde_json::to_value(&level)?,
    )?;
    let Some(mut use_case) = ai4ict_hub::usecase::builtin(&intent.name) else {
        return Ok(Some(format!(
            "hub: recorded intelligence level L{} for `{}`",
            level.overall.number(),
            intent.name
        )));
    };
    if let Some(m) = metrics.as_object_mut() {
        m.insert("targets_met".into(), serde_json::json!(passed));
        m.insert(
            "intelligence_level".into(),
            serde_json::json!(level.overall.number()),
        );
        m.insert(
            "report".into(),
            serde_json::json!(report_dir.join("report.json").display().to_string()),
        );
    }
    let at = chrono::Utc::now();
    use_case.evidence = Some(ai4ict_hub::usecase::Evidence {
        run_id: format!("{}-{}", intent.name, at.format("%Y%m%dT%H%M%SZ")),
        metrics,
        source,
        at,
    });
    hub.register_use_case(&use_case)?;
    let published = match (&outcome.evaluation, &outcome.trained) {
        (Some(e), Some(trained)) => {
            let version = at.format("%Y%m%d.%H%M%S").to_string();
            let card = model_card(outcome, intent, e, trained, &version)?;
            format!("; {}", push(hub, &card, trained, e.passed())?)
        }
        (Some(_), None) => "; no trained model to publish".to_string(),
        (None, _) => match outcome.flows.as_ref() {
            Some(f) => match &f.classifier {
                Some(c) => {
                    let version = at.format("%Y%m%d.%H%M%S").to_string();
                    let card = classifier_card(intent, f, c, &version);
                    hub.publish_model(
                        &card,
                        &c.to_bytes()
                            .map_err(|source| MarketplaceError::UnreadableClassifier {
                                name: card.name.clone(),
                                version: version.clone(),
                                source,
                            })?,
                    )?;
                    format!("; {}", alias(hub, &card, f.passed())?)
                }
                None => String::new(),
            },
            None => String::new(),
        },
    };
    Ok(Some(format!(
        "hub: use case `{}` updated with this run as evidence{published}",
        use_case.name
    )))
}

/// What every card the MLFO writes shares: the intent's name and description, the numeric
/// inputs, the standards the pipeline implements and its Resolution 101 domain.
fn card_of(intent: &MlIntent, version: &str, inputs: &[String]) -> ModelMetadata {
    let mut meta = ModelMetadata::new(&intent.name, version, "ai4ict MLFO", "Apache-2.0");
    meta.description = intent.description.clone();
    meta.inputs = inputs
        .iter()
        .map(|f| Port {
            name: f.clone(),
            kind: "f64".into(),
            description: String::new(),
        })
        .collect();
    meta.standards = vec![
        "ITU-T Y.3172".into(),
        "ITU-T Y.3176".into(),
        "ITU-T Y.3181".into(),
    ];
    meta.domain = Some(intent.use_case);
    meta
}

/// The model card (Y.3176 model metadata) of an evaluated anomaly model: its inputs and
/// output, the state format, a fingerprint of the training data, the sandbox metrics and the
/// standards it implements.
pub fn model_card(
    outcome: &Outcome,
    intent: &MlIntent,
    evaluation: &Evaluation,
    trained: &PipelineState,
    version: &str,
) -> Result<ModelMetadata, MarketplaceError> {
    let mut meta = card_of(intent, version, &outcome.plan.fields);
    meta.outputs = vec![Port {
        name: "score".into(),
        kind: "f64".into(),
        description: "calibrated anomaly score in [0, 1]".into(),
    }];
    meta.runtime = format!(
        "ai4ict {} model state format {STATE_FORMAT} (detector `{}`, {} entities)",
        env!("CARGO_PKG_VERSION"),
        trained.detector.detector.name(),
        trained.entities.len()
    );
    let scenario = serde_json::to_vec(&evaluation.scenario)?;
    meta.training_data = format!(
        "sandbox scenario sha256:{}, learned until {}",
        sha256_hex(&scenario),
        trained
            .until
            .map_or_else(|| "the end of the stream".to_string(), |t| t.to_string())
    );
    meta.metrics = [
        ("precision", evaluation.metrics.precision),
        ("recall", evaluation.metrics.recall),
        ("f1", evaluation.metrics.f1),
        ("p99_latency_ms", evaluation.stats.latency_p99_ms),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Ok(meta)
}

/// The model card (Y.3176 model metadata) of a flow classifier evaluated on held-out flows:
/// its flow features and classes, its snapshot format, the training data's fingerprint and
/// the held-out scores (`f1` is the macro F1, so selection by the best F1 works as for
/// anomaly models).
pub fn classifier_card(
    intent: &MlIntent,
    f: &crate::flow_run::FlowEvaluation,
    c: &Classifier,
    version: &str,
) -> ModelMetadata {
    let mut meta = card_of(intent, version, &c.card.features);
    meta.outputs = vec![Port {
        name: "class".into(),
        kind: "string".into(),
        description: format!("one of {}", c.card.classes.join(", ")),
    }];
    meta.runtime = format!(
        "ai4ict {} flow classifier format {} ({}, {} {})",
        env!("CARGO_PKG_VERSION"),
        ai4ict_classify::FORMAT,
        f.algorithm,
        f.size,
        if f.algorithm == "gbdt" {
            "rounds"
        } else {
            "trees"
        }
    );
    meta.training_data = format!(
        "{} flows of {}, sha256:{}; {:.0}% of each class held out (seed {})",
        f.training_flows,
        f.trained_on,
        c.card.training_fingerprint,
        f.test_fraction * 100.0,
        f.seed
    );
    meta.metrics = [
        ("f1", f.metrics.macro_f1),
        ("macro_f1", f.metrics.macro_f1),
        ("accuracy", f.metrics.accuracy),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    meta
}

/// Y.3176 Model_Push: publishes `state` under `card`; a model that met its targets becomes
/// [`PRODUCTION`]. Returns what was done, in a sentence.
pub fn push(
    hub: &mut Hub,
    card: &ModelMetadata,
    state: &PipelineState,
    passed: bool,
) -> Result<String, MarketplaceError> {
    hub.publish_model(card, &state.to_bytes()?)?;
    alias(hub, card, passed)
}

/// Aliases a published model [`PRODUCTION`] when it met its targets; says what was done.
fn alias(hub: &mut Hub, card: &ModelMetadata, passed: bool) -> Result<String, MarketplaceError> {
    let (name, version) = (&card.name, &card.version);
    if passed {
        hub.set_model_alias(name, PRODUCTION, version)?;
        Ok(format!(
            "model {name}@{version} published and aliased `{PRODUCTION}`"
        ))
    } else {
        Ok(format!(
            "model {name}@{version} published (targets missed: not aliased `{PRODUCTION}`)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::EntityState;
    use ai4ict_core::{Entity, Interval};

    fn state(fields: &[&str], minutes: i64, entities: usize) -> PipelineState {
        PipelineState {
            fields: fields.iter().map(|f| f.to_string()).collect(),
            interval: Interval::from_minutes(minutes),
            preprocess: Vec::new(),
            detector: Default::default(),
            until: None,
            entities: (0..entities)
                .map(|i| EntityState::new(Entity::new(format!("cell-{i:02}"))))
                .collect(),
        }
    }

    fn card(version: &str, f1: f64) -> ModelMetadata {
        let mut m = ModelMetadata::new("kpi", version, "test", "Apache-2.0");
        m.metrics = [("f1".to_string(), f1)].into_iter().collect();
        m
    }

    fn intent(fields: &str, interval: &str) -> MlIntent {
        MlIntent::from_yaml(&format!(
            "name: user\nuse_case: operations\nsource:\n  sandbox: {{ cells: 4, days: 2, quiet_days: 1 }}\ncollect: {{ fields: [{fields}], interval: {interval} }}\n"
        ))
        .unwrap()
    }

    #[test]
    fn selects_the_best_f1_and_the_production_alias() {
        let mut hub = Hub::in_memory().unwrap();
        let fit = intent("prb_util, latency", "15m");
        // Three versions: the best F1 is 2, the one that met its targets is 3.
        assert!(push(
            &mut hub,
            &card("1", 0.5),
            &state(&["prb_util", "latency"], 15, 1),
            false
        )
        .is_ok());
        assert!(push(
            &mut hub,
            &card("2", 0.9),
            &state(&["prb_util", "latency"], 15, 2),
            false
        )
        .is_ok());
        let note = push(
            &mut hub,
            &card("3", 0.7),
            &state(&["prb_util", "latency"], 15, 3),
            true,
        )
        .unwrap();
        assert!(note.contains("aliased `production`"), "{note}");

        let entities = |s: &Selected| match &s.artefact {
            Artefact::Pipeline(p) => p.entities.len(),
            Artefact::Classifier(_) => panic!("an anomaly intent pulls a pipeline state"),
        };
        let best = select(&mut hub, "kpi", &fit).unwrap();
        assert_eq!((best.version.as_str(), entities(&best)), ("2", 2));
        let prod = select(&mut hub, "kpi@production", &fit).unwrap();
        assert_eq!((prod.version.as_str(), entities(&prod)), ("3", 3));
        let one = select(&mut hub, "kpi@1", &fit).unwrap();
        assert_eq!(entities(&one), 1);
        assert!(one.to_string().contains("kpi@1 (sha256 "), "{one}");
    }

    #[test]
    fn refuses_a_state_trained_for_other_fields_or_interval() {
        let mut hub = Hub::in_memory().unwrap();
        push(
            &mut hub,
            &card("1", 0.9),
            &state(&["prb_util", "latency"], 15, 1),
            true,
        )
        .unwrap();
        for (fields, interval, why) in [
            ("prb_util, power", "15m", "fields"),
            ("prb_util, latency", "5m", "interval"),
        ] {
            match select(&mut hub, "kpi", &intent(fields, interval)) {
                Err(MarketplaceError::Mismatch { source, .. }) => {
                    assert!(source.to_string().contains(why), "{source}")
                }
                other => panic!("expected a mismatch on {why}, got {other:?}"),
            }
        }
    }

    #[test]
    fn refuses_missing_models_and_artefacts_that_are_no_state() {
        let mut hub = Hub::in_memory().unwrap();
        let fit = intent("prb_util, latency", "15m");
        assert!(matches!(
            select(&mut hub, "kpi", &fit),
            Err(MarketplaceError::NotFound(s)) if s == "kpi"
        ));
        hub.publish_model(&card("1", 0.9), b"{\"detector\":\"auto\"}")
            .unwrap();
        assert!(matches!(
            select(&mut hub, "kpi@1", &fit),
            Err(MarketplaceError::Unreadable {
                source: StateError::NotAState,
                ..
            })
        ));
    }
}
