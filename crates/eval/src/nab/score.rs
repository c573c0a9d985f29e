//! NAB's scoring: per-row weights, the threshold sweep per profile, a detector run over the corpus.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::EvalError;

use super::corpus::*;

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
pub(super) struct FileInput<'a> {
    pub(super) name: &'a str,
    pub(super) windows: &'a [Window],
    pub(super) scores: &'a [f64],
}

/// Rows after the probationary period of one file, with their profile-free weights.
pub(super) struct Prepared {
    /// Index into the file's rows of the first scored row.
    first_row: usize,
    /// For each scored row, the global window id, or `NO_WINDOW`.
    window: Vec<u32>,
    /// `σ(y) / σ(-1)` inside a window (times `A_TP`), `σ(y)` outside (times `A_FP`).
    weight: Vec<f64>,
    /// Global window ids of this file's counted windows.
    windows: std::ops::Range<u32>,
}

pub(super) const NO_WINDOW: u32 = u32::MAX;

/// Computes NAB's per-row weights for one file (`Sweeper.calcSweepScore`), numbering its
/// windows from `first_window`.
pub(super) fn prepare(file: &FileInput<'_>, first_window: u32) -> Prepared {
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
pub(super) fn score_file(
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
pub(super) fn sweep(pool: &Pool, order: &[u32], profile: &Profile) -> f64 {
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
pub(super) struct Pool {
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

pub(super) fn score_inputs(
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
