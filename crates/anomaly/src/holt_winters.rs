//! Robust additive Holt-Winters detector, per field.
//!
//! For each field the one-step forecast at time `t` is `level + trend + season(t)`, where the
//! additive daily season has `slots` slots (one per sample, at most `max_slots`, and none when
//! there are fewer than 4 samples a day) interpolated linearly between the two nearest. The
//! forecast residual `r` is divided by `1.25 *` an exponentially weighted mean absolute
//! residual into a signed z-score, which the shared calibrator
//! ([`Evidence`](crate::calibrate)) turns into surprise; the largest surprise over the fields is
//! calibrated into the score. The state follows the error-correction form of Holt-Winters with
//! the residual winsorised at `3 * scale`: `level += trend + a c`, `trend = 0.98 trend + 0.1 a c`
//! (a damped trend), `season += g (1 - a) c` with `a = level_rate` and `g` the larger of
//! `season_rate` and `1 / days`. A residual out of band with one sign for `level_shift_after`
//! points is taken as a level shift: the level then follows the data quickly and the trend and
//! season stay put.
//!
//! Warm-up: with a daily season a field scores 0 until it has seen a day of points (the first
//! day initialises the season) and `min_points` points; without one, for `min_points` points.
//!
//! Memory per field: `4 * slots` bytes of season (`f32`, stored slot-major so that one point of
//! a multi-field entity reads two adjacent runs) plus 68 bytes of level, trend, scale and
//! calibrator state, and about 96 bytes per entity; with the default 48 slots 260 bytes per
//! field, 356 for a one-field entity. Time: O(1) per field per point: a few dozen arithmetic operations and one division,
//! no allocation, and no logarithm or exponential but for the rare raw score above the
//! calibrators' threshold.

use ai4ict_core::{Interval, Timestamp};
use serde::{Deserialize, Serialize};

use crate::calibrate::{bonferroni, fmax, fmin, Evidence, Strongest};
use crate::registry::{Build, BuildContext};
use crate::robust::{CLIP, DIFF_FLOOR, SCALE_RATE, SHIFT_RATE};
use crate::seasonal::SeasonalParams;
use crate::{AnomalyError, Detector, Score, Tuning};

const DAY_MS: i64 = 86_400_000;
/// Trend gain relative to the level gain.
const TREND_GAIN: f32 = 0.1;
/// Damping of the trend per point.
const DAMPING: f32 = 0.98;

/// Tuning of [`HoltWinters`], resolved from the user's config.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) struct HoltWintersParams {
    /// Season slots per day (1 = no season).
    pub slots: usize,
    /// Points per day at the sampling interval (at least 1).
    pub per_day: u32,
    /// Slowest season learning rate per visit of a slot (about once a day).
    pub season_rate: f32,
    /// The tuning shared with the other detectors.
    pub tuning: Tuning,
}

