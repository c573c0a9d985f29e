//! Per-host features over sliding windows of flows, with bounded state (issue 15 item 2).

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use foldhash::quality::RandomState;
use std::net::IpAddr;

use ai4ict_core::Timestamp;

use crate::distinct::{mix, Distinct};
use crate::{FlowObs, IntrusionError};

/// The features of a host window, in the order of [`HostWindow::features`].
pub const FEATURES: [&str; 14] = [
    "flows_out",
    "fan_out",
    "flows_per_peer",
    "dst_ports",
    "failed_out",
    "bytes_per_packet_out",
    "up_down_ratio",
    "interarrival_mean_s",
    "interarrival_cv",
    "flows_in",
    "fan_in",
    "failed_in",
    "peer_run",
    "peer_interarrival_cv",
];

/// Peers whose runs a host keeps at once (see [`PeerRun`]).
const PEER_SLOTS: usize = 4;
/// Hosts that start flows to a destination before its regular check-ins are a service's
/// (IoT telemetry to its platform, an app's keep-alive), not a bot's: a command-and-control
/// server has one client on the network, its bot.
const COMMON_PEER: f64 = 3.0;
/// Hops a destination is remembered without a flow (an hour at the default hop).
const PEER_MEMORY_HOPS: i64 = 60;
/// A peer run goes on across gaps of up to this (or the window's span, if longer): a bot
/// that checks in every 10 or 20 minutes makes a run too. A host idle for longer than the
/// window keeps only its runs until then (`resting`).
const RUN_GAP_MS: i64 = 30 * 60_000;

/// How the windows slide and how many hosts they may follow.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowConfig {
    /// Hop: a host's features are emitted at most once per hop, at its end, in ms.
    pub hop_ms: i64,
    /// Hops per window: the features cover the last `hops` hops.
    pub hops: usize,
    /// Hosts followed at most; flows of further hosts are counted and not followed, so a
    /// flood of spoofed sources cannot grow the state without bound.
    pub max_hosts: usize,
}

impl Default for WindowConfig {
    fn default() -> Self {
        Self {
            hop_ms: 60_000,
            hops: 5,
            max_hosts: 200_000,
        }
    }
}

/// One host's features over the window ending at `end`.
#[derive(Clone, Debug, PartialEq)]
pub struct HostWindow {
    /// The host.
    pub host: IpAddr,
    /// End of the window (exclusive).
    pub end: Timestamp,
    /// Values of [`FEATURES`]; NaN where undefined (a ratio without flows).
    pub features: [f64; FEATURES.len()],
}

/// What the windows have seen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WindowStats {
    /// Flows counted.
    pub flows: u64,
    /// Flows older than the current window, not counted.
    pub late: u64,
    /// Host sides not followed because `max_hosts` were followed already.
    pub hosts_refused: u64,
    /// Host windows emitted.
    pub windows: u64,
}

/// One hop of one host.
#[derive(Clone, Copy, Debug, Default)]
struct Hop {
    epoch: i64,
    flows_out: u32,
    failed_out: u32,
    packets_out: u64,
    bytes_out: u64,
    bytes_back: u64,
    dsts: Distinct,
    ports: Distinct,
    gaps: u32,
    gap_sum: f64,
    gap_squares: f64,
    flows_in: u32,
    failed_in: u32,
    srcs: Distinct,
}

/// A run of outgoing flows from a host to one peer, each within `RUN_GAP_MS` (or the window's
/// span) of the one before: the repetition of brute force (many sessions to one login service) and beaconing
/// (one check-in a period), whatever the window. Gaps by Welford's method over the run.
#[derive(Clone, Copy, Debug, Default)]
struct PeerRun {
    /// The peer's address as a key; the slot is empty while `flows` is 0.
    peer: u64,
    /// Start of the run's latest flow, ms.
    last: i64,
    flows: u32,
    gaps: u32,
    gap_mean: f64,
    gap_m2: f64,
}

impl PeerRun {
    fn start(peer: u64, t: i64) -> Self {
        Self {
            peer,
            last: t,
            flows: 1,
            ..Self::default()
        }
    }

