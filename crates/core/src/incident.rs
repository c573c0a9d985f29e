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
    /// A stuck (flatlined) counter: the source reports the same values, exactly, interval
    /// after interval, while the network goes on living. A telemetry failure (the management
    /// system's collection, not the cell). This and the kinds below are the sandbox's
    /// telemetry faults: data-quality fault injection (Y.3181 REQ-ML-SANDBOX-005, data quality;
    /// Y.3177 RP (1), simulated fault injection).
    Flatline,
    /// A drop to zero: the traffic counters (PRB utilisation, users, throughput) report 0 while
    /// the cell is up (its power draw and quality counters go on). A dead counter source, not
    /// an outage: an outage also drops power and leaves the quality KPIs without a value.
    DropToZero,
    /// A lasting step change in one or more KPIs (e.g. after a misconfiguration or a changed
    /// parameter): latency, drop rate or power settles at another level for a day or more.
    LevelShift,
    /// A variance burst: the KPIs' noise several times larger than usual for hours (an
    /// unstable link, a flapping counter), around an unchanged level.
    VarianceBurst,
    /// A slow drift: a KPI ramps away from its usual level over a day or more (a degrading
    /// link or component); hard to see in any one interval.
    SlowDrift,
    /// Missing data: a block of consecutive readings from one source never arrives (the
    /// collector or the source's export is down). Operators want to know a source went silent.
    MissingData,
}

impl IncidentKind {
    /// Every kind, in a stable order (for per-kind reports).
    pub const ALL: [IncidentKind; 14] = [
        Self::Outage,
        Self::SleepingCell,
        Self::ThroughputDegradation,
        Self::Interference,
        Self::TrafficSurge,
        Self::CounterReset,
        Self::LinkCongestion,
        Self::Anomaly,
        Self::Flatline,
        Self::DropToZero,
        Self::LevelShift,
        Self::VarianceBurst,
        Self::SlowDrift,
        Self::MissingData,
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
            Self::Flatline => "flatline",
            Self::DropToZero => "drop_to_zero",
            Self::LevelShift => "level_shift",
            Self::VarianceBurst => "variance_burst",
            Self::SlowDrift => "slow_drift",
            Self::MissingData => "missing_data",
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
