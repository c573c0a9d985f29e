//! The pipeline as a timely dataflow: SRC/C (the feed, per worker) → exchange by entity →
//! PP → M → P → exchange to worker 0 → D/SINK. Per-entity state lives with the worker that
//! owns the entity (`Entity::owner`), so 1 worker, N workers and N processes see every
//! entity's rows in the same order and produce the same alerts. PP-M-P takes the rounds in
//! order, each once it is complete, so a checkpoint's marker cuts every reader's rows alike.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ai4ict_anomaly::DetectorConfig;
use ai4ict_connectors::AlertSink;
use ai4ict_core::{Alert, Batch, Entity, Interval, Source, SourceFactory, Timestamp};
use ai4ict_intent::{AlertPolicy, PreprocessStep};
use serde::{Deserialize, Serialize};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::{Capability, Input, Operator, Probe};
use timely::dataflow::ProbeHandle;

use crate::checkpoint::{self, CheckpointSpec, PartDigest};
use crate::cluster::Cluster;
use crate::nodes::{ModelNode, PolicyNode, Preprocessor, Scored};
use crate::observe::{Node, NodeMetrics, ScoreCounts};
use crate::state::{EntityState, PipelineState, Span};
use crate::EngineError;

/// Makes the sinks of the distributor (only worker 0 of process 0 builds them).
pub type SinkFactory = Arc<dyn Fn() -> Result<Vec<Box<dyn AlertSink>>, EngineError> + Send + Sync>;

/// Everything the dataflow needs to run one pipeline.
#[derive(Clone)]
pub struct PipelineSpec {
    /// Field names, in row order.
    pub fields: Vec<String>,
    /// The collect interval.
    pub interval: Interval,
    /// PP steps.
    pub preprocess: Vec<PreprocessStep>,
    /// M configuration.
    pub detector: DetectorConfig,
    /// P configuration.
    pub policy: AlertPolicy,
    /// Entities whose fields and scores are traced for plots.
    pub trace: Vec<Entity>,
    /// The part of the stream to run, the state to start from, whether to end with one.
    pub span: Span,
    /// Checkpoint at an interval (the source must be one that can resume, read whole by worker
    /// 0 or in partitions by every worker: see [`crate::checkpoint`]).
    pub checkpoint: Option<CheckpointSpec>,
}

impl PipelineSpec {
    /// A pipeline of `fields` at `interval` with the default detector and alert policy, no
    /// preprocessing, no traces, the whole stream and no checkpoints; set the rest by struct
    /// update.
    pub fn new(fields: Vec<String>, interval: Interval) -> Self {
        Self {
            fields,
            interval,
            preprocess: Vec::new(),
            detector: DetectorConfig::default(),
            policy: AlertPolicy::default(),
            trace: Vec::new(),
            span: Span::default(),
            checkpoint: None,
        }
    }
}

/// Live counters a progress display can read while the pipeline runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Rows read by the sources.
    pub rows: AtomicU64,
    /// Latest event time read, ms since the epoch.
    pub event_time: AtomicI64,
    /// Alerts handed to the deployed pipeline's sinks (counted where the sinks are: on
    /// worker 0 of process 0).
    pub alerts: AtomicU64,
    /// Set to stop the sources; the pipeline then drains and reports what it has.
    pub stop: AtomicBool,
    /// Per-node figures and taps of the anomaly pipeline (counted in this process).
    pub nodes: NodeMetrics,
}

/// One point of a traced entity: its fields after preprocessing, and the score.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TracePoint {
    /// Interval.
    pub time: Timestamp,
    /// Field values, in the pipeline's field order.
    pub values: Vec<f64>,
    /// Calibrated score.
    pub score: f64,
}

