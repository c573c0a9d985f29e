//! Sequence-gap accounting per (exporter, observation domain), so lost export packets show
//! up as lost records. What the header's sequence number counts depends on the version:
//!
//! - v5 (Cisco's format): `flow_sequence` counts flows: the next packet's is this one's plus
//!   its record count.
//! - v9 (RFC 3954 §5.1): `sequence` counts export packets: the next is this one's plus 1; a
//!   gap is lost *packets*, whose records cannot be known.
//! - IPFIX (RFC 7011 §3.1): `sequence` counts data records (options records included) sent
//!   before this message: the next is this one's plus its data records.
//!
//! The rules, in the counter's modulo-2^32 arithmetic (so wrap-around is no event):
//!
//! 1. The first packet of a stream sets the next expected number; nothing is lost.
//! 2. As expected: in order.
//! 3. Ahead by `d` ≤ [`MAX_GAP`]: `d` lost, and the gap is remembered (the last
//!    [`REMEMBERED_GAPS`] of each stream).
//! 4. Behind, inside a remembered gap: a reordered packet. Its count is taken back from the
//!    lost and the gap shrinks; the expected number does not move.
//! 5. Anything else (behind outside every gap, or ahead by more than [`MAX_GAP`]): the
//!    exporter restarted. Counted as a restart, not as 4 billion lost; the stream starts over
//!    from this packet.
//! 6. A packet whose count is unknown (a data set of an unknown template, a malformed set)
//!    leaves the next expected number unknown: the next packet starts over as in rule 1,
//!    without a loss or a restart.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

/// The largest forward jump counted as loss; a larger one is a restart.
pub const MAX_GAP: u32 = 1 << 24;
/// Gaps remembered per stream, for late packets to fill.
pub const REMEMBERED_GAPS: usize = 64;
/// Streams tracked; packets of further streams are counted as untracked.
pub const MAX_STREAMS: usize = 65_536;

/// What a packet's sequence number said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The stream's first packet, or the first after one of unknown count.
    Start,
    /// As expected.
    InOrder,
    /// This many were lost before it.
    Gap(u32),
    /// A late packet that fills part of an earlier gap: this many are no longer lost.
    Late(u32),
    /// The exporter restarted its counter.
    Restart,
    /// Not tracked: [`MAX_STREAMS`] streams are tracked already.
    Untracked,
}

#[derive(Default)]
struct Stream {
    expected: Option<u32>,
    /// (first missing number, how many), oldest first.
    gaps: VecDeque<(u32, u32)>,
}

/// The streams of every exporter.
#[derive(Default)]
pub(crate) struct Sequences {
    streams: HashMap<(SocketAddr, u32), Stream>,
}

