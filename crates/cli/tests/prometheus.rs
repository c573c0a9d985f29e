//! A real Prometheus (`AI4ICT_TEST_PROMETHEUS`, the binary `.ci/prometheus.sh` installs)
//! scrapes a target this test serves, every second, and remote-writes to ai4ict: the rows
//! arrive with the right entities, values and times; and end to end, an incident in the
//! scraped gauge becomes an alert in Alertmanager's API (`AI4ICT_TEST_ALERTMANAGER`).
//! Skipped, saying so, when they are not given (.ci/run gives them).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ai4ict_connectors::{LiveSource, PrometheusSourceConfig};

#[path = "common/alertmanager.rs"]
mod alertmanager;

const BIN: &str = env!("CARGO_BIN_EXE_ai4ict");
const TOKEN: &str = "remote-write-token-0123456789";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    since.as_millis() as i64
}

fn prometheus_bin() -> Option<String> {
    let bin = std::env::var("AI4ICT_TEST_PROMETHEUS").ok();
    if bin.is_none() {
        eprintln!(
            "AI4ICT_TEST_PROMETHEUS is not set: skipped (.ci/run installs Prometheus and sets it)"
        );
    }
    bin
}

/// A scrape target: `/metrics` with the gauge `cell_load` of cells 7 and 8. Cell 7's level is
/// the test's to set; each scrape wiggles it by up to 2 % (a real KPI is never constant).
fn target() -> (u16, Arc<Mutex<f64>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let level = Arc::new(Mutex::new(10.0));
    let shared = Arc::clone(&level);
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                line.clear();
            }
            let load = *shared.lock().unwrap() * (1.0 + 0.01 * (n % 5) as f64 - 0.02);
            let body = format!(
                "# TYPE cell_load gauge\ncell_load{{cell=\"cell-7\"}} {load}\ncell_load{{cell=\"cell-8\"}} 2\n"
            );
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, level)
}

/// Prometheus scraping `target` every second and remote-writing to ai4ict on `write` with
/// the token in a file, over HTTPS trusting `ca` when given; killed when dropped.
struct Prometheus(Child);

