//! The model and policy nodes of the energy-saving loop for one coverage cluster: day-ahead
//! forecasters of each cell's offered load, and the sleep policy under the QoS guard.

use std::collections::VecDeque;
use std::time::Instant;

use ai4ict_core::{Action, CellReport};
use ai4ict_forecast::forecast_many;
use serde::{Deserialize, Serialize};

use crate::energy_loop::EnergyLoop;
use crate::sim::{estimate, forecast_step, SurgeRisk};
use crate::EnergyError;

/// A plotted cell's series over the evaluated period (loads as fractions of its capacity).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CellTrace {
    /// Global cell index.
    pub cell: usize,
    /// Offered load.
    pub load: Vec<f64>,
    /// Forecast mean.
    pub mean: Vec<f64>,
    /// Forecast lower bound.
    pub lower: Vec<f64>,
    /// Forecast upper bound.
    pub upper: Vec<f64>,
    /// Carriers asleep.
    pub asleep: Vec<u32>,
}

/// What the forecast policy achieved in one cluster over the evaluated period, from the
/// network's reports (the D node's per-entity result; the leader sums them in cluster order).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterOutcome {
    /// The cluster's index.
    pub cluster: usize,
    /// The cluster's power per evaluated interval, W.
    pub power: Vec<f64>,
    /// Traffic not carried, Mbit/s summed over intervals.
    pub unserved: f64,
    /// Cell-intervals over capacity that always-on would not have had.
    pub violations: u64,
    /// Carriers woken.
    pub wakeups: u64,
    /// Carriers asleep, summed over intervals.
    pub asleep_sum: u64,
    /// Cell-intervals whose load fell inside the forecast interval.
    pub inside: u64,
    /// Sum of |forecast mean − load|, Mbit/s.
    pub abs_err: f64,
    /// Sum of loads, Mbit/s.
    pub total: f64,
    /// Forecasts that failed (the cell fell back to its last observed day).
    pub failures: usize,
    /// Seconds spent fitting and forecasting.
    pub seconds: f64,
    /// Reports read.
    pub records: u64,
    /// Plotted cells' series.
    pub traces: Vec<CellTrace>,
}

/// Y.3172 §8.1 M and P for one coverage cluster (3GPP TS 38.300 §16.20): each cell's
/// forecaster (its training window, refitted each midnight into a day-ahead band) and the
/// forecast sleep policy ([`crate::EnergySavingPolicy`], surge risk pooled over the cluster's
/// macro sectors). Serialisable: it is the cluster's whole state between rounds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SleepController {
    cluster: usize,
    /// Per cell, the last `history_days` of offered load (the training window).
    history: Vec<VecDeque<f64>>,
    /// Per cell, the current day-ahead band (mean, lower, upper) from `day_start` on.
    bands: Vec<[Vec<f64>; 3]>,
    day_start: usize,
    /// Per cell, the latest evaluated (offered, forecast mean) pairs for the intraday
    /// correction.
    recent: Vec<VecDeque<(f64, f64)>>,
    risk: SurgeRisk,
    previous: Option<Vec<u32>>,
    outcome: ClusterOutcome,
}

impl SleepController {
    pub(crate) fn new(lp: &EnergyLoop, cluster: usize) -> Self {
        let cells = &lp.clusters()[cluster].cells;
        Self {
            cluster,
            history: vec![VecDeque::new(); cells.len()],
            bands: vec![[Vec::new(), Vec::new(), Vec::new()]; cells.len()],
            day_start: 0,
            recent: vec![VecDeque::new(); cells.len()],
            risk: SurgeRisk::new(&lp.config.policy),
            previous: None,
            outcome: ClusterOutcome {
                cluster,
                traces: cells
                    .iter()
                    .filter(|c| lp.plotted.contains(c))
                    .map(|&cell| CellTrace {
                        cell,
                        ..CellTrace::default()
                    })
                    .collect(),
                ..ClusterOutcome::default()
            },
        }
    }

