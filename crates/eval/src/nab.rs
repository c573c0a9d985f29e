//! The Numenta Anomaly Benchmark (NAB v1.1) scorer, reimplemented to give NAB's own numbers.
//!
//! NAB (Ahmad, Lavin, Purdy & Agha, Neurocomputing 2017) scores a detector on 58 labelled time
//! series. Each row gets an anomaly score in [0, 1]; a row is a detection when its score is at
//! or above one threshold per application profile, chosen over the whole corpus. A detection
//! early in an anomaly window earns up to `A_TP`, a late one almost nothing, a window without
//! detection costs `A_FN`, and every detection outside windows costs up to `A_FP` (less right
//! after a window). The first 15 % of each file (at most 750 rows) is a probationary period that
//! is not scored. The corpus total is normalised so that the null detector scores 0 and the
//! perfect one 100. The rules reproduced here are those of `nab/sweeper.py` and
//! `nab/optimizer.py` at NAB commit ea702d7.
//!
//! Entry points:
//! - [`run_corpus`]: run a detector over every file (in parallel) and score it;
//! - [`score_results_dir`]: score stored detector outputs in NAB's `results/` layout;
//! - [`write_results`]: write a run in NAB's `results/` layout;
//! - [`published_scoreboard`]: the published NAB scoreboard, to print ours beside it.
//!
//! ```no_run
//! use std::path::Path;
//! use ai4ict_eval::nab;
//!
//! // A "detector" that flags rows far from the file's running mean.
//! let run = nab::run_corpus(Path::new("shared/data/nab"), "spike", |series| {
//!     let (mut mean, mut n) = (0.0, 0.0);
//!     series.values.iter().map(|&v| {
//!         n += 1.0;
//!         mean += (v - mean) / n;
//!         if (v - mean).abs() > 3.0 * mean.abs().max(1.0) { 1.0 } else { 0.0 }
//!     }).collect()
//! })?;
//! println!("{}", run.score);
//! nab::write_results(Path::new("results"), &run)?;
//! # Ok::<(), ai4ict_eval::EvalError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use ai4ict_core::Timestamp;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::util::fmt_time;
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

fn window_labels(rows: usize, windows: &[Window]) -> Vec<bool> {
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
fn resolve_windows(
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
struct Columns {
    timestamps: Vec<Timestamp>,
    values: Vec<f64>,
}

/// Reads the `time` column and one numeric column (`names[1]`) of a CSV file with a header,
/// naming file and line on any malformed row.
fn read_columns(path: &Path, names: &[&str; 2]) -> Result<Columns, EvalError> {
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

/// One file's result under one profile, at the profile's corpus threshold. The counts are rows
/// after the probationary period (as in NAB's `*_scores.csv`), not windows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileScore {
    /// The file (`realKnownCause/nyc_taxi.csv`).
    pub file: String,
    /// Raw NAB score of the file.
    pub score: f64,
    /// Detections inside windows.
    pub tp: usize,
    /// Rows outside windows without detection.
    pub tn: usize,
    /// Detections outside windows.
    pub fp: usize,
    /// Rows inside windows without detection.
    #[serde(rename = "fn")]
    pub fn_: usize,
    /// Scored rows (`tp + tn + fp + fn`).
    pub total: usize,
    /// Windows in the file that have at least one detection.
    pub windows_detected: usize,
    /// Windows in the file (those with rows after the probationary period).
    pub windows: usize,
}

/// A detector's result under one profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileScore {
    /// The profile.
    pub profile: Profile,
    /// The threshold that maximises the corpus's raw score (above every score when detecting
    /// nothing is best).
    pub threshold: f64,
    /// Raw corpus score `S_total`, the sum of the files' scores.
    pub raw_score: f64,
    /// What the null detector (never fires) scores: `-A_FN * windows`.
    pub null_score: f64,
    /// What the perfect detector scores: `A_TP * windows`.
    pub perfect_score: f64,
    /// `100 * (S_total - S_null) / (S_perfect - S_null)`: null 0, perfect 100.
    pub normalized: f64,
    /// The threshold NAB's optimiser picks (the same as `threshold` unless fixed thresholds
    /// were given).
    pub optimal_threshold: f64,
    /// The raw corpus score at `optimal_threshold`.
    pub optimal_raw_score: f64,
    /// Per-file details, sorted by file.
    pub files: Vec<FileScore>,
}

/// A detector's NAB result under each profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NabScore {
    /// Detector name.
    pub detector: String,
    /// Files scored.
    pub files: usize,
    /// Rows scored, probationary periods included.
    pub rows: usize,
    /// Anomaly windows counted.
    pub windows: usize,
    /// One result per profile, in the order asked.
    pub profiles: Vec<ProfileScore>,
}

