//! The dataflow on a Kafka topic (feature `kafka`): every record is scored and its offset
//! committed, alerts go to a topic keyed by their key, and a run that dies resumes from its
//! latest checkpoint, re-reading the records after it and none before; a pipeline that stalls
//! longer than the session timeout keeps its partitions; and the same read in partitions,
//! every worker of every process its share. Against librdkafka's
//! mock cluster (in this process, speaking the Kafka protocol), and against a real broker when
//! `AI4ICT_TEST_KAFKA=host:port` is set (skipped, saying so, without it).
#![cfg(feature = "kafka")]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ai4ict_connectors::{KafkaSinkConfig, KafkaSourceConfig, SinkConfig};
use ai4ict_core::{
    first_worker, Alert, Batch, Entity, Interval, Severity, Source, SourceComponent, SourceError,
    Timestamp,
};
use ai4ict_engine::checkpoint::{self, CheckpointSpec};
use ai4ict_engine::dataflow::{self, PipelineSpec, Progress, RunOutput, SinkFactory};
use ai4ict_engine::{Cluster, EngineError, Span};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

const PARTITIONS: i32 = 3;
const WAIT: Duration = Duration::from_secs(15);
/// The consumers' session timeout: the mock cluster makes a member joining a group that
/// another has left wait for it (less a second).
const SESSION_MS: &str = "6000";

/// Where the topics are: a mock cluster in this process, or a real broker.
enum Brokers {
    Mock(MockCluster<'static, DefaultProducerContext>),
    Real(String),
}

impl Brokers {
    fn mock() -> Self {
        Self::Mock(MockCluster::new(1).unwrap())
    }

    fn real() -> Option<Self> {
        match std::env::var("AI4ICT_TEST_KAFKA") {
            Ok(v) if !v.is_empty() => Some(Self::Real(v)),
            _ => {
                eprintln!("AI4ICT_TEST_KAFKA is not set: skipped (set it to a broker's host:port)");
                None
            }
        }
    }

    fn servers(&self) -> String {
        match self {
            Self::Mock(m) => m.bootstrap_servers(),
            Self::Real(s) => s.clone(),
        }
    }

    fn config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", self.servers());
        c
    }

    /// A new topic with `PARTITIONS` partitions.
    fn topic(&self, prefix: &str) -> String {
        let ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let topic = format!("{prefix}-{}-{ns}", std::process::id());
        match self {
            Self::Mock(m) => m.create_topic(&topic, PARTITIONS, 1).unwrap(),
            Self::Real(_) => {
                let admin: AdminClient<DefaultClientContext> = self.config().create().unwrap();
                let new = NewTopic::new(&topic, PARTITIONS, TopicReplication::Fixed(1));
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                let made = rt
                    .block_on(admin.create_topics([&new], &AdminOptions::new()))
                    .unwrap();
                assert!(made.iter().all(Result::is_ok), "{made:?}");
            }
        }
        topic
    }

    /// Writes `records` (key, value) and waits until the broker has them all.
    fn produce(&self, topic: &str, records: &[(String, String)]) {
        let p: ThreadedProducer<DefaultProducerContext> = self.config().create().unwrap();
        for (k, v) in records {
            p.send(BaseRecord::to(topic).key(k).payload(v)).unwrap();
        }
        p.flush(WAIT).unwrap();
    }

    /// Writes rows `0..n`, row `i` to partition `(i mod 5) mod PARTITIONS` (its cell's), and
    /// waits until the broker has them all.
    fn produce_by_cell(&self, topic: &str, n: usize) {
        let p: ThreadedProducer<DefaultProducerContext> = self.config().create().unwrap();
        for i in 0..n {
            let (k, v) = row(i);
            let to = (i % 5) as i32 % PARTITIONS;
            p.send(BaseRecord::to(topic).key(&k).payload(&v).partition(to))
                .unwrap();
        }
        p.flush(WAIT).unwrap();
    }

    /// Commits for `group` the end of each partition of `topic` that `position` (a
    /// checkpoint's) names, from outside the group, as a run without checkpoints would.
    fn commit_ends(&self, topic: &str, group: &str, position: &[u8]) {
        let c: BaseConsumer = self.config().set("group.id", group).create().unwrap();
        let mut list = TopicPartitionList::new();
        for (p, _) in offsets(position) {
            let (_, end) = c.fetch_watermarks(topic, p, WAIT).unwrap();
            list.add_partition_offset(topic, p, Offset::Offset(end))
                .unwrap();
        }
        c.commit(&list, rdkafka::consumer::CommitMode::Sync)
            .unwrap();
    }

