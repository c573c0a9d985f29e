//! Closed loops on timely dataflow: each round, SRC (the network's reports of the coverage
//! clusters a worker owns) → exchange by cluster → M → P → SINK (the actuator, whose effect the
//! next round's reports carry) → exchange to the first worker of every process → D (the
//! cluster outcomes summed in cluster order). The loop closes through the network: a round's
//! reports are read only after the previous round's actions have been applied.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use ai4ict_core::{Actuator, CellReport};
use ai4ict_energy::{ClusterOutcome, EnergyConfig, EnergyLoop, EnergyReport, SleepController};
use serde::{Deserialize, Serialize};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::{Input, Operator, Probe};
use timely::dataflow::ProbeHandle;

use crate::cluster::Cluster;
use crate::dataflow::Progress;
use crate::EngineError;

/// What a closed loop's run gave, the same in every process.
#[derive(Clone, Debug, Default)]
pub struct LoopRun {
    /// The energy-saving report (none when the run was stopped or failed).
    pub energy: Option<EnergyReport>,
    /// Reports (KPI rows, one per cell and interval) the loop read from the network.
    pub records: u64,
    /// True when the stop flag ended the run before the scenario did.
    pub stopped: bool,
    /// What stopped a source, a node or the actuator.
    pub errors: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
enum Round {
    /// A cluster's reports of interval `step`.
    Reports {
        cluster: u32,
        step: u64,
        rows: Vec<CellReport>,
    },
    /// The source of a worker has ended.
    End { to: u32 },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
enum Out {
    Outcome(ClusterOutcome),
    Error(String),
}

/// Runs energy saving ([`ai4ict_energy::EnergyLoop`]) on `cluster`: one controller per coverage
/// cluster on the worker that owns the cluster, acting through that worker's
/// [`ai4ict_energy::SleepNetwork`]; the baselines are computed beside the loop as reference.
pub fn run_energy(
    config: &EnergyConfig,
    cluster: &Cluster,
    progress: Arc<Progress>,
) -> Result<LoopRun, EngineError> {
    let lp = Arc::new(EnergyLoop::new(config).map_err(|e| EngineError::Plan(e.to_string()))?);
    let timely_config = cluster.timely_config()?;
    let per_process = cluster.workers.max(1);
    let shared = Arc::clone(&lp);
    let guards = timely::execute(timely_config, move |worker| {
        let lp = Arc::clone(&shared);
        let index = worker.index();
        let peers = worker.peers();
        let gathers = index % per_process == 0;
        let leaders = crate::cluster::leaders(peers, per_process);
        let network = Rc::new(RefCell::new(lp.network(lp.owned(index, peers))));
        let gathered: Rc<RefCell<(Vec<ClusterOutcome>, Vec<String>)>> = Rc::default();
        let mut input = timely::dataflow::InputHandle::new();
        let probe = ProbeHandle::new();
        let node_lp = Arc::clone(&lp);
        let node_network = Rc::clone(&network);
        let sink = Rc::clone(&gathered);
        worker.dataflow::<u64, _, _>(|scope| {
            let lp = node_lp;
            let route_lp = Arc::clone(&lp);
            let mut controllers: BTreeMap<usize, SleepController> = BTreeMap::new();
            let mut ends = 0usize;
            let mut failed = false;
            let stream = scope.input_from(&mut input);
            let results = stream.unary(
                Exchange::new(move |r: &Round| match r {
                    Round::Reports { cluster, .. } => {
                        route_lp.clusters()[*cluster as usize].entity.owner(peers) as u64
                    }
                    Round::End { to } => u64::from(*to),
                }),
                "M-P-SINK",
                move |_cap, _info| {
                    move |input, output| {
                        input.for_each_stamp(|cap, data| {
                            let mut session = output.session(&cap);
                            let mut give = |o: Out| {
                                for &to in &leaders {
                                    session.give((to, o.clone()));
                                }
                            };
                            for container in data {
                                for round in container.drain(..) {
                                    match round {
                                        Round::Reports { .. } if failed => {}
                                        Round::Reports {
                                            cluster,
                                            step,
                                            rows,
                                        } => {
                                            let k = cluster as usize;
                                            let c = controllers
                                                .entry(k)
                                                .or_insert_with(|| lp.controller(k));
                                            let step = step as usize;
                                            let acted = c.step(&lp, step, &rows).and_then(|a| {
                                                if a.is_empty() {
                                                    return Ok(());
                                                }
                                                node_network
                                                    .borrow_mut()
                                                    .actuate(lp.time(step + 1), &a)
                                            });
                                            if let Err(e) = acted {
                                                failed = true;
                                                give(Out::Error(e.to_string()));
                                            }
                                        }
                                        Round::End { .. } => {
                                            ends += 1;
                                            if ends == peers {
                                                for c in
                                                    std::mem::take(&mut controllers).into_values()
                                                {
                                                    give(Out::Outcome(c.finish()));
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        });
                    }
                },
            );
            let results: timely::dataflow::Stream<'_, u64, Vec<(u32, Out)>> = results;
            results.probe_with(&probe).sink(
                Exchange::new(|o: &(u32, Out)| u64::from(o.0)),
                "D",
                move |(input, _frontier)| {
                    input.for_each_stamp(|_cap, data| {
                        let mut g = sink.borrow_mut();
                        for c in data {
                            for (_, item) in c.drain(..) {
                                match item {
                                    Out::Outcome(o) => g.0.push(o),
                                    Out::Error(e) => g.1.push(e),
                                }
                            }
                        }
                    });
                },
            );
        });

        // SRC: the network's reports of this worker's clusters, one round per interval; the
        // next round starts once every action of this one has reached the network.
        let mut stopped = false;
        let mut errors = Vec::new();
        for step in 0..lp.steps() {
            if progress.stop.load(Ordering::Relaxed) {
                stopped = true;
                break;
            }
            let reports = match network.borrow_mut().report(lp.time(step)) {
                Ok(r) => r,
                Err(e) => {
                    errors.push(e.to_string());
                    break;
                }
            };
            progress
                .rows
                .fetch_add(reports.len() as u64, Ordering::Relaxed);
            progress
                .event_time
                .fetch_max(lp.time(step).0, Ordering::Relaxed);
            for (k, rows) in network.borrow().by_cluster(reports) {
                input.send(Round::Reports {
                    cluster: k as u32,
                    step: step as u64,
                    rows,
                });
            }
            let round = step as u64 + 1;
            input.advance_to(round);
            while probe.less_than(&round) {
                worker.step();
            }
        }
        for to in 0..peers {
            input.send(Round::End { to: to as u32 });
        }
        input.close();
        while worker.step() {}
        let (outcomes, mut node_errors) = std::mem::take(&mut *gathered.borrow_mut());
        errors.append(&mut node_errors);
        (gathers, outcomes, errors, stopped)
    })
    .map_err(EngineError::Cluster)?;

    let mut run = LoopRun::default();
    let mut outcomes = Vec::new();
    for r in guards.join() {
        let (gathers, mut o, mut errors, stopped) = r.map_err(EngineError::Cluster)?;
        run.stopped |= stopped;
        run.errors.append(&mut errors);
        if gathers && outcomes.is_empty() {
            outcomes.append(&mut o);
        }
    }
    run.records = outcomes.iter().map(|o| o.records).sum();
    if run.stopped || !run.errors.is_empty() {
        return Ok(run);
    }
    let reference = lp.reference();
    run.energy = Some(
        lp.report(&reference, outcomes)
            .map_err(|e| EngineError::Plan(e.to_string()))?,
    );
    Ok(run)
}
