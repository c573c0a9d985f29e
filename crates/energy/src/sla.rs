//! SLA-breach prediction (services and applications, ITU-T Y.3170): forecast each cell's
//! user-plane latency (the sandbox's `latency` KPI) and each site's backhaul-link utilisation
//! (offered traffic of the site's cells over the link capacity), and warn `lead_steps`
//! intervals ahead of a breach of the limit.
//!
//! The forecaster is refitted each midnight on `history_days` and forecasts the day ahead.
//! Each interval the day-ahead forecast is corrected with the latest observations (the level
//! of the day differs from the forecast one, and an incident shifts it for hours) and turned
//! into a probability of breach, from the errors of the corrected forecast seen so far; a
//! warning is raised when a breach in the next `lead_steps` intervals is more likely than
//! `alert_probability`. Every decision uses only the data observed before it. Scored against
//! the breaches that actually happen: event precision, recall and lead time, and how many
//! breaches the injected incidents caused (a counterfactual run of the same network without
//! incidents).

use ai4ict_forecast::stats::{normal_quantile, z_for_level};
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

/// Scores of one SLA (latency or link utilisation).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SlaScores {
    /// `latency` or `link_utilisation`.
    pub sla: String,
    /// Entities watched.
    pub entities: usize,
    /// Actual breach events (runs of breaching intervals).
    pub breaches: usize,
    /// Breaches that would not have happened without an injected incident (no breaching
    /// interval in the same run of the network without incidents).
    pub breaches_from_incidents: usize,
    /// Breaches beginning in the very interval an incident first shows in the series (it
    /// leaves its incident-free counterpart there): no causal predictor can warn of them.
    pub sudden_breaches: usize,
    /// Alerts raised (one per run of intervals with a warning).
    pub alerts: usize,
    /// Alerts followed by the onset of a breach within `lead_steps` of the warning.
    pub true_alerts: usize,
    /// Breaches with a warning at or before their onset.
    pub warned: usize,
    /// Warned breaches among those caused by incidents.
    pub warned_from_incidents: usize,
    /// `true_alerts / alerts`.
    pub precision: f64,
    /// `warned / breaches`.
    pub recall: f64,
    /// Mean minutes between the first warning and the start of the breaching interval it
    /// warned of (warned breaches; 0 when the warning came as that interval began).
    pub mean_lead_minutes: f64,
}

/// Level of the day-ahead interval from which the forecast's standard deviation is read.
const INTERVAL_LEVEL: f64 = 0.8;

/// Ridge on the correction's regression, in squared units of the series: with few or small
/// recent residuals the correction stays near zero instead of dividing by a vanishing second
/// moment.
const RIDGE: f64 = 1e-6;

