//! Prometheus remote write (Y.3172 §8.1 SRC): Prometheus scrapes the network's exporters and
//! pushes the samples here, as it would to a long-term store.
//!
//! The receiver is the HTTP push source's server ([`crate::http::Endpoint`]) on
//! `/api/v1/write`: a POST body is a snappy-compressed (block format) protobuf `WriteRequest`
//! of remote write 1.0. A body is decoded before it is taken, so one that does not decode is
//! answered 400 at once (Prometheus does not retry a 4xx); a body taken is answered 204 and
//! kept compressed in the buffer, and the worker decodes it again into rows. The other answers
//! are the HTTP source's: 401 without the token, 413 over `max_body`, 503 with `Retry-After`
//! while the buffer is full (Prometheus retries a 5xx, so nothing it sent is lost).
//!
//! Rows: a series' `entity_label` names the entity and its metric name (`__name__`) the
//! field; the samples of one entity at one timestamp (one scrape) make a row once every field
//! has one. A row still missing a field when a later row of its entity is complete goes out
//! with that field missing (NaN), as an absent key of a JSON row does, and is counted. Series
//! of other metrics or without the entity label, stale markers, other NaN samples and samples
//! outside the years 1970 to 2200 are dropped and counted.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use ai4ict_core::{
    Batch, Entity, Interval, ProblemAt, SourceComponent, SourceError, SourceFactory, SourceProblem,
    Timestamp,
};
use hyper::StatusCode;
use prost::Message as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::http::{
    default_bodies, default_buffer, default_connections, default_timeout, listen, Endpoint,
};
use crate::live::{
    buffer_problem, event_time, event_time_problems, interval_duration, live_factory, live_fields,
    reject, token_problems, LiveLimits, Reader,
};
use crate::source::{column_of, note_order, Fault};
use crate::{ConnectorError, LiveSource, ReadReport, ServerTls};

/// The bit pattern of Prometheus' stale marker, the NaN that ends a series.
const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

/// Rows of one entity held while they wait for a field, at most; the oldest then go out
/// without it.
const MAX_PENDING: usize = 1000;

/// Receives Prometheus remote write 1.0 (Y.3172 §8.1 SRC; see the module documentation).
/// Every request needs the bearer token (`token_env` or `token_file`; Prometheus sends it with
/// `authorization: {credentials_file: …}`). With `tls`, HTTPS only, so the token does not cross
/// the network in clear.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrometheusSourceConfig {
    /// Address and port to listen on, e.g. `127.0.0.1:9201`.
    pub listen: String,
    /// The path Prometheus writes to; `/api/v1/write` by default.
    #[serde(default = "default_path")]
    pub path: String,
    /// An environment variable holding the bearer token requests must carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// A file holding the token (its first line), instead of `token_env`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub token_file: Option<PathBuf>,
    /// Serve HTTPS with this certificate and key (HTTPS only; Prometheus' `remote_write`
    /// then names the authority in `tls_config: {ca_file: …}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ServerTls>,
    /// Largest request body in bytes, compressed and uncompressed (default 4 MiB; Prometheus
    /// sends at most `max_samples_per_send` samples, well under 1 MiB, per request).
    #[serde(default = "default_max_body")]
    pub max_body: u64,
    /// Connections held at once (default 1024, within the open-file limit); more wait to be
    /// accepted.
    #[serde(default = "default_connections")]
    pub max_connections: usize,
    /// Request bodies read at once (default 64): `max_body × max_bodies` bounds the memory
    /// of bodies in flight; a request beyond it is answered 503 and retried.
    #[serde(default = "default_bodies")]
    pub max_bodies: usize,
    /// Time a request's body may take to arrive (default `30s`).
    #[serde(default = "default_timeout")]
    #[schemars(with = "String")]
    pub timeout: Interval,
    /// The label naming the entity; `instance` (the scraped target) by default.
    #[serde(default = "default_entity_label")]
    pub entity_label: String,
    /// Pipeline field ← metric, for metrics named differently from the fields: a name, or a
    /// name with label matchers, `node_cpu_seconds_total{mode="idle", cpu="0"}` (equality
    /// only; a series must carry every label given). Two fields may read one metric name with
    /// different matchers; a series matching several goes to the first in field order.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, String>,
    /// End after this many rows (for bounded runs and tests); by default never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rows: Option<u64>,
    /// End when no request has come for this long, e.g. `5s`; by default never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub until_idle: Option<Interval>,
    /// Requests held between the server and the pipeline (default 1000); when full,
    /// Prometheus is answered 503 and retries.
    #[serde(default = "default_buffer")]
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

