//! Labelled flow records (Y.3181 sandbox ground truth for traffic classification and
//! intrusion detection): the user plane of the simulated network's cells as bidirectional
//! flows in a CICFlowMeter-like subset of columns, each with the class that made it.
//!
//! Every flow is a hash of (seed, flow number), so the same seed gives the same records.
//! Normal flows go from a cell's UEs to outside servers of unequal popularity. Attack flows
//! belong to campaigns (a few per attack class): one attacker against one UE within a window
//! (port scan, brute force), spoofed sources against one UE (SYN flood), or one compromised UE
//! uploading to a drop host or checking in with its command-and-control server every minute
//! (exfiltration, beaconing at a steady period). So hosts behave as hosts do, which per-host features can see.
//!
//! Normal traffic has look-alikes of beaconing: IoT telemetry comes from devices, each
//! reporting to one of a few IoT platforms at its own steady period (20 s to 5 min, a second
//! of jitter) for a session, so regular small flows to one outside host are not in
//! themselves an attack; what tells a bot apart is a destination that no other host uses.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use ai4ict_core::Timestamp;
use serde::{Deserialize, Serialize};

use crate::network::Network;
use crate::rng::{Key, Stream};
use crate::SandboxError;

/// What made a flow: six kinds of normal traffic and seven attacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowClass {
    /// Web browsing (HTTPS, some HTTP).
    Web,
    /// Video streaming (long, heavy downlink; TCP or QUIC).
    Video,
    /// DNS lookups.
    Dns,
    /// Voice over IP (SIP signalling and RTP media).
    Voip,
    /// IoT telemetry (MQTT over TLS, CoAP).
    Iot,
    /// Software update downloads.
    Update,
    /// Attack: one probe per port, mostly answered by a reset.
    PortScan,
    /// Attack: SYN flood (DDoS) from spoofed sources, handshakes never completed.
    SynFlood,
    /// Attack: password guessing on SSH.
    BruteForceSsh,
    /// Attack: password guessing on FTP.
    BruteForceFtp,
    /// Attack: password guessing on a web login form.
    BruteForceWeb,
    /// Attack: data exfiltration (large uploads to an outside host).
    Exfiltration,
    /// Attack: botnet command-and-control beaconing (small, regular).
    Beaconing,
}

impl FlowClass {
    /// Every class, normal traffic first.
    pub const ALL: [FlowClass; 13] = [
        FlowClass::Web,
        FlowClass::Video,
        FlowClass::Dns,
        FlowClass::Voip,
        FlowClass::Iot,
        FlowClass::Update,
        FlowClass::PortScan,
        FlowClass::SynFlood,
        FlowClass::BruteForceSsh,
        FlowClass::BruteForceFtp,
        FlowClass::BruteForceWeb,
        FlowClass::Exfiltration,
        FlowClass::Beaconing,
    ];

    /// The label written in files.
    pub fn name(self) -> &'static str {
        match self {
            FlowClass::Web => "web",
            FlowClass::Video => "video",
            FlowClass::Dns => "dns",
            FlowClass::Voip => "voip",
            FlowClass::Iot => "iot",
            FlowClass::Update => "update",
            FlowClass::PortScan => "port_scan",
            FlowClass::SynFlood => "syn_flood",
            FlowClass::BruteForceSsh => "brute_force_ssh",
            FlowClass::BruteForceFtp => "brute_force_ftp",
            FlowClass::BruteForceWeb => "brute_force_web",
            FlowClass::Exfiltration => "exfiltration",
            FlowClass::Beaconing => "beaconing",
        }
    }

    /// Whether the class is an attack.
    pub fn is_attack(self) -> bool {
        (self as usize) >= FlowClass::PortScan as usize
    }

    /// Share of normal traffic (or of attacks) each class takes.
    fn weight(self) -> f64 {
        match self {
            FlowClass::Web => 0.40,
            FlowClass::Video => 0.12,
            FlowClass::Dns => 0.25,
            FlowClass::Voip => 0.05,
            FlowClass::Iot => 0.12,
            FlowClass::Update => 0.06,
            FlowClass::PortScan => 0.25,
            FlowClass::SynFlood => 0.30,
            FlowClass::BruteForceSsh => 0.10,
            FlowClass::BruteForceFtp => 0.05,
            FlowClass::BruteForceWeb => 0.10,
            FlowClass::Exfiltration => 0.05,
            FlowClass::Beaconing => 0.15,
        }
    }
}

