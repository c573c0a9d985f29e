//! A booster or a forest compiled for batch scoring. Each raw row is coded once per feature as its
//! rank among the thresholds the trees split that feature at, so that every node compares
//! two integers; the trees then walk a block of rows at a time, tree by tree, level by
//! level, without branches (a leaf points to itself), which keeps a tree in cache and lets
//! the rows of a block proceed in parallel in the core. After each round a row stops
//! summing a class that cannot win any more: its sum plus the largest leaves of the rounds
//! left is below another class's sum plus their smallest leaves; a row with one class left
//! is done. A forest's trees each add a class distribution, averaged; every few trees a row
//! whose leading class can no longer be caught (its sum plus the least shares the trees left
//! give it is above every other's sum plus the greatest they give) is done. Results equal
//! [`Gbdt::predict_proba_into`]'s and [`Forest::predict_proba_into`]'s argmax: the classes
//! that can win add the same leaves in the same order.

use crate::gbdt::argmax;
use crate::tree::{Tree, LEAF};
use crate::{ClassifyError, Forest, Gbdt};

/// Rows scored together: enough that the rows still summing a class after pruning keep a
/// tree's walk busy, few enough that their codes stay in the core's cache.
const BLOCK: usize = 512;

/// Rows walked together through a tree.
const LANES: usize = 8;

/// Trees of a forest between two looks for rows whose class is settled.
const FOREST_CHECK: usize = 4;

/// Thresholds per feature at most, so that a code (1 + rank, 0 for missing) fits in 8 bits.
const MAX_CUTS: usize = 254;

/// One node in 8 bytes: a row goes to `left + (code[slot] > threshold) as u32` (a node's
/// two children are adjacent), where a row's codes are, per feature, its rank among the
/// feature's thresholds (missing values 0), then those ranks less one (missing values
/// wrapping to `u8::MAX`). A leaf has `threshold == u8::MAX` and `left` itself; a split
/// no value goes left of has `threshold == u8::MAX` and `left` its right child.
#[derive(Clone, Copy, Debug)]
struct Step {
    slot: u16,
    threshold: u8,
    left: u32,
}

/// One tree's root and the levels a walk from it takes at most.
#[derive(Clone, Copy, Debug)]
struct Root {
    node: u32,
    depth: u32,
}

/// A [`Gbdt`] or a [`Forest`] compiled for [`Scorer::predict_rows`] (see [`Gbdt::scorer`],
/// [`Forest::scorer`]).
#[derive(Clone, Debug)]
pub struct Scorer {
    features: usize,
    classes: usize,
    /// A forest's number of trees (its sums are averaged); `None` for a booster.
    forest: Option<f64>,
    init: Vec<f64>,
    /// Per feature, the ascending distinct thresholds the trees split it at.
    cuts: Vec<Vec<f64>>,
    steps: Vec<Step>,
    /// The values of each step, one (booster) or `classes` (forest) per step: its leaf's,
    /// 0 for a split.
    values: Vec<f64>,
    /// `trees[round * classes + class]`, as in the model.
    roots: Vec<Root>,
    /// Per round `r` (a forest: tree) and class, the sums of the smallest and of the largest
    /// leaf value of the class in rounds `r..`; empty when one is not finite (no pruning).
    rest: Vec<(f64, f64)>,
    /// A forest's trees after which some row may be settled (by the sums the trees before
    /// can give and the shares the trees after can): only there is a look taken.
    may_settle: Vec<bool>,
}

impl Scorer {
    /// Compiles a booster, checking its trees so that scoring cannot index out of range.
    pub(crate) fn new(model: &Gbdt) -> Result<Self, ClassifyError> {
        let (f, k) = (model.features, model.classes);
        if k == 0 || model.init.len() != k {
            return Err(ClassifyError::Snapshot(
                "init scores and classes differ".into(),
            ));
        }
        let mut scorer = Self::compile(&model.trees, f, k, 1)?;
        scorer.init = model.init.clone();
        let rounds = model.trees.len().div_ceil(k);
        let mut rest = vec![(0.0, 0.0); (rounds + 1) * k];
        for (i, t) in model.trees.iter().enumerate().rev() {
            let lo = t.values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = t.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let next = rest[i + k];
            rest[i] = (next.0 + lo, next.1 + hi);
        }
        let finite = |x: f64| x.is_finite() && x.abs() < 1e100;
        if rest.iter().all(|&(a, b)| finite(a) && finite(b))
            && model.init.iter().all(|&x| finite(x))
        {
            scorer.rest = rest;
        }
        Ok(scorer)
    }

