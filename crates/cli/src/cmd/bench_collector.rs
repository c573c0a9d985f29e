//! `ai4ict bench collector`: the NetFlow / IPFIX collector on loopback at a paced rate.
//!
//! An exporter thread in this process sends IPFIX (or v9) datagrams of `--per-datagram`
//! records, paced at `--rate` flows per second for `--seconds`, to a collector on 127.0.0.1
//! that decodes them on another thread. The bench prints the offered and achieved rates, the
//! records received, those lost by sequence accounting and the kernel's drops on the
//! collector's socket, and fails when the collector's count differs from the exporter's or
//! the sequence numbers were not contiguous (issue 15's goal: no record lost at 100 k flows/s).
//! `--find-max` then doubles the rate, one second a step, until a record is lost.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ai4ict_netflow::{
    Collector, Counts, Exporter, FlowRecord, Received, Version, DEFAULT_RECV_BUFFER,
};
use anyhow::{bail, Context};

/// Options of `bench collector`.
#[derive(clap::Args)]
pub struct Args {
    /// Flows per second the exporter offers.
    #[arg(long, default_value_t = 100_000)]
    rate: u64,
    /// Seconds of exporting.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Records per datagram.
    #[arg(long, default_value_t = 30)]
    per_datagram: usize,
    /// Export format.
    #[arg(long, value_enum, default_value = "ipfix")]
    format: Format,
    /// After the paced run, double the rate from `--rate`, one second a step (at most six),
    /// until a record is lost, and print the highest lossless rate.
    #[arg(long)]
    find_max: bool,
}

/// The export formats the bench's exporter writes.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Ipfix,
    V9,
}

/// One run of the exporter against a fresh collector.
struct Outcome {
    /// Records and datagrams sent, and send errors.
    sent: u64,
    datagrams: u64,
    send_errors: u64,
    /// Seconds the exporter took.
    elapsed: f64,
    /// The collector's counters.
    counts: Counts,
    kernel_drops: Option<u64>,
    recv_buffer: usize,
}

impl Outcome {
    /// Everything sent arrived, in sequence.
    fn lossless(&self) -> bool {
        let c = &self.counts;
        c.records == self.sent
            && c.lost_records + c.lost_packets + c.reordered + c.restarts + c.malformed == 0
            && c.unknown_template_sets == 0
            && self.send_errors == 0
            && self.kernel_drops.unwrap_or(0) == 0
    }
}

/// Runs the benchmark; fails when the collector's count differs from the exporter's or
/// the sequence was not contiguous.
pub fn run(a: Args) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "note: this is a debug build; measure with `cargo run --release -- bench collector`"
        );
    }
    if a.rate == 0 || a.seconds == 0 || a.per_datagram == 0 || a.per_datagram > 400 {
        bail!("--rate and --seconds must be above 0, --per-datagram 1 to 400");
    }
    let version = match a.format {
        Format::Ipfix => Version::Ipfix,
        Format::V9 => Version::V9,
    };
    let o = phase(version, a.rate, a.seconds, a.per_datagram)?;
    let c = &o.counts;
    println!(
        "bench collector: {}, {} records per datagram, receive buffer {} bytes granted",
        match a.format {
            Format::Ipfix => "IPFIX",
            Format::V9 => "NetFlow v9",
        },
        a.per_datagram,
        o.recv_buffer
    );
    println!(
        "offered {} flows/s for {} s: sent {} records in {} datagrams in {:.2} s ({:.0} flows/s achieved), {} send errors",
        a.rate, a.seconds, o.sent, o.datagrams, o.elapsed, o.sent as f64 / o.elapsed, o.send_errors
    );
    println!(
        "received {} records in {} datagrams; lost by sequence accounting: {} records, {} v9 packets; late {}, restarts {}, malformed {}; kernel drops {}",
        c.records,
        c.datagrams,
        c.lost_records,
        c.lost_packets,
        c.reordered,
        c.restarts,
        c.malformed,
        o.kernel_drops.map_or("unknown".to_string(), |d| d.to_string())
    );
    if !o.lossless() {
        bail!(
            "FAILED: the exporter sent {} records, the collector received {} ({} lost by sequence, {} kernel drops)",
            o.sent,
            c.records,
            c.lost_records + c.lost_packets,
            o.kernel_drops.unwrap_or(0)
        );
    }
    println!("passed: the collector's count equals the exporter's, sequence numbers contiguous");
    if a.find_max {
        let mut best = a.rate;
        for step in 1..=6 {
            let rate = a.rate << step;
            let o = phase(version, rate, 1, a.per_datagram)?;
            let achieved = o.sent as f64 / o.elapsed;
            println!(
                "  max search: offered {rate} flows/s ({achieved:.0} achieved): received {} of {}, kernel drops {}",
                o.counts.records,
                o.sent,
                o.kernel_drops.map_or("unknown".to_string(), |d| d.to_string())
            );
            if !o.lossless() {
                break;
            }
            best = best.max(achieved as u64);
        }
        println!("highest lossless rate found: {best} flows/s (1 s steps, doubling)");
    }
    Ok(())
}

