//! Resonance: pattern novelty by dual-vigilance fuzzy ART over downsampled windows, per field.
//!
//! The detector follows the idea of ARTime (M. Hampton, 2022, the best published NAB score):
//! a short window of recent behaviour is a *pattern*; patterns are learned as categories of a
//! fuzzy adaptive-resonance network (Carpenter, Grossberg & Rosen 1991) with two vigilance
//! levels (dual-vigilance fuzzy ART, da Silva, Elnabarawy & Wunsch 2019); a pattern that
//! resonates with no category even at the lower vigilance starts a new *cluster*, and that is
//! the anomaly. Our implementation is written for streams: it never sees a series' future.
//! Where ARTime reads each file's minimum, maximum and length before the first point, this one
//! uses the range seen so far (rescaling what it has learned when the range grows) and derives
//! its warm-up and downsampling from the sampling interval, unless it is told them ahead
//! ([`Prior`], NAB's harness track: `ai4ict bench nab --harness`).
//!
//! Per field, every `step` samples (about `warm / 104`, see below):
//! 1. *Downsample*: the block's extreme (its maximum or minimum, whichever lies farther from a
//!    short moving average), or its mean if the extreme is within 10 % of it.
//! 2. *Normalise* by the range so far and quantise to [`LEVELS`] levels; a value within
//!    [`CHOMP`] of the running median is snapped to it, so noise around the usual level does
//!    not make patterns.
//! 3. *Pattern*: the last [`WINDOW`] such values, and their shape (the Haar wavelet transform of
//!    the window scaled to [0, 1], itself scaled to [0, 1]): 16 features in [0, 1].
//! 4. *Match* against each category, a box `[lo, hi]` in feature space (fuzzy ART with
//!    complement coding): similarity `|x ∧ w| / |w|` cubed, times the squared similarity of the
//!    newest value alone. The pattern is matched quantised to the 256 levels its bounds are
//!    kept in, as it is learned, so the sums are exact integers. Categories at or above the upper vigilance `rho_ub` learn the pattern
//!    (their box grows to hold it); if none does, a category above the lower vigilance `rho_lb`
//!    means a new category of a known cluster; below it, a new cluster: *novel*.
//! 5. *Report* a novel pattern unless the detector is masking (within `1.5 * WINDOW` steps of
//!    the previous report, or of a new cluster or a vigilance update, until `1.5 * WINDOW`
//!    steps pass without a new cluster), in which case only a pattern clearly less similar than
//!    the last reported one (below 0.9 of its similarity during the mask, 0.7 after) is
//!    reported. The report's confidence grows with the distance below both vigilances and with
//!    the newest value's mismatch.
//! 6. *Adapt*: every `warm / step / 2` steps (and `1.5 * WINDOW` steps after a report) `rho_ub`
//!    becomes the mean similarity so far (at most 0.97), and `rho_lb` moves up towards the
//!    least similarity of the last period or down by half the mean shortfall below `rho_ub`,
//!    never below the mean similarity of reported anomalies.
//!
//! The warm-up is three days of samples, at least 100 and at most 750 (ARTime's probationary
//! period on long series); in it patterns are learned (at vigilance 0.8) and nothing is
//! reported, and at its end both vigilances start at the mean similarity of its second half,
//! when the memory has settled.
//!
//! Score: a report of confidence `c` in [0, 1] scores `0.85 + 0.15 c` (an alert at the usual
//! 0.9 for a confidence of a third or more), every other point 0; on several fields, the most
//! confident one less the Bonferroni correction, as for the other detectors. With `direction:
//! up` (`down`), only novel patterns whose newest value lies above (below) the running median
//! are reported. `hold` does not apply: a report is one point.
//!
//! Memory per field: at most [`CATEGORIES`] categories of 16 one-byte bounds each side and a
//! stamp (36 bytes), the window and about 200 bytes of state: 1 408 bytes for one field,
//! allocated up front. Time per field per point: O(1), and O(`CATEGORIES` × 16) every `step`
//! points. When the memory is full, the category used least recently makes room.
//!
//! Measured (`ai4ict bench nab --detector resonance`, one configuration for the corpus,
//! 2026-12-03): NAB 59.5 / 51.2 / 66.4 (standard / low FP / low FN); 58.2 / 50.3 / 64.9 on the
//! mean over the series started 0 to 7 rows later (`--shifts 7`: a new cluster is a threshold
//! event, and which samples share a block changes which windows are found). Matching the
//! pattern quantised to bytes (exact integer sums, 1.2 to 1.5 times faster) moved those from
//! 62.9 and 58.9: the unshifted series is one draw of eight, and the mean moved by 0.6. The
//! choices that are ours were each checked on both halves of the corpus, with the `f32` match:
//! 32 categories (on the mean over the 8 starts 24 score 58.3, 32 58.9, 48 59.9, 64 60.6, 128
//! 59.7: 32 is what fits the 2 KiB budget); the running median kept as a fraction of the
//! range, as ARTime keeps it as a level (in raw units 57.6 against 61.9); the vigilance
//! started from the warm-up's second half (61.9 → 62.9). Given what ARTime reads up front (the
//! series' range and length), that implementation scored 70.9 / 64.7 / 76.5, 68.9 on the mean
//! over the 8 starts.
//!
//! `auto` runs it beside the seasonal profile on periodic streams with 16 categories per field
//! ([`Resonance::keep`]).

