//! Why a datagram could not be decoded. Each is counted under its [`DecodeError::kind`] in the
//! collector's statistics; none stops the collector.

/// A malformed export packet (RFC 3954 §5, RFC 7011 §3), or one this collector refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The datagram ended inside a part of the packet.
    #[error("truncated {what}: needs {need} bytes, {have} left")]
    Truncated {
        /// The part being read.
        what: &'static str,
        /// Bytes it needs.
        need: usize,
        /// Bytes that were left.
        have: usize,
    },
    /// The version field is not 5, 9 or 10.
    #[error("unknown export version {0} (5, 9 and 10 are decoded)")]
    Version(u16),
    /// The IPFIX message length disagrees with the datagram (RFC 7011 §3.1).
    #[error("IPFIX message length {length} but the datagram holds {datagram} bytes")]
    MessageLength {
        /// The header's length field.
        length: u16,
        /// The datagram's size.
        datagram: usize,
    },
    /// A set (FlowSet) length is shorter than its 4-byte header or runs past the message
    /// (RFC 7011 §3.3.2, RFC 3954 §5.2).
    #[error("set {set_id} has length {length}, {left} bytes left in the message")]
    SetLength {
        /// The set ID.
        set_id: u16,
        /// Its length field.
        length: u16,
        /// Bytes left in the message from the set's start.
        left: usize,
    },
    /// A template ID below 256 (RFC 7011 §3.4.1, RFC 3954 §5.2).
    #[error("template ID {0} is reserved (must be 256 or more)")]
    TemplateId(u16),
    /// A template whose fields cannot be read, or whose records would have no length.
    #[error("template {id}: {reason}")]
    Template {
        /// The template ID.
        id: u16,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A v5 header's count is more than the datagram holds.
    #[error("v5 count {count} needs {need} bytes, the datagram holds {have}")]
    V5Count {
        /// The header's record count.
        count: u16,
        /// Bytes the header and records need.
        need: usize,
        /// The datagram's size.
        have: usize,
    },
}

impl DecodeError {
    /// A short stable name of the error's kind, for counting.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Truncated { .. } => "truncated",
            Self::Version(_) => "unknown version",
            Self::MessageLength { .. } => "bad message length",
            Self::SetLength { .. } => "bad set length",
            Self::TemplateId(_) => "reserved template id",
            Self::Template { .. } => "bad template",
            Self::V5Count { .. } => "bad v5 count",
        }
    }
}
