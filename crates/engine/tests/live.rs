//! The dataflow on live sources (Y.3172 §8.1 SRC on a bus): every JetStream row is scored
//! and acknowledged, and a source without an end stops with the run. Against the servers
//! `.ci/nats.sh` and `.ci/mosquitto.sh` start (`AI4ICT_TEST_NATS`, `AI4ICT_TEST_MQTT`);
//! skipped, saying so, without them.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ai4ict_connectors::MqttSourceConfig;
#[cfg(feature = "nats")]
use ai4ict_connectors::NatsSourceConfig;
use ai4ict_core::SourceComponent;
use ai4ict_engine::dataflow::{self, PipelineSpec, Progress};
use ai4ict_engine::Cluster;

fn server(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            eprintln!("{var} is not set: skipped (.ci/run starts the server and sets it)");
            None
        }
    }
}

fn unique(prefix: &str) -> String {
    let ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}{}x{ns}", std::process::id())
}

fn fields() -> Vec<String> {
    vec!["prb_util".into(), "latency".into()]
}

fn spec() -> PipelineSpec {
    PipelineSpec::new(fields(), ai4ict_core::Interval::from_minutes(15))
}

fn row(i: usize) -> String {
    format!(
        r#"{{"entity":"cell-{}","time":{},"prb_util":{},"latency":12}}"#,
        i % 5,
        (i / 5) * 900,
        0.3 + (i % 7) as f64 * 0.01
    )
}

/// A fresh JetStream stream `name` on `subjects` with `records` (subject, body) published
/// and acknowledged, and the runtime its client lives on.
#[cfg(feature = "nats")]
fn jetstream(
    url: &str,
    name: &str,
    subjects: &str,
    records: impl IntoIterator<Item = (String, String)>,
) -> (tokio::runtime::Runtime, async_nats::jetstream::Context) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let js = rt.block_on(async {
        let c = async_nats::connect(url.trim_start_matches("nats://"))
            .await
            .unwrap();
        let js = async_nats::jetstream::new(c);
        js.create_stream(async_nats::jetstream::stream::Config {
            name: name.to_string(),
            subjects: vec![subjects.to_string()],
            ..Default::default()
        })
        .await
        .unwrap();
        for (subject, body) in records {
            js.publish(subject, body.into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
        js
    });
    (rt, js)
}

#[test]
#[cfg(feature = "nats")]
fn every_jetstream_row_is_scored_and_acked_on_two_workers() {
    let Some(url) = server("AI4ICT_TEST_NATS") else {
        return;
    };
    let (stream, n, bad) = (unique("AI4ICT_ENGINE_"), 300, 3);
    let subject = stream.to_lowercase();
    let records = (0..n + bad).map(|i| {
        let body = if i % 100 == 50 { "oops".into() } else { row(i) };
        (format!("{subject}.rows"), body)
    });
    let (rt, js) = jetstream(&url, &stream, &format!("{subject}.>"), records);
    let cfg: NatsSourceConfig = serde_json::from_value(serde_json::json!({
        "url": url, "stream": stream, "max_rows": n + bad, "until_idle": "10s", "buffer": 32,
    }))
    .unwrap();
    let cluster = Cluster {
        workers: 2,
        ..Cluster::default()
    };
    let out = dataflow::run(
        spec(),
        &cluster,
        cfg.open(&fields()).unwrap(),
        Arc::new(|| Ok(Vec::new())),
        Arc::new(Progress::default()),
    )
    .unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.rows, n as u64, "every good row was scored");
    assert_eq!(out.entities, 5);
    let note = out.source_notes.join("; ");
    assert!(note.contains("300 rows read, 3 bad rows skipped"), "{note}");
    let info = rt.block_on(async {
        let s = js.get_stream(&stream).await.unwrap();
        let mut c: async_nats::jetstream::consumer::PullConsumer =
            s.get_consumer("ai4ict").await.unwrap();
        let info = c.info().await.unwrap().clone();
        js.delete_stream(&stream).await.unwrap();
        info
    });
    assert_eq!((info.num_pending, info.num_ack_pending), (0, 0));
    assert_eq!(info.ack_floor.stream_sequence, (n + bad) as u64);
}