use ai4ict_core::{Interval, Timestamp};
use serde::{Deserialize, Serialize};

use crate::calibrate::{bonferroni, calibrated, fmax, fmin};
use crate::registry::{Build, BuildContext};
use crate::{AnomalyError, Detector, Direction, Prior, Score, Tuning};

/// Downsampled values in a pattern.
pub const WINDOW: usize = 8;
/// Quantisation levels of the range.
pub const LEVELS: f32 = 80.0;
/// Distance from the running median, as a fraction of the range, within which a value is
/// taken to be the median.
pub const CHOMP: f32 = 0.075;
/// Categories remembered per field.
pub const CATEGORIES: usize = 32;
/// Features per pattern: the window's shape and its values.
const FEATURES: usize = 2 * WINDOW;
/// Warm-up, in days of samples, within [`MIN_WARM`, `MAX_WARM`] samples.
const WARM_DAYS: f64 = 3.0;
const MIN_WARM: usize = 100;
const MAX_WARM: usize = 750;
/// Downsampled steps per warm-up (ARTime's 8-sample window × 13).
const STEPS_PER_WARM: usize = WINDOW * 13;
/// Steps of masking after a report, a new cluster or a vigilance update.
const MASK: u32 = (WINDOW * 3 / 2) as u32;
/// Highest upper vigilance.
const MAX_RHO: f32 = 0.97;
/// Both vigilances during the warm-up.
const INITIAL_RHO: f32 = 0.8;
/// Surprise, in decades, of a report of confidence 0 and of confidence 1.
const REPORT_SURPRISE: (f32, f32) = (3.0, 5.0);

/// A category: a box in feature space, bounds quantised to bytes (`/ 255`).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Category {
    lo: [u8; FEATURES],
    hi: [u8; FEATURES],
    /// Step of the last match.
    used: u32,
}

/// `v` in [0, 1] to the nearest of 256 levels (halves away from 0, as `f32::round`; NaN to 0).
///
/// Rounds by truncation and the exact fraction instead of calling `f32::round`, which is a
/// libm call on the default x86-64 target and was 3 % of `bench engine`'s time; the
/// `quantise_matches_round` test checks it around every rounding boundary.
#[inline]
fn quantise(v: f32) -> u8 {
    let y = v.clamp(0.0, 1.0) * 255.0;
    // `as u8` truncates (NaN to 0), and `y - t` is exact below 2^23.
    let t = y as u8;
    if y - f32::from(t) >= 0.5 {
        t + 1
    } else {
        t
    }
}

/// `|w|` of one feature's box `[lo, hi]` with complement coding, `lo + (1 - hi)`, in 255ths.
#[inline]
fn box_width(lo: u8, hi: u8) -> u32 {
    u32::from(lo) + 255 - u32::from(hi)
}

/// How far `q` lies outside the box `[lo, hi]`, in 255ths: `|w| - |x ∧ w|` of one feature.
#[inline]
fn outside(q: u8, lo: u8, hi: u8) -> u32 {
    // At most one of the two is not 0 (`lo <= hi`).
    u32::from(lo.saturating_sub(q)) + u32::from(q.saturating_sub(hi))
}

/// Fuzzy ART's `|x ∧ w| / |w|` from the two sums in 255ths (`|w|` at least 0.001).
#[inline]
fn similarity(overlap: u32, width: u32) -> f32 {
    overlap as f32 / fmax(width as f32, 0.255)
}

/// Scales `v` to [0, 1] by its own minimum and maximum (all 0 if flat).
fn unit(v: &mut [f32]) {
    let lo = v.iter().copied().fold(f32::INFINITY, fmin);
    let hi = v.iter().copied().fold(f32::NEG_INFINITY, fmax);
    let span = hi - lo;
    for x in v.iter_mut() {
        *x = if span > 0.0 { (*x - lo) / span } else { 0.0 };
    }
}

