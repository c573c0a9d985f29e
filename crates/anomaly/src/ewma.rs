//! Robust exponentially weighted moving average (EWMA) detector, per field.
//!
//! For each field the detector keeps an exponentially weighted mean (rate `level_rate`, faster
//! while it warms up) and an exponentially weighted mean absolute deviation around it. The
//! residual `x - mean` is divided by `1.25 * deviation` (the normal-consistent scale) into a
//! signed z-score, which the shared calibrator ([`Evidence`](crate::calibrate)) turns into
//! surprise; the largest surprise over the fields is calibrated into the score. Updates are
//! winsorised at `3 * scale`, so an outlier barely moves the mean and never the scale; a residual
//! that stays out of band with one sign for `level_shift_after` points is taken as a level shift,
//! which the mean then follows quickly. A tenth of the typical step between consecutive values
//! floors the scale, so that an (almost) constant series does not divide by zero.
//!
//! Warm-up: a field scores 0 for its first `min_points` points.
//!
//! Memory per field: 64 bytes (mean, deviation, step, last value, counters and the 40-byte
//! calibrator state), plus about 48 bytes per entity (112 bytes for a one-field entity). Time: O(1) per field per point: a dozen
//! arithmetic operations and one division, no allocation, and no logarithm or exponential but
//! for the rare raw score above the calibrators' threshold.

use crate::calibrate::Evidence;
use crate::per_field::{FieldModel, PerField};
use crate::robust::RobustLevel;
use crate::{Against, Tuning, Why};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Field {
    level: RobustLevel,
    cal: Evidence,
}

impl FieldModel for Field {
    fn fresh() -> Self {
        Self {
            level: RobustLevel::new(),
            cal: Evidence::new(),
        }
    }

    fn raw(&mut self, x: f32, t: &Tuning) -> Option<f32> {
        let z = self
            .level
            .step(x, t.min_points, t.level_rate, t.level_shift_after);
        z.filter(|_| self.level.warm(t.min_points))
    }

    fn evidence(&mut self) -> &mut Evidence {
        &mut self.cal
    }

    fn why(&self) -> Option<Why> {
        let (expected, spread) = self.level.baseline();
        Some(Why::new(Against::Level, expected, spread))
    }
}

/// The robust EWMA detector (see the module docs).
pub(crate) type Ewma = PerField<Field>;

// Behaviour tests: `plain_detectors_*` in src/tests.rs.
