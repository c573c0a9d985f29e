#![doc = include_str!("../README.md")]

mod config;
mod export;
mod flows;
mod iot;
mod network;
mod rng;
mod source;
mod topology;

pub use config::{Scenario, ScenarioConfig};
pub use export::{write_csv, write_jsonl, write_labels};
pub use flows::{write_flows_csv, FlowClass, FlowConfig, FlowRecord, FLOW_COLUMNS};
pub use iot::{write_iot, write_iot_jsonl, IotConfig, SensorField, IOT_FIELDS};
pub use network::{kpi_unit, Demand, Network, PlannedEvent, KPIS};
pub use source::SandboxSource;
pub use topology::{Area, Cell, CellKind, Link, Neighbour, Profile, Site};

use std::path::PathBuf;

/// Everything that can go wrong in the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A scenario field is out of range; `field` names it.
    #[error("invalid scenario: {message}")]
    InvalidConfig {
        /// The offending field, as spelled in the config.
        field: &'static str,
        /// What is wrong and what would be right.
        message: String,
    },
    /// A file or folder could not be created or written.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A CSV file could not be written.
    #[error("cannot write CSV {}: {source}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: csv::Error,
    },
    /// A JSON file could not be written.
    #[error("cannot write JSON {}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
}
