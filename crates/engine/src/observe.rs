//! What a running pipeline shows of each Y.3172 node: records in and out, the latest event
//! time passed on, per-entity state bytes, the model's scores, and taps that sample the
//! records passing a node. The dataflow counts once per batch (a few relaxed atomic adds);
//! a tap's ring is filled only while a tap is open.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use ai4ict_core::{Alert, Batch, Timestamp};
use serde_json::{json, Map, Value};

/// A node of the pipeline (Y.3172 §8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    /// The source: rows read.
    Src,
    /// The preprocessor.
    Pp,
    /// The model: detector and telemetry check.
    M,
    /// The policy: alerts raised.
    P,
    /// The sinks: alerts delivered.
    Sink,
}

impl Node {
    /// Every node, in pipeline order.
    pub const ALL: [Node; 5] = [Node::Src, Node::Pp, Node::M, Node::P, Node::Sink];

    /// Its Y.3172 name.
    pub fn name(self) -> &'static str {
        match self {
            Node::Src => "SRC",
            Node::Pp => "PP",
            Node::M => "M",
            Node::P => "P",
            Node::Sink => "SINK",
        }
    }

    /// The node named `name` (any case).
    pub fn parse(name: &str) -> Option<Node> {
        Node::ALL
            .into_iter()
            .find(|n| n.name().eq_ignore_ascii_case(name))
    }

    /// Whether the node keeps per-entity state.
    pub fn has_state(self) -> bool {
        matches!(self, Node::Pp | Node::M | Node::P)
    }
}

/// Upper bounds of the model's score buckets (calibrated scores lie in [0, 1]).
pub const SCORE_BOUNDS: [f64; 6] = [0.5, 0.8, 0.9, 0.95, 0.99, 1.0];

/// Records a tap keeps per node; older ones are dropped.
pub const TAP_CAPACITY: usize = 256;

/// Records sampled from one batch at a node while it is tapped.
const TAP_PER_BATCH: usize = 16;

/// One node's counters.
#[derive(Debug, Default)]
pub struct NodeCounters {
    records_in: AtomicU64,
    records_out: AtomicU64,
    /// Latest event time passed on, ms since the epoch (0: none yet).
    event_time: AtomicI64,
    /// Bytes of per-entity state, summed over the workers.
    state_bytes: AtomicU64,
    /// SRC: rows dropped as late (older than the source's watermark).
    late_rows: AtomicU64,
    tap: Tap,
}

/// One node's figures, read at once.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NodeFigures {
    /// Records that reached the node.
    pub records_in: u64,
    /// Records it passed on.
    pub records_out: u64,
    /// Latest event time it passed on.
    pub event_time: Option<Timestamp>,
    /// Bytes of per-entity state.
    pub state_bytes: u64,
    /// SRC: rows dropped as late.
    pub late_rows: u64,
}

impl NodeCounters {
    /// Counts a batch: `records_in` reached the node, `records_out` left it, the latest at `time`.
    pub fn pass(&self, records_in: usize, records_out: usize, time: Option<Timestamp>) {
        self.records_in
            .fetch_add(records_in as u64, Ordering::Relaxed);
        self.records_out
            .fetch_add(records_out as u64, Ordering::Relaxed);
        if let Some(t) = time {
            self.event_time.fetch_max(t.0, Ordering::Relaxed);
        }
    }

    /// Counts `rows` dropped as late (SRC).
    pub fn late(&self, rows: u64) {
        self.late_rows.fetch_add(rows, Ordering::Relaxed);
    }

    /// Replaces a worker's share of the state bytes: it reported `before`, it holds `now`.
    fn state_bytes(&self, before: u64, now: u64) {
        self.state_bytes
            .fetch_add(now.wrapping_sub(before), Ordering::Relaxed);
    }

    /// The figures now.
    pub fn figures(&self) -> NodeFigures {
        let t = self.event_time.load(Ordering::Relaxed);
        NodeFigures {
            records_in: self.records_in.load(Ordering::Relaxed),
            records_out: self.records_out.load(Ordering::Relaxed),
            event_time: (t != 0).then_some(Timestamp(t)),
            state_bytes: self.state_bytes.load(Ordering::Relaxed),
            late_rows: self.late_rows.load(Ordering::Relaxed),
        }
    }

    /// True while a tap is open on the node: only then are records sampled.
    pub fn tapped(&self) -> bool {
        self.tap.open.load(Ordering::Relaxed) > 0
    }