impl Prometheus {
    fn start(bin: &str, dir: &Path, target: u16, write: u16, ca: Option<&Path>) -> Self {
        let token = dir.join("write.token");
        std::fs::write(&token, TOKEN).unwrap();
        let (scheme, tls) = match ca {
            Some(ca) => (
                "https",
                format!("\n    tls_config: {{ ca_file: {} }}", ca.display()),
            ),
            None => ("http", String::new()),
        };
        let config = format!(
            "global: {{ scrape_interval: 1s }}
scrape_configs:
  - job_name: cells
    static_configs: [{{ targets: [\"127.0.0.1:{target}\"] }}]
remote_write:
  - url: {scheme}://127.0.0.1:{write}/api/v1/write
    authorization: {{ credentials_file: {} }}{tls}
    queue_config: {{ batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s }}
",
            token.display()
        );
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
        let child = Command::new(bin)
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{}", free_port()))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Self(child)
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Over HTTPS when the test certificates are given (`AI4ICT_TEST_CERTS`, `.ci/certs.sh`):
/// the source serves them and Prometheus trusts their authority; the test below writes over
/// plain HTTP.
#[test]
fn prometheus_remote_writes_rows_of_the_labelled_entities() {
    let Some(bin) = prometheus_bin() else { return };
    let dir = tempfile::tempdir().unwrap();
    let write = free_port();
    let var = format!("AI4ICT_TEST_WRITE_TOKEN_{write}");
    std::env::set_var(&var, TOKEN);
    let certs = std::env::var("AI4ICT_TEST_CERTS")
        .ok()
        .map(std::path::PathBuf::from);
    let mut cfg = serde_json::json!({
        "listen": format!("127.0.0.1:{write}"), "token_env": var,
        "entity_label": "cell", "metrics": {"load": "cell_load"},
    });
    if let Some(certs) = &certs {
        cfg["tls"] = serde_json::json!({
            "cert_file": certs.join("server-cert.pem"), "key_file": certs.join("server-key.pem"),
        });
    }
    let cfg: PrometheusSourceConfig = serde_json::from_value(cfg).unwrap();
    let mut src = LiveSource::prometheus(&cfg, &["load".to_string()]).unwrap();
    let (port, _) = target();
    let start = now_ms();
    let ca = certs.as_ref().map(|c| c.join("ca.pem"));
    let _prometheus = Prometheus::start(&bin, dir.path(), port, write, ca.as_deref());

    let mut rows: Vec<(String, i64, f64)> = Vec::new();
    let until = Instant::now() + Duration::from_secs(45);
    let count =
        |rows: &[(String, i64, f64)], cell: &str| rows.iter().filter(|r| r.0 == cell).count();
    while count(&rows, "cell-7") < 3 || count(&rows, "cell-8") < 3 {
        let log = std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();
        assert!(
            Instant::now() < until,
            "45 s and not 3 rows per cell: {rows:?}\n{}\nPrometheus' log:\n{log}",
            src.summary()
        );
        if let Some(b) = src.next_batch(1000, Duration::from_millis(200)).unwrap() {
            rows.extend(b.rows().map(|(e, t, v)| (e.name().to_string(), t.0, v[0])));
        }
    }
    let end = now_ms();
    for cell in ["cell-7", "cell-8"] {
        let times: Vec<i64> = rows.iter().filter(|r| r.0 == cell).map(|r| r.1).collect();
        assert!(
            times.windows(2).all(|w| w[1] > w[0]),
            "{cell} in time order: {times:?}"
        );
        assert!(
            times.iter().all(|&t| (start..=end).contains(&t)),
            "{cell}'s times are the scrapes' ({start}..{end}): {times:?}"
        );
    }
    for (cell, time, load) in &rows {
        let ok = match cell.as_str() {
            "cell-7" => (9.7..=10.3).contains(load),
            _ => *load == 2.0,
        };
        assert!(ok, "{cell} at {time}: {load}");
    }
    let summary = src.summary();
    assert!(
        summary.contains("series of metrics not collected"),
        "Prometheus' own series (up, scrape_duration_seconds…) are counted: {summary}"
    );
    assert_eq!(src.report().rows_skipped, 0, "{summary}");
}

#[test]
fn an_incident_in_remote_written_series_alerts_alertmanager() {
    let (Some(bin), Ok(am)) = (prometheus_bin(), std::env::var("AI4ICT_TEST_ALERTMANAGER")) else {
        eprintln!("AI4ICT_TEST_ALERTMANAGER is not set: skipped (.ci/run starts Alertmanager and sets it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let write = free_port();
    let name = format!("prometheus-e2e-{}x{write}", std::process::id());
    let intent = format!(
        "name: {name}
use_case: operations
source:
  prometheus:
    listen: 127.0.0.1:{write}
    token_env: AI4ICT_TEST_WRITE_TOKEN
    entity_label: cell
    metrics: {{ load: cell_load }}
    until_idle: 10s
collect: {{ fields: [load], interval: 1s }}
model:
  anomaly: {{ detector: ewma, min_points: 8 }}
policy:
  alert: {{ score_above: 0.5, for: 1 }}
distribute:
  - alertmanager: {{ url: \"{am}\", labels: {{ team: ran }} }}
evaluate: skip
"
    );
    std::fs::write(dir.path().join("prom.yaml"), intent).unwrap();
    let (port, level) = target();
    let run = Command::new(BIN)
        .args(["run", "prom.yaml", "--quiet", "--no-hub", "--out", "report"])
        .current_dir(dir.path())
        .env("AI4ICT_TEST_WRITE_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let prometheus = Prometheus::start(&bin, dir.path(), port, write, None);

    // Twenty seconds of normal load (the detector learns from its eighth row on), then the
    // incident: cell 7's load ten times as high.
    std::thread::sleep(Duration::from_secs(20));
    *level.lock().unwrap() = 100.0;
    let until = Instant::now() + Duration::from_secs(30);
    let alert = loop {
        let got = alertmanager::alerts(&am, &name);
        // Under load a remote-write batch can come late enough for cell 7 to be silent for
        // 6 intervals of 1 s: that is a `(no data)` alert of its own, not the incident's.
        let found = got
            .iter()
            .find(|a| a["labels"]["entity"] == "cell-7" && a["labels"]["field"] == "load")
            .cloned();
        if let Some(a) = found {
            break a;
        }
        if Instant::now() > until {
            drop(prometheus);
            let out = run.wait_with_output().unwrap();
            panic!(
                "no alert on cell-7's load in Alertmanager 30 s after the incident: {got:?}\nai4ict run:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(alert["labels"]["alertname"], "ai4ict_anomaly");
    assert_eq!(alert["labels"]["field"], "load");
    assert_eq!(alert["labels"]["team"], "ran");

    // Prometheus stops writing: the run ends after `until_idle` and reports what it read.
    drop(prometheus);
    let out = run.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("from http://127.0.0.1:{write}/api/v1/write")),
        "{stdout}"
    );
}
