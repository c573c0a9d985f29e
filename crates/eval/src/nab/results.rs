//! Detector outputs in NAB's `results/` layout: scoring them, writing them.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::util::fmt_time;
use crate::EvalError;

use super::corpus::*;
use super::score::*;

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

pub(super) fn write_file(path: &Path, text: &str) -> Result<(), EvalError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| EvalError::io(dir, e))?;
    }
    fs::write(path, text).map_err(|e| EvalError::io(path, e))
}

pub(super) fn merge_json(
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
