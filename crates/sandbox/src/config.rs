//! The scenario: what the simulated underlay looks like and how long it runs.

use ai4ict_core::{Interval, Timestamp};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::SandboxError;

/// The kind of territory the simulated network covers; it sets the mix of urban, suburban
/// and rural cells.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// A city: mostly dense urban macro sites with small cells, some suburbs.
    #[default]
    Urban,
    /// Suburbs: mostly residential suburban sites, some urban centre and rural fringe.
    Suburban,
    /// Countryside: sparse rural sites with large coverage and few users.
    Rural,
    /// A region with a city, its suburbs and the countryside around them in similar shares.
    Mixed,
}

impl Scenario {
    /// The snake_case name used in configs and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Urban => "urban",
            Self::Suburban => "suburban",
            Self::Rural => "rural",
            Self::Mixed => "mixed",
        }
    }

    /// Shares of (urban, suburban, rural) sites.
    pub(crate) fn area_mix(self) -> [f64; 3] {
        match self {
            Self::Urban => [0.70, 0.25, 0.05],
            Self::Suburban => [0.20, 0.60, 0.20],
            Self::Rural => [0.05, 0.20, 0.75],
            Self::Mixed => [0.35, 0.35, 0.30],
        }
    }
}

impl std::fmt::Display for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Scenario {
    type Err = SandboxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "urban" => Ok(Self::Urban),
            "suburban" => Ok(Self::Suburban),
            "rural" => Ok(Self::Rural),
            "mixed" => Ok(Self::Mixed),
            other => Err(SandboxError::InvalidConfig {
                field: "scenario",
                message: format!(
                    "`{other}` is not a scenario; use urban, suburban, rural or mixed"
                ),
            }),
        }
    }
}

/// A sandbox scenario: the simulation profile (Y.3181 cl. 3, "simulation profile") of the
/// simulated ML underlay (Y.3172 §8, Y.3181 cl. 8) — a radio access network of cells grouped
/// in sites, with seasonal traffic, noise, gaps and injected incidents whose ground truth is
/// kept. The same config and seed always give the same telemetry, bit for bit.
///
/// Every field has a default, so `{}` is a valid scenario (200 urban cells for 14 days).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ScenarioConfig {
    /// Territory type: `urban`, `suburban`, `rural` or `mixed`.
    pub scenario: Scenario,
    /// Number of cells to simulate, 1 to 100000. Cells are grouped in sites (mostly three
    /// sectors per macro site, plus single small cells in dense areas).
    pub cells: u32,
    /// Length of the simulation in days, 1 to 366.
    pub days: u32,
    /// Random seed. Every value (topology, traffic, incidents, gaps) is a pure function of
    /// the seed, so a run can be reproduced anywhere.
    pub seed: u64,
    /// Reporting interval of the KPIs (a number and a unit: `5m`, `15m`, `1h`); between 1
    /// minute and 1 day.
    #[schemars(with = "String")]
    pub interval: Interval,
    /// First reporting time, RFC 3339 (`2024-01-01T00:00:00Z`, a Monday). Times are UTC and
    /// the daily profiles are read in UTC.
    #[serde(with = "rfc3339")]
    #[schemars(with = "String")]
    pub start: Timestamp,
    /// Days at the start with no injected incidents or telemetry faults, 0 to 366. The
    /// default, 0, gives a history as an operator's: incidents from the first day on, which
    /// the models' warm-up must resist learning.
    pub quiet_days: u32,
    /// Days at the start that are the models' history (Y.3181 §8, the sandbox's training
    /// data): the MLFO trains on them and evaluates on the days after. When absent, the quiet
    /// days, or 7 when there are none; always fewer than `days`.
    pub history_days: Option<u32>,
    /// Incidents per cell per week after the quiet days (outages, sleeping cells, throughput
    /// degradations, interference, traffic surges, counter resets); 0 to 50.
    pub incident_rate: f64,
    /// Fraction of readings that are missing (the collector got nothing), 0 to 0.5. This is
    /// the data-quality knob of Y.3181 REQ-ML-SANDBOX-005.
    pub gap_rate: f64,
    /// Telemetry faults per cell per week after the quiet days, 0 to 50: flatlined (stuck)
    /// counters, drops to zero, level shifts, variance bursts, slow drifts and blocks of
    /// missing data, in equal shares (Y.3181 REQ-ML-SANDBOX-005, data quality). They change
    /// only what a cell reports, never the simulated network's load, and come from a random
    /// stream of their own: at 0 every other value of the scenario is what it was without them.
    /// The default, 0.25, gives a 200-cell network about seven a day, a few of each kind a week.
    pub telemetry_fault_rate: f64,
}

