//! The marketplace artefact (Y.3176 §8): a trained classifier with its model card, as
//! versioned bytes (`AI4ICTcl`, format 1, postcard).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{ClassifyError, Dataset, Forest, Gbdt};

const MAGIC: &[u8; 8] = b"AI4ICTcl";
/// The snapshot format written by [`Classifier::to_bytes`].
pub const FORMAT: u32 = 1;

/// A trained model of either kind (the M node of a Y.3172 pipeline classifying flows).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Model {
    /// Gradient-boosted trees.
    Gbdt(Gbdt),
    /// Random forest.
    Forest(Forest),
}

/// ML model metadata (Y.3176 via Y.3181 §3.1.6): what the model reads and predicts, what
/// it was trained on and how well it did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Model name.
    pub name: String,
    /// `gbdt` or `random_forest`.
    pub algorithm: String,
    /// Input: feature names in order.
    pub features: Vec<String>,
    /// Output: class names in order.
    pub classes: Vec<String>,
    /// Rows it was trained on.
    pub training_rows: u64,
    /// sha256 of the training data ([`Dataset::fingerprint`]).
    pub training_fingerprint: String,
    /// Evaluation results, by name (e.g. `macro_f1`).
    pub metrics: BTreeMap<String, f64>,
    /// Recommendations the artefact follows.
    pub standards: Vec<String>,
}

/// A trained classifier with its card.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Classifier {
    /// The metadata.
    pub card: ModelCard,
    /// The model.
    pub model: Model,
}

impl Classifier {
    /// Wraps a model trained on `data` with a card naming its inputs, outputs and data.
    pub fn new(name: &str, model: Model, data: &Dataset) -> Self {
        let algorithm = match model {
            Model::Gbdt(_) => "gbdt",
            Model::Forest(_) => "random_forest",
        };
        Self {
            card: ModelCard {
                name: name.into(),
                algorithm: algorithm.into(),
                features: data.features.clone(),
                classes: data.classes.clone(),
                training_rows: data.rows() as u64,
                training_fingerprint: data.fingerprint(),
                metrics: BTreeMap::new(),
                standards: vec!["ITU-T Y.3172".into(), "ITU-T Y.3176".into()],
            },
            model,
        }
    }

    /// The most likely class of each row of a row-major matrix.
    pub fn predict_rows(&self, rows: &[f64]) -> Result<Vec<u32>, ClassifyError> {
        match &self.model {
            Model::Gbdt(m) => m.predict_rows(rows),
            Model::Forest(m) => m.predict_rows(rows),
        }
    }

    /// Class probabilities of one row.
    pub fn predict_proba(&self, row: &[f64]) -> Result<Vec<f64>, ClassifyError> {
        let mut p = vec![0.0; self.card.classes.len()];
        match &self.model {
            Model::Gbdt(m) => m.predict_proba_into(row, &mut p)?,
            Model::Forest(m) => m.predict_proba_into(row, &mut p)?,
        }
        Ok(p)
    }

    /// Levels of the model's deepest tree: what scoring a row walks through, per tree.
    pub fn depth(&self) -> usize {
        let trees = match &self.model {
            Model::Gbdt(m) => &m.trees,
            Model::Forest(m) => &m.trees,
        };
        trees.iter().map(|t| t.depth()).max().unwrap_or(0)
    }

    /// Feature importance by gain, per feature.
    pub fn importance(&self) -> Vec<f64> {
        match &self.model {
            Model::Gbdt(m) => m.importance(),
            Model::Forest(m) => m.importance(),
        }
    }

    /// The snapshot: magic, format (u32 little endian), postcard of the classifier.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ClassifyError> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&FORMAT.to_le_bytes());
        postcard::to_extend(self, out).map_err(|e| ClassifyError::Snapshot(e.to_string()))
    }

    /// Reads a snapshot, checking its header and every tree so that scoring it cannot fail
    /// on a corrupted or hostile file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ClassifyError> {
        let bad = |m: &str| ClassifyError::Snapshot(m.into());
        if bytes.len() < 12 || &bytes[..8] != MAGIC {
            return Err(bad("no AI4ICTcl header"));
        }
        let format = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if format != FORMAT {
            return Err(ClassifyError::Snapshot(format!(
                "format {format}, this build reads {FORMAT}"
            )));
        }
        let c: Classifier = postcard::from_bytes(&bytes[12..])
            .map_err(|e| ClassifyError::Snapshot(e.to_string()))?;
        let (classes, features, trees, leaf_width) = match &c.model {
            Model::Gbdt(m) => {
                if m.classes == 0 || m.init.len() != m.classes {
                    return Err(bad("init scores and classes differ"));
                }
                (m.classes, m.features, &m.trees, 1)
            }
            Model::Forest(m) => (m.classes, m.features, &m.trees, m.classes),
        };
        if classes != c.card.classes.len() || features != c.card.features.len() {
            return Err(bad("model and card disagree on classes or features"));
        }
        for t in trees {
            t.check(features)?;
            if t.width != leaf_width {
                return Err(bad("leaf width does not match the model"));
            }
        }
        Ok(c)
    }
}
