//! NAB's inputs: application profiles, anomaly windows, the corpus's data files.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use ai4ict_core::Timestamp;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::EvalError;

/// Share of each file's rows in the probationary period (NAB `probationaryPercent`).
pub const PROBATIONARY_PERCENT: f64 = 0.15;

/// Names of NAB's three application profiles, in NAB's order.
pub const PROFILE_NAMES: [&str; 3] = ["standard", "reward_low_FP_rate", "reward_low_FN_rate"];

/// An application profile: the weights of NAB's cost matrix (`config/profiles.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Profile name (`standard`, `reward_low_FP_rate`, `reward_low_FN_rate`).
    pub name: String,
    /// `A_TP`: the most a detected window can earn.
    pub tp_weight: f64,
    /// `A_FP`: the most a false positive can cost.
    pub fp_weight: f64,
    /// `A_FN`: what a missed window costs.
    pub fn_weight: f64,
}

impl Profile {
    fn new(name: &str, tp_weight: f64, fp_weight: f64, fn_weight: f64) -> Self {
        Self {
            name: name.into(),
            tp_weight,
            fp_weight,
            fn_weight,
        }
    }

    /// NAB's three profiles: standard (1, 0.11, 1), reward low FP rate (1, 0.22, 1) and reward
    /// low FN rate (1, 0.11, 2), as (A_TP, A_FP, A_FN).
    pub fn nab() -> Vec<Profile> {
        vec![
            Self::new(PROFILE_NAMES[0], 1.0, 0.11, 1.0),
            Self::new(PROFILE_NAMES[1], 1.0, 0.22, 1.0),
            Self::new(PROFILE_NAMES[2], 1.0, 0.11, 2.0),
        ]
    }
}

/// Reads profiles from NAB's `profiles.json` (`{"standard": {"CostMatrix": {"tpWeight": …}}}`),
/// in the file's order.
pub fn load_profiles(path: &Path) -> Result<Vec<Profile>, EvalError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct CostMatrix {
        tp_weight: f64,
        fp_weight: f64,
        fn_weight: f64,
    }
    #[derive(Deserialize)]
    struct Entry {
        #[serde(rename = "CostMatrix")]
        cost_matrix: CostMatrix,
    }
    let text = fs::read_to_string(path).map_err(|e| EvalError::io(path, e))?;
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).map_err(|e| EvalError::Json {
            path: path.into(),
            message: e.to_string(),
        })?;
    map.into_iter()
        .map(|(name, v)| {
            let e: Entry = serde_json::from_value(v).map_err(|e| EvalError::Json {
                path: path.into(),
                message: format!("profile `{name}`: {e}"),
            })?;
            let c = e.cost_matrix;
            Ok(Profile {
                name,
                tp_weight: c.tp_weight,
                fp_weight: c.fp_weight,
                fn_weight: c.fn_weight,
            })
        })
        .collect()
}

/// NAB's scaled sigmoid `2 / (1 + e^(5y)) - 1`, and -1 from `y = 3` on.
///
/// `σ(-1) = 0.98661`, `σ(0) = 0`, `σ(1) = -0.98661`.
pub fn scaled_sigmoid(y: f64) -> f64 {
    if y >= 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * y).exp()) - 1.0
    }
}

/// Rows at the start of a file of `rows` rows that are not scored:
/// `min(floor(0.15 * rows), 0.15 * 5000)`.
pub fn probationary_length(rows: usize) -> usize {
    (PROBATIONARY_PERCENT * rows as f64)
        .floor()
        .min(PROBATIONARY_PERCENT * 5000.0) as usize
}

/// An anomaly window as row indices into its file, both inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// First row of the window.
    pub start: usize,
    /// Last row of the window.
    pub end: usize,
}

impl Window {
    /// Rows in the window.
    pub fn len(&self) -> usize {
        self.end - self.start + 1
    }

    /// Always false: a window holds at least one row.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// One NAB data file with its anomaly windows.
#[derive(Clone, Debug, PartialEq)]
pub struct NabSeries {
    /// Path relative to the corpus's `data/` folder, as in the labels: `realKnownCause/nyc_taxi.csv`.
    pub name: String,
    /// Row times.
    pub timestamps: Vec<Timestamp>,
    /// Row values (the metric).
    pub values: Vec<f64>,
    /// Anomaly windows in time order, not overlapping.
    pub windows: Vec<Window>,
}

impl NabSeries {
    /// The category folder (`realKnownCause`).
    pub fn category(&self) -> &str {
        self.name.rsplit_once('/').map_or("", |(c, _)| c)
    }

    /// The file name (`nyc_taxi.csv`).
    pub fn file_name(&self) -> &str {
        self.name.rsplit_once('/').map_or(&self.name, |(_, f)| f)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.timestamps.len()
    }

    /// True for a file without rows.
    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }

    /// Rows at the start that are not scored.
    pub fn probationary_len(&self) -> usize {
        probationary_length(self.len())
    }

    /// One flag per row: inside an anomaly window.
    pub fn labels(&self) -> Vec<bool> {
        window_labels(self.len(), &self.windows)
    }
}

pub(super) fn window_labels(rows: usize, windows: &[Window]) -> Vec<bool> {
    let mut labels = vec![false; rows];
    for w in windows {
        labels[w.start..=w.end.min(rows.saturating_sub(1))]
            .iter_mut()
            .for_each(|l| *l = true);
    }
    labels
}

/// The labelled corpus: every file named in the windows file, loaded from the data folder.
#[derive(Clone, Debug, PartialEq)]
pub struct NabCorpus {
    /// The files, sorted by name.
    pub series: Vec<NabSeries>,
}