    /// The group's committed offsets, summed over the partitions.
    fn committed(&self, topic: &str, group: &str) -> i64 {
        let c: BaseConsumer = self.config().set("group.id", group).create().unwrap();
        let mut list = TopicPartitionList::new();
        for p in 0..PARTITIONS {
            list.add_partition(topic, p);
        }
        let got = c.committed_offsets(list, WAIT).unwrap();
        got.elements()
            .iter()
            .map(|e| match e.offset() {
                Offset::Offset(o) => o,
                _ => 0,
            })
            .sum()
    }

    /// Sets the group's committed offsets back to the start of every partition, as commits
    /// lost in a crash leave them.
    fn rewind(&self, topic: &str, group: &str) {
        // No automatic commits: the polls that wait for the assignment may return records,
        // and committing their positions (on an interval, or when the consumer closes) would
        // undo the rewind (seen as a flaky test on a busy machine).
        let c: BaseConsumer = self
            .config()
            .set("group.id", group)
            .set("session.timeout.ms", SESSION_MS)
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        // A member of the group commits (the broker refuses commits from outside it).
        c.subscribe(&[topic]).unwrap();
        let until = std::time::Instant::now() + WAIT;
        while c.assignment().unwrap().count() < PARTITIONS as usize {
            assert!(std::time::Instant::now() < until, "no partitions assigned");
            let _ = c.poll(Duration::from_millis(100));
        }
        let mut list = TopicPartitionList::new();
        for p in 0..PARTITIONS {
            list.add_partition_offset(topic, p, Offset::Offset(0))
                .unwrap();
        }
        c.commit(&list, rdkafka::consumer::CommitMode::Sync)
            .unwrap();
    }

    /// Every record of `topic` as (key, value), read until `n` have come.
    fn read(&self, topic: &str, n: usize) -> Vec<(String, String)> {
        let c: BaseConsumer = self
            .config()
            .set("group.id", format!("{topic}-reader"))
            .set("session.timeout.ms", SESSION_MS)
            .set("auto.offset.reset", "earliest")
            .create()
            .unwrap();
        c.subscribe(&[topic]).unwrap();
        let mut out = Vec::new();
        let until = std::time::Instant::now() + WAIT;
        while out.len() < n && std::time::Instant::now() < until {
            if let Some(m) = c.poll(Duration::from_millis(100)) {
                let m = m.unwrap();
                let text = |b: Option<&[u8]>| String::from_utf8_lossy(b.unwrap_or_default()).into();
                out.push((text(m.key()), text(m.payload())));
            }
        }
        out
    }
}

fn fields() -> Vec<String> {
    vec!["prb_util".into(), "latency".into()]
}

/// Row `i`: one of five cells, keyed by it (so a cell's rows are in one partition, in order).
fn row(i: usize) -> (String, String) {
    let cell = format!("cell-{}", i % 5);
    let value = format!(
        r#"{{"entity":"{cell}","time":{},"prb_util":{},"latency":12}}"#,
        (i / 5) * 900,
        0.3 + (i % 7) as f64 * 0.01
    );
    (cell, value)
}

fn source(brokers: &Brokers, topic: &str, group: &str, max_rows: usize) -> KafkaSourceConfig {
    serde_json::from_value(serde_json::json!({
        "brokers": [brokers.servers()], "topic": topic, "group": group, "max_rows": max_rows,
        "buffer": 32, "session_timeout": "6s",
    }))
    .unwrap()
}

/// The rows a reader read, from its note (`… N rows read …`).
fn rows_in(note: &str) -> u64 {
    let before = note.split(" rows read").next().unwrap_or_default();
    let n = before.rsplit(' ').next().unwrap_or_default();
    n.parse()
        .unwrap_or_else(|_| panic!("no rows read in {note:?}"))
}

/// The rows the source read, from its note.
fn rows_read(out: &RunOutput) -> u64 {
    rows_in(&out.source_notes.join("; "))
}

/// The rows the readers of a source read in partitions read, summed over their notes.
fn rows_read_in_partitions(outs: &[RunOutput]) -> u64 {
    outs.iter()
        .flat_map(|o| &o.source_notes)
        .map(|n| rows_in(n))
        .sum()
}

fn no_sinks() -> SinkFactory {
    Arc::new(|| Ok(Vec::new()))
}

