//! `ai4ict top`: what an `ai4ict serve` runs, refreshed in the terminal: per pipeline its
//! state, phase, rows and alerts with their rates, and how far its event time has come.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use ai4ict_server::client::Client;
use ai4ict_server::PipelineStatus;

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

/// Rows and alerts per pipeline at the last refresh.
type Counts = HashMap<String, (u64, u64)>;

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
        let rates = |p: &PipelineStatus| {
            let (t, seen) = last.as_ref()?;
            let (rows, alerts) = seen.get(&p.name)?;
            let dt = now.duration_since(*t).as_secs_f64().max(1e-3);
            Some((
                p.rows.saturating_sub(*rows) as f64 / dt,
                p.alerts.saturating_sub(*alerts) as f64 / dt,
            ))
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
                .map(|p| (p.name.clone(), (p.rows, p.alerts)))
                .collect(),
        ));
        std::thread::sleep(Duration::from_secs_f64(args.interval));
    }
}