impl HoltWintersParams {
    /// Parameters for a sampling interval, with the season's slots as for `robust_seasonal`.
    pub(crate) fn for_interval(
        interval: Interval,
        max_slots: usize,
        season_rate: f32,
        tuning: Tuning,
    ) -> Self {
        let per_day = (DAY_MS / interval.millis().max(1)).clamp(1, i64::from(u32::MAX));
        Self {
            slots: SeasonalParams::slots_for(interval, max_slots),
            per_day: per_day as u32,
            season_rate,
            tuning,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Field {
    level: f32,
    trend: f32,
    /// Mean absolute (winsorised) forecast residual.
    scale: f32,
    /// Mean absolute change between consecutive values (a floor for the scale).
    diff: f32,
    last: f32,
    n: u32,
    /// Signed count of consecutive out-of-band residuals.
    run: i16,
    cal: Evidence,
}

/// The robust additive Holt-Winters detector (see the module docs).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HoltWinters {
    p: HoltWintersParams,
    /// `log10` of the number of fields (the Bonferroni correction of the score).
    bonferroni: f32,
    fields: Vec<Field>,
    /// Per slot, per field (fields innermost); NaN until learned.
    season: Vec<f32>,
}

impl HoltWinters {
    pub(crate) fn new(width: usize, p: HoltWintersParams) -> Self {
        let field = Field {
            level: 0.0,
            trend: 0.0,
            scale: 0.0,
            diff: 0.0,
            last: f32::NAN,
            n: 0,
            run: 0,
            cal: Evidence::new(),
        };
        let init = if p.slots > 1 { f32::NAN } else { 0.0 };
        Self {
            p,
            bonferroni: bonferroni(width),
            fields: vec![field; width],
            season: vec![init; width * p.slots],
        }
    }

    /// Signed raw z-score of one field, learning from the value; `None` while warming up.
    /// `a0` and `a1` index the field's two nearest slots in `season`, `w` weighs the second.
    #[inline]
    fn step(&mut self, i: usize, x: f32, a0: usize, a1: usize, w: f32) -> Option<f32> {
        let p = self.p;
        let daily = p.slots > 1;
        let f = &mut self.fields[i];
        f.n = f.n.saturating_add(1);
        if f.n == 1 {
            f.level = x;
            f.last = x;
        }
        let (s0, s1) = (self.season[a0], self.season[a1]);
        let season = match (s0.is_nan(), s1.is_nan()) {
            (false, false) => (1.0 - w) * s0 + w * s1,
            (false, true) => s0,
            (true, false) => s1,
            (true, true) => 0.0,
        };
        // The first day (with a season) only initialises it, around a level that stays put.
        let first_day = daily && f.n <= p.per_day;
        let floor = fmax(DIFF_FLOOR * f.diff, 1e-6 * (f.level.abs() + season.abs())) + 1e-12;
        let scale = fmax(1.25 * f.scale, floor);
        let r = x - (f.level + f.trend + season);
        let z = fmin(fmax(r / scale, -1e6), 1e6);
        let warm = !first_day && f.n > p.tuning.min_points;

        let out = warm && z.abs() > CLIP;
        f.run = match (out, z > 0.0) {
            (false, _) => 0,
            (true, true) => f.run.max(0).saturating_add(1),
            (true, false) => f.run.min(0).saturating_sub(1),
        };
        let shifting = f.run.unsigned_abs() >= p.tuning.level_shift_after;
        let c = if warm && !shifting {
            fmin(fmax(r, -CLIP * scale), CLIP * scale)
        } else {
            r
        };
        let inv_n = 1.0 / f.n as f32;
        if first_day {
            // The nearest slot averages what it sees.
            let a = if w < 0.5 { a0 } else { a1 };
            let target = x - f.level;
            let old = self.season[a];
            self.season[a] = if old.is_nan() {
                target
            } else {
                old + 0.5 * (target - old)
            };
        } else if shifting {
            f.level += fmax(p.tuning.level_rate, SHIFT_RATE) * c;
        } else {
            // Early on (no season, or the first days after it) the level learns faster.
            let days = f.n / p.per_day.max(1);
            let a = if daily {
                p.tuning.level_rate
            } else {
                fmax(inv_n, p.tuning.level_rate)
            };
            f.level += f.trend + a * c;
            f.trend = DAMPING * f.trend + TREND_GAIN * a * c;
            if daily {
                let g = fmax(1.0 / (days as f32 + 1.0), p.season_rate) * (1.0 - a);
                let g = if out { 0.25 * g } else { g };
                for (slot, wa) in [(a0, 1.0 - w), (a1, w)] {
                    let old = self.season[slot];
                    self.season[slot] = if old.is_nan() {
                        season + c
                    } else {
                        old + g * wa * c
                    };
                }
            }
        }
        if !out {
            // On the first day the step between points stands in for the residual.
            let proxy = if first_day {
                (x - f.last).abs()
            } else {
                c.abs()
            };
            if proxy.is_finite() {
                f.scale += fmax(inv_n, SCALE_RATE) * (proxy - f.scale);
            }
        }
        let step = (x - f.last).abs();
        if step.is_finite() {
            f.diff +=
                fmax(inv_n, SCALE_RATE) * (fmin(step, CLIP * 4.0 * fmax(f.diff, scale)) - f.diff);
        }
        f.last = x;
        if !(f.level.is_finite() && f.trend.is_finite()) {
            // Overflow from extreme inputs: start this field afresh.
            f.level = x;
            f.trend = 0.0;
        }
        if warm {
            Some(z)
        } else {
            None
        }
    }
}

impl Build for HoltWinters {
    fn build(ctx: &BuildContext<'_>) -> Result<Self, AnomalyError> {
        Ok(Self::new(
            ctx.width,
            HoltWintersParams::for_interval(
                ctx.interval,
                ctx.config.max_slots,
                ctx.seasonal.season_rate,
                ctx.tuning,
            ),
        ))
    }
}

impl Detector for HoltWinters {
    fn update(&mut self, time: Timestamp, values: &[f64]) -> Score {
        let slots = self.p.slots;
        let pos = (time.millis_of_day() as f64) * slots as f64 / DAY_MS as f64;
        let fl = pos.floor();
        let w = (pos - fl) as f32;
        let s0 = (fl as i64).rem_euclid(slots as i64) as usize;
        let s1 = (s0 + 1) % slots;
        let width = self.fields.len();
        let mut best = Strongest::default();
        for i in 0..width {
            let x = values.get(i).copied().unwrap_or(f64::NAN) as f32;
            if !x.is_finite() {
                continue;
            }
            if let Some(z) = self.step(i, x, s0 * width + i, s1 * width + i, w) {
                let s = self.fields[i]
                    .cal
                    .surprise(z, self.p.tuning.direction, self.p.tuning.hold);
                best.offer(i, s, || None);
            }
        }
        best.score(self.bonferroni, self.p.tuning.decades)
    }

    fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.fields.capacity() * std::mem::size_of::<Field>()
            + self.season.capacity() * std::mem::size_of::<f32>()
    }
}

#[cfg(test)]
mod tests {
    use ai4ict_core::Interval;

