//! The energy-saving closed loop's scenario (3GPP TS 38.300 §16.20 on the Y.3181 sandbox):
//! the network, its coverage clusters, the baselines computed as reference, and the report
//! assembled from every cluster's outcome. The loop itself runs wherever a driver puts it: on
//! timely dataflow (the engine) or in one thread ([`evaluate`]).

use std::collections::HashMap;
use std::sync::Arc;

use ai4ict_core::{Actuator, Entity, Timestamp};
use ai4ict_sandbox::{CellKind, Network};
use rayon::prelude::*;

use crate::actuated::SleepNetwork;
use crate::controller::{ClusterOutcome, SleepController};
use crate::power::PowerModel;
use crate::sim::{enforce_min_sleep, plan_step, simulate, Outcome, Plan, Unit};
use crate::{CellPlot, EnergyConfig, EnergyError, EnergyReport, PolicyResult};

/// A coverage cluster: cells linked by offload (a small cell and every cell that may take its
/// traffic, transitively). A sleep decision's inputs and effects stay inside one cluster, so a
/// cluster is the entity the closed loop is keyed by: one worker owns all of it.
#[derive(Clone, Debug)]
pub struct CoverageCluster {
    /// `cluster-<first cell>`: the key that places the cluster on a worker.
    pub entity: Entity,
    /// Global indices of its cells, ascending.
    pub cells: Vec<usize>,
    /// Its cells as the energy model sees them, neighbours as indices into `cells`.
    pub(crate) units: Vec<Unit>,
}

/// The energy-saving loop's fixed part, shared by every worker of a process.
pub struct EnergyLoop {
    pub(crate) config: EnergyConfig,
    pub(crate) net: Arc<Network>,
    units: Vec<Unit>,
    clusters: Vec<CoverageCluster>,
    cluster_of: Vec<usize>,
    cells: HashMap<Entity, usize>,
    /// First evaluated step (after the history days).
    pub(crate) first: usize,
    /// Steps per day.
    pub(crate) per_day: usize,
    /// Cells whose series the report plots.
    pub(crate) plotted: Vec<usize>,
}

/// The baselines (always-on, reactive, oracle), computed beside the loop as reference.
pub struct Reference {
    offered: f64,
    outcomes: [Outcome; 3],
    plans: [Plan; 2],
}

