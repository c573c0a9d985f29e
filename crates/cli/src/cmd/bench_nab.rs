//! `ai4ict bench nab`: our detectors on the Numenta Anomaly Benchmark (58 labelled series),
//! scored with NAB's own rules and printed beside NAB's published scoreboard.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use ai4ict_core::Interval;
use ai4ict_eval::nab::{self, NabScore, NabSeries};
use anyhow::{bail, Context};

use super::detectors;

/// NAB data is mostly sampled every five minutes; this is used for a file with fewer than two
/// distinct times.
const FALLBACK_INTERVAL: Interval = Interval::from_minutes(5);

/// Run detectors over the NAB corpus and score them with NAB's rules.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// NAB checkout (with `data/` and `labels/combined_windows.json`); by default
    /// `../shared/data/nab` or `shared/data/nab` if there.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Detector to run, or `all`.
    #[arg(long, default_value = "all")]
    detector: String,
    /// Folder for results in NAB's `results/` layout (one sub-folder per detector, plus
    /// `final_results.json` and `thresholds.json`).
    #[arg(long, default_value = "out/nab")]
    out: PathBuf,
    /// Samples a detection keeps its score (the detectors' `hold`). NAB charges every flagged
    /// row and rewards only the first in a window, so a detector that reports an anomaly once
    /// (1) is what it measures; intents default to 2, the least a "two consecutive intervals"
    /// alert policy needs.
    #[arg(long, default_value_t = 1)]
    hold: u16,
}

/// Finds the NAB folder: the one given, or a default location.
fn data_dir(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(d) = given {
        return Ok(d);
    }
    for d in ["../shared/data/nab", "shared/data/nab", "data/nab"] {
        if Path::new(d).join("labels").is_dir() {
            return Ok(PathBuf::from(d));
        }
    }
    bail!(
        "no NAB data found at ../shared/data/nab or shared/data/nab; pass --data DIR \
         (a copy of github.com/numenta/NAB with data/ and labels/)"
    )
}

/// Scores one file with a fresh detector of `config`, built for the file's median sampling
/// interval. Build errors go to `error` (the first one is kept) and the file scores 0.
fn score_series(
    series: &NabSeries,
    config: &ai4ict_anomaly::DetectorConfig,
    error: &Mutex<Option<String>>,
) -> Vec<f64> {
    let interval = detectors::median_interval(&series.timestamps).unwrap_or(FALLBACK_INTERVAL);
    let mut det = match config.build(1, interval) {
        Ok(d) => d,
        Err(e) => {
            if let Ok(mut slot) = error.lock() {
                slot.get_or_insert_with(|| format!("{}: {e}", series.name));
            }
            return vec![0.0; series.len()];
        }
    };
    series
        .timestamps
        .iter()
        .zip(&series.values)
        .map(|(&t, &v)| {
            let s = det.update(t, &[v]).value;
            if s.is_finite() {
                s.clamp(0.0, 1.0)
            } else {
                0.0
            }
        })
        .collect()
}

/// Runs the benchmark.
pub fn run(args: Args) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!("note: this is a debug build; time it with `cargo run --release -- bench nab`");
    }
    let dir = data_dir(args.data)?;
    let kinds = detectors::select(&args.detector)?;
    println!(
        "bench nab: {} detector(s) on {} with each detector's default configuration and \
         hold {} (one configuration for the whole corpus), {} threads",
        kinds.len(),
        dir.display(),
        args.hold,
        rayon::current_num_threads()
    );
    let mut scores: Vec<NabScore> = Vec::new();
    for (name, kind) in kinds {
        let config = ai4ict_anomaly::DetectorConfig {
            hold: args.hold,
            ..detectors::config(kind)
        };
        // Check the configuration once, so a failure is reported rather than scored as 0.
        config
            .build(1, FALLBACK_INTERVAL)
            .with_context(|| format!("detector `{name}`"))?;
        let nab_name = format!("ai4ict_{name}");
        let error = Mutex::new(None);
        let t = Instant::now();
        let run = nab::run_corpus(&dir, &nab_name, |s| score_series(s, &config, &error))
            .with_context(|| format!("running `{name}` on {}", dir.display()))?;
        let secs = t.elapsed().as_secs_f64();
        if let Some(e) = error.into_inner().ok().flatten() {
            bail!("detector `{name}`: {e}");
        }
        nab::write_results(&args.out, &run)
            .with_context(|| format!("writing results under {}", args.out.display()))?;
        let s = &run.score;
        let thresholds: Vec<String> = s
            .profiles
            .iter()
            .map(|p| format!("{} {:.4}", p.profile.name, p.threshold))
            .collect();
        println!(
            "  {nab_name:<28} {} files, {} rows, {} windows in {secs:.2} s wall \
             ({:.0} rows/s, loading and scoring included); thresholds: {}",
            s.files,
            s.rows,
            s.windows,
            s.rows as f64 / secs.max(1e-9),
            thresholds.join(", ")
        );
        scores.push(run.score);
    }
    println!();
    print!("{}", nab::scoreboard_table(&scores));
    println!(
        "\nNAB v1.1 normalised scores (null detector 0, perfect 100); rows marked * are ours, \
         measured now; the others are NAB's published scoreboard."
    );
    println!("results in NAB's format: {}", args.out.display());
    Ok(())
}