/// Exports at `rate` flows/s for `seconds` to a fresh collector and returns what both saw.
fn phase(
    version: Version,
    rate: u64,
    seconds: u64,
    per_datagram: usize,
) -> anyhow::Result<Outcome> {
    let collector = Collector::bind(
        "127.0.0.1:0".parse().context("the loopback address")?,
        DEFAULT_RECV_BUFFER,
    )?;
    let to = collector.local_addr();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let finished = &done;
        let receiver = s.spawn(move || -> anyhow::Result<Collector> {
            let mut collector = collector;
            let mut batch = Vec::with_capacity(per_datagram);
            loop {
                batch.clear();
                // Once the exporter is done, the first idle poll (100 ms) ends the phase.
                if collector.receive(&mut batch)? == Received::Idle
                    && finished.load(Ordering::SeqCst)
                {
                    return Ok(collector);
                }
            }
        });
        let sent = export(version, to, rate, seconds, per_datagram);
        done.store(true, Ordering::SeqCst);
        let collector = receiver
            .join()
            .map_err(|_| anyhow::anyhow!("the collector thread panicked"))??;
        let (sent, datagrams, send_errors, elapsed) = sent?;
        let stats = collector.stats();
        Ok(Outcome {
            sent,
            datagrams,
            send_errors,
            elapsed,
            counts: stats.total,
            kernel_drops: stats.kernel_drops,
            recv_buffer: stats.recv_buffer.unwrap_or(0),
        })
    })
}

/// Sends datagrams of `per_datagram` records to `to` at `rate` flows/s for `seconds`;
/// returns records, datagrams, send errors and seconds taken.
fn export(
    version: Version,
    to: SocketAddr,
    rate: u64,
    seconds: u64,
    per_datagram: usize,
) -> anyhow::Result<(u64, u64, u64, f64)> {
    let socket = UdpSocket::bind("127.0.0.1:0").context("the exporter's socket")?;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let mut exporter = Exporter::new(version, 1, now_ms - 3_600_000);
    let records = sample_records(socket.local_addr()?, per_datagram, now_ms);
    let total = rate * seconds;
    let (mut sent, mut datagrams, mut errors) = (0u64, 0u64, 0u64);
    let mut buf = Vec::with_capacity(2048);
    let started = Instant::now();
    while sent < total {
        let due = started + Duration::from_secs_f64(sent as f64 / rate as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let n = per_datagram.min((total - sent) as usize);
        exporter.packet(&records[..n], now_ms, &mut buf);
        match socket.send_to(&buf, to) {
            Ok(_) => {}
            Err(_) => errors += 1,
        }
        sent += n as u64;
        datagrams += 1;
    }
    Ok((sent, datagrams, errors, started.elapsed().as_secs_f64()))
}

/// `n` flows of distinct hosts and ports, IPv4.
fn sample_records(exporter: SocketAddr, n: usize, now_ms: i64) -> Vec<FlowRecord> {
    (0..n)
        .map(|i| {
            let mut r = FlowRecord::empty(exporter, 1, now_ms);
            r.src = std::net::Ipv4Addr::new(10, 0, (i / 250) as u8, (i % 250) as u8 + 1).into();
            r.dst = std::net::Ipv4Addr::new(192, 0, 2, 80).into();
            r.src_port = 32_768 + i as u16;
            r.dst_port = 443;
            r.protocol = 6;
            r.packets = 10 + i as u64;
            r.octets = 1_500 * (10 + i as u64);
            r.tcp_flags = 0x1b;
            r.input = Some(1);
            r.output = Some(2);
            r.start_ms = now_ms - 30_000;
            r.end_ms = now_ms - 1_000;
            r
        })
        .collect()
}
