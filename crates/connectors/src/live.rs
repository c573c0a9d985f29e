//! Live sources (Y.3172 §8.1 SRC on a telemetry bus): an MQTT subscription, a NATS
//! JetStream pull consumer and a Kafka consumer group member. Each message holds one row (or
//! several, one per line), read with the same rules as a file source's rows.
//!
//! A background thread receives into a bounded channel; when it is full the client stops
//! reading and the bus holds the rest (back-pressure), so memory stays bounded whatever the
//! publishers send. [`LiveSource::next_batch`] drains what has arrived and waits at most the
//! time it is given, so the dataflow worker polling it is never blocked for long.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ai4ict_core::{
    first_worker, Batch, Entity, Interval, NoRows, ProblemAt, Source, SourceComponent, SourceError,
    SourceFactory, SourceProblem, Timestamp,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::auth::{Broker, BrokerAuth};
use crate::csvline::Fields;
use crate::kafka_config::{partitions_problem, KafkaShare, Offsets, Position};
use crate::reorder::Reorder;
use crate::source::{column_of, note_order, parse_row, Fault, Plan, PIPELINE_BATCH_ROWS};
use crate::ClientTls;
use crate::{ConnectorError, ReadReport, RowError, MAX_KEPT_ERRORS, MAX_LINE_BYTES};

/// How the payload of a message is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum MessageFormat {
    /// A JSON object per message (or per line of a message), keys as a JSON-lines file's.
    #[default]
    #[serde(rename = "jsonl", alias = "json")]
    Jsonl,
    /// A CSV line per message (or per line of a message) without a header: `columns` names
    /// the values in order.
    #[serde(rename = "csv-line", alias = "csv_line")]
    CsvLine,
}

/// How rows are found in messages: the part of a live source's config shared by MQTT and
/// NATS (the same keys as a file source's, plus `columns` for `csv-line`).
#[derive(Clone, Copy, Debug)]
pub struct RowMapping<'a> {
    /// The payload format.
    pub format: MessageFormat,
    /// Column names of a `csv-line` payload, in order.
    pub columns: &'a [String],
    /// The entity's key or column; `entity` when not given.
    pub entity: Option<&'a str>,
    /// The time's key or column; `time` when not given.
    pub time: Option<&'a str>,
    /// Pipeline field ← key or column.
    pub fields: &'a BTreeMap<String, String>,
    /// The zone of times without a UTC offset.
    pub timezone: Option<&'a str>,
}

/// When a live source ends. Without either it runs until the run is stopped (Ctrl-C, or
/// [`LiveSource::stop`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct LiveLimits {
    /// End after this many rows have been read (good and bad).
    pub max_rows: Option<u64>,
    /// End when no message has arrived for this long.
    pub until_idle: Option<Duration>,
    /// End once the bus has nothing left to deliver (a JetStream consumer with none pending).
    pub until_caught_up: bool,
    /// Messages held between the bus and the pipeline.
    pub buffer: usize,
    /// Event time: the lateness and the reorder buffer's cap; `None`: rows go on as they
    /// come.
    pub event_time: Option<EventTime>,
}

/// Event time on a live source (Y.3172 §8.1 SRC/C; see [`crate::reorder`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventTime {
    /// How far behind the latest event time seen the watermark is.
    pub lateness: Interval,
    /// The most rows the reorder buffer holds.
    pub max_held: usize,
}

/// A source's event time from its `lateness` and `max_held` keys.
pub(crate) fn event_time(lateness: Option<Interval>, max_held: Option<usize>) -> Option<EventTime> {
    lateness.map(|lateness| EventTime {
        lateness,
        max_held: max_held.unwrap_or(crate::DEFAULT_MAX_HELD),
    })
}

/// Messages held between the bus and the pipeline by default.
pub const DEFAULT_BUFFER: usize = 10_000;

pub(crate) fn default_buffer() -> usize {
    DEFAULT_BUFFER
}

fn default_qos() -> u8 {
    1
}

fn yes() -> bool {
    true
}

pub(crate) fn is_default_buffer(n: &usize) -> bool {
    *n == DEFAULT_BUFFER
}

// The MQTT, NATS and HTTP configs repeat the row mapping (`format` … `timezone`) and the limits
// (`max_rows`, `until_idle`, `buffer`) instead of sharing them through `#[serde(flatten)]`:
// serde ignores `deny_unknown_fields` on a flattened struct, and a misspelt key in an intent
// must stay an error.

/// Subscribes to an MQTT topic (MQTT 3.1.1; Y.3172 §8.1 SRC), over TCP or TLS, with a user
/// and password when `auth` gives them.
///
/// Delivery is at most once into the pipeline: the client acknowledges a QoS 1 message when
/// it is received, before the pipeline has scored it. With `clean_session: false` and a fixed
/// `client_id`, the broker keeps the subscription and queues messages while the pipeline is
/// down.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MqttSourceConfig {
    /// The broker, `mqtt://host:port` (port 1883 when left out), or `mqtts://host:port` (8883)
    /// for TLS.
    pub url: String,
    /// How to log in: `user` with `password_env` (or `password_file`); anonymous when not
    /// given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<BrokerAuth>,
    /// TLS to the broker (a `mqtts://` address asks for it too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTls>,
    /// The topic filter to subscribe to, wildcards allowed (`telemetry/#`).
    pub topic: String,
    /// 0, 1 (default) or 2.
    #[serde(default = "default_qos")]
    pub qos: u8,
    /// The client id; by default `ai4ict-<process id>-<n>`, `n` counting the process's
    /// clients (give a fixed one with `clean_session: false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `false` keeps the session (subscription and queued messages) across reconnects.
    #[serde(default = "yes")]
    pub clean_session: bool,
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
    /// End when no message has come for this long, e.g. `5s`; by default never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub until_idle: Option<Interval>,
    /// Messages held between the broker and the pipeline (default 10000); when full, the
    /// client stops reading until the pipeline catches up.
    #[serde(default = "default_buffer", skip_serializing_if = "is_default_buffer")]
    pub buffer: usize,
    /// Event time (Y.3172 §8.1 SRC/C), e.g. `5m`: rows are held until the latest event time
    /// seen (the watermark's lead) is this far past them, and go on in event-time order; a
    /// row older than the watermark when it comes is late: dropped from scoring and counted.
    /// None by default: rows go on as they come, as before (any default would hold every
    /// alert back by it and drop rows that runs deliver today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub lateness: Option<Interval>,
    /// With `lateness`: the most rows held (default 100000); beyond, the oldest go on before
    /// the watermark reaches them, and are counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_held: Option<usize>,
}

impl MqttSourceConfig {
    /// How rows are found in messages.
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

    /// `url` and `topic`, for messages.
    pub fn name(&self) -> String {
        format!("{} {}", self.url, self.topic)
    }
}

/// Reads a NATS JetStream stream through a durable pull consumer (Y.3172 §8.1 SRC).
///
/// At least once: a message is acknowledged only after its rows have been handed to the
/// dataflow (a bad message once it has been counted), so messages received but not yet
/// handed over when the pipeline stops or crashes are delivered again, after the consumer's
/// ack wait, to the next run with the same `durable` name. Without checkpoints, rows handed
/// over but not yet scored when a process dies are lost; with them (`ai4ict run
/// --checkpoint`), a message is acknowledged only once a checkpoint covering its effect is
/// durable, and a restarted run skips the messages its checkpoint covers by their stream
/// sequence: nothing is lost, and what is scored twice is at most one checkpoint interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NatsSourceConfig {
    /// The server, `nats://host:port` (port 4222 when left out), or `tls://host:port`.
    pub url: String,
    /// How to log in: `user` with `password_env` (or `password_file`), `token_env` (or
    /// `token_file`), or `creds_file`; anonymous when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<BrokerAuth>,
    /// TLS to the server, checked against `ca_file` (a `tls://` address asks for TLS too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTls>,
    /// The JetStream stream to read (it must exist).
    pub stream: String,
    /// Only subjects matching this filter (`telemetry.>`); by default the whole stream. With
    /// `partitions`, the prefix of the partitions' subjects (`telemetry`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The stream is published in this many partitions by entity: a row of entity `e` goes to
    /// `<subject>.<k>`, `k` = `Entity::owner(partitions)` (docs/intents.md, "Partitioned
    /// subjects"). Each worker of the run then reads the partitions `k` it owns (`k` modulo
    /// the cluster's workers), each through its durable consumer `<durable>-<k>`, so a row
    /// reaches the worker scoring it without crossing processes when `partitions` is a
    /// multiple of the workers. Not with `max_rows` (each reader sees its share only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions: Option<u32>,
    /// The durable consumer's name (default `ai4ict`): a later run with the same name goes
    /// on where this one stopped.
    #[serde(default = "default_durable")]
    pub durable: String,
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
    /// End when no message has come for this long, e.g. `5s`; by default never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub until_idle: Option<Interval>,
    /// End once the consumer has nothing pending (every message the stream held for it has
    /// been delivered), e.g. to work through a backlog; by default never.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub until_caught_up: bool,
    /// Messages held between the server and the pipeline (default 10000).
    #[serde(default = "default_buffer", skip_serializing_if = "is_default_buffer")]
    pub buffer: usize,
    /// How long the server waits for an acknowledgement before delivering a message again
    /// (the consumer's `ack_wait`; the server's default, 30 s, when not given). With
    /// checkpoints it should exceed the checkpoint interval: a message not acknowledged in
    /// time is delivered again, and skipped (a restart does not wait for it: it rebinds the
    /// consumer at the checkpoint's position).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub ack_wait: Option<Interval>,
    /// Event time (Y.3172 §8.1 SRC/C), e.g. `5m`: rows are held until the latest event time
    /// seen (the watermark's lead) is this far past them, and go on in event-time order; a
    /// row older than the watermark when it comes is late: dropped from scoring and counted.
    /// None by default: rows go on as they come, as before (any default would hold every
    /// alert back by it and drop rows that runs deliver today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub lateness: Option<Interval>,
    /// With `lateness`: the most rows held (default 100000); beyond, the oldest go on before
    /// the watermark reaches them, and are counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_held: Option<usize>,
}

