//! Streaming half-space trees (Tan, Ting & Liu 2011, "Fast anomaly detection for streaming
//! data"): the multivariate detector.
//!
//! Each field is first normalised online into a z-score (an exponentially weighted mean and
//! mean absolute deviation per field, winsorised at 3 scales, with the level let go after
//! `level_shift_after` out-of-band points on one side, as in `ewma`), clipped to ±8. An ensemble
//! of [`TREES`] random half-space trees of depth [`DEPTH`] then partitions that z-space: every
//! level of a tree halves the current range of one randomly chosen field (an *oblivious* tree:
//! the same field for every node of a level), inside a per-tree random work range of that field
//! (centre in [-2, 2], width in [10, 16] scales). Trees are built deterministically from a
//! constant seed (splitmix64), so runs are reproducible.
//!
//! Mass profiles: every node counts the points of a *reference* window that fell in it; the
//! points of the *latest* window are counted at the leaves, and every `window` points (the
//! config's `min_points`, at least 16) the latest window becomes the reference. A point's mass
//! in one tree is `mass(node) * 2^depth` at the deepest node on its path whose reference mass is
//! at least a tenth of the window (or at the leaf), as in the paper; the raw score is the mean
//! over the trees of `ln(1 + mass)`. Low mass is anomalous: the raw score is standardised online
//! into `(mean - raw) / scale` (exponentially weighted mean and winsorised mean absolute
//! deviation, floored) and handed to the shared calibrator as one field. [`Score::field`] is
//! the field with the largest absolute normalised deviation. With `direction: up` (or `down`),
//! only points whose most deviating field deviates upwards (downwards) can score.
//!
//! Warm-up: the first window (no reference yet) and then 16 more points while the scale of the
//! raw score settles score 0.
//!
//! Memory per entity (16 trees of depth 5): 2 bytes per node of the reference (16 trees × 64
//! nodes, 2 KiB), 2 bytes per leaf of the latest window (16 × 32, 1 KiB), 12 bytes per tree
//! level (16 × 5, 960 bytes), plus 28 bytes per field and 200 bytes: 4 260 bytes for one
//! field, 4 456 for eight. Time per point: O(fields + trees × depth) = 80 node steps and 16 `ln`s, no allocation;
//! every `window` points an O(trees × 2^depth) swap (1 024 additions).

use ai4ict_core::{SplitMix64, Timestamp};
use serde::{Deserialize, Serialize};

use crate::calibrate::{fmax, fmin, Evidence};
use crate::registry::{Build, BuildContext};
use crate::robust::{joint_score, normalise_row, RobustLevel, CLIP, SCALE_RATE};
use crate::{AnomalyError, Detector, Score, Tuning};

/// Trees in the ensemble.
pub const TREES: usize = 16;
/// Depth of every tree (levels of splits).
pub const DEPTH: usize = 5;
/// Leaves per tree.
const LEAVES: usize = 1 << DEPTH;
/// Node slots per tree in the heap layout (index 0 unused, root at 1).
const NODES: usize = 2 * LEAVES;
/// Normalised deviations are clipped to ±this many scales.
/// Floor of the scale of the raw score (in `ln` mass units).
const RAW_SCALE_FLOOR: f32 = 0.05;
/// Points of raw score learned before scoring, after the first window.
const RAW_WARM: u32 = 16;
/// Smallest window.
const MIN_WINDOW: u32 = 16;
/// Seed of the tree construction.
const SEED: u64 = 0x4149_3449_4354_4853;

/// One level of one tree: which field it splits and that field's work range in this tree.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Level {
    /// Lower end of the field's work range, in normalised units.
    lo: f32,
    /// `1 / width` of the work range.
    inv_w: f32,
    /// The field split (trees split only the first 65 536 fields).
    field: u16,
    /// `2^(k+1)`, with `k` the number of earlier levels of this tree that split the same field:
    /// the split is bit `k` of the position in the work range.
    cells: u16,
}

/// Uniform in [0, 1), 24 bits.
fn unit(rng: &mut SplitMix64) -> f32 {
    (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32
}

/// The streaming half-space-trees detector (see the module docs).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HalfSpaceTrees {
    p: Tuning,
    fields: Vec<RobustLevel>,
    /// Normalised deviations of the current point (scratch, one per field).
    z: Vec<f32>,
    /// `TREES * DEPTH` levels.
    levels: Vec<Level>,
    /// Reference masses, `TREES * NODES`, heap layout per tree.
    reference: Vec<u16>,
    /// Latest-window leaf masses, `TREES * LEAVES`.
    latest: Vec<u16>,
    /// Points in the latest window.
    filled: u32,
    /// Whether a reference window exists.
    has_reference: bool,
    /// Reference mass below which the descent stops.
    size_limit: u16,
    raw_mean: f32,
    raw_dev: f32,
    raw_n: u32,
    cal: Evidence,
}

