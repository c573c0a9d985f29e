//! Bayesian online changepoint detector, per field (Adams & MacKay, "Bayesian Online
//! Changepoint Detection", 2007).
//!
//! Each field is first standardised online by a [`RobustLevel`] (its signed z-score against a
//! level that follows the data at a tenth of `level_rate`, and quickly after a level shift), so
//! that one prior fits any units. The standardised values are modelled as Normal with unknown mean
//! and variance, a Normal-Gamma prior (`mu0 = 0, kappa0 = 1, alpha0 = 1, beta0 = 1`) per run and
//! a constant hazard of `1 / 200` per point. The run-length posterior is kept over at most
//! `R = 64` runs: each point every run grows by its Student-t predictive, a fresh run takes the
//! hazard's share, and when all `R` slots are taken the run of least mass is pruned (or the
//! fresh one is dropped when it has the least). A run stops counting observations after
//! `N_CAP = 255`; from then on its mean and scale are exponentially weighted (`beta` shrinks by
//! `alpha / (alpha + 1/2)` per point, which keeps `beta / alpha` an unbiased variance), so a long
//! stable stretch is forgotten slowly rather than trusted forever. Updates of the run statistics
//! see the value clipped to `Y_CLIP` standard units, so one wild value does not wreck every
//! run; the density sees it whole. The point's raw score is its predictive surprise under the
//! run-length mixture, `-ln p(y)`, turned z-like (`sqrt(2 (-ln p) - ln 2 pi)`, the |z| of a
//! standard normal point of equal density) and signed by the side of the predictive mean it
//! falls on; the shared calibrator ([`Evidence`](crate::calibrate)) turns it into surprise and
//! the largest surprise over the fields is calibrated into the score.
//!
//! Warm-up: a field scores 0 for its first `min_points` points.
//!
//! Memory per field: 17 bytes per run slot (weight, mean, `beta`, `ln beta` as `f32`, count as
//! `u8`), 1 088 bytes for 64 slots, plus 68 bytes of normaliser, calibrator and bookkeeping
//! (1 156 bytes), and 48 bytes per entity (1 204 for one field); a shared 1 KiB table of
//! log-gamma terms. Time per field per point: O(R), one logarithm and one exponential per live
//! run (64 of each at steady state, 1 to 2 microseconds); no allocation.

use serde::{Deserialize, Serialize};
use serde_big_array::BigArray;
use std::sync::OnceLock;

use crate::calibrate::{fmax, fmin, Evidence};
use crate::per_field::{FieldModel, PerField};
use crate::robust::RobustLevel;
use crate::Tuning;

/// Most runs kept.
const R: usize = 64;
/// Observations after which a run's counts stop growing.
const N_CAP: u8 = 255;
/// Probability of a changepoint at each point.
const HAZARD: f32 = 1.0 / 200.0;
/// Prior mean, in standard units.
const MU0: f32 = 0.0;
/// Prior pseudo-observations of the mean.
const KAPPA0: f32 = 1.0;
/// Prior shape of the precision (1 makes the log-gamma recurrence start exactly).
const ALPHA0: f32 = 1.0;
/// Prior rate of the precision (prior mean precision `alpha0 / beta0 = 1`).
const BETA0: f32 = 1.0;
/// The normaliser's level follows the data at this fraction of `level_rate`: the runs model
/// the level within a regime, the normaliser need only keep the values in standard units
/// (NAB's standard profile: 42.6 at 0.1, 37.3 at 1).
const NORM_RATE: f32 = 0.1;
/// Values update the run statistics clipped to this many standard units.
const Y_CLIP: f32 = 6.0;

/// `alpha` of a run that has seen `n` observations.
#[inline]
const fn alpha(n: u8) -> f32 {
    ALPHA0 + 0.5 * n as f32
}

