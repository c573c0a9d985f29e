//! From an MLFO outcome to the evaluation report (JSON, HTML, text) and the Y.3173
//! intelligence level derived from what each node reports.

use std::collections::{BTreeMap, HashMap};

use ai4ict_eval::level::{Capabilities, Capability};
use ai4ict_eval::report::{
    plot_order, DetectorChoice, Latency, PlotSeries, Report, Stage as ReportStage, StageStatus,
    Targets,
};

use crate::mlfo::{NodeRole, Outcome, RunStats, Stage, Status};
use crate::state::PipelineState;

/// Entities plotted in a report.
pub(crate) const PLOTTED_ENTITIES: usize = 6;

/// The run figures and event metrics of an evaluation (in the sandbox or on labels).
fn measured(r: &mut Report, stats: &RunStats, metrics: &ai4ict_eval::EventMetrics) {
    r.records = stats.rows;
    r.throughput_per_s = stats.rows_per_second;
    r.latency = Some(Latency {
        p50_ms: stats.latency_p50_ms,
        p99_ms: stats.latency_p99_ms,
    });
    r.metrics = Some(metrics.clone());
}

/// What a detector that picks by the data (`auto`) chose for the entities of `state`: each
/// choice with its number of entities, those still deciding under their own entry. Empty for
/// other detectors.
pub(crate) fn auto_choices(state: &PipelineState) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    if state.detector.detector != ai4ict_anomaly::DetectorKind::Auto {
        return out;
    }
    for e in &state.entities {
        if let Some(model) = &e.model {
            let choice = model.choice().unwrap_or(ai4ict_anomaly::DECIDING);
            *out.entry(choice.to_string()).or_default() += 1;
        }
    }
    out
}

/// What each node of the pipeline reports about who does its part of the work, mapped to the
/// Y.3173 §8 dimensions: demand mapping ← the intent given to the MLFO, data collection ← SRC
/// and C, analysis ← M, decision ← P, action implementation ← SINK (Y.3173 §8.1, Fig. 8-2).
///
/// - demand mapping: the MLFO translates the intent automatically from a template written by
///   a human (the intent schema) → human and system;
/// - data collection: the collector gathers automatically under rules the intent sets (fields,
///   interval) → human and system;
/// - analysis: the model learns its own baseline per entity → system;
/// - decision: the policy decides automatically under human-set thresholds → human and system;
/// - action: alert sinks hand the action to people → human; the energy-saving closed loop
///   applies its sleep actions itself in every scenario of the use case → system.
pub fn capabilities(outcome: &Outcome) -> Capabilities {
    let learned_model = outcome.plan.nodes.iter().any(|n| n.role == NodeRole::M);
    let acts = outcome
        .closed_loop
        .as_ref()
        .is_some_and(|c| c.energy.is_some());
    Capabilities {
        demand_mapping: Capability::HumanSystem,
        data_collection: Capability::HumanSystem,
        analysis: if learned_model {
            Capability::System
        } else {
            Capability::Human
        },
        decision: Capability::HumanSystem,
        action_implementation: if acts {
            Capability::System
        } else {
            Capability::Human
        },
    }
}

