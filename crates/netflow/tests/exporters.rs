//! The collector against real exporters from Debian's packages (`.ci/flows.sh` installs them
//! and sets the variables; skipped, saying so, when they are not set):
//!
//! - `AI4ICT_TEST_SOFTFLOWD`: softflowd reads a pcap this test writes (known TCP, UDP and
//!   IPv6 flows) and exports it as NetFlow v5, v9 and IPFIX; the collector must receive
//!   exactly those flows, with no sequence gap.
//! - `AI4ICT_TEST_NFDUMP`: nfcapd captures what the crate's own exporter sends into a file,
//!   `nfdump -r` counts it, and `nfreplay` replays it as v9 and v5 to the collector, whose
//!   count must match nfdump's.

use std::net::{IpAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ai4ict_netflow::{Collector, CollectorStats, Exporter, FlowRecord, Received, Version};

/// What a flow record says about a flow: (src, dst, src port, dst port, protocol, packets,
/// bytes).
type Key = (IpAddr, IpAddr, u16, u16, u8, u64, u64);

fn key(r: &FlowRecord) -> Key {
    (
        r.src, r.dst, r.src_port, r.dst_port, r.protocol, r.packets, r.octets,
    )
}

fn env(var: &str) -> Option<PathBuf> {
    let v = std::env::var_os(var).map(PathBuf::from);
    if v.is_none() {
        eprintln!("{var} is not set: skipped (.ci/flows.sh installs the exporter and sets it)");
    }
    v
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A pcap file (Ethernet link type) of IPv4 and IPv6 packets.
struct Pcap(Vec<u8>);

impl Pcap {
    fn new() -> Self {
        let mut b = Vec::new();
        b.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&4u16.to_le_bytes());
        b.extend_from_slice(&[0; 8]); // time zone, sigfigs
        b.extend_from_slice(&65_535u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes()); // Ethernet
        Self(b)
    }

    /// One packet at `ms`: `transport` (a TCP or UDP header and payload) in IPv4 or IPv6.
    fn packet(&mut self, ms: i64, src: IpAddr, dst: IpAddr, protocol: u8, transport: &[u8]) {
        let mut frame = vec![0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6];
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                frame.extend_from_slice(&[0x08, 0x00]);
                let total = (20 + transport.len()) as u16;
                let mut h = vec![0x45, 0];
                h.extend_from_slice(&total.to_be_bytes());
                h.extend_from_slice(&[0, 1, 0, 0, 64, protocol, 0, 0]);
                h.extend_from_slice(&s.octets());
                h.extend_from_slice(&d.octets());
                let sum = checksum(&h);
                h[10..12].copy_from_slice(&sum.to_be_bytes());
                frame.extend(h);
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                frame.extend_from_slice(&[0x86, 0xdd]);
                frame.extend_from_slice(&[0x60, 0, 0, 0]);
                frame.extend_from_slice(&(transport.len() as u16).to_be_bytes());
                frame.extend_from_slice(&[protocol, 64]);
                frame.extend_from_slice(&s.octets());
                frame.extend_from_slice(&d.octets());
            }
            _ => panic!("mixed address families"),
        }
        frame.extend_from_slice(transport);
        let len = frame.len() as u32;
        self.0
            .extend_from_slice(&((ms / 1000) as u32).to_le_bytes());
        self.0
            .extend_from_slice(&((ms % 1000 * 1000) as u32).to_le_bytes());
        self.0.extend_from_slice(&len.to_le_bytes());
        self.0.extend_from_slice(&len.to_le_bytes());
        self.0.extend(frame);
    }
}

/// The IPv4 header checksum (RFC 791).
fn checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = h
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn tcp(sport: u16, dport: u16, flags: u8, payload: usize) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.resize(20 + payload, b'x');
    t
}

fn udp(sport: u16, dport: u16, payload: usize) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.resize(8 + payload, b'y');
    u
}

