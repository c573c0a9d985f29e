//! Kafka's configs (source and sink) and the bookkeeping of a Kafka source's position: what
//! every build has, with or without the `kafka` feature (see `kafka.rs`).

use std::collections::{BTreeMap, VecDeque};

use ai4ict_core::{
    Interval, ProblemAt, SourceComponent, SourceError, SourceFactory, SourceProblem,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::live::{
    default_buffer, event_time, event_time_problems, interval_duration, is_default_buffer,
    live_factory, live_fields, live_problems, partitions_factory, LiveLimits, LiveSource,
    MessageFormat, RowMapping,
};
use crate::ConnectorError;

fn default_group() -> String {
    "ai4ict".into()
}

/// Where a consumer group without committed offsets starts reading a partition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KafkaStart {
    /// At the oldest record the broker keeps.
    #[default]
    Earliest,
    /// At the records written after the group joins.
    Latest,
}

impl KafkaStart {
    /// librdkafka's `auto.offset.reset` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Earliest => "earliest",
            Self::Latest => "latest",
        }
    }
}

/// Reads a Kafka topic as a member of a consumer group (Y.3172 §8.1 SRC; needs the `kafka`
/// build feature).
///
/// Offsets are committed by hand, never automatically. Without checkpoints, the offsets of the
/// records whose rows have been handed to the dataflow are committed, so a later run with the
/// same `group` goes on where this one stopped. With checkpoints (`ai4ict run --checkpoint`),
/// a checkpoint holds the next offset of every partition, and they are committed only once
/// it is durable: a restarted run reads from the group's committed offsets, skips the records
/// its checkpoint covers, and reads again those after it (at least once; what is scored twice
/// is at most one checkpoint interval).
///
/// Without `partitions`, one worker of the run (worker 0 of process 0) is the group's member
/// and reads every partition the group gives it; the dataflow routes each row to the worker
/// owning its entity, in whichever process (`--processes N`), as for every live source. Run
/// one pipeline per group: members of other runs would take partitions away from it. With
/// `partitions`, every worker reads its own share: see [`Self::partitions`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KafkaSourceConfig {
    /// Bootstrap brokers, `host:port` each (port 9092 when left out). Plain TCP: TLS and SASL
    /// are not built in.
    pub brokers: Vec<String>,
    /// The topic to read (it must exist).
    pub topic: String,
    /// The consumer group (default `ai4ict`): a later run with the same group goes on where
    /// this one stopped.
    #[serde(default = "default_group")]
    pub group: String,
    /// Where a group without committed offsets starts: `earliest` (default) or `latest`.
    #[serde(default)]
    pub start: KafkaStart,
    /// The topic's partition count, to read it in partitions: every worker of the run, in
    /// every process, assigns itself (statically, without joining the group) the partitions
    /// `p` with `p mod W = w` (`W` workers in all, `w` its index) and reads them from the
    /// group's committed offsets, or a checkpoint's. Offsets are still committed under
    /// `group`. A worker owning none reads nothing (it still scores the entities it owns).
    /// The reader checks the count against the topic's when it starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions: Option<u32>,
    /// How long the group waits for a silent member before giving its partitions to another,
    /// from 6s to 1h (the consumer's `session.timeout.ms`, and its `max.poll.interval.ms`:
    /// the source goes on polling, fetching paused, while the pipeline is behind; librdkafka's
    /// 45 s and 5 min when not given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub session_timeout: Option<Interval>,
    /// `jsonl` (default) or `csv-line`.
    #[serde(default)]
    pub format: MessageFormat,
    /// For `csv-line`: the column names of the values, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// The key (column) holding the entity; `entity` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// The key (column) holding the time; `time` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Pipeline field ← key (column), for keys named differently from the fields.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// The IANA zone of times without a UTC offset; UTC by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// End after this many rows (for bounded runs and tests); by default never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rows: Option<u64>,
    /// End when no record has come for this long, e.g. `5s`; by default never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub until_idle: Option<Interval>,
    /// Records held between the consumer and the pipeline (default 10000); when full, the
    /// consumer stops polling until the pipeline catches up.
    #[serde(default = "default_buffer", skip_serializing_if = "is_default_buffer")]
    pub buffer: usize,
    /// Event time (Y.3172 §8.1 SRC/C), e.g. `5m`, as for the other live sources: rows wait
    /// until the watermark passes them and go on in event-time order; late rows are dropped
    /// and counted. None by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub lateness: Option<Interval>,
    /// With `lateness`: the most rows held (default 100000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_held: Option<usize>,
}

