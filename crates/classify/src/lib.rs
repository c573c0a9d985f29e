#![doc = include_str!("../README.md")]

mod binning;
mod dataset;
mod error;
mod forest;
mod gbdt;
mod grow;
mod metrics;
mod model;
mod rng;
mod score;
mod split;
pub mod table;
mod tree;

pub use binning::{Binner, MAX_BINS};
pub use dataset::{encode_labels, Dataset};
pub use error::ClassifyError;
pub use forest::{Forest, ForestConfig};
pub use gbdt::{Gbdt, GbdtConfig};
pub use metrics::Metrics;
pub use model::{Classifier, Model, ModelCard, FORMAT};
pub use score::Scorer;
pub use split::stratified_split;
pub use tree::{Node, Tree, LEAF};

use serde::{Deserialize, Serialize};

/// How much each class's rows count in training.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum ClassWeight {
    /// Every row counts 1.
    #[default]
    None,
    /// Each class weighs as much as every other: `rows / (classes × rows of the class)`.
    Balanced,
    /// One weight per class, finite and > 0.
    Custom(Vec<f64>),
}

impl ClassWeight {
    /// The weight of each class of `data`.
    pub fn weights(&self, data: &Dataset) -> Result<Vec<f64>, ClassifyError> {
        let k = data.classes.len();
        match self {
            ClassWeight::None => Ok(vec![1.0; k]),
            ClassWeight::Balanced => {
                let n = data.rows() as f64;
                Ok(data
                    .class_counts()
                    .iter()
                    .map(|&c| {
                        if c == 0 {
                            1.0
                        } else {
                            n / (k as f64 * c as f64)
                        }
                    })
                    .collect())
            }
            ClassWeight::Custom(w) => {
                if w.len() != k || w.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
                    return Err(ClassifyError::Param {
                        field: "class_weight",
                        message: format!("{k} finite weights > 0 wanted, got {w:?}"),
                    });
                }
                Ok(w.clone())
            }
        }
    }
}

#[cfg(test)]
mod tests;
