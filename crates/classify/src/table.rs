//! Labelled flow tables from CSV: our sandbox's layout, CICFlowMeter's, NSL-KDD's (no
//! header) and UNSW-NB15's, mapped by header names. Text columns (protocol, service, flag,
//! state…) are ordinal-encoded in order of first appearance; identifier columns (addresses,
//! times, flow ids) and labels derived from the class are left out.
//!
//! A bad row (wrong number of fields, bytes that are not UTF-8, a value that is not a
//! finite number, an empty label) is skipped and reported with its file, line and column;
//! every good row is kept.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::Dataset;

/// Which file layout to expect.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// From the header: NSL-KDD when the first line is data with 42 or 43 fields, else by
    /// its column names.
    #[default]
    Auto,
    /// `ai4ict sandbox flows` output (label column `label`).
    Sandbox,
    /// CICFlowMeter's columns (label column `Label`).
    CicFlowMeter,
    /// NSL-KDD `KDDTrain+.txt`: 41 features, the label, the difficulty; no header.
    NslKdd,
    /// UNSW-NB15 training/testing set (label column `attack_cat`).
    UnswNb15,
}

/// NSL-KDD's column names (the files have no header).
pub const NSL_KDD_COLUMNS: [&str; 43] = [
    "duration",
    "protocol_type",
    "service",
    "flag",
    "src_bytes",
    "dst_bytes",
    "land",
    "wrong_fragment",
    "urgent",
    "hot",
    "num_failed_logins",
    "logged_in",
    "num_compromised",
    "root_shell",
    "su_attempted",
    "num_root",
    "num_file_creations",
    "num_shells",
    "num_access_files",
    "num_outbound_cmds",
    "is_host_login",
    "is_guest_login",
    "count",
    "srv_count",
    "serror_rate",
    "srv_serror_rate",
    "rerror_rate",
    "srv_rerror_rate",
    "same_srv_rate",
    "diff_srv_rate",
    "srv_diff_host_rate",
    "dst_host_count",
    "dst_host_srv_count",
    "dst_host_same_srv_rate",
    "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate",
    "dst_host_srv_diff_host_rate",
    "dst_host_serror_rate",
    "dst_host_srv_serror_rate",
    "dst_host_rerror_rate",
    "dst_host_srv_rerror_rate",
    "label",
    "difficulty",
];

/// Columns never used as features (compared lower-case, spaces and `_` ignored):
/// identifiers, times, and labels that restate the class.
const IGNORED: [&str; 16] = [
    "start",
    "time",
    "timestamp",
    "cell",
    "site",
    "srcip",
    "dstip",
    "sourceip",
    "destinationip",
    "flowid",
    "id",
    "stime",
    "ltime",
    "attack",
    "difficulty",
    "entity",
];

/// Text columns of the known layouts (NSL-KDD, UNSW-NB15, CICFlowMeter exports).
const CATEGORICAL: [&str; 6] = [
    "protocoltype",
    "service",
    "flag",
    "proto",
    "state",
    "protocolname",
];

/// How to read a table.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// The class column; by default the layout's.
    pub label: Option<String>,
    /// The layout.
    pub layout: Layout,
    /// More columns to leave out.
    pub drop: Vec<String>,
}

/// A file that cannot be read as a table at all.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The file cannot be opened.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// No header line (an empty file).
    #[error("{}: empty file, no header", path.display())]
    NoHeader {
        /// The file.
        path: PathBuf,
    },
    /// The header has no such label column.
    #[error("{}: no label column `{label}` (columns: {columns})", path.display())]
    NoLabel {
        /// The file.
        path: PathBuf,
        /// The column looked for.
        label: String,
        /// The header's columns.
        columns: String,
    },
}

