//! The runs folder: the `report.json` files `ai4ict run` writes, found under one folder and
//! named by their folder's path relative to it. No path given by a client leaves the folder.

use std::path::{Component, Path, PathBuf};

use ai4ict_eval::report::Report;
use chrono::{DateTime, Utc};

use super::ConsoleError;

/// The file a run folder holds.
pub(crate) const REPORT: &str = "report.json";

/// How deep under the runs folder reports are looked for.
const MAX_DEPTH: usize = 4;

/// Most folders looked at while listing, so that a huge tree cannot stall a page.
const MAX_VISITS: usize = 20_000;

/// Largest report read (a report's plots hold the series it shows).
const MAX_REPORT_BYTES: u64 = 64 * 1024 * 1024;

/// A runs folder, canonical.
#[derive(Debug, Clone)]
pub(crate) struct RunsDir {
    root: PathBuf,
}

/// A report found in the folder, not read yet.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// Its folder relative to the runs folder, `/`-separated; `.` for the runs folder itself.
    pub(crate) id: String,
    /// When the report was written.
    pub(crate) modified: Option<DateTime<Utc>>,
}

impl RunsDir {
    /// The runs folder at `dir`, which must exist.
    pub(crate) fn open(dir: &Path) -> std::io::Result<RunsDir> {
        let root = dir.canonicalize()?;
        if !root.is_dir() {
            return Err(std::io::Error::other(format!(
                "runs folder {} is not a folder",
                dir.display()
            )));
        }
        Ok(RunsDir { root })
    }

    /// Every report under the folder (not following links), newest first.
    pub(crate) fn list(&self) -> Vec<Found> {
        let mut found = Vec::new();
        let mut stack = vec![(self.root.clone(), 0usize)];
        let mut visits = 0usize;
        while let Some((dir, depth)) = stack.pop() {
            visits += 1;
            if visits > MAX_VISITS {
                tracing::warn!(root = %self.root.display(), "runs folder too large; listing cut short");
                break;
            }
            let report = dir.join(REPORT);
            if let Ok(meta) = std::fs::symlink_metadata(&report) {
                if meta.is_file() {
                    found.push(Found {
                        id: self.id_of(&dir),
                        modified: meta.modified().ok().map(DateTime::<Utc>::from),
                    });
                }
            }
            if depth >= MAX_DEPTH {
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push((e.path(), depth + 1));
                }
            }
        }
        found.sort_by(|a, b| b.modified.cmp(&a.modified).then_with(|| a.id.cmp(&b.id)));
        found
    }

    fn id_of(&self, dir: &Path) -> String {
        let rel = dir.strip_prefix(&self.root).unwrap_or(dir);
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts.is_empty() {
            ".".into()
        } else {
            parts.join("/")
        }
    }

    /// The folder of run `id`: relative, without `..`, and still inside the runs folder once
    /// links are resolved.
    pub(crate) fn folder(&self, id: &str) -> Result<PathBuf, ConsoleError> {
        let refused = || ConsoleError::Outside(id.to_string());
        if id.is_empty() || id.contains('\\') || id.chars().any(char::is_control) {
            return Err(refused());
        }
        let rel = Path::new(id);
        if !rel
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(refused());
        }
        let path = self
            .root
            .join(rel)
            .canonicalize()
            .map_err(|_| ConsoleError::NotFound(format!("no run '{id}'")))?;
        if !path.starts_with(&self.root) {
            return Err(refused());
        }
        Ok(path)
    }

    /// A file of run `id` by its plain name (`report.html`), inside the run's folder.
    pub(crate) fn file(&self, id: &str, name: &str) -> Result<PathBuf, ConsoleError> {
        let folder = self.folder(id)?;
        let plain = Path::new(name)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
            && !name.contains(['/', '\\']);
        if name.is_empty() || !plain {
            return Err(ConsoleError::Outside(format!("{id}/{name}")));
        }
        let path = folder
            .join(name)
            .canonicalize()
            .map_err(|_| ConsoleError::NotFound(format!("no file '{name}' in run '{id}'")))?;
        if !path.starts_with(&folder) || !path.is_file() {
            return Err(ConsoleError::Outside(format!("{id}/{name}")));
        }
        Ok(path)
    }

    /// The report of run `id`, with when it was written.
    pub(crate) fn load(&self, id: &str) -> Result<(Report, Option<DateTime<Utc>>), ConsoleError> {
        let path = self.file(id, REPORT)?;
        let io = |source| ConsoleError::Io {
            path: path.display().to_string(),
            source,
        };
        let meta = std::fs::metadata(&path).map_err(io)?;
        if meta.len() > MAX_REPORT_BYTES {
            return Err(ConsoleError::BadInput(format!(
                "run '{id}': report of {} bytes, more than the {MAX_REPORT_BYTES} read",
                meta.len()
            )));
        }
        let text = std::fs::read_to_string(&path).map_err(io)?;
        let report = serde_json::from_str(&text).map_err(|source| ConsoleError::Report {
            path: path.display().to_string(),
            source,
        })?;
        Ok((report, meta.modified().ok().map(DateTime::<Utc>::from)))
    }
}

/// A time for people, in UTC.
pub(crate) fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_leave_the_folder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("runs/a")).unwrap();
        std::fs::write(dir.path().join("secret.json"), "{}").unwrap();
        let runs = RunsDir::open(&dir.path().join("runs")).unwrap();
        for id in ["..", "../runs/a", "a/../..", "/etc", "a\\..", ""] {
            assert!(
                matches!(runs.folder(id), Err(ConsoleError::Outside(_))),
                "{id} was not refused"
            );
        }
        assert!(runs.folder("a").is_ok());
        assert!(runs.file("a", "../../secret.json").is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path(), dir.path().join("runs/out")).unwrap();
            assert!(matches!(runs.folder("out"), Err(ConsoleError::Outside(_))));
        }
    }
}