impl HalfSpaceTrees {
    pub(crate) fn new(width: usize, mut p: Tuning) -> Self {
        p.min_points = p.min_points.clamp(MIN_WINDOW, u32::from(u16::MAX));
        let width = width.max(1);
        let mut state = SplitMix64::new(SEED);
        let mut levels = Vec::with_capacity(TREES * DEPTH);
        for _ in 0..TREES {
            let first = levels.len();
            for l in 0..DEPTH {
                let field = (state.next_u64() % width.min(1 << 16) as u64) as u16;
                let centre = -2.0 + 4.0 * unit(&mut state);
                let w = 10.0 + 6.0 * unit(&mut state);
                let earlier: Vec<&Level> = levels[first..first + l]
                    .iter()
                    .filter(|e: &&Level| e.field == field)
                    .collect();
                let level = match earlier.first() {
                    Some(e) => Level {
                        lo: e.lo,
                        inv_w: e.inv_w,
                        field,
                        cells: 1u16 << (earlier.len() + 1),
                    },
                    None => Level {
                        lo: centre - 0.5 * w,
                        inv_w: 1.0 / w,
                        field,
                        cells: 2,
                    },
                };
                levels.push(level);
            }
        }
        let norm = RobustLevel::new();
        Self {
            size_limit: (p.min_points / 10).max(1) as u16,
            p,
            fields: vec![norm; width],
            z: vec![0.0; width],
            levels,
            reference: vec![0; TREES * NODES],
            latest: vec![0; TREES * LEAVES],
            filled: 0,
            has_reference: false,
            raw_mean: 0.0,
            raw_dev: 0.0,
            raw_n: 0,
            cal: Evidence::new(),
        }
    }

    /// Makes the latest window the reference.
    fn swap(&mut self) {
        for t in 0..TREES {
            let heap = &mut self.reference[t * NODES..(t + 1) * NODES];
            let leaves = &mut self.latest[t * LEAVES..(t + 1) * LEAVES];
            heap[LEAVES..].copy_from_slice(leaves);
            for i in (1..LEAVES).rev() {
                heap[i] = heap[2 * i].saturating_add(heap[2 * i + 1]);
            }
            leaves.fill(0);
        }
        self.filled = 0;
        self.has_reference = true;
    }

    /// Mean over the trees of `ln(1 + mass)` of the current point (in `self.z`), counting it
    /// in the latest window.
    fn descend(&mut self) -> f32 {
        let mut raw = 0.0f32;
        for t in 0..TREES {
            let levels = &self.levels[t * DEPTH..(t + 1) * DEPTH];
            let heap = &self.reference[t * NODES..(t + 1) * NODES];
            let mut node = 1usize;
            let mut mass = None;
            for (d, level) in levels.iter().enumerate() {
                let z = self.z.get(level.field as usize).copied().unwrap_or(0.0);
                let u = fmin(fmax((z - level.lo) * level.inv_w, 0.0), 0.999_999);
                let bit = ((u * f32::from(level.cells)) as u32 & 1) as usize;
                node = 2 * node + bit;
                if mass.is_none() && heap[node] < self.size_limit {
                    mass = Some(f32::from(heap[node]) * (2u32 << d) as f32);
                }
            }
            let m = mass.unwrap_or(f32::from(heap[node]) * (1u32 << DEPTH) as f32);
            raw += m.ln_1p();
            let leaf = &mut self.latest[t * LEAVES + node - LEAVES];
            *leaf = leaf.saturating_add(1);
        }
        raw * (1.0 / TREES as f32)
    }
}

impl Build for HalfSpaceTrees {
    fn build(ctx: &BuildContext<'_>) -> Result<Self, AnomalyError> {
        Ok(Self::new(ctx.width, ctx.tuning))
    }
}