    /// Counts a flow to the run's peer at `t`: a new run when it starts more than `span_ms` (the
    /// longest gap of a run) after the last; no gap when it starts before the last (out of
    /// order).
    fn push(&mut self, t: i64, span_ms: i64) {
        let gap = t - self.last;
        if gap > span_ms {
            *self = Self::start(self.peer, t);
            return;
        }
        self.flows = self.flows.saturating_add(1);
        if gap >= 0 {
            let g = gap as f64 / 1000.0;
            self.gaps += 1;
            let d = g - self.gap_mean;
            self.gap_mean += d / f64::from(self.gaps);
            self.gap_m2 += d * (g - self.gap_mean);
            self.last = t;
        }
    }

    /// Coefficient of variation of the run's gaps: low for a periodic check-in. NaN under
    /// three gaps or when they are all 0.
    fn gap_cv(&self) -> f64 {
        if self.gaps < 3 {
            return f64::NAN;
        }
        ratio((self.gap_m2 / f64::from(self.gaps)).sqrt(), self.gap_mean)
    }
}

/// Who starts flows to a destination: its distinct initiators since it was last idle for
/// `PEER_MEMORY_HOPS`.
#[derive(Clone, Copy, Debug, Default)]
struct Destination {
    initiators: Distinct,
    /// Latest hop with a flow to it.
    latest: i64,
}

struct Host {
    ip: IpAddr,
    /// Runs to the host's latest peers.
    peers: [PeerRun; PEER_SLOTS],
    /// Start of the host's latest outgoing flow, ms.
    last_out: Option<i64>,
    /// Latest hop with activity.
    latest: i64,
}

/// Sliding windows over a stream of flows in (roughly) time order: each flow counts for its
/// initiator (outgoing side) and its responder (incoming side). When a hop ends, every host
/// active in it gets a [`HostWindow`] over the last `hops` hops. State: one ring of `hops`
/// hop summaries (about 170 bytes each) and runs to four peers (40 bytes each) per host
/// active within the window, the runs of idle hosts to rare destinations (160 bytes a
/// host) while they may go on, and 40 bytes per destination used in the last hour (each at
/// most `max_hosts`): the peer run reported is the longest to a destination fewer than
/// `COMMON_PEER` hosts use.
pub struct HostWindows {
    config: WindowConfig,
    /// Each followed host's slot in `slots`, whose hop ring is `hops[slot * config.hops..]`:
    /// one table and no allocation per host, where hosts come and go every few minutes.
    hosts: HashMap<IpAddr, u32, RandomState>,
    slots: Vec<Host>,
    hops: Vec<Hop>,
    /// Slots of forgotten hosts, to reuse. Their rings hold only hops older than any window
    /// to come (a host is forgotten once its latest hop has left the window), which a window
    /// skips and a flow resets, so they need no clearing.
    free: Vec<u32>,
    /// The peer runs of hosts idle for longer than the window, while a run may go on.
    resting: HashMap<IpAddr, [PeerRun; PEER_SLOTS], RandomState>,
    destinations: HashMap<u64, Destination, RandomState>,
    /// When each table is next swept: `hosts`, `resting`, `destinations`.
    sweeps: [Sweep; 3],
    /// The open hop, `None` before the first flow.
    epoch: Option<i64>,
    /// Slots of the hosts active in the open hop.
    touched: Vec<u32>,
    stats: WindowStats,
}

fn key(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(a) => u64::from(u32::from(a)),
        IpAddr::V6(a) => {
            let x = u128::from(a);
            (x as u64) ^ mix((x >> 64) as u64)
        }
    }
}

impl HostWindows {
    /// Windows of `config`.
    pub fn new(config: WindowConfig) -> Result<Self, IntrusionError> {
        if config.hop_ms <= 0 {
            return Err(IntrusionError::Config {
                field: "hop",
                problem: format!("must be positive, got {} ms", config.hop_ms),
            });
        }
        if !(1..=1440).contains(&config.hops) {
            return Err(IntrusionError::Config {
                field: "hops",
                problem: format!("must be in 1..=1440, got {}", config.hops),
            });
        }
        Ok(Self {
            config,
            hosts: HashMap::default(),
            slots: Vec::new(),
            hops: Vec::new(),
            free: Vec::new(),
            resting: HashMap::default(),
            destinations: HashMap::default(),
            sweeps: Default::default(),
            epoch: None,
            touched: Vec::new(),
            stats: WindowStats::default(),
        })
    }

