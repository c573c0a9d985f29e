//! An ensemble of detectors on the same stream: each member scores the point, and the ensemble
//! reports the stronger of two readings of their evidence.
//!
//! Every member's score has the same meaning (a calibrated surprise, see the crate docs), so
//! the members' scores are turned back into surprise `s_i = -log10 p_i` and read two ways:
//!
//! * the most surprised member alone (`max s_i`): one model is sure, the others see nothing;
//! * all of them together, by Fisher's method: the product `P` of the members' tail
//!   probabilities is as small as it is with probability `P * sum_{j<k} (-ln P)^j / j!` for
//!   `k` independent members, so several members that are each only somewhat surprised at the
//!   same point add up: two members at 3 decades each (a score of 0.6, below either one's
//!   alert level) read as 4.8 decades together, 4.5 after the correction below (a score of
//!   0.9).
//!
//! The larger reading is kept and `log10(members)` decades are taken off it for having asked
//! several detectors (the Bonferroni correction the detectors already apply across fields).
//! Members that look at the same data are not independent, so agreement is somewhat
//! over-counted; on NAB that is what pays (the `ensemble` 47.3 → 57.3 and `auto` 44.8 → 54.3
//! standard on the half of the corpus the change was developed on, 55.3 → 57.8 and
//! 53.6 → 53.1 on the other half). [`Score::field`] is that of the most surprised member.
//!
//! Memory: the sum of the members' state, plus about 40 bytes per member. Time: the sum of the
//! members' times, plus one logarithm on the (rare) points that surprise two members at once.

use ai4ict_core::Timestamp;

use serde::{Deserialize, Serialize};

use crate::calibrate::{calibrated, fmax, uncalibrated};
use crate::registry::{AnyDetector, Build, BuildContext, DEFAULT_MEMBERS};
use crate::{AnomalyError, Detector, DetectorKind, Score};

/// The ensemble detector (see the module docs).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ensemble {
    members: Vec<AnyDetector>,
    decades: f32,
}

impl Build for Ensemble {
    fn build(ctx: &BuildContext<'_>) -> Result<Self, AnomalyError> {
        let kinds = if ctx.config.members.is_empty() {
            &DEFAULT_MEMBERS[..]
        } else {
            &ctx.config.members[..]
        };
        let members = kinds
            .iter()
            .map(|&kind| match kind {
                DetectorKind::Auto | DetectorKind::Ensemble => Err(AnomalyError::InvalidConfig {
                    field: "members",
                    problem: format!("`{}` cannot be a member of an ensemble", kind.name()),
                }),
                _ => AnyDetector::build(kind, ctx),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            members,
            decades: ctx.tuning.decades,
        })
    }
}

/// The ensemble score of the members' `scores` (see the module docs): the larger of the
/// largest surprise and Fisher's combination of all of them, less `log10` of their number,
/// calibrated; the field of the most surprised member.
pub(crate) fn strongest_of(scores: &[Score], decades: f32) -> Score {
    let mut best: Option<(f32, &Score)> = None;
    let mut total = 0.0f32;
    for s in scores {
        let surprise = uncalibrated(s.value, decades);
        total += surprise;
        if best.is_none_or(|(b, _)| surprise > b) {
            best = Some((surprise, s));
        }
    }
    let (strongest, (field, why)) =
        best.map_or((0.0, (None, None)), |(b, s)| (b, (s.field, s.why)));
    // Fisher's reading can only beat the strongest member when another member adds to it
    // (rare: most points surprise no one), so the logarithm is paid only then.
    let surprise = if total > strongest {
        fmax(fisher(total, scores.len()), strongest)
    } else {
        strongest
    };
    Score {
        value: calibrated(surprise, (scores.len().max(1) as f32).log10(), decades),
        field,
        why,
    }
}

/// Fisher's combination of `k` independent tail probabilities whose surprises add up to
/// `total` decades: `-log10` of `P * sum_{j<k} (-ln P)^j / j!` with `P = 10^-total`.
pub(crate) fn fisher(total: f32, k: usize) -> f32 {
    let x = total * std::f32::consts::LN_10;
    let (mut term, mut sum) = (1.0f32, 1.0f32);
    for j in 1..k {
        term *= x / j as f32;
        sum += term;
    }
    total - sum.log10()
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
                .map(|m| m.state_bytes() + std::mem::size_of::<AnyDetector>())
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
    fn agreement_adds_up_and_one_strong_member_still_speaks() {
        use super::{fisher, strongest_of};
        use crate::calibrate::uncalibrated;
        use crate::Score;
        let at =
            |surprise: f32| Score::new(crate::calibrate::calibrated(surprise, 0.0, 5.0), Some(0));
        // One member alone: Fisher's reading is that member's surprise.
        assert!((fisher(3.0, 1) - 3.0).abs() < 1e-6);
        // Two members at 3 decades each are more surprising together than either alone (the
        // module docs' example: 4.8 decades, less log10 2)...
        let both = uncalibrated(strongest_of(&[at(3.0), at(3.0)], 5.0).value, 5.0);
        assert!((both - 4.528).abs() < 0.01, "{both}");
        // ...while one sure member keeps (almost) its surprise when the other sees nothing.
        let one = uncalibrated(strongest_of(&[at(5.0), at(0.0)], 5.0).value, 5.0);
        assert!((one - (5.0 - 2f32.log10())).abs() < 1e-3, "{one}");
        // Nothing from anyone is nothing.
        assert_eq!(strongest_of(&[at(0.0), at(0.0)], 5.0).value, 0.0);
        assert_eq!(strongest_of(&[], 5.0).value, 0.0);
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