/// Full Haar wavelet transform of 8 values: the approximation, then the details from the
/// coarsest to the finest scale.
fn haar(x: &[f32; WINDOW]) -> [f32; WINDOW] {
    let s = std::f32::consts::FRAC_1_SQRT_2;
    let (mut a, mut out) = (*x, [0.0f32; WINDOW]);
    let mut n = WINDOW;
    while n > 1 {
        let h = n / 2;
        let mut next = [0.0f32; WINDOW];
        for i in 0..h {
            next[i] = (a[2 * i] + a[2 * i + 1]) * s;
            out[h + i] = (a[2 * i] - a[2 * i + 1]) * s;
        }
        a[..h].copy_from_slice(&next[..h]);
        n = h;
    }
    out[0] = a[0];
    out
}

/// How the vigilance adapts: the similarities of the current and the previous period.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Period {
    /// Least best-match similarity.
    min_sim: f32,
    /// Sum and count of the shortfalls below `rho_ub` larger than 0.05 (each at most 0.37).
    short_sum: f32,
    short_n: u16,
}

impl Period {
    const EMPTY: Self = Self {
        min_sim: f32::INFINITY,
        short_sum: 0.0,
        short_n: 0,
    };
}

/// The state of one field.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Field {
    /// Current block: sum, extremes, count.
    block_sum: f32,
    block_min: f32,
    block_max: f32,
    block_n: u16,
    /// Moving average of block means.
    average: f32,
    /// Range of downsampled values so far.
    lo: f32,
    hi: f32,
    /// Running median of the quantised values, in raw units.
    median: f32,
    /// Last `WINDOW` downsampled (snapped) values, raw units, oldest first.
    window: [f32; WINDOW],
    /// Steps (downsampled values) so far.
    steps: u32,
    categories: Vec<Category>,
    /// Most categories kept (at most [`CATEGORIES`]).
    limit: u8,
    rho_lb: f32,
    rho_ub: f32,
    /// Mean best-match similarity so far.
    mean_sim: f32,
    current: Period,
    previous: Period,
    /// Sum and count of the least similarity around each report, and the latest one.
    anomaly_sim_sum: f32,
    anomaly_n: u16,
    anomaly_sim_last: f32,
    /// Similarity of the last reported pattern.
    reported_sim: f32,
    last_report: Option<u32>,
    last_update: u32,
    /// Masking after a new cluster or update, and steps since the last new cluster.
    mask_after_cluster: bool,
    since_cluster: u32,
    /// Sum and count of the best-match similarity in the second half of the warm-up.
    settled_sum: f32,
    settled_n: u32,
}

impl Field {
    fn new() -> Self {
        Self {
            block_sum: 0.0,
            block_min: f32::INFINITY,
            block_max: f32::NEG_INFINITY,
            block_n: 0,
            average: f32::NAN,
            lo: f32::INFINITY,
            hi: f32::NEG_INFINITY,
            median: f32::NAN,
            window: [0.0; WINDOW],
            steps: 0,
            categories: Vec::with_capacity(CATEGORIES),
            limit: CATEGORIES as u8,
            rho_lb: INITIAL_RHO,
            rho_ub: INITIAL_RHO,
            mean_sim: 0.0,
            current: Period::EMPTY,
            previous: Period::EMPTY,
            anomaly_sim_sum: 0.0,
            anomaly_n: 0,
            anomaly_sim_last: 0.0,
            reported_sim: 0.0,
            last_report: None,
            last_update: 0,
            mask_after_cluster: false,
            since_cluster: 0,
            settled_sum: 0.0,
            settled_n: 0,
        }
    }

    /// Adds a finite value; at the end of a block returns the report's confidence, if the
    /// block's pattern is reported, and whether its newest value lies above the median.
    fn push(&mut self, x: f32, p: &Params) -> Option<(f32, bool)> {
        self.block_sum += x;
        self.block_min = fmin(self.block_min, x);
        self.block_max = fmax(self.block_max, x);
        self.block_n += 1;
        if usize::from(self.block_n) < p.step {
            return None;
        }
        let mean = self.block_sum / f32::from(self.block_n);
        let (lo, hi) = (self.block_min, self.block_max);
        self.block_sum = 0.0;
        self.block_min = f32::INFINITY;
        self.block_max = f32::NEG_INFINITY;
        self.block_n = 0;
        self.step(mean, lo, hi, p)
    }

