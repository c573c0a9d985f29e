//! `ai4ict bench bus` against the real nats-server `.ci/nats.sh` starts (`AI4ICT_TEST_NATS`):
//! it publishes, runs one process and a cluster of two, and prints both rates and their
//! ratio. Skipped, saying so, without the server.
#![cfg(feature = "nats")]

use std::process::Command;

#[test]
fn bench_bus_runs_one_process_and_a_cluster() {
    let Ok(url) = std::env::var("AI4ICT_TEST_NATS") else {
        eprintln!("AI4ICT_TEST_NATS is not set: skipped (.ci/run starts nats-server and sets it)");
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_ai4ict"))
        .args([
            "bench", "bus", "--nats", &url, "--cells", "6", "--days", "2",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "published to",
        "1 process(es): ",
        "2 process(es): ",
        "2 processes / 1 process = ",
    ] {
        assert!(text.contains(want), "{want} in {text}");
    }
    // Two processes and the server need three cores: with fewer the bench says so.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(
        text.contains("the ratio shows the cores, not the cluster"),
        cores <= 2,
        "{cores} cores: {text}"
    );
}
