//! The attacks on a served hub, each over real TCP: anonymous writes, DNS rebinding, foreign
//! origins, out-of-range results, path-like names, a lying remote hub, half-open
//! connections, huge bodies, a second writer on the same SQLite file, unpaged listings, a
//! corrupt stored row; and the audit and request logs.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ai4ict_hub::{Hub, ModelMetadata, ModelRecord};
use ai4ict_server::{client::Client, Background, Config, Hubs, ServerError, Token};

const TOKEN: &str = "security-test-token-0123456789abcdef";

fn token() -> Token {
    Token::new(TOKEN).unwrap()
}

fn start_with(hubs: Hubs, config: Config) -> Background {
    log_capture();
    Background::start(hubs, config, "127.0.0.1:0".parse().unwrap()).unwrap()
}

fn start() -> Background {
    start_with(
        Hubs::new(Hub::in_memory().unwrap()),
        Config::with_token(token()),
    )
}

/// An answer read off the socket.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

fn read_answer(mut s: TcpStream) -> Answer {
    let mut raw = Vec::new();
    // The server closes after answering (Connection: close) or on error.
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Answer {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// One request with `headers` (a `Host` header is added unless given).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    s.write_all(req.as_bytes()).unwrap();
    read_answer(s)
}

const BEARER: (&str, &str) = (
    "Authorization",
    "Bearer security-test-token-0123456789abcdef",
);

fn push_body(name: &str, version: &str, f1: f64) -> String {
    let mut m = ModelMetadata::new(name, version, "attacker", "MIT");
    m.metrics.insert("f1".into(), f1);
    serde_json::json!({ "metadata": m, "artifact_base64": "eA==" }).to_string()
}

fn use_case_body(name: &str, at: &str) -> String {
    serde_json::json!({
        "name": name,
        "intent": "energy-saving",
        "sdgs": [7, 13],
        "domain": "energy",
        "description": "Switch off idle cells at night.",
        "evidence": {
            "run_id": "run-1",
            "metrics": { "f1": 0.9, "targets_met": true },
            "source": "sandbox:night",
            "at": at
        }
    })
    .to_string()
}

#[test]
fn anonymous_model_push_and_alias_are_refused() {
    let b = start();
    let a = b.addr();
    // The honest model, pushed with the token.
    assert_eq!(
        http(
            a,
            "POST",
            "/models",
            &[BEARER],
            &push_body("kpi", "1.0.0", 0.8)
        )
        .status,
        201
    );
    assert_eq!(
        http(
            a,
            "PUT",
            "/models/kpi/aliases/production",
            &[BEARER],
            r#"{"version":"1.0.0"}"#
        )
        .status,
        200
    );
    // Anonymous: 401 with a challenge.
    let anon = http(a, "POST", "/models", &[], &push_body("kpi", "6.6.6", 0.99));
    assert_eq!(anon.status, 401, "{}", anon.body);
    assert!(anon
        .header("www-authenticate")
        .unwrap()
        .starts_with("Bearer"));
    let wrong = ("Authorization", "Bearer not-the-token-but-long-enough");
    assert_eq!(
        http(
            a,
            "POST",
            "/models",
            &[wrong],
            &push_body("kpi", "6.6.6", 0.99)
        )
        .status,
        401
    );
    assert_eq!(
        http(
            a,
            "PUT",
            "/models/kpi/aliases/production",
            &[],
            r#"{"version":"latest"}"#
        )
        .status,
        401
    );
    // Even with the token, a metric out of its range is refused, naming the field.
    let bad = http(
        a,
        "POST",
        "/models",
        &[BEARER],
        &push_body("kpi", "6.6.6", 9.9),
    );
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.contains("metrics") && bad.body.contains("f1"),
        "{}",
        bad.body
    );

    // What `ai4ict run --model-from-hub` would pick is still the honest model.
    let best = Client::new(&b.url())
        .unwrap()
        .select(&ai4ict_hub::ModelSelection {
            query: Default::default(),
            metric: Some("f1".into()),
            higher_is_better: true,
        })
        .unwrap();
    assert_eq!(best.metadata.version, "1.0.0");
    let prod = Client::new(&b.url())
        .unwrap()
        .model("kpi", "production")
        .unwrap();
    assert_eq!(prod.metadata.version, "1.0.0");
}