impl Sequences {
    /// Accounts a packet with sequence number `seq` that the counter counts `count` times
    /// (`None`: unknown).
    pub(crate) fn observe(
        &mut self,
        exporter: SocketAddr,
        domain: u32,
        seq: u32,
        count: Option<u32>,
    ) -> Seen {
        let key = (exporter, domain);
        if !self.streams.contains_key(&key) && self.streams.len() >= MAX_STREAMS {
            return Seen::Untracked;
        }
        let s = self.streams.entry(key).or_default();
        let next = |n: u32| count.map(|c| n.wrapping_add(c));
        let Some(expected) = s.expected else {
            s.expected = next(seq);
            return Seen::Start;
        };
        let ahead = seq.wrapping_sub(expected);
        if ahead == 0 {
            s.expected = next(seq);
            return Seen::InOrder;
        }
        if ahead <= MAX_GAP {
            if s.gaps.len() == REMEMBERED_GAPS {
                s.gaps.pop_front();
            }
            s.gaps.push_back((expected, ahead));
            s.expected = next(seq);
            return Seen::Gap(ahead);
        }
        let c = count.unwrap_or(0);
        if c > 0 {
            if let Some(i) = s.gaps.iter().position(|&(first, len)| {
                let offset = seq.wrapping_sub(first);
                offset < len && u64::from(offset) + u64::from(c) <= u64::from(len)
            }) {
                let (first, len) = s.gaps[i];
                let offset = seq.wrapping_sub(first);
                let after = len - offset - c;
                s.gaps.remove(i);
                if after > 0 {
                    s.gaps.insert(i, (seq.wrapping_add(c), after));
                }
                if offset > 0 {
                    s.gaps.insert(i, (first, offset));
                }
                return Seen::Late(c);
            }
        }
        s.gaps.clear();
        s.expected = next(seq);
        Seen::Restart
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> SocketAddr {
        "192.0.2.1:2055".parse().unwrap()
    }

    fn run(steps: &[(u32, Option<u32>)]) -> Vec<Seen> {
        let mut s = Sequences::default();
        steps
            .iter()
            .map(|&(seq, n)| s.observe(at(), 7, seq, n))
            .collect()
    }

    #[test]
    fn in_order_and_gap() {
        use Seen::*;
        let got = run(&[
            (100, Some(30)),
            (130, Some(30)),
            (190, Some(30)),
            (220, Some(1)),
        ]);
        assert_eq!(got, [Start, InOrder, Gap(30), InOrder]);
    }

    #[test]
    fn wraps_without_loss() {
        use Seen::*;
        let got = run(&[(u32::MAX - 9, Some(30)), (20, Some(30)), (50, Some(1))]);
        assert_eq!(got, [Start, InOrder, InOrder]);
        let got = run(&[(u32::MAX - 9, Some(30)), (25, Some(30))]);
        assert_eq!(got, [Start, Gap(5)]);
    }

    #[test]
    fn a_big_backwards_or_forwards_jump_is_a_restart() {
        use Seen::*;
        let got = run(&[(5_000, Some(30)), (0, Some(30)), (30, Some(30))]);
        assert_eq!(got, [Start, Restart, InOrder]);
        let got = run(&[
            (0, Some(30)),
            (30 + MAX_GAP + 1, Some(30)),
            (60 + MAX_GAP + 1, Some(1)),
        ]);
        assert_eq!(got, [Start, Restart, InOrder]);
    }

    #[test]
    fn a_late_packet_fills_its_gap() {
        use Seen::*;
        // 30..60 and 60..90 come after 90..120.
        let got = run(&[
            (0, Some(30)),
            (90, Some(30)),
            (60, Some(30)),
            (30, Some(30)),
            (120, Some(30)),
            // A duplicate of a packet already seen is not in any gap: a restart.
            (30, Some(30)),
        ]);
        assert_eq!(got, [Start, Gap(60), Late(30), Late(30), InOrder, Restart]);
    }

    #[test]
    fn a_late_packet_in_the_middle_splits_the_gap() {
        use Seen::*;
        let got = run(&[
            (0, Some(1)),
            (4, Some(1)),
            (2, Some(1)),
            (1, Some(1)),
            (3, Some(1)),
        ]);
        assert_eq!(got, [Start, Gap(3), Late(1), Late(1), Late(1)]);
    }

    #[test]
    fn an_unknown_count_resynchronises() {
        use Seen::*;
        let got = run(&[(0, Some(30)), (30, None), (77, Some(30)), (107, Some(1))]);
        assert_eq!(got, [Start, InOrder, Start, InOrder]);
    }

    #[test]
    fn streams_are_per_exporter_and_domain() {
        let mut s = Sequences::default();
        let other: SocketAddr = "192.0.2.2:2055".parse().unwrap();
        assert_eq!(s.observe(at(), 1, 0, Some(10)), Seen::Start);
        assert_eq!(s.observe(at(), 2, 500, Some(10)), Seen::Start);
        assert_eq!(s.observe(other, 1, 900, Some(10)), Seen::Start);
        assert_eq!(s.observe(at(), 1, 10, Some(10)), Seen::InOrder);
        assert_eq!(s.observe(at(), 2, 510, Some(10)), Seen::InOrder);
    }
}
