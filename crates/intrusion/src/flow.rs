//! A flow record as intrusion detection needs it.

use std::net::IpAddr;

use ai4ict_core::Timestamp;
use ai4ict_sandbox::FlowRecord;

use crate::IntrusionError;

/// One flow: who opened it to whom, how much went each way, and whether the connection
/// failed. From a bidirectional record (the sandbox, CICFlowMeter) or a unidirectional export
/// (NetFlow, IPFIX: the reverse bytes are then 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlowObs {
    /// First packet.
    pub start: Timestamp,
    /// Initiator.
    pub src: IpAddr,
    /// Responder.
    pub dst: IpAddr,
    /// Initiator port (0 when the record has none).
    pub src_port: u16,
    /// Responder port.
    pub dst_port: u16,
    /// IP protocol number.
    pub protocol: u8,
    /// First to last packet, milliseconds (0 when the record has no duration).
    pub duration_ms: f64,
    /// Packets initiator → responder.
    pub packets: u64,
    /// Bytes initiator → responder.
    pub bytes: u64,
    /// Packets responder → initiator.
    pub reverse_packets: u64,
    /// Bytes responder → initiator.
    pub reverse_bytes: u64,
    /// TCP flags seen on the flow, OR-ed (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10,
    /// URG 0x20); 0 for other protocols.
    pub tcp_flags: u8,
    /// A TCP connection that never completed: reset, or the handshake never finished.
    pub failed: bool,
}

/// TCP flag bits as NetFlow and IPFIX export them (RFC 793 order).
pub mod flags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronise sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field significant.
    pub const ACK: u8 = 0x10;
    /// Urgent pointer field significant.
    pub const URG: u8 = 0x20;
}

impl FlowObs {
    /// The observation of an exported (unidirectional) record: the reverse direction is a
    /// record of its own, so reverse bytes are 0, and the OR-ed flags tell a failed TCP
    /// connection (reset, or SYN without ACK).
    pub fn from_export(r: &ai4ict_netflow::FlowRecord) -> Self {
        Self {
            start: Timestamp(r.start_ms),
            src: r.src,
            dst: r.dst,
            src_port: r.src_port,
            dst_port: r.dst_port,
            protocol: r.protocol,
            duration_ms: r.end_ms.saturating_sub(r.start_ms).max(0) as f64,
            packets: r.packets,
            bytes: r.octets,
            reverse_packets: 0,
            reverse_bytes: 0,
            tcp_flags: if r.protocol == 6 {
                r.tcp_flags as u8
            } else {
                0
            },
            failed: r.protocol == 6 && flags_failed(r.tcp_flags),
        }
    }

    /// The observation of a sandbox flow record.
    pub fn from_sandbox(f: &FlowRecord) -> Result<Self, IntrusionError> {
        let ip = |field: &'static str, text: &str| {
            text.parse::<IpAddr>().map_err(|_| IntrusionError::Address {
                field,
                value: text.to_string(),
            })
        };
        Ok(Self {
            start: f.start,
            src: ip("src_ip", &f.src_ip)?,
            dst: ip("dst_ip", &f.dst_ip)?,
            src_port: f.src_port,
            dst_port: f.dst_port,
            protocol: f.protocol,
            duration_ms: f.duration_ms,
            packets: f.fwd_packets,
            bytes: f.fwd_bytes,
            reverse_packets: f.bwd_packets,
            reverse_bytes: f.bwd_bytes,
            tcp_flags: if f.protocol == 6 {
                flag_bits(&[
                    (f.fin_count, flags::FIN),
                    (f.syn_count, flags::SYN),
                    (f.rst_count, flags::RST),
                    (f.psh_count, flags::PSH),
                    (f.ack_count, flags::ACK),
                ])
            } else {
                0
            },
            // Never closed with a FIN, and reset or never acknowledged by the initiator (every
            // ACK came from the responder: its SYN-ACKs).
            failed: f.protocol == 6
                && f.fin_count == 0
                && (f.rst_count > 0 || u64::from(f.ack_count) <= f.bwd_packets),
        })
    }
}

/// The OR-ed flags of per-flag packet counts: a flag is set when any packet carried it.
pub(crate) fn flag_bits(counts: &[(u32, u8)]) -> u8 {
    counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .fold(0, |bits, (_, bit)| bits | bit)
}

/// OR-ed TCP flags of a failed connection: a reset, or SYN never followed by ACK.
pub(crate) fn flags_failed(bits: u16) -> bool {
    let set = |flag: u8| bits & u16::from(flag) != 0;
    set(flags::RST) || (set(flags::SYN) && !set(flags::ACK))
}
