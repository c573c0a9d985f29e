//! The report of one pipeline run: what ran, how fast, how well against the intent's targets,
//! the Y.3173 intelligence level, and plots. Written as JSON (machine-readable, Y.3181
//! REQ-ML-SANDBOX "machine-readable outputs"), as one self-contained HTML page (inline CSS and
//! SVG, no scripts, nothing fetched), and as plain text for the terminal.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::fs;
use std::path::Path;

use ai4ict_core::{Alert, Entity, Incident, IncidentKind, Timestamp};
use serde::{Deserialize, Serialize};

use crate::level::LevelAssessment;
use crate::metrics::EventMetrics;
use crate::svg::{escape, kpi_chart};
use crate::util::{fmt_duration_ms, fmt_opt_duration, quantile};
use crate::EvalError;

/// State of one lifecycle stage of the run (Y.3172 §8.3: the MLFO plans, trains and validates
/// in the sandbox, deploys, and monitors).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    /// Finished successfully.
    Done,
    /// Finished, with something to look at (see the detail).
    Warning,
    /// Failed (see the detail).
    Failed,
    /// Not run.
    Skipped,
    /// Still running when the report was made.
    Running,
    /// Stopped by the operator before the end: what it measured is partial, not a verdict.
    Stopped,
}

impl fmt::Display for StageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Done => "done",
            Self::Warning => "warning",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Running => "running",
            Self::Stopped => "stopped",
        })
    }
}

/// One lifecycle stage (e.g. `plan`, `train`, `validate`, `deploy`, `monitor`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// Stage name.
    pub name: String,
    /// How it went.
    pub status: StageStatus,
    /// Wall time spent, in milliseconds, where measured.
    pub duration_ms: Option<f64>,
    /// A line of explanation (the model chosen, the error).
    pub detail: String,
}

/// Per-record processing latency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Median, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile, in milliseconds.
    pub p99_ms: f64,
}

impl Latency {
    /// Median and 99th percentile of latency samples in milliseconds (`None` for no samples
    /// or a NaN sample).
    pub fn from_samples(samples_ms: &[f64]) -> Option<Self> {
        Some(Self {
            p50_ms: quantile(samples_ms, 0.5)?,
            p99_ms: quantile(samples_ms, 0.99)?,
        })
    }
}

/// The intent's targets (Y.3172 ML intent; all optional).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// Least acceptable event precision.
    pub precision: Option<f64>,
    /// Least acceptable event recall.
    pub recall: Option<f64>,
    /// Largest acceptable p99 latency, in milliseconds.
    pub p99_latency_ms: Option<f64>,
    /// Largest acceptable mean time to detect, in milliseconds.
    pub mttd_ms: Option<f64>,
}

/// One target checked against the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetCheck {
    /// What is checked (`precision`, `recall`, `p99_latency_ms`, `mttd_ms`).
    pub name: String,
    /// `>=` (at least) or `<=` (at most).
    pub comparison: String,
    /// The target.
    pub target: f64,
    /// What the run achieved (`None` when it was not measured: a failure).
    pub actual: Option<f64>,
    /// Whether the target is met.
    pub pass: bool,
}

impl TargetCheck {
    fn new(name: &str, at_least: bool, target: f64, actual: Option<f64>) -> Self {
        let pass = actual.is_some_and(|a| if at_least { a >= target } else { a <= target });
        Self {
            name: name.into(),
            comparison: if at_least { ">=" } else { "<=" }.into(),
            target,
            actual,
            pass,
        }
    }

    fn fmt_value(&self, v: f64) -> String {
        if self.name.ends_with("_ms") {
            fmt_duration_ms(v)
        } else {
            format!("{v:.3}")
        }
    }
}

/// A ground-truth incident drawn as a band on a plot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlotIncident {
    /// Kind (the band's colour).
    pub kind: IncidentKind,
    /// First affected time.
    pub start: Timestamp,
    /// Last affected time.
    pub end: Timestamp,
    /// Whether an alert found it within the grace period; `None` for a kind no alert is
    /// wanted for (a counter reset).
    #[serde(default)]
    pub detected: Option<bool>,
}