fn scored_and_committed(brokers: &Brokers) {
    let (topic, alerts) = (brokers.topic("rows"), brokers.topic("alerts"));
    let (n, bad) = (300, 3);
    let mut records: Vec<_> = (0..n).map(row).collect();
    for i in 0..bad {
        records.insert(i * 100 + 50, (format!("cell-{i}"), "oops".into()));
    }
    brokers.produce(&topic, &records);
    let group = format!("{topic}-group");
    let sink = SinkConfig::Kafka(KafkaSinkConfig {
        brokers: vec![brokers.servers()],
        topic: alerts.clone(),
    });
    let sinks: SinkFactory = Arc::new(move || {
        Ok(vec![sink
            .build_for("kafka-test")
            .map_err(|e| EngineError::Output(e.to_string()))?])
    });
    let cfg = source(brokers, &topic, &group, n + bad);
    let cluster = Cluster {
        workers: 2,
        ..Cluster::default()
    };
    let spec = PipelineSpec::new(fields(), Interval::from_minutes(15));
    let progress = Arc::new(Progress::default());
    let out = dataflow::run(
        spec,
        &cluster,
        cfg.open(&fields()).unwrap(),
        sinks,
        progress,
    )
    .unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.rows, n as u64, "every good row was scored");
    assert_eq!(out.entities, 5);
    let note = out.source_notes.join("; ");
    assert!(note.contains("300 rows read, 3 bad rows skipped"), "{note}");
    assert_eq!(
        brokers.committed(&topic, &group),
        (n + bad) as i64,
        "every record's offset is committed"
    );
    let published = brokers.read(&alerts, out.alerts.len());
    let mut keys: Vec<String> = published.into_iter().map(|(k, _)| k).collect();
    let mut want: Vec<String> = out.alerts.iter().map(|a| a.key("kafka-test")).collect();
    keys.sort();
    want.sort();
    assert_eq!(keys, want, "every alert is published under its key");
}

fn alert(i: i64) -> Alert {
    Alert {
        time: Timestamp(i * 900_000),
        entity: Entity::new(format!("cell-{i}")),
        field: "prb_util".into(),
        why: None,
        severity: Severity::Major,
        score: 7.5,
        onset: Timestamp(i * 900_000),
    }
}

fn sink_publishes_keyed_json(brokers: &Brokers) {
    let topic = brokers.topic("sink");
    let cfg = SinkConfig::Kafka(KafkaSinkConfig {
        brokers: vec![brokers.servers()],
        topic: topic.clone(),
    });
    let mut sink = cfg.build_for("kafka-sink-test").unwrap();
    let alerts: Vec<Alert> = (0..20).map(alert).collect();
    sink.write(&alerts[..15]).unwrap();
    sink.write(&alerts[15..]).unwrap();
    sink.finish().unwrap();
    // Records of different keys may be in different partitions: compared by key.
    let got: std::collections::BTreeMap<String, String> =
        brokers.read(&topic, alerts.len() + 1).into_iter().collect();
    assert_eq!(got.len(), alerts.len(), "one record per alert");
    for a in &alerts {
        let key = a.key("kafka-sink-test");
        let value = got
            .get(&key)
            .unwrap_or_else(|| panic!("no record keyed {key}"));
        let json: serde_json::Value = serde_json::from_str(value).unwrap();
        assert_eq!(json["key"], key.as_str());
        assert_eq!(json["entity"], a.entity.name());
        assert_eq!(json["severity"], "major");
    }
    let missing = SinkConfig::Kafka(KafkaSinkConfig {
        brokers: vec![brokers.servers()],
        topic: String::new(),
    });
    let err = missing.build_for("t").err().expect("no topic").to_string();
    assert!(err.contains("`topic` is empty"), "{err}");
}

/// The Kafka source, failing once it has read `rows` rows, as a killed process stops: no
/// final checkpoint.
struct Dies {
    inner: Box<dyn Source>,
    left: usize,
}

impl Source for Dies {
    fn next_batch(&mut self) -> Option<Result<Batch, SourceError>> {
        if self.left == 0 {
            return Some(Err(SourceError("killed".into())));
        }
        let b = self.inner.next_batch()?;
        if let Ok(b) = &b {
            self.left = self.left.saturating_sub(b.len());
        }
        Some(b)
    }

    fn summary(&self) -> Option<String> {
        self.inner.summary()
    }

    fn checkpoint_from(&mut self, position: Option<&[u8]>) -> Result<(), SourceError> {
        self.inner.checkpoint_from(position)
    }

    fn cut(&mut self, epoch: u64) -> Vec<u8> {
        self.inner.cut(epoch)
    }