    use crate::tests::{noise, time, BAD_VALUES, STEP};
    use crate::{DetectorConfig, DetectorKind};

    fn run(interval: Interval, n: usize, value: impl Fn(usize) -> f64) -> Vec<f64> {
        let config = DetectorConfig {
            detector: DetectorKind::HoltWinters,
            ..DetectorConfig::default()
        };
        let mut d = config.build(1, interval).unwrap();
        (0..n)
            .map(|i| {
                let t = ai4ict_core::Timestamp(time(0).0 + i as i64 * interval.millis());
                d.update(t, &[value(i)]).value
            })
            .collect()
    }

    /// Daily sine (96 points a day) with noise.
    fn seasonal(i: usize) -> f64 {
        let phase = (i % 96) as f64 / 96.0 * std::f64::consts::TAU;
        100.0 + 40.0 * phase.sin() + 3.0 * noise(i)
    }

    #[test]
    fn quiet_on_clean_noise() {
        for interval in [STEP, Interval::from_minutes(1440)] {
            let s = run(interval, 2000, seasonal);
            assert!(s.iter().all(|v| (0.0..=1.0).contains(v)));
            if interval == STEP {
                let loud = s.iter().filter(|v| **v >= 0.9).count();
                assert!(loud <= 2, "{loud} loud points");
            }
        }
        // No season (daily samples): flat noise stays quiet.
        let s = run(Interval::from_minutes(1440), 3000, |i| 20.0 + noise(i));
        assert!(s.iter().filter(|v| **v >= 0.9).count() <= 2);
    }

    #[test]
    fn finds_a_spike() {
        let at = 10 * 96 + 40;
        let s = run(STEP, 11 * 96, |i| {
            seasonal(i) + if i == at { 60.0 } else { 0.0 }
        });
        assert!(s[at] >= 0.9, "spike scored {}", s[at]);
        assert!(s[..96].iter().all(|v| *v == 0.0), "scored during warm-up");
    }

    #[test]
    fn finds_a_level_shift_and_settles() {
        let at = 8 * 96 + 10;
        let s = run(STEP, 13 * 96, |i| {
            seasonal(i) + if i >= at { 30.0 } else { 0.0 }
        });
        assert!(s[at..at + 4].iter().any(|v| *v >= 0.9), "missed the shift");
        let late = &s[at + 2 * 96..];
        assert!(late.iter().filter(|v| **v >= 0.9).count() <= 2);
    }

    #[test]
    fn no_panic_on_bad_input() {
        let config = DetectorConfig {
            detector: DetectorKind::HoltWinters,
            ..DetectorConfig::default()
        };
        for minutes in [1, 15, 1440] {
            let mut d = config.build(2, Interval::from_minutes(minutes)).unwrap();
            let bad = BAD_VALUES;
            for i in 0..3000 {
                let s = d.update(time(i), &[bad[i % bad.len()], 3.0]);
                assert!((0.0..=1.0).contains(&s.value));
            }
            assert_eq!(d.update(time(3000), &[]).value, 0.0);
        }
        // Constant, then a change.
        let s = run(STEP, 400, |i| if i < 300 { 7.0 } else { 9.0 });
        assert!(s[..300].iter().all(|v| *v == 0.0));
        assert!(s[300] >= 0.9);
    }
}
