//! MQTT (3.1.1, over TCP or TLS) transport of the live source and the alert sink.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ai4ict_core::Alert;
use rumqttc::{
    Client, Connection, ConnectionError, Event as MqttEvent, MqttOptions, Packet, QoS,
    RecvTimeoutError,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::alerting::alert_json;
use crate::auth::{Broker, BrokerAuth, Login};
use crate::live::{hand_over, host_port, Event, Transport};
use crate::ClientTls;
use crate::{AlertSink, ConnectorError, MqttSourceConfig, SinkComponent};

/// How long connecting and subscribing may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn qos(level: u8, what: &str) -> Result<QoS, String> {
    match level {
        0 => Ok(QoS::AtMostOnce),
        1 => Ok(QoS::AtLeastOnce),
        2 => Ok(QoS::ExactlyOnce),
        n => Err(format!("{what}: qos {n} is not 0, 1 or 2")),
    }
}

/// A client id of its own for each client of the process: a broker drops the older of two
/// clients with one id, so two pipelines of one `serve` must not share it.
fn default_id(prefix: &str) -> String {
    static CLIENTS: AtomicU64 = AtomicU64::new(0);
    let n = CLIENTS.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// The client's options: `mqtts://` (`ssl://`, port 8883 when left out) or a `tls` block
/// means TLS; `auth` logs in.
fn options(
    url: &str,
    client_id: Option<&str>,
    clean: bool,
    auth: Option<&BrokerAuth>,
    tls: Option<&ClientTls>,
) -> Result<MqttOptions, String> {
    let secure = url.starts_with("mqtts://") || url.starts_with("ssl://");
    let (host, port) = host_port(
        url,
        &["mqtt", "tcp", "mqtts", "ssl"],
        if secure { 8883 } else { 1883 },
    )?;
    let id = client_id.map_or_else(|| default_id("ai4ict"), str::to_string);
    let mut o = MqttOptions::new(id, host, port);
    o.set_keep_alive(Duration::from_secs(30));
    o.set_clean_session(clean);
    o.set_max_packet_size(crate::MAX_LINE_BYTES + 1024, crate::MAX_LINE_BYTES + 1024);
    if let Some(Login::Password { user, password }) =
        auth.map(|a| a.login(Broker::Mqtt)).transpose()?
    {
        o.set_credentials(user, password.0);
    }
    if secure || tls.is_some() {
        let config = tls.cloned().unwrap_or_default().rustls_config()?;
        o.set_transport(rumqttc::Transport::tls_with_config(
            rumqttc::TlsConfiguration::Rustls(config),
        ));
    }
    Ok(o)
}

/// Polls `conn` until `done` says the wanted packet came, a connection error, or the timeout;
/// publications that arrive meanwhile are kept in `early`.
fn wait_for(
    conn: &mut Connection,
    early: &mut VecDeque<Event>,
    mut done: impl FnMut(&Packet) -> Result<bool, String>,
) -> Result<(), String> {
    let until = Instant::now() + CONNECT_TIMEOUT;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()));
        }
        match conn.recv_timeout(left) {
            Ok(Ok(MqttEvent::Incoming(Packet::Publish(p)))) => early.push_back(Event::Message {
                origin: p.topic,
                payload: p.payload.to_vec(),
                ack: None,
                seq: None,
                offset: None,
                consumer: 0,
            }),
            Ok(Ok(MqttEvent::Incoming(p))) => {
                if done(&p)? {
                    return Ok(());
                }
            }
            Ok(Ok(MqttEvent::Outgoing(_))) => {}
            Ok(Err(e)) => return Err(connection_error(&e)),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Err("the client closed".into()),
        }
    }
}

fn connection_error(e: &ConnectionError) -> String {
    match e {
        ConnectionError::Io(io) => format!("cannot connect: {io}"),
        ConnectionError::ConnectionRefused(code) => refused(*code),
        other => other.to_string(),
    }
}

/// Why the broker refused the connection, in words.
fn refused(code: rumqttc::ConnectReturnCode) -> String {
    use rumqttc::ConnectReturnCode as C;
    match code {
        C::BadUserNamePassword => "the broker refused the user name or password (`auth`)".into(),
        C::NotAuthorized => "the broker refused the login: not authorised (`auth`)".into(),
        other => format!("connection refused: {other:?}"),
    }
}

fn connected(p: &Packet) -> Result<bool, String> {
    match p {
        Packet::ConnAck(ack) if ack.code == rumqttc::ConnectReturnCode::Success => Ok(true),
        Packet::ConnAck(ack) => Err(refused(ack.code)),
        _ => Ok(false),
    }
}

