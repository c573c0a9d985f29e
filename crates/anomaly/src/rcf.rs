//! Streaming robust random cut forest (Guha, Mishra, Roy & Schrijvers, ICML 2016, "Robust
//! random cut forest based anomaly detection on streams").
//!
//! Points are *shingles*: each field is normalised online into a z-score (a [`RobustLevel`]
//! per field, as in `half_space_trees`), clipped to ±8, and the point is the z-vectors of the
//! last [`SHINGLE`] samples, so that a one-field series gets temporal context (`fields ×
//! SHINGLE` dimensions). A forest of [`TREES`] random cut trees each holds a sample of at most
//! [`SAMPLES`] points, kept by time-decayed weighted reservoir sampling (a point of age `a`
//! weighs `exp(-a / DECAY_POINTS)`, with [`DECAY_POINTS`] samples: every tree samples
//! independently). A tree is updated with the paper's insertion and deletion: insertion walks
//! from the root, drawing at each node a cut over the node's bounding box extended by the
//! point, dimension chosen with probability proportional to its range; a cut that separates the
//! point from the box makes the point a sibling of that node, otherwise the walk goes on down.
//! Deletion replaces the leaf's parent with its sibling and refits the boxes above.
//!
//! Score: the *collusive displacement* (CoDisp) of the new point, computed before it is
//! inserted, averaged over the trees. Each tree gives its expectation over the random cut of
//! the insertion (exact, from the separation probability at every node of the point's path, so
//! no sampling noise is added), and the square root of the mean (which tames its heavy tail)
//! is standardised by a robust running level and scale (a [`RobustLevel`] that never treats a
//! run as a level shift). The resulting z-score goes to the shared calibrator as one field,
//! one-sided (high displacement is anomalous). [`Score::field`] is the field with the largest
//! absolute normalised deviation; with `direction: up` (or `down`) only points whose most
//! deviating field deviates upwards (downwards) can score.
//!
//! Warm-up: scores are 0 until `min_points` shingles (at least [`SHINGLE`]) have been seen and
//! then 16 more while the scale of the raw score settles.
//!
//! Memory per entity, allocated once (each tree is an arena of `u16`-indexed nodes in Vecs):
//! per tree, 127 nodes of 4 bytes (parent, mass), 63 inner nodes of 12 bytes (children, cut)
//! and `8 × dims` bytes (bounding box), 64 leaf points of `4 × dims` bytes, 64 sample slots of
//! 8 bytes and 254 bytes of free lists, about `2 200 + 760 × dims` bytes with its header; in
//! all 168 884 bytes for one field (4 dimensions), 97 324 more per further field.
//! Time per point: O(trees × depth × dims) for the score (depth about 10 for 64 points), the
//! same for the expected `trees × SAMPLES / DECAY_POINTS` (= 4) tree updates (insertion, and
//! deletion with box refits), and two logarithms per tree for the sampling; no allocation.
//! Measured: about 55 000 points per second for one entity on a shared core, 9 400 with 100
//! entities (the 17 MB of state no longer fits in cache).

use ai4ict_core::{SplitMix64, Timestamp};
use serde::{Deserialize, Serialize};

use crate::calibrate::{fmax, fmin, Evidence};
use crate::registry::{Build, BuildContext};
use crate::robust::{joint_score, normalise_row, RobustLevel, SCALE_RATE};
use crate::{AnomalyError, Detector, Score, Tuning};

/// Trees in the forest.
pub const TREES: usize = 32;
/// Most points a tree samples.
pub const SAMPLES: usize = 64;
/// Samples per point (the shingle).
pub const SHINGLE: usize = 4;
/// Time constant, in samples, of the sampling weights.
pub const DECAY_POINTS: usize = 8 * SAMPLES;
/// Inner nodes per tree.
const INNER: usize = SAMPLES - 1;
/// Nodes per tree: leaves `0..SAMPLES`, then inner nodes.
const NODES: usize = SAMPLES + INNER;
/// No node.
const NIL: u16 = u16::MAX;
/// Sampling clock value at which the priority keys are rebased.
const REBASE: f32 = 64.0;
/// Normalised deviations are clipped to ±this many scales.
/// Raw scores learned before scoring.
const RAW_WARM: u32 = 16;
/// Seed of the random cuts and sampling.
const SEED: u64 = 0x5243_4634_4943_5421;