/// Writes the test's capture, starting a minute ago, and returns the flow records an
/// exporter must make of it (per direction), IPv6 ones last, and the capture's time span.
fn capture(path: &Path) -> (Vec<Key>, usize, (i64, i64)) {
    let t0 = now_ms() - 60_000;
    let mut pcap = Pcap::new();
    let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    let mut want = Vec::new();
    // A TCP connection: 5 packets of 100 bytes one way, 3 of 200 back.
    for i in 0..5 {
        let flags = if i == 0 { 0x02 } else { 0x18 };
        pcap.packet(t0 + i * 100, a, b, 6, &tcp(40_000, 80, flags, 100));
        if i < 3 {
            pcap.packet(t0 + i * 100 + 50, b, a, 6, &tcp(80, 40_000, 0x10, 200));
        }
    }
    want.push((a, b, 40_000, 80, 6, 5, 5 * 140));
    want.push((b, a, 80, 40_000, 6, 3, 3 * 240));
    // 70 one-way UDP flows of 1 to 3 packets (several export packets in every version).
    for i in 0..70u16 {
        let src: IpAddr = format!("10.0.1.{}", i + 1).parse().unwrap();
        let dst: IpAddr = "10.0.2.53".parse().unwrap();
        let n = 1 + u64::from(i % 3);
        for k in 0..n {
            let at = t0 + 1_000 + i64::from(i) * 10 + k as i64 * 3;
            pcap.packet(at, src, dst, 17, &udp(20_000 + i, 53, 30 + usize::from(i)));
        }
        want.push((src, dst, 20_000 + i, 53, 17, n, n * (58 + u64::from(i))));
    }
    // An IPv6 UDP flow of 4 packets.
    let (s6, d6): (IpAddr, IpAddr) = (
        "2001:db8::1".parse().unwrap(),
        "2001:db8::2".parse().unwrap(),
    );
    for k in 0..4 {
        pcap.packet(t0 + 2_000 + k * 200, s6, d6, 17, &udp(1000, 2000, 50));
    }
    want.push((s6, d6, 1000, 2000, 17, 4, 4 * 98));
    std::fs::write(path, &pcap.0).unwrap();
    (want, 1, (t0, t0 + 2_600))
}

/// Receives on `collector` while `exporter` runs (calling `poke` every poll) and one idle poll
/// more; fails the test when it runs past 30 s or exits with an error.
fn collect_while(
    collector: &mut Collector,
    exporter: &mut Child,
    mut poke: impl FnMut(),
) -> (Vec<FlowRecord>, CollectorStats) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut records = Vec::new();
    let mut exited = false;
    loop {
        let got = collector.receive(&mut records).unwrap();
        if let Received::Datagram {
            result: Err(e),
            from,
            ..
        } = &got
        {
            panic!("malformed datagram from {from}: {e}");
        }
        if exited && got == Received::Idle {
            break;
        }
        if let Some(status) = exporter.try_wait().unwrap() {
            assert!(status.success(), "the exporter failed: {status}");
            exited = true;
        } else {
            assert!(
                Instant::now() < deadline,
                "the exporter did not finish within 30 s"
            );
            poke();
        }
    }
    (records, collector.stats())
}

fn assert_no_loss(stats: &CollectorStats, what: &str) {
    let t = &stats.total;
    assert_eq!(
        (
            t.malformed,
            t.lost_records,
            t.lost_packets,
            t.restarts,
            t.reordered
        ),
        (0, 0, 0, 0, 0),
        "{what}: {stats}"
    );
    assert_eq!(t.unknown_template_sets, 0, "{what}: {stats}");
    assert_eq!(stats.kernel_drops.unwrap_or(0), 0, "{what}: {stats}");
}

fn sorted(mut keys: Vec<Key>) -> Vec<Key> {
    keys.sort();
    keys
}

