use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::schema::{infer_from_reader, FileSchema};
use crate::ConnectorError;

/// A file format for rows of observations and for results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// Comma-separated values with a header line (`;` or tab separators are detected from the
    /// header). Quoted values follow RFC 4180 but must close on the line they open.
    Csv,
    /// JSON lines: one JSON object per line (also called NDJSON).
    #[serde(alias = "ndjson")]
    Jsonl,
}

impl FileFormat {
    /// The format a file name's extension implies: `.csv`/`.tsv` → CSV, `.jsonl`/`.ndjson`/`.json` →
    /// JSON lines, anything else → `None`.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "tsv" | "txt" => Some(Self::Csv),
            "jsonl" | "ndjson" | "json" => Some(Self::Jsonl),
            _ => None,
        }
    }

    /// The usual file extension (`csv` or `jsonl`).
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Jsonl => "jsonl",
        }
    }

    /// `format` if given, else the format of `path`'s extension.
    pub fn resolve(format: Option<Self>, path: &Path) -> Result<Self, ConnectorError> {
        format
            .or_else(|| Self::from_path(path))
            .ok_or_else(|| ConnectorError::UnknownFormat {
                path: path.display().to_string(),
            })
    }
}

/// What a source does with a row it cannot read (a wrong number of fields, a value that is not
/// a number, an impossible time, bytes that are not UTF-8, a line over 64 KiB, broken JSON).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Stop at the first bad row with an error naming file, line and column. Rows before it
    /// have already been delivered.
    Fail,
    /// Count the bad row, keep its error in the read report, and go on (the default).
    #[default]
    Skip,
    /// Like `skip`, and also copy the raw line, its line number and the reason to the
    /// quarantine file so it can be fixed and replayed.
    Quarantine,
}

/// What to do when an output file (an alert sink, a quarantine file) exists already.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WriteMode {
    /// Refuse an existing file with an error naming it (the default): nothing is overwritten
    /// silently.
    #[default]
    Create,
    /// Add to the end of an existing file (created when missing).
    Append,
    /// Replace an existing file.
    Overwrite,
}

impl WriteMode {
    /// `overwrite` when the user forced it (`--force`), else the refusing default `create`.
    pub fn forced(force: bool) -> Self {
        if force {
            Self::Overwrite
        } else {
            Self::Create
        }
    }

    /// True for [`WriteMode::Create`], the default (configs leave it out when serialised).
    pub fn is_create(&self) -> bool {
        *self == Self::Create
    }

    /// Fails with [`ConnectorError::Exists`] when this mode is `create` and `path` exists;
    /// `option` is the config key that sets the mode, for the message.
    pub fn check(self, path: &Path, option: &'static str) -> Result<(), ConnectorError> {
        if self == Self::Create && std::fs::symlink_metadata(path).is_ok() {
            return Err(ConnectorError::Exists {
                path: path.display().to_string(),
                option,
            });
        }
        Ok(())
    }

    /// Opens `path` for writing in this mode, creating missing parent folders. Returns the
    /// file and whether it already held data (so a CSV header is not written twice). Under
    /// `create` an existing file is refused atomically, even one made since [`Self::check`].
    pub fn open(
        self,
        path: &Path,
        option: &'static str,
    ) -> Result<(std::fs::File, bool), ConnectorError> {
        let io = |e| ConnectorError::io(path.display(), e);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut options = std::fs::OpenOptions::new();
        match self {
            Self::Create => options.write(true).create_new(true),
            Self::Append => options.append(true).create(true),
            Self::Overwrite => options.write(true).create(true).truncate(true),
        };
        let file = options.open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                ConnectorError::Exists {
                    path: path.display().to_string(),
                    option,
                }
            } else {
                io(e)
            }
        })?;
        let has_data = self == Self::Append && file.metadata().map_err(io)?.len() > 0;
        Ok((file, has_data))
    }
}