/// Uniform in (0, 1), 23 bits.
fn unit(rng: &mut SplitMix64) -> f32 {
    ((rng.next_u64() >> 41) as f32 + 0.5) * (1.0 / (1u64 << 23) as f32)
}

/// A cut of an inner node: points with `x[dim] <= value` go to `child[0]`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Inner {
    child: [u16; 2],
    dim: u16,
    value: f32,
}

/// A sampled point: its priority (the largest is evicted first) and its leaf.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Slot {
    key: f32,
    leaf: u16,
}

fn is_leaf(id: u16) -> bool {
    usize::from(id) < SAMPLES
}

/// One random cut tree over at most [`SAMPLES`] points (duplicates share a leaf).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Tree {
    root: u16,
    /// Slot with the largest key.
    worst: u16,
    /// Parent of every node.
    parent: Vec<u16>,
    /// Points under every node.
    mass: Vec<u16>,
    inner: Vec<Inner>,
    /// Bounding boxes of the inner nodes: `dims` lower corners then `dims` upper corners each.
    bounds: Vec<f32>,
    /// Points of the leaves, `dims` each.
    points: Vec<f32>,
    free_leaves: Vec<u16>,
    free_inner: Vec<u16>,
    slots: Vec<Slot>,
}

impl Tree {
    fn new(dims: usize) -> Self {
        Self {
            root: NIL,
            worst: 0,
            parent: vec![NIL; NODES],
            mass: vec![0; NODES],
            inner: vec![
                Inner {
                    child: [NIL; 2],
                    dim: 0,
                    value: 0.0,
                };
                INNER
            ],
            bounds: vec![0.0; INNER * 2 * dims],
            points: vec![0.0; SAMPLES * dims],
            free_leaves: (0..SAMPLES as u16).rev().collect(),
            free_inner: (SAMPLES as u16..NODES as u16).rev().collect(),
            slots: Vec::with_capacity(SAMPLES),
        }
    }

    /// Bytes held on the heap.
    fn heap_bytes(&self) -> usize {
        (self.parent.capacity()
            + self.mass.capacity()
            + self.free_leaves.capacity()
            + self.free_inner.capacity())
            * std::mem::size_of::<u16>()
            + self.inner.capacity() * std::mem::size_of::<Inner>()
            + (self.bounds.capacity() + self.points.capacity()) * std::mem::size_of::<f32>()
            + self.slots.capacity() * std::mem::size_of::<Slot>()
    }

    /// Lower and upper corner of the box of node `id` in dimension `d`.
    #[inline]
    fn corner(&self, id: u16, d: usize, dims: usize) -> (f32, f32) {
        let id = usize::from(id);
        if id < SAMPLES {
            let v = self.points[id * dims + d];
            (v, v)
        } else {
            let o = (id - SAMPLES) * 2 * dims;
            (self.bounds[o + d], self.bounds[o + dims + d])
        }
    }

    /// How far the box of `id` must grow to hold `x` (summed over dimensions), and its range.
    #[inline]
    fn reach(&self, id: u16, x: &[f32]) -> (f32, f32) {
        let (mut ext, mut range) = (0.0f32, 0.0f32);
        for (d, &v) in x.iter().enumerate() {
            let (lo, hi) = self.corner(id, d, x.len());
            ext += fmax(lo - v, 0.0) + fmax(v - hi, 0.0);
            range += hi - lo;
        }
        (ext, range)
    }

    /// The child of inner node `id` on the side of `x`.
    #[inline]
    fn side(&self, id: u16, x: &[f32]) -> u16 {
        let n = &self.inner[usize::from(id) - SAMPLES];
        n.child[usize::from(x[usize::from(n.dim)] > n.value)]
    }