    /// Reads the network's reports of interval `step` (one per cell of the cluster, in its
    /// order) and returns the actions for the next interval (none during the history days).
    pub fn step(
        &mut self,
        lp: &EnergyLoop,
        step: usize,
        reports: &[CellReport],
    ) -> Result<Vec<Action>, EnergyError> {
        let cluster = &lp.clusters()[self.cluster];
        if reports.len() != cluster.cells.len() {
            return Err(EnergyError::InvalidConfig(format!(
                "{}: {} reports for {} cells at step {step}",
                cluster.entity,
                reports.len(),
                cluster.cells.len()
            )));
        }
        let hour = |s: usize| (lp.time(s).millis_of_day() / 3_600_000) as usize;
        let window = lp.first;
        let evaluated = step >= lp.first;
        let t = step.saturating_sub(lp.first);
        let o = &mut self.outcome;
        if evaluated {
            o.power.push(0.0);
        }
        for (i, (r, u)) in reports.iter().zip(&cluster.units).enumerate() {
            if r.entity != lp.net.cells()[cluster.cells[i]].name || r.time != lp.time(step) {
                return Err(EnergyError::InvalidConfig(format!(
                    "{}: report {i} at step {step} is for {} at {:?}",
                    cluster.entity, r.entity, r.time
                )));
            }
            let offered = r.offered_mbps;
            if let (false, Some(&prev)) = (u.small, self.history[i].back()) {
                self.risk
                    .observe(hour(step), prev / u.capacity, offered / u.capacity);
            }
            if evaluated {
                o.power[t] += r.power_w;
                o.unserved += r.unserved_mbps;
                let over_always_on = offered > u.capacity + 1e-9;
                o.violations += u64::from(r.over_capacity && !over_always_on);
                o.wakeups += u64::from(r.woken);
                o.asleep_sum += u64::from(r.asleep);
                let b = step - self.day_start;
                let [mean, lower, upper] = &self.bands[i];
                o.inside += u64::from(lower[b] <= offered && offered <= upper[b]);
                o.abs_err += (mean[b] - offered).abs();
                o.total += offered;
                let recent = &mut self.recent[i];
                recent.push_back((offered, mean[b]));
                if recent.len() > lp.config.policy.correction_steps {
                    recent.pop_front();
                }
                let cell = cluster.cells[i];
                if let Some(tr) = o.traces.iter_mut().find(|tr| tr.cell == cell) {
                    let cap = u.capacity;
                    tr.load.push(offered / cap);
                    tr.mean.push(mean[b] / cap);
                    tr.lower.push(lower[b] / cap);
                    tr.upper.push(upper[b] / cap);
                    tr.asleep.push(r.asleep);
                }
            }
            let h = &mut self.history[i];
            h.push_back(offered);
            if h.len() > window {
                h.pop_front();
            }
        }
        o.records += reports.len() as u64;

        let next = step + 1;
        if next < lp.first || next >= lp.steps() {
            return Ok(Vec::new());
        }
        let per_day = lp.per_day;
        let steps = lp.steps() - lp.first;
        let t = next - lp.first;
        if t.is_multiple_of(per_day) {
            self.refit(lp, next);
        }
        let p = &lp.config.policy;
        let dwell = (t + p.guard.min_sleep_steps)
            .min((t / per_day + 1) * per_day)
            .min(steps)
            .max(t + 1)
            - t;
        let hours: Vec<usize> = (next..next + dwell).map(hour).collect();
        let recent: Vec<Vec<(f64, f64)>> = self
            .recent
            .iter()
            .map(|r| r.iter().copied().collect())
            .collect();
        let last: Vec<f64> = self
            .history
            .iter()
            .map(|h| h.back().copied().unwrap_or(0.0))
            .collect();
        let (bands, day_start) = (&self.bands, self.day_start);
        let est = |ahead: usize| -> Vec<f64> {
            (0..bands.len())
                .map(|c| {
                    let upper = bands[c][2][next + ahead - day_start];
                    estimate(upper, &recent[c], last[c], p.floor_last_observed)
                })
                .collect()
        };
        let row = forecast_step(
            &cluster.units,
            &p.guard,
            &self.risk,
            self.previous.as_deref(),
            &hours,
            &est,
        );
        let actions = cluster
            .cells
            .iter()
            .zip(&row)
            .map(|(&c, &asleep)| Action {
                entity: lp.net.cells()[c].name.clone(),
                asleep,
            })
            .collect();
        self.previous = Some(row);
        Ok(actions)
    }

    /// Refits every cell's forecaster on its training window and forecasts the day from
    /// `next` on; a failed fit falls back to the cell's last observed day.
    fn refit(&mut self, lp: &EnergyLoop, next: usize) {
        let per_day = lp.per_day;
        let h = per_day.min(lp.steps() - next);
        let started = Instant::now();
        let train: Vec<Vec<f64>> = self
            .history
            .iter()
            .map(|d| d.iter().copied().collect())
            .collect();
        let p = &lp.config.policy;
        let results = forecast_many(&lp.config.forecaster, &train, per_day, h, p.level);
        for (c, r) in results.into_iter().enumerate() {
            self.bands[c] = match r {
                Ok(f) => [f.mean, f.lower, f.upper],
                Err(_) => {
                    self.outcome.failures += 1;
                    let n = train[c].len();
                    let from = n.saturating_sub(per_day);
                    let last: Vec<f64> = (0..h)
                        .map(|i| train[c].get(from + i).copied().unwrap_or(0.0))
                        .collect();
                    [last.clone(), last.clone(), last]
                }
            };
        }
        self.day_start = next;
        self.outcome.seconds += started.elapsed().as_secs_f64();
    }

    /// The cluster's outcome at the end of the loop.
    pub fn finish(self) -> ClusterOutcome {
        self.outcome
    }

    /// The cluster this controller decides for.
    pub fn cluster(&self) -> usize {
        self.cluster
    }
}
