//! `ai4ict collect` and `ai4ict bench collector`: the records an exporter sends become CSV
//! rows, a bad datagram is reported and counted without stopping the collector, an existing
//! file is refused; a small bench run passes its own checks.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, ChildStderr, Command, Stdio};

use ai4ict_netflow::{Exporter, FlowRecord, Version};

const BIN: &str = env!("CARGO_BIN_EXE_ai4ict");

/// `n` TCP flows from `exporter` at `ms`.
fn records(exporter: SocketAddr, n: u16, ms: i64) -> Vec<FlowRecord> {
    (0..n)
        .map(|i| {
            let mut r = FlowRecord::empty(exporter, 5, ms);
            r.src = format!("10.9.0.{}", i + 1).parse().unwrap();
            r.dst = "192.0.2.80".parse().unwrap();
            (r.src_port, r.dst_port, r.protocol) = (50_000 + i, 443, 6);
            (r.packets, r.octets, r.tcp_flags) = (3, 180, 0x12);
            (r.input, r.output) = (Some(4), Some(9));
            r.end_ms = ms + 500;
            r
        })
        .collect()
}

/// Starts `ai4ict ARGS OUT` (a listener on `127.0.0.1:0`) and reads the address it announces
/// on its first line of standard error (`listening on ADDR …`).
fn listening(args: &[&str], out: &std::path::Path) -> (Child, BufReader<ChildStderr>, SocketAddr) {
    let mut child = Command::new(BIN)
        .args(args)
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let addr: SocketAddr = first
        .strip_prefix("listening on ")
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .parse()
        .unwrap();
    (child, stderr, addr)
}

#[test]
fn collect_writes_the_records_and_reports_a_bad_datagram() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flows.csv");
    let args = [
        "collect",
        "--listen",
        "127.0.0.1:0",
        "--records",
        "60",
        "--out",
    ];
    let (mut child, mut stderr, addr) = listening(&args, &out);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    // An IPFIX header whose length is shorter than itself.
    let mut bad = vec![0, 10, 0, 3];
    bad.resize(16, 0);
    socket.send_to(&bad, addr).unwrap();
    let ms = 1_796_000_000_000;
    let mut exporter = Exporter::new(Version::Ipfix, 5, ms - 60_000);
    let mut buf = Vec::new();
    for _ in 0..2 {
        exporter.packet(&records(socket.local_addr().unwrap(), 30, ms), ms, &mut buf);
        socket.send_to(&buf, addr).unwrap();
    }
    let status = child.wait().unwrap();
    let mut err = String::new();
    stderr.read_to_string(&mut err).unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(status.success(), "{stdout}\n{err}");
    let from = socket.local_addr().unwrap();
    assert!(
        err.contains(&format!(
            "malformed datagram from {from}: IPFIX message length 3"
        )),
        "{err}"
    );
    assert!(stdout.contains("collected 60 records"), "{stdout}");
    assert!(stdout.contains("3 datagrams, 60 flow records (0 options records), 1 malformed; lost by sequence: 0 records"), "{stdout}");
    let csv = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "exporter,domain,start_ms,end_ms,src,dst,src_port,dst_port,protocol,packets,octets,tcp_flags,input,output");
    assert_eq!(lines.len(), 61);
    assert_eq!(
        lines[1],
        format!(
            "{from},5,{ms},{},10.9.0.1,192.0.2.80,50000,443,6,3,180,18,4,9",
            ms + 500
        )
    );
}

#[test]
fn collect_refuses_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flows.csv");
    std::fs::write(&out, "kept\n").unwrap();
    let run = Command::new(BIN)
        .args(["collect", "--listen", "127.0.0.1:0", "--for", "1", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("exists already"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "kept\n");
}

#[test]
fn bench_collector_passes_at_a_small_rate() {
    let run = Command::new(BIN)
        .args(["bench", "collector", "--rate", "20000", "--seconds", "1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("received 20000 records"), "{stdout}");
    assert!(stdout.contains("passed:"), "{stdout}");
}

/// `ai4ict intrusion --listen`: IPFIX from an exporter, scored as it arrives. Half an hour of
/// ordinary hosts teaches the population; a port scanner then alerts, with no label anywhere.
#[test]
fn intrusion_over_ipfix_alerts_on_a_port_scanner() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("alerts.jsonl");
    let args = [
        "intrusion",
        "--listen",
        "127.0.0.1:0",
        "--for",
        "5",
        "--out",
    ];
    let (mut child, mut stderr, addr) = listening(&args, &out);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let from = socket.local_addr().unwrap();
    let t0 = 1_796_000_000_000i64;
    let flow = |src: String, dst: String, port: u16, flags: u16, ms: i64| {
        let mut r = FlowRecord::empty(from, 1, ms);
        (r.src, r.dst) = (src.parse().unwrap(), dst.parse().unwrap());
        (r.src_port, r.dst_port, r.protocol) = (40_000, port, 6);
        (r.packets, r.octets) = if flags == 0x02 { (1, 60) } else { (12, 4_000) };
        r.tcp_flags = flags;
        r.end_ms = ms + 200;
        r
    };
    let mut all = Vec::new();
    for m in 0..30i64 {
        for i in 0..100i64 {
            let src = format!("10.1.{}.{}", m, i + 1);
            let dst = format!("192.0.2.{}", 1 + (m * 7 + i) % 50);
            all.push(flow(src, dst, 443, 0x1b, t0 + m * 60_000 + i * 500));
        }
    }
    for p in 0..300i64 {
        let ms = t0 + 30 * 60_000 + p * 400;
        all.push(flow(
            "198.51.100.7".into(),
            "10.1.0.9".into(),
            1 + p as u16,
            0x02,
            ms,
        ));
    }
    all.push(flow(
        "10.1.0.1".into(),
        "192.0.2.1".into(),
        443,
        0x1b,
        t0 + 40 * 60_000,
    ));
    let mut exporter = Exporter::new(Version::Ipfix, 1, t0 - 60_000);
    let mut buf = Vec::new();
    for (n, chunk) in all.chunks(30).enumerate() {
        exporter.packet(chunk, chunk[0].start_ms, &mut buf);
        socket.send_to(&buf, addr).unwrap();
        if n % 16 == 15 {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
    let status = child.wait().unwrap();
    let mut err = String::new();
    stderr.read_to_string(&mut err).unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(status.success(), "{stdout}\n{err}");
    assert!(
        stdout.contains(&format!("{} records", all.len())),
        "{stdout}"
    );
    assert!(stdout.contains("198.51.100.7 at "), "{stdout}");
    let alerts = std::fs::read_to_string(&out).unwrap();
    assert!(alerts.contains("\"host\":\"198.51.100.7\""), "{alerts}");
    let normal = alerts
        .lines()
        .filter(|l| l.contains("\"host\":\"10.1."))
        .count();
    assert!(
        normal <= 3,
        "ordinary hosts alerted {normal} times:\n{alerts}"
    );
}
