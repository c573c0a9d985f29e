//! The hub's error type.

/// Everything that can go wrong in the hub. Input errors name the offending field or value.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The SQLite backend failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The PostgreSQL backend failed.
    #[cfg(feature = "postgres")]
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
    /// A location names PostgreSQL but the `postgres` feature was not built in.
    #[error("PostgreSQL storage needs ai4ict-hub built with the `postgres` feature: {0}")]
    PostgresNotBuilt(String),
    /// The database is not a hub (another program's SQLite database, or not SQLite at all);
    /// it is left as it is.
    #[error("{location} is not an ai4ict hub: {reason}; it was left untouched (point --db, --hub or AI4ICT_HUB at a hub, or at a new file to create one)")]
    NotAHub {
        /// The database.
        location: String,
        /// What it is instead.
        reason: String,
    },
    /// A read-only command found a hub whose schema is older than this program's.
    #[error("the hub at {location} needs schema migration {migration}, which a read-only command does not apply; run a command that writes to the hub once to upgrade it")]
    NeedsUpgrade {
        /// The database.
        location: String,
        /// The first migration missing.
        migration: String,
    },
    /// A stored value had an unexpected shape (a corrupt or foreign database).
    #[error("stored data: {0}")]
    Corrupt(String),
    /// Input that was rejected; the message says which field and why.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The field or argument at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The named item does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The item exists already and cannot be replaced (model versions are immutable).
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// A sha256 digest did not match the bytes it describes.
    #[error("integrity check failed for {what}: expected sha256 {expected}, got {actual}")]
    Integrity {
        /// What was checked.
        what: String,
        /// The digest that was announced.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// A seed or import file could not be read.
    #[error("{file} line {line}: {message}")]
    Data {
        /// The file name.
        file: String,
        /// The 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// JSON (de)serialisation failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A file could not be read or written.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl HubError {
    /// Shorthand for [`HubError::Invalid`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        HubError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Result alias for the hub.
pub type Result<T, E = HubError> = std::result::Result<T, E>;