impl Detector for HalfSpaceTrees {
    fn update(&mut self, _time: Timestamp, values: &[f64]) -> Score {
        let p = self.p;
        let best_field = normalise_row(&mut self.fields, &mut self.z, values, &p);
        if best_field.is_none() {
            return Score::default();
        }
        let scoring = self.has_reference;
        // Before the first swap this only counts the point in the latest window.
        let raw = self.descend();
        let raw = if scoring { Some(raw) } else { None };
        self.filled += 1;
        if self.filled >= p.min_points {
            self.swap();
        }
        let Some(raw) = raw else {
            return Score::default();
        };
        // Standardise the raw score: low mass is positive.
        self.raw_n = self.raw_n.saturating_add(1);
        let scale = fmax(1.25 * self.raw_dev, RAW_SCALE_FLOOR);
        let r = self.raw_mean - raw;
        let z = r / scale;
        let rate = fmax(1.0 / self.raw_n as f32, SCALE_RATE);
        let out = self.raw_n > RAW_WARM && z.abs() > CLIP;
        let c = fmin(fmax(r, -CLIP * scale), CLIP * scale);
        self.raw_mean -= rate * c;
        if !out {
            self.raw_dev += rate * (c.abs() - self.raw_dev);
        }
        if self.raw_n <= RAW_WARM {
            return Score::default();
        }
        joint_score(&mut self.cal, z, &self.z, best_field, &p)
    }

    fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.fields.capacity() * std::mem::size_of::<RobustLevel>()
            + self.z.capacity() * std::mem::size_of::<f32>()
            + self.levels.capacity() * std::mem::size_of::<Level>()
            + (self.reference.capacity() + self.latest.capacity()) * std::mem::size_of::<u16>()
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::{noise, time, BAD_VALUES, STEP};
    use crate::{DetectorConfig, DetectorKind};

    fn build(width: usize) -> crate::AnyDetector {
        let config = DetectorConfig {
            detector: DetectorKind::HalfSpaceTrees,
            ..DetectorConfig::default()
        };
        config.build(width, STEP).unwrap()
    }

    /// Two correlated fields around (50, 20).
    fn cloud(i: usize) -> [f64; 2] {
        let a = noise(i);
        let b = noise(i + 1_000_000);
        [50.0 + 4.0 * a, 20.0 + 3.0 * a + 1.0 * b]
    }

    #[test]
    fn memory_is_about_4_kib() {
        let bytes = build(1).state_bytes();
        eprintln!("state bytes, one field: {bytes}");
        assert!(bytes <= 4400, "{bytes} bytes");
        assert_eq!(build(8).state_bytes(), bytes + 7 * 28);
    }

    #[test]
    fn quiet_on_clean_noise() {
        let mut d = build(2);
        let s: Vec<f64> = (0..5000)
            .map(|i| d.update(time(i), &cloud(i)).value)
            .collect();
        assert!(s.iter().all(|v| (0.0..=1.0).contains(v)));
        let loud = s.iter().filter(|v| **v >= 0.9).count();
        assert!(loud <= 3, "{loud} loud points");
        assert!(s[..48].iter().all(|v| *v == 0.0), "scored during warm-up");
    }

    #[test]
    fn finds_a_joint_anomaly() {
        let mut d = build(2);
        let at = 700;
        let mut hit = None;
        for i in 0..800 {
            let row = if i == at { [80.0, -10.0] } else { cloud(i) };
            let s = d.update(time(i), &row);
            if i == at {
                hit = Some(s);
            }
        }
        let hit = hit.unwrap();
        assert!(hit.value >= 0.9, "joint anomaly scored {}", hit.value);
        assert!(hit.field.is_some());
    }

    #[test]
    fn finds_a_one_field_spike() {
        let mut d = build(1);
        let s: Vec<f64> = (0..600)
            .map(|i| {
                let x = 50.0 + 4.0 * noise(i) + if i == 500 { 40.0 } else { 0.0 };
                d.update(time(i), &[x]).value
            })
            .collect();
        assert!(s[500] >= 0.9, "spike scored {}", s[500]);
    }

    #[test]
    fn no_panic_on_bad_input() {
        let mut d = build(2);
        let bad = BAD_VALUES;
        for i in 0..500 {
            let s = d.update(time(i), &[bad[i % bad.len()], 3.0]);
            assert!((0.0..=1.0).contains(&s.value));
        }
        let s = d.update(time(500), &[]);
        assert_eq!(s.value, 0.0);
        let before = d.state_bytes();
        for i in 0..300 {
            d.update(time(501 + i), &[f64::NAN, f64::NAN]);
        }
        assert_eq!(d.state_bytes(), before);
        // Constant, then a change.
        let mut d = build(1);
        let s: Vec<f64> = (0..300)
            .map(|i| {
                let x = if i < 200 { 7.0 } else { 9.0 };
                d.update(time(i), &[x]).value
            })
            .collect();
        assert!(s[..200].iter().all(|v| *v < 0.5), "noise on a constant");
        assert!(s[200] >= 0.9, "missed the change: {}", s[200]);
    }
}
