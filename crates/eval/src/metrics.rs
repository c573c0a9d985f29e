//! Detection metrics: event-level (alerts against incidents) and point-level (labelled rows).
//!
//! Event metrics are what an operator feels: was each real incident caught, how soon, and how
//! many alerts were noise. They are the evaluation plug-in KPIs of Y.3181 §8 (precision, recall,
//! time to detect). Point metrics score a detector row by row, as most papers do.

use std::collections::HashMap;
use std::fmt;

use ai4ict_core::{Alert, Entity, Incident, IncidentKind};
use serde::{Deserialize, Serialize};

use crate::util::{f1, fmt_duration_ms, fmt_opt_duration, mean, median, ratio};
use crate::EvalError;

/// Event-level evaluation of a run's alerts against the ground-truth incidents.
///
/// An incident counts as *detected* when an alert for the same entity falls in
/// `[start, end + grace]`. An alert is *true* when it falls in such an interval of an
/// **actionable** incident ([`IncidentKind::actionable`]); every other alert — including alerts
/// raised during a non-actionable incident such as a counter reset — is a false positive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventMetrics {
    /// Grace period after an incident's end during which an alert still counts, in milliseconds.
    pub grace_ms: i64,
    /// All alerts.
    pub alerts: usize,
    /// Alerts that match an actionable incident.
    pub true_alerts: usize,
    /// Alerts that match no actionable incident.
    pub false_alerts: usize,
    /// Actionable incidents.
    pub incidents: usize,
    /// Actionable incidents with at least one matching alert.
    pub detected: usize,
    /// `true_alerts / alerts` (1 when there are neither alerts nor actionable incidents, 0 when
    /// there are incidents but no alerts).
    pub precision: f64,
    /// `detected / incidents` (1 when there are no actionable incidents).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Mean time to detect over detected actionable incidents (first matching alert's time minus
    /// the incident start), in milliseconds; `None` when nothing was detected.
    pub mean_ttd_ms: Option<f64>,
    /// Median time to detect, in milliseconds.
    pub median_ttd_ms: Option<f64>,
    /// Breakdown per incident kind, in [`IncidentKind::ALL`] order, kinds with no incident left out.
    pub per_kind: Vec<KindMetrics>,
}

/// Detection of one incident kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KindMetrics {
    /// The kind.
    pub kind: IncidentKind,
    /// Whether operators want alerts for it; for a non-actionable kind, `detected` counts
    /// incidents that drew an (unwanted) alert.
    pub actionable: bool,
    /// Incidents of this kind.
    pub count: usize,
    /// Incidents of this kind with at least one alert in `[start, end + grace]`.
    pub detected: usize,
    /// `detected / count`.
    pub recall: f64,
    /// Mean time to detect over the detected ones, in milliseconds.
    pub mean_ttd_ms: Option<f64>,
    /// Longest time to detect over the detected ones, in milliseconds (a promise such as
    /// "flatlines alert within 3 intervals" is about the worst case, not the mean).
    #[serde(default)]
    pub max_ttd_ms: Option<f64>,
}

/// The time of each incident's first alert in `[start, end + grace_ms]` on its entity, in
/// milliseconds, or `None` when it was missed.
///
/// Runs in `O((A + I) log A)`: alert times are sorted per entity and each incident finds its
/// first alert by binary search.
pub fn first_alerts(alerts: &[Alert], incidents: &[Incident], grace_ms: i64) -> Vec<Option<i64>> {
    let mut by_entity: HashMap<&Entity, Vec<i64>> = HashMap::new();
    for a in alerts {
        by_entity.entry(&a.entity).or_default().push(a.time.0);
    }
    for times in by_entity.values_mut() {
        times.sort_unstable();
    }
    incidents
        .iter()
        .map(|inc| {
            let times = by_entity.get(&inc.entity)?;
            let i = times.partition_point(|&t| t < inc.start.0);
            times
                .get(i)
                .copied()
                .filter(|&t| t <= inc.end.0.saturating_add(grace_ms))
        })
        .collect()
}

