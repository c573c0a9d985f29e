//! Relations between an entity's fields: when fields move together (a cell's throughput with
//! its PRB utilisation, its latency with its load), a break in how they move together is
//! evidence even when each field alone is within its usual range for the hour.
//!
//! For the first `max(per_day, 48)` complete rows (every field finite) the entity's fields'
//! moments are summed. Then each field takes as its *partner* the other field it correlates
//! with most, if `|r| >= RELATE_MIN` (a pair that are each other's best is one relation: the
//! rougher field, the one that moves more from row to row against its day's range, given the
//! smoother), and learns the field's expected value given the partner's: a profile of [`BINS`] points over the partner's range that day (widened by a
//! quarter each side), interpolated linearly, so that a curved relation (latency rising
//! steeply as load nears capacity) is followed as well as a straight one. Each bin has a
//! robust scale (winsorised mean absolute residual) shrunk towards the relation's global one,
//! widened where the profile curves by what linear interpolation errs there. The residual's
//! z-score goes through the same [`Evidence`] as a field's own z-score (point and short
//! average, each with its calibrator), less `LOOK` decades for the extra look, and is blamed
//! on the field of the pair further from its own usual value ([`Relations::note`]). A relation
//! scores after a day of learning, and only between two learned bins: at the edge of what the partner has done the
//! relation is least known and often bends (users keep rising as PRB utilisation saturates).
//!
//! A slow drift of one field (latency creeping up while the load is as usual), a variance
//! burst (noise on each field, so no longer on the relation) and a degraded throughput per
//! PRB are each a break of a relation that a seasonal profile sees only late, or not at all,
//! because busy and quiet days move a field far more than the break does.
//!
//! Several relations breaking by a little in the same row (a variance burst scatters every
//! field at once; a throughput drift moves downlink and uplink together) are evidence beyond
//! the strongest break: Fisher's combination of the row's relation surprises, less `log10 2`
//! for the second look, is offered beside it (variance bursts on the test seeds 78 → 80 of
//! 90).
//!
//! Learning is winsorised at `CLIP` scales and out-of-band points teach a quarter as fast, so
//! an incident barely moves the profile. When a bin's last `RELEARN_RUN` points were all out
//! of band on one side, the relation has changed (a capacity upgrade, a fault that lasts, or
//! a drift in the history that the young profile followed): it is learned afresh, and the old
//! one is kept for `ANCHOR_DAYS` and restored at the first point that fits it and not the new
//! one (the fault or drift has ended).
//!
//! Measured on the sandbox with incidents in the history (`ai4ict bench sandbox --quiet-days 0
//! --history-days 7`, `auto`): recall on the test seeds 101–105 0.905–0.938 → 0.959–0.975,
//! precision within a point; slow drifts found 19 → 52 of 59 (crates/anomaly/README.md).
//!
//! Memory: 232 bytes per relation and 4 per field, and while the
//! partners are chosen `4 * width * (width + 7)` bytes of moments (480 for a cell's 8 KPIs),
//! freed after. Time: O(1) per field with a partner: an interpolation, a square root, a few
//! divisions and the calibrators' work; O(width²) per row while the partners are chosen.

use serde::{Deserialize, Serialize};

use crate::calibrate::{fmax, fmin, Evidence};
use crate::ensemble::fisher;
use crate::{Against, Tuning, Why};
use std::f32::consts::LOG10_2;

/// Points of the relation profile over the partner's range.
pub const BINS: usize = 12;
/// Least absolute correlation over the first day for a partner to be chosen (chosen a
/// priori: a partner that explains less than two thirds of a field's variance says little).
pub const RELATE_MIN: f64 = 0.8;
/// Points a bin learns from before the relation is scored there.
const MIN_VISITS: u8 = 8;
/// Slowest learning rate of a bin, per point that reaches it.
const RATE: f32 = 1.0 / 64.0;
/// Residuals beyond this many scales are winsorised before they teach the profile.
const CLIP: f32 = 3.0;
/// Prior weight, in visits, of the global scale against a bin's own.
const SHRINK: f32 = 4.0;
/// Most visits of a bin's own that count against the global scale.
const VISITS_CAP: u8 = 32;
/// Decades taken off a relation's surprise for the look it adds per field.
const LOOK: f32 = 1.0;
/// Surprise, in decades, below which an episode has ended.
const EPISODE_MIN: f32 = 2.0;
/// Consecutive out-of-band points with one sign in a bin after which the relation is
/// relearned.
const RELEARN_RUN: u8 = 4;
/// Days a relation replaced by a new one is kept, to be restored if the data come back to it.
const ANCHOR_DAYS: u32 = 7;
/// Least rows the partners are chosen from.
const MIN_ROWS: u32 = 48;