/// Waits (at most 10 s) for `n` packets that `want` matches.
/// A stream published in partitions (`<subject>.<k>`, `k` = the entity's owner of 4) read
/// by two workers, each through the consumers of its partitions, scores every row once, as
/// one worker reading the stream whole does (same scores, same alerts); every consumer
/// acknowledges all.
#[test]
#[cfg(feature = "nats")]
fn a_partitioned_stream_is_read_by_each_worker_and_scored_as_whole() {
    let Some(url) = server("AI4ICT_TEST_NATS") else {
        return;
    };
    let (stream, n, partitions) = (unique("AI4ICT_PARTS_"), 400, 4u32);
    let prefix = format!("{}.kpi", stream.to_lowercase());
    let records = (0..n).map(|i| {
        let k = ai4ict_core::Entity::new(format!("cell-{}", i % 5)).owner(4);
        (format!("{prefix}.{k}"), row(i))
    });
    let (rt, js) = jetstream(&url, &stream, &format!("{prefix}.*"), records);
    let run = |cfg: serde_json::Value, workers| {
        let cfg: NatsSourceConfig = serde_json::from_value(cfg).unwrap();
        assert!(cfg.problems(&fields(), false).is_empty());
        let cluster = Cluster {
            workers,
            ..Cluster::default()
        };
        let spec = PipelineSpec {
            trace: (0..5)
                .map(|c| ai4ict_core::Entity::new(format!("cell-{c}")))
                .collect(),
            ..spec()
        };
        dataflow::run(
            spec,
            &cluster,
            cfg.open(&fields()).unwrap(),
            Arc::new(|| Ok(Vec::new())),
            Arc::new(Progress::default()),
        )
        .unwrap()
    };
    let parts = run(
        serde_json::json!({
            "url": url, "stream": stream, "subject": prefix, "partitions": partitions,
            "durable": "parts", "until_caught_up": true, "buffer": 32,
        }),
        2,
    );
    let whole = run(
        serde_json::json!({
            "url": url, "stream": stream, "durable": "whole", "max_rows": n, "buffer": 32,
        }),
        1,
    );
    assert!(parts.errors.is_empty(), "{:?}", parts.errors);
    assert_eq!((parts.rows, parts.entities), (n as u64, 5));
    assert_eq!(parts.alerts, whole.alerts);
    assert_eq!(parts.traces.len(), 5);
    assert_eq!(parts.traces, whole.traces, "every row scored alike");
    rt.block_on(async {
        let s = js.get_stream(&stream).await.unwrap();
        for k in 0..partitions {
            let mut c: async_nats::jetstream::consumer::PullConsumer =
                s.get_consumer(&format!("parts-{k}")).await.unwrap();
            let info = c.info().await.unwrap();
            assert_eq!(
                (info.num_pending, info.num_ack_pending),
                (0, 0),
                "partition {k}"
            );
        }
        js.delete_stream(&stream).await.unwrap();
    });
}

fn wait(conn: &mut rumqttc::Connection, mut n: usize, want: fn(&rumqttc::Packet) -> bool) {
    let until = Instant::now() + Duration::from_secs(10);
    while n > 0 {
        assert!(
            Instant::now() < until,
            "{n} answers from the broker missing"
        );
        if let Ok(Ok(rumqttc::Event::Incoming(p))) = conn.recv_timeout(Duration::from_millis(100)) {
            n -= usize::from(want(&p));
        }
    }
}