/// A day-ahead forecast of one entity: mean and standard deviation per evaluated step.
#[derive(Clone, Debug, Default, PartialEq)]
struct DayAhead {
    mean: Vec<f64>,
    sd: Vec<f64>,
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

/// Day-ahead forecasts of every series from step `first` on: the forecaster refitted each
/// midnight on the `first` steps before it (a series that cannot be fitted gets NaN).
fn day_ahead(
    series: &[Vec<f64>],
    forecaster: &ForecasterConfig,
    first: usize,
    per_day: usize,
) -> Vec<DayAhead> {
    let steps = series.first().map_or(0, Vec::len);
    let z = z_for_level(INTERVAL_LEVEL);
    let mut out = vec![DayAhead::default(); series.len()];
    let mut origin = first;
    while origin < steps {
        let h = per_day.min(steps - origin);
        let train: Vec<Vec<f64>> = series
            .iter()
            .map(|s| s[origin - first..origin].to_vec())
            .collect();
        for (f, r) in out.iter_mut().zip(forecast_many(
            forecaster,
            &train,
            per_day,
            h,
            INTERVAL_LEVEL,
        )) {
            match r {
                Ok(r) => {
                    f.sd.extend(r.upper.iter().zip(&r.mean).map(|(u, m)| (u - m) / z));
                    f.mean.extend(r.mean);
                }
                Err(_) => {
                    f.mean.extend(std::iter::repeat_n(f64::NAN, h));
                    f.sd.extend(std::iter::repeat_n(f64::NAN, h));
                }
            }
        }
        origin += h;
    }
    out
}

/// The warnings of one entity, decided at the start of each evaluated step `first + i` from
/// the observations `y[..first + i]` and the day-ahead forecast `f` (index `i`), shifted by
/// a correction from the last `correction_steps` residuals.
///
/// Each decision is a forecast of the next `lead_steps + 1` intervals with a standard
/// deviation per step ahead, learnt from the errors of these forecasts as their observations
/// arrive (exponentially weighted over about a day; the day-ahead interval is the prior), so
/// the probability of breach is calibrated to how well the entity has actually been forecast
/// lately rather than read from the nominal day-ahead interval. With `correction_steps > 0`
/// the forecast is shifted by `β_h·x`, `x` the mean residual of the last `correction_steps`
/// observations and `β_h` its running regression coefficient on the error `h` steps later
/// (ridge towards no correction): only residuals that have persisted in this entity move the
/// forecast. No warning is raised while the last observation is itself a breach: that is a
/// breach to report, not to predict.
fn warnings(
    y: &[f64],
    first: usize,
    f: &DayAhead,
    limit: f64,
    (policy, correction_steps): (&SlaPolicy, usize),
    per_day: usize,
) -> Vec<bool> {
    let n = f.mean.len().min(y.len().saturating_sub(first));
    let width = policy.lead_steps + 1;
    // A breach is more likely than p when (limit − μ) / σ < Φ⁻¹(1 − p).
    let z_alert = normal_quantile(1.0 - policy.alert_probability);
    let weight = 1.0 / per_day.max(1) as f64;
    let prior: Vec<f64> = f.sd[..n.min(per_day)]
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let prior = prior.iter().sum::<f64>() / prior.len().max(1) as f64;
    let mut var = vec![prior * prior; width];
    // Running (exponentially weighted) second moments of the recent residual x and the
    // day-ahead error d `h` steps later, per h: the correction is β_h·x, β_h = E[xd]/E[x²].
    let mut sxx = vec![0.0; width];
    let mut sxy = vec![0.0; width];
    let resid: Vec<f64> = (0..n).map(|j| y[first + j] - f.mean[j]).collect();
    let mut recent = vec![f64::NAN; n];
    // pred[i * width + h]: forecast of step first + i + h made at step first + i.
    let mut pred = vec![f64::NAN; n * width];
    let mut out = vec![false; n];
    for i in 0..n {
        let last = (first + i).checked_sub(1).and_then(|s| y.get(s)).copied();
        for h in 0..width.min(i) {
            let o = i - 1 - h;
            let (x, d) = (recent[o], resid[i - 1]);
            if x.is_finite() && d.is_finite() {
                sxx[h] += weight * (x * x - sxx[h]);
                sxy[h] += weight * (x * d - sxy[h]);
            }
            let e = last.unwrap_or(f64::NAN) - pred[o * width + h];
            if e.is_finite() {
                var[h] += weight * (e * e - var[h]);
            }
        }
        let k = correction_steps.min(i);
        let (sum, count) = resid[i - k..i]
            .iter()
            .filter(|v| v.is_finite())
            .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
        recent[i] = if count > 0 {
            sum / count as f64
        } else {
            f64::NAN
        };
        let mut breach_likely = false;
        for h in 0..width.min(n - i) {
            let shift = if recent[i].is_finite() {
                sxy[h] / (sxx[h] + RIDGE) * recent[i]
            } else {
                0.0
            };
            let mu = f.mean[i + h] + shift;
            pred[i * width + h] = mu;
            breach_likely |= limit - mu < z_alert * var[h].sqrt();
        }
        out[i] = breach_likely && !last.is_some_and(|v| v > limit);
    }
    out
}

/// Scores warnings against the breaches of `actual` (above `limit`); `counterfactual` is the
/// same series without incidents, for attribution. A run of warnings `[s, e)` is a true alert
/// when a breach begins in `[s, e − 1 + lead]`; a breach beginning at `o` is warned when a
/// warning run has `s ≤ o ≤ e − 1 + lead`, its lead is `o − s` from the first such run.
fn score(
    name: &str,
    actual: &[&[f64]],
    counterfactual: &[&[f64]],
    warned: &[Vec<bool>],
    limit: f64,
    lead: usize,
    minutes: f64,
) -> SlaScores {
    let mut s = SlaScores {
        sla: name.into(),
        entities: actual.len(),
        ..SlaScores::default()
    };
    let mut lead_sum = 0.0;
    for ((y, cf), w) in actual.iter().zip(counterfactual).zip(warned) {
        let events = runs(&y.iter().map(|v| *v > limit).collect::<Vec<_>>());
        let alerts = runs(w);
        let covers = |a: &(usize, usize), o: usize| a.0 <= o && o < a.1 + lead;
        s.breaches += events.len();
        s.alerts += alerts.len();
        s.true_alerts += alerts
            .iter()
            .filter(|a| events.iter().any(|e| covers(a, e.0)))
            .count();
        for e in &events {
            let from_incident = !cf
                .get(e.0..e.1)
                .is_some_and(|c| c.iter().any(|v| *v > limit));
            s.breaches_from_incidents += usize::from(from_incident);
            let differs = |t: usize| cf.get(t).is_some_and(|c| c.to_bits() != y[t].to_bits());
            s.sudden_breaches +=
                usize::from(differs(e.0) && !e.0.checked_sub(1).is_some_and(differs));
            if let Some(a) = alerts.iter().find(|a| covers(a, e.0)) {
                s.warned += 1;
                s.warned_from_incidents += usize::from(from_incident);
                lead_sum += (e.0 - a.0) as f64 * minutes;
            }
        }
    }
    let ratio = |a: usize, b: usize| if b > 0 { a as f64 / b as f64 } else { f64::NAN };
    s.precision = ratio(s.true_alerts, s.alerts);
    s.recall = ratio(s.warned, s.breaches);
    s.mean_lead_minutes = if s.warned > 0 {
        lead_sum / s.warned as f64
    } else {
        f64::NAN
    };
    s
}

/// The evaluated part of each series: its steps from `first` on.
fn tail(series: &[Vec<f64>], first: usize) -> Vec<&[f64]> {
    series
        .iter()
        .map(|v| v.get(first..).unwrap_or(&[]))
        .collect()
}

/// Cell latency and site backhaul-link utilisation of every step of a network.
fn sla_series(net: &Network) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let latency_idx = KPIS.iter().position(|k| *k == "latency").unwrap_or(6);
    let steps = net.steps();
    let latency = (0..net.cells().len())
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
    let links = net
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
    (latency, links)
}

