//! Closed loops on timely dataflow: each round, SRC (the network's reports of the entities a
//! worker owns) → exchange by entity → M → P (→ SINK, the actuator, whose effect the next
//! round's reports carry) → exchange to the first worker of every process → D (the entity
//! outcomes summed in entity order). A round's reports are read only after the previous
//! round's actions have been applied, so the loop closes through the network. Energy saving
//! ([`run_energy`], one entity per coverage cluster) and SLA-breach prediction ([`run_sla`],
//! one entity per cell and per site) run on the same rounds ([`Rounds`]).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use ai4ict_core::{Actuator, CellReport, Timestamp};
use ai4ict_energy::{
    ClusterOutcome, EnergyConfig, EnergyLoop, EnergyReport, SlaConfig, SlaLoop, SlaOutcome,
    SlaPredictor, SlaScores, SleepController, SleepNetwork,
};
use serde::{Deserialize, Serialize};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::{Input, Operator, Probe};
use timely::dataflow::ProbeHandle;
use timely::ExchangeData;

use crate::cluster::Cluster;
use crate::dataflow::Progress;
use crate::EngineError;

/// What a closed loop's run gave, the same in every process.
#[derive(Clone, Debug, Default)]
pub struct LoopRun {
    /// The energy-saving report (none when the run was stopped or failed, or is not energy
    /// saving).
    pub energy: Option<EnergyReport>,
    /// The SLA-breach scores, latency then link utilisation (none when the run was stopped or
    /// failed, or is not SLA-breach prediction).
    pub sla: Option<Vec<SlaScores>>,
    /// Records the loop read from the network: KPI rows (energy saving, one per cell and
    /// interval) or observations (SLA-breach prediction, one per entity and interval).
    pub records: u64,
    /// True when the stop flag ended the run before the scenario did.
    pub stopped: bool,
    /// What stopped a source, a node or the actuator.
    pub errors: Vec<String>,
}

/// A closed loop as the dataflow runs it (Y.3172 §8.1 item 1 chained in rounds): entities
/// keyed to the worker that owns them, each worker's part of the network read every round by
/// its source, each worker's node holding the models and policies of the entities it owns.
/// An entity's state depends on its own items only, so any placement of the entities on
/// workers gives the same outcomes.
trait Rounds: Send + Sync + 'static {
    /// What the source sends an entity each round.
    type Item: ExchangeData + Clone;
    /// An entity's result at the end of the loop, gathered on the leaders.
    type Outcome: ExchangeData + Clone;
    /// A worker's part of the network: what its source reads and its sink acts on.
    type Network;
    /// A worker's models and policies, by entity.
    type Node: Default;

    /// Rounds (intervals) of the loop.
    fn steps(&self) -> usize;
    /// Start of interval `step`.
    fn time(&self, step: usize) -> Timestamp;
    /// The worker of `peers` that owns entity `key`.
    fn owner(&self, key: u32, peers: usize) -> usize;
    /// Worker `index`'s part of the network: the entities it owns.
    fn network(lp: &Arc<Self>, index: usize, peers: usize) -> Self::Network;
    /// SRC: the items of round `step` of the network's entities.
    fn read(&self, network: &mut Self::Network, step: usize) -> Result<Read<Self::Item>, String>;
    /// M → P (→ SINK): the node takes items of round `step` (a batch of its entities).
    fn consume(
        &self,
        node: &mut Self::Node,
        network: &mut Self::Network,
        step: usize,
        items: Vec<(u32, Self::Item)>,
    ) -> Result<(), String>;
    /// The node's outcomes, once every source has ended.
    fn finish(&self, node: Self::Node) -> Vec<Self::Outcome>;
}

/// What a worker's source read in one round.
struct Read<I> {
    /// Each entity's item, keyed by entity.
    items: Vec<(u32, I)>,
    /// Records (reports or observations) the items hold.
    records: u64,
}

/// Outcomes and errors on their way to worker `.0` (a leader).
type ToLeaders<O> = Vec<(u32, Out<O>)>;

