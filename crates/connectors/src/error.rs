use std::fmt;

use serde::Serialize;

/// One rejected input row: where it is and what is wrong with it.
///
/// Displays as `path:LINE: column `prb_util`: "abc" is not a number`, or without the column
/// part when the whole line is at fault (`path:4: expected a JSON object, found an array`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The file (or stream name) the row came from.
    pub file: String,
    /// 1-based line number in the file (a CSV header is line 1).
    pub line: u64,
    /// The column (CSV) or key (JSON) at fault, when one is.
    pub column: Option<String>,
    /// What is wrong, in words.
    pub message: String,
}

impl RowError {
    /// The error without the `file:line: ` prefix (what the quarantine file records).
    pub fn reason(&self) -> String {
        match &self.column {
            Some(c) => format!("column `{c}`: {}", self.message),
            None => self.message.clone(),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason())
    }
}

impl std::error::Error for RowError {}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// Reading or writing a file (or stdout) failed.
    #[error("{path}: {source}")]
    Io {
        /// The file, or `stdout`.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The format was not given and the file extension does not tell it.
    #[error(
        "cannot tell the format of {path} from its extension; set `format: csv` or `format: jsonl`"
    )]
    UnknownFormat {
        /// The file.
        path: String,
    },
    /// No column looks like the entity (cell, host, …) and the config does not name one.
    #[error("{path}: no entity column found among the columns [{}]; name it with `entity: <column>`", columns.join(", "))]
    NoEntityColumn {
        /// The file.
        path: String,
        /// The columns the file has.
        columns: Vec<String>,
    },
    /// No column looks like the time and the config does not name one.
    #[error("{path}: no time column found among the columns [{}]; name it with `time: <column>`", columns.join(", "))]
    NoTimeColumn {
        /// The file.
        path: String,
        /// The columns the file has.
        columns: Vec<String>,
    },
    /// The pipeline asks for a column the file does not have.
    #[error("{path}: {wanted} needs column `{column}`, which the file does not have; its columns are [{}]", available.join(", "))]
    MissingColumn {
        /// The file.
        path: String,
        /// What needed it, e.g. "field `prb_util`" or "the entity".
        wanted: String,
        /// The missing column.
        column: String,
        /// The columns the file has.
        available: Vec<String>,
    },
    /// The config contradicts itself (e.g. the quarantine file is the input file).
    #[error("{path}: {message}")]
    BadConfig {
        /// The file the config is about.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// An output file exists and its config does not say to append to it or replace it.
    #[error("{path} exists already and is not overwritten: set `{option}: append` or `{option}: overwrite` for it in the intent, or run with --force to replace it")]
    Exists {
        /// The file.
        path: String,
        /// The config key that sets the write mode (`mode`, `quarantine_mode`).
        option: &'static str,
    },
    /// A live source (MQTT, NATS) could not connect, subscribe or bind its consumer.
    #[error("{source_name}: {message}")]
    Live {
        /// The source, e.g. `mqtt://127.0.0.1:1883 telemetry/#`.
        source_name: String,
        /// What went wrong.
        message: String,
    },
    /// An alert sink (Alertmanager, webhook, MQTT, NATS) could not deliver.
    #[error("{sink}: {message}")]
    Delivery {
        /// The sink, e.g. `alertmanager http://127.0.0.1:9093`.
        sink: String,
        /// What went wrong (after the retries, if any).
        message: String,
    },
    /// A bad row under `on_error: fail`, or a header that cannot be read.
    #[error("{0}")]
    Row(RowError),
}

impl ConnectorError {
    pub(crate) fn io(path: impl fmt::Display, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_string(),
            source,
        }
    }
}
