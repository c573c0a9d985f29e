//! Rendering an MLFO outcome for the terminal and writing its report files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ai4ict_engine::flow_run::FlowEvaluation;
use ai4ict_engine::mlfo::{RunStats, Stage, Status, TargetCheck};
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
        s.push_str(&targets(o, &e.targets));
        let _ = writeln!(s, "evaluation run: {}", stats_line(&e.stats));
    }
    if let Some(e) = &o.labelled {
        let _ = writeln!(
            s,
            "\nevaluation on the labels of {}: {} labelled incidents, alerts on {} scored from its first row",
            e.labels, e.scored_labels, e.source
        );
        let _ = write!(s, "{}", e.metrics);
        s.push_str(&targets(o, &e.targets));
        let _ = writeln!(s, "evaluation run: {}", stats_line(&e.stats));
    }
    if !o.auto_choices.is_empty() {
        let _ = writeln!(s, "auto chose: {}", choices_said(&o.auto_choices));
    }
    if let Some(d) = &o.deployment {
        let _ = writeln!(s, "deployment run: {}", stats_line(d));
    }
    if let Some(c) = &o.closed_loop {
        let _ = writeln!(s);
        for line in ai4ict_engine::closed_loop_lines(c) {
            let _ = writeln!(s, "  {line}");
        }
    }
    if let Some(f) = &o.forecast {
        let _ = writeln!(s);
        for line in ai4ict_engine::forecast_lines(f) {
            let _ = writeln!(s, "  {line}");
        }
    }
    if let Some(f) = &o.flows {
        s.push_str(&flow_text(f));
    }
    s.push_str(&level(o));
    s
}

/// The flow classifier's per-class table on the held-out flows, then its report lines.
fn flow_text(f: &FlowEvaluation) -> String {
    let m = &f.metrics;
    let mut s = format!(
        "\nheld-out flows ({} of {} classes):\n  {:<22} {:>9} {:>9} {:>9} {:>8}\n",
        f.test_flows,
        f.classes.len(),
        "class",
        "precision",
        "recall",
        "F1",
        "flows"
    );
    for (c, name) in f.classes.iter().enumerate() {
        let _ = writeln!(
            s,
            "  {:<22} {:>9.4} {:>9.4} {:>9.4} {:>8}",
            name, m.precision[c], m.recall[c], m.f1[c], m.support[c]
        );
    }
    let _ = writeln!(s);
    for line in ai4ict_engine::flow_lines(f) {
        let _ = writeln!(s, "  {line}");
    }
    s
}

/// The target checks of an evaluation, flagged as partial when it was stopped early.
fn targets(o: &Outcome, checks: &[TargetCheck]) -> String {
    let mut s = String::new();
    if checks.is_empty() {
        return s;
    }
    let partial = o
        .stages
        .iter()
        .any(|st| st.stage == Stage::Evaluate && st.status == Status::Stopped);
    let _ = writeln!(
        s,
        "targets{}",
        if partial {
            " (the evaluation was stopped early: partial numbers, not a verdict)"
        } else {
            ""
        }
    );
    for t in checks {
        let cmp = if t.name.starts_with("p99") || t.name.starts_with("mttd") {
            "≤"
        } else {
            "≥"
        };
        let _ = writeln!(
            s,
            "  {:<15} {:>9.3}  target {cmp} {:<8} {}",
            t.name,
            t.measured,
            t.target,
            if t.passed { "met" } else { "MISSED" }
        );
    }
    s
}

fn stats_line(r: &RunStats) -> String {
    format!(
        "{} rows from {} entities in {:.2}s ({:.0} rows/s), batch latency p50 {:.2} ms p99 {:.2} ms, {} alerts, {:.0} B detector state per entity{}{}",
        r.rows,
        r.entities,
        r.seconds,
        r.rows_per_second,
        r.latency_p50_ms,
        r.latency_p99_ms,
        r.alerts,
        r.state_bytes_per_entity,
        if r.late > 0 {
            format!(", {} rows dropped as late or duplicate", r.late)
        } else {
            String::new()
        },
        if r.errors.is_empty() { String::new() } else { format!(", errors: {}", r.errors.join("; ")) }
    )
}