    /// Compiles a forest, checking its trees as [`Scorer::new`] does.
    pub(crate) fn forest(model: &Forest) -> Result<Self, ClassifyError> {
        if model.classes == 0 {
            return Err(ClassifyError::Snapshot("a forest of no class".into()));
        }
        let k = model.classes;
        let mut scorer = Self::compile(&model.trees, model.features, k, k)?;
        scorer.forest = Some(model.trees.len().max(1) as f64);
        // Per tree and class, the least and the greatest share its leaves give the class.
        let mut rest = vec![(0.0, 0.0); (model.trees.len() + 1) * k];
        for (i, t) in model.trees.iter().enumerate().rev() {
            for c in 0..k {
                let shares = t.values.iter().skip(c).step_by(k).copied();
                let lo = shares.clone().fold(f64::INFINITY, f64::min);
                let hi = shares.fold(f64::NEG_INFINITY, f64::max);
                let next = rest[(i + 1) * k + c];
                rest[i * k + c] = (next.0 + lo, next.1 + hi);
            }
        }
        if rest.iter().all(|&(a, b)| a.is_finite() && b.is_finite()) {
            scorer.may_settle = may_settle(&rest, k);
            scorer.rest = rest;
        }
        Ok(scorer)
    }

    /// The trees' nodes and leaves, `width` values per leaf; no initial scores, no pruning.
    fn compile(trees: &[Tree], f: usize, k: usize, width: usize) -> Result<Self, ClassifyError> {
        let bad = |m: &str| ClassifyError::Snapshot(m.into());
        let mut cuts = vec![Vec::new(); f];
        for t in trees {
            t.check(f)?;
            if t.width != width {
                return Err(bad("a tree's leaves hold the wrong number of values"));
            }
            for n in t.nodes.iter().filter(|n| n.left != LEAF) {
                if !n.threshold.is_nan() {
                    cuts[n.feature as usize].push(n.threshold);
                }
            }
        }
        for c in &mut cuts {
            c.sort_by(f64::total_cmp);
            c.dedup_by(|a, b| a == b);
        }
        // Codes are 8 bits: what at most 255 bins per feature (254 thresholds) need.
        if 2 * f > usize::from(u16::MAX) || cuts.iter().any(|c| c.len() > MAX_CUTS) {
            return Err(ClassifyError::Shape(
                "a booster with over 32,767 features or 254 thresholds on one cannot be compiled"
                    .into(),
            ));
        }
        let mut steps = Vec::new();
        let mut values = Vec::new();
        let mut roots = Vec::with_capacity(trees.len());
        for t in trees {
            let base = steps.len() as u32;
            // Breadth first, so that siblings are adjacent; `at[i]` is node i's place.
            let mut order = vec![0u32];
            let mut at = vec![u32::MAX; t.nodes.len()];
            let mut depth = vec![0u32; t.nodes.len()];
            at[0] = 0;
            let mut i = 0;
            while i < order.len() {
                let n = &t.nodes[order[i] as usize];
                if n.left != LEAF {
                    for c in [n.left, n.right] {
                        if at[c as usize] != u32::MAX {
                            return Err(bad("a node has two parents"));
                        }
                        at[c as usize] = order.len() as u32;
                        depth[c as usize] = depth[order[i] as usize] + 1;
                        order.push(c);
                    }
                }
                i += 1;
            }
            let mut levels = 0;
            for (place, &i) in order.iter().enumerate() {
                let n = &t.nodes[i as usize];
                if n.left == LEAF {
                    levels = levels.max(depth[i as usize]);
                    steps.push(Step {
                        slot: 0,
                        threshold: u8::MAX,
                        left: base + place as u32,
                    });
                    let at = n.right as usize;
                    values.extend_from_slice(&t.values[at..at + width]);
                    continue;
                }
                let (left, right) = (base + at[n.left as usize], base + at[n.right as usize]);
                let feature = n.feature as usize;
                let cut = &cuts[feature];
                let j = cut.partition_point(|c| *c < n.threshold) as u8;
                // `v <= cut[j]` is `code(v) <= j + 1`, missing values coded 0; with missing
                // values sent right the code is one less and they wrap to `u8::MAX`.
                steps.push(match (n.threshold.is_nan(), n.missing_left) {
                    (true, true) => Step {
                        slot: feature as u16,
                        threshold: 0,
                        left,
                    },
                    (true, false) => Step {
                        slot: 0,
                        threshold: u8::MAX,
                        left: right,
                    },
                    (false, true) => Step {
                        slot: feature as u16,
                        threshold: j + 1,
                        left,
                    },
                    (false, false) => Step {
                        slot: (f + feature) as u16,
                        threshold: j,
                        left,
                    },
                });
                values.extend(std::iter::repeat_n(0.0, width));
            }
            roots.push(Root {
                node: base,
                depth: levels,
            });
        }
        Ok(Self {
            features: f,
            classes: k,
            forest: None,
            init: vec![0.0; k],
            cuts,
            steps,
            values,
            roots,
            rest: Vec::new(),
            may_settle: Vec::new(),
        })
    }

