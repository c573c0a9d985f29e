//! `GET /events/pipelines`: the pipelines' statuses as server-sent events, a new event when
//! they change, and no more than `MAX_EVENT_STREAMS` streams at once (503 beyond).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ai4ict_hub::Hub;
use ai4ict_server::pipelines::{
    PipelineError, PipelineState, PipelineStatus, Pipelines, MAX_EVENT_STREAMS,
};
use ai4ict_server::{Background, Config, Hubs, Served};

/// One pipeline whose row count the test moves.
struct Counting(Arc<AtomicU64>);

impl Pipelines for Counting {
    fn list(&self) -> Vec<PipelineStatus> {
        vec![PipelineStatus {
            name: "p".into(),
            use_case: "operations".into(),
            source: "the sandbox".into(),
            state: PipelineState::Running,
            phase: "deploy".into(),
            rows: self.0.load(Ordering::SeqCst),
            alerts: 0,
            event_time: None,
            started: "2026-12-03T00:00:00Z".into(),
            detail: None,
            report: None,
            nodes: Vec::new(),
        }]
    }
    fn get(&self, _name: &str) -> Option<PipelineStatus> {
        self.list().pop()
    }
    fn start(&self, _yaml: &str) -> Result<PipelineStatus, PipelineError> {
        Err(PipelineError::Invalid("not in this test".into()))
    }
    fn stop(&self, name: &str) -> Result<PipelineStatus, PipelineError> {
        Err(PipelineError::NotFound(name.into()))
    }
}

fn open(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /events/pipelines HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    )
    .unwrap();
    s
}

/// Reads until `needle` has come (or the read times out); returns what came.
fn read_until(s: &mut TcpStream, needle: &str) -> String {
    let (mut got, mut buf) = (Vec::new(), [0u8; 4096]);
    while !String::from_utf8_lossy(&got).contains(needle) {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn statuses_stream_as_they_change_and_streams_are_bounded() {
    let rows = Arc::new(AtomicU64::new(0));
    let config = Config {
        pipelines: Some(Served(Arc::new(Counting(Arc::clone(&rows))))),
        ..Config::default()
    };
    let server = Background::start(
        Hubs::new(Hub::in_memory().unwrap()),
        config,
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let mut first = open(server.addr());
    let head = read_until(&mut first, "\"rows\":0");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/event-stream"), "{head}");
    assert!(head.contains("event: pipelines"), "{head}");
    rows.store(41, Ordering::SeqCst);
    let next = read_until(&mut first, "\"rows\":41");
    assert!(
        next.contains("\"rows\":41"),
        "a change makes a new event: {next}"
    );

    let mut held: Vec<TcpStream> = (1..MAX_EVENT_STREAMS)
        .map(|_| {
            let mut s = open(server.addr());
            let got = read_until(&mut s, "event: pipelines");
            assert!(got.contains("event: pipelines"), "{got}");
            s
        })
        .collect();
    let mut over = open(server.addr());
    let refused = read_until(&mut over, "\r\n\r\n");
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(
        refused.to_ascii_lowercase().contains("retry-after: 10"),
        "{refused}"
    );
    // A closed stream gives its place back.
    drop(held.pop());
    drop(first);
    let mut again = None;
    for _ in 0..50 {
        let mut s = open(server.addr());
        let got = read_until(&mut s, "\r\n\r\n");
        if got.starts_with("HTTP/1.1 200") {
            again = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        again.is_some(),
        "a place freed by a closed stream is taken again"
    );
}
