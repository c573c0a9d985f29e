//! Random forest: trees on bootstrap samples, a random subset of the features tried at each
//! split, Gini impurity, leaves holding class distributions that are averaged.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::binning::Binner;
use crate::gbdt::importance;
use crate::grow::{grow, Binned, Criterion, Limits};
use crate::rng::Rng;
use crate::score::Scorer;
use crate::tree::Tree;
use crate::{ClassWeight, ClassifyError, Dataset};

/// Hyperparameters of [`Forest::fit`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForestConfig {
    /// Number of trees.
    pub trees: usize,
    /// Depth limit of a tree.
    pub max_depth: usize,
    /// Leaves per tree at most.
    pub max_leaves: usize,
    /// Rows a leaf holds at least.
    pub min_samples_leaf: usize,
    /// Share of the features tried at each split; 0 for the square root of their number.
    pub feature_fraction: f64,
    /// Draw each tree's rows with replacement (else every tree sees every row).
    pub bootstrap: bool,
    /// Bins per feature besides the missing bin, 2 to 255.
    pub max_bins: usize,
    /// How classes are weighted.
    pub class_weight: ClassWeight,
    /// Seed of the bootstrap samples and feature draws.
    pub seed: u64,
}

impl Default for ForestConfig {
    fn default() -> Self {
        Self {
            trees: 100,
            max_depth: 20,
            max_leaves: 255,
            min_samples_leaf: 1,
            feature_fraction: 0.0,
            bootstrap: true,
            max_bins: 255,
            class_weight: ClassWeight::None,
            seed: 7,
        }
    }
}

/// A trained forest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Forest {
    /// Number of classes.
    pub classes: usize,
    /// Number of features a row has.
    pub features: usize,
    /// The trees; each leaf holds `classes` probabilities.
    pub trees: Vec<Tree>,
}

impl Forest {
    /// Trains on `data` (validated first).
    pub fn fit(data: &Dataset, config: &ForestConfig) -> Result<Self, ClassifyError> {
        data.validate()?;
        let p = |field, message: &str| {
            Err(ClassifyError::Param {
                field,
                message: message.into(),
            })
        };
        if config.trees == 0 {
            return p("trees", "must be at least 1");
        }
        if config.max_depth == 0 || config.max_leaves < 2 {
            return p("max_depth", "max_depth >= 1 and max_leaves >= 2");
        }
        if !(0.0..=1.0).contains(&config.feature_fraction) {
            return p("feature_fraction", "must be in [0, 1]");
        }
        if !(2..=255).contains(&config.max_bins) {
            return p("max_bins", "must be 2 to 255");
        }
        let k = data.classes.len();
        let nf = data.columns.len();
        let weights = config.class_weight.weights(data)?;
        let binner = Binner::fit(&data.columns, config.max_bins);
        let bins = binner.transform(&data.columns);
        let binned = Binned::new(&bins, &binner);
        let per_split = if config.feature_fraction == 0.0 {
            (nf as f64).sqrt().ceil() as usize
        } else {
            ((nf as f64 * config.feature_fraction).ceil() as usize).max(1)
        };
        let limits = Limits {
            max_depth: config.max_depth,
            max_leaves: config.max_leaves,
            min_samples_leaf: config.min_samples_leaf.max(1) as f64,
            features_per_split: per_split,
        };
        let n = data.rows();
        let width = k + 1;
        let trees: Vec<Tree> = (0..config.trees)
            .into_par_iter()
            .map(|t| {
                let mut rng = Rng::new(config.seed.wrapping_add(t as u64 * 0x9e37_79b9));
                let mut count = vec![0u32; n];
                if config.bootstrap {
                    for _ in 0..n {
                        count[rng.below(n)] += 1;
                    }
                } else {
                    count.iter_mut().for_each(|c| *c = 1);
                }
                let mut stats = vec![0.0; n * width];
                let mut idx = Vec::new();
                for (r, &c) in count.iter().enumerate() {
                    if c > 0 {
                        let l = data.labels[r] as usize;
                        stats[r * width + l] = c as f64 * weights[l];
                        stats[r * width + k] = c as f64;
                        idx.push(r as u32);
                    }
                }
                grow(
                    &binned,
                    &stats,
                    width,
                    &mut idx,
                    Criterion::Gini,
                    &limits,
                    &mut rng,
                )
                .0
            })
            .collect();
        Ok(Self {
            classes: k,
            features: nf,
            trees,
        })
    }

    /// Class probabilities of one raw row into `out` (`classes` long): the trees' mean.
    pub fn predict_proba_into(&self, row: &[f64], out: &mut [f64]) -> Result<(), ClassifyError> {
        if row.len() != self.features {
            return Err(ClassifyError::Width {
                expected: self.features,
                got: row.len(),
            });
        }
        out.iter_mut().for_each(|o| *o = 0.0);
        for t in &self.trees {
            let o = t.leaf(row);
            for (x, v) in out.iter_mut().zip(&t.values[o..o + self.classes]) {
                *x += v;
            }
        }
        let n = self.trees.len().max(1) as f64;
        out.iter_mut().for_each(|o| *o /= n);
        Ok(())
    }

    /// The most likely class of each row of a row-major matrix (`features` per row),
    /// through a [`Scorer`] compiled for this call (compile once with [`Forest::scorer`]
    /// to score many batches).
    pub fn predict_rows(&self, rows: &[f64]) -> Result<Vec<u32>, ClassifyError> {
        self.scorer()?.predict_rows(rows)
    }

    /// This forest compiled for batch scoring.
    pub fn scorer(&self) -> Result<Scorer, ClassifyError> {
        Scorer::forest(self)
    }

    /// Summed Gini decrease of each feature.
    pub fn importance(&self) -> Vec<f64> {
        importance(&self.trees, self.features)
    }
}