    /// Expected CoDisp of `x` were it inserted now, over the random cuts of the insertion
    /// (`None` for an empty tree). Inserted below node `v` (mass `m`), `x`'s CoDisp is the
    /// largest, over its new ancestors, of the sibling's mass over the node's: `m` itself if the
    /// cut separates it from `v`, which happens with probability `ext / (range + ext)` once the
    /// nodes above have not.
    fn codisp(&self, x: &[f32]) -> Option<f32> {
        let mut node = self.root;
        if node == NIL {
            return None;
        }
        let (mut best, mut expected, mut stay) = (0.0f32, 0.0f32, 1.0f32);
        let mut above = None;
        loop {
            let m = f32::from(self.mass[usize::from(node)]);
            if let Some(up) = above {
                // `x` has joined this node; its sibling holds the rest of the parent.
                best = fmax(best, (up - m) / (m + 1.0));
            }
            let (ext, range) = self.reach(node, x);
            if is_leaf(node) {
                // Cut off from the leaf if it differs, else a duplicate of it.
                let m = if ext > 0.0 { m } else { 0.0 };
                return Some(expected + stay * fmax(best, m));
            }
            let cut_off = ext / (range + ext);
            if cut_off > 0.0 {
                expected += stay * cut_off * fmax(best, m);
                stay *= 1.0 - cut_off;
            }
            above = Some(m);
            node = self.side(node, x);
        }
    }

    /// Subtracts one from the mass of `id` and its ancestors.
    fn uncount(&mut self, mut id: u16) {
        while id != NIL {
            let m = &mut self.mass[usize::from(id)];
            *m = m.saturating_sub(1);
            id = self.parent[usize::from(id)];
        }
    }

    /// Inserts `x`, returning its leaf (`NIL` if no node is free, which cannot happen while at
    /// most [`SAMPLES`] points are held).
    fn insert(&mut self, x: &[f32], rng: &mut SplitMix64) -> u16 {
        let dims = x.len();
        let mut node = self.root;
        if node == NIL {
            let Some(leaf) = self.new_leaf(x) else {
                return NIL;
            };
            self.root = leaf;
            return leaf;
        }
        loop {
            let (ext, range) = self.reach(node, x);
            if ext > 0.0 {
                let r = unit(rng) * (range + ext);
                if r < ext || is_leaf(node) {
                    return self.split(node, x, r);
                }
            } else if is_leaf(node) {
                // A duplicate: the ancestors have been counted on the way down.
                let m = &mut self.mass[usize::from(node)];
                *m = m.saturating_add(1);
                return node;
            }
            let i = usize::from(node);
            self.mass[i] = self.mass[i].saturating_add(1);
            let o = (i - SAMPLES) * 2 * dims;
            for (d, &v) in x.iter().enumerate() {
                self.bounds[o + d] = fmin(self.bounds[o + d], v);
                self.bounds[o + dims + d] = fmax(self.bounds[o + dims + d], v);
            }
            node = self.side(node, x);
        }
    }

    /// Makes `x` a sibling of `node` under a new inner node whose cut lies `r` into the
    /// extension of `node`'s box towards `x` (`r` uniform in the extension, summed over
    /// dimensions).
    fn split(&mut self, node: u16, x: &[f32], r: f32) -> u16 {
        let dims = x.len();
        if self.free_inner.is_empty() || self.free_leaves.is_empty() {
            return NIL;
        }
        let mut cut = None;
        let mut acc = 0.0f32;
        for (d, &v) in x.iter().enumerate() {
            let (lo, hi) = self.corner(node, d, dims);
            let e = fmax(lo - v, 0.0) + fmax(v - hi, 0.0);
            if e <= 0.0 {
                continue;
            }
            let off = fmax(r - acc, 0.0);
            // `x` goes left when it lies below the box.
            let (value, low) = if v < lo {
                let c = v + off;
                (if c < lo { c } else { v }, true)
            } else {
                let c = hi + off;
                (if c < v { c } else { hi }, false)
            };
            cut = Some((d, value, low));
            acc += e;
            if r < acc {
                break;
            }
        }
        let Some((dim, value, low)) = cut else {
            return NIL;
        };
        let (Some(p), Some(leaf)) = (self.free_inner.pop(), self.new_leaf(x)) else {
            return NIL;
        };
        let (i, pi) = (usize::from(node), usize::from(p));
        let o = (pi - SAMPLES) * 2 * dims;
        for (d, &v) in x.iter().enumerate() {
            let (lo, hi) = self.corner(node, d, dims);
            self.bounds[o + d] = fmin(lo, v);
            self.bounds[o + dims + d] = fmax(hi, v);
        }
        self.inner[pi - SAMPLES] = Inner {
            child: if low { [leaf, node] } else { [node, leaf] },
            dim: dim as u16,
            value,
        };
        self.mass[pi] = self.mass[i].saturating_add(1);
        let g = self.parent[i];
        self.parent[pi] = g;
        self.parent[i] = p;
        self.parent[usize::from(leaf)] = p;
        self.replace(g, node, p);
        leaf
    }

