//! Histogram gradient-boosted trees for multi-class classification: one tree per class
//! and round on the softmax loss's gradients and hessians, early stopping on a stratified
//! validation share.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::binning::Binner;
use crate::grow::{grow, Binned, Criterion, Limits};
use crate::rng::Rng;
use crate::score::Scorer;
use crate::split::stratified_split;
use crate::tree::Tree;
use crate::{ClassWeight, ClassifyError, Dataset};

/// Hyperparameters of [`Gbdt::fit`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GbdtConfig {
    /// Boosting rounds at most (each adds one tree per class).
    pub rounds: usize,
    /// Shrinkage of every leaf value, in (0, 1].
    pub learning_rate: f64,
    /// Depth limit of a tree (the root is depth 0).
    pub max_depth: usize,
    /// Leaves per tree at most.
    pub max_leaves: usize,
    /// Rows (weighted count) a leaf holds at least.
    pub min_samples_leaf: usize,
    /// L2 regularisation of leaf values.
    pub l2: f64,
    /// Bins per feature besides the missing bin, 2 to 255.
    pub max_bins: usize,
    /// How classes are weighted.
    pub class_weight: ClassWeight,
    /// Share of the rows held out (stratified) for early stopping; 0 for none.
    pub validation_fraction: f64,
    /// Stop when the validation loss has not improved for this many rounds.
    pub early_stopping_rounds: usize,
    /// Seed of the validation split.
    pub seed: u64,
}

impl Default for GbdtConfig {
    fn default() -> Self {
        Self {
            rounds: 200,
            learning_rate: 0.1,
            max_depth: 8,
            max_leaves: 31,
            min_samples_leaf: 20,
            l2: 1.0,
            max_bins: 255,
            class_weight: ClassWeight::None,
            validation_fraction: 0.1,
            early_stopping_rounds: 10,
            seed: 7,
        }
    }
}

impl GbdtConfig {
    fn validate(&self) -> Result<(), ClassifyError> {
        let p = |field, message: &str| {
            Err(ClassifyError::Param {
                field,
                message: message.into(),
            })
        };
        if self.rounds == 0 {
            return p("rounds", "must be at least 1");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return p("learning_rate", "must be in (0, 1]");
        }
        if self.max_depth == 0 {
            return p("max_depth", "must be at least 1");
        }
        if self.max_leaves < 2 {
            return p("max_leaves", "must be at least 2");
        }
        if !(self.l2 >= 0.0 && self.l2.is_finite()) {
            return p("l2", "must be finite and >= 0");
        }
        if !(2..=255).contains(&self.max_bins) {
            return p("max_bins", "must be 2 to 255");
        }
        if !(0.0..0.9).contains(&self.validation_fraction) {
            return p("validation_fraction", "must be in [0, 0.9)");
        }
        Ok(())
    }
}

/// A trained boosted ensemble: `trees[round * classes + class]` add to the class's raw score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gbdt {
    /// Number of classes.
    pub classes: usize,
    /// Number of features a row has.
    pub features: usize,
    /// Raw score of each class before any tree (log prior).
    pub init: Vec<f64>,
    /// The trees, round-major.
    pub trees: Vec<Tree>,
    /// Rounds kept (the best validation round when early stopping ran).
    pub rounds: usize,
}

