use std::any::Any;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::ProcessBuilder;
use timely::communication::{AllocatorBuilder, Hooks};

use crate::EngineError;

/// Where the pipeline's workers run: threads in this process, and optionally several
/// processes on one or more hosts (timely's cluster mode; every process runs the same
/// command with its own `process` index).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    /// Worker threads per process.
    pub workers: usize,
    /// Number of processes.
    pub processes: usize,
    /// This process's index, `0..processes`.
    pub process: usize,
    /// File with one `host:port` per line, one line per process. Without it, processes
    /// listen on 127.0.0.1 from `base_port` up.
    pub hostfile: Option<PathBuf>,
    /// First port used without a hostfile.
    pub base_port: u16,
    /// How long the processes wait for each other at start before giving up with an error
    /// naming the ones missing.
    pub connect_timeout: Duration,
}

impl Default for Cluster {
    fn default() -> Self {
        Self {
            workers: 1,
            processes: 1,
            process: 0,
            hostfile: None,
            base_port: 2101,
            connect_timeout: Duration::from_secs(60),
        }
    }
}

impl Cluster {
    /// The timely configuration for this cluster.
    pub fn timely_config(&self) -> Result<timely::Config, EngineError> {
        if self.workers == 0 || self.processes == 0 {
            return Err(EngineError::Cluster(
                "workers and processes must be at least 1".into(),
            ));
        }
        if self.process >= self.processes {
            return Err(EngineError::Cluster(format!(
                "process index {} is not below the number of processes {}",
                self.process, self.processes
            )));
        }
        let communication = if self.processes > 1 {
            let addresses = match &self.hostfile {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| EngineError::Cluster(format!("{}: {e}", path.display())))?;
                    let hosts: Vec<String> = text
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(str::to_string)
                        .collect();
                    if hosts.len() < self.processes {
                        return Err(EngineError::Cluster(format!(
                            "{}: {} hosts listed, {} processes requested",
                            path.display(),
                            hosts.len(),
                            self.processes
                        )));
                    }
                    hosts[..self.processes].to_vec()
                }
                None => (0..self.processes)
                    .map(|i| format!("127.0.0.1:{}", usize::from(self.base_port) + i))
                    .collect(),
            };
            timely::CommunicationConfig::Cluster {
                threads: self.workers,
                process: self.process,
                addresses,
                report: false,
                zerocopy: false,
            }
        } else if self.workers > 1 {
            timely::CommunicationConfig::Process(self.workers)
        } else {
            timely::CommunicationConfig::Thread
        };
        Ok(timely::Config {
            communication,
            worker: timely::WorkerConfig::default(),
        })
    }
}

/// A cluster's workers, ready to run: timely's allocators, and the guard of the network
/// threads, kept apart so that a lost peer ends the run with an error instead of a panic.
pub(crate) struct Started {
    builders: Vec<AllocatorBuilder>,
    network: Box<dyn Any + Send>,
}

impl Cluster {
    /// Connects this process to the others (in cluster mode) and builds the workers'
    /// allocators. Unlike timely's own start, it gives up after
    /// [`Cluster::connect_timeout`] naming the processes that did not come, prints nothing,
    /// and drops a connection that does not introduce itself as a process of this cluster
    /// instead of panicking on it. Setting `stop` (Ctrl-C) ends the wait at once.
    pub(crate) fn start(&self, stop: &AtomicBool) -> Result<Started, EngineError> {
        let config = self.timely_config()?;
        let timely::CommunicationConfig::Cluster {
            threads,
            process,
            addresses,
            ..
        } = config.communication
        else {
            let (builders, network) = config
                .communication
                .try_build()
                .map_err(EngineError::Cluster)?;
            return Ok(Started { builders, network });
        };
        let sockets = connect(&addresses, process, self.connect_timeout, stop)?;
        let hooks = Hooks::default();
        let allocators =
            ProcessBuilder::new_typed_vector(threads, hooks.refill.clone(), hooks.spill.clone());
        let (builders, guard) =
            initialize_networking_from_sockets(allocators, sockets, process, threads, hooks)
                .map_err(|e| EngineError::Cluster(format!("starting the network: {e}")))?;
        quiet_network_panics();
        if let Ok(mut lost) = LOST.lock() {
            *lost = None;
        }
        Ok(Started {
            builders: builders.into_iter().map(AllocatorBuilder::Tcp).collect(),
            network: Box::new(guard),
        })
    }
}

impl Started {
    /// Runs `work` on every worker and returns what each returned, in worker order. When a
    /// worker fails (a peer process lost: its network threads fail, then the workers that
    /// wait on them), the error says why, and the network threads' failure is not re-raised.
    pub(crate) fn execute<T, F>(self, work: F) -> Result<Vec<T>, EngineError>
    where
        T: Send + 'static,
        F: Fn(&mut timely::worker::Worker) -> T + Send + Sync + 'static,
    {
        let guards = timely::execute::execute_from(
            self.builders,
            Box::new(()),
            timely::WorkerConfig::default(),
            work,
        )
        .map_err(EngineError::Cluster)?;
        let results: Result<Vec<T>, String> = guards.join().into_iter().collect();
        let network = self.network;
        match results {
            Ok(out) => {
                // Joining the network threads re-raises a failure of theirs.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(network)))
                    .map_err(|_| EngineError::Cluster(lost_peer("after the run")))?;
                Ok(out)
            }
            Err(worker) => {
                // Their threads have failed too: dropping the guard would only panic again.
                std::mem::forget(network);
                Err(EngineError::Cluster(lost_peer(&worker)))
            }
        }
    }
}