/// The entity's relations (see the module docs).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Relations {
    /// Rows to choose the partners from.
    rows: u32,
    /// The moments, while the partners are being chosen.
    moments: Option<Box<Moments>>,
    /// The relations, by field (fields without a partner have none).
    links: Vec<Link>,
    /// Each field's own z-score at this point (0 where it has none), to blame a break on the
    /// field of the pair that moved.
    own: Vec<f32>,
}

/// Sums over the complete rows of the first day.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Moments {
    n: u32,
    sum: Vec<f64>,
    /// `x_i * x_j`, `i <= j`, row-major over the upper triangle with the diagonal.
    cross: Vec<f64>,
    min: Vec<f32>,
    max: Vec<f32>,
    /// Squared steps between consecutive complete rows, and the last one.
    steps: Vec<f64>,
    last: Vec<f64>,
}

/// One field's relation to its partner.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Link {
    field: u8,
    partner: u8,
    /// The partner's value at bin 0, and bins per unit of the partner's value.
    lo: f32,
    per_unit: f32,
    /// Global mean absolute residual.
    scale: f32,
    /// In-band points learned from (saturating).
    n: u16,
    /// Points of the current episode at or above the report level.
    reported: u16,
    loc: [f32; BINS],
    bin_scale: [f32; BINS],
    visits: [u8; BINS],
    /// Per bin, the signed count of consecutive out-of-band points there.
    runs: [i8; BINS],
    /// The relation before the last relearning, kept for `ANCHOR_DAYS` (points since, 0 when
    /// none).
    anchor: [f32; BINS],
    anchor_age: u32,
    cal: Evidence,
}

impl Relations {
    /// Relations among `width` fields, partners chosen from the first `per_day` (at least
    /// `MIN_ROWS`) complete rows; `None` for a single field.
    pub(crate) fn new(width: usize, per_day: u32) -> Option<Self> {
        (2..=usize::from(u8::MAX)).contains(&width).then(|| Self {
            rows: per_day.max(MIN_ROWS),
            moments: Some(Box::new(Moments {
                n: 0,
                sum: vec![0.0; width],
                cross: vec![0.0; width * (width + 1) / 2],
                min: vec![f32::INFINITY; width],
                max: vec![f32::NEG_INFINITY; width],
                steps: vec![0.0; width],
                last: vec![0.0; width],
            })),
            links: Vec::new(),
            own: vec![0.0; width],
        })
    }

    /// Notes field `i`'s own signed z-score at this point (0 when it has none); before
    /// [`update`](Self::update).
    pub(crate) fn note(&mut self, i: usize, z: f32) {
        if let Some(own) = self.own.get_mut(i) {
            *own = if z.is_finite() { z } else { 0.0 };
        }
    }