/// One entity's data for a plot: a KPI over time, the anomaly score, alerts and incidents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlotSeries {
    /// The entity (cell, link, sensor).
    pub entity: String,
    /// The KPI field plotted.
    pub field: String,
    /// The field's unit (`ms`, `Mbit/s`, `fraction 0..1`), empty when unknown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unit: String,
    /// Sample times.
    pub times: Vec<Timestamp>,
    /// KPI values, one per time (NaN: a gap; `null` in JSON).
    #[serde(with = "nan_as_null")]
    pub values: Vec<f64>,
    /// Anomaly scores in [0, 1], one per time, or empty.
    #[serde(with = "nan_as_null")]
    pub scores: Vec<f64>,
    /// When alerts were raised for this entity.
    pub alerts: Vec<Timestamp>,
    /// Why each alert fired, in words, one per alert (empty where the detector gives no
    /// baseline): the field, how surprising, against what.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// The alerts no actionable incident covers (false alerts), a subset of `alerts`.
    #[serde(default)]
    pub false_alerts: Vec<Timestamp>,
    /// Ground-truth incidents of this entity.
    pub incidents: Vec<PlotIncident>,
    /// Where scoring starts: before it the detector learns (training history or warm-up).
    #[serde(default)]
    pub scored_from: Option<Timestamp>,
    /// The alert policy's score threshold.
    #[serde(default)]
    pub threshold: Option<f64>,
}

impl PlotSeries {
    /// A plot of `field` of `entity` over `times` (one value per time), without score,
    /// alerts or incidents yet.
    pub fn new(
        entity: &Entity,
        field: impl Into<String>,
        times: Vec<Timestamp>,
        values: Vec<f64>,
    ) -> Self {
        Self {
            entity: entity.name().to_string(),
            field: field.into(),
            times,
            values,
            unit: String::new(),
            scores: Vec::new(),
            alerts: Vec::new(),
            reasons: Vec::new(),
            false_alerts: Vec::new(),
            incidents: Vec::new(),
            scored_from: None,
            threshold: None,
        }
    }

    /// Sets the field's unit.
    pub fn with_unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = unit.into();
        self
    }

    /// Marks where scoring starts and the score threshold of the alert policy.
    pub fn with_scoring(mut self, scored_from: Option<Timestamp>, threshold: Option<f64>) -> Self {
        self.scored_from = scored_from;
        self.threshold = threshold;
        self
    }

    /// One line saying what the plot shows: the entity, the field, and what needs attention.
    pub fn caption(&self) -> String {
        let mut parts = Vec::new();
        let missed = self.missed();
        if missed > 0 {
            parts.push(format!("{missed} missed incident{}", plural(missed)));
        }
        let f = self.false_alerts.len();
        if f > 0 {
            parts.push(format!("{f} false alert{}", plural(f)));
        }
        let found = self
            .incidents
            .iter()
            .filter(|i| i.detected == Some(true))
            .count();
        if found > 0 {
            parts.push(format!("{found} incident{} detected", plural(found)));
        }
        if parts.is_empty() {
            parts.push(format!(
                "{} alert{}",
                self.alerts.len(),
                plural(self.alerts.len())
            ));
        }
        format!("{} — {}: {}", self.entity, self.field, parts.join(", "))
    }

    /// Incidents no alert found.
    pub fn missed(&self) -> usize {
        self.incidents
            .iter()
            .filter(|i| i.detected == Some(false))
            .count()
    }

    /// What needs an operator's attention first: missed incidents, then false alerts (the
    /// larger sorts first).
    pub fn attention(&self) -> (usize, usize) {
        (self.missed(), self.false_alerts.len())
    }

    /// Adds the anomaly score, one per time.
    pub fn with_scores(mut self, scores: Vec<f64>) -> Self {
        self.scores = scores;
        self
    }

    /// Adds the alerts of this plot's entity, picked out of all of them, with no ground truth
    /// to judge them by.
    pub fn with_alerts(mut self, alerts: &[Alert]) -> Self {
        let mine = || alerts.iter().filter(|a| a.entity.name() == self.entity);
        self.alerts = mine().map(|a| a.time).collect();
        self.reasons = if mine().any(|a| a.why.is_some()) {
            mine().map(Alert::description).collect()
        } else {
            Vec::new()
        };
        self
    }

    /// Adds the alerts and incidents of this plot's entity, picked out of all of them, and
    /// matches them as [`crate::metrics::event_metrics`] does with the same `grace_ms`: an
    /// incident is detected by an alert from its start to `grace_ms` after its end, and an
    /// alert no actionable incident covers is false.
    pub fn with_ground_truth(
        mut self,
        alerts: &[Alert],
        incidents: &[Incident],
        grace_ms: i64,
    ) -> Self {
        let mine: Vec<&Incident> = incidents
            .iter()
            .filter(|i| i.entity.name() == self.entity)
            .collect();
        self = self.with_alerts(alerts);
        self.false_alerts = self
            .alerts
            .iter()
            .copied()
            .filter(|&t| {
                !mine
                    .iter()
                    .any(|i| i.kind.actionable() && i.covers(t, grace_ms))
            })
            .collect();
        self.incidents = mine
            .iter()
            .map(|i| PlotIncident {
                kind: i.kind,
                start: i.start,
                end: i.end,
                detected: i
                    .kind
                    .actionable()
                    .then(|| self.alerts.iter().any(|&t| i.covers(t, grace_ms))),
            })
            .collect();
        self
    }
}