/// One bidirectional flow (forward = from the initiator), with its ground truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowRecord {
    /// First packet.
    pub start: Timestamp,
    /// The cell whose user plane carried it.
    pub cell: String,
    /// That cell's site.
    pub site: String,
    /// Initiator address.
    pub src_ip: String,
    /// Responder address.
    pub dst_ip: String,
    /// Initiator port.
    pub src_port: u16,
    /// Responder port.
    pub dst_port: u16,
    /// IP protocol number (6 TCP, 17 UDP).
    pub protocol: u8,
    /// First to last packet, milliseconds.
    pub duration_ms: f64,
    /// Packets initiator → responder.
    pub fwd_packets: u64,
    /// Packets responder → initiator.
    pub bwd_packets: u64,
    /// Bytes initiator → responder.
    pub fwd_bytes: u64,
    /// Bytes responder → initiator.
    pub bwd_bytes: u64,
    /// Packets with SYN set.
    pub syn_count: u32,
    /// Packets with ACK set.
    pub ack_count: u32,
    /// Packets with FIN set.
    pub fin_count: u32,
    /// Packets with RST set.
    pub rst_count: u32,
    /// Packets with PSH set.
    pub psh_count: u32,
    /// Ground truth.
    pub label: FlowClass,
}

/// The column names of [`write_flows_csv`], in order.
pub const FLOW_COLUMNS: [&str; 24] = [
    "start",
    "cell",
    "site",
    "src_ip",
    "dst_ip",
    "src_port",
    "dst_port",
    "protocol",
    "duration_ms",
    "fwd_packets",
    "bwd_packets",
    "fwd_bytes",
    "bwd_bytes",
    "fwd_pkt_len_mean",
    "bwd_pkt_len_mean",
    "flow_bytes_per_s",
    "flow_packets_per_s",
    "syn_count",
    "ack_count",
    "fin_count",
    "rst_count",
    "psh_count",
    "label",
    "attack",
];

/// How many flows to make and how many are attacks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlowConfig {
    /// Number of flows.
    pub flows: usize,
    /// Share of attack flows, 0 to 1.
    pub attack_share: f64,
    /// Random seed.
    pub seed: u64,
}

impl Default for FlowConfig {
    fn default() -> Self {
        Self {
            flows: 100_000,
            attack_share: 0.2,
            seed: 7,
        }
    }
}

/// A lognormal draw: `median × e^(spread × N(0,1))`.
fn lognormal(k: Key, i: u64, median: f64, spread: f64) -> f64 {
    median * (spread * k.normal(i)).exp()
}

fn count(k: Key, i: u64, median: f64, spread: f64, min: u64) -> u64 {
    (lognormal(k, i, median, spread).round() as u64).max(min)
}