    /// The most likely class of each row of a row-major matrix (`features` per row).
    pub fn predict_rows(&self, rows: &[f64]) -> Result<Vec<u32>, ClassifyError> {
        let f = self.features;
        if f == 0 || !rows.len().is_multiple_of(f) {
            return Err(ClassifyError::Width {
                expected: f,
                got: rows.len() % f.max(1),
            });
        }
        let (k, width) = (self.classes, 2 * f);
        let mut out = Vec::with_capacity(rows.len() / f);
        let mut codes = vec![0u8; BLOCK * width];
        // Per row and class the sum so far; a class that can no longer win is −∞.
        let mut raw = vec![0.0; BLOCK * k];
        let mut at = vec![0u32; BLOCK];
        // Per class: the rows that still sum it; the rows not yet decided; per row, whether
        // it is decided.
        let mut active: Vec<Vec<u32>> = vec![Vec::with_capacity(BLOCK); k];
        let mut open: Vec<u32> = Vec::with_capacity(BLOCK);
        let mut done = vec![false; BLOCK];
        // A forest's rows decided before its last tree: their class (`u32::MAX`: open).
        let mut winner = vec![u32::MAX; BLOCK];
        for block in rows.chunks(BLOCK * f) {
            let m = block.len() / f;
            for (row, code) in block.chunks_exact(f).zip(codes.chunks_exact_mut(width)) {
                for (j, (&v, cut)) in row.iter().zip(&self.cuts).enumerate() {
                    let c = if v.is_nan() {
                        0
                    } else {
                        1 + cut.partition_point(|x| *x < v) as u8
                    };
                    code[j] = c;
                    code[f + j] = c.wrapping_sub(1);
                }
            }
            for r in raw.chunks_exact_mut(k).take(m) {
                r.copy_from_slice(&self.init);
            }
            for rows in &mut active {
                rows.clear();
                rows.extend(0..m as u32);
            }
            open.clear();
            open.extend(0..m as u32);
            done[..m].fill(false);
            let codes = &codes[..m * width];
            if let Some(n) = self.forest {
                // Every tree adds its leaf's distribution to the rows still open, in tree
                // order; every few trees, a row whose leader can no longer be caught is done.
                winner[..m].fill(u32::MAX);
                for (t, &root) in self.roots.iter().enumerate() {
                    let at = &mut at[..open.len()];
                    self.walk(root, &open, codes, width, at);
                    for (&a, &r) in at.iter().zip(&open) {
                        let sum = &mut raw[r as usize * k..][..k];
                        for (s, v) in sum.iter_mut().zip(&self.values[a as usize * k..][..k]) {
                            *s += v;
                        }
                    }
                    if self.rest.is_empty() || (t + 1) % FOREST_CHECK != 0 || !self.may_settle[t] {
                        continue;
                    }
                    let rest = &self.rest[(t + 1) * k..][..k];
                    compact(&mut open, |r| {
                        let sum = &raw[r as usize * k..][..k];
                        match settled(sum, rest) {
                            Some(c) => {
                                winner[r as usize] = c;
                                false
                            }
                            None => true,
                        }
                    });
                }
                raw[..m * k].iter_mut().for_each(|s| *s /= n);
                out.extend(raw.chunks_exact(k).zip(&winner).take(m).map(|(avg, &w)| {
                    if w == u32::MAX {
                        argmax(avg)
                    } else {
                        w
                    }
                }));
                continue;
            }
            for (round, roots) in self.roots.chunks(k).enumerate() {
                for (c, (&root, rows)) in roots.iter().zip(&active).enumerate() {
                    let at = &mut at[..rows.len()];
                    self.walk(root, rows, codes, width, at);
                    for (a, &r) in at.iter().zip(rows) {
                        raw[r as usize * k + c] += self.values[*a as usize];
                    }
                }
                if self.rest.is_empty() || open.is_empty() {
                    continue;
                }
                let rest = &self.rest[(round + 1) * k..][..k];
                let mut changed = false;
                compact(&mut open, |r| {
                    let sum = &mut raw[r as usize * k..][..k];
                    // Lost classes are −∞ and so never raise the floor.
                    let floor = sum
                        .iter()
                        .zip(rest)
                        .fold(f64::NEG_INFINITY, |f, (s, b)| f.max(s + b.0));
                    let floor = below_rounding(floor);
                    let mut left = 0;
                    for (s, b) in sum.iter_mut().zip(rest) {
                        let lost = *s + b.1 < floor;
                        changed |= lost && *s != f64::NEG_INFINITY;
                        if lost {
                            *s = f64::NEG_INFINITY;
                        }
                        left += usize::from(!lost);
                    }
                    done[r as usize] = left <= 1;
                    left > 1
                });
                if changed {
                    for (c, rows) in active.iter_mut().enumerate() {
                        compact(rows, |r| {
                            !done[r as usize] && raw[r as usize * k + c] != f64::NEG_INFINITY
                        });
                    }
                }
            }
            out.extend(raw.chunks_exact(k).take(m).map(argmax));
        }
        Ok(out)
    }
}

