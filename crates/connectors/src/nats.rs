//! NATS transport of the live source (a JetStream durable pull consumer) and the alert sink
//! (core NATS publish).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use ai4ict_core::Alert;
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use futures_util::StreamExt;

use crate::alerting::alert_json;
use crate::live::{host_port, AckToken, Event, Transport};
use crate::{AlertSink, ConnectorError, NatsSinkConfig, NatsSourceConfig};

/// What acknowledges a JetStream message once its rows are in the dataflow.
pub(crate) struct Ack(pub(crate) Box<async_nats::jetstream::Message>);

/// How long connecting and binding the consumer may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

fn address(url: &str) -> Result<String, String> {
    let (host, port) = host_port(url, &["nats"], 4222)?;
    Ok(format!("nats://{host}:{port}"))
}

async fn connect(url: &str) -> Result<async_nats::Client, String> {
    let addr = address(url)?;
    let opts = async_nats::ConnectOptions::new()
        .connection_timeout(CONNECT_TIMEOUT)
        .max_reconnects(None);
    match tokio::time::timeout(CONNECT_TIMEOUT, opts.connect(addr.as_str())).await {
        Ok(Ok(c)) => {
            if tokio::time::timeout(CONNECT_TIMEOUT, c.flush())
                .await
                .is_err()
            {
                return Err(format!("cannot connect to {addr}: no answer"));
            }
            Ok(c)
        }
        Ok(Err(e)) => Err(format!("cannot connect: {e}")),
        Err(_) => Err(format!(
            "cannot connect to {addr} within {} s",
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}

/// Binds the consumer and starts a thread fetching from it; returns once bound. With `after`
/// (checkpoints), the consumer is made anew to deliver in order from the message after the
/// given stream sequence (after its acknowledged floor when that is `None`): what a dead
/// run had received but not acknowledged then comes at once and in order, not after the ack
/// wait and after newer messages. Its acknowledgements are cumulative (`AckPolicy::All`)
/// and unbounded in number, as a checkpoint's commit acknowledges its last message only.
pub(crate) fn consume(
    cfg: &NatsSourceConfig,
    name: &str,
    after: Option<Option<u64>>,
) -> Result<Transport, ConnectorError> {
    let fail = |message: String| ConnectorError::Live {
        source_name: name.to_string(),
        message,
    };
    let (tx, rx) = sync_channel(cfg.buffer.max(1));
    let (ack_tx, ack_rx) = tokio::sync::mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let thread_stop = Arc::clone(&stop);
    let cfg2 = cfg.clone();
    let thread = std::thread::Builder::new()
        .name("ai4ict-nats-source".into())
        .spawn(move || {
            let rt = match runtime() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(format!("cannot start the runtime: {e}")));
                    return;
                }
            };
            rt.block_on(fetch(cfg2, after, tx, ack_rx, ready_tx, thread_stop));
        })
        .map_err(|e| fail(format!("cannot start the receiving thread: {e}")))?;
    match ready_rx.recv_timeout(CONNECT_TIMEOUT * 3) {
        Ok(Ok(())) => Ok(Transport {
            rx,
            early: VecDeque::new(),
            acks: Some(ack_tx),
            stop,
            thread: Some(thread),
        }),
        Ok(Err(e)) => Err(fail(e)),
        Err(_) => {
            stop.store(true, Ordering::Relaxed);
            Err(fail("no answer from the server".into()))
        }
    }
}

async fn bind(
    cfg: &NatsSourceConfig,
    after: Option<Option<u64>>,
) -> Result<(async_nats::Client, pull::Stream), String> {
    let client = connect(&cfg.url).await?;
    let js = async_nats::jetstream::new(client.clone());
    let stream = js
        .get_stream(&cfg.stream)
        .await
        .map_err(|e| format!("stream `{}`: {e}", cfg.stream))?;
    let mut config = pull::Config {
        durable_name: Some(cfg.durable.clone()),
        ack_policy: AckPolicy::Explicit,
        filter_subject: cfg.subject.clone().unwrap_or_default(),
        max_ack_pending: i64::try_from(cfg.buffer.max(1) * 2).unwrap_or(i64::MAX),
        ack_wait: cfg
            .ack_wait
            .map_or(Duration::ZERO, crate::live::interval_duration),
        ..Default::default()
    };
    let consumer = match after {
        None => stream.get_or_create_consumer(&cfg.durable, config).await,
        Some(after) => {
            let floor = match stream.get_consumer::<pull::Config>(&cfg.durable).await {
                Ok(mut c) => c.info().await.ok().map(|i| i.ack_floor.stream_sequence),
                Err(_) => None,
            };
            if floor.is_some() {
                stream
                    .delete_consumer(&cfg.durable)
                    .await
                    .map_err(|e| format!("consumer `{}`: {e}", cfg.durable))?;
            }
            // Acknowledging a message acknowledges all before it: a checkpoint's commit acks
            // its last message only, and up to a checkpoint interval of messages may wait.
            config.ack_policy = AckPolicy::All;
            config.max_ack_pending = -1;
            if let Some(start) = after.or(floor).map(|s| s + 1) {
                config.deliver_policy = DeliverPolicy::ByStartSequence {
                    start_sequence: start,
                };
            }
            stream.create_consumer(config).await
        }
    }
    .map_err(|e| format!("consumer `{}`: {e}", cfg.durable))?;
    let messages = consumer
        .stream()
        .max_messages_per_batch(cfg.buffer.clamp(1, 500))
        .heartbeat(Duration::from_secs(5))
        .expires(Duration::from_secs(10))
        .messages()
        .await
        .map_err(|e| format!("consumer `{}`: {e}", cfg.durable))?;
    Ok((client, messages))
}