/// Evaluates `alerts` against `incidents` with a grace period of `grace_ms` after each incident.
///
/// Runs in `O((A + I) log(A + I))` plus, per entity, the alerts times its incidents.
pub fn event_metrics(alerts: &[Alert], incidents: &[Incident], grace_ms: i64) -> EventMetrics {
    let firsts = first_alerts(alerts, incidents, grace_ms);

    let mut ttd_all = Vec::new();
    let mut per_kind = Vec::new();
    let (mut n_actionable, mut n_detected) = (0, 0);
    for kind in IncidentKind::ALL {
        let (mut count, mut detected, mut ttd) = (0, 0, Vec::new());
        for (inc, first) in incidents
            .iter()
            .zip(&firsts)
            .filter(|(i, _)| i.kind == kind)
        {
            count += 1;
            if let Some(t) = *first {
                detected += 1;
                ttd.push((t - inc.start.0) as f64);
            }
        }
        if count == 0 {
            continue;
        }
        if kind.actionable() {
            n_actionable += count;
            n_detected += detected;
            ttd_all.extend_from_slice(&ttd);
        }
        per_kind.push(KindMetrics {
            kind,
            actionable: kind.actionable(),
            count,
            detected,
            recall: ratio(detected, count, 1.0),
            mean_ttd_ms: mean(&ttd),
            max_ttd_ms: ttd.iter().copied().reduce(f64::max),
        });
    }

    // True alerts: those covered by an actionable incident of the same entity.
    let mut actionable_by_entity: HashMap<&Entity, Vec<&Incident>> = HashMap::new();
    for inc in incidents.iter().filter(|i| i.kind.actionable()) {
        actionable_by_entity
            .entry(&inc.entity)
            .or_default()
            .push(inc);
    }
    let true_alerts = alerts
        .iter()
        .filter(|a| {
            actionable_by_entity
                .get(&a.entity)
                .is_some_and(|incs| incs.iter().any(|i| i.covers(a.time, grace_ms)))
        })
        .count();

    let precision = ratio(
        true_alerts,
        alerts.len(),
        if n_actionable == 0 { 1.0 } else { 0.0 },
    );
    let recall = ratio(n_detected, n_actionable, 1.0);
    EventMetrics {
        grace_ms,
        alerts: alerts.len(),
        true_alerts,
        false_alerts: alerts.len() - true_alerts,
        incidents: n_actionable,
        detected: n_detected,
        precision,
        recall,
        f1: f1(precision, recall),
        mean_ttd_ms: mean(&ttd_all),
        median_ttd_ms: median(&ttd_all),
        per_kind,
    }
}

impl fmt::Display for EventMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "event metrics (grace {})",
            fmt_duration_ms(self.grace_ms as f64)
        )?;
        writeln!(
            f,
            "  alerts      {:>6}  ({} true, {} false)",
            self.alerts, self.true_alerts, self.false_alerts
        )?;
        writeln!(
            f,
            "  incidents   {:>6}  ({} detected)",
            self.incidents, self.detected
        )?;
        writeln!(f, "  precision   {:>6.3}", self.precision)?;
        writeln!(f, "  recall      {:>6.3}", self.recall)?;
        writeln!(f, "  F1          {:>6.3}", self.f1)?;
        writeln!(
            f,
            "  MTTD        {:>6}  (median {})",
            fmt_opt_duration(self.mean_ttd_ms),
            fmt_opt_duration(self.median_ttd_ms)
        )?;
        if !self.per_kind.is_empty() {
            writeln!(
                f,
                "  {:<24} {:>6} {:>8} {:>7} {:>9}",
                "kind", "count", "detected", "recall", "MTTD"
            )?;
            for k in &self.per_kind {
                let name = if k.actionable {
                    k.kind.to_string()
                } else {
                    format!("{} (no alert wanted)", k.kind)
                };
                writeln!(
                    f,
                    "  {:<24} {:>6} {:>8} {:>7.3} {:>9}",
                    name,
                    k.count,
                    k.detected,
                    k.recall,
                    fmt_opt_duration(k.mean_ttd_ms)
                )?;
            }
        }
        Ok(())
    }
}

