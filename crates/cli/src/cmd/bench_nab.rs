//! `ai4ict bench nab`: our detectors on the Numenta Anomaly Benchmark (58 labelled series),
//! scored with NAB's own rules and printed beside NAB's published scoreboard.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use ai4ict_anomaly::Prior;
use ai4ict_core::Interval;
use ai4ict_eval::nab::{self, NabScore, NabSeries};
use anyhow::{bail, Context};

use super::detectors;
use crate::progress::Progress;

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
    #[arg(long, default_value = "all", ignore_case = true, value_parser = super::detectors::choices(true))]
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
    /// Also score each detector with every series started 1, 2, …, N rows later (the rows
    /// left out lie in NAB's probationary period, which is not scored) and print the spread:
    /// how much of a score is owed to where the series happen to begin. At most 100.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=MAX_SHIFT as i64))]
    shifts: u16,
    /// Also run NAB's harness track: each detector is first given exactly what NAB's harness
    /// gives every scoreboard entry (the file's minimum and maximum, and its probationary
    /// length as the warm-up), then streams the file as on the streaming track. Both tracks
    /// are printed, each its own row.
    #[arg(long)]
    harness: bool,
}

/// The two tracks of NAB (see `--harness`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Track {
    /// Nothing known ahead: the product.
    Streaming,
    /// The file's range and probationary length known ahead, as NAB's harness gives them.
    Harness,
}

impl Track {
    /// The name of a detector's results on this track.
    fn entry(self, detector: &str) -> String {
        match self {
            Self::Streaming => format!("ai4ict_{detector}"),
            Self::Harness => format!("ai4ict_{detector}_harness"),
        }
    }

    /// What NAB's harness gives about `series` on this track.
    fn prior(self, series: &NabSeries) -> Prior {
        match self {
            Self::Streaming => Prior::default(),
            Self::Harness => {
                let finite = series.values.iter().copied().filter(|v| v.is_finite());
                let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                });
                Prior {
                    ranges: if lo <= hi { vec![(lo, hi)] } else { vec![] },
                    warm_up: Some(series.probationary_len()),
                }
            }
        }
    }
}

/// Largest `--shifts`: below the probationary period of NAB's shortest series (1 127 rows,
/// 169 probationary).
const MAX_SHIFT: u16 = 100;

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
/// interval and given what `track` knows ahead, that sees the series from row `start` on
/// (earlier rows score 0). Build errors go to `error` (the first one is kept) and the file
/// scores 0.
fn score_series(
    series: &NabSeries,
    start: usize,
    config: &ai4ict_anomaly::DetectorConfig,
    track: Track,
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
    det.know(&track.prior(series));
    let start = start.min(series.len());
    let mut scores = vec![0.0; start];
    scores.extend(
        series.timestamps[start..]
            .iter()
            .zip(&series.values[start..])
            .map(|(&t, &v)| {
                let s = det.update(t, &[v]).value;
                if s.is_finite() {
                    s.clamp(0.0, 1.0)
                } else {
                    0.0
                }
            }),
    );
    scores
}

/// One profile's normalised score over the shifted starts.
struct ProfileSpread {
    profile: String,
    /// With no shift.
    unshifted: f64,
    least: f64,
    mean: f64,
    greatest: f64,
}

/// Scores `config` with each series started 1..=`shifts` rows later, beside the unshifted
/// `base` score.
fn shift_spread(
    dir: &Path,
    nab_name: &str,
    config: &ai4ict_anomaly::DetectorConfig,
    track: Track,
    shifts: u16,
    base: &NabScore,
) -> anyhow::Result<Vec<ProfileSpread>> {
    let mut all: Vec<Vec<f64>> = base.profiles.iter().map(|p| vec![p.normalized]).collect();
    for shift in 1..=usize::from(shifts) {
        let error = Mutex::new(None);
        let run = nab::run_corpus(dir, nab_name, |s| {
            score_series(s, shift.min(s.probationary_len()), config, track, &error)
        })
        .with_context(|| format!("running `{nab_name}` shifted by {shift} rows"))?;
        if let Some(e) = error.into_inner().ok().flatten() {
            bail!("detector `{nab_name}`: {e}");
        }
        for (scores, p) in all.iter_mut().zip(&run.score.profiles) {
            scores.push(p.normalized);
        }
    }
    Ok(base
        .profiles
        .iter()
        .zip(&all)
        .map(|(p, s)| {
            let least = s.iter().copied().fold(f64::INFINITY, f64::min);
            let greatest = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mean = s.iter().sum::<f64>() / s.len() as f64;
            ProfileSpread {
                profile: p.profile.name.to_string(),
                unshifted: p.normalized,
                least,
                mean,
                greatest,
            }
        })
        .collect())
}