    fn step(&mut self, mean: f32, lo: f32, hi: f32, p: &Params) -> Option<(f32, bool)> {
        // 1. Downsample.
        self.average = if self.average.is_nan() {
            mean
        } else {
            (self.average + mean) / 2.0
        };
        let mut v = if (hi - self.average).abs() < (lo - self.average).abs() {
            lo
        } else {
            hi
        };
        if (v - mean).abs() < 0.1 * mean.abs() {
            v = mean;
        }
        // 2. Normalise by the range so far (rescaling the learned value bounds if it grew),
        // quantise, snap to the median.
        let (old_lo, old_hi) = (self.lo, self.hi);
        self.lo = fmin(self.lo, v);
        self.hi = fmax(self.hi, v);
        let range = fmax(self.hi - self.lo, 1e-9 * self.hi.abs().max(1.0));
        if old_hi > old_lo && (old_lo != self.lo || old_hi != self.hi) {
            self.rescale(old_lo, old_hi - old_lo, range);
        }
        let level = ((v - self.lo) / range * LEVELS).round() / LEVELS;
        if self.median.is_nan() {
            self.median = level;
        }
        if level > self.median {
            self.median += 1.0 / LEVELS;
        } else if level < self.median {
            self.median -= 1.0 / LEVELS;
        }
        let snapped = if (level - self.median).abs() < CHOMP {
            self.median
        } else {
            level
        } * range
            + self.lo;
        self.window.rotate_left(1);
        self.window[WINDOW - 1] = snapped;
        self.steps += 1;
        if (self.steps as usize) < WINDOW {
            return None;
        }
        // 3. The pattern.
        let mut values = [0.0f32; WINDOW];
        for (f, w) in values.iter_mut().zip(&self.window) {
            *f = ((*w - self.lo) / range).clamp(0.0, 1.0);
        }
        let mut shape = values;
        unit(&mut shape);
        let mut wave = haar(&shape);
        unit(&mut wave);
        let mut x = [0.0f32; FEATURES];
        x[..WINDOW].copy_from_slice(&wave);
        x[WINDOW..].copy_from_slice(&values);
        // 4. Match and learn.
        let (similarity, newest_similarity, cluster) = self.resonate(&x);
        self.track(similarity);
        if self.steps < p.warm_steps {
            if self.steps >= p.warm_steps / 2 {
                self.settled_sum += similarity;
                self.settled_n += 1;
            }
            return None;
        }
        if self.steps == p.warm_steps {
            // End of the warm-up: both vigilances start at the settled mean similarity.
            let settled = if self.settled_n > 0 {
                self.settled_sum / self.settled_n as f32
            } else {
                self.mean_sim
            };
            let rho = fmin(settled, MAX_RHO);
            (self.rho_lb, self.rho_ub) = (rho, rho);
            self.last_update = self.steps;
            return None;
        }
        // 5. and 6.
        let confidence = self.report(similarity, newest_similarity, cluster, p)?;
        Some((confidence, snapped > self.median * range + self.lo))
    }

    /// Rescales the value features of every category from the range `[old_lo, old_lo +
    /// old_range]` to the current one.
    fn rescale(&mut self, old_lo: f32, old_range: f32, range: f32) {
        let map = |b: u8| quantise((f32::from(b) / 255.0 * old_range + old_lo - self.lo) / range);
        for c in &mut self.categories {
            for d in WINDOW..FEATURES {
                c.lo[d] = map(c.lo[d]);
                c.hi[d] = map(c.hi[d]);
            }
        }
    }

