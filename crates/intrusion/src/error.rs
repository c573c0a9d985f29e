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
    /// A file that could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file that is not a flow table.
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The sandbox could not make the flows.
    #[error("sandbox: {0}")]
    Sandbox(#[from] ai4ict_sandbox::SandboxError),
    /// The collector failed (its port could not be had, or the socket failed).
    #[error("collector: {0}")]
    Collector(#[from] ai4ict_netflow::CollectorError),
    /// The anomaly detector could not be built.
    #[error("detector: {0}")]
    Detector(#[from] ai4ict_anomaly::AnomalyError),
}
