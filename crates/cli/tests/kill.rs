//! The kill test (issue 13): `ai4ict run --checkpoint` consuming NATS JetStream
//! (`AI4ICT_TEST_NATS`, as `.ci/nats.sh` starts it) is killed with SIGKILL mid-stream, after
//! some checkpoints, and restarted: every published record is scored, no alert of an
//! uninterrupted run is missing, and the alerts raised twice are all after the checkpoint the
//! restart resumed from. With one process, and with two where one of them is killed (its peer
//! then stops, and the cluster is restarted), reading the stream whole or, published in two
//! partitions, each process its own; and with `ai4ict serve` running the intent. Skipped,
//! saying so, without the server.

#![cfg(feature = "nats")]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use net::{free_port_pair, unique};

#[allow(dead_code)] // each test file uses part of it
#[path = "common/net.rs"]
mod net;

const BIN: &str = env!("CARGO_BIN_EXE_ai4ict");

/// The sandbox's telemetry (4 cells, 3 days) with a spike in two cells on days 2 and 3, as
/// (time, JSON row) in publishing order.
fn telemetry(dir: &Path) -> Vec<(String, String)> {
    let text = net::generated_telemetry(dir, 4, 3);
    text.lines()
        .map(|line| {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            let cell = v["entity"].as_str().unwrap().to_string();
            let t = v["time"].as_str().unwrap().to_string();
            let spike = (cell == "cell-0001"
                && ("2024-01-02T12:00:00Z".."2024-01-02T13:30:00Z").contains(&t.as_str()))
                || (cell == "cell-0002"
                    && ("2024-01-03T09:00:00Z".."2024-01-03T10:30:00Z").contains(&t.as_str()));
            if spike {
                v["latency"] = serde_json::json!(900.0);
                v["drop_rate"] = serde_json::json!(0.6);
                v["prb_util"] = serde_json::json!(1.0);
            }
            (t, v.to_string())
        })
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn jetstream(url: &str) -> async_nats::jetstream::Context {
    let client = async_nats::connect(url.trim_start_matches("nats://"))
        .await
        .unwrap();
    async_nats::jetstream::new(client)
}

/// Creates the stream.
fn create_stream(url: &str, stream: &str) {
    runtime().block_on(async {
        jetstream(url)
            .await
            .create_stream(async_nats::jetstream::stream::Config {
                name: stream.to_string(),
                subjects: vec![format!("{}.>", stream.to_lowercase())],
                ..Default::default()
            })
            .await
            .unwrap();
    });
}

/// The entity of a JSON row.
fn entity(row: &str) -> ai4ict_core::Entity {
    let v: serde_json::Value = serde_json::from_str(row).unwrap();
    ai4ict_core::Entity::new(v["entity"].as_str().unwrap())
}

/// Publishes `rows`, each acknowledged by JetStream, `gap` apart: a live stream; in
/// `partitions`, each to its entity's partition.
fn publish(
    url: &str,
    stream: &str,
    rows: &[(String, String)],
    gap: Duration,
    partitions: Option<u32>,
) {
    runtime().block_on(async {
        let js = jetstream(url).await;
        for (_, row) in rows {
            let mut subject = format!("{}.kpi", stream.to_lowercase());
            if let Some(p) = partitions {
                subject = format!("{subject}.{}", entity(row).owner(p as usize));
            }
            js.publish(subject, row.clone().into())
                .await
                .unwrap()
                .await
                .unwrap();
            tokio::time::sleep(gap).await;
        }
    });
}

/// The intent reading `stream` through `durable` (in `partitions`: the partitions' prefix
/// and count, as a line of the source), alerting into `alerts`.
fn intent(dir: &Path, file: &str, url: &str, stream: &str, durable: &str, alerts: &str, end: &str) {
    let text = format!(
        "name: kill-test
use_case: operations
source:
  nats:
    url: {url}
    stream: {stream}
    durable: {durable}
    buffer: 10
    ack_wait: 5s
    {end}
collect:
  fields: [prb_util, dl_throughput, drop_rate, latency]
sandbox: {{ cells: 4, days: 3, quiet_days: 1, seed: 3 }}
model:
  anomaly: {{ detector: ewma }}
policy:
  alert: {{ score_above: 0.9, for: 2 }}
distribute:
  - file: {{ path: {alerts} }}
"
    );
    std::fs::write(dir.join(file), text).unwrap();
}

/// Starts the cluster of `processes` running `file` with `args` (checkpoints in `ckpt/`).
fn start(dir: &Path, file: &str, processes: usize, args: &[&str]) -> Vec<Child> {
    let port = free_port_pair().to_string();
    (0..processes)
        .map(|i| {
            Command::new(BIN)
                .args(["run", file, "--quiet", "--no-hub", "--force"])
                .args(args)
                .args(["--processes", &processes.to_string()])
                .args(["--process", &i.to_string(), "--base-port", &port])
                .args(["--connect-timeout", "30"])
                .current_dir(dir)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect()
}

fn said(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The latest complete checkpoint's epoch in `ckpt/` (0: none).
fn latest_epoch(dir: &Path) -> u64 {
    std::fs::read_dir(dir.join("ckpt"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().join("manifest").is_file())
                .filter_map(|e| e.file_name().to_str()?.strip_prefix("ckpt-")?.parse().ok())
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

/// (time in ms, entity, field) of each alert in a JSON-lines file.
fn alerts(path: &Path) -> Vec<(i64, String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            (v["time"].as_i64().unwrap(), s("entity"), s("field"))
        })
        .collect()
}

/// The number after `before` and before `after` in `text`.
fn number(text: &str, before: &str, after: &str) -> u64 {
    let start = text
        .find(before)
        .unwrap_or_else(|| panic!("`{before}` in {text}"))
        + before.len();
    let rest = &text[start..];
    rest[..rest.find(after).unwrap()].trim().parse().unwrap()
}

/// The number just before `after` in `text`.
fn number_before(text: &str, after: &str) -> u64 {
    let end = text
        .find(after)
        .unwrap_or_else(|| panic!("`{after}` in {text}"));
    let head = &text[..end];
    let start = head
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    head[start..].parse().unwrap()
}

/// Each entity's partition's stream sequence in the latest checkpoint (every entity's the
/// same for a stream read whole).
fn checkpointed(dir: &Path, partitions: Option<u32>) -> impl Fn(&str) -> u64 {
    let last = ai4ict_engine::checkpoint::latest(&dir.join("ckpt"), partitions)
        .unwrap()
        .expect("a checkpoint before the kill");
    let seq = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap());
    let position = last.resume.position;
    move |name: &str| match partitions {
        None => seq(&position),
        Some(p) => {
            let k = ai4ict_core::Entity::new(name).owner(p as usize) as u32;
            position
                .chunks_exact(12)
                .find(|r| u32::from_le_bytes(r[..4].try_into().unwrap()) == k)
                .map_or(0, |r| seq(&r[4..]))
        }
    }
}

/// The test's telemetry (written in `d`) on a new stream named from `prefix`, published
/// live on a thread (in `partitions`, each row to its entity's): the rows, the stream, the
/// thread.
fn publishing(
    d: &Path,
    url: &str,
    prefix: &str,
    partitions: Option<u32>,
) -> (Vec<(String, String)>, String, std::thread::JoinHandle<()>) {
    let rows = telemetry(d);
    let stream = unique(prefix);
    create_stream(url, &stream);
    let publisher = {
        let (url, stream, rows) = (url.to_string(), stream.clone(), rows.clone());
        let gap = Duration::from_millis(3);
        std::thread::spawn(move || publish(&url, &stream, &rows, gap, partitions))
    };
    (rows, stream, publisher)
}

/// Waits for a few checkpoints and the first alert in `alerts1.jsonl`, then two checkpoints
/// more, which cover that alert: the moment to kill.
fn wait_for_a_covered_alert(d: &Path) {
    let until = Instant::now() + Duration::from_secs(60);
    while latest_epoch(d) < 3 || alerts(&d.join("alerts1.jsonl")).is_empty() {
        assert!(
            Instant::now() < until,
            "no checkpoints and alerts within 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let covered = latest_epoch(d) + 2;
    while latest_epoch(d) < covered {
        assert!(Instant::now() < until, "no checkpoints within 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kill_and_restart(processes: usize, partitions: Option<u32>) {
    let Ok(url) = std::env::var("AI4ICT_TEST_NATS") else {
        eprintln!("AI4ICT_TEST_NATS is not set: skipped (.ci/run starts nats-server and sets it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (rows, stream, publisher) = publishing(d, &url, "AI4ICT_KILL_", partitions);
    let n = rows.len();
    // Read whole, or each process its partition.
    let read = |end: &str| match partitions {
        None => end.to_string(),
        Some(p) => format!(
            "subject: {}.kpi\n    partitions: {p}\n    {end}",
            stream.to_lowercase()
        ),
    };

    // Killed mid-stream, while records are still being published, after a few checkpoints and
    // the first spike's alerts, and a checkpoint that covers them.
    intent(
        d,
        "run1.yaml",
        &url,
        &stream,
        "scorer",
        "alerts1.jsonl",
        &read("until_idle: 60s"),
    );
    let flags = ["--checkpoint", "ckpt", "--checkpoint-every", "200ms"];
    let mut first = start(d, "run1.yaml", processes, &flags);
    wait_for_a_covered_alert(d);
    let victim = processes - 1;
    first[victim].kill().unwrap();
    let _ = first[victim].wait();
    for (i, p) in first.into_iter().enumerate().filter(|(i, _)| *i != victim) {
        // The killed process's peer stops with an error, without hanging.
        let out = p.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1), "process {i}: {}", said(&out));
    }
    publisher.join().unwrap();

    let reference = reference(d, &url, &stream, n);

    // Restarted, with the intent's `checkpoint` instead of the flags: resumes from the latest
    // checkpoint and reads on until the stream is idle.
    intent(
        d,
        "run2.yaml",
        &url,
        &stream,
        "scorer",
        "alerts2.jsonl",
        &read("until_idle: 4s\ncheckpoint: { dir: ckpt, interval: 200ms }"),
    );
    let position_of = checkpointed(d, partitions);
    let outs: Vec<Output> = start(d, "run2.yaml", processes, &[])
        .into_iter()
        .map(|p| p.wait_with_output().unwrap())
        .collect();
    for (i, o) in outs.iter().enumerate() {
        assert!(o.status.success(), "process {i}: {}", said(o));
    }
    check_restart(
        d,
        &said(&outs[0]),
        &url,
        &stream,
        &rows,
        &reference,
        &position_of,
    );
}

/// The alerts of the whole stream of `n` records, read uninterrupted without checkpoints.
fn reference(d: &Path, url: &str, stream: &str, n: usize) -> Vec<(i64, String, String)> {
    intent(
        d,
        "ref.yaml",
        url,
        stream,
        "reference",
        "ref.jsonl",
        &format!("max_rows: {n}"),
    );
    let out = Command::new(BIN)
        .args(["run", "ref.yaml", "--quiet", "--no-hub"])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", said(&out));
    let reference = alerts(&d.join("ref.jsonl"));
    assert!(
        reference.len() >= 2,
        "the spikes raise alerts: {reference:?}"
    );
    reference
}

/// Checks a restarted run (`text`: what it said of its deployment) against the records and
/// the uninterrupted run's alerts: it resumed mid-stream from a checkpoint, read exactly what
/// that did not cover, lost no alert of `alerts1.jsonl` + `alerts2.jsonl` and raised twice
/// only rows after the checkpoint (`position_of` an entity: its partition's sequence there).
fn check_restart(
    d: &Path,
    text: &str,
    url: &str,
    stream: &str,
    rows: &[(String, String)],
    reference: &[(i64, String, String)],
    position_of: &dyn Fn(&str) -> u64,
) {
    let n = rows.len();
    let resumed = number(text, "entities after ", " rows)");
    assert!(
        0 < resumed && resumed < n as u64,
        "killed mid-stream: {text}"
    );
    assert_eq!(
        number_before(text, &format!(" rows from {url} stream {stream}")) + resumed,
        n as u64,
        "the restart read what the checkpoint did not cover: {text}"
    );
    assert_eq!(
        number(text, "covers ", " rows in all"),
        n as u64,
        "every published record is scored: {text}"
    );

    let want: BTreeSet<_> = reference.iter().cloned().collect();
    let a1: BTreeSet<_> = alerts(&d.join("alerts1.jsonl")).into_iter().collect();
    let a2: BTreeSet<_> = alerts(&d.join("alerts2.jsonl")).into_iter().collect();
    let union: BTreeSet<_> = a1.union(&a2).cloned().collect();
    assert_eq!(union, want, "no alert lost, none invented");
    // Each row's stream sequence (published in order, from 1), by time and entity.
    let sequence: std::collections::BTreeMap<(i64, String), u64> = rows
        .iter()
        .enumerate()
        .map(|(i, (t, row))| {
            let ms = chrono::DateTime::parse_from_rfc3339(t)
                .unwrap()
                .timestamp_millis();
            ((ms, entity(row).name().to_string()), i as u64 + 1)
        })
        .collect();
    eprintln!(
        "{n} records, resumed after {resumed}; alerts: {} reference, \
         {} before the kill, {} after the restart, {} raised twice",
        want.len(),
        a1.len(),
        a2.len(),
        a1.intersection(&a2).count()
    );
    for twice in a1.intersection(&a2) {
        let seq = sequence[&(twice.0, twice.1.clone())];
        assert!(
            seq > position_of(&twice.1),
            "{twice:?} raised twice, though its row {seq} is before the checkpoint"
        );
    }
}

#[test]
fn killed_with_sigkill_and_restarted_scores_every_record_and_loses_no_alert() {
    kill_and_restart(1, None);
}

#[test]
fn one_of_two_processes_killed_and_the_cluster_restarted_loses_nothing() {
    kill_and_restart(2, None);
}

#[test]
fn one_of_two_processes_reading_their_partitions_killed_and_the_cluster_restarted_loses_nothing() {
    kill_and_restart(2, Some(2));
}

/// `ai4ict serve` running an intent with `checkpoint:` is killed with SIGKILL mid-stream and
/// started again on the same intent, as a service manager restarts it (docs/deployment.md):
/// the pipeline resumes from the latest checkpoint, every record is scored, no alert is lost.
#[test]
fn serve_killed_and_restarted_resumes_its_pipeline_from_the_checkpoint() {
    let Ok(url) = std::env::var("AI4ICT_TEST_NATS") else {
        eprintln!("AI4ICT_TEST_NATS is not set: skipped (.ci/run starts nats-server and sets it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (rows, stream, publisher) = publishing(d, &url, "AI4ICT_SERVE_KILL_", None);
    let n = rows.len();
    let checkpoint = "checkpoint: { dir: ckpt, interval: 200ms }";
    intent(
        d,
        "serve.yaml",
        &url,
        &stream,
        "scorer",
        "alerts1.jsonl",
        &format!("until_idle: 60s\n{checkpoint}"),
    );
    let mut first = serve(d, "serve1.log");
    wait_for_a_covered_alert(d);
    first.kill().unwrap();
    let _ = first.wait();
    assert!(
        !d.join("served/kill-test/report.json").exists(),
        "a killed server writes no report"
    );
    publisher.join().unwrap();
    let reference = reference(d, &url, &stream, n);

    // The same intent (its alerts into a second file, to tell them apart), until idle.
    intent(
        d,
        "serve.yaml",
        &url,
        &stream,
        "scorer",
        "alerts2.jsonl",
        &format!("until_idle: 4s\n{checkpoint}"),
    );
    let position_of = checkpointed(d, None);
    let mut second = serve(d, "serve2.log");
    let report = d.join("served/kill-test/report.json");
    let until = Instant::now() + Duration::from_secs(120);
    let text = loop {
        let done = std::fs::read_to_string(&report)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
        if let Some(r) = done {
            break r["stages"].to_string();
        }
        assert!(
            second.try_wait().unwrap().is_none(),
            "the server stopped without a report"
        );
        assert!(Instant::now() < until, "no report within 120 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = second.kill();
    let _ = second.wait();
    for log in ["serve1.log", "serve2.log"] {
        eprintln!(
            "{log}:\n{}",
            std::fs::read_to_string(d.join(log)).unwrap_or_default()
        );
    }
    check_restart(d, &text, &url, &stream, &rows, &reference, &position_of);
}

/// Starts `ai4ict serve serve.yaml` in `d` (reports in `served/`, what it says in `log`), on a
/// port of its choosing.
fn serve(d: &Path, log: &str) -> Child {
    Command::new(BIN)
        .args(["serve", "serve.yaml", "--addr", "127.0.0.1:0", "--no-hub"])
        .args(["--db", "hub.db", "--runs", "served"])
        .env("AI4ICT_HUB_TOKEN", "serve-kill-test-token-0123456789")
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(d.join(log)).unwrap())
        .spawn()
        .unwrap()
}
