//! IPFIX (RFC 7011): a 16-byte message header (§3.1) whose length bounds the message, then
//! sets (§3.3): template sets (§3.4.1) with withdrawals (§8.1), options template sets
//! (§3.4.2.2) and data sets of both.

use std::net::SocketAddr;

use crate::decoder::{data_set, Message};
use crate::fields::Clock;
use crate::record::FlowRecord;
use crate::sequence::Count;
use crate::template::{Template, Templates};
use crate::wire::Reader;
use crate::DecodeError;

/// Header bytes.
pub(crate) const HEADER: usize = 16;
/// The template set ID, and in a withdrawal the ID that withdraws all data templates.
const TEMPLATE_SET: u16 = 2;
/// The options template set ID, and the ID that withdraws all options templates.
const OPTIONS_SET: u16 = 3;

/// Decodes an IPFIX message (its version field already checked) into `out`.
pub(crate) fn decode(
    exporter: SocketAddr,
    bytes: &[u8],
    templates: &mut Templates,
    msg: &mut Message,
    out: &mut Vec<FlowRecord>,
) -> Result<(), DecodeError> {
    let mut r = Reader::new(bytes);
    r.u16("IPFIX version")?;
    let length = r.u16("IPFIX length")?;
    let export_s = r.u32("IPFIX export time")?;
    let sequence = r.u32("IPFIX sequence number")?;
    let domain = r.u32("IPFIX observation domain ID")?;
    if usize::from(length) < HEADER || usize::from(length) > bytes.len() {
        return Err(DecodeError::MessageLength {
            length,
            datagram: bytes.len(),
        });
    }
    msg.stream = Some((domain, sequence));
    let mut r = Reader::new(&bytes[HEADER..usize::from(length)]);
    let export_ms = i64::from(export_s) * 1000;
    while r.remaining() > 0 {
        let left = r.remaining();
        let set_id = r.u16("IPFIX set ID")?;
        let set_length = r.u16("IPFIX set length")?;
        if usize::from(set_length) < 4 || usize::from(set_length) > left {
            return Err(DecodeError::SetLength {
                set_id,
                length: set_length,
                left,
            });
        }
        let body = r.take(usize::from(set_length) - 4, "IPFIX set")?;
        match set_id {
            TEMPLATE_SET | OPTIONS_SET => {
                templates_set(
                    exporter,
                    domain,
                    body,
                    templates,
                    msg,
                    set_id == OPTIONS_SET,
                )?;
            }
            // Not used (0, 1) or reserved (4 to 255), §3.3.2: skipped.
            0..=255 => {}
            _ => {
                let clock = Clock::Init {
                    export_ms,
                    init_ms: templates.system_init(exporter, domain),
                };
                data_set(exporter, domain, set_id, body, templates, clock, msg, out)?;
            }
        }
    }
    // §3.1: the sequence counts data records; unknown when a set could not be read.
    msg.sequenced = (msg.unknown_sets == 0).then_some(Count {
        all: msg.flows + msg.option_records,
        flows: msg.flows,
    });
    Ok(())
}

/// A template set or options template set; what is left shorter than a record header is
/// padding (§3.3.1).
fn templates_set(
    exporter: SocketAddr,
    domain: u32,
    body: &[u8],
    templates: &mut Templates,
    msg: &mut Message,
    options: bool,
) -> Result<(), DecodeError> {
    let mut r = Reader::new(body);
    let set_id = if options { OPTIONS_SET } else { TEMPLATE_SET };
    while r.remaining() >= 4 {
        let id = r.u16("IPFIX template ID")?;
        let count = r.u16("IPFIX field count")?;
        if count == 0 {
            // §8.1: a withdrawal; the set's own ID withdraws all of the domain's.
            if id == set_id {
                msg.withdrawn += templates.withdraw_all(exporter, domain, options) as u32;
            } else if id < 256 {
                return Err(DecodeError::TemplateId(id));
            } else if templates.withdraw(exporter, domain, id) {
                msg.withdrawn += 1;
            }
            continue;
        }
        if id < 256 {
            return Err(DecodeError::TemplateId(id));
        }
        if options {
            let scope = r.u16("IPFIX scope field count")?;
            if scope == 0 || scope > count {
                return Err(DecodeError::Template {
                    id,
                    reason: "scope field count is 0 or more than the field count",
                });
            }
        }
        let template = Template::read_ipfix(&mut r, id, count, options)?;
        msg.store(templates.insert(exporter, domain, id, template));
    }
    Ok(())
}
