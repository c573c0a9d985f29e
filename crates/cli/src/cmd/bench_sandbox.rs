//! `ai4ict bench sandbox`: every detector on the sandbox's simulated radio network, alerting
//! through the default policy, scored event by event against the ground-truth incidents and
//! reported per incident kind (Y.3181 evaluation plug-in KPIs: precision, recall, time to
//! detect).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ai4ict_core::{Alert, Batch, Entity, Explanation, Incident, IncidentKind, Interval, Timestamp};
use ai4ict_engine::nodes::{ModelNode, PolicyNode, Scored};
use ai4ict_eval::metrics::{event_metrics, first_alerts, EventMetrics};
use ai4ict_intent::AlertPolicy;
use ai4ict_sandbox::{Network, ScenarioConfig, KPIS};
use anyhow::Context;
use rayon::prelude::*;

use super::detectors;

/// Score every detector on the simulated network, per incident kind.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Detector to run, or `all`.
    #[arg(long, default_value = "all", ignore_case = true, value_parser = super::detectors::choices(true))]
    detector: String,
    /// Cells to simulate.
    #[arg(long, default_value_t = 200)]
    cells: u32,
    /// Days to simulate (15-minute readings).
    #[arg(long, default_value_t = 21)]
    days: u32,
    /// Days at the start without incidents (the detectors' training history).
    #[arg(long, default_value_t = 7)]
    quiet_days: u32,
    /// Days at the start that are only the detectors' history: their alerts and the incidents
    /// that begin in them are not scored (0: every day is scored).
    #[arg(long, default_value_t = 0)]
    history_days: u32,
    /// Random seed of the network.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Intervals after an incident's end in which an alert still counts as detecting it.
    #[arg(long, default_value_t = 4)]
    grace: u32,
    /// Telemetry faults (flatlines, drops to zero, level shifts, variance bursts, slow
    /// drifts, missing data) per cell per week; the scenario's default when not given.
    #[arg(long)]
    telemetry_fault_rate: Option<f64>,
    /// List each actionable incident a detector missed: its peak score inside the incident
    /// (and grace), the points at the report level, and what the peak was held against.
    #[arg(long)]
    missed: bool,
    /// List each false alert (one that no actionable incident of its entity covers, grace
    /// included): when, where, its score and what it was held against, and whether a counter
    /// reset or another incident that wants no alert lay under it.
    #[arg(long)]
    false_alerts: bool,
}

/// One detector's result.
struct Outcome {
    name: String,
    metrics: EventMetrics,
    state_bytes_per_cell: f64,
    /// With `--missed`: each missed actionable incident and what its entity's scores did.
    missed: Vec<(Incident, Trace)>,
    /// With `--false-alerts`: each false alert, and the incident that wants no alert under
    /// it, if one does.
    false_alerts: Vec<(Alert, Option<IncidentKind>)>,
}

/// What an incident's entity scored inside the incident and its grace (`--missed`).
#[derive(Default)]
struct Trace {
    /// The highest score, when, and why.
    peak: Option<(f64, Timestamp, Option<Explanation>)>,
    /// Points at or above the policy's report level, and the longest run of them.
    above: u32,
    longest: u32,
    run: u32,
    /// The entity's latest alert before the incident began, if any.
    alert_before: Option<Timestamp>,
    /// Every score, in hundredths (a score of 1 shows as 99, to keep two digits).
    scores: Vec<u8>,
}

impl Trace {
    fn offer(
        &mut self,
        t: Timestamp,
        score: f64,
        report: f64,
        why: impl FnOnce() -> Option<Explanation>,
    ) {
        self.scores
            .push((score * 100.0).round().clamp(0.0, 99.0) as u8);
        if score >= report {
            self.above += 1;
            self.run += 1;
            self.longest = self.longest.max(self.run);
        } else {
            self.run = 0;
        }
        if self.peak.as_ref().is_none_or(|p| score > p.0) {
            self.peak = Some((score, t, why()));
        }
    }
}

/// What the alerts are scored against: the incidents from `from` on, with `grace_ms` after
/// each one's end.
struct Scoring {
    incidents: Vec<Incident>,
    from: Timestamp,
    grace_ms: i64,
}