impl Default for ScenarioConfig {
    fn default() -> Self {
        Self {
            scenario: Scenario::Urban,
            cells: 200,
            days: 14,
            seed: 7,
            interval: Interval::from_minutes(15),
            start: Timestamp(1_704_067_200_000),
            quiet_days: 0,
            history_days: None,
            incident_rate: 0.5,
            gap_rate: 0.002,
            telemetry_fault_rate: 0.25,
        }
    }
}

impl ScenarioConfig {
    /// The days of history the models train on (see `history_days`).
    pub fn history(&self) -> u32 {
        let default = if self.quiet_days > 0 {
            self.quiet_days
        } else {
            7
        };
        self.history_days
            .unwrap_or(default)
            .min(self.days.saturating_sub(1))
    }

    /// Checks every field's range; the error names the first field that is wrong.
    pub fn validate(&self) -> Result<(), SandboxError> {
        let bad = |field: &'static str, message: String| {
            Err(SandboxError::InvalidConfig { field, message })
        };
        if !(1..=100_000).contains(&self.cells) {
            return bad(
                "cells",
                format!("cells = {} is out of range; use 1 to 100000", self.cells),
            );
        }
        if !(1..=366).contains(&self.days) {
            return bad(
                "days",
                format!("days = {} is out of range; use 1 to 366", self.days),
            );
        }
        let ms = self.interval.millis();
        if !(60_000..=86_400_000).contains(&ms) {
            return bad(
                "interval",
                format!("interval = {} is out of range; use 1m to 1d", self.interval),
            );
        }
        // Years 1970..2200, as `Timestamp` supports, with room for the run itself.
        if !(0..=7_200_000_000_000).contains(&self.start.0) {
            return bad(
                "start",
                format!(
                    "start = {} is out of range (years 1970 to 2198)",
                    self.start
                ),
            );
        }
        if self.quiet_days > 366 {
            return bad(
                "quiet_days",
                format!(
                    "quiet_days = {} is out of range; use 0 to 366",
                    self.quiet_days
                ),
            );
        }
        if let Some(h) = self.history_days.filter(|&h| h == 0 || h >= self.days) {
            return bad(
                "history_days",
                format!(
                    "history_days = {h} is out of range; use 1 to days - 1 ({})",
                    self.days.saturating_sub(1)
                ),
            );
        }
        if !(self.incident_rate.is_finite() && (0.0..=50.0).contains(&self.incident_rate)) {
            return bad(
                "incident_rate",
                format!(
                    "incident_rate = {} is out of range; use 0 to 50 incidents per cell per week",
                    self.incident_rate
                ),
            );
        }
        if !(self.gap_rate.is_finite() && (0.0..=0.5).contains(&self.gap_rate)) {
            return bad(
                "gap_rate",
                format!("gap_rate = {} is out of range; use 0 to 0.5", self.gap_rate),
            );
        }
        if !(self.telemetry_fault_rate.is_finite()
            && (0.0..=50.0).contains(&self.telemetry_fault_rate))
        {
            return bad(
                "telemetry_fault_rate",
                format!(
                    "telemetry_fault_rate = {} is out of range; use 0 to 50 faults per cell per week",
                    self.telemetry_fault_rate
                ),
            );
        }
        Ok(())
    }

    /// Number of reporting intervals in the run.
    pub fn steps(&self) -> usize {
        let per_day = 86_400_000 / self.interval.millis().max(1);
        (per_day as usize) * self.days as usize
    }
}

