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
