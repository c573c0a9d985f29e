//! The sandbox network as the target of the energy-saving policy (Y.3172 §8, SINK): carriers
//! and small cells sleep and wake as told, and each interval the network reports what it drew
//! (EARTH power model), what it could not carry and where capacity ran out.

use std::sync::Arc;

use ai4ict_core::{Action, Actuator, CellReport, Timestamp};

use crate::energy_loop::EnergyLoop;
use crate::EnergyError;

/// Y.3172 §8 SINK (3GPP TS 38.300 §16.20 cell and carrier switch-off): the cells of some
/// coverage clusters of the sandbox network, with their sleep state. A sleeping small cell's
/// traffic goes to its awake overlapping cells (the part no awake cell covers is lost); a
/// sector with carriers asleep carries at most its awake carriers' capacity.
pub struct SleepNetwork {
    lp: Arc<EnergyLoop>,
    clusters: Vec<usize>,
    /// Per owned cluster, per cell: carriers asleep, carriers woken for the next report.
    state: Vec<Vec<(u32, u32)>>,
}

impl SleepNetwork {
    /// The cells of `clusters`, all awake.
    pub(crate) fn new(lp: Arc<EnergyLoop>, clusters: Vec<usize>) -> Self {
        let state = clusters
            .iter()
            .map(|&k| vec![(0, 0); lp.clusters()[k].cells.len()])
            .collect();
        Self {
            lp,
            clusters,
            state,
        }
    }

    /// Reports grouped by cluster (in this network's cluster order), each in its cells'
    /// order, as [`Actuator::report`] gives them.
    pub fn by_cluster(&self, reports: Vec<CellReport>) -> Vec<(usize, Vec<CellReport>)> {
        let mut rows = reports.into_iter();
        self.clusters
            .iter()
            .map(|&k| {
                let n = self.lp.clusters()[k].cells.len();
                (k, rows.by_ref().take(n).collect())
            })
            .collect()
    }
}

impl Actuator for SleepNetwork {
    type Error = EnergyError;

    fn actuate(&mut self, time: Timestamp, actions: &[Action]) -> Result<(), EnergyError> {
        self.lp.step_of(time)?;
        for a in actions {
            let place = self.lp.cell(&a.entity).and_then(|(k, c)| {
                let slot = self.clusters.iter().position(|&o| o == k)?;
                let i = self.lp.clusters()[k].cells.iter().position(|&x| x == c)?;
                Some((slot, k, i))
            });
            let Some((slot, k, i)) = place else {
                return Err(EnergyError::InvalidConfig(format!(
                    "action for {}: not a cell of this part of the network",
                    a.entity
                )));
            };
            let unit = &self.lp.clusters()[k].units[i];
            let most = if unit.small { 1 } else { unit.carriers - 1 };
            if a.asleep > most {
                return Err(EnergyError::InvalidConfig(format!(
                    "action for {}: {} carriers asleep, at most {most} may sleep",
                    a.entity, a.asleep
                )));
            }
            let (asleep, _) = self.state[slot][i];
            self.state[slot][i] = (a.asleep, asleep.saturating_sub(a.asleep));
        }
        Ok(())
    }

    fn report(&mut self, time: Timestamp) -> Result<Vec<CellReport>, EnergyError> {
        let step = self.lp.step_of(time)?;
        let mut out = Vec::new();
        for (slot, &k) in self.clusters.iter().enumerate() {
            let cluster = &self.lp.clusters()[k];
            let units = &cluster.units;
            let state = &mut self.state[slot];
            let offered: Vec<f64> = cluster
                .cells
                .iter()
                .map(|&c| self.lp.net.demand(c, step).dl_mbps)
                .collect();
            let mut demand = offered.clone();
            let mut unserved = vec![0.0; units.len()];
            let asleep_now: Vec<bool> = units
                .iter()
                .zip(state.iter())
                .map(|(u, s)| u.small && s.0 > 0)
                .collect();
            let sleeping = |j: usize| asleep_now[j];
            for c in 0..units.len() {
                if !sleeping(c) {
                    continue;
                }
                let receivers: Vec<(usize, f64)> = units[c]
                    .neighbours
                    .iter()
                    .copied()
                    .filter(|&(j, _)| !sleeping(j))
                    .collect();
                let covered = 1.0 - receivers.iter().map(|(_, ov)| 1.0 - ov).product::<f64>();
                let total_ov: f64 = receivers.iter().map(|(_, ov)| ov).sum();
                let moved = demand[c] * covered;
                unserved[c] += demand[c] - moved;
                if total_ov > 0.0 {
                    for &(j, ov) in &receivers {
                        demand[j] += moved * ov / total_ov;
                    }
                }
                demand[c] = 0.0;
            }
            for (i, u) in units.iter().enumerate() {
                let (asleep, woken) = state[i];
                let (power_w, over) = if sleeping(i) {
                    (u.model.sleep_w(), false)
                } else {
                    let active = u.carriers - asleep.min(u.carriers - 1);
                    let cap = u.capacity * f64::from(active) / f64::from(u.carriers);
                    let over = demand[i] > cap + 1e-9;
                    if over {
                        unserved[i] += demand[i] - cap;
                    }
                    let load = if cap > 0.0 {
                        demand[i].min(cap) / cap
                    } else {
                        0.0
                    };
                    (
                        f64::from(active) * u.model.active_w(load)
                            + f64::from(u.carriers - active) * u.model.sleep_w(),
                        over,
                    )
                };
                out.push(CellReport {
                    entity: self.lp.net.cells()[cluster.cells[i]].name.clone(),
                    time,
                    offered_mbps: offered[i],
                    power_w,
                    unserved_mbps: unserved[i],
                    over_capacity: over,
                    asleep,
                    woken,
                });
                state[i].1 = 0;
            }
        }
        Ok(out)
    }
}
