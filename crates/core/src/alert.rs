use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Entity, Timestamp};

/// How urgent an alert is, from the policy's severity bands.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a look.
    Minor,
    /// Service is affected.
    Major,
    /// Service is down or badly degraded.
    Critical,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Minor => "minor",
            Self::Major => "major",
            Self::Critical => "critical",
        })
    }
}

/// What the policy node (Y.3172 §8.1, P) emits once a score has stayed high long enough.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The entity the alert is about.
    pub entity: Entity,
    /// When the alert was raised (the interval that completed the `for` condition).
    pub time: Timestamp,
    /// The first interval of the anomalous run that led to the alert.
    pub onset: Timestamp,
    /// Highest calibrated score in the run, in [0, 1].
    pub score: f64,
    /// Severity band of `score`.
    pub severity: Severity,
    /// The field that contributed most to the score.
    pub field: String,
    /// Why it fired: the field's value at the run's peak and the baseline it was held against
    /// (`None` where the detector gives none: scores of a whole row).
    pub why: Option<Explanation>,
}

/// What an alert's value was held against (Y.3172 §8.1: the model's evidence, stated for the
/// operator who reads the alert).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Against {
    /// Its usual value at this time of day and day of the week.
    Profile,
    /// Its level of the days before: a slow drift.
    Drift,
    /// How much it usually varies: a variance burst.
    Spread,
    /// Its recent level.
    Level,
    /// The value it usually takes with another field: a relation that broke.
    Relation,
    /// Readings that repeat exactly: a stuck or flatlined source.
    Stuck,
    /// No readings: a silent source.
    Silent,
    /// The values every host's windows take: 99 % of them stay on one side of `expected`.
    Population,
}

/// Why an alert fired, from the model's score at the peak of the anomalous run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Explanation {
    /// The baseline.
    pub against: Against,
    /// The field the values below are of (the alert's field, or for a relation the field
    /// of the pair whose value was expected).
    pub field: String,
    /// Its value at the peak.
    pub value: Option<f64>,
    /// What the baseline expected of it.
    pub expected: Option<f64>,
    /// The spread of ordinary values around `expected` (about one standard deviation).
    pub spread: Option<f64>,
    /// For a relation, the other field of the pair and its value at the peak.
    pub partner: Option<(String, f64)>,
    /// For a stuck or silent source, the intervals it has been so.
    pub intervals: Option<u32>,
    /// How surprising the value is against the baseline: `-log10` of its chance in ordinary
    /// operation (the model's evidence before calibration into the score).
    pub surprise: Option<f64>,
}

impl Explanation {
    /// The explanation in words, e.g. "load 0.93 where 0.41 ± 0.05 is usual at this time of
    /// day".
    pub fn sentence(&self) -> String {
        let f = &self.field;
        let v = self.value.map_or_else(|| "—".to_string(), number);
        let usual = match (self.expected, self.spread) {
            (Some(e), Some(s)) => format!("{} ± {}", number(e), number(s)),
            (Some(e), None) => number(e),
            _ => "its usual value".to_string(),
        };
        let n = self.intervals.unwrap_or(0);
        let n = format!("{n} interval{}", if n == 1 { "" } else { "s" });
        let what = match self.against {
            Against::Profile => format!("{f} {v} where {usual} is usual at this time of day"),
            Against::Drift => {
                format!("{f} {v} has drifted from {usual}, its level of the days before")
            }
            Against::Spread => format!("{f} {v} varies far more than usual around {usual}"),
            Against::Level => format!("{f} {v} where its recent level is {usual}"),
            Against::Relation => match &self.partner {
                Some((p, pv)) => format!(
                    "{f} {v} where {usual} goes with {p} {}: the two no longer move together",
                    number(*pv)
                ),
                None => format!("{f} {v} where {usual} goes with its partner"),
            },
            Against::Stuck => format!("{f} has repeated {v} exactly for {n}"),
            Against::Silent => format!("no readings for {n}"),
            Against::Population => match (self.value, self.expected) {
                (Some(v), Some(e)) if v < e => format!(
                    "{f} {} is below {}, which 99 % of host windows stay at or above",
                    number(v),
                    number(e)
                ),
                (_, Some(e)) => format!(
                    "{f} {v} is above {}, which 99 % of host windows stay at or below",
                    number(e)
                ),
                _ => format!("{f} {v} is unlike the windows of every other host"),
            },
        };
        match self.surprise {
            Some(s) if s > 0.0 => format!("{what} (by chance about 1 in {})", odds(s)),
            _ => what,
        }
    }
}