/// What a run produced, gathered on the first worker of every process.
#[derive(Clone, Debug, Default)]
pub struct RunOutput {
    /// Alerts in a canonical order (round, time, entity).
    pub alerts: Vec<Alert>,
    /// Traced entities' points.
    pub traces: BTreeMap<Entity, Vec<TracePoint>>,
    /// Rows scored by the model.
    pub rows: u64,
    /// Wall-clock latency of each batch from source to policy, in ms.
    pub latencies_ms: Vec<f64>,
    /// Rows dropped by PP as late or duplicate.
    pub late: u64,
    /// Rows invented by PP gap filling.
    pub filled: u64,
    /// Alerts withheld by the policy.
    pub suppressed: u64,
    /// Entities seen.
    pub entities: u64,
    /// Bytes of detector state over all entities.
    pub state_bytes: u64,
    /// True when the run was stopped before its sources ended.
    pub stopped: bool,
    /// Errors that stopped a source or a sink.
    pub errors: Vec<String>,
    /// Sources' closing summaries.
    pub source_notes: Vec<String>,
    /// True for the first worker of a process, which gathers every worker's results.
    pub is_leader: bool,
    /// The nodes' state at the end, when the spec asked for a snapshot.
    pub state: Option<PipelineState>,
    /// The last checkpoint this run completed: its epoch and the rows read up to it over
    /// every run since the first (known on worker 0 of process 0).
    pub checkpoint: Option<(u64, u64)>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Routed {
    to: u32,
    sent_us: u64,
    end: bool,
    /// A checkpoint marker: the receiving worker writes its part of this epoch.
    checkpoint: Option<u64>,
    /// Read in partitions: worker 0's word that the checkpoint whose marker was in this round
    /// is complete, so each reader acknowledges its messages up to there.
    committed: Option<u64>,
    /// On an end marker: the sending worker's source was stopped before its end.
    stopped: bool,
    batch: Batch,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
enum Out {
    Alert(Alert),
    Trace(Entity, TracePoint),
    /// A batch's latency from source to policy (ms) and its latest event time.
    Latency(f64, Option<Timestamp>),
    State(Vec<EntityState>),
    Part(Part),
    Done {
        rows: u64,
        late: u64,
        filled: u64,
        suppressed: u64,
        entities: u64,
        state_bytes: u64,
        /// Some worker's source was stopped: the run covers part of the stream.
        stopped: bool,
    },
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// A worker's part of a checkpoint, written or not.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Part {
    epoch: u64,
    worker: u32,
    written: Result<PartDigest, String>,
    /// Read in partitions: this worker's reader's position as of the marker's round, and the
    /// rows it read before (empty and 0 otherwise).
    position: Vec<u8>,
    rows: u64,
}

/// A checkpoint cut by worker 0 and not yet complete.
#[derive(Debug, Default)]
struct Cut {
    /// The round of its marker.
    round: u64,
    /// Read whole: the source's position and the rows read up to it.
    position: Vec<u8>,
    rows: u64,
}

/// Checkpoints cut and not yet complete, by epoch.
type Cuts = BTreeMap<u64, Cut>;

/// A reader's position and the rows it has read, as of each round since the latest marker
/// its worker processed.
type Reads = BTreeMap<u64, (Vec<u8>, u64)>;

/// Batches a worker may have in flight before its source waits for the pipeline.
const MAX_IN_FLIGHT: u64 = 8;

/// The longest a worker waiting on others parks before it steps again (it is woken sooner
/// when something arrives).
const PARK: std::time::Duration = std::time::Duration::from_millis(10);

/// How often a worker refreshes its nodes' state bytes (they cost a pass over its entities).
const STATE_BYTES_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Runs the pipeline on `cluster` and returns what this process's first worker gathered
/// (the same in every process; only worker 0 of process 0 writes to the sinks).
pub fn run(
    spec: PipelineSpec,
    cluster: &Cluster,
    feeds: SourceFactory,
    sinks: SinkFactory,
    progress: Arc<Progress>,
) -> Result<RunOutput, EngineError> {
    let started = cluster.start(&progress.stop)?;
    let spec = Arc::new(spec);
    let per_process = cluster.workers.max(1);
    let results = started.execute(move |worker| {
        let index = worker.index();
        let peers = worker.peers();
        // The first worker of every process gathers all results, so every process reaches
        // the same decisions (e.g. whether to deploy); only worker 0 writes to the sinks.
        let gathers = index % per_process == 0;
        let leaders = crate::cluster::leaders(peers, per_process);
        let out = Rc::new(RefCell::new(RunOutput {
            is_leader: gathers,
            ..RunOutput::default()
        }));
        let mut input = timely::dataflow::InputHandle::new();
        let probe = ProbeHandle::new();
        let mut model_error = None;
        let spec2 = Arc::clone(&spec);
        let sink_out = Rc::clone(&out);
        let sinks = Arc::clone(&sinks);
        let delivered = Arc::clone(&progress);
        let observed = Arc::clone(&progress);
        // Checkpoints cut by this worker (0) and not yet complete; the latest complete one
        // (epoch and marker's round) and the latest decided one, which D sets; and the
        // batches D has seen (read in partitions, worker 0 cuts when there were new ones).
        let cuts: Rc<RefCell<Cuts>> = Rc::default();
        let committed = Rc::new(Cell::new((0u64, 0u64)));
        let settled = Rc::new(Cell::new(0u64));
        let seen = Rc::new(Cell::new(0u64));
        let (sink_cuts, sink_committed) = (Rc::clone(&cuts), Rc::clone(&committed));
        let (sink_settled, sink_seen) = (Rc::clone(&settled), Rc::clone(&seen));
        // Read in partitions: this worker's reader's positions by round, and the round of the
        // latest checkpoint worker 0 said is complete.
        let partitioned = spec
            .checkpoint
            .as_ref()
            .is_some_and(|c| c.partitions.is_some());
        let reads: Rc<RefCell<Reads>> = Rc::default();
        let notified = Rc::new(Cell::new(0u64));
        let (pp_reads, pp_notified) = (Rc::clone(&reads), Rc::clone(&notified));
        // The end markers this worker has processed (one from each worker that has ended).
        let ended = Rc::new(Cell::new(0usize));
        let pp_ended = Rc::clone(&ended);
        worker.dataflow::<u64, _, _>(|scope| {
            let spec = spec2;
            let width = spec.fields.len();
            let mut pre = Preprocessor::new(&spec.preprocess, &spec.fields, spec.interval);
            let mut model = match ModelNode::new(&spec.detector, width, spec.interval) {
                Ok(m) => Some(m),
                Err(e) => {
                    model_error = Some(e.to_string());
                    None
                }
            };
            let mut policy = PolicyNode::new(&spec.policy, &spec.fields, spec.interval);
            if let (Some(start), Some(model)) = (&spec.span.start, model.as_mut()) {
                restore(start, index, peers, &spec, &mut pre, model, &mut policy);
            }
            let snapshot = spec.span.snapshot;
            // What each checkpoint part is written with besides its entities.
            let part_of = PipelineState {
                fields: spec.fields.clone(),
                interval: spec.interval,
                preprocess: spec.preprocess.clone(),
                detector: spec.detector.clone(),
                until: None,
                entities: Vec::new(),
            };
            let ckpt_dir = spec.checkpoint.as_ref().map(|c| c.dir.clone());
            let traced: HashSet<Entity> = spec.trace.iter().cloned().collect();
            let mut ends = 0usize;
            let mut cut_short = false;
            let mut rows = 0u64;
            let mut buf = Batch::new(width);
            let mut scored = Scored::default();
            let mut alerts = Vec::new();
            let fields = spec.fields.clone();
            // The state bytes this worker last reported for PP, M and P (those it starts
            // from at once), and when.
            let mut reported = [0u64; 3];
            let now = [
                pre.state_bytes(),
                model.as_ref().map_or(0, ModelNode::state_bytes),
                policy.state_bytes(),
            ];
            observed.nodes.state_bytes(&mut reported, now);
            let mut refreshed = Instant::now();
            let stream = scope.input_from(&mut input);
            let results = stream.unary_frontier(
                Exchange::new(|r: &Routed| u64::from(r.to)),
                "PP-M-P",
                move |_cap, _info| {
                    // Each round's input, held until the round is complete: rounds are
                    // processed in order and a marker first in its round, so a part holds the
                    // rows of every reader's rounds before the marker, and no others.
                    let mut stash: BTreeMap<u64, (Capability<u64>, Vec<Routed>)> = BTreeMap::new();
                    move |(input, frontier), output| {
                        input.for_each_stamp(|cap, data| {
                            let Some(cap) = cap.retain_least(0) else {
                                return;
                            };
                            let slot = stash
                                .entry(*cap.time())
                                .or_insert_with(|| (cap, Vec::new()));
                            for c in data {
                                slot.1.append(c);
                            }
                        });
                        while let Some(entry) = stash.first_entry() {
                            if frontier.less_equal(entry.key()) {
                                break;
                            }
                            let (cap, mut round) = entry.remove();
                            round.sort_by_key(|r| (r.checkpoint.is_none(), r.end));
                            let mut session = output.session(&cap);
                            let mut give = |o: Out| {
                                for &to in &leaders {
                                    session.give((to, o.clone()));
                                }
                            };
                            for routed in round {
                                if let Some(at) = routed.committed {
                                    pp_notified.set(pp_notified.get().max(at));
                                    continue;
                                }
                                if let (Some(epoch), Some(dir)) = (routed.checkpoint, &ckpt_dir) {
                                    let (position, rows) = if partitioned {
                                        read_at(&mut pp_reads.borrow_mut(), *cap.time())
                                    } else {
                                        (Vec::new(), 0)
                                    };
                                    let written = match model.as_ref() {
                                        Some(model) => checkpoint::write_part(
                                            dir,
                                            epoch,
                                            index,
                                            &part_of,
                                            states(&pre, model, &policy),
                                        )
                                        .map_err(|e| e.to_string()),
                                        None => Err("no detector to checkpoint".into()),
                                    };
                                    give(Out::Part(Part {
                                        epoch,
                                        worker: index as u32,
                                        written,
                                        position,
                                        rows,
                                    }));
                                    continue;
                                }
                                if routed.end {
                                    pp_ended.set(pp_ended.get() + 1);
                                }
                                let Some(model) = model.as_mut() else {
                                    continue;
                                };
                                let received = routed.batch.len();
                                if routed.end {
                                    ends += 1;
                                    cut_short |= routed.stopped;
                                    if ends < peers {
                                        continue;
                                    }
                                    if snapshot {
                                        buf = Batch::new(width);
                                    } else {
                                        pre.flush(&mut buf);
                                    }
                                } else if pre.is_identity() {
                                    buf = routed.batch;
                                } else {
                                    pre.process(&routed.batch, &mut buf);
                                }
                                let nodes = &observed.nodes;
                                let latest = buf.max_time();
                                let pp = nodes.node(Node::Pp);
                                pp.pass(received, buf.len(), latest);
                                if pp.tapped() {
                                    pp.sample_rows(&buf, &fields, None);
                                }
                                rows += buf.len() as u64;
                                let scoring = buf.len();
                                model.process(std::mem::take(&mut buf), &mut scored);
                                let m = nodes.node(Node::M);
                                m.pass(scoring, scored.scores.len(), latest);
                                let mut counts = ScoreCounts::default();
                                counts.add(scored.scores.iter().map(|s| s.value));
                                nodes.add_scores(&counts);
                                if m.tapped() {
                                    let values: Vec<f64> =
                                        scored.scores.iter().map(|s| s.value).collect();
                                    m.sample_rows(&scored.batch, &fields, Some(&values));
                                }
                                policy.process(&scored, &mut alerts);
                                let p = nodes.node(Node::P);
                                let weighed = scored.batch.len() + scored.silences.len();
                                p.pass(weighed, alerts.len(), latest);
                                if p.tapped() {
                                    p.sample_alerts(&alerts);
                                }
                                if routed.end || refreshed.elapsed() >= STATE_BYTES_EVERY {
                                    refreshed = Instant::now();
                                    let now = [
                                        pre.state_bytes(),
                                        model.state_bytes(),
                                        policy.state_bytes(),
                                    ];
                                    nodes.state_bytes(&mut reported, now);
                                }
                                for a in alerts.drain(..) {
                                    give(Out::Alert(a));
                                }
                                if !traced.is_empty() {
                                    for (i, (e, t, v)) in scored.batch.rows().enumerate() {
                                        if traced.contains(e) {
                                            let p = TracePoint {
                                                time: t,
                                                values: v.to_vec(),
                                                score: scored.scores[i].value,
                                            };
                                            give(Out::Trace(e.clone(), p));
                                        }
                                    }
                                }
                                if !routed.end {
                                    give(Out::Latency(
                                        (now_us().saturating_sub(routed.sent_us)) as f64 / 1000.0,
                                        latest,
                                    ));
                                } else {
                                    if snapshot {
                                        give(Out::State(states(&pre, model, &policy)));
                                    }
                                    give(Out::Done {
                                        rows,
                                        late: pre.late(),
                                        filled: pre.filled(),
                                        suppressed: policy.suppressed(),
                                        entities: model.entities() as u64,
                                        state_bytes: model.state_bytes() as u64,
                                        stopped: cut_short,
                                    });
                                }
                            }
                        }
                    }
                },
            );
            let results: timely::dataflow::Stream<'_, u64, Vec<(u32, Out)>> = results;
            let mut pending: BTreeMap<u64, Vec<(u32, Out)>> = BTreeMap::new();
            let mut built: Option<Vec<Box<dyn AlertSink>>> = None;
            let mut sink_failed = false;
            let mut snapshot_parts: Vec<EntityState> = Vec::new();
            let mut parts: BTreeMap<u64, Vec<Part>> = BTreeMap::new();
            // A sink that failed a write has lost alerts: no later checkpoint may complete.
            let mut undelivered = false;
            let sink_spec = Arc::clone(&spec);
            results.probe_with(&probe).sink(
                Exchange::new(|o: &(u32, Out)| u64::from(o.0)),
                "D",
                move |(input, frontier)| {
                    input.for_each_stamp(|cap, data| {
                        let Some(t) = cap.least().copied() else {
                            return;
                        };
                        let slot = pending.entry(t).or_default();
                        for c in data {
                            slot.append(c);
                        }
                    });
                    if !gathers {
                        return;
                    }
                    if index == 0 && built.is_none() && !sink_failed {
                        match sinks() {
                            Ok(s) => built = Some(s),
                            Err(e) => {
                                sink_failed = true;
                                sink_out.borrow_mut().errors.push(e.to_string());
                            }
                        }
                    }
                    let done: Vec<u64> = pending
                        .keys()
                        .copied()
                        .filter(|t| !frontier.less_equal(t))
                        .collect();
                    let mut out = sink_out.borrow_mut();
                    for t in done {
                        let mut round_alerts = Vec::new();
                        let mut round_time = None;
                        for (_, item) in pending.remove(&t).unwrap_or_default() {
                            match item {
                                Out::Alert(a) => round_alerts.push(a),
                                Out::Trace(e, p) => out.traces.entry(e).or_default().push(p),
                                Out::Latency(ms, time) => {
                                    out.latencies_ms.push(ms);
                                    round_time = round_time.max(time);
                                    sink_seen.set(sink_seen.get() + 1);
                                }
                                Out::State(states) => snapshot_parts.extend(states),
                                Out::Part(part) => {
                                    // Only worker 0 of process 0 completes checkpoints.
                                    if index == 0 {
                                        parts.entry(part.epoch).or_default().push(part);
                                    }
                                }
                                Out::Done {
                                    rows,
                                    late,
                                    filled,
                                    suppressed,
                                    entities,
                                    state_bytes,
                                    stopped,
                                } => {
                                    out.stopped |= stopped;
                                    out.rows += rows;
                                    out.late += late;
                                    out.filled += filled;
                                    out.suppressed += suppressed;
                                    out.entities += entities;
                                    out.state_bytes += state_bytes;
                                }
                            }
                        }
                        round_alerts.sort_by(|a, b| {
                            (a.time, a.entity.name()).cmp(&(b.time, b.entity.name()))
                        });
                        let mut written = 0;
                        if let Some(sinks) = built.as_mut() {
                            let mut failed = false;
                            for s in sinks.iter_mut() {
                                if let Err(e) = s.write(&round_alerts) {
                                    failed = true;
                                    out.errors.push(format!("sink: {e}"));
                                }
                            }
                            undelivered |= failed;
                            if !sinks.is_empty() {
                                delivered
                                    .alerts
                                    .fetch_add(round_alerts.len() as u64, Ordering::Relaxed);
                                if !failed {
                                    written = round_alerts.len();
                                }
                            }
                        }
                        if index == 0 {
                            let sink = delivered.nodes.node(Node::Sink);
                            sink.pass(round_alerts.len(), written, round_time);
                            if sink.tapped() {
                                sink.sample_alerts(&round_alerts);
                            }
                        }
                        out.alerts.extend(round_alerts);
                        // The alerts of every round before a checkpoint's marker are delivered
                        // now: complete it once all its parts are written.
                        let (Some(c), 0) = (&sink_spec.checkpoint, index) else {
                            continue;
                        };
                        let ready: Vec<u64> = parts
                            .iter()
                            .filter(|(_, p)| p.len() == peers)
                            .map(|(e, _)| *e)
                            .collect();
                        for epoch in ready {
                            let mut written = parts.remove(&epoch).unwrap_or_default();
                            written.sort_by_key(|p| p.worker);
                            let cut = sink_cuts.borrow_mut().remove(&epoch).unwrap_or_default();
                            let (positions, read) = match c.partitions {
                                None => (vec![cut.position], cut.rows),
                                Some(_) => (
                                    written.iter().map(|p| p.position.clone()).collect(),
                                    c.resume.as_ref().map_or(0, |r| r.rows)
                                        + written.iter().map(|p| p.rows).sum::<u64>(),
                                ),
                            };
                            let digests: Result<Vec<PartDigest>, String> =
                                written.into_iter().map(|p| p.written).collect();
                            let done = match digests {
                                Err(e) => Err(e),
                                Ok(_) if undelivered => Err(format!(
                                    "checkpoint {epoch} not completed: a sink lost alerts"
                                )),
                                Ok(d) => checkpoint::write_manifest(
                                    &c.dir,
                                    epoch,
                                    d,
                                    c.partitions,
                                    positions,
                                    read,
                                )
                                .map_err(|e| e.to_string()),
                            };
                            sink_settled.set(epoch);
                            match done {
                                Ok(()) => {
                                    sink_committed.set((epoch, cut.round));
                                    out.checkpoint = Some((epoch, read));
                                }
                                Err(e) => out.errors.push(e),
                            }
                        }
                    }
                    if frontier.is_empty() {
                        if let Some(mut sinks) = built.take() {
                            for s in sinks.iter_mut() {
                                if let Err(e) = s.finish() {
                                    out.errors.push(format!("sink: {e}"));
                                }
                            }
                        }
                        for v in out.traces.values_mut() {
                            v.sort_by_key(|p| p.time);
                        }
                        if sink_spec.span.snapshot {
                            let mut entities = std::mem::take(&mut snapshot_parts);
                            entities.sort_by(|a, b| a.entity.cmp(&b.entity));
                            out.state = Some(PipelineState {
                                fields: sink_spec.fields.clone(),
                                interval: sink_spec.interval,
                                preprocess: sink_spec.preprocess.clone(),
                                detector: sink_spec.detector.clone(),
                                until: sink_spec.span.until,
                                entities,
                            });
                        }
                    }
                },
            );
        });

        if let Some(e) = model_error {
            out.borrow_mut().errors.push(e);
        }
        // SRC → C: read this worker's feed, route rows to their owners.
        let mut round = 0u64;
        let (from, until) = (
            spec.span.from.unwrap_or(Timestamp(i64::MIN)),
            spec.span.until.unwrap_or(Timestamp(i64::MAX)),
        );
        let bounded = spec.span.from.is_some() || spec.span.until.is_some();
        let mut feed = match feeds(index, peers) {
            Ok(f) => Some(f),
            Err(e) => {
                out.borrow_mut()
                    .errors
                    .push(EngineError::Source(e.0).to_string());
                None
            }
        };
        // Worker 0 cuts the checkpoints and reads a source read whole; read in partitions,
        // every worker reads its share.
        let ckpt = spec.checkpoint.as_ref().filter(|_| index == 0);
        let reader = spec
            .checkpoint
            .as_ref()
            .filter(|_| index == 0 || partitioned);
        let resume = reader.and_then(|c| c.resume.as_ref());
        let mut epoch = resume.map_or(0, |r| r.epoch);
        // Rows read: by a source read whole, over every run since the first; by a partition
        // reader, in this run.
        let mut read = resume.filter(|_| !partitioned).map_or(0, |r| r.rows);
        let (mut acked, mut acked_round) = (epoch, 0);
        let (mut last_cut, mut read_at_cut, mut seen_at_cut) = (Instant::now(), read, 0);
        if let (Some(f), Some(_)) = (feed.as_mut(), reader) {
            match f.checkpoint_from(resume.map(|r| r.position.as_slice())) {
                Ok(()) if partitioned => {
                    reads.borrow_mut().insert(0, (f.cut(0), 0));
                }
                Ok(()) => {}
                Err(e) => {
                    out.borrow_mut()
                        .errors
                        .push(EngineError::Source(e.0).to_string());
                    feed = None;
                }
            }
        }
        let mut failed = false;
        let width = spec.fields.len();
        // Read in partitions, worker 0 goes on cutting (in empty rounds) after its source has
        // ended or stopped until every other reader has ended, so the last checkpoint covers
        // them all.
        let others_reading = || partitioned && ckpt.is_some() && ended.get() + 1 < peers;
        // Late rows of this worker's source counted in SRC's figures so far.
        let mut late = 0u64;
        while let Some(f) = feed.as_mut() {
            let batch = if progress.stop.load(Ordering::Relaxed) {
                out.borrow_mut().stopped = true;
                // What the source holds back (event time) goes on first: nothing read is lost.
                match f.take_held() {
                    Some(b) => b,
                    None if others_reading() => {
                        worker.step_or_park(Some(PARK));
                        Batch::new(width)
                    }
                    None => break,
                }
            } else {
                match f.next_batch() {
                    None if others_reading() => {
                        worker.step_or_park(Some(PARK));
                        Batch::new(width)
                    }
                    None => break,
                    Some(Err(e)) => {
                        out.borrow_mut()
                            .errors
                            .push(EngineError::Source(e.0).to_string());
                        failed = true;
                        break;
                    }
                    Some(Ok(b)) => b,
                }
            };
            let raw = batch.len();
            let batch = if bounded {
                batch.within(from, until)
            } else {
                batch
            };
            progress
                .rows
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            let latest = batch.max_time();
            if let Some(t) = latest {
                progress.event_time.fetch_max(t.0, Ordering::Relaxed);
            }
            let src = progress.nodes.node(Node::Src);
            src.pass(raw, batch.len(), latest);
            let now_late = f.late_rows();
            if now_late > late {
                src.late(now_late - late);
                late = now_late;
            }
            if src.tapped() {
                src.sample_rows(&batch, &spec.fields, None);
            }
            let sent_us = now_us();
            let rows_read = batch.len() as u64;
            for (to, part) in batch.partition(peers).into_iter().enumerate() {
                if !part.is_empty() {
                    input.send(Routed {
                        to: to as u32,
                        sent_us,
                        end: false,
                        checkpoint: None,
                        committed: None,
                        stopped: false,
                        batch: part,
                    });
                }
            }
            read += rows_read;
            round += 1;
            input.advance_to(round);
            if partitioned {
                // The cut of every round: the position a marker in it would take. Tagged
                // with the round, so a commit of a round acknowledges what was read before.
                reads.borrow_mut().insert(round, (f.cut(round), read));
            }
            while probe.less_than(&round.saturating_sub(MAX_IN_FLIGHT)) {
                // Parked while waiting on other workers, so it leaves them the core.
                worker.step_or_park(Some(PARK));
            }
            if let Some(c) = ckpt {
                // Read in partitions, worker 0 knows others have read from the batches D saw.
                let fresh = if partitioned {
                    seen.get() > seen_at_cut
                } else {
                    read > read_at_cut
                };
                if fresh && last_cut.elapsed() >= c.every {
                    epoch += 1;
                    let whole: Option<&mut dyn Source> = (!partitioned).then(|| f.as_mut() as _);
                    cut(
                        whole, &mut input, &mut round, epoch, read, peers, width, &cuts,
                    );
                    (last_cut, read_at_cut, seen_at_cut) = (Instant::now(), read, seen.get());
                }
                worker.step();
                let (done, at) = committed.get();
                if done > acked {
                    acked = done;
                    if partitioned {
                        notify(&mut input, at, peers, width);
                    } else {
                        f.commit(acked);
                    }
                }
            }
            if notified.get() > acked_round {
                acked_round = notified.get();
                f.commit(acked_round);
            }
        }
        // A source that ended or was stopped ends in a checkpoint; one that failed does not.
        if let (Some(f), Some(_), false) = (feed.as_mut(), ckpt, failed) {
            epoch += 1;
            let whole: Option<&mut dyn Source> = (!partitioned).then(|| f.as_mut() as _);
            cut(
                whole, &mut input, &mut round, epoch, read, peers, width, &cuts,
            );
            if partitioned {
                // The readers hear that it is complete from worker 0, before its input ends.
                while settled.get() < epoch {
                    worker.step_or_park(Some(PARK));
                }
                let (done, at) = committed.get();
                if done > acked {
                    notify(&mut input, at, peers, width);
                }
            }
        }
        if let Some(note) = feed.as_ref().and_then(|f| f.summary()) {
            out.borrow_mut().source_notes.push(note);
        }
        let stopped = out.borrow().stopped;
        for to in 0..peers {
            input.send(Routed {
                to: to as u32,
                sent_us: now_us(),
                end: true,
                checkpoint: None,
                committed: None,
                stopped,
                batch: Batch::new(width),
            });
        }
        input.close();
        while worker.step_or_park(Some(PARK)) {}
        if let Some(f) = feed.as_mut() {
            if partitioned && notified.get() > acked_round {
                f.commit(notified.get());
            } else if !partitioned && committed.get().0 > acked {
                f.commit(committed.get().0);
            }
        }
        let result = out.borrow().clone();
        result
    })?;

    let mut leader = None;
    let mut stopped = false;
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    for mut r in results {
        stopped |= r.stopped;
        if r.is_leader {
            leader = Some(r);
        } else {
            errors.append(&mut r.errors);
            notes.append(&mut r.source_notes);
        }
    }
    let mut out = leader.unwrap_or_default();
    out.stopped |= stopped;
    out.errors.extend(errors);
    out.source_notes.extend(notes);
    Ok(out)
}

/// Cuts checkpoint `epoch` after `read` rows: keeps the position of a source read `whole` for
/// the manifest (read in partitions, each worker's part carries its reader's) and sends every
/// worker the marker, alone in a round, so each writes its part between the rows before and
/// those after.
#[allow(clippy::too_many_arguments)]
fn cut(
    whole: Option<&mut dyn Source>,
    input: &mut timely::dataflow::InputHandle<
        u64,
        timely::container::CapacityContainerBuilder<Vec<Routed>>,
    >,
    round: &mut u64,
    epoch: u64,
    read: u64,
    peers: usize,
    width: usize,
    cuts: &RefCell<Cuts>,
) {
    let position = whole.map_or_else(Vec::new, |s| s.cut(epoch));
    let cut = Cut {
        round: *round,
        position,
        rows: read,
    };
    cuts.borrow_mut().insert(epoch, cut);
    for to in 0..peers {
        input.send(Routed {
            to: to as u32,
            sent_us: now_us(),
            end: false,
            checkpoint: Some(epoch),
            committed: None,
            stopped: false,
            batch: Batch::new(width),
        });
    }
    *round += 1;
    input.advance_to(*round);
}

/// Read in partitions: tells every worker that the checkpoint whose marker was in round `at`
/// is complete, so its reader acknowledges what it read before.
fn notify(
    input: &mut timely::dataflow::InputHandle<
        u64,
        timely::container::CapacityContainerBuilder<Vec<Routed>>,
    >,
    at: u64,
    peers: usize,
    width: usize,
) {
    for to in 0..peers {
        input.send(Routed {
            to: to as u32,
            sent_us: now_us(),
            end: false,
            checkpoint: None,
            committed: Some(at),
            stopped: false,
            batch: Batch::new(width),
        });
    }
}

/// A reader's position and rows read as of round `at` (its latest entry at or before it);
/// forgets the entries before, as every later marker is in a later round.
fn read_at(reads: &mut Reads, at: u64) -> (Vec<u8>, u64) {
    let found = reads
        .range(..=at)
        .next_back()
        .map(|(_, r)| r.clone())
        .unwrap_or_default();
    *reads = reads.split_off(&at);
    reads.entry(at).or_insert_with(|| found.clone());
    found
}

/// Starts worker `index` of `peers` from the entities of `start` that it owns.
fn restore(
    start: &PipelineState,
    index: usize,
    peers: usize,
    spec: &PipelineSpec,
    pre: &mut Preprocessor,
    model: &mut ModelNode,
    policy: &mut PolicyNode,
) {
    let with_pp = start.restores_preprocess(&spec.preprocess);
    for e in start
        .entities
        .iter()
        .filter(|e| e.entity.owner(peers) == index)
    {
        if let (Some(s), true) = (&e.preprocess, with_pp) {
            pre.restore(e.entity.clone(), s.clone());
        }
        if let Some(d) = &e.model {
            model.restore(e.entity.clone(), d.clone(), e.telemetry.clone());
        }
        if let Some(p) = &e.policy {
            policy.restore(e.entity.clone(), p.clone());
        }
    }
}

/// Every entity's state in this worker's nodes.
fn states(pre: &Preprocessor, model: &ModelNode, policy: &PolicyNode) -> Vec<EntityState> {
    fn slot<'a>(map: &'a mut BTreeMap<Entity, EntityState>, e: &Entity) -> &'a mut EntityState {
        map.entry(e.clone())
            .or_insert_with(|| EntityState::new(e.clone()))
    }
    let mut map: BTreeMap<Entity, EntityState> = BTreeMap::new();
    for (e, s) in pre.states() {
        slot(&mut map, e).preprocess = Some(s.clone());
    }
    for (e, d, c) in model.states() {
        let s = slot(&mut map, e);
        s.model = Some(d.clone());
        s.telemetry = Some(c.clone());
    }
    for (e, r) in policy.states() {
        slot(&mut map, e).policy = Some(r.clone());
    }
    map.into_values().collect()
}