impl NabScore {
    /// The result for the profile of that name.
    pub fn profile(&self, name: &str) -> Option<&ProfileScore> {
        self.profiles.iter().find(|p| p.profile.name == name)
    }
}

impl fmt::Display for NabScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "NAB score of `{}` ({} files, {} rows, {} windows)",
            self.detector, self.files, self.rows, self.windows
        )?;
        writeln!(
            f,
            "  {:<20} {:>10} {:>11} {:>10} {:>14} {:>11}",
            "profile", "threshold", "raw score", "NAB score", "best threshold", "best raw"
        )?;
        for p in &self.profiles {
            writeln!(
                f,
                "  {:<20} {:>10.6} {:>11.4} {:>10.2} {:>14.6} {:>11.4}",
                p.profile.name,
                p.threshold,
                p.raw_score,
                p.normalized,
                p.optimal_threshold,
                p.optimal_raw_score
            )?;
        }
        Ok(())
    }
}

/// What scoring needs of one file: its windows and the detector's scores.
struct FileInput<'a> {
    name: &'a str,
    windows: &'a [Window],
    scores: &'a [f64],
}

/// Rows after the probationary period of one file, with their profile-free weights.
struct Prepared {
    /// Index into the file's rows of the first scored row.
    first_row: usize,
    /// For each scored row, the global window id, or `NO_WINDOW`.
    window: Vec<u32>,
    /// `σ(y) / σ(-1)` inside a window (times `A_TP`), `σ(y)` outside (times `A_FP`).
    weight: Vec<f64>,
    /// Global window ids of this file's counted windows.
    windows: std::ops::Range<u32>,
}

const NO_WINDOW: u32 = u32::MAX;

/// Computes NAB's per-row weights for one file (`Sweeper.calcSweepScore`), numbering its
/// windows from `first_window`.
fn prepare(file: &FileInput<'_>, first_window: u32) -> Prepared {
    let n = file.scores.len();
    let probation = probationary_length(n);
    let max_tp = scaled_sigmoid(-1.0);
    let mut window = Vec::with_capacity(n.saturating_sub(probation));
    let mut weight = Vec::with_capacity(n.saturating_sub(probation));
    let mut next = 0; // next window to enter
    let mut prev: Option<Window> = None; // last window left
    let mut id = first_window;
    for i in 0..n {
        let cur = file.windows.get(next).filter(|w| w.start <= i);
        let (w_id, w) = match cur {
            Some(win) => {
                let y = -((win.end as f64) - i as f64 + 1.0) / win.len() as f64;
                (id, scaled_sigmoid(y) / max_tp)
            }
            None => {
                let y = prev.map_or(3.0, |p| {
                    (i as f64 - p.end as f64).abs() / (p.len() as f64 - 1.0)
                });
                (NO_WINDOW, scaled_sigmoid(y))
            }
        };
        if i >= probation {
            window.push(w_id);
            weight.push(w);
        }
        if let Some(win) = cur {
            if i == win.end {
                prev = Some(*win);
                next += 1;
                // Only windows with scored rows exist for NAB (its `scoreParts`).
                if win.end >= probation {
                    id += 1;
                }
            }
        }
    }
    Prepared {
        first_row: probation.min(n),
        window,
        weight,
        windows: first_window..id,
    }
}

/// Scores one prepared file at `threshold` under `profile`.
fn score_file(
    file: &FileInput<'_>,
    prep: &Prepared,
    profile: &Profile,
    threshold: f64,
) -> FileScore {
    let n_windows = prep.windows.len();
    let mut best: Vec<Option<f64>> = vec![None; n_windows];
    let (mut tp, mut tn, mut fp, mut fn_) = (0, 0, 0, 0);
    let mut fp_score = 0.0;
    for (k, (&w, &weight)) in prep.window.iter().zip(&prep.weight).enumerate() {
        let detected = file.scores[prep.first_row + k] >= threshold;
        match (w != NO_WINDOW, detected) {
            (true, true) => {
                tp += 1;
                let slot = &mut best[(w - prep.windows.start) as usize];
                let v = weight * profile.tp_weight;
                *slot = Some(slot.map_or(v, |b: f64| b.max(v)));
            }
            (true, false) => fn_ += 1,
            (false, true) => {
                fp += 1;
                fp_score += weight * profile.fp_weight;
            }
            (false, false) => tn += 1,
        }
    }
    let window_score: f64 = best.iter().map(|b| b.unwrap_or(-profile.fn_weight)).sum();
    FileScore {
        file: file.name.to_string(),
        score: window_score + fp_score,
        tp,
        tn,
        fp,
        fn_,
        total: tp + tn + fp + fn_,
        windows_detected: best.iter().filter(|b| b.is_some()).count(),
        windows: n_windows,
    }
}

