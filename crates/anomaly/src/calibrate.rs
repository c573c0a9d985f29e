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
//! Memory: 16 bytes. Time: O(1) per point; a logarithm and an exponential only when the raw
//! score exceeds the threshold.

use crate::{Direction, Why};
use serde::{Deserialize, Serialize};

/// `ln(10)`.
const LN10: f32 = std::f32::consts::LN_10;

/// Online exponential tail model of a raw score (see the module docs).
///
/// Both parameters are kept in the form [`surprise`](Self::surprise) needs, so that scoring a
/// point costs a multiplication and no logarithm: the exceedance rate as `log10 rho` (a point
/// below the threshold multiplies `rho` by `1 - rate`, i.e. adds `log10(1 - rate)`, a constant
/// once `rate` has reached its floor and a short series before), and the mean excess alongside
/// its slope `1 / (m ln 10)`. Only an exceedance (about one point in a hundred) pays for an
/// `exp` and a `log10`. 16 bytes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct TailCalibrator {
    /// `log10` of the exceedance rate above `U` (floored at `LOG_RHO_MIN`).
    log_rho: f32,
    /// Mean excess over `U` of the exceedances.
    mean_excess: f32,
    /// Decades of surprise per unit of raw score beyond `U`: `1 / (max(m, 0.05) ln 10)`.
    slope: f32,
    /// Points observed (saturating).
    n: u16,
    /// Exceedances observed (saturating).
    k: u16,
}

/// Threshold, in raw-score units (raw scores are z-like: about N(0,1) in magnitude).
const U: f32 = 2.5;
/// Slowest learning rate of the exceedance rate (a memory of about 1000 points).
const RHO_RATE: f32 = 1.0 / 1000.0;
/// Slowest learning rate of the mean excess (a memory of about 30 exceedances).
const EXCESS_RATE: f32 = 1.0 / 30.0;
/// Smallest exceedance rate the surprise uses, as `log10`.
const LOG_RHO_FLOOR: f32 = -6.0;
/// Floor of the stored `log10 rho` (a rate this small is 0 for every purpose; the floor keeps
/// the sum well inside `f32` precision however long a stream stays quiet).
const LOG_RHO_MIN: f32 = -30.0;

/// `log10(1 - r)` for a learning rate `0 < r <= 1/200`, from the series of `ln(1 - r)`
/// (truncation error below `r^5 / 5`, far under `f32` precision).
#[inline]
const fn log10_one_minus(r: f32) -> f32 {
    -r * (1.0 + r * (0.5 + r * (1.0 / 3.0 + r * 0.25))) * (1.0 / LN10)
}

/// Points after which the exceedance rate learns at `RHO_RATE`: `1 / (n + 200) <= RHO_RATE`.
const RHO_SLOW_AFTER: u16 = 800;
/// `log10(1 - RHO_RATE)`.
const LOG10_ONE_MINUS_RHO_RATE: f32 = log10_one_minus(RHO_RATE);