/// Runs one detector and the default policy over the network's batches.
fn run_one(
    name: &str,
    kind: ai4ict_anomaly::DetectorKind,
    batches: &[Batch],
    fields: &[String],
    interval: Interval,
    scoring: &Scoring,
    (missed, list_false): (bool, bool),
) -> anyhow::Result<Outcome> {
    let config = detectors::config(kind);
    let mut model = ModelNode::new(&config, fields.len(), interval)
        .with_context(|| format!("detector `{name}`"))?;
    let mut policy = PolicyNode::new(&AlertPolicy::default(), fields, interval);
    let mut scored = Scored::default();
    let mut alerts: Vec<Alert> = Vec::new();
    // With `--missed`, each actionable incident's window, by entity.
    let mut watched: HashMap<&Entity, Vec<usize>> = HashMap::new();
    if missed {
        for (k, inc) in scoring.incidents.iter().enumerate() {
            if inc.kind.actionable() {
                watched.entry(&inc.entity).or_default().push(k);
            }
        }
    }
    let mut traces: Vec<Trace> = scoring.incidents.iter().map(|_| Trace::default()).collect();
    let report = AlertPolicy::default().score_above;
    for b in batches {
        model.process(b.clone(), &mut scored);
        policy.process(&scored, &mut alerts);
        if watched.is_empty() {
            continue;
        }
        for (i, (entity, t, values)) in scored.batch.rows().enumerate() {
            for &k in watched.get(entity).map_or(&[][..], Vec::as_slice) {
                if scoring.incidents[k].covers(t, scoring.grace_ms) {
                    let score = scored.scores[i];
                    traces[k].offer(t, score.value, report, || {
                        policy.explain_score(score, values)
                    });
                }
            }
        }
    }
    alerts.retain(|a| a.time >= scoring.from);
    let metrics = event_metrics(&alerts, &scoring.incidents, scoring.grace_ms);
    let missed = if missed {
        let firsts = first_alerts(&alerts, &scoring.incidents, scoring.grace_ms);
        scoring
            .incidents
            .iter()
            .zip(traces)
            .zip(firsts)
            .filter(|((inc, _), first)| inc.kind.actionable() && first.is_none())
            .map(|((inc, mut trace), _)| {
                trace.alert_before = alerts
                    .iter()
                    .filter(|a| a.entity == inc.entity && a.time < inc.start)
                    .map(|a| a.time)
                    .max();
                (inc.clone(), trace)
            })
            .collect()
    } else {
        Vec::new()
    };
    let under = |a: &Alert, actionable: bool| {
        scoring.incidents.iter().find(|inc| {
            inc.kind.actionable() == actionable
                && inc.entity == a.entity
                && inc.covers(a.time, scoring.grace_ms)
        })
    };
    let false_alerts = if list_false {
        alerts
            .iter()
            .filter(|a| under(a, true).is_none())
            .map(|a| (a.clone(), under(a, false).map(|inc| inc.kind)))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Outcome {
        name: name.to_string(),
        metrics,
        state_bytes_per_cell: model.state_bytes() as f64 / model.entities().max(1) as f64,
        missed,
        false_alerts,
    })
}

/// Prints a detector's false alerts (`--false-alerts`).
fn print_false_alerts(o: &Outcome) {
    if o.false_alerts.is_empty() {
        return;
    }
    outln!("  false alerts ({}):", o.false_alerts.len());
    for (a, under) in &o.false_alerts {
        let under = under.map_or_else(String::new, |k| format!(" (during a {})", k.as_str()));
        let why = a
            .why
            .as_ref()
            .map_or_else(|| "no baseline".to_string(), Explanation::sentence);
        outln!(
            "    {} {} {} score {:.3}{under}: {why}",
            a.time,
            a.entity,
            a.field,
            a.score
        );
    }
}

/// Prints the incidents a detector missed (`--missed`).
fn print_missed(o: &Outcome, interval_ms: i64) {
    if o.missed.is_empty() {
        return;
    }
    outln!("  missed ({}):", o.missed.len());
    for (inc, trace) in &o.missed {
        let hours = |ms: i64| ms as f64 / 3_600_000.0;
        let before = trace.alert_before.map_or_else(String::new, |t| {
            format!(
                "; the entity's last alert {:.1} h before",
                hours(inc.start.0 - t.0)
            )
        });
        outln!(
            "    {} {} at {} for {:.1} h: {} points ≥ report level, longest run {}{before}",
            inc.kind.as_str(),
            inc.entity,
            inc.start,
            hours(inc.end.0 - inc.start.0 + interval_ms),
            trace.above,
            trace.longest
        );
        if let Some((score, t, why)) = &trace.peak {
            let why = why
                .as_ref()
                .map_or_else(|| "no baseline".to_string(), Explanation::sentence);
            outln!(
                "      peak {score:.2} at +{:.1} h: {why}",
                hours(t.0 - inc.start.0)
            );
        }
        // Each point's score while the incident is short, else each hour's highest.
        let per_hour = (3_600_000 / interval_ms).max(1) as usize;
        let step = if trace.scores.len() <= 8 * per_hour {
            1
        } else {
            per_hour
        };
        let shown: Vec<String> = trace
            .scores
            .chunks(step)
            .map(|c| format!("{:02}", c.iter().max().copied().unwrap_or(0)))
            .collect();
        outln!(
            "      scores ×100{}: {}",
            if step > 1 { ", hourly highest" } else { "" },
            shown.join(" ")
        );
    }
}

/// Minutes, or `-` when absent.
fn minutes(ms: Option<f64>) -> String {
    ms.map_or_else(|| "-".to_string(), |m| format!("{:.0}", m / 60_000.0))
}

/// Intervals of `interval_ms`, counting the incident's first interval as 1 (an alert on it
/// detects in 1 interval), or `-` when absent.
fn intervals(ms: Option<f64>, interval_ms: i64) -> String {
    ms.map_or_else(
        || "-".to_string(),
        |m| format!("{:.1}", m / interval_ms as f64 + 1.0),
    )
}

