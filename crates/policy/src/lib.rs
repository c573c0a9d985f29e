#![doc = include_str!("../README.md")]

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Base-station class of the EARTH power model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BsClass {
    /// Macro base station (per sector-carrier: 2 TRX, P_max 20 W, P0 130 W, Δp 4.7, P_sleep 75 W).
    #[default]
    Macro,
    /// Macro with remote radio heads (2 TRX, P_max 20 W, P0 84 W, Δp 2.8, P_sleep 56 W).
    Rrh,
    /// Micro cell (2 TRX, P_max 6.3 W, P0 56 W, Δp 2.6, P_sleep 39 W).
    Micro,
    /// Pico cell (2 TRX, P_max 0.13 W, P0 6.8 W, Δp 4.0, P_sleep 4.3 W).
    Pico,
    /// Femto cell (2 TRX, P_max 0.05 W, P0 4.8 W, Δp 8.0, P_sleep 2.9 W).
    Femto,
}

/// The QoS guard every policy must pass before it puts a unit to sleep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct GuardConfig {
    /// Highest load (fraction of capacity) any cell may be planned to carry after taking over
    /// traffic, or on its remaining carriers after a carrier sleeps.
    pub headroom: f64,
    /// Smallest share of a sleeping cell's coverage area that awake overlapping cells must
    /// cover (union of the sandbox's pairwise overlaps, taken as independent).
    pub min_coverage: f64,
    /// Shortest sleep, in intervals (each wake-up costs signalling and risk): the forecast
    /// policy starts a sleep only if its forecast keeps the unit asleep this long, the oracle
    /// drops shorter sleeps, the reactive baseline (which cannot see ahead) ignores it.
    pub min_sleep_steps: usize,
}

impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            headroom: 0.85,
            min_coverage: 0.98,
            min_sleep_steps: 4,
        }
    }
}

/// The policy node (Y.3172 P) of network energy saving (3GPP TS 38.300 §16.20): which units
/// may sleep, under which QoS guard, and the reactive baseline's threshold. In an intent:
/// `policy: { energy_saving: { … } }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EnergySavingPolicy {
    /// Days of history before the evaluated period; forecasters train on this many days.
    pub history_days: u32,
    /// Carriers per macro sector; all but the first (the coverage carrier) may sleep.
    pub macro_carriers: u32,
    /// EARTH power class of macro sector carriers.
    pub macro_class: BsClass,
    /// EARTH power class of small cells.
    pub small_class: BsClass,
    /// Level of the forecast interval whose upper bound the guard checks, in (0, 1).
    pub level: f64,
    /// QoS guard.
    pub guard: GuardConfig,
    /// Intervals of recent observations used to rescale the day-ahead forecast intraday
    /// (ratio of observed to forecast load over that window, clamped to [0.7, 1.5]); 0 turns
    /// the correction off.
    pub correction_steps: usize,
    /// Also keep the last observed load as a floor under the forecast bound (a reactive
    /// safety net for surprises the forecast did not see).
    pub floor_last_observed: bool,
    /// Reactive baseline: a unit may sleep only while its last observed load is below this
    /// fraction of capacity (and the guard passes on last observed loads).
    pub reactive_threshold: f64,
    /// Price of unserved traffic, J per Mbit (W per Mbit/s), for the forecast policy's
    /// surge-risk check: a macro capacity carrier (3GPP TS 38.300 §16.20 carrier switch-off)
    /// sleeps only while the power it saves exceeds this price times the traffic it is
    /// expected to leave unserved if a surge hits within the interval (see `ai4ict_energy`'s `SurgeRisk`);
    /// 0 turns the check off.
    pub unserved_price: f64,
}

impl Default for EnergySavingPolicy {
    fn default() -> Self {
        Self {
            history_days: 14,
            macro_carriers: 2,
            macro_class: BsClass::Macro,
            small_class: BsClass::Micro,
            level: 0.8,
            guard: GuardConfig::default(),
            correction_steps: 8,
            floor_last_observed: true,
            reactive_threshold: 0.3,
            unserved_price: 0.0,
        }
    }
}

/// The policy node (Y.3172 P) of SLA-breach prediction (services and applications, ITU-T
/// Y.3170): the SLA limits, the warning lead and the alert threshold. In an intent:
/// `policy: { sla_breach: { … } }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SlaPolicy {
    /// Days of history before the evaluated period (the forecaster's training window).
    pub history_days: u32,
    /// Latency SLA per cell, ms: a breach is an interval with mean latency above it.
    pub latency_limit_ms: f64,
    /// Backhaul SLA: a breach is an interval with offered traffic above this share of the
    /// link capacity.
    pub link_utilisation_limit: f64,
    /// Warn of a breach in any of the next `lead_steps + 1` intervals (the one starting now
    /// and the `lead_steps` after it).
    pub lead_steps: usize,
    /// Intervals of the latest latency observations whose residual corrects the day-ahead
    /// forecast intraday; 0 keeps the day-ahead forecast (the default: on validation seeds
    /// the correction added false alerts faster than it found breaches).
    pub latency_correction_steps: usize,
    /// The same for link utilisation: a traffic surge adds a roughly constant load for hours,
    /// so the latest residual predicts the next hour.
    pub link_correction_steps: usize,
    /// Warn when the probability of a breach in one of the coming intervals exceeds this,
    /// in (0, 1).
    pub alert_probability: f64,
}

impl Default for SlaPolicy {
    fn default() -> Self {
        Self {
            history_days: 14,
            latency_limit_ms: 25.0,
            link_utilisation_limit: 0.6,
            lead_steps: 4,
            latency_correction_steps: 0,
            link_correction_steps: 2,
            alert_probability: 0.45,
        }
    }
}
