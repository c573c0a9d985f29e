//! Closed-loop energy-saving simulation on the sandbox network (3GPP TS 38.300 §16.20:
//! cell and carrier switch-off with traffic offloaded to overlapping cells).

use ai4ict_forecast::{ForecasterConfig, Method};
use ai4ict_sandbox::ScenarioConfig;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use ai4ict_policy::{EnergySavingPolicy, GuardConfig};

use crate::power::PowerModel;

/// An energy-saving evaluation: the sandbox scenario, the forecaster and the policy. Every
/// field has a default, so `{}` is the default scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EnergyConfig {
    /// The sandbox scenario (cells, days, seed, interval, …).
    pub sandbox: ScenarioConfig,
    /// Forecaster of each cell's offered load (refitted once a day, day-ahead forecast).
    pub forecaster: ForecasterConfig,
    /// The energy-saving policy and its baselines.
    pub policy: EnergySavingPolicy,
    /// Number of cells (small cells first) whose load, forecast band and sleep periods are
    /// kept in the report for plots.
    pub plot_cells: usize,
}

impl Default for EnergyConfig {
    fn default() -> Self {
        Self {
            sandbox: ScenarioConfig {
                days: 28,
                // Measured with 3 incident-free days; the forecasters' history is not yet
                // robust to incidents, as the anomaly detectors' is.
                quiet_days: 3,
                ..ScenarioConfig::default()
            },
            forecaster: ForecasterConfig::with_method(Method::Mstl),
            policy: EnergySavingPolicy::default(),
            plot_cells: 4,
        }
    }
}

/// What one policy achieved over the evaluated period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyResult {
    /// `always_on`, `reactive`, `forecast` or `oracle`.
    pub policy: String,
    /// Energy drawn by all radio units, kWh.
    pub energy_kwh: f64,
    /// Energy saved against always-on, kWh.
    pub saved_kwh: f64,
    /// Energy saved against always-on, percent.
    pub saved_pct: f64,
    /// Offered traffic not carried (capacity exceeded or not covered), percent of all offered.
    pub unserved_pct: f64,
    /// Unserved traffic above always-on's (which has some in surges), percent of all offered.
    pub extra_unserved_pct: f64,
    /// Cell-minutes in which a cell could not carry all traffic offered to it, beyond those
    /// in which it could not under always-on either.
    pub violation_minutes: f64,
    /// Times a sleeping unit (small cell or carrier) was woken up.
    pub wakeups: u64,
    /// Mean number of units asleep.
    pub mean_units_asleep: f64,
}

/// Series for one cell's plot: offered load, the forecast band and sleep periods.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellPlot {
    /// Cell name.
    pub cell: String,
    /// `macro` or `small`.
    pub kind: String,
    /// Offered load, fraction of the cell's full capacity, per evaluated interval.
    pub load: Vec<f64>,
    /// Forecast mean load.
    pub forecast_mean: Vec<f64>,
    /// Forecast lower bound.
    pub forecast_lower: Vec<f64>,
    /// Forecast upper bound.
    pub forecast_upper: Vec<f64>,
    /// Units asleep in this cell under the forecast policy (0, 1, …) per interval.
    pub asleep_forecast: Vec<u32>,
    /// Units asleep under the oracle.
    pub asleep_oracle: Vec<u32>,
    /// Units asleep under the reactive baseline.
    pub asleep_reactive: Vec<u32>,
}

/// The outcome of [`crate::evaluate`]: per-policy results, forecast quality, plot series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnergyReport {
    /// Cells simulated.
    pub cells: usize,
    /// Of which small cells.
    pub small_cells: usize,
    /// Evaluated intervals (after the history days).
    pub steps: usize,
    /// Interval length, minutes.
    pub interval_minutes: f64,
    /// First evaluated interval, ms since the epoch.
    pub start_ms: i64,
    /// Always-on, reactive, forecast and oracle, in this order.
    pub policies: Vec<PolicyResult>,
    /// Forecast policy's saving as a share of the oracle's (1 = as good as perfect foresight).
    pub saved_vs_oracle: f64,
    /// Share of actual loads inside the forecast interval.
    pub forecast_coverage: f64,
    /// Mean absolute error of the forecast load, relative to the mean load.
    pub forecast_rel_mae: f64,
    /// Forecasts that failed (their cell fell back to its last observed day).
    pub forecast_failures: usize,
    /// Seconds spent fitting and forecasting.
    pub forecast_seconds: f64,
    /// Total network power per evaluated interval for each policy (same order as
    /// `policies`), W.
    pub power_w: Vec<Vec<f64>>,
    /// Per-cell plot series.
    pub plots: Vec<CellPlot>,
}

