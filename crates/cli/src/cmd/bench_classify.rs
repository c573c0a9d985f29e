//! `ai4ict bench classify`: our gradient-boosted trees and random forest on a labelled flow
//! table, split once (stratified, declared up front), and LightGBM and scikit-learn's
//! HistGradientBoosting on the very same split in the same run when a Python with them is
//! given (`--python`, `$AI4ICT_PEER_PYTHON`; `scripts/setup-peers.sh` makes one).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use ai4ict_classify::table::{read_table, write_table, ReadOptions};
use ai4ict_classify::{
    stratified_split, Classifier, ClassifyError, Dataset, Forest, ForestConfig, Gbdt, GbdtConfig,
    Metrics, Model,
};
use anyhow::{bail, Context};
use serde::Deserialize;

/// Train and score flow classifiers beside LightGBM and scikit-learn.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Labelled CSV: `ai4ict sandbox flows` output, CICFlowMeter, NSL-KDD or UNSW-NB15.
    #[arg(long)]
    input: PathBuf,
    /// The class column [default: the layout's: `label`, `Label`, `attack_cat`].
    #[arg(long)]
    label: Option<String>,
    /// More columns to leave out of the features (repeatable).
    #[arg(long)]
    drop: Vec<String>,
    /// Share of each class held out for testing.
    #[arg(long, default_value_t = 0.3)]
    test_fraction: f64,
    /// Seed of the split and the models.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Boosting rounds at most (ours and the peers').
    #[arg(long, default_value_t = 200)]
    rounds: usize,
    /// Trees of the random forest.
    #[arg(long, default_value_t = 100)]
    trees: usize,
    /// Levels of a forest's tree at most (an intent's `max_depth`).
    #[arg(long, default_value_t = ForestConfig::default().max_depth)]
    forest_depth: usize,
    /// A Python with lightgbm and scikit-learn [default: $AI4ICT_PEER_PYTHON].
    #[arg(long)]
    python: Option<PathBuf>,
}

#[derive(Deserialize)]
struct Peer {
    version: String,
    train_s: f64,
    score_s: f64,
    rounds: usize,
    pred: Vec<u32>,
}

/// One line of the side-by-side table.
struct Line {
    name: String,
    metrics: Metrics,
    train_s: f64,
    flows_per_s: f64,
    note: String,
}

fn row_major(d: &Dataset) -> Vec<f64> {
    let mut x = Vec::with_capacity(d.rows() * d.columns.len());
    for r in 0..d.rows() {
        x.extend(d.columns.iter().map(|c| c[r]));
    }
    x
}

/// Flows per second scoring `x` (raw rows to classes) on this thread with `score`:
/// the best of 3 passes of at least 0.3 s each.
fn throughput(
    score: impl Fn(&[f64]) -> Result<Vec<u32>, ClassifyError>,
    x: &[f64],
    rows: usize,
) -> anyhow::Result<(Vec<u32>, f64)> {
    let pred = score(x)?;
    let mut best = 0.0f64;
    for _ in 0..3 {
        let began = Instant::now();
        let mut n = 0;
        while n == 0 || began.elapsed().as_secs_f64() < 0.3 {
            std::hint::black_box(score(x)?);
            n += rows;
        }
        best = best.max(n as f64 / began.elapsed().as_secs_f64());
    }
    Ok((pred, best))
}

