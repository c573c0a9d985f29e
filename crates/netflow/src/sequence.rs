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
//! IPFIX exporters differ from §3.1 in the wild: softflowd 1.1.0 sends the count *through*
//! the message (its own records included) and leaves options records out. So for IPFIX each
//! stream learns its convention from its first two packets (before or through the message;
//! all data records or flow records only: the first of the four, in that order, under which
//! the second packet is in order), and keeps it; RFC 7011's is assumed until then. v5 and
//! v9 have one convention each.
//!
//! The rules, in the counter's modulo-2^32 arithmetic (so wrap-around is no event), with
//! each packet's number taken as the first it counts:
//!
//! 1. The first packet of a stream sets the next expected number; nothing is lost.
//! 2. As expected: in order.
//! 3. Ahead by `d` ≤ [`MAX_GAP`]: `d` lost, and the gap is remembered (the last
//!    [`REMEMBERED_GAPS`] of each stream).
//! 4. Behind, inside a remembered gap: a reordered packet. Its count is taken back from the
//!    lost and the gap shrinks; the expected number does not move.
//! 5. Anything else (behind outside every gap, a duplicate, or ahead by more than
//!    [`MAX_GAP`]): the exporter restarted. Counted as a restart, not as 4 billion lost; the
//!    stream starts over from this packet.
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

/// What a packet holds that its sequence number may count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Count {
    /// Every data record (v5: records; v9: 1, the packet).
    pub(crate) all: u32,
    /// Flow records only (options records left out).
    pub(crate) flows: u32,
}

impl Count {
    /// A packet the counter counts `n` times, whatever it holds.
    pub(crate) fn fixed(n: u32) -> Self {
        Self { all: n, flows: n }
    }
}

/// How an exporter's sequence number relates to its packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Convention {
    /// The number counts the packet's own records too (softflowd), not only those before.
    through: bool,
    /// It counts flow records only, not options records.
    flows_only: bool,
}

impl Convention {
    /// RFC 7011 §3.1, and v5's and v9's.
    const RFC: Self = Self {
        through: false,
        flows_only: false,
    };
    /// The candidates for an IPFIX stream, the RFC's first.
    const ALL: [Self; 4] = [
        Self::RFC,
        Self {
            through: false,
            flows_only: true,
        },
        Self {
            through: true,
            flows_only: false,
        },
        Self {
            through: true,
            flows_only: true,
        },
    ];

    fn counted(self, c: Count) -> u32 {
        if self.flows_only {
            c.flows
        } else {
            c.all
        }
    }

    /// The first number a packet with `seq` counts.
    fn first(self, seq: u32, c: Count) -> u32 {
        if self.through {
            seq.wrapping_sub(self.counted(c))
        } else {
            seq
        }
    }

    /// The number expected after a packet.
    fn next(self, seq: u32, c: Count) -> u32 {
        self.first(seq, c).wrapping_add(self.counted(c))
    }
}

#[derive(Default)]
struct Stream {
    /// The last packet in sequence, `None` at the start or after one of unknown count.
    last: Option<(u32, Count)>,
    /// Known once learnt (IPFIX) or given (v5, v9).
    convention: Option<Convention>,
    /// (first missing number, how many), oldest first.
    gaps: VecDeque<(u32, u32)>,
}

/// The streams of every exporter.
#[derive(Default)]
pub(crate) struct Sequences {
    streams: HashMap<(SocketAddr, u32), Stream>,
}