#[test]
fn anonymous_use_case_overwrite_and_future_evidence_are_refused() {
    let b = start();
    let a = b.addr();
    let good = use_case_body("night-cells", "2025-01-01T00:00:00Z");
    assert_eq!(http(a, "POST", "/usecases", &[BEARER], &good).status, 201);
    let forged = use_case_body("night-cells", "2099-01-01T00:00:00Z");
    assert_eq!(http(a, "POST", "/usecases", &[], &forged).status, 401);
    let future = http(a, "POST", "/usecases", &[BEARER], &forged);
    assert_eq!(future.status, 400);
    assert!(future.body.contains("evidence.at"), "{}", future.body);
    let ranged = use_case_body("night-cells", "2025-01-01T00:00:00Z").replace("0.9", "1.5");
    let ranged = http(a, "POST", "/usecases", &[BEARER], &ranged);
    assert_eq!(ranged.status, 400);
    assert!(ranged.body.contains("evidence.metrics"), "{}", ranged.body);
    let now = http(a, "GET", "/usecases/night-cells", &[], "");
    assert!(now.body.contains("2025-01-01"), "{}", now.body);
}

#[test]
fn path_like_names_are_refused_naming_the_field() {
    let b = start();
    let a = b.addr();
    for bad in ["", ".", "..", "a/b", "a\u{1}b"] {
        let r = http(
            a,
            "POST",
            "/usecases",
            &[BEARER],
            &use_case_body(bad, "2025-01-01T00:00:00Z"),
        );
        assert_eq!(r.status, 400, "{bad:?}: {}", r.body);
        assert!(r.body.contains("invalid name"), "{bad:?}: {}", r.body);
        let r = http(a, "POST", "/models", &[BEARER], &push_body(bad, "1", 0.5));
        assert_eq!(r.status, 400, "{bad:?}: {}", r.body);
        assert!(r.body.contains("invalid name"), "{bad:?}: {}", r.body);
    }
    let r = http(
        a,
        "POST",
        "/models",
        &[BEARER],
        &push_body("kpi", "..", 0.5),
    );
    assert!(
        r.status == 400 && r.body.contains("invalid version"),
        "{}",
        r.body
    );
}

#[test]
fn without_a_token_the_hub_is_read_only() {
    let b = start_with(Hubs::new(Hub::in_memory().unwrap()), Config::default());
    let a = b.addr();
    let r = http(a, "POST", "/models", &[BEARER], &push_body("kpi", "1", 0.5));
    assert_eq!(r.status, 403);
    assert!(r.body.contains("read-only"), "{}", r.body);
    assert_eq!(http(a, "GET", "/health", &[], "").status, 200);
    // Selection is a query, not a write.
    assert_eq!(http(a, "POST", "/models/select", &[], "{}").status, 404);
}

#[test]
fn dns_rebinding_hosts_and_foreign_origins_are_refused() {
    let mut config = Config::with_token(token());
    config.allowed_hosts = vec!["hub.example".into()];
    let b = start_with(Hubs::new(Hub::in_memory().unwrap()), config);
    let a = b.addr();
    let host = |h: &str| http(a, "GET", "/health", &[("Host", h)], "").status;
    assert_eq!(host("evil.example"), 403);
    assert_eq!(host(&format!("evil.example:{}", a.port())), 403);
    for ok in ["localhost", "127.0.0.1:1", "[::1]:8080", "HUB.example:80"] {
        assert_eq!(host(ok), 200, "{ok}");
    }
    // A write from a page of another site, even with the token, is refused.
    let origin = ("Origin", "http://evil.example");
    let r = http(
        a,
        "POST",
        "/models",
        &[BEARER, origin],
        &push_body("kpi", "1", 0.5),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    // No CORS header unless configured.
    let r = http(a, "GET", "/health", &[origin], "");
    assert_eq!(r.status, 200);
    assert!(r.header("access-control-allow-origin").is_none());

    let mut config = Config::with_token(token());
    config.cors_origins = vec!["https://dash.example".into()];
    let b = start_with(Hubs::new(Hub::in_memory().unwrap()), config);
    let dash = ("Origin", "https://dash.example");
    let r = http(b.addr(), "GET", "/health", &[dash], "");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://dash.example")
    );
    let r = http(
        b.addr(),
        "POST",
        "/models",
        &[BEARER, dash],
        &push_body("kpi", "1", 0.5),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

/// A remote "hub" that answers every metadata request with `record` and every artifact
/// request with `artifact` (sha256 header from `record`).
fn lying_remote(record: ModelRecord, artifact: &'static [u8]) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]);
            let (ctype, extra, body) = if head.contains("/artifact") {
                (
                    "application/octet-stream",
                    format!(
                        "x-ai4ict-sha256: {}\r\nx-ai4ict-version: {}\r\n",
                        record.metadata.sha256, record.metadata.version
                    ),
                    artifact.to_vec(),
                )
            } else {
                (
                    "application/json",
                    String::new(),
                    serde_json::to_vec(&record).unwrap(),
                )
            };
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: {ctype}\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(&body);
        }
    });
    addr
}

