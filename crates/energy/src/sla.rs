//! SLA-breach prediction: forecast each cell's user-plane latency (the sandbox's `latency`
//! KPI) and each site's backhaul-link utilisation (offered traffic of the site's cells over
//! the link capacity) a day ahead, and alert `lead_steps` before a forecast breach of the
//! limit. Scored against the breaches that actually happen: event precision, recall and lead
//! time.

use ai4ict_forecast::{forecast_many, ForecasterConfig, Method};
use ai4ict_sandbox::{Network, ScenarioConfig, KPIS};
use rayon::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::EnergyError;

/// Settings of the SLA-breach predictor: the sandbox, the forecaster and the policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SlaConfig {
    /// The sandbox scenario.
    pub sandbox: ScenarioConfig,
    /// Forecaster (refitted each midnight, day-ahead forecast).
    pub forecaster: ForecasterConfig,
    /// When to predict a breach and how early to warn.
    pub policy: SlaPolicy,
}

impl Default for SlaConfig {
    fn default() -> Self {
        Self {
            sandbox: ScenarioConfig {
                days: 28,
                ..ScenarioConfig::default()
            },
            forecaster: ForecasterConfig::with_method(Method::Mstl),
            policy: SlaPolicy::default(),
        }
    }
}

/// The policy node (Y.3172 P) of SLA-breach prediction (services and applications, ITU-T
/// Y.3170): the SLA limits and the warning lead. In an intent: `policy: { sla_breach: { … } }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SlaPolicy {
    /// Days of history before the evaluated period (the forecaster's training window).
    pub history_days: u32,
    /// Level of the forecast interval; a breach is predicted when its upper bound crosses
    /// the limit, in (0, 1).
    pub level: f64,
    /// Latency SLA per cell, ms: a breach is an interval with mean latency above it.
    pub latency_limit_ms: f64,
    /// Backhaul SLA: a breach is an interval with offered traffic above this share of the
    /// link capacity.
    pub link_utilisation_limit: f64,
    /// Alert this many intervals before the forecast onset of a breach (earlier is not
    /// possible before the forecast exists).
    pub lead_steps: usize,
}

impl Default for SlaPolicy {
    fn default() -> Self {
        Self {
            history_days: 14,
            level: 0.8,
            latency_limit_ms: 25.0,
            link_utilisation_limit: 0.6,
            lead_steps: 4,
        }
    }
}

/// Scores of one SLA (latency or link utilisation).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SlaScores {
    /// `latency` or `link_utilisation`.
    pub sla: String,
    /// Entities watched.
    pub entities: usize,
    /// Actual breach events (runs of breaching intervals).
    pub breaches: usize,
    /// Alerts raised (one per forecast breach run).
    pub alerts: usize,
    /// Alerts whose predicted run overlaps an actual breach.
    pub true_alerts: usize,
    /// Breaches with an alert raised before they began.
    pub warned: usize,
    /// `true_alerts / alerts`.
    pub precision: f64,
    /// Breaches with an overlapping alert, over all breaches.
    pub recall: f64,
    /// Mean minutes between the alert and the onset of the breach it warned of (matched
    /// pairs; negative when the alert came after the onset).
    pub mean_lead_minutes: f64,
}

/// Runs of `true` as `[start, end)` pairs.
fn runs(flags: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut t = 0;
    while t < flags.len() {
        if flags[t] {
            let s = t;
            while t < flags.len() && flags[t] {
                t += 1;
            }
            out.push((s, t));
        } else {
            t += 1;
        }
    }
    out
}

/// Scores day-ahead breach forecasts of entity series against a limit (breach = above).
fn score(
    name: &str,
    series: &[Vec<f64>],
    config: &SlaConfig,
    limit: f64,
    per_day: usize,
    minutes: f64,
) -> SlaScores {
    let first = config.policy.history_days as usize * per_day;
    let steps = series.first().map_or(0, Vec::len);
    let n = series.len();
    let mut upper: Vec<Vec<f64>> = vec![Vec::new(); n];
    let mut origin = first;
    while origin < steps {
        let h = per_day.min(steps - origin);
        let train: Vec<Vec<f64>> = series
            .iter()
            .map(|s| s[origin - first..origin].to_vec())
            .collect();
        for (c, r) in forecast_many(&config.forecaster, &train, per_day, h, config.policy.level)
            .into_iter()
            .enumerate()
        {
            match r {
                Ok(f) => upper[c].extend(f.upper),
                Err(_) => upper[c].extend(std::iter::repeat_n(f64::NAN, h)),
            }
        }
        origin += h;
    }
    let mut s = SlaScores {
        sla: name.into(),
        entities: n,
        ..SlaScores::default()
    };
    let mut lead_sum = 0.0;
    let mut leads = 0usize;
    for c in 0..n {
        let actual: Vec<bool> = series[c][first..].iter().map(|v| *v > limit).collect();
        let predicted: Vec<bool> = upper[c].iter().map(|v| *v > limit).collect();
        let events = runs(&actual);
        let alerts = runs(&predicted);
        s.breaches += events.len();
        s.alerts += alerts.len();
        // An alert is raised `lead` steps before its predicted onset, but not before the
        // midnight its forecast was made.
        let raised = |start: usize| {
            start
                .saturating_sub(config.policy.lead_steps)
                .max(start - start % per_day)
        };
        s.true_alerts += alerts
            .iter()
            .filter(|a| events.iter().any(|e| a.0 < e.1 && e.0 < a.1))
            .count();
        for e in &events {
            let matching: Vec<&(usize, usize)> =
                alerts.iter().filter(|a| a.0 < e.1 && e.0 < a.1).collect();
            if let Some(a) = matching.first() {
                let at = raised(a.0);
                if at < e.0 {
                    s.warned += 1;
                }
                lead_sum += (e.0 as f64 - at as f64) * minutes;
                leads += 1;
            }
        }
    }
    s.precision = if s.alerts > 0 {
        s.true_alerts as f64 / s.alerts as f64
    } else {
        f64::NAN
    };
    s.recall = if s.breaches > 0 {
        leads as f64 / s.breaches as f64
    } else {
        f64::NAN
    };
    s.mean_lead_minutes = if leads > 0 {
        lead_sum / leads as f64
    } else {
        f64::NAN
    };
    s
}

