//! The information elements a flow record is made of, by number: IANA's IPFIX registry
//! (RFC 7012) and NetFlow v9's field types (RFC 3954 §8), which agree on these numbers. Other
//! elements, and enterprise-specific ones (RFC 7011 §3.2), are skipped by their length.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::record::FlowRecord;
use crate::wire::unsigned;

/// octetDeltaCount (v9 IN_BYTES).
const OCTETS: u16 = 1;
/// packetDeltaCount (v9 IN_PKTS).
const PACKETS: u16 = 2;
/// protocolIdentifier.
const PROTOCOL: u16 = 4;
/// tcpControlBits.
const TCP_FLAGS: u16 = 6;
/// sourceTransportPort.
const SRC_PORT: u16 = 7;
/// sourceIPv4Address.
const SRC_V4: u16 = 8;
/// ingressInterface.
const INPUT: u16 = 10;
/// destinationTransportPort.
const DST_PORT: u16 = 11;
/// destinationIPv4Address.
const DST_V4: u16 = 12;
/// egressInterface.
const OUTPUT: u16 = 14;
/// flowEndSysUpTime (v9 LAST_SWITCHED), ms of the exporter's uptime.
const END_UPTIME: u16 = 21;
/// flowStartSysUpTime (v9 FIRST_SWITCHED).
const START_UPTIME: u16 = 22;
/// sourceIPv6Address.
const SRC_V6: u16 = 27;
/// destinationIPv6Address.
const DST_V6: u16 = 28;
/// flowStartSeconds, flowEndSeconds.
const START_S: u16 = 150;
const END_S: u16 = 151;
/// flowStartMilliseconds, flowEndMilliseconds.
const START_MS: u16 = 152;
const END_MS: u16 = 153;
/// flowStart/EndMicroseconds and flowStart/EndNanoseconds: NTP timestamps (RFC 7011 §6.1.10).
const START_US: u16 = 154;
const END_US: u16 = 155;
const START_NS: u16 = 156;
const END_NS: u16 = 157;
/// systemInitTimeMilliseconds: when the exporter's uptime was 0.
pub(crate) const SYSTEM_INIT_MS: u16 = 160;

/// Seconds from the NTP era (1900) to the Unix epoch.
const NTP_UNIX_S: i64 = 2_208_988_800;

/// A time as a record carries it.
#[derive(Clone, Copy)]
enum Time {
    /// Milliseconds since the Unix epoch.
    Unix(i64),
    /// Milliseconds of the exporter's uptime.
    Uptime(u32),
}

/// How uptime-relative times (elements 21 and 22) become Unix times.
#[derive(Clone, Copy)]
pub(crate) enum Clock {
    /// v9 (RFC 3954 §5.1): the header's export time and sysUptime at that moment.
    Header {
        /// The header's export time, ms since the epoch.
        export_ms: i64,
        /// The header's sysUptime, ms.
        uptime_ms: u32,
    },
    /// IPFIX (RFC 7012's flowStartSysUpTime): relative to systemInitTimeMilliseconds, taken
    /// from the record or the exporter's options data; the export time when unknown.
    Init {
        /// The message's export time, ms since the epoch.
        export_ms: i64,
        /// The exporter's systemInitTimeMilliseconds, if sent.
        init_ms: Option<i64>,
    },
}

impl Clock {
    fn export_ms(self) -> i64 {
        match self {
            Self::Header { export_ms, .. } | Self::Init { export_ms, .. } => export_ms,
        }
    }

    fn unix(self, time: Time, init_in_record: Option<i64>) -> i64 {
        match (time, self) {
            (Time::Unix(ms), _) => ms,
            (
                Time::Uptime(t),
                Self::Header {
                    export_ms,
                    uptime_ms,
                },
            ) => {
                // Signed: a flow may end just after the header's uptime; the uptime wraps
                // after 49.7 days.
                export_ms - i64::from(uptime_ms.wrapping_sub(t) as i32)
            }
            // As for v9, taken back from the uptime at export, signed: a time before the
            // init time (softflowd replaying a capture sends those) or after a wrap of the
            // 32-bit uptime lands next to the export time, not 49.7 days away.
            (Time::Uptime(t), Self::Init { export_ms, init_ms }) => {
                match init_in_record.or(init_ms) {
                    Some(init) => {
                        let uptime = (export_ms - init) as u32;
                        export_ms - i64::from(uptime.wrapping_sub(t) as i32)
                    }
                    None => export_ms,
                }
            }
        }
    }
}

