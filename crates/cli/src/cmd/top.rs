//! `ai4ict top`: what an `ai4ict serve` runs, refreshed in the terminal: per pipeline its
//! state, phase, rows and alerts with their rates, and how far its event time has come;
//! beneath it, per node (SRC, PP, M, P, SINK), records out per second and lag.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use ai4ict_server::client::Client;
use ai4ict_server::{NodeStatus, PipelineStatus};

/// Show the pipelines of a running `ai4ict serve`, refreshed every --interval seconds.
#[derive(clap::Args)]
pub struct Args {
    /// The server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Seconds between refreshes.
    #[arg(long, default_value_t = 2.0)]
    pub interval: f64,
    /// Print the table once and exit (for scripts).
    #[arg(long)]
    pub once: bool,
}

/// Rows, alerts and each node's records out per pipeline at the last refresh.
type Counts = HashMap<String, (u64, u64, HashMap<String, u64>)>;

/// Polls the server and prints the table until interrupted (or once).
pub fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.interval.is_finite() && args.interval >= 0.1,
        "--interval {}: at least 0.1 seconds",
        args.interval
    );
    let client = Client::new(&args.url)?;
    let clear = std::io::stdout().is_terminal() && !args.once;
    let mut last: Option<(Instant, Counts)> = None;
    loop {
        let all = client.pipelines()?;
        let now = Instant::now();
        let dt = |t: &Instant| now.duration_since(*t).as_secs_f64().max(1e-3);
        let rates = |p: &PipelineStatus| {
            let (t, seen) = last.as_ref()?;
            let (rows, alerts, _) = seen.get(&p.name)?;
            Some((
                p.rows.saturating_sub(*rows) as f64 / dt(t),
                p.alerts.saturating_sub(*alerts) as f64 / dt(t),
            ))
        };
        let node_rate = |p: &PipelineStatus, n: &NodeStatus| {
            let (t, seen) = last.as_ref()?;
            let out = seen.get(&p.name)?.2.get(&n.node)?;
            Some(n.records_out.saturating_sub(*out) as f64 / dt(t))
        };
        let mut out = String::new();
        if clear {
            out.push_str("\x1b[H\x1b[2J");
        }
        out.push_str(&format!(
            "{:<24} {:<9} {:<18} {:>12} {:>10} {:>8} {:>8}  {}\n",
            "pipeline", "state", "phase", "rows", "rows/s", "alerts", "alerts/s", "event time"
        ));
        for p in &all {
            let state = serde_json::to_value(p.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let (rr, ar) = rates(p).map_or(("–".into(), "–".into()), |(r, a)| {
                (format!("{r:.0}"), format!("{a:.1}"))
            });
            out.push_str(&format!(
                "{:<24} {:<9} {:<18} {:>12} {:>10} {:>8} {:>8}  {}\n",
                p.name,
                state,
                p.phase,
                p.rows,
                rr,
                p.alerts,
                ar,
                p.event_time.as_deref().unwrap_or("")
            ));
            if let Some(d) = &p.detail {
                out.push_str(&format!("    {d}\n"));
            }
            for n in &p.nodes {
                out.push_str(&format!(
                    "    {:<5} {:>12} in {:>12} out {:>10} out/s  lag {:<10} {}\n",
                    n.node,
                    n.records_in,
                    n.records_out,
                    node_rate(p, n).map_or("–".into(), |r| format!("{r:.0}")),
                    n.lag_seconds.map_or("–".into(), duration),
                    match (n.state_bytes, n.late_rows) {
                        (Some(b), _) => format!("state {}", bytes(b)),
                        // SRC: rows its watermark dropped.
                        (None, Some(late)) if late > 0 => format!("late {late}"),
                        _ => String::new(),
                    },
                ));
            }
        }
        if all.is_empty() {
            out.push_str(
                "(no pipeline: start one with `ai4ict serve INTENT` or POST /pipelines)\n",
            );
        }
        print!("{out}");
        if args.once {
            return Ok(());
        }
        last = Some((
            now,
            all.iter()
                .map(|p| {
                    let nodes = p
                        .nodes
                        .iter()
                        .map(|n| (n.node.clone(), n.records_out))
                        .collect();
                    (p.name.clone(), (p.rows, p.alerts, nodes))
                })
                .collect(),
        ));
        std::thread::sleep(Duration::from_secs_f64(args.interval));
    }
}

/// Seconds as the largest unit that keeps a number of at least 1 (`42 s`, `3.5 min`, `2.0 d`).
fn duration(s: f64) -> String {
    match s {
        s if s < 60.0 => format!("{s:.1} s"),
        s if s < 3600.0 => format!("{:.1} min", s / 60.0),
        s if s < 86_400.0 => format!("{:.1} h", s / 3600.0),
        s => format!("{:.1} d", s / 86_400.0),
    }
}

/// Bytes in B, KiB, MiB or GiB.
fn bytes(b: u64) -> String {
    let b = b as f64;
    match b {
        b if b < 1024.0 => format!("{b} B"),
        b if b < 1024.0 * 1024.0 => format!("{:.1} KiB", b / 1024.0),
        b if b < 1024.0 * 1024.0 * 1024.0 => format!("{:.1} MiB", b / 1024.0 / 1024.0),
        b => format!("{:.1} GiB", b / 1024.0 / 1024.0 / 1024.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_read_at_a_glance() {
        assert_eq!(duration(4.3), "4.3 s");
        assert_eq!(duration(90.0), "1.5 min");
        assert_eq!(duration(7200.0), "2.0 h");
        assert_eq!(duration(86_400.0 * 400.0), "400.0 d");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 << 20), "3.0 MiB");
    }
}
