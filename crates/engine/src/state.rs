//! A pipeline's trained state: what every stateful node (PP, M, P) has learned per entity.
//!
//! A model *is* its trained state (Y.3176 §6, the model as an artefact that can be pushed,
//! pulled and deployed): training ends in a snapshot, deployment resumes from it, and the
//! marketplace stores it with its model card. The same snapshot lets a run stopped at time
//! `t` be resumed with exactly the alerts of a run that never stopped (the mechanism that
//! checkpoints build on).
//!
//! On disk: the 8 magic bytes `AI4ICTps`, the format version (`u32`, little endian), then
//! the state in postcard's encoding (compact, and exact for every float, NaN included).

use std::sync::Arc;

use ai4ict_anomaly::{AnyDetector, DetectorConfig, TelemetryCheck};
use ai4ict_core::{Entity, Interval, Timestamp};
use ai4ict_intent::PreprocessStep;
use serde::{Deserialize, Serialize};

use crate::nodes::{PolicyState, PreprocessState};

/// Magic bytes that open a state file.
const MAGIC: &[u8; 8] = b"AI4ICTps";
/// The state format this build writes and reads (2: the model node's telemetry check joined
/// each entity's state; 3: `robust_seasonal`, and so `auto` and `ensemble`, keep slow drift
/// and variance burst evidence per field; 4: the telemetry check counts zeros per hour; 5:
/// `robust_seasonal` keeps its profiles' second day aside until the third; 6: and the
/// relations between an entity's fields; 7: the policy keeps why the peak of a run scored).
pub const STATE_FORMAT: u32 = 7;

/// Why a state could not be read or used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StateError {
    /// The bytes are not an ai4ict pipeline state.
    #[error("not an ai4ict model state (no `AI4ICTps` header)")]
    NotAState,
    /// Written by a build with another format.
    #[error(
        "model state format {found} cannot be read by this build (it reads format {supported})"
    )]
    Format {
        /// The format found.
        found: u32,
        /// The format this build reads.
        supported: u32,
    },
    /// The bytes are damaged.
    #[error("model state is damaged: {0}")]
    Corrupt(String),
    /// The state was trained for another pipeline.
    #[error("model state does not fit this pipeline: {0}")]
    Mismatch(String),
}

/// The trained state of a pipeline (Y.3176 §6 model artefact): per entity, what its
/// preprocessor, model and policy have learned, with what it was trained for.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PipelineState {
    /// Field names, in row order.
    pub fields: Vec<String>,
    /// The collect interval.
    pub interval: Interval,
    /// PP steps the preprocessor state belongs to.
    #[serde(with = "as_json")]
    pub preprocess: Vec<PreprocessStep>,
    /// The model's configuration.
    #[serde(with = "as_json")]
    pub detector: DetectorConfig,
    /// Rows before this time were learned (`None`: the whole stream was).
    pub until: Option<Timestamp>,
    /// Per-entity state, ordered by entity.
    pub entities: Vec<EntityState>,
}

/// What the stateful nodes hold for one entity.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EntityState {
    /// The entity.
    pub entity: Entity,
    pub(crate) preprocess: Option<PreprocessState>,
    pub(crate) model: Option<AnyDetector>,
    pub(crate) telemetry: Option<TelemetryCheck>,
    pub(crate) policy: Option<PolicyState>,
}

impl EntityState {
    pub(crate) fn new(entity: Entity) -> Self {
        Self {
            entity,
            preprocess: None,
            model: None,
            telemetry: None,
            policy: None,
        }
    }
}