    /// Counts `flow`; the windows of hops it closes go to `out`.
    pub fn push(&mut self, flow: &FlowObs, out: &mut Vec<HostWindow>) {
        let e = flow.start.0.div_euclid(self.config.hop_ms);
        let open = *self.epoch.get_or_insert(e);
        if e > open {
            self.close(out);
            self.sweep(e);
            self.epoch = Some(e);
        } else if e <= open - self.config.hops as i64 {
            self.stats.late += 1;
            return;
        }
        let open = self.epoch.unwrap_or(e);
        self.stats.flows += 1;
        let dst_key = key(flow.dst);
        let port_key = (u64::from(flow.protocol) << 16) | u64::from(flow.dst_port);
        let run_gap = self.run_gap();
        let src_key = key(flow.src);
        self.note_destination(dst_key, src_key, e, open);
        if let Some((h, hop)) = self.host(flow.src, e, open) {
            follow_peer(&mut h.peers, dst_key, flow.start.0, run_gap);
            let gap = h.last_out.map(|t| (flow.start.0 - t) as f64 / 1000.0);
            h.last_out = Some(h.last_out.map_or(flow.start.0, |t| t.max(flow.start.0)));
            hop.flows_out += 1;
            hop.failed_out += u32::from(flow.failed);
            hop.packets_out += flow.packets;
            hop.bytes_out += flow.bytes;
            hop.bytes_back += flow.reverse_bytes;
            hop.dsts.insert(mix(dst_key));
            hop.ports.insert(mix(port_key ^ 0x5eed));
            if let Some(g) = gap.filter(|g| *g >= 0.0) {
                hop.gaps += 1;
                hop.gap_sum += g;
                hop.gap_squares += g * g;
            }
        }
        if let Some((_, hop)) = self.host(flow.dst, e, open) {
            hop.flows_in += 1;
            hop.failed_in += u32::from(flow.failed);
            hop.srcs.insert(mix(src_key));
        }
    }

    /// Closes the open hop (call at the end of the stream).
    pub fn finish(&mut self, out: &mut Vec<HostWindow>) {
        self.close(out);
        self.epoch = None;
    }

    /// What the windows have seen so far.
    pub fn stats(&self) -> &WindowStats {
        &self.stats
    }

    /// Hosts followed now.
    pub fn hosts(&self) -> usize {
        self.hosts.len()
    }

    /// Bytes of state held now (hash tables included).
    pub fn state_bytes(&self) -> usize {
        self.hosts.capacity() * (std::mem::size_of::<(IpAddr, u32)>() + 1)
            + self.slots.capacity() * std::mem::size_of::<Host>()
            + self.hops.capacity() * std::mem::size_of::<Hop>()
            + self.free.capacity() * std::mem::size_of::<u32>()
            + self.resting.capacity() * (std::mem::size_of::<(IpAddr, [PeerRun; PEER_SLOTS])>() + 1)
            + self.destinations.capacity() * (std::mem::size_of::<(u64, Destination)>() + 1)
            + self.touched.capacity() * std::mem::size_of::<u32>()
    }

    /// The longest gap within a peer run, ms: `RUN_GAP_MS`, or the window's span if longer.
    fn run_gap(&self) -> i64 {
        (self.config.hop_ms * self.config.hops as i64).max(RUN_GAP_MS)
    }

    /// Counts `initiator` among `destination`'s in hop `e` (`open` the open hop), afresh if
    /// it was forgotten, unless `max_hosts` destinations are followed and it is a new one
    /// (then it stays rare).
    fn note_destination(&mut self, destination: u64, initiator: u64, e: i64, open: i64) {
        let full = self.destinations.len() >= self.config.max_hosts;
        let d = match self.destinations.get_mut(&destination) {
            Some(d) => {
                if forgotten(d, open) {
                    *d = Destination::default();
                }
                d
            }
            None if full => return,
            None => self.destinations.entry(destination).or_default(),
        };
        d.initiators.insert(mix(initiator));
        d.latest = d.latest.max(e);
    }

