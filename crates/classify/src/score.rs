//! A booster compiled for batch scoring. Each raw row is coded once per feature as its
//! rank among the thresholds the trees split that feature at, so that every node compares
//! two integers; the trees then walk a block of rows at a time, tree by tree, level by
//! level, without branches (a leaf points to itself), which keeps a tree in cache and lets
//! the rows of a block proceed in parallel in the core. Results equal
//! [`Gbdt::predict_proba_into`]'s argmax: the same leaves, summed in the same order.

use crate::gbdt::{argmax, BLOCK};
use crate::tree::LEAF;
use crate::{ClassifyError, Gbdt};

/// One node: a row goes to `kids[(code[slot] > threshold) as usize]`. A leaf (and a split
/// no value goes left of) has `threshold == u32::MAX` and both kids equal.
#[derive(Clone, Copy, Debug)]
struct Step {
    slot: u32,
    threshold: u32,
    kids: [u32; 2],
}

/// One tree's root and the levels a walk from it takes at most.
#[derive(Clone, Copy, Debug)]
struct Root {
    node: u32,
    depth: u32,
}

/// A [`Gbdt`] compiled for [`Scorer::predict_rows`] (see [`Gbdt::scorer`]).
#[derive(Clone, Debug)]
pub struct Scorer {
    features: usize,
    classes: usize,
    init: Vec<f64>,
    /// Per feature, the ascending distinct thresholds the trees split it at.
    cuts: Vec<Vec<f64>>,
    steps: Vec<Step>,
    /// The value of each step (its leaf's; 0 for a split).
    values: Vec<f64>,
    roots: Vec<Root>,
}

impl Scorer {
    /// Compiles `model`, checking its trees so that scoring cannot index out of range.
    pub(crate) fn new(model: &Gbdt) -> Result<Self, ClassifyError> {
        let bad = |m: &str| ClassifyError::Snapshot(m.into());
        let (f, k) = (model.features, model.classes);
        if k == 0 || model.init.len() != k {
            return Err(bad("init scores and classes differ"));
        }
        let mut cuts = vec![Vec::new(); f];
        for t in &model.trees {
            t.check(f)?;
            if t.width != 1 {
                return Err(bad("a booster's leaves hold one value"));
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
        let mut steps = Vec::new();
        let mut values = Vec::new();
        let mut roots = Vec::with_capacity(model.trees.len());
        for t in &model.trees {
            let base = steps.len() as u32;
            // Children come after their parent, so one pass finds every node's depth.
            let mut depth = vec![0u32; t.nodes.len()];
            let mut levels = 0;
            for (i, n) in t.nodes.iter().enumerate() {
                let at = base + i as u32;
                if n.left == LEAF {
                    levels = levels.max(depth[i]);
                    steps.push(Step {
                        slot: 0,
                        threshold: u32::MAX,
                        kids: [at; 2],
                    });
                    values.push(t.values[n.right as usize]);
                    continue;
                }
                for c in [n.left, n.right] {
                    depth[c as usize] = depth[c as usize].max(depth[i] + 1);
                }
                let kids = [base + n.left, base + n.right];
                let feature = n.feature as usize;
                let cut = &cuts[feature];
                let j = cut.partition_point(|c| *c < n.threshold) as u32;
                // `v <= cut[j]` is `code(v) <= j + 1`, missing values coded 0; with missing
                // values sent right the code is one less and they wrap to `u32::MAX`.
                steps.push(match (n.threshold.is_nan(), n.missing_left) {
                    (true, true) => Step {
                        slot: feature as u32,
                        threshold: 0,
                        kids,
                    },
                    (true, false) => Step {
                        slot: 0,
                        threshold: u32::MAX,
                        kids: [kids[1]; 2],
                    },
                    (false, true) => Step {
                        slot: feature as u32,
                        threshold: j + 1,
                        kids,
                    },
                    (false, false) => Step {
                        slot: (f + feature) as u32,
                        threshold: j,
                        kids,
                    },
                });
                values.push(0.0);
            }
            roots.push(Root {
                node: base,
                depth: levels,
            });
        }
        Ok(Self {
            features: f,
            classes: k,
            init: model.init.clone(),
            cuts,
            steps,
            values,
            roots,
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
        let mut codes = vec![0u32; BLOCK * width];
        let mut raw = vec![0.0; BLOCK * k];
        let mut at = [0u32; BLOCK];
        for block in rows.chunks(BLOCK * f) {
            let m = block.len() / f;
            for (row, code) in block.chunks_exact(f).zip(codes.chunks_exact_mut(width)) {
                for (j, (&v, cut)) in row.iter().zip(&self.cuts).enumerate() {
                    let c = if v.is_nan() {
                        0
                    } else {
                        1 + cut.partition_point(|x| *x < v) as u32
                    };
                    code[j] = c;
                    code[f + j] = c.wrapping_sub(1);
                }
            }
            for r in raw.chunks_exact_mut(k).take(m) {
                r.copy_from_slice(&self.init);
            }
            let codes = &codes[..m * width];
            let at = &mut at[..m];
            for (i, root) in self.roots.iter().enumerate() {
                at.fill(root.node);
                for _ in 0..root.depth {
                    for (a, code) in at.iter_mut().zip(codes.chunks_exact(width)) {
                        let s = &self.steps[*a as usize];
                        *a = s.kids[usize::from(code[s.slot as usize] > s.threshold)];
                    }
                }
                let c = i % k;
                for (a, r) in at.iter().zip(raw.chunks_exact_mut(k)) {
                    r[c] += self.values[*a as usize];
                }
            }
            out.extend(raw.chunks_exact(k).take(m).map(argmax));
        }
        Ok(out)
    }
}
