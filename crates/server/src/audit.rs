//! The audit log: one JSON line per write attempt, appended to a file.

use std::io::Write as _;
use std::path::{Path, PathBuf};
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

/// An append-only JSON-lines file (created owner read/write only), rotated by size: when a
/// line would take it past `max_bytes`, `FILE` becomes `FILE.1` (and `FILE.1` `FILE.2`, …, up
/// to `keep` old files; the oldest is dropped) and a new `FILE` is started, so the log's disk
/// use is bounded by about `(keep + 1) × max_bytes`.
#[derive(Debug)]
pub(crate) struct AuditLog {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    file: Mutex<Current>,
}

/// The file being written and its length.
#[derive(Debug)]
struct Current {
    file: std::fs::File,
    bytes: u64,
}

fn open_append(path: &Path) -> std::io::Result<Current> {
    let mut opts = std::fs::OpenOptions::new();
    opts.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let file = opts.open(path)?;
    let bytes = file.metadata()?.len();
    Ok(Current { file, bytes })
}

/// `FILE.n`.
fn numbered(path: &Path, n: usize) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

impl AuditLog {
    /// Opens (or creates) `path`, appending; rotates past `max_bytes` keeping `keep` old
    /// files (`keep` 0: the log is cut short and restarted instead).
    pub(crate) fn open(path: &Path, max_bytes: u64, keep: usize) -> std::io::Result<AuditLog> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        Ok(AuditLog {
            path: path.to_path_buf(),
            max_bytes: max_bytes.max(1),
            keep,
            file: Mutex::new(open_append(path)?),
        })
    }

    /// Shifts `FILE.n` to `FILE.n+1` (dropping the last), `FILE` to `FILE.1`, and opens a new
    /// `FILE`.
    fn rotate(&self) -> std::io::Result<Current> {
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            for n in (1..self.keep).rev() {
                let from = numbered(&self.path, n);
                if from.exists() {
                    std::fs::rename(&from, numbered(&self.path, n + 1))?;
                }
            }
            std::fs::rename(&self.path, numbered(&self.path, 1))?;
        }
        open_append(&self.path)
    }

    /// Appends `entry` as one line, rotating first when the line would pass the size limit;
    /// a failure is logged, not returned (the write itself already happened).
    pub(crate) fn record(&self, entry: &Entry<'_>) {
        let line = match serde_json::to_string(entry) {
            Ok(l) => l + "\n",
            Err(e) => {
                tracing::error!(error = %e, "audit entry not serialisable");
                return;
            }
        };
        let mut current = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        let len = line.len() as u64;
        if current.bytes > 0 && current.bytes + len > self.max_bytes {
            match self.rotate() {
                Ok(next) => *current = next,
                // Keep appending to the old file: an entry is worth more than the limit.
                Err(e) => {
                    tracing::error!(error = %e, path = %self.path.display(), "audit log not rotated")
                }
            }
        }
        match current.file.write_all(line.as_bytes()) {
            Ok(()) => current.bytes += len,
            Err(e) => tracing::error!(error = %e, "audit log not written"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: u16) -> Entry<'static> {
        Entry {
            at: "2026-12-03T00:00:00Z".into(),
            who: "anonymous",
            peer: None,
            method: "POST",
            path: "/models",
            status,
        }
    }

    #[test]
    fn the_log_rotates_by_size_and_keeps_so_many_old_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, "old line\n").unwrap();
        let one = serde_json::to_string(&entry(200)).unwrap().len() as u64 + 1;
        // Room for two lines per file, two old files kept.
        let log = AuditLog::open(&path, 2 * one + 9, 2).unwrap();
        for status in 200..207 {
            log.record(&entry(status));
        }
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        let statuses = |p: &Path| -> Vec<u16> {
            read(p)
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .map(|v| v["status"].as_u64().unwrap() as u16)
                .collect()
        };
        // The existing file took the old line and two entries, then rotated every two.
        assert_eq!(statuses(&path), [206]);
        assert_eq!(statuses(&numbered(&path, 1)), [204, 205]);
        assert_eq!(statuses(&numbered(&path, 2)), [202, 203]);
        assert!(!numbered(&path, 3).exists(), "only two old files are kept");
        for p in [path.clone(), numbered(&path, 1), numbered(&path, 2)] {
            assert!(
                std::fs::metadata(&p).unwrap().len() <= 2 * one + 9,
                "{}",
                p.display()
            );
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
