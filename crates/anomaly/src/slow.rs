//! Evidence that builds up over many points, beside a seasonal detector's point and short-run
//! evidence ([`Evidence`](crate::calibrate::Evidence)), per field:
//!
//! - **Slow drift**: a fast average (about 16 points) of the deseasonalised value's
//!   (`x − profile`) deviation from a slow baseline of it (two days), each deviation in units
//!   of the point's ordinary deviations; the average, in units of its own typical size in
//!   ordinary times, is the raw score. A detector's level follows a ramp of a day or more a
//!   few sigmas at a time, so no point is surprising; the slow baseline does not follow (it
//!   moves at most `CLIP` typical gaps per time constant), so the gap grows with the ramp.
//!   The same bound keeps an incident of hours from moving it, so the return to normal after
//!   one is not a drift. Its surprise is discounted by `DRIFT_DISCOUNT` decades (see there).
//! - **Variance burst**: a short average (4 points) of the z-scores' absolute deviations from
//!   their short average, each z capped at `SPREAD_CAP`, against its ordinary mean, in units
//!   of its ordinary mean absolute deviation. A burst's points have random signs, so neither
//!   a point nor the signed short average is surprising twice in a row; their spread is, for
//!   as long as the burst lasts. Deviations from the short average ignore a day's level and a
//!   level being absorbed, and the cap keeps a single wild value (a counter reset) from
//!   making a burst.
//!
//! Each raw score has its own [`TailCalibrator`], taught by every point that is neither being
//! reported nor far out (the statistics are smooth, so their exceedances come in runs, and a
//! run is what the tail is made of); the larger surprise, less `log10 4` for the two more
//! looks, is the field's slow evidence. Consecutive points at the report level (a calibrated
//! 0.9) count towards the episode's `hold`; before that the evidence is still building and is
//! reported as it is. A run broken before `hold` points starts the count again: a drift whose
//! evidence hovers at the report level was never two points in a row there, so the policy has
//! not alerted on it, and holding it then would hide it for good (on development seed 2 a
//! latency drift reached 0.90 twice, an hour apart, and was then held for a day).
//!
//! Memory: 64 bytes per field. Time: O(1), a few dozen operations per point, no logarithm
//! but for the calibrators' rare exceedances.

use serde::{Deserialize, Serialize};

use crate::calibrate::{fmax, fmin, TailCalibrator};
use crate::{Against, Direction, Tuning};

/// Rate per point of the fast average of the drift comparison (about 4 hours at 15 minutes).
const FAST: f32 = 1.0 / 16.0;
/// Memory of the slow baseline, in days.
const SLOW_DAYS: f32 = 2.0;
/// Memory of the typical sizes, in days: longer than the baseline's, so that they have seen
/// many days' levels (a day busier or quieter than usual is ordinary).
const SCALE_DAYS: f32 = 8.0;
/// Rate per point of the short averages of the z-scores and of their deviations.
const SPREAD_RATE: f32 = 0.25;
/// A z-score's deviation counts at most this much in the spread average.
const SPREAD_CAP: f32 = 4.0;
/// Typical sizes that bound what one point teaches the baselines (winsorising).
const CLIP: f32 = 3.0;
/// Decades taken off the drift's surprise. Its ordinary excursions last whole days (a day
/// busier or quieter than usual, a planned event), so its exceedances are few and long and the
/// exponential tail learned from them is far too light: on the sandbox's development seeds
/// (7, 1, 2, 3) it drew, undiscounted, about 8 false alerts for each drift it added to what
/// the spread finds; with 8 decades off, 2 (16 for 8).
const DRIFT_DISCOUNT: f32 = 8.0;
/// Raw scores at or beyond this do not teach the tails.
const TEACH: f32 = 5.0;
/// `|z|` of a standard normal on average: where the spread average starts.
const MEAN_ABS_NORMAL: f32 = 0.8;
/// Deviations from the slow baseline count at most this many units in the fast average.
const DEV_CAP: f32 = 8.0;
/// Surprise, in decades, that makes a point part of an episode.
const EPISODE_MIN: f32 = 2.0;
/// `log10 4`: the correction for looking at two more pieces of evidence per field.
const LOOKS: f32 = 0.602_06;

/// One field's slow evidence (see the module docs).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SlowEvidence {
    /// Fast average of the deseasonalised value's deviation from `slow`, in its units.
    fast: f32,
    /// Slow baseline of the deseasonalised value.
    slow: f32,
    /// Mean absolute `fast` in ordinary times.
    gap_scale: f32,
    /// Short average of the z-scores.
    local: f32,
    /// Short average of the z-scores' capped absolute deviations from `local`.
    spread: f32,
    /// Its ordinary mean, and mean absolute deviation from it.
    spread_mean: f32,
    spread_dev: f32,
    drift: TailCalibrator,
    burst: TailCalibrator,
    /// Points seen (saturating).
    n: u16,
    /// Points of the current episode at or above the report level.
    reported: u16,
}