#[test]
fn a_live_source_without_an_end_stops_with_the_run() {
    let Some(url) = server("AI4ICT_TEST_MQTT") else {
        return;
    };
    let (topic, id) = (unique("ai4ict-engine/"), unique("ai4ict-engine-"));
    let (host, port) = url.trim_start_matches("mqtt://").rsplit_once(':').unwrap();
    let connect = |id: &str, clean: bool| {
        let mut o = rumqttc::MqttOptions::new(id, host, port.parse().unwrap());
        o.set_clean_session(clean);
        rumqttc::Client::new(o, 100)
    };
    // The pipeline's session exists first, so the broker queues the rows for it.
    let (c, mut conn) = connect(&id, false);
    c.subscribe(&topic, rumqttc::QoS::AtLeastOnce).unwrap();
    wait(&mut conn, 1, |p| matches!(p, rumqttc::Packet::SubAck(_)));
    c.disconnect().unwrap();
    let (c, mut conn) = connect(&unique("pub"), true);
    for i in 0..50 {
        c.publish(&topic, rumqttc::QoS::AtLeastOnce, false, row(i))
            .unwrap();
    }
    wait(&mut conn, 50, |p| matches!(p, rumqttc::Packet::PubAck(_)));
    let cfg: MqttSourceConfig = serde_json::from_value(serde_json::json!({
        "url": url, "topic": topic, "client_id": id, "clean_session": false,
    }))
    .unwrap();
    let progress = Arc::new(Progress::default());
    let watcher = {
        let progress = Arc::clone(&progress);
        std::thread::spawn(move || {
            // Stop the run (as Ctrl-C does) once every row has been read.
            let until = Instant::now() + Duration::from_secs(20);
            while progress.rows.load(Ordering::Relaxed) < 50 && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
            progress.stop.store(true, Ordering::Relaxed);
        })
    };
    let t = Instant::now();
    let out = dataflow::run(
        spec(),
        &Cluster::default(),
        cfg.open(&fields()).unwrap(),
        Arc::new(|| Ok(Vec::new())),
        Arc::clone(&progress),
    )
    .unwrap();
    watcher.join().unwrap();
    assert!(out.stopped);
    assert_eq!(out.rows, 50);
    assert!(t.elapsed() < Duration::from_secs(20));
}

/// Entity `cell-{i % 5}`'s row `i / 5`, with a spike every 40 rows of an entity after the
/// first 100.
#[cfg(feature = "nats")]
fn spiky_row(i: usize) -> String {
    let step = i / 5;
    let util = if step > 100 && step.is_multiple_of(40) {
        0.99
    } else {
        0.3 + (i % 7) as f64 * 0.01
    };
    format!(
        r#"{{"entity":"cell-{}","time":{},"prb_util":{util},"latency":12}}"#,
        i % 5,
        step * 900,
    )
}

/// A partitioned source that fails, as a killed process stops (no final checkpoint), or
/// with `stop` stops the run, as Ctrl-C does, once its readers have read `limit` rows
/// together; each batch after a `pause` (one reader behind the other: their rounds come to a
/// worker out of order).
#[cfg(feature = "nats")]
struct Interrupted {
    inner: Box<dyn ai4ict_core::Source>,
    read: Arc<std::sync::atomic::AtomicUsize>,
    limit: usize,
    pause: Duration,
    stop: Option<Arc<Progress>>,
}

#[cfg(feature = "nats")]
impl ai4ict_core::Source for Interrupted {
    fn next_batch(&mut self) -> Option<Result<ai4ict_core::Batch, ai4ict_core::SourceError>> {
        if self.read.load(Ordering::SeqCst) >= self.limit {
            match &self.stop {
                Some(progress) => progress.stop.store(true, Ordering::SeqCst),
                None => return Some(Err(ai4ict_core::SourceError("killed".into()))),
            }
        }
        std::thread::sleep(self.pause);
        let got = self.inner.next_batch();
        if let Some(Ok(b)) = &got {
            self.read.fetch_add(b.len(), Ordering::SeqCst);
        }
        got
    }

    fn checkpoint_from(&mut self, position: Option<&[u8]>) -> Result<(), ai4ict_core::SourceError> {
        self.inner.checkpoint_from(position)
    }

    fn cut(&mut self, epoch: u64) -> Vec<u8> {
        self.inner.cut(epoch)
    }

    fn take_held(&mut self) -> Option<ai4ict_core::Batch> {
        self.inner.take_held()
    }

    fn commit(&mut self, epoch: u64) {
        self.inner.commit(epoch);
    }
}

/// Each partition's stream sequence in a checkpoint's position (every reader's records of 4
/// bytes of partition and 8 of sequence).
#[cfg(feature = "nats")]
fn partition_positions(position: &[u8]) -> std::collections::BTreeMap<u32, u64> {
    assert!(position.len().is_multiple_of(12), "{position:?}");
    position
        .chunks_exact(12)
        .map(|r| {
            let (k, seq) = r.split_at(4);
            (
                u32::from_le_bytes(k.try_into().unwrap()),
                u64::from_le_bytes(seq.try_into().unwrap()),
            )
        })
        .collect()
}

