//! Errors of the crate.

/// Why intrusion detection refused its input or configuration.
#[derive(Debug, thiserror::Error)]
pub enum IntrusionError {
    /// An address that is not IPv4 or IPv6.
    #[error("{field}: {value:?} is not an IP address")]
    Address {
        /// The record's field.
        field: &'static str,
        /// What it held.
        value: String,
    },
    /// A configuration value out of range.
    #[error("{field}: {problem}")]
    Config {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The anomaly detector could not be built.
    #[error("detector: {0}")]
    Detector(#[from] ai4ict_anomaly::AnomalyError),
}