impl EnergyReport {
    /// The result of the named policy.
    pub fn policy(&self, name: &str) -> Option<&PolicyResult> {
        self.policies.iter().find(|p| p.policy == name)
    }
}

/// One cell as the energy model sees it.
#[derive(Clone, Debug)]
pub(crate) struct Unit {
    pub(crate) small: bool,
    pub(crate) carriers: u32,
    pub(crate) capacity: f64,
    pub(crate) neighbours: Vec<(usize, f64)>,
    pub(crate) model: PowerModel,
}

/// Units asleep per cell, per step: small cells 0 or 1, macro sectors 0..carriers−1.
pub(crate) type Plan = Vec<Vec<u32>>;

/// A policy's own condition on a sleep, on top of the guard: `allow(cell, load, keep)` with
/// `load` the cell's estimated load (fraction of its capacity) and `keep` the carriers it
/// would keep awake (0 for a small cell).
type Allow<'a> = &'a dyn Fn(usize, f64, u32) -> bool;

/// Plans one step from estimated demand (Mbit/s per cell): small cells first (lowest demand
/// first) hand their traffic to awake overlapping cells if coverage and headroom allow and the
/// network then draws less power (EARTH), then each macro sector keeps the fewest carriers
/// that hold its demand under the headroom (or more, if `allow` refuses the deeper sleep).
pub(crate) fn plan_step(
    units: &[Unit],
    est: &[f64],
    guard: &GuardConfig,
    allow: Allow,
) -> Vec<u32> {
    let n = units.len();
    let mut asleep = vec![0u32; n];
    let mut demand: Vec<f64> = est.to_vec();
    let mut order: Vec<usize> = (0..n).filter(|&c| units[c].small).collect();
    order.sort_by(|&a, &b| est[a].total_cmp(&est[b]));
    for c in order {
        let load = est[c] / units[c].capacity;
        if !allow(c, load, 0) {
            continue;
        }
        let receivers: Vec<(usize, f64)> = units[c]
            .neighbours
            .iter()
            .copied()
            .filter(|&(j, _)| asleep[j] == 0 || !units[j].small)
            .collect();
        let uncovered: f64 = receivers.iter().map(|(_, ov)| 1.0 - ov).product();
        if 1.0 - uncovered < guard.min_coverage {
            continue;
        }
        let total_ov: f64 = receivers.iter().map(|(_, ov)| ov).sum();
        let fits = receivers.iter().all(|&(j, ov)| {
            demand[j] + demand[c] * ov / total_ov <= guard.headroom * units[j].capacity
        });
        // EARTH: the receivers' extra load (and any capacity carrier it keeps awake) may cost
        // more than the small cell's sleep saves; such a sleep only adds risk.
        let saves = fits && {
            let u = &units[c];
            let mut delta = u.model.sleep_w() - awake_power(u, demand[c], guard.headroom);
            for &(j, ov) in &receivers {
                let extra = demand[c] * ov / total_ov;
                delta += awake_power(&units[j], demand[j] + extra, guard.headroom)
                    - awake_power(&units[j], demand[j], guard.headroom);
            }
            delta < 0.0
        };
        if saves {
            for &(j, ov) in &receivers {
                demand[j] += demand[c] * ov / total_ov;
            }
            demand[c] = 0.0;
            asleep[c] = 1;
        }
    }
    for (c, u) in units.iter().enumerate() {
        if u.small || u.carriers < 2 {
            continue;
        }
        let per_carrier = u.capacity / u.carriers as f64;
        let needed =
            ((demand[c] / (guard.headroom * per_carrier)).ceil() as u32).clamp(1, u.carriers);
        let load = demand[c] / u.capacity;
        if let Some(keep) = (needed..u.carriers).find(|&keep| allow(c, load, keep)) {
            asleep[c] = u.carriers - keep;
        }
    }
    asleep
}

