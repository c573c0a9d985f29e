use std::path::PathBuf;

/// Everything that can go wrong while evaluating: unreadable or malformed input files,
/// and inputs that do not fit together.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A malformed line in a CSV file.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number (the header is line 1).
        line: u64,
        /// What is wrong with it.
        message: String,
    },
    /// A JSON file that is not valid JSON or not of the expected shape.
    #[error("{path}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Two inputs that must line up do not (predictions vs labels, scores vs rows).
    #[error("{what}: {left} vs {right} entries")]
    LengthMismatch {
        /// What was compared.
        what: String,
        /// Length of the first input.
        left: usize,
        /// Length of the second input.
        right: usize,
    },
    /// A NAB anomaly window that does not fit its data file.
    #[error("{file}: window [{start}, {end}]: {message}")]
    Window {
        /// The data file, relative to the corpus (`realKnownCause/nyc_taxi.csv`).
        file: String,
        /// The window's first timestamp as written in the labels.
        start: String,
        /// The window's last timestamp as written in the labels.
        end: String,
        /// What is wrong.
        message: String,
    },
    /// A value a detector produced that cannot be scored (NaN).
    #[error("{file}: row {row}: {message}")]
    BadScore {
        /// The data file, relative to the corpus.
        file: String,
        /// 0-based data row.
        row: usize,
        /// What is wrong.
        message: String,
    },
    /// The input is usable in form but not in substance (an empty corpus, a missing profile).
    #[error("{0}")]
    Invalid(String),
}

impl EvalError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
