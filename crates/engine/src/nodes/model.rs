use ai4ict_anomaly::{
    AnyDetector, DetectorConfig, Score, TelemetryCheck, TelemetryFinding, SILENT_AFTER,
};
use ai4ict_core::{Batch, Entity, Interval, Timestamp};

use super::EntityMap;
use crate::EngineError;

/// A batch with the model's calibrated score for each row.
#[derive(Clone, Debug, Default)]
pub struct Scored {
    /// The rows the model saw.
    pub batch: Batch,
    /// One score per row.
    pub scores: Vec<Score>,
    /// Per row, what the telemetry check found: evidence on its own, so the policy alerts on
    /// it at once, whatever its `for` (empty when nothing was checked).
    pub findings: Vec<Option<TelemetryFinding>>,
    /// Entities whose source fell silent while the stream went on (a dead source, found
    /// without a row of its own), each with the stream's time it was found at and the
    /// intervals it has missed: evidence on its own, like `findings`.
    pub silences: Vec<(Entity, Timestamp, u32)>,
}

/// What the model node keeps per entity: its detector and its telemetry check.
struct EntityModel {
    detector: AnyDetector,
    check: TelemetryCheck,
}

/// The model node (Y.3172 §8.1, M): one streaming detector per entity, created on the
/// entity's first row, and beside it a [`TelemetryCheck`] (stuck values, a silent source). A
/// row the check flags scores 1 (a stuck one on the stuck field, and it is not learned by the
/// detector), so a frozen or dead source neither hides behind a detector's episode hold nor
/// teaches it that the frozen values are normal. Memory is the state of both times the number of entities.
pub struct ModelNode {
    config: DetectorConfig,
    width: usize,
    interval: Interval,
    detectors: EntityMap<EntityModel>,
    /// The latest row time seen, in intervals: the entities are checked for silence once
    /// per interval the stream advances.
    swept: Option<i64>,
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
            swept: None,
        })
    }

    /// Each entity's detector and telemetry check, for a snapshot.
    pub fn states(&self) -> impl Iterator<Item = (&Entity, &AnyDetector, &TelemetryCheck)> {
        self.detectors
            .iter()
            .map(|(e, m)| (e, &m.detector, &m.check))
    }

    /// Starts `entity` from a snapshot's detector (of the configured kind: checked by
    /// [`PipelineState::check`](crate::state::PipelineState::check)) and telemetry check (a
    /// fresh one when `None`).
    pub fn restore(
        &mut self,
        entity: Entity,
        detector: AnyDetector,
        check: Option<TelemetryCheck>,
    ) {
        let check = check.unwrap_or_else(|| TelemetryCheck::new(self.width, self.interval));
        self.detectors
            .insert(entity, EntityModel { detector, check });
    }

    /// How many entities each choice of a detector that picks by the data (`auto`) went to;
    /// entities still deciding count under "deciding". Empty for other detectors.
    pub fn choices(&self) -> std::collections::BTreeMap<&'static str, usize> {
        let mut out = std::collections::BTreeMap::new();
        if self.config.detector != ai4ict_anomaly::DetectorKind::Auto {
            return out;
        }
        for d in self.detectors.values().map(|m| &m.detector) {
            *out.entry(d.choice().unwrap_or(ai4ict_anomaly::DECIDING))
                .or_default() += 1;
        }
        out
    }

    /// Entities seen so far.
    pub fn entities(&self) -> usize {
        self.detectors.len()
    }

    /// Bytes of detector and telemetry-check state over all entities.
    pub fn state_bytes(&self) -> usize {
        self.detectors
            .values()
            .map(|m| m.detector.state_bytes() + m.check.state_bytes())
            .sum()
    }

    /// Scores every row of `batch` into `out`, taking the batch over.
    pub fn process(&mut self, batch: Batch, out: &mut Scored) {
        out.scores.clear();
        out.scores.reserve(batch.len());
        out.findings.clear();
        out.findings.reserve(batch.len());
        out.silences.clear();
        // Whether the batch's rows go back in time by a silence or more: a file ordered by
        // entity, not by time, where the batch that ends one entity's rows and starts the
        // next one's says nothing about which sources are silent.
        let window = self.interval.millis().max(1) * i64::from(SILENT_AFTER);
        let (mut latest, mut jumbled) = (i64::MIN, false);
        for (entity, time, values) in batch.rows() {
            jumbled |= time.0 < latest.saturating_sub(window);
            latest = latest.max(time.0);
            let m = match self.detectors.get_mut(entity) {
                Some(d) => d,
                None => self
                    .detectors
                    .entry(entity.clone())
                    .or_insert_with(|| EntityModel {
                        detector: self
                            .config
                            .build(self.width, self.interval)
                            .expect("configuration checked in ModelNode::new"),
                        check: TelemetryCheck::new(self.width, self.interval),
                    }),
            };
            let finding = m.check.update(time, values);
            let score = match finding {
                Some(TelemetryFinding::Stuck { field, .. }) => Score::new(1.0, Some(field)),
                // The row itself is news to the detector; the silence before it is the alert.
                Some(TelemetryFinding::Silent { .. }) => {
                    let score = m.detector.update(time, values);
                    Score::new(1.0, score.field)
                }
                None => m.detector.update(time, values),
            };
            out.scores.push(score);
            out.findings.push(finding);
        }
        if let Some(now) = batch.max_time().filter(|_| !jumbled) {
            self.sweep(now, &mut out.silences);
        }
        out.batch = batch;
    }

    /// Once per interval the stream advances to (`now`, its latest row), the entities whose
    /// source has been silent long enough ([`TelemetryCheck::silent_at`]).
    fn sweep(&mut self, now: Timestamp, silences: &mut Vec<(Entity, Timestamp, u32)>) {
        let step = now.0.div_euclid(self.interval.millis().max(1));
        if self.swept.is_some_and(|s| s >= step) {
            return;
        }
        self.swept = Some(step);
        for (entity, m) in self.detectors.iter_mut() {
            if let Some(missed) = m.check.silent_at(now) {
                silences.push((entity.clone(), now, missed));
            }
        }
    }
}