/// Publishes each alert as a JSON object to a NATS subject (core NATS, or a subject a
/// JetStream stream captures; Y.3172 §8.1 SINK).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NatsSinkConfig {
    /// The server, `nats://host:port`, or `tls://host:port`.
    pub url: String,
    /// The subject alerts are published to, e.g. `ai4ict.alerts`.
    pub subject: String,
    /// How to log in: `user` with `password_env` (or `password_file`), `token_env` (or
    /// `token_file`), or `creds_file`; anonymous when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<BrokerAuth>,
    /// TLS to the server, checked against `ca_file` (a `tls://` address asks for TLS too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTls>,
}

impl crate::SinkComponent for NatsSinkConfig {
    fn describe(&self) -> String {
        format!("{} subject {}", self.url, self.subject)
    }

    /// Fails when `auth` or `tls` is wrong, or the secret cannot be read.
    fn check(&self) -> Result<(), ConnectorError> {
        let sink = format!("nats sink {} {}", self.url, self.subject);
        let problems = broker_problems(Broker::Nats, self.auth.as_ref(), self.tls.as_ref(), false);
        crate::auth::sink_check(&sink, problems)?;
        match &self.auth {
            Some(a) => a
                .login(Broker::Nats)
                .map(|_| ())
                .map_err(|message| ConnectorError::Delivery { sink, message }),
            None => Ok(()),
        }
    }

    fn files(&self) -> Vec<crate::SinkFile<'_>> {
        crate::auth::secret_files(self.auth.as_ref(), self.tls.as_ref())
    }

    fn secret_vars(&self) -> Vec<(&'static str, &str)> {
        self.auth.as_ref().map_or_else(Vec::new, BrokerAuth::vars)
    }

    fn build(&self, intent: &str) -> Result<Box<dyn crate::AlertSink>, ConnectorError> {
        Ok(Box::new(crate::NatsSink::connect(self, intent)?))
    }
}

fn default_durable() -> String {
    "ai4ict".into()
}

impl NatsSourceConfig {
    /// How rows are found in messages.
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
            until_caught_up: self.until_caught_up,
            buffer: self.buffer,
            event_time: event_time(self.lateness, self.max_held),
        }
    }

    /// `url` and `stream`, for messages.
    pub fn name(&self) -> String {
        format!("{} stream {}", self.url, self.stream)
    }
}

pub(crate) fn interval_duration(i: Interval) -> Duration {
    Duration::from_millis(i.millis().max(0) as u64)
}

/// Host and port of `url` (`scheme://host[:port]`, scheme one of `schemes`).
pub fn host_port(url: &str, schemes: &[&str], default_port: u16) -> Result<(String, u16), String> {
    let rest = schemes
        .iter()
        .find_map(|s| url.strip_prefix(&format!("{s}://")))
        .ok_or_else(|| {
            let schemes: Vec<String> = schemes.iter().map(|s| format!("{s}://")).collect();
            format!("`{url}` is not a {} address", schemes.join(" or "))
        })?;
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() || rest.contains('/') || rest.contains('@') {
        return Err(format!(
            "`{url}` must be {}://host:port, without a path or credentials",
            schemes[0]
        ));
    }
    match rest.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => port
            .parse()
            .map(|p| (host.to_string(), p))
            .map_err(|_| format!("`{port}` in `{url}` is not a port number")),
        _ => Ok((rest.to_string(), default_port)),
    }
}

/// Turns the payloads a live source's transport hands over into rows.
pub(crate) trait Reader: Send {
    /// Reads the rows of one message into `batch`; returns how many rows, good and bad, it
    /// held.
    fn read(&mut self, origin: &str, seq: u64, payload: &[u8], batch: &mut Batch) -> u64;
    /// What has been read so far.
    fn report(&self) -> &ReadReport;
    /// Fields per row.
    fn width(&self) -> usize;
    /// The report's line for the run.
    fn summary(&self) -> String {
        self.report().summary()
    }
}

/// Reads rows out of message payloads with the rules of a file source's rows, keeping the
/// same [`ReadReport`]. A bad row is counted and kept as a [`RowError`] naming the topic (or
/// subject) as its file and the message's number in the source as its line.
pub(crate) struct MessageRows {
    plan: Plan,
    zone: chrono_tz::Tz,
    width: usize,
    scratch: Fields,
    values: Vec<f64>,
    last_entity: Option<Entity>,
    last_time: HashMap<Entity, Timestamp>,
    report: ReadReport,
}

impl MessageRows {
    /// Checks `rows` against the pipeline's `fields` (a live source needs them named).
    pub(crate) fn new(
        name: &str,
        rows: &RowMapping<'_>,
        fields: &[String],
    ) -> Result<Self, ConnectorError> {
        let bad = |message: String| ConnectorError::BadConfig {
            path: name.to_string(),
            message,
        };
        if fields.is_empty() {
            return Err(bad(
                "a live source needs the fields named in `collect: {fields: […]}`".into(),
            ));
        }
        let entity = rows.entity.unwrap_or("entity").to_string();
        let time = rows.time.unwrap_or("time").to_string();
        let keys: Vec<String> = fields.iter().map(|f| column_of(rows.fields, f)).collect();
        let plan = match rows.format {
            MessageFormat::Jsonl => {
                if !rows.columns.is_empty() {
                    return Err(bad("`columns` is for `format: csv-line`".into()));
                }
                Plan::Jsonl { entity, time, keys }
            }
            MessageFormat::CsvLine => {
                let header = rows.columns.to_vec();
                if header.is_empty() {
                    return Err(bad(
                        "`format: csv-line` needs `columns: [entity, time, …]` naming the values in order"
                            .into(),
                    ));
                }
                let find = |column: &str, wanted: &str| {
                    header.iter().position(|h| h == column).ok_or_else(|| {
                        ConnectorError::MissingColumn {
                            path: name.to_string(),
                            wanted: wanted.to_string(),
                            column: column.to_string(),
                            available: header.clone(),
                        }
                    })
                };
                let e = find(&entity, "the entity")?;
                let t = find(&time, "the time")?;
                let columns = fields
                    .iter()
                    .zip(&keys)
                    .map(|(f, c)| find(c, &format!("field `{f}`")))
                    .collect::<Result<_, _>>()?;
                Plan::Csv {
                    delimiter: b',',
                    header,
                    entity: e,
                    time: t,
                    columns,
                }
            }
        };
        let zone = match rows.timezone.map(str::trim) {
            None | Some("") => chrono_tz::Tz::UTC,
            Some(z) => z.parse().map_err(|_| {
                bad(format!(
                    "timezone: `{z}` is no time zone (an IANA name such as Europe/Berlin, or UTC)"
                ))
            })?,
        };
        Ok(Self {
            plan,
            zone,
            width: fields.len(),
            scratch: Fields::default(),
            values: Vec::with_capacity(fields.len()),
            last_entity: None,
            last_time: HashMap::new(),
            report: ReadReport {
                zone: zone.name().to_string(),
                ..ReadReport::default()
            },
        })
    }

