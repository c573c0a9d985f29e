//! HTTP push (Y.3172 §8.1 SRC): agents and scripts POST telemetry to the pipeline, as JSON
//! lines or CSV lines, with a bearer token.
//!
//! A background thread serves HTTP/1.1 on `listen` (hyper on a one-thread tokio runtime). A
//! request to `path` with the token is one message: its body's lines become rows like an MQTT
//! message's. The answer is 202 once the body is in the source's buffer, 503 with
//! `Retry-After` when the buffer is full (the sender backs off; nothing is lost that was
//! accepted), 401 without the token, 413 over `max_body`, 404 elsewhere, 405 for a method
//! other than POST. Headers must arrive within 10 s and a body within `timeout`. At most
//! `max_connections` are held at once (each buffers at most 64 KiB of request head), and at
//! most `max_bodies` bodies are read at once: the memory bound is `max_body × max_bodies`,
//! and a request beyond it is answered 503 with `Retry-After`. So idle or half-open
//! connections cannot keep a sender out, and many connections cannot exhaust memory. With
//! `tls`, HTTPS only (rustls), each handshake within the 10 s of the headers. The Prometheus
//! remote-write source serves the same way ([`Endpoint`]), checking each body before it is
//! taken.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

use ai4ict_core::Interval;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::live::{
    event_time, interval_duration, Event, LiveLimits, MessageFormat, RowMapping, Transport,
};
use crate::{ConnectorError, ServerTls};

/// Time a client has to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Receives rows POSTed over HTTP (see the module documentation). Every request needs the
/// bearer token (`token_env` or `token_file`): a source on the network takes no anonymous
/// writes. With `tls`, HTTPS only, so the token does not cross the network in clear.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpSourceConfig {
    /// Address and port to listen on, e.g. `127.0.0.1:9100` (`0.0.0.0:9100`: every interface).
    pub listen: String,
    /// The path rows are POSTed to; `/ingest` by default.
    #[serde(default = "default_path")]
    pub path: String,
    /// An environment variable holding the bearer token requests must carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// A file holding the token (its first line), instead of `token_env`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub token_file: Option<PathBuf>,
    /// Serve HTTPS with this certificate and key (HTTPS only: a plain request is refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ServerTls>,
    /// Largest request body in bytes (default 16 MiB).
    #[serde(default = "default_max_body")]
    pub max_body: u64,
    /// Connections held at once (default 1024, within the open-file limit), each with at
    /// most 64 KiB of request head; more wait to be accepted.
    #[serde(default = "default_connections")]
    pub max_connections: usize,
    /// Request bodies read at once (default 64): `max_body × max_bodies` bounds the memory
    /// of bodies in flight; a request beyond it is answered 503 with `Retry-After`.
    #[serde(default = "default_bodies")]
    pub max_bodies: usize,
    /// Time a request's body may take to arrive (default `30s`).
    #[serde(default = "default_timeout")]
    #[schemars(with = "String")]
    pub timeout: Interval,
    // The row mapping and limits below repeat MQTT's: see the note in live.rs on why they
    // are not flattened.
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
    /// End when no request has come for this long, e.g. `5s`; by default never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub until_idle: Option<Interval>,
    /// Requests held between the server and the pipeline (default 1000); when full, senders
    /// are answered 503 and retry.
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
    "/ingest".into()
}

fn default_max_body() -> u64 {
    16 * 1024 * 1024
}

pub(crate) fn default_connections() -> usize {
    1024
}

pub(crate) fn default_bodies() -> usize {
    64
}

/// Bytes of request head a connection may buffer: 1024 connections hold at most 64 MiB.
const MAX_HEAD_BYTES: usize = 64 * 1024;

pub(crate) fn default_timeout() -> Interval {
    Interval::from_millis(30_000)
}

pub(crate) fn default_buffer() -> usize {
    1000
}

impl HttpSourceConfig {
    /// How rows are found in request bodies.
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

    /// `http://listen/path` (`https://` with `tls`), for messages.
    pub fn name(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}{}", self.listen, self.path)
    }

    /// Where and how requests are taken: every body is a message, answered 202.
    pub(crate) fn endpoint(&self) -> Endpoint<'_> {
        Endpoint {
            listen: &self.listen,
            path: &self.path,
            token_env: self.token_env.as_deref(),
            token_file: self.token_file.as_deref(),
            tls: self.tls.as_ref(),
            max_body: self.max_body,
            max_connections: self.max_connections,
            max_bodies: self.max_bodies,
            timeout: self.timeout,
            buffer: self.buffer,
            accepted: StatusCode::ACCEPTED,
            media: None,
            check: None,
        }
    }
}

