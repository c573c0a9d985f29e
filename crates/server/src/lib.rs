#![doc = include_str!("../README.md")]

pub mod api;
mod audit;
pub mod auth;
pub mod client;
mod console;
mod error;
mod guard;
mod metrics;
mod openapi;
pub mod pipelines;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ai4ict_hub::{Hub, HubError};
use tower::ServiceExt as _;

pub use auth::Token;
pub use error::{Result, ServerError};
pub use pipelines::{
    NodeStatus, PipelineError, PipelineState, PipelineStatus, Pipelines, ScoreBucket,
    ScoreHistogram,
};

/// Header carrying the hex sha256 of a pulled artifact (Model_Pull).
pub const SHA256_HEADER: &str = "x-ai4ict-sha256";

/// Header carrying the metadata (JSON) of a streamed Model_Push (see [`api`]).
pub const METADATA_HEADER: &str = "x-ai4ict-metadata";

/// Default largest request body (a pushed model, base64-encoded in JSON): 64 MiB.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// Default largest artifact of a streamed Model_Push: 4 GiB. It costs disk (a spooled copy,
/// then the database), not memory.
pub const DEFAULT_MAX_ARTIFACT_BYTES: u64 = 4 << 30;

/// Default of [`Config::max_connections`]: enough that thousands of idle or half-open
/// connections leave room for real clients until their header timeout closes them.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// The size at which the audit log is rotated by default.
pub const DEFAULT_AUDIT_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Rotated audit files kept by default.
pub const DEFAULT_AUDIT_KEEP: usize = 5;

/// Bytes of request head a connection may buffer: 4096 connections hold at most 256 MiB.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How a hub is served: who may write, which hosts and origins are accepted, and the limits
/// that keep one client from exhausting the server.
#[derive(Debug, Clone)]
pub struct Config {
    /// The token every write must carry (`Authorization: Bearer …`); without one the hub is
    /// read-only.
    pub token: Option<Token>,
    /// Host names accepted in the `Host` header besides `localhost` and IP addresses (a
    /// defence against DNS rebinding).
    pub allowed_hosts: Vec<String>,
    /// Browser origins allowed to call the API (CORS); none by default, and then no CORS
    /// header is sent and a write carrying another site's `Origin` is refused.
    pub cors_origins: Vec<String>,
    /// Largest request body, checked from `Content-Length` before reading and while reading.
    pub max_body_bytes: u64,
    /// Largest artifact of a streamed Model_Push (`PUT /models/{name}/{version}/artifact`),
    /// checked the same way; it may be larger than [`Config::max_body_bytes`] as the body is
    /// spooled to disk, never held in memory.
    pub max_artifact_bytes: u64,
    /// Folder where a streamed push is spooled (an unnamed file, gone when the push ends,
    /// whatever happens) before it is stored; the system's temporary folder when `None`.
    pub spool_dir: Option<PathBuf>,
    /// Connections served at once (at most the process's open-file limit less 64); more wait
    /// to be accepted. Each buffers at most 64 KiB of request head.
    pub max_connections: usize,
    /// Time a client has to send a request's headers before its connection is closed.
    pub header_timeout: Duration,
    /// Time a request may take, body upload included, before it is answered 408.
    pub request_timeout: Duration,
    /// Append-only JSON-lines file recording every write attempt; none when `None`.
    pub audit_log: Option<PathBuf>,
    /// Size at which the audit log is rotated (`FILE` → `FILE.1`, …).
    pub audit_max_bytes: u64,
    /// Rotated audit files kept (`FILE.1` … `FILE.n`); older ones are deleted.
    pub audit_keep: usize,
    /// Folder whose `report.json` files (written by `ai4ict run`) the console lists under
    /// `/ui/runs`; none when `None`. It must exist; no page reads outside it.
    pub runs_dir: Option<PathBuf>,
    /// The pipelines served under `/pipelines` (`ai4ict serve`); none when `None`.
    pub pipelines: Option<Served>,
    /// Serve HTTPS only, with this certificate (each handshake within `header_timeout`),
    /// so that tokens do not cross the network in clear; plain HTTP when `None`.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// The pipelines a server serves (see [`pipelines`]).
#[derive(Clone, Debug)]
pub struct Served(pub Arc<dyn Pipelines>);

impl Default for Config {
    fn default() -> Self {
        Config {
            token: None,
            allowed_hosts: Vec::new(),
            cors_origins: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_artifact_bytes: DEFAULT_MAX_ARTIFACT_BYTES,
            spool_dir: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(300),
            audit_log: None,
            audit_max_bytes: DEFAULT_AUDIT_MAX_BYTES,
            audit_keep: DEFAULT_AUDIT_KEEP,
            runs_dir: None,
            pipelines: None,
            tls: None,
        }
    }
}

impl Config {
    /// A configuration that accepts writes carrying `token`, with default limits.
    pub fn with_token(token: Token) -> Config {
        Config {
            token: Some(token),
            ..Config::default()
        }
    }
}

/// The hub connections a server works with: one writer, and read-only connections to the same
/// database so that reads do not queue behind each other or behind a write. Without readers
/// (an in-memory hub) the writer serves reads too.
///
/// Keep one reference outside the async runtime and drop it there: the PostgreSQL client
/// blocks when it is dropped, which a runtime thread does not allow.
#[derive(Debug)]
pub struct Hubs {
    writer: Mutex<Hub>,
    readers: Vec<Mutex<Hub>>,
    next: AtomicUsize,
}

impl Hubs {
    /// One hub for reads and writes.
    pub fn new(writer: Hub) -> Hubs {
        Hubs::with_readers(writer, Vec::new())
    }

