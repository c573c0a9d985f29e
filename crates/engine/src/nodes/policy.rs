use ai4ict_core::{Against, Alert, Entity, Explanation, Interval, Severity, Timestamp};
use ai4ict_intent::AlertPolicy;
use serde::{Deserialize, Serialize};

use ai4ict_anomaly::{Score, TelemetryFinding};

use super::{EntityMap, Scored};

/// The policy node (Y.3172 §8.1 NOTE 5, P): the operator's safeguards between the model and
/// the network. An alert is raised when an entity's score stays at or above `score_above` for
/// `for` consecutive intervals, at most once per anomalous run, not within `suppress` of the
/// entity's previous alert, and in quiet hours only from `min_severity` up. A row the model's
/// telemetry check flagged (a stuck or silent source) is evidence on its own: it needs no
/// consecutive intervals; so is one score at or above `at_once`, unless the field that scored
/// reads exactly 0 (one row of zeros is a counter reset). Each alert says why it fired
/// ([`Explanation`]): the field's value at the run's peak and the baseline the model held it
/// against.
pub struct PolicyNode {
    policy: AlertPolicy,
    interval: Interval,
    fields: Vec<String>,
    state: EntityMap<Run>,
    suppressed: u64,
}

/// The policy's memory of one entity (the current run of high scores, the last alert); part
/// of a pipeline's snapshot.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Run {
    len: u32,
    onset: Timestamp,
    max: f64,
    field: Option<usize>,
    /// Why the peak scored as it did (boxed: only entities in a run have one).
    why: Option<Box<Explanation>>,
    alerted: bool,
    last_time: Option<Timestamp>,
    last_alert: Option<Timestamp>,
}

impl PolicyNode {
    /// A policy node for rows of `fields` at `interval`.
    pub fn new(policy: &AlertPolicy, fields: &[String], interval: Interval) -> Self {
        Self {
            policy: policy.clone(),
            interval,
            fields: fields.to_vec(),
            state: EntityMap::default(),
            suppressed: 0,
        }
    }

    /// Each entity's state, for a snapshot.
    pub fn states(&self) -> impl Iterator<Item = (&Entity, &Run)> {
        self.state.iter()
    }

    /// Starts `entity` from a snapshot's state.
    pub fn restore(&mut self, entity: Entity, state: Run) {
        self.state.insert(entity, state);
    }

    /// Bytes of per-entity state.
    pub fn state_bytes(&self) -> usize {
        self.state.len() * std::mem::size_of::<Run>()
    }

    /// Alerts withheld by the suppression window or quiet hours.
    pub fn suppressed(&self) -> u64 {
        self.suppressed
    }

    fn severity(&self, score: f64) -> Severity {
        if score >= self.policy.severity.critical {
            Severity::Critical
        } else if score >= self.policy.severity.major {
            Severity::Major
        } else {
            Severity::Minor
        }
    }

    fn quiet(&self, t: Timestamp) -> Option<Severity> {
        let q = self.policy.quiet_hours.as_ref()?;
        let h = (t.millis_of_day() / 3_600_000) as u8;
        let inside = if q.from <= q.to {
            h >= q.from && h < q.to
        } else {
            h >= q.from || h < q.to
        };
        inside.then_some(q.min_severity)
    }

    /// Applies the policy to one scored batch, appending alerts to `alerts`.
    pub fn process(&mut self, scored: &Scored, alerts: &mut Vec<Alert>) {
        for (i, (entity, t, values)) in scored.batch.rows().enumerate() {
            let finding = scored.findings.get(i).copied().flatten();
            let peak = Peak {
                score: scored.scores[i],
                finding,
                values,
            };
            self.consider(entity, t, peak, alerts);
        }
        for (entity, t, missed) in &scored.silences {
            let peak = Peak {
                score: Score::new(1.0, None),
                finding: Some(TelemetryFinding::Silent { missing: *missed }),
                values: &[],
            };
            self.consider(entity, *t, peak, alerts);
        }
    }

    /// Why a row with `values` scored `score`, in the fields' names, as an alert on it
    /// would say (`None` where the detector gives no baseline).
    pub fn explain_score(&self, score: Score, values: &[f64]) -> Option<Explanation> {
        self.explain(&Peak {
            score,
            finding: None,
            values,
        })
    }