impl Scorer {
    /// The step each of `rows` (rows of the block, whose codes are `width` apart) reaches
    /// from `root`, into `at`.
    fn walk(&self, root: Root, rows: &[u32], codes: &[u8], width: usize, at: &mut [u32]) {
        // `row` is where a row's codes start.
        let step = |a: u32, row: usize| {
            let s = &self.steps[a as usize];
            let code = codes[row + s.slot as usize];
            s.left + u32::from(code > s.threshold)
        };
        // A few rows at a time through every level, their nodes in registers: independent
        // chains of loads for the core to overlap.
        let mut chunks = at.chunks_exact_mut(LANES).zip(rows.chunks_exact(LANES));
        for (at, rows) in &mut chunks {
            let mut a = [root.node; LANES];
            let row: [usize; LANES] = std::array::from_fn(|i| rows[i] as usize * width);
            for _ in 0..root.depth {
                for (a, &row) in a.iter_mut().zip(&row) {
                    *a = step(*a, row);
                }
            }
            at.copy_from_slice(&a);
        }
        let tail = rows.len() - rows.len() % LANES;
        for (a, &r) in at[tail..].iter_mut().zip(&rows[tail..]) {
            *a = root.node;
            for _ in 0..root.depth {
                *a = step(*a, r as usize * width);
            }
        }
    }
}

/// Per tree `t` of a forest whose per-tree least and greatest shares of each class sum over
/// trees `t..` to `rest[t * k..]`: whether after it a row can be settled at all, that is some
/// class's greatest possible sum so far plus the least the trees left give it reaches, by
/// more than rounding, every other class's least possible sum so far plus the most they
/// can get. Before that tree (about half the forest, when leaves are pure) a look at the
/// rows would settle none.
fn may_settle(rest: &[(f64, f64)], k: usize) -> Vec<bool> {
    let trees = rest.len() / k - 1;
    // Per class, the least and the greatest sum the trees so far can give.
    let mut done = vec![(0.0, 0.0); k];
    (0..trees)
        .map(|t| {
            for (c, d) in done.iter_mut().enumerate() {
                let (lo, hi) = rest[t * k + c];
                let (next_lo, next_hi) = rest[(t + 1) * k + c];
                // This tree's least and greatest share, as the suffix sums were built.
                d.0 += lo - next_lo;
                d.1 += hi - next_hi;
            }
            let left = &rest[(t + 1) * k..][..k];
            let best = |c: usize| done[c].1 + left[c].0;
            let worst = |c: usize| done[c].0 + left[c].1;
            (0..k).any(|lead| {
                let others = (0..k)
                    .filter(|&c| c != lead)
                    .map(worst)
                    .fold(f64::NEG_INFINITY, f64::max);
                best(lead) + 1e-6 * (1.0 + best(lead).abs() + others.abs()) >= others
            })
        })
        .collect()
}

/// The class a forest's row ends with, if no other can catch it: the class whose sum plus
/// the least shares left is above every other's sum plus the greatest shares left, by a
/// margin far above the rounding of these sums.
fn settled(sum: &[f64], rest: &[(f64, f64)]) -> Option<u32> {
    let floors = sum.iter().zip(rest).map(|(s, b)| s + b.0);
    let lead = floors
        .clone()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |best, (c, f)| {
            if f > best.1 {
                (c, f)
            } else {
                best
            }
        });
    let floor = below_rounding(lead.1);
    let caught = sum
        .iter()
        .zip(rest)
        .enumerate()
        .any(|(c, (s, b))| c != lead.0 && s + b.1 >= floor);
    (!caught).then_some(lead.0 as u32)
}

/// `x` less a margin far above the rounding of sums of leaf values, so that a class pruned
/// or a row settled against it is exactly so.
fn below_rounding(x: f64) -> f64 {
    x - 1e-9 * (1.0 + x.abs())
}

/// Keeps the rows for which `keep` holds, in order, without a branch per row.
fn compact(rows: &mut Vec<u32>, mut keep: impl FnMut(u32) -> bool) {
    let mut n = 0;
    for i in 0..rows.len() {
        let r = rows[i];
        rows[n] = r;
        n += usize::from(keep(r));
    }
    rows.truncate(n);
}