/// Fetches into `tx` (waiting while it is full: the consumer then stops pulling) and acks
/// what comes back on `acks`, until stopped; then sends the last acks and flushes.
async fn fetch(
    cfg: NatsSourceConfig,
    after: Option<Option<u64>>,
    tx: SyncSender<Event>,
    mut acks: tokio::sync::mpsc::UnboundedReceiver<Vec<AckToken>>,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
    stop: Arc<AtomicBool>,
) {
    let (client, mut messages) = match bind(&cfg, after).await {
        Ok(b) => b,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    let ack_client = client.clone();
    let acker = tokio::spawn(async move {
        while let Some(batch) = acks.recv().await {
            for token in batch {
                if let AckToken::Nats(Ack(m)) = token {
                    // A failed ack is redelivered after the ack wait: at least once.
                    let _ = m.ack().await;
                }
            }
            let _ = ack_client.flush().await;
        }
    });
    let mut pending: Option<Event> = None;
    while !stop.load(Ordering::Relaxed) {
        if let Some(event) = pending.take() {
            match tx.try_send(event) {
                Ok(()) => {}
                Err(std::sync::mpsc::TrySendError::Full(e)) => {
                    pending = Some(e);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
                Err(std::sync::mpsc::TrySendError::Disconnected(_)) => break,
            }
        }
        let next = tokio::time::timeout(Duration::from_millis(100), messages.next()).await;
        pending = match next {
            Err(_) => None,
            Ok(None) => break,
            Ok(Some(Ok(m))) => Some(Event::Message {
                origin: m.subject.to_string(),
                payload: m.payload.to_vec(),
                seq: m.info().ok().map(|i| i.stream_sequence),
                offset: None,
                ack: Some(AckToken::Nats(Ack(Box::new(m)))),
            }),
            Ok(Some(Err(e))) => Some(Event::Trouble(e.to_string())),
        };
    }
    // The source has stopped: messages not handed over stay unacknowledged (redelivered).
    drop(messages);
    drop(tx);
    let _ = acker.await;
    let _ = client.flush().await;
}

/// See [`NatsSinkConfig`]. Each write publishes and flushes, so an error names the write.
pub struct NatsSink {
    name: String,
    intent: String,
    subject: String,
    // Dropped before the runtime it runs on.
    client: async_nats::Client,
    rt: tokio::runtime::Runtime,
}

impl std::fmt::Debug for NatsSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsSink")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl NatsSink {
    /// Connects to the server.
    pub fn connect(cfg: &NatsSinkConfig, intent: &str) -> Result<Self, ConnectorError> {
        let name = format!("nats sink {} {}", cfg.url, cfg.subject);
        let fail = |message: String| ConnectorError::Delivery {
            sink: name.clone(),
            message,
        };
        let rt = runtime().map_err(|e| fail(format!("cannot start the runtime: {e}")))?;
        let client = rt.block_on(connect(&cfg.url)).map_err(fail)?;
        Ok(Self {
            name,
            intent: intent.to_string(),
            subject: cfg.subject.clone(),
            client,
            rt,
        })
    }

    fn fail(&self, message: String) -> ConnectorError {
        ConnectorError::Delivery {
            sink: self.name.clone(),
            message,
        }
    }
}

impl AlertSink for NatsSink {
    fn write(&mut self, alerts: &[Alert]) -> Result<(), ConnectorError> {
        if alerts.is_empty() {
            return Ok(());
        }
        let (client, subject) = (&self.client, self.subject.clone());
        let intent = self.intent.clone();
        self.rt
            .block_on(async {
                for a in alerts {
                    let payload = alert_json(a, &intent).to_string();
                    client
                        .publish(subject.clone(), payload.into())
                        .await
                        .map_err(|e| e.to_string())?;
                }
                tokio::time::timeout(CONNECT_TIMEOUT, client.flush())
                    .await
                    .map_err(|_| "no answer from the server".to_string())?
                    .map_err(|e| e.to_string())
            })
            .map_err(|e| self.fail(e))
    }

    fn finish(&mut self) -> Result<(), ConnectorError> {
        let client = &self.client;
        self.rt
            .block_on(async { tokio::time::timeout(CONNECT_TIMEOUT, client.flush()).await })
            .map_err(|_| self.fail("no answer from the server".into()))?
            .map_err(|e| self.fail(e.to_string()))
    }
}