/// The entities to plot, up to `max`, what an operator inspects first before the rest: those with
/// missed incidents (most first), then those with false alerts, then detections of as many
/// incident kinds as fit in `max`. Matches alerts and incidents as the event
/// metrics do (an alert from an incident's start to `grace_ms` after its end finds it).
pub fn plot_order(
    alerts: &[Alert],
    incidents: &[Incident],
    grace_ms: i64,
    max: usize,
) -> Vec<Entity> {
    #[derive(Default)]
    struct Seen {
        missed: usize,
        false_alerts: usize,
        detected: Vec<IncidentKind>,
    }
    let mut by: BTreeMap<&Entity, Seen> = BTreeMap::new();
    for i in incidents.iter().filter(|i| i.kind.actionable()) {
        let found = alerts
            .iter()
            .any(|a| a.entity == i.entity && i.covers(a.time, grace_ms));
        let seen = by.entry(&i.entity).or_default();
        if found {
            seen.detected.push(i.kind);
        } else {
            seen.missed += 1;
        }
    }
    for a in alerts {
        let covered = incidents
            .iter()
            .any(|i| i.kind.actionable() && i.entity == a.entity && i.covers(a.time, grace_ms));
        if !covered {
            by.entry(&a.entity).or_default().false_alerts += 1;
        }
    }
    let ranked = |key: &dyn Fn(&Seen) -> usize| {
        let mut v: Vec<(&Entity, usize)> = by
            .iter()
            .map(|(e, s)| (*e, key(s)))
            .filter(|(_, n)| *n > 0)
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v.into_iter().map(|(e, _)| e.clone()).collect::<Vec<_>>()
    };
    let (missed, false_alerts) = (ranked(&|s| s.missed), ranked(&|s| s.false_alerts));
    let mut out: Vec<Entity> = Vec::new();
    let add = |out: &mut Vec<Entity>, e: &Entity, cap: usize| {
        if out.len() < cap && !out.contains(e) {
            out.push(e.clone());
        }
    };
    let third = max.div_ceil(3);
    for e in &missed {
        add(&mut out, e, third);
    }
    for e in &false_alerts {
        add(&mut out, e, (2 * third).min(max));
    }
    let mut kinds: Vec<IncidentKind> = Vec::new();
    for pass in 0..2 {
        for (e, s) in &by {
            if s.detected.is_empty() || (pass == 0 && s.detected.iter().all(|k| kinds.contains(k)))
            {
                continue;
            }
            let before = out.len();
            add(&mut out, e, max);
            if out.len() > before {
                kinds.extend(&s.detected);
            }
        }
    }
    for e in missed.iter().chain(&false_alerts) {
        add(&mut out, e, max);
    }
    out
}

/// `"s"` unless there is exactly one.
fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// JSON has no NaN: gaps are written as `null` and read back as NaN.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(values: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(values.iter().map(|v| v.is_finite().then_some(*v)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let values = Vec::<Option<f64>>::deserialize(d)?;
        Ok(values.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    }
}

/// The report of one pipeline run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The intent's name.
    pub intent: String,
    /// The Resolution 101 use-case domain (`operations`, `energy`, …).
    pub use_case: String,
    /// Lifecycle stages in order.
    pub stages: Vec<Stage>,
    /// Records processed.
    pub records: u64,
    /// Records per second.
    pub throughput_per_s: f64,
    /// Per-record latency, where measured.
    pub latency: Option<Latency>,
    /// Event metrics against ground truth, where there is ground truth.
    pub metrics: Option<EventMetrics>,
    /// The intent's targets.
    pub targets: Targets,
    /// The Y.3173 intelligence level of the deployed pipeline, where assessed.
    pub level: Option<LevelAssessment>,
    /// Plots, one per entity shown.
    pub plots: Vec<PlotSeries>,
    /// What a detector that picks by the data (`auto`) chose: each choice with its number of
    /// entities. Empty for other detectors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detector_choices: Vec<DetectorChoice>,
    /// Free-form remarks.
    pub notes: Vec<String>,
    /// Pages beside this report (e.g. `energy.html`), linked from its head.
    #[serde(default)]
    pub links: Vec<ReportLink>,
}

/// A page beside the report, by its path relative to the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportLink {
    /// What the page shows.
    pub title: String,
    /// Its relative path.
    pub href: String,
}

/// One choice of the `auto` detector and how many entities it went to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DetectorChoice {
    /// The choice, in words (e.g. `resonance (no daily rhythm)`).
    pub choice: String,
    /// Entities it went to.
    pub entities: usize,
}

