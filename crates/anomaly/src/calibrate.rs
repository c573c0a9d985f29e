//! Score calibration shared by every detector.
//!
//! Each detector produces a *raw* score per field (for most detectors a robust z-score of a
//! residual; for tree ensembles a standardised isolation depth). The [`TailCalibrator`] learns
//! the upper tail of that raw score online, peaks-over-threshold style: above a threshold `u`
//! the tail is modelled as exponential, `P(raw > x) = rho * exp(-(x - u) / m)`, with the
//! exceedance rate `rho` and the mean excess `m` tracked by (clipped) exponential averages.
//! The tail probability `p` is turned into a *surprise* `-log10 p`, and the calibrated score is
//! `surprise / decades` up to 0.9, above which it saturates smoothly towards 1 (so that the most
//! extreme points still rank above merely rare ones). A score of 0.9 with the default 5 decades therefore
//! means "about as rare as once in 30 000 normal points", whatever the detector.
//!
//! Memory: 16 bytes. Time: O(1) per point.

use crate::Direction;

/// `ln(10)`.
const LN10: f32 = std::f32::consts::LN_10;

/// Online exponential tail model of a raw score (see the module docs).
#[derive(Clone, Debug)]
pub(crate) struct TailCalibrator {
    /// Exceedance rate above `U`.
    rho: f32,
    /// Mean excess over `U` of the exceedances.
    mean_excess: f32,
    /// Points observed (saturating).
    n: u16,
    /// Exceedances observed (saturating).
    k: u16,
    /// Whether the previous observation exceeded the threshold.
    last_exceeded: bool,
}

/// Threshold, in raw-score units (raw scores are z-like: about N(0,1) in magnitude).
const U: f32 = 2.5;
/// Slowest learning rate of the exceedance rate (a memory of about 1000 points).
const RHO_RATE: f32 = 1.0 / 1000.0;
/// Slowest learning rate of the mean excess (a memory of about 30 exceedances).
const EXCESS_RATE: f32 = 1.0 / 30.0;

impl TailCalibrator {
    /// A calibrator whose prior is the tail of |N(0, 1)|.
    pub(crate) fn new() -> Self {
        Self {
            rho: 0.0124,
            mean_excess: 0.36,
            n: 0,
            k: 0,
            last_exceeded: false,
        }
    }

    /// `-log10 P(raw >= z)` under the learned tail (0 for unremarkable scores).
    pub(crate) fn surprise(&self, z: f32) -> f32 {
        if z.is_nan() || z <= 0.0 {
            return 0.0;
        }
        let log10_p = self.rho.max(1e-6).log10() - (z - U) / (self.mean_excess.max(0.05) * LN10);
        (-log10_p).max(0.0)
    }

    /// Learns from one raw score. Only isolated exceedances teach the tail: a run of
    /// exceedances is an episode (an anomaly, or a change the detector is still absorbing), and
    /// learning from it would teach the calibrator that anomalies are normal.
    pub(crate) fn observe(&mut self, z: f32) {
        if !z.is_finite() {
            return;
        }
        let exceed = z > U;
        let in_run = exceed && self.last_exceeded;
        self.last_exceeded = exceed;
        if in_run {
            return;
        }
        self.n = self.n.saturating_add(1);
        let rate = (1.0 / (f32::from(self.n) + 200.0)).max(RHO_RATE);
        self.rho += rate * (f32::from(u8::from(exceed)) - self.rho);
        if exceed {
            self.k = self.k.saturating_add(1);
            let rate = (1.0 / (f32::from(self.k) + 10.0)).max(EXCESS_RATE);
            // Clip so that one huge anomaly cannot flatten the tail.
            let excess = (z - U).min(10.0 * self.mean_excess.max(0.1));
            self.mean_excess += rate * (excess - self.mean_excess);
        }
    }
}

/// Smoothing of the sustained-evidence average of z-scores.
const EW_ALPHA: f32 = 0.25;
/// Standard deviation of that average for independent N(0, 1) inputs: `sqrt(a / (2 - a))`.
const EW_SD: f32 = 0.377_964_5;
/// Inputs to the sustained average are capped here, so one wild value (a counter reset)
/// cannot masquerade as a sustained change.
const EW_CAP: f32 = 6.0;