    /// Matches `x` against the categories and learns it; returns the best similarity, that
    /// category's similarity on the newest value, and whether `x` started a new cluster.
    fn resonate(&mut self, x: &[f32; FEATURES]) -> (f32, f32, bool) {
        // What the categories do depends only on the best match and on which match at least
        // `rho_ub`: those all learn the pattern (each its own box, so in any order); if none
        // does, the best match decides between a new category (at least `rho_lb`) and a new
        // cluster. One pass finds both; the best is the first of the greatest.
        //
        // The pattern is matched as it is learned, quantised to the bytes of the categories'
        // bounds, so `|x ∧ w|` and `|w|` are sums of integers (in 255ths), exact in any
        // order: the compiler vectorises them, where the sums of `f32` terms had to run one
        // after the other (they were 60 % of the detector's time).
        //
        // A match is the features' similarity cubed times the newest value's squared, and the
        // features' similarity is at most 1 (`|x ∧ w| <= |w|` term by term), so the newest
        // value's squared similarity bounds the match. A category whose bound is below
        // `rho_ub` and below the best match so far can neither learn nor be the best: its
        // other 15 features are not read.
        let q: [u8; FEATURES] = std::array::from_fn(|d| quantise(x[d]));
        let newest_q = q[FEATURES - 1];
        let (rho_ub, steps) = (self.rho_ub, self.steps);
        let mut best: Option<(f32, f32)> = None;
        let mut cluster = true;
        for c in &mut self.categories {
            let newest = {
                let (lo, hi) = (c.lo[FEATURES - 1], c.hi[FEATURES - 1]);
                let width = box_width(lo, hi);
                similarity(width - outside(newest_q, lo, hi), width)
            };
            let bound = newest * newest;
            if bound < rho_ub && best.is_some_and(|(b, _)| bound < b) {
                continue;
            }
            let (mut width, mut out) = (0u32, 0u32);
            for ((q, lo), hi) in q.iter().zip(&c.lo).zip(&c.hi) {
                width += box_width(*lo, *hi);
                out += outside(*q, *lo, *hi);
            }
            let m = similarity(width - out, width).powi(3) * bound;
            if best.is_none_or(|(b, _)| m.total_cmp(&b).is_gt()) {
                best = Some((m, newest));
            }
            if m >= rho_ub {
                // Resonance: the category's box grows to hold the pattern.
                for ((q, lo), hi) in q.iter().zip(&mut c.lo).zip(&mut c.hi) {
                    *lo = (*lo).min(*q);
                    *hi = (*hi).max(*q);
                }
                c.used = steps;
                cluster = false;
            }
        }
        // With no resonance, the best match at the lower vigilance makes a new category of a
        // known cluster.
        let category = cluster && best.is_some_and(|(b, _)| b >= self.rho_lb);
        cluster &= !category;
        let (best, best_newest) = best.unwrap_or((0.0, 0.0));
        let used = self.categories.len();
        if cluster || category {
            let new = Category {
                lo: q,
                hi: q,
                used: self.steps,
            };
            if used < usize::from(self.limit) {
                self.categories.push(new);
            } else if let Some(oldest) = self.categories.iter_mut().min_by_key(|c| c.used) {
                *oldest = new;
            }
        }
        (best, best_newest, cluster)
    }

    /// Tracks the best-match similarity for the vigilance.
    fn track(&mut self, similarity: f32) {
        let n = self.steps - WINDOW as u32 + 1;
        self.mean_sim += (similarity - self.mean_sim) / n as f32;
        self.current.min_sim = fmin(self.current.min_sim, similarity);
        let short = self.rho_ub - similarity;
        if short > 0.05 {
            self.current.short_sum += fmin(short, 0.37);
            self.current.short_n = self.current.short_n.saturating_add(1);
        }
    }

    /// Decides whether a new cluster is reported (5.), returning its confidence, and adapts
    /// the vigilance when due (6.).
    fn report(
        &mut self,
        similarity: f32,
        newest_similarity: f32,
        cluster: bool,
        p: &Params,
    ) -> Option<f32> {
        let since_report = self.last_report.map(|r| self.steps - r);
        let masked_by_report = since_report.is_some_and(|s| s <= MASK);
        self.since_cluster = if cluster { 0 } else { self.since_cluster + 1 };
        if self.mask_after_cluster && self.since_cluster >= MASK {
            self.mask_after_cluster = false;
        }
        if since_report.is_some_and(|s| s < MASK) {
            // The least similarity around the last report.
            let least = fmin(self.anomaly_sim_last, similarity);
            self.anomaly_sim_sum += least - self.anomaly_sim_last;
            self.anomaly_sim_last = least;
        }
        let masking = self.mask_after_cluster || masked_by_report;
        let clearly_less_similar =
            similarity < self.reported_sim * if masked_by_report { 0.9 } else { 0.7 };
        let mut confidence = None;
        if cluster && (!masking || clearly_less_similar) {
            let s = fmin(similarity, 0.999);
            let below_ub = ((1.0 - s) - (1.0 - self.rho_ub)) / (1.0 - s);
            let below_lb = ((1.0 - s) - (1.0 - self.rho_lb)) / (1.0 - s);
            let c = 0.35 * below_ub + 0.65 * below_lb + 1.5 * (1.0 - newest_similarity);
            // (A NaN from garbage input reads as 0.)
            confidence = Some(fmin(fmax(c, 0.0), 1.0));
            self.anomaly_sim_sum += similarity;
            self.anomaly_n = self.anomaly_n.saturating_add(1);
            self.anomaly_sim_last = similarity;
            self.reported_sim = similarity;
            self.last_report = Some(self.steps);
        }
        self.mask_after_cluster |= cluster;
        if since_report == Some(MASK) || self.steps - self.last_update >= (p.warm_steps / 2).max(1)
        {
            self.adapt(p);
        }
        confidence
    }