/// The JSON form: the report plus the target checks, so readers need not recompute them.
#[derive(Serialize)]
struct ReportJson<'a> {
    #[serde(flatten)]
    report: &'a Report,
    checks: Vec<TargetCheck>,
    passed: bool,
    stopped: bool,
}

impl Report {
    /// An empty report for `intent` in use case `use_case`.
    pub fn new(intent: impl Into<String>, use_case: impl Into<String>) -> Self {
        Self {
            intent: intent.into(),
            use_case: use_case.into(),
            stages: Vec::new(),
            records: 0,
            throughput_per_s: 0.0,
            latency: None,
            metrics: None,
            targets: Targets::default(),
            level: None,
            plots: Vec::new(),
            detector_choices: Vec::new(),
            notes: Vec::new(),
            links: Vec::new(),
        }
    }

    /// Each target set in `targets`, checked against the metrics and latency. A target whose
    /// measure is missing fails.
    pub fn checks(&self) -> Vec<TargetCheck> {
        let t = &self.targets;
        let m = self.metrics.as_ref();
        let mut out = Vec::new();
        if let Some(target) = t.precision {
            out.push(TargetCheck::new(
                "precision",
                true,
                target,
                m.map(|m| m.precision),
            ));
        }
        if let Some(target) = t.recall {
            out.push(TargetCheck::new(
                "recall",
                true,
                target,
                m.map(|m| m.recall),
            ));
        }
        if let Some(target) = t.p99_latency_ms {
            out.push(TargetCheck::new(
                "p99_latency_ms",
                false,
                target,
                self.latency.map(|l| l.p99_ms),
            ));
        }
        if let Some(target) = t.mttd_ms {
            out.push(TargetCheck::new(
                "mttd_ms",
                false,
                target,
                m.and_then(|m| m.mean_ttd_ms),
            ));
        }
        out
    }

    /// True when every target is met and no stage failed or was stopped (a partial run
    /// passes nothing).
    pub fn passed(&self) -> bool {
        !self.stopped()
            && self.checks().iter().all(|c| c.pass)
            && self.stages.iter().all(|s| s.status != StageStatus::Failed)
    }

    /// True when a stage was stopped by the operator: the report covers a partial run.
    pub fn stopped(&self) -> bool {
        self.stages.iter().any(|s| s.status == StageStatus::Stopped)
    }