/// The corpus sweep (`Sweeper.calcScoreByThreshold` over all files pooled): every distinct
/// score, from the highest down, is tried as the threshold; returns the best threshold.
/// `order` lists the pooled rows by descending score. Ties keep the higher threshold.
fn sweep(pool: &Pool, order: &[u32], profile: &Profile) -> f64 {
    let mut best_window = vec![-profile.fn_weight; pool.windows];
    let mut total = -profile.fn_weight * pool.windows as f64;
    // NAB starts from 1.1: above every score in [0, 1], so nothing is detected.
    let none_threshold = match order.first().map(|&i| pool.score[i as usize]) {
        Some(max) if max >= 1.1 => f64::from_bits(max.to_bits() + 1),
        _ => 1.1,
    };
    let (mut best_threshold, mut best_total) = (none_threshold, total);
    let mut k = 0;
    while k < order.len() {
        let threshold = pool.score[order[k] as usize];
        while k < order.len() && pool.score[order[k] as usize] == threshold {
            let i = order[k] as usize;
            let w = pool.window[i];
            if w == NO_WINDOW {
                total += pool.weight[i] * profile.fp_weight;
            } else {
                let slot = &mut best_window[w as usize];
                let v = pool.weight[i] * profile.tp_weight;
                if v > *slot {
                    total += v - *slot;
                    *slot = v;
                }
            }
            k += 1;
        }
        if total > best_total {
            best_total = total;
            best_threshold = threshold;
        }
    }
    best_threshold
}

/// All scored rows of the corpus side by side.
struct Pool {
    score: Vec<f64>,
    window: Vec<u32>,
    weight: Vec<f64>,
    windows: usize,
}

/// How the threshold of each profile is chosen.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Thresholds {
    /// NAB's optimiser: every distinct score in the corpus is tried and the one with the highest
    /// raw corpus score is used (ties keep the higher threshold).
    #[default]
    Optimise,
    /// Given thresholds by profile name, e.g. NAB's stored `results/thresholds.json` (see
    /// [`load_thresholds`]). NAB's published `final_results.json` was computed with those stored
    /// thresholds, which for some detectors and profiles are not the best ones.
    Fixed(BTreeMap<String, f64>),
}

/// Reads one detector's thresholds from NAB's `thresholds.json`
/// (`{det: {profile: {"score": …, "threshold": …}}}`).
pub fn load_thresholds(path: &Path, detector: &str) -> Result<Thresholds, EvalError> {
    let text = fs::read_to_string(path).map_err(|e| EvalError::io(path, e))?;
    let all: BTreeMap<String, BTreeMap<String, serde_json::Value>> = serde_json::from_str(&text)
        .map_err(|e| EvalError::Json {
            path: path.into(),
            message: e.to_string(),
        })?;
    let json_err = |message: String| EvalError::Json {
        path: path.into(),
        message,
    };
    let det = all
        .get(detector)
        .ok_or_else(|| json_err(format!("no detector `{detector}`")))?;
    det.iter()
        .map(|(profile, v)| {
            let t = v["threshold"].as_f64().ok_or_else(|| {
                json_err(format!("`{detector}`.`{profile}`: no numeric `threshold`"))
            })?;
            Ok((profile.clone(), t))
        })
        .collect::<Result<_, _>>()
        .map(Thresholds::Fixed)
}