    /// Reads the rows of one message (one per non-blank line) into `batch`; returns how many
    /// rows, good and bad, it held.
    pub(crate) fn push(
        &mut self,
        origin: &str,
        seq: u64,
        payload: &[u8],
        batch: &mut Batch,
    ) -> u64 {
        // The transport bounds a message (MQTT's packet size, the HTTP source's `max_body`);
        // each of its lines is bounded as a file's are, so a long line costs only itself.
        let mut n = 0;
        for line in payload.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            n += 1;
            if line.len() > MAX_LINE_BYTES {
                let fault = Fault::line(format!(
                    "line is {} bytes, over the limit of {MAX_LINE_BYTES}",
                    line.len()
                ));
                reject(&mut self.report, origin, seq, fault);
                continue;
            }
            match parse_row(
                &self.plan,
                &self.zone,
                line,
                &mut self.scratch,
                &mut self.values,
                &mut self.last_entity,
            ) {
                Ok(Some((entity, (time, naive)))) => {
                    self.report.naive_times += u64::from(naive);
                    note_order(&mut self.report, &mut self.last_time, &entity, time);
                    batch.push(entity, time, &self.values);
                    self.report.rows_ok += 1;
                }
                Ok(None) => {}
                Err(fault) => reject(&mut self.report, origin, seq, fault),
            }
        }
        n
    }
}

impl Reader for MessageRows {
    fn read(&mut self, origin: &str, seq: u64, payload: &[u8], batch: &mut Batch) -> u64 {
        self.push(origin, seq, payload, batch)
    }

    fn report(&self) -> &ReadReport {
        &self.report
    }

    fn width(&self) -> usize {
        self.width
    }
}

/// Counts a bad row (or message) and keeps its error while fewer than [`MAX_KEPT_ERRORS`] are
/// kept, naming `origin` as its file and `seq` as its line.
pub(crate) fn reject(r: &mut ReadReport, origin: &str, seq: u64, fault: Fault) {
    r.errors_total += 1;
    r.rows_skipped += 1;
    if r.errors.len() < MAX_KEPT_ERRORS {
        r.errors.push(RowError {
            file: origin.to_string(),
            line: seq,
            column: fault.column,
            message: fault.message,
        });
    }
}

/// What a transport acknowledges once rows are in the dataflow (with checkpoints, once a
/// checkpoint covering them is durable).
pub(crate) enum AckToken {
    /// A JetStream message.
    #[cfg_attr(not(feature = "nats"), allow(dead_code))]
    Nats(crate::nats::Ack),
    /// The next offset of each partition, committed for the Kafka consumer group.
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    Kafka(Position),
}

/// A message as the receiving thread hands it over.
pub(crate) enum Event {
    Message {
        origin: String,
        payload: Vec<u8>,
        ack: Option<AckToken>,
        /// The message's sequence in its stream (JetStream; Kafka numbers its records in the
        /// order they come), for checkpoints.
        seq: Option<u64>,
        /// Kafka: the record's partition and offset.
        offset: Option<(i32, i64)>,
        /// JetStream: the consumer it came through, its place among the transport's.
        consumer: usize,
    },
    /// A connection problem the client recovers from (it reconnects); reported, not fatal.
    Trouble(String),
    /// The bus has nothing more for now: every message it held has come (JetStream).
    #[cfg_attr(not(feature = "nats"), allow(dead_code))]
    CaughtUp,
}

/// What one reader of a JetStream stream consumes: the stream through `durable` (`subject`
/// as its filter), or the given partitions, each through its own durable consumer.
#[derive(Debug)]
#[cfg_attr(not(feature = "nats"), allow(dead_code))]
pub(crate) enum Share {
    Whole,
    Partitions(Vec<u32>),
}