fn default_path() -> String {
    "/api/v1/write".into()
}

fn default_max_body() -> u64 {
    4 * 1024 * 1024
}

fn default_entity_label() -> String {
    "instance".into()
}

impl PrometheusSourceConfig {
    /// `http://listen/path`, for messages.
    pub fn name(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}{}", self.listen, self.path)
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

    /// Where and how requests are taken: a body is decoded before it is, answered 204.
    fn endpoint(&self) -> Endpoint<'_> {
        let max = self.max_body;
        Endpoint {
            listen: &self.listen,
            path: &self.path,
            token_env: self.token_env.as_deref(),
            token_file: self.token_file.as_deref(),
            tls: self.tls.as_ref(),
            max_body: max,
            max_connections: self.max_connections,
            max_bodies: self.max_bodies,
            timeout: self.timeout,
            buffer: self.buffer,
            accepted: StatusCode::NO_CONTENT,
            media: Some(remote_write_1),
            check: Some(Box::new(move |body| {
                decode(body, max).map(drop).map_err(|e| e.to_string())
            })),
        }
    }
}

impl LiveSource {
    /// Listens on `cfg.listen` for Prometheus remote write with the token; fails naming the
    /// address when it cannot be bound, no token is configured, or two fields name one metric.
    pub fn prometheus(
        cfg: &PrometheusSourceConfig,
        fields: &[String],
    ) -> Result<Self, ConnectorError> {
        let name = cfg.name();
        let rows = SeriesRows::new(&name, cfg, fields)?;
        let transport = listen(cfg.endpoint(), &name)?;
        Ok(Self::new(name, Box::new(rows), transport, cfg.limits()))
    }
}

impl SourceComponent for PrometheusSourceConfig {
    fn describe(&self) -> String {
        format!(
            "prometheus remote write to {} (entity label `{}`)",
            self.name(),
            self.entity_label
        )
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
        Ok(live_factory(self, fields, LiveSource::prometheus))
    }

    /// The token's problems, an empty buffer or entity label.
    fn problems(&self, _fields: &[String], remote: bool) -> Vec<SourceProblem> {
        let mut out = token_problems(self.token_env.is_some(), self.token_file.as_deref(), remote);
        out.extend(self.tls.iter().flat_map(|t| t.problems(remote)));
        out.extend(buffer_problem(self.buffer));
        out.extend(event_time_problems(self.lateness, self.max_held));
        if self.entity_label.trim().is_empty() {
            out.push(SourceProblem::new(
                ProblemAt::Key("entity_label"),
                "must name a label",
                Some("e.g. `entity_label: instance`"),
            ));
        }
        out
    }
}

/// Remote write 1.0 only: a `proto=` other than `prometheus.WriteRequest` (2.0 sends
/// `io.prometheus.write.v2.Request`) or an encoding other than snappy is refused before the
/// body is read, as the remote-write 2.0 specification asks of a 1.0 receiver (415), so the
/// sender knows rather than seeing its samples dropped. Absent headers are taken as 1.0.
fn remote_write_1(content_type: Option<&str>, encoding: Option<&str>) -> Result<(), String> {
    if let Some(ct) = content_type {
        let mut parts = ct.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default();
        if !media.eq_ignore_ascii_case("application/x-protobuf") {
            return Err(format!(
                "Content-Type {media:?}: remote write sends application/x-protobuf"
            ));
        }
        for p in parts {
            if let Some(proto) = p.strip_prefix("proto=") {
                if proto.trim_matches('"') != "prometheus.WriteRequest" {
                    return Err(format!(
                        "{proto}: only remote write 1.0 (prometheus.WriteRequest) is taken; \
                         set `protobuf_message: prometheus.WriteRequest` in Prometheus"
                    ));
                }
            }
        }
    }
    match encoding {
        Some(e) if !e.trim().eq_ignore_ascii_case("snappy") => Err(format!(
            "Content-Encoding {e:?}: remote write 1.0 bodies are snappy-compressed"
        )),
        _ => Ok(()),
    }
}