/// Power, W, an awake unit draws carrying `demand` (Mbit/s) on the fewest carriers that hold
/// it under `headroom`, the others asleep (EARTH model).
pub(crate) fn awake_power(u: &Unit, demand: f64, headroom: f64) -> f64 {
    let per_carrier = u.capacity / f64::from(u.carriers);
    let active = ((demand / (headroom * per_carrier)).ceil() as u32).clamp(1, u.carriers);
    carrier_power(u, demand, active)
}

/// Power, W, a unit draws carrying `demand` (Mbit/s) on `active` carriers, the others asleep.
pub(crate) fn carrier_power(u: &Unit, demand: f64, active: u32) -> f64 {
    let per_carrier = u.capacity / f64::from(u.carriers);
    f64::from(active) * u.model.active_w(demand / (f64::from(active) * per_carrier))
        + f64::from(u.carriers - active) * u.model.sleep_w()
}

/// The surge risk of sleeping macro capacity carriers, learned from observed history only.
/// Sandbox surges (and real crowds) lift a cell's demand past its full capacity within one
/// interval; a sector with carriers asleep then loses the sleeping carriers' capacity until the
/// surge is seen and they wake (3GPP TS 38.300 §16.20 lets the gNB switch carriers off on its
/// own decision, so that decision has to weigh the risk). For each hour of day and each number
/// of carriers kept awake `a` (capacity share κ = a/N), this keeps the mean, over the macro
/// one-interval transitions that started at a load the guard would let sleep at κ
/// (≤ headroom·κ), of the shortfall `(min(next load, 1) − κ)⁺`: the extra unserved traffic,
/// as a fraction of capacity, that keeping only κ awake would have cost. Warm-started on the
/// training days, then updated with every interval observed; pooled over the macro cells of a
/// coverage cluster (the loop's entity) and read
/// over the hour and its two neighbours, since surges are too rare for per-cell or per-hour
/// rates (a noisy rate also flips sleeps hour by hour and costs wake-ups).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SurgeRisk {
    /// J per Mbit; see [`EnergySavingPolicy::unserved_price`].
    price: f64,
    headroom: f64,
    carriers: u32,
    /// Per hour of day, per carriers kept awake − 1: (sum of shortfalls, transitions).
    stats: Vec<Vec<(f64, f64)>>,
}

impl SurgeRisk {
    pub(crate) fn new(policy: &EnergySavingPolicy) -> Self {
        let carriers = policy.macro_carriers.max(1);
        Self {
            price: policy.unserved_price,
            headroom: policy.guard.headroom,
            carriers,
            stats: vec![vec![(0.0, 0.0); carriers as usize - 1]; 24],
        }
    }

    /// Records one observed transition of a macro cell's load (fractions of its capacity)
    /// into an interval starting at `hour` of day.
    pub(crate) fn observe(&mut self, hour: usize, from: f64, to: f64) {
        let n = f64::from(self.carriers);
        for (a, (sum, count)) in self.stats[hour % 24].iter_mut().enumerate() {
            let kept = (a + 1) as f64 / n;
            if from <= self.headroom * kept {
                *sum += (to.min(1.0) - kept).max(0.0);
                *count += 1.0;
            }
        }
    }

    /// Whether macro `u` at `load` may keep only `keep` carriers awake through an interval
    /// starting at `hour`: the power saved must exceed the price of the expected extra
    /// unserved traffic, `price · capacity · shortfall` (shortfall over hours `hour` ± 1).
    pub(crate) fn allows(&self, u: &Unit, hour: usize, load: f64, keep: u32) -> bool {
        let Some(a) = keep.checked_sub(1).map(|a| a as usize) else {
            return true;
        };
        let (sum, count) = (hour + 23..=hour + 25)
            .filter_map(|h| self.stats[h % 24].get(a))
            .fold((0.0, 0.0), |(s, n), &(ds, dn)| (s + ds, n + dn));
        let shortfall = if count > 0.0 { sum / count } else { 0.0 };
        let demand = load * u.capacity;
        let saved = carrier_power(u, demand, u.carriers) - carrier_power(u, demand, keep);
        saved > self.price * u.capacity * shortfall
    }
}