impl KafkaSourceConfig {
    /// How rows are found in records.
    pub fn rows(&self) -> RowMapping<'_> {
        RowMapping {
            format: self.format,
            columns: &self.columns,
            entity: self.entity.as_deref(),
            time: self.time.as_deref(),
            fields: &self.fields,
            timezone: self.timezone.as_deref(),
        }
    }

    /// When the source ends.
    pub fn limits(&self) -> LiveLimits {
        LiveLimits {
            max_rows: self.max_rows,
            until_idle: self.until_idle.map(interval_duration),
            until_caught_up: false,
            buffer: self.buffer,
            event_time: event_time(self.lateness, self.max_held),
        }
    }

    /// Brokers and topic, for messages.
    pub fn name(&self) -> String {
        format!("kafka {} topic {}", self.brokers.join(","), self.topic)
    }
}

impl SourceComponent for KafkaSourceConfig {
    fn describe(&self) -> String {
        match self.partitions {
            Some(n) => format!(
                "{} in {n} partitions (offsets committed for group {})",
                self.name(),
                self.group
            ),
            None => format!("{} (consumer group {})", self.name(), self.group),
        }
    }

    fn target(&self) -> String {
        match self.partitions {
            Some(n) => format!("{} in {n} partitions", self.name()),
            None => self.name(),
        }
    }

    fn is_live(&self) -> bool {
        true
    }

    fn fields(&self) -> Result<Vec<String>, SourceError> {
        live_fields()
    }

    /// Partition offsets are its position: read whole, worker 0's of every partition; in
    /// partitions, each reader's of its own.
    fn resumable(&self) -> bool {
        true
    }

    fn partitions(&self) -> Option<u32> {
        self.partitions
    }

    /// Worker 0 joins the consumer group; with `partitions`, each worker assigns itself those
    /// it owns (none: it reads nothing).
    fn open(&self, fields: &[String]) -> Result<SourceFactory, SourceError> {
        match self.partitions {
            None => Ok(live_factory(self, fields, LiveSource::kafka)),
            Some(count) => match partitions_problem(count) {
                Some(why) => Err(SourceError(format!("{}: `partitions` {why}", self.name()))),
                None => Ok(partitions_factory(
                    self,
                    fields,
                    count,
                    LiveSource::kafka_partitions,
                )),
            },
        }
    }

    /// Besides the live checks, the brokers', `topic`'s, `group`'s, `session_timeout`'s, and
    /// `partitions`': between 1 and `MAX_PARTITIONS` (100000), with
    /// neither `max_rows` nor `session_timeout`.
    fn problems(&self, _fields: &[String], _remote: bool) -> Vec<SourceProblem> {
        let mut out = live_problems(self.format, &self.columns, self.buffer);
        out.extend(event_time_problems(self.lateness, self.max_held));
        out.extend(address_problems(&self.brokers, &self.topic));
        if let Some(t) = self
            .session_timeout
            .filter(|t| !(6_000..=3_600_000).contains(&t.millis()))
        {
            out.push(SourceProblem::new(
                ProblemAt::Key("session_timeout"),
                format!("{t} is not between 6s and 1h"),
                None,
            ));
        }
        if self.group.trim().is_empty() {
            out.push(SourceProblem::new(
                ProblemAt::Key("group"),
                "is empty",
                Some("name the consumer group, e.g. `group: ai4ict`"),
            ));
        }
        out.extend(self.partitions_problems());
        out
    }
}