/// Per-point shrink of a capped run's `beta`: `alpha / (alpha + 1/2)` keeps `beta / alpha` an
/// unbiased variance while `alpha` stays put.
const SHRINK: f32 = alpha(N_CAP) / (alpha(N_CAP) + 0.5);
/// `ln SHRINK`, from the series of `ln(1 - x)` (error below `x^4 / 4`, `x` about 1 / 258).
const LN_SHRINK: f32 = {
    let x = 1.0 - SHRINK;
    -x * (1.0 + x * (0.5 + x / 3.0))
};

/// `kappa` of a run that has seen `n` observations.
#[inline]
fn kappa(n: u8) -> f32 {
    KAPPA0 + f32::from(n)
}

/// Per `n`, the part of the Student-t log density that depends only on `n`:
/// `ln G(a + 1/2) - ln G(a) - ln(2 pi) / 2 - ln((k + 1) / k) / 2`, with `a`, `k` the run's
/// `alpha` and `kappa`.
fn log_norm() -> &'static [f32; N_CAP as usize + 1] {
    static TABLE: OnceLock<[f32; N_CAP as usize + 1]> = OnceLock::new();
    TABLE.get_or_init(|| {
        // g(a) = ln G(a + 1/2) - ln G(a), g(1) = ln G(3/2), g(a + 1/2) = ln a - g(a).
        let mut g = (std::f64::consts::PI.sqrt() / 2.0).ln();
        std::array::from_fn(|n| {
            let (a, k) = (
                f64::from(ALPHA0) + 0.5 * n as f64,
                f64::from(KAPPA0) + n as f64,
            );
            let v = g - 0.5 * std::f64::consts::TAU.ln() - 0.5 * ((k + 1.0) / k).ln();
            g = a.ln() - g;
            v as f32
        })
    })
}

/// The run-length posterior of one field.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Field {
    norm: RobustLevel,
    cal: Evidence,
    /// Live runs.
    len: u8,
    #[serde(with = "BigArray")]
    weight: [f32; R],
    #[serde(with = "BigArray")]
    mean: [f32; R],
    #[serde(with = "BigArray")]
    beta: [f32; R],
    #[serde(with = "BigArray")]
    ln_beta: [f32; R],
    #[serde(with = "BigArray")]
    count: [u8; R],
}

impl Field {
    fn new() -> Self {
        let mut f = Self {
            norm: RobustLevel::new(),
            cal: Evidence::new(),
            len: 1,
            weight: [0.0; R],
            mean: [0.0; R],
            beta: [0.0; R],
            ln_beta: [0.0; R],
            count: [0; R],
        };
        f.set_prior(0, 1.0);
        f
    }

    fn set_prior(&mut self, r: usize, weight: f32) {
        self.weight[r] = weight;
        self.mean[r] = MU0;
        self.beta[r] = BETA0;
        self.ln_beta[r] = BETA0.ln();
        self.count[r] = 0;
    }

