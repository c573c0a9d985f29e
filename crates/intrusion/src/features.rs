//! Per-flow features for a classifier (the PP node of a flow pipeline, Y.3172 §8.1): the same
//! vector from every source a flow comes from — the sandbox, a flow table, a NetFlow or IPFIX
//! export — so a model trained on one scores the others.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::flow::{flags, FlowObs};

/// Which directions of a flow the features describe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Directions {
    /// Both: bidirectional records (the sandbox, CICFlowMeter).
    #[default]
    Both,
    /// The initiator's only: what a unidirectional export (NetFlow, IPFIX) has, where the
    /// reverse direction is a record of its own. A model to score exports trains on these.
    Forward,
}

/// Names of the features [`flow_features`] writes, in order.
pub fn feature_names(directions: Directions) -> Vec<&'static str> {
    let mut names = vec![
        "protocol",
        "dst_port",
        "duration_ms",
        "packets",
        "bytes",
        "bytes_per_packet",
    ];
    if directions == Directions::Both {
        names.extend([
            "reverse_packets",
            "reverse_bytes",
            "reverse_bytes_per_packet",
        ]);
    }
    names.extend(["syn", "ack", "fin", "rst", "psh"]);
    names
}

/// Appends the features of `f` (named by [`feature_names`]) to `out`. TCP flags are 0 or 1:
/// present on some packet of the flow or not, which every source can say.
pub fn flow_features(f: &FlowObs, directions: Directions, out: &mut Vec<f64>) {
    let per_packet = |bytes: u64, packets: u64| {
        if packets == 0 {
            0.0
        } else {
            bytes as f64 / packets as f64
        }
    };
    out.extend([
        f64::from(f.protocol),
        f64::from(f.dst_port),
        f.duration_ms,
        f.packets as f64,
        f.bytes as f64,
        per_packet(f.bytes, f.packets),
    ]);
    if directions == Directions::Both {
        out.extend([
            f.reverse_packets as f64,
            f.reverse_bytes as f64,
            per_packet(f.reverse_bytes, f.reverse_packets),
        ]);
    }
    let bit = |b: u8| f64::from(u8::from(f.tcp_flags & b != 0));
    out.extend([
        bit(flags::SYN),
        bit(flags::ACK),
        bit(flags::FIN),
        bit(flags::RST),
        bit(flags::PSH),
    ]);
}