impl KafkaSourceConfig {
    /// See [`SourceComponent::problems`].
    fn partitions_problems(&self) -> Vec<SourceProblem> {
        let mut out = Vec::new();
        let Some(count) = self.partitions else {
            return out;
        };
        if let Some(why) = partitions_problem(count) {
            out.push(SourceProblem::new(ProblemAt::Key("partitions"), why, None));
        }
        if self.max_rows.is_some() {
            out.push(SourceProblem::new(
                ProblemAt::Key("max_rows"),
                "counts one reader's rows, and with `partitions` each worker reads its own share",
                Some("end with `until_idle` instead"),
            ));
        }
        if self.session_timeout.is_some() {
            out.push(SourceProblem::new(
                ProblemAt::Key("session_timeout"),
                "is a group member's, and with `partitions` each worker assigns itself its \
                 partitions without joining the group",
                Some("leave `session_timeout` out, or `partitions` to read as a group member"),
            ));
        }
        out
    }
}

/// Publishes each alert as a JSON object to a Kafka topic, keyed by the alert's key
/// (Y.3172 §8.1 SINK; needs the `kafka` build feature). The producer is idempotent and waits
/// for every in-sync replica: a write returns once the brokers have every alert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KafkaSinkConfig {
    /// Bootstrap brokers, `host:port` each.
    pub brokers: Vec<String>,
    /// The topic alerts are written to, e.g. `ai4ict.alerts`.
    pub topic: String,
}

impl crate::SinkComponent for KafkaSinkConfig {
    fn describe(&self) -> String {
        format!("{} topic {}", self.brokers.join(","), self.topic)
    }

    /// The brokers and topic are well formed.
    fn check(&self) -> Result<(), ConnectorError> {
        match address_problems(&self.brokers, &self.topic).first() {
            None => Ok(()),
            Some(p) => Err(ConnectorError::BadConfig {
                path: format!("kafka sink {}", self.describe()),
                message: match p.at {
                    ProblemAt::Key(key) => format!("`{key}` {}", p.message),
                    _ => p.message.clone(),
                },
            }),
        }
    }

    fn build(&self, intent: &str) -> Result<Box<dyn crate::AlertSink>, ConnectorError> {
        crate::SinkComponent::check(self)?;
        Ok(Box::new(crate::KafkaSink::connect(self, intent)?))
    }
}

/// The most partitions a source read in partitions may name: beyond any real topic or
/// stream (Kafka advises a few thousand a broker), and it bounds the share each worker lists.
pub(crate) const MAX_PARTITIONS: u32 = 100_000;

/// What is wrong with `partitions: count` (Kafka's or NATS'), if anything.
pub(crate) fn partitions_problem(count: u32) -> Option<String> {
    (!(1..=MAX_PARTITIONS).contains(&count)).then(|| {
        format!("{count} is not between 1 and {MAX_PARTITIONS} (the topic's partition count)")
    })
}

/// Problems of `brokers` (none, or one not `host:port`) and `topic` (empty).
fn address_problems(brokers: &[String], topic: &str) -> Vec<SourceProblem> {
    let mut out = Vec::new();
    if brokers.is_empty() {
        out.push(SourceProblem::new(
            ProblemAt::Key("brokers"),
            "names no broker",
            Some("e.g. `brokers: [\"localhost:9092\"]`"),
        ));
    }
    for b in brokers {
        let bad = if b.contains("://") {
            Some("is `host:port`, without a scheme (TLS and SASL are not built in)")
        } else {
            match b.rsplit_once(':') {
                _ if b.trim().is_empty() || b.contains(['/', '@', ',', ' ']) => {
                    Some("is not `host:port`")
                }
                Some((host, port)) if host.is_empty() || port.parse::<u16>().is_err() => {
                    Some("is not `host:port` with a port number")
                }
                _ => None,
            }
        };
        if let Some(why) = bad {
            out.push(SourceProblem::new(
                ProblemAt::Key("brokers"),
                format!("`{b}` {why}"),
                None,
            ));
        }
    }
    if topic.trim().is_empty() {
        out.push(SourceProblem::new(
            ProblemAt::Key("topic"),
            "is empty",
            None,
        ));
    }
    out
}

