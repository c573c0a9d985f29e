//! End-to-end tests of a lifecycle operators can trust: honest stages and exit codes when a run
//! is interrupted or misses its targets, nothing published from a partial run, no panic on a
//! closed stdout, no file overwritten silently, and a hub that refuses foreign databases.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ai4ict");

/// Named like the built-in intent, so a completed run would become its use case's evidence and
/// publish a model; big enough that the evaluation runs for several seconds.
const LONG_INTENT: &str = "name: cell-kpi-anomaly
use_case: operations
source:
  sandbox: { cells: 200, days: 21, quiet_days: 7, seed: 7 }
preprocess:
  - fill_gaps: linear
model:
  anomaly: { detector: auto }
policy:
  alert: { score_above: 0.9, for: 2, suppress: 2h }
distribute: []
targets: { precision: 0.5, recall: 0.5 }
";

/// A quick intent; `{targets}` and `{distribute}` are filled in by the tests.
fn small_intent(targets: &str, distribute: &str) -> String {
    format!(
        "name: small
use_case: operations
source:
  sandbox: {{ cells: 8, days: 4, quiet_days: 2, seed: 5 }}
model:
  anomaly: {{ detector: robust_seasonal }}
policy:
  alert: {{ score_above: 0.9, for: 2 }}
distribute: {distribute}
targets: {targets}
"
    )
}

/// An intent named `name` on the `prb_util` column of a file source (`file` the body of its
/// `file:` map), sending its alerts to `distribute`.
fn file_intent(name: &str, file: &str, distribute: &str) -> String {
    format!(
        "name: {name}
use_case: operations
source:
  file: {{ {file} }}
collect: {{ fields: [prb_util], interval: 15m }}
sandbox: {{ cells: 4, days: 3, quiet_days: 1 }}
distribute: {distribute}
"
    )
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .current_dir(dir)
        .env("AI4ICT_HUB", dir.join("hub.db"));
    c
}

