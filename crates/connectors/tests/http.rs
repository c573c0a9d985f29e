//! The HTTP push source against real HTTP requests: rows arrive, the token is required,
//! oversized bodies and other paths are refused, a full buffer says 503 (nothing accepted is
//! lost), and a bad row is reported without losing the good ones.

use std::time::Duration;

use ai4ict_connectors::{HttpSourceConfig, LiveSource};

mod common;
use common::{free_port, post};

const TOKEN: &str = "push-test-token-0123456789";

fn source(extra: serde_json::Value) -> (LiveSource, String) {
    let port = free_port();
    // Each test sets a variable of its own: the tests run on threads of one process.
    let var = format!("AI4ICT_PUSH_TOKEN_{port}");
    std::env::set_var(&var, TOKEN);
    let mut cfg = serde_json::json!({
        "listen": format!("127.0.0.1:{port}"), "token_env": var,
    });
    for (k, v) in extra.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    let cfg: HttpSourceConfig = serde_json::from_value(cfg).unwrap();
    let fields = vec!["load".to_string()];
    (
        LiveSource::http(&cfg, &fields).unwrap(),
        format!("http://127.0.0.1:{port}"),
    )
}

/// Every row that has arrived, draining the source a few times.
fn drain(src: &mut LiveSource) -> usize {
    let mut n = 0;
    for _ in 0..20 {
        if let Some(b) = src.next_batch(1000, Duration::from_millis(50)).unwrap() {
            n += b.len();
        }
    }
    n
}

