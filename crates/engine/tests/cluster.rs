//! A cluster whose processes do not all come fails cleanly: an error naming the missing
//! processes after the connect timeout, not a hang; a stranger on a cluster port is dropped,
//! not a panic.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ai4ict_engine::dataflow::{self, PipelineSpec, Progress};
use ai4ict_engine::feeds::MemoryFeed;
use ai4ict_engine::{Cluster, EngineError};

/// Two free ports next to each other: `(p, p + 1)`.
fn free_ports() -> u16 {
    loop {
        let a = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = a.local_addr().unwrap().port();
        if p < u16::MAX && TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
}

fn run_alone(process: usize, base_port: u16) -> Result<(), EngineError> {
    let spec = PipelineSpec::new(vec!["x".into()], ai4ict_core::Interval::from_minutes(15));
    let cluster = Cluster {
        processes: 2,
        process,
        base_port,
        connect_timeout: Duration::from_secs(2),
        ..Cluster::default()
    };
    dataflow::run(
        spec,
        &cluster,
        MemoryFeed::factory(Vec::new()),
        Arc::new(|| Ok(Vec::new())),
        Arc::new(Progress::default()),
    )
    .map(|_| ())
}

#[test]
fn a_missing_process_is_an_error_naming_it_after_the_timeout() {
    let port = free_ports();
    let started = Instant::now();
    let err = run_alone(0, port).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!("process 1 (127.0.0.1:{})", port + 1)),
        "{text}"
    );
    assert!(started.elapsed() < Duration::from_secs(30), "it gave up");

    let err = run_alone(1, free_ports()).unwrap_err().to_string();
    assert!(err.contains("for process 0 (127.0.0.1:"), "{err}");
}

#[test]
fn strangers_on_a_cluster_port_are_dropped_not_a_panic() {
    let port = free_ports();
    let stranger = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        // An index out of range, a short greeting, and silence.
        for greeting in [&u64::MAX.to_be_bytes()[..], &[1, 2, 3][..], &[][..]] {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                let _ = s.write_all(greeting);
            }
        }
    });
    let err = run_alone(0, port).unwrap_err().to_string();
    stranger.join().unwrap();
    assert!(err.contains("process 1"), "{err}");
}
