//! Long-memory pattern novelty, per field: has anything like the current value and recent
//! level been seen before, however long ago?
//!
//! Each point is described by two features, the value itself and the mean of the last
//! [`WINDOW`] values, and compared with a memory of at most [`PROTOTYPES`] prototypes (earlier
//! feature vectors). The distance to the nearest prototype (largest difference over the two
//! features, in units of the range of values the field has taken so far) is the point's novelty.
//! Within the vigilance radius [`VIGILANCE`] the point *resonates* with that prototype and
//! refreshes it; beyond it, the point becomes a new prototype (replacing the least recently
//! refreshed one when the memory is full), so a new pattern is news once and normal the next
//! time it comes. This is the matching rule of adaptive resonance theory (Carpenter & Grossberg
//! 1987) with hyper-cube categories of fixed size, the idea behind ARTime on NAB, here with a
//! bounded memory and no knowledge of the series' future range.
//!
//! The raw score `2.5 * novelty / VIGILANCE` is z-like (2.5 at the vigilance radius, the
//! shared calibrator's threshold) and goes through the shared calibrator
//! ([`Evidence`](crate::calibrate)) with the other detectors' meaning: novelty that is itself
//! common (a field that keeps making new patterns, or the first days of a stream) scores low.
//! With `direction: up` (`down`) only points above (below) their nearest prototype score.
//!
//! Warm-up: a field scores 0 for its first `min_points` points.
//!
//! Memory per field: 256 bytes of prototypes, 128 of refresh stamps, 32 of recent values and
//! 64 of range, counters and calibrator; 524 bytes for a one-field entity. Time per field per
//! point: O(`PROTOTYPES`) = 32 distance evaluations (two subtractions and a max each), no
//! allocation; about 10 million points per second on one core.
//!
//! Limits: a pattern that needs more prototypes than the memory holds (a detailed daily shape
//! sampled every few minutes) keeps making new ones; novelty is then common and the calibrator
//! scores it low. Such streams belong to `robust_seasonal`, which is what `auto` gives them.
//!
//! Why 32 prototypes: a memory of the 32 most recently matched patterns forgets what has not
//! come back for a while, so that its return is news again; on NAB a memory of 32 scored
//! better than 16, 24 or 64 (49.0 against 41.6, 45.1 and 42.9 standard), the one setting chosen
//! there.

use crate::calibrate::{fmax, fmin, Evidence};
use crate::per_field::{FieldModel, PerField};
use crate::Tuning;
use serde::{Deserialize, Serialize};

/// Recent values averaged into the level feature.
pub const WINDOW: usize = 8;
/// Prototypes remembered per field.
pub const PROTOTYPES: usize = 32;
/// Vigilance radius, as a fraction of the field's range so far.
pub const VIGILANCE: f32 = 0.05;
/// Raw score at the vigilance radius (the calibrator's threshold).
const RAW_AT_VIGILANCE: f32 = 2.5;

/// The state of one field.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Field {
    /// Smallest and largest value seen.
    lo: f32,
    hi: f32,
    /// Last `WINDOW` values (a ring) and their running sum.
    recent: [f32; WINDOW],
    sum: f32,
    /// Points seen.
    n: u32,
    /// Prototypes in use: `(value, level)`.
    used: u8,
    prototypes: [[f32; 2]; PROTOTYPES],
    /// Point count at each prototype's last refresh.
    refreshed: [u32; PROTOTYPES],
    cal: Evidence,
}

impl Field {
    fn new() -> Self {
        Self {
            lo: f32::INFINITY,
            hi: f32::NEG_INFINITY,
            recent: [0.0; WINDOW],
            sum: 0.0,
            n: 0,
            used: 0,
            prototypes: [[0.0; 2]; PROTOTYPES],
            refreshed: [0; PROTOTYPES],
            cal: Evidence::new(),
        }
    }

