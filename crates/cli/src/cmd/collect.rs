//! `ai4ict collect`: a NetFlow v5 / v9 and IPFIX collector (crate `ai4ict-netflow`) writing
//! the flow records it receives to CSV until Ctrl-C, `--for` or `--records`.

use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ai4ict_connectors::{ConnectorError, WriteMode};
use ai4ict_netflow::{Collector, FlowRecord, Received, DEFAULT_RECV_BUFFER};
use anyhow::{bail, Context};

/// The CSV header: one row per unidirectional flow record, times in ms since the Unix
/// epoch, interfaces empty when not exported.
pub const CSV_HEADER: &str = "exporter,domain,start_ms,end_ms,src,dst,src_port,dst_port,protocol,packets,octets,tcp_flags,input,output";
/// Malformed datagrams reported one by one on standard error; later ones are only counted.
const REPORTED_MALFORMED: u64 = 20;

/// Receive NetFlow v5 / v9 and IPFIX over UDP and write the flow records as CSV.
///
/// Columns: exporter (address:port), domain (IPFIX observation domain, v9 source ID, v5
/// engine type × 256 + engine ID), start_ms, end_ms (ms since the Unix epoch), src, dst,
/// src_port, dst_port, protocol, packets, octets, tcp_flags (OR of the flow's packets),
/// input, output (interface indexes, empty when not exported). Bad datagrams are counted and
/// reported with their exporter and reason; they never stop the collector. The statistics
/// (records, malformed, lost by sequence gaps, unknown templates, kernel drops) are printed
/// at the end.
#[derive(clap::Args)]
pub struct Args {
    /// Address and UDP port to listen on (port 0: any free port, printed at the start).
    #[arg(long, default_value = "127.0.0.1:2055")]
    listen: SocketAddr,
    /// CSV file to write; an existing file is refused, never overwritten.
    #[arg(long)]
    out: PathBuf,
    /// Stop after this many seconds.
    #[arg(long = "for", value_name = "SECONDS")]
    for_s: Option<f64>,
    /// Stop after this many records.
    #[arg(long, value_name = "N")]
    records: Option<u64>,
    /// Receive buffer to ask the kernel for, bytes (it grants at most net.core.rmem_max).
    #[arg(long, default_value_t = DEFAULT_RECV_BUFFER)]
    recv_buffer: usize,
}

/// Why the collector stopped.
enum Stop {
    Interrupted,
    Time,
    Records,
}

/// Runs the collector.
pub fn run(a: Args) -> anyhow::Result<()> {
    let seconds = match a.for_s {
        Some(s) if !(s.is_finite() && s > 0.0) => {
            bail!("--for must be a number of seconds above 0")
        }
        s => s.map(Duration::from_secs_f64),
    };
    // Bound first: an address that cannot be had leaves no file behind.
    let mut collector = Collector::bind(a.listen, a.recv_buffer)?;
    let file = match WriteMode::Create.open(&a.out, "--out") {
        Ok((file, _)) => file,
        Err(ConnectorError::Exists { path, .. }) => {
            bail!("{path} exists already: choose another --out (it is never overwritten)")
        }
        Err(e) => return Err(e.into()),
    };
    let mut csv = BufWriter::new(file);
    writeln!(csv, "{CSV_HEADER}").context("writing the CSV header")?;
    eprintln!(
        "listening on {} (receive buffer {} bytes granted), writing {}",
        collector.local_addr(),
        collector.stats().recv_buffer.unwrap_or(0),
        a.out.display()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // Ctrl-C or SIGTERM ends the collection; a second one ends the process at once.
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(crate::exit::INTERRUPTED));
        }
    });
    let started = Instant::now();
    let mut written = 0u64;
    let mut batch = Vec::new();
    let outcome = loop {
        if stop.load(Ordering::SeqCst) {
            break Ok(Stop::Interrupted);
        }
        if seconds.is_some_and(|s| started.elapsed() >= s) {
            break Ok(Stop::Time);
        }
        if a.records.is_some_and(|n| written >= n) {
            break Ok(Stop::Records);
        }
        batch.clear();
        let got = match collector.receive(&mut batch) {
            Ok(got) => got,
            Err(e) => break Err(anyhow::Error::new(e)),
        };
        if let Received::Datagram {
            from,
            result: Err(e),
            ..
        } = &got
        {
            let malformed = collector.stats().total.malformed;
            if malformed <= REPORTED_MALFORMED {
                eprintln!("malformed datagram from {from}: {e}");
            }
            if malformed == REPORTED_MALFORMED {
                eprintln!("(further malformed datagrams are only counted)");
            }
        }
        let room = a.records.map_or(u64::MAX, |n| n - written);
        let take = batch.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        if let Err(e) = batch[..take]
            .iter()
            .try_for_each(|r| write_row(&mut csv, r))
        {
            break Err(anyhow::Error::new(e).context(format!("writing {}", a.out.display())));
        }
        written += take as u64;
    };
    let flushed = csv
        .flush()
        .with_context(|| format!("writing {}", a.out.display()));
    let stats = collector.stats();
    let why = match &outcome {
        Ok(Stop::Interrupted) => "interrupted".to_string(),
        Ok(Stop::Time) => format!("--for {:.1} s elapsed", started.elapsed().as_secs_f64()),
        Ok(Stop::Records) => format!("--records {written} written"),
        Err(_) => "an error".to_string(),
    };
    outln!(
        "collected {written} records into {} in {:.1} s; stopped by {why}",
        a.out.display(),
        started.elapsed().as_secs_f64()
    );
    out!("{stats}");
    outcome?;
    flushed
}

/// One CSV row of `r` (no field needs quoting: addresses, numbers).
fn write_row(w: &mut impl Write, r: &FlowRecord) -> std::io::Result<()> {
    let opt = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
    writeln!(
        w,
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
        r.exporter,
        r.domain,
        r.start_ms,
        r.end_ms,
        r.src,
        r.dst,
        r.src_port,
        r.dst_port,
        r.protocol,
        r.packets,
        r.octets,
        r.tcp_flags,
        opt(r.input),
        opt(r.output)
    )
}