    /// The host and its hop `e`, reset if it last held an older hop; `None` when the host is
    /// new and `max_hosts` are followed.
    fn host(&mut self, ip: IpAddr, e: i64, open: i64) -> Option<(&mut Host, &mut Hop)> {
        let hops = self.config.hops;
        let full = self.hosts.len() >= self.config.max_hosts;
        let slot = match self.hosts.entry(ip) {
            Entry::Occupied(o) => *o.get(),
            Entry::Vacant(_) if full => {
                self.stats.hosts_refused += 1;
                return None;
            }
            Entry::Vacant(v) => {
                let host = Host {
                    ip,
                    peers: self
                        .resting
                        .remove(&ip)
                        .unwrap_or([PeerRun::default(); PEER_SLOTS]),
                    last_out: None,
                    latest: i64::MIN,
                };
                let slot = match self.free.pop() {
                    Some(slot) => {
                        self.slots[slot as usize] = host;
                        slot
                    }
                    None => {
                        self.slots.push(host);
                        self.hops.extend(std::iter::repeat_n(Hop::default(), hops));
                        (self.slots.len() - 1) as u32
                    }
                };
                *v.insert(slot)
            }
        };
        let h = &mut self.slots[slot as usize];
        if h.latest < open && e == open {
            self.touched.push(slot);
        }
        h.latest = h.latest.max(e);
        let hop = &mut self.hops[slot as usize * hops + e.rem_euclid(hops as i64) as usize];
        if hop.epoch != e {
            *hop = Hop {
                epoch: e,
                ..Hop::default()
            };
        }
        Some((h, hop))
    }

    fn close(&mut self, out: &mut Vec<HostWindow>) {
        let Some(open) = self.epoch else { return };
        let first = open - self.config.hops as i64 + 1;
        let end = Timestamp((open + 1) * self.config.hop_ms);
        let since = first * self.config.hop_ms;
        let hops = self.config.hops;
        for slot in self.touched.drain(..) {
            let h = &self.slots[slot as usize];
            let ring = &self.hops[slot as usize * hops..][..hops];
            let mut sum = Hop::default();
            for hop in ring.iter().filter(|h| (first..=open).contains(&h.epoch)) {
                sum.flows_out += hop.flows_out;
                sum.failed_out += hop.failed_out;
                sum.packets_out += hop.packets_out;
                sum.bytes_out += hop.bytes_out;
                sum.bytes_back += hop.bytes_back;
                sum.dsts.merge(&hop.dsts);
                sum.ports.merge(&hop.ports);
                sum.gaps += hop.gaps;
                sum.gap_sum += hop.gap_sum;
                sum.gap_squares += hop.gap_squares;
                sum.flows_in += hop.flows_in;
                sum.failed_in += hop.failed_in;
                sum.srcs.merge(&hop.srcs);
            }
            let run = longest_rare_run(&h.peers, since, &self.destinations, open);
            out.push(HostWindow {
                host: h.ip,
                end,
                features: features(&sum, run),
            });
            self.stats.windows += 1;
        }
    }

    /// Takes out of the tables, when they are due (see [`Sweep`]), the hosts with no activity
    /// in the window that starts at hop `e` (keeping aside the runs of those with a run to a
    /// rare destination that may go on), those runs once none may, and destinations
    /// forgotten. A destination past its memory counts as forgotten whether or not it has
    /// been swept; a host swept loses the time of its last outgoing flow (its first gap back
    /// is not counted) and any run not kept aside, as it did when the sweep ran every hop.
    fn sweep(&mut self, e: i64) {
        let oldest = e - self.config.hops as i64 + 1;
        let since = e * self.config.hop_ms - self.run_gap();
        let max = self.config.max_hosts;
        // Only runs to a rare destination are ever reported, so only they are kept.
        let destinations = &self.destinations;
        let live = |peers: &[PeerRun; PEER_SLOTS]| {
            peers
                .iter()
                .any(|r| r.flows > 0 && r.last >= since && rare(destinations, r.peer, e))
        };
        let [hosts, resting, dests] = &mut self.sweeps;
        if hosts.due(self.hosts.len(), max) {
            let (slots, free, kept) = (&self.slots, &mut self.free, &mut self.resting);
            self.hosts.retain(|ip, &mut slot| {
                let h = &slots[slot as usize];
                if h.latest >= oldest {
                    return true;
                }
                if live(&h.peers) && kept.len() < max {
                    kept.insert(*ip, h.peers);
                }
                free.push(slot);
                false
            });
            hosts.swept(self.hosts.len());
        }
        if resting.due(self.resting.len(), max) {
            self.resting.retain(|_, peers| live(peers));
            resting.swept(self.resting.len());
        }
        if dests.due(self.destinations.len(), max) {
            self.destinations.retain(|_, d| !forgotten(d, e));
            dests.swept(self.destinations.len());
        }
    }
}

