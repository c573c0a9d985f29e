//! Event time on a live source through the whole pipeline (Y.3172 §8.1 SRC/C): rows pushed
//! over HTTP out of order within the source's `lateness` are scored as if they had come in
//! order (the same rows, the same alerts), and rows older than the watermark are dropped and
//! counted in the source's note and SRC's figures. No external server: the HTTP push source
//! listens in the test.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ai4ict_connectors::HttpSourceConfig;
use ai4ict_core::SourceComponent;
use ai4ict_engine::dataflow::{self, PipelineSpec, Progress, RunOutput};
use ai4ict_engine::observe::Node;
use ai4ict_engine::Cluster;

const TOKEN: &str = "event-time-test-token-0123456789";
const ENTITIES: usize = 4;
const INTERVALS: usize = 500;
const START: i64 = 1_704_067_200; // 2024-01-01T00:00:00Z
const STEP: i64 = 900;

fn fields() -> Vec<String> {
    vec!["load".into()]
}

fn spec() -> PipelineSpec {
    PipelineSpec::new(fields(), ai4ict_core::Interval::from_minutes(15))
}

/// A daily cycle with a little deterministic noise, and a burst on cell-1 late in the run.
fn row(i: usize, e: usize) -> String {
    let day = (i as f64 / 96.0) * std::f64::consts::TAU;
    let noise = ((i * 7919 + e * 104_729) % 97) as f64 / 970.0;
    let burst = if e == 1 && (400..404).contains(&i) {
        5.0
    } else {
        0.0
    };
    let load = 1.0 + 0.5 * day.sin() + noise + burst;
    format!(
        r#"{{"entity":"cell-{e}","time":{},"load":{load}}}"#,
        START + i as i64 * STEP
    )
}

/// Every row, time-major.
fn in_order() -> Vec<String> {
    (0..INTERVALS)
        .flat_map(|i| (0..ENTITIES).map(move |e| row(i, e)))
        .collect()
}

/// POSTs `body` to the source at `port` (retrying while it is not listening yet or full).
fn post(port: u16, body: &str) {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < until, "the source did not take a request");
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        let head = format!(
            "POST /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body.as_bytes()).unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        match answer.get(9..12) {
            Some("202") => return,
            Some("503") => std::thread::sleep(Duration::from_millis(20)),
            _ => panic!("answered {answer:?}"),
        }
    }
}

/// Runs the pipeline on two workers with an HTTP push source (`lateness` when given) and
/// sends it `requests`, in order; what it produced and SRC's late rows.
fn run(lateness: Option<&str>, requests: &[String]) -> (RunOutput, u64) {
    let (port, var) = free_port_with_token();
    let mut cfg = serde_json::json!({
        "listen": format!("127.0.0.1:{port}"), "token_env": var, "until_idle": "2s",
    });
    if let Some(l) = lateness {
        cfg["lateness"] = l.into();
    }
    let cfg: HttpSourceConfig = serde_json::from_value(cfg).unwrap();
    let progress = Arc::new(Progress::default());
    let pipeline = {
        let feeds = cfg.open(&fields()).unwrap();
        let progress = Arc::clone(&progress);
        std::thread::spawn(move || {
            let cluster = Cluster {
                workers: 2,
                ..Cluster::default()
            };
            dataflow::run(
                spec(),
                &cluster,
                feeds,
                Arc::new(|| Ok(Vec::new())),
                progress,
            )
        })
    };
    for body in requests {
        post(port, body);
    }
    let out = pipeline.join().unwrap().unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let late = progress.nodes.node(Node::Src).figures().late_rows;
    (out, late)
}

#[test]
fn rows_out_of_order_within_lateness_score_as_in_order_and_late_ones_are_counted() {
    let rows = in_order();
    let requests = |rows: &[String]| -> Vec<String> {
        rows.chunks(50).map(|c| c.join("\n")).collect::<Vec<_>>()
    };
    let (want, late) = run(None, &requests(&rows));
    assert_eq!(late, 0);
    assert_eq!(want.rows, rows.len() as u64);
    assert!(!want.alerts.is_empty(), "the burst on cell-1 is alerted");

    // Two intervals of every entity at a time, reversed: each row is at most 15 minutes
    // behind the latest before it, within 30 minutes' lateness. Three rows an hour older
    // than the latest (and wild: scored, they would be alerted) are late.
    let mut shuffled = Vec::new();
    for (k, window) in rows.chunks(2 * ENTITIES).enumerate() {
        shuffled.extend(window.iter().rev().cloned());
        if [100, 200, 201].contains(&k) {
            let t = START + (2 * k as i64 - 3) * STEP;
            shuffled.push(format!(r#"{{"entity":"cell-2","time":{t},"load":1e6}}"#));
        }
    }
    let (got, late) = run(Some("30m"), &requests(&shuffled));
    assert_eq!(late, 3, "SRC counts the late rows");
    assert_eq!(
        got.rows, want.rows,
        "every row in time is scored, no late one"
    );
    assert_eq!(got.alerts, want.alerts);
    let note = got.source_notes.join("; ");
    assert!(
        note.contains(&format!("{} rows read", rows.len() + 3)),
        "{note}"
    );
    assert!(
        note.contains("3 late rows dropped (older than the watermark, lateness 30m)"),
        "{note}"
    );
}

/// A run stopped (Ctrl-C, SIGTERM, `POST /pipelines/{name}/stop`) scores the rows its
/// source still holds for event time: nothing read is lost.
#[test]
fn a_stopped_run_scores_the_rows_held_for_event_time() {
    let (port, var) = free_port_with_token();
    let cfg: HttpSourceConfig = serde_json::from_value(serde_json::json!({
        "listen": format!("127.0.0.1:{port}"), "token_env": var, "lateness": "1h",
    }))
    .unwrap();
    let progress = Arc::new(Progress::default());
    let pipeline = {
        let feeds = cfg.open(&fields()).unwrap();
        let progress = Arc::clone(&progress);
        std::thread::spawn(move || {
            dataflow::run(
                spec(),
                &Cluster::default(),
                feeds,
                Arc::new(|| Ok(Vec::new())),
                progress,
            )
        })
    };
    // 40 intervals: the watermark, an hour behind the latest, holds the last 4 back.
    let rows: Vec<String> = (0..40)
        .flat_map(|i| (0..ENTITIES).map(move |e| row(i, e)))
        .collect();
    post(port, &rows.join("\n"));
    let src = progress.nodes.node(Node::Src);
    let until = Instant::now() + Duration::from_secs(20);
    while src.figures().records_out < (36 * ENTITIES) as u64 {
        assert!(Instant::now() < until, "{:?}", src.figures());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(src.figures().records_out, (36 * ENTITIES) as u64);
    progress
        .stop
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let out = pipeline.join().unwrap().unwrap();
    assert!(out.stopped);
    assert_eq!(out.rows, rows.len() as u64, "the held rows were scored");
}

/// A free local port, and the name of an environment variable set to the push token for it.
fn free_port_with_token() -> (u16, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let var = format!("AI4ICT_EVENT_TIME_TOKEN_{port}");
    std::env::set_var(&var, TOKEN);
    (port, var)
}
