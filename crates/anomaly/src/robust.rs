//! A robust exponentially weighted level and scale for one field, shared by the detectors that
//! model a field without a season (`ewma`, and the field normalisers of `half_space_trees`).
//!
//! The level follows the data at `level_rate` (faster at the start); updates are winsorised at
//! `CLIP` scales once warm, so outliers barely move it; `level_shift_after` out-of-band points
//! with one sign are taken as a level shift, which the level then follows quickly. The scale is
//! the mean absolute winsorised deviation, never below a tenth of the typical step between
//! points. Memory: 24 bytes. Time: O(1) per point.

use crate::calibrate::{calibrated, fmax, fmin, Evidence};
use crate::{Direction, Score, Tuning};
use serde::{Deserialize, Serialize};

/// Residuals beyond this many scales are winsorised before they update the state.
pub(crate) const CLIP: f32 = 3.0;
/// Fraction of the mean absolute step between points below which the scale never falls.
pub(crate) const DIFF_FLOOR: f32 = 0.1;
/// Slowest learning rate of the deviation and the step.
pub(crate) const SCALE_RATE: f32 = 0.01;
/// Learning rate of the level while it follows a level shift.
pub(crate) const SHIFT_RATE: f32 = 0.25;

/// The state of one field (see the module docs).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct RobustLevel {
    mean: f32,
    /// Mean absolute (winsorised) deviation from the mean.
    dev: f32,
    /// Mean absolute change between consecutive values (a floor for the scale).
    diff: f32,
    last: f32,
    n: u32,
    /// Signed count of consecutive out-of-band residuals.
    run: i16,
}

impl RobustLevel {
    pub(crate) fn new() -> Self {
        Self {
            mean: 0.0,
            dev: 0.0,
            diff: 0.0,
            last: f32::NAN,
            n: 0,
            run: 0,
        }
    }

    /// True once more than `warm_after` points have been seen.
    #[inline]
    pub(crate) fn warm(&self, warm_after: u32) -> bool {
        self.n > warm_after
    }

    /// The level and the scale of ordinary deviations from it (after the latest point).
    pub(crate) fn baseline(&self) -> (f32, f32) {
        let floor = fmax(DIFF_FLOOR * self.diff, 1e-6 * self.mean.abs()) + 1e-12;
        (self.mean, fmax(1.25 * self.dev, floor))
    }

    /// Signed z-score of `x` against the state before it, then learns from `x`; `None` for the
    /// very first point. Winsorising and level shifts start once `warm(warm_after)`.
    #[inline]
    pub(crate) fn step(
        &mut self,
        x: f32,
        warm_after: u32,
        level_rate: f32,
        level_shift_after: u16,
    ) -> Option<f32> {
        self.n = self.n.saturating_add(1);
        if self.n == 1 {
            self.mean = x;
            self.last = x;
            return None;
        }
        let scale = self.baseline().1;
        let r = x - self.mean;
        let z = fmin(fmax(r / scale, -1e6), 1e6);
        let warm = self.warm(warm_after);
        let out = warm && z.abs() > CLIP;
        self.run = match (out, z > 0.0) {
            (false, _) => 0,
            (true, true) => self.run.max(0).saturating_add(1),
            (true, false) => self.run.min(0).saturating_sub(1),
        };
        let shifting = self.run.unsigned_abs() >= level_shift_after;
        let c = if warm && !shifting {
            fmin(fmax(r, -CLIP * scale), CLIP * scale)
        } else {
            r
        };
        let inv_n = 1.0 / self.n as f32;
        let rate = if shifting {
            fmax(level_rate, SHIFT_RATE)
        } else {
            fmax(inv_n, level_rate)
        };
        self.mean += rate * c;
        if !out {
            self.dev += fmax(inv_n, SCALE_RATE) * (c.abs() - self.dev);
        }
        let step = (x - self.last).abs();
        if step.is_finite() {
            self.diff += fmax(inv_n, SCALE_RATE)
                * (fmin(step, CLIP * 4.0 * fmax(self.diff, scale)) - self.diff);
        }
        self.last = x;
        Some(z)
    }
}

/// Normalised deviations are clipped to ±this many scales by [`normalise_row`].
pub(crate) const Z_CLIP: f32 = 8.0;

/// Normalises one row of an entity's fields into z-scores clipped to ±[`Z_CLIP`] (0 for a
/// missing field), learning each field's level as it goes: the input of the multivariate
/// detectors. Returns the most deviating field, or `None` when the row has no finite value.
pub(crate) fn normalise_row(
    levels: &mut [RobustLevel],
    z: &mut [f32],
    values: &[f64],
    t: &Tuning,
) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, (level, z)) in levels.iter_mut().zip(z.iter_mut()).enumerate() {
        let x = values.get(i).copied().unwrap_or(f64::NAN) as f32;
        if !x.is_finite() {
            *z = 0.0;
            continue;
        }
        let raw = level
            .step(x, t.min_points, t.level_rate, t.level_shift_after)
            .unwrap_or(0.0);
        *z = fmin(fmax(raw, -Z_CLIP), Z_CLIP);
        if best.is_none_or(|(_, b)| z.abs() > b) {
            best = Some((i, z.abs()));
        }
    }
    best.map(|(i, _)| i)
}

/// The score of a multivariate detector's raw z-like score `z` for a row normalised by
/// [`normalise_row`]: counted only when the most deviating field deviates the way `direction`
/// asks, calibrated as one field.
pub(crate) fn joint_score(
    cal: &mut Evidence,
    mut z: f32,
    row: &[f32],
    best_field: Option<usize>,
    t: &Tuning,
) -> Score {
    if let Some(&sign) = best_field.and_then(|f| row.get(f)) {
        let agrees = match t.direction {
            Direction::Both => true,
            Direction::Up => sign > 0.0,
            Direction::Down => sign < 0.0,
        };
        if !agrees {
            z = fmin(z, 0.0);
        }
    }
    let s = cal.surprise(z, Direction::Up, t.hold);
    Score::new(calibrated(s, 0.0, t.decades), best_field)
}
