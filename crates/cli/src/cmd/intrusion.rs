//! `ai4ict intrusion`: attacks in a flow file, or in the NetFlow/IPFIX an exporter sends,
//! found from host behaviour alone. Per-host windows of the flows are scored against the
//! population of host windows (no training, no labels), and unusual hosts alert. With a label
//! column, a file's alerts are also scored against it per attack.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ai4ict_connectors::{ConnectorError, WriteMode};
use ai4ict_core::Interval;
use ai4ict_intrusion::{
    evaluate, read_flows, watch_settings, BehaviourConfig, FlowObs, HostAlert, HostWatch,
    WindowConfig,
};
use ai4ict_netflow::{Collector, DEFAULT_RECV_BUFFER};
use anyhow::bail;

/// Find attacks in a flow table from host behaviour (unknown attacks included).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Flow table (CSV): `ai4ict sandbox flows` output, CICFlowMeter's layout, or
    /// `ai4ict collect` output. Needs start, source and destination address, destination port,
    /// protocol, packets and bytes; reverse counts, TCP flag counts (or OR-ed flags) and a
    /// label are used when present.
    #[arg(long, required_unless_present = "listen", conflicts_with = "listen")]
    input: Option<PathBuf>,
    /// Instead of a file: receive NetFlow v5 / v9 or IPFIX on this UDP address and alert as
    /// the windows close, until Ctrl-C or `--for`.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// With `--listen`: stop after this many seconds.
    #[arg(long = "for", value_name = "SECONDS", requires = "listen")]
    for_s: Option<f64>,
    /// Write the alerts here as JSON lines (refused if the file exists, unless `--force`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace `--out` if it exists.
    #[arg(long)]
    force: bool,
    /// Window hop: each host is scored at most once per hop.
    #[arg(long, default_value = "1m")]
    hop: Interval,
    /// Hops per window.
    #[arg(long, default_value_t = 5)]
    hops: usize,
    /// Alert when a window scores above this, in (0, 1).
    #[arg(long, default_value_t = 0.9)]
    threshold: f64,
    /// No new alert for a host within this time of its last.
    #[arg(long, default_value = "30m")]
    suppress: Interval,
}

/// Opens `--out` through the sinks' write modes: an existing file is refused unless
/// `--force`.
fn alert_file(path: &Path, force: bool) -> anyhow::Result<BufWriter<File>> {
    match WriteMode::forced(force).open(path, "--out") {
        Ok((file, _)) => Ok(BufWriter::new(file)),
        Err(ConnectorError::Exists { path, .. }) => {
            bail!("{path} exists already: choose another --out, or --force to replace it")
        }
        Err(e) => Err(e.into()),
    }
}

fn write_alert(w: &mut impl Write, al: &HostAlert) -> std::io::Result<()> {
    let line = serde_json::json!({
        "host": al.host.to_string(),
        "time": al.time.to_string(),
        "score": al.score,
        "feature": al.feature,
        "value": al.value,
    });
    writeln!(w, "{line}")
}

fn configs(a: &Args) -> (WindowConfig, BehaviourConfig) {
    watch_settings(a.hop.millis(), a.hops, a.threshold, a.suppress.millis())
}

/// Runs `ai4ict intrusion`.
pub fn run(a: Args) -> anyhow::Result<()> {
    match (&a.input, a.listen) {
        (Some(input), _) => run_file(&a, input),
        (None, Some(addr)) => run_live(&a, addr),
        (None, None) => bail!("give --input FILE or --listen ADDR"),
    }
}

