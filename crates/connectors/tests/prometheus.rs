//! The Prometheus remote-write source's answers to real HTTP requests: 204 for a request
//! taken, 503 while the buffer is full, 401 without the token, 400 for a body that is not
//! snappy-compressed protobuf (Prometheus does not retry it), 413 over `max_body`. A real
//! Prometheus writing to it is in the CLI's tests (`crates/cli/tests/prometheus.rs`).

use std::time::Duration;

use ai4ict_connectors::{LiveSource, PrometheusSourceConfig};

mod common;
use common::{free_port, post};

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
    assert_eq!(
        src.report().rows_skipped,
        0,
        "refused bodies never reach the rows"
    );
}