    /// Learns from a row of `values` (the entity's fields in order) and gives each relation's
    /// surprise to `offer(field, surprise)`, for the field of its pair with the larger own
    /// z-score (see [`note`](Self::note)); `report` is the surprise of a calibrated
    /// 0.9 for the entity, `t.hold` the points an episode is reported for.
    pub(crate) fn update(
        &mut self,
        values: &[f64],
        report: f32,
        t: &Tuning,
        mut offer: impl FnMut(usize, f32, Option<Why>),
    ) {
        if let Some(m) = &mut self.moments {
            if m.add(values) >= self.rows {
                self.links = m.links();
                self.moments = None;
            }
            return;
        }
        let at = |i: u8| values.get(usize::from(i)).map_or(f32::NAN, |v| *v as f32);
        // Several relations breaking at once (a variance burst scatters every field) is
        // evidence beyond the strongest break: Fisher's combination of the links' surprises.
        let (mut total, mut scored) = (0.0f32, 0usize);
        let mut strongest: Option<(f32, usize, Option<Why>)> = None;
        for link in &mut self.links {
            let (x, v) = (at(link.field), at(link.partner));
            if x.is_finite() && v.is_finite() {
                let (s, expected, spread) = link.update(x, v, self.rows, report, t);
                // The pair's break is the field's that is further from its own usual value.
                let (f, p) = (usize::from(link.field), usize::from(link.partner));
                let blame = if self.own[p].abs() > self.own[f].abs() {
                    p
                } else {
                    f
                };
                let against = Against::Relation {
                    field: u16::from(link.field),
                    partner: u16::from(link.partner),
                };
                let why = expected
                    .is_finite()
                    .then(|| Why::new(against, expected, spread));
                offer(blame, s, why);
                total += s;
                scored += 1;
                if strongest.is_none_or(|(b, ..)| s > b) {
                    strongest = Some((s, blame, why));
                }
            }
        }
        if let Some((s, blame, why)) = strongest.filter(|_| scored >= 2 && total > 0.0) {
            // Less log10 2: the combination is a second look at the same links.
            let combined = fisher(total, scored) - LOG10_2;
            if combined > s {
                offer(blame, combined, why);
            }
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        let moments = self.moments.as_ref().map_or(0, |m| {
            std::mem::size_of::<Moments>()
                + 8 * (m.sum.capacity() + m.cross.capacity())
                + 4 * (m.min.capacity() + m.max.capacity())
                + 8 * (m.steps.capacity() + m.last.capacity())
        });
        moments
            + self.links.capacity() * std::mem::size_of::<Link>()
            + self.own.capacity() * std::mem::size_of::<f32>()
    }
}

impl Moments {
    /// Adds a row if it is complete; returns the complete rows so far.
    fn add(&mut self, values: &[f64]) -> u32 {
        let width = self.sum.len();
        if values.len() < width || values[..width].iter().any(|v| !v.is_finite()) {
            return self.n;
        }
        self.n += 1;
        let mut k = 0;
        for i in 0..width {
            let x = values[i];
            self.sum[i] += x;
            self.min[i] = fmin(self.min[i], x as f32);
            self.max[i] = fmax(self.max[i], x as f32);
            if self.n > 1 {
                self.steps[i] += (x - self.last[i]).powi(2);
            }
            self.last[i] = x;
            for y in &values[i..width] {
                self.cross[k] += x * y;
                k += 1;
            }
        }
        self.n
    }

    /// Each field's relation to the field it correlates with most, where that is at least
    /// `RELATE_MIN`.
    fn links(&self) -> Vec<Link> {
        let width = self.sum.len();
        let n = f64::from(self.n.max(1));
        // Index of (i, j), i <= j, in `cross`.
        let at = |i: usize, j: usize| {
            let (i, j) = (i.min(j), i.max(j));
            i * width - i * (i + 1) / 2 + j
        };
        let cov = |i: usize, j: usize| self.cross[at(i, j)] / n - self.sum[i] * self.sum[j] / n / n;
        let var: Vec<f64> = (0..width).map(|i| cov(i, i)).collect();
        let best: Vec<Option<usize>> = (0..width)
            .map(|i| {
                (0..width)
                    .filter(|&j| j != i && var[i] > 0.0 && var[j] > 0.0)
                    .map(|j| (j, (cov(i, j) / (var[i] * var[j]).sqrt()).abs()))
                    .filter(|(_, r)| *r >= RELATE_MIN)
                    .max_by(|a, b| a.1.total_cmp(&b.1))
                    .map(|(j, _)| j)
            })
            .collect();
        // How much a field moves from one row to the next against how much it moves in a
        // day: its own noise, which a partner carries into the relation.
        let rough = |i: usize| self.steps[i] / n / var[i];
        let mut links = Vec::new();
        for (i, &j) in best.iter().enumerate() {
            // A pair that are each other's best is one relation, learned once: the rougher
            // field given the smoother (given a noisy partner, a field's expected value is
            // flattened towards its mean, more so where the partner has moved little yet).
            let Some(j) = j.filter(|&j| best[j] != Some(i) || (rough(i), i) > (rough(j), j)) else {
                continue;
            };
            let (lo, hi) = (self.min[j], self.max[j]);
            let margin = (hi - lo) / 4.0;
            let per_unit = (BINS - 1) as f32 / (hi - lo + 2.0 * margin);
            if per_unit.is_finite() {
                links.push(Link::new(i as u8, j as u8, lo - margin, per_unit));
            }
        }
        links.shrink_to_fit();
        links
    }
}

impl Link {
    fn new(field: u8, partner: u8, lo: f32, per_unit: f32) -> Self {
        Self {
            field,
            partner,
            lo,
            per_unit,
            scale: 0.0,
            n: 0,
            reported: 0,
            loc: [f32::NAN; BINS],
            bin_scale: [0.0; BINS],
            visits: [0; BINS],
            runs: [0; BINS],
            anchor: [f32::NAN; BINS],
            anchor_age: 0,
            cal: Evidence::new(),
        }
    }