/// Scores the flows an exporter sends, printing and writing each alert as its window closes.
fn run_live(a: &Args, addr: SocketAddr) -> anyhow::Result<()> {
    let seconds = match a.for_s {
        Some(s) if !(s.is_finite() && s > 0.0) => {
            bail!("--for must be a number of seconds above 0")
        }
        s => s.map(Duration::from_secs_f64),
    };
    let (window, behaviour) = configs(a);
    let mut watch = HostWatch::new(window, behaviour)?;
    // Bound first: an address that cannot be had leaves no file behind.
    let mut collector = Collector::bind(addr, DEFAULT_RECV_BUFFER)?;
    let mut sink = a
        .out
        .as_deref()
        .map(|p| alert_file(p, a.force))
        .transpose()?;
    eprintln!(
        "listening on {} for NetFlow v5/v9 and IPFIX",
        collector.local_addr()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // Ctrl-C or SIGTERM ends the watch; a second one ends the process at once.
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(crate::exit::INTERRUPTED));
        }
    });
    let began = Instant::now();
    let (mut records, mut alerts, mut raised) = (Vec::new(), Vec::new(), 0u64);
    let mut emit = |alerts: &mut Vec<HostAlert>| -> anyhow::Result<()> {
        for al in alerts.drain(..) {
            raised += 1;
            outln!(
                "{} at {}: score {:.2}, {} = {:.1}",
                al.host,
                al.time,
                al.score,
                al.feature,
                al.value
            );
            if let Some(w) = sink.as_mut() {
                write_alert(w, &al)?;
                w.flush()?;
            }
        }
        Ok(())
    };
    while !stop.load(Ordering::SeqCst) && seconds.is_none_or(|s| began.elapsed() < s) {
        records.clear();
        collector.receive(&mut records)?;
        for r in &records {
            watch.push(&FlowObs::from_export(r), &mut alerts);
        }
        emit(&mut alerts)?;
    }
    watch.finish(&mut alerts);
    emit(&mut alerts)?;
    let stats = collector.stats();
    outln!(
        "{}: {} records, {} host windows, {raised} alerts in {:.1} s",
        collector.local_addr(),
        stats.total.records,
        watch.windows().stats().windows,
        began.elapsed().as_secs_f64()
    );
    out!("{stats}");
    Ok(())
}

/// Scores a flow file and, when it has labels, the alerts against them.
fn run_file(a: &Args, input: &Path) -> anyhow::Result<()> {
    let began = Instant::now();
    let file = read_flows(input)?;
    for p in file.problems.iter().take(10) {
        eprintln!("{}: {p} (row skipped)", input.display());
    }
    let skipped = file.problems.len() as u64 + file.more_problems;
    if skipped > 10 {
        eprintln!("{}: {} more rows skipped", input.display(), skipped - 10);
    }
    if file.flows.is_empty() {
        bail!("{}: no flow to score", input.display());
    }
    // Exports and tables are roughly in time order; the windows want it exactly.
    let mut order: Vec<usize> = (0..file.flows.len()).collect();
    order.sort_by_key(|&i| file.flows[i].start);
    let flows: Vec<_> = order.iter().map(|&i| file.flows[i]).collect();
    let labels: Vec<Option<String>> = order.iter().map(|&i| file.labels[i].clone()).collect();

    let (window, behaviour) = configs(a);
    let mut sink = a
        .out
        .as_deref()
        .map(|p| alert_file(p, a.force))
        .transpose()?;
    let mut watch = HostWatch::new(window.clone(), behaviour.clone())?;
    let mut alerts: Vec<HostAlert> = Vec::new();
    for f in &flows {
        watch.push(f, &mut alerts);
    }
    watch.finish(&mut alerts);
    if let Some(w) = sink.as_mut() {
        for al in &alerts {
            write_alert(w, al)?;
        }
        w.flush()?;
    }
    let stats = watch.windows().stats();
    outln!(
        "{}: {} flows ({} skipped), {} host windows, {} alerts in {:.1} s",
        input.display(),
        flows.len(),
        skipped,
        stats.windows,
        alerts.len(),
        began.elapsed().as_secs_f64()
    );
    if stats.late > 0 || stats.hosts_refused > 0 {
        outln!(
            "  {} flows older than their window not counted, {} host sides past the host limit",
            stats.late,
            stats.hosts_refused
        );
    }
    let mut top = alerts.clone();
    top.sort_by(|x, y| y.score.total_cmp(&x.score));
    for al in top.iter().take(10) {
        outln!(
            "  {} at {}: score {:.2}, {} = {:.1}",
            al.host,
            al.time,
            al.score,
            al.feature,
            al.value
        );
    }
    if let Some(path) = &a.out {
        outln!("alerts written to {}", path.display());
    }
    if labels.iter().any(Option::is_some) {
        let e = evaluate(&flows, &labels, window, behaviour)?;
        outln!(
            "against the file's labels: alert precision {:.3}, attackers found {:.3}, normal hosts alerted {} of {}",
            e.precision(),
            e.recall(),
            e.normal_hosts_alerted,
            e.normal_hosts
        );
        for c in &e.classes {
            outln!("  {:<20} {}/{}", c.class, c.detected, c.actors);
        }
    }
    Ok(())
}
