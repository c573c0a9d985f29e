//! `ai4ict intrusion`: attacks in a flow file found from host behaviour alone. Per-host
//! windows of the flows are scored against the population of host windows (no training, no
//! labels), and unusual hosts alert. With a label column, the alerts are also scored against
//! it per attack.

use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use ai4ict_core::Interval;
use ai4ict_intrusion::{evaluate, read_flows, BehaviourConfig, HostAlert, HostWatch, WindowConfig};
use anyhow::{bail, Context};

/// Find attacks in a flow table from host behaviour (unknown attacks included).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Flow table (CSV): `ai4ict sandbox flows` output, CICFlowMeter's layout, or
    /// `ai4ict collect` output. Needs start, source and destination address, destination port,
    /// protocol, packets and bytes; reverse counts, TCP flag counts (or OR-ed flags) and a
    /// label are used when present.
    #[arg(long)]
    input: PathBuf,
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

/// Runs `ai4ict intrusion`.
pub fn run(a: Args) -> anyhow::Result<()> {
    let began = Instant::now();
    let file = read_flows(&a.input)?;
    for p in file.problems.iter().take(10) {
        eprintln!("{}: {p} (row skipped)", a.input.display());
    }
    let skipped = file.problems.len() as u64 + file.more_problems;
    if skipped > 10 {
        eprintln!("{}: {} more rows skipped", a.input.display(), skipped - 10);
    }
    if file.flows.is_empty() {
        bail!("{}: no flow to score", a.input.display());
    }
    // Exports and tables are roughly in time order; the windows want it exactly.
    let mut order: Vec<usize> = (0..file.flows.len()).collect();
    order.sort_by_key(|&i| file.flows[i].start);
    let flows: Vec<_> = order.iter().map(|&i| file.flows[i]).collect();
    let labels: Vec<Option<String>> = order.iter().map(|&i| file.labels[i].clone()).collect();

    let window = WindowConfig {
        hop_ms: a.hop.millis(),
        hops: a.hops,
        ..WindowConfig::default()
    };
    let behaviour = BehaviourConfig {
        score_above: a.threshold,
        suppress_ms: a.suppress.millis(),
        ..BehaviourConfig::default()
    };
    let mut sink = match &a.out {
        Some(path) => {
            let file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(a.force)
                .create_new(!a.force)
                .open(path)
                .with_context(|| {
                    format!(
                        "{}: cannot write the alerts there (an existing file is replaced only with --force)",
                        path.display()
                    )
                })?;
            Some(BufWriter::new(file))
        }
        None => None,
    };
    let mut watch = HostWatch::new(window.clone(), behaviour.clone())?;
    let mut alerts: Vec<HostAlert> = Vec::new();
    for f in &flows {
        watch.push(f, &mut alerts);
    }
    watch.finish(&mut alerts);
    if let Some(w) = sink.as_mut() {
        for al in &alerts {
            let line = serde_json::json!({
                "host": al.host.to_string(),
                "time": al.time.to_string(),
                "score": al.score,
                "feature": al.feature,
                "value": al.value,
            });
            writeln!(w, "{line}")?;
        }
        w.flush()?;
    }
    let stats = watch.windows().stats();
    outln!(
        "{}: {} flows ({} skipped), {} host windows, {} alerts in {:.1} s",
        a.input.display(),
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