#[test]
fn a_pull_takes_only_the_name_version_and_bytes_asked_for() {
    let artifact: &'static [u8] = b"weights";
    let mut meta = ModelMetadata::new("kpi", "1.0.0", "x", "MIT");
    meta.sha256 = ai4ict_hub::models::sha256_hex(artifact);
    let record = |name: &str, version: &str| {
        let mut m = meta.clone();
        m.name = name.into();
        m.version = version.into();
        ModelRecord {
            metadata: m,
            aliases: vec![],
        }
    };
    let pull = |rec: ModelRecord, bytes: &'static [u8], version: &str| {
        let url = format!("http://{}", lying_remote(rec, bytes));
        Client::new(&url).unwrap().pull("kpi", version)
    };
    match pull(record("core-router-config", "1.0.0"), artifact, "1.0.0") {
        Err(ServerError::Mismatch { field: "name", .. }) => {}
        other => panic!("expected a name mismatch, got {other:?}"),
    }
    match pull(record("kpi", "9.9.9"), artifact, "1.0.0") {
        Err(ServerError::Mismatch {
            field: "version", ..
        }) => {}
        other => panic!("expected a version mismatch, got {other:?}"),
    }
    match pull(record("kpi", "1.0.0"), b"other weights", "1.0.0") {
        Err(ServerError::Integrity { .. }) => {}
        other => panic!("expected an integrity failure, got {other:?}"),
    }
    // Streamed into a hub: the reader fails at the end, the publish rolls back.
    let url = format!(
        "http://{}",
        lying_remote(record("kpi", "1.0.0"), b"other weights")
    );
    let mut hub = Hub::in_memory().unwrap();
    let streamed = Client::new(&url)
        .unwrap()
        .pull_with("kpi", "1.0.0", |rec, r| {
            Ok(hub.publish_model_from(&rec.metadata, r)?)
        });
    assert!(
        streamed.is_err_and(|e| e.to_string().contains("integrity check failed")),
        "a streamed pull of the wrong bytes"
    );
    assert!(hub.model("kpi", "1.0.0").unwrap().is_none());
    // `latest` resolves to whatever version the remote names, as long as the name is right.
    let (rec, bytes) = pull(record("kpi", "1.0.0"), artifact, "latest").unwrap();
    assert_eq!(
        (rec.metadata.version.as_str(), bytes.as_slice()),
        ("1.0.0", artifact)
    );
}

