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

use ai4ict_core::Timestamp;

use crate::calibrate::{bonferroni, Evidence, Strongest};
use crate::robust::RobustLevel;
use crate::{Detector, Score, Tuning};

#[derive(Clone, Debug)]
struct Field {
    level: RobustLevel,
    cal: Evidence,
}

/// The robust EWMA detector (see the module docs).
#[derive(Clone, Debug)]
pub struct Ewma {
    p: Tuning,
    /// `log10` of the number of fields (the Bonferroni correction of the score).
    bonferroni: f32,
    fields: Vec<Field>,
}

impl Ewma {
    pub(crate) fn new(width: usize, p: Tuning) -> Self {
        let field = Field {
            level: RobustLevel::new(),
            cal: Evidence::new(),
        };
        Self {
            p,
            bonferroni: bonferroni(width),
            fields: vec![field; width],
        }
    }
}

impl Detector for Ewma {
    fn update(&mut self, _time: Timestamp, values: &[f64]) -> Score {
        let mut best = Strongest::default();
        let p = self.p;
        for (i, f) in self.fields.iter_mut().enumerate() {
            let x = values.get(i).copied().unwrap_or(f64::NAN) as f32;
            if !x.is_finite() {
                continue;
            }
            let z = f
                .level
                .step(x, p.min_points, p.level_rate, p.level_shift_after);
            if let Some(z) = z.filter(|_| f.level.warm(p.min_points)) {
                let s = f.cal.surprise(z, p.direction, p.hold);
                best.offer(i, s);
            }
        }
        best.score(self.bonferroni, self.p.decades)
    }

    fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.fields.capacity() * std::mem::size_of::<Field>()
    }
}

// Behaviour tests: `plain_detectors_*` in src/tests.rs.