    /// Surprise of the field's value `x` given its partner's `v`, learning from both, with the
    /// value expected of `x` and the scale of its ordinary deviations (NaN where none is
    /// known); `per_day` is the rows in a day.
    fn update(&mut self, x: f32, v: f32, per_day: u32, report: f32, t: &Tuning) -> (f32, f32, f32) {
        let pos = (v - self.lo) * self.per_unit;
        if !(0.0..=(BINS - 1) as f32).contains(&pos) {
            // Beyond the range the partners were chosen on: nothing known, nothing learned.
            return (0.0, f32::NAN, f32::NAN);
        }
        let b0 = (pos as usize).min(BINS - 2);
        let w = pos - b0 as f32;
        let nearest = if w < 0.5 { b0 } else { b0 + 1 };
        // Only between two learned bins: beyond them (the edge of what the partner has
        // done) the relation is least known, and often bends.
        let learned = |b: usize| self.visits[b] >= MIN_VISITS;
        let expected = (learned(b0) && learned(b0 + 1))
            .then(|| (1.0 - w) * self.loc[b0] + w * self.loc[b0 + 1]);
        let bin_scale = (1.0 - w) * self.bin_scale[b0] + w * self.bin_scale[b0 + 1];
        let k = f32::from(self.visits[nearest].min(VISITS_CAP));
        // The bins' own error: a mean of `v` points is off by about `1 / sqrt(v)` scales.
        let fewest = f32::from(self.visits[b0].min(self.visits[b0 + 1]).max(1));
        let shrunk = ((SHRINK * self.scale * self.scale + k * bin_scale * bin_scale)
            / (SHRINK + k)
            * (1.0 + 1.0 / fewest))
            .sqrt();
        // Where the relation curves, linear interpolation errs by about an eighth of the
        // second difference of the profile, and that is no anomaly.
        let curve = 0.125 * fmax(self.curvature(b0), self.curvature(b0 + 1));
        let floor = 1e-6 * x.abs() + 1e-9;
        let scale = fmax(fmax(1.25 * shrunk + curve, 0.3 * 1.25 * self.scale), floor);
        let Some(expected) = expected else {
            self.learn(nearest, 1.0, x, None, scale);
            return (0.0, f32::NAN, scale);
        };
        let r = x - expected;
        let z = fmin(fmax(r / scale, -1e6), 1e6);
        // Scored after a day of learning: the partner has then been through its range once.
        let trusted = u32::from(self.n) >= per_day;
        let out = trusted && z.abs() > CLIP;
        let mut broken = false;
        for (b, wb) in [(b0, 1.0 - w), (b0 + 1, w)] {
            if wb >= 0.25 {
                let run = &mut self.runs[b];
                *run = match (out, z > 0.0) {
                    (false, _) => 0,
                    (true, true) => (*run).max(0).saturating_add(1),
                    (true, false) => (*run).min(0).saturating_sub(1),
                };
                broken |= run.unsigned_abs() >= RELEARN_RUN;
            }
        }
        if self.anchor_age > 0 {
            self.anchor_age = self.anchor_age.saturating_add(1);
            let fits = |loc: &[f32; BINS]| {
                let e = (1.0 - w) * loc[b0] + w * loc[b0 + 1];
                (x - e).abs() <= CLIP * scale
            };
            if out && fits(&self.anchor) {
                // Back to the relation before the change: the change was an episode (a drift
                // that ended); restore what was known before it.
                std::mem::swap(&mut self.loc, &mut self.anchor);
                // Its bins were learned: they go on at the slow rate.
                for (visits, loc) in self.visits.iter_mut().zip(&self.loc) {
                    *visits = if loc.is_nan() { 0 } else { VISITS_CAP };
                }
                self.anchor_age = 0;
                self.runs = [0; BINS];
                return (0.0, expected, scale);
            }
            if self.anchor_age > ANCHOR_DAYS.saturating_mul(per_day) {
                self.anchor_age = 0;
            }
        }
        if broken {
            // Out of band on one side every time the partner was here: the relation has
            // changed; learn the new one, and keep the old one in case the data come back.
            if self.anchor_age == 0 {
                for (b, a) in self.anchor.iter_mut().enumerate() {
                    *a = if self.visits[b] >= MIN_VISITS {
                        self.loc[b]
                    } else {
                        f32::NAN
                    };
                }
                self.anchor_age = 1;
            }
            self.visits = [0; BINS];
            self.runs = [0; BINS];
        }
        let c = if trusted {
            fmin(fmax(r, -CLIP * scale), CLIP * scale)
        } else {
            r
        };
        let gain = if out { 0.25 } else { 1.0 };
        for (b, wb) in [(b0, 1.0 - w), (b0 + 1, w)] {
            if wb >= 0.25 {
                self.learn(b, gain * wb, x, Some(expected + c), scale);
            }
        }
        if !out {
            self.n = self.n.saturating_add(1);
            let g = fmax(1.0 / f32::from(self.n), 0.01);
            self.scale += g * (c.abs() - self.scale);
        }
        if !trusted {
            return (0.0, expected, scale);
        }
        // The episode's hold counts points at the report level, not the calibrator's episode:
        // a break that grows slowly is surprising for a while before it is reportable.
        let (s, _) = self.cal.surprises(z, t.direction, 0);
        let s = fmax(s - LOOK, 0.0);
        if s < EPISODE_MIN {
            self.reported = 0;
        } else if s >= report {
            self.reported = self.reported.saturating_add(1);
        }
        if t.hold > 0 && self.reported > t.hold {
            return (0.0, expected, scale);
        }
        (s, expected, scale)
    }