/// The elements of one record read so far.
#[derive(Default)]
pub(crate) struct Fields {
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    src_port: u16,
    dst_port: u16,
    protocol: u8,
    packets: u64,
    octets: u64,
    tcp_flags: u16,
    input: Option<u32>,
    output: Option<u32>,
    start: Option<Time>,
    end: Option<Time>,
    init_ms: Option<i64>,
}

impl Fields {
    /// Takes element `id` (not enterprise-specific) with its value; an element this record
    /// does not use, or a value of a length the element cannot have, is ignored.
    pub(crate) fn set(&mut self, id: u16, v: &[u8]) {
        let n = unsigned(v);
        match id {
            OCTETS => self.octets = n.unwrap_or(0),
            PACKETS => self.packets = n.unwrap_or(0),
            PROTOCOL => self.protocol = n.unwrap_or(0) as u8,
            TCP_FLAGS => self.tcp_flags = n.unwrap_or(0) as u16,
            SRC_PORT => self.src_port = n.unwrap_or(0) as u16,
            DST_PORT => self.dst_port = n.unwrap_or(0) as u16,
            INPUT => self.input = n.map(|n| n as u32),
            OUTPUT => self.output = n.map(|n| n as u32),
            SRC_V4 | DST_V4 | SRC_V6 | DST_V6 => {
                let ip = match <[u8; 4]>::try_from(v) {
                    Ok(b) => Some(IpAddr::V4(Ipv4Addr::from(b))),
                    Err(_) => <[u8; 16]>::try_from(v)
                        .ok()
                        .map(|b| IpAddr::V6(Ipv6Addr::from(b))),
                };
                if matches!(id, SRC_V4 | SRC_V6) {
                    self.src = ip.or(self.src);
                } else {
                    self.dst = ip.or(self.dst);
                }
            }
            START_UPTIME => self.start = n.map(|t| Time::Uptime(t as u32)).or(self.start),
            END_UPTIME => self.end = n.map(|t| Time::Uptime(t as u32)).or(self.end),
            START_S | END_S => {
                let t = n.map(|s| Time::Unix(s as i64 * 1000));
                self.set_time(id == START_S, t);
            }
            START_MS | END_MS => {
                let t = n.map(|ms| Time::Unix(ms as i64));
                self.set_time(id == START_MS, t);
            }
            START_US | END_US | START_NS | END_NS => {
                let t = (v.len() == 8).then(|| Time::Unix(ntp_ms(n.unwrap_or(0))));
                self.set_time(matches!(id, START_US | START_NS), t);
            }
            SYSTEM_INIT_MS => self.init_ms = n.map(|ms| ms as i64),
            _ => {}
        }
    }

    /// An absolute time wins over an uptime-relative one, whatever their order.
    fn set_time(&mut self, start: bool, t: Option<Time>) {
        let slot = if start {
            &mut self.start
        } else {
            &mut self.end
        };
        if t.is_some() {
            *slot = t;
        }
    }

    /// The systemInitTimeMilliseconds this record carried.
    pub(crate) fn init_ms(&self) -> Option<i64> {
        self.init_ms
    }

    /// The record, its times made absolute by `clock`.
    pub(crate) fn finish(self, exporter: SocketAddr, domain: u32, clock: Clock) -> FlowRecord {
        let mut r = FlowRecord::empty(exporter, domain, clock.export_ms());
        let unix = |t: Time| clock.unix(t, self.init_ms);
        let start = self.start.map(unix);
        let end = self.end.map(unix);
        r.start_ms = start.or(end).unwrap_or(r.start_ms);
        r.end_ms = end.unwrap_or(r.start_ms);
        r.src = self.src.unwrap_or(r.src);
        r.dst = self.dst.unwrap_or(r.dst);
        r.src_port = self.src_port;
        r.dst_port = self.dst_port;
        r.protocol = self.protocol;
        r.packets = self.packets;
        r.octets = self.octets;
        r.tcp_flags = self.tcp_flags;
        r.input = self.input;
        r.output = self.output;
        r
    }
}

/// An NTP timestamp (seconds since 1900 in the high 32 bits, a binary fraction in the low)
/// as ms since the Unix epoch.
fn ntp_ms(ntp: u64) -> i64 {
    let s = (ntp >> 32) as i64 - NTP_UNIX_S;
    let frac_ms = ((ntp & 0xFFFF_FFFF) * 1000) >> 32;
    s * 1000 + frac_ms as i64
}