    /// New vigilances from the similarities of the last two periods (6.).
    fn adapt(&mut self, p: &Params) {
        // The least similarity of the last half warm-up: this period's, and the previous
        // one's while this one is shorter.
        let least = if self.steps - self.last_update >= p.warm_steps / 2 {
            self.current.min_sim
        } else {
            fmin(self.current.min_sim, self.previous.min_sim)
        };
        let ub = fmin(self.mean_sim, MAX_RHO);
        let mut lb = if self.rho_lb <= least {
            self.rho_lb + (least - self.rho_lb) * 0.19
        } else {
            let n = self.current.short_n + self.previous.short_n;
            let mean_short = if self.steps > 2 * p.warm_steps && n > 0 {
                (self.current.short_sum + self.previous.short_sum) / f32::from(n)
            } else {
                0.0
            };
            let lowered = self.rho_lb - fmax(mean_short, 0.01) / 2.0;
            if self.anomaly_n > 0 {
                fmax(lowered, self.anomaly_sim_sum / f32::from(self.anomaly_n))
            } else {
                lowered
            }
        };
        lb = fmin(lb, ub);
        (self.rho_lb, self.rho_ub) = (lb, ub);
        self.previous = std::mem::replace(&mut self.current, Period::EMPTY);
        self.last_update = self.steps;
        self.mask_after_cluster = true;
    }

    /// Keeps the `limit` categories used most recently, and at most that many from now on.
    fn keep(&mut self, limit: usize) {
        let limit = limit.clamp(1, CATEGORIES);
        self.categories
            .sort_unstable_by_key(|c| std::cmp::Reverse(c.used));
        self.categories.truncate(limit);
        self.categories.shrink_to(limit);
        self.limit = limit as u8;
    }

    fn bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.categories.capacity() * std::mem::size_of::<Category>()
    }
}

/// Block length and warm-up of a stream, from its sampling interval.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Params {
    /// Samples per downsampled value.
    step: usize,
    /// Downsampled values in the warm-up.
    warm_steps: u32,
}

impl Params {
    fn for_interval(interval: Interval) -> Self {
        let per_day = 86_400_000.0 / interval.millis().max(1) as f64;
        Self::for_warm((WARM_DAYS * per_day) as usize)
    }

    /// Block length and warm-up for a warm-up of `warm` samples (within the bounds).
    fn for_warm(warm: usize) -> Self {
        let warm = warm.clamp(MIN_WARM, MAX_WARM);
        let step = ((warm as f64 / STEPS_PER_WARM as f64).round() as usize).max(1);
        Self {
            step,
            warm_steps: (warm / step) as u32,
        }
    }
}

/// The resonance detector (see the module docs).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Resonance {
    p: Params,
    direction: Direction,
    decades: f32,
    bonferroni: f32,
    /// Samples a report keeps its score (`hold`, at least 1).
    hold: u16,
    /// The last report's score and field, and the samples it still holds for (not a
    /// [`Score`]: this detector gives no baseline, and the state stays small).
    held: (f64, Option<usize>, u16),
    fields: Vec<Field>,
}

impl Resonance {
    pub(crate) fn new(width: usize, interval: Interval, t: Tuning) -> Self {
        Self {
            p: Params::for_interval(interval),
            direction: t.direction,
            decades: t.decades,
            bonferroni: bonferroni(width),
            hold: t.hold.max(1),
            held: (0.0, None, 0),
            // Each with its own full capacity (a clone would not copy it).
            fields: (0..width).map(|_| Field::new()).collect(),
        }
    }

    /// Keeps, per field, the `categories` (at least 1, at most [`CATEGORIES`]) used most
    /// recently, and at most that many from now on: less memory, at the price of forgetting
    /// patterns sooner.
    pub(crate) fn keep(&mut self, categories: usize) {
        for f in &mut self.fields {
            f.keep(categories);
        }
    }
}

impl Build for Resonance {
    fn build(ctx: &BuildContext<'_>) -> Result<Self, AnomalyError> {
        Ok(Self::new(ctx.width, ctx.interval, ctx.tuning))
    }
}

