#![doc = include_str!("../README.md")]

mod collector;
mod decoder;
mod error;
mod export;
mod fields;
mod ipfix;
mod record;
mod sequence;
mod stats;
mod template;
mod v5;
mod v9;
mod wire;

pub use collector::{Collector, CollectorError, Received, DEFAULT_RECV_BUFFER, POLL};
pub use decoder::Decoder;
pub use error::DecodeError;
pub use export::{Exporter, Version};
pub use record::FlowRecord;
pub use sequence::{Seen, MAX_GAP, MAX_STREAMS, REMEMBERED_GAPS};
pub use stats::{CollectorStats, Counts, ExporterStats, KEPT_MALFORMED};
pub use template::{MAX_EXPORTERS, MAX_TEMPLATES_PER_EXPORTER};
