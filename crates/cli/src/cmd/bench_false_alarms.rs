//! `ai4ict bench false-alarms`: how often each detector's score reaches 0.5, 0.7 and 0.9 on
//! streams with nothing anomalous in them, beside the rate the calibrated score promises
//! (`10^(-level × decades)`), for several shapes of quiet KPI.

use ai4ict_anomaly::false_alarms::{measure, FalseAlarms, QuietShape, EVIDENCE, LEVELS};
use rayon::prelude::*;

use super::detectors;
use crate::progress::Progress;

/// Measure each detector's false-alarm rate on quiet streams.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Independent streams per detector and shape.
    #[arg(long, default_value_t = 100)]
    streams: usize,
    /// Days per stream (96 points a day); the first `--warmup-days` are not counted.
    #[arg(long, default_value_t = 28)]
    days: usize,
    /// Days of each stream the detector learns before its scores are counted.
    #[arg(long, default_value_t = 4)]
    warmup_days: usize,
    /// Detector to measure, or `all`.
    #[arg(long, default_value = "all", ignore_case = true, value_parser = detectors::choices(true))]
    detector: String,
    /// Seed of the first stream (stream k uses seed + k).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.days <= args.warmup_days {
        anyhow::bail!("--days must exceed --warmup-days");
    }
    let kinds = detectors::select(&args.detector)?;
    let (len, warmup) = (args.days * 96, args.warmup_days * 96);
    let decades = detectors::config(kinds[0].1).decades;
    outln!(
        "false alarms on quiet streams: {} streams × {} days per detector and shape, the first {} days not counted; nominal rate at score s = 10^(-s × {decades})",
        args.streams,
        args.days,
        args.warmup_days
    );
    let nominal: Vec<f64> = LEVELS
        .iter()
        .map(|&l| FalseAlarms::nominal(l, decades))
        .collect();
    outln!(
        "{:<22} {:<9} {:>10}  {}  evidence of the ≥{} points",
        "detector",
        "shape",
        "points",
        LEVELS
            .iter()
            .zip(&nominal)
            .map(|(l, n)| format!("{:>22}", format!("≥{l} (nominal {n:.1e})")))
            .collect::<Vec<_>>()
            .join(" "),
        LEVELS[LEVELS.len() - 1]
    );
    let progress = Progress::new(false);
    for (name, kind) in kinds {
        progress.say(format!("scoring quiet streams with `{name}`"));
        let config = detectors::config(kind);
        let rows: Vec<(QuietShape, FalseAlarms)> = QuietShape::ALL
            .par_iter()
            .map(|&shape| {
                measure(&config, shape, (args.streams, len, warmup), args.seed).map(|m| (shape, m))
            })
            .collect::<Result<_, _>>()?;
        for (shape, m) in rows {
            let cells: Vec<String> = (0..LEVELS.len())
                .map(|i| {
                    format!(
                        "{:>22}",
                        format!("{:.1e} ({:.1}×)", m.rate(i), m.rate(i) / nominal[i])
                    )
                })
                .collect();
            let evidence: Vec<String> = EVIDENCE
                .iter()
                .zip(m.by_evidence)
                .filter(|(_, n)| *n > 0)
                .map(|(e, n)| format!("{e} {n}"))
                .collect();
            progress.suspend(|| {
                outln!(
                    "{:<22} {:<9} {:>10}  {}  {}",
                    name,
                    shape.name(),
                    m.points,
                    cells.join(" "),
                    evidence.join(", ")
                )
            });
        }
    }
    Ok(())
}
