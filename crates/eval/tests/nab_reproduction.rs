//! Reproduces NAB's published numbers from the detector outputs stored with the data copy in
//! `../shared/data/nab` (skipped, with a note, where that folder is absent).

use std::path::PathBuf;

use ai4ict_eval::nab::{self, PROFILE_NAMES};

fn nab_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/nab");
    if dir.join("results").is_dir() && dir.join("labels").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "note: {} not found; NAB reproduction skipped",
            dir.display()
        );
        None
    }
}

/// Raw corpus totals S_total from NAB's `results/<det>/<det>_<profile>_scores.csv` (SCORING.md),
/// in the order standard, reward_low_FP_rate, reward_low_FN_rate.
const RAW: [(&str, [f64; 3]); 4] = [
    ("numenta", [46.634, 30.431, 26.634]),
    ("ARTime", [57.661, 35.157, 47.661]),
    ("windowedGaussian", [-24.013, -67.586, -67.013]),
    ("null", [-116.0, -116.0, -232.0]),
];

#[test]
fn stored_detector_outputs_reproduce_final_results() {
    let Some(dir) = nab_dir() else { return };
    let results = dir.join("results");
    let labels = dir.join("labels/combined_windows.json");
    let text = std::fs::read_to_string(results.join("final_results.json")).unwrap();
    let published: serde_json::Value = serde_json::from_str(&text).unwrap();
    for (det, raw) in RAW {
        let optimised = nab::score_results_dir(&results, &labels, det).unwrap();
        println!("{optimised}");
        let stored = nab::load_thresholds(&results.join("thresholds.json"), det).unwrap();
        let fixed = nab::score_results_dir_with(&results, &labels, det, &stored).unwrap();
        println!("{fixed}");
        assert_eq!(
            (fixed.files, fixed.rows, fixed.windows),
            (58, 365_558, 116),
            "{det}"
        );
        for (i, profile) in PROFILE_NAMES.iter().enumerate() {
            let ours = optimised.profile(profile).unwrap();
            let at_stored = fixed.profile(profile).unwrap();
            let theirs = published[det][profile].as_f64().unwrap();
            // With NAB's stored thresholds, the published numbers exactly.
            assert!(
                (at_stored.normalized - theirs).abs() < 0.01,
                "{det} {profile}: normalised {} vs published {theirs}",
                at_stored.normalized
            );
            assert!(
                (at_stored.raw_score - raw[i]).abs() < 0.01,
                "{det} {profile}: raw {} vs {}",
                at_stored.raw_score,
                raw[i]
            );
            // The exhaustive sweep never does worse than the stored threshold.
            assert!(
                ours.raw_score >= at_stored.raw_score - 1e-9,
                "{det} {profile}"
            );
        }
        // Under the standard profile NAB's stored thresholds are optimal: the sweep agrees.
        let ours = optimised.profile("standard").unwrap();
        assert!(
            (ours.raw_score - raw[0]).abs() < 0.01,
            "{det}: optimised raw {}",
            ours.raw_score
        );
    }
}

#[test]
fn run_corpus_loads_every_file_and_scores_a_detector() {
    let Some(dir) = nab_dir() else { return };
    if !dir.join("data").is_dir() {
        eprintln!("note: NAB data/ missing; skipped");
        return;
    }
    // Replays the stored numenta scores through the runner: same numbers as from the folder.
    let results = dir.join("results");
    let run = nab::run_corpus(&dir, "numenta", |series| {
        let text =
            std::fs::read_to_string(nab::result_path(&results, "numenta", &series.name)).unwrap();
        text.lines()
            .skip(1)
            .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
            .collect()
    })
    .unwrap();
    assert_eq!(run.corpus.row_count(), 365_558);
    assert_eq!(run.corpus.window_count(), 116);
    let standard = run.score.profile("standard").unwrap();
    assert!(
        (standard.normalized - 70.10).abs() < 0.01,
        "{}",
        standard.normalized
    );
    assert_eq!(
        run.score.profile("standard").map(|p| p.threshold),
        Some(standard.optimal_threshold)
    );
    println!("{}", nab::scoreboard_table(&[run.score]));
}
