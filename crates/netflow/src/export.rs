//! An exporter: writes flow records as NetFlow v5, v9 or IPFIX export packets with correct
//! sequence numbers and templates (sent in the first packet and refreshed every
//! [`TEMPLATE_EVERY`] packets). The bench's exporter and the tests' source of valid packets.

use std::net::IpAddr;

use crate::record::FlowRecord;

/// Packets between two sendings of the templates.
pub const TEMPLATE_EVERY: u32 = 64;
/// The template IDs of IPv4 and IPv6 records.
const V4_TEMPLATE: u16 = 256;
const V6_TEMPLATE: u16 = 257;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// NetFlow v5: IPv4 only, at most 30 records a packet.
    V5,
    /// NetFlow v9 (RFC 3954).
    V9,
    /// IPFIX (RFC 7011).
    Ipfix,
}

/// One exporting process of one observation domain.
pub struct Exporter {
    version: Version,
    domain: u32,
    /// Records (v5, IPFIX) or packets (v9) sent: the next header's sequence number.
    sequence: u32,
    packets: u32,
    /// The Unix time of uptime 0, ms (v5 and v9 carry times as uptime).
    boot_ms: i64,
}

impl Exporter {
    /// An exporter of `version` for `domain` (v5: engine type and ID, `domain & 0xFFFF`),
    /// booted at `boot_ms`.
    pub fn new(version: Version, domain: u32, boot_ms: i64) -> Self {
        Self {
            version,
            domain,
            sequence: 0,
            packets: 0,
            boot_ms,
        }
    }

    /// The next packet's sequence number.
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// Writes one export packet of `records` at `export_ms` into `buf` (cleared first). v5
    /// leaves out IPv6 records and writes interfaces and counters truncated to its widths.
    pub fn packet(&mut self, records: &[FlowRecord], export_ms: i64, buf: &mut Vec<u8>) {
        buf.clear();
        let templates = self.packets.is_multiple_of(TEMPLATE_EVERY);
        let sent = match self.version {
            Version::V5 => self.v5(records, export_ms, buf),
            Version::V9 => self.v9(records, export_ms, templates, buf),
            Version::Ipfix => self.ipfix(records, export_ms, templates, buf),
        };
        self.packets = self.packets.wrapping_add(1);
        self.sequence = self.sequence.wrapping_add(match self.version {
            Version::V9 => 1,
            Version::V5 | Version::Ipfix => sent,
        });
    }

    fn uptime(&self, ms: i64) -> u32 {
        (ms - self.boot_ms) as u32
    }

    fn v5(&self, records: &[FlowRecord], export_ms: i64, buf: &mut Vec<u8>) -> u32 {
        let v4: Vec<&FlowRecord> = records.iter().filter(|r| r.src.is_ipv4()).collect();
        put16(buf, 5);
        put16(buf, v4.len() as u16);
        put32(buf, self.uptime(export_ms));
        put32(buf, (export_ms / 1000) as u32);
        put32(buf, (export_ms % 1000 * 1_000_000) as u32);
        put32(buf, self.sequence);
        buf.push((self.domain >> 8) as u8);
        buf.push(self.domain as u8);
        put16(buf, 0);
        for r in &v4 {
            buf.extend_from_slice(&addr(r.src));
            buf.extend_from_slice(&addr(r.dst));
            put32(buf, 0);
            put16(buf, r.input.unwrap_or(0) as u16);
            put16(buf, r.output.unwrap_or(0) as u16);
            put32(buf, r.packets as u32);
            put32(buf, r.octets as u32);
            put32(buf, self.uptime(r.start_ms));
            put32(buf, self.uptime(r.end_ms));
            put16(buf, r.src_port);
            put16(buf, r.dst_port);
            buf.extend_from_slice(&[0, r.tcp_flags as u8, r.protocol, 0]);
            // src_as, dst_as, src_mask, dst_mask, pad2.
            buf.extend_from_slice(&[0; 8]);
        }
        v4.len() as u32
    }

    fn v9(
        &self,
        records: &[FlowRecord],
        export_ms: i64,
        templates: bool,
        buf: &mut Vec<u8>,
    ) -> u32 {
        // The header's time is in seconds; the uptime is taken at that second so that
        // uptime-relative times come back to the millisecond.
        let export_s = export_ms.div_euclid(1000);
        put16(buf, 9);
        put16(buf, (records.len() + if templates { 2 } else { 0 }) as u16);
        put32(buf, self.uptime(export_s * 1000));
        put32(buf, export_s as u32);
        put32(buf, self.sequence);
        put32(buf, self.domain);
        if templates {
            template_set(buf, 0, Version::V9);
        }
        self.data_sets(records, Version::V9, buf);
        records.len() as u32
    }