impl Outcome {
    /// The evaluation report of this outcome, with plots of the traced entities.
    pub fn report(&self, targets: &ai4ict_intent::Targets) -> Report {
        let mut r = Report::new(&self.intent, &self.use_case);
        r.stages = self
            .stages
            .iter()
            .map(|s| ReportStage {
                name: format!("{:?}", s.stage).to_lowercase(),
                status: match s.status {
                    Status::Passed => StageStatus::Done,
                    Status::Failed => StageStatus::Failed,
                    Status::Skipped => StageStatus::Skipped,
                    Status::Stopped => StageStatus::Stopped,
                },
                duration_ms: Some(s.seconds * 1000.0),
                detail: s.detail.clone(),
            })
            .collect();
        r.targets = Targets {
            precision: targets.precision,
            recall: targets.recall,
            p99_latency_ms: targets.p99_latency_ms,
            mttd_ms: targets.mttd.map(|i| i.millis() as f64),
        };
        if let Some(e) = &self.evaluation {
            measured(&mut r, &e.stats, &e.metrics);
            r.notes.push(format!(
                "Evaluated in the sandbox: {} network, {} cells, {} days, seed {}; metrics count alerts and incidents from {} on, after the warm-up.",
                e.scenario.scenario.as_str(),
                e.scenario.cells,
                e.scenario.days,
                e.scenario.seed,
                e.scored_from
            ));
        }
        if let Some(e) = &self.labelled {
            measured(&mut r, &e.stats, &e.metrics);
            r.notes.push(format!(
                "Evaluated on the operator's labels: {} labelled incidents of {} against the alerts on {}, scored from the file's first row (the detectors learn as they go); a label of an entity the file lacks counts as missed.",
                e.scored_labels, e.labels, e.source
            ));
        }
        if self.evaluation.is_none()
            && self.labelled.is_none()
            && self.closed_loop.is_none()
            && self.forecast.is_none()
            && self.flows.is_none()
        {
            if let Some(s) = self.stages.iter().find(|s| s.stage == Stage::Evaluate) {
                if s.status != Status::Stopped {
                    r.notes.push(format!(
                        "The pipeline was not evaluated: no precision, recall or time to detect was measured, and the targets were not checked. {}",
                        s.detail
                    ));
                }
            }
        }
        if let Some(d) = &self.deployment {
            r.notes.push(format!(
                "Deployed: {} rows, {} alerts, {:.0} rows/s, batch latency p99 {:.2} ms.",
                d.rows, d.alerts, d.rows_per_second, d.latency_p99_ms
            ));
        }
        if let Some(c) = &self.closed_loop {
            r.records = c.records;
            if c.seconds > 0.0 {
                r.throughput_per_s = c.records as f64 / c.seconds;
            }
            r.notes.extend(closed_loop_lines(c));
        }
        if let Some(f) = &self.forecast {
            r.notes.extend(forecast_lines(f));
        }
        if let Some(f) = &self.flows {
            if let Some(d) = &f.deployment {
                r.records = d.flows;
                r.throughput_per_s = d.flows_per_second;
            }
            r.notes.extend(flow_lines(f));
        }
        r.detector_choices = self
            .auto_choices
            .iter()
            .map(|(choice, &entities)| DetectorChoice {
                choice: choice.clone(),
                entities,
            })
            .collect();
        r.level = Some(capabilities(self).assess());
        r.plots = self.plots();
        r
    }

    /// One plot per traced entity, of the field its alerts name most (else the first field),
    /// in the order of [`plot_order`]: what needs attention first.
    fn plots(&self) -> Vec<PlotSeries> {
        let fields = &self.plan.fields;
        let (grace, scored_from) = match (&self.evaluation, &self.labelled) {
            (Some(e), _) => (e.metrics.grace_ms, Some(e.scored_from)),
            (None, Some(l)) => (l.metrics.grace_ms, None),
            (None, None) => (0, None),
        };
        let threshold = self.alert_threshold;
        let mut plots: Vec<PlotSeries> = self
            .traces
            .iter()
            .map(|(entity, points)| {
                let mut counts: HashMap<&str, usize> = HashMap::new();
                for a in self.eval_alerts.iter().filter(|a| &a.entity == entity) {
                    *counts.entry(a.field.as_str()).or_default() += 1;
                }
                // A missed incident is shown on the field it disturbed most, which its
                // (absent) alerts cannot name; otherwise the field the alerts name most.
                let missed = self.incidents.iter().find(|i| {
                    &i.entity == entity
                        && i.kind.actionable()
                        && !self
                            .eval_alerts
                            .iter()
                            .any(|a| &a.entity == entity && i.covers(a.time, grace))
                });
                let alerted = counts
                    .into_iter()
                    .max_by_key(|(f, n)| (*n, std::cmp::Reverse(*f)))
                    .and_then(|(f, _)| fields.iter().position(|x| x == f));
                let field = missed
                    .and_then(|i| most_disturbed(points, fields.len(), i))
                    .or(alerted)
                    .unwrap_or(0);
                let name = fields.get(field).cloned().unwrap_or_default();
                let unit = ai4ict_sandbox::kpi_unit(&name).unwrap_or_default();
                // On a file the detector's own warm-up ends at its first score.
                let scored_from =
                    scored_from.or_else(|| points.iter().find(|p| p.score > 0.0).map(|p| p.time));
                PlotSeries::new(
                    entity,
                    name,
                    points.iter().map(|p| p.time).collect(),
                    points
                        .iter()
                        .map(|p| p.values.get(field).copied().unwrap_or(f64::NAN))
                        .collect(),
                )
                .with_unit(unit)
                .with_scores(points.iter().map(|p| p.score).collect())
                .with_scoring(scored_from, threshold)
                .with_ground_truth(&self.eval_alerts, &self.incidents, grace)
            })
            .collect();
        let order = plot_order(&self.eval_alerts, &self.incidents, grace, PLOTTED_ENTITIES);
        plots.sort_by_key(|p| {
            order
                .iter()
                .position(|e| e.name() == p.entity)
                .unwrap_or(usize::MAX)
        });
        plots
    }
}

