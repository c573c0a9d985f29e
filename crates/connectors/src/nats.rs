//! NATS transport of the live source (a JetStream durable pull consumer) and the alert sink
//! (core NATS publish).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ai4ict_core::Alert;
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use futures_util::StreamExt;

use crate::alerting::alert_json;
use crate::auth::{Broker, BrokerAuth, Login};
use crate::live::{host_port, AckToken, Event, Share, Transport};
use crate::ClientTls;
use crate::{AlertSink, ConnectorError, NatsSinkConfig, NatsSourceConfig};

/// What acknowledges a JetStream message once its rows are in the dataflow. `all`: its
/// consumer's acknowledgements are cumulative (`AckPolicy::All`), so the last message of a
/// batch acknowledges those before it.
pub(crate) struct Ack {
    /// The message's reply subject, which an acknowledgement is published to.
    reply: async_nats::Subject,
    /// The consumer's place among the transport's.
    consumer: usize,
    all: bool,
}

/// How long connecting and binding the consumer may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Messages a pull request asks for at most.
const MAX_PULL: usize = 2000;

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// The server's address, `tls://` when TLS is asked for by the address or by `tls`.
fn address(url: &str, tls: bool) -> Result<String, String> {
    let (host, port) = host_port(url, &["nats", "tls"], 4222)?;
    let scheme = if tls || url.starts_with("tls://") {
        "tls"
    } else {
        "nats"
    };
    Ok(format!("{scheme}://{host}:{port}"))
}

/// What the server refused this client since last asked: a publish or subscription its
/// permissions do not allow is answered by a server error, not by a failed request, so a
/// sink would otherwise lose alerts without a word. The error comes when the server has
/// read the request, some time after the client has written it (`flush` waits for the
/// write only).
#[derive(Clone, Default)]
struct Refusals(Arc<Mutex<Option<String>>>);

/// How long a sink's `finish` waits for the server's word on its last alerts.
const REFUSAL_GRACE: Duration = Duration::from_millis(250);

impl Refusals {
    fn record(&self, error: String) {
        if let Ok(mut r) = self.0.lock() {
            r.get_or_insert(error);
        }
    }