    /// `|loc[b-1] - 2 loc[b] + loc[b+1]|` where all three are learned (0 elsewhere).
    fn curvature(&self, b: usize) -> f32 {
        if b == 0 || b + 1 >= BINS || (b - 1..=b + 1).any(|k| self.visits[k] < MIN_VISITS) {
            return 0.0;
        }
        (self.loc[b - 1] - 2.0 * self.loc[b] + self.loc[b + 1]).abs()
    }

    /// Teaches bin `b`, with weight `gain`, that the value was `x`, winsorised to `clipped`
    /// where the bin is learned.
    fn learn(&mut self, b: usize, gain: f32, x: f32, clipped: Option<f32>, scale: f32) {
        let visits = self.visits[b];
        if visits == 0 || self.loc[b].is_nan() {
            self.loc[b] = x;
            self.bin_scale[b] = self.scale;
        } else {
            let target = clipped.unwrap_or(x);
            let g = gain * fmax(1.0 / (f32::from(visits) + 1.0), RATE);
            let r = target - self.loc[b];
            self.loc[b] += g * r;
            self.bin_scale[b] += g * (fmin(r.abs(), CLIP * scale) - self.bin_scale[b]);
        }
        self.visits[b] = visits.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Against, Direction, Why};

    const DAY: usize = 96;
    /// The report level of a three-field entity: a calibrated 0.9 with 5 decades.
    const REPORT: f32 = 0.9 * 5.0 + 0.477;