impl Sequences {
    /// Accounts a packet with sequence number `seq` holding `count` (`None`: unknown).
    /// `learn`: the stream's convention is to be learnt (IPFIX); else it is RFC 7011's.
    pub(crate) fn observe(
        &mut self,
        exporter: SocketAddr,
        domain: u32,
        seq: u32,
        count: Option<Count>,
        learn: bool,
    ) -> Seen {
        let key = (exporter, domain);
        if !self.streams.contains_key(&key) && self.streams.len() >= MAX_STREAMS {
            return Seen::Untracked;
        }
        let s = self.streams.entry(key).or_default();
        if !learn {
            s.convention = Some(Convention::RFC);
        }
        let Some((last_seq, last_count)) = s.last else {
            s.last = count.map(|c| (seq, c));
            return Seen::Start;
        };
        let known = s.convention.unwrap_or(Convention::RFC);
        let c = match count {
            Some(c) => c,
            // Its first number is still known when the number counts what came before.
            None if !known.through => Count::fixed(0),
            None => {
                s.last = None;
                return Seen::Start;
            }
        };
        let conv = s.convention.unwrap_or_else(|| {
            let learnt = Convention::ALL
                .into_iter()
                .find(|k| k.first(seq, c) == k.next(last_seq, last_count));
            s.convention = learnt;
            learnt.unwrap_or(Convention::RFC)
        });
        let seen = Self::place(s, conv, (last_seq, last_count), seq, c);
        if count.is_none() {
            s.last = None;
        }
        seen
    }

    /// Rules 2 to 5 for a packet of known count after `last`, under `conv`.
    fn place(
        s: &mut Stream,
        conv: Convention,
        (last_seq, last_count): (u32, Count),
        seq: u32,
        c: Count,
    ) -> Seen {
        let expected = conv.next(last_seq, last_count);
        let first = conv.first(seq, c);
        let n = conv.counted(c);
        let ahead = first.wrapping_sub(expected);
        if ahead == 0 {
            s.last = Some((seq, c));
            return Seen::InOrder;
        }
        if ahead <= MAX_GAP {
            if s.gaps.len() == REMEMBERED_GAPS {
                s.gaps.pop_front();
            }
            s.gaps.push_back((expected, ahead));
            s.last = Some((seq, c));
            return Seen::Gap(ahead);
        }
        if n > 0 {
            if let Some(i) = s.gaps.iter().position(|&(start, len)| {
                let offset = first.wrapping_sub(start);
                offset < len && u64::from(offset) + u64::from(n) <= u64::from(len)
            }) {
                let (start, len) = s.gaps[i];
                let offset = first.wrapping_sub(start);
                let after = len - offset - n;
                s.gaps.remove(i);
                if after > 0 {
                    s.gaps.insert(i, (first.wrapping_add(n), after));
                }
                if offset > 0 {
                    s.gaps.insert(i, (start, offset));
                }
                return Seen::Late(n);
            }
        }
        s.gaps.clear();
        s.last = Some((seq, c));
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
            .map(|&(seq, n)| s.observe(at(), 7, seq, n.map(Count::fixed), false))
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
        let ten = Some(Count::fixed(10));
        assert_eq!(s.observe(at(), 1, 0, ten, false), Seen::Start);
        assert_eq!(s.observe(at(), 2, 500, ten, false), Seen::Start);
        assert_eq!(s.observe(other, 1, 900, ten, false), Seen::Start);
        assert_eq!(s.observe(at(), 1, 10, ten, false), Seen::InOrder);
        assert_eq!(s.observe(at(), 2, 510, ten, false), Seen::InOrder);
    }

    #[test]
    fn an_ipfix_stream_learns_its_exporters_convention() {
        use Seen::*;
        let c = |all, flows| Some(Count { all, flows });
        // softflowd: the count through the message, options records left out.
        let mut s = Sequences::default();
        let got: Vec<Seen> = [
            (24, c(25, 24)),
            (56, c(32, 32)),
            (74, c(18, 18)),
            (104, c(20, 20)),
        ]
        .into_iter()
        .map(|(seq, n)| s.observe(at(), 0, seq, n, true))
        .collect();
        assert_eq!(got, [Start, InOrder, InOrder, Gap(10)]);
        // RFC 7011: before the message, options records counted.
        let mut s = Sequences::default();
        let got: Vec<Seen> = [
            (0, c(25, 24)),
            (25, c(32, 32)),
            (57, c(18, 18)),
            (85, c(1, 1)),
        ]
        .into_iter()
        .map(|(seq, n)| s.observe(at(), 0, seq, n, true))
        .collect();
        assert_eq!(got, [Start, InOrder, InOrder, Gap(10)]);
    }
}