impl Network {
    /// The flows of `config`, in start order, spread over the simulated period and the
    /// network's cells.
    pub fn flows(&self, config: &FlowConfig) -> Result<Vec<FlowRecord>, SandboxError> {
        if !(0.0..=1.0).contains(&config.attack_share) {
            return Err(SandboxError::InvalidConfig {
                field: "attack_share",
                message: format!("{} is not in [0, 1]", config.attack_share),
            });
        }
        let root = Key::new(config.seed, Stream::Flow);
        let span = self.steps() as f64 * self.interval().millis() as f64;
        let normal: Vec<f64> = FlowClass::ALL
            .iter()
            .map(|c| if c.is_attack() { 0.0 } else { c.weight() })
            .collect();
        let attack: Vec<f64> = FlowClass::ALL
            .iter()
            .map(|c| if c.is_attack() { c.weight() } else { 0.0 })
            .collect();
        let cells = self.cells();
        let campaign = |class: FlowClass, j: u64| {
            Campaign::new(
                root.at(CAMPAIGN_KEYS + 64 * class as u64 + j),
                class,
                self,
                span,
            )
        };
        let device = |j: u64| Device::new(j, root.at(DEVICE_KEYS + j), self);
        let mut beacons = vec![Vec::new(); CAMPAIGNS as usize];
        let mut reports = vec![Vec::new(); IOT_DEVICES as usize];
        let mut out: Vec<FlowRecord> = (0..config.flows as u64)
            .map(|i| {
                let k = root.at(i);
                let class = if k.uniform(0) < config.attack_share {
                    FlowClass::ALL[k.pick(1, &attack)]
                } else {
                    FlowClass::ALL[k.pick(1, &normal)]
                };
                let mut f = shape(class, k.at(1));
                if class.is_attack() {
                    let j = if class == FlowClass::Beaconing {
                        k.pick(9, &BEACON_SHARES) as u64
                    } else {
                        k.below(9, CAMPAIGNS)
                    };
                    campaign(class, j).place(&mut f, k, self);
                    if class == FlowClass::Beaconing {
                        beacons[j as usize].push(i as usize);
                    }
                } else if class == FlowClass::Iot {
                    let j = k.below(13, IOT_DEVICES);
                    device(j).place(&mut f, self);
                    reports[j as usize].push(i as usize);
                } else {
                    let cell = &cells[k.below(2, cells.len() as u64) as usize];
                    f.start = Timestamp(self.start().0 + (k.uniform(3) * span) as i64);
                    f.cell = cell.name.to_string();
                    f.site = self.sites()[cell.site].name.clone();
                    f.src_ip = ue_address(cell.site, k.below(4, 250));
                    // Server popularity is log-uniform: a few serve most flows.
                    let server = (SERVERS as f64).powf(k.uniform(5)) as u64 - 1;
                    f.dst_ip = outside_address(server);
                }
                f
            })
            .collect();
        let origin = self.start().0;
        // A bot checks in at a steady period (its campaign's length over its check-ins),
        // with a few seconds of jitter.
        for (j, flows) in beacons.iter().enumerate() {
            let c = campaign(FlowClass::Beaconing, j as u64);
            pace(&mut out, flows, (origin, c.start), c.length, |i| {
                root.at(i as u64).uniform(11) * 4_000.0
            });
        }
        // A device reports at its period for as long as its reports last, from a time its
        // session fits in, with up to a second of jitter.
        for (j, flows) in reports.iter().enumerate() {
            let d = device(j as u64);
            let length = (flows.len() as f64 * d.period).min(span);
            let begin = d.key.uniform(4) * (span - length);
            pace(&mut out, flows, (origin, begin), length, |i| {
                root.at(i as u64).uniform(14) * 1_000.0
            });
        }
        out.sort_by_key(|f| f.start);
        Ok(out)
    }
}

/// Spaces flows `ids` evenly over `length` ms from `begin` ms after `origin`, each
/// `jitter(id)` ms late.
fn pace(
    out: &mut [FlowRecord],
    ids: &[usize],
    (origin, begin): (i64, f64),
    length: f64,
    jitter: impl Fn(usize) -> f64,
) {
    let period = length / ids.len().max(1) as f64;
    for (n, &i) in ids.iter().enumerate() {
        out[i].start = Timestamp(origin + (begin + n as f64 * period + jitter(i)) as i64);
    }
}

/// Campaigns per attack class: every attack flow belongs to one, so an attacker (or a
/// compromised UE) is a host doing many such flows within the campaign's window.
const CAMPAIGNS: u64 = 6;
/// How beaconing's flows spread over its campaigns: the last two check in about ten times
/// less often than the others (every 10 to 20 minutes at the default volume instead of every
/// one or two), slower than a host's 5-minute window.
const BEACON_SHARES: [f64; CAMPAIGNS as usize] = [1.0, 1.0, 1.0, 1.0, 0.1, 0.1];
/// Where campaign keys start, far from the flow numbers.
const CAMPAIGN_KEYS: u64 = 1 << 48;
/// Outside servers that normal traffic goes to.
const SERVERS: u64 = 4096;