    fn commit(&mut self, epoch: u64) {
        self.inner.commit(epoch);
    }
}

/// A pipeline checkpointing into `dir` at every round, resumed from its latest checkpoint
/// of a source read in `partitions` (`None`: whole).
fn resumed_spec(dir: &std::path::Path, partitions: Option<u32>) -> PipelineSpec {
    let resume = checkpoint::latest(dir, partitions).unwrap();
    checkpoint::clear_after(dir, resume.as_ref().map(|r| r.epoch)).unwrap();
    let mut spec = PipelineSpec::new(fields(), Interval::from_minutes(15));
    spec.span = Span {
        start: resume.as_ref().map(|c| Arc::new(c.state.clone())),
        ..Span::default()
    };
    spec.checkpoint = Some(CheckpointSpec {
        dir: dir.to_path_buf(),
        every: Duration::ZERO,
        partitions,
        resume: resume.map(|c| c.resume),
    });
    spec
}

/// One run from the latest checkpoint in `dir` (dying after `die_after` rows).
fn run(cfg: &KafkaSourceConfig, dir: &std::path::Path, die_after: Option<usize>) -> RunOutput {
    let spec = resumed_spec(dir, None);
    let cfg = cfg.clone();
    let feed = first_worker(move || {
        let inner = (cfg
            .open(&fields())
            .map_err(|e| SourceError(e.to_string()))?)(0, 1)?;
        Ok(Dies {
            inner,
            left: die_after.unwrap_or(usize::MAX),
        })
    });
    let cluster = Cluster {
        workers: 2,
        ..Cluster::default()
    };
    dataflow::run(
        spec,
        &cluster,
        feed,
        no_sinks(),
        Arc::new(Progress::default()),
    )
    .unwrap()
}

/// A checkpoint's position: each partition and its next offset (read in partitions, every
/// reader's one after the other).
fn offsets(position: &[u8]) -> Vec<(i32, i64)> {
    assert!(position.len().is_multiple_of(12), "{position:?}");
    position
        .chunks_exact(12)
        .map(|c| {
            let (p, o) = c.split_at(4);
            (
                i32::from_le_bytes(p.try_into().unwrap()),
                i64::from_le_bytes(o.try_into().unwrap()),
            )
        })
        .collect()
}

/// The records a checkpoint's position covers: the next offsets of the partitions, summed.
fn covered(position: &[u8]) -> i64 {
    offsets(position).iter().map(|(_, o)| o).sum()
}

/// The latest checkpoint in `dir` of a run killed after reading `read` records, and the
/// records it covers: its position covers the rows it counts, some but no more than were
/// read, and the group's commits stop at it.
fn cut_of_a_killed_run(
    brokers: &Brokers,
    topic: &str,
    group: &str,
    dir: &std::path::Path,
    partitions: Option<u32>,
    read: u64,
) -> (checkpoint::Checkpoint, i64) {
    let last = checkpoint::latest(dir, partitions)
        .unwrap()
        .expect("a checkpoint was made");
    let at = covered(&last.resume.position);
    assert_eq!(
        at as u64, last.resume.rows,
        "the position covers the rows read"
    );
    assert!(at > 0 && at as u64 <= read, "{at} of {read} read");
    let committed = brokers.committed(topic, group);
    assert!(
        committed > 0 && committed <= at,
        "offsets are committed only up to the latest checkpoint: {committed} vs {at}"
    );
    (last, at)
}

fn restart_resumes_from_the_checkpoint(brokers: &Brokers) {
    let topic = brokers.topic("resume");
    let n = 600;
    brokers.produce(&topic, &(0..n).map(row).collect::<Vec<_>>());
    let group = format!("{topic}-group");
    let dir = tempfile::tempdir().unwrap();
    let first = run(&source(brokers, &topic, &group, n), dir.path(), Some(250));
    assert!(
        first.errors.iter().any(|e| e.contains("killed")),
        "{:?}",
        first.errors
    );
    let read_first = rows_read(&first);
    let (_, at) = cut_of_a_killed_run(brokers, &topic, &group, dir.path(), None, read_first);
    // The group's commits are lost: the records the checkpoint covers come again, and are
    // skipped; the rest of the topic is read, nothing lost.
    brokers.rewind(&topic, &group);
    assert_eq!(brokers.committed(&topic, &group), 0);
    let rest = n - at as usize;
    let second = run(&source(brokers, &topic, &group, rest), dir.path(), None);
    assert!(second.errors.is_empty(), "{:?}", second.errors);
    assert_eq!(rows_read(&second), rest as u64);
    assert_eq!(second.checkpoint.map(|c| c.1), Some(n as u64));
    assert_eq!(brokers.committed(&topic, &group), n as i64);
}