    /// Samples up to a few rows of `batch` (of `fields`), with their scores when given.
    pub fn sample_rows(&self, batch: &Batch, fields: &[String], scores: Option<&[f64]>) {
        let step = batch.len().div_ceil(TAP_PER_BATCH).max(1);
        let records = (0..batch.len()).step_by(step).map(|i| {
            let values: Map<String, Value> = fields
                .iter()
                .zip(batch.row(i))
                .map(|(f, v)| (f.clone(), json!(v)))
                .collect();
            let mut r = json!({
                "entity": batch.entity(i).name(),
                "time": batch.time(i).to_string(),
                "values": values,
            });
            if let Some(s) = scores.and_then(|s| s.get(i)) {
                r["score"] = json!(s);
            }
            r
        });
        self.tap.push(records);
    }

    /// Samples up to a few of `alerts`.
    pub fn sample_alerts(&self, alerts: &[Alert]) {
        let step = alerts.len().div_ceil(TAP_PER_BATCH).max(1);
        self.tap.push(alerts.iter().step_by(step).map(|a| {
            json!({
                "entity": a.entity.name(),
                "time": a.time.to_string(),
                "onset": a.onset.to_string(),
                "field": a.field,
                "severity": a.severity.to_string(),
                "score": a.score,
            })
        }));
    }

    /// Opens a tap, waits for up to `limit` records to pass (at most `timeout`, or until
    /// `ended` says the pipeline ended), and closes it.
    pub fn tap(&self, limit: usize, timeout: Duration, ended: impl Fn() -> bool) -> Vec<Value> {
        let open = Open::new(&self.tap);
        let mut seen = open.from;
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        loop {
            {
                let ring = self.tap.ring.lock().unwrap_or_else(PoisonError::into_inner);
                let from = seen;
                for (seq, r) in ring.records.iter().filter(|(s, _)| *s >= from) {
                    if out.len() < limit {
                        out.push(r.clone());
                    }
                    seen = seq + 1;
                }
            }
            if out.len() >= limit || Instant::now() >= deadline || ended() {
                return out;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn reset(&self) {
        self.records_in.store(0, Ordering::Relaxed);
        self.records_out.store(0, Ordering::Relaxed);
        self.event_time.store(0, Ordering::Relaxed);
        self.state_bytes.store(0, Ordering::Relaxed);
        self.late_rows.store(0, Ordering::Relaxed);
    }
}

/// A node's tap: how many are open, and the ring of sampled records, numbered.
#[derive(Debug, Default)]
struct Tap {
    open: AtomicUsize,
    ring: Mutex<Ring>,
}

#[derive(Debug, Default)]
struct Ring {
    next: u64,
    records: VecDeque<(u64, Value)>,
}

impl Tap {
    fn push(&self, records: impl Iterator<Item = Value>) {
        let mut ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        for r in records {
            if ring.records.len() == TAP_CAPACITY {
                ring.records.pop_front();
            }
            let seq = ring.next;
            ring.records.push_back((seq, r));
            ring.next += 1;
        }
    }
}

/// An open tap: the first record it reads; closing the last one empties the ring.
struct Open<'a> {
    tap: &'a Tap,
    from: u64,
}

impl<'a> Open<'a> {
    fn new(tap: &'a Tap) -> Self {
        let from = tap.ring.lock().unwrap_or_else(PoisonError::into_inner).next;
        tap.open.fetch_add(1, Ordering::Relaxed);
        Open { tap, from }
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        if self.tap.open.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.tap
                .ring
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .records
                .clear();
        }
    }
}

/// The model's scores: a count per bucket of [`SCORE_BOUNDS`] (and one above), and their sum.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScoreCounts {
    /// Scores per bucket: at most the bound, above the one before; the last, above all bounds.
    pub buckets: [u64; SCORE_BOUNDS.len() + 1],
    /// Sum of the scores.
    pub sum: f64,
}

impl ScoreCounts {
    /// Counts `scores`.
    pub fn add(&mut self, scores: impl Iterator<Item = f64>) {
        for s in scores {
            self.buckets[SCORE_BOUNDS.partition_point(|&b| b < s)] += 1;
            self.sum += s;
        }
    }

    /// Scores counted.
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }
}

/// Every node's counters and the model's scores.
#[derive(Debug, Default)]
pub struct NodeMetrics {
    nodes: [NodeCounters; 5],
    scores: [AtomicU64; SCORE_BOUNDS.len() + 1],
    /// The scores' sum, as f64 bits.
    score_sum: AtomicU64,
}