impl Gbdt {
    /// Trains on `data` (validated first).
    pub fn fit(data: &Dataset, config: &GbdtConfig) -> Result<Self, ClassifyError> {
        data.validate()?;
        config.validate()?;
        let k = data.classes.len();
        let weights = config.class_weight.weights(data)?;
        let (train_rows, val_rows) = if config.validation_fraction > 0.0 {
            let (t, v) = stratified_split(&data.labels, k, config.validation_fraction, config.seed);
            if v.is_empty() || t.is_empty() {
                ((0..data.rows()).collect(), Vec::new())
            } else {
                (t, v)
            }
        } else {
            ((0..data.rows()).collect(), Vec::new())
        };
        let train = data.subset(&train_rows);
        let val = data.subset(&val_rows);
        let binner = Binner::fit(&train.columns, config.max_bins);
        let bins = binner.transform(&train.columns);
        let vbins = binner.transform(&val.columns);
        let binned = Binned::new(&bins, &binner);
        let n = train.rows();
        let w: Vec<f64> = train.labels.iter().map(|&l| weights[l as usize]).collect();
        // Log prior of each class (weighted), so the first trees start from the base rate.
        let mut prior = vec![1e-3; k];
        for (&l, &wi) in train.labels.iter().zip(&w) {
            prior[l as usize] += wi;
        }
        let sum: f64 = prior.iter().sum();
        let init: Vec<f64> = prior.iter().map(|p| (p / sum).ln()).collect();
        let limits = Limits {
            max_depth: config.max_depth,
            max_leaves: config.max_leaves,
            min_samples_leaf: config.min_samples_leaf.max(1) as f64,
            features_per_split: usize::MAX,
        };
        let criterion = Criterion::Newton {
            lambda: config.l2,
            scale: config.learning_rate,
        };
        let mut trees = Vec::new();
        // Each class's tree of a round grows on its own thread, in its own buffers.
        let mut work: Vec<ClassWork> = init
            .iter()
            .map(|&v| ClassWork {
                stats: [0.0, 0.0, 1.0].repeat(n),
                idx: Vec::with_capacity(n),
                raw: vec![v; n],
                vraw: vec![v; val.rows()],
            })
            .collect();
        let mut best = (f64::INFINITY, 0usize);
        for round in 0..config.rounds {
            // One pass over the rows (in parallel chunks) writes every class's gradients.
            let mut parts: Vec<Vec<&mut [f64]>> = (0..n.div_ceil(CHUNK))
                .map(|_| Vec::with_capacity(k))
                .collect();
            let mut raws: Vec<&[f64]> = Vec::with_capacity(k);
            for cw in &mut work {
                for (part, s) in parts.iter_mut().zip(cw.stats.chunks_mut(CHUNK * 3)) {
                    part.push(s);
                }
                raws.push(&cw.raw);
            }
            parts.into_par_iter().enumerate().for_each(|(j, mut part)| {
                let (mut x, mut p) = (vec![0.0; k], vec![0.0; k]);
                for i in 0..part.first().map_or(0, |s| s.len() / 3) {
                    let r = j * CHUNK + i;
                    for (x, raw) in x.iter_mut().zip(&raws) {
                        *x = raw[r];
                    }
                    softmax(&x, &mut p);
                    let y = train.labels[r] as usize;
                    for (class, (s, &p)) in part.iter_mut().zip(&p).enumerate() {
                        let t = if y == class { 1.0 } else { 0.0 };
                        s[i * 3] = (p - t) * w[r];
                        s[i * 3 + 1] = (p * (1.0 - p)).max(1e-6) * w[r];
                    }
                }
            });
            let grown: Vec<Tree> = work
                .par_iter_mut()
                .map(|cw| {
                    cw.idx.clear();
                    cw.idx.extend(0..n as u32);
                    // Newton growth tries every feature: the generator is never drawn from.
                    let mut rng = Rng::new(config.seed);
                    let (tree, leaves) = grow(
                        &binned,
                        &cw.stats,
                        3,
                        &mut cw.idx,
                        criterion,
                        &limits,
                        &mut rng,
                    );
                    for leaf in &leaves {
                        let v = tree.values[leaf.offset];
                        for &r in &cw.idx[leaf.start..leaf.end] {
                            cw.raw[r as usize] += v;
                        }
                    }
                    for (r, x) in cw.vraw.iter_mut().enumerate() {
                        *x += tree.values[tree.leaf_binned(&vbins, r)];
                    }
                    tree
                })
                .collect();
            trees.extend(grown);
            if val.rows() > 0 {
                let loss = log_loss(&work, &val.labels);
                if loss < best.0 - 1e-9 {
                    best = (loss, round + 1);
                } else if round + 1 - best.1 >= config.early_stopping_rounds.max(1) {
                    break;
                }
            } else {
                best.1 = round + 1;
            }
        }
        let rounds = best.1.max(1);
        trees.truncate(rounds * k);
        Ok(Self {
            classes: k,
            features: data.columns.len(),
            init,
            trees,
            rounds,
        })
    }

    /// Class probabilities of one raw row into `out` (`classes` long).
    pub fn predict_proba_into(&self, row: &[f64], out: &mut [f64]) -> Result<(), ClassifyError> {
        if row.len() != self.features {
            return Err(ClassifyError::Width {
                expected: self.features,
                got: row.len(),
            });
        }
        let k = self.classes;
        let mut raw = self.init.clone();
        for (i, t) in self.trees.iter().enumerate() {
            raw[i % k] += t.values[t.leaf(row)];
        }
        softmax(&raw, out);
        Ok(())
    }

    /// The most likely class of each row of a row-major matrix (`features` per row),
    /// through a [`Scorer`] compiled for this call (compile once with [`Gbdt::scorer`]
    /// to score many batches).
    pub fn predict_rows(&self, rows: &[f64]) -> Result<Vec<u32>, ClassifyError> {
        self.scorer()?.predict_rows(rows)
    }

    /// This model compiled for batch scoring.
    pub fn scorer(&self) -> Result<Scorer, ClassifyError> {
        Scorer::new(self)
    }

    /// Summed split gain of each feature.
    pub fn importance(&self) -> Vec<f64> {
        importance(&self.trees, self.features)
    }
}

/// One class's training state: stats `[gradient, hessian, count]` per row, the row order
/// its last tree's leaves left, and the raw scores of the training and validation rows.
struct ClassWork {
    stats: Vec<f64>,
    idx: Vec<u32>,
    raw: Vec<f64>,
    vraw: Vec<f64>,
}

/// Rows per parallel task computing gradients.
const CHUNK: usize = 4096;

/// Summed split gain per feature over `trees`.
pub(crate) fn importance(trees: &[Tree], features: usize) -> Vec<f64> {
    let mut g = vec![0.0; features];
    for t in trees {
        for n in &t.nodes {
            if n.left != crate::tree::LEAF {
                if let Some(x) = g.get_mut(n.feature as usize) {
                    *x += n.gain;
                }
            }
        }
    }
    g
}

/// Index of the largest value (the first on ties).
pub(crate) fn argmax(v: &[f64]) -> u32 {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best as u32
}

fn softmax(raw: &[f64], out: &mut [f64]) {
    let m = raw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut s = 0.0;
    for (o, r) in out.iter_mut().zip(raw) {
        *o = (r - m).exp();
        s += *o;
    }
    for o in out.iter_mut() {
        *o /= s;
    }
}

fn log_loss(work: &[ClassWork], labels: &[u32]) -> f64 {
    let k = work.len();
    let (mut x, mut p) = (vec![0.0; k], vec![0.0; k]);
    let mut loss = 0.0;
    for (r, &l) in labels.iter().enumerate() {
        for (x, cw) in x.iter_mut().zip(work) {
            *x = cw.vraw[r];
        }
        softmax(&x, &mut p);
        loss -= p[l as usize].max(1e-15).ln();
    }
    loss / labels.len().max(1) as f64
}