/// A pipeline that stops taking rows for longer than the session timeout (and so the poll
/// interval) keeps its member in the group: the source pauses fetching but goes on polling,
/// and every record comes once, none again from a rebalance.
fn a_stalled_pipeline_keeps_its_partitions(brokers: &Brokers) {
    let topic = brokers.topic("stall");
    let n = 100;
    brokers.produce(&topic, &(0..n).map(row).collect::<Vec<_>>());
    let mut cfg = source(brokers, &topic, &format!("{topic}-group"), n);
    cfg.buffer = 1;
    let mut src = (cfg.open(&fields()).unwrap())(0, 1).unwrap();
    let (mut seen, mut rows, mut stalled) = (std::collections::HashSet::new(), 0, false);
    let deadline = std::time::Instant::now() + 4 * WAIT;
    while let Some(batch) = src.next_batch() {
        let batch = batch.unwrap();
        for (entity, time, _) in batch.rows() {
            seen.insert((entity.clone(), time));
            rows += 1;
        }
        if rows > 0 && !stalled {
            stalled = true;
            std::thread::sleep(Duration::from_secs(8));
        }
        assert!(std::time::Instant::now() < deadline, "{rows} rows so far");
    }
    assert_eq!(rows, n);
    assert_eq!(seen.len(), n, "no record came twice");
    let note = src.summary().unwrap_or_default();
    assert!(!note.contains("poll interval"), "{note}");
}

/// The source reading `topic` in its `PARTITIONS` partitions until idle.
fn in_partitions(brokers: &Brokers, topic: &str, group: &str) -> KafkaSourceConfig {
    serde_json::from_value(serde_json::json!({
        "brokers": [brokers.servers()], "topic": topic, "group": group,
        "partitions": PARTITIONS, "until_idle": "3s", "buffer": 32,
    }))
    .unwrap()
}