/// `10^decades` in words: "30 000", or "10^12.3" from a billion up.
fn odds(decades: f64) -> String {
    if decades >= 9.0 {
        return format!("10^{decades:.1}");
    }
    let v = 10f64.powf(decades);
    // Two significant digits, grouped by thousands.
    let digits = v.log10().floor() as i32;
    let unit = 10f64.powi((digits - 1).max(0));
    let rounded = ((v / unit).round() * unit) as u64;
    let text = rounded.to_string();
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i > 0 && (text.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// A value with four significant digits, without trailing zeros.
fn number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

impl Alert {
    /// Why the alert fired, in words (empty when the detector gives no baseline).
    pub fn description(&self) -> String {
        self.why
            .as_ref()
            .map(Explanation::sentence)
            .unwrap_or_default()
    }

    /// A key naming this alert of `intent` the same each time it is raised: an FNV-1a hash of
    /// the intent, entity, time and field as 16 hex digits. A run resumed from a checkpoint
    /// raises again the alerts of up to one checkpoint interval; a downstream drops those it
    /// has by their key (at least once end to end).
    pub fn key(&self, intent: &str) -> String {
        let time = self.time.0.to_le_bytes();
        let parts: [&[u8]; 4] = [
            intent.as_bytes(),
            self.entity.name().as_bytes(),
            &time,
            self.field.as_bytes(),
        ];
        format!("{:016x}", key_of(&parts))
    }

    /// A key naming a batch of alerts of `intent` the same each time it is sent: the hash of
    /// its alerts' keys, in order (so a retried or replayed request carries the same key, as
    /// the `Idempotency-Key` of an HTTP delivery).
    pub fn batch_key(alerts: &[Alert], intent: &str) -> String {
        let keys: Vec<String> = alerts.iter().map(|a| a.key(intent)).collect();
        let parts: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
        format!("{:016x}", key_of(&parts))
    }
}

/// FNV-1a over `parts`, each part followed by its length, so ("ab", "c") and ("a", "bc")
/// differ; stable across processes, hosts and releases.
fn key_of(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        let len = (part.len() as u64).to_le_bytes();
        for b in part.iter().chain(&len) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_raised_again_has_the_same_key() {
        let a = Alert {
            entity: Entity::new("cell-1"),
            time: Timestamp(1_700_000_000_000),
            onset: Timestamp(1_699_999_100_000),
            score: 0.97,
            severity: Severity::Major,
            field: "latency".into(),
            why: None,
        };
        let again = Alert {
            score: 0.99,
            ..a.clone()
        };
        assert_eq!(a.key("cells"), again.key("cells"));
        assert_eq!(a.key("cells").len(), 16);
        let later = Alert {
            time: Timestamp(a.time.0 + 900_000),
            ..a.clone()
        };
        let other = Alert {
            field: "drop_rate".into(),
            ..a.clone()
        };
        for k in [later.key("cells"), other.key("cells"), a.key("cells2")] {
            assert_ne!(k, a.key("cells"));
        }
        let batch = Alert::batch_key(&[a.clone(), later.clone()], "cells");
        assert_eq!(batch, Alert::batch_key(&[again, later.clone()], "cells"));
        assert_eq!(batch.len(), 16);
        for k in [
            Alert::batch_key(&[later.clone(), a.clone()], "cells"),
            Alert::batch_key(std::slice::from_ref(&a), "cells"),
            Alert::batch_key(&[a, later], "cells2"),
        ] {
            assert_ne!(k, batch);
        }
    }

    #[test]
    fn explanations_read_as_sentences() {
        let why = Explanation {
            against: Against::Relation,
            field: "throughput".into(),
            value: Some(12.04),
            expected: Some(30.123),
            spread: Some(1.5),
            partner: Some(("prb_util".into(), 0.61)),
            intervals: None,
            surprise: Some(4.48),
        };
        assert_eq!(
            why.sentence(),
            "throughput 12.04 where 30.12 ± 1.5 goes with prb_util 0.61: the two no longer \
             move together (by chance about 1 in 30 000)"
        );
        let stuck = Explanation {
            against: Against::Stuck,
            field: "load".into(),
            value: Some(0.0),
            expected: None,
            spread: None,
            partner: None,
            intervals: Some(4),
            surprise: None,
        };
        assert_eq!(
            stuck.sentence(),
            "load has repeated 0 exactly for 4 intervals"
        );
        let host = Explanation {
            against: Against::Population,
            field: "peer_cv".into(),
            value: Some(0.02),
            expected: Some(0.4),
            spread: None,
            partner: None,
            intervals: None,
            surprise: None,
        };
        assert_eq!(
            host.sentence(),
            "peer_cv 0.02 is below 0.4, which 99 % of host windows stay at or above"
        );
        assert_eq!(number(1234.5678), "1235");
        assert_eq!(odds(1.0), "10");
        assert_eq!(odds(6.3), "2 000 000");
        assert_eq!(odds(12.34), "10^12.3");
        assert_eq!(number(0.000_123_46), "0.0001235");
    }
}