    /// `PASS`, `FAIL` or `STOPPED`.
    fn verdict(&self) -> &'static str {
        if self.stopped() {
            "STOPPED"
        } else if self.passed() {
            "PASS"
        } else {
            "FAIL"
        }
    }

    /// The report as pretty JSON, with the target checks and the overall verdict added.
    pub fn to_json(&self) -> String {
        let json = ReportJson {
            report: self,
            checks: self.checks(),
            passed: self.passed(),
            stopped: self.stopped(),
        };
        // Serializing plain data to a string cannot fail except on non-string map keys, which
        // the report has none of.
        serde_json::to_string_pretty(&json).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Writes [`Report::to_json`] to `path`.
    pub fn write_json(&self, path: &Path) -> Result<(), EvalError> {
        fs::write(path, self.to_json()).map_err(|e| EvalError::io(path, e))
    }

    /// Writes [`Report::to_html`] to `path`.
    pub fn write_html(&self, path: &Path) -> Result<(), EvalError> {
        fs::write(path, self.to_html()).map_err(|e| EvalError::io(path, e))
    }

    /// One self-contained HTML page: summary, stages, targets, per-kind table, level and one
    /// SVG chart per plot. No scripts and no external resources.
    pub fn to_html(&self) -> String {
        let mut h = String::with_capacity(64 * 1024);
        let title = format!("ai4ict report: {}", self.intent);
        let verdict = if self.stopped() {
            (
                "warn",
                "stopped by the operator: partial run, not a verdict",
            )
        } else if self.passed() {
            ("pass", "all targets met")
        } else {
            ("fail", "targets not met")
        };
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title>\
             <style>{CSS}</style></head><body>\n<h1>{}</h1>\n<p class=\"sub\">use case <b>{}</b> · \
             <span class=\"{}\">{}</span></p>\n",
            escape(&title),
            escape(&title),
            escape(&self.use_case),
            verdict.0,
            verdict.1
        );
        for l in &self.links {
            let _ = writeln!(
                h,
                "<p class=\"sub\">→ <a href=\"{}\">{}</a></p>",
                escape(&l.href),
                escape(&l.title)
            );
        }

        let _ = write!(
            h,
            "<section><h2>Run</h2><table><tr><th>records</th><td>{}</td></tr>\
             <tr><th>throughput</th><td>{:.0} records/s</td></tr>",
            self.records, self.throughput_per_s
        );
        if let Some(l) = self.latency {
            let _ = write!(
                h,
                "<tr><th>latency p50 / p99</th><td>{} / {}</td></tr>",
                escape(&fmt_duration_ms(l.p50_ms)),
                escape(&fmt_duration_ms(l.p99_ms))
            );
        }
        h.push_str("</table></section>\n");

        if !self.stages.is_empty() {
            h.push_str("<section><h2>Lifecycle</h2><table><tr><th>stage</th><th>status</th><th>time</th><th>detail</th></tr>");
            for s in &self.stages {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&s.name),
                    status_class(s.status),
                    s.status,
                    escape(&fmt_opt_duration(s.duration_ms)),
                    escape(&s.detail)
                );
            }
            h.push_str("</table></section>\n");
        }

        let checks = self.checks();
        if !checks.is_empty() {
            h.push_str("<section><h2>Targets</h2><table><tr><th>measure</th><th>target</th><th>actual</th><th>result</th></tr>");
            for c in &checks {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{} {}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                    escape(&c.name),
                    escape(&c.comparison),
                    escape(&c.fmt_value(c.target)),
                    escape(
                        &c.actual
                            .map_or_else(|| "not measured".into(), |a| c.fmt_value(a))
                    ),
                    if c.pass { "pass" } else { "fail" },
                    if c.pass { "pass" } else { "fail" }
                );
            }
            h.push_str("</table></section>\n");
        }

        if let Some(m) = &self.metrics {
            let _ = write!(
                h,
                "<section><h2>Detection (grace {})</h2><table>\
                 <tr><th>alerts</th><td>{} ({} true, {} false)</td></tr>\
                 <tr><th>incidents</th><td>{} ({} detected)</td></tr>\
                 <tr><th>precision</th><td>{:.3}</td></tr><tr><th>recall</th><td>{:.3}</td></tr>\
                 <tr><th>F1</th><td>{:.3}</td></tr><tr><th>time to detect</th><td>mean {}, median {}</td></tr></table>",
                escape(&fmt_duration_ms(m.grace_ms as f64)),
                m.alerts,
                m.true_alerts,
                m.false_alerts,
                m.incidents,
                m.detected,
                m.precision,
                m.recall,
                m.f1,
                escape(&fmt_opt_duration(m.mean_ttd_ms)),
                escape(&fmt_opt_duration(m.median_ttd_ms))
            );
            if !m.per_kind.is_empty() {
                h.push_str("<h3>By incident kind</h3><table><tr><th>kind</th><th>count</th><th>detected</th><th>recall</th><th>mean time to detect</th></tr>");
                for k in &m.per_kind {
                    let _ = write!(
                        h,
                        "<tr><td><span class=\"sw\" style=\"background:{}\"></span>{}{}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{}</td></tr>",
                        crate::svg::kind_colour(k.kind),
                        escape(k.kind.as_str()),
                        if k.actionable { "" } else { " (no alert wanted)" },
                        k.count,
                        k.detected,
                        k.recall,
                        escape(&fmt_opt_duration(k.mean_ttd_ms))
                    );
                }
                h.push_str("</table>");
            }
            h.push_str("</section>\n");
        }

        if !self.detector_choices.is_empty() {
            h.push_str("<section><h2>What <code>auto</code> chose</h2><table><tr><th>choice</th><th>entities</th></tr>");
            for c in &self.detector_choices {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td></tr>",
                    escape(&c.choice),
                    c.entities
                );
            }
            h.push_str("</table></section>\n");
        }

        if let Some(l) = &self.level {
            let _ = write!(
                h,
                "<section><h2>Intelligence level (ITU-T Y.3173)</h2><p class=\"level\">{}</p>\
                 <table><tr><th>dimension</th><th>capability</th><th>level</th></tr>",
                escape(&l.overall.to_string())
            );
            for d in &l.per_dimension {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>L{}</td></tr>",
                    escape(d.dimension.name()),
                    escape(d.capability.code()),
                    d.level.number()
                );
            }
            h.push_str("</table></section>\n");
        }

        if !self.plots.is_empty() {
            h.push_str("<section><h2>Entities</h2>\n");
            h.push_str(
                "<p>Entities with missed incidents first, then those with false alerts, then \
                 detections.</p>\n",
            );
            for p in &self.plots {
                let _ = write!(
                    h,
                    "<figure>{}<figcaption>{}</figcaption>",
                    kpi_chart(p, 960.0, 340.0),
                    escape(&p.caption())
                );
                let why: Vec<_> = p
                    .alerts
                    .iter()
                    .zip(&p.reasons)
                    .filter(|(_, r)| !r.is_empty())
                    .collect();
                if !why.is_empty() {
                    h.push_str("<ul class=why>");
                    for (t, r) in why {
                        let _ = write!(h, "<li>{}: {}</li>", escape(&t.to_string()), escape(r));
                    }
                    h.push_str("</ul>");
                }
                h.push_str("</figure>\n");
            }
            h.push_str("</section>\n");
        }

        if !self.notes.is_empty() {
            h.push_str("<section><h2>Notes</h2><ul>");
            for n in &self.notes {
                let _ = write!(h, "<li>{}</li>", escape(n));
            }
            h.push_str("</ul></section>\n");
        }
        h.push_str("</body></html>\n");
        h
    }
}