#[test]
fn half_open_connections_are_closed_and_health_still_answers() {
    let config = Config {
        header_timeout: Duration::from_secs(1),
        max_connections: 50,
        ..Config::with_token(token())
    };
    let b = start_with(Hubs::new(Hub::in_memory().unwrap()), config);
    let a = b.addr();
    // 200 connections that never finish their headers: half send nothing, half a fragment.
    let mut idle: Vec<TcpStream> = (0..200)
        .map(|i| {
            let mut s = TcpStream::connect(a).unwrap();
            if i % 2 == 0 {
                s.write_all(b"GET /health HTTP/1.1\r\nHo").unwrap();
            }
            s
        })
        .collect();
    // The server closes them (a generous bound; the timeout is 1 s each, 50 at a time).
    let started = Instant::now();
    let r = http(a, "GET", "/health", &[], "");
    assert_eq!(r.status, 200);
    assert!(started.elapsed() < Duration::from_secs(60));
    let first = &mut idle[0];
    first
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut buf = [0u8; 256];
    // Closed by the server: end of stream (or an error answer, then end of stream).
    let n = first
        .read(&mut buf)
        .expect("server closed the half-open connection");
    assert!(n == 0 || String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408"));
}

#[test]
fn a_huge_body_is_refused_before_it_is_read() {
    let config = Config {
        max_body_bytes: 1024 * 1024,
        ..Config::with_token(token())
    };
    let b = start_with(Hubs::new(Hub::in_memory().unwrap()), config);
    let a = b.addr();
    // Headers only, announcing 100 GB: answered at once, nothing read.
    for (auth, want) in [(Some(BEARER), 413), (None, 401)] {
        let mut s = TcpStream::connect(a).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let auth = auth.map_or(String::new(), |(k, v)| format!("{k}: {v}\r\n"));
        write!(
            s,
            "POST /models HTTP/1.1\r\nHost: {a}\r\n{auth}Content-Type: application/json\r\nContent-Length: 100000000000\r\n\r\n"
        )
        .unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).unwrap();
        let head = String::from_utf8_lossy(&buf[..n]);
        assert!(head.starts_with(&format!("HTTP/1.1 {want}")), "{head}");
    }
    // Chunked, without a length: the running count stops it.
    let mut s = TcpStream::connect(a).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST /models HTTP/1.1\r\nHost: {a}\r\n{}: {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        BEARER.0, BEARER.1
    )
    .unwrap();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..32 {
        if write!(s, "{:x}\r\n", chunk.len()).is_err()
            || s.write_all(&chunk).is_err()
            || s.write_all(b"\r\n").is_err()
        {
            break;
        }
    }
    let r = read_answer(s);
    assert_eq!(r.status, 413, "{}", r.body);
    // The client asks for the limit and does not send what would be refused.
    let client = Client::new(&b.url()).unwrap().with_token(Some(token()));
    let meta = ModelMetadata::new("big", "1", "x", "MIT");
    match client.push_json(&meta, &vec![0u8; 2 * 1024 * 1024]) {
        Err(ServerError::TooLarge { limit, flag, .. }) => {
            assert_eq!((limit, flag), (1024 * 1024, "--max-body-mib"))
        }
        other => panic!("expected too large, got {other:?}"),
    }
}

/// A hub in a SQLite file, served with read connections as `ai4ict hub serve` does.
fn file_hub(dir: &std::path::Path, config: Config) -> (Background, String) {
    let path = dir.join("hub.db").to_string_lossy().into_owned();
    let writer = Hub::open(&path).unwrap();
    let readers = (0..2)
        .map(|_| Hub::open_read_only(&path).unwrap())
        .collect();
    (
        start_with(Hubs::with_readers(writer, readers), config),
        path,
    )
}

#[test]
fn a_second_writer_makes_writes_wait_not_fail_and_reads_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let (b, path) = file_hub(dir.path(), Config::with_token(token()));
    let a = b.addr();
    assert_eq!(
        http(
            a,
            "POST",
            "/models",
            &[BEARER],
            &push_body("kpi", "1.0.0", 0.5)
        )
        .status,
        201
    );
    // Another program (say, the CLI) writes to the same file and holds its lock a while.
    let cli = rusqlite::Connection::open(&path).unwrap();
    cli.execute_batch(
        "CREATE TABLE IF NOT EXISTS scratch (x INTEGER); BEGIN IMMEDIATE; INSERT INTO scratch VALUES (1);",
    )
    .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let pusher = std::thread::spawn(move || {
        let r = http(
            a,
            "POST",
            "/models",
            &[BEARER],
            &push_body("kpi", "2.0.0", 0.6),
        );
        tx.send(Instant::now()).unwrap();
        r
    });
    std::thread::sleep(Duration::from_millis(300));
    // Reads are not queued behind the waiting write.
    let list = http(a, "GET", "/models", &[], "");
    let read_done = Instant::now();
    assert_eq!(list.status, 200);
    std::thread::sleep(Duration::from_millis(1200));
    cli.execute_batch("COMMIT").unwrap();
    let pushed = pusher.join().unwrap();
    assert_eq!(pushed.status, 201, "{}", pushed.body);
    assert!(
        read_done < rx.recv().unwrap(),
        "the read waited for the write"
    );
}