/// A Kafka source's position: the next offset of each partition. A checkpoint stores it as
/// 12 bytes a partition (partition `i32`, offset `i64`, little endian).
pub(crate) type Position = BTreeMap<i32, i64>;

/// Which partitions of the topic a Kafka reader reads.
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "kafka"), allow(dead_code))]
pub(crate) enum KafkaShare {
    /// Those the consumer group gives its member.
    Group,
    /// These, assigned statically: each from its offset in `from` (a checkpoint's), else from
    /// the group's committed offset.
    Assigned {
        partitions: Vec<i32>,
        from: Position,
    },
}

pub(crate) fn encode(position: &Position) -> Vec<u8> {
    position
        .iter()
        .flat_map(|(p, o)| p.to_le_bytes().into_iter().chain(o.to_le_bytes()))
        .collect()
}

pub(crate) fn decode(bytes: &[u8]) -> Result<Position, String> {
    if !bytes.len().is_multiple_of(12) {
        return Err(format!(
            "a checkpoint's Kafka position is 12 bytes a partition, not {}",
            bytes.len()
        ));
    }
    Ok(bytes
        .chunks_exact(12)
        .map(|c| {
            let (p, o) = c.split_at(4);
            (
                i32::from_le_bytes(p.try_into().unwrap_or_default()),
                i64::from_le_bytes(o.try_into().unwrap_or_default()),
            )
        })
        .collect())
}

/// Where a Kafka source is, as of the records it has read (numbered in the order they came,
/// so a cut can stop before the oldest record the reorder buffer holds).
#[derive(Debug, Default)]
pub(crate) struct Offsets {
    /// The position after the records folded in so far.
    next: Position,
    /// Records read and not yet folded in: number, partition, offset.
    log: VecDeque<(u64, i32, i64)>,
    /// The position of the checkpoint resumed from: records before it are covered.
    from: Position,
}

impl Offsets {
    /// Goes on from a checkpoint's position.
    pub(crate) fn resume(&mut self, from: Position) {
        self.next = from.clone();
        self.from = from;
        self.log.clear();
    }

    /// Whether the checkpoint resumed from covers this record (it is skipped).
    pub(crate) fn covered(&self, partition: i32, offset: i64) -> bool {
        self.from.get(&partition).is_some_and(|&next| offset < next)
    }

    /// Record number `seq` has been read.
    pub(crate) fn read(&mut self, seq: u64, partition: i32, offset: i64) {
        self.log.push_back((seq, partition, offset));
    }

