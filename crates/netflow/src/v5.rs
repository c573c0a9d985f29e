//! NetFlow v5 (Cisco's "NetFlow Export Datagram Format", version 5): a 24-byte header and up
//! to 30 fixed 48-byte IPv4 records. Times are ms of the router's uptime (`sys_uptime`), made
//! absolute with the header's `unix_secs` and `unix_nsecs`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::decoder::Message;
use crate::record::FlowRecord;
use crate::sequence::Count;
use crate::wire::Reader;
use crate::DecodeError;

/// Header bytes.
pub(crate) const HEADER: usize = 24;
/// Bytes of one record.
pub(crate) const RECORD: usize = 48;

/// Decodes a v5 datagram (its version field already checked) into `out`.
pub(crate) fn decode(
    exporter: SocketAddr,
    bytes: &[u8],
    msg: &mut Message,
    out: &mut Vec<FlowRecord>,
) -> Result<(), DecodeError> {
    let mut r = Reader::new(bytes);
    r.u16("v5 version")?;
    let count = r.u16("v5 count")?;
    let uptime = r.u32("v5 sys_uptime")?;
    let secs = r.u32("v5 unix_secs")?;
    let nsecs = r.u32("v5 unix_nsecs")?;
    let sequence = r.u32("v5 flow_sequence")?;
    let engine_type = r.u8("v5 engine_type")?;
    let engine_id = r.u8("v5 engine_id")?;
    r.u16("v5 sampling_interval")?;
    let need = HEADER + usize::from(count) * RECORD;
    if need > bytes.len() {
        return Err(DecodeError::V5Count {
            count,
            need,
            have: bytes.len(),
        });
    }
    let domain = u32::from(engine_type) << 8 | u32::from(engine_id);
    msg.stream = Some((domain, sequence));
    let export_ms = i64::from(secs) * 1000 + i64::from(nsecs / 1_000_000);
    // Signed difference: a record's time may be just after the header's uptime, and the
    // uptime wraps after 49.7 days.
    let at = |t: u32| export_ms - i64::from(uptime.wrapping_sub(t) as i32);
    for _ in 0..count {
        let ip = |r: &mut Reader<'_>, what| r.u32(what).map(|a| IpAddr::V4(Ipv4Addr::from(a)));
        let mut f = FlowRecord::empty(exporter, domain, export_ms);
        f.src = ip(&mut r, "v5 srcaddr")?;
        f.dst = ip(&mut r, "v5 dstaddr")?;
        r.u32("v5 nexthop")?;
        f.input = Some(u32::from(r.u16("v5 input")?));
        f.output = Some(u32::from(r.u16("v5 output")?));
        f.packets = u64::from(r.u32("v5 dPkts")?);
        f.octets = u64::from(r.u32("v5 dOctets")?);
        f.start_ms = at(r.u32("v5 First")?);
        f.end_ms = at(r.u32("v5 Last")?);
        f.src_port = r.u16("v5 srcport")?;
        f.dst_port = r.u16("v5 dstport")?;
        r.u8("v5 pad1")?;
        f.tcp_flags = u16::from(r.u8("v5 tcp_flags")?);
        f.protocol = r.u8("v5 prot")?;
        r.take(RECORD - 39, "v5 tos, AS, masks, pad")?;
        out.push(f);
        msg.flows += 1;
    }
    msg.sequenced = Some(Count::fixed(u32::from(count)));
    Ok(())
}