/// Checks a body before it goes into the buffer; its error is answered 400.
pub(crate) type Check = Box<dyn Fn(&[u8]) -> Result<(), String> + Send + Sync>;

/// Checks a request's `Content-Type` and `Content-Encoding` (absent: `None`) before its body
/// is read; an error is answered 415 Unsupported Media Type.
pub(crate) type MediaCheck = fn(Option<&str>, Option<&str>) -> Result<(), String>;

/// An HTTP push endpoint: what the HTTP and Prometheus sources' configs say about serving.
pub(crate) struct Endpoint<'a> {
    pub(crate) listen: &'a str,
    pub(crate) path: &'a str,
    pub(crate) token_env: Option<&'a str>,
    pub(crate) token_file: Option<&'a Path>,
    pub(crate) tls: Option<&'a ServerTls>,
    pub(crate) max_body: u64,
    pub(crate) max_connections: usize,
    pub(crate) max_bodies: usize,
    pub(crate) timeout: Interval,
    pub(crate) buffer: usize,
    /// The answer once a body is in the buffer (202, or 204 without a body).
    pub(crate) accepted: StatusCode,
    pub(crate) media: Option<MediaCheck>,
    pub(crate) check: Option<Check>,
}

/// The token a push source's requests must carry; an error when none is configured, it
/// cannot be read or it is shorter than 16 characters.
pub(crate) fn required_token(env: Option<&str>, file: Option<&Path>) -> Result<String, String> {
    let token = crate::alerting::read_token(env, file)?.ok_or_else(|| {
        "a push source needs a token (`token_env` or `token_file`): it takes no anonymous writes"
            .to_string()
    })?;
    if token.len() < 16 {
        return Err("the token must be at least 16 characters".into());
    }
    Ok(token)
}

/// What the serving thread shares with each request.
struct Intake {
    path: String,
    token: String,
    max_body: u64,
    timeout: Duration,
    accepted: StatusCode,
    media: Option<MediaCheck>,
    check: Option<Check>,
    /// Permits to read a body.
    bodies: Arc<tokio::sync::Semaphore>,
    tx: SyncSender<Event>,
    requests: AtomicU64,
}

/// Binds `ep.listen` and starts serving; fails naming the address when it cannot be bound
/// or no token is configured.
pub(crate) fn listen(ep: Endpoint<'_>, name: &str) -> Result<Transport, ConnectorError> {
    let fail = |message: String| ConnectorError::Live {
        source_name: name.to_string(),
        message,
    };
    let token = required_token(ep.token_env, ep.token_file).map_err(fail)?;
    if !ep.path.starts_with('/') {
        return Err(fail(format!("path `{}` must start with /", ep.path)));
    }
    let addr: SocketAddr = ep
        .listen
        .parse()
        .map_err(|e| fail(format!("listen `{}`: {e}", ep.listen)))?;
    let tls = ep
        .tls
        .map(|t| t.server_config().map(tokio_rustls::TlsAcceptor::from))
        .transpose()
        .map_err(fail)?;
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| fail(format!("cannot listen on {addr}: {e}")))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| fail(e.to_string()))?;
    let (tx, rx) = sync_channel(ep.buffer.max(1));
    let stop = Arc::new(AtomicBool::new(false));
    let intake = Arc::new(Intake {
        path: ep.path.to_string(),
        token,
        max_body: ep.max_body,
        timeout: interval_duration(ep.timeout),
        accepted: ep.accepted,
        media: ep.media,
        check: ep.check,
        bodies: Arc::new(tokio::sync::Semaphore::new(ep.max_bodies.max(1))),
        tx,
        requests: AtomicU64::new(0),
    });
    let (slots, clamped) = ai4ict_core::limits::connection_slots(ep.max_connections);
    if clamped {
        tracing::warn!(
            source = name,
            wanted = ep.max_connections,
            slots,
            "the open-file limit allows fewer connections than asked; raise it (`ulimit -n`)"
        );
    }
    let thread_stop = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("ai4ict-http-source".into())
        .spawn(move || serve(listener, tls, intake, slots, &thread_stop))
        .map_err(|e| fail(format!("cannot start the serving thread: {e}")))?;
    Ok(Transport {
        rx,
        early: Default::default(),
        acks: None,
        stop,
        thread: Some(thread),
    })
}

