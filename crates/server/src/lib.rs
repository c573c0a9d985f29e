#![doc = include_str!("../README.md")]

pub mod api;
pub mod client;
mod error;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use ai4ict_hub::Hub;

pub use error::{Result, ServerError};

/// Header carrying the hex sha256 of a pulled artifact (Model_Pull).
pub const SHA256_HEADER: &str = "x-ai4ict-sha256";

/// Largest request body accepted (a pushed model, base64-encoded in JSON).
pub const MAX_BODY_BYTES: usize = 512 * 1024 * 1024;

/// A hub shared between request handlers.
///
/// Keep one reference outside the async runtime and drop it there: the PostgreSQL client
/// blocks when it is dropped, which a runtime thread does not allow.
pub type SharedHub = Arc<Mutex<Hub>>;

/// Wraps a hub for serving.
pub fn shared(hub: Hub) -> SharedHub {
    Arc::new(Mutex::new(hub))
}

/// The HTTP routes of a hub (see [`api`]).
pub fn router(hub: SharedHub) -> axum::Router {
    api::router(hub)
}

/// Serves `hub` on `listener` until `shutdown` resolves.
pub async fn serve(
    hub: SharedHub,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    axum::serve(listener, router(hub))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Serves `hub` on `addr` on a new multi-threaded runtime, until the process ends.
pub fn serve_blocking(hub: Hub, addr: SocketAddr) -> Result<()> {
    let hub = shared(hub);
    let rt = tokio::runtime::Runtime::new()?;
    let served = Arc::clone(&hub);
    let result = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        serve(served, listener, std::future::pending()).await
    });
    drop(rt);
    drop(hub);
    result
}

/// A hub served from a background thread; stopped when dropped.
#[derive(Debug)]
pub struct Background {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
}

impl Background {
    /// Binds `addr` (port 0 picks a free port) and serves `hub` from a new thread.
    pub fn start(hub: Hub, addr: SocketAddr) -> Result<Background> {
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || -> Result<()> {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            let hub = shared(hub);
            let served = Arc::clone(&hub);
            let result = rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener)?;
                serve(served, listener, async {
                    // A dropped sender also stops the server.
                    let _ = rx.await;
                })
                .await
            });
            // Outside the runtime: see [`SharedHub`].
            drop(rt);
            drop(hub);
            result
        });
        Ok(Background {
            addr,
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
        format!("http://{}", self.addr)
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