/// IoT devices whose reports make up the IoT class, and the platforms they report to (the
/// most popular outside servers).
const IOT_DEVICES: u64 = 64;
const IOT_PLATFORMS: u64 = 4;
/// Where device keys start, beside the campaigns'.
const DEVICE_KEYS: u64 = CAMPAIGN_KEYS + (1 << 40);

/// An IoT device (normal traffic): a UE reporting to its platform at a steady period.
struct Device {
    key: Key,
    cell: usize,
    ue: String,
    platform: String,
    /// Time between reports, ms: log-uniform from 20 s to 5 min.
    period: f64,
}

impl Device {
    fn new(j: u64, key: Key, net: &Network) -> Self {
        let cell = key.below(0, net.cells().len() as u64) as usize;
        Self {
            key,
            cell,
            // One address per device (the last hosts of a site).
            ue: ue_address(net.cells()[cell].site, 249 - j),
            platform: outside_address(key.below(2, IOT_PLATFORMS)),
            period: 20_000.0 * 15f64.powf(key.uniform(3)),
        }
    }

    /// Puts report `f` on the device: cell and addresses (its time is set once the device's
    /// reports are known).
    fn place(&self, f: &mut FlowRecord, net: &Network) {
        let cell = &net.cells()[self.cell];
        f.cell = cell.name.to_string();
        f.site = net.sites()[cell.site].name.clone();
        f.src_ip = self.ue.clone();
        f.dst_ip = self.platform.clone();
    }
}

/// A UE's address: `10.<site>.<host>`.
fn ue_address(site: usize, host: u64) -> String {
    format!(
        "10.{}.{}.{}",
        (site >> 8) & 0xff,
        site & 0xff,
        2 + host % 250
    )
}

/// Outside host `n`'s address (servers, attackers, spoofed sources).
fn outside_address(n: u64) -> String {
    let m = crate::rng::mix(n);
    format!(
        "{}.{}.{}.{}",
        [23, 34, 52, 104, 142, 151, 185][(m % 7) as usize],
        (m >> 8) & 0xff,
        (m >> 16) & 0xff,
        1 + (m >> 24) % 254
    )
}

/// One attack campaign: who attacks whom, from when and for how long.
struct Campaign {
    class: FlowClass,
    /// The victim's (or the compromised UE's) cell index.
    cell: usize,
    /// The victim (or compromised) UE.
    ue: String,
    /// The attacker, the exfiltration drop or the command-and-control server.
    outside: String,
    start: f64,
    length: f64,
}

impl Campaign {
    fn new(c: Key, class: FlowClass, net: &Network, span: f64) -> Self {
        let cell = c.below(0, net.cells().len() as u64) as usize;
        let minutes = match class {
            FlowClass::PortScan => 20.0,
            FlowClass::SynFlood => 15.0,
            FlowClass::Exfiltration => 180.0,
            FlowClass::Beaconing => 720.0,
            _ => 60.0,
        };
        let length = (minutes * 60_000.0f64).min(span);
        Self {
            class,
            cell,
            ue: ue_address(net.cells()[cell].site, c.below(1, 250)),
            outside: outside_address(SERVERS + c.bits(2) % (1 << 32)),
            start: c.uniform(3) * (span - length),
            length,
        }
    }

    /// Puts flow `f` (key `k`) in the campaign: cell, time and addresses.
    fn place(&self, f: &mut FlowRecord, k: Key, net: &Network) {
        let cell = &net.cells()[self.cell];
        f.cell = cell.name.to_string();
        f.site = net.sites()[cell.site].name.clone();
        // Beacons are spaced evenly once the campaign's check-ins are known (`flows`).
        f.start = Timestamp(net.start().0 + (self.start + k.uniform(10) * self.length) as i64);
        (f.src_ip, f.dst_ip) = match self.class {
            // Spoofed sources, one victim.
            FlowClass::SynFlood => (
                outside_address(SERVERS + (1 << 32) + k.bits(12) % (1 << 32)),
                self.ue.clone(),
            ),
            FlowClass::Exfiltration | FlowClass::Beaconing => {
                (self.ue.clone(), self.outside.clone())
            }
            _ => (self.outside.clone(), self.ue.clone()),
        };
    }
}

