//! Scores one detector configuration over the NAB corpus with the workspace's NAB scorer.
//!
//! ```text
//! cargo run --release -p ai4ict-anomaly --example nab -- [NAB_DIR] [CONFIG_JSON]
//! ```
//! `NAB_DIR` defaults to `../shared/data/nab` (relative to the workspace), `CONFIG_JSON` to
//! `{}` (the default configuration). Each file gets a fresh detector; its sampling interval is
//! the median gap between its timestamps, as a collector would report it. With
//! `NAB_DIAG=0.95` it also prints, per file, the windows detected and the rows flagged outside
//! windows at that threshold.

use std::path::PathBuf;

use ai4ict_anomaly::DetectorConfig;
use ai4ict_core::Interval;
use ai4ict_eval::nab;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .map_or_else(|| PathBuf::from("../shared/data/nab"), PathBuf::from);
    let config: DetectorConfig = serde_json::from_str(&args.next().unwrap_or_else(|| "{}".into()))?;
    let run = nab::run_corpus(&dir, "ai4ict", |series| {
        let mut gaps: Vec<i64> = series
            .timestamps
            .windows(2)
            .map(|w| w[1].0 - w[0].0)
            .filter(|g| *g > 0)
            .collect();
        gaps.sort_unstable();
        let gap = gaps.get(gaps.len() / 2).copied().unwrap_or(300_000);
        let Ok(mut detector) = config.build(1, Interval::from_millis(gap)) else {
            return vec![0.0; series.len()];
        };
        series
            .timestamps
            .iter()
            .zip(&series.values)
            .map(|(t, v)| detector.update(*t, &[*v]).value)
            .collect()
    })?;
    println!("{}", run.score);
    if let Some(cut) = std::env::var("NAB_DIAG")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
    {
        // Per file at threshold `cut`: windows detected, and detections outside windows.
        for (series, scores) in run.corpus.series.iter().zip(&run.scores) {
            let labels = series.labels();
            let skip = series.probationary_len();
            let fp = (skip..series.len())
                .filter(|&i| !labels[i] && scores[i] >= cut)
                .count();
            let hit = series
                .windows
                .iter()
                .filter(|w| (w.start..=w.end).any(|i| scores[i] >= cut))
                .count();
            println!(
                "{:60} rows {:6} windows {}/{} fp {fp}",
                series.name,
                series.len(),
                hit,
                series.windows.len()
            );
        }
    }
    Ok(())
}
