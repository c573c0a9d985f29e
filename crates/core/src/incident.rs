use serde::{Deserialize, Serialize};

use crate::{Entity, Timestamp};

/// What went wrong in an injected (or labelled) incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// The cell carries no traffic at all (site down, transmitter off).
    Outage,
    /// The cell looks alive (powered, counters flowing) but admits no users.
    SleepingCell,
    /// Users are served at a fraction of the usual throughput (e.g. a faulty backhaul or antenna).
    ThroughputDegradation,
    /// Uplink interference: setup failures and drops rise, throughput falls.
    Interference,
    /// Demand far above the usual profile (a stadium, a crowd), congesting the cell.
    TrafficSurge,
    /// A counter reset in the management system: one bogus reading, not a network fault.
    CounterReset,
    /// A backhaul or transport link congested beyond its capacity.
    LinkCongestion,
    /// A labelled anomaly of unstated kind (e.g. from a benchmark's label file).
    Anomaly,
}

impl IncidentKind {
    /// Every kind, in a stable order (for per-kind reports).
    pub const ALL: [IncidentKind; 8] = [
        Self::Outage,
        Self::SleepingCell,
        Self::ThroughputDegradation,
        Self::Interference,
        Self::TrafficSurge,
        Self::CounterReset,
        Self::LinkCongestion,
        Self::Anomaly,
    ];

    /// Whether operators want an alert for it. A counter reset is a data artefact that the
    /// policy node should swallow: it is ground truth, but alerts on it are false positives.
    pub fn actionable(self) -> bool {
        !matches!(self, Self::CounterReset)
    }

    /// The snake_case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Outage => "outage",
            Self::SleepingCell => "sleeping_cell",
            Self::ThroughputDegradation => "throughput_degradation",
            Self::Interference => "interference",
            Self::TrafficSurge => "traffic_surge",
            Self::CounterReset => "counter_reset",
            Self::LinkCongestion => "link_congestion",
            Self::Anomaly => "anomaly",
        }
    }
}

impl std::fmt::Display for IncidentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Ground truth: `entity` was affected by `kind` from `start` until `end` (both inclusive).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// The affected entity.
    pub entity: Entity,
    /// What happened.
    pub kind: IncidentKind,
    /// First affected interval.
    pub start: Timestamp,
    /// Last affected interval.
    pub end: Timestamp,
}

impl Incident {
    /// True when `t` lies in `[start, end + grace]`.
    pub fn covers(&self, t: Timestamp, grace_ms: i64) -> bool {
        t >= self.start && t.0 <= self.end.0.saturating_add(grace_ms)
    }
}
