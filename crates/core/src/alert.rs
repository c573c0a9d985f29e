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
}

impl Alert {
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
}
