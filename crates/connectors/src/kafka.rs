//! Kafka transport of the live source (a consumer group member polled on its own thread) and
//! the alert sink (an idempotent producer), on librdkafka built from source.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ai4ict_core::Alert;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use crate::alerting::alert_json;
use crate::kafka_config::{KafkaShare, Position};
use crate::live::{AckToken, Event, Transport};
use crate::{AlertSink, ConnectorError, KafkaSinkConfig, KafkaSourceConfig};

/// How long reaching the brokers (and a write's delivery) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one poll of the consumer waits on its thread.
const POLL: Duration = Duration::from_millis(100);

fn client(brokers: &[String]) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers.join(","));
    c
}

/// Checks that the brokers answer and hold `topic` with partitions; returns how many.
fn check_topic<C: ClientContext>(
    client: &rdkafka::client::Client<C>,
    topic: &str,
) -> Result<usize, String> {
    let metadata = client
        .fetch_metadata(Some(topic), CONNECT_TIMEOUT)
        .map_err(|e| format!("cannot reach the brokers: {e}"))?;
    let t = metadata.topics().iter().find(|t| t.name() == topic);
    match (t.and_then(|t| t.error()), t) {
        (Some(e), _) => Err(format!("topic `{topic}`: {}", RDKafkaErrorCode::from(e))),
        (None, Some(t)) if !t.partitions().is_empty() => Ok(t.partitions().len()),
        _ => Err(format!("topic `{topic}` has no partitions")),
    }
}

/// Joins the consumer group (or assigns the partitions of `share`) and starts a thread
/// polling; returns once the brokers have answered and the topic is known (with `partitions`,
/// to have that many). Offsets are committed under `group` only as [`AckToken::Kafka`]
/// positions come back (never automatically).
pub(crate) fn consume(
    cfg: &KafkaSourceConfig,
    name: &str,
    share: KafkaShare,
) -> Result<Transport, ConnectorError> {
    let fail = |message: String| ConnectorError::Live {
        source_name: name.to_string(),
        message,
    };
    let mut config = client(&cfg.brokers);
    config
        .set("group.id", &cfg.group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", cfg.start.as_str());
    if let Some(t) = cfg.session_timeout {
        // The receiving thread polls whether or not the pipeline keeps up (it pauses
        // fetching instead), so the poll interval can be held to the same bound.
        let ms = t.millis().to_string();
        config
            .set("session.timeout.ms", &ms)
            .set("max.poll.interval.ms", &ms);
    }
    let consumer: BaseConsumer = config
        .create()
        .map_err(|e| fail(format!("cannot make the consumer: {e}")))?;
    let count = check_topic(consumer.client(), &cfg.topic).map_err(fail)?;
    match share {
        KafkaShare::Group => consumer.subscribe(&[&cfg.topic]),
        KafkaShare::Assigned { partitions, from } => {
            if let Some(n) = cfg.partitions.filter(|&n| n as usize != count) {
                return Err(fail(format!(
                    "topic `{}` has {count} partitions, not the {n} `partitions` says",
                    cfg.topic
                )));
            }
            let mut list = TopicPartitionList::new();
            for p in partitions {
                let at = from.get(&p).map_or(Offset::Stored, |&o| Offset::Offset(o));
                list.add_partition_offset(&cfg.topic, p, at)
                    .map_err(|e| fail(format!("partition {p}: {e}")))?;
            }
            consumer.assign(&list)
        }
    }
    .map_err(|e| fail(format!("topic `{}`: {e}", cfg.topic)))?;
    let (tx, rx) = sync_channel(cfg.buffer.max(1));
    let (ack_tx, ack_rx) = tokio::sync::mpsc::unbounded_channel();
    let stop = Arc::new(AtomicBool::new(false));
    let thread_stop = Arc::clone(&stop);
    let topic = cfg.topic.clone();
    let thread = std::thread::Builder::new()
        .name("ai4ict-kafka-source".into())
        .spawn(move || poll(&consumer, &topic, &tx, ack_rx, &thread_stop))
        .map_err(|e| fail(format!("cannot start the receiving thread: {e}")))?;
    Ok(Transport {
        rx,
        early: VecDeque::new(),
        acks: Some(ack_tx),
        stop,
        thread: Some(thread),
    })
}

/// Commits the newest position among the tokens waiting (positions only move forward).
#[cfg_attr(not(feature = "nats"), allow(irrefutable_let_patterns))]
fn commit(
    consumer: &BaseConsumer,
    topic: &str,
    acks: &mut tokio::sync::mpsc::UnboundedReceiver<Vec<AckToken>>,
    mode: CommitMode,
) {
    let mut newest: Option<Position> = None;
    while let Ok(tokens) = acks.try_recv() {
        for token in tokens {
            if let AckToken::Kafka(position) = token {
                newest = Some(position);
            }
        }
    }
    let Some(position) = newest.filter(|p| !p.is_empty()) else {
        return;
    };
    let mut list = TopicPartitionList::new();
    for (&partition, &offset) in &position {
        // Only an unknown partition fails here; the offset is a plain number.
        let _ = list.add_partition_offset(topic, partition, Offset::Offset(offset));
    }
    // A failed commit leaves the group behind: its records are read again (at least once).
    let _ = consumer.commit(&list, mode);
}

/// Polls into `tx` and commits what comes back on `acks`, until stopped; then commits the last
/// position and leaves the group. While `tx` is full (the pipeline is behind) fetching is
/// paused but polling goes on, so that the group keeps this member (`max.poll.interval.ms`)
/// and rebalances are served; the records already fetched wait in order.
fn poll(
    consumer: &BaseConsumer,
    topic: &str,
    tx: &SyncSender<Event>,
    mut acks: tokio::sync::mpsc::UnboundedReceiver<Vec<AckToken>>,
    stop: &AtomicBool,
) {
    let mut pending: VecDeque<Event> = VecDeque::new();
    let mut paused = false;
    let mut seq = 0;
    'run: while !stop.load(Ordering::Relaxed) {
        commit(consumer, topic, &mut acks, CommitMode::Async);
        while let Some(event) = pending.pop_front() {
            match tx.try_send(event) {
                Ok(()) => {}
                Err(TrySendError::Full(e)) => {
                    pending.push_front(e);
                    break;
                }
                Err(TrySendError::Disconnected(_)) => break 'run,
            }
        }
        let behind = !pending.is_empty();
        if behind || paused {
            // Paused again each time while behind: a rebalance assigns partitions unpaused.
            if let Ok(assigned) = consumer.assignment() {
                let _ = if behind {
                    consumer.pause(&assigned)
                } else {
                    consumer.resume(&assigned)
                };
            }
            paused = behind;
        }
        let wait = if behind {
            Duration::from_millis(5)
        } else {
            POLL
        };
        match consumer.poll(wait) {
            None => {}
            Some(Ok(m)) => {
                seq += 1;
                pending.push_back(Event::Message {
                    origin: format!("{}/{}", m.topic(), m.partition()),
                    payload: m.payload().unwrap_or_default().to_vec(),
                    ack: None,
                    seq: Some(seq),
                    offset: Some((m.partition(), m.offset())),
                    consumer: 0,
                });
            }
            Some(Err(e)) => pending.push_back(Event::Trouble(e.to_string())),
        }
    }
    // The source has stopped: records not handed over stay uncommitted (read again).
    commit(consumer, topic, &mut acks, CommitMode::Sync);
}