impl SlowEvidence {
    pub(crate) fn new() -> Self {
        Self {
            fast: 0.0,
            slow: 0.0,
            gap_scale: 0.0,
            local: 0.0,
            spread: MEAN_ABS_NORMAL,
            spread_mean: MEAN_ABS_NORMAL,
            spread_dev: 0.0,
            drift: TailCalibrator::new(),
            burst: TailCalibrator::new(),
            n: 0,
            reported: 0,
        }
    }

    /// Surprise of the field's slow evidence after a point with signed z-score `z` and
    /// deseasonalised value `y` (whose ordinary deviations are about `unit`), learning from it.
    /// `per_day` is the points in a day (it scores after one), `report` the surprise of a
    /// calibrated 0.9 for this entity; `t.direction` orients the drift, `t.hold` is as in
    /// [`Evidence::surprise`](crate::calibrate::Evidence::surprise). Also says which evidence
    /// it is: [`Against::Drift`] or [`Against::Spread`].
    pub(crate) fn surprise(
        &mut self,
        z: f32,
        y: f32,
        unit: f32,
        per_day: u32,
        report: f32,
        t: &Tuning,
    ) -> (f32, Against) {
        let (direction, hold) = (t.direction, t.hold);
        if !(z.is_finite() && y.is_finite()) {
            return (0.0, Against::Spread);
        }
        self.n = self.n.saturating_add(1);
        if self.n == 1 {
            self.slow = y;
            self.local = z;
            return (0.0, Against::Spread);
        }
        let days = per_day.max(1) as f32;
        let first = 1.0 / f32::from(self.n);
        let (learn, learn_scale) = (
            fmax(first, 1.0 / (SLOW_DAYS * days)),
            fmax(first, 1.0 / (SCALE_DAYS * days)),
        );
        // The deviation from the slow baseline in units of the point's ordinary deviations (so
        // busy hours and quiet ones weigh alike), winsorised so that one wild value (a counter
        // reset) cannot move the fast average.
        let unit = fmax(unit, 1e-12);
        let dev = fmin(fmax((y - self.slow) / unit, -DEV_CAP), DEV_CAP);
        self.fast += fmax(1.0 / f32::from(self.n), FAST) * (dev - self.fast);
        // The z-scores' deviations from their short mean: a burst's spread, whatever the day's
        // level.
        let capped = fmin(fmax(z, -SPREAD_CAP), SPREAD_CAP);
        let jump = (capped - self.local).abs();
        self.local += SPREAD_RATE * (capped - self.local);
        self.spread += SPREAD_RATE * (jump - self.spread);
        let gap = self.fast;
        let gap_unit = fmax(1.25 * self.gap_scale, 1e-3);
        let spread_unit = fmax(1.25 * self.spread_dev, 1e-3);
        let zd = match direction {
            Direction::Both => gap.abs(),
            Direction::Up => fmax(gap, 0.0),
            Direction::Down => fmax(-gap, 0.0),
        } / gap_unit;
        let zs = fmax(self.spread - self.spread_mean, 0.0) / spread_unit;
        let warm = u32::from(self.n) > per_day;
        let (s, kind) = if warm {
            let (drift, burst) = (
                self.drift.surprise(zd) - DRIFT_DISCOUNT,
                self.burst.surprise(zs),
            );
            let kind = if drift > burst {
                Against::Drift
            } else {
                Against::Spread
            };
            (fmax(fmax(drift, burst) - LOOKS, 0.0), kind)
        } else {
            (0.0, Against::Spread)
        };
        // The baseline learns, bounded, from every point: a change that lasts is taken in at
        // `CLIP` typical gaps per time constant, one of hours barely at all. The typical sizes
        // learn from ordinary points only, the tails from all but the far and the reported
        // ones (after the first day): what builds up slowly must not teach them that it is usual.
        self.slow += learn * unit * fmin(fmax(dev, -CLIP * gap_unit), CLIP * gap_unit);
        let gap_abs = gap.abs() / gap_unit;
        if gap_abs < CLIP || !warm {
            self.gap_scale += learn_scale * (gap.abs() - self.gap_scale);
        }
        let d = self.spread - self.spread_mean;
        if d.abs() < CLIP * spread_unit || !warm {
            self.spread_mean += learn_scale * d;
            self.spread_dev += learn_scale * (d.abs() - self.spread_dev);
        }
        if warm && s < report {
            if gap_abs < TEACH {
                self.drift.observe(zd, false);
            }
            if zs < TEACH {
                self.burst.observe(zs, false);
            }
        }
        (self.held(s, report, hold), kind)
    }

