//! The decoder: one datagram at a time, any version, with the templates and sequence streams
//! of every exporter, and the statistics of all it saw.

use std::net::SocketAddr;

use crate::fields::Clock;
use crate::record::FlowRecord;
use crate::sequence::{Count, Seen, Sequences};
use crate::stats::{CollectorStats, Counts};
use crate::template::Templates;
use crate::{ipfix, v5, v9, DecodeError};

/// What one datagram held, filled in as it is read (so a malformed one still tells what came
/// before the error).
#[derive(Default)]
pub(crate) struct Message {
    /// (domain, sequence number) once the header was read.
    pub(crate) stream: Option<(u32, u32)>,
    /// What the sequence number may count of this packet (`None`: unknown).
    pub(crate) sequenced: Option<Count>,
    /// Flow records yielded.
    pub(crate) flows: u32,
    /// Records of options templates (read, not yielded).
    pub(crate) option_records: u32,
    /// Data sets of unknown templates, and their bytes.
    pub(crate) unknown_sets: u32,
    pub(crate) unknown_bytes: u64,
    /// Templates stored, refused by the bounds, withdrawn.
    pub(crate) templates: u32,
    pub(crate) refused: u32,
    pub(crate) withdrawn: u32,
}

/// Reads a data set (RFC 7011 §3.3, RFC 3954 §5.3) of template `set_id`: flow records into
/// `out`; options records counted (an IPFIX one's systemInitTimeMilliseconds kept); a set
/// of an unknown template counted with its bytes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn data_set(
    exporter: SocketAddr,
    domain: u32,
    set_id: u16,
    body: &[u8],
    templates: &mut Templates,
    clock: Clock,
    msg: &mut Message,
    out: &mut Vec<FlowRecord>,
) -> Result<(), DecodeError> {
    let Some(template) = templates.get(exporter, domain, set_id) else {
        msg.unknown_sets += 1;
        msg.unknown_bytes += body.len() as u64;
        return Ok(());
    };
    if template.is_options() {
        let mut init = None;
        template.read_records(body, |f| {
            msg.option_records += 1;
            init = f.init_ms().or(init);
        })?;
        if let (Some(ms), Clock::Init { .. }) = (init, clock) {
            templates.set_system_init(exporter, domain, ms);
        }
        return Ok(());
    }
    template.read_records(body, |f| {
        msg.flows += 1;
        out.push(f.finish(exporter, domain, clock));
    })
}

/// Decodes NetFlow v5, v9 and IPFIX datagrams of any number of exporters.
#[derive(Default)]
pub struct Decoder {
    templates: Templates,
    sequences: Sequences,
    stats: CollectorStats,
}

impl Decoder {
    /// A decoder that knows no template yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one datagram from `exporter`, appending its flow records to `out`, and
    /// accounts it in the statistics. A malformed datagram is counted with its reason and
    /// returned as the error; the records and templates read before the fault are kept.
    pub fn decode(
        &mut self,
        exporter: SocketAddr,
        datagram: &[u8],
        out: &mut Vec<FlowRecord>,
    ) -> Result<(), DecodeError> {
        let mut msg = Message::default();
        let version = match datagram {
            [a, b, ..] => u16::from_be_bytes([*a, *b]),
            _ => 0,
        };
        let result = match version {
            5 => v5::decode(exporter, datagram, &mut msg, out),
            9 => v9::decode(exporter, datagram, &mut self.templates, &mut msg, out),
            10 => ipfix::decode(exporter, datagram, &mut self.templates, &mut msg, out),
            _ if datagram.len() < 2 => Err(DecodeError::Truncated {
                what: "version",
                need: 2,
                have: datagram.len(),
            }),
            v => Err(DecodeError::Version(v)),
        };
        let seen = msg.stream.map(|(domain, seq)| {
            let count = if result.is_ok() { msg.sequenced } else { None };
            self.sequences
                .observe(exporter, domain, seq, count, version == 10)
        });
        let held = self.templates.held(exporter);
        self.stats.account(exporter, held, |c: &mut Counts| {
            c.datagrams += 1;
            c.records += u64::from(msg.flows);
            c.option_records += u64::from(msg.option_records);
            c.unknown_template_sets += u64::from(msg.unknown_sets);
            c.unknown_template_bytes += msg.unknown_bytes;
            c.templates_refused += u64::from(msg.refused);
            c.templates_withdrawn += u64::from(msg.withdrawn);
            c.malformed += u64::from(result.is_err());
            let lost = if version == 9 {
                &mut c.lost_packets
            } else {
                &mut c.lost_records
            };
            match seen {
                Some(Seen::Gap(n)) => *lost += u64::from(n),
                Some(Seen::Late(n)) => {
                    *lost = lost.saturating_sub(u64::from(n));
                    c.reordered += 1;
                }
                Some(Seen::Restart) => c.restarts += 1,
                Some(Seen::Untracked) => c.untracked += 1,
                Some(Seen::Start | Seen::InOrder) | None => {}
            }
        });
        if let Err(e) = &result {
            self.stats.malformed(exporter, e.clone());
        }
        result
    }

    /// What was decoded so far.
    pub fn stats(&self) -> &CollectorStats {
        &self.stats
    }
}