impl Detector for Resonance {
    /// A known range replaces the range so far from the first point (values beyond it still
    /// widen it); a known warm-up replaces the one derived from the interval, within
    /// [`MIN_WARM`, `MAX_WARM`] samples as ARTime bounds its probationary period.
    fn know(&mut self, prior: &Prior) {
        for (f, &(lo, hi)) in self.fields.iter_mut().zip(&prior.ranges) {
            let (lo, hi) = (lo as f32, hi as f32);
            if lo.is_finite() && hi.is_finite() && lo <= hi && f.steps == 0 {
                (f.lo, f.hi) = (lo, hi);
            }
        }
        if let Some(warm) = prior.warm_up {
            if self.fields.iter().all(|f| f.steps == 0) {
                self.p = Params::for_warm(warm);
            }
        }
    }

    fn update(&mut self, _time: Timestamp, values: &[f64]) -> Score {
        let mut best: Option<(f32, usize)> = None;
        for (i, f) in self.fields.iter_mut().enumerate() {
            let x = values.get(i).copied().unwrap_or(f64::NAN) as f32;
            if !x.is_finite() {
                continue;
            }
            let Some((c, above)) = f.push(x, &self.p) else {
                continue;
            };
            let wanted = match self.direction {
                Direction::Both => true,
                Direction::Up => above,
                Direction::Down => !above,
            };
            if wanted && best.is_none_or(|(b, _)| c > b) {
                best = Some((c, i));
            }
        }
        let Some((confidence, field)) = best else {
            // A report keeps its score for `hold` samples, so that a policy asking for
            // consecutive high scores sees it.
            let (value, field, left) = &mut self.held;
            if *left == 0 {
                return Score::default();
            }
            *left -= 1;
            return Score::new(*value, *field);
        };
        let (low, high) = REPORT_SURPRISE;
        let surprise = low + (high - low) * confidence;
        let score = Score::new(
            calibrated(surprise, self.bonferroni, self.decades),
            Some(field),
        );
        self.held = (score.value, score.field, self.hold - 1);
        score
    }

    fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.fields.iter().map(Field::bytes).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::{haar, quantise, Params, CATEGORIES};
    use crate::tests::{noise, scores, time, STEP};
    use crate::{DetectorConfig, DetectorKind, Direction};

    const DAY: usize = 96;

    /// Noise around a level that wanders slowly between two values.
    fn wave(i: usize) -> f64 {
        let phase = (i % 700) as f64 / 700.0 * std::f64::consts::TAU;
        100.0 + 10.0 * phase.sin() + 4.0 * noise(i)
    }

    #[test]
    fn warm_up_and_downsampling_follow_the_interval() {
        // Three days of 15-minute samples (288), in blocks of 3; a day of 1-minute samples
        // reaches the 750-sample cap; daily samples keep the 100-sample floor.
        let p = Params::for_interval(STEP);
        assert_eq!((p.step, p.warm_steps), (3, 96));
        let p = Params::for_interval(ai4ict_core::Interval::from_minutes(1));
        assert_eq!((p.step, p.warm_steps), (7, 107));
        let p = Params::for_interval(ai4ict_core::Interval::from_minutes(1440));
        assert_eq!((p.step, p.warm_steps), (1, 100));
    }

    #[test]
    fn a_prior_sets_the_range_and_the_warm_up_before_the_first_point() {
        use crate::{Detector, Prior, Tuning};
        let tuning = Tuning {
            level_rate: 0.01,
            level_shift_after: 3,
            min_points: 0,
            decades: 5.0,
            direction: Direction::Both,
            hold: 1,
        };
        let prior = Prior {
            ranges: vec![(-5.0, 50.0)],
            warm_up: Some(300),
        };
        let mut known = super::Resonance::new(1, STEP, tuning);
        known.know(&prior);
        assert_eq!((known.p.step, known.p.warm_steps), (3, 100));
        assert_eq!((known.fields[0].lo, known.fields[0].hi), (-5.0, 50.0));
        // Too late once the stream has begun: the prior is for what is known ahead.
        let mut late = super::Resonance::new(1, STEP, tuning);
        for i in 0..30 {
            late.update(time(i), &[wave(i)]);
        }
        let before = (late.p.warm_steps, late.fields[0].lo, late.fields[0].hi);
        late.know(&prior);
        assert_eq!(
            (late.p.warm_steps, late.fields[0].lo, late.fields[0].hi),
            before
        );
    }

    #[test]
    fn quantise_matches_round() {
        let reference = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        // A hundred ulps either side of every level and every half-way point, a coarse sweep
        // of [0, 1], and what lies outside it.
        for k in 0..=510u32 {
            let at = (k as f32 / 2.0 / 255.0).to_bits();
            for bits in at.saturating_sub(100)..=at + 100 {
                let v = f32::from_bits(bits);
                assert_eq!(quantise(v), reference(v), "{v:e}");
            }
        }
        for bits in (0..=1.0f32.to_bits()).step_by(4099) {
            let v = f32::from_bits(bits);
            assert_eq!(quantise(v), reference(v), "{v:e}");
        }
        for v in [-1.0, -0.0, 2.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            assert_eq!(quantise(v), reference(v), "{v:e}");
        }
    }