#[test]
fn rows_pushed_with_the_token_arrive_and_the_rest_is_refused() {
    let (mut src, url) = source(serde_json::json!({ "max_body": 4096 }));
    let ingest = format!("{url}/ingest");
    let rows = (0..5)
        .map(|i| format!(r#"{{"entity":"cell-1","time":"2024-01-01T00:{i:02}:00Z","load":{i}}}"#))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(post(&ingest, Some(TOKEN), &rows), 202);
    assert_eq!(post(&ingest, None, &rows), 401, "no token");
    assert_eq!(post(&ingest, Some("wrong-token-0123456789"), &rows), 401);
    assert_eq!(post(&format!("{url}/other"), Some(TOKEN), &rows), 404);
    assert_eq!(
        post(&ingest, Some(TOKEN), "x".repeat(5000)),
        413,
        "over max_body"
    );
    // A bad row among good ones: the good ones arrive, the bad one is reported by place.
    let mixed = r#"{"entity":"cell-2","time":"2024-01-01T00:00:00Z","load":1}
{"entity":"cell-2","time":"not a time","load":2}
{"entity":"cell-2","time":"2024-01-01T00:02:00Z","load":3}"#;
    assert_eq!(post(&ingest, Some(TOKEN), mixed), 202);
    assert_eq!(drain(&mut src), 7);
    let report = src.report();
    assert_eq!(report.rows_skipped, 1, "{report:?}");
    let first = format!("{:?}", report.errors.first());
    assert!(
        first.contains("request 2") && first.contains("time"),
        "{first}"
    );
}

#[test]
fn a_full_buffer_answers_503_and_loses_nothing_it_accepted() {
    let (mut src, url) = source(serde_json::json!({ "buffer": 2 }));
    let ingest = format!("{url}/ingest");
    let row = |i: usize| {
        format!(
            r#"{{"entity":"c","time":{},"load":1}}"#,
            1_704_067_200 + i * 60
        )
    };
    let statuses: Vec<u16> = (0..5).map(|i| post(&ingest, Some(TOKEN), row(i))).collect();
    let accepted = statuses.iter().filter(|&&s| s == 202).count();
    assert_eq!(accepted, 2, "{statuses:?}");
    assert!(
        statuses.iter().all(|&s| s == 202 || s == 503),
        "{statuses:?}"
    );
    assert_eq!(drain(&mut src), accepted);
    assert_eq!(
        post(&ingest, Some(TOKEN), row(9)),
        202,
        "room again once drained"
    );
}

#[test]
fn a_source_without_a_token_is_refused_at_start() {
    let cfg: HttpSourceConfig =
        serde_json::from_value(serde_json::json!({ "listen": "127.0.0.1:0" })).unwrap();
    let e = LiveSource::http(&cfg, &["load".to_string()]).unwrap_err();
    assert!(e.to_string().contains("needs a token"), "{e}");
}

/// A body over 64 KiB (one line's limit) is as good as a small one: each of its rows arrives,
/// and only a line over the limit is refused, by itself. (A body was once refused whole after
/// its 202, and its rows lost.)
#[test]
fn a_large_body_arrives_whole_and_only_an_overlong_line_is_refused() {
    let (mut src, url) = source(serde_json::json!({}));
    let mut body: String = (0..2000)
        .map(|i| format!("{{\"entity\":\"cell-{i}\",\"time\":1704067200,\"load\":{i}}}\n"))
        .collect();
    assert!(body.len() > 64 * 1024, "{}", body.len());
    body.push_str(&format!(
        "{{\"entity\":\"{}\",\"time\":1704067200,\"load\":1}}\n",
        "x".repeat(70_000)
    ));
    assert_eq!(post(&format!("{url}/ingest"), Some(TOKEN), &body), 202);
    assert_eq!(drain(&mut src), 2000);
    let report = src.report();
    assert_eq!(report.rows_skipped, 1, "{report:?}");
    let first = format!("{:?}", report.errors.first());
    assert!(first.contains("over the limit of 65536"), "{first}");
}

/// Idle and half-open connections do not keep a sender out (there is room for 1024 of them),
/// and bodies read at once are bounded by `max_bodies`: one beyond is answered 503 with
/// `Retry-After`, and once the slow body is done the next push is taken.
#[test]
fn half_open_connections_leave_room_and_bodies_in_flight_are_bounded() {
    use std::io::Write;
    let (mut src, base) = source(serde_json::json!({ "max_bodies": 1 }));
    let addr = base.trim_start_matches("http://").to_string();
    let url = format!("{base}/ingest");
    let row = "{\"entity\":\"a\",\"time\":\"2024-01-01T00:00:00Z\",\"load\":1}\n";
    // 300 connections that never send a byte: the old limit of 64 held them all until the
    // 10 s header timeout, and this push waited behind them.
    let idle: Vec<_> = (0..300)
        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
        .collect();
    assert_eq!(post(&url, Some(TOKEN), row), 202);
    drop(idle);
    // A slow sender: headers, then half of its body.
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    let body = row.repeat(2);
    write!(
        slow,
        "POST /ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..body.len() / 2]
    )
    .unwrap();
    slow.flush().unwrap();
    // Its body holds the only permit once the server has read its head.
    let (mut answer, mut early) = (0, 0);
    for _ in 0..50 {
        answer = post(&url, Some(TOKEN), row);
        if answer == 503 {
            break;
        }
        early += usize::from(answer == 202);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(answer, 503, "a second body while the first is read");
    slow.write_all(&body.as_bytes()[body.len() / 2..]).unwrap();
    slow.flush().unwrap();
    let mut reply = [0u8; 12];
    std::io::Read::read_exact(&mut slow, &mut reply).unwrap();
    assert_eq!(&reply, b"HTTP/1.1 202", "the slow body is taken");
    assert_eq!(
        post(&url, Some(TOKEN), row),
        202,
        "and the permit is free again"
    );
    assert_eq!(drain(&mut src), 1 + early + 2 + 1);
}

/// With `lateness`, rows leave in event-time order behind the watermark, a row older than it
/// is counted late, and the source's end (`max_rows`) flushes what it holds.
#[test]
fn with_lateness_rows_leave_in_event_time_order_and_the_end_flushes_them() {
    let (mut src, url) = source(serde_json::json!({ "lateness": "2m", "max_rows": 6 }));
    let rows = [3, 1, 2, 0, 10, 4]
        .map(|m| format!(r#"{{"entity":"c","time":"2024-01-01T00:{m:02}:00Z","load":{m}}}"#))
        .join("\n");
    assert_eq!(post(&format!("{url}/ingest"), Some(TOKEN), rows), 202);
    let mut loads = Vec::new();
    while let Some(b) = src.next_batch(1000, Duration::from_millis(50)).unwrap() {
        loads.extend(b.rows().map(|(_, _, v)| v[0]));
    }
    // 0 is older than the watermark (3m - 2m) when it comes, 4 than 10m - 2m.
    assert_eq!(loads, [1.0, 2.0, 3.0, 10.0]);
    assert_eq!(src.late_rows(), 2);
    // As they came, 3 went backwards; 2 of those were late.
    let note = src.summary();
    assert!(
        note.contains(": 6 rows read; 3 rows out of order"),
        "{note}"
    );
    assert!(
        note.ends_with("; 2 late rows dropped (older than the watermark, lateness 2m)"),
        "{note}"
    );
}

/// A run that stops takes the rows held for event time, in order, once.
#[test]
fn held_rows_are_taken_when_the_run_stops() {
    let (mut src, url) = source(serde_json::json!({ "lateness": "1h" }));
    let rows = [4, 0, 3, 1, 2]
        .map(|m| format!(r#"{{"entity":"c","time":"2024-01-01T00:{m:02}:00Z","load":{m}}}"#))
        .join("\n");
    assert_eq!(post(&format!("{url}/ingest"), Some(TOKEN), rows), 202);
    assert_eq!(drain(&mut src), 0, "all within the lateness: held");
    let held = src.take_held().unwrap();
    let loads: Vec<f64> = held.rows().map(|(_, _, v)| v[0]).collect();
    assert_eq!(loads, [0.0, 1.0, 2.0, 3.0, 4.0]);
    assert!(src.take_held().is_none());
    assert_eq!(src.late_rows(), 0);
}

/// With `tls`, the endpoint speaks HTTPS only: a client that trusts the certificate's
/// authority pushes rows, a plain request gets no answer, and a client that sends nothing
/// does not keep the others out. The certificates are `.ci/certs.sh`'s (`AI4ICT_TEST_CERTS`).
#[test]
fn with_tls_the_endpoint_takes_https_only() {
    let Ok(certs) = std::env::var("AI4ICT_TEST_CERTS") else {
        eprintln!("AI4ICT_TEST_CERTS is not set: skipped (.ci/run makes the test certificates)");
        return;
    };
    let certs = std::path::Path::new(&certs);
    let (mut src, url) = source(serde_json::json!({ "tls": {
        "cert_file": certs.join("server-cert.pem"), "key_file": certs.join("server-key.pem"),
    }}));
    let https = url.replace("http://", "https://");
    assert_eq!(src.name(), format!("{https}/ingest"));
    // A connection that never says hello holds one slot, not the endpoint.
    let idle = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    let ca = std::fs::read(certs.join("ca.pem")).unwrap();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::new_with_certs(&[
            ureq::tls::Certificate::from_pem(&ca).unwrap(),
        ]))
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let row = r#"{"entity":"cell-1","time":"2024-01-01T00:00:00Z","load":1}"#;
    let status = agent
        .post(format!("{https}/ingest"))
        .header("Authorization", &format!("Bearer {TOKEN}"))
        .send(row)
        .unwrap()
        .status();
    assert_eq!(status, 202);
    assert_eq!(drain(&mut src), 1);
    // Plain HTTP to the TLS port: no HTTP answer.
    let plain = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent()
        .post(format!("{url}/ingest"))
        .header("Authorization", &format!("Bearer {TOKEN}"))
        .send(row);
    assert!(plain.is_err(), "{plain:?}");
    // A client that does not trust the authority does not connect.
    let untrusting = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent()
        .post(format!("{https}/ingest"))
        .send(row)
        .unwrap_err()
        .to_string();
    assert!(
        untrusting.to_lowercase().contains("certificate"),
        "{untrusting}"
    );
    drop(idle);
}

#[test]
fn an_unreadable_certificate_is_named_when_the_source_starts() {
    let cfg: HttpSourceConfig = serde_json::from_value(serde_json::json!({
        "listen": "127.0.0.1:0", "token_env": "AI4ICT_TLS_TEST_TOKEN",
        "tls": {"cert_file": "/surely/missing/cert.pem", "key_file": "/surely/missing/key.pem"},
    }))
    .unwrap();
    std::env::set_var("AI4ICT_TLS_TEST_TOKEN", TOKEN);
    let e = LiveSource::http(&cfg, &["load".to_string()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("tls.cert_file: /surely/missing/cert.pem"), "{e}");
}
