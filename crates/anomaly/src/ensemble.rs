//! An ensemble of detectors on the same stream: each member scores the point, and the most
//! surprised member speaks for the ensemble.
//!
//! Every member's score has the same meaning (a calibrated surprise, see the crate docs), so
//! the members' scores are turned back into surprise, the largest is kept, and `log10(members)`
//! decades are taken off it for having asked several detectors (the Bonferroni correction the
//! detectors already apply across fields). A score of 0.9 therefore still means "about one
//! chance in 30 000 under normal behaviour", now under the union of the members' models.
//! [`Score::field`] is that of the member that spoke.
//!
//! Memory: the sum of the members' state, plus about 40 bytes per member. Time: the sum of the
//! members' times.

use ai4ict_core::Timestamp;

use crate::calibrate::{calibrated, uncalibrated};
use crate::{Detector, Score};

/// The ensemble detector (see the module docs).
pub struct Ensemble {
    members: Vec<Box<dyn Detector>>,
    decades: f32,
}

impl Ensemble {
    pub(crate) fn new(members: Vec<Box<dyn Detector>>, decades: f32) -> Self {
        Self { members, decades }
    }
}

/// The ensemble score of the members' `scores`: the largest surprise, less `log10` of their
/// number, calibrated; the field of the member that spoke.
pub(crate) fn strongest_of(scores: &[Score], decades: f32) -> Score {
    let mut best: Option<(f32, Option<usize>)> = None;
    for s in scores {
        let surprise = uncalibrated(s.value, decades);
        if best.is_none_or(|(b, _)| surprise > b) {
            best = Some((surprise, s.field));
        }
    }
    let (surprise, field) = best.unwrap_or((0.0, None));
    Score {
        value: calibrated(surprise, (scores.len().max(1) as f32).log10(), decades),
        field,
    }
}

impl Detector for Ensemble {
    fn update(&mut self, time: Timestamp, values: &[f64]) -> Score {
        let scores: Vec<Score> = self
            .members
            .iter_mut()
            .map(|m| m.update(time, values))
            .collect();
        strongest_of(&scores, self.decades)
    }

    fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self
                .members
                .iter()
                .map(|m| m.state_bytes() + std::mem::size_of::<Box<dyn Detector>>())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::{noise, time, STEP};
    use crate::{AnomalyError, DetectorConfig, DetectorKind};

    fn config(members: Vec<DetectorKind>) -> DetectorConfig {
        DetectorConfig {
            detector: DetectorKind::Ensemble,
            members,
            ..DetectorConfig::default()
        }
    }

    #[test]
    fn scores_what_any_member_finds() {
        let mut d = config(vec![]).build(1, STEP).unwrap();
        let at = 96 * 9 + 40;
        let mut scores = Vec::new();
        for i in 0..96 * 10 {
            let phase = (i % 96) as f64 / 96.0 * std::f64::consts::TAU;
            let v = 100.0 + 30.0 * phase.sin() + 3.0 * noise(i) + if i == at { 60.0 } else { 0.0 };
            let s = d.update(time(i), &[v]);
            assert!((0.0..=1.0).contains(&s.value));
            scores.push(s.value);
        }
        assert!(scores[at] >= 0.9, "spike scored {}", scores[at]);
        let loud = scores.iter().filter(|v| **v >= 0.9).count();
        assert!(loud <= 3, "{loud} loud points");
    }

    #[test]
    fn rejects_nested_ensembles() {
        for kind in [DetectorKind::Ensemble, DetectorKind::Auto] {
            let err = config(vec![DetectorKind::Ewma, kind]).build(1, STEP).err();
            assert!(
                matches!(
                    err,
                    Some(AnomalyError::InvalidConfig {
                        field: "members",
                        ..
                    })
                ),
                "{err:?}"
            );
        }
    }
}