/// Connects, subscribes and waits for the broker's SUBACK; then a thread reads on.
pub(crate) fn subscribe(cfg: &MqttSourceConfig, name: &str) -> Result<Transport, ConnectorError> {
    let fail = |message: String| ConnectorError::Live {
        source_name: name.to_string(),
        message,
    };
    let level = qos(cfg.qos, "source").map_err(fail)?;
    let opts = options(
        &cfg.url,
        cfg.client_id.as_deref(),
        cfg.clean_session,
        cfg.auth.as_ref(),
        cfg.tls.as_ref(),
    )
    .map_err(fail)?;
    let (client, mut conn) = Client::new(opts, 16);
    let mut early = VecDeque::new();
    wait_for(&mut conn, &mut early, connected).map_err(fail)?;
    client
        .subscribe(cfg.topic.clone(), level)
        .map_err(|e| fail(format!("cannot subscribe: {e}")))?;
    wait_for(&mut conn, &mut early, |p| match p {
        Packet::SubAck(ack) => {
            if ack
                .return_codes
                .contains(&rumqttc::SubscribeReasonCode::Failure)
            {
                Err(format!(
                    "the broker refused the subscription to {}",
                    cfg.topic
                ))
            } else {
                Ok(true)
            }
        }
        _ => Ok(false),
    })
    .map_err(fail)?;
    let (tx, rx) = sync_channel(cfg.buffer.max(1));
    let stop = Arc::new(AtomicBool::new(false));
    let thread_stop = Arc::clone(&stop);
    let (topic, clean) = (cfg.topic.clone(), cfg.clean_session);
    let thread = std::thread::Builder::new()
        .name("ai4ict-mqtt-source".into())
        .spawn(move || receive(client, conn, tx, &thread_stop, topic, level, clean))
        .map_err(|e| fail(format!("cannot start the receiving thread: {e}")))?;
    Ok(Transport {
        rx,
        early,
        acks: None,
        stop,
        thread: Some(thread),
    })
}