#[derive(Clone, Debug, Serialize, Deserialize)]
enum Round<I> {
    /// An entity's item of round `step`.
    Item { key: u32, step: u64, item: I },
    /// The source of a worker has ended.
    End { to: u32 },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
enum Out<O> {
    Outcome(O),
    Error(String),
}

/// What the rounds gave: the entity outcomes gathered on the first worker of the first
/// process, whether the stop flag ended them, and what went wrong.
struct Rounded<O> {
    outcomes: Vec<O>,
    stopped: bool,
    errors: Vec<String>,
}

/// Runs `lp`'s rounds on `cluster`: each worker's source reads its entities every round, the
/// items go to the entities' owners, and the next round starts once every item of this one
/// has been consumed (and every action has reached the network).
fn run_rounds<R: Rounds>(
    lp: Arc<R>,
    cluster: &Cluster,
    progress: Arc<Progress>,
) -> Result<Rounded<R::Outcome>, EngineError> {
    let started = cluster.start(&progress.stop)?;
    let per_process = cluster.workers.max(1);
    let results = started.execute(move |worker| {
        let lp = Arc::clone(&lp);
        let index = worker.index();
        let peers = worker.peers();
        let gathers = index % per_process == 0;
        let leaders = crate::cluster::leaders(peers, per_process);
        let network = Rc::new(RefCell::new(R::network(&lp, index, peers)));
        type Gathered<O> = Rc<RefCell<(Vec<O>, Vec<String>)>>;
        let gathered: Gathered<R::Outcome> = Rc::default();
        let mut input = timely::dataflow::InputHandle::new();
        let probe = ProbeHandle::new();
        let node_lp = Arc::clone(&lp);
        let node_network = Rc::clone(&network);
        let sink = Rc::clone(&gathered);
        worker.dataflow::<u64, _, _>(|scope| {
            let lp = node_lp;
            let route_lp = Arc::clone(&lp);
            let mut node = Some(R::Node::default());
            let mut ends = 0usize;
            let mut failed = false;
            let stream = scope.input_from(&mut input);
            let results = stream.unary(
                Exchange::new(move |r: &Round<R::Item>| match r {
                    Round::Item { key, .. } => route_lp.owner(*key, peers) as u64,
                    Round::End { to } => u64::from(*to),
                }),
                "M-P-SINK",
                move |_cap, _info| {
                    move |input, output| {
                        input.for_each_stamp(|cap, data| {
                            let mut session = output.session(&cap);
                            let mut give = |o: Out<R::Outcome>| {
                                for &to in &leaders {
                                    session.give((to, o.clone()));
                                }
                            };
                            // The items by round, in round order (a stamp may hold several).
                            let mut rounds: BTreeMap<u64, Vec<(u32, R::Item)>> = BTreeMap::new();
                            for container in data {
                                for round in container.drain(..) {
                                    match round {
                                        Round::Item { key, step, item } => {
                                            rounds.entry(step).or_default().push((key, item));
                                        }
                                        Round::End { .. } => ends += 1,
                                    }
                                }
                            }
                            for (step, items) in rounds {
                                let (false, Some(n)) = (failed, &mut node) else {
                                    break;
                                };
                                let mut net = node_network.borrow_mut();
                                if let Err(e) = lp.consume(n, &mut net, step as usize, items) {
                                    failed = true;
                                    give(Out::Error(e));
                                }
                            }
                            if ends == peers {
                                for o in node.take().map(|n| lp.finish(n)).unwrap_or_default() {
                                    give(Out::Outcome(o));
                                }
                            }
                        });
                    }
                },
            );
            let results: timely::dataflow::Stream<'_, u64, ToLeaders<R::Outcome>> = results;
            results.probe_with(&probe).sink(
                Exchange::new(|o: &(u32, Out<R::Outcome>)| u64::from(o.0)),
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

        // SRC: one round per interval; the next starts once every item of this one has been
        // consumed.
        let mut stopped = false;
        let mut errors = Vec::new();
        for step in 0..lp.steps() {
            if progress.stop.load(Ordering::Relaxed) {
                stopped = true;
                break;
            }
            let Read { items, records } = match lp.read(&mut network.borrow_mut(), step) {
                Ok(r) => r,
                Err(e) => {
                    errors.push(e);
                    break;
                }
            };
            progress.rows.fetch_add(records, Ordering::Relaxed);
            progress
                .event_time
                .fetch_max(lp.time(step).0, Ordering::Relaxed);
            for (key, item) in items {
                input.send(Round::Item {
                    key,
                    step: step as u64,
                    item,
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
    })?;

    let mut run = Rounded {
        outcomes: Vec::new(),
        stopped: false,
        errors: Vec::new(),
    };
    let mut gathered = false;
    for (gathers, mut o, mut errors, stopped) in results {
        run.stopped |= stopped;
        run.errors.append(&mut errors);
        if gathers && !gathered {
            gathered = true;
            run.outcomes.append(&mut o);
        }
    }
    Ok(run)
}

/// Energy saving's entities are the coverage clusters; a worker's network is the
/// [`SleepNetwork`] of the clusters it owns, reporting every cell each round and acting on
/// the controllers' decisions.
impl Rounds for EnergyLoop {
    type Item = Vec<CellReport>;
    type Outcome = ClusterOutcome;
    type Network = SleepNetwork;
    type Node = BTreeMap<usize, SleepController>;

    fn steps(&self) -> usize {
        EnergyLoop::steps(self)
    }

    fn time(&self, step: usize) -> Timestamp {
        EnergyLoop::time(self, step)
    }

    fn owner(&self, key: u32, peers: usize) -> usize {
        self.clusters()
            .get(key as usize)
            .map_or(0, |c| c.entity.owner(peers))
    }

    fn network(lp: &Arc<Self>, index: usize, peers: usize) -> SleepNetwork {
        lp.network(lp.owned(index, peers))
    }

    fn read(
        &self,
        network: &mut SleepNetwork,
        step: usize,
    ) -> Result<Read<Vec<CellReport>>, String> {
        let reports = network
            .report(EnergyLoop::time(self, step))
            .map_err(|e| e.to_string())?;
        let records = reports.len() as u64;
        let items = network
            .by_cluster(reports)
            .into_iter()
            .map(|(k, rows)| (k as u32, rows))
            .collect();
        Ok(Read { items, records })
    }

    fn consume(
        &self,
        node: &mut Self::Node,
        network: &mut SleepNetwork,
        step: usize,
        items: Vec<(u32, Vec<CellReport>)>,
    ) -> Result<(), String> {
        for (k, rows) in items {
            let k = k as usize;
            let c = node.entry(k).or_insert_with(|| self.controller(k));
            let actions = c.step(self, step, &rows).map_err(|e| e.to_string())?;
            if !actions.is_empty() {
                network
                    .actuate(EnergyLoop::time(self, step + 1), &actions)
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    fn finish(&self, node: Self::Node) -> Vec<ClusterOutcome> {
        node.into_values().map(SleepController::finish).collect()
    }
}

/// SLA-breach prediction's entities are the cells (latency) and the sites (backhaul links); a
/// worker's network is the entities it owns, observed each round. It only predicts: nothing
/// acts on the network.
impl Rounds for SlaLoop {
    type Item = f64;
    type Outcome = SlaOutcome;
    type Network = Vec<usize>;
    type Node = BTreeMap<usize, SlaPredictor>;

    fn steps(&self) -> usize {
        SlaLoop::steps(self)
    }

    fn time(&self, step: usize) -> Timestamp {
        SlaLoop::time(self, step)
    }

    fn owner(&self, key: u32, peers: usize) -> usize {
        self.entities()
            .get(key as usize)
            .map_or(0, |e| e.entity.owner(peers))
    }

    fn network(lp: &Arc<Self>, index: usize, peers: usize) -> Vec<usize> {
        lp.owned(index, peers)
    }

    fn read(&self, owned: &mut Vec<usize>, step: usize) -> Result<Read<f64>, String> {
        let items: Vec<(u32, f64)> = owned
            .iter()
            .map(|&e| (e as u32, self.observe(e, step)))
            .collect();
        let records = items.len() as u64;
        Ok(Read { items, records })
    }

    fn consume(
        &self,
        node: &mut Self::Node,
        _owned: &mut Vec<usize>,
        step: usize,
        items: Vec<(u32, f64)>,
    ) -> Result<(), String> {
        for &(e, _) in &items {
            let e = e as usize;
            if let std::collections::btree_map::Entry::Vacant(v) = node.entry(e) {
                v.insert(self.predictor(e).map_err(|err| err.to_string())?);
            }
        }
        let observed: BTreeMap<usize, f64> =
            items.into_iter().map(|(e, y)| (e as usize, y)).collect();
        let mut batch: Vec<(&mut SlaPredictor, f64)> = node
            .iter_mut()
            .filter_map(|(e, p)| observed.get(e).map(|&y| (p, y)))
            .collect();
        self.step(step, &mut batch).map_err(|e| e.to_string())
    }

    fn finish(&self, node: Self::Node) -> Vec<SlaOutcome> {
        node.into_values().map(|p| self.finish(p)).collect()
    }
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
    let rounded = run_rounds(Arc::clone(&lp), cluster, progress)?;
    let mut run = LoopRun {
        records: rounded.outcomes.iter().map(|o| o.records).sum(),
        stopped: rounded.stopped,
        errors: rounded.errors,
        ..LoopRun::default()
    };
    if run.stopped || !run.errors.is_empty() {
        return Ok(run);
    }
    let reference = lp.reference();
    run.energy = Some(
        lp.report(&reference, rounded.outcomes)
            .map_err(|e| EngineError::Plan(e.to_string()))?,
    );
    Ok(run)
}

/// Runs SLA-breach prediction ([`ai4ict_energy::SlaLoop`]) on `cluster`: one predictor per
/// cell and per site on the worker that owns it, fed the entity's observation every
/// interval; the scores are summed on the leaders in entity order.
pub fn run_sla(
    config: &SlaConfig,
    cluster: &Cluster,
    progress: Arc<Progress>,
) -> Result<LoopRun, EngineError> {
    let lp = Arc::new(SlaLoop::new(config).map_err(|e| EngineError::Plan(e.to_string()))?);
    let rounded = run_rounds(Arc::clone(&lp), cluster, progress)?;
    let mut run = LoopRun {
        records: rounded.outcomes.iter().map(|o| o.records).sum(),
        stopped: rounded.stopped,
        errors: rounded.errors,
        ..LoopRun::default()
    };
    if run.stopped || !run.errors.is_empty() {
        return Ok(run);
    }
    run.sla = Some(
        lp.report(rounded.outcomes)
            .map_err(|e| EngineError::Plan(e.to_string()))?,
    );
    Ok(run)
}
