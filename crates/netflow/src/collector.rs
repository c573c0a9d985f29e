//! The collector: a UDP socket with a large receive buffer and a [`Decoder`]. The caller's
//! thread pulls datagrams with [`Collector::receive`], so records come out one datagram's
//! worth at a time, bounded; while it is busy, datagrams wait in the kernel's buffer, and
//! what overflows it is counted as kernel drops.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use crate::{CollectorStats, Decoder, FlowRecord};

/// How long [`Collector::receive`] waits for a datagram before returning [`Received::Idle`].
pub const POLL: Duration = Duration::from_millis(100);
/// The receive buffer asked for by default (the kernel caps it at `net.core.rmem_max`).
pub const DEFAULT_RECV_BUFFER: usize = 32 << 20;
/// The largest UDP payload.
const MAX_DATAGRAM: usize = 65_535;

/// A socket that could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    /// Binding the socket (the address is taken, not local, …).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Receiving failed for another reason than a timeout.
    #[error("receiving on {addr}: {source}")]
    Receive {
        /// The socket's address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// What one call of [`Collector::receive`] got.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// A datagram from `from`; `records` were appended (`Err` when it was malformed: counted
    /// in the statistics, the records before the fault appended).
    Datagram {
        /// Its exporter.
        from: SocketAddr,
        /// Records appended.
        records: usize,
        /// Whether it decoded whole.
        result: Result<(), crate::DecodeError>,
    },
    /// Nothing came within [`POLL`].
    Idle,
}

/// A NetFlow v5 / v9 and IPFIX collector on one UDP socket.
pub struct Collector {
    socket: UdpSocket,
    addr: SocketAddr,
    recv_buffer: usize,
    decoder: Decoder,
    buf: Vec<u8>,
}

impl Collector {
    /// Listens on `addr`, asking the kernel for a receive buffer of `recv_buffer` bytes.
    pub fn bind(addr: SocketAddr, recv_buffer: usize) -> Result<Self, CollectorError> {
        let bind = |source| CollectorError::Bind { addr, source };
        let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
            .map_err(bind)?;
        // A smaller buffer than asked is not an error: the granted size is reported.
        let _ = socket.set_recv_buffer_size(recv_buffer);
        socket.bind(&addr.into()).map_err(bind)?;
        socket.set_read_timeout(Some(POLL)).map_err(bind)?;
        let granted = socket.recv_buffer_size().map_err(bind)?;
        let socket: UdpSocket = socket.into();
        let addr = socket.local_addr().map_err(bind)?;
        Ok(Self {
            socket,
            addr,
            recv_buffer: granted,
            decoder: Decoder::new(),
            buf: vec![0; MAX_DATAGRAM],
        })
    }

    /// The address it listens on (with the port the kernel chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits up to [`POLL`] for a datagram and decodes it, appending its records to `out`.
    /// A malformed datagram is no error here: it is counted and said in [`Received`].
    pub fn receive(&mut self, out: &mut Vec<FlowRecord>) -> Result<Received, CollectorError> {
        let (n, from) = match self.socket.recv_from(&mut self.buf) {
            Ok(got) => got,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                return Ok(Received::Idle)
            }
            Err(source) => {
                return Err(CollectorError::Receive {
                    addr: self.addr,
                    source,
                })
            }
        };
        let before = out.len();
        let result = self.decoder.decode(from, &self.buf[..n], out);
        Ok(Received::Datagram {
            from,
            records: out.len() - before,
            result,
        })
    }

    /// The statistics so far, with the socket's granted buffer and kernel drops read now.
    pub fn stats(&self) -> CollectorStats {
        let mut stats = self.decoder.stats().clone();
        stats.recv_buffer = Some(self.recv_buffer);
        stats.kernel_drops = kernel_drops(&self.socket, self.addr);
        stats
    }
}

/// The `drops` column of this socket's line in `/proc/net/udp` (or `udp6`), found by its
/// inode; `None` where there is no such file (not Linux) or no such line.
fn kernel_drops(socket: &UdpSocket, addr: SocketAddr) -> Option<u64> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(format!("/proc/self/fd/{}", socket.as_raw_fd()))
        .ok()?
        .ino();
    let table = if addr.is_ipv4() {
        "/proc/net/udp"
    } else {
        "/proc/net/udp6"
    };
    let text = std::fs::read_to_string(table).ok()?;
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    text.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols.get(9)?.parse::<u64>().ok()? == inode)
            .then(|| cols.get(12)?.parse().ok())
            .flatten()
    })
}
