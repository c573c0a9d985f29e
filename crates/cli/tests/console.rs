//! The web console end to end in a real browser: `ai4ict run` writes a report and records its
//! evidence in a hub, `ai4ict hub serve --runs` serves that hub, and headless Chromium loads
//! the overview, the catalogue filtered by a body, the run and one of its entity charts, at
//! laptop and phone widths. A write without the token is refused. `.ci/run` names Chromium in
//! `AI4ICT_TEST_CHROMIUM`; without it the test says so and checks nothing. Screenshots are
//! kept as test artefacts in `target/tmp/console-screenshots/`.
#![cfg(unix)]

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::browser::{chromium, screenshots};

const BIN: &str = env!("CARGO_BIN_EXE_ai4ict");

/// A running `hub serve`; killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(dir: &Path, runs: &Path) -> Server {
        let port = TcpListener::bind(("127.0.0.1", 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(BIN)
            .args([
                "hub",
                "serve",
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--runs",
            ])
            .arg(runs)
            .current_dir(dir)
            .env("AI4ICT_HUB", dir.join("hub.db"))
            .env_remove("AI4ICT_HUB_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while server.request("GET", "/health").0 != 200 {
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// A request without a token: (status, whole answer).
    fn request(&self, method: &str, path: &str) -> (u16, String) {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return (0, String::new());
        };
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let body =
            r#"{"name": "x", "intent": "y", "sdgs": [7], "domain": "energy", "description": "d"}"#;
        let _ = write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.port,
            body.len()
        );
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, answer)
    }
}

/// The DOM of `url` after the browser loaded it.
fn dom(browser: &str, profile: &Path, url: &str) -> String {
    let out = chromium(browser, profile, &["--dump-dom".into(), url.into()]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The values of attribute `attr` in `html`, in order, with `&amp;` undone.
fn attrs(html: &str, attr: &str) -> Vec<String> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            Some(rest[..rest.find('"')?].replace("&amp;", "&"))
        })
        .collect()
}

#[test]
fn the_console_works_in_a_real_browser_at_laptop_and_phone_widths() {
    let Some(browser) = std::env::var("AI4ICT_TEST_CHROMIUM")
        .ok()
        .filter(|b| !b.trim().is_empty())
    else {
        eprintln!("AI4ICT_TEST_CHROMIUM is not set (.ci/run sets it): no browser, nothing checked");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let profile = profile.path();

    // One small run, recorded in the hub as its use case's evidence.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let intent = std::fs::read_to_string(repo.join("intents/cell-kpi-anomaly.yaml"))
        .unwrap()
        .replace(
            "cells: 200, days: 21, history_days: 7, quiet_days: 0",
            "cells: 24, days: 8, history_days: 3, quiet_days: 3",
        )
        .replace("p99_latency_ms: 1000", "p99_latency_ms: 10000");
    assert!(
        intent.contains("cells: 24") && intent.contains("p99_latency_ms: 10000"),
        "the shipped intent's sandbox or targets line changed: update this test"
    );
    std::fs::write(d.join("anomaly.yaml"), intent).unwrap();
    let runs = d.join("runs");
    let ran = Command::new(BIN)
        .args([
            "run",
            "anomaly.yaml",
            "--quiet",
            "--out",
            "runs/cell-kpi-anomaly",
        ])
        .current_dir(d)
        .env("AI4ICT_HUB", d.join("hub.db"))
        .output()
        .unwrap();
    assert!(
        matches!(ran.status.code(), Some(0 | 3)),
        "run: {}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert!(runs.join("cell-kpi-anomaly/report.json").is_file());

    let server = Server::start(d, &runs);

    let overview = dom(&browser, profile, &server.url("/"));
    assert!(overview.contains("Use cases by SDG"), "{overview}");
    assert!(overview.contains("data-run=\"cell-kpi-anomaly\""));
    assert!(overview.contains("run-") || overview.contains("cell-kpi-anomaly"));

    let catalogue = dom(
        &browser,
        profile,
        &server.url("/ui/standards?body=3GPP&limit=200"),
    );
    let bodies = attrs(&catalogue, "data-body");
    assert!(!bodies.is_empty(), "no standard listed");
    assert!(bodies.iter().all(|b| b == "3GPP"), "{bodies:?}");

    let run = dom(
        &browser,
        profile,
        &server.url("/ui/run?id=cell-kpi-anomaly"),
    );
    assert!(run.contains("<svg"), "the run page has no chart");
    assert!(run.contains("Alerts"));
    let chart = attrs(&run, "href")
        .into_iter()
        .find(|h| h.starts_with("/ui/run/chart?"))
        .expect("a link to an entity chart");
    let entity = dom(&browser, profile, &server.url(&chart));
    assert!(entity.contains("<svg") && entity.contains("data-entity="));

    let use_cases = dom(&browser, profile, &server.url("/ui/usecases"));
    assert!(use_cases.contains("data-name=\"cell-kpi-anomaly\""));
    assert!(use_cases.contains("precision ") && use_cases.contains("sandbox:"));

    let zh = dom(&browser, profile, &server.url("/?lang=zh"));
    assert!(zh.contains("按可持续发展目标划分的用例"));

    let mut kept = Vec::new();
    for (name, path) in [
        ("overview", "/".to_string()),
        ("catalogue-3gpp", "/ui/standards?body=3GPP".to_string()),
        ("usecases", "/ui/usecases".to_string()),
        ("run", "/ui/run?id=cell-kpi-anomaly".to_string()),
        ("chart", chart.clone()),
        ("overview-zh", "/?lang=zh".to_string()),
    ] {
        kept.extend(screenshots(
            &browser,
            profile,
            &server.url(&path),
            name,
            &shots,
        ));
    }
    for png in kept {
        println!("screenshot {}", png.display());
    }

    // The console is read-only; the API still wants the token for a write.
    let (status, answer) = server.request("POST", "/usecases");
    assert_eq!(status, 401, "{answer}");
}