    /// Deterministic noise, uniform in [-1.7, 1.7] (splitmix64 of `i`).
    fn noise(i: usize) -> f32 {
        let mut z = (i as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((z >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 3.4
    }

    fn tuning() -> Tuning {
        Tuning {
            level_rate: 0.01,
            level_shift_after: 3,
            min_points: 0,
            decades: 5.0,
            direction: Direction::Both,
            hold: 2,
        }
    }

    /// Load with a daily cycle and day-to-day variation; field 1 is a curved function of it
    /// (`y`, given to `fault`), field 2 is unrelated noise. Returns the relations' largest
    /// surprise per row.
    fn run(len: usize, fault: impl Fn(usize, f32) -> f32) -> Vec<f32> {
        run_why(len, fault).into_iter().map(|(s, ..)| s).collect()
    }

    /// As [`run`], with the baseline of the largest surprise and the unfaulted `y`.
    fn run_why(len: usize, fault: impl Fn(usize, f32) -> f32) -> Vec<(f32, Option<Why>, f32)> {
        let mut r = Relations::new(3, DAY as u32).unwrap();
        let t = tuning();
        (0..len)
            .map(|i| {
                let hour = (i % DAY) as f32 / DAY as f32 * std::f32::consts::TAU;
                let day = 1.0 + 0.2 * noise(i / DAY + 500);
                let load = (0.4 + 0.3 * hour.sin()) * day;
                let y = 10.0 * (1.0 + load / (1.2 - load)) * (1.0 + 0.02 * noise(i));
                let row = [
                    f64::from(load),
                    f64::from(fault(i, y)),
                    f64::from(noise(i + 77)),
                ];
                let (mut most, mut why) = (0.0, None);
                r.update(&row, REPORT, &t, |_, s, w| {
                    if s >= most {
                        (most, why) = (s, w);
                    }
                });
                (most, why, y)
            })
            .collect()
    }

    #[test]
    fn partners_are_the_correlated_fields() {
        let mut r = Relations::new(3, DAY as u32).unwrap();
        for i in 0..DAY {
            // Field 1 follows field 0 with noise of its own; field 2 is noise alone.
            let x = i as f64;
            r.update(
                &[
                    x,
                    2.0 * x + 1.0 + 5.0 * f64::from(noise(i + 300)),
                    f64::from(noise(i)),
                ],
                REPORT,
                &tuning(),
                |_, _, _| {},
            );
        }
        let pairs: Vec<(u8, u8)> = r.links.iter().map(|l| (l.field, l.partner)).collect();
        // Each other's best: one relation, the rougher field given the smoother.
        assert_eq!(pairs, [(1, 0)]);
        assert!(r.moments.is_none());
        assert!(Relations::new(1, 96).is_none());
    }

    #[test]
    fn a_curved_relation_with_busy_and_quiet_days_is_quiet() {
        let s = run(21 * DAY, |_, y| y);
        let high = s.iter().filter(|&&s| s >= REPORT).count();
        assert_eq!(high, 0, "{:?}", s.iter().copied().fold(0.0, f32::max));
    }

    #[test]
    fn a_slow_drift_of_one_field_is_reported_early() {
        let (start, len) = (10 * DAY, 3 * DAY);
        // The field doubles over three days; its partner does not move.
        let s = run(start + len, |i, y| {
            let done = i.saturating_sub(start) as f32 / len as f32;
            y * (1.0 + done)
        });
        assert!(s[..start].iter().all(|&s| s < REPORT));
        let first = s[start..].iter().position(|&s| s >= REPORT);
        assert!(first.is_some_and(|f| f < len / 4), "{first:?}");
    }

    #[test]
    fn a_broken_relation_says_what_was_expected() {
        let at = 10 * DAY;
        let s = run_why(at + DAY, |i, y| if i >= at { 0.6 * y } else { y });
        let (_, why, y) = s[at..]
            .iter()
            .find(|(s, ..)| *s >= REPORT)
            .expect("the break is reported");
        let why = why.expect("with its baseline");
        assert_eq!(
            why.against,
            Against::Relation {
                field: 1,
                partner: 0
            }
        );
        // The value the field takes with its partner where it is: the unfaulted one.
        assert!((why.expected - y).abs() < 0.1 * y, "{why:?} {y}");
        assert!(why.spread > 0.0 && why.spread < 0.1 * y, "{why:?}");
    }

    #[test]
    fn a_lasting_change_is_relearned() {
        let at = 8 * DAY;
        let s = run(at + 4 * DAY, |i, y| if i >= at { 1.25 * y } else { y });
        assert!(s[at..at + 4].iter().any(|&s| s >= REPORT));
        assert!(s[at + 2 * DAY..].iter().all(|&s| s < REPORT));
    }

    #[test]
    fn a_link_is_232_bytes() {
        assert_eq!(std::mem::size_of::<Link>(), 232);
    }
}