/// When a table is next swept: once it has doubled since its last sweep (and holds at least
/// 1,024 entries), or holds `max_hosts`; so sweeping costs a constant per entry added, not a
/// pass over the table every hop.
#[derive(Clone, Copy, Debug, Default)]
struct Sweep(usize);

impl Sweep {
    fn due(self, len: usize, max: usize) -> bool {
        len >= self.0.max(1024).min(max)
    }

    fn swept(&mut self, len: usize) {
        self.0 = 2 * len;
    }
}

/// Whether `d`, as of hop `now`, has had no flow for `PEER_MEMORY_HOPS`.
fn forgotten(d: &Destination, now: i64) -> bool {
    d.latest < now - PEER_MEMORY_HOPS
}

/// The run with a flow since `since` ms to a destination few hosts use (as of hop `now`)
/// with the most flows, the latest of equals; looking up only as many destinations as it
/// takes.
fn longest_rare_run<'a>(
    peers: &'a [PeerRun; PEER_SLOTS],
    since: i64,
    destinations: &HashMap<u64, Destination, RandomState>,
    now: i64,
) -> Option<&'a PeerRun> {
    let mut runs: [&PeerRun; PEER_SLOTS] = std::array::from_fn(|i| &peers[i]);
    runs.sort_unstable_by_key(|r| std::cmp::Reverse((r.flows, r.last, r.peer)));
    runs.into_iter()
        .filter(|r| r.flows > 0 && r.last >= since)
        .find(|r| rare(destinations, r.peer, now))
}

/// Whether fewer than `COMMON_PEER` hosts start flows to `destination`, as of hop `now`.
fn rare(destinations: &HashMap<u64, Destination, RandomState>, destination: u64, now: i64) -> bool {
    destinations
        .get(&destination)
        .is_none_or(|d| forgotten(d, now) || d.initiators.estimate() < COMMON_PEER)
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

/// Counts a flow to `peer` at `t` in its run, or starts one in the slot of an expired run,
/// else of the shortest: a long run outlasts the host's one-off peers.
fn follow_peer(peers: &mut [PeerRun; PEER_SLOTS], peer: u64, t: i64, span_ms: i64) {
    if let Some(r) = peers.iter_mut().find(|r| r.flows > 0 && r.peer == peer) {
        r.push(t, span_ms);
        return;
    }
    let slot = peers
        .iter_mut()
        .min_by_key(|r| (r.flows > 0 && t - r.last <= span_ms, r.flows, r.last));
    if let Some(r) = slot {
        *r = PeerRun::start(peer, t);
    }
}

fn features(s: &Hop, run: Option<&PeerRun>) -> [f64; FEATURES.len()] {
    let out = f64::from(s.flows_out);
    let n = f64::from(s.gaps);
    let mean = ratio(s.gap_sum, n);
    let var = (ratio(s.gap_squares, n) - mean * mean).max(0.0);
    [
        out,
        if s.flows_out > 0 {
            s.dsts.estimate()
        } else {
            0.0
        },
        ratio(out, s.dsts.estimate().max(1.0)),
        if s.flows_out > 0 {
            s.ports.estimate()
        } else {
            0.0
        },
        f64::from(s.failed_out),
        ratio(s.bytes_out as f64, s.packets_out as f64),
        ratio(s.bytes_out as f64, s.bytes_back as f64 + 1.0).min(1e9),
        mean,
        if s.gaps >= 3 {
            ratio(var.sqrt(), mean)
        } else {
            f64::NAN
        },
        f64::from(s.flows_in),
        if s.flows_in > 0 {
            s.srcs.estimate()
        } else {
            0.0
        },
        f64::from(s.failed_in),
        run.map_or(0.0, |r| f64::from(r.flows)),
        run.map_or(f64::NAN, PeerRun::gap_cv),
    ]
}
