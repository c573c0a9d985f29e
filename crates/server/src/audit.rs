//! The audit log: one JSON line per write attempt, appended to a file.

use std::io::Write as _;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

/// One write attempt, as logged.
#[derive(Debug, Serialize)]
pub(crate) struct Entry<'a> {
    /// When it was answered (RFC 3339, UTC).
    pub at: String,
    /// Who: the token's id when a valid token came with it, else `anonymous`.
    pub who: &'a str,
    /// The client's address.
    pub peer: Option<String>,
    /// HTTP method.
    pub method: &'a str,
    /// Path and query.
    pub path: &'a str,
    /// The status answered.
    pub status: u16,
}

/// An append-only JSON-lines file (created owner read/write only).
#[derive(Debug)]
pub(crate) struct AuditLog {
    file: Mutex<std::fs::File>,
}

impl AuditLog {
    pub(crate) fn open(path: &Path) -> std::io::Result<AuditLog> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        Ok(AuditLog {
            file: Mutex::new(opts.open(path)?),
        })
    }

    /// Appends `entry` as one line; a failure is logged, not returned (the write itself
    /// already happened).
    pub(crate) fn record(&self, entry: &Entry<'_>) {
        let line = match serde_json::to_string(entry) {
            Ok(l) => l + "\n",
            Err(e) => {
                tracing::error!(error = %e, "audit entry not serialisable");
                return;
            }
        };
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = file.write_all(line.as_bytes()) {
            tracing::error!(error = %e, "audit log not written");
        }
    }
}