/// Turns a stream of signed z-scores into surprise, from two pieces of evidence: the point
/// itself and a short exponential average of recent points (a sustained shift of a few
/// sigmas is far more surprising than any single point of it). Each has its own
/// [`TailCalibrator`]; the larger surprise wins, less `log10 2` for having looked twice.
///
/// Memory: 40 bytes. Time: O(1).
#[derive(Clone, Debug)]
pub(crate) struct Evidence {
    point: TailCalibrator,
    sustained: TailCalibrator,
    average: f32,
    /// Consecutive points of the current episode (surprise of at least `EPISODE_MIN`).
    episode: u16,
}

/// Surprise, in decades, that makes a point part of an episode.
const EPISODE_MIN: f32 = 2.0;

impl Evidence {
    pub(crate) fn new() -> Self {
        Self {
            point: TailCalibrator::new(),
            sustained: TailCalibrator::new(),
            average: 0.0,
            episode: 0,
        }
    }

    /// Surprise of a signed z-score (learning from it), counting only the deviations that
    /// `direction` asks for. With `hold > 0`, an episode of consecutive surprising points keeps
    /// its surprise for `hold` points and then scores 0 until it ends: what is still unusual
    /// after that is no longer news (the policy has already alerted on it).
    pub(crate) fn surprise(&mut self, z: f32, direction: Direction, hold: u16) -> f32 {
        if !z.is_finite() {
            return 0.0;
        }
        self.average += EW_ALPHA * (z.clamp(-EW_CAP, EW_CAP) - self.average);
        let oriented = |v: f32| match direction {
            Direction::Both => v.abs(),
            Direction::Up => v.max(0.0),
            Direction::Down => (-v).max(0.0),
        };
        let (zp, za) = (oriented(z), oriented(self.average / EW_SD));
        let s =
            self.point.surprise(zp).max(self.sustained.surprise(za)) - std::f32::consts::LOG10_2;
        self.point.observe(zp);
        self.sustained.observe(za);
        self.episode = if s >= EPISODE_MIN {
            self.episode.saturating_add(1)
        } else {
            0
        };
        if hold > 0 && self.episode > hold {
            // The episode has been reported: quiet until the data come back to normal.
            return 0.0;
        }
        s.max(0.0)
    }
}

/// Calibrated value up to which the scale is linear in surprise.
const KNEE: f64 = 0.9;

/// Maps the smallest per-field surprise over `width` fields to a calibrated value in [0, 1]
/// (Bonferroni correction for looking at several fields at once).
pub(crate) fn calibrated(surprise: f32, width: usize, decades: f32) -> f64 {
    let corrected = f64::from(surprise - (width.max(1) as f32).log10());
    let d = f64::from(decades);
    let linear = corrected / d;
    if linear <= KNEE {
        linear.max(0.0)
    } else {
        // Above the knee the scale saturates smoothly, so that extreme points still rank.
        KNEE + (1.0 - KNEE) * (1.0 - (-(corrected - KNEE * d) / d).exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_prior_is_sane() {
        let c = TailCalibrator::new();
        assert_eq!(c.surprise(0.5), 0.0);
        assert!(c.surprise(3.0) > 2.0 && c.surprise(3.0) < 3.0);
        assert!(c.surprise(6.0) > 5.0);
        assert_eq!(c.surprise(f32::NAN), 0.0);
    }

    #[test]
    fn heavy_tails_lower_the_surprise() {
        let mut c = TailCalibrator::new();
        let before = c.surprise(5.0);
        for i in 0..5000 {
            // Every tenth point is a 4-sigma excursion.
            c.observe(if i % 10 == 0 { 4.0 } else { 0.5 });
        }
        assert!(c.surprise(5.0) < before);
        assert!(calibrated(c.surprise(5.0), 1, 5.0) < 0.5);
    }
}