    /// A fresh leaf holding `x`, without a parent.
    fn new_leaf(&mut self, x: &[f32]) -> Option<u16> {
        let leaf = self.free_leaves.pop()?;
        let i = usize::from(leaf);
        self.points[i * x.len()..(i + 1) * x.len()].copy_from_slice(x);
        self.mass[i] = 1;
        self.parent[i] = NIL;
        Some(leaf)
    }

    /// Puts `new` where `old` was under `parent` (or at the root).
    fn replace(&mut self, parent: u16, old: u16, new: u16) {
        if parent == NIL {
            self.root = new;
        } else {
            for c in &mut self.inner[usize::from(parent) - SAMPLES].child {
                if *c == old {
                    *c = new;
                }
            }
        }
    }

    /// Removes one point from `leaf`, refitting the boxes above it.
    fn delete(&mut self, leaf: u16, dims: usize) {
        if self.mass[usize::from(leaf)] > 1 {
            self.uncount(leaf);
            return;
        }
        self.mass[usize::from(leaf)] = 0;
        self.free_leaves.push(leaf);
        let p = self.parent[usize::from(leaf)];
        if p == NIL {
            self.root = NIL;
            return;
        }
        let [a, b] = self.inner[usize::from(p) - SAMPLES].child;
        let sibling = if a == leaf { b } else { a };
        let g = self.parent[usize::from(p)];
        self.parent[usize::from(sibling)] = g;
        self.mass[usize::from(p)] = 0;
        self.free_inner.push(p);
        self.replace(g, p, sibling);
        let mut node = g;
        let mut refit = true;
        while node != NIL {
            let i = usize::from(node);
            self.mass[i] = self.mass[i].saturating_sub(1);
            if refit {
                refit = self.refit(node, dims);
            }
            node = self.parent[i];
        }
    }

    /// Recomputes the box of inner node `id` from its children; whether it changed.
    fn refit(&mut self, id: u16, dims: usize) -> bool {
        let [a, b] = self.inner[usize::from(id) - SAMPLES].child;
        let o = (usize::from(id) - SAMPLES) * 2 * dims;
        let mut changed = false;
        for d in 0..dims {
            let (la, ha) = self.corner(a, d, dims);
            let (lb, hb) = self.corner(b, d, dims);
            let (lo, hi) = (fmin(la, lb), fmax(ha, hb));
            changed |= lo != self.bounds[o + d] || hi != self.bounds[o + dims + d];
            self.bounds[o + d] = lo;
            self.bounds[o + dims + d] = hi;
        }
        changed
    }

    /// Offers `x` to the sample with priority `key` (the [`SAMPLES`] smallest keys are kept).
    fn offer(&mut self, key: f32, x: &[f32], rng: &mut SplitMix64) {
        let w = usize::from(self.worst);
        if self.slots.len() < SAMPLES {
            let leaf = self.insert(x, rng);
            self.slots.push(Slot { key, leaf });
            if self.slots.len() == 1 || key > self.slots[w].key {
                self.worst = (self.slots.len() - 1) as u16;
            }
            return;
        }
        if key >= self.slots[w].key {
            return;
        }
        let old = self.slots[w].leaf;
        if old != NIL {
            self.delete(old, x.len());
        }
        let leaf = self.insert(x, rng);
        self.slots[w] = Slot { key, leaf };
        let mut worst = 0;
        for (s, slot) in self.slots.iter().enumerate() {
            if slot.key > self.slots[worst].key {
                worst = s;
            }
        }
        self.worst = worst as u16;
    }
}