fn score_inputs(
    detector: &str,
    files: &[FileInput<'_>],
    profiles: &[Profile],
    thresholds: &Thresholds,
) -> Result<NabScore, EvalError> {
    if files.is_empty() {
        return Err(EvalError::Invalid("NAB: no files to score".into()));
    }
    if let Thresholds::Fixed(map) = thresholds {
        if let Some(p) = profiles.iter().find(|p| !map.contains_key(&p.name)) {
            return Err(EvalError::Invalid(format!(
                "NAB: no threshold given for profile `{}`",
                p.name
            )));
        }
    }
    for f in files {
        if let Some(row) = f.scores.iter().position(|s| !s.is_finite()) {
            let message = format!("anomaly score {} is not a finite number", f.scores[row]);
            return Err(EvalError::BadScore {
                file: f.name.into(),
                row,
                message,
            });
        }
    }
    // Window ids are global so that the pooled sweep can track every window; number them in
    // file order, then prepare the files in parallel.
    let mut firsts = Vec::with_capacity(files.len());
    let mut next = 0u32;
    for f in files {
        firsts.push(next);
        let probation = probationary_length(f.scores.len());
        next += f.windows.iter().filter(|w| w.end >= probation).count() as u32;
    }
    let prepared: Vec<Prepared> = files
        .par_iter()
        .zip(&firsts)
        .map(|(f, &first)| prepare(f, first))
        .collect();

    let mut pool = Pool {
        score: Vec::new(),
        window: Vec::new(),
        weight: Vec::new(),
        windows: next as usize,
    };
    for (f, p) in files.iter().zip(&prepared) {
        pool.score.extend_from_slice(&f.scores[p.first_row..]);
        pool.window.extend_from_slice(&p.window);
        pool.weight.extend_from_slice(&p.weight);
    }
    let mut order: Vec<u32> = (0..pool.score.len() as u32).collect();
    order.par_sort_unstable_by(|&a, &b| pool.score[b as usize].total_cmp(&pool.score[a as usize]));

    let n_windows = pool.windows as f64;
    let profiles = profiles
        .par_iter()
        .map(|profile| {
            let optimal_threshold = sweep(&pool, &order, profile);
            let score_all = |threshold: f64| -> Vec<FileScore> {
                files
                    .iter()
                    .zip(&prepared)
                    .map(|(f, p)| score_file(f, p, profile, threshold))
                    .collect()
            };
            let total = |scores: &[FileScore]| scores.iter().map(|f| f.score).sum::<f64>();
            let (threshold, file_scores, optimal_raw_score) = match thresholds {
                Thresholds::Optimise => {
                    let files = score_all(optimal_threshold);
                    let raw = total(&files);
                    (optimal_threshold, files, raw)
                }
                Thresholds::Fixed(map) => {
                    let threshold = map[&profile.name];
                    (
                        threshold,
                        score_all(threshold),
                        total(&score_all(optimal_threshold)),
                    )
                }
            };
            let raw_score = total(&file_scores);
            let null_score = -profile.fn_weight * n_windows;
            let perfect_score = profile.tp_weight * n_windows;
            let span = perfect_score - null_score;
            let normalized = if span > 0.0 {
                100.0 * (raw_score - null_score) / span
            } else {
                0.0
            };
            ProfileScore {
                profile: profile.clone(),
                threshold,
                raw_score,
                null_score,
                perfect_score,
                normalized,
                optimal_threshold,
                optimal_raw_score,
                files: file_scores,
            }
        })
        .collect();
    Ok(NabScore {
        detector: detector.into(),
        files: files.len(),
        rows: files.iter().map(|f| f.scores.len()).sum(),
        windows: pool.windows,
        profiles,
    })
}

/// Scores a detector's per-row anomaly scores (`scores[i]` for `corpus.series[i]`, one per row)
/// under each profile: corpus threshold sweep (or the given thresholds), per-file scores and
/// normalisation.
pub fn score_corpus(
    corpus: &NabCorpus,
    detector: &str,
    scores: &[Vec<f64>],
    profiles: &[Profile],
    thresholds: &Thresholds,
) -> Result<NabScore, EvalError> {
    if scores.len() != corpus.series.len() {
        return Err(EvalError::LengthMismatch {
            what: "NAB score vectors vs corpus files".into(),
            left: scores.len(),
            right: corpus.series.len(),
        });
    }
    let inputs = corpus
        .series
        .iter()
        .zip(scores)
        .map(|(s, sc)| {
            if sc.len() == s.len() {
                Ok(FileInput {
                    name: &s.name,
                    windows: &s.windows,
                    scores: sc,
                })
            } else {
                Err(EvalError::LengthMismatch {
                    what: format!("{}: scores vs rows", s.name),
                    left: sc.len(),
                    right: s.len(),
                })
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    score_inputs(detector, &inputs, profiles, thresholds)
}

/// A detector run over the corpus: the data, the detector's scores and the NAB result.
#[derive(Clone, Debug)]
pub struct NabRun {
    /// The corpus as loaded.
    pub corpus: NabCorpus,
    /// The detector's anomaly scores, one vector per file (aligned with `corpus.series`).
    pub scores: Vec<Vec<f64>>,
    /// The result under NAB's three profiles.
    pub score: NabScore,
}

/// Runs a detector over every file of the NAB corpus at `nab_dir` (with `data/` and
/// `labels/combined_windows.json`) and scores it under NAB's three profiles.
///
/// `make_scores` gets one whole file and returns one anomaly score in [0, 1] per row; it is
/// called for several files at once on rayon's thread pool, so it must be `Sync` (build a fresh
/// detector inside it per file). A detector sees the probationary rows too: it may learn there.
/// A score vector of the wrong length, or a NaN or infinite score, is an error naming the file.
pub fn run_corpus<F>(nab_dir: &Path, detector: &str, make_scores: F) -> Result<NabRun, EvalError>
where
    F: Fn(&NabSeries) -> Vec<f64> + Sync,
{
    let corpus = NabCorpus::load(nab_dir)?;
    let scores: Vec<Vec<f64>> = corpus.series.par_iter().map(&make_scores).collect();
    let score = score_corpus(
        &corpus,
        detector,
        &scores,
        &Profile::nab(),
        &Thresholds::Optimise,
    )?;
    Ok(NabRun {
        corpus,
        scores,
        score,
    })
}

/// Scores stored detector outputs laid out as NAB's `results/` folder:
/// `<results_dir>/<detector>/<category>/<detector>_<file>.csv`, each with at least the columns
/// `timestamp` and `anomaly_score`, one row per data row. Every file named in `labels` (a
/// `combined_windows.json`) must be there; the windows are located by the result files' own
/// timestamps, so the data files are not needed. Scored under NAB's three profiles with
/// optimised thresholds; see [`score_results_dir_with`] to give the thresholds.
pub fn score_results_dir(
    results_dir: &Path,
    labels: &Path,
    detector: &str,
) -> Result<NabScore, EvalError> {
    score_results_dir_with(results_dir, labels, detector, &Thresholds::Optimise)
}

/// [`score_results_dir`] with the thresholds chosen as `thresholds` says; to reproduce NAB's
/// `final_results.json` pass `load_thresholds(results_dir/thresholds.json, detector)`.
pub fn score_results_dir_with(
    results_dir: &Path,
    labels: &Path,
    detector: &str,
    thresholds: &Thresholds,
) -> Result<NabScore, EvalError> {
    let windows = load_windows(labels)?;
    let loaded = windows
        .par_iter()
        .map(|(name, limits)| {
            let path = result_path(results_dir, detector, name);
            let cols = read_columns(&path, &["timestamp", "anomaly_score"])?;
            let resolved = resolve_windows(name, &cols.timestamps, limits)?;
            Ok((name.as_str(), resolved, cols.values))
        })
        .collect::<Result<Vec<_>, EvalError>>()?;
    let inputs: Vec<FileInput<'_>> = loaded
        .iter()
        .map(|(name, w, s)| FileInput {
            name,
            windows: w,
            scores: s,
        })
        .collect();
    score_inputs(detector, &inputs, &Profile::nab(), thresholds)
}

/// Where NAB keeps a detector's output for a data file: `<dir>/<det>/<category>/<det>_<file>`.
pub fn result_path(results_dir: &Path, detector: &str, file: &str) -> PathBuf {
    let (category, name) = file.rsplit_once('/').unwrap_or(("", file));
    results_dir
        .join(detector)
        .join(category)
        .join(format!("{detector}_{name}"))
}

/// Writes a run in NAB's `results/` layout under `out_dir`:
/// - `<det>/<category>/<det>_<file>.csv` with `timestamp,value,anomaly_score,label`;
/// - `<det>/<det>_<profile>_scores.csv` with NAB's per-file columns and a `Totals` row;
/// - `final_results.json` (`{det: {profile: normalised score}}`) and `thresholds.json`
///   (`{det: {profile: {score, threshold}}}`), merged into the files already there so several
///   detectors can share one folder.
pub fn write_results(out_dir: &Path, run: &NabRun) -> Result<(), EvalError> {
    let det = &run.score.detector;
    run.corpus
        .series
        .par_iter()
        .zip(&run.scores)
        .try_for_each(|(s, scores)| {
            let path = result_path(out_dir, det, &s.name);
            let mut text = String::with_capacity(s.len() * 48);
            text.push_str("timestamp,value,anomaly_score,label\n");
            for (((t, v), sc), l) in s
                .timestamps
                .iter()
                .zip(&s.values)
                .zip(scores)
                .zip(s.labels())
            {
                text.push_str(&format!(
                    "{},{v},{sc},{}\n",
                    fmt_time(*t, "%Y-%m-%d %H:%M:%S"),
                    u8::from(l)
                ));
            }
            write_file(&path, &text)
        })?;
    for p in &run.score.profiles {
        let mut text =
            String::from("Detector,Profile,File,Threshold,Score,TP,TN,FP,FN,Total_Count\n");
        let (mut tp, mut tn, mut fp, mut fn_, mut total) = (0, 0, 0, 0, 0);
        for f in &p.files {
            let name = &p.profile.name;
            text.push_str(&format!(
                "{det},{name},{},{},{},{},{},{},{},{}\n",
                f.file, p.threshold, f.score, f.tp, f.tn, f.fp, f.fn_, f.total
            ));
            (tp, tn, fp, fn_, total) = (
                tp + f.tp,
                tn + f.tn,
                fp + f.fp,
                fn_ + f.fn_,
                total + f.total,
            );
        }
        text.push_str(&format!(
            ",,Totals,,{},{tp},{tn},{fp},{fn_},{total}\n",
            p.raw_score
        ));
        write_file(
            &out_dir
                .join(det)
                .join(format!("{det}_{}_scores.csv", p.profile.name)),
            &text,
        )?;
    }
    merge_json(
        &out_dir.join("final_results.json"),
        det,
        |p| serde_json::json!(p.normalized),
        &run.score,
    )?;
    merge_json(
        &out_dir.join("thresholds.json"),
        det,
        |p| serde_json::json!({ "score": p.raw_score, "threshold": p.threshold }),
        &run.score,
    )
}

fn write_file(path: &Path, text: &str) -> Result<(), EvalError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| EvalError::io(dir, e))?;
    }
    fs::write(path, text).map_err(|e| EvalError::io(path, e))
}

fn merge_json(
    path: &Path,
    detector: &str,
    value: impl Fn(&ProfileScore) -> serde_json::Value,
    score: &NabScore,
) -> Result<(), EvalError> {
    let mut all: BTreeMap<String, serde_json::Value> = match fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| EvalError::Json {
            path: path.into(),
            message: e.to_string(),
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(EvalError::io(path, e)),
    };
    let ours: serde_json::Map<String, serde_json::Value> = score
        .profiles
        .iter()
        .map(|p| (p.profile.name.clone(), value(p)))
        .collect();
    all.insert(detector.to_string(), serde_json::Value::Object(ours));
    let text = serde_json::to_string_pretty(&all).map_err(|e| EvalError::Json {
        path: path.into(),
        message: e.to_string(),
    })?;
    write_file(path, &text)
}

/// A published score: one value, or the range NAB gives over seeds (`low..=high`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Published {
    /// The lower end (the value itself when there is no range).
    pub low: f64,
    /// The upper end.
    pub high: f64,
}