/// Runs the SLA-breach prediction on the sandbox: cell latency and backhaul-link
/// utilisation, day-ahead forecasts corrected each interval, warnings `lead_steps` ahead.
pub fn evaluate_sla(config: &SlaConfig) -> Result<Vec<SlaScores>, EnergyError> {
    let p = &config.policy;
    if !(p.alert_probability > 0.0 && p.alert_probability < 1.0) {
        return Err(EnergyError::InvalidConfig(format!(
            "alert_probability {} must lie strictly between 0 and 1",
            p.alert_probability
        )));
    }
    if !(p.latency_limit_ms > 0.0 && p.link_utilisation_limit > 0.0) {
        return Err(EnergyError::InvalidConfig(
            "the SLA limits must be positive".into(),
        ));
    }
    if p.history_days == 0 || p.history_days >= config.sandbox.days {
        return Err(EnergyError::InvalidConfig(
            "history_days must be at least 1 and less than sandbox.days".into(),
        ));
    }
    let net = Network::new(&config.sandbox)?;
    let quiet = Network::new(&ScenarioConfig {
        incident_rate: 0.0,
        ..config.sandbox.clone()
    })?;
    let interval_ms = net.interval().millis().max(1);
    let per_day = (86_400_000 / interval_ms) as usize;
    if per_day < 2 {
        return Err(EnergyError::InvalidConfig(
            "the sandbox interval must be shorter than half a day".into(),
        ));
    }
    let minutes = interval_ms as f64 / 60_000.0;
    let first = p.history_days as usize * per_day;
    let (latency, links) = sla_series(&net);
    let (quiet_latency, quiet_links) = sla_series(&quiet);
    let sla = |name: &str, series: &[Vec<f64>], quiet: &[Vec<f64>], limit: f64, k: usize| {
        let forecasts = day_ahead(series, &config.forecaster, first, per_day);
        let warned: Vec<Vec<bool>> = series
            .par_iter()
            .zip(&forecasts)
            .map(|(y, f)| warnings(y, first, f, limit, (p, k), per_day))
            .collect();
        score(
            name,
            &tail(series, first),
            &tail(quiet, first),
            &warned,
            limit,
            p.lead_steps,
            minutes,
        )
    };
    Ok(vec![
        sla(
            "latency",
            &latency,
            &quiet_latency,
            p.latency_limit_ms,
            p.latency_correction_steps,
        ),
        sla(
            "link_utilisation",
            &links,
            &quiet_links,
            p.link_utilisation_limit,
            p.link_correction_steps,
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

    /// A flat day-ahead forecast with a constant spread.
    fn flat(mean: &[f64], sd: f64) -> DayAhead {
        DayAhead {
            mean: mean.to_vec(),
            sd: vec![sd; mean.len()],
        }
    }

    #[test]
    fn perfect_forecast_of_a_daily_breach() {
        // A deterministic daily peak breaches every day; seasonal naive predicts it exactly,
        // so the warning comes exactly `lead_steps` before each onset.
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
        let policy = SlaPolicy {
            lead_steps: 2,
            ..SlaPolicy::default()
        };
        let first = 3 * per_day;
        let naive = ForecasterConfig::with_method(Method::SeasonalNaive);
        let f = day_ahead(std::slice::from_ref(&y), &naive, first, per_day);
        let w = warnings(&y, first, &f[0], 20.0, (&policy, 0), per_day);
        let tail = &y[first..];
        let s = score("latency", &[tail], &[tail], &[w], 20.0, 2, 60.0);
        assert_eq!(
            (s.breaches, s.alerts, s.true_alerts, s.warned),
            (3, 3, 3, 3)
        );
        assert_eq!(
            (s.precision, s.recall, s.mean_lead_minutes),
            (1.0, 1.0, 120.0)
        );
        assert_eq!((s.breaches_from_incidents, s.sudden_breaches), (0, 0));
    }

    #[test]
    fn wide_day_ahead_interval_alone_raises_no_warning() {
        // The 80 % upper bound of the day-ahead forecast (20 + 1.28·5 = 26.4) is above the
        // 25 ms limit all day, which alerted before; the series never comes near the limit
        // and the probability of breach stays low, so nothing is raised.
        let per_day = 96;
        let y: Vec<f64> = (0..2 * per_day)
            .map(|t| 20.0 + 0.2 * (t as f64).sin())
            .collect();
        let f = flat(&vec![20.0; per_day], 5.0);
        let upper = 20.0 + z_for_level(INTERVAL_LEVEL) * 5.0;
        assert!(upper > 25.0);
        let policy = SlaPolicy::default();
        let w = warnings(&y, per_day, &f, 25.0, (&policy, 0), per_day);
        assert!(w.iter().all(|w| !w));
    }

    #[test]
    fn correction_warns_of_a_surge_the_day_ahead_missed() {
        // A link at 0.3 surges by 0.25 at step 20; from step 40 the daily rise adds 0.1 and
        // the link breaches 0.6. The day-ahead forecast knows the rise, not the surge: only
        // the intraday correction warns before the onset.
        let per_day: usize = 96;
        let (surge, rise) = (20, 40);
        let y: Vec<f64> = (0..2 * per_day)
            .map(|t| {
                let t: usize = t.saturating_sub(per_day);
                0.3 + if t >= surge { 0.25 } else { 0.0 } + if t >= rise { 0.1 } else { 0.0 }
            })
            .collect();
        let mean: Vec<f64> = (0..per_day)
            .map(|t| if t >= rise { 0.4 } else { 0.3 })
            .collect();
        let f = flat(&mean, 0.01);
        let policy = SlaPolicy::default();
        let warned_before_onset = |k: usize| {
            let w = warnings(&y, per_day, &f, 0.6, (&policy, k), per_day);
            w[rise - policy.lead_steps..=rise].iter().any(|w| *w)
        };
        assert!(!warned_before_onset(0));
        assert!(warned_before_onset(2));
    }

    #[test]
    fn no_warning_while_in_breach() {
        let per_day = 8;
        let y = vec![30.0; 2 * per_day];
        let f = flat(&[30.0; 8], 1.0);
        let policy = SlaPolicy::default();
        let w = warnings(&y, per_day, &f, 25.0, (&policy, 0), per_day);
        assert!(w.iter().all(|w| !w));
    }

    #[test]
    fn scoring_matches_warnings_to_later_onsets_only() {
        // Steps:      0    1    2    3    4    5    6    7    8    9   10   11
        let y = [1.0, 1.0, 1.0, 1.0, 1.0, 9.0, 9.0, 1.0, 1.0, 1.0, 9.0, 1.0];
        // The breach at 5 is the network's own; the one at 10 exists only with an incident
        // that begins there.
        let cf = [1.0, 1.0, 1.0, 1.0, 1.0, 9.0, 9.0, 1.0, 1.0, 1.0, 2.0, 1.0];
        let mut w = vec![false; y.len()];
        w[2] = true; // warns of the breach at 5 (within 2 + lead 4), 45 min ahead
        w[7] = true; // the breach at 10 begins within its lead: true, 45 min ahead
        w[11] = true; // after the last onset: a false alert
        let s = score("x", &[&y[..]], &[&cf[..]], &[w], 5.0, 4, 15.0);
        assert_eq!(
            (s.breaches, s.alerts, s.true_alerts, s.warned),
            (2, 3, 2, 2)
        );
        assert_eq!((s.breaches_from_incidents, s.sudden_breaches), (1, 1));
        assert_eq!(s.warned_from_incidents, 1);
        assert_eq!(s.mean_lead_minutes, 45.0);
        // A warning raised after an onset does not count as warning of it.
        let mut late = vec![false; y.len()];
        late[6] = true;
        let s = score("x", &[&y[..]], &[&cf[..]], &[late], 5.0, 1, 15.0);
        assert_eq!((s.warned, s.true_alerts), (0, 0));
    }

    #[test]
    fn evaluates_a_small_sandbox_and_attributes_breaches() {
        let mut config = SlaConfig {
            sandbox: ScenarioConfig {
                cells: 12,
                days: 4,
                incident_rate: 0.0,
                ..ScenarioConfig::default()
            },
            forecaster: ForecasterConfig::with_method(Method::SeasonalNaive),
            policy: SlaPolicy {
                history_days: 2,
                latency_limit_ms: 10.0,
                ..SlaPolicy::default()
            },
        };
        let quiet = evaluate_sla(&config).expect("valid config");
        assert_eq!(quiet.len(), 2);
        assert!(quiet[0].breaches > 0);
        assert!(quiet
            .iter()
            .all(|s| s.breaches_from_incidents == 0 && s.sudden_breaches == 0));
        config.policy.alert_probability = 1.0;
        assert!(matches!(
            evaluate_sla(&config),
            Err(EnergyError::InvalidConfig(_))
        ));
    }
}
