//! Helpers of the tests that run clusters and live sources: free ports, unique names, and
//! the sandbox's telemetry as JSON lines to publish.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// Two consecutive free ports on loopback: a cluster's processes listen on base and base + 1.
pub fn free_port_pair() -> u16 {
    for _ in 0..50 {
        let a = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = a.local_addr().unwrap().port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair on loopback");
}

/// `prefix` made unique to this process and moment (topics, streams, client ids).
pub fn unique(prefix: &str) -> String {
    let ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}{}x{ns}", std::process::id())
}

/// `ai4ict sandbox generate` of `cells` cells over `days` days in `dir/net`, as the text of
/// its `telemetry.jsonl`.
pub fn generated_telemetry(dir: &Path, cells: u32, days: u32) -> String {
    let (cells, days) = (cells.to_string(), days.to_string());
    let out = Command::new(env!("CARGO_BIN_EXE_ai4ict"))
        .args([
            "sandbox", "generate", "--cells", &cells, "--days", &days, "--out", "net", "--format",
            "jsonl", "--quiet",
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(dir.join("net/telemetry.jsonl")).unwrap()
}