/// Keeps the first delivery failure of the producer's records.
#[derive(Default)]
struct Deliveries {
    failed: Mutex<Option<String>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
            failed.get_or_insert_with(|| e.to_string());
        }
    }
}

/// See [`KafkaSinkConfig`]. Each write produces and flushes, so an error names the write.
pub struct KafkaSink {
    name: String,
    intent: String,
    topic: String,
    producer: ThreadedProducer<Deliveries>,
}

impl std::fmt::Debug for KafkaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSink")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl KafkaSink {
    /// Makes the producer and checks that the brokers answer and hold the topic.
    pub fn connect(cfg: &KafkaSinkConfig, intent: &str) -> Result<Self, ConnectorError> {
        let name = format!("kafka sink {} topic {}", cfg.brokers.join(","), cfg.topic);
        let fail = |message: String| ConnectorError::Delivery {
            sink: name.clone(),
            message,
        };
        let producer: ThreadedProducer<Deliveries> = client(&cfg.brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set(
                "message.timeout.ms",
                CONNECT_TIMEOUT.as_millis().to_string(),
            )
            .create_with_context(Deliveries::default())
            .map_err(|e| fail(format!("cannot make the producer: {e}")))?;
        check_topic(producer.client(), &cfg.topic).map_err(fail)?;
        Ok(Self {
            name,
            intent: intent.to_string(),
            topic: cfg.topic.clone(),
            producer,
        })
    }

    fn fail(&self, message: String) -> ConnectorError {
        ConnectorError::Delivery {
            sink: self.name.clone(),
            message,
        }
    }

    /// Waits until the brokers have every record produced; fails with the first that they
    /// refused or that timed out.
    fn flush(&mut self) -> Result<(), ConnectorError> {
        self.producer
            .flush(CONNECT_TIMEOUT)
            .map_err(|e| self.fail(format!("not delivered: {e}")))?;
        let failed = self
            .producer
            .context()
            .failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        failed.map_or(Ok(()), |e| Err(self.fail(format!("not delivered: {e}"))))
    }
}

impl AlertSink for KafkaSink {
    fn write(&mut self, alerts: &[Alert]) -> Result<(), ConnectorError> {
        for a in alerts {
            let key = a.key(&self.intent);
            let payload = alert_json(a, &self.intent).to_string();
            let mut record = BaseRecord::to(&self.topic).key(&key).payload(&payload);
            loop {
                match self.producer.send(record) {
                    Ok(()) => break,
                    // The producer's queue is full: its thread sends while this waits.
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                        record = r;
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err((e, _)) => return Err(self.fail(e.to_string())),
                }
            }
        }
        self.flush()
    }

    fn finish(&mut self) -> Result<(), ConnectorError> {
        self.flush()
    }
}