/// Serde for a timestamp written as RFC 3339 text (any form `Timestamp::parse` reads).
mod rfc3339 {
    use ai4ict_core::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(t)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_round_trip() {
        let c = ScenarioConfig::default();
        c.validate().unwrap();
        assert_eq!(c.start.weekday(), 0);
        assert_eq!(c.steps(), 14 * 96);
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"2024-01-01T00:00:00Z\""), "{json}");
        assert!(json.contains("\"15m\""), "{json}");
        let back: ScenarioConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        let empty: ScenarioConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, c);
    }

    #[test]
    fn bad_fields_are_named() {
        let field = |c: ScenarioConfig| match c.validate() {
            Err(SandboxError::InvalidConfig { field, .. }) => field,
            other => panic!("expected an error, got {other:?}"),
        };
        let d = ScenarioConfig::default;
        assert_eq!(field(ScenarioConfig { cells: 0, ..d() }), "cells");
        assert_eq!(
            field(ScenarioConfig {
                cells: 100_001,
                ..d()
            }),
            "cells"
        );
        assert_eq!(field(ScenarioConfig { days: 0, ..d() }), "days");
        assert_eq!(field(ScenarioConfig { days: 400, ..d() }), "days");
        assert_eq!(
            field(ScenarioConfig {
                interval: Interval::from_millis(1000),
                ..d()
            }),
            "interval"
        );
        assert_eq!(
            field(ScenarioConfig {
                incident_rate: f64::NAN,
                ..d()
            }),
            "incident_rate"
        );
        assert_eq!(
            field(ScenarioConfig {
                incident_rate: -1.0,
                ..d()
            }),
            "incident_rate"
        );
        assert_eq!(
            field(ScenarioConfig {
                gap_rate: 0.9,
                ..d()
            }),
            "gap_rate"
        );
        assert_eq!(
            field(ScenarioConfig {
                telemetry_fault_rate: f64::INFINITY,
                ..d()
            }),
            "telemetry_fault_rate"
        );
        assert_eq!(
            field(ScenarioConfig {
                telemetry_fault_rate: 51.0,
                ..d()
            }),
            "telemetry_fault_rate"
        );
        let msg = ScenarioConfig { cells: 0, ..d() }
            .validate()
            .unwrap_err()
            .to_string();
        assert!(msg.contains("cells"), "{msg}");
    }

    #[test]
    fn unknown_fields_and_bad_values_are_rejected() {
        assert!(serde_json::from_str::<ScenarioConfig>(r#"{"cell": 5}"#).is_err());
        assert!(serde_json::from_str::<ScenarioConfig>(r#"{"scenario": "lunar"}"#).is_err());
        assert!(serde_json::from_str::<ScenarioConfig>(r#"{"start": "yesterday"}"#).is_err());
        let c: ScenarioConfig =
            serde_json::from_str(r#"{"scenario": "rural", "cells": 10, "interval": "1h"}"#)
                .unwrap();
        assert_eq!(c.scenario, Scenario::Rural);
        assert_eq!(c.steps(), 14 * 24);
        assert_eq!("mixed".parse::<Scenario>().unwrap(), Scenario::Mixed);
        assert!("lunar".parse::<Scenario>().is_err());
    }

    #[test]
    fn schema_documents_fields() {
        let schema = schemars::schema_for!(ScenarioConfig);
        let text = serde_json::to_string(&schema).unwrap();
        assert!(text.contains("incident_rate") && text.contains("Incidents per cell per week"));
    }
}