/// A remote-write 1.0 request (`prometheus.WriteRequest`); metadata is skipped.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub(crate) timeseries: Vec<TimeSeries>,
}

/// One series: its labels (`__name__` among them) and samples; exemplars and histograms are
/// skipped.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub(crate) labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub(crate) samples: Vec<Sample>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Label {
    #[prost(string, tag = "1")]
    pub(crate) name: String,
    #[prost(string, tag = "2")]
    pub(crate) value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Sample {
    #[prost(double, tag = "1")]
    pub(crate) value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub(crate) timestamp: i64,
}

/// Why a remote-write body could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteError {
    /// Not snappy's block format.
    #[error("the body is not snappy-compressed (block format): {0}")]
    Snappy(#[from] snap::Error),
    /// Uncompressed, over the limit.
    #[error("the body uncompresses to {size} bytes, over max_body ({max})")]
    TooLarge { size: usize, max: u64 },
    /// Not a `WriteRequest`.
    #[error("the body is not a remote-write 1.0 WriteRequest: {0}")]
    Protobuf(#[from] prost::DecodeError),
}

/// Uncompresses and decodes a remote-write body of at most `max` bytes uncompressed.
pub(crate) fn decode(body: &[u8], max: u64) -> Result<WriteRequest, WriteError> {
    let size = snap::raw::decompress_len(body)?;
    if size as u64 > max {
        return Err(WriteError::TooLarge { size, max });
    }
    let raw = snap::raw::Decoder::new().decompress_vec(body)?;
    Ok(WriteRequest::decode(raw.as_slice())?)
}

/// What was dropped, and why.
#[derive(Debug, Default)]
struct Dropped {
    other_metrics: u64,
    no_entity: u64,
    stale: u64,
    nan: u64,
    out_of_range: u64,
}

/// A metric name with label matchers, `name{label="value", …}`: the series a field reads.
#[derive(Debug, PartialEq)]
struct Selector {
    /// The labels a series must carry, with these values.
    labels: Vec<(String, String)>,
    /// The field it fills.
    field: usize,
}

/// Parses `name` or `name{label="value", …}` into the name and its matchers.
fn selector(spec: &str) -> Result<(String, Vec<(String, String)>), String> {
    let spec = spec.trim();
    let Some((name, rest)) = spec.split_once('{') else {
        return Ok((spec.to_string(), Vec::new()));
    };
    let inner = rest
        .strip_suffix('}')
        .ok_or_else(|| format!("`{spec}`: the matchers must end with `}}`"))?;
    let mut labels = Vec::new();
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let (label, after) = rest
            .split_once('=')
            .ok_or_else(|| format!("`{spec}`: write matchers as label=\"value\""))?;
        let label = label.trim();
        let after = after.trim_start();
        if label.is_empty() || after.starts_with('~') || label.ends_with('!') {
            return Err(format!(
                "`{spec}`: only equality matchers (label=\"value\") are supported"
            ));
        }
        let quoted = after
            .strip_prefix('"')
            .and_then(|a| a.split_once('"'))
            .ok_or_else(|| format!("`{spec}`: the value of `{label}` must be quoted"))?;
        labels.push((label.to_string(), quoted.0.to_string()));
        rest = quoted.1.trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    if name.trim().is_empty() {
        return Err(format!("`{spec}`: no metric name"));
    }
    Ok((name.trim().to_string(), labels))
}

/// Makes rows out of remote-write requests (see the module documentation).
pub(crate) struct SeriesRows {
    entity_label: String,
    /// Metric name → the selectors of that name, in field order.
    fields: HashMap<String, Vec<Selector>>,
    width: usize,
    max_body: u64,
    /// Per entity, the rows still missing a field (NaN where no sample has come).
    pending: BTreeMap<Entity, BTreeMap<Timestamp, Vec<f64>>>,
    last_time: HashMap<Entity, Timestamp>,
    report: ReadReport,
    dropped: Dropped,
    /// Rows handed over with a field missing.
    partial: u64,
}

impl SeriesRows {
    fn new(
        name: &str,
        cfg: &PrometheusSourceConfig,
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
        let mut by_metric: HashMap<String, Vec<Selector>> = HashMap::new();
        for (i, field) in fields.iter().enumerate() {
            let spec = column_of(&cfg.metrics, field);
            let (name, mut labels) =
                selector(&spec).map_err(|e| bad(format!("metrics.{field}: {e}")))?;
            labels.sort();
            let same = by_metric.entry(name).or_default();
            if same.iter().any(|s| s.labels == labels) {
                return Err(bad(format!("two fields read the metric `{spec}`")));
            }
            same.push(Selector { labels, field: i });
        }
        Ok(Self {
            entity_label: cfg.entity_label.clone(),
            fields: by_metric,
            width: fields.len(),
            max_body: cfg.max_body,
            pending: BTreeMap::new(),
            last_time: HashMap::new(),
            report: ReadReport {
                zone: "UTC".into(),
                ..ReadReport::default()
            },
            dropped: Dropped::default(),
            partial: 0,
        })
    }

    /// Files the samples of one series under their entity's pending rows; returns the
    /// entity, or `None` when the series is dropped.
    fn take(&mut self, series: &TimeSeries) -> Option<Entity> {
        let label = |name: &str| {
            series
                .labels
                .iter()
                .find(|l| l.name == name)
                .map(|l| l.value.as_str())
        };
        let field = label("__name__")
            .and_then(|m| self.fields.get(m))
            .and_then(|selectors| {
                selectors.iter().find(|s| {
                    s.labels
                        .iter()
                        .all(|(name, value)| label(name) == Some(value.as_str()))
                })
            })
            .map(|s| s.field);
        let Some(field) = field else {
            self.dropped.other_metrics += 1;
            return None;
        };
        let Some(entity) = label(&self.entity_label).filter(|e| !e.is_empty()) else {
            self.dropped.no_entity += 1;
            return None;
        };
        let entity = Entity::from(entity);
        let rows = self.pending.entry(entity.clone()).or_default();
        for s in &series.samples {
            let time = Timestamp::from_epoch_millis(s.timestamp);
            if s.value.to_bits() == STALE_NAN {
                self.dropped.stale += 1;
            } else if s.value.is_nan() {
                self.dropped.nan += 1;
            } else if let Some(time) = time {
                rows.entry(time)
                    .or_insert_with(|| vec![f64::NAN; self.width])[field] = s.value;
            } else {
                self.dropped.out_of_range += 1;
            }
        }
        Some(entity)
    }

    /// Hands over `entity`'s rows up to its latest complete one, in time order, those before
    /// it with their missing fields NaN (the samples will not come: each series arrives in
    /// time order), and the oldest beyond [`MAX_PENDING`]; returns how many.
    fn complete(&mut self, entity: Entity, batch: &mut Batch) -> u64 {
        let Some(rows) = self.pending.get_mut(&entity) else {
            return 0;
        };
        let full = |v: &[f64]| !v.iter().any(|x| x.is_nan());
        let mut ready = match rows.iter().rev().find(|(_, v)| full(v)) {
            // In range, so `t + 1` is too.
            Some((&t, _)) => {
                let later = rows.split_off(&Timestamp(t.0 + 1));
                std::mem::replace(rows, later)
            }
            None => BTreeMap::new(),
        };
        while rows.len() > MAX_PENDING {
            ready.extend(rows.pop_first());
        }
        if rows.is_empty() {
            self.pending.remove(&entity);
        }
        let n = ready.len() as u64;
        for (time, values) in ready {
            self.partial += u64::from(!full(&values));
            note_order(&mut self.report, &mut self.last_time, &entity, time);
            batch.push(entity.clone(), time, &values);
        }
        self.report.rows_ok += n;
        n
    }
}

impl Reader for SeriesRows {
    fn read(&mut self, origin: &str, seq: u64, payload: &[u8], batch: &mut Batch) -> u64 {
        let request = match decode(payload, self.max_body) {
            Ok(r) => r,
            Err(e) => {
                reject(&mut self.report, origin, seq, Fault::line(e.to_string()));
                return 1;
            }
        };
        let touched: BTreeSet<Entity> = request
            .timeseries
            .iter()
            .filter_map(|s| self.take(s))
            .collect();
        touched.into_iter().map(|e| self.complete(e, batch)).sum()
    }

    fn report(&self) -> &ReadReport {
        &self.report
    }

    fn width(&self) -> usize {
        self.width
    }

    /// The rows' summary, the partial rows and what was dropped.
    fn summary(&self) -> String {
        let mut s = self.report.summary();
        if self.partial > 0 {
            s.push_str(&format!("; {} rows missing a field", self.partial));
        }
        let d = &self.dropped;
        let dropped: Vec<String> = [
            (
                d.other_metrics,
                "series of metrics not collected".to_string(),
            ),
            (
                d.no_entity,
                format!("series without the label `{}`", self.entity_label),
            ),
            (d.stale, "stale markers".into()),
            (d.nan, "NaN samples".into()),
            (d.out_of_range, "samples outside 1970 to 2200".into()),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        if !dropped.is_empty() {
            s.push_str(&format!("; dropped {}", dropped.join(", ")));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn series(metric: &str, instance: Option<&str>, samples: &[(i64, f64)]) -> TimeSeries {
        let mut labels = vec![Label {
            name: "__name__".into(),
            value: metric.into(),
        }];
        labels.extend(instance.map(|i| Label {
            name: "instance".into(),
            value: i.into(),
        }));
        TimeSeries {
            labels,
            samples: samples
                .iter()
                .map(|&(timestamp, value)| Sample { value, timestamp })
                .collect(),
        }
    }

    fn body(timeseries: Vec<TimeSeries>) -> Vec<u8> {
        let raw = WriteRequest { timeseries }.encode_to_vec();
        snap::raw::Encoder::new().compress_vec(&raw).unwrap()
    }

    fn reader() -> SeriesRows {
        let cfg: PrometheusSourceConfig = serde_json::from_value(serde_json::json!({
            "listen": "127.0.0.1:0", "metrics": {"dl": "dl_bytes"},
        }))
        .unwrap();
        SeriesRows::new("t", &cfg, &["cpu".into(), "dl".into()]).unwrap()
    }

    #[test]
    fn samples_of_one_entity_and_time_make_a_row() {
        let mut r = reader();
        let mut batch = Batch::new(2);
        let stale = f64::from_bits(STALE_NAN);
        // The two metrics of a scrape may come in different requests (Prometheus shards by
        // series): the first holds the rows until the second completes them.
        let cpu = [(1000, 0.5), (2000, 0.6), (3000, 0.7), (-1, 9.0)];
        let first = body(vec![
            series("cpu", Some("a:9100"), &cpu),
            series("up", Some("a:9100"), &[(1000, 1.0)]),
            series("cpu", None, &[(1000, 1.0)]),
            series("cpu", Some("b:9100"), &[(1000, f64::NAN), (2000, stale)]),
        ]);
        assert_eq!(r.read("req 1", 1, &first, &mut batch), 0);
        assert!(batch.is_empty());
        let dl = [(2000, 20.0), (3000, 30.0)];
        let second = body(vec![series("dl_bytes", Some("a:9100"), &dl)]);
        assert_eq!(r.read("req 2", 2, &second, &mut batch), 3);
        // The scrape at 1 s had no `dl_bytes`: its row goes out with the field missing.
        assert_eq!(batch.row(0)[0], 0.5);
        assert!(batch.row(0)[1].is_nan());
        assert_eq!(batch.row(1), &[0.6, 20.0]);
        assert_eq!(batch.row(2), &[0.7, 30.0]);
        assert_eq!(batch.time(2), Timestamp(3000));
        assert_eq!(batch.entity(2).name(), "a:9100");
        assert_eq!(r.report.rows_ok, 3);
        let s = r.summary();
        for part in [
            "3 rows read",
            "1 rows missing a field",
            "1 series of metrics not collected",
            "1 series without the label `instance`",
            "1 stale markers",
            "1 NaN samples",
            "1 samples outside 1970 to 2200",
        ] {
            assert!(s.contains(part), "{part}: {s}");
        }
        assert!(r.pending.is_empty(), "{:?}", r.pending);
    }

    #[test]
    fn rows_waiting_for_a_field_are_bounded() {
        let mut r = reader();
        let mut batch = Batch::new(2);
        let cpu: Vec<(i64, f64)> = (0..MAX_PENDING as i64 + 5).map(|t| (t, 1.0)).collect();
        let n = r.read(
            "req 1",
            1,
            &body(vec![series("cpu", Some("a"), &cpu)]),
            &mut batch,
        );
        assert_eq!(n, 5, "the oldest go out without `dl`");
        assert_eq!(batch.time(4), Timestamp(4));
        assert_eq!(
            r.pending.values().map(BTreeMap::len).sum::<usize>(),
            MAX_PENDING
        );
    }

    #[test]
    fn bad_bodies_are_errors_never_panics() {
        assert!(matches!(
            decode(b"not snappy", 1 << 20),
            Err(WriteError::Snappy(_))
        ));
        let garbage = snap::raw::Encoder::new().compress_vec(&[0xff; 64]).unwrap();
        assert!(matches!(
            decode(&garbage, 1 << 20),
            Err(WriteError::Protobuf(_))
        ));
        let big = body(vec![series("cpu", Some("a"), &[(1, 1.0); 100])]);
        assert!(matches!(
            decode(&big, 100),
            Err(WriteError::TooLarge { .. })
        ));
        let mut r = reader();
        let mut batch = Batch::new(2);
        assert_eq!(r.read("req 1", 1, b"junk", &mut batch), 1);
        assert_eq!(r.report.rows_skipped, 1);
        assert!(r.report.errors[0].to_string().contains("snappy"));
    }

    #[test]
    fn label_matchers_pick_the_series_of_a_field() {
        let cfg: PrometheusSourceConfig = serde_json::from_value(serde_json::json!({
            "listen": "127.0.0.1:0",
            "metrics": {"idle": "cpu_seconds{mode=\"idle\"}", "user": "cpu_seconds{ mode = \"user\" , cpu=\"0\" }"},
        }))
        .unwrap();
        let mut r = SeriesRows::new("t", &cfg, &["idle".into(), "user".into()]).unwrap();
        let with = |mode: &str, cpu: &str, v: f64| {
            let mut s = series("cpu_seconds", Some("a:9100"), &[(1000, v)]);
            for (name, value) in [("mode", mode), ("cpu", cpu)] {
                s.labels.push(Label {
                    name: name.into(),
                    value: value.into(),
                });
            }
            s
        };
        let mut batch = Batch::new(2);
        let req = body(vec![
            with("system", "0", 9.0),
            with("user", "1", 8.0),
            with("idle", "1", 1.0),
            with("user", "0", 2.0),
        ]);
        assert_eq!(r.read("req", 1, &req, &mut batch), 1);
        assert_eq!(batch.row(0), &[1.0, 2.0]);
        assert!(r.summary().contains("2 series of metrics not collected"));
        for bad in [
            "cpu{mode=~\"i.*\"}",
            "cpu{mode!=\"idle\"}",
            "cpu{mode=idle}",
            "cpu{mode=\"idle\"",
            "{mode=\"idle\"}",
        ] {
            let cfg: PrometheusSourceConfig = serde_json::from_value(serde_json::json!({
                "listen": "127.0.0.1:0", "metrics": {"a": bad},
            }))
            .unwrap();
            let e = SeriesRows::new("t", &cfg, &["a".into()]).err();
            assert!(
                e.is_some_and(|e| e.to_string().contains("metrics.a")),
                "{bad}"
            );
        }
    }

    #[test]
    fn two_fields_may_not_read_one_metric() {
        let cfg: PrometheusSourceConfig = serde_json::from_value(serde_json::json!({
            "listen": "127.0.0.1:0", "metrics": {"b": "a"},
        }))
        .unwrap();
        assert!(SeriesRows::new("t", &cfg, &["a".into(), "b".into()]).is_err());
        assert!(SeriesRows::new("t", &cfg, &[]).is_err());
    }

    proptest! {
        #[test]
        fn any_body_decodes_or_is_refused(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode(&bytes, 1 << 16);
            let packed = snap::raw::Encoder::new().compress_vec(&bytes).unwrap();
            let mut r = reader();
            let mut batch = Batch::new(2);
            r.read("req", 1, &packed, &mut batch);
        }
    }
}
