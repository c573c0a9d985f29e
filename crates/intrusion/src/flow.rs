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
    /// Responder port.
    pub dst_port: u16,
    /// IP protocol number.
    pub protocol: u8,
    /// Packets initiator → responder.
    pub packets: u64,
    /// Bytes initiator → responder.
    pub bytes: u64,
    /// Bytes responder → initiator.
    pub reverse_bytes: u64,
    /// A TCP connection that never completed: reset, or the handshake never finished.
    pub failed: bool,
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
            dst_port: r.dst_port,
            protocol: r.protocol,
            packets: r.packets,
            bytes: r.octets,
            reverse_bytes: 0,
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
            dst_port: f.dst_port,
            protocol: f.protocol,
            packets: f.fwd_packets,
            bytes: f.fwd_bytes,
            reverse_bytes: f.bwd_bytes,
            // Never closed with a FIN, and reset or never acknowledged by the initiator (every
            // ACK came from the responder: its SYN-ACKs).
            failed: f.protocol == 6
                && f.fin_count == 0
                && (f.rst_count > 0 || u64::from(f.ack_count) <= f.bwd_packets),
        })
    }
}

/// OR-ed TCP flags of a failed connection: a reset, or SYN never followed by ACK.
pub(crate) fn flags_failed(flags: u16) -> bool {
    const SYN: u16 = 0x02;
    const RST: u16 = 0x04;
    const ACK: u16 = 0x10;
    flags & RST != 0 || (flags & SYN != 0 && flags & ACK == 0)
}