impl PipelineState {
    /// The state as bytes: header, format version, body.
    pub fn to_bytes(&self) -> Result<Vec<u8>, StateError> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&STATE_FORMAT.to_le_bytes());
        let body = postcard::to_stdvec(self).map_err(|e| StateError::Corrupt(e.to_string()))?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Reads a state written by [`to_bytes`](Self::to_bytes); never panics on bad bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StateError> {
        let rest = bytes.strip_prefix(MAGIC).ok_or(StateError::NotAState)?;
        let (version, body) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| StateError::Corrupt("truncated header".into()))?;
        let found = u32::from_le_bytes(*version);
        if found != STATE_FORMAT {
            return Err(StateError::Format {
                found,
                supported: STATE_FORMAT,
            });
        }
        let state: Self =
            postcard::from_bytes(body).map_err(|e| StateError::Corrupt(e.to_string()))?;
        state.check_entities()?;
        Ok(state)
    }

    /// Bytes of model state (detectors and telemetry checks) over all entities.
    pub fn model_bytes(&self) -> usize {
        let detectors: usize = self
            .entities
            .iter()
            .filter_map(|e| e.model.as_ref())
            .map(AnyDetector::state_bytes)
            .sum();
        let checks: usize = self
            .entities
            .iter()
            .filter_map(|e| e.telemetry.as_ref())
            .map(TelemetryCheck::state_bytes)
            .sum();
        detectors + checks
    }

    /// Checks that this state can seed a pipeline of `fields` at `interval` running
    /// `detector` (the model must be the one trained; PP state is used only when the steps
    /// are the same, see [`restores_preprocess`](Self::restores_preprocess)).
    pub fn check(
        &self,
        fields: &[String],
        interval: Interval,
        detector: &DetectorConfig,
    ) -> Result<(), StateError> {
        if self.fields != fields {
            return Err(StateError::Mismatch(format!(
                "trained on fields [{}], the pipeline has [{}]",
                self.fields.join(", "),
                fields.join(", ")
            )));
        }
        if self.interval != interval {
            return Err(StateError::Mismatch(format!(
                "trained at interval {}, the pipeline runs at {interval}",
                self.interval
            )));
        }
        if &self.detector != detector {
            return Err(StateError::Mismatch(format!(
                "trained as detector `{}` with other settings than the pipeline's model",
                self.detector.detector.name()
            )));
        }
        Ok(())
    }

    /// Whether the PP state applies to a pipeline with `steps`.
    pub fn restores_preprocess(&self, steps: &[PreprocessStep]) -> bool {
        self.preprocess == steps
    }

    /// Each detector is of the configured kind and each entity appears once.
    fn check_entities(&self) -> Result<(), StateError> {
        let kind = self.detector.detector;
        for pair in self.entities.windows(2) {
            if pair[0].entity >= pair[1].entity {
                return Err(StateError::Corrupt(format!(
                    "entities out of order at `{}`",
                    pair[1].entity.name()
                )));
            }
        }
        if let Some(e) = self
            .entities
            .iter()
            .find(|e| e.model.as_ref().is_some_and(|m| m.kind() != kind))
        {
            return Err(StateError::Corrupt(format!(
                "entity `{}` holds another detector than `{}`",
                e.entity.name(),
                kind.name()
            )));
        }
        Ok(())
    }
}

/// Configs as JSON text inside the binary state: their serde attributes (defaults, fields
/// left out when empty) are made for self-describing formats, which postcard is not.
mod as_json {
    use serde::de::{DeserializeOwned, Error as _};
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        serde_json::to_string(v)
            .map_err(S::Error::custom)?
            .serialize(s)
    }

    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        d: D,
    ) -> Result<T, D::Error> {
        serde_json::from_str(&String::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// The part of a stream a run covers, the state it starts from and whether it ends with one.
#[derive(Clone, Debug, Default)]
pub struct Span {
    /// State to start from (entities it does not hold start fresh).
    pub start: Option<Arc<PipelineState>>,
    /// Rows before this time are skipped.
    pub from: Option<Timestamp>,
    /// Rows at or after this time are not read.
    pub until: Option<Timestamp>,
    /// End with a snapshot of the nodes' state ([`RunOutput::state`](crate::RunOutput)) instead
    /// of closing the stream: open resampling intervals stay open, to be continued.
    pub snapshot: bool,
}
