//! Templates (RFC 7011 §3.4.1, §8; RFC 3954 §5.2, §5.3): what a data set's records hold, kept
//! per (exporter, observation domain or source ID, template ID). A template sent again
//! replaces the old one (template refresh); IPFIX withdraws one with a field count of 0, all
//! of a domain with the set's own ID as template ID (RFC 7011 §8.1). Over UDP nothing expires:
//! a template stays until replaced or withdrawn. Each exporter holds at most
//! [`MAX_TEMPLATES_PER_EXPORTER`] and the collector at most [`MAX_EXPORTERS`] exporters, so a
//! hostile sender cannot grow memory without bound; what is refused is counted.

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::fields::Fields;
use crate::wire::Reader;
use crate::DecodeError;

/// Templates one exporter may hold (all its domains together).
pub const MAX_TEMPLATES_PER_EXPORTER: usize = 4096;
/// Exporters whose templates are kept.
pub const MAX_EXPORTERS: usize = 1024;

/// The length of an IPFIX field given as 65535: variable, prefixed in each record
/// (RFC 7011 §7).
const VARIABLE: u16 = 65535;
/// The enterprise bit of an IPFIX field ID (RFC 7011 §3.2).
const ENTERPRISE_BIT: u16 = 0x8000;

/// One field of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field {
    /// Element ID; `None` for an enterprise-specific element, which is skipped.
    id: Option<u16>,
    /// Bytes in each record; `None` for a variable-length IPFIX field.
    length: Option<u16>,
}

/// A data or options template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    fields: Vec<Field>,
    /// An options template: its records describe the exporter, not flows.
    options: bool,
    /// The shortest record it can describe (a variable field takes at least its 1-byte
    /// length); more than 0, so reading records always moves forward.
    min_len: usize,
}

impl Template {
    /// Reads `count` IPFIX field specifiers (RFC 7011 §3.2): an enterprise bit, the ID, the
    /// length (65535: variable) and, with the bit, a 4-byte enterprise number.
    pub(crate) fn read_ipfix(
        r: &mut Reader<'_>,
        id: u16,
        count: u16,
        options: bool,
    ) -> Result<Self, DecodeError> {
        // Each specifier takes at least 4 bytes: an absurd count fails before any allocation.
        if usize::from(count) * 4 > r.remaining() {
            return Err(DecodeError::Template {
                id,
                reason: "field count runs past the set",
            });
        }
        let mut fields = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let raw = r.u16("template field ID")?;
            let length = r.u16("template field length")?;
            let enterprise = raw & ENTERPRISE_BIT != 0;
            if enterprise {
                r.take(4, "template enterprise number")?;
            }
            fields.push(Field {
                id: (!enterprise).then_some(raw),
                length: (length != VARIABLE).then_some(length),
            });
        }
        Self::new(id, fields, options)
    }

    /// Reads `count` v9 field specifiers (RFC 3954 §5.2): type and length, both fixed.
    pub(crate) fn read_v9(
        r: &mut Reader<'_>,
        id: u16,
        count: usize,
        options: bool,
    ) -> Result<Self, DecodeError> {
        if count * 4 > r.remaining() {
            return Err(DecodeError::Template {
                id,
                reason: "field count runs past the flowset",
            });
        }
        let mut fields = Vec::with_capacity(count);
        for _ in 0..count {
            let ty = r.u16("template field type")?;
            let length = r.u16("template field length")?;
            fields.push(Field {
                id: Some(ty),
                length: Some(length),
            });
        }
        Self::new(id, fields, options)
    }

    fn new(id: u16, fields: Vec<Field>, options: bool) -> Result<Self, DecodeError> {
        let min_len = fields.iter().map(|f| f.length.map_or(1, usize::from)).sum();
        if min_len == 0 {
            return Err(DecodeError::Template {
                id,
                reason: "its records would have no length",
            });
        }
        Ok(Self {
            fields,
            options,
            min_len,
        })
    }

    /// An options template.
    pub(crate) fn is_options(&self) -> bool {
        self.options
    }

    /// Reads the records of a data set body; what is left shorter than a record is padding
    /// (RFC 7011 §3.3.1, RFC 3954 §5.3). Calls `each` with every record's fields.
    pub(crate) fn read_records(
        &self,
        body: &[u8],
        mut each: impl FnMut(Fields),
    ) -> Result<(), DecodeError> {
        let mut r = Reader::new(body);
        while r.remaining() >= self.min_len {
            let mut record = Fields::default();
            for f in &self.fields {
                let len = match f.length {
                    Some(n) => usize::from(n),
                    // RFC 7011 §7: one length byte, or 255 and two more.
                    None => match r.u8("variable-length field")? {
                        255 => usize::from(r.u16("variable-length field's long length")?),
                        n => usize::from(n),
                    },
                };
                let value = r.take(len, "data record field")?;
                if let Some(id) = f.id {
                    record.set(id, value);
                }
            }
            each(record);
        }
        Ok(())
    }
}

