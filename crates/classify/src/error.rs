//! What can go wrong when training, scoring or loading a classifier.

/// Every error of the classify crate: bad inputs are reported, never panicked on.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClassifyError {
    /// The training set has no rows, no features or fewer than two classes.
    #[error("empty data: {0}")]
    Empty(String),
    /// Columns, labels or class names disagree in length or range.
    #[error("inconsistent data: {0}")]
    Shape(String),
    /// A hyperparameter is out of range; `field` names it.
    #[error("invalid parameter {field}: {message}")]
    Param {
        /// The parameter, as spelled in the config struct.
        field: &'static str,
        /// What is wrong and what would be right.
        message: String,
    },
    /// A row to score has another number of features than the model was trained on.
    #[error("a row has {got} features, the model expects {expected}")]
    Width {
        /// Features the model was trained on.
        expected: usize,
        /// Features in the row.
        got: usize,
    },
    /// A snapshot's bytes are not a classifier of this format.
    #[error("not an ai4ict classifier snapshot: {0}")]
    Snapshot(String),
}