    /// Waits for a refusal (checking every 20 ms).
    async fn first(&self) -> String {
        loop {
            if let Some(r) = self.0.lock().ok().and_then(|mut r| r.take()) {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The first refusal, once the client's events so far have been handled (they come
    /// through a task of their own), after waiting `grace` for the server's.
    async fn settle(&self, grace: Duration) -> Option<String> {
        if !grace.is_zero() {
            tokio::time::sleep(grace).await;
        }
        for _ in 0..8 {
            tokio::task::yield_now().await;
        }
        self.0.lock().ok().and_then(|mut r| r.take())
    }
}

/// Connects to the server at `url`, logging in with `auth` and over `tls` when given.
async fn connect(
    url: &str,
    auth: Option<&BrokerAuth>,
    tls: Option<&ClientTls>,
) -> Result<(async_nats::Client, Refusals), String> {
    let addr = address(url, tls.is_some())?;
    let refusals = Refusals::default();
    let events = refusals.clone();
    let mut opts = async_nats::ConnectOptions::new().event_callback(move |event| {
        let events = events.clone();
        async move {
            if let async_nats::Event::ServerError(e) = event {
                events.record(e.to_string());
            }
        }
    });
    match auth.map(|a| a.login(Broker::Nats)).transpose()? {
        None | Some(Login::Anonymous) => {}
        Some(Login::Password { user, password }) => {
            opts = opts.user_and_password(user, password.0);
        }
        Some(Login::Token(token)) => opts = opts.token(token.0),
        Some(Login::Creds(path)) => {
            opts = opts
                .credentials_file(&path)
                .await
                .map_err(|e| format!("auth.creds_file: cannot read {}: {e}", path.display()))?;
        }
    }
    if let Some(tls) = tls {
        opts = opts.require_tls(true);
        for (key, path) in tls.files() {
            if let Err(e) = std::fs::metadata(path) {
                return Err(format!("{key}: cannot read {}: {e}", path.display()));
            }
        }
        if let Some(ca) = &tls.ca_file {
            opts = opts.add_root_certificates(ca.clone());
        }
        if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
            opts = opts.add_client_certificate(cert.clone(), key.clone());
        }
    }
    let opts = opts
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
            Ok((c, refusals))
        }
        Ok(Err(e)) => Err(format!("cannot connect to {addr}: {e}")),
        Err(_) => Err(format!(
            "cannot connect to {addr} within {} s",
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}

/// (durable name, filter subject) of each consumer of `share`.
fn consumers(share: &Share, cfg: &NatsSourceConfig) -> Vec<(String, String)> {
    let subject = cfg.subject.clone().unwrap_or_default();
    match share {
        Share::Whole => vec![(cfg.durable.clone(), subject)],
        Share::Partitions(ks) => ks
            .iter()
            .map(|k| (format!("{}-{k}", cfg.durable), format!("{subject}.{k}")))
            .collect(),
    }
}

/// Binds the consumers of `share` and starts a thread fetching from them; returns once bound.
/// A consumer this makes acknowledges cumulatively (`AckPolicy::All`): the last message
/// handed over acknowledges those before it. With `after` (checkpoints: a stream sequence for
/// each consumer), each consumer is made anew to deliver in order from the message after its
/// sequence (after its acknowledged floor when that is `None`): what a dead run had received
/// but not acknowledged then comes at once and in order, not after the ack wait and after
/// newer messages; its acknowledgements are unbounded in number, as a checkpoint's commit
/// acknowledges its last message only.
pub(crate) fn consume(
    cfg: &NatsSourceConfig,
    name: &str,
    share: Share,
    after: Option<Vec<Option<u64>>>,
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
            rt.block_on(fetch(cfg2, share, after, tx, ack_rx, ready_tx, thread_stop));
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

/// A bound consumer: its messages, whether its acks are cumulative, and how many messages it
/// had pending when bound.
struct Bound {
    messages: pull::Stream,
    all: bool,
    pending: u64,
}

async fn bind_one(
    cfg: &NatsSourceConfig,
    stream: &async_nats::jetstream::stream::Stream,
    durable: &str,
    filter: String,
    after: Option<Option<u64>>,
) -> Result<Bound, String> {
    let mut config = pull::Config {
        durable_name: Some(durable.to_string()),
        ack_policy: AckPolicy::All,
        filter_subject: filter,
        max_ack_pending: i64::try_from(cfg.buffer.max(1) * 2).unwrap_or(i64::MAX),
        ack_wait: cfg
            .ack_wait
            .map_or(Duration::ZERO, crate::live::interval_duration),
        ..Default::default()
    };
    let consumer = match after {
        None => stream.get_or_create_consumer(durable, config).await,
        Some(after) => {
            let floor = match stream.get_consumer::<pull::Config>(durable).await {
                Ok(mut c) => c.info().await.ok().map(|i| i.ack_floor.stream_sequence),
                Err(_) => None,
            };
            if floor.is_some() {
                stream
                    .delete_consumer(durable)
                    .await
                    .map_err(|e| format!("consumer `{durable}`: {e}"))?;
            }
            // A checkpoint's commit acks its last message only, and up to a checkpoint
            // interval of messages may wait.
            config.max_ack_pending = -1;
            if let Some(start) = after.or(floor).map(|s| s + 1) {
                config.deliver_policy = DeliverPolicy::ByStartSequence {
                    start_sequence: start,
                };
            }
            stream.create_consumer(config).await
        }
    }
    .map_err(|e| format!("consumer `{durable}`: {e}"))?;
    let info = consumer.cached_info();
    // A consumer an earlier version made acknowledges message by message.
    let all = info.config.ack_policy == AckPolicy::All;
    let pending = info.num_pending;
    let messages = consumer
        .stream()
        .max_messages_per_batch(cfg.buffer.clamp(1, MAX_PULL))
        .heartbeat(Duration::from_secs(5))
        .expires(Duration::from_secs(10))
        .messages()
        .await
        .map_err(|e| format!("consumer `{durable}`: {e}"))?;
    Ok(Bound {
        messages,
        all,
        pending,
    })
}

async fn bind(
    cfg: &NatsSourceConfig,
    share: &Share,
    after: Option<Vec<Option<u64>>>,
) -> Result<(async_nats::Client, Vec<Bound>), String> {
    let (client, refusals) = connect(&cfg.url, cfg.auth.as_ref(), cfg.tls.as_ref()).await?;
    // A request the permissions refuse would time out: fail at the server's word instead.
    let refused = |e: String| format!("the server refused: {e}");
    let js = async_nats::jetstream::new(client.clone());
    let stream = tokio::select! {
        s = js.get_stream(&cfg.stream) => s.map_err(|e| format!("stream `{}`: {e}", cfg.stream))?,
        r = refusals.first() => return Err(refused(r)),
    };
    let mut bound = Vec::new();
    for (i, (durable, filter)) in consumers(share, cfg).into_iter().enumerate() {
        let after = after.as_ref().map(|a| a.get(i).copied().flatten());
        tokio::select! {
            b = bind_one(cfg, &stream, &durable, filter, after) => bound.push(b?),
            r = refusals.first() => return Err(refused(r)),
        }
    }
    Ok((client, bound))
}

/// Acknowledges a batch of handed-over messages: of a consumer with cumulative acks, only
/// its last message. A failed ack is redelivered after the ack wait: at least once.
async fn acknowledge(client: &async_nats::Client, batch: Vec<AckToken>) {
    let mut last: Vec<Ack> = Vec::new();
    for token in batch {
        let AckToken::Nats(ack) = token else {
            continue;
        };
        if !ack.all {
            let _ = client.publish(ack.reply, "".into()).await;
            continue;
        }
        match last.iter_mut().find(|a| a.consumer == ack.consumer) {
            Some(a) => *a = ack,
            None => last.push(ack),
        }
    }
    for ack in last {
        let _ = client.publish(ack.reply, "".into()).await;
    }
}

/// Fetches into `tx` (waiting while it is full: the consumers then stop pulling) and acks
/// what comes back on `acks`, until stopped; then sends the last acks and flushes. Sends
/// [`Event::CaughtUp`] after the message that leaves no consumer anything pending (at once
/// when none had any).
async fn fetch(
    cfg: NatsSourceConfig,
    share: Share,
    after: Option<Vec<Option<u64>>>,
    tx: SyncSender<Event>,
    mut acks: tokio::sync::mpsc::UnboundedReceiver<Vec<AckToken>>,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
    stop: Arc<AtomicBool>,
) {
    let (client, bound) = match bind(&cfg, &share, after).await {
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
            acknowledge(&ack_client, batch).await;
            let _ = ack_client.flush().await;
        }
    });
    let all: Vec<bool> = bound.iter().map(|b| b.all).collect();
    let mut merge = Merge::new(bound);
    let mut caught_up = merge.caught_up();
    let mut queue: VecDeque<Event> = VecDeque::new();
    if caught_up {
        queue.push_back(Event::CaughtUp);
    }
    while !stop.load(Ordering::Relaxed) {
        if let Some(event) = queue.pop_front() {
            match tx.try_send(event) {
                Ok(()) => continue,
                Err(std::sync::mpsc::TrySendError::Full(e)) => {
                    queue.push_front(e);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
                Err(std::sync::mpsc::TrySendError::Disconnected(_)) => break,
            }
        }
        match merge.next().await {
            Next::Idle => {}
            Next::Ended => break,
            Next::Trouble(e) => queue.push_back(Event::Trouble(e)),
            Next::Message(i) => {
                let Some((seq, m)) = merge.take(i) else {
                    continue;
                };
                // Only the reply subject is kept to acknowledge the message.
                let m = m.message;
                queue.push_back(Event::Message {
                    origin: m.subject.to_string(),
                    payload: Vec::from(m.payload),
                    seq,
                    offset: None,
                    consumer: i,
                    ack: m.reply.map(|reply| {
                        AckToken::Nats(Ack {
                            reply,
                            consumer: i,
                            all: all[i],
                        })
                    }),
                });
                if !caught_up && merge.caught_up() {
                    caught_up = true;
                    queue.push_back(Event::CaughtUp);
                }
            }
        }
    }
    // The source has stopped: messages not handed over stay unacknowledged (redelivered).
    drop(merge);
    drop(tx);
    let _ = acker.await;
    let _ = client.flush().await;
}

/// What [`Merge::next`] found.
enum Next {
    /// The message at hand of consumer `.0` ([`Merge::take`]).
    Message(usize),
    Trouble(String),
    /// Nothing to hand over yet.
    Idle,
    /// Every consumer's messages have ended.
    Ended,
}

type Item = <pull::Stream as futures_util::Stream>::Item;

/// The consumers' messages merged in stream order, the publisher's: a reader of several
/// partitions sees them as a reader of the whole stream would (an entity's rows in step with
/// the others'). The message with the lowest stream sequence is handed over once every
/// consumer with messages pending has one at hand; one with none pending (caught up) is not
/// waited for, nor, until its next message comes, one waited for [`LATE`] × 100 ms (its
/// pending messages may have been removed from the stream).
struct Merge {
    streams: Vec<pull::Stream>,
    heads: Vec<Option<(u64, async_nats::jetstream::Message)>>,
    /// Messages each consumer had left to deliver, as of its latest message.
    pending: Vec<u64>,
    /// Waits of 100 ms in a row for each consumer's next message.
    waits: Vec<u32>,
    ended: Vec<bool>,
}

/// Waits of 100 ms after which a consumer with messages pending is no longer waited for.
const LATE: u32 = 10;

impl Merge {
    fn new(bound: Vec<Bound>) -> Self {
        let n = bound.len();
        let pending = bound.iter().map(|b| b.pending).collect();
        Self {
            streams: bound.into_iter().map(|b| b.messages).collect(),
            heads: (0..n).map(|_| None).collect(),
            pending,
            waits: vec![0; n],
            ended: vec![false; n],
        }
    }

    /// Nothing is pending or at hand.
    fn caught_up(&self) -> bool {
        self.pending.iter().all(|&p| p == 0) && self.heads.iter().all(Option::is_none)
    }

    /// Takes what consumer `i`'s stream gave; a trouble to report.
    fn store(&mut self, i: usize, item: Option<Item>) -> Option<String> {
        match item {
            None => {
                self.ended[i] = true;
                None
            }
            Some(Err(e)) => Some(e.to_string()),
            Some(Ok(m)) => {
                let seq = match m.info() {
                    Ok(info) => {
                        self.pending[i] = info.pending;
                        info.stream_sequence
                    }
                    Err(_) => u64::MAX,
                };
                self.heads[i] = Some((seq, m));
                self.waits[i] = 0;
                None
            }
        }
    }

    /// Consumer `i`'s message at hand, with its stream sequence.
    fn take(&mut self, i: usize) -> Option<(Option<u64>, async_nats::jetstream::Message)> {
        let (seq, m) = self.heads.get_mut(i)?.take()?;
        Some(((seq != u64::MAX).then_some(seq), m))
    }

    /// The next message in stream order, waiting at most 100 ms.
    async fn next(&mut self) -> Next {
        use futures_util::FutureExt;
        for i in 0..self.streams.len() {
            if self.heads[i].is_none() && !self.ended[i] {
                if let Some(item) = self.streams[i].next().now_or_never() {
                    if let Some(trouble) = self.store(i, item) {
                        return Next::Trouble(trouble);
                    }
                }
            }
        }
        let open = |m: &Self, i: usize| m.heads[i].is_none() && !m.ended[i];
        let mut waiting: Vec<usize> = (0..self.streams.len())
            .filter(|&i| open(self, i) && self.pending[i] > 0 && self.waits[i] < LATE)
            .collect();
        if waiting.is_empty() {
            let first = (0..self.heads.len())
                .filter_map(|i| self.heads[i].as_ref().map(|(seq, _)| (*seq, i)))
                .min();
            if let Some((_, i)) = first {
                return Next::Message(i);
            }
            waiting = (0..self.streams.len()).filter(|&i| open(self, i)).collect();
            if waiting.is_empty() {
                return Next::Ended;
            }
        }
        let got = {
            let nexts = self
                .streams
                .iter_mut()
                .enumerate()
                .filter(|(i, _)| waiting.contains(i))
                .map(|(i, s)| Box::pin(async move { (i, s.next().await) }));
            tokio::time::timeout(
                Duration::from_millis(100),
                futures_util::future::select_all(nexts),
            )
            .await
            .map(|((i, item), _, _)| (i, item))
        };
        match got {
            Ok((i, item)) => self.store(i, item).map_or(Next::Idle, Next::Trouble),
            Err(_) => {
                for i in waiting {
                    self.waits[i] = self.waits[i].saturating_add(1);
                }
                Next::Idle
            }
        }
    }
}

/// See [`NatsSinkConfig`]. Each write publishes and flushes, so an error names the write.
pub struct NatsSink {
    name: String,
    intent: String,
    subject: String,
    // Dropped before the runtime it runs on.
    client: async_nats::Client,
    refusals: Refusals,
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
        let (client, refusals) = rt
            .block_on(connect(&cfg.url, cfg.auth.as_ref(), cfg.tls.as_ref()))
            .map_err(fail)?;
        Ok(Self {
            name,
            intent: intent.to_string(),
            subject: cfg.subject.clone(),
            client,
            refusals,
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
        let (intent, refusals) = (self.intent.clone(), &self.refusals);
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
                    .map_err(|e| e.to_string())?;
                match refusals.settle(Duration::ZERO).await {
                    Some(r) => Err(format!("the server refused the alerts: {r}")),
                    None => Ok(()),
                }
            })
            .map_err(|e| self.fail(e))
    }

    /// Flushes, and fails if the server refused alerts (waiting [`REFUSAL_GRACE`] for it).
    fn finish(&mut self) -> Result<(), ConnectorError> {
        let (client, refusals) = (&self.client, &self.refusals);
        self.rt
            .block_on(async {
                tokio::time::timeout(CONNECT_TIMEOUT, client.flush())
                    .await
                    .map_err(|_| "no answer from the server".to_string())?
                    .map_err(|e| e.to_string())?;
                match refusals.settle(REFUSAL_GRACE).await {
                    Some(r) => Err(format!("the server refused the alerts: {r}")),
                    None => Ok(()),
                }
            })
            .map_err(|e| self.fail(e))
    }
}