/// Runs the benchmark.
pub fn run(args: Args) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!("note: this is a debug build; time it with `cargo run --release -- bench nab`");
    }
    let dir = data_dir(args.data)?;
    let kinds = detectors::select(&args.detector)?;
    outln!(
        "bench nab: {} detector(s) on {} with each detector's default configuration and \
         hold {} (one configuration for the whole corpus), {} threads",
        kinds.len(),
        dir.display(),
        args.hold,
        rayon::current_num_threads()
    );
    let tracks: &[Track] = if args.harness {
        &[Track::Streaming, Track::Harness]
    } else {
        &[Track::Streaming]
    };
    let mut scores: Vec<NabScore> = Vec::new();
    let mut spreads: Vec<(String, Vec<ProfileSpread>)> = Vec::new();
    let progress = Progress::new(false);
    for (name, kind) in kinds {
        let config = ai4ict_anomaly::DetectorConfig {
            hold: args.hold,
            ..detectors::config(kind)
        };
        // Check the configuration once, so a failure is reported rather than scored as 0.
        config
            .build(1, FALLBACK_INTERVAL)
            .with_context(|| format!("detector `{name}`"))?;
        for &track in tracks {
            progress.say(format!(
                "scoring NAB's files with `{name}` ({track:?} track)"
            ));
            let nab_name = track.entry(&name);
            let error = Mutex::new(None);
            let t = Instant::now();
            let run = nab::run_corpus(&dir, &nab_name, |s| {
                score_series(s, 0, &config, track, &error)
            })
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
            progress.suspend(|| {
                outln!(
                    "  {nab_name:<36} {} files, {} rows, {} windows in {secs:.2} s wall \
                     ({:.0} rows/s, loading and scoring included); thresholds: {}",
                    s.files,
                    s.rows,
                    s.windows,
                    s.rows as f64 / secs.max(1e-9),
                    thresholds.join(", ")
                )
            });
            if args.shifts > 0 {
                progress.say(format!("`{nab_name}` over {} shifted starts", args.shifts));
                let spread =
                    shift_spread(&dir, &nab_name, &config, track, args.shifts, &run.score)?;
                spreads.push((nab_name, spread));
            }
            scores.push(run.score);
        }
    }
    drop(progress);
    outln!();
    out!("{}", nab::scoreboard_table(&scores));
    outln!(
        "\nNAB v1.1 normalised scores (null detector 0, perfect 100); rows marked * are ours, \
         measured now; the others are NAB's published scoreboard."
    );
    if args.harness {
        outln!(
            "Two tracks: `ai4ict_<detector>` is the streaming track (nothing known ahead); \
             `ai4ict_<detector>_harness` was given what NAB's harness gives every entry (each \
             file's minimum, maximum and probationary length) and nothing else. The published \
             entries all ran on the harness track."
        );
    }
    if !spreads.is_empty() {
        outln!(
            "\nSensitivity to where the series begin: each series started 0..={} rows later \
             (rows of the probationary period, not scored); normalised score over the {} starts",
            args.shifts,
            usize::from(args.shifts) + 1
        );
        outln!(
            "  {:<36} {:<20} {:>8} {:>8} {:>8} {:>8}",
            "detector",
            "profile",
            "shift 0",
            "least",
            "mean",
            "greatest"
        );
        for (name, spread) in &spreads {
            for ProfileSpread {
                profile,
                unshifted: zero,
                least,
                mean,
                greatest,
            } in spread
            {
                outln!(
                    "  {name:<36} {profile:<20} {zero:>8.2} {least:>8.2} {mean:>8.2} {greatest:>8.2}"
                );
            }
        }
    }
    outln!("results in NAB's format: {}", args.out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use ai4ict_anomaly::DetectorKind;
    use ai4ict_eval::nab::NabCorpus;

    use super::*;

    /// Two 5-minute series of 600 rows (90 probationary), each with a level shift in its window.
    fn corpus(dir: &Path) -> NabCorpus {
        let data = dir.join("data").join("cat");
        fs::create_dir_all(&data).unwrap();
        let t = |i: usize| {
            let m = i * 5;
            format!(
                "2020-01-{:02} {:02}:{:02}:00",
                1 + m / 1440,
                m / 60 % 24,
                m % 60
            )
        };
        let mut windows = serde_json::Map::new();
        for (name, at) in [("a.csv", 400), ("b.csv", 450)] {
            let mut text = String::from("timestamp,value\n");
            for i in 0..600 {
                let v = 10.0 + (i % 7) as f64 + if i >= at { 40.0 } else { 0.0 };
                text.push_str(&format!("{},{v}\n", t(i)));
            }
            fs::write(data.join(name), text).unwrap();
            windows.insert(
                format!("cat/{name}"),
                serde_json::json!([[t(at - 20), t(at + 20)]]),
            );
        }
        fs::create_dir_all(dir.join("labels")).unwrap();
        fs::write(
            dir.join("labels/combined_windows.json"),
            serde_json::Value::Object(windows).to_string(),
        )
        .unwrap();
        NabCorpus::load(dir).unwrap()
    }

    #[test]
    fn a_shifted_series_is_the_detector_on_the_later_rows() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = corpus(dir.path());
        let series = &corpus.series[0];
        let config = detectors::config(DetectorKind::Ewma);
        let error = Mutex::new(None);
        let shifted = score_series(series, 5, &config, Track::Streaming, &error);
        assert_eq!(shifted.len(), series.len());
        assert!(shifted[..5].iter().all(|s| *s == 0.0));
        let mut det = config.build(1, Interval::from_minutes(5)).unwrap();
        let rows = series.timestamps.iter().zip(&series.values);
        for (i, ((t, v), got)) in rows.zip(&shifted).enumerate().skip(5) {
            let expected = det.update(*t, &[*v]).value;
            assert_eq!(*got, expected.clamp(0.0, 1.0), "row {i}");
        }
        assert!(error.into_inner().unwrap().is_none());
        // A start past the end scores every row 0 rather than failing.
        let past = score_series(series, 10_000, &config, Track::Streaming, &Mutex::new(None));
        assert_eq!(past, vec![0.0; series.len()]);
    }

    #[test]
    fn the_harness_track_gives_the_files_range_and_probation_only() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = corpus(dir.path());
        let series = &corpus.series[0];
        assert_eq!(Track::Streaming.prior(series), Prior::default());
        let prior = Track::Harness.prior(series);
        assert_eq!(prior.ranges, vec![(10.0, 56.0)]);
        assert_eq!(prior.warm_up, Some(series.probationary_len()));
        assert_eq!(Track::Harness.entry("auto"), "ai4ict_auto_harness");
    }

    #[test]
    fn the_spread_brackets_the_unshifted_score() {
        let dir = tempfile::tempdir().unwrap();
        corpus(dir.path());
        let config = detectors::config(DetectorKind::Ewma);
        let error = Mutex::new(None);
        let base = nab::run_corpus(dir.path(), "t", |s| {
            score_series(s, 0, &config, Track::Streaming, &error)
        })
        .unwrap()
        .score;
        let spread = shift_spread(dir.path(), "t", &config, Track::Streaming, 4, &base).unwrap();
        assert_eq!(spread.len(), base.profiles.len());
        for (s, p) in spread.iter().zip(&base.profiles) {
            let (profile, zero, least, mean, greatest) =
                (&s.profile, &s.unshifted, &s.least, &s.mean, &s.greatest);
            assert_eq!(*profile, p.profile.name);
            assert_eq!(*zero, p.normalized);
            assert!(
                least <= zero && zero <= greatest,
                "{profile}: {least} {zero} {greatest}"
            );
            assert!(
                least <= mean && mean <= greatest,
                "{profile}: {least} {mean} {greatest}"
            );
        }
    }
}