    /// The position after the records numbered up to `seq` (numbers only grow from one call
    /// to the next), and whether it moved since the last call.
    pub(crate) fn through(&mut self, seq: u64) -> (Position, bool) {
        let mut moved = false;
        while let Some(&(_, partition, offset)) = self.log.front().filter(|r| r.0 <= seq) {
            self.log.pop_front();
            let next = self.next.entry(partition).or_insert(offset + 1);
            *next = (*next).max(offset + 1);
            moved = true;
        }
        (self.next.clone(), moved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_is_the_next_offset_of_each_partition_up_to_a_record() {
        let mut o = Offsets::default();
        o.resume(Position::from([(0, 5), (2, 7)]));
        assert!(o.covered(0, 4) && !o.covered(0, 5) && !o.covered(1, 0));
        for (seq, p, off) in [(1, 0, 5), (2, 1, 0), (3, 0, 6), (4, 1, 1)] {
            o.read(seq, p, off);
        }
        assert_eq!(
            o.through(2),
            (Position::from([(0, 6), (1, 1), (2, 7)]), true)
        );
        assert!(!o.through(2).1);
        let all = o.through(u64::MAX).0;
        assert_eq!(all, Position::from([(0, 7), (1, 2), (2, 7)]));
        assert_eq!(decode(&encode(&all)).unwrap(), all);
        assert!(decode(&[0; 8]).unwrap_err().contains("12 bytes"));
    }

    #[test]
    #[cfg(not(feature = "kafka"))]
    fn without_the_feature_kafka_fails_saying_how_to_build_it() {
        let cfg: KafkaSourceConfig =
            serde_json::from_str(r#"{"brokers":["127.0.0.1:9092"],"topic":"t"}"#).unwrap();
        let err = LiveSource::kafka(&cfg, &["a".to_string()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("--features kafka"), "{err}");
        let sink = KafkaSinkConfig {
            brokers: cfg.brokers.clone(),
            topic: "alerts".into(),
        };
        let err = crate::SinkComponent::build(&sink, "i")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("--features kafka"), "{err}");
    }

    /// `partitions`: from 1 to `MAX_PARTITIONS`, without `max_rows` or `session_timeout`; a worker
    /// owning no partition (more workers than partitions) reads nothing, without connecting.
    #[test]
    fn a_kafka_source_in_partitions_is_checked_and_shared_out() {
        let kafka = |extra: serde_json::Value| -> KafkaSourceConfig {
            let mut v = serde_json::json!({"brokers": ["127.0.0.1:9"], "topic": "t"});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            serde_json::from_value(v).unwrap()
        };
        let keys = |cfg: &KafkaSourceConfig| -> Vec<ProblemAt> {
            cfg.problems(&[], false).iter().map(|p| p.at).collect()
        };
        let good = kafka(serde_json::json!({"partitions": 2, "until_idle": "2s"}));
        assert!(keys(&good).is_empty(), "{:?}", good.problems(&[], false));
        assert_eq!(good.partitions(), Some(2));
        assert!(good.resumable());
        assert!(good.target().ends_with("in 2 partitions"));
        assert!(good
            .describe()
            .contains("offsets committed for group ai4ict"));
        assert_eq!(kafka(serde_json::json!({})).partitions(), None);
        let [p, m, s] = ["partitions", "max_rows", "session_timeout"].map(ProblemAt::Key);
        assert_eq!(keys(&kafka(serde_json::json!({"partitions": 0}))), [p]);
        let huge = kafka(serde_json::json!({"partitions": MAX_PARTITIONS + 1}));
        assert!(huge.problems(&[], false)[0].message.contains("100000"));
        let err = huge.open(&["a".to_string()]).err().unwrap().0;
        assert!(
            err.contains("`partitions` 100001 is not between 1"),
            "{err}"
        );
        assert_eq!(
            keys(&kafka(
                serde_json::json!({"partitions": 4, "max_rows": 9, "session_timeout": "10s"})
            )),
            [m, s]
        );
        let factory = good.open(&["a".to_string()]).unwrap();
        let mut idle = factory(2, 3).unwrap();
        assert!(
            idle.next_batch().is_none(),
            "worker 2 of 3 owns no partition"
        );
        assert!(idle.checkpoint_from(Some(&[][..])).is_ok());
        assert!(idle.cut(1).is_empty(), "and has no position");
        #[cfg(not(feature = "kafka"))]
        {
            let err = factory(1, 3).err().unwrap().to_string();
            assert!(err.contains("--features kafka"), "{err}");
        }
    }

    #[test]
    fn bad_addresses_name_their_key() {
        let cfg: KafkaSourceConfig = serde_json::from_value(serde_json::json!({
            "brokers": ["kafka://b:9092", "b:x", "ok:9092", "plain"], "topic": " ", "group": "",
            "session_timeout": "2s"
        }))
        .unwrap();
        let problems = cfg.problems(&[], false);
        let at: Vec<ProblemAt> = problems.iter().map(|p| p.at).collect();
        let [b, g, t, s] = ["brokers", "group", "topic", "session_timeout"].map(ProblemAt::Key);
        assert_eq!(at, [b, b, t, s, g], "{problems:?}");
        assert!(problems[0].message.contains("scheme"), "{problems:?}");
        assert!(problems[1].message.contains("`b:x`"), "{problems:?}");
        let sink = KafkaSinkConfig {
            brokers: Vec::new(),
            topic: "a".into(),
        };
        let err = crate::SinkComponent::check(&sink).unwrap_err().to_string();
        assert!(err.contains("brokers"), "{err}");
        assert!(serde_json::from_str::<KafkaSourceConfig>(
            r#"{"brokers":["b"],"topic":"t","groupp":"g"}"#
        )
        .is_err());
    }
}