    /// A writer and read-only connections to the same database (see
    /// [`Hub::open_read_only`]).
    pub fn with_readers(writer: Hub, readers: Vec<Hub>) -> Hubs {
        Hubs {
            writer: Mutex::new(writer),
            readers: readers.into_iter().map(Mutex::new).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// Runs `f` on a reader: the first free one, else the next in turn. Blocks.
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&mut Hub) -> Result<T, HubError>,
    ) -> Result<T, HubError> {
        if self.readers.is_empty() {
            return self.write(f);
        }
        let n = self.readers.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        for i in 0..n {
            if let Ok(mut hub) = self.readers[(start + i) % n].try_lock() {
                return f(&mut hub);
            }
        }
        let mut hub = self.readers[start]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        f(&mut hub)
    }

    /// Runs `f` on the writer. Blocks.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&mut Hub) -> Result<T, HubError>,
    ) -> Result<T, HubError> {
        let mut hub = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut hub)
    }
}

/// The address of the client a request came from (set by [`serve`]).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// The HTTP routes of a hub, the JSON API (see [`api`]) and the web console, with their
/// guards and limits.
pub fn router(hubs: Arc<Hubs>, config: &Config) -> Result<axum::Router> {
    let served = api::Served {
        writable: config.token.is_some(),
        max_body_bytes: config.max_body_bytes,
        max_artifact_bytes: config.max_artifact_bytes,
    };
    let spool = config.spool_dir.clone().unwrap_or_else(std::env::temp_dir);
    let artifacts = api::artifact_router(
        Arc::clone(&hubs),
        api::Upload {
            max_bytes: config.max_artifact_bytes,
            spool: Arc::new(spool),
        },
    );
    let running = config.pipelines.as_ref().map(|p| Arc::clone(&p.0));
    let console = console::router(
        Arc::clone(&hubs),
        config.runs_dir.as_deref(),
        running.clone(),
    )?;
    let metrics = Arc::new(metrics::Metrics::default());
    let mut routes =
        api::router(hubs, served, Arc::clone(&metrics), running.clone()).merge(console);
    if let Some(p) = running {
        routes = routes.merge(pipelines::router(p));
    }
    guard::wrap(routes, artifacts, config, metrics)
}

/// How long [`serve`] waits for open connections to finish after `shutdown`.
const GRACE: Duration = Duration::from_secs(10);

/// Serves `hubs` on `listener` until `shutdown` resolves: HTTP/1.1 (over TLS with
/// [`Config::tls`]), at most [`Config::max_connections`] connections, each closed when its
/// handshake or its headers do not arrive within [`Config::header_timeout`].
pub async fn serve(
    hubs: Arc<Hubs>,
    config: &Config,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};

    let app = router(hubs, config)?;
    let (slots, clamped) = ai4ict_core::limits::connection_slots(config.max_connections);
    if clamped {
        tracing::warn!(
            wanted = config.max_connections,
            slots,
            "the open-file limit allows fewer connections than asked; raise it \
             (e.g. `ulimit -n`, or LimitNOFILE= in a systemd unit)"
        );
    }
    let slots = Arc::new(tokio::sync::Semaphore::new(slots));
    let acceptor = config.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = Arc::clone(&slots).acquire_owned() => slot,
        };
        // The semaphore is never closed.
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let app = app.clone();
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(Peer(peer));
                app.clone().oneshot(req.map(axum::body::Body::new))
            });
        let (watcher, http, tls) = (graceful.watcher(), http.clone(), acceptor.clone());
        let limit = config.header_timeout;
        tokio::spawn(async move {
            let served = match tls {
                None => {
                    let conn = http.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(conn).await
                }
                Some(tls) => match tokio::time::timeout(limit, tls.accept(stream)).await {
                    Ok(Ok(stream)) => {
                        let conn = http.serve_connection(TokioIo::new(stream), service);
                        watcher.watch(conn).await
                    }
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        Ok(())
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "no TLS handshake in time");
                        Ok(())
                    }
                },
            };
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "connection closed");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open {GRACE:?} after shutdown; closing them");
    }
    Ok(())
}

/// Serves `hubs` on `addr` on a new multi-threaded runtime, until the process ends.
pub fn serve_blocking(hubs: Hubs, config: &Config, addr: SocketAddr) -> Result<()> {
    let hubs = Arc::new(hubs);
    let rt = tokio::runtime::Runtime::new()?;
    let served = Arc::clone(&hubs);
    let result = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        serve(served, config, listener, std::future::pending()).await
    });
    drop(rt);
    drop(hubs);
    result
}

/// A hub served from a background thread; stopped when dropped.
#[derive(Debug)]
pub struct Background {
    addr: SocketAddr,
    /// `http`, or `https` with [`Config::tls`].
    scheme: &'static str,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
}

impl Background {
    /// Binds `addr` (port 0 picks a free port) and serves `hubs` from a new thread.
    pub fn start(hubs: Hubs, config: Config, addr: SocketAddr) -> Result<Background> {
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || -> Result<()> {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            let hubs = Arc::new(hubs);
            let served = Arc::clone(&hubs);
            let result = rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener)?;
                serve(served, &config, listener, async {
                    // A dropped sender also stops the server.
                    let _ = rx.await;
                })
                .await
            });
            // Outside the runtime: see [`Hubs`].
            drop(rt);
            drop(hubs);
            result
        });
        Ok(Background {
            addr,
            scheme,
            stop: Some(tx),
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://ADDR`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stops the server and waits for it.
    pub fn stop(mut self) -> Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(ServerError::Io(std::io::Error::other(
                "server thread panicked",
            ))),
            None => Ok(()),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}