    /// Learns `x`; returns its signed novelty (sign of the value against its nearest
    /// prototype), in units of the vigilance radius, or `None` for the first point.
    fn step(&mut self, x: f32) -> Option<f32> {
        let slot = self.n as usize % WINDOW;
        self.sum += x - self.recent[slot];
        self.recent[slot] = x;
        self.n = self.n.saturating_add(1);
        if (self.n as usize).is_multiple_of(16 * WINDOW) {
            // Re-add the ring now and then, so rounding cannot drift the running sum.
            self.sum = self.recent.iter().sum();
        }
        let k = (self.n as usize).min(WINDOW);
        let level = if k < WINDOW {
            x
        } else {
            self.sum / WINDOW as f32
        };
        self.lo = fmin(self.lo, x);
        self.hi = fmax(self.hi, x);
        let feature = [x, level];
        // Nearest prototype, by the larger of the two feature differences.
        let (mut best, mut nearest) = (f32::INFINITY, 0);
        for (j, p) in self.prototypes[..usize::from(self.used)].iter().enumerate() {
            let d = fmax((feature[0] - p[0]).abs(), (feature[1] - p[1]).abs());
            if d < best {
                best = d;
                nearest = j;
            }
        }
        let range = fmax(self.hi - self.lo, 1e-6 * x.abs()) + 1e-12;
        let novelty = best / (VIGILANCE * range);
        if novelty <= 1.0 {
            self.refreshed[nearest] = self.n;
        } else {
            let j = if usize::from(self.used) < PROTOTYPES {
                self.used += 1;
                usize::from(self.used) - 1
            } else {
                // The least recently refreshed prototype makes room.
                let mut oldest = 0;
                for (j, r) in self.refreshed.iter().enumerate() {
                    if *r < self.refreshed[oldest] {
                        oldest = j;
                    }
                }
                oldest
            };
            self.prototypes[j] = feature;
            self.refreshed[j] = self.n;
        }
        if !novelty.is_finite() {
            return None;
        }
        let above = x >= self.prototypes[nearest][0];
        Some(if above { novelty } else { -novelty })
    }
}

impl FieldModel for Field {
    fn fresh() -> Self {
        Self::new()
    }

    fn raw(&mut self, x: f32, t: &Tuning) -> Option<f32> {
        let novelty = self.step(x)?;
        // Only novelty beyond the vigilance radius is evidence; the sign says which way.
        (self.n > t.min_points).then_some(RAW_AT_VIGILANCE * novelty)
    }

    fn evidence(&mut self) -> &mut Evidence {
        &mut self.cal
    }
}

/// The pattern-novelty detector (see the module docs).
pub(crate) type Novelty = PerField<Field>;

#[cfg(test)]
mod tests {
    use crate::tests::{noise, scores, time, STEP};
    use crate::{DetectorConfig, DetectorKind};

    /// Noise around a level that wanders slowly between two values: no daily rhythm, the
    /// kind of stream `auto` gives this detector.
    fn wave(i: usize) -> f64 {
        let phase = (i % 700) as f64 / 700.0 * std::f64::consts::TAU;
        100.0 + 10.0 * phase.sin() + 4.0 * noise(i)
    }

    #[test]
    fn quiet_once_the_pattern_is_known() {
        let s = scores(DetectorKind::Novelty, 96 * 30, wave);
        assert!(s.iter().all(|v| (0.0..=1.0).contains(v)));
        let loud = s[96 * 5..].iter().filter(|v| **v >= 0.9).count();
        assert!(loud == 0, "{loud} loud points");
    }

    #[test]
    fn a_new_level_is_news_once() {
        let at = 96 * 10;
        let s = scores(DetectorKind::Novelty, 96 * 20, |i| {
            wave(i) + if i >= at { 120.0 } else { 0.0 }
        });
        assert!(
            s[at..at + 3].iter().any(|v| *v >= 0.9),
            "missed the new level"
        );
        let later = s[at + 96..].iter().filter(|v| **v >= 0.9).count();
        assert!(
            later <= 1,
            "{later} loud points after the change was learned"
        );
    }

    #[test]
    fn a_spike_beyond_the_range_scores() {
        let at = 96 * 8 + 13;
        let s = scores(DetectorKind::Novelty, 96 * 9, |i| {
            wave(i) + if i == at { 200.0 } else { 0.0 }
        });
        assert!(s[at] >= 0.9, "spike scored {}", s[at]);
        assert!(s[..48].iter().all(|v| *v == 0.0), "scored during warm-up");
    }

    #[test]
    fn memory_is_bounded() {
        let config = DetectorConfig {
            detector: DetectorKind::Novelty,
            ..DetectorConfig::default()
        };
        let mut d = config.build(1, STEP).unwrap();
        let before = d.state_bytes();
        for i in 0..20_000 {
            // Ever-new values: the memory must recycle prototypes.
            let s = d.update(time(i), &[i as f64 * (1.0 + noise(i))]);
            assert!((0.0..=1.0).contains(&s.value));
        }
        assert_eq!(d.state_bytes(), before);
        assert!(before < 600, "{before} bytes");
    }
}