/// The serving thread: accepts connections until `stop` is set. With `tls`, each connection
/// has [`HEADER_TIMEOUT`] for its handshake, holding its slot meanwhile.
fn serve(
    listener: std::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    intake: Arc<Intake>,
    slots: usize,
    stop: &AtomicBool,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    rt.block_on(async move {
        let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
            return;
        };
        let slots = Arc::new(tokio::sync::Semaphore::new(slots));
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .max_buf_size(MAX_HEAD_BYTES);
        while !stop.load(Ordering::Relaxed) {
            let accepted = tokio::time::timeout(Duration::from_millis(50), listener.accept()).await;
            let Ok(Ok((stream, peer))) = accepted else {
                continue;
            };
            let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                break;
            };
            let intake = Arc::clone(&intake);
            let service = hyper::service::service_fn(move |req| {
                let intake = Arc::clone(&intake);
                async move { Ok::<_, std::convert::Infallible>(answer(&intake, req, peer).await) }
            });
            let (http, tls) = (http.clone(), tls.clone());
            tokio::spawn(async move {
                match tls {
                    None => {
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                    Some(tls) => {
                        let handshake = tokio::time::timeout(HEADER_TIMEOUT, tls.accept(stream));
                        if let Ok(Ok(stream)) = handshake.await {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                }
                drop(slot);
            });
        }
    });
}

fn reply(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "error": message }).to_string();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

/// Constant-time comparison of the token given with the one expected.
fn same(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = given.len() ^ expected.len();
    for (i, b) in expected.iter().enumerate() {
        diff |= usize::from(given.get(i).copied().unwrap_or(0) ^ b);
    }
    diff == 0
}

async fn answer(
    intake: &Intake,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    if req.uri().path() != intake.path {
        return reply(StatusCode::NOT_FOUND, "no such path");
    }
    if req.method() != Method::POST {
        let mut r = reply(StatusCode::METHOD_NOT_ALLOWED, "POST rows here");
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("POST"),
        );
        return r;
    }
    let authorised = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| same(t.trim().as_bytes(), intake.token.as_bytes()));
    if !authorised {
        let mut r = reply(StatusCode::UNAUTHORIZED, "a bearer token is needed");
        r.headers_mut().insert(
            hyper::header::WWW_AUTHENTICATE,
            hyper::header::HeaderValue::from_static("Bearer"),
        );
        return r;
    }
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_big = || {
        reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the body is over {} bytes", intake.max_body),
        )
    };
    if declared.is_some_and(|n| n > intake.max_body) {
        return too_big();
    }
    if let Some(media) = intake.media {
        let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
        let found = media(
            header(hyper::header::CONTENT_TYPE),
            header(hyper::header::CONTENT_ENCODING),
        );
        if let Err(e) = found {
            return reply(StatusCode::UNSUPPORTED_MEDIA_TYPE, &e);
        }
    }
    let Ok(_reading) = intake.bodies.try_acquire() else {
        let mut r = reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many bodies in flight; retry shortly",
        );
        r.headers_mut().insert(
            hyper::header::RETRY_AFTER,
            hyper::header::HeaderValue::from_static("1"),
        );
        return r;
    };
    let limit = usize::try_from(intake.max_body).unwrap_or(usize::MAX);
    let body = Limited::new(req.into_body(), limit).collect();
    let payload = match tokio::time::timeout(intake.timeout, body).await {
        Err(_) => return reply(StatusCode::REQUEST_TIMEOUT, "the body took too long"),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return too_big(),
        Ok(Err(e)) => return reply(StatusCode::BAD_REQUEST, &e.to_string()),
        Ok(Ok(b)) => b.to_bytes().to_vec(),
    };
    if let Some(Err(e)) = intake.check.as_ref().map(|check| check(&payload)) {
        return reply(StatusCode::BAD_REQUEST, &e);
    }
    let n = intake.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let bytes = payload.len();
    let event = Event::Message {
        origin: format!("request {n} from {peer}"),
        payload,
        ack: None,
        seq: None,
        offset: None,
        consumer: 0,
    };
    match intake.tx.try_send(event) {
        Ok(()) => {
            let body = match intake.accepted {
                StatusCode::NO_CONTENT => Bytes::new(),
                _ => Bytes::from(serde_json::json!({ "accepted_bytes": bytes }).to_string()),
            };
            let mut r = Response::new(Full::new(body));
            *r.status_mut() = intake.accepted;
            r
        }
        Err(TrySendError::Full(_)) => {
            let mut r = reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "the pipeline is behind; retry shortly",
            );
            r.headers_mut().insert(
                hyper::header::RETRY_AFTER,
                hyper::header::HeaderValue::from_static("1"),
            );
            r
        }
        Err(TrySendError::Disconnected(_)) => {
            reply(StatusCode::SERVICE_UNAVAILABLE, "the source has stopped")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"0123456789abcdef", b"0123456789abcdef"));
        assert!(!same(b"0123456789abcde", b"0123456789abcdef"));
        assert!(!same(b"0123456789abcdefX", b"0123456789abcdef"));
        assert!(!same(b"", b"0123456789abcdef"));
    }
}