fn status_class(s: StageStatus) -> &'static str {
    match s {
        StageStatus::Done => "pass",
        StageStatus::Failed => "fail",
        _ => "warn",
    }
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222;padding:0 1em}\
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}\
h3{font-size:1em}.sub{color:#555;margin-top:0}table{border-collapse:collapse;margin:.5em 0}\
th,td{padding:.25em .8em;border-bottom:1px solid #eee;text-align:left;font-variant-numeric:tabular-nums}\
th{color:#555;font-weight:600}.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}\
.warn{color:#9a6700;font-weight:600}.level{font-size:1.2em;font-weight:600}figure{margin:1em 0}\
figcaption{color:#555;font-size:.9em}ul.why{font-size:.85em;color:#333;margin:.3em 0}svg{max-width:100%;height:auto;border:1px solid #eee}\
.sw{display:inline-block;width:.8em;height:.8em;margin-right:.4em;opacity:.6}";

/// The plain-text report for the terminal.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "report: {} (use case {})", self.intent, self.use_case)?;
        write!(
            f,
            "  records {}  throughput {:.0}/s",
            self.records, self.throughput_per_s
        )?;
        if let Some(l) = self.latency {
            write!(
                f,
                "  latency p50 {} p99 {}",
                fmt_duration_ms(l.p50_ms),
                fmt_duration_ms(l.p99_ms)
            )?;
        }
        writeln!(f)?;
        if !self.stages.is_empty() {
            writeln!(f, "  {:<14} {:<8} {:>9}  detail", "stage", "status", "time")?;
            for s in &self.stages {
                writeln!(
                    f,
                    "  {:<14} {:<8} {:>9}  {}",
                    s.name,
                    s.status,
                    fmt_opt_duration(s.duration_ms),
                    s.detail
                )?;
            }
        }
        let checks = self.checks();
        if !checks.is_empty() {
            writeln!(
                f,
                "  {:<16} {:>12} {:>12}  result",
                "target", "wanted", "actual"
            )?;
            for c in &checks {
                writeln!(
                    f,
                    "  {:<16} {:>12} {:>12}  {}",
                    c.name,
                    format!("{} {}", c.comparison, c.fmt_value(c.target)),
                    c.actual.map_or_else(|| "-".into(), |a| c.fmt_value(a)),
                    if c.pass { "PASS" } else { "FAIL" }
                )?;
            }
        }
        if let Some(m) = &self.metrics {
            write!(f, "{m}")?;
        }
        if !self.detector_choices.is_empty() {
            let said: Vec<String> = self
                .detector_choices
                .iter()
                .map(|c| format!("{} for {}", c.choice, c.entities))
                .collect();
            writeln!(f, "  auto chose: {}", said.join("; "))?;
        }
        if let Some(l) = &self.level {
            write!(f, "{l}")?;
        }
        for n in &self.notes {
            writeln!(f, "  note: {n}")?;
        }
        writeln!(f, "  verdict: {}", self.verdict())
    }
}

#[cfg(test)]
mod tests {
    use ai4ict_core::{Against, Explanation, Severity};

    use super::*;
    use crate::level::{Capabilities, Capability::*};
    use crate::metrics::event_metrics;

    const H: i64 = 3_600_000;

    fn sample() -> Report {
        let t0 = 1_704_067_200_000; // 2024-01-01
        let inc = |e: &str, kind, s: i64, d: i64| Incident {
            entity: Entity::new(e),
            kind,
            start: Timestamp(t0 + s * H),
            end: Timestamp(t0 + (s + d) * H),
        };
        let incidents = vec![
            inc("cell<1>&\"x\"", IncidentKind::Outage, 20, 3),
            inc("cell-2", IncidentKind::CounterReset, 40, 0),
            inc("cell-2", IncidentKind::TrafficSurge, 60, 5),
        ];
        let alert = |e: &str, h: i64| Alert {
            entity: Entity::new(e),
            time: Timestamp(t0 + h * H),
            onset: Timestamp(t0 + h * H),
            score: 0.97,
            severity: Severity::Critical,
            field: "prb_util".into(),
            why: None,
        };
        let mut alerts = vec![alert("cell<1>&\"x\"", 21), alert("cell-2", 40)];
        alerts[0].why = Some(Explanation {
            against: Against::Profile,
            field: "prb_util".into(),
            value: Some(0.05),
            expected: Some(0.61),
            spread: Some(0.04),
            partner: None,
            intervals: None,
            surprise: Some(7.2),
        });
        let mut r = Report::new("cell-kpi-anomaly", "operations");
        r.records = 14_400;
        r.throughput_per_s = 250_000.0;
        r.latency = Latency::from_samples(&(0..100).map(|i| i as f64 / 10.0).collect::<Vec<_>>());
        r.metrics = Some(event_metrics(&alerts, &incidents, H));
        r.targets = Targets {
            precision: Some(0.9),
            recall: Some(0.4),
            p99_latency_ms: Some(50.0),
            mttd_ms: None,
        };
        r.stages = vec![
            Stage {
                name: "plan".into(),
                status: StageStatus::Done,
                duration_ms: Some(3.0),
                detail: "".into(),
            },
            Stage {
                name: "train".into(),
                status: StageStatus::Done,
                duration_ms: Some(1200.0),
                detail: "robust z".into(),
            },
        ];
        r.level = Some(
            Capabilities {
                demand_mapping: HumanSystem,
                data_collection: HumanSystem,
                analysis: System,
                decision: HumanSystem,
                action_implementation: HumanSystem,
            }
            .assess(),
        );
        for e in ["cell<1>&\"x\"", "cell-2"] {
            let times: Vec<Timestamp> = (0..96 * 4).map(|i| Timestamp(t0 + i * H / 4)).collect();
            let mut values: Vec<f64> = (0..times.len())
                .map(|i| 50.0 + 20.0 * ((i as f64) / 16.0).sin())
                .collect();
            values[100] = f64::NAN;
            let scores = values
                .iter()
                .map(|v| {
                    if v.is_nan() {
                        f64::NAN
                    } else {
                        (v - 30.0) / 40.0
                    }
                })
                .collect();
            let plot = PlotSeries::new(&Entity::new(e), "prb_util", times, values)
                .with_scores(scores)
                .with_ground_truth(&alerts, &incidents, H);
            r.plots.push(plot);
        }
        assert_eq!(
            (r.plots[1].alerts.len(), r.plots[1].incidents.len()),
            (1, 2)
        );
        r.notes.push("scores <calibrated> & checked".into());
        r
    }

    #[test]
    fn plots_put_missed_incidents_and_false_alerts_first() {
        let r = sample();
        let (detected, cell2) = (&r.plots[0], &r.plots[1]);
        assert_eq!(detected.attention(), (0, 0));
        assert_eq!(detected.incidents[0].detected, Some(true));
        // The alert on the counter reset is false, the traffic surge was missed, and the
        // counter reset is no incident to detect.
        assert_eq!(cell2.attention(), (1, 1));
        let found: Vec<_> = cell2.incidents.iter().map(|i| i.detected).collect();
        assert_eq!(found, [None, Some(false)]);
        assert_eq!(
            cell2.caption(),
            "cell-2 — prb_util: 1 missed incident, 1 false alert"
        );
        let svg = kpi_chart(cell2, 960.0, 340.0);
        assert!(svg.contains("missed traffic_surge") && svg.contains("false alert"));
        let with_unit = kpi_chart(&cell2.clone().with_unit("fraction 0..1"), 960.0, 340.0);
        assert!(with_unit.contains("prb_util (fraction 0..1)"));

        let t = |h: i64| Timestamp(h * H);
        let inc = |e: &str, s: i64| Incident {
            entity: Entity::new(e),
            kind: IncidentKind::Outage,
            start: t(s),
            end: t(s + 1),
        };
        let alert = |e: &str, h: i64| Alert {
            entity: Entity::new(e),
            time: t(h),
            onset: t(h),
            score: 0.95,
            severity: Severity::Critical,
            field: "x".into(),
            why: None,
        };
        let incidents = [inc("found", 1), inc("missed", 1), inc("missed", 5)];
        let alerts = [alert("found", 1), alert("noisy", 3), alert("noisy", 9)];
        let order = plot_order(&alerts, &incidents, 0, 3);
        let names: Vec<&str> = order.iter().map(Entity::name).collect();
        assert_eq!(names, ["missed", "noisy", "found"]);
        assert_eq!(plot_order(&alerts, &incidents, 0, 1).len(), 1);
    }

    #[test]
    fn checks_and_text() {
        let r = sample();
        let checks = r.checks();
        assert_eq!(checks.len(), 3);
        // One of two alerts is true (the other is on a counter reset); 1 of 2 actionable found.
        assert_eq!(
            (checks[0].name.as_str(), checks[0].actual, checks[0].pass),
            ("precision", Some(0.5), false)
        );
        assert_eq!((checks[1].actual, checks[1].pass), (Some(0.5), true));
        assert!(checks[2].pass);
        assert!(!r.passed());
        let text = r.to_string();
        assert!(
            text.contains("precision") && text.contains("FAIL") && text.contains("verdict: FAIL"),
            "{text}"
        );
        assert!(text.contains("L1 (Assisted network operation)"), "{text}");
    }

    #[test]
    fn html_is_self_contained_and_escaped() {
        let r = sample();
        let html = r.to_html();
        assert_eq!(html.matches("<svg").count(), 2);
        assert_eq!(html.matches("</svg>").count(), 2);
        assert!(!html.contains("cell<1>"));
        assert!(html.contains("cell&lt;1&gt;&amp;&quot;x&quot;"));
        assert!(html.contains("scores &lt;calibrated&gt; &amp; checked"));
        assert!(
            !html.contains("<script") && !html.contains("http://")
                || html.matches("http://").count() == 2
        );
        assert!(html.contains("2024-01-0"), "date ticks");
        // Why the first entity's alert fired; the second's detector gave no baseline.
        assert!(html.contains(
            "prb_util 0.05 where 0.61 ± 0.04 is usual at this time of day (by chance about 1 \
             in 16 000 000)"
        ));
        assert_eq!(html.matches("<ul class=why>").count(), 1);
        assert!(
            html.contains("outage")
                && html.contains("traffic_surge")
                && html.contains("counter_reset")
        );
        for tag in ["html", "body", "table", "section", "figure"] {
            assert_eq!(
                html.matches(&format!("<{tag}")).count(),
                html.matches(&format!("</{tag}>")).count(),
                "{tag}"
            );
        }
    }

    #[test]
    fn json_round_trip_with_checks() {
        let r = sample();
        let json = r.to_json();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["passed"], false);
        assert_eq!(v["checks"][0]["name"], "precision");
        assert_eq!(v["level"]["overall"], "L1");
        assert!(v["plots"][0]["values"][100].is_null());
        // NaN gaps come back as NaN.
        let back: Report = serde_json::from_str(&json).unwrap();
        assert!(back.plots[0].values[100].is_nan());
        assert_eq!(
            (&back.intent, &back.metrics, &back.level, &back.stages),
            (&r.intent, &r.metrics, &r.level, &r.stages)
        );
        assert_eq!(
            (
                back.plots.len(),
                &back.plots[1].times,
                &back.plots[1].incidents
            ),
            (2, &r.plots[1].times, &r.plots[1].incidents)
        );
        let dir = tempfile::tempdir().unwrap();
        r.write_json(&dir.path().join("r.json")).unwrap();
        r.write_html(&dir.path().join("r.html")).unwrap();
        assert!(r.write_json(&dir.path().join("missing/r.json")).is_err());
    }

    #[test]
    fn auto_choices_are_said_in_html_json_and_text() {
        let mut r = Report::new("c", "operations");
        assert!(!r.to_html().contains("auto</code> chose"));
        assert!(!r.to_json().contains("detector_choices"));
        r.detector_choices = vec![
            DetectorChoice {
                choice: "resonance (no daily rhythm)".into(),
                entities: 3,
            },
            DetectorChoice {
                choice: "robust_seasonal <daily>".into(),
                entities: 9,
            },
        ];
        let html = r.to_html();
        assert!(
            html.contains("<td>robust_seasonal &lt;daily&gt;</td><td>9</td>"),
            "{html}"
        );
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["detector_choices"][0]["entities"], 3);
        assert!(r.to_string().contains(
            "auto chose: resonance (no daily rhythm) for 3; robust_seasonal <daily> for 9"
        ));
    }

    #[test]
    fn a_stopped_stage_passes_nothing() {
        let mut r = Report::new("partial", "operations");
        r.targets.precision = Some(0.5);
        let mut m = event_metrics(&[], &[], 0);
        m.precision = 0.9;
        r.metrics = Some(m);
        r.stages.push(Stage {
            name: "evaluate".into(),
            status: StageStatus::Stopped,
            duration_ms: None,
            detail: "stopped early".into(),
        });
        assert!(
            r.checks().iter().all(|c| c.pass),
            "the partial numbers look fine"
        );
        assert!(r.stopped() && !r.passed());
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!((&v["passed"], &v["stopped"]), (&false.into(), &true.into()));
        assert_eq!(v["stages"][0]["status"], "stopped");
        assert!(r.to_string().contains("verdict: STOPPED"));
        assert!(r.to_html().contains("partial run, not a verdict"));
    }
}