    /// Why `peak` scored as it did, in the fields' names.
    fn explain(&self, peak: &Peak<'_>) -> Option<Explanation> {
        let name = |i: usize| self.fields.get(i).cloned();
        let value = |i: usize| peak.values.get(i).copied().filter(|v| v.is_finite());
        let field = peak.score.field;
        let mut out = Explanation {
            against: Against::Silent,
            field: field.and_then(name).unwrap_or_else(|| NO_DATA.to_string()),
            value: field.and_then(value),
            expected: None,
            spread: None,
            partner: None,
            intervals: None,
            surprise: None,
        };
        match peak.finding {
            Some(TelemetryFinding::Stuck { repeats, .. }) => {
                out.against = Against::Stuck;
                out.intervals = Some(repeats);
                return Some(out);
            }
            Some(TelemetryFinding::Silent { missing }) => {
                out.intervals = Some(missing);
                return Some(out);
            }
            None => {}
        }
        let why = peak.score.why?;
        let finite = |v: f32| v.is_finite().then_some(f64::from(v));
        out.expected = finite(why.expected);
        out.spread = finite(why.spread);
        out.surprise = finite(why.surprise);
        out.against = match why.against {
            ai4ict_anomaly::Against::Profile => Against::Profile,
            ai4ict_anomaly::Against::Drift => Against::Drift,
            ai4ict_anomaly::Against::Spread => Against::Spread,
            ai4ict_anomaly::Against::Level => Against::Level,
            ai4ict_anomaly::Against::Relation { field, partner } => {
                let (f, p) = (usize::from(field), usize::from(partner));
                out.field = name(f)?;
                out.value = value(f);
                out.partner = name(p).zip(value(p));
                Against::Relation
            }
        };
        Some(out)
    }

    /// One entity's score at `t`; evidence of the telemetry check (a finding), or one score at
    /// or above `at_once` on a reading other than 0, needs no consecutive intervals.
    fn consider(&mut self, entity: &Entity, t: Timestamp, peak: Peak<'_>, alerts: &mut Vec<Alert>) {
        let alone = self
            .policy
            .at_once
            .is_some_and(|a| peak.score.value >= a.max(self.policy.score_above))
            && peak
                .score
                .field
                .and_then(|f| peak.values.get(f))
                .is_some_and(|&v| v != 0.0);
        let (score, evidence) = (peak.score, peak.finding.is_some() || alone);
        let threshold = self.policy.score_above;
        let need = self.policy.for_intervals.max(1);
        let gap = self.interval.millis();
        let suppress = self.policy.suppress.millis();
        let run = match self.state.get_mut(entity) {
            Some(r) => r,
            None => self.state.entry(entity.clone()).or_default(),
        };
        if run.last_time.is_some_and(|last| t.0 - last.0 > gap) {
            run.len = 0; // a gap breaks the run
        }
        run.last_time = Some(t);
        if !evidence && (score.value.is_nan() || score.value < threshold) {
            run.len = 0;
            return;
        }
        if run.len == 0 {
            run.onset = t;
            run.max = 0.0;
            run.why = None;
            run.alerted = false;
        }
        run.len += 1;
        if score.value >= run.max {
            run.max = score.value;
            run.field = score.field;
            if !run.alerted {
                // Explained only until the run's alert is out.
                let why = self.explain(&peak).map(Box::new);
                self.state.get_mut(entity).expect("entry exists").why = why;
            }
        }
        let run = self.state.get_mut(entity).expect("entry exists");
        if (run.len < need && !evidence) || run.alerted {
            return;
        }
        let (max, onset, field, last_alert) = (run.max, run.onset, run.field, run.last_alert);
        let why = run.why.as_deref().cloned();
        let severity = self.severity(max);
        let held = last_alert.is_some_and(|a| t.0 - a.0 < suppress)
            || self.quiet(t).is_some_and(|least| severity < least);
        let run = self.state.get_mut(entity).expect("entry exists");
        if held {
            if !run.alerted && run.len == need {
                self.suppressed += 1;
            }
            return;
        }
        run.alerted = true;
        run.last_alert = Some(t);
        alerts.push(Alert {
            entity: entity.clone(),
            time: t,
            onset,
            score: max,
            severity,
            field: field
                .and_then(|f| self.fields.get(f))
                .cloned()
                .unwrap_or_else(|| NO_DATA.to_string()),
            why,
        });
    }
}

/// One row's output of the model node, as the policy weighs it.
struct Peak<'a> {
    score: Score,
    finding: Option<TelemetryFinding>,
    /// The row's values (empty for a silence).
    values: &'a [f64],
}

/// The field named by an alert on a silent source (no field to blame).
pub const NO_DATA: &str = "(no data)";

#[cfg(test)]
mod tests {
    use super::*;
    use ai4ict_core::{Batch, Entity};
    use ai4ict_intent::QuietHours;

    fn scored(values: &[f64]) -> Scored {
        let mut batch = Batch::new(1);
        for (i, _) in values.iter().enumerate() {
            batch.push(Entity::new("a"), Timestamp(i as i64 * 900_000), &[0.0]);
        }
        Scored {
            batch,
            scores: values.iter().map(|v| Score::new(*v, Some(0))).collect(),
            findings: Vec::new(),
            silences: Vec::new(),
        }
    }