/// (exporter, observation domain or source ID, template ID).
type Key = (SocketAddr, u32, u16);

/// The templates of every exporter.
#[derive(Default)]
pub(crate) struct Templates {
    map: HashMap<Key, Template>,
    per_exporter: HashMap<SocketAddr, usize>,
    /// IPFIX systemInitTimeMilliseconds per (exporter, domain), from options data.
    system_init: HashMap<(SocketAddr, u32), i64>,
}

/// What [`Templates::insert`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Stored {
    /// Added or replaced.
    Kept,
    /// Refused: the exporter holds [`MAX_TEMPLATES_PER_EXPORTER`], or there are
    /// [`MAX_EXPORTERS`] others.
    Refused,
}

impl Templates {
    /// Adds a template or replaces the one with its key.
    pub(crate) fn insert(
        &mut self,
        exporter: SocketAddr,
        domain: u32,
        id: u16,
        template: Template,
    ) -> Stored {
        let key = (exporter, domain, id);
        if let Some(old) = self.map.get_mut(&key) {
            *old = template;
            return Stored::Kept;
        }
        let known = self.per_exporter.len();
        let held = self.per_exporter.get(&exporter).copied();
        if held.is_none() && known >= MAX_EXPORTERS
            || held.is_some_and(|n| n >= MAX_TEMPLATES_PER_EXPORTER)
        {
            return Stored::Refused;
        }
        *self.per_exporter.entry(exporter).or_default() += 1;
        self.map.insert(key, template);
        Stored::Kept
    }

    pub(crate) fn get(&self, exporter: SocketAddr, domain: u32, id: u16) -> Option<&Template> {
        self.map.get(&(exporter, domain, id))
    }

    /// Withdraws one template (RFC 7011 §8.1); true if it was known.
    pub(crate) fn withdraw(&mut self, exporter: SocketAddr, domain: u32, id: u16) -> bool {
        let gone = self.map.remove(&(exporter, domain, id)).is_some();
        if gone {
            self.forget(exporter, 1);
        }
        gone
    }

    /// Withdraws every data template, or every options template, of a domain (RFC 7011 §8.1:
    /// the template ID is the set ID); returns how many.
    pub(crate) fn withdraw_all(
        &mut self,
        exporter: SocketAddr,
        domain: u32,
        options: bool,
    ) -> usize {
        let before = self.map.len();
        self.map
            .retain(|k, t| !(k.0 == exporter && k.1 == domain && t.options == options));
        let gone = before - self.map.len();
        self.forget(exporter, gone);
        gone
    }

    fn forget(&mut self, exporter: SocketAddr, n: usize) {
        if let Some(held) = self.per_exporter.get_mut(&exporter) {
            *held = held.saturating_sub(n);
            if *held == 0 {
                self.per_exporter.remove(&exporter);
            }
        }
    }

    /// The systemInitTimeMilliseconds `exporter` sent for `domain`.
    pub(crate) fn system_init(&self, exporter: SocketAddr, domain: u32) -> Option<i64> {
        self.system_init.get(&(exporter, domain)).copied()
    }

    /// Keeps a systemInitTimeMilliseconds, for the domains of exporters that hold templates.
    pub(crate) fn set_system_init(&mut self, exporter: SocketAddr, domain: u32, ms: i64) {
        let key = (exporter, domain);
        let bound = MAX_EXPORTERS * 16;
        if self.system_init.contains_key(&key) || self.system_init.len() < bound {
            self.system_init.insert(key, ms);
        }
    }

    /// Templates `exporter` holds now.
    pub(crate) fn held(&self, exporter: SocketAddr) -> usize {
        self.per_exporter.get(&exporter).copied().unwrap_or(0)
    }
}