#[test]
fn listings_are_paged() {
    let b = start();
    let a = b.addr();
    for i in 0..5 {
        let r = http(
            a,
            "POST",
            "/models",
            &[BEARER],
            &push_body("kpi", &format!("1.{i}"), 0.5),
        );
        assert_eq!(r.status, 201);
    }
    let page = |q: &str| {
        let r = http(a, "GET", &format!("/models?{q}"), &[], "");
        assert_eq!(r.status, 200, "{}", r.body);
        let items: Vec<serde_json::Value> = serde_json::from_str(&r.body).unwrap();
        (items.len(), r.header("x-total-count").unwrap().to_string())
    };
    assert_eq!(page("limit=2"), (2, "5".into()));
    assert_eq!(page("limit=2&offset=4"), (1, "5".into()));
    assert_eq!(page(""), (5, "5".into()));
    let r = http(a, "GET", "/standards?limit=3", &[], "");
    assert_eq!(
        serde_json::from_str::<Vec<serde_json::Value>>(&r.body)
            .unwrap()
            .len(),
        3
    );
    let r = http(a, "GET", "/standards?limit=100000", &[], "");
    let n = serde_json::from_str::<Vec<serde_json::Value>>(&r.body)
        .unwrap()
        .len();
    assert!(n <= ai4ict_server::api::MAX_LIMIT);
    // The client reads every page.
    let all = Client::new(&b.url())
        .unwrap()
        .query(&Default::default())
        .unwrap();
    assert_eq!(all.len(), 5);
}

/// Everything logged in this test process, for the tests that look at the request log.
fn log_capture() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    Arc::clone(LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buf);
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || Sink(Arc::clone(&sink)))
            .init();
        buf
    }))
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_corrupt_row_fails_alone_and_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let (b, path) = file_hub(dir.path(), Config::with_token(token()));
    let a = b.addr();
    for v in ["1.0.0", "2.0.0"] {
        assert_eq!(
            http(a, "POST", "/models", &[BEARER], &push_body("kpi", v, 0.5)).status,
            201
        );
    }
    assert_eq!(
        http(
            a,
            "POST",
            "/usecases",
            &[BEARER],
            &use_case_body("night-cells", "2025-01-01T00:00:00Z")
        )
        .status,
        201
    );
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch(
        "UPDATE models SET metadata = '{broken' WHERE version = '1.0.0'; \
         INSERT INTO use_cases (name, intent, sdgs, domain, description, standards, evidence, \
         registered_at, updated_at) VALUES ('bad', 'x', 'not json', 'energy', '', '[]', NULL, '', '');",
    )
    .unwrap();
    let list = http(a, "GET", "/models", &[], "");
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.header("x-ai4ict-unreadable"), Some("1"));
    assert!(list.body.contains("2.0.0"));
    let ucs = http(a, "GET", "/usecases", &[], "");
    assert_eq!(ucs.status, 200, "{}", ucs.body);
    assert!(ucs.body.contains("night-cells"));
    assert_eq!(ucs.header("x-ai4ict-unreadable"), Some("1"));
    assert_eq!(http(a, "GET", "/models/kpi/2.0.0", &[], "").status, 200);
    let broken = http(a, "GET", "/models/kpi/1.0.0", &[], "");
    assert_eq!(broken.status, 500, "{}", broken.body);
    // Requests are logged, the 500 with its error.
    let log = String::from_utf8_lossy(&log_capture().lock().unwrap()).into_owned();
    let failed = log
        .lines()
        .find(|l| l.contains("request failed") && l.contains("/models/kpi/1.0.0"))
        .unwrap_or_else(|| panic!("no 500 logged in:\n{log}"));
    assert!(
        failed.contains("status=500") && failed.contains("stored data"),
        "{failed}"
    );
    assert!(
        log.contains("path=\"/models/kpi/2.0.0\" status=200"),
        "{log}"
    );
}