impl NabCorpus {
    /// Loads a NAB checkout (or copy) at `nab_dir`: `data/` and `labels/combined_windows.json`.
    pub fn load(nab_dir: &Path) -> Result<Self, EvalError> {
        Self::load_from(
            &nab_dir.join("data"),
            &nab_dir.join("labels").join("combined_windows.json"),
        )
    }

    /// Loads every file named in `windows_path` (NAB's `combined_windows.json` format) from
    /// `data_dir`, in parallel.
    pub fn load_from(data_dir: &Path, windows_path: &Path) -> Result<Self, EvalError> {
        let labels = load_windows(windows_path)?;
        let series = labels
            .par_iter()
            .map(|(name, limits)| {
                let path = data_dir.join(name);
                let cols = read_columns(&path, &["timestamp", "value"])?;
                let windows = resolve_windows(name, &cols.timestamps, limits)?;
                Ok(NabSeries {
                    name: name.clone(),
                    timestamps: cols.timestamps,
                    values: cols.values,
                    windows,
                })
            })
            .collect::<Result<Vec<_>, EvalError>>()?;
        Ok(Self { series })
    }

    /// Total number of anomaly windows.
    pub fn window_count(&self) -> usize {
        self.series.iter().map(|s| s.windows.len()).sum()
    }

    /// Total number of rows.
    pub fn row_count(&self) -> usize {
        self.series.iter().map(NabSeries::len).sum()
    }
}

/// Window limits as written in a labels file: start and end timestamp, both inclusive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowLimits {
    /// The start as written (`2014-10-30 15:30:00.000000`).
    pub start_text: String,
    /// The end as written.
    pub end_text: String,
    /// The start.
    pub start: Timestamp,
    /// The end.
    pub end: Timestamp,
}

/// Reads NAB's `combined_windows.json`: for each data file (relative path) its windows.
pub fn load_windows(path: &Path) -> Result<BTreeMap<String, Vec<WindowLimits>>, EvalError> {
    let text = fs::read_to_string(path).map_err(|e| EvalError::io(path, e))?;
    let raw: BTreeMap<String, Vec<(String, String)>> =
        serde_json::from_str(&text).map_err(|e| EvalError::Json {
            path: path.into(),
            message: e.to_string(),
        })?;
    raw.into_iter()
        .map(|(file, windows)| {
            let windows = windows
                .into_iter()
                .map(|(s, e)| {
                    let parse = |t: &str| {
                        Timestamp::parse(t).map_err(|err| EvalError::Json {
                            path: path.into(),
                            message: format!("`{file}`: window timestamp: {err}"),
                        })
                    };
                    Ok(WindowLimits {
                        start: parse(&s)?,
                        end: parse(&e)?,
                        start_text: s,
                        end_text: e,
                    })
                })
                .collect::<Result<Vec<_>, EvalError>>()?;
            Ok((file, windows))
        })
        .collect()
}

/// Turns window limits into row indices. Like NAB, a window starts at the row whose time equals
/// its start and ends at the row whose time equals its end; both must exist, and the windows
/// must be in order without overlap.
pub(super) fn resolve_windows(
    file: &str,
    timestamps: &[Timestamp],
    limits: &[WindowLimits],
) -> Result<Vec<Window>, EvalError> {
    let mut out: Vec<Window> = Vec::with_capacity(limits.len());
    for l in limits {
        let err = |message: &str| EvalError::Window {
            file: file.into(),
            start: l.start_text.clone(),
            end: l.end_text.clone(),
            message: message.into(),
        };
        let start = timestamps
            .iter()
            .position(|&t| t == l.start)
            .ok_or_else(|| err("no row has the start time"))?;
        let end = timestamps
            .iter()
            .position(|&t| t == l.end)
            .ok_or_else(|| err("no row has the end time"))?;
        if end < start {
            return Err(err("ends before it starts"));
        }
        if out.last().is_some_and(|prev| prev.end >= start) {
            return Err(err("overlaps or precedes the previous window"));
        }
        out.push(Window { start, end });
    }
    Ok(out)
}

/// Columns read from a NAB-style CSV file.
pub(super) struct Columns {
    pub(super) timestamps: Vec<Timestamp>,
    pub(super) values: Vec<f64>,
}

/// Reads the `time` column and one numeric column (`names[1]`) of a CSV file with a header,
/// naming file and line on any malformed row.
pub(super) fn read_columns(path: &Path, names: &[&str; 2]) -> Result<Columns, EvalError> {
    let parse_err = |line: u64, message: String| EvalError::Parse {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| match e.into_kind() {
            csv::ErrorKind::Io(io) => EvalError::io(path, io),
            other => parse_err(1, format!("{other:?}")),
        })?;
    let headers = reader
        .headers()
        .map_err(|e| parse_err(1, e.to_string()))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| {
                parse_err(
                    1,
                    format!(
                        "no `{name}` column (header: {})",
                        headers.iter().collect::<Vec<_>>().join(",")
                    ),
                )
            })
    };
    let (ti, vi) = (col(names[0])?, col(names[1])?);
    let mut cols = Columns {
        timestamps: Vec::new(),
        values: Vec::new(),
    };
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            parse_err(line, e.to_string())
        })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, csv::Position::line);
        let t = record.get(ti).unwrap_or("");
        let v = record.get(vi).unwrap_or("");
        let t = Timestamp::parse(t)
            .map_err(|e| parse_err(line, format!("column `{}`: {e}", names[0])))?;
        let v: f64 = v.trim().parse().map_err(|_| {
            parse_err(
                line,
                format!("column `{}`: `{v}` is not a number", names[1]),
            )
        })?;
        cols.timestamps.push(t);
        cols.values.push(v);
    }
    Ok(cols)
}