/// One step of the forecast policy, decided on what is known at that step: `est(i)` is the
/// estimated demand per cell (Mbit/s) `i` steps ahead (0 = the step decided), from the
/// day-ahead band's upper bound rescaled intraday and floored by the last observed load;
/// `hours[i]` is the hour of day of that step, and `hours.len()` the dwell looked at
/// (`min_sleep_steps`, or to the end of the forecast day). A unit goes to sleep only if the
/// plan on these estimates keeps it asleep for the whole dwell, so wake-ups stay few; once
/// asleep it stays asleep only while the guard passes on the current estimate, so load seen
/// above plan in the last interval (a surge, in the cell or in the cells taking its traffic)
/// wakes it at the next step, as early as the reactive baseline would: the dwell never
/// overrides the QoS guard. A macro sector also keeps a carrier awake in any interval whose
/// surge risk, priced by `risk`, outweighs its saving. `previous` is the row of the step
/// before (none at the first step).
pub(crate) fn forecast_step(
    units: &[Unit],
    guard: &GuardConfig,
    risk: &SurgeRisk,
    previous: Option<&[u32]>,
    hours: &[usize],
    est: &dyn Fn(usize) -> Vec<f64>,
) -> Vec<u32> {
    let priced = |i: usize| {
        move |c: usize, load: f64, keep: u32| {
            units[c].small || risk.allows(&units[c], hours[i], load, keep)
        }
    };
    let now = plan_step(units, &est(0), guard, &priced(0));
    let ahead: Vec<Vec<u32>> = (1..hours.len())
        .map(|i| plan_step(units, &est(i), guard, &priced(i)))
        .collect();
    now.iter()
        .enumerate()
        .map(|(c, &a)| {
            let asleep = previous.map_or(0, |p| p[c]);
            // Staying asleep (at most as deep as before) needs only the guard now;
            // going (deeper) to sleep needs it for the whole dwell.
            let entering = ahead.iter().fold(a, |m, r| m.min(r[c]));
            if a <= asleep {
                a
            } else {
                entering.max(asleep)
            }
        })
        .collect()
}

/// The estimate of a cell's demand `ahead` steps past the last observation: the band's upper
/// bound at that step, rescaled by the ratio of the `recent` (observed, forecast mean) pairs
/// (clamped to [0.7, 1.5]; no rescaling without pairs), floored by the last observed load when
/// `floor` is set.
pub(crate) fn estimate(upper: f64, recent: &[(f64, f64)], last_observed: f64, floor: bool) -> f64 {
    let seen: f64 = recent.iter().map(|p| p.0).sum();
    let expected: f64 = recent.iter().map(|p| p.1).sum();
    let ratio = if !recent.is_empty() && expected > 0.0 {
        (seen / expected).clamp(0.7, 1.5)
    } else {
        1.0
    };
    let bound = (upper * ratio).max(0.0);
    if floor {
        bound.max(last_observed)
    } else {
        bound
    }
}

/// Drops sleeps shorter than `min` steps (per cell, per sleep level).
pub(crate) fn enforce_min_sleep(plan: &mut Plan, min: usize) {
    if min <= 1 || plan.is_empty() {
        return;
    }
    let cells = plan[0].len();
    for c in 0..cells {
        let mut t = 0;
        while t < plan.len() {
            if plan[t][c] == 0 {
                t += 1;
                continue;
            }
            let start = t;
            while t < plan.len() && plan[t][c] > 0 {
                t += 1;
            }
            if t - start < min {
                for row in plan.iter_mut().take(t).skip(start) {
                    row[c] = 0;
                }
            }
        }
    }
}

/// A plan applied to the actual demand.
pub(crate) struct Outcome {
    pub(crate) energy_wh: f64,
    pub(crate) unserved: f64,
    pub(crate) unserved_steps: Vec<Vec<bool>>,
    pub(crate) wakeups: u64,
    pub(crate) asleep_sum: f64,
    pub(crate) power: Vec<f64>,
}