/// `max(a, b)` in one instruction; gives `b` when `a` is NaN (like `f32::max`), but NaN when
/// only `b` is (unlike it): put the operand that may be NaN first.
#[inline(always)]
pub(crate) fn fmax(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

/// `min(a, b)` in one instruction; gives `b` when `a` is NaN (see [`fmax`]).
#[inline(always)]
pub(crate) fn fmin(a: f32, b: f32) -> f32 {
    if a < b {
        a
    } else {
        b
    }
}

/// [`TailCalibrator::slope`] for a mean excess.
#[inline]
fn slope_of(mean_excess: f32) -> f32 {
    1.0 / (fmax(mean_excess, 0.05) * LN10)
}

impl TailCalibrator {
    /// A calibrator whose prior is the tail of |N(0, 1)|.
    pub(crate) fn new() -> Self {
        Self {
            log_rho: 0.0124f32.log10(),
            mean_excess: 0.36,
            slope: slope_of(0.36),
            n: 0,
            k: 0,
        }
    }

    /// `-log10 P(raw >= z)` under the learned tail (0 for unremarkable scores).
    #[inline]
    pub(crate) fn surprise(&self, z: f32) -> f32 {
        if z.is_nan() || z <= 0.0 {
            return 0.0;
        }
        let s = (z - U) * self.slope - fmax(self.log_rho, LOG_RHO_FLOOR);
        if s > 0.0 {
            s
        } else {
            0.0
        }
    }

    /// Learns from one raw score, given whether the previous one exceeded the threshold;
    /// returns whether this one does. With `last_exceeded`, an exceedance teaches nothing: a
    /// caller whose raw score is autocorrelated by construction (a moving average) passes it,
    /// so that a run of exceedances, an episode, teaches once; one whose raw score promises a
    /// rate per point passes `false`.
    #[inline]
    pub(crate) fn observe(&mut self, z: f32, last_exceeded: bool) -> bool {
        if !z.is_finite() {
            return last_exceeded;
        }
        let exceed = z > U;
        if exceed && last_exceeded {
            return true;
        }
        self.n = self.n.saturating_add(1);
        let rate = || fmax(1.0 / (f32::from(self.n) + 200.0), RHO_RATE);
        if exceed {
            let rate = rate();
            // rho += rate * (1 - rho), in linear space (rare).
            let rho = (self.log_rho * LN10).exp();
            self.log_rho = (rho + rate * (1.0 - rho)).log10().max(LOG_RHO_MIN);
            self.k = self.k.saturating_add(1);
            let rate = (1.0 / (f32::from(self.k) + 10.0)).max(EXCESS_RATE);
            // Clip so that one huge anomaly cannot flatten the tail.
            let excess = (z - U).min(10.0 * self.mean_excess.max(0.1));
            self.mean_excess += rate * (excess - self.mean_excess);
            self.slope = slope_of(self.mean_excess);
        } else {
            // rho *= 1 - rate.
            let step = if self.n >= RHO_SLOW_AFTER {
                LOG10_ONE_MINUS_RHO_RATE
            } else {
                log10_one_minus(rate())
            };
            self.log_rho = fmax(self.log_rho + step, LOG_RHO_MIN);
        }
        exceed
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
/// Memory: 40 bytes. Time: O(1), no logarithm or exponential unless a raw score exceeds the
/// calibrators' threshold.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Evidence {
    point: TailCalibrator,
    sustained: TailCalibrator,
    average: f32,
    /// Consecutive points of the current episode (surprise of at least `EPISODE_MIN`).
    episode: u16,
    /// Whether the previous point exceeded the threshold of `sustained` (bit 1; bit 0 was
    /// the point's, which every point now teaches: kept a byte so saved states still load).
    exceeded: u8,
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
            exceeded: 0,
        }
    }

    /// Surprise of a signed z-score (learning from it), counting only the deviations that
    /// `direction` asks for. With `hold > 0`, an episode of consecutive surprising points keeps
    /// its surprise for `hold` points and then scores 0 until it ends: what is still unusual
    /// after that is no longer news (the policy has already alerted on it).
    pub(crate) fn surprise(&mut self, z: f32, direction: Direction, hold: u16) -> f32 {
        self.surprises(z, direction, hold).0
    }

    /// [`surprise`](Self::surprise), and the surprise before the episode's hold applies (what
    /// the point alone says, reported or not).
    pub(crate) fn surprises(&mut self, z: f32, direction: Direction, hold: u16) -> (f32, f32) {
        self.surprises_learning(z, direction, hold, true)
    }

    /// [`surprises`](Self::surprises), teaching the tails only with `learn`: a z-score against
    /// a deliberately wide scale (a borrowed profile) would teach them that z-scores are small.
    pub(crate) fn surprises_learning(
        &mut self,
        z: f32,
        direction: Direction,
        hold: u16,
        learn: bool,
    ) -> (f32, f32) {
        if !z.is_finite() {
            return (0.0, 0.0);
        }
        self.average += EW_ALPHA * (fmin(fmax(z, -EW_CAP), EW_CAP) - self.average);
        let oriented = |v: f32| match direction {
            Direction::Both => v.abs(),
            Direction::Up => fmax(v, 0.0),
            Direction::Down => fmax(-v, 0.0),
        };
        let (zp, za) = (oriented(z), oriented(self.average * (1.0 / EW_SD)));
        let s =
            fmax(self.point.surprise(zp), self.sustained.surprise(za)) - std::f32::consts::LOG10_2;
        // Every point teaches the point's tail: a score promises a rate per point, and a run
        // of exceedances taught once left the rate too low, so autocorrelated residuals scored
        // too surprising. The average is autocorrelated by construction: a run of its
        // exceedances teaches once (taught in full it costs slow drifts their recall).
        if learn {
            self.point.observe(zp, false);
            let a = self.sustained.observe(za, self.exceeded & 2 != 0);
            self.exceeded = u8::from(a) << 1;
        }
        self.episode = if s >= EPISODE_MIN {
            self.episode.saturating_add(1)
        } else {
            0
        };
        let s = fmax(s, 0.0);
        if hold > 0 && self.episode > hold {
            // The episode has been reported: quiet until the data come back to normal.
            return (0.0, s);
        }
        (s, s)
    }
}