/// The field `incident` disturbed most: the gap between its mean during the incident and its
/// mean over the same hours the day before, in units of the field's interval-to-interval noise
/// that day (so a daily cycle does not count as disturbance); `None` without a day of points
/// before the incident.
fn most_disturbed(
    points: &[crate::dataflow::TracePoint],
    width: usize,
    incident: &ai4ict_core::Incident,
) -> Option<usize> {
    const DAY_MS: i64 = 86_400_000;
    let values = |from: i64, to: i64, f: usize| -> Vec<f64> {
        points
            .iter()
            .filter(|p| p.time.0 >= from && p.time.0 <= to)
            .filter_map(|p| p.values.get(f).copied().filter(|x| x.is_finite()))
            .collect()
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (start, end) = (incident.start.0, incident.end.0);
    (0..width)
        .filter_map(|f| {
            let day = values(start - DAY_MS, start - 1, f);
            let steps: Vec<f64> = day.windows(2).map(|w| w[1] - w[0]).collect();
            let noise = (steps.iter().map(|d| d * d).sum::<f64>() / steps.len().max(1) as f64)
                .sqrt()
                .max(1e-9);
            let (before, during) = (
                values(start - DAY_MS, end - DAY_MS, f),
                values(start, end, f),
            );
            (steps.len() >= 4 && !before.is_empty() && !during.is_empty())
                .then(|| (f, (mean(&during) - mean(&before)).abs() / noise))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(f, _)| f)
}

/// The forecast results as report lines: the backtest means, then one line per series.
pub fn forecast_lines(f: &crate::forecast_run::ForecastEvaluation) -> Vec<String> {
    let mut out = vec![format!("Forecast, interval {}: {}.", f.interval, f.line())];
    for s in &f.series {
        out.push(match &s.backtest {
            Some(b) => format!(
                "{}/{}: season {}, {}; MASE {:.3} vs seasonal naive {:.3} (ratio {:.3}), coverage {:.3} over {} windows of {}",
                s.entity, s.field, s.season, s.model, b.model.mase, b.naive.mase, b.mase_ratio(), b.model.coverage, b.windows, b.horizon
            ),
            None => format!(
                "{}/{}: season {}, {}; {}",
                s.entity,
                s.field,
                s.season,
                s.model,
                s.note.as_deref().unwrap_or("no backtest")
            ),
        });
    }
    out.extend(f.failed.iter().map(|e| format!("not forecast: {e}")));
    out
}

/// The flow classifier's results as report lines: the held-out evaluation, then the
/// deployment.
pub fn flow_lines(f: &crate::flow_run::FlowEvaluation) -> Vec<String> {
    let m = &f.metrics;
    let mut out = vec![format!(
        "Flow classifier ({}, {} {} of depth {} at most) trained on {} flows from {}; held out {:.0}% of each class (seed {}, declared before training): {} flows, macro F1 {:.4}, accuracy {:.4}.",
        f.algorithm,
        f.size,
        if f.algorithm == "gbdt" { "rounds" } else { "trees" },
        f.depth,
        f.training_flows,
        f.trained_on,
        f.test_fraction * 100.0,
        f.seed,
        f.test_flows,
        m.macro_f1,
        m.accuracy
    )];
    for t in &f.targets {
        out.push(format!(
            "Target {} ≥ {}: {:.4}, {}.",
            t.name,
            t.target,
            t.measured,
            if t.passed { "met" } else { "missed" }
        ));
    }
    let mut order: Vec<usize> = (0..f.features.len()).collect();
    order.sort_by(|&a, &b| f.importance[b].total_cmp(&f.importance[a]));
    out.push(format!(
        "Most important features (share of gain): {}.",
        order
            .iter()
            .take(5)
            .map(|&i| format!("{} {:.1}%", f.features[i], 100.0 * f.importance[i]))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    if let Some(d) = &f.deployment {
        out.push(format!(
            "Deployed on {}: {} flows classified ({:.0} flows/s on one thread, reading the source aside), {} class alerts ({} more flows suppressed), {} behaviour alerts{}.",
            d.source,
            d.flows,
            d.flows_per_second,
            d.class_alerts,
            d.suppressed,
            d.behaviour_alerts,
            if d.skipped > 0 {
                format!(", {} rows skipped", d.skipped)
            } else {
                String::new()
            }
        ));
        if d.flows > 0 {
            let mut mix: Vec<(usize, u64)> = d.predicted.iter().copied().enumerate().collect();
            mix.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
            out.push(format!(
                "Class mix: {}.",
                mix.iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|&(c, n)| format!(
                        "{} {:.1}%",
                        f.classes[c],
                        100.0 * n as f64 / d.flows as f64
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(m) = &d.metrics {
            out.push(format!(
                "On the source's own labels: macro F1 {:.4}, accuracy {:.4}{}.",
                m.macro_f1,
                m.accuracy,
                if d.unknown_class_flows > 0 {
                    format!(
                        "; {} flows of classes the model was not trained on left out",
                        d.unknown_class_flows
                    )
                } else {
                    String::new()
                }
            ));
        }
        if let Some(p) = d.class_alert_precision {
            out.push(format!(
                "Class alerts on a host that took part in an attack: {:.3}.",
                p
            ));
        }
        if let (Some(p), Some(r)) = (d.behaviour_precision, d.behaviour_recall) {
            out.push(format!(
                "Behaviour watch (no labels, no training): alert precision {p:.3}, attack actors found {r:.3}."
            ));
        }
        out.extend(d.notes.iter().cloned());
        out.extend(d.errors.iter().map(|e| format!("sink error: {e}")));
    }
    out
}

/// The closed-loop results as report lines.
pub fn closed_loop_lines(c: &crate::mlfo::ClosedLoop) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(e) = &c.energy {
        out.push(format!(
            "Energy saving, closed loop in the sandbox: {} cells ({} small), {} intervals evaluated after the history; forecast interval coverage {:.3}, relative MAE {:.3}.",
            e.cells, e.small_cells, e.steps, e.forecast_coverage, e.forecast_rel_mae
        ));
        for p in &e.policies {
            out.push(format!(
                "{:<10} energy {:>10.1} kWh, saved {:>6.2} %, unserved {:.4} % (extra {:.4} %), violation {:.0} cell-minutes, {} wake-ups",
                p.policy, p.energy_kwh, p.saved_pct, p.unserved_pct, p.extra_unserved_pct, p.violation_minutes, p.wakeups
            ));
        }
        out.push(format!(
            "forecast policy's saving = {:.3} of the oracle's",
            e.saved_vs_oracle
        ));
    }
    for s in &c.sla {
        out.push(format!(
            "SLA {}: {} entities, {} breaches, {} warnings ({} true), precision {:.3}, recall {:.3}, mean lead {:.0} min",
            s.sla, s.entities, s.breaches, s.alerts, s.true_alerts, s.precision, s.recall, s.mean_lead_minutes
        ));
    }
    for t in &c.targets {
        out.push(format!(
            "target {}: {:.3} against {} — {}",
            t.name,
            t.measured,
            t.target,
            if t.passed { "met" } else { "missed" }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ai4ict_core::{Entity, Incident, IncidentKind, Timestamp};

    /// Two days of 15-minute points: field 0 swings through a daily cycle of ±40, field 1 is
    /// flat at 10 with small noise and drops by 3 during the incident on day 2.
    #[test]
    fn a_missed_incident_is_shown_on_the_field_it_disturbed() {
        const STEP: i64 = 900_000;
        let (start, end) = (96 + 40, 96 + 44);
        let points: Vec<crate::dataflow::TracePoint> = (0..192)
            .map(|i| {
                let phase = (i % 96) as f64 / 96.0 * std::f64::consts::TAU;
                let dip = if (start..=end).contains(&i) { 3.0 } else { 0.0 };
                crate::dataflow::TracePoint {
                    time: Timestamp(i * STEP),
                    values: vec![
                        100.0 + 40.0 * phase.sin(),
                        10.0 + 0.1 * ((i * 7) % 5) as f64 - dip,
                    ],
                    score: 0.0,
                }
            })
            .collect();
        let incident = Incident {
            entity: Entity::new("cell-1"),
            kind: IncidentKind::ThroughputDegradation,
            start: Timestamp(start * STEP),
            end: Timestamp(end * STEP),
        };
        assert_eq!(most_disturbed(&points, 2, &incident), Some(1));
        // Without the same hours the day before, no field is chosen.
        assert_eq!(most_disturbed(&points[96..], 2, &incident), None);
    }
}
