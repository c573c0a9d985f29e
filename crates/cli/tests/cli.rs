//! End-to-end tests of the `ai4ict` binary: validation errors, and identical alerts from one
//! worker, two workers and two processes on loopback.

use std::path::Path;
use std::process::{Command, Output};

#[allow(dead_code)] // each test file uses part of it
#[path = "common/net.rs"]
mod net;
use net::free_port_pair;

const BIN: &str = env!("CARGO_BIN_EXE_ai4ict");

const INTENT: &str = "name: parity
use_case: operations
source:
  sandbox: { cells: 30, days: 6, quiet_days: 2, seed: 11 }
preprocess:
  - fill_gaps: linear
model:
  anomaly: { detector: auto }
policy:
  alert: { score_above: 0.9, for: 2 }
distribute:
  - file: { path: alerts.jsonl }
";

fn ai4ict(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("AI4ICT_HUB", dir.join("hub.db"))
        .output()
        .expect("the binary runs")
}

#[test]
fn validate_names_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "name: t\nuse_case: operations\nsource:\n  sandbox: {cells: -5}\n",
    )
    .unwrap();
    let out = ai4ict(dir.path(), &["validate", "bad.yaml"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 4") && err.contains("source.sandbox.cells"),
        "{err}"
    );
    std::fs::write(dir.path().join("good.yaml"), INTENT).unwrap();
    assert!(ai4ict(dir.path(), &["validate", "good.yaml"])
        .status
        .success());
}