/// Row-by-row confusion counts and the ratios derived from them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointMetrics {
    /// Rows predicted anomalous that are labelled anomalous.
    pub tp: usize,
    /// Rows predicted anomalous that are labelled normal.
    pub fp: usize,
    /// Rows predicted normal that are labelled anomalous.
    #[serde(rename = "fn")]
    pub fn_: usize,
    /// Rows predicted normal that are labelled normal.
    pub tn: usize,
    /// `tp / (tp + fp)` (1 when nothing is predicted and nothing is labelled, else 0 when
    /// nothing is predicted).
    pub precision: f64,
    /// `tp / (tp + fn)` (1 when nothing is labelled).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

impl PointMetrics {
    fn from_counts(tp: usize, fp: usize, fn_: usize, tn: usize) -> Self {
        let precision = ratio(tp, tp + fp, if tp + fn_ == 0 { 1.0 } else { 0.0 });
        let recall = ratio(tp, tp + fn_, 1.0);
        Self {
            tp,
            fp,
            fn_,
            tn,
            precision,
            recall,
            f1: f1(precision, recall),
        }
    }
}

impl fmt::Display for PointMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "precision {:.3}  recall {:.3}  F1 {:.3}  (tp {}, fp {}, fn {}, tn {})",
            self.precision, self.recall, self.f1, self.tp, self.fp, self.fn_, self.tn
        )
    }
}

fn check_lengths(predicted: &[bool], actual: &[bool]) -> Result<(), EvalError> {
    if predicted.len() == actual.len() {
        Ok(())
    } else {
        Err(EvalError::LengthMismatch {
            what: "predictions vs labels".into(),
            left: predicted.len(),
            right: actual.len(),
        })
    }
}

/// Plain point-wise precision, recall and F1 of `predicted` against `actual` (one flag per row).
pub fn point_metrics(predicted: &[bool], actual: &[bool]) -> Result<PointMetrics, EvalError> {
    check_lengths(predicted, actual)?;
    let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
    for (&p, &a) in predicted.iter().zip(actual) {
        match (p, a) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => tn += 1,
        }
    }
    Ok(PointMetrics::from_counts(tp, fp, fn_, tn))
}

