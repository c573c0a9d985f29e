//! NetFlow v9 (RFC 3954): a 20-byte header (§5.1), then FlowSets (§5.2 template, §6.1
//! options template, §5.3 data) until the end of the datagram. Times of elements 21 and 22
//! are ms of the exporter's uptime, made absolute with the header's sysUptime and UNIX Secs.

use std::net::SocketAddr;

use crate::decoder::{data_set, Message};
use crate::fields::Clock;
use crate::record::FlowRecord;
use crate::sequence::Count;
use crate::template::{Stored, Template, Templates};
use crate::wire::Reader;
use crate::DecodeError;

/// Decodes a v9 datagram (its version field already checked) into `out`.
pub(crate) fn decode(
    exporter: SocketAddr,
    bytes: &[u8],
    templates: &mut Templates,
    msg: &mut Message,
    out: &mut Vec<FlowRecord>,
) -> Result<(), DecodeError> {
    let mut r = Reader::new(bytes);
    r.u16("v9 version")?;
    r.u16("v9 count")?;
    let uptime_ms = r.u32("v9 sysUptime")?;
    let secs = r.u32("v9 UNIX Secs")?;
    let sequence = r.u32("v9 sequence")?;
    let domain = r.u32("v9 source ID")?;
    msg.stream = Some((domain, sequence));
    // §5.1: the sequence counts export packets, whatever they hold.
    msg.sequenced = Some(Count::fixed(1));
    let clock = Clock::Header {
        export_ms: i64::from(secs) * 1000,
        uptime_ms,
    };
    while r.remaining() > 0 {
        let left = r.remaining();
        let set_id = r.u16("v9 flowset ID")?;
        let length = r.u16("v9 flowset length")?;
        if usize::from(length) < 4 || usize::from(length) > left {
            return Err(DecodeError::SetLength {
                set_id,
                length,
                left,
            });
        }
        let body = r.take(usize::from(length) - 4, "v9 flowset")?;
        match set_id {
            0 => templates_set(exporter, domain, body, templates, msg, false)?,
            1 => templates_set(exporter, domain, body, templates, msg, true)?,
            // Reserved (§5.2): skipped.
            2..=255 => {}
            _ => data_set(exporter, domain, set_id, body, templates, clock, msg, out)?,
        }
    }
    Ok(())
}

/// A template FlowSet (§5.2) or options template FlowSet (§6.1); what is left shorter than
/// a template header is padding.
fn templates_set(
    exporter: SocketAddr,
    domain: u32,
    body: &[u8],
    templates: &mut Templates,
    msg: &mut Message,
    options: bool,
) -> Result<(), DecodeError> {
    let mut r = Reader::new(body);
    let header = if options { 6 } else { 4 };
    while r.remaining() >= header {
        let id = r.u16("v9 template ID")?;
        if id < 256 {
            return Err(DecodeError::TemplateId(id));
        }
        let count = if options {
            // Scope and option lengths are in bytes, 4 per field.
            let scope = usize::from(r.u16("v9 option scope length")?);
            let option = usize::from(r.u16("v9 option length")?);
            (scope + option) / 4
        } else {
            usize::from(r.u16("v9 field count")?)
        };
        let template = Template::read_v9(&mut r, id, count, options)?;
        msg.store(templates.insert(exporter, domain, id, template));
    }
    Ok(())
}

impl Message {
    /// Counts what storing a template did.
    pub(crate) fn store(&mut self, stored: Stored) {
        match stored {
            Stored::Kept => self.templates += 1,
            Stored::Refused => self.refused += 1,
        }
    }
}
