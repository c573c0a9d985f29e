//! What the bus tests share: names no other run uses, and reading an MQTT connection.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A name no other test run uses.
pub fn unique(prefix: &str) -> String {
    let ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}{}x{ns}", std::process::id())
}

/// Reads `conn` until the broker acknowledges a subscription (at most 10 s).
pub fn await_suback(conn: &mut rumqttc::Connection) {
    let until = Instant::now() + Duration::from_secs(10);
    while !matches!(
        conn.recv_timeout(Duration::from_millis(200)),
        Ok(Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))))
    ) {
        assert!(Instant::now() < until, "no SUBACK within 10 s");
    }
}

/// The `entity` of the first `n` alerts published to `conn`'s subscription (at most 10 s).
pub fn alert_entities(conn: &mut rumqttc::Connection, n: usize) -> Vec<String> {
    let until = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    while got.len() < n && Instant::now() < until {
        if let Ok(Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p)))) =
            conn.recv_timeout(Duration::from_millis(200))
        {
            let v: serde_json::Value = serde_json::from_slice(&p.payload).unwrap();
            got.push(v["entity"].as_str().unwrap().to_string());
        }
    }
    got
}

/// Reads `conn` until the broker has acknowledged `n` QoS 1 publications (at most 10 s);
/// returns how many it acknowledged.
pub fn await_pubacks(conn: &mut rumqttc::Connection, n: usize) -> usize {
    let until = Instant::now() + Duration::from_secs(10);
    let mut acked = 0;
    while acked < n && Instant::now() < until {
        if let Ok(Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_)))) =
            conn.recv_timeout(Duration::from_millis(200))
        {
            acked += 1;
        }
    }
    acked
}

/// Every row a bounded live source delivers until it ends (at most 20 s).
pub fn drain(source: &mut ai4ict_connectors::LiveSource) -> usize {
    let mut rows = 0;
    let until = Instant::now() + Duration::from_secs(20);
    while let Some(b) = source.next_batch(100, Duration::from_millis(50)).unwrap() {
        rows += b.len();
        assert!(Instant::now() < until, "the source did not end");
    }
    rows
}