/// What a network thread of this process said when it failed (a peer's socket closed).
static LOST: Mutex<Option<String>> = Mutex::new(None);

/// The error of a run whose cluster failed: the network's own message when one was kept.
fn lost_peer(worker: &str) -> String {
    match LOST.lock().ok().and_then(|mut l| l.take()) {
        Some(network) => format!("the cluster lost a process ({network}): restart every process"),
        None => format!("a worker failed: {worker}"),
    }
}

/// Keeps timely's threads from printing a backtrace when a peer process is lost: the
/// network threads (`timely:send-N`, `timely:recv-N`) fail first, and the workers then fail
/// on their poisoned queues. The network's message is kept for the run's error; every other
/// panic is printed as before.
fn quiet_network_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let thread = std::thread::current();
            let name = thread.name().unwrap_or_default();
            let network = name.starts_with("timely:send") || name.starts_with("timely:recv");
            let poisoned = name.starts_with("timely:") && message.contains("MergeQueue poisoned");
            if !(network || poisoned) {
                return previous(info);
            }
            if let (true, Ok(mut lost)) = (network, LOST.lock()) {
                lost.get_or_insert(message);
            }
        }));
    });
}

/// Pause between attempts to reach a process that is not listening yet.
const RETRY: Duration = Duration::from_millis(200);

/// One stream to every other process, in process order (`None` at `me`), over timely's
/// handshake: process `i` connects to every `j < i` and sends its index as a big-endian
/// `u64`; it accepts the connections of every `j > i` on its own address.
fn connect(
    addresses: &[String],
    me: usize,
    timeout: Duration,
    stop: &AtomicBool,
) -> Result<Vec<Option<TcpStream>>, EngineError> {
    let deadline = Instant::now() + timeout;
    let listener = TcpListener::bind(&addresses[me]).map_err(|e| {
        EngineError::Cluster(format!(
            "process {me} cannot listen on {}: {e}",
            addresses[me]
        ))
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| EngineError::Cluster(e.to_string()))?;
    let mut sockets: Vec<Option<TcpStream>> = (0..addresses.len()).map(|_| None).collect();
    let missing = |sockets: &[Option<TcpStream>]| -> Vec<String> {
        (0..addresses.len())
            .filter(|&j| j != me && sockets[j].is_none())
            .map(|j| format!("{j} ({})", addresses[j]))
            .collect()
    };
    loop {
        // Reach the lower processes that are not connected yet.
        for j in 0..me {
            if sockets[j].is_some() {
                continue;
            }
            let reached = addresses[j]
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .and_then(|a| TcpStream::connect_timeout(&a, RETRY).ok());
            if let Some(mut stream) = reached {
                if stream.write_all(&(me as u64).to_be_bytes()).is_ok() {
                    let _ = stream.set_nodelay(true);
                    sockets[j] = Some(stream);
                }
            }
        }
        // Take the higher processes' connections; anything else is dropped.
        while let Ok((mut stream, _)) = listener.accept() {
            let mut id = [0u8; 8];
            let ok = stream.set_nonblocking(false).is_ok()
                && stream
                    .set_read_timeout(Some(Duration::from_secs(2)))
                    .is_ok()
                && stream.read_exact(&mut id).is_ok();
            let j = u64::from_be_bytes(id) as usize;
            if ok && j > me && j < addresses.len() && sockets[j].is_none() {
                let _ = stream.set_read_timeout(None);
                let _ = stream.set_nodelay(true);
                sockets[j] = Some(stream);
            }
        }
        let waiting = missing(&sockets);
        if waiting.is_empty() {
            return Ok(sockets);
        }
        if stop.load(Ordering::Relaxed) {
            return Err(EngineError::Cluster(format!(
                "stopped while process {me} waited for process{} {}",
                if waiting.len() == 1 { "" } else { "es" },
                waiting.join(", ")
            )));
        }
        if Instant::now() >= deadline {
            return Err(EngineError::Cluster(format!(
                "process {me} waited {} s for process{} {} to connect; start every process with the same --processes, workers and ports (or host file)",
                timeout.as_secs(),
                if waiting.len() == 1 { "" } else { "es" },
                waiting.join(", ")
            )));
        }
        std::thread::sleep(RETRY);
    }
}

/// The first worker of every process (the ones that gather a run's results), among `peers`
/// workers run `per_process` to a process.
pub(crate) fn leaders(peers: usize, per_process: usize) -> Vec<u32> {
    (0..peers)
        .step_by(per_process.max(1))
        .map(|w| w as u32)
        .collect()
}