/// The streaming random cut forest detector (see the module docs).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RandomCutForest {
    p: Tuning,
    fields: Vec<RobustLevel>,
    /// Normalised deviations of the current sample (scratch, one per field).
    z: Vec<f32>,
    /// The last [`SHINGLE`] samples' `z`, oldest first.
    shingle: Vec<f32>,
    /// Samples in the shingle so far (saturating).
    seen: u32,
    trees: Vec<Tree>,
    rng: SplitMix64,
    /// Sampling clock: samples since the last rebase over [`DECAY_POINTS`].
    clock: f32,
    raw: RobustLevel,
    cal: Evidence,
}

impl RandomCutForest {
    pub(crate) fn new(width: usize, mut p: Tuning) -> Self {
        p.min_points = p.min_points.max(SHINGLE as u32);
        let width = width.max(1);
        let dims = width * SHINGLE;
        Self {
            p,
            fields: vec![RobustLevel::new(); width],
            z: vec![0.0; width],
            shingle: vec![0.0; dims],
            seen: 0,
            trees: (0..TREES).map(|_| Tree::new(dims)).collect(),
            rng: SplitMix64::new(SEED),
            clock: 0.0,
            raw: RobustLevel::new(),
            cal: Evidence::new(),
        }
    }

    /// Mean expected CoDisp of the current shingle over the non-empty trees.
    fn codisp(&self) -> Option<f32> {
        let (mut sum, mut n) = (0.0f32, 0u32);
        for t in &self.trees {
            if let Some(c) = t.codisp(&self.shingle) {
                sum += c;
                n += 1;
            }
        }
        (n > 0).then(|| sum / n as f32)
    }

    /// Offers the current shingle to every tree's time-decayed sample.
    fn learn(&mut self) {
        self.clock += 1.0 / DECAY_POINTS as f32;
        if self.clock > REBASE {
            for slot in self.trees.iter_mut().flat_map(|t| t.slots.iter_mut()) {
                slot.key += self.clock;
            }
            self.clock = 0.0;
        }
        for t in &mut self.trees {
            // Weighted reservoir (A-Res) with weight exp(clock): keep the smallest
            // ln(E) - clock, E ~ Exp(1).
            let e = -unit(&mut self.rng).ln();
            let key = fmax(e, 1e-30).ln() - self.clock;
            t.offer(key, &self.shingle, &mut self.rng);
        }
    }
}

impl Build for RandomCutForest {
    fn build(ctx: &BuildContext<'_>) -> Result<Self, AnomalyError> {
        Ok(Self::new(ctx.width, ctx.tuning))
    }
}

impl Detector for RandomCutForest {
    fn update(&mut self, _time: Timestamp, values: &[f64]) -> Score {
        let p = self.p;
        let best_field = normalise_row(&mut self.fields, &mut self.z, values, &p);
        if best_field.is_none() {
            return Score::default();
        }
        let width = self.z.len();
        self.shingle.copy_within(width.., 0);
        let newest = self.shingle.len() - width;
        self.shingle[newest..].copy_from_slice(&self.z);
        self.seen = self.seen.saturating_add(1);
        if self.seen < SHINGLE as u32 {
            return Score::default();
        }
        let codisp = if self.seen > p.min_points {
            self.codisp()
        } else {
            None
        };
        self.learn();
        let Some(codisp) = codisp else {
            return Score::default();
        };
        // High displacement is positive; the level never jumps to follow a run of it.
        let z = self.raw.step(codisp.sqrt(), RAW_WARM, SCALE_RATE, u16::MAX);
        let Some(z) = z.filter(|_| self.raw.warm(RAW_WARM)) else {
            return Score::default();
        };
        joint_score(&mut self.cal, z, &self.z, best_field, &p)
    }

    fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.fields.capacity() * std::mem::size_of::<RobustLevel>()
            + (self.z.capacity() + self.shingle.capacity()) * std::mem::size_of::<f32>()
            + self.trees.capacity() * std::mem::size_of::<Tree>()
            + self.trees.iter().map(Tree::heap_bytes).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::{noise, time, BAD_VALUES, STEP};
    use crate::{DetectorConfig, DetectorKind};

    fn build(width: usize) -> crate::AnyDetector {
        let config = DetectorConfig {
            detector: DetectorKind::RandomCutForest,
            ..DetectorConfig::default()
        };
        config.build(width, STEP).unwrap()
    }

    fn run(n: usize, value: impl Fn(usize) -> f64) -> Vec<f64> {
        let mut d = build(1);
        (0..n)
            .map(|i| d.update(time(i), &[value(i)]).value)
            .collect()
    }

    fn flat(i: usize) -> f64 {
        50.0 + 4.0 * noise(i)
    }

    #[test]
    fn memory_is_constant_and_documented() {
        let one = build(1).state_bytes();
        assert_eq!(one, 168_884);
        assert_eq!(build(2).state_bytes(), one + 97_324);
        let mut d = build(2);
        let before = d.state_bytes();
        for i in 0..3000 {
            d.update(time(i), &[flat(i), flat(i + 7)]);
        }
        assert_eq!(d.state_bytes(), before);
    }

    #[test]
    fn quiet_on_clean_noise() {
        let s = run(5000, flat);
        assert!(s.iter().all(|v| (0.0..=1.0).contains(v)));
        let loud = s.iter().filter(|v| **v >= 0.9).count();
        assert!(loud <= 3, "{loud} loud points");
        assert!(s[..64].iter().all(|v| *v == 0.0), "scored during warm-up");
    }

    #[test]
    fn finds_a_spike() {
        let s = run(1000, |i| flat(i) + if i == 900 { 40.0 } else { 0.0 });
        assert!(s[900] >= 0.9, "spike scored {}", s[900]);
    }

    #[test]
    fn finds_a_level_shift_and_settles() {
        let at = 800;
        let s = run(2000, |i| flat(i) + if i >= at { 20.0 } else { 0.0 });
        assert!(s[at..at + 4].iter().any(|v| *v >= 0.9), "missed the shift");
        let late = &s[at + 200..];
        assert!(late.iter().filter(|v| **v >= 0.9).count() <= 2);
    }

    #[test]
    fn finds_a_joint_anomaly() {
        let mut d = build(2);
        let at = 900;
        let mut hit = None;
        for i in 0..1000 {
            let (a, b) = (noise(i), noise(i + 1_000_000));
            let row = if i == at {
                [80.0, -10.0]
            } else {
                [50.0 + 4.0 * a, 20.0 + 3.0 * a + b]
            };
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
    fn deterministic() {
        let v = |i: usize| flat(i) + if i.is_multiple_of(397) { 30.0 } else { 0.0 };
        assert_eq!(run(1500, v), run(1500, v));
    }

    #[test]
    fn no_panic_on_bad_input() {
        let mut d = build(2);
        let bad = BAD_VALUES;
        for i in 0..500 {
            let s = d.update(time(i), &[bad[i % bad.len()], 3.0]);
            assert!((0.0..=1.0).contains(&s.value));
        }
        assert_eq!(d.update(time(500), &[]).value, 0.0);
        for i in 0..300 {
            assert_eq!(d.update(time(501 + i), &[f64::NAN, f64::NAN]).value, 0.0);
        }
        // Constant, then a change.
        let s = run(300, |i| if i < 200 { 7.0 } else { 9.0 });
        assert!(s[..200].iter().all(|v| *v < 0.5), "noise on a constant");
        assert!(s[200..204].iter().any(|v| *v >= 0.9), "missed the change");
    }
}
