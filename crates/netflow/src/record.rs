//! The flow record the collector yields: one unidirectional flow as the exporter sent it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// One flow record, unidirectional as exported (a TCP connection is two records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRecord {
    /// The exporter's address and port (the UDP source of the datagram).
    pub exporter: SocketAddr,
    /// IPFIX observation domain, v9 source ID, or v5 `engine_type << 8 | engine_id`.
    pub domain: u32,
    /// First packet, milliseconds since the Unix epoch (the export time when the record
    /// carries no time).
    pub start_ms: i64,
    /// Last packet, milliseconds since the Unix epoch (`start_ms` when not carried).
    pub end_ms: i64,
    /// Source address (0.0.0.0 when not carried).
    pub src: IpAddr,
    /// Destination address (0.0.0.0 when not carried).
    pub dst: IpAddr,
    /// Source transport port (0 when not carried, or for ICMP).
    pub src_port: u16,
    /// Destination transport port (for ICMP, exporters put type and code here).
    pub dst_port: u16,
    /// IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6).
    pub protocol: u8,
    /// Packets of the flow.
    pub packets: u64,
    /// Bytes of the flow's IP packets (headers included).
    pub octets: u64,
    /// The TCP flags of all its packets, OR-ed.
    pub tcp_flags: u16,
    /// Input interface (SNMP ifIndex), when exported.
    pub input: Option<u32>,
    /// Output interface (SNMP ifIndex), when exported.
    pub output: Option<u32>,
}

impl FlowRecord {
    /// A record of `exporter` and `domain` with every flow field empty, at `time_ms`.
    pub fn empty(exporter: SocketAddr, domain: u32, time_ms: i64) -> Self {
        let none = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        Self {
            exporter,
            domain,
            start_ms: time_ms,
            end_ms: time_ms,
            src: none,
            dst: none,
            src_port: 0,
            dst_port: 0,
            protocol: 0,
            packets: 0,
            octets: 0,
            tcp_flags: 0,
            input: None,
            output: None,
        }
    }
}