    /// The episode's hold (see the module docs): `s`, or 0 once `hold` consecutive points at
    /// the report level have been reported, until the evidence comes back to normal.
    fn held(&mut self, s: f32, report: f32, hold: u16) -> f32 {
        if s < EPISODE_MIN {
            self.reported = 0;
            return s;
        }
        if s >= report {
            self.reported = self.reported.saturating_add(1);
        } else if self.reported < hold {
            // The run at the report level broke before the policy could have alerted on it:
            // the hold starts again with the next run.
            self.reported = 0;
        }
        if hold > 0 && self.reported > hold {
            return 0.0;
        }
        s
    }

    /// The slow baseline of the deseasonalised value: what a drift is measured from.
    pub(crate) fn baseline(&self) -> f32 {
        self.slow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic noise in about [-1, 1].
    fn noise(i: usize) -> f32 {
        (((i * 7919 + 13) % 1009) as f32 / 1009.0 - 0.5) * 3.4
    }

    const DAY: usize = 96;
    const REPORT: f32 = 0.9 * 5.0 + 0.9;

    fn run(len: usize, x: impl Fn(usize) -> (f32, f32)) -> Vec<f32> {
        let mut e = SlowEvidence::new();
        let t = Tuning {
            level_rate: 0.01,
            level_shift_after: 3,
            min_points: 0,
            decades: 5.0,
            direction: Direction::Both,
            hold: 2,
        };
        (0..len)
            .map(|i| {
                let (z, y) = x(i);
                e.surprise(z, y, 1.0, DAY as u32, REPORT, &t).0
            })
            .collect()
    }

    #[test]
    fn quiet_noise_is_not_reported() {
        let s = run(20 * DAY, |i| (noise(i), 100.0 + noise(i + 1)));
        let high = s.iter().filter(|&&s| s >= REPORT).count();
        assert_eq!(high, 0, "{:?}", s.iter().cloned().fold(0.0, f32::max));
    }

    #[test]
    fn a_ramp_and_a_burst_are_reported_and_held() {
        let start = 10 * DAY;
        // A ramp of 5 sigmas a day, which a detector's level follows (so z stays small).
        let ramp = run(start + 3 * DAY, |i| {
            let r = i.saturating_sub(start) as f32 * 5.0 / DAY as f32;
            (noise(i), 100.0 + r + noise(i + 1))
        });
        let first = ramp.iter().position(|&s| s >= REPORT);
        assert!(
            first.is_some_and(|f| f > start && f < start + DAY),
            "{first:?}"
        );
        // Reported for `hold` points, then quiet.
        assert!(ramp[start + 2 * DAY..].iter().all(|&s| s < REPORT));
        // Noise four times as wide for 3 hours.
        let burst = run(start + DAY, |i| {
            let z = if (start..start + 12).contains(&i) {
                4.0 * noise(i)
            } else {
                noise(i)
            };
            (z, 100.0 + noise(i + 1))
        });
        let first = burst.iter().position(|&s| s >= REPORT);
        assert!(
            first.is_some_and(|f| f >= start && f < start + 6),
            "{first:?}"
        );
    }

    #[test]
    fn the_hold_counts_consecutive_points_at_the_report_level() {
        let mut e = SlowEvidence::new();
        let (high, mid) = (REPORT + 1.0, EPISODE_MIN + 1.0);
        // Two points at the report level an interval apart, inside one episode: the policy
        // never saw two in a row, so neither the next run is held...
        let seen: Vec<f32> = [high, mid, high, mid, high, high, high, high]
            .iter()
            .map(|&s| e.held(s, REPORT, 2))
            .collect();
        assert_eq!(seen, [high, mid, high, mid, high, high, 0.0, 0.0]);
        // ...and once back to normal a new episode is reported again.
        assert_eq!(e.held(0.5, REPORT, 2), 0.5);
        assert_eq!(e.held(high, REPORT, 2), high);
        // Without a hold, everything is reported.
        let mut e = SlowEvidence::new();
        assert!((0..5).all(|_| e.held(high, REPORT, 0) == high));
    }

    #[test]
    fn the_state_is_64_bytes() {
        assert_eq!(std::mem::size_of::<SlowEvidence>(), 64);
    }

    #[test]
    fn one_wild_value_is_not_a_burst() {
        let at = 10 * DAY;
        let s = run(at + DAY, |i| {
            (if i == at { 1e6 } else { noise(i) }, 100.0 + noise(i + 1))
        });
        assert!(s.iter().all(|&s| s < REPORT));
    }
}