/// One rejected row.
#[derive(Clone, Debug, PartialEq)]
pub struct RowError {
    /// The file.
    pub path: PathBuf,
    /// Its line (1-based; the header is line 1 when there is one).
    pub line: u64,
    /// The column, when one is to blame.
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.path.display(), self.line)?;
        if let Some(c) = &self.column {
            write!(f, "column `{c}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// What reading a table did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadReport {
    /// Data rows seen.
    pub rows_seen: u64,
    /// Rows kept.
    pub rows_kept: u64,
    /// Every rejected row.
    pub errors: Vec<RowError>,
    /// Columns left out (identifiers, derived labels, `drop`).
    pub ignored: Vec<String>,
    /// Columns ordinal-encoded from text.
    pub categorical: Vec<String>,
}

fn norm(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| *c != ' ' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Reads a labelled table from `path`.
pub fn read_table(path: &Path, options: &ReadOptions) -> Result<(Dataset, ReadReport), TableError> {
    let file = std::fs::File::open(path).map_err(|source| TableError::Io {
        path: path.into(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let mut records = reader.byte_records();
    let first = loop {
        match records.next() {
            None => return Err(TableError::NoHeader { path: path.into() }),
            Some(Ok(r)) => break r,
            Some(Err(_)) => continue,
        }
    };
    let first_text: Vec<String> = first
        .iter()
        .map(|f| {
            String::from_utf8_lossy(f)
                .trim()
                .trim_start_matches('\u{feff}')
                .to_string()
        })
        .collect();
    let headerless = options.layout == Layout::NslKdd
        || (options.layout == Layout::Auto
            && matches!(first_text.len(), 42 | 43)
            && first_text[0].parse::<f64>().is_ok());
    let header: Vec<String> = if headerless {
        NSL_KDD_COLUMNS[..first_text.len().min(43)]
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        first_text.clone()
    };
    let normed: Vec<String> = header.iter().map(|h| norm(h)).collect();
    let label_name = options.label.clone().unwrap_or_else(|| {
        let wanted = match options.layout {
            Layout::UnswNb15 => "attackcat",
            _ if normed.iter().any(|n| n == "attackcat") => "attackcat",
            _ => "label",
        };
        normed
            .iter()
            .position(|n| n == wanted)
            .map_or("label".into(), |i| header[i].clone())
    });
    let label_col = header
        .iter()
        .position(|h| h == &label_name)
        .or_else(|| normed.iter().position(|n| *n == norm(&label_name)))
        .ok_or_else(|| TableError::NoLabel {
            path: path.into(),
            label: label_name.clone(),
            columns: header.join(", "),
        })?;
    let dropped: Vec<String> = options.drop.iter().map(|d| norm(d)).collect();
    let mut report = ReadReport::default();
    // Feature columns: everything but the label, identifiers and (when the class is
    // UNSW-NB15's attack_cat) its 0/1 `label`.
    let mut features: Vec<usize> = Vec::new();
    for (i, n) in normed.iter().enumerate() {
        let restates = n == "label" && norm(&header[label_col]) == "attackcat";
        if i == label_col {
            continue;
        }
        if IGNORED.contains(&n.as_str()) || dropped.contains(n) || restates {
            report.ignored.push(header[i].clone());
        } else {
            features.push(i);
        }
    }
    // Values as numbers, with the text of those that are not finite numbers kept aside:
    // once every row is read, a column mostly of text (or a known text column) is
    // categorical, and text in a numeric column rejects its row.
    let mut nums: Vec<Vec<f64>> = vec![Vec::new(); features.len()];
    let mut texts: Vec<HashMap<usize, String>> = vec![HashMap::new(); features.len()];
    let mut lines: Vec<u64> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    let data = headerless.then_some(Ok(first)).into_iter().chain(records);
    for rec in data {
        report.rows_seen += 1;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                report.errors.push(RowError {
                    path: path.into(),
                    line,
                    column: None,
                    message: e.to_string(),
                });
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        let err = |column: Option<&str>, message: String| RowError {
            path: path.into(),
            line,
            column: column.map(str::to_string),
            message,
        };
        if rec.len() != header.len() {
            report.errors.push(err(
                None,
                format!("{} fields, the header has {}", rec.len(), header.len()),
            ));
            continue;
        }
        let label = match std::str::from_utf8(&rec[label_col]) {
            Ok(l) if !l.trim().is_empty() => l.trim().to_string(),
            Ok(_) => {
                report
                    .errors
                    .push(err(Some(&header[label_col]), "empty label".into()));
                continue;
            }
            Err(_) => {
                report.errors.push(err(
                    Some(&header[label_col]),
                    "bytes that are not UTF-8".into(),
                ));
                continue;
            }
        };
        if let Some(&c) = features
            .iter()
            .find(|&&c| std::str::from_utf8(&rec[c]).is_err())
        {
            report
                .errors
                .push(err(Some(&header[c]), "bytes that are not UTF-8".into()));
            continue;
        }
        let row = labels.len();
        for (j, &c) in features.iter().enumerate() {
            let text = std::str::from_utf8(&rec[c]).unwrap_or_default().trim();
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => nums[j].push(v),
                _ => {
                    nums[j].push(f64::NAN);
                    texts[j].insert(row, text.to_string());
                }
            }
        }
        lines.push(line);
        labels.push(label);
    }
    let n = labels.len();
    let is_categorical: Vec<bool> = features
        .iter()
        .enumerate()
        .map(|(j, &c)| {
            // Only words vote for text: NaN, inf and overflowing numbers are bad numbers.
            let words = texts[j]
                .values()
                .filter(|t| t.parse::<f64>().is_err())
                .count();
            CATEGORICAL.contains(&normed[c].as_str()) || words * 2 > n
        })
        .collect();
    let mut bad_row = vec![false; n];
    let mut deferred = Vec::new();
    for row in 0..n {
        for (j, &c) in features.iter().enumerate() {
            if is_categorical[j] {
                continue;
            }
            if let Some(text) = texts[j].get(&row) {
                let shown: String = text.chars().take(40).collect();
                let message = match text.parse::<f64>() {
                    Ok(v) => format!("`{shown}` is not a finite number ({v})"),
                    Err(_) => format!("`{shown}` is not a number"),
                };
                deferred.push(RowError {
                    path: path.into(),
                    line: lines[row],
                    column: Some(header[c].clone()),
                    message,
                });
                bad_row[row] = true;
                break;
            }
        }
    }
    report.errors.extend(deferred);
    report.errors.sort_by_key(|e| e.line);
    let mut columns: Vec<Vec<f64>> = Vec::with_capacity(features.len());
    for (j, &c) in features.iter().enumerate() {
        let mut col = Vec::with_capacity(n);
        if is_categorical[j] {
            report.categorical.push(header[c].trim().to_string());
            let mut codes: HashMap<String, f64> = HashMap::new();
            for row in (0..n).filter(|&r| !bad_row[r]) {
                let text = texts[j]
                    .get(&row)
                    .cloned()
                    .unwrap_or_else(|| nums[j][row].to_string());
                let next = codes.len() as f64;
                col.push(*codes.entry(text).or_insert(next));
            }
        } else {
            col.extend((0..n).filter(|&r| !bad_row[r]).map(|r| nums[j][r]));
        }
        columns.push(col);
    }
    let labels: Vec<String> = (0..n)
        .filter(|&r| !bad_row[r])
        .map(|r| std::mem::take(&mut labels[r]))
        .collect();
    report.rows_kept = labels.len() as u64;
    let (classes, labels) = crate::encode_labels(&labels);
    Ok((
        Dataset {
            features: features
                .iter()
                .map(|&c| header[c].trim().to_string())
                .collect(),
            columns,
            labels,
            classes,
        },
        report,
    ))
}

/// Writes a table (features then a `label` column, class names) as CSV, for peers that
/// read the same rows.
pub fn write_table(path: &Path, data: &Dataset) -> std::io::Result<()> {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    let names: Vec<String> = data
        .features
        .iter()
        .enumerate()
        .map(|(i, _)| format!("f{i}"))
        .collect();
    writeln!(w, "{},label", names.join(","))?;
    let mut line = String::new();
    for r in 0..data.rows() {
        line.clear();
        for c in &data.columns {
            line.push_str(&c[r].to_string());
            line.push(',');
        }
        line.push_str(&data.labels[r].to_string());
        writeln!(w, "{line}")?;
    }
    w.flush()
}