#[test]
fn softflowd_exports_exactly_the_captured_flows() {
    let Some(softflowd) = env("AI4ICT_TEST_SOFTFLOWD") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pcap = dir.join("flows.pcap");
    let (want, v6, (first, last)) = capture(&pcap);
    for version in ["5", "9", "10"] {
        let mut collector = Collector::bind("127.0.0.1:0".parse().unwrap(), 1 << 20).unwrap();
        let ctl = dir.join(format!("v{version}.ctl"));
        let mut child = Command::new(&softflowd)
            .arg("-d")
            .args(["-r".as_ref(), pcap.as_os_str()])
            .args(["-n", &collector.local_addr().to_string(), "-v", version])
            .args(["-c".as_ref(), ctl.as_os_str()])
            .args([
                "-p".as_ref(),
                dir.join(format!("v{version}.pid")).as_os_str(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // softflowd 1.1.0 reading a file may wait in accept() on its control socket before
        // it reads a packet (seen about every other run); a connection that sends nothing
        // ("Control socket yielded no data") lets it go on.
        let (records, stats) = collect_while(&mut collector, &mut child, || {
            let _ = std::os::unix::net::UnixStream::connect(&ctl);
        });
        let expected = if version == "5" {
            &want[..want.len() - v6]
        } else {
            &want[..]
        };
        assert_eq!(
            sorted(records.iter().map(key).collect()),
            sorted(expected.to_vec()),
            "softflowd -v {version}"
        );
        assert!(
            stats.total.datagrams > 1,
            "softflowd -v {version}: one datagram only: {stats}"
        );
        assert_no_loss(&stats, &format!("softflowd -v {version}"));
        for r in &records {
            assert!(
                r.start_ms >= first - 1_000 && r.end_ms <= last + 1_000 && r.start_ms <= r.end_ms,
                "softflowd -v {version}: times {}..{} outside the capture's {first}..{last}: {r:?}",
                r.start_ms,
                r.end_ms
            );
        }
        eprintln!(
            "softflowd -v {version}: {} records in {} datagrams, as captured",
            records.len(),
            stats.total.datagrams
        );
    }
}

#[test]
fn nfreplay_replays_what_nfdump_counts() {
    let Some(nfdump) = env("AI4ICT_TEST_NFDUMP") else {
        return;
    };
    let bin = nfdump.parent().unwrap().to_path_buf();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let flows = dir.join("flows");
    std::fs::create_dir_all(&flows).unwrap();
    // nfcapd captures 4 IPFIX packets of 30 records (IPv4 and IPv6) from the crate's exporter.
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut nfcapd = Command::new(bin.join("nfcapd"))
        .args(["-b", "127.0.0.1", "-p", &port.to_string()])
        .args(["-w".as_ref(), flows.as_os_str()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !udp_bound(port) {
        assert!(Instant::now() < deadline, "nfcapd did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let now = now_ms();
    let mut exporter = Exporter::new(Version::Ipfix, 3, now - 3_600_000);
    let mut sent = 0;
    let mut buf = Vec::new();
    for p in 0..4u8 {
        let batch: Vec<FlowRecord> = (0..30u8)
            .map(|i| {
                let mut r = FlowRecord::empty(socket.local_addr().unwrap(), 3, now - 10_000);
                r.src = if i % 10 == 9 {
                    format!("2001:db8::{p}:{i}").parse().unwrap()
                } else {
                    format!("10.{p}.0.{i}").parse().unwrap()
                };
                r.dst = if r.src.is_ipv4() {
                    "192.0.2.1".parse().unwrap()
                } else {
                    "2001:db8::53".parse().unwrap()
                };
                (r.src_port, r.dst_port, r.protocol) = (30_000 + u16::from(i), 443, 6);
                (r.packets, r.octets) = (u64::from(i) + 1, 100 * (u64::from(i) + 1));
                (r.input, r.output) = (Some(1), Some(2));
                r.end_ms = now - 5_000;
                r
            })
            .collect();
        exporter.packet(&batch, now, &mut buf);
        socket.send_to(&buf, ("127.0.0.1", port)).unwrap();
        sent += batch.len();
    }
    // SIGTERM: nfcapd closes its file.
    std::thread::sleep(Duration::from_millis(500));
    let term = Command::new("kill")
        .args(["-TERM", &nfcapd.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    assert!(nfcapd.wait().unwrap().success());
    let file = std::fs::read_dir(&flows)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("nfcapd.2")
        })
        .expect("nfcapd wrote no file");
    let out = Command::new(&nfdump)
        .args(["-q", "-o", "csv", "-r"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nfdump -r: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let v6 = rows
        .iter()
        .filter(|l| l.split(',').nth(3).is_some_and(|a| a.contains(':')))
        .count();
    assert_eq!(
        rows.len(),
        sent,
        "nfdump counts what nfcapd captured of our IPFIX"
    );

    for (version, expected) in [("9", rows.len()), ("5", rows.len() - v6)] {
        let mut collector = Collector::bind("127.0.0.1:0".parse().unwrap(), 1 << 20).unwrap();
        let mut child = Command::new(bin.join("nfreplay"))
            .args([
                "-H",
                "127.0.0.1",
                "-p",
                &collector.local_addr().port().to_string(),
            ])
            .args(["-v", version, "-r"])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (records, stats) = collect_while(&mut collector, &mut child, || {});
        assert_eq!(records.len(), expected, "nfreplay -v {version}: {stats}");
        assert_no_loss(&stats, &format!("nfreplay -v {version}"));
        eprintln!(
            "nfreplay -v {version}: {} records in {} datagrams; nfdump -r counts {} ({} IPv6)",
            records.len(),
            stats.total.datagrams,
            rows.len(),
            v6
        );
    }
}

/// Whether a UDP socket is bound to `port` on this host (`/proc/net/udp`).
fn udp_bound(port: u16) -> bool {
    let hex = format!(":{port:04X} ");
    std::fs::read_to_string("/proc/net/udp").is_ok_and(|t| t.lines().any(|l| l.contains(&hex)))
}