    /// Scores standardised `y` (signed z-like predictive surprise) and learns from it.
    fn step(&mut self, y: f32) -> f32 {
        let table = log_norm();
        let len = usize::from(self.len);
        let mut ln_p = [0.0f32; R];
        let mut grown = [0.0f32; R];
        let mut ln_grown = [0.0f32; R];
        let mut best = f32::NEG_INFINITY;
        let clipped = fmin(fmax(y, -Y_CLIP), Y_CLIP);
        for r in 0..len {
            let n = self.count[r];
            let (a, k) = (alpha(n), kappa(n));
            let half = 0.5 * k / (k + 1.0);
            let dev = y - self.mean[r];
            // ln p = log_norm(n) + a ln beta - (a + 1/2) ln(beta + k dev^2 / (2 (k + 1))).
            let d = self.beta[r] + half * dev * dev;
            let ln_d = d.ln();
            ln_p[r] = table[usize::from(n)] + a * self.ln_beta[r] - (a + 0.5) * ln_d;
            best = fmax(ln_p[r], best);
            // The update's beta is d itself unless y was clipped.
            (grown[r], ln_grown[r]) = if clipped == y {
                (d, ln_d)
            } else {
                let dev = clipped - self.mean[r];
                let g = self.beta[r] + half * dev * dev;
                (g, g.ln())
            };
        }
        let mut evidence = 0.0f32;
        let mut centre = 0.0f32;
        for ((w, m), l) in self.weight[..len].iter_mut().zip(&self.mean).zip(&ln_p) {
            centre += *w * m;
            *w *= (l - best).exp();
            evidence += *w;
        }
        if !(evidence > 0.0 && evidence.is_finite()) {
            // Nothing explains the point (or it overflowed): start afresh.
            self.len = 1;
            self.set_prior(0, 1.0);
            return 0.0;
        }
        let surprise = -(best + evidence.ln());
        let scale = (1.0 - HAZARD) / evidence;
        let mut least = 0;
        for r in 0..len {
            self.weight[r] *= scale;
            if self.weight[r] < self.weight[least] {
                least = r;
            }
            let n = self.count[r];
            let k = kappa(n);
            self.mean[r] += (clipped - self.mean[r]) / (k + 1.0);
            if n < N_CAP {
                self.count[r] = n + 1;
                self.beta[r] = grown[r];
                self.ln_beta[r] = ln_grown[r];
            } else {
                self.beta[r] = grown[r] * SHRINK;
                self.ln_beta[r] = ln_grown[r] + LN_SHRINK;
            }
        }
        if len < R {
            self.len += 1;
            self.set_prior(len, HAZARD);
        } else if self.weight[least] < HAZARD {
            let keep = 1.0 - self.weight[least];
            self.set_prior(least, HAZARD);
            self.weight.iter_mut().for_each(|w| *w /= keep);
        } else {
            self.weight.iter_mut().for_each(|w| *w /= 1.0 - HAZARD);
        }
        let z = fmax(2.0 * surprise - std::f32::consts::TAU.ln(), 0.0).sqrt();
        z.copysign(y - centre)
    }
}

impl FieldModel for Field {
    fn fresh() -> Self {
        Self::new()
    }

    fn raw(&mut self, x: f32, t: &Tuning) -> Option<f32> {
        let y = self.norm.step(
            x,
            t.min_points,
            NORM_RATE * t.level_rate,
            t.level_shift_after,
        )?;
        let z = self.step(y);
        self.norm.warm(t.min_points).then_some(z)
    }

    fn evidence(&mut self) -> &mut Evidence {
        &mut self.cal
    }
}

/// The Bayesian online changepoint detector (see the module docs).
pub(crate) type BayesianChangepoint = PerField<Field>;

#[cfg(test)]
mod tests {
    // Behaviour tests shared with the other plain detectors: `plain_detectors_*` in src/tests.rs.
    use super::*;
    use crate::tests::noise;

    #[test]
    fn log_norm_matches_the_normal_limit() {
        let t = log_norm();
        // ln G(3/2) - ln(2 pi) / 2 - ln 2 / 2 at n = 0.
        let exact = (std::f64::consts::PI.sqrt() / 2.0).ln()
            - 0.5 * std::f64::consts::TAU.ln()
            - 0.5 * 2f64.ln();
        assert!((f64::from(t[0]) - exact).abs() < 1e-6);
        // For large alpha, g(a) ~ ln(a) / 2.
        let a = f64::from(alpha(N_CAP));
        let k = f64::from(kappa(N_CAP));
        let limit = 0.5 * a.ln() - 0.5 * std::f64::consts::TAU.ln() - 0.5 * ((k + 1.0) / k).ln();
        assert!((f64::from(t[usize::from(N_CAP)]) - limit).abs() < 1e-2);
        assert!((LN_SHRINK - SHRINK.ln()).abs() < 1e-6);
    }

    #[test]
    fn weights_stay_a_distribution() {
        let mut f = Field::new();
        for i in 0..1000 {
            f.step(noise(i) as f32 * 2.0 + if i > 600 { 5.0 } else { 0.0 });
            let total: f32 = f.weight[..usize::from(f.len)].iter().sum();
            assert!((total - 1.0).abs() < 1e-3, "{i}: {total}");
        }
        assert_eq!(usize::from(f.len), R);
    }
}
