//! Tests of the NAB scorer against hand-computed and brute-force results.

use std::fs;
use std::path::Path;

use super::*;
use crate::EvalError;

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
        serde_json::from_str(&fs::read_to_string(out.join("final_results.json")).unwrap()).unwrap();
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