/// Applies a plan to the actual demand: offloads, capacity limits, power draw.
pub(crate) fn simulate(units: &[Unit], actual: &[Vec<f64>], plan: &Plan, hours: f64) -> Outcome {
    let n = units.len();
    let mut out = Outcome {
        energy_wh: 0.0,
        unserved: 0.0,
        unserved_steps: Vec::with_capacity(plan.len()),
        wakeups: 0,
        asleep_sum: 0.0,
        power: Vec::with_capacity(plan.len()),
    };
    for (t, asleep) in plan.iter().enumerate() {
        let mut demand: Vec<f64> = (0..n).map(|c| actual[c][t]).collect();
        for c in 0..n {
            if !(units[c].small && asleep[c] > 0) {
                continue;
            }
            let receivers: Vec<(usize, f64)> = units[c]
                .neighbours
                .iter()
                .copied()
                .filter(|&(j, _)| !(units[j].small && asleep[j] > 0))
                .collect();
            let covered = 1.0 - receivers.iter().map(|(_, ov)| 1.0 - ov).product::<f64>();
            let total_ov: f64 = receivers.iter().map(|(_, ov)| ov).sum();
            let moved = demand[c] * covered;
            out.unserved += demand[c] - moved;
            if total_ov > 0.0 {
                for &(j, ov) in &receivers {
                    demand[j] += moved * ov / total_ov;
                }
            }
            demand[c] = 0.0;
        }
        let mut power = 0.0;
        let mut over = vec![false; n];
        for (c, u) in units.iter().enumerate() {
            if u.small && asleep[c] > 0 {
                power += u.model.sleep_w();
                continue;
            }
            let active = u.carriers - asleep[c].min(u.carriers - 1);
            let cap = u.capacity * active as f64 / u.carriers as f64;
            let carried = demand[c].min(cap);
            if demand[c] > cap + 1e-9 {
                out.unserved += demand[c] - cap;
                over[c] = true;
            }
            let load = if cap > 0.0 { carried / cap } else { 0.0 };
            power += active as f64 * u.model.active_w(load)
                + (u.carriers - active) as f64 * u.model.sleep_w();
        }
        if t > 0 {
            out.wakeups += plan[t - 1]
                .iter()
                .zip(asleep)
                .map(|(a, b)| u64::from(a.saturating_sub(*b)))
                .sum::<u64>();
        }
        out.asleep_sum += asleep.iter().map(|&a| f64::from(a)).sum::<f64>();
        out.energy_wh += power * hours;
        out.power.push(power);
        out.unserved_steps.push(over);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::power::BsClass;

    /// The forecast policy over a whole period, step by step as the closed loop decides it
    /// ([`forecast_step`] on [`estimate`]s): `observed[c]` starts one step before the first
    /// planned step; `hours[t]` is the hour of day of step `t`.
    fn forecast_plan(
        units: &[Unit],
        bands: &[[Vec<f64>; 3]],
        observed: &[&[f64]],
        policy: &EnergySavingPolicy,
        (per_day, hours): (usize, &[usize]),
        mut risk: SurgeRisk,
    ) -> Plan {
        let steps = bands.first().map_or(0, |b| b[2].len());
        let g = &policy.guard;
        let mut plan: Plan = Vec::with_capacity(steps);
        for t in 0..steps {
            if t > 0 {
                for (c, u) in units.iter().enumerate().filter(|(_, u)| !u.small) {
                    let (from, to) = (observed[c][t - 1], observed[c][t]);
                    risk.observe(hours[t - 1], from / u.capacity, to / u.capacity);
                }
            }
            let k = policy.correction_steps.min(t);
            let recent: Vec<Vec<(f64, f64)>> = (0..units.len())
                .map(|c| {
                    (t - k..t)
                        .map(|i| (observed[c][i + 1], bands[c][0][i]))
                        .collect()
                })
                .collect();
            let horizon = (t + g.min_sleep_steps)
                .min((t / per_day + 1) * per_day)
                .min(steps)
                .max(t + 1);
            let est = |i: usize| -> Vec<f64> {
                (0..units.len())
                    .map(|c| {
                        let last = observed[c][t];
                        estimate(
                            bands[c][2][t + i],
                            &recent[c],
                            last,
                            policy.floor_last_observed,
                        )
                    })
                    .collect()
            };
            let previous = plan.last().map(Vec::as_slice);
            let row = forecast_step(units, g, &risk, previous, &hours[t..horizon], &est);
            plan.push(row);
        }
        plan
    }

    fn units() -> Vec<Unit> {
        // Cell 0: a small cell fully under macro 1 (and partly macro 2); macros with 2 carriers.
        vec![
            Unit {
                small: true,
                carriers: 1,
                capacity: 100.0,
                neighbours: vec![(1, 0.95), (2, 0.8)],
                model: PowerModel::earth(BsClass::Micro),
            },
            Unit {
                small: false,
                carriers: 2,
                capacity: 200.0,
                neighbours: vec![],
                model: PowerModel::earth(BsClass::Macro),
            },
            Unit {
                small: false,
                carriers: 2,
                capacity: 200.0,
                neighbours: vec![],
                model: PowerModel::earth(BsClass::Macro),
            },
        ]
    }

    #[test]
    fn plan_respects_the_guard() {
        let u = units();
        let g = GuardConfig::default();
        let all = |_: usize, _: f64, _: u32| true;
        // Night: the small cell sleeps, both macros drop their capacity carrier.
        assert_eq!(plan_step(&u, &[5.0, 20.0, 20.0], &g, &all), vec![1, 1, 1]);
        // Busy macro 1: no room to take the small cell's traffic, and it keeps both carriers.
        assert_eq!(plan_step(&u, &[30.0, 160.0, 20.0], &g, &all), vec![0, 0, 1]);
        // Coverage below the minimum: the small cell stays on.
        let strict = GuardConfig {
            min_coverage: 0.999,
            ..g
        };
        assert_eq!(plan_step(&u, &[5.0, 20.0, 20.0], &strict, &all)[0], 0);
        // A policy that allows nothing sleeps nothing.
        assert_eq!(
            plan_step(&u, &[5.0, 20.0, 20.0], &g, &|_, _, _| false),
            vec![0, 0, 0]
        );
    }

    #[test]
    fn a_small_cell_sleeps_only_if_the_network_draws_less() {
        let u = units();
        let g = GuardConfig::default();
        // Busy small cell: its traffic fits on the macros, but would wake their capacity
        // carriers (80 + 43 > 0.85 · 100 Mbit/s per carrier) and cost more than it saves.
        assert_eq!(
            plan_step(&u, &[80.0, 80.0, 80.0], &g, &|_, _, _| true),
            vec![0, 1, 1]
        );
    }

    /// Bands (mean = lower = upper) and observations for [`units`] over `steps`, with the
    /// observation before step 0 first.
    fn scenario(upper: [f64; 3], observed: [Vec<f64>; 3]) -> (Vec<[Vec<f64>; 3]>, [Vec<f64>; 3]) {
        let steps = observed[0].len() - 1;
        let bands = upper
            .iter()
            .map(|&v| [vec![v; steps], vec![v; steps], vec![v; steps]])
            .collect();
        (bands, observed)
    }

    /// The forecast plan at hour 0 throughout, its surge risk learned from nothing.
    fn forecast_plan_at_0h(
        u: &[Unit],
        bands: &[[Vec<f64>; 3]],
        observed: &[&[f64]],
        policy: &EnergySavingPolicy,
        per_day: usize,
    ) -> Plan {
        let hours = vec![0; observed[0].len()];
        let risk = SurgeRisk::new(policy);
        forecast_plan(u, bands, observed, policy, (per_day, &hours), risk)
    }

    #[test]
    fn a_surge_seen_while_asleep_wakes_the_units_at_the_next_step() {
        let u = units();
        // Macro 1 surges to 1.3× its capacity in step 3, while its capacity carrier sleeps
        // and it carries the sleeping small cell's traffic; no forecast saw it coming.
        let surge = vec![20.0, 20.0, 20.0, 20.0, 260.0, 260.0, 260.0];
        let (bands, obs) = scenario([5.0, 20.0, 20.0], [vec![5.0; 7], surge, vec![20.0; 7]]);
        let observed: Vec<&[f64]> = obs.iter().map(Vec::as_slice).collect();
        let policy = EnergySavingPolicy {
            correction_steps: 0,
            guard: GuardConfig {
                min_sleep_steps: 2,
                ..GuardConfig::default()
            },
            ..EnergySavingPolicy::default()
        };
        let plan = forecast_plan_at_0h(&u, &bands, &observed, &policy, 96);
        assert_eq!(plan[..4], vec![vec![1, 1, 1]; 4]);
        // Seen in step 3, acted on in step 4: the carrier and the small cell wake.
        assert_eq!(plan[4..], vec![vec![0, 0, 1]; 2]);
        // Without the guard on observed load both sleep through the surge, which loses more.
        let blind = EnergySavingPolicy {
            floor_last_observed: false,
            ..policy
        };
        let blind_plan = forecast_plan_at_0h(&u, &bands, &observed, &blind, 96);
        assert_eq!(blind_plan, vec![vec![1, 1, 1]; 6]);
        let actual: Vec<Vec<f64>> = obs.iter().map(|o| o[1..].to_vec()).collect();
        let guarded = simulate(&u, &actual, &plan, 0.25).unserved;
        let unguarded = simulate(&u, &actual, &blind_plan, 0.25).unserved;
        assert!(guarded + 100.0 < unguarded, "{guarded} vs {unguarded}");
    }

    #[test]
    fn a_sleep_starts_only_if_the_forecast_keeps_it_for_the_dwell() {
        let u = units();
        // The macros are forecast busy from step 1: the small cell could sleep in step 0 only.
        let (mut bands, obs) = scenario(
            [5.0, 20.0, 20.0],
            [vec![5.0; 5], vec![20.0; 5], vec![20.0; 5]],
        );
        for b in &mut bands[1..] {
            for v in b.iter_mut() {
                v[1..].fill(169.0);
            }
        }
        let observed: Vec<&[f64]> = obs.iter().map(Vec::as_slice).collect();
        let policy = |min_sleep_steps| EnergySavingPolicy {
            correction_steps: 0,
            guard: GuardConfig {
                min_sleep_steps,
                ..GuardConfig::default()
            },
            ..EnergySavingPolicy::default()
        };
        assert_eq!(
            forecast_plan_at_0h(&u, &bands, &observed, &policy(1), 96)[0][0],
            1
        );
        assert_eq!(
            forecast_plan_at_0h(&u, &bands, &observed, &policy(3), 96)[0][0],
            0
        );
        // The dwell looks no further than the forecast day (here one step long).
        assert_eq!(
            forecast_plan_at_0h(&u, &bands, &observed, &policy(3), 1)[0][0],
            1
        );
    }

    #[test]
    fn a_priced_surge_risk_keeps_carriers_awake_in_the_risky_hour_only() {
        let u = units();
        let (bands, obs) = scenario(
            [5.0, 20.0, 20.0],
            [vec![5.0; 5], vec![20.0; 5], vec![20.0; 5]],
        );
        let observed: Vec<&[f64]> = obs.iter().map(Vec::as_slice).collect();
        let hours = [0, 0, 12, 12];
        let run = |unserved_price| {
            let policy = EnergySavingPolicy {
                correction_steps: 0,
                unserved_price,
                guard: GuardConfig {
                    min_sleep_steps: 1,
                    ..GuardConfig::default()
                },
                ..EnergySavingPolicy::default()
            };
            let mut risk = SurgeRisk::new(&policy);
            // Training days: at 12 h, one macro transition in ten jumped past full capacity.
            for i in 0..10 {
                risk.observe(12, 0.1, if i == 0 { 1.5 } else { 0.1 });
            }
            forecast_plan(&u, &bands, &observed, &policy, (96, &hours), risk)
        };
        // Unpriced, the carriers sleep throughout; priced, they stay awake at 12 h, where the
        // expected shortfall (200 Mbit/s · 0.5 / 11) costs more than the carrier saves.
        assert_eq!(run(0.0), vec![vec![1, 1, 1]; 4]);
        let priced = run(1000.0);
        assert_eq!(priced[..2], vec![vec![1, 1, 1]; 2]);
        assert_eq!(priced[2..], vec![vec![1, 0, 0]; 2]);
    }

    #[test]
    fn short_sleeps_are_dropped() {
        let mut plan: Plan = [0, 1, 1, 0, 1, 1, 1, 1, 0]
            .iter()
            .map(|&a| vec![a])
            .collect();
        enforce_min_sleep(&mut plan, 3);
        let flat: Vec<u32> = plan.iter().map(|r| r[0]).collect();
        assert_eq!(flat, vec![0, 0, 0, 0, 1, 1, 1, 1, 0]);
    }

    #[test]
    fn closed_loop_counts_unserved_energy_and_wakeups() {
        let u = units();
        let actual = vec![vec![10.0, 10.0], vec![150.0, 50.0], vec![20.0, 20.0]];
        // Step 0: macro 1 sleeps a carrier although it needs both: 150 + moved > 100.
        let plan: Plan = vec![vec![1, 1, 0], vec![0, 0, 0]];
        let o = simulate(&u, &actual, &plan, 0.25);
        assert!(o.unserved > 50.0, "{}", o.unserved);
        assert!(o.unserved_steps[0][1] && !o.unserved_steps[1][1]);
        assert_eq!(o.wakeups, 2);
        let on = simulate(&u, &actual, &vec![vec![0, 0, 0]; 2], 0.25);
        assert!(on.energy_wh > o.energy_wh);
        assert_eq!(on.unserved, 0.0);
    }
}
