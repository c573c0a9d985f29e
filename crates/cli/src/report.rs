//! Rendering an MLFO outcome for the terminal and writing its report files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ai4ict_engine::mlfo::RunStats;
use ai4ict_engine::Outcome;
use ai4ict_intent::MlIntent;

/// The outcome as a readable report.
pub fn text(o: &Outcome) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\nlifecycle");
    for st in &o.stages {
        let _ = writeln!(
            s,
            "  {:<9} {:<8} {:>7.2}s  {}",
            format!("{:?}", st.stage).to_lowercase(),
            format!("{:?}", st.status).to_lowercase(),
            st.seconds,
            st.detail
        );
    }
    if let Some(e) = &o.evaluation {
        let _ = writeln!(
            s,
            "\nsandbox evaluation: {} network, {} cells, {} days, seed {}; scored from {} (after warm-up)",
            e.scenario.scenario.as_str(),
            e.scenario.cells,
            e.scenario.days,
            e.scenario.seed,
            e.scored_from
        );
        let _ = write!(s, "{}", e.metrics);
        if !e.targets.is_empty() {
            let _ = writeln!(s, "targets");
            for t in &e.targets {
                let cmp = if t.name.starts_with("p99") || t.name.starts_with("mttd") { "≤" } else { "≥" };
                let _ = writeln!(
                    s,
                    "  {:<15} {:>9.3}  target {cmp} {:<8} {}",
                    t.name,
                    t.measured,
                    t.target,
                    if t.passed { "met" } else { "MISSED" }
                );
            }
        }
        let _ = writeln!(s, "evaluation run: {}", stats_line(&e.stats));
    }
    if let Some(d) = &o.deployment {
        let _ = writeln!(s, "deployment run: {}", stats_line(d));
    }
    s.push_str(&level(o));
    s
}

fn stats_line(r: &RunStats) -> String {
    format!(
        "{} rows from {} entities in {:.2}s ({:.0} rows/s), batch latency p50 {:.2} ms p99 {:.2} ms, {} alerts, {:.0} B detector state per entity{}",
        r.rows,
        r.entities,
        r.seconds,
        r.rows_per_second,
        r.latency_p50_ms,
        r.latency_p99_ms,
        r.alerts,
        r.state_bytes_per_entity,
        if r.errors.is_empty() { String::new() } else { format!(", errors: {}", r.errors.join("; ")) }
    )
}

/// Writes `report.json`, `report.html` and `outcome.json` (the MLFO's full record with the
/// intent) into `dir`; returns the files written.
pub fn write(o: &Outcome, intent: &MlIntent, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let report = o.report(&intent.targets);
    let (json, html, full) = (dir.join("report.json"), dir.join("report.html"), dir.join("outcome.json"));
    report.write_json(&json)?;
    report.write_html(&html)?;
    let value = serde_json::json!({ "intent": intent, "outcome": o });
    std::fs::write(&full, serde_json::to_string_pretty(&value)?)?;
    Ok(vec![json, html, full])
}

/// The Y.3173 intelligence level line of the outcome.
pub fn level(o: &Outcome) -> String {
    let a = ai4ict_engine::capabilities(o).assess();
    let dims: Vec<String> = a
        .per_dimension
        .iter()
        .map(|d| format!("{} {}→{}", d.dimension.name(), d.capability, d.level.number()))
        .collect();
    format!("intelligence level (Y.3173 §7.2): L{} — {} [{}]\n", a.overall.number(), a.overall.name(), dims.join(", "))
}