/// Two ports next to each other, free when asked: `(p, p + 1)`.
fn free_ports() -> u16 {
    loop {
        let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let p = a.local_addr().unwrap().port();
        if p < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
}

/// Two processes of two workers each (threads of this test, talking over TCP as processes
/// do) read a topic in its three partitions: three workers read one each, the fourth none;
/// every record is read by one reader and scored once, and its offset committed under the
/// group. A source whose `partitions` is not the topic's is refused when it starts.
fn two_processes_read_their_partitions(brokers: &Brokers) {
    let topic = brokers.topic("shared");
    let n = 300;
    brokers.produce_by_cell(&topic, n);
    let group = format!("{topic}-group");
    let cfg = in_partitions(brokers, &topic, &group);
    let port = free_ports();
    let outs: Vec<RunOutput> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..2)
            .map(|process| {
                let feed = cfg.open(&fields()).unwrap();
                s.spawn(move || {
                    let cluster = Cluster {
                        workers: 2,
                        processes: 2,
                        process,
                        base_port: port,
                        ..Cluster::default()
                    };
                    let spec = PipelineSpec::new(fields(), Interval::from_minutes(15));
                    let progress = Arc::new(Progress::default());
                    dataflow::run(spec, &cluster, feed, no_sinks(), progress).unwrap()
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for out in &outs {
        assert!(out.errors.is_empty(), "{:?}", out.errors);
    }
    let notes: Vec<&String> = outs.iter().flat_map(|o| &o.source_notes).collect();
    assert_eq!(notes.len(), 3, "a reader a partition: {notes:?}");
    assert_eq!(
        outs[0].source_notes.len(),
        2,
        "process 0 reads partitions 0 and 1"
    );
    assert_eq!(rows_read_in_partitions(&outs), n as u64, "{notes:?}");
    assert_eq!(outs[0].rows, n as u64, "every row scored once");
    assert_eq!(outs[0].entities, 5);
    assert_eq!(brokers.committed(&topic, &group), n as i64);

    let mut wrong = cfg.clone();
    wrong.partitions = Some(4);
    let err = (wrong.open(&fields()).unwrap())(0, 1).err().unwrap().0;
    assert!(
        err.contains("has 3 partitions, not the 4 `partitions` says"),
        "{err}"
    );
}

/// One run in partitions on `workers` workers from the latest checkpoint in `dir`, each
/// reader dying after `die_after` rows.
fn run_in_partitions(
    cfg: &KafkaSourceConfig,
    dir: &std::path::Path,
    workers: usize,
    die_after: Option<usize>,
) -> RunOutput {
    let spec = resumed_spec(dir, Some(PARTITIONS as u32));
    let open = cfg.open(&fields()).unwrap();
    let feed: ai4ict_core::SourceFactory = Arc::new(move |index, peers| {
        Ok(Box::new(Dies {
            inner: open(index, peers)?,
            left: die_after.unwrap_or(usize::MAX),
        }) as Box<dyn Source>)
    });
    let cluster = Cluster {
        workers,
        ..Cluster::default()
    };
    let progress = Arc::new(Progress::default());
    dataflow::run(spec, &cluster, feed, no_sinks(), progress).unwrap()
}

/// Read in partitions by two workers, a run dies part-way; its checkpoint holds each
/// reader's partitions' offsets and is refused for a source read whole or in another number
/// of partitions. Resumed on three workers, each reader starts at the checkpoint's offsets,
/// not the group's (set past them here): every record is read, those after the checkpoint
/// twice at most, none before it again.
fn partitions_resume_from_the_checkpoint(brokers: &Brokers) {
    let topic = brokers.topic("resume-parts");
    let n = 600;
    brokers.produce_by_cell(&topic, n);
    let group = format!("{topic}-group");
    let dir = tempfile::tempdir().unwrap();
    let cfg = in_partitions(brokers, &topic, &group);
    let first = run_in_partitions(&cfg, dir.path(), 2, Some(150));
    let killed = first.errors.iter().filter(|e| e.contains("killed")).count();
    assert_eq!(killed, 2, "both readers die: {:?}", first.errors);
    let read_first = rows_read_in_partitions(std::slice::from_ref(&first));
    let partitions = Some(PARTITIONS as u32);
    let (last, at) =
        cut_of_a_killed_run(brokers, &topic, &group, dir.path(), partitions, read_first);
    for (partitions, other) in [(None, "read whole"), (Some(4), "in 4 partitions")] {
        let err = checkpoint::latest(dir.path(), partitions)
            .expect_err("refused")
            .to_string();
        assert!(
            err.contains("does not fit this run") && err.contains("in 3 partitions"),
            "{err}"
        );
        assert!(err.contains(other), "{err}");
    }
    brokers.commit_ends(&topic, &group, &last.resume.position);
    let second = run_in_partitions(&cfg, dir.path(), 3, None);
    assert!(second.errors.is_empty(), "{:?}", second.errors);
    let read_second = rows_read_in_partitions(std::slice::from_ref(&second));
    assert_eq!(
        read_second,
        n as u64 - at as u64,
        "read on from the checkpoint"
    );
    assert_eq!(second.checkpoint.map(|c| c.1), Some(n as u64));
    let twice = read_first + read_second - n as u64;
    assert!(
        twice == read_first - at as u64 && twice < read_first,
        "read twice: only what followed the checkpoint ({twice})"
    );
    assert_eq!(brokers.committed(&topic, &group), n as i64);
}

#[test]
fn kafka_two_processes_read_their_partitions_on_a_mock_cluster() {
    two_processes_read_their_partitions(&Brokers::mock());
}

#[test]
fn kafka_partitions_resume_from_the_checkpoint_on_a_mock_cluster() {
    partitions_resume_from_the_checkpoint(&Brokers::mock());
}

#[test]
fn kafka_stalled_pipeline_keeps_its_partitions_on_a_mock_cluster() {
    a_stalled_pipeline_keeps_its_partitions(&Brokers::mock());
}

#[test]
fn kafka_rows_are_scored_and_committed_on_a_mock_cluster() {
    scored_and_committed(&Brokers::mock());
}

#[test]
fn kafka_sink_publishes_keyed_json_on_a_mock_cluster() {
    sink_publishes_keyed_json(&Brokers::mock());
}

#[test]
fn kafka_restart_resumes_from_the_checkpoint_on_a_mock_cluster() {
    restart_resumes_from_the_checkpoint(&Brokers::mock());
}

#[test]
fn kafka_on_a_real_broker() {
    let Some(brokers) = Brokers::real() else {
        return;
    };
    scored_and_committed(&brokers);
    sink_publishes_keyed_json(&brokers);
    restart_resumes_from_the_checkpoint(&brokers);
    a_stalled_pipeline_keeps_its_partitions(&brokers);
    two_processes_read_their_partitions(&brokers);
    partitions_resume_from_the_checkpoint(&brokers);
}