impl fmt::Display for Published {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.low == self.high {
            write!(f, "{:.1}", self.low)
        } else {
            write!(f, "{:.1}-{:.1}", self.low, self.high)
        }
    }
}

/// One row of NAB's published scoreboard.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PublishedScore {
    /// Detector as NAB names it.
    pub detector: &'static str,
    /// Standard profile.
    pub standard: Published,
    /// Reward-low-FP profile.
    pub reward_low_fp: Published,
    /// Reward-low-FN profile.
    pub reward_low_fn: Published,
}

/// NAB's published scoreboard (README "Scoreboard", NAB v1.0/v1.1), best first.
pub fn published_scoreboard() -> Vec<PublishedScore> {
    /// Detector, then (low, high) for standard, low FP and low FN.
    type Row = (&'static str, [f64; 2], [f64; 2], [f64; 2]);
    const ROWS: [Row; 15] = [
        ("Perfect", [100.0; 2], [100.0; 2], [100.0; 2]),
        ("ARTime", [74.9; 2], [65.1; 2], [80.4; 2]),
        (
            "Numenta HTM (NuPIC 1.0, seed range)",
            [69.7, 70.5],
            [61.7, 62.6],
            [74.2, 75.2],
        ),
        ("CAD OSE (contextOSE)", [69.9; 2], [67.0; 2], [73.2; 2]),
        ("earthgecko Skyline", [58.2; 2], [46.2; 2], [63.9; 2]),
        ("KNN CAD", [58.0; 2], [43.4; 2], [64.8; 2]),
        ("Relative Entropy", [54.6; 2], [47.6; 2], [58.8; 2]),
        ("Random Cut Forest (AWS)", [51.7; 2], [38.4; 2], [59.7; 2]),
        ("Twitter ADVec v1.0.0", [47.1; 2], [33.6; 2], [53.5; 2]),
        ("Windowed Gaussian", [39.6; 2], [20.9; 2], [47.4; 2]),
        ("Etsy Skyline", [35.7; 2], [27.1; 2], [44.5; 2]),
        ("Bayesian Changepoint", [17.7; 2], [3.2; 2], [32.2; 2]),
        ("EXPoSE", [16.4; 2], [3.2; 2], [26.9; 2]),
        ("Random (mean over seeds)", [11.0; 2], [1.2; 2], [19.5; 2]),
        ("Null", [0.0; 2], [0.0; 2], [0.0; 2]),
    ];
    let p = |[low, high]: [f64; 2]| Published { low, high };
    ROWS.iter()
        .map(|&(detector, s, fp, fn_)| PublishedScore {
            detector,
            standard: p(s),
            reward_low_fp: p(fp),
            reward_low_fn: p(fn_),
        })
        .collect()
}

/// The published scoreboard with `ours` merged in, sorted by standard score (best first), as a
/// text table; our rows are marked `*`.
pub fn scoreboard_table(ours: &[NabScore]) -> String {
    let mut rows: Vec<(String, f64, String, String, String)> = published_scoreboard()
        .into_iter()
        .map(|p| {
            let key = (p.standard.low + p.standard.high) / 2.0;
            (
                p.detector.to_string(),
                key,
                p.standard.to_string(),
                p.reward_low_fp.to_string(),
                p.reward_low_fn.to_string(),
            )
        })
        .collect();
    for s in ours {
        let get = |i: usize| {
            s.profile(PROFILE_NAMES[i])
                .map_or(f64::NAN, |p| p.normalized)
        };
        rows.push((
            format!("* {}", s.detector),
            get(0),
            format!("{:.1}", get(0)),
            format!("{:.1}", get(1)),
            format!("{:.1}", get(2)),
        ));
    }
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut out = format!(
        "{:<40} {:>11} {:>13} {:>13}\n",
        "detector", "standard", "low FP", "low FN"
    );
    for (name, _, s, fp, fn_) in rows {
        out.push_str(&format!("{name:<40} {s:>11} {fp:>13} {fn_:>13}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_values() {
        assert!((scaled_sigmoid(-1.0) - 0.98661).abs() < 1e-5);
        assert!((scaled_sigmoid(-0.5) - 0.84828).abs() < 1e-5);
        assert_eq!(scaled_sigmoid(0.0), 0.0);
        assert!((scaled_sigmoid(1.0) + 0.98661).abs() < 1e-5);
        assert_eq!(scaled_sigmoid(3.0), -1.0);
        assert_eq!(probationary_length(1000), 150);
        assert_eq!(probationary_length(4032), 604);
        assert_eq!(probationary_length(22695), 750);
    }

    /// A tiny corpus: 20 rows each (probation 3 rows), written to disk in NAB's layout.
    fn tiny_corpus(dir: &Path) -> NabCorpus {
        let data = dir.join("data").join("cat");
        fs::create_dir_all(&data).unwrap();
        let t = |i: usize| format!("2020-01-01 {:02}:{:02}:00", i / 60, i % 60);
        for name in ["a.csv", "b.csv"] {
            let mut text = String::from("timestamp,value\n");
            for i in 0..20 {
                text.push_str(&format!("{},{}\n", t(i), i % 3));
            }
            fs::write(data.join(name), text).unwrap();
        }
        fs::create_dir_all(dir.join("labels")).unwrap();
        let windows = serde_json::json!({
            "cat/a.csv": [[format!("{}.000000", t(5)), format!("{}.000000", t(9))]],
            "cat/b.csv": [[t(4), t(6)], [t(12), t(15)]],
        });
        fs::write(
            dir.join("labels/combined_windows.json"),
            windows.to_string(),
        )
        .unwrap();
        NabCorpus::load(dir).unwrap()
    }

    /// Brute force: for each candidate threshold score every file directly and pick the best.
    fn brute_force(corpus: &NabCorpus, scores: &[Vec<f64>], profile: &Profile) -> (f64, f64) {
        let mut cands: Vec<f64> = scores.iter().flatten().copied().collect();
        cands.sort_by(|a, b| b.total_cmp(a));
        cands.dedup();
        cands.insert(0, 2.0);
        let mut best = (f64::NAN, f64::NEG_INFINITY);
        for th in cands {
            let total: f64 = corpus
                .series
                .iter()
                .zip(scores)
                .map(|(s, sc)| {
                    let input = FileInput {
                        name: &s.name,
                        windows: &s.windows,
                        scores: sc,
                    };
                    score_file(&input, &prepare(&input, 0), profile, th).score
                })
                .sum();
            if total > best.1 + 1e-12 {
                best = (th, total);
            }
        }
        best
    }

    #[test]
    fn tiny_corpus_by_hand_and_by_brute_force() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = tiny_corpus(dir.path());
        assert_eq!(corpus.window_count(), 3);
        assert_eq!(corpus.series[0].windows, vec![Window { start: 5, end: 9 }]);
        assert_eq!(corpus.series[1].probationary_len(), 3);

        // File a: detection at row 5 (left edge of a 5-row window) and a false positive at row 1
        // (in probation: ignored) and row 15 (6 rows after the window, y = 6/4 = 1.5).
        // File b: detection at row 14 (third row of the second window: y = -(15-14+1)/4).
        let mut sa = vec![0.0; 20];
        sa[1] = 0.9;
        sa[5] = 0.9;
        sa[15] = 0.9;
        let mut sb = vec![0.0; 20];
        sb[14] = 0.9;
        let scores = vec![sa, sb];
        let std = &Profile::nab()[0];
        let s = score_corpus(
            &corpus,
            "hand",
            &scores,
            &Profile::nab(),
            &Thresholds::Optimise,
        )
        .unwrap();
        let p = s.profile("standard").unwrap();
        assert_eq!(p.threshold, 0.9);
        let max_tp = scaled_sigmoid(-1.0);
        let expect_a = 1.0 + 0.11 * scaled_sigmoid(1.5);
        let expect_b = -1.0 + scaled_sigmoid(-0.5) / max_tp;
        assert!(
            (p.files[0].score - expect_a).abs() < 1e-12,
            "{:?}",
            p.files[0]
        );
        assert!(
            (p.files[1].score - expect_b).abs() < 1e-12,
            "{:?}",
            p.files[1]
        );
        assert_eq!(
            (p.files[0].tp, p.files[0].fp, p.files[0].fn_, p.files[0].tn),
            (1, 1, 4, 11)
        );
        assert!((p.raw_score - (expect_a + expect_b)).abs() < 1e-12);
        assert!((p.normalized - 100.0 * (p.raw_score + 3.0) / 6.0).abs() < 1e-9);
        let (th, total) = brute_force(&corpus, &scores, std);
        assert_eq!(th, p.threshold);
        assert!((total - p.raw_score).abs() < 1e-12);
    }

    #[test]
    fn sweep_matches_brute_force_on_pseudo_random_scores() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = tiny_corpus(dir.path());
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for round in 0..30 {
            let scores: Vec<Vec<f64>> = corpus
                .series
                .iter()
                .map(|s| {
                    (0..s.len())
                        .map(|_| {
                            state ^= state << 13;
                            state ^= state >> 7;
                            state ^= state << 17;
                            // Few distinct values, so ties are common.
                            (state % 8) as f64 / 8.0
                        })
                        .collect()
                })
                .collect();
            let s = score_corpus(
                &corpus,
                "rnd",
                &scores,
                &Profile::nab(),
                &Thresholds::Optimise,
            )
            .unwrap();
            for p in &s.profiles {
                let (_, total) = brute_force(&corpus, &scores, &p.profile);
                assert!(
                    (total - p.raw_score).abs() < 1e-9,
                    "round {round} {}: {total} vs {}",
                    p.profile.name,
                    p.raw_score
                );
            }
        }
    }

    #[test]
    fn null_detector_and_round_trip_through_results() {
        let dir = tempfile::tempdir().unwrap();
        let nab_dir = dir.path().join("nab");
        tiny_corpus(&nab_dir);
        let null = run_corpus(&nab_dir, "null", |s| vec![0.5; s.len()]).unwrap();
        for p in &null.score.profiles {
            // Detecting nothing is always a choice, so no score falls below the null score.
            assert_eq!(p.null_score, -p.profile.fn_weight * 3.0);
            assert!(p.raw_score >= p.null_score && p.normalized >= 0.0);
        }
        let run = run_corpus(&nab_dir, "ramp", |s| {
            (0..s.len()).map(|i| (i % 7) as f64 / 7.0).collect()
        })
        .unwrap();
        let out = dir.path().join("results");
        write_results(&out, &null).unwrap();
        write_results(&out, &run).unwrap();
        let back =
            score_results_dir(&out, &nab_dir.join("labels/combined_windows.json"), "ramp").unwrap();
        assert_eq!(back.profiles, run.score.profiles);
        let final_results: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(out.join("final_results.json")).unwrap())
                .unwrap();
        assert!(final_results["null"]["standard"].is_number());
        assert!(final_results["ramp"]["reward_low_FN_rate"].is_number());
        let scores_csv = fs::read_to_string(out.join("ramp/ramp_standard_scores.csv")).unwrap();
        assert!(scores_csv.lines().last().unwrap().starts_with(",,Totals,,"));
        let table = scoreboard_table(std::slice::from_ref(&run.score));
        assert!(table.contains("* ramp") && table.contains("70.5"));
    }

    #[test]
    fn bad_input_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        tiny_corpus(dir.path());
        let path = dir.path().join("data/cat/b.csv");
        let mut text = fs::read_to_string(&path).unwrap();
        text = text.replacen("2020-01-01 00:02:00,2", "2020-01-01 00:02:00,two", 1);
        fs::write(&path, text).unwrap();
        let err = NabCorpus::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("b.csv:4:") && err.contains("`two` is not a number"),
            "{err}"
        );

        fs::write(&path, "timestamp,value\n2020-01-01 00:00:00,1\n").unwrap();
        let err = NabCorpus::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("cat/b.csv") && err.contains("no row has the start time"),
            "{err}"
        );

        let corpus_err = run_corpus(dir.path(), "x", |_| vec![]).unwrap_err();
        assert!(matches!(corpus_err, EvalError::Window { .. }));
    }

    #[test]
    fn wrong_length_and_nan_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        tiny_corpus(dir.path());
        let err = run_corpus(dir.path(), "short", |_| vec![0.0; 3]).unwrap_err();
        assert!(err.to_string().contains("scores vs rows"), "{err}");
        let err = run_corpus(dir.path(), "nan", |s| vec![f64::NAN; s.len()]).unwrap_err();
        assert!(
            err.to_string().contains("NaN is not a finite number"),
            "{err}"
        );
    }
}