/// A stream read in 4 partitions by two workers with checkpoints dies (or with `stops` is
/// stopped) mid-stream, and is resumed from its latest checkpoint on `workers`: every row is
/// scored (the checkpoint's rows and the resumed run's are the stream), the alerts are those
/// of a run that never stopped, and the resumed run raises exactly those of the rows after
/// each partition's position (raised twice: only those; none when stopped, as the last
/// checkpoint covers every row read), with no row missing or twice. Nothing is acknowledged
/// beyond the checkpoint before the restart (when stopped, exactly up to it), and everything
/// after the resumed run's last.
#[cfg(feature = "nats")]
fn a_partitioned_run_is_interrupted_and_resumes_on(workers: usize, stops: bool) {
    use ai4ict_engine::checkpoint::{self, CheckpointSpec};
    let Some(url) = server("AI4ICT_TEST_NATS") else {
        return;
    };
    let (stream, n, partitions) = (unique("AI4ICT_CKPT_PARTS_"), 1500usize, 4u32);
    let prefix = format!("{}.kpi", stream.to_lowercase());
    let owner = |i: usize| ai4ict_core::Entity::new(format!("cell-{}", i % 5)).owner(4) as u32;
    let records = (0..n).map(|i| (format!("{prefix}.{}", owner(i)), spiky_row(i)));
    let (rt, js) = jetstream(&url, &stream, &format!("{prefix}.*"), records);
    let dir = tempfile::tempdir().unwrap();
    let run = |cfg: serde_json::Value, workers, ckpt: bool, interrupt: Option<usize>| {
        let cfg: NatsSourceConfig = serde_json::from_value(cfg).unwrap();
        // Gaps filled: a row missing from a checkpoint's state (or in it twice) shows as a
        // gap (or a late row) after the restart.
        let mut spec = PipelineSpec {
            preprocess: vec![ai4ict_intent::PreprocessStep::FillGaps(
                ai4ict_intent::FillMethod::Linear,
            )],
            ..spec()
        };
        if ckpt {
            let last = checkpoint::latest(dir.path(), Some(partitions)).unwrap();
            checkpoint::clear_after(dir.path(), last.as_ref().map(|c| c.epoch)).unwrap();
            spec.span.start = last.as_ref().map(|c| Arc::new(c.state.clone()));
            spec.checkpoint = Some(CheckpointSpec {
                dir: dir.path().to_path_buf(),
                every: Duration::ZERO,
                partitions: Some(partitions),
                resume: last.map(|c| c.resume),
            });
        }
        let open = cfg.open(&fields()).unwrap();
        let read = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let progress = Arc::new(Progress::default());
        let stop = stops.then(|| Arc::clone(&progress));
        let feeds: ai4ict_core::SourceFactory = match interrupt {
            None => open,
            Some(limit) => Arc::new(move |i, p| {
                Ok(Box::new(Interrupted {
                    inner: open(i, p)?,
                    read: Arc::clone(&read),
                    limit,
                    pause: Duration::from_millis(if i == 0 { 20 } else { 0 }),
                    stop: stop.clone(),
                }) as Box<dyn ai4ict_core::Source>)
            }),
        };
        let cluster = Cluster {
            workers,
            ..Cluster::default()
        };
        dataflow::run(spec, &cluster, feeds, Arc::new(|| Ok(Vec::new())), progress).unwrap()
    };
    let parts = |durable: &str| {
        serde_json::json!({
            "url": url, "stream": stream, "subject": prefix, "partitions": partitions,
            "durable": durable, "until_caught_up": true, "buffer": 16,
        })
    };
    let whole = run(
        serde_json::json!({
            "url": url, "stream": stream, "durable": "whole", "max_rows": n, "buffer": 16,
        }),
        1,
        false,
        None,
    );
    assert!(!whole.alerts.is_empty());
    let died = run(parts("ckpt"), 2, true, Some(n / 2));
    if stops {
        assert!(died.stopped && died.errors.is_empty(), "{:?}", died.errors);
    } else {
        assert!(
            died.errors.iter().any(|e| e.contains("killed")),
            "{:?}",
            died.errors
        );
    }
    let last = checkpoint::latest(dir.path(), Some(partitions))
        .unwrap()
        .expect("a checkpoint before the run died");
    let at = partition_positions(&last.resume.position);
    assert_eq!(
        at.len(),
        partitions as usize,
        "every partition's position: {at:?}"
    );
    let seq = |i: usize| i as u64 + 1;
    assert!(last.resume.rows > 0 && (last.resume.rows as usize) < n);
    let consumers = |durable: &str| {
        rt.block_on(async {
            let s = js.get_stream(&stream).await.unwrap();
            let mut out = Vec::new();
            for k in 0..partitions {
                let mut c: async_nats::jetstream::consumer::PullConsumer =
                    s.get_consumer(&format!("{durable}-{k}")).await.unwrap();
                let info = c.info().await.unwrap();
                out.push((
                    info.ack_floor.stream_sequence,
                    info.num_pending,
                    info.num_ack_pending,
                ));
            }
            out
        })
    };
    for (k, (floor, _, _)) in consumers("ckpt").into_iter().enumerate() {
        let at = at[&(k as u32)];
        assert!(
            floor <= at,
            "partition {k}: acknowledged beyond the checkpoint"
        );
        assert!(
            !stops || floor == at,
            "partition {k}: the last checkpoint acknowledged"
        );
    }

    let resumed = run(parts("ckpt"), workers, true, None);
    assert!(resumed.errors.is_empty(), "{:?}", resumed.errors);
    assert_eq!(
        (whole.filled, resumed.filled, resumed.late),
        (0, 0, 0),
        "the checkpoint's state holds the rows before its positions, no others"
    );
    assert_eq!(
        last.resume.rows + resumed.rows,
        n as u64,
        "every row scored once, in the checkpoint or after it"
    );
    let after = |a: &ai4ict_core::Alert| {
        let e: usize = a.entity.name().trim_start_matches("cell-").parse().unwrap();
        let i = (a.time.0 / 900_000) as usize * 5 + e;
        seq(i) > at[&owner(i)]
    };
    let expected: Vec<_> = whole.alerts.iter().filter(|a| after(a)).collect();
    assert!(
        !stops || died.alerts.iter().all(|a| !after(a)),
        "a stopped run's last checkpoint covers every alert it raised"
    );
    assert!(!expected.is_empty(), "alerts after the checkpoint");
    let mut again: Vec<_> = resumed.alerts.iter().collect();
    again.sort_by(|a, b| {
        (a.time, a.entity.name(), &a.field).cmp(&(b.time, b.entity.name(), &b.field))
    });
    let mut expected = expected;
    expected.sort_by(|a, b| {
        (a.time, a.entity.name(), &a.field).cmp(&(b.time, b.entity.name(), &b.field))
    });
    assert_eq!(
        again, expected,
        "the resumed run raises the alerts after the checkpoint"
    );
    let key = |a: &ai4ict_core::Alert| (a.time, a.entity.name().to_string(), a.field.clone());
    let union: std::collections::BTreeSet<_> =
        died.alerts.iter().chain(&resumed.alerts).map(key).collect();
    let never: std::collections::BTreeSet<_> = whole.alerts.iter().map(key).collect();
    assert_eq!(union, never, "the alerts of a run that never stopped");
    for (k, (floor, pending, ack_pending)) in consumers("ckpt").into_iter().enumerate() {
        assert_eq!((pending, ack_pending), (0, 0), "partition {k}");
        assert!(
            floor > at[&(k as u32)],
            "partition {k}: the last checkpoint acknowledged"
        );
    }
    rt.block_on(async { js.delete_stream(&stream).await.unwrap() });
}

#[test]
#[cfg(feature = "nats")]
fn a_partitioned_run_with_checkpoints_dies_and_resumes_on_one_worker() {
    a_partitioned_run_is_interrupted_and_resumes_on(1, false);
}

#[test]
#[cfg(feature = "nats")]
fn a_partitioned_run_with_checkpoints_dies_and_resumes_on_two_workers() {
    a_partitioned_run_is_interrupted_and_resumes_on(2, false);
}

#[test]
#[cfg(feature = "nats")]
fn a_partitioned_run_with_checkpoints_stops_and_resumes_on_two_workers() {
    a_partitioned_run_is_interrupted_and_resumes_on(2, true);
}