fn peer_script() -> Option<PathBuf> {
    [
        PathBuf::from("scripts/classify_peers.py"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/classify_peers.py"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

fn run_peers(
    python: &Path,
    train: &Dataset,
    test: &Dataset,
    rounds: usize,
) -> anyhow::Result<Vec<(String, Peer)>> {
    let Some(script) = peer_script() else {
        bail!("scripts/classify_peers.py not found");
    };
    let dir = tempfile::tempdir().context("creating the split files for the peers")?;
    let (tp, sp) = (dir.path().join("train.csv"), dir.path().join("test.csv"));
    write_table(&tp, train).context("writing the training split")?;
    write_table(&sp, test).context("writing the test split")?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let out = Command::new(python)
        .arg(&script)
        .arg(&tp)
        .arg(&sp)
        .arg(rounds.to_string())
        .arg(threads.to_string())
        .env("OMP_NUM_THREADS", threads.to_string())
        .output()
        .with_context(|| format!("running {} {}", python.display(), script.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed ({}): {}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let mut peers: std::collections::BTreeMap<String, Peer> =
        serde_json::from_slice(&out.stdout).context("reading the peers' output")?;
    let mut v = Vec::new();
    for (key, name) in [("lightgbm", "LightGBM"), ("sklearn_hgb", "sklearn HistGB")] {
        if let Some(p) = peers.remove(key) {
            if p.pred.len() != test.rows() {
                bail!("{name} predicted {} rows of {}", p.pred.len(), test.rows());
            }
            v.push((name.to_string(), p));
        }
    }
    Ok(v)
}

/// Runs the benchmark.
pub fn run(a: Args) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "note: this is a debug build; measure with `cargo run --release -- bench classify`"
        );
    }
    if !(a.test_fraction > 0.0 && a.test_fraction < 1.0) {
        bail!("--test-fraction must be in (0, 1), not {}", a.test_fraction);
    }
    let options = ReadOptions {
        label: a.label.clone(),
        drop: a.drop.clone(),
        ..ReadOptions::default()
    };
    let (data, report) = read_table(&a.input, &options)?;
    outln!(
        "{}: {} rows kept of {}, {} features, {} classes",
        a.input.display(),
        report.rows_kept,
        report.rows_seen,
        data.features.len(),
        data.classes.len()
    );
    if !report.ignored.is_empty() {
        outln!("  not features: {}", report.ignored.join(", "));
    }
    if !report.categorical.is_empty() {
        outln!("  ordinal-encoded: {}", report.categorical.join(", "));
    }
    if !report.errors.is_empty() {
        outln!("  {} rows rejected, first:", report.errors.len());
        for e in report.errors.iter().take(5) {
            outln!("    {e}");
        }
    }
    data.validate().context("the table cannot be trained on")?;
    let (train_rows, test_rows) =
        stratified_split(&data.labels, data.classes.len(), a.test_fraction, a.seed);
    let (train, test) = (data.subset(&train_rows), data.subset(&test_rows));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    outln!(
        "split: stratified by class, {:.0}% test, seed {}: {} training rows, {} test rows; training on {threads} threads, scoring on 1",
        a.test_fraction * 100.0,
        a.seed,
        train.rows(),
        test.rows()
    );
    let x = row_major(&test);
    let mut lines: Vec<Line> = Vec::new();

    let t = Instant::now();
    let gbdt = Gbdt::fit(
        &train,
        &GbdtConfig {
            rounds: a.rounds,
            seed: a.seed,
            ..GbdtConfig::default()
        },
    )?;
    let train_s = t.elapsed().as_secs_f64();
    let note = format!("{} rounds", gbdt.rounds);
    // Scored by the booster compiled once (as a pipeline node holds it), batch by batch.
    let scorer = gbdt.scorer()?;
    let (pred, fps) = throughput(|x| scorer.predict_rows(x), &x, test.rows())?;
    let gbdt = Classifier::new("flows-gbdt", Model::Gbdt(gbdt), &train);
    lines.push(Line {
        name: "ours GBDT".into(),
        metrics: Metrics::new(&test.labels, &pred, data.classes.len()),
        train_s,
        flows_per_s: fps,
        note,
    });

    let t = Instant::now();
    let forest = Forest::fit(
        &train,
        &ForestConfig {
            trees: a.trees,
            seed: a.seed,
            max_depth: a.forest_depth,
            ..ForestConfig::default()
        },
    )?;
    let train_s = t.elapsed().as_secs_f64();
    let forest = Classifier::new("flows-forest", Model::Forest(forest), &train);
    let (pred, fps) = throughput(|x| forest.predict_rows(x), &x, test.rows())?;
    lines.push(Line {
        name: "ours forest".into(),
        metrics: Metrics::new(&test.labels, &pred, data.classes.len()),
        train_s,
        flows_per_s: fps,
        note: format!("{} trees, depth ≤ {}", a.trees, a.forest_depth),
    });

    let python = a
        .python
        .clone()
        .or_else(|| std::env::var_os("AI4ICT_PEER_PYTHON").map(PathBuf::from));
    match &python {
        Some(py) => match run_peers(py, &train, &test, a.rounds) {
            Err(e) => outln!("peers not measured: {e:#}"),
            Ok(peers) => {
            for (name, p) in peers {
                lines.push(Line {
                    name,
                    metrics: Metrics::new(&test.labels, &p.pred, data.classes.len()),
                    train_s: p.train_s,
                    flows_per_s: test.rows() as f64 / p.score_s.max(1e-9),
                    note: format!("{} rounds, v{}", p.rounds, p.version),
                });
            }
            }
        },
        None => outln!(
            "peers not measured: give --python or set AI4ICT_PEER_PYTHON (scripts/setup-peers.sh makes one)"
        ),
    }

    // Per class, ours GBDT.
    let m = &lines[0].metrics;
    outln!("\nours GBDT on the test rows, per class:");
    outln!(
        "{:<24} {:>9} {:>9} {:>9} {:>8}",
        "class",
        "precision",
        "recall",
        "F1",
        "support"
    );
    for (c, name) in data.classes.iter().enumerate() {
        outln!(
            "{:<24} {:>9.4} {:>9.4} {:>9.4} {:>8}",
            name,
            m.precision[c],
            m.recall[c],
            m.f1[c],
            m.support[c]
        );
    }
    outln!("macro F1 {:.4}, accuracy {:.4}", m.macro_f1, m.accuracy);
    outln!("\nconfusion matrix (rows: truth, columns: predicted, in class order):");
    for (c, row) in m.confusion.iter().enumerate() {
        let cells: Vec<String> = row.iter().map(|n| format!("{n:>6}")).collect();
        outln!("{:<24}{}", data.classes[c], cells.join(""));
    }
    let imp = gbdt.importance();
    let total: f64 = imp.iter().sum::<f64>().max(1e-300);
    let mut order: Vec<usize> = (0..imp.len()).collect();
    order.sort_by(|&i, &j| imp[j].total_cmp(&imp[i]));
    outln!("\ntop features by gain (ours GBDT):");
    for &f in order.iter().take(10) {
        outln!(
            "  {:<24} {:>6.1}%",
            data.features[f],
            100.0 * imp[f] / total
        );
    }

    let base = lines
        .iter()
        .find(|l| l.name == "LightGBM")
        .map(|l| (l.metrics.macro_f1, l.train_s, l.flows_per_s));
    outln!("\nsame split, same run:");
    outln!(
        "{:<16} {:>9} {:>9} {:>10} {:>14} {:>10} {:>10}  {}",
        "model",
        "macro F1",
        "accuracy",
        "train s",
        "score flows/s",
        "ΔF1 vs LGB",
        "train ×LGB",
        "notes"
    );
    for l in &lines {
        let (df1, tr) = match base {
            Some((f1, ts, _)) => (
                format!("{:+.2} pt", 100.0 * (l.metrics.macro_f1 - f1)),
                format!("{:.2}×", l.train_s / ts.max(1e-9)),
            ),
            None => ("-".into(), "-".into()),
        };
        outln!(
            "{:<16} {:>9.4} {:>9.4} {:>10.3} {:>14.0} {:>10} {:>10}  {}",
            l.name,
            l.metrics.macro_f1,
            l.metrics.accuracy,
            l.train_s,
            l.flows_per_s,
            df1,
            tr,
            l.note
        );
    }
    outln!("(ours score raw rows to classes on one thread, best of 3 passes over the test rows; the GBDT through its compiled scorer, built once before timing; the peers' scoring uses their default threads and includes Python's overhead)");
    Ok(())
}