/// The class's traffic: ports, protocol, sizes, durations and flags.
fn shape(class: FlowClass, k: Key) -> FlowRecord {
    let eph = 32768 + k.below(0, 28000) as u16;
    let mut f = FlowRecord {
        start: Timestamp(0),
        cell: String::new(),
        site: String::new(),
        src_ip: String::new(),
        dst_ip: String::new(),
        src_port: eph,
        dst_port: 443,
        protocol: 6,
        duration_ms: 0.0,
        fwd_packets: 1,
        bwd_packets: 0,
        fwd_bytes: 0,
        bwd_bytes: 0,
        syn_count: 0,
        ack_count: 0,
        fin_count: 0,
        rst_count: 0,
        psh_count: 0,
        label: class,
    };
    // (duration median ms, spread, fwd pkts, bwd pkts, fwd bytes/pkt, bwd bytes/pkt)
    let (dur, ds, fp, bp, fb, bb) = match class {
        FlowClass::Web => (1800.0, 1.3, 12.0, 18.0, 110.0, 1100.0),
        FlowClass::Video => (90_000.0, 0.9, 900.0, 4500.0, 70.0, 1350.0),
        FlowClass::Dns => (25.0, 0.8, 1.0, 1.0, 70.0, 160.0),
        FlowClass::Voip => (150_000.0, 0.8, 6000.0, 6000.0, 200.0, 200.0),
        FlowClass::Iot => (400.0, 0.9, 5.0, 4.0, 120.0, 90.0),
        FlowClass::Update => (40_000.0, 1.0, 1500.0, 9000.0, 66.0, 1400.0),
        FlowClass::PortScan => (2.0, 1.0, 1.0, 1.0, 58.0, 54.0),
        FlowClass::SynFlood => (3000.0, 1.0, 2.0, 2.0, 60.0, 58.0),
        FlowClass::BruteForceSsh => (2500.0, 0.6, 16.0, 18.0, 140.0, 180.0),
        FlowClass::BruteForceFtp => (900.0, 0.6, 9.0, 11.0, 70.0, 90.0),
        FlowClass::BruteForceWeb => (700.0, 0.8, 9.0, 8.0, 240.0, 420.0),
        FlowClass::Exfiltration => (30_000.0, 1.0, 9000.0, 1500.0, 1380.0, 66.0),
        FlowClass::Beaconing => (350.0, 0.7, 6.0, 5.0, 150.0, 260.0),
    };
    f.duration_ms = lognormal(k, 1, dur, ds);
    f.fwd_packets = count(k, 2, fp, 0.7, 1);
    f.bwd_packets = count(k, 3, bp, 0.7, 0);
    f.fwd_bytes = (f.fwd_packets as f64 * lognormal(k, 4, fb, 0.25)) as u64;
    f.bwd_bytes = (f.bwd_packets as f64 * lognormal(k, 5, bb, 0.25)) as u64;
    let tcp_session = |f: &mut FlowRecord| {
        f.syn_count = 2;
        f.ack_count = (f.fwd_packets + f.bwd_packets).saturating_sub(1) as u32;
        f.fin_count = 1 + k.below(6, 2) as u32;
        f.psh_count = ((f.fwd_packets + f.bwd_packets) / 3) as u32;
    };
    match class {
        FlowClass::Web => {
            f.dst_port = if k.uniform(7) < 0.2 { 80 } else { 443 };
            tcp_session(&mut f);
        }
        FlowClass::Video => {
            // A third over QUIC.
            if k.uniform(7) < 0.35 {
                f.protocol = 17;
            } else {
                tcp_session(&mut f);
            }
        }
        FlowClass::Dns => {
            f.protocol = 17;
            f.dst_port = 53;
            f.bwd_packets = f.bwd_packets.clamp(1, 2);
            f.fwd_packets = f.fwd_packets.min(2);
            f.fwd_bytes = f.fwd_packets * (40 + k.below(8, 60));
            f.bwd_bytes = f.bwd_packets * (60 + k.below(9, 300));
        }
        FlowClass::Voip => {
            f.protocol = 17;
            f.dst_port = if k.uniform(7) < 0.1 {
                5060
            } else {
                10000 + k.below(8, 10000) as u16
            };
            f.src_port = 10000 + k.below(9, 10000) as u16;
            // 50 packets a second each way.
            let p = (f.duration_ms / 20.0).max(1.0) as u64;
            f.fwd_packets = p;
            f.bwd_packets = p.saturating_sub(k.below(10, 20));
            f.fwd_bytes = f.fwd_packets * 214;
            f.bwd_bytes = f.bwd_packets * 214;
        }
        FlowClass::Iot => {
            if k.uniform(7) < 0.5 {
                f.dst_port = 8883;
                tcp_session(&mut f);
            } else {
                f.protocol = 17;
                f.dst_port = 5683;
            }
        }
        FlowClass::Update => {
            f.dst_port = if k.uniform(7) < 0.4 { 80 } else { 443 };
            tcp_session(&mut f);
        }
        FlowClass::PortScan => {
            f.dst_port = 1 + k.below(7, 65535) as u16;
            f.fwd_packets = 1 + k.below(8, 2);
            f.syn_count = f.fwd_packets as u32;
            f.bwd_packets = if k.uniform(9) < 0.85 { 1 } else { 0 };
            f.rst_count = f.bwd_packets as u32;
            f.ack_count = f.bwd_packets as u32;
            f.fwd_bytes = f.fwd_packets * 58;
            f.bwd_bytes = f.bwd_packets * 54;
        }
        FlowClass::SynFlood => {
            f.dst_port = if k.uniform(7) < 0.5 { 80 } else { 443 };
            f.fwd_packets = 1 + k.below(8, 3);
            f.syn_count = f.fwd_packets as u32 + f.bwd_packets as u32;
            f.ack_count = f.bwd_packets as u32;
            f.fwd_bytes = f.fwd_packets * 60;
        }
        FlowClass::BruteForceSsh => {
            f.dst_port = 22;
            tcp_session(&mut f);
        }
        FlowClass::BruteForceFtp => {
            f.dst_port = 21;
            tcp_session(&mut f);
        }
        FlowClass::BruteForceWeb => {
            f.dst_port = if k.uniform(7) < 0.3 { 80 } else { 443 };
            tcp_session(&mut f);
        }
        FlowClass::Exfiltration => {
            f.dst_port = [443, 443, 22, 8443][k.below(7, 4) as usize];
            tcp_session(&mut f);
        }
        FlowClass::Beaconing => {
            f.dst_port = [443, 8080, 8443, 80][k.below(7, 4) as usize];
            tcp_session(&mut f);
        }
    }
    f
}

