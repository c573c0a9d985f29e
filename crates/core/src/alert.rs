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
