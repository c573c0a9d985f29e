//! The server's error type.

/// What can go wrong serving a hub or talking to another one.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The hub refused or failed an operation.
    #[error(transparent)]
    Hub(#[from] ai4ict_hub::HubError),
    /// Binding, accepting or a local file failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// The other hub could not be reached or answered something unreadable.
    #[error("http {url}: {message}")]
    Http {
        /// The URL requested.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The other hub answered with an error status.
    #[error("{url} answered {status}: {message}")]
    Status {
        /// The URL requested.
        url: String,
        /// HTTP status code.
        status: u16,
        /// The error message it gave.
        message: String,
    },
    /// A write token could not be read, made or accepted.
    #[error("token: {0}")]
    Token(String),
    /// The other hub answered for something else than what was asked.
    #[error("{url} answered {field} '{got}' for '{asked}'")]
    Mismatch {
        /// The URL requested.
        url: String,
        /// The field that differs (`name`, `version`).
        field: &'static str,
        /// What was asked for.
        asked: String,
        /// What came back.
        got: String,
    },
    /// A push is larger than the other hub takes; it was not sent.
    #[error("{url} takes at most {limit} bytes; this push is {size} (serve that hub with a larger {flag})")]
    TooLarge {
        /// The URL of the request.
        url: String,
        /// Its size.
        size: u64,
        /// The other hub's limit.
        limit: u64,
        /// The option of `hub serve` that sets it.
        flag: &'static str,
    },
    /// A pulled or pushed artifact did not match its sha256.
    #[error("integrity check failed for {what}: expected sha256 {expected}, got {actual}")]
    Integrity {
        /// What was checked.
        what: String,
        /// The announced digest.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
}

/// Result alias for the server crate.
pub type Result<T, E = ServerError> = std::result::Result<T, E>;
