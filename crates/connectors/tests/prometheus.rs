//! The Prometheus remote-write source's answers to real HTTP requests: 204 for a request
//! taken, 503 while the buffer is full, 401 without the token, 400 for a body that is not
//! snappy-compressed protobuf (Prometheus does not retry it), 413 over `max_body`, 415 for
//! remote write 2.0 or another encoding. A real
//! Prometheus writing to it is in the CLI's tests (`crates/cli/tests/prometheus.rs`).

use std::time::Duration;

use ai4ict_connectors::{LiveSource, PrometheusSourceConfig};

mod common;
use common::{free_port, post, post_with};

const TOKEN: &str = "remote-write-token-0123456789";

#[test]
fn remote_write_is_answered_as_prometheus_expects() {
    let port = free_port();
    let var = format!("AI4ICT_PROMETHEUS_TOKEN_{port}");
    std::env::set_var(&var, TOKEN);
    let cfg: PrometheusSourceConfig = serde_json::from_value(serde_json::json!({
        "listen": format!("127.0.0.1:{port}"), "token_env": var, "max_body": 1024, "buffer": 1,
    }))
    .unwrap();
    let mut src = LiveSource::prometheus(&cfg, &["cpu".to_string()]).unwrap();
    let url = format!("http://127.0.0.1:{port}/api/v1/write");
    let snappy = |raw: &[u8]| snap::raw::Encoder::new().compress_vec(raw).unwrap();
    let empty = snappy(b"");

    assert_eq!(post(&url, Some(TOKEN), &empty), 204);
    assert_eq!(
        post(&url, Some(TOKEN), &empty),
        503,
        "a buffer of one is full"
    );
    let batch = src.next_batch(100, Duration::from_millis(200)).unwrap();
    assert_eq!(
        batch.map(|b| b.len()),
        Some(0),
        "an empty request has no rows"
    );
    assert_eq!(post(&url, Some(TOKEN), &empty), 204, "room again once read");

    assert_eq!(post(&url, None, &empty), 401);
    assert_eq!(post(&url, Some("wrong-token-0123456789"), &empty), 401);
    assert_eq!(post(&url, Some(TOKEN), "cpu 1.5"), 400, "not snappy");
    assert_eq!(
        post(&url, Some(TOKEN), snappy(&[0xff; 64])),
        400,
        "not protobuf"
    );
    assert_eq!(
        post(&url, Some(TOKEN), snappy(&[0; 4096])),
        400,
        "too big uncompressed"
    );
    assert_eq!(post(&url, Some(TOKEN), vec![0; 2048]), 413, "over max_body");
    // Remote write 1.0's headers are taken; 2.0's, and other encodings, are refused with 415
    // before the body is read, so the sender knows.
    let v1 = [
        ("Content-Type", "application/x-protobuf"),
        ("Content-Encoding", "snappy"),
        ("X-Prometheus-Remote-Write-Version", "0.1.0"),
    ];
    let _ = src.next_batch(100, Duration::from_millis(200));
    assert_eq!(post_with(&url, Some(TOKEN), &v1, &empty), 204);
    let v2 = [
        (
            "Content-Type",
            "application/x-protobuf;proto=io.prometheus.write.v2.Request",
        ),
        ("Content-Encoding", "snappy"),
    ];
    assert_eq!(
        post_with(&url, Some(TOKEN), &v2, &empty),
        415,
        "remote write 2.0"
    );
    let zstd = [("Content-Encoding", "zstd")];
    assert_eq!(
        post_with(&url, Some(TOKEN), &zstd, &empty),
        415,
        "not snappy"
    );
    let json = [("Content-Type", "application/json")];
    assert_eq!(
        post_with(&url, Some(TOKEN), &json, &empty),
        415,
        "not protobuf"
    );
    assert_eq!(
        src.report().rows_skipped,
        0,
        "refused bodies never reach the rows"
    );
}