    #[test]
    fn a_silent_source_alerts_at_once_whatever_the_for() {
        let policy = AlertPolicy {
            for_intervals: 5,
            ..AlertPolicy::default()
        };
        let mut node = PolicyNode::new(&policy, &["x".to_string()], Interval::from_minutes(15));
        let mut alerts = Vec::new();
        let mut s = scored(&[0.1, 0.2]);
        s.silences.push((Entity::new("b"), Timestamp(1_800_000), 6));
        node.process(&s, &mut alerts);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].entity, Entity::new("b"));
        assert_eq!(alerts[0].field, NO_DATA);
        assert_eq!(alerts[0].time, Timestamp(1_800_000));
    }

    #[test]
    fn alerts_say_why_from_the_peak_of_the_run() {
        use ai4ict_anomaly::{Against as By, Why};
        let mut s = scored(&[0.95, 0.99, 0.96]);
        let why = |expected| Why {
            against: By::Profile,
            expected,
            spread: 0.5,
            surprise: 6.0,
        };
        for (i, score) in s.scores.iter_mut().enumerate() {
            score.why = Some(why(i as f32));
        }
        let policy = AlertPolicy {
            for_intervals: 3,
            ..AlertPolicy::default()
        };
        let mut node = PolicyNode::new(&policy, &["x".to_string()], Interval::from_minutes(15));
        let mut alerts = Vec::new();
        node.process(&s, &mut alerts);
        let w = alerts[0].why.as_ref().expect("explained");
        // The peak is the second row: its baseline, its value.
        assert_eq!(
            (w.against, w.expected, w.value, w.surprise),
            (Against::Profile, Some(1.0), Some(0.0), Some(6.0))
        );
        // A silent source says how long it has been silent.
        let mut s = scored(&[0.1]);
        s.silences.push((Entity::new("b"), Timestamp(1_800_000), 6));
        node.process(&s, &mut alerts);
        let w = alerts[1].why.as_ref().expect("explained");
        assert_eq!((w.against, w.intervals), (Against::Silent, Some(6)));
        assert_eq!(alerts[1].description(), "no readings for 6 intervals");
    }

    fn run(policy: AlertPolicy, values: &[f64]) -> Vec<Alert> {
        let mut node = PolicyNode::new(&policy, &["x".to_string()], Interval::from_minutes(15));
        let mut alerts = Vec::new();
        node.process(&scored(values), &mut alerts);
        alerts
    }

    #[test]
    fn needs_consecutive_intervals_and_alerts_once_per_run() {
        let alerts = run(
            AlertPolicy::default(),
            &[0.95, 0.1, 0.95, 0.96, 0.99, 0.97, 0.2],
        );
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].onset, Timestamp(2 * 900_000));
        assert_eq!(alerts[0].time, Timestamp(3 * 900_000));
        assert_eq!(alerts[0].field, "x");
    }

    #[test]
    fn one_extreme_score_alerts_at_once_unless_its_field_reads_zero() {
        let alerts = |reading: f64, scores: &[f64], at_once: Option<f64>| {
            let mut s = scored(scores);
            for i in 0..s.batch.len() {
                s.batch.row_mut(i)[0] = reading;
            }
            let policy = AlertPolicy {
                at_once,
                ..AlertPolicy::default()
            };
            let mut node = PolicyNode::new(&policy, &["x".to_string()], Interval::from_minutes(15));
            let mut out = Vec::new();
            node.process(&s, &mut out);
            out
        };
        assert_eq!(AlertPolicy::default().at_once, Some(0.97));
        let a = alerts(5.0, &[0.1, 0.98, 0.1], Some(0.97));
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(
            (a[0].onset, a[0].time),
            (Timestamp(900_000), Timestamp(900_000))
        );
        // Below `at_once` one point is not enough, nor is a reading of exactly 0 (a counter
        // reset), nor anything with `at_once` off.
        assert!(alerts(5.0, &[0.1, 0.95, 0.1], Some(0.97)).is_empty());
        assert!(alerts(0.0, &[0.1, 0.99, 0.1], Some(0.97)).is_empty());
        assert!(alerts(5.0, &[0.1, 0.99, 0.1], None).is_empty());
    }

    #[test]
    fn suppression_window_holds_repeat_alerts() {
        let p = AlertPolicy {
            for_intervals: 1,
            suppress: Interval::from_minutes(60),
            ..AlertPolicy::default()
        };
        // runs at 0, 2 (30 min later: suppressed) and 6 (90 min after the first alert)
        let alerts = run(p, &[0.95, 0.0, 0.95, 0.0, 0.0, 0.0, 0.95]);
        assert_eq!(
            alerts
                .iter()
                .map(|a| a.time.0 / 900_000)
                .collect::<Vec<_>>(),
            vec![0, 6]
        );
    }

    #[test]
    fn quiet_hours_keep_only_severe_alerts() {
        let p = AlertPolicy {
            for_intervals: 1,
            quiet_hours: Some(QuietHours {
                from: 0,
                to: 6,
                min_severity: Severity::Critical,
            }),
            ..AlertPolicy::default()
        };
        assert!(run(p.clone(), &[0.95]).is_empty());
        assert_eq!(run(p, &[0.999]).len(), 1);
    }
}