#[test]
fn every_write_attempt_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let config = Config {
        audit_log: Some(audit.clone()),
        ..Config::with_token(token())
    };
    let b = start_with(Hubs::new(Hub::in_memory().unwrap()), config);
    let a = b.addr();
    http(a, "POST", "/models", &[], &push_body("kpi", "6.6.6", 0.5));
    http(
        a,
        "POST",
        "/models",
        &[BEARER],
        &push_body("kpi", "1.0.0", 0.5),
    );
    http(a, "GET", "/models", &[], "");
    http(a, "POST", "/models/select", &[], "{}");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["who"], "anonymous");
    assert_eq!(lines[0]["status"], 401);
    assert_eq!(lines[1]["who"], token().id());
    assert_eq!(lines[1]["status"], 201);
    assert_eq!(lines[1]["method"], "POST");
    assert_eq!(lines[1]["path"], "/models");
    assert!(lines[1]["peer"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert!(lines[1]["at"].as_str().unwrap().starts_with("20"));
    assert!(!std::fs::read_to_string(&audit).unwrap().contains(TOKEN));
}

#[test]
fn metrics_count_every_answer_and_what_the_hub_holds() {
    let server = start();
    let addr = server.addr();
    assert_eq!(http(addr, "GET", "/health", &[], "").status, 200);
    assert_eq!(http(addr, "GET", "/no-such-page", &[], "").status, 404);
    let refused = http(addr, "POST", "/models", &[], &push_body("m", "1.0.0", 0.5));
    assert_eq!(refused.status, 401);
    let m = http(addr, "GET", "/metrics", &[], "");
    assert_eq!(m.status, 200, "{}", m.body);
    assert!(
        m.header("content-type")
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")),
        "{}",
        m.head
    );
    let value = |name: &str| -> f64 {
        m.body
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {}", m.body))
    };
    assert!(value("ai4ict_hub_requests_total{class=\"2xx\"}") >= 1.0);
    assert!(value("ai4ict_hub_requests_total{class=\"4xx\"}") >= 2.0);
    assert_eq!(value("ai4ict_hub_requests_in_flight"), 1.0, "this request");
    assert_eq!(
        value("ai4ict_hub_model_versions"),
        0.0,
        "the refused push is not there"
    );
    assert!(value("ai4ict_hub_request_seconds_count") >= 3.0);
}

/// With [`Config::tls`] the API speaks HTTPS only: a client trusting the certificate's
/// authority is answered, a plain request is not, and a client that never starts its
/// handshake holds one connection, not the server. The certificates are `.ci/certs.sh`'s
/// (`AI4ICT_TEST_CERTS`).
#[test]
fn with_tls_the_api_speaks_https_only() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let Ok(certs) = std::env::var("AI4ICT_TEST_CERTS") else {
        eprintln!("AI4ICT_TEST_CERTS is not set: skipped (.ci/run makes the test certificates)");
        return;
    };
    let certs = std::path::Path::new(&certs);
    let chain = CertificateDer::pem_file_iter(certs.join("server-cert.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(certs.join("server-key.pem")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let config = Config {
        tls: Some(Arc::new(tls)),
        header_timeout: Duration::from_secs(2),
        ..Config::with_token(token())
    };
    let server = start_with(Hubs::new(Hub::in_memory().unwrap()), config);
    assert!(server.url().starts_with("https://"), "{}", server.url());
    let silent = TcpStream::connect(server.addr()).unwrap();
    let ca = std::fs::read(certs.join("ca.pem")).unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&[
                    ureq::tls::Certificate::from_pem(&ca).unwrap(),
                ]))
                .build(),
        )
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let status = agent
        .get(format!("{}/health", server.url()))
        .call()
        .unwrap()
        .status();
    assert_eq!(status, 200);
    let plain = http(server.addr(), "GET", "/health", &[], "");
    assert_ne!(plain.status, 200, "{plain:?}");
    drop(silent);
    // The hub client trusts the authority named by AI4ICT_CA_FILE (read for https:// only,
    // so the other tests of this process are not affected).
    let query = ai4ict_hub::ModelQuery::default();
    let e = Client::new(&server.url())
        .unwrap()
        .query(&query)
        .unwrap_err();
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
    std::env::set_var(ai4ict_server::client::CA_FILE_VAR, certs.join("ca.pem"));
    let client = Client::new(&server.url())
        .unwrap()
        .with_token(Some(token()));
    assert!(client.query(&query).unwrap().is_empty());
}
