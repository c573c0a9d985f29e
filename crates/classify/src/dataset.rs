//! The training table: named numeric features in columns, a class label per row.

use sha2::{Digest, Sha256};

use crate::ClassifyError;

/// A labelled table, column-major: `columns[f][row]`. Non-finite values are allowed (NaN is
/// "missing", infinities sort to the ends); labels index `classes`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    /// Feature names, one per column.
    pub features: Vec<String>,
    /// Feature values, one `Vec` per feature, each `rows()` long.
    pub columns: Vec<Vec<f64>>,
    /// The class of each row, an index into `classes`.
    pub labels: Vec<u32>,
    /// Class names.
    pub classes: Vec<String>,
}

/// Class names in sorted order and each label's index among them.
pub fn encode_labels<S: AsRef<str>>(labels: &[S]) -> (Vec<String>, Vec<u32>) {
    let mut classes: Vec<String> = labels.iter().map(|l| l.as_ref().to_string()).collect();
    classes.sort();
    classes.dedup();
    let index: std::collections::HashMap<&str, u32> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i as u32))
        .collect();
    let coded = labels.iter().map(|l| index[l.as_ref()]).collect();
    (classes, coded)
}

impl Dataset {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.labels.len()
    }

    /// Checks that columns, names and labels agree; training needs at least one row, one
    /// feature and two classes.
    pub fn validate(&self) -> Result<(), ClassifyError> {
        if self.features.len() != self.columns.len() {
            return Err(ClassifyError::Shape(format!(
                "{} feature names for {} columns",
                self.features.len(),
                self.columns.len()
            )));
        }
        if self.columns.is_empty() {
            return Err(ClassifyError::Empty("no feature columns".into()));
        }
        if self.labels.is_empty() {
            return Err(ClassifyError::Empty("no rows".into()));
        }
        if self.classes.len() < 2 {
            return Err(ClassifyError::Empty(format!(
                "{} class(es); a classifier needs at least 2",
                self.classes.len()
            )));
        }
        for (f, c) in self.columns.iter().enumerate() {
            if c.len() != self.labels.len() {
                return Err(ClassifyError::Shape(format!(
                    "column {} has {} values for {} labels",
                    self.features[f],
                    c.len(),
                    self.labels.len()
                )));
            }
        }
        if let Some(bad) = self
            .labels
            .iter()
            .find(|&&l| l as usize >= self.classes.len())
        {
            return Err(ClassifyError::Shape(format!(
                "label {bad} but only {} classes",
                self.classes.len()
            )));
        }
        Ok(())
    }

    /// The rows `idx` as a new table with the same features and classes.
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        Dataset {
            features: self.features.clone(),
            columns: self
                .columns
                .iter()
                .map(|c| idx.iter().map(|&i| c[i]).collect())
                .collect(),
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
            classes: self.classes.clone(),
        }
    }

    /// Row `i` as a feature vector.
    pub fn row(&self, i: usize) -> Vec<f64> {
        self.columns.iter().map(|c| c[i]).collect()
    }

    /// Rows per class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut n = vec![0; self.classes.len()];
        for &l in &self.labels {
            if let Some(c) = n.get_mut(l as usize) {
                *c += 1;
            }
        }
        n
    }

    /// The training-data fingerprint of the model card (Y.3176 §8, model metadata): sha256
    /// of the feature names, class names, every value's bits and every label, hex.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for f in &self.features {
            h.update((f.len() as u64).to_le_bytes());
            h.update(f.as_bytes());
        }
        for c in &self.classes {
            h.update((c.len() as u64).to_le_bytes());
            h.update(c.as_bytes());
        }
        for c in &self.columns {
            for v in c {
                h.update(v.to_bits().to_le_bytes());
            }
        }
        for l in &self.labels {
            h.update(l.to_le_bytes());
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}