/// **Point-adjusted** metrics (PA-F1 is the `f1` field), the protocol of Xu et al. (WWW 2018,
/// "Donut") used by many time-series anomaly papers.
///
/// Each maximal run of consecutive labelled rows is one anomaly segment; if the detector flags
/// *any* row of a segment, *every* row of that segment counts as detected. Then point metrics
/// are computed as usual. This is **not** plain point F1: it rewards a single lucky hit in a long
/// segment as much as full coverage, so it can rate even random scores highly (Kim et al.,
/// AAAI 2022, "Towards a rigorous evaluation of time-series anomaly detection"). Report it only
/// beside [`point_metrics`] and [`event_metrics`], for comparison with published numbers.
pub fn point_adjusted_f1(predicted: &[bool], actual: &[bool]) -> Result<PointMetrics, EvalError> {
    check_lengths(predicted, actual)?;
    let mut adjusted = predicted.to_vec();
    let mut i = 0;
    while i < actual.len() {
        if !actual[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < actual.len() && actual[i] {
            i += 1;
        }
        if predicted[start..i].iter().any(|&p| p) {
            adjusted[start..i].iter_mut().for_each(|p| *p = true);
        }
    }
    point_metrics(&adjusted, actual)
}

#[cfg(test)]
mod tests {
    use ai4ict_core::{Severity, Timestamp};

    use super::*;

    const MIN: i64 = 60_000;

    fn alert(entity: &str, minute: i64) -> Alert {
        Alert {
            entity: Entity::new(entity),
            time: Timestamp(minute * MIN),
            onset: Timestamp(minute * MIN),
            score: 0.99,
            severity: Severity::Major,
            field: "prb_util".into(),
            why: None,
        }
    }

    fn incident(entity: &str, kind: IncidentKind, start: i64, end: i64) -> Incident {
        Incident {
            entity: Entity::new(entity),
            kind,
            start: Timestamp(start * MIN),
            end: Timestamp(end * MIN),
        }
    }

    #[test]
    fn events_with_grace_counter_reset_and_other_entities() {
        let incidents = vec![
            incident("a", IncidentKind::Outage, 100, 130),
            incident("a", IncidentKind::Interference, 300, 310),
            incident("b", IncidentKind::ThroughputDegradation, 100, 200),
            incident("b", IncidentKind::CounterReset, 500, 500),
        ];
        let alerts = vec![
            alert("a", 110), // outage, 10 min late
            alert("a", 120), // outage again: true, not a second detection
            alert("a", 314), // interference, inside the 5 min grace: 14 min late
            alert("b", 500), // counter reset: false positive
            alert("c", 110), // other entity: false positive
            alert("b", 95),  // before the degradation: false positive
        ];
        let m = event_metrics(&alerts, &incidents, 5 * MIN);
        assert_eq!((m.alerts, m.true_alerts, m.false_alerts), (6, 3, 3));
        assert_eq!((m.incidents, m.detected), (3, 2));
        assert!((m.precision - 0.5).abs() < 1e-12);
        assert!((m.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.f1 - 4.0 / 7.0).abs() < 1e-12);
        assert_eq!(m.mean_ttd_ms, Some(12.0 * MIN as f64));
        assert_eq!(m.median_ttd_ms, Some(12.0 * MIN as f64));
        let kinds: Vec<_> = m
            .per_kind
            .iter()
            .map(|k| (k.kind, k.count, k.detected))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (IncidentKind::Outage, 1, 1),
                (IncidentKind::ThroughputDegradation, 1, 0),
                (IncidentKind::Interference, 1, 1),
                (IncidentKind::CounterReset, 1, 1),
            ]
        );
        let reset = &m.per_kind[3];
        assert!(!reset.actionable);

        // Without grace the interference alert is late: a miss and a false positive.
        let strict = event_metrics(&alerts, &incidents, 0);
        assert_eq!((strict.true_alerts, strict.detected), (2, 1));

        let table = m.to_string();
        assert!(table.contains("precision    0.500"), "{table}");
        assert!(table.contains("counter_reset (no alert wanted)"), "{table}");
        assert!(table.contains("12m 00s"), "{table}");
    }

    #[test]
    fn empty_cases() {
        let none = event_metrics(&[], &[], 0);
        assert_eq!((none.precision, none.recall, none.f1), (1.0, 1.0, 1.0));
        let missed = event_metrics(&[], &[incident("a", IncidentKind::Outage, 0, 1)], 0);
        assert_eq!(
            (missed.precision, missed.recall, missed.f1),
            (0.0, 0.0, 0.0)
        );
        assert_eq!(missed.mean_ttd_ms, None);
        let json = serde_json::to_string(&missed).unwrap();
        let back: EventMetrics = serde_json::from_str(&json).unwrap();
        assert_eq!(back, missed);
    }

    #[test]
    fn point_and_point_adjusted() {
        let actual = [
            false, true, true, true, false, false, true, true, false, false,
        ];
        let predicted = [
            false, false, true, false, false, true, false, false, false, false,
        ];
        let p = point_metrics(&predicted, &actual).unwrap();
        assert_eq!((p.tp, p.fp, p.fn_, p.tn), (1, 1, 4, 4));
        assert!((p.precision - 0.5).abs() < 1e-12 && (p.recall - 0.2).abs() < 1e-12);
        // The hit at row 2 credits the whole first segment (rows 1..=3); the second is missed.
        let pa = point_adjusted_f1(&predicted, &actual).unwrap();
        assert_eq!((pa.tp, pa.fp, pa.fn_, pa.tn), (3, 1, 2, 4));
        assert!((pa.f1 - f1(0.75, 0.6)).abs() < 1e-12);
        assert!(pa.f1 > p.f1);
        assert!(matches!(
            point_metrics(&[true], &[]),
            Err(EvalError::LengthMismatch { .. })
        ));
        assert!(serde_json::to_string(&pa).unwrap().contains("\"fn\":2"));
    }
}