/// Prints one detector's table.
fn print_outcome(o: &Outcome, interval_ms: i64) {
    let m = &o.metrics;
    outln!(
        "\n{}: precision {:.3}, recall {:.3}, F1 {:.3}; {} alerts ({} true, {} false); \
         {} of {} actionable incidents detected; MTTD {} min (median {} min); \
         {:.0} B of state per cell",
        o.name,
        m.precision,
        m.recall,
        m.f1,
        m.alerts,
        m.true_alerts,
        m.false_alerts,
        m.detected,
        m.incidents,
        minutes(m.mean_ttd_ms),
        minutes(m.median_ttd_ms),
        o.state_bytes_per_cell
    );
    outln!(
        "  {:<24} {:>10} {:>9} {:>9} {:>8} {:>10} {:>14} {:>13}",
        "incident kind",
        "actionable",
        "incidents",
        "detected",
        "recall",
        "MTTD min",
        "mean intervals",
        "max intervals"
    );
    for k in &m.per_kind {
        outln!(
            "  {:<24} {:>10} {:>9} {:>9} {:>8.3} {:>10} {:>14} {:>13}",
            k.kind.as_str(),
            if k.actionable { "yes" } else { "no" },
            k.count,
            k.detected,
            k.recall,
            minutes(k.mean_ttd_ms),
            intervals(k.mean_ttd_ms, interval_ms),
            intervals(k.max_ttd_ms, interval_ms)
        );
    }
}

/// Runs the benchmark.
pub fn run(args: Args) -> anyhow::Result<()> {
    let kinds = detectors::select(&args.detector)?;
    let scenario = ScenarioConfig {
        cells: args.cells,
        days: args.days,
        quiet_days: args.quiet_days,
        seed: args.seed,
        telemetry_fault_rate: args
            .telemetry_fault_rate
            .unwrap_or(ScenarioConfig::default().telemetry_fault_rate),
        ..ScenarioConfig::default()
    };
    let net = Network::new(&scenario).context("sandbox scenario")?;
    let fields: Vec<String> = KPIS.iter().map(|s| s.to_string()).collect();
    let idx: Vec<usize> = (0..fields.len()).collect();
    let batches: Vec<Batch> = (0..net.steps())
        .map(|s| net.batch(s, 0..net.cells().len(), &idx))
        .collect();
    let rows: usize = batches.iter().map(Batch::len).sum();
    let interval = net.interval();
    let grace_ms = i64::from(args.grace) * interval.millis();
    anyhow::ensure!(
        args.history_days < args.days,
        "--history-days {} must be fewer than --days {}",
        args.history_days,
        args.days
    );
    let from = Timestamp(net.start().0 + i64::from(args.history_days) * 86_400_000);
    let scoring = Scoring {
        incidents: net
            .incidents()
            .iter()
            .filter(|i| i.start >= from)
            .cloned()
            .collect(),
        from,
        grace_ms,
    };
    outln!(
        "bench sandbox: {} cells × {} days at {interval} ({rows} rows × {} KPIs), {} quiet days, \
         {} days of history not scored, seed {}, {} telemetry faults per cell-week; {} incidents; default policy ({}, suppress {}); \
         an alert counts up to {} intervals after an incident ends",
        net.cells().len(),
        args.days,
        fields.len(),
        args.quiet_days,
        args.history_days,
        args.seed,
        scenario.telemetry_fault_rate,
        scoring.incidents.len(),
        AlertPolicy::default().condition(),
        AlertPolicy::default().suppress,
        args.grace
    );
    // One line on stderr per finished detector: the whole run takes minutes.
    let (began, finished) = (Instant::now(), AtomicUsize::new(0));
    let outcomes: Vec<Outcome> = kinds
        .par_iter()
        .map(|(name, kind)| {
            let outcome = run_one(
                name,
                *kind,
                &batches,
                &fields,
                interval,
                &scoring,
                (args.missed, args.false_alerts),
            );
            eprintln!(
                "  {name} finished ({} of {}, {:.0} s)",
                finished.fetch_add(1, Ordering::Relaxed) + 1,
                kinds.len(),
                began.elapsed().as_secs_f64()
            );
            outcome
        })
        .collect::<anyhow::Result<_>>()?;
    for o in &outcomes {
        print_outcome(o, interval.millis());
        print_missed(o, interval.millis());
        print_false_alerts(o);
    }
    if outcomes.len() > 1 {
        outln!(
            "\n  {:<24} {:>9} {:>9} {:>9} {:>8} {:>10}",
            "detector",
            "precision",
            "recall",
            "F1",
            "alerts",
            "MTTD min"
        );
        for o in &outcomes {
            let m = &o.metrics;
            outln!(
                "  {:<24} {:>9.3} {:>9.3} {:>9.3} {:>8} {:>10}",
                o.name,
                m.precision,
                m.recall,
                m.f1,
                m.alerts,
                minutes(m.mean_ttd_ms)
            );
        }
    }
    Ok(())
}
