//! `ai4ict serve`: pipelines started from the command line and over the API run their whole
//! lifecycle, show their figures in `/pipelines` and `/metrics`, stop on `DELETE`, and drain
//! with a report on SIGTERM; starting one needs the write token.
#![cfg(unix)]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ai4ict");
const TOKEN: &str = "serve-test-token-0123456789abcdef";

/// A running `ai4ict serve`; killed when dropped.
struct Server {
    child: Child,
    url: String,
    stderr: Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An intent on a small sandbox network: `days` days, of which 3 train the model.
fn intent(name: &str, days: u32) -> String {
    format!(
        "name: {name}\nuse_case: operations\n\
         source:\n  sandbox: {{ cells: 12, days: {days}, quiet_days: 3, seed: 11, incident_rate: 3 }}\n\
         collect:\n  fields: [prb_util, active_users, dl_throughput, latency]\n  interval: 15m\n\
         model:\n  anomaly: {{ detector: auto }}\n\
         policy:\n  alert: {{ score_above: 0.9, for: 2 }}\n\
         distribute:\n  - file: {{ path: alerts-{name}.jsonl }}\n"
    )
}

impl Server {
    fn start(dir: &Path, args: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(args)
            .args([
                "--addr",
                "127.0.0.1:0",
                "--db",
                "hub.db",
                "--runs",
                "out",
                "--no-hub",
            ])
            .current_dir(dir)
            .env("AI4ICT_HUB_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, stderr) = channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = loop {
            let line = stderr
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("the server did not say where it serves");
            if let Some(rest) = line.strip_prefix("ai4ict serving on ") {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        Server { child, url, stderr }
    }

    fn call(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let url = format!("{}{path}", self.url);
        let auth = token.map(|t| format!("Bearer {t}"));
        let resp = match method {
            "GET" => agent.get(&url).call(),
            "DELETE" => {
                let mut r = agent.delete(&url);
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.call()
            }
            _ => {
                let mut r = agent.post(&url);
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.send(body)
            }
        };
        let mut resp = resp.unwrap();
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_to_string().unwrap_or_default())
    }

    /// The head and first event of a server-sent event stream (read until its blank line).
    fn first_event(&self, path: &str) -> String {
        use std::io::{Read as _, Write as _};
        let addr = self.url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let (mut got, mut buf) = (Vec::new(), [0u8; 4096]);
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got);
            if text.contains("event: pipelines") && text.contains("\n\n") {
                let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
                if body.contains("\n\n") {
                    break;
                }
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    }

    fn pipeline(&self, name: &str) -> Value {
        let (status, body) = self.call("GET", &format!("/pipelines/{name}"), None, "");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Polls the pipeline until `done` holds for its status.
    fn wait(&self, name: &str, secs: u64, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let p = self.pipeline(name);
            if done(&p) {
                return p;
            }
            assert!(Instant::now() < deadline, "{name} never got there: {p}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn said(&self) -> String {
        let mut lines = Vec::new();
        while let Ok(l) = self.stderr.recv_timeout(Duration::from_millis(300)) {
            lines.push(l);
        }
        lines.join("\n")
    }
}

#[test]
fn pipelines_run_stop_over_the_api_and_drain_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("quick.yaml"), intent("quick", 4)).unwrap();
    // 4 days, 3 of them training: one deployed day at 7,200× real time is 12 s.
    let server = Server::start(dir.path(), &["quick.yaml", "--speed", "7200"]);

    let quick = server.wait("quick", 180, |p| p["state"] != "running");
    assert_eq!(quick["state"], "finished", "{quick}");
    let alerts = quick["alerts"].as_u64().unwrap();
    assert!(alerts > 0 && quick["rows"].as_u64().unwrap() > 0, "{quick}");
    let written = std::fs::read_to_string(dir.path().join("alerts-quick.jsonl")).unwrap();
    assert_eq!(
        written.lines().count() as u64,
        alerts,
        "every alert reached the sink"
    );
    assert!(dir.path().join("out/quick/report.html").is_file());
    // `ai4ict top` shows it.
    let table = top_once(&server.url);
    assert!(
        table.contains("quick") && table.contains("finished"),
        "{table}"
    );
    // The console's live page lists it, links its report, and reloads itself.
    let (status, page) = server.call("GET", "/ui/pipelines", None, "");
    assert_eq!(status, 200);
    assert!(page.contains(r#"data-pipeline="quick""#), "{page}");
    assert!(page.contains("/ui/run?id=quick") && page.contains(r#"http-equiv="refresh""#));
    assert!(
        page.contains(r#"<script src="/ui/live.js" defer>"#),
        "{page}"
    );
    // The event stream it follows carries the same pipelines.
    let events = server.first_event("/events/pipelines");
    assert!(
        events.contains("event: pipelines") && events.contains(r#""name":"quick""#),
        "{events}"
    );

    // Starting a pipeline is a write: the token is needed, and the intent is checked as a
    // remote one (nothing outside the working directory).
    let slow = intent("slow", 12);
    assert_eq!(server.call("POST", "/pipelines", None, &slow).0, 401);
    let escaping = slow.replace("alerts-slow.jsonl", "/tmp/elsewhere.jsonl");
    let (status, body) = server.call("POST", "/pipelines", Some(TOKEN), &escaping);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("leaves the working directory"), "{body}");
    let (status, body) = server.call("POST", "/pipelines", Some(TOKEN), &slow);
    assert_eq!(status, 201, "{body}");
    let (status, _) = server.call("POST", "/pipelines", Some(TOKEN), &slow);
    assert_eq!(status, 409, "one pipeline per name");

    // Deployed and reading at its pace: its figures are in /metrics.
    server.wait("slow", 120, |p| {
        p["phase"] == "deploy" && p["event_time"].is_string()
    });
    let (_, metrics) = server.call("GET", "/metrics", None, "");
    assert!(
        metrics.contains("ai4ict_pipeline_running{pipeline=\"slow\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("ai4ict_pipeline_running{pipeline=\"quick\"} 0"));
    assert!(metrics.contains(&format!(
        "ai4ict_pipeline_alerts_total{{pipeline=\"quick\"}} {alerts}"
    )));

    // DELETE stops it: it drains and writes a partial report.
    assert_eq!(server.call("DELETE", "/pipelines/slow", None, "").0, 401);
    let (status, body) = server.call("DELETE", "/pipelines/slow", Some(TOKEN), "");
    assert_eq!(status, 202, "{body}");
    let slow_end = server.wait("slow", 60, |p| {
        p["state"] != "stopping" && p["state"] != "running"
    });
    assert_eq!(slow_end["state"], "stopped", "{slow_end}");
    assert!(dir.path().join("out/slow/report.json").is_file());
    assert_eq!(
        server.call("DELETE", "/pipelines/none", Some(TOKEN), "").0,
        404
    );

    // SIGTERM: a running pipeline drains, writes its report, and the server exits 0.
    let (status, _) = server.call("POST", "/pipelines", Some(TOKEN), &intent("last", 12));
    assert_eq!(status, 201);
    server.wait("last", 120, |p| p["phase"] == "deploy");
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let mut server = server;
    let deadline = Instant::now() + Duration::from_secs(60);
    let exit = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not drain and stop"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let said = server.said();
    assert!(exit.success(), "{exit:?}: {said}");
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/last/report.json")).unwrap(),
    )
    .unwrap();
    let stages = report["stages"].to_string();
    assert!(
        stages.contains("stopped"),
        "the drained run says it was stopped: {stages}"
    );
}

/// The value of `name{pipeline="…",node="…"}` in a `/metrics` page.
fn node_series(metrics: &str, name: &str, pipeline: &str, node: &str) -> f64 {
    let key = format!("{name}{{pipeline=\"{pipeline}\",node=\"{node}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&key))
        .unwrap_or_else(|| panic!("no {key}in\n{metrics}"))
        .parse()
        .unwrap()
}

#[test]
fn nodes_show_their_figures_in_metrics_and_top_and_can_be_tapped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nodes.yaml"), intent("nodes", 12)).unwrap();
    // 9 deployed days at 7,200× real time: 108 s, stopped once checked.
    let server = Server::start(dir.path(), &["nodes.yaml", "--speed", "7200"]);
    let p = server.wait("nodes", 180, |p| {
        p["phase"] == "deploy" && p["nodes"][2]["records_out"].as_u64().unwrap_or(0) > 0
    });
    let names: Vec<&str> = p["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["node"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["SRC", "PP", "M", "P", "SINK"], "{p}");
    let m = &p["nodes"][2];
    assert!(m["state_bytes"].as_u64().unwrap() > 0, "{m}");
    assert!(m["scores"]["count"].as_u64().unwrap() > 0, "{m}");
    assert!(p["nodes"][0]["lag_seconds"].as_f64().unwrap() >= 0.0, "{p}");
    assert!(p["nodes"][4]["state_bytes"].is_null(), "{p}");
    // A sandbox source has no watermark: nothing late, and only SRC says so.
    assert_eq!(p["nodes"][0]["late_rows"], 0, "{p}");
    assert!(p["nodes"][1]["late_rows"].is_null(), "{p}");

    let (status, metrics) = server.call("GET", "/metrics", None, "");
    assert_eq!(status, 200);
    let out = |node| node_series(&metrics, "ai4ict_node_records_out_total", "nodes", node);
    let (src, pp, model, policy) = (out("SRC"), out("PP"), out("M"), out("P"));
    assert!(
        src >= pp && pp >= model && model > 0.0 && policy <= model,
        "SRC {src} ≥ PP {pp} ≥ M {model} ≥ P {policy}"
    );
    for node in ["M", "P"] {
        assert!(node_series(&metrics, "ai4ict_node_state_bytes", "nodes", node) > 0.0);
    }
    for node in ["PP", "M", "P"] {
        let lag = node_series(&metrics, "ai4ict_node_lag_seconds", "nodes", node);
        assert!(lag >= 0.0, "{node} lag {lag}");
    }
    assert!(node_series(&metrics, "ai4ict_node_scores_count", "nodes", "M") > 0.0);
    assert_eq!(
        node_series(&metrics, "ai4ict_node_late_rows_total", "nodes", "SRC"),
        0.0
    );
    assert!(
        metrics.contains("ai4ict_node_scores_bucket{pipeline=\"nodes\",node=\"M\",le=\"+Inf\"}"),
        "{metrics}"
    );

    // `ai4ict top` shows the nodes beneath the pipeline.
    let table = top_once(&server.url);
    for node in ["SRC", "PP", "M", "P", "SINK"] {
        assert!(
            table
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{node} ")) && l.contains("lag")),
            "{node} in\n{table}"
        );
    }

    // The console's pipelines page has the same nodes in a table beneath the pipeline.
    let (status, page) = server.call("GET", "/ui/pipelines", None, "");
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"<section class="nodes" data-nodes="nodes">"#)
            && page.contains("<caption>nodes: Y.3172 nodes</caption>"),
        "{page}"
    );
    for node in ["SRC", "PP", "M", "P", "SINK"] {
        assert!(
            page.contains(&format!(r#"<tr data-node="{node}"><td>{node}</td>"#)),
            "{node} in {page}"
        );
    }

    // `ai4ict tap` prints rows with their score as they pass M.
    let tap = |args: &[&str]| {
        Command::new(BIN)
            .arg("tap")
            .args(args)
            .args(["--url", &server.url])
            .output()
            .unwrap()
    };
    let got = tap(&["nodes", "M", "--limit", "3"]);
    let printed = String::from_utf8_lossy(&got.stdout);
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(printed.lines().count(), 3, "{printed}");
    for line in printed.lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        let score = r["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score), "{r}");
        assert!(r["entity"].is_string() && r["time"].is_string(), "{r}");
        assert!(r["values"]["prb_util"].is_number(), "{r}");
    }
    // An unknown node or pipeline is named in a clear error.
    let got = tap(&["nodes", "X"]);
    let said = String::from_utf8_lossy(&got.stderr);
    assert!(
        !got.status.success() && said.contains("has no node `X`"),
        "{said}"
    );
    assert!(said.contains("SRC, PP, M, P, SINK"), "{said}");
    let got = tap(&["none", "M"]);
    let said = String::from_utf8_lossy(&got.stderr);
    assert!(
        !got.status.success() && said.contains("no pipeline named `none`"),
        "{said}"
    );
    let (status, body) = server.call("GET", "/pipelines/nodes/tap/M?limit=0", None, "");
    assert_eq!(status, 400, "{body}");

    // Once it ended, nothing passes: a tap is refused at once.
    let (status, _) = server.call("DELETE", "/pipelines/nodes", Some(TOKEN), "");
    assert_eq!(status, 202);
    server.wait("nodes", 60, |p| p["state"] == "stopped");
    let got = tap(&["nodes", "SRC"]);
    let said = String::from_utf8_lossy(&got.stderr);
    assert!(
        !got.status.success() && said.contains("has ended"),
        "{said}"
    );
}

/// `bench ingest` in small: overload on the HTTP source loses no accepted row, and every
/// answer is 202 or 503 (the figures themselves are the bench's to print, not a test's).
#[test]
fn ingest_overload_loses_no_accepted_row() {
    let out = Command::new(BIN)
        .args([
            "bench",
            "ingest",
            "--calibrate",
            "2",
            "--seconds",
            "3",
            "--entities",
            "40",
            "--rows-per-request",
            "50",
            "--clients",
            "2",
            "--buffer",
            "4",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains(": 0 lost"), "{stdout}");
    assert!(stdout.contains(", 0 other"), "{stdout}");
}

/// `bench serve` in small: `/health` answers while half-open connections are held, an
/// artifact is streamed in and out, a push under the body limit is stored and an oversized
/// one is refused from its `Content-Length`.
#[test]
fn hub_answers_beside_half_open_connections_and_refuses_oversized_pushes() {
    let out = Command::new(BIN)
        .args([
            "bench",
            "serve",
            "--half-open",
            "300",
            "--probes",
            "3",
            "--max-body-mib",
            "4",
            "--push-gib",
            "0.1",
            "--artifact-gib",
            "0.01",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("300 half-open connections"), "{stdout}");
    assert!(stdout.contains("answered 3 of 3 probes"), "{stdout}");
    assert!(
        stdout.contains("streamed push of a 0.01 GiB artifact: stored in"),
        "{stdout}"
    );
    assert!(
        stdout.contains("streamed pull of it: 0.01 GiB read"),
        "{stdout}"
    );
    assert!(
        stdout.contains("the largest under the 4 MiB body limit): stored in"),
        "{stdout}"
    );
    assert!(stdout.contains("answered HTTP/1.1 413"), "{stdout}");
}

/// `ai4ict top --once` against the server at `url`: its table.
fn top_once(url: &str) -> String {
    let top = Command::new(BIN)
        .args(["top", "--once", "--url", url])
        .output()
        .unwrap();
    assert!(
        top.status.success(),
        "{}",
        String::from_utf8_lossy(&top.stderr)
    );
    String::from_utf8_lossy(&top.stdout).into_owned()
}