impl EnergyLoop {
    /// Builds the sandbox network and its coverage clusters; refuses settings out of range.
    pub fn new(config: &EnergyConfig) -> Result<Self, EnergyError> {
        let p = &config.policy;
        if !(p.level > 0.0 && p.level < 1.0) {
            return Err(EnergyError::InvalidConfig(format!(
                "level {} must lie strictly between 0 and 1",
                p.level
            )));
        }
        let g = &p.guard;
        if !(g.headroom > 0.0 && g.headroom <= 1.0 && (0.0..=1.0).contains(&g.min_coverage)) {
            return Err(EnergyError::InvalidConfig(
                "guard.headroom must be in (0, 1] and guard.min_coverage in [0, 1]".into(),
            ));
        }
        if p.macro_carriers == 0 {
            return Err(EnergyError::InvalidConfig(
                "macro_carriers must be at least 1".into(),
            ));
        }
        if p.history_days == 0 || p.history_days >= config.sandbox.days {
            return Err(EnergyError::InvalidConfig(format!(
                "history_days ({}) must be at least 1 and less than sandbox.days ({})",
                p.history_days, config.sandbox.days
            )));
        }
        let net = Network::new(&config.sandbox)?;
        let per_day = (86_400_000 / net.interval().millis().max(1)) as usize;
        if per_day < 2 {
            return Err(EnergyError::InvalidConfig(
                "the sandbox interval must be shorter than half a day".into(),
            ));
        }
        let units: Vec<Unit> = net
            .cells()
            .iter()
            .map(|c| {
                let small = c.kind == CellKind::Small;
                Unit {
                    small,
                    carriers: if small { 1 } else { p.macro_carriers },
                    capacity: c.capacity_dl_mbps.max(1e-6),
                    neighbours: c
                        .neighbours
                        .iter()
                        .map(|n| (n.cell, n.overlap.clamp(0.0, 1.0)))
                        .collect(),
                    model: PowerModel::earth(if small { p.small_class } else { p.macro_class }),
                }
            })
            .collect();
        let n = units.len();
        // Union-find over offload links (a small cell and its neighbours).
        let mut parent: Vec<usize> = (0..n).collect();
        fn root(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        for (c, u) in units.iter().enumerate().filter(|(_, u)| u.small) {
            for &(j, _) in &u.neighbours {
                let (a, b) = (root(&mut parent, c), root(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
        let mut cluster_of = vec![usize::MAX; n];
        let mut clusters: Vec<CoverageCluster> = Vec::new();
        let mut by_root: HashMap<usize, usize> = HashMap::new();
        for (c, slot) in cluster_of.iter_mut().enumerate() {
            let r = root(&mut parent, c);
            let k = *by_root.entry(r).or_insert_with(|| {
                clusters.push(CoverageCluster {
                    entity: Entity::new(format!("cluster-{}", net.cells()[c].name.name())),
                    cells: Vec::new(),
                    units: Vec::new(),
                });
                clusters.len() - 1
            });
            *slot = k;
            clusters[k].cells.push(c);
        }
        for cl in &mut clusters {
            let local: HashMap<usize, usize> =
                cl.cells.iter().enumerate().map(|(i, &c)| (c, i)).collect();
            cl.units = cl
                .cells
                .iter()
                .map(|&c| {
                    let mut u = units[c].clone();
                    u.neighbours = u
                        .neighbours
                        .iter()
                        .filter_map(|&(j, ov)| local.get(&j).map(|&l| (l, ov)))
                        .collect();
                    u
                })
                .collect();
        }
        let mut plotted: Vec<usize> = (0..n).filter(|&c| units[c].small).collect();
        plotted.extend((0..n).filter(|&c| !units[c].small));
        plotted.truncate(config.plot_cells);
        let cells = net
            .cells()
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        Ok(Self {
            config: config.clone(),
            first: p.history_days as usize * per_day,
            net: Arc::new(net),
            units,
            clusters,
            cluster_of,
            cells,
            per_day,
            plotted,
        })
    }

    /// The coverage clusters, in the order of their first cell.
    pub fn clusters(&self) -> &[CoverageCluster] {
        &self.clusters
    }

    /// The clusters worker `index` of `peers` owns (by their entity's key).
    pub fn owned(&self, index: usize, peers: usize) -> Vec<usize> {
        (0..self.clusters.len())
            .filter(|&k| self.clusters[k].entity.owner(peers) == index)
            .collect()
    }

    /// Every interval the loop runs: the history days (the network always on, forecasters
    /// gathering their training window), then the evaluated days.
    pub fn steps(&self) -> usize {
        self.net.steps()
    }

    /// Start of interval `step`.
    pub fn time(&self, step: usize) -> Timestamp {
        self.net.time(step)
    }

    /// The step starting at `time`, if the loop runs it.
    pub fn step_of(&self, time: Timestamp) -> Result<usize, EnergyError> {
        let ms = self.net.interval().millis().max(1);
        let offset = time.0 - self.net.start().0;
        if offset < 0 || offset % ms != 0 || (offset / ms) as usize >= self.steps() {
            return Err(EnergyError::InvalidConfig(format!(
                "no interval of the scenario starts at {time:?}"
            )));
        }
        Ok((offset / ms) as usize)
    }

    /// The cluster a cell (by name) belongs to, and the cell's global index.
    pub fn cell(&self, entity: &Entity) -> Option<(usize, usize)> {
        self.cells.get(entity).map(|&c| (self.cluster_of[c], c))
    }

    /// The sandbox side of the loop for the clusters `owned`: the actuator their policy acts
    /// through and whose reports are their feed.
    pub fn network(self: &Arc<Self>, owned: Vec<usize>) -> SleepNetwork {
        SleepNetwork::new(Arc::clone(self), owned)
    }

    /// A fresh model and policy for cluster `k`.
    pub fn controller(&self, k: usize) -> SleepController {
        SleepController::new(self, k)
    }

    /// Always-on, reactive (sleep while the last observed load is below the threshold) and
    /// oracle (the guard on the actual future load) over the evaluated period, applied to the
    /// actual demand in one pass: the reference the loop's forecast policy is compared with.
    pub fn reference(&self) -> Reference {
        let n = self.units.len();
        let steps_all = self.steps();
        let first = self.first;
        let demand: Vec<Vec<f64>> = (0..n)
            .into_par_iter()
            .map(|c| {
                (0..steps_all)
                    .map(|t| self.net.demand(c, t).dl_mbps)
                    .collect()
            })
            .collect();
        let actual: Vec<Vec<f64>> = demand.iter().map(|d| d[first..].to_vec()).collect();
        let steps = steps_all - first;
        let g = &self.config.policy.guard;
        let none = |_: usize, _: f64, _: u32| true;
        let always_on: Plan = vec![vec![0; n]; steps];
        let mut oracle: Plan = (0..steps)
            .map(|t| {
                let est: Vec<f64> = (0..n).map(|c| actual[c][t]).collect();
                plan_step(&self.units, &est, g, &none)
            })
            .collect();
        enforce_min_sleep(&mut oracle, g.min_sleep_steps);
        let threshold = self.config.policy.reactive_threshold;
        let low = move |_: usize, load: f64, _: u32| load < threshold;
        let reactive: Plan = (0..steps)
            .map(|t| {
                let est: Vec<f64> = (0..n).map(|c| demand[c][first + t - 1]).collect();
                plan_step(&self.units, &est, g, &low)
            })
            .collect();
        let hours = self.hours();
        let mut outcomes: Vec<Outcome> = [&always_on, &reactive, &oracle]
            .par_iter()
            .map(|p| simulate(&self.units, &actual, p, hours))
            .collect();
        let oracle_outcome = outcomes.pop();
        let reactive_outcome = outcomes.pop();
        let on_outcome = outcomes.pop();
        let (Some(on), Some(re), Some(or)) = (on_outcome, reactive_outcome, oracle_outcome) else {
            unreachable!("three plans give three outcomes")
        };
        Reference {
            offered: actual.iter().flatten().sum(),
            outcomes: [on, re, or],
            plans: [reactive, oracle],
        }
    }

    fn hours(&self) -> f64 {
        self.net.interval().millis() as f64 / 3_600_000.0
    }

    /// The report: the baselines from `reference`, the forecast policy from the loop's
    /// `outcomes` (one per cluster, any order), summed in cluster order so that any split of
    /// the clusters over workers gives the same numbers.
    pub fn report(
        &self,
        reference: &Reference,
        mut outcomes: Vec<ClusterOutcome>,
    ) -> Result<EnergyReport, EnergyError> {
        outcomes.sort_by_key(|o| o.cluster);
        let complete = outcomes.len() == self.clusters.len()
            && outcomes.iter().enumerate().all(|(k, o)| o.cluster == k);
        if !complete {
            return Err(EnergyError::InvalidConfig(format!(
                "the loop reported {} cluster outcomes for {} clusters",
                outcomes.len(),
                self.clusters.len()
            )));
        }
        let steps = self.steps() - self.first;
        let mut power = vec![0.0; steps];
        let (mut unserved, mut violations, mut wakeups, mut asleep) = (0.0, 0u64, 0u64, 0u64);
        let (mut inside, mut abs_err, mut total, mut failures, mut seconds) =
            (0u64, 0.0, 0.0, 0usize, 0.0);
        for o in &outcomes {
            for (p, q) in power.iter_mut().zip(&o.power) {
                *p += q;
            }
            unserved += o.unserved;
            violations += o.violations;
            wakeups += o.wakeups;
            asleep += o.asleep_sum;
            inside += o.inside;
            abs_err += o.abs_err;
            total += o.total;
            failures += o.failures;
            seconds += o.seconds;
        }
        let hours = self.hours();
        let energy_wh: f64 = power.iter().map(|p| p * hours).sum();
        let [on, re, or] = &reference.outcomes;
        let minutes = hours * 60.0;
        let offered = reference.offered.max(1e-9);
        let result =
            |name: &str, energy_wh: f64, unserved: f64, violations: u64, wakeups, asleep| {
                PolicyResult {
                    policy: name.to_string(),
                    energy_kwh: energy_wh / 1000.0,
                    saved_kwh: (on.energy_wh - energy_wh) / 1000.0,
                    saved_pct: 100.0 * (on.energy_wh - energy_wh) / on.energy_wh.max(1e-9),
                    unserved_pct: 100.0 * unserved / offered,
                    extra_unserved_pct: 100.0 * (unserved - on.unserved).max(0.0) / offered,
                    violation_minutes: violations as f64 * minutes,
                    wakeups,
                    mean_units_asleep: asleep / steps.max(1) as f64,
                }
            };
        let baseline = |name: &str, o: &Outcome| {
            let v = o
                .unserved_steps
                .iter()
                .zip(&on.unserved_steps)
                .map(|(a, b)| a.iter().zip(b).filter(|(x, y)| **x && !**y).count())
                .sum::<usize>();
            result(
                name,
                o.energy_wh,
                o.unserved,
                v as u64,
                o.wakeups,
                o.asleep_sum,
            )
        };
        let policies = vec![
            baseline("always_on", on),
            baseline("reactive", re),
            result(
                "forecast",
                energy_wh,
                unserved,
                violations,
                wakeups,
                asleep as f64,
            ),
            baseline("oracle", or),
        ];
        let saved_vs_oracle = policies[2].saved_kwh / policies[3].saved_kwh.max(1e-9);
        let [reactive, oracle] = &reference.plans;
        let mut plots = Vec::new();
        for &c in &self.plotted {
            let Some(trace) = outcomes
                .iter()
                .flat_map(|o| &o.traces)
                .find(|t| t.cell == c)
            else {
                continue;
            };
            plots.push(CellPlot {
                cell: self.net.cells()[c].name.to_string(),
                kind: if self.units[c].small {
                    "small"
                } else {
                    "macro"
                }
                .to_string(),
                load: trace.load.clone(),
                forecast_mean: trace.mean.clone(),
                forecast_lower: trace.lower.clone(),
                forecast_upper: trace.upper.clone(),
                asleep_forecast: trace.asleep.clone(),
                asleep_oracle: oracle.iter().map(|r| r[c]).collect(),
                asleep_reactive: reactive.iter().map(|r| r[c]).collect(),
            });
        }
        let n = self.units.len();
        Ok(EnergyReport {
            cells: n,
            small_cells: self.units.iter().filter(|u| u.small).count(),
            steps,
            interval_minutes: minutes,
            start_ms: self.time(self.first).0,
            policies,
            saved_vs_oracle,
            forecast_coverage: inside as f64 / (n * steps).max(1) as f64,
            forecast_rel_mae: abs_err / total.max(1e-9),
            forecast_failures: failures,
            forecast_seconds: seconds,
            power_w: vec![on.power.clone(), re.power.clone(), power, or.power.clone()],
            plots,
        })
    }
}

/// Runs the energy-saving loop in this thread over every cluster (each round: the network's
/// reports → the clusters' controllers → their actions back to the network) and reports it
/// against the baselines. The engine runs the same loop on timely dataflow.
pub fn evaluate(config: &EnergyConfig) -> Result<EnergyReport, EnergyError> {
    let lp = Arc::new(EnergyLoop::new(config)?);
    let all: Vec<usize> = (0..lp.clusters().len()).collect();
    let mut network = lp.network(all.clone());
    let mut controllers: Vec<SleepController> = all.iter().map(|&k| lp.controller(k)).collect();
    for step in 0..lp.steps() {
        let reports = network.report(lp.time(step))?;
        let mut actions = Vec::new();
        for (k, rows) in network.by_cluster(reports) {
            actions.extend(controllers[k].step(&lp, step, &rows)?);
        }
        if step + 1 < lp.steps() {
            network.actuate(lp.time(step + 1), &actions)?;
        }
    }
    let reference = lp.reference();
    lp.report(
        &reference,
        controllers
            .into_iter()
            .map(SleepController::finish)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EnergySavingPolicy;
    use ai4ict_forecast::{ForecasterConfig, Method};
    use ai4ict_sandbox::ScenarioConfig;

    fn small() -> EnergyConfig {
        EnergyConfig {
            sandbox: ScenarioConfig {
                cells: 30,
                days: 4,
                ..ScenarioConfig::default()
            },
            forecaster: ForecasterConfig::with_method(Method::Ets),
            policy: EnergySavingPolicy {
                history_days: 2,
                ..EnergySavingPolicy::default()
            },
            ..EnergyConfig::default()
        }
    }

    #[test]
    fn clusters_hold_every_offload_link() {
        let lp = EnergyLoop::new(&small()).unwrap();
        let mut seen = vec![false; lp.units.len()];
        for (k, cl) in lp.clusters().iter().enumerate() {
            for &c in &cl.cells {
                assert!(!seen[c]);
                seen[c] = true;
                if lp.units[c].small {
                    for &(j, _) in &lp.units[c].neighbours {
                        assert_eq!(lp.cluster_of[j], k, "cell {c} offloads to {j}");
                    }
                }
            }
        }
        assert!(seen.iter().all(|s| *s));
        assert!(lp.clusters().len() > 1);
    }

    #[test]
    fn evaluates_a_small_scenario_and_refuses_bad_configs() {
        let config = small();
        let r = evaluate(&config).unwrap();
        assert_eq!(r.policies.len(), 4);
        let on = r.policy("always_on").unwrap();
        let oracle = r.policy("oracle").unwrap();
        let forecast = r.policy("forecast").unwrap();
        assert_eq!(on.saved_kwh, 0.0);
        assert!(oracle.saved_pct > 0.0);
        assert!(forecast.saved_pct > 0.0 && forecast.mean_units_asleep > 0.0);
        assert!(r
            .policies
            .iter()
            .all(|p| p.energy_kwh > 0.0 && p.unserved_pct >= 0.0));
        assert_eq!(r.power_w[2].len(), r.steps);
        assert!(!r.plots.is_empty() && r.plots[0].load.len() == r.steps);
        for bad in [
            EnergyConfig {
                policy: EnergySavingPolicy {
                    level: 1.0,
                    ..config.policy.clone()
                },
                ..config.clone()
            },
            EnergyConfig {
                policy: EnergySavingPolicy {
                    history_days: 4,
                    ..config.policy.clone()
                },
                ..config.clone()
            },
            EnergyConfig {
                policy: EnergySavingPolicy {
                    macro_carriers: 0,
                    ..config.policy.clone()
                },
                ..config.clone()
            },
        ] {
            assert!(matches!(evaluate(&bad), Err(EnergyError::InvalidConfig(_))));
        }
    }
}