/// The most surprising field of one row: detectors offer each field's surprise and turn the
/// strongest into the row's calibrated [`Score`](crate::Score), with the baseline it was held
/// against.
#[derive(Default)]
pub(crate) struct Strongest {
    surprise: f32,
    field: Option<usize>,
    why: Option<Why>,
}

impl Strongest {
    /// Offers field `i`'s surprise against the baseline `why` (asked only when it is the
    /// strongest so far and surprising at all: an ordinary point needs no explanation, and
    /// most points are ordinary).
    #[inline]
    pub(crate) fn offer(&mut self, i: usize, surprise: f32, why: impl FnOnce() -> Option<Why>) {
        if surprise > self.surprise || self.field.is_none() {
            self.surprise = fmax(surprise, self.surprise);
            self.field = Some(i);
            self.why = if surprise > 0.0 { why() } else { None };
        }
    }

    /// The calibrated score of the strongest field.
    #[inline]
    pub(crate) fn score(self, bonferroni: f32, decades: f32) -> crate::Score {
        let surprise = fmax(self.surprise - bonferroni, 0.0);
        crate::Score {
            value: calibrated(self.surprise, bonferroni, decades),
            field: self.field,
            why: self.why.map(|w| Why { surprise, ..w }),
        }
    }
}

/// Calibrated value up to which the scale is linear in surprise.
const KNEE: f64 = 0.9;

/// Surprise, in decades, at which [`calibrated`] reaches 0.9 (the default policy's threshold).
pub(crate) fn report_level(bonferroni: f32, decades: f32) -> f32 {
    KNEE as f32 * decades + bonferroni
}

/// `log10` of the number of fields, the Bonferroni correction that [`calibrated`] takes.
pub(crate) fn bonferroni(width: usize) -> f32 {
    (width.max(1) as f32).log10()
}

/// Maps the largest per-field surprise to a calibrated value in [0, 1], less `bonferroni`
/// decades (from [`bonferroni`]: the correction for looking at several fields at once).
#[inline]
pub(crate) fn calibrated(surprise: f32, bonferroni: f32, decades: f32) -> f64 {
    let corrected = f64::from(surprise - bonferroni);
    let d = f64::from(decades);
    let linear = corrected / d;
    if linear <= KNEE {
        linear.max(0.0)
    } else {
        // Above the knee the scale saturates smoothly, so that extreme points still rank.
        KNEE + (1.0 - KNEE) * (1.0 - (-(corrected - KNEE * d) / d).exp())
    }
}

/// The inverse of [`calibrated`] with no Bonferroni correction: the surprise, in decades, of
/// a calibrated value (exact below 1; a value of 1 reads as the surprise at which the scale
/// is within `f32` precision of 1).
pub(crate) fn uncalibrated(value: f64, decades: f32) -> f32 {
    let d = f64::from(decades);
    let v = value.clamp(0.0, 1.0);
    let surprise = if v <= KNEE {
        v * d
    } else {
        KNEE * d - d * ((1.0 - v) / (1.0 - KNEE)).max(1e-7).ln()
    };
    surprise as f32
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
            c.observe(if i % 10 == 0 { 4.0 } else { 0.5 }, false);
        }
        assert!(c.surprise(5.0) < before);
        assert!(calibrated(c.surprise(5.0), bonferroni(1), 5.0) < 0.5);
    }

    /// Runs of two-sample excursions, as autocorrelated residuals make: every point of a run
    /// teaches the point's tail (its rate is per point), while the sustained average learns
    /// each run once.
    #[test]
    fn every_point_of_a_run_teaches_the_point_tail() {
        let mut e = Evidence::new();
        for i in 0..3000 {
            let z = if i % 50 < 2 { 3.5 } else { 0.0 };
            e.surprise(z, Direction::Both, 0);
        }
        // 60 runs of 2 exceedances: 120 taught to the point's calibrator.
        assert_eq!(e.point.k, 120);
        let mut once = TailCalibrator::new();
        let mut last = false;
        for i in 0..3000 {
            last = once.observe(if i % 50 < 2 { 3.5 } else { 0.0 }, last);
        }
        assert_eq!(once.k, 60);
        assert!(e.point.surprise(3.5) < once.surprise(3.5) - 0.2);
    }

    #[test]
    fn uncalibrated_inverts_calibrated() {
        for s in [0.0f32, 1.0, 4.4, 4.6, 7.0, 12.0] {
            let back = uncalibrated(calibrated(s, 0.0, 5.0), 5.0);
            assert!((back - s).abs() < 1e-3, "{s} came back as {back}");
        }
    }
}