/// Writes flows as CSV with the header [`FLOW_COLUMNS`] (per-packet means and rates
/// derived from the counts; `attack` is 1 for attack classes).
pub fn write_flows_csv(path: &Path, flows: &[FlowRecord]) -> Result<(), SandboxError> {
    let io = |source| SandboxError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::create(path).map_err(io)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    writeln!(w, "{}", FLOW_COLUMNS.join(",")).map_err(io)?;
    let mean = |b: u64, p: u64| if p == 0 { 0.0 } else { b as f64 / p as f64 };
    for f in flows {
        let secs = (f.duration_ms / 1000.0).max(1e-6);
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{:.3},{},{},{},{},{:.2},{:.2},{:.2},{:.2},{},{},{},{},{},{},{}",
            f.start,
            f.cell,
            f.site,
            f.src_ip,
            f.dst_ip,
            f.src_port,
            f.dst_port,
            f.protocol,
            f.duration_ms,
            f.fwd_packets,
            f.bwd_packets,
            f.fwd_bytes,
            f.bwd_bytes,
            mean(f.fwd_bytes, f.fwd_packets),
            mean(f.bwd_bytes, f.bwd_packets),
            (f.fwd_bytes + f.bwd_bytes) as f64 / secs,
            (f.fwd_packets + f.bwd_packets) as f64 / secs,
            f.syn_count,
            f.ack_count,
            f.fin_count,
            f.rst_count,
            f.psh_count,
            f.label.name(),
            u8::from(f.label.is_attack()),
        )
        .map_err(io)?;
    }
    w.flush().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScenarioConfig;

    fn net() -> Network {
        Network::new(&ScenarioConfig {
            cells: 12,
            days: 2,
            ..ScenarioConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn flows_are_deterministic_labelled_and_tied_to_cells() {
        let n = net();
        let c = FlowConfig {
            flows: 20_000,
            attack_share: 0.2,
            seed: 3,
        };
        let a = n.flows(&c).unwrap();
        assert_eq!(a, n.flows(&c).unwrap());
        assert_ne!(
            a,
            n.flows(&FlowConfig {
                seed: 4,
                ..c.clone()
            })
            .unwrap()
        );
        assert_eq!(a.len(), 20_000);
        let attacks = a.iter().filter(|f| f.label.is_attack()).count() as f64 / 20_000.0;
        assert!((attacks - 0.2).abs() < 0.02, "{attacks}");
        for class in FlowClass::ALL {
            assert!(a.iter().any(|f| f.label == class), "{class:?} missing");
        }
        assert!(a.windows(2).all(|w| w[0].start <= w[1].start));
        for f in &a {
            let cell = n.cell_index(&f.cell).expect("a cell of the network");
            assert_eq!(f.site, n.sites()[n.cells()[cell].site].name);
            assert!(f.fwd_packets >= 1 && f.duration_ms.is_finite());
        }
        // Each class has the signature its attack or service gives it.
        let of = |c| a.iter().filter(move |f| f.label == c);
        assert!(of(FlowClass::Dns).all(|f| f.dst_port == 53 && f.protocol == 17));
        assert!(of(FlowClass::BruteForceSsh).all(|f| f.dst_port == 22));
        assert!(of(FlowClass::SynFlood).all(|f| f.syn_count >= 1 && f.fin_count == 0));
        // Attacks come in campaigns: a few attackers, a few victims.
        let distinct = |c, side: fn(&FlowRecord) -> &str| {
            of(c)
                .map(side)
                .collect::<std::collections::HashSet<_>>()
                .len() as u64
        };
        assert!(distinct(FlowClass::PortScan, |f| &f.src_ip) <= CAMPAIGNS);
        assert!(distinct(FlowClass::SynFlood, |f| &f.dst_ip) <= CAMPAIGNS);
        assert!(distinct(FlowClass::SynFlood, |f| &f.src_ip) > 100);
        assert!(distinct(FlowClass::Beaconing, |f| &f.dst_ip) <= CAMPAIGNS);
        let up: u64 = of(FlowClass::Exfiltration).map(|f| f.fwd_bytes).sum();
        let down: u64 = of(FlowClass::Exfiltration).map(|f| f.bwd_bytes).sum();
        assert!(up > 10 * down);
        // IoT devices report to a few platforms, each at its steady period (20 s to 5 min,
        // a second of jitter): beaconing's look-alikes.
        assert!(distinct(FlowClass::Iot, |f| &f.dst_ip) <= IOT_PLATFORMS);
        let mut devices: std::collections::HashMap<&str, Vec<i64>> = Default::default();
        for f in of(FlowClass::Iot) {
            devices.entry(&f.src_ip).or_default().push(f.start.0);
        }
        assert!(devices.len() as u64 <= IOT_DEVICES && devices.len() > 32);
        for times in devices.values().filter(|t| t.len() > 2) {
            let gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
            let (lo, hi) = (gaps.iter().min().unwrap(), gaps.iter().max().unwrap());
            assert!(
                *lo >= 19_000 && *hi <= 301_000 && hi - lo <= 2_000,
                "{gaps:?}"
            );
        }
    }

    #[test]
    fn csv_has_the_header_and_a_row_per_flow() {
        let n = net();
        let flows = n
            .flows(&FlowConfig {
                flows: 50,
                ..FlowConfig::default()
            })
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("flows.csv");
        write_flows_csv(&p, &flows).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), FLOW_COLUMNS.join(","));
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), 50);
        assert!(rows
            .iter()
            .all(|r| r.split(',').count() == FLOW_COLUMNS.len()));
        assert!(n
            .flows(&FlowConfig {
                attack_share: 1.5,
                ..FlowConfig::default()
            })
            .is_err());
    }
}