/// Checkpoints need a source that can resume from a position: the sandbox cannot, and the run
/// says so before any work.
#[test]
fn checkpoints_of_a_source_that_cannot_resume_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("i.yaml"), INTENT).unwrap();
    let out = ai4ict(
        dir.path(),
        &["run", "i.yaml", "--quiet", "--no-hub", "--checkpoint", "ck"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("checkpoints need a source") && err.contains("sandbox"),
        "{err}"
    );
    assert!(!dir.path().join("ck").exists());
    let with_key = format!("{INTENT}checkpoint: {{ dir: ck }}\n");
    std::fs::write(dir.path().join("k.yaml"), with_key).unwrap();
    let out = ai4ict(dir.path(), &["validate", "k.yaml"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("checkpoint") && err.contains("can resume"),
        "{err}"
    );
}

#[test]
fn one_worker_two_workers_two_processes_agree() {
    let root = tempfile::tempdir().unwrap();
    let run_in = |name: &str| {
        let d = root.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("intent.yaml"), INTENT).unwrap();
        d
    };
    let one = run_in("one");
    let out = ai4ict(&one, &["run", "intent.yaml", "--quiet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let two = run_in("two");
    let out = ai4ict(&two, &["run", "intent.yaml", "--quiet", "--workers", "2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let cluster = run_in("cluster");
    let port = free_port_pair().to_string();
    let spawn = |i: &str| {
        Command::new(BIN)
            .args([
                "run",
                "intent.yaml",
                "--quiet",
                "--processes",
                "2",
                "--process",
                i,
                "--base-port",
                &port,
            ])
            .current_dir(&cluster)
            .env("AI4ICT_HUB", cluster.join("hub.db"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let p0 = spawn("0");
    let p1 = spawn("1");
    let (o0, o1) = (
        p0.wait_with_output().unwrap(),
        p1.wait_with_output().unwrap(),
    );
    assert!(
        o0.status.success(),
        "{}",
        String::from_utf8_lossy(&o0.stderr)
    );
    assert!(
        o1.status.success(),
        "{}",
        String::from_utf8_lossy(&o1.stderr)
    );

    let read = |d: &Path| std::fs::read_to_string(d.join("alerts.jsonl")).unwrap();
    let a1 = read(&one);
    assert!(
        a1.lines().count() > 0,
        "the sandbox has incidents, so alerts are expected"
    );
    assert_eq!(a1, read(&two), "1 vs 2 workers");
    assert_eq!(a1, read(&cluster), "1 worker vs 2 processes");
}

#[test]
fn file_source_is_evaluated_in_the_sandbox_then_deployed() {
    let dir = tempfile::tempdir().unwrap();
    let out = ai4ict(
        dir.path(),
        &[
            "sandbox", "generate", "--cells", "12", "--days", "5", "--out", "net", "--format",
            "csv",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A bad row in the middle: skipped and reported, nothing else lost.
    let csv = dir.path().join("net/telemetry.csv");
    let mut text = std::fs::read_to_string(&csv).unwrap();
    let rows_before = text.lines().count() - 1;
    text.push_str("cell-0001,not-a-time,1,2,3,4,5,6,7,8\n");
    std::fs::write(&csv, text).unwrap();
    let intent = "name: file-demo
use_case: operations
source:
  file: { path: net/telemetry.csv, on_error: quarantine }
collect: { fields: [prb_util, dl_throughput, rrc_success], interval: 15m }
sandbox: { cells: 12, days: 5, quiet_days: 2 }
distribute:
  - file: { path: alerts.csv }
";
    std::fs::write(dir.path().join("intent.yaml"), intent).unwrap();
    let out = ai4ict(dir.path(), &["run", "intent.yaml", "--quiet", "--force"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{rows_before} rows from net/telemetry.csv")),
        "{stdout}"
    );
    assert!(dir.path().join("alerts.csv").exists());
    let quarantined =
        std::fs::read_to_string(dir.path().join("net/telemetry.quarantine.csv")).unwrap();
    assert!(quarantined.contains("not-a-time"), "{quarantined}");
    assert!(stdout.contains("1 bad rows quarantined"), "{stdout}");
    assert!(dir.path().join("out/file-demo/report.html").exists());
}

#[test]
fn runs_publish_to_the_marketplace_and_the_mlfo_selects_from_it() {
    let dir = tempfile::tempdir().unwrap();
    // Named like the built-in intent, so the run is also recorded as its use case's evidence.
    let intent = "name: cell-kpi-anomaly
use_case: operations
source:
  sandbox: { cells: 20, days: 9, quiet_days: 7, seed: 3 }
model:
  anomaly: { detector: robust_seasonal, decades: 6 }
distribute: [ { file: { path: published.jsonl } } ]
";
    std::fs::write(dir.path().join("intent.yaml"), intent).unwrap();
    let out = ai4ict(dir.path(), &["run", "intent.yaml", "--quiet"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("aliased `production`"), "{stdout}");
    assert!(
        stdout.contains("use case `cell-kpi-anomaly` updated"),
        "{stdout}"
    );

    let plain = "name: other\nuse_case: operations\nsource:\n  sandbox: { cells: 20, days: 9, quiet_days: 7, seed: 3 }\ndistribute: [ { file: { path: pulled.jsonl } } ]\n";
    std::fs::write(dir.path().join("other.yaml"), plain).unwrap();
    let out = ai4ict(
        dir.path(),
        &[
            "run",
            "other.yaml",
            "--quiet",
            "--model-from-hub",
            "cell-kpi-anomaly@production",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("model selected from the hub: cell-kpi-anomaly@"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"decades\":6.0"),
        "the pulled configuration is used: {stdout}"
    );
    assert!(
        stdout.contains("trained model given: 20 entities"),
        "the pulled model is its trained state: {stdout}"
    );
    // The pulled model resumes where the published one stopped learning: same alerts.
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    assert!(!read("published.jsonl").is_empty(), "the run raised alerts");
    assert_eq!(read("pulled.jsonl"), read("published.jsonl"));

    let out = ai4ict(
        dir.path(),
        &[
            "run",
            "other.yaml",
            "--quiet",
            "--model-from-hub",
            "nothing-here",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no model `nothing-here`"));
}

#[test]
fn sandbox_generate_refuses_to_replace_earlier_files_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "sandbox", "generate", "--cells", "3", "--days", "2", "--out", "net", "--quiet",
    ];
    assert!(ai4ict(dir.path(), &args).status.success());
    let labels = dir.path().join("net/labels.json");
    std::fs::write(&labels, "kept").unwrap();

    let out = ai4ict(dir.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a second run must refuse");
    assert!(
        stderr.contains("labels.json") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&labels).unwrap(), "kept");

    let mut forced = args.to_vec();
    forced.push("--force");
    assert!(ai4ict(dir.path(), &forced).status.success());
    assert_ne!(std::fs::read_to_string(&labels).unwrap(), "kept");
}

/// A small energy-saving intent: 40 cells, 2 days of history, 2 evaluated.
const ENERGY_INTENT: &str = "name: energy-small
use_case: energy
source:
  sandbox: { scenario: urban, cells: 40, days: 4, seed: 7 }
collect:
  fields: [dl_throughput]
  interval: 15m
model:
  forecast: { method: ets }
policy:
  energy_saving: { history_days: 2 }
distribute: []
timing: { class: minutes }
";

/// Runs `intent` (named `name`) on one worker, on two workers and on two processes on
/// loopback, and checks that the three runs' closed loops agree on `result` (read from each
/// outcome's `closed_loop`, without the timings). Returns the one-worker run's stdout and
/// result.
fn closed_loop_agrees_on_one_worker_two_workers_two_processes(
    intent: &str,
    name: &str,
    result: impl Fn(&serde_json::Value) -> serde_json::Value,
) -> (String, serde_json::Value) {
    let root = tempfile::tempdir().unwrap();
    let dir = |run: &str| {
        let d = root.path().join(run);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("intent.yaml"), intent).unwrap();
        d
    };
    let read = |d: &Path| {
        let path = d.join("out").join(name).join("outcome.json");
        let text = std::fs::read_to_string(path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        result(&v["outcome"]["closed_loop"])
    };
    let succeeded = |out: &Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let one = dir("one");
    let out = ai4ict(&one, &["run", "intent.yaml", "--quiet", "--no-hub"]);
    succeeded(&out);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let reference = read(&one);

    let two = dir("two");
    let args = [
        "run",
        "intent.yaml",
        "--quiet",
        "--no-hub",
        "--workers",
        "2",
    ];
    succeeded(&ai4ict(&two, &args));
    assert_eq!(reference, read(&two), "1 vs 2 workers");

    let cluster = dir("cluster");
    let port = free_port_pair().to_string();
    let spawn = |i: &str| {
        Command::new(BIN)
            .args([
                "run",
                "intent.yaml",
                "--quiet",
                "--no-hub",
                "--processes",
                "2",
                "--process",
                i,
                "--base-port",
                &port,
            ])
            .current_dir(&cluster)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (p0, p1) = (spawn("0"), spawn("1"));
    succeeded(&p0.wait_with_output().unwrap());
    succeeded(&p1.wait_with_output().unwrap());
    assert_eq!(reference, read(&cluster), "1 worker vs 2 processes");
    (stdout, reference)
}

#[test]
fn energy_saving_agrees_on_one_worker_two_workers_two_processes() {
    let (stdout, reference) = closed_loop_agrees_on_one_worker_two_workers_two_processes(
        ENERGY_INTENT,
        "energy-small",
        |loop_| {
            let e = &loop_["energy"];
            serde_json::json!([
                loop_["records"],
                e["policies"],
                e["power_w"],
                e["plots"],
                e["saved_vs_oracle"],
            ])
        },
    );
    assert!(stdout.contains("SINK actuator"), "{stdout}");
    assert!(!stdout.contains("not applied"), "{stdout}");
    assert_eq!(reference[0], serde_json::json!(40 * 4 * 96));
    assert!(reference[1].as_array().is_some_and(|p| p.len() == 4));
}

/// A small SLA-breach intent: 20 cells, 2 days of history, 2 evaluated, limits low enough to
/// be breached.
const SLA_INTENT: &str = "name: sla-small
use_case: operations
source:
  sandbox: { scenario: urban, cells: 20, days: 4, seed: 7 }
collect:
  fields: [latency]
  interval: 15m
model:
  forecast: { method: ets }
policy:
  sla_breach: { history_days: 2, latency_limit_ms: 12.0, link_utilisation_limit: 0.3 }
distribute: []
timing: { class: minutes }
";

#[test]
fn sla_breach_agrees_on_one_worker_two_workers_two_processes() {
    let (stdout, reference) = closed_loop_agrees_on_one_worker_two_workers_two_processes(
        SLA_INTENT,
        "sla-small",
        |loop_| serde_json::json!([loop_["records"], loop_["sla"]]),
    );
    assert!(
        stdout.contains("M    forecaster per cell and per site"),
        "{stdout}"
    );
    assert!(!stdout.contains("not applied"), "{stdout}");
    // Every cell and site observed every interval of the 4 days.
    let records = reference[0].as_u64().unwrap();
    assert!(
        records > 20 * 4 * 96 && records % (4 * 96) == 0,
        "{records}"
    );
    let scores = reference[1].as_array().unwrap();
    assert_eq!(scores.len(), 2);
    assert!(scores
        .iter()
        .all(|s| s["breaches"].as_u64() > Some(0) && s["alerts"].as_u64() > Some(0)));
}

/// Processes 0 and 1 of a two-process run of the shipped anomaly intent in `dir`, their
/// output piped.
fn shipped_anomaly_cluster(dir: &Path) -> (std::process::Child, std::process::Child) {
    let intent = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../intents/cell-kpi-anomaly.yaml")
        .canonicalize()
        .unwrap();
    let port = free_port_pair().to_string();
    let spawn = |i: &str| {
        Command::new(BIN)
            .args(["run", intent.to_str().unwrap(), "--quiet", "--no-hub"])
            .args(["--processes", "2", "--process", i, "--base-port", &port])
            .args(["--connect-timeout", "30"])
            .current_dir(dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    (spawn("0"), spawn("1"))
}

/// Ctrl-C to one process of a cluster only: the leader's report says the run was stopped,
/// covering part of the entities, and nothing is deployed (exit 130 in both).
#[test]
fn ctrl_c_to_one_process_stops_the_whole_cluster_run() {
    let dir = tempfile::tempdir().unwrap();
    let (p0, p1) = shipped_anomaly_cluster(dir.path());
    std::thread::sleep(std::time::Duration::from_secs(4));
    let interrupted = Command::new("kill")
        .args(["-INT", &p1.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let (out0, out1) = (
        p0.wait_with_output().unwrap(),
        p1.wait_with_output().unwrap(),
    );
    let said = |o: &Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    assert_eq!(out1.status.code(), Some(130), "{}", said(&out1));
    assert_eq!(out0.status.code(), Some(130), "{}", said(&out0));
    let text = said(&out0);
    assert!(
        text.contains("another process of the cluster was stopped"),
        "{text}"
    );
    let report =
        std::fs::read_to_string(dir.path().join("out/cell-kpi-anomaly/report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["passed"], serde_json::json!(false));
    assert_eq!(report["stopped"], serde_json::json!(true), "{report}");
}

/// A process killed mid-run (kill -9) stops its peer within seconds with a partial report
/// whose stage under way failed saying why: no hang, no panic, no pass.
#[test]
fn a_process_killed_mid_run_stops_its_peer_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (p0, mut p1) = shipped_anomaly_cluster(dir.path());
    // Long enough to be connected and training, far from the end of the run.
    std::thread::sleep(std::time::Duration::from_secs(4));
    p1.kill().unwrap();
    let _ = p1.wait();
    let started = std::time::Instant::now();
    let out = p0.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    let report = std::fs::read_to_string(dir.path().join("out/cell-kpi-anomaly/report.json"))
        .expect("a partial report");
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["passed"], serde_json::json!(false), "{report}");
    let failed: Vec<&serde_json::Value> = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{report}");
    let detail = failed[0]["detail"].as_str().unwrap();
    assert!(detail.contains("the cluster lost a process"), "{detail}");
}

/// `bench sandbox` with one detector on `cells` cells of seed 1 (10 days, the first 7 quiet
/// and not scored) and one listing flag: what it printed.
fn bench_sandbox_listing(detector: &str, cells: &str, flag: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = ai4ict(
        dir.path(),
        &[
            "bench",
            "sandbox",
            "--detector",
            detector,
            "--cells",
            cells,
            "--days",
            "10",
            "--quiet-days",
            "7",
            "--history-days",
            "7",
            "--seed",
            "1",
            flag,
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    text
}

/// `bench sandbox --false-alerts` lists exactly the alerts the summary counts as false, each
/// with what it was held against.
#[test]
fn bench_sandbox_lists_the_false_alerts() {
    // "…; 12 alerts (9 true, 3 false); …"
    let text = bench_sandbox_listing("ensemble", "30", "--false-alerts");
    let false_alerts: usize = text
        .split(" true, ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a summary line");
    assert!(
        false_alerts > 0,
        "ensemble raises false alerts here: {text}"
    );
    assert!(
        text.contains(&format!("false alerts ({false_alerts}):")),
        "{text}"
    );
    let listed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" score 0.") || l.contains(" score 1."))
        .collect();
    assert_eq!(listed.len(), false_alerts, "{text}");
    assert!(listed.iter().all(|l| l.contains("cell-")), "{text}");
}

/// `bench sandbox --missed` lists exactly the actionable incidents the summary counts as
/// missed, each with its peak and its scores.
#[test]
fn bench_sandbox_lists_the_missed_incidents() {
    let text = bench_sandbox_listing("ewma", "20", "--missed");
    // "…; 11 of 14 actionable incidents detected; …"
    let counts: Vec<usize> = text
        .split("; ")
        .find(|s| s.ends_with("actionable incidents detected"))
        .expect("a summary line")
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let (detected, incidents) = (counts[0], counts[1]);
    assert!(detected < incidents, "ewma misses some here: {text}");
    assert!(
        text.contains(&format!("missed ({}):", incidents - detected)),
        "{text}"
    );
    let listed = text
        .lines()
        .filter(|l| l.contains(" points ≥ report level"))
        .count();
    assert_eq!(listed, incidents - detected, "{text}");
    let scores = text.lines().filter(|l| l.contains("scores ×100")).count();
    assert_eq!(scores, listed, "{text}");
}