/// Runs the SLA-breach prediction on the sandbox: cell latency and backhaul-link
/// utilisation, day-ahead forecasts, alerts `lead_steps` ahead of forecast breaches.
pub fn evaluate_sla(config: &SlaConfig) -> Result<Vec<SlaScores>, EnergyError> {
    if !(config.policy.level > 0.0 && config.policy.level < 1.0) {
        return Err(EnergyError::InvalidConfig(format!(
            "level {} must lie strictly between 0 and 1",
            config.policy.level
        )));
    }
    if config.policy.history_days == 0 || config.policy.history_days >= config.sandbox.days {
        return Err(EnergyError::InvalidConfig(
            "history_days must be at least 1 and less than sandbox.days".into(),
        ));
    }
    let net = Network::new(&config.sandbox)?;
    let interval_ms = net.interval().millis().max(1);
    let per_day = (86_400_000 / interval_ms) as usize;
    if per_day < 2 {
        return Err(EnergyError::InvalidConfig(
            "the sandbox interval must be shorter than half a day".into(),
        ));
    }
    let minutes = interval_ms as f64 / 60_000.0;
    let latency_idx = KPIS.iter().position(|k| *k == "latency").unwrap_or(6);
    let steps = net.steps();
    let latency: Vec<Vec<f64>> = (0..net.cells().len())
        .into_par_iter()
        .map(|c| {
            let mut v = [0.0; 8];
            (0..steps)
                .map(|t| {
                    let d = net.demand(c, t);
                    net.kpis(c, t, &d, &mut v);
                    v[latency_idx]
                })
                .collect()
        })
        .collect();
    let links: Vec<Vec<f64>> = net
        .sites()
        .par_iter()
        .map(|s| {
            let cap = net
                .links()
                .get(s.link)
                .map_or(f64::INFINITY, |l| l.capacity_mbps.max(1e-9));
            (0..steps)
                .map(|t| {
                    s.cells
                        .iter()
                        .map(|&c| net.demand(c, t).dl_mbps)
                        .sum::<f64>()
                        / cap
                })
                .collect()
        })
        .collect();
    Ok(vec![
        score(
            "latency",
            &latency,
            config,
            config.policy.latency_limit_ms,
            per_day,
            minutes,
        ),
        score(
            "link_utilisation",
            &links,
            config,
            config.policy.link_utilisation_limit,
            per_day,
            minutes,
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_found() {
        assert_eq!(
            runs(&[false, true, true, false, true]),
            vec![(1, 3), (4, 5)]
        );
        assert!(runs(&[]).is_empty());
    }

    #[test]
    fn perfect_forecast_of_a_daily_breach() {
        // A deterministic daily peak breaches every day; seasonal naive predicts it exactly.
        let per_day = 24;
        let y: Vec<f64> = (0..per_day * 6)
            .map(|t| {
                if (18..20).contains(&(t % per_day)) {
                    30.0
                } else {
                    10.0
                }
            })
            .collect();
        let config = SlaConfig {
            forecaster: ForecasterConfig::with_method(Method::SeasonalNaive),
            policy: SlaPolicy {
                history_days: 3,
                lead_steps: 2,
                ..SlaPolicy::default()
            },
            ..SlaConfig::default()
        };
        let s = score("latency", &[y], &config, 20.0, per_day, 60.0);
        assert_eq!(
            (s.breaches, s.alerts, s.true_alerts, s.warned),
            (3, 3, 3, 3)
        );
        assert_eq!(
            (s.precision, s.recall, s.mean_lead_minutes),
            (1.0, 1.0, 120.0)
        );
    }
}