/// Writes `report.json`, `report.html` and `outcome.json` (the MLFO's full record with the
/// intent) into `dir`; returns the files written.
pub fn write(o: &Outcome, intent: &MlIntent, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut report = o.report(&intent.targets);
    let energy = o.closed_loop.as_ref().and_then(|c| c.energy.as_ref());
    if energy.is_some() {
        report.links.push(ai4ict_eval::report::ReportLink {
            title: "Energy saving per cell: offered load, forecast and sleep periods".into(),
            href: "energy.html".into(),
        });
    }
    let (json, html, full) = (
        dir.join("report.json"),
        dir.join("report.html"),
        dir.join("outcome.json"),
    );
    if o.flows.is_some() {
        report.links.push(ai4ict_eval::report::ReportLink {
            title: "Flow classification: per-class scores, confusion matrix, feature importance"
                .into(),
            href: "classification.html".into(),
        });
    }
    report.write_json(&json)?;
    report.write_html(&html)?;
    let value = serde_json::json!({ "intent": intent, "outcome": o });
    std::fs::write(&full, serde_json::to_string_pretty(&value)?)?;
    let mut files = vec![json, html, full];
    if let Some(e) = energy {
        let page = dir.join("energy.html");
        std::fs::write(&page, energy_page(&intent.name, e))?;
        files.push(page);
    }
    if let Some(f) = &o.flows {
        let page = dir.join("classification.html");
        std::fs::write(&page, classification_page(&intent.name, f))?;
        files.push(page);
    }
    Ok(files)
}

/// A self-contained page with the classifier's per-class scores, confusion matrix and
/// feature importance on the held-out flows, and what its deployment did.
fn classification_page(name: &str, f: &FlowEvaluation) -> String {
    let m = &f.metrics;
    let lines = ai4ict_engine::flow_lines(f);
    let (about, notes) = lines
        .split_first()
        .map_or(("", &[][..]), |(a, n)| (a.as_str(), n));
    ai4ict_eval::classification::ClassificationView {
        name,
        about,
        classes: &f.classes,
        confusion: &m.confusion,
        precision: &m.precision,
        recall: &m.recall,
        f1: &m.f1,
        support: &m.support,
        macro_f1: m.macro_f1,
        accuracy: m.accuracy,
        features: &f.features,
        importance: &f.importance,
        notes,
    }
    .html()
}

/// A self-contained page with each plotted cell's load, forecast band and sleep periods.
fn energy_page(name: &str, e: &ai4ict_energy::EnergyReport) -> String {
    let mut rows = String::new();
    for p in &e.policies {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{:.1}</td><td>{:.2}</td><td>{:.4}</td><td>{:.4}</td><td>{:.0}</td><td>{}</td></tr>",
            p.policy, p.energy_kwh, p.saved_pct, p.unserved_pct, p.extra_unserved_pct, p.violation_minutes, p.wakeups
        );
    }
    let plots: String = e
        .plots
        .iter()
        .map(|p| {
            format!(
                "<figure>{}</figure>",
                p.svg(
                    ai4ict_core::Timestamp(e.start_ms),
                    (e.interval_minutes * 60_000.0) as i64,
                    960.0,
                    300.0
                )
            )
        })
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{n}: energy saving</title><style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 .6em}}td,th{{padding:2px 10px;text-align:right}}svg{{max-width:100%;height:auto}}table{{display:block;overflow-x:auto}}</style></head><body><p>← <a href=\"report.html\">the run's report</a></p><h1>{n}: energy saving in closed loop</h1><p>{c} cells ({s} small), {st} intervals evaluated. Forecast policy saving = {r:.3} of the oracle's.</p><table><tr><th>policy</th><th>kWh</th><th>saved %</th><th>unserved %</th><th>extra unserved %</th><th>violation cell-min</th><th>wake-ups</th></tr>{rows}</table>{plots}</body></html>",
        n = ai4ict_eval::svg::escape(name),
        c = e.cells,
        s = e.small_cells,
        st = e.steps,
        r = e.saved_vs_oracle
    )
}

/// The Y.3173 intelligence level line of the outcome.
pub fn level(o: &Outcome) -> String {
    let a = ai4ict_engine::capabilities(o).assess();
    let dims: Vec<String> = a
        .per_dimension
        .iter()
        .map(|d| {
            format!(
                "{} {}→{}",
                d.dimension.name(),
                d.capability,
                d.level.number()
            )
        })
        .collect();
    format!(
        "intelligence level (Y.3173 §7.2): L{} — {} [{}]\n",
        a.overall.number(),
        a.overall.name(),
        dims.join(", ")
    )
}

/// What `auto` chose, as `choice for N entities; …`.
pub fn choices_said<K: std::fmt::Display>(
    choices: &std::collections::BTreeMap<K, usize>,
) -> String {
    let said: Vec<String> = choices
        .iter()
        .map(|(choice, n)| {
            format!(
                "{choice} for {n} entit{}",
                if *n == 1 { "y" } else { "ies" }
            )
        })
        .collect();
    said.join("; ")
}