    fn ipfix(
        &self,
        records: &[FlowRecord],
        export_ms: i64,
        templates: bool,
        buf: &mut Vec<u8>,
    ) -> u32 {
        put16(buf, 10);
        put16(buf, 0);
        put32(buf, (export_ms / 1000) as u32);
        put32(buf, self.sequence);
        put32(buf, self.domain);
        if templates {
            template_set(buf, 2, Version::Ipfix);
        }
        self.data_sets(records, Version::Ipfix, buf);
        let len = buf.len() as u16;
        buf[2..4].copy_from_slice(&len.to_be_bytes());
        records.len() as u32
    }

    /// One data set per run of records of the same address family, in their order.
    fn data_sets(&self, records: &[FlowRecord], version: Version, buf: &mut Vec<u8>) {
        let mut i = 0;
        while i < records.len() {
            let v4 = records[i].src.is_ipv4();
            let id = if v4 { V4_TEMPLATE } else { V6_TEMPLATE };
            let start = set_start(buf, id);
            while i < records.len() && records[i].src.is_ipv4() == v4 {
                self.record(&records[i], version, buf);
                i += 1;
            }
            set_end(buf, start);
        }
    }

    fn record(&self, r: &FlowRecord, version: Version, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&addr(r.src));
        buf.extend_from_slice(&addr(r.dst));
        put16(buf, r.src_port);
        put16(buf, r.dst_port);
        buf.push(r.protocol);
        match version {
            Version::Ipfix => put16(buf, r.tcp_flags),
            _ => buf.push(r.tcp_flags as u8),
        }
        buf.extend_from_slice(&r.packets.to_be_bytes());
        buf.extend_from_slice(&r.octets.to_be_bytes());
        put32(buf, r.input.unwrap_or(0));
        put32(buf, r.output.unwrap_or(0));
        match version {
            Version::Ipfix => {
                buf.extend_from_slice(&(r.start_ms as u64).to_be_bytes());
                buf.extend_from_slice(&(r.end_ms as u64).to_be_bytes());
            }
            _ => {
                put32(buf, self.uptime(r.start_ms));
                put32(buf, self.uptime(r.end_ms));
            }
        }
    }
}

/// The (element, length) fields of a template, in the order [`Exporter::record`] writes them.
fn fields(id: u16, version: Version) -> Vec<(u16, u16)> {
    let (src, dst, alen) = if id == V4_TEMPLATE {
        (8, 12, 4)
    } else {
        (27, 28, 16)
    };
    let flags = if version == Version::Ipfix { 2 } else { 1 };
    let times = if version == Version::Ipfix {
        [(152, 8), (153, 8)]
    } else {
        [(22, 4), (21, 4)]
    };
    let mut f = vec![
        (src, alen),
        (dst, alen),
        (7, 2),
        (11, 2),
        (4, 1),
        (6, flags),
        (2, 8),
        (1, 8),
        (10, 4),
        (14, 4),
    ];
    f.extend(times);
    f
}

fn addr(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fn put16(buf: &mut Vec<u8>, v: u16) {
    buf.extend_from_slice(&v.to_be_bytes());
}

fn put32(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_be_bytes());
}

/// Starts a set with its ID and a length filled in by [`set_end`].
fn set_start(buf: &mut Vec<u8>, id: u16) -> usize {
    let start = buf.len();
    put16(buf, id);
    put16(buf, 0);
    start
}

fn set_end(buf: &mut [u8], start: usize) {
    let len = (buf.len() - start) as u16;
    buf[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// The template set (`set_id` 0 in v9, 2 in IPFIX) defining the v4 and v6 templates.
fn template_set(buf: &mut Vec<u8>, set_id: u16, version: Version) {
    let start = set_start(buf, set_id);
    for id in [V4_TEMPLATE, V6_TEMPLATE] {
        put16(buf, id);
        let fields = fields(id, version);
        put16(buf, fields.len() as u16);
        for (ie, len) in fields {
            put16(buf, ie);
            put16(buf, len);
        }
    }
    set_end(buf, start);
}