/// Reads observations from a CSV or JSON-lines file (Y.3172 SRC node).
///
/// Each row holds an entity (cell, host, link…), a time and numeric fields. Columns are found
/// by name when not given: the entity is the first of `entity`, `cell`, `cell_id`, `id`,
/// `host`, `name`, `device`… (else the first text column), the time is `time`, `timestamp`,
/// `ts`, `date`… (else a column whose values all read as times). Times may be RFC 3339 (with
/// `Z` or an offset), `YYYY-MM-DD HH:MM:SS` (UTC), or epoch seconds or milliseconds. An empty
/// value is a missing value. Rows are delivered in file order: times going backwards and
/// duplicate times are passed on as they are, for the pipeline to handle; but a file that runs
/// newest first (an export sorted by descending time) is read whole, up to 5 M rows, and
/// delivered oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileSourceConfig {
    /// The file to read.
    pub path: PathBuf,
    /// `csv` or `jsonl`; by default taken from the file extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<FileFormat>,
    /// The column holding the entity name; by default inferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// The column holding the time; by default inferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Pipeline field ← file column, for columns named differently from the pipeline's
    /// fields. A field not listed reads the column of the same name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// The time zone of times written without a UTC offset (`2024-03-01 08:00`): an IANA
    /// name such as `Europe/Berlin`, or `UTC` (the default). Times with an offset or `Z`, and
    /// epoch numbers, are exact whatever this says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// What to do with rows that cannot be read: `fail`, `skip` (default) or `quarantine`.
    #[serde(default)]
    pub on_error: OnError,
    /// Where `on_error: quarantine` writes bad rows; by default beside the input as
    /// `<name>.quarantine.<ext>` (`cells.csv` → `cells.quarantine.csv`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<PathBuf>,
    /// When the quarantine file exists already: `create` (default) refuses it, `append` adds
    /// to it, `overwrite` replaces it.
    #[serde(default, skip_serializing_if = "WriteMode::is_create")]
    pub quarantine_mode: WriteMode,
}

impl FileSourceConfig {
    /// A config reading `path` with everything else inferred or defaulted.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            format: None,
            entity: None,
            time: None,
            fields: BTreeMap::new(),
            timezone: None,
            on_error: OnError::default(),
            quarantine: None,
            quarantine_mode: WriteMode::Create,
        }
    }

    /// Like [`crate::infer_schema`], but honouring `format` when it is given.
    pub fn infer_schema(&self) -> Result<FileSchema, ConnectorError> {
        let format = FileFormat::resolve(self.format, &self.path)?;
        let file = std::fs::File::open(&self.path)
            .map_err(|e| ConnectorError::io(self.path.display(), e))?;
        infer_from_reader(
            std::io::BufReader::new(file),
            format,
            &self.path.display().to_string(),
        )
    }

    /// Under `on_error: quarantine`, fails when the quarantine file exists and
    /// `quarantine_mode` is `create` (checked before a run, so it fails before any work).
    pub fn check_quarantine(&self) -> Result<(), ConnectorError> {
        if self.on_error != OnError::Quarantine {
            return Ok(());
        }
        let format = FileFormat::resolve(self.format, &self.path)?;
        self.quarantine_mode
            .check(&self.quarantine_path(format), "quarantine_mode")
    }

    /// The time zone of times without an offset ([`FileSourceConfig::timezone`]): UTC
    /// unless one is named; an unknown name is an error that says what is accepted.
    pub fn zone(&self) -> Result<chrono_tz::Tz, ConnectorError> {
        match self.timezone.as_deref().map(str::trim) {
            None | Some("") => Ok(chrono_tz::Tz::UTC),
            Some(name) => name.parse().map_err(|_| ConnectorError::BadConfig {
                path: self.path.display().to_string(),
                message: format!(
                    "timezone: `{name}` is no time zone (an IANA name such as Europe/Berlin or America/New_York, or UTC)"
                ),
            }),
        }
    }

    /// The quarantine file this config writes to (given or default).
    pub fn quarantine_path(&self, format: FileFormat) -> PathBuf {
        self.quarantine.clone().unwrap_or_else(|| {
            self.path
                .with_extension(format!("quarantine.{}", format.extension()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_extensions_and_default_quarantine() {
        assert_eq!(
            FileFormat::from_path(Path::new("a/b.CSV")),
            Some(FileFormat::Csv)
        );
        assert_eq!(
            FileFormat::from_path(Path::new("b.ndjson")),
            Some(FileFormat::Jsonl)
        );
        assert_eq!(FileFormat::from_path(Path::new("b.parquet")), None);
        assert!(FileFormat::resolve(None, Path::new("x")).is_err());
        let cfg = FileSourceConfig::new("data/cells.csv");
        assert_eq!(
            cfg.quarantine_path(FileFormat::Csv),
            PathBuf::from("data/cells.quarantine.csv")
        );
    }

    #[test]
    fn config_reads_json_and_rejects_unknown_keys() {
        let cfg: FileSourceConfig = serde_json::from_str(
            r#"{"path":"x.csv","fields":{"prb":"prb_util"},"on_error":"quarantine"}"#,
        )
        .unwrap();
        assert_eq!(cfg.on_error, OnError::Quarantine);
        assert_eq!(cfg.fields["prb"], "prb_util");
        assert!(serde_json::from_str::<FileSourceConfig>(r#"{"path":"x.csv","pth":1}"#).is_err());
        let back: FileSourceConfig =
            serde_json::from_str(&serde_json::to_string(&cfg).unwrap()).unwrap();
        assert_eq!(back, cfg);
    }
}