/// Sends `event`, waiting while the channel is full unless `stop` is set; false when the
/// source has gone or is stopping.
pub(crate) fn hand_over(tx: &SyncSender<Event>, mut event: Event, stop: &AtomicBool) -> bool {
    loop {
        match tx.try_send(event) {
            Ok(()) => return true,
            Err(TrySendError::Disconnected(_)) => return false,
            Err(TrySendError::Full(e)) => {
                if stop.load(Ordering::Relaxed) {
                    return false;
                }
                event = e;
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

/// The receiving side of a live source's transport: the background thread and, for
/// JetStream, where acknowledgements go.
pub(crate) struct Transport {
    pub(crate) rx: Receiver<Event>,
    pub(crate) early: VecDeque<Event>,
    pub(crate) acks: Option<tokio::sync::mpsc::UnboundedSender<Vec<AckToken>>>,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) thread: Option<JoinHandle<()>>,
}

/// See [`LiveSource::checkpoint_from`].
type Rebind = Box<dyn FnOnce(Vec<Option<u64>>) -> Result<Transport, ConnectorError> + Send>;

/// Assigns a Kafka reader's partitions anew, at a checkpoint's offsets (see
/// [`LiveSource::kafka_partitions`]).
type Reassign = Box<dyn FnOnce(Position) -> Result<Transport, ConnectorError> + Send>;

/// Most connection problems kept in a live source's report.
const MAX_TROUBLES: usize = 10;

/// A live source (see the module documentation): rows from MQTT or NATS messages, or HTTP
/// requests.
pub struct LiveSource {
    name: String,
    rows: Box<dyn Reader>,
    /// With `lateness`: the reorder buffer, and the batch a message's rows are read into
    /// before it takes them.
    reorder: Option<(Reorder, Batch)>,
    transport: Transport,
    /// Acknowledgements of the messages handed over, with their consumers.
    handed: Vec<(usize, AckToken)>,
    /// With checkpoints: acknowledgements held per cut, until its epoch is committed.
    held: VecDeque<(u64, Vec<AckToken>)>,
    /// The partitions read, one a consumer (empty: the stream whole, through one).
    partitions: Vec<u32>,
    /// With checkpoints: each consumer's highest stream sequence read (messages at or below
    /// it are covered, and only acknowledged).
    last_seq: Vec<Option<u64>>,
    checkpoints: bool,
    /// Binds the transport anew for checkpoints, each consumer after a stream sequence
    /// (JetStream only).
    rebind: Option<Rebind>,
    /// Kafka: the offsets read, committed instead of acknowledging messages.
    kafka: Option<Offsets>,
    /// Kafka read in partitions: this reader's, and how to assign them anew for checkpoints.
    reassign: Option<(Vec<i32>, Reassign)>,
    seq: u64,
    read: u64,
    limits: LiveLimits,
    last_message: Instant,
    done: bool,
    troubles: Vec<String>,
    troubles_total: u64,
}

impl std::fmt::Debug for LiveSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSource")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl LiveSource {
    /// Subscribes to `cfg.topic` and waits (at most 10 s) for the broker to confirm, so
    /// messages published after this returns are received. Fails naming the broker when it
    /// cannot be reached or refuses the subscription.
    pub fn mqtt(cfg: &MqttSourceConfig, fields: &[String]) -> Result<Self, ConnectorError> {
        let name = cfg.name();
        let rows = MessageRows::new(&name, &cfg.rows(), fields)?;
        let transport = crate::mqtt::subscribe(cfg, &name)?;
        Ok(Self::new(name, Box::new(rows), transport, cfg.limits()))
    }

    /// Binds (creating it when missing) the durable pull consumer `cfg.durable` on
    /// `cfg.stream` and starts fetching; fails naming the server when it cannot be reached or
    /// the stream does not exist.
    pub fn nats(cfg: &NatsSourceConfig, fields: &[String]) -> Result<Self, ConnectorError> {
        let name = cfg.name();
        let rows = MessageRows::new(&name, &cfg.rows(), fields)?;
        let transport = crate::nats::consume(cfg, &name, Share::Whole, None)?;
        let mut source = Self::new(name.clone(), Box::new(rows), transport, cfg.limits());
        let cfg = cfg.clone();
        source.rebind = Some(Box::new(move |after| {
            crate::nats::consume(&cfg, &name, Share::Whole, Some(after))
        }));
        Ok(source)
    }

    /// Binds the durable consumers of `partitions` of a stream published in
    /// `cfg.partitions` (see [`NatsSourceConfig::partitions`]) and fetches from them all on
    /// one thread. With checkpoints, its position is each partition's.
    pub fn nats_partitions(
        cfg: &NatsSourceConfig,
        fields: &[String],
        partitions: Vec<u32>,
    ) -> Result<Self, ConnectorError> {
        let name = cfg.name();
        let rows = MessageRows::new(&name, &cfg.rows(), fields)?;
        let share = Share::Partitions(partitions.clone());
        let transport = crate::nats::consume(cfg, &name, share, None)?;
        let mut source = Self::new(name.clone(), Box::new(rows), transport, cfg.limits());
        source.last_seq = vec![None; partitions.len()];
        source.partitions = partitions.clone();
        let cfg = cfg.clone();
        source.rebind = Some(Box::new(move |after| {
            crate::nats::consume(&cfg, &name, Share::Partitions(partitions), Some(after))
        }));
        Ok(source)
    }

    /// Joins the consumer group `cfg.group` on `cfg.topic` and starts polling; fails naming
    /// the brokers when they cannot be reached or the topic does not exist.
    pub fn kafka(
        cfg: &crate::KafkaSourceConfig,
        fields: &[String],
    ) -> Result<Self, ConnectorError> {
        let name = cfg.name();
        let rows = MessageRows::new(&name, &cfg.rows(), fields)?;
        let transport = crate::kafka::consume(cfg, &name, KafkaShare::Group)?;
        let mut source = Self::new(name, Box::new(rows), transport, cfg.limits());
        source.kafka = Some(Offsets::default());
        Ok(source)
    }

    /// Assigns `partitions` of `cfg.topic` (see [`crate::KafkaSourceConfig::partitions`]),
    /// each from the group's committed offset, and starts polling; fails naming the brokers
    /// when they cannot be reached, the topic does not exist or has another partition count.
    /// With checkpoints, they are assigned anew at the checkpoint's offsets.
    pub fn kafka_partitions(
        cfg: &crate::KafkaSourceConfig,
        fields: &[String],
        partitions: Vec<u32>,
    ) -> Result<Self, ConnectorError> {
        let name = cfg.name();
        let partitions = partitions
            .into_iter()
            .map(i32::try_from)
            .collect::<Result<Vec<i32>, _>>()
            .map_err(|_| ConnectorError::Live {
                source_name: name.clone(),
                message: format!("`partitions` is more than {}", i32::MAX),
            })?;
        let rows = MessageRows::new(&name, &cfg.rows(), fields)?;
        let share = KafkaShare::Assigned {
            partitions: partitions.clone(),
            from: Position::new(),
        };
        let transport = crate::kafka::consume(cfg, &name, share)?;
        let mut source = Self::new(name.clone(), Box::new(rows), transport, cfg.limits());
        source.kafka = Some(Offsets::default());
        let (cfg, owned) = (cfg.clone(), partitions.clone());
        let reassign: Reassign = Box::new(move |from| {
            let share = KafkaShare::Assigned {
                partitions: owned,
                from,
            };
            crate::kafka::consume(&cfg, &name, share)
        });
        source.reassign = Some((partitions, reassign));
        Ok(source)
    }

    /// Listens on `cfg.listen` for rows POSTed with the token; fails naming the address when
    /// it cannot be bound or no token is configured.
    pub fn http(cfg: &crate::HttpSourceConfig, fields: &[String]) -> Result<Self, ConnectorError> {
        let name = cfg.name();
        let rows = MessageRows::new(&name, &cfg.rows(), fields)?;
        let transport = crate::http::listen(cfg.endpoint(), &name)?;
        Ok(Self::new(name, Box::new(rows), transport, cfg.limits()))
    }

    pub(crate) fn new(
        name: String,
        rows: Box<dyn Reader>,
        transport: Transport,
        limits: LiveLimits,
    ) -> Self {
        let reorder = limits.event_time.map(|e| {
            (
                Reorder::new(e.lateness, e.max_held),
                Batch::new(rows.width()),
            )
        });
        Self {
            name,
            rows,
            reorder,
            transport,
            handed: Vec::new(),
            held: VecDeque::new(),
            partitions: Vec::new(),
            last_seq: vec![None],
            checkpoints: false,
            rebind: None,
            kafka: None,
            reassign: None,
            seq: 0,
            read: 0,
            limits,
            last_message: Instant::now(),
            done: false,
            troubles: Vec::new(),
            troubles_total: 0,
        }
    }

    /// The source's name (address and topic or stream).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What has been read so far: rows delivered, bad rows skipped and their errors.
    pub fn report(&self) -> &ReadReport {
        self.rows.report()
    }

    /// Connection problems the client recovered from (the first few, and how many in all).
    pub fn troubles(&self) -> (&[String], u64) {
        (&self.troubles, self.troubles_total)
    }

    /// Rows of the messages that have arrived, up to about `max_rows`, waiting at most `wait`
    /// for the first one. An empty batch means nothing came in time; `Ok(None)` that the
    /// source has ended (`max_rows` or `until_idle` reached, or [`LiveSource::stop`]); an
    /// error that the connection closed for good (e.g. the JetStream consumer was deleted).
    ///
    /// JetStream messages whose rows a previous call returned are acknowledged first: they
    /// are in the dataflow by now (with checkpoints, they wait for [`commit`](Self::commit)).
    pub fn next_batch(
        &mut self,
        max_rows: usize,
        wait: Duration,
    ) -> Result<Option<Batch>, ConnectorError> {
        if !self.checkpoints {
            self.ack_handed();
        }
        if self.done {
            return Ok(None);
        }
        let mut batch = Batch::new(self.rows.width());
        let mut deadline = Some(Instant::now() + wait);
        // Rows this call has read into the reorder buffer (good and bad).
        let mut taken = 0;
        while batch.len().max(taken) < max_rows.max(1) && !self.limit_reached() {
            let event = match self.transport.early.pop_front() {
                Some(e) => e,
                None => {
                    let got = match deadline {
                        Some(d) => self
                            .transport
                            .rx
                            .recv_timeout(d.saturating_duration_since(Instant::now())),
                        None => self.transport.rx.try_recv().map_err(|e| match e {
                            std::sync::mpsc::TryRecvError::Empty => RecvTimeoutError::Timeout,
                            std::sync::mpsc::TryRecvError::Disconnected => {
                                RecvTimeoutError::Disconnected
                            }
                        }),
                    };
                    match got {
                        Ok(e) => e,
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) if batch.is_empty() => {
                            // The receiving thread ended without being stopped.
                            self.stop();
                            let last = self
                                .troubles
                                .last()
                                .map_or(String::new(), |t| format!(" (last problem: {t})"));
                            return Err(ConnectorError::Live {
                                source_name: self.name.clone(),
                                message: format!("the connection closed{last}"),
                            });
                        }
                        // Hand over what came first; the next call reports the end.
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            };
            match event {
                Event::Message {
                    origin,
                    payload,
                    ack,
                    seq,
                    offset,
                    consumer,
                } => {
                    // Once something has come, take what is there without waiting more.
                    deadline = None;
                    if let (Some(kafka), Some((partition, offset))) = (&mut self.kafka, offset) {
                        if kafka.covered(partition, offset) {
                            // Covered by the checkpoint this run resumed from.
                            continue;
                        }
                        kafka.read(seq.unwrap_or_default(), partition, offset);
                    }
                    let last = self.last_seq.get_mut(consumer);
                    if let (true, Some(seq), Some(last)) = (self.checkpoints, seq, last) {
                        // A consumer acknowledges all up to a message (`AckPolicy::All`): only
                        // its newest token is kept.
                        let mine = |(c, _): &(usize, AckToken)| *c == consumer;
                        if last.is_some_and(|last| seq <= last) {
                            // Read before (a redelivery, or covered by the checkpoint this
                            // run resumed from): acknowledged with the next commit.
                            if !self.handed.iter().any(mine) {
                                self.handed.extend(ack.map(|a| (consumer, a)));
                            }
                            continue;
                        }
                        *last = Some(seq);
                        self.handed.retain(|h| !mine(h));
                    }
                    self.seq += 1;
                    self.last_message = Instant::now();
                    self.read += match &mut self.reorder {
                        None => self.rows.read(&origin, self.seq, &payload, &mut batch),
                        Some((reorder, message)) => {
                            let n = self.rows.read(&origin, self.seq, &payload, message);
                            reorder.admit(message, seq, &mut batch);
                            *message = Batch::new(message.width());
                            taken += n as usize;
                            n
                        }
                    };
                    self.handed.extend(ack.map(|a| (consumer, a)));
                }
                Event::CaughtUp => {
                    if self.limits.until_caught_up {
                        self.done = true;
                        break;
                    }
                }
                Event::Trouble(t) => {
                    self.troubles_total += 1;
                    if self.troubles.len() < MAX_TROUBLES {
                        self.troubles.push(t);
                    }
                }
            }
        }
        if self.limit_reached()
            || self
                .limits
                .until_idle
                .is_some_and(|idle| self.last_message.elapsed() >= idle)
        {
            self.done = true;
        }
        if let Some((reorder, _)) = &mut self.reorder {
            if self.done {
                reorder.flush(&mut batch);
            } else {
                reorder.release(&mut batch);
            }
        }
        if self.done && batch.is_empty() {
            // With checkpoints the transport stays open until the source is dropped, so the
            // final checkpoint's acknowledgements (Kafka commit) still go out.
            if !self.checkpoints {
                self.stop();
            }
            return Ok(None);
        }
        Ok(Some(batch))
    }

    fn limit_reached(&self) -> bool {
        self.limits.max_rows.is_some_and(|m| self.read >= m)
    }

    /// Acknowledges the JetStream messages handed over so far (commits the Kafka offsets).
    fn ack_handed(&mut self) {
        let mut handed = self.take_handed();
        if let Some((position, true)) = self.kafka.as_mut().map(|k| k.through(u64::MAX)) {
            handed.push(AckToken::Kafka(position));
        }
        self.ack(handed);
    }

    fn take_handed(&mut self) -> Vec<AckToken> {
        self.handed.drain(..).map(|(_, t)| t).collect()
    }

    fn ack(&self, tokens: Vec<AckToken>) {
        if tokens.is_empty() {
            return;
        }
        if let Some(acks) = &self.transport.acks {
            // A send fails only when the acknowledging task has ended with the transport;
            // the messages are then delivered again (at least once).
            let _ = acks.send(tokens);
        }
    }

    /// Switches to checkpoints: binds each consumer anew, delivering in order after its
    /// `last_seq` (the position of the checkpoint resumed from; without one, after what was
    /// acknowledged), and acknowledges messages on [`commit`](Self::commit) only; a message
    /// delivered again at or below the highest sequence its consumer read is skipped. Only
    /// JetStream messages have sequences: other live sources refuse.
    pub fn checkpoint_from(&mut self, last_seq: Vec<Option<u64>>) -> Result<(), ConnectorError> {
        let Some(rebind) = self.rebind.take() else {
            return Err(ConnectorError::Live {
                source_name: self.name.clone(),
                message:
                    "cannot resume from a checkpoint (only NATS JetStream and Kafka sources can)"
                        .into(),
            });
        };
        self.close();
        self.transport = rebind(last_seq.clone())?;
        self.handed.clear();
        self.checkpoints = true;
        self.last_seq = last_seq;
        Ok(())
    }

    /// Switches to checkpoints from a checkpoint's `position` (see [`Source::cut`]): a
    /// JetStream stream sequence, or for partitions every reader's list of theirs (of which
    /// those read here are taken), or Kafka partition offsets (likewise).
    fn resume_from(&mut self, position: Option<&[u8]>) -> Result<(), ConnectorError> {
        let bad = |message: String| ConnectorError::Live {
            source_name: self.name.clone(),
            message,
        };
        if self.kafka.is_some() {
            let mut from = position
                .map(crate::kafka_config::decode)
                .transpose()
                .map_err(bad)?
                .unwrap_or_default();
            if let Some((partitions, reassign)) = self.reassign.take() {
                // Read in partitions: this reader's, assigned anew at the checkpoint's offsets
                // (every reader's position is there, one after the other).
                from.retain(|p, _| partitions.contains(p));
                self.close();
                self.transport = reassign(from.clone())?;
            }
            // Read whole, the consumer already reads from the group's committed offsets,
            // which a checkpoint's commit sets: the records it covers are skipped.
            if let Some(kafka) = &mut self.kafka {
                kafka.resume(from);
            }
            self.checkpoints = true;
            return Ok(());
        }
        let position = position.unwrap_or_default();
        if !self.partitions.is_empty() {
            let read = decode_partitions(position).map_err(bad)?;
            let last = self
                .partitions
                .iter()
                .map(|k| read.get(k).copied())
                .collect();
            return self.checkpoint_from(last);
        }
        let last = match position {
            [] => None,
            p => Some(u64::from_le_bytes(p.try_into().map_err(|_| {
                bad(format!(
                    "a checkpoint's position is 8 bytes, not {}",
                    p.len()
                ))
            })?)),
        };
        self.checkpoint_from(vec![last])
    }

    /// [`cut`](Self::cut) as a checkpoint stores it: the stream sequence in 8 bytes (little
    /// endian; none: empty); for partitions, each partition read and its sequence (4 and 8
    /// bytes, little endian; none: left out); or for Kafka the position of every partition as
    /// of that record, which the cut's commit commits.
    fn position(&mut self, epoch: u64) -> Vec<u8> {
        let last = self.cut(epoch);
        if !self.partitions.is_empty() {
            return self
                .partitions
                .iter()
                .zip(last)
                .filter_map(|(k, seq)| {
                    Some([k.to_le_bytes().as_slice(), &seq?.to_le_bytes()].concat())
                })
                .collect::<Vec<_>>()
                .concat();
        }
        let last = last.first().copied().flatten();
        let Some(kafka) = &mut self.kafka else {
            return last.map_or(Vec::new(), |s| s.to_le_bytes().to_vec());
        };
        let (position, _) = kafka.through(last.unwrap_or(0));
        let bytes = crate::kafka_config::encode(&position);
        if let Some((_, tokens)) = self.held.back_mut() {
            tokens.push(AckToken::Kafka(position));
        }
        bytes
    }

    /// Checkpoint `epoch` covers every message read so far: holds their acknowledgements
    /// until it is committed and returns each consumer's highest stream sequence read, or
    /// with `lateness` the one before the oldest message with a row still held for event time
    /// if lower (a restart reads that message again, and those after it: at least once).
    pub fn cut(&mut self, epoch: u64) -> Vec<Option<u64>> {
        let handed = self.take_handed();
        self.held.push_back((epoch, handed));
        let held = self.reorder.as_ref().and_then(|(r, _)| r.oldest_seq());
        self.last_seq
            .iter()
            .map(|&last| match held {
                Some(seq) => last.min(Some(seq.saturating_sub(1))),
                None => last,
            })
            .collect()
    }

    /// With `lateness`: every row the reorder buffer holds, in event-time order (the run is
    /// stopping); `None` when it holds none.
    pub fn take_held(&mut self) -> Option<Batch> {
        let (reorder, _) = self.reorder.as_mut()?;
        let mut out = Batch::new(self.rows.width());
        reorder.flush(&mut out);
        (!out.is_empty()).then_some(out)
    }

    /// Rows dropped as late (older than the watermark when they came; 0 without `lateness`).
    pub fn late_rows(&self) -> u64 {
        self.reorder.as_ref().map_or(0, |(r, _)| r.late())
    }

    /// Checkpoint `epoch` is durable: acknowledges the messages of every cut up to it.
    pub fn commit(&mut self, epoch: u64) {
        while self.held.front().is_some_and(|(e, _)| *e <= epoch) {
            if let Some((_, tokens)) = self.held.pop_front() {
                self.ack(tokens);
            }
        }
    }

    /// Stops receiving: acknowledges what was handed over (with checkpoints, only what a
    /// committed checkpoint covers), closes the connection (waiting at most 5 s for the
    /// acknowledgements to go out) and ends the source.
    pub fn stop(&mut self) {
        if !self.checkpoints {
            self.ack_handed();
        }
        self.done = true;
        self.close();
    }

    /// Stops the transport's thread, waiting at most 5 s for the acknowledgements to go out.
    fn close(&mut self) {
        self.transport.stop.store(true, Ordering::Relaxed);
        self.transport.acks = None;
        if let Some(thread) = self.transport.thread.take() {
            let until = Instant::now() + Duration::from_secs(5);
            while !thread.is_finished() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
            if thread.is_finished() {
                let _ = thread.join();
            }
        }
    }

    /// A line for the run's report: rows read, bad rows (with the first error), and
    /// connection problems.
    pub fn summary(&self) -> String {
        let mut s = format!("{}: {}", self.name, self.rows.summary());
        if let Some(note) = self.reorder.as_ref().and_then(|(r, _)| r.note()) {
            s.push_str(&format!("; {note}"));
        }
        if self.troubles_total > 0 {
            s.push_str(&format!(
                "; {} connection problem(s) (first: {})",
                self.troubles_total,
                self.troubles.first().map_or("", String::as_str)
            ));
        }
        s
    }
}

/// The stream sequence of each partition in a position of a source read in partitions (see
/// [`LiveSource::position`]), every reader's one after the other.
fn decode_partitions(bytes: &[u8]) -> Result<BTreeMap<u32, u64>, String> {
    if !bytes.len().is_multiple_of(12) {
        return Err(format!(
            "a checkpoint's position of partitions is 12 bytes each, not {} in all",
            bytes.len()
        ));
    }
    let mut out = BTreeMap::new();
    for record in bytes.chunks_exact(12) {
        let (k, seq) = record.split_at(4);
        if let (Ok(k), Ok(seq)) = (<[u8; 4]>::try_from(k), <[u8; 8]>::try_from(seq)) {
            out.insert(u32::from_le_bytes(k), u64::from_le_bytes(seq));
        }
    }
    Ok(out)
}

/// How long a live source waits for a message before it gives the worker back (which then
/// checks whether the run was stopped and polls again).
const LIVE_WAIT: Duration = Duration::from_millis(50);

/// A live bus as a pipeline's source: worker 0 receives every message and the dataflow routes
/// rows to their owners, as for a file. Each call drains what has arrived, waiting at most
/// [`LIVE_WAIT`], so the dataflow keeps stepping and sees a stop; the source ends at its
/// `max_rows` or `until_idle`, or when the run is stopped (dropping it sends the last
/// JetStream acks and closes the connection).
struct LiveRows(LiveSource);

impl Source for LiveRows {
    fn next_batch(&mut self) -> Option<Result<Batch, SourceError>> {
        self.0
            .next_batch(PIPELINE_BATCH_ROWS, LIVE_WAIT)
            .map_err(|e| SourceError(e.to_string()))
            .transpose()
    }

    fn summary(&self) -> Option<String> {
        Some(self.0.summary())
    }

    fn take_held(&mut self) -> Option<Batch> {
        self.0.take_held()
    }

    fn late_rows(&self) -> u64 {
        self.0.late_rows()
    }

    /// The position is the highest JetStream stream sequence read, 8 bytes little endian
    /// (empty: none yet), or a Kafka source's partition offsets.
    fn checkpoint_from(&mut self, position: Option<&[u8]>) -> Result<(), SourceError> {
        self.0
            .resume_from(position)
            .map_err(|e| SourceError(e.to_string()))
    }

    fn cut(&mut self, epoch: u64) -> Vec<u8> {
        self.0.position(epoch)
    }

    fn commit(&mut self, epoch: u64) {
        self.0.commit(epoch);
    }
}

/// Problems every live source can have: `columns` without `csv-line` or the reverse, an
/// empty buffer.
pub(crate) fn live_problems(
    format: MessageFormat,
    columns: &[String],
    buffer: usize,
) -> Vec<SourceProblem> {
    let mut out = Vec::new();
    match format {
        MessageFormat::CsvLine if columns.is_empty() => out.push(SourceProblem::new(
            ProblemAt::Key("columns"),
            "`format: csv-line` needs the columns of a line, in order",
            Some("e.g. `columns: [entity, time, prb_util]`"),
        )),
        MessageFormat::Jsonl if !columns.is_empty() => out.push(SourceProblem::new(
            ProblemAt::Key("columns"),
            "`columns` is for `format: csv-line`; JSON messages name their keys",
            None,
        )),
        _ => {}
    }
    out.extend(buffer_problem(buffer));
    out
}

/// Problems of `lateness` and `max_held`: a cap without a lateness, an empty cap.
pub(crate) fn event_time_problems(
    lateness: Option<Interval>,
    max_held: Option<usize>,
) -> Vec<SourceProblem> {
    match (lateness, max_held) {
        (None, Some(_)) => vec![SourceProblem::new(
            ProblemAt::Key("max_held"),
            "caps the rows held for event time, which only `lateness` turns on",
            Some("add e.g. `lateness: 5m`, or leave `max_held` out"),
        )],
        (Some(_), Some(0)) => vec![SourceProblem::new(
            ProblemAt::Key("max_held"),
            "must be at least 1",
            None,
        )],
        _ => Vec::new(),
    }
}

/// An empty buffer's problem.
pub(crate) fn buffer_problem(buffer: usize) -> Option<SourceProblem> {
    (buffer == 0).then(|| SourceProblem::new(ProblemAt::Key("buffer"), "must be at least 1", None))
}

/// A factory whose worker 0 opens the live source `open` makes from `config`.
pub(crate) fn live_factory<C: Clone + Send + Sync + 'static>(
    config: &C,
    fields: &[String],
    open: fn(&C, &[String]) -> Result<LiveSource, ConnectorError>,
) -> SourceFactory {
    let (config, fields) = (config.clone(), fields.to_vec());
    first_worker(move || {
        open(&config, &fields)
            .map(LiveRows)
            .map_err(|e| SourceError(e.to_string()))
    })
}

/// Opens the live source of `config` reading `fields` from the given partitions.
pub(crate) type OpenPartitions<C> =
    fn(&C, &[String], Vec<u32>) -> Result<LiveSource, ConnectorError>;

/// A factory whose every worker opens, with `open`, the live source of the partitions of
/// `count` it owns (`k mod peers = index`); a worker owning none reads nothing.
pub(crate) fn partitions_factory<C: Clone + Send + Sync + 'static>(
    config: &C,
    fields: &[String],
    count: u32,
    open: OpenPartitions<C>,
) -> SourceFactory {
    let (config, fields) = (config.clone(), fields.to_vec());
    Arc::new(move |index, peers| {
        if let Some(why) = partitions_problem(count) {
            return Err(SourceError(format!("`partitions` {why}")));
        }
        let owned: Vec<u32> = (0..count)
            .filter(|&k| k as usize % peers.max(1) == index)
            .collect();
        if owned.is_empty() {
            return Ok(Box::new(NoRows) as Box<dyn Source>);
        }
        open(&config, &fields, owned)
            .map(|s| Box::new(LiveRows(s)) as Box<dyn Source>)
            .map_err(|e| SourceError(e.to_string()))
    })
}

/// Live sources name their fields: there is no file to find them in.
pub(crate) fn live_fields() -> Result<Vec<String>, SourceError> {
    Err(SourceError(
        "a live source needs its fields named in `collect: {fields: […]}`".into(),
    ))
}

impl SourceComponent for MqttSourceConfig {
    fn describe(&self) -> String {
        format!("mqtt {} topic {}", self.url, self.topic)
    }

    fn target(&self) -> String {
        self.name()
    }

    fn is_live(&self) -> bool {
        true
    }

    fn fields(&self) -> Result<Vec<String>, SourceError> {
        live_fields()
    }

    /// Worker 0 subscribes to the topic.
    fn open(&self, fields: &[String]) -> Result<SourceFactory, SourceError> {
        Ok(live_factory(self, fields, LiveSource::mqtt))
    }

    fn problems(&self, _fields: &[String], remote: bool) -> Vec<SourceProblem> {
        let mut out = live_problems(self.format, &self.columns, self.buffer);
        out.extend(event_time_problems(self.lateness, self.max_held));
        out.extend(broker_problems(
            Broker::Mqtt,
            self.auth.as_ref(),
            self.tls.as_ref(),
            remote,
        ));
        if self.qos > 2 {
            out.push(SourceProblem::new(
                ProblemAt::Key("qos"),
                format!("{} is not 0, 1 or 2", self.qos),
                None,
            ));
        }
        out
    }
}

impl SourceComponent for crate::HttpSourceConfig {
    fn describe(&self) -> String {
        format!("http push to {} ({:?})", self.name(), self.format)
    }

    fn target(&self) -> String {
        self.name()
    }

    fn is_live(&self) -> bool {
        true
    }

    fn fields(&self) -> Result<Vec<String>, SourceError> {
        live_fields()
    }

    /// Worker 0 listens.
    fn open(&self, fields: &[String]) -> Result<SourceFactory, SourceError> {
        Ok(live_factory(self, fields, LiveSource::http))
    }

    /// Besides the live checks, the token's ([`token_problems`]).
    fn problems(&self, _fields: &[String], remote: bool) -> Vec<SourceProblem> {
        let mut out = live_problems(self.format, &self.columns, self.buffer);
        out.extend(event_time_problems(self.lateness, self.max_held));
        out.extend(token_problems(
            self.token_env.is_some(),
            self.token_file.as_deref(),
            remote,
        ));
        out.extend(self.tls.iter().flat_map(|t| t.problems(remote)));
        out
    }
}

/// The problems of a bus client's `auth` and `tls`.
pub(crate) fn broker_problems(
    broker: Broker,
    auth: Option<&BrokerAuth>,
    tls: Option<&ClientTls>,
    remote: bool,
) -> Vec<SourceProblem> {
    let mut out = auth.map_or_else(Vec::new, |a| a.problems(broker, remote));
    out.extend(tls.map_or_else(Vec::new, |t| t.problems(remote)));
    out
}

/// A push source's token problems: it needs one, and a remote intent may not name a token
/// file.
pub(crate) fn token_problems(
    has_env: bool,
    file: Option<&std::path::Path>,
    remote: bool,
) -> Vec<SourceProblem> {
    let mut out = Vec::new();
    if !has_env && file.is_none() {
        out.push(SourceProblem::new(
            ProblemAt::Whole,
            "a push source needs a token: it takes no anonymous writes",
            Some("add `token_env: INGEST_TOKEN` (a variable holding 16 characters or more)"),
        ));
    }
    if remote {
        out.extend(crate::auth::remote_files(
            file.map(|path| ("token_file", path)).into_iter().collect(),
        ));
    }
    out
}

impl SourceComponent for NatsSourceConfig {
    fn describe(&self) -> String {
        format!(
            "nats {} stream {} (durable consumer {})",
            self.url, self.stream, self.durable
        )
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

    /// Stream sequences are its position: read whole, one; in partitions, one a partition.
    fn resumable(&self) -> bool {
        true
    }

    fn partitions(&self) -> Option<u32> {
        self.partitions
    }

    /// Worker 0 binds the JetStream consumer; with `partitions`, each worker binds those of
    /// the partitions it owns (none: it reads nothing).
    fn open(&self, fields: &[String]) -> Result<SourceFactory, SourceError> {
        Ok(match self.partitions {
            None => live_factory(self, fields, LiveSource::nats),
            Some(count) => partitions_factory(self, fields, count, LiveSource::nats_partitions),
        })
    }

    /// Besides the live checks, `auth`'s and `tls`'s, and `partitions`': at least one, a
    /// `subject` prefix without wildcards, and no `max_rows`.
    fn problems(&self, _fields: &[String], remote: bool) -> Vec<SourceProblem> {
        let mut out = live_problems(self.format, &self.columns, self.buffer);
        out.extend(event_time_problems(self.lateness, self.max_held));
        out.extend(broker_problems(
            Broker::Nats,
            self.auth.as_ref(),
            self.tls.as_ref(),
            remote,
        ));
        let Some(count) = self.partitions else {
            return out;
        };
        if let Some(why) = partitions_problem(count) {
            out.push(SourceProblem::new(ProblemAt::Key("partitions"), why, None));
        }
        match self.subject.as_deref() {
            None | Some("") => out.push(SourceProblem::new(
                ProblemAt::Key("partitions"),
                "needs `subject`, the prefix of the partitions' subjects",
                Some("e.g. `subject: telemetry` for `telemetry.0`, `telemetry.1`, …"),
            )),
            Some(s) if s.contains(['*', '>']) || s.ends_with('.') => out.push(SourceProblem::new(
                ProblemAt::Key("subject"),
                format!(
                    "`{s}`: with `partitions` it is a prefix, without wildcards or a final dot"
                ),
                Some("e.g. `subject: telemetry` for `telemetry.0`, `telemetry.1`, …"),
            )),
            Some(_) => {}
        }
        if self.max_rows.is_some() {
            out.push(SourceProblem::new(
                ProblemAt::Key("max_rows"),
                "counts one reader's rows, and with `partitions` each worker reads its own share",
                Some("end with `until_caught_up: true` or `until_idle` instead"),
            ));
        }
        out
    }
}

impl Drop for LiveSource {
    fn drop(&mut self) {
        self.stop();
    }
}

impl ReadReport {
    /// `N rows read, M bad rows skipped (first: …)`, with the order and time-zone notes.
    pub fn summary(&self) -> String {
        let mut s = format!("{} rows read", self.rows_ok);
        if self.rows_skipped > 0 {
            s.push_str(&format!(", {} bad rows skipped", self.rows_skipped));
        }
        if self.rows_quarantined > 0 {
            s.push_str(&format!(", {} bad rows quarantined", self.rows_quarantined));
        }
        if let Some(first) = self.errors.first() {
            s.push_str(&format!(" (first: {first})"));
        }
        for note in [self.order_note(), self.time_note()].into_iter().flatten() {
            s.push_str(&format!("; {note}"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<String> {
        vec!["a".into(), "b".into()]
    }

    #[test]
    fn urls_are_host_and_port() {
        assert_eq!(
            host_port("mqtt://127.0.0.1:1884", &["mqtt", "tcp"], 1883).unwrap(),
            ("127.0.0.1".into(), 1884)
        );
        assert_eq!(
            host_port("tcp://broker", &["mqtt", "tcp"], 1883).unwrap(),
            ("broker".into(), 1883)
        );
        assert_eq!(
            host_port("mqtts://b:8883", &["mqtt", "tcp"], 1883).unwrap_err(),
            "`mqtts://b:8883` is not a mqtt:// or tcp:// address"
        );
        assert!(host_port("mqtt://b:x", &["mqtt"], 1883).is_err());
        assert!(host_port("mqtt://u:p@b:1", &["mqtt"], 1883).is_err());
    }

    /// JSON-lines messages with the default keys and fields named in `map`.
    /// A source of JSON-lines messages with one field `a` and a lateness of 5 minutes, and
    /// the sender that feeds it.
    fn late_source(
        acks: Option<tokio::sync::mpsc::UnboundedSender<Vec<AckToken>>>,
    ) -> (std::sync::mpsc::SyncSender<Event>, LiveSource) {
        let map = BTreeMap::new();
        let rows = jsonl(&map);
        let fields = vec!["a".to_string()];
        let reader = MessageRows::new("t", &rows, &fields).unwrap();
        let (tx, rx) = std::sync::mpsc::sync_channel(8);
        let transport = Transport {
            rx,
            early: VecDeque::new(),
            acks,
            stop: Arc::new(AtomicBool::new(false)),
            thread: None,
        };
        let limits = LiveLimits {
            buffer: 8,
            event_time: event_time(Some(Interval::from_minutes(5)), None),
            ..LiveLimits::default()
        };
        let src = LiveSource::new("t".into(), Box::new(reader), transport, limits);
        (tx, src)
    }

    /// A source of field `a` on an idle transport, the acknowledgements it sends, and a
    /// second transport (fed by the sender) for a restart to bind it to.
    fn rebindable_source() -> (
        LiveSource,
        tokio::sync::mpsc::UnboundedReceiver<Vec<AckToken>>,
        std::sync::mpsc::SyncSender<Event>,
        Transport,
    ) {
        let map = BTreeMap::new();
        let fields = vec!["a".to_string()];
        let reader = MessageRows::new("t", &jsonl(&map), &fields).unwrap();
        let (ack_tx, ack_rx) = tokio::sync::mpsc::unbounded_channel();
        let (tx, rx) = std::sync::mpsc::sync_channel(8);
        let transport = |rx| Transport {
            rx,
            early: VecDeque::new(),
            acks: Some(ack_tx.clone()),
            stop: Arc::new(AtomicBool::new(false)),
            thread: None,
        };
        let (_, idle) = std::sync::mpsc::sync_channel(1);
        let limits = LiveLimits {
            buffer: 8,
            ..LiveLimits::default()
        };
        let src = LiveSource::new("t".into(), Box::new(reader), transport(idle), limits);
        (src, ack_rx, tx, transport(rx))
    }

    fn jsonl(map: &BTreeMap<String, String>) -> RowMapping<'_> {
        RowMapping {
            format: MessageFormat::Jsonl,
            columns: &[],
            entity: None,
            time: None,
            fields: map,
            timezone: None,
        }
    }

    #[test]
    fn json_and_csv_messages_read_like_file_rows() {
        let map = BTreeMap::new();
        let rows = jsonl(&map);
        let mut m = MessageRows::new("t", &rows, &fields()).unwrap();
        let mut batch = Batch::new(2);
        let ok = br#"{"entity":"c1","time":"2024-01-01T00:00:00Z","a":1,"b":"2"}"#;
        assert_eq!(m.push("tele/c1", 1, ok, &mut batch), 1);
        assert_eq!(m.push("tele/c1", 2, b"{\"entity\":\"c1\"", &mut batch), 1);
        let two = b"{\"entity\":\"c2\",\"time\":0,\"a\":1,\"b\":1}\n{\"entity\":\"c2\",\"time\":1000,\"a\":\"x\",\"b\":1}\n";
        assert_eq!(m.push("tele/c2", 3, two, &mut batch), 2);
        assert_eq!(batch.len(), 2);
        assert_eq!(m.report.rows_skipped, 2);
        let e = m.report.errors[1].to_string();
        assert!(e.starts_with("tele/c2:3: column `a`"), "{e}");

        let cols: Vec<String> = ["time", "cell", "b", "a"].map(String::from).to_vec();
        let csv = RowMapping {
            format: MessageFormat::CsvLine,
            columns: &cols,
            entity: Some("cell"),
            ..rows
        };
        let mut m = MessageRows::new("t", &csv, &fields()).unwrap();
        let mut batch = Batch::new(2);
        m.push("x", 1, b"2024-01-01T00:00:00Z,c1,2,1\r\n", &mut batch);
        assert_eq!(batch.row(0), &[1.0, 2.0]);
        m.push("x", 2, b"2024-01-01T00:15:00Z,c1,2", &mut batch);
        assert_eq!(m.report.rows_skipped, 1);
        let missing = RowMapping {
            columns: &cols[..2],
            ..csv
        };
        assert!(MessageRows::new("t", &missing, &fields()).is_err());
        assert!(MessageRows::new("t", &rows, &[]).is_err());
    }

    /// Sends message `seq` (at `offset`, for Kafka) holding entity `c`'s row at `minute`.
    fn send_row(
        tx: &std::sync::mpsc::SyncSender<Event>,
        seq: u64,
        offset: Option<(i32, i64)>,
        minute: i64,
    ) {
        let payload = format!(r#"{{"entity":"c","time":{},"a":1}}"#, minute * 60);
        tx.send(Event::Message {
            origin: "s".into(),
            payload: payload.into_bytes(),
            ack: None,
            seq: Some(seq),
            offset,
            consumer: 0,
        })
        .unwrap();
    }

    /// With `lateness` and checkpoints, a cut's position stops before the oldest message with
    /// a row held, so a restart from it reads that row again instead of losing it.
    #[test]
    fn a_cut_stops_before_the_oldest_message_held() {
        let (tx, mut src) = late_source(None);
        src.checkpoints = true;
        // Minutes 0, 10 and 7 in messages 1, 2, 3: the watermark (5m) releases minute 0 only.
        for (seq, minute) in [(1, 0), (2, 10), (3, 7)] {
            send_row(&tx, seq, None, minute);
        }
        let batch = src
            .next_batch(100, Duration::from_millis(50))
            .unwrap()
            .unwrap();
        assert_eq!(batch.len(), 1);
        assert_eq!(src.cut(1), [Some(1)], "messages 2 and 3 are held");
        let held = src.take_held().unwrap();
        assert_eq!(held.times(), [Timestamp(420_000), Timestamp(600_000)]);
        assert_eq!(src.cut(2), [Some(3)], "none held");
    }

    /// Read in partitions with checkpoints: a restart takes its partitions' positions out of
    /// every reader's and rebinds each consumer after its own, what they cover is skipped, a
    /// cut holds each partition's highest sequence read, and a commit acknowledges each
    /// consumer's newest message only (a Kafka position stands for a JetStream token here).
    #[test]
    fn a_partition_reader_resumes_cuts_and_acknowledges_each_partition() {
        let (mut src, mut ack_rx, tx, fresh) = rebindable_source();
        src.partitions = vec![1, 3];
        src.last_seq = vec![None; 2];
        let bound = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (fresh, seen) = (std::sync::Mutex::new(Some(fresh)), Arc::clone(&bound));
        src.rebind = Some(Box::new(move |after| {
            *seen.lock().unwrap() = after;
            Ok(fresh.lock().unwrap().take().unwrap())
        }));
        let record = |k: u32, seq: u64| [k.to_le_bytes().as_slice(), &seq.to_le_bytes()].concat();
        // Two readers' positions, one after the other: partitions 0 and 2, then 1 and 3.
        let position = [record(0, 5), record(2, 9), record(1, 7), record(3, 4)].concat();
        src.resume_from(Some(&position)).unwrap();
        assert_eq!(*bound.lock().unwrap(), [Some(7), Some(4)]);
        for (consumer, seq) in [(0, 6), (0, 8), (1, 10), (1, 12), (0, 7)] {
            let payload = format!(r#"{{"entity":"c","time":{},"a":1}}"#, seq * 60);
            let token = AckToken::Kafka(Position::from([(consumer as i32, seq as i64)]));
            tx.send(Event::Message {
                origin: "s".into(),
                payload: payload.into_bytes(),
                ack: Some(token),
                seq: Some(seq),
                offset: None,
                consumer,
            })
            .unwrap();
        }
        let batch = src
            .next_batch(100, Duration::from_millis(50))
            .unwrap()
            .unwrap();
        assert_eq!(
            batch.len(),
            3,
            "sequences 6 and 7 of partition 1 are covered"
        );
        let cut = decode_partitions(&src.position(1)).unwrap();
        assert_eq!(cut, BTreeMap::from([(1, 8), (3, 12)]));
        assert!(
            ack_rx.try_recv().is_err(),
            "nothing acknowledged before the commit"
        );
        src.commit(1);
        let sent = ack_rx.try_recv().unwrap();
        let acked: Vec<_> = sent
            .iter()
            .map(|t| match t {
                AckToken::Kafka(p) => p.clone(),
                AckToken::Nats(_) => unreachable!(),
            })
            .collect();
        assert_eq!(
            acked,
            [Position::from([(0, 8)]), Position::from([(1, 12)])],
            "each consumer's newest message"
        );
    }

    /// A Kafka source resumed from a checkpoint skips the records it covers, and with
    /// `lateness` a cut holds each partition's next offset as of the record before the oldest
    /// with a row held; its commit sends that position.
    #[test]
    fn a_kafka_cut_holds_each_partitions_offset_before_the_oldest_row_held() {
        use crate::kafka_config::{decode, encode};
        let (ack_tx, mut ack_rx) = tokio::sync::mpsc::unbounded_channel();
        let (tx, mut src) = late_source(Some(ack_tx));
        src.kafka = Some(Offsets::default());
        src.resume_from(Some(&encode(&Position::from([(0, 10)]))))
            .unwrap();
        // Partition 0 offset 9 is covered; minutes 0, 10 and 7 follow: the watermark (5m)
        // releases minute 0 only.
        for (seq, offset, minute) in [
            (1, (0, 9), 0),
            (2, (0, 10), 0),
            (3, (1, 4), 10),
            (4, (0, 11), 7),
        ] {
            send_row(&tx, seq, Some(offset), minute);
        }
        let batch = src
            .next_batch(100, Duration::from_millis(50))
            .unwrap()
            .unwrap();
        assert_eq!(batch.len(), 1);
        assert_eq!(src.report().rows_ok, 3, "the covered record is skipped");
        let first = Position::from([(0, 11)]);
        assert_eq!(
            decode(&src.position(1)).unwrap(),
            first,
            "records 3 and 4 are held"
        );
        src.commit(1);
        let sent = ack_rx.try_recv().unwrap();
        assert!(matches!(&sent[..], [AckToken::Kafka(p)] if *p == first));
        assert_eq!(src.take_held().unwrap().len(), 2);
        let all = Position::from([(0, 12), (1, 5)]);
        assert_eq!(decode(&src.position(2)).unwrap(), all);
        assert!(
            ack_rx.try_recv().is_err(),
            "not committed before its checkpoint is"
        );
    }

    /// A Kafka reader of partitions 1 and 3 resumed from every reader's position is assigned
    /// its own partitions anew at their offsets; its cut and commit hold only its own.
    #[test]
    fn a_kafka_partition_reader_resumes_at_its_partitions_offsets() {
        use crate::kafka_config::{decode, encode};
        let (mut src, mut ack_rx, tx, fresh) = rebindable_source();
        src.kafka = Some(Offsets::default());
        let assigned = Arc::new(std::sync::Mutex::new(None));
        let seen = Arc::clone(&assigned);
        src.reassign = Some((
            vec![1, 3],
            Box::new(move |from| {
                *seen.lock().unwrap() = Some(from);
                Ok(fresh)
            }),
        ));
        let every = Position::from([(0, 5), (1, 7), (2, 9), (3, 4)]);
        src.resume_from(Some(&encode(&every))).unwrap();
        let own = Position::from([(1, 7), (3, 4)]);
        assert_eq!(assigned.lock().unwrap().as_ref(), Some(&own));
        assert_eq!(decode(&src.position(0)).unwrap(), own, "before any record");
        for (seq, offset) in [(1, (1, 7)), (2, (3, 4)), (3, (1, 8))] {
            send_row(&tx, seq, Some(offset), seq as i64);
        }
        let batch = src
            .next_batch(100, Duration::from_millis(50))
            .unwrap()
            .unwrap();
        assert_eq!(batch.len(), 3);
        let cut = Position::from([(1, 9), (3, 5)]);
        assert_eq!(decode(&src.position(1)).unwrap(), cut);
        src.commit(1);
        let mut sent = Vec::new();
        while let Ok(tokens) = ack_rx.try_recv() {
            sent.extend(tokens);
        }
        assert!(
            matches!(&sent[..], [AckToken::Kafka(a), AckToken::Kafka(b)] if *a == own && *b == cut),
            "each cut commits this reader's partitions only"
        );
    }

    #[test]
    fn configs_reject_unknown_keys() {
        let cfg: MqttSourceConfig = serde_json::from_str(
            r#"{"url":"mqtt://h","topic":"t/#","format":"csv-line","columns":["entity","time","a"],"until_idle":"2s"}"#,
        )
        .unwrap();
        assert_eq!(cfg.qos, 1);
        assert_eq!(cfg.limits().until_idle, Some(Duration::from_secs(2)));
        assert!(
            serde_json::from_str::<MqttSourceConfig>(r#"{"url":"x","topic":"t","qs":1}"#).is_err()
        );
        let n: NatsSourceConfig =
            serde_json::from_str(r#"{"url":"nats://h","stream":"S"}"#).unwrap();
        assert_eq!(n.durable, "ai4ict");
    }

    #[test]
    fn a_partitioned_nats_source_needs_a_prefix_and_resumes() {
        let nats = |extra: &str| -> NatsSourceConfig {
            serde_json::from_str(&format!(r#"{{"url":"nats://h","stream":"S"{extra}}}"#)).unwrap()
        };
        let keys = |cfg: &NatsSourceConfig| -> Vec<ProblemAt> {
            cfg.problems(&fields(), false)
                .iter()
                .map(|p| p.at)
                .collect()
        };
        let good = nats(r#","subject":"kpi","partitions":4,"until_caught_up":true"#);
        assert!(keys(&good).is_empty());
        assert!(good.resumable());
        assert_eq!(good.partitions(), Some(4));
        assert!(good.target().ends_with("in 4 partitions"));
        assert!(good.limits().until_caught_up);
        assert!(nats("").resumable());
        assert_eq!(
            keys(&nats(r#","partitions":4"#)),
            [ProblemAt::Key("partitions")]
        );
        assert_eq!(
            keys(&nats(r#","subject":"kpi.>","partitions":4"#)),
            [ProblemAt::Key("subject")]
        );
        assert_eq!(
            keys(&nats(r#","subject":"kpi","partitions":100001"#)),
            [ProblemAt::Key("partitions")],
            "a worker would list billions of partitions"
        );
        assert_eq!(
            keys(&nats(r#","subject":"kpi","partitions":0,"max_rows":9"#)),
            [ProblemAt::Key("partitions"), ProblemAt::Key("max_rows")]
        );
    }
}
