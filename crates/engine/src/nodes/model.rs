use ai4ict_anomaly::{AnyDetector, DetectorConfig, Score};
use ai4ict_core::{Batch, Entity, Interval};

use super::EntityMap;
use crate::EngineError;

/// A batch with the model's calibrated score for each row.
#[derive(Clone, Debug, Default)]
pub struct Scored {
    /// The rows the model saw.
    pub batch: Batch,
    /// One score per row.
    pub scores: Vec<Score>,
}

/// The model node (Y.3172 §8.1, M): one streaming detector per entity, created on the
/// entity's first row. Memory is the detector's state times the number of entities.
pub struct ModelNode {
    config: DetectorConfig,
    width: usize,
    interval: Interval,
    detectors: EntityMap<AnyDetector>,
}

impl ModelNode {
    /// Builds the node; fails when the detector configuration cannot be built for
    /// `width` fields at `interval`.
    pub fn new(
        config: &DetectorConfig,
        width: usize,
        interval: Interval,
    ) -> Result<Self, EngineError> {
        config
            .build(width, interval)
            .map_err(|e| EngineError::Plan(format!("model.anomaly: {e}")))?;
        Ok(Self {
            config: config.clone(),
            width,
            interval,
            detectors: EntityMap::default(),
        })
    }

    /// Each entity's detector, for a snapshot.
    pub fn states(&self) -> impl Iterator<Item = (&Entity, &AnyDetector)> {
        self.detectors.iter()
    }

    /// Starts `entity` from a snapshot's detector (of the configured kind: checked by
    /// [`PipelineState::check`](crate::state::PipelineState::check)).
    pub fn restore(&mut self, entity: Entity, detector: AnyDetector) {
        self.detectors.insert(entity, detector);
    }

    /// How many entities each choice of a detector that picks by the data (`auto`) went to;
    /// entities still deciding count under "deciding". Empty for other detectors.
    pub fn choices(&self) -> std::collections::BTreeMap<&'static str, usize> {
        let mut out = std::collections::BTreeMap::new();
        if self.config.detector != ai4ict_anomaly::DetectorKind::Auto {
            return out;
        }
        for d in self.detectors.values() {
            *out.entry(d.choice().unwrap_or("deciding (under two days of data)"))
                .or_default() += 1;
        }
        out
    }

    /// Entities seen so far.
    pub fn entities(&self) -> usize {
        self.detectors.len()
    }

    /// Bytes of detector state over all entities.
    pub fn state_bytes(&self) -> usize {
        self.detectors.values().map(|d| d.state_bytes()).sum()
    }

    /// Scores every row of `batch` into `out`, taking the batch over.
    pub fn process(&mut self, batch: Batch, out: &mut Scored) {
        out.scores.clear();
        out.scores.reserve(batch.len());
        for (entity, time, values) in batch.rows() {
            let det = match self.detectors.get_mut(entity) {
                Some(d) => d,
                None => self.detectors.entry(entity.clone()).or_insert_with(|| {
                    self.config
                        .build(self.width, self.interval)
                        .expect("configuration checked in ModelNode::new")
                }),
            };
            out.scores.push(det.update(time, values));
        }
        out.batch = batch;
    }
}