fn ai4ict(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("the binary runs")
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Waits for `child` at most `limit`; kills it and fails the test when it takes longer.
fn wait_at_most(mut child: Child, limit: Duration, what: &str) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!("{what} still running after {limit:?}\n{}", text(&out));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `ai4ict run`, waits until the MLFO has printed its plan (the signal handlers are in
/// place by then), lets the evaluation run for a second, sends `signal`, and returns the output.
fn interrupted_run(dir: &Path, signal: &str) -> Output {
    std::fs::write(dir.join("intent.yaml"), LONG_INTENT).unwrap();
    let mut child = command(
        dir,
        &[
            "run",
            "intent.yaml",
            "--quiet",
            "--hub",
            dir.join("run-hub.db").to_str().unwrap(),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("the binary runs");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains("pipeline planned") {
                let _ = tx.send(());
            }
            lines.push(line);
        }
        lines
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the plan is printed");
    std::thread::sleep(Duration::from_secs(1));
    let killed = Command::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut out = wait_at_most(child, Duration::from_secs(120), "the interrupted run");
    out.stdout = reader.join().unwrap().join("\n").into_bytes();
    out
}

fn assert_nothing_in_hub(db: &Path) {
    let mut hub = ai4ict_hub::Hub::open(db.to_str().unwrap()).unwrap();
    let models = hub.models(&ai4ict_hub::ModelQuery::default()).unwrap();
    assert!(
        models.is_empty(),
        "a partial run published {} model(s)",
        models.len()
    );
    let evidence = hub
        .use_case("cell-kpi-anomaly")
        .unwrap()
        .and_then(|r| r.use_case.evidence);
    assert!(
        evidence.is_none(),
        "a partial run was recorded as evidence: {evidence:?}"
    );
    assert!(
        hub.levels().unwrap().is_empty(),
        "a partial run recorded a level"
    );
}

fn check_interrupted(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = interrupted_run(dir.path(), signal);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(130), "{all}");
    assert!(!all.contains("aliased `production`"), "{all}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/cell-kpi-anomaly/report.json"))
            .expect("the partial report is written"),
    )
    .unwrap();
    let stages = report["stages"].as_array().unwrap();
    let status = |name: &str| {
        stages
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| s["status"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(status("evaluate").as_deref(), Some("stopped"), "{report}");
    assert!(
        stages
            .iter()
            .all(|s| s["status"] != "done" || s["name"] == "validate" || s["name"] == "plan"),
        "no stage after the interruption may say done: {report}"
    );
    assert_eq!(report["passed"], false, "{report}");
    assert_eq!(report["stopped"], true, "{report}");
    assert_nothing_in_hub(&dir.path().join("run-hub.db"));
}

#[test]
fn sigint_during_evaluation_exits_130_and_publishes_nothing() {
    check_interrupted("INT");
}

#[test]
fn sigterm_drains_like_sigint() {
    check_interrupted("TERM");
}

#[test]
fn missed_targets_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("intent.yaml"),
        small_intent("{ p99_latency_ms: 0.0000001 }", "[]"),
    )
    .unwrap();
    let out = ai4ict(dir.path(), &["run", "intent.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("p99_latency_ms"));
}

#[test]
fn help_documents_exit_codes() {
    let out = ai4ict(Path::new("."), &["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for code in ["0 ", "1 ", "2 ", "3 ", "130 "] {
        assert!(
            help.contains(&format!("\n  {code}")),
            "exit code {code}: {help}"
        );
    }
}

/// Runs `args` with a stdout whose reader has gone away, as `… | head` leaves it.
fn closed_stdout(dir: &Path, args: &[&str]) -> Output {
    let mut child = command(dir, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    drop(child.stdout.take());
    wait_at_most(child, Duration::from_secs(120), args[0])
}

#[test]
fn a_closed_stdout_is_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("intent.yaml"),
        small_intent("{}", "[ { stdout: { limit: 0 } } ]"),
    )
    .unwrap();
    let out = closed_stdout(d, &["run", "intent.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("panicked"), "{}", text(&out));
    assert!(
        d.join("out/small/report.json").exists(),
        "the report is written"
    );

    let out = closed_stdout(d, &["validate", "intent.yaml", "intent.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let out = ai4ict(
        d,
        &[
            "sandbox", "generate", "--cells", "3", "--days", "3", "--out", "net", "--format", "csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = closed_stdout(d, &["detect", "--input", "net/telemetry.csv"]);
    assert!(
        !text(&out).contains("panicked") && out.status.code() != Some(101),
        "{}",
        text(&out)
    );
}

#[test]
fn validate_refuses_devices_and_huge_files_without_reading_them() {
    let dir = tempfile::tempdir().unwrap();
    let child = command(dir.path(), &["validate", "/dev/zero"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_at_most(child, Duration::from_secs(10), "validate /dev/zero");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a regular file"),
        "{}",
        text(&out)
    );

    let big = dir.path().join("big.yaml");
    std::fs::write(&big, vec![b'#'; 3 << 20]).unwrap();
    let out = ai4ict(dir.path(), &["validate", "big.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("at most 1048576"),
        "{}",
        text(&out)
    );
}

#[test]
fn file_sinks_refuse_existing_files_unless_told() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |mode: &str| {
        std::fs::write(
            d.join("intent.yaml"),
            small_intent(
                "{}",
                &format!("[ {{ file: {{ path: alerts.jsonl{mode} }} }} ]"),
            ),
        )
        .unwrap();
    };
    write("");
    std::fs::write(d.join("alerts.jsonl"), "precious\n").unwrap();
    let out = ai4ict(d, &["run", "intent.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("alerts.jsonl") && err.contains("mode: append"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(d.join("alerts.jsonl")).unwrap(),
        "precious\n"
    );

    write(", mode: append");
    let out = ai4ict(d, &["run", "intent.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let appended = std::fs::read_to_string(d.join("alerts.jsonl")).unwrap();
    assert!(appended.starts_with("precious\n"), "{appended}");

    write("");
    let out = ai4ict(d, &["run", "intent.yaml", "--quiet", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let replaced = std::fs::read_to_string(d.join("alerts.jsonl")).unwrap();
    assert!(!replaced.contains("precious"), "{replaced}");
}

#[test]
fn quarantine_refuses_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("kpis.csv"),
        "entity,time,prb_util\ncell-1,2024-01-01T00:00:00Z,0.5\ncell-1,bad,0.4\n",
    )
    .unwrap();
    std::fs::write(d.join("kpis.quarantine.csv"), "earlier bad rows\n").unwrap();
    let out = ai4ict(
        d,
        &["detect", "--input", "kpis.csv", "--on-error", "quarantine"],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("kpis.quarantine.csv"), "{all}");
    assert_eq!(
        std::fs::read_to_string(d.join("kpis.quarantine.csv")).unwrap(),
        "earlier bad rows\n"
    );
}

#[test]
fn hub_refuses_a_foreign_database() {
    let dir = tempfile::tempdir().unwrap();
    let db: PathBuf = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine')")
        .unwrap();
    drop(conn);
    let before = std::fs::read(&db).unwrap();
    for args in [
        &["hub", "usecases", "list"][..],
        &["hub", "standards", "search", "sandbox"][..],
        &["run", "intent.yaml", "--quiet"][..],
    ] {
        std::fs::write(dir.path().join("intent.yaml"), small_intent("{}", "[]")).unwrap();
        let mut args = args.to_vec();
        args.extend([
            if args[0] == "run" { "--hub" } else { "--db" },
            db.to_str().unwrap(),
        ]);
        let out = ai4ict(dir.path(), &args);
        let all = text(&out);
        assert!(all.contains("not an ai4ict hub"), "{args:?}: {all}");
    }
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the foreign database is untouched"
    );
}

#[test]
fn read_only_hub_commands_do_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let out = ai4ict(dir.path(), &["hub", "usecases", "list"]);
    assert!(
        !db.exists(),
        "a read-only command created {}: {}",
        db.display(),
        text(&out)
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // A hub made by a writing command, then put in rollback-journal mode by its owner.
    let out = ai4ict(dir.path(), &["hub", "review-due", "--set-cycle", "ITU-T=4"]);
    assert!(out.status.success(), "{}", text(&out));
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    drop(conn);
    for args in [
        &["hub", "usecases", "list"][..],
        &["hub", "standards", "search", "machine learning"][..],
    ] {
        let out = ai4ict(dir.path(), args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        mode, "delete",
        "a read-only command switched the journal mode"
    );
}

#[test]
fn out_of_order_rows_are_noted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // As in the shared bad-input corpus's csv_out_of_order_duplicates.csv.
    std::fs::write(
        d.join("kpis.csv"),
        "entity,time,prb_util\ncell-1,2024-01-01T00:30:00Z,0.5\n\
         cell-1,2024-01-01T00:00:00Z,0.4\ncell-1,2024-01-01T00:00:00Z,0.6\n",
    )
    .unwrap();
    let out = ai4ict(d, &["detect", "--input", "kpis.csv"]);
    let all = text(&out);
    assert!(all.contains("1 row out of order"), "{all}");
    assert!(all.contains("1 duplicate time"), "{all}");
    assert!(all.contains("cell-1"), "{all}");

    // The run's deploy stage notes them too.
    std::fs::write(
        d.join("intent.yaml"),
        file_intent("disorder", "path: kpis.csv", "[]"),
    )
    .unwrap();
    let out = ai4ict(d, &["run", "intent.yaml", "--quiet", "--no-hub"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("source: 3 rows read; 1 row out of order (time going backwards) and 1 duplicate time in 1 entity: \"cell-1\""),
        "{all}"
    );
}

/// A file exported newest first is scored oldest first, as the same file in time order is:
/// the detectors learn forwards, and a watermark would drop all but its newest rows.
#[test]
fn a_newest_first_file_runs_as_its_time_ordered_twin() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut rows = Vec::new();
    for i in 0..4 * 96 {
        for cell in ["cell-1", "cell-2"] {
            let t = 1_704_067_200 + i * 900;
            let day = (i % 96) as f64 / 96.0 * std::f64::consts::TAU;
            let noise = ((i * 7919 + cell.len() as i64 * 31) % 13) as f64 / 100.0;
            let burst = cell == "cell-2" && (340..344).contains(&i);
            let v = if burst {
                3.0
            } else {
                0.5 + 0.2 * day.sin() + noise
            };
            rows.push(format!("{cell},{t},{v:.4}"));
        }
    }
    let header = "entity,time,prb_util\n";
    std::fs::write(
        d.join("oldest.csv"),
        format!("{header}{}\n", rows.join("\n")),
    )
    .unwrap();
    rows.reverse();
    std::fs::write(
        d.join("newest.csv"),
        format!("{header}{}\n", rows.join("\n")),
    )
    .unwrap();
    let mut alerts = Vec::new();
    for name in ["oldest", "newest"] {
        std::fs::write(
            d.join(format!("{name}.yaml")),
            file_intent(
                &format!("order-{name}"),
                &format!("path: {name}.csv"),
                &format!("[{{ file: {{ path: {name}-alerts.jsonl }} }}]"),
            ),
        )
        .unwrap();
        let out = ai4ict(d, &["run", &format!("{name}.yaml"), "--quiet", "--no-hub"]);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "{all}");
        assert_eq!(
            all.contains("runs newest first: read whole and delivered oldest first"),
            name == "newest",
            "{all}"
        );
        assert!(all.contains("768 rows"), "{all}");
        alerts.push(std::fs::read_to_string(d.join(format!("{name}-alerts.jsonl"))).unwrap());
    }
    assert!(
        alerts[0].contains("cell-2"),
        "the burst is alerted: {}",
        alerts[0]
    );
    assert_eq!(alerts[0], alerts[1]);

    // With `on_error: fail`, the rows before a bad one are delivered, then the run fails
    // naming it.
    rows.insert(100, "cell-1,1704067200,high".into());
    std::fs::write(d.join("bad.csv"), format!("{header}{}\n", rows.join("\n"))).unwrap();
    std::fs::write(
        d.join("bad.yaml"),
        file_intent("order-bad", "path: bad.csv, on_error: fail", "[]"),
    )
    .unwrap();
    let out = ai4ict(d, &["run", "bad.yaml", "--quiet", "--no-hub"]);
    let all = text(&out);
    assert_ne!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("100 rows from bad.csv"), "{all}");
    assert!(all.contains("bad.csv:102: column `prb_util`"), "{all}");
}