impl NodeMetrics {
    /// The counters of `node`.
    pub fn node(&self, node: Node) -> &NodeCounters {
        &self.nodes[node as usize]
    }

    /// Replaces a worker's share of PP's, M's and P's state bytes: it reported `reported`,
    /// it holds `now`.
    pub fn state_bytes(&self, reported: &mut [u64; 3], now: [usize; 3]) {
        for ((node, before), now) in [Node::Pp, Node::M, Node::P]
            .into_iter()
            .zip(reported)
            .zip(now)
        {
            self.node(node).state_bytes(*before, now as u64);
            *before = now as u64;
        }
    }

    /// Adds a batch's scores.
    pub fn add_scores(&self, batch: &ScoreCounts) {
        for (a, n) in self.scores.iter().zip(batch.buckets) {
            if n > 0 {
                a.fetch_add(n, Ordering::Relaxed);
            }
        }
        let _ = self
            .score_sum
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + batch.sum).to_bits())
            });
    }

    /// The model's scores so far.
    pub fn scores(&self) -> ScoreCounts {
        let mut out = ScoreCounts {
            sum: f64::from_bits(self.score_sum.load(Ordering::Relaxed)),
            ..ScoreCounts::default()
        };
        for (o, a) in out.buckets.iter_mut().zip(&self.scores) {
            *o = a.load(Ordering::Relaxed);
        }
        out
    }

    /// Zeroes the figures (a new phase); open taps stay open.
    pub fn reset(&self) {
        for n in &self.nodes {
            n.reset();
        }
        for a in &self.scores {
            a.store(0, Ordering::Relaxed);
        }
        self.score_sum.store(0f64.to_bits(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ai4ict_core::Entity;

    #[test]
    fn scores_fall_in_their_buckets() {
        let mut c = ScoreCounts::default();
        c.add([0.0, 0.5, 0.51, 0.9, 0.97, 1.0].into_iter());
        assert_eq!(c.buckets, [2, 1, 1, 0, 1, 1, 0]);
        assert_eq!(c.count(), 6);
        let m = NodeMetrics::default();
        m.add_scores(&c);
        m.add_scores(&c);
        assert_eq!(m.scores().buckets, [4, 2, 2, 0, 2, 2, 0]);
        assert!((m.scores().sum - 2.0 * 3.88).abs() < 1e-9);
    }

    #[test]
    fn state_bytes_sum_the_workers_shares() {
        let m = NodeMetrics::default();
        let (mut one, mut two) = ([0; 3], [0; 3]);
        m.state_bytes(&mut one, [0, 100, 10]);
        m.state_bytes(&mut two, [0, 50, 5]);
        m.state_bytes(&mut one, [0, 80, 20]);
        assert_eq!(m.node(Node::M).figures().state_bytes, 130);
        assert_eq!(m.node(Node::P).figures().state_bytes, 25);
        assert_eq!(one, [0, 80, 20]);
    }

    #[test]
    fn a_tap_samples_only_while_open_and_is_bounded() {
        let n = std::sync::Arc::new(NodeCounters::default());
        let mut batch = Batch::new(1);
        for i in 0..1000 {
            batch.push(Entity::new(format!("e{i}")), Timestamp(i), &[i as f64]);
        }
        let fields = vec!["x".to_string()];
        assert!(!n.tapped());
        n.sample_rows(&batch, &fields, None);
        let feeder = {
            let n = std::sync::Arc::clone(&n);
            std::thread::spawn(move || {
                while !n.tapped() {
                    std::thread::sleep(Duration::from_millis(1));
                }
                for _ in 0..40 {
                    if n.tapped() {
                        n.sample_rows(&batch, &fields, Some(&[0.25; 1000]));
                    }
                }
            })
        };
        let got = n.tap(20, Duration::from_secs(10), || false);
        feeder.join().unwrap();
        assert_eq!(got.len(), 20);
        assert_eq!(got[0]["entity"], "e0", "nothing from before the tap");
        assert_eq!(got[0]["values"]["x"], 0.0);
        assert_eq!(got[1]["score"], 0.25);
        assert!(n.tap.ring.lock().unwrap().records.len() <= TAP_CAPACITY);
        // Nothing passes: the tap ends at its timeout, empty.
        assert!(n.tap(5, Duration::from_millis(50), || false).is_empty());
    }
}
