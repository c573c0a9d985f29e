//! `ai4ict run` on a live MQTT source, alerting Alertmanager and a webhook: rows of a small
//! sandbox network with a spike in one cell go to Mosquitto (`AI4ICT_TEST_MQTT`), the alert
//! must show in Alertmanager's API (`AI4ICT_TEST_ALERTMANAGER`) and reach a webhook (a local
//! listener here). Skipped, saying so, when the servers are not given (.ci/run gives them).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};

#[path = "common/alertmanager.rs"]
mod alertmanager;

#[allow(dead_code)] // each test file uses part of it
#[path = "common/net.rs"]
mod net;
use net::unique;

const BIN: &str = env!("CARGO_BIN_EXE_ai4ict");

fn mqtt(url: &str, id: &str, clean: bool) -> (Client, rumqttc::Connection) {
    let (host, port) = url.trim_start_matches("mqtt://").rsplit_once(':').unwrap();
    let mut o = MqttOptions::new(id, host, port.parse().unwrap());
    o.set_clean_session(clean);
    o.set_keep_alive(Duration::from_secs(10));
    Client::new(o, 1000)
}

/// Polls `conn` until `want` is seen (at most 10 s); returns how many matched.
fn wait(conn: &mut rumqttc::Connection, mut want: usize, matches: impl Fn(&Packet) -> bool) {
    let until = Instant::now() + Duration::from_secs(10);
    while want > 0 {
        assert!(
            Instant::now() < until,
            "{want} answers from the broker missing"
        );
        if let Ok(Ok(Event::Incoming(p))) = conn.recv_timeout(Duration::from_millis(200)) {
            if matches(&p) {
                want -= 1;
            }
        }
    }
}

/// The sandbox's telemetry with cell-0001's latency and drop rate blown up for six intervals
/// of its second day.
fn telemetry(dir: &Path) -> Vec<(String, String)> {
    let text = net::generated_telemetry(dir, 3, 2);
    let mut spiked = 0;
    text.lines()
        .map(|line| {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            let cell = v["entity"].as_str().unwrap().to_string();
            let t = v["time"].as_str().unwrap();
            if cell == "cell-0001" && t >= "2024-01-02T12:00:00Z" && spiked < 6 {
                spiked += 1;
                v["latency"] = serde_json::json!(900.0);
                v["drop_rate"] = serde_json::json!(0.6);
                v["prb_util"] = serde_json::json!(1.0);
            }
            (cell, v.to_string())
        })
        .collect()
}

/// The requests a webhook received: (head, body) each.
type Received = Arc<Mutex<Vec<(String, String)>>>;

/// An HTTP endpoint that answers 200 to every request and keeps the heads and bodies.
fn webhook() -> (u16, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&got);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut head, mut len) = (String::new(), 0);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let mut out = stream;
            let _ =
                out.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            keep.lock()
                .unwrap()
                .push((head, String::from_utf8_lossy(&body).into_owned()));
        }
    });
    (port, got)
}

#[test]
fn live_mqtt_rows_alert_alertmanager_and_a_webhook() {
    let (Ok(broker), Ok(am)) = (
        std::env::var("AI4ICT_TEST_MQTT"),
        std::env::var("AI4ICT_TEST_ALERTMANAGER"),
    ) else {
        eprintln!("AI4ICT_TEST_MQTT or AI4ICT_TEST_ALERTMANAGER is not set: skipped (.ci/run starts Mosquitto and Alertmanager and sets them)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let rows = telemetry(dir.path());
    let (topic, client_id, name) = (
        unique("ai4ict-e2e/"),
        unique("ai4ict-run-"),
        unique("live-"),
    );

    // The pipeline's persistent session exists before the rows are published, so the broker
    // queues them for it: nothing depends on when the run gets to subscribe.
    let (c, mut conn) = mqtt(&broker, &client_id, false);
    c.subscribe(format!("{topic}/#"), QoS::AtLeastOnce).unwrap();
    wait(&mut conn, 1, |p| matches!(p, Packet::SubAck(_)));
    c.disconnect().unwrap();
    let _ = conn.recv_timeout(Duration::from_millis(200));

    let (p, mut conn) = mqtt(&broker, &unique("pub-"), true);
    for (cell, row) in &rows {
        p.publish(
            format!("{topic}/{cell}"),
            QoS::AtLeastOnce,
            false,
            row.clone(),
        )
        .unwrap();
    }
    wait(&mut conn, rows.len(), |p| matches!(p, Packet::PubAck(_)));
    p.disconnect().unwrap();

    let (port, hooks) = webhook();
    let intent = format!(
        "name: {name}
use_case: operations
source:
  mqtt:
    url: {broker}
    topic: {topic}/#
    client_id: {client_id}
    clean_session: false
    max_rows: {n}
    until_idle: 20s
collect:
  fields: [prb_util, dl_throughput, drop_rate, latency]
sandbox: {{ cells: 3, days: 2, quiet_days: 1, seed: 3 }}
model:
  anomaly: {{ detector: ewma }}
policy:
  alert: {{ score_above: 0.9, for: 2 }}
distribute:
  - file: {{ path: alerts.jsonl }}
  - alertmanager: {{ url: \"{am}\", labels: {{ team: ran }} }}
  - webhook: {{ url: \"http://127.0.0.1:{port}/hook\", token_env: AI4ICT_TEST_HOOK_TOKEN }}
",
        n = rows.len()
    );
    std::fs::write(dir.path().join("live.yaml"), intent).unwrap();
    let out = Command::new(BIN)
        .args(["run", "live.yaml", "--quiet", "--no-hub", "--out", "report"])
        .current_dir(dir.path())
        .env("AI4ICT_TEST_HOOK_TOKEN", "hook-s3cret")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(!stdout.contains("hook-s3cret") && !stderr.contains("hook-s3cret"));
    assert!(
        stdout.contains(&format!("{} rows from {broker} {topic}/#", rows.len())),
        "every row published was scored: {stdout}"
    );

    let alerts = std::fs::read_to_string(dir.path().join("alerts.jsonl")).unwrap();
    assert!(
        alerts.contains("cell-0001"),
        "the spike raised an alert: {alerts}"
    );

    let got = alertmanager::alerts(&am, &name);
    let spike = got
        .iter()
        .find(|a| a["labels"]["entity"] == "cell-0001")
        .unwrap_or_else(|| panic!("Alertmanager has the spike's alert: {got:?}"));
    assert_eq!(spike["labels"]["alertname"], "ai4ict_anomaly");
    assert_eq!(spike["labels"]["team"], "ran");
    assert!(spike["labels"]["severity"].is_string() && spike["labels"]["field"].is_string());
    // Why it fired, in words, starting with the field it names (the spike holds at 1, so it
    // may read as a stuck reading as well as against the field's usual value).
    let why = spike["annotations"]["description"]
        .as_str()
        .unwrap_or_default();
    let field = spike["labels"]["field"].as_str().unwrap();
    assert!(why.starts_with(field), "{spike}");
    let report = spike["annotations"]["report"].as_str().unwrap();
    assert!(
        report.starts_with("file://") && report.ends_with("report/report.html"),
        "{report}"
    );
    assert!(dir.path().join("report/report.html").exists());

    let hooks = hooks.lock().unwrap();
    assert!(!hooks.is_empty(), "the webhook was called");
    let (head, _) = &hooks[0];
    assert!(
        head.to_ascii_lowercase()
            .contains("authorization: bearer hook-s3cret"),
        "{head}"
    );
    assert!(hooks.iter().any(|(_, body)| body.contains("\"cell-0001\"")));
}
