//! `ai4ict sandbox flows` then `ai4ict bench classify` on the file: labelled flows, no
//! overwriting without `--force`, a declared split and per-class scores that learn.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ai4ict");

fn ai4ict(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("AI4ICT_PEER_PYTHON")
        .output()
        .expect("the binary runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn sandbox_flows_train_and_score_in_bench_classify() {
    let dir = tempfile::tempdir().unwrap();
    let flows = [
        "sandbox",
        "flows",
        "--flows",
        "3000",
        "--cells",
        "8",
        "--out",
        "flows.csv",
    ];
    let out = ai4ict(dir.path(), &flows);
    assert!(out.status.success(), "{}", text(&out));
    let csv = std::fs::read_to_string(dir.path().join("flows.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3001);
    assert!(csv.lines().next().unwrap().ends_with(",label,attack"));

    // The same command again is refused, and --force replaces the file with the same one.
    let again = ai4ict(dir.path(), &flows);
    assert!(!again.status.success());
    assert!(text(&again).contains("--force"), "{}", text(&again));
    let mut forced = flows.to_vec();
    forced.push("--force");
    assert!(ai4ict(dir.path(), &forced).status.success());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("flows.csv")).unwrap(),
        csv
    );

    let out = ai4ict(
        dir.path(),
        &[
            "bench",
            "classify",
            "--input",
            "flows.csv",
            "--rounds",
            "20",
            "--trees",
            "10",
        ],
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("split: stratified by class, 30% test, seed 7"),
        "{t}"
    );
    assert!(
        t.contains("not features: start, cell, site, src_ip, dst_ip"),
        "{t}"
    );
    assert!(t.contains("peers not measured"), "{t}");
    // Every attack class has a row, and the GBDT learns: macro F1 well above chance.
    for class in [
        "port_scan",
        "syn_flood",
        "brute_force_ssh",
        "exfiltration",
        "beaconing",
    ] {
        assert!(
            t.lines().any(|l| l.starts_with(class)),
            "{class} missing: {t}"
        );
    }
    let f1: f64 = t
        .lines()
        .find_map(|l| l.strip_prefix("macro F1 "))
        .and_then(|r| r.split(',').next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no macro F1 in {t}"));
    assert!(f1 > 0.8, "{t}");
}

#[test]
fn bench_classify_names_a_missing_label_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.csv"), "a,b\n1,2\n").unwrap();
    let out = ai4ict(dir.path(), &["bench", "classify", "--input", "t.csv"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("no label column `label`"),
        "{}",
        text(&out)
    );
}

/// `bench intrusion` in small, on a development seed: both models run on the same windows and
/// every port scanner is found by the behaviour model (the figures are the bench's to print).
#[test]
fn bench_intrusion_finds_the_port_scanners_without_labels() {
    let dir = tempfile::tempdir().unwrap();
    let out = ai4ict(
        dir.path(),
        &[
            "bench",
            "intrusion",
            "--seeds",
            "1",
            "--flows",
            "20000",
            "--cells",
            "10",
        ],
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("population tails (ours)") && t.contains("novelty (anomaly crate)"),
        "{t}"
    );
    let scan = t.lines().find(|l| l.starts_with("port_scan")).expect(&t);
    assert!(scan.contains("6/6,"), "{scan}");
    let bad = ai4ict(dir.path(), &["bench", "intrusion", "--baseline", "nope"]);
    assert!(
        !bad.status.success() && text(&bad).contains("--baseline"),
        "{}",
        text(&bad)
    );
}

/// `bench flows` in small: both models through the pipeline's nodes, every pass's classes
/// equal to the reference's (the bench fails otherwise), with the time split printed.
#[test]
fn bench_flows_scores_through_the_pipeline_as_the_reference_does() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "bench",
        "flows",
        "--flows",
        "5000",
        "--passes",
        "2",
        "--rounds",
        "20",
        "--trees",
        "10",
        "--forest-depth",
        "6",
    ];
    let out = ai4ict(dir.path(), &args);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    for model in ["GBDT", "forest"] {
        assert!(
            t.contains(&format!("{model}: best "))
                && t.contains("classifying only")
                && t.contains("classes equal to the reference's"),
            "{t}"
        );
    }
    assert!(t.contains("features") && t.contains("watch"), "{t}");
    assert!(t.contains("10 trees, depth ≤ 6"), "{t}");
    let bad = ai4ict(dir.path(), &["bench", "flows", "--passes", "0"]);
    assert!(
        !bad.status.success() && text(&bad).contains("--passes"),
        "{}",
        text(&bad)
    );
}

/// `ai4ict intrusion` on a sandbox flow file: alerts as JSON lines, never over an existing
/// file, and scored against the file's labels when it has them.
#[test]
fn intrusion_alerts_on_a_flow_file_and_scores_them_against_its_labels() {
    let dir = tempfile::tempdir().unwrap();
    let flows = [
        "sandbox", "flows", "--flows", "20000", "--cells", "10", "--seed", "1", "--out", "f.csv",
    ];
    assert!(ai4ict(dir.path(), &flows).status.success());
    let run = ["intrusion", "--input", "f.csv", "--out", "alerts.jsonl"];
    let out = ai4ict(dir.path(), &run);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let alerts = std::fs::read_to_string(dir.path().join("alerts.jsonl")).unwrap();
    assert!(alerts.lines().count() > 5, "{alerts}");
    let first: serde_json::Value = serde_json::from_str(alerts.lines().next().unwrap()).unwrap();
    assert!(
        first["host"].is_string() && first["feature"].is_string(),
        "{first}"
    );
    assert!(t.contains("against the file's labels"), "{t}");
    let scan = t
        .lines()
        .find(|l| l.trim_start().starts_with("port_scan"))
        .expect(&t);
    assert!(scan.contains("6/6"), "{scan}");
    // Normal traffic is not an attack class.
    assert!(
        !t.lines().any(|l| l.trim_start().starts_with("web ")),
        "{t}"
    );

    let again = ai4ict(dir.path(), &run);
    assert!(
        !again.status.success() && text(&again).contains("--force"),
        "{}",
        text(&again)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("alerts.jsonl")).unwrap(),
        alerts
    );
    let missing = ai4ict(dir.path(), &["intrusion", "--input", "nope.csv"]);
    assert!(!missing.status.success() && text(&missing).contains("nope.csv"));
}