    #[test]
    fn haar_of_a_step() {
        let h = haar(&[1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
        let s = std::f32::consts::FRAC_1_SQRT_2;
        // Approximation 4 / sqrt(8), the coarsest detail the step itself, no finer details.
        assert!((h[0] - 4.0 * s * s * s).abs() < 1e-6, "{h:?}");
        assert!((h[1] - 4.0 * s * s * s).abs() < 1e-6, "{h:?}");
        assert!(h[2..].iter().all(|d| d.abs() < 1e-6), "{h:?}");
    }

    #[test]
    fn silent_in_the_warm_up_and_once_the_pattern_is_known() {
        let s = scores(DetectorKind::Resonance, 30 * DAY, wave);
        assert!(s[..3 * DAY].iter().all(|v| *v == 0.0));
        let loud = s[10 * DAY..].iter().filter(|v| **v >= 0.9).count();
        assert!(loud <= 2, "{loud} loud points");
    }

    #[test]
    fn a_new_level_is_reported_once() {
        let at = 10 * DAY;
        let s = scores(DetectorKind::Resonance, 20 * DAY, |i| {
            wave(i) + if i >= at { 120.0 } else { 0.0 }
        });
        assert!(
            s[at..at + 4].iter().any(|v| *v >= 0.9),
            "{:?}",
            &s[at..at + 8]
        );
        let later = s[at + DAY..].iter().filter(|v| **v >= 0.9).count();
        assert!(
            later <= 2,
            "{later} loud points after the change was learned"
        );
    }

    #[test]
    fn a_spike_is_reported_and_direction_filters_it() {
        let at = 8 * DAY + 13;
        let value = |i: usize| wave(i) + if i == at { 200.0 } else { 0.0 };
        let s = scores(DetectorKind::Resonance, 9 * DAY, value);
        assert!(
            s[at..at + 3].iter().any(|v| *v >= 0.9),
            "{:?}",
            &s[at..at + 3]
        );
        // The same spike downwards, under `direction: up`, is not reported.
        let mut d = DetectorConfig {
            detector: DetectorKind::Resonance,
            direction: Direction::Up,
            ..DetectorConfig::default()
        }
        .build(1, STEP)
        .unwrap();
        let down: Vec<f64> = (0..9 * DAY)
            .map(|i| {
                d.update(time(i), &[wave(i) - if i == at { 200.0 } else { 0.0 }])
                    .value
            })
            .collect();
        assert!(
            down[at..at + 3].iter().all(|v| *v < 0.9),
            "{:?}",
            &down[at..at + 3]
        );
    }

    #[test]
    fn a_report_holds_for_hold_samples() {
        let at = 8 * DAY + 13;
        let s = scores(DetectorKind::Resonance, 9 * DAY, |i| {
            wave(i) + if i == at { 200.0 } else { 0.0 }
        });
        let first = (at..at + 3).find(|i| s[*i] >= 0.9).unwrap();
        // The default `hold` of 2: the report and the next sample.
        assert_eq!(s[first + 1], s[first]);
        assert!(s[first + 2] < s[first]);
    }

    #[test]
    fn survives_extreme_values() {
        let mut d = DetectorConfig {
            detector: DetectorKind::Resonance,
            ..DetectorConfig::default()
        }
        .build(2, ai4ict_core::Interval::from_minutes(1))
        .unwrap();
        let bad = crate::tests::BAD_VALUES;
        for i in 0..3000 {
            let row = [bad[i % bad.len()], wave(i)];
            let s = d.update(time(i), &row);
            assert!((0.0..=1.0).contains(&s.value), "{s:?} at {i}");
        }
        assert_eq!(d.update(time(3000), &[]).value, 0.0);
    }

    #[test]
    fn memory_is_bounded() {
        let config = DetectorConfig {
            detector: DetectorKind::Resonance,
            ..DetectorConfig::default()
        };
        let mut d = config.build(2, STEP).unwrap();
        let before = d.state_bytes();
        for i in 0..20_000 {
            // Ever-new values: the memory must recycle categories.
            let s = d.update(time(i), &[i as f64 * (1.0 + noise(i)), noise(i)]);
            assert!((0.0..=1.0).contains(&s.value));
        }
        assert_eq!(d.state_bytes(), before);
        assert!(before < 2 * (CATEGORIES * 36 + 300), "{before} bytes");
    }
}