/// The receiving thread: hands publications over (waiting while the channel is full, so the
/// client lags and the broker holds the rest), reports and rides out connection errors
/// (rumqttc reconnects on the next poll; a clean session is subscribed again).
fn receive(
    client: Client,
    mut conn: Connection,
    tx: SyncSender<Event>,
    stop: &AtomicBool,
    topic: String,
    level: QoS,
    clean: bool,
) {
    while !stop.load(Ordering::Relaxed) {
        match conn.recv_timeout(Duration::from_millis(100)) {
            Ok(Ok(MqttEvent::Incoming(Packet::Publish(p)))) => {
                let event = Event::Message {
                    origin: p.topic,
                    payload: p.payload.to_vec(),
                    ack: None,
                    seq: None,
                    offset: None,
                    consumer: 0,
                };
                if !hand_over(&tx, event, stop) {
                    break;
                }
            }
            Ok(Ok(MqttEvent::Incoming(Packet::ConnAck(ack)))) if clean && !ack.session_present => {
                // A reconnect with a new session: subscribe again.
                let _ = client.try_subscribe(topic.clone(), level);
            }
            Ok(Ok(_)) | Err(RecvTimeoutError::Timeout) => {}
            Ok(Err(e)) => {
                let _ = tx.try_send(Event::Trouble(connection_error(&e)));
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = client.disconnect();
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        match conn.recv_timeout(Duration::from_millis(50)) {
            Ok(Ok(MqttEvent::Outgoing(rumqttc::Outgoing::Disconnect))) | Ok(Err(_)) | Err(_) => {
                break
            }
            Ok(Ok(_)) => {}
        }
    }
}

/// Publishes each alert as a JSON object to an MQTT topic (Y.3172 §8.1 SINK).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MqttSinkConfig {
    /// The broker, `mqtt://host:port`, or `mqtts://host:port` for TLS.
    pub url: String,
    /// How to log in: `user` with `password_env` (or `password_file`); anonymous when not
    /// given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<BrokerAuth>,
    /// TLS to the broker (a `mqtts://` address asks for it too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTls>,
    /// The topic alerts are published to, e.g. `ai4ict/alerts`.
    pub topic: String,
    /// 0, 1 (default: the broker acknowledges each alert) or 2.
    #[serde(default = "one")]
    pub qos: u8,
    /// The client id; by default `ai4ict-sink-<process id>-<n>`, `n` counting the process's
    /// clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

fn one() -> u8 {
    1
}

impl SinkComponent for MqttSinkConfig {
    fn describe(&self) -> String {
        format!("{} topic {} (QoS {})", self.url, self.topic, self.qos)
    }

    /// Fails when `auth` is wrong or its password cannot be read.
    fn check(&self) -> Result<(), ConnectorError> {
        let sink = format!("mqtt sink {} {}", self.url, self.topic);
        let problems = crate::live::broker_problems(
            Broker::Mqtt,
            self.auth.as_ref(),
            self.tls.as_ref(),
            false,
        );
        crate::auth::sink_check(&sink, problems)?;
        options(&self.url, None, true, self.auth.as_ref(), self.tls.as_ref())
            .map(|_| ())
            .map_err(|message| ConnectorError::Delivery { sink, message })
    }

    fn files(&self) -> Vec<crate::SinkFile<'_>> {
        crate::auth::secret_files(self.auth.as_ref(), self.tls.as_ref())
    }

    fn secret_vars(&self) -> Vec<(&'static str, &str)> {
        self.auth.as_ref().map_or_else(Vec::new, BrokerAuth::vars)
    }

    fn build(&self, intent: &str) -> Result<Box<dyn AlertSink>, ConnectorError> {
        Ok(Box::new(MqttSink::connect(self, intent)?))
    }
}

/// See [`MqttSinkConfig`]. Delivery errors (a lost connection) are returned by the next
/// `write` or by `finish`, which waits (at most 10 s) for the broker's acknowledgements.
pub struct MqttSink {
    name: String,
    intent: String,
    topic: String,
    qos: QoS,
    client: Client,
    published: u64,
    acked: Arc<AtomicU64>,
    errors: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MqttSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttSink")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl MqttSink {
    /// Connects (waiting for the broker's CONNACK) and starts the connection's thread.
    pub fn connect(cfg: &MqttSinkConfig, intent: &str) -> Result<Self, ConnectorError> {
        let name = format!("mqtt sink {} {}", cfg.url, cfg.topic);
        let fail = |message: String| ConnectorError::Delivery {
            sink: name.clone(),
            message,
        };
        let level = qos(cfg.qos, "sink").map_err(fail)?;
        let id = cfg
            .client_id
            .clone()
            .unwrap_or_else(|| default_id("ai4ict-sink"));
        let opts = options(
            &cfg.url,
            Some(&id),
            true,
            cfg.auth.as_ref(),
            cfg.tls.as_ref(),
        )
        .map_err(fail)?;
        let (client, mut conn) = Client::new(opts, 1024);
        wait_for(&mut conn, &mut VecDeque::new(), connected).map_err(fail)?;
        let acked = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(Mutex::new(Vec::new()));
        let (a, e) = (Arc::clone(&acked), Arc::clone(&errors));
        let thread = std::thread::Builder::new()
            .name("ai4ict-mqtt-sink".into())
            .spawn(move || {
                for event in conn.iter() {
                    match event {
                        Ok(MqttEvent::Incoming(Packet::PubAck(_) | Packet::PubComp(_))) => {
                            a.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(MqttEvent::Outgoing(rumqttc::Outgoing::Disconnect)) => break,
                        Ok(_) => {}
                        Err(err) => {
                            if let Ok(mut v) = e.lock() {
                                v.push(connection_error(&err));
                            }
                            std::thread::sleep(Duration::from_millis(500));
                        }
                    }
                }
            })
            .map_err(|e| fail(format!("cannot start the connection thread: {e}")))?;
        Ok(Self {
            name,
            intent: intent.to_string(),
            topic: cfg.topic.clone(),
            qos: level,
            client,
            published: 0,
            acked,
            errors,
            thread: Some(thread),
        })
    }

    fn error(&self) -> Result<(), ConnectorError> {
        let first = self
            .errors
            .lock()
            .ok()
            .and_then(|mut v| (!v.is_empty()).then(|| std::mem::take(&mut *v)));
        match first {
            Some(v) => Err(ConnectorError::Delivery {
                sink: self.name.clone(),
                message: v.join("; "),
            }),
            None => Ok(()),
        }
    }
}

impl AlertSink for MqttSink {
    fn write(&mut self, alerts: &[Alert]) -> Result<(), ConnectorError> {
        self.error()?;
        for a in alerts {
            let payload = alert_json(a, &self.intent).to_string();
            self.client
                .publish(self.topic.clone(), self.qos, false, payload)
                .map_err(|e| ConnectorError::Delivery {
                    sink: self.name.clone(),
                    message: e.to_string(),
                })?;
            self.published += 1;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ConnectorError> {
        if self.qos != QoS::AtMostOnce {
            let until = Instant::now() + CONNECT_TIMEOUT;
            while self.acked.load(Ordering::Relaxed) < self.published && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = self.client.disconnect();
        if let Some(t) = self.thread.take() {
            let until = Instant::now() + Duration::from_secs(2);
            while !t.is_finished() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        self.error()?;
        let acked = self.acked.load(Ordering::Relaxed);
        if self.qos != QoS::AtMostOnce && acked < self.published {
            return Err(ConnectorError::Delivery {
                sink: self.name.clone(),
                message: format!(
                    "the broker acknowledged {acked} of {} alerts",
                    self.published
                ),
            });
        }
        Ok(())
    }
}
