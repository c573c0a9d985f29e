//! What the collector saw: datagrams, records, malformed datagrams with their reasons, records
//! lost by sequence gaps, data sets of unknown templates, and the socket's receive buffer and
//! kernel drops. Printed by `ai4ict collect` at the end.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;

use crate::template::MAX_EXPORTERS;
use crate::DecodeError;

/// Malformed datagrams kept with their exporter and reason, the latest.
pub const KEPT_MALFORMED: usize = 16;

/// Counters, over all exporters or of one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Datagrams received.
    pub datagrams: u64,
    /// Flow records yielded.
    pub records: u64,
    /// Records of options templates: read, not yielded.
    pub option_records: u64,
    /// Datagrams that could not be decoded whole.
    pub malformed: u64,
    /// Records lost by sequence gaps (v5, IPFIX), net of late packets that arrived after all.
    pub lost_records: u64,
    /// v9 export packets lost by sequence gaps (v9 counts packets, so their records are
    /// unknown).
    pub lost_packets: u64,
    /// Late packets that filled a gap.
    pub reordered: u64,
    /// Sequence restarts (an exporter restarted, see the `sequence` module's rules).
    pub restarts: u64,
    /// Packets of sequence streams beyond the tracked number.
    pub untracked: u64,
    /// Data sets whose template was unknown (not yet received, or withdrawn), and their bytes.
    pub unknown_template_sets: u64,
    /// Bytes of those sets.
    pub unknown_template_bytes: u64,
    /// Templates refused by the bounds per exporter.
    pub templates_refused: u64,
    /// Templates withdrawn (IPFIX).
    pub templates_withdrawn: u64,
}

/// One exporter's counters and the templates it holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExporterStats {
    /// Its counters.
    pub counts: Counts,
    /// Templates it holds now.
    pub templates: usize,
}

/// All the collector's statistics.
#[derive(Debug, Clone, Default)]
pub struct CollectorStats {
    /// Over all exporters.
    pub total: Counts,
    /// Per exporter, the first [`MAX_EXPORTERS`] seen (the total counts every one).
    pub exporters: BTreeMap<SocketAddr, ExporterStats>,
    /// Malformed datagrams by [`DecodeError::kind`].
    pub malformed_by_kind: BTreeMap<&'static str, u64>,
    /// The latest [`KEPT_MALFORMED`] malformed datagrams' exporters and reasons.
    pub last_malformed: VecDeque<(SocketAddr, DecodeError)>,
    /// The socket's receive buffer as the kernel granted it, bytes (set by the collector).
    pub recv_buffer: Option<usize>,
    /// Datagrams the kernel dropped on this socket (`/proc/net/udp`'s `drops`; Linux).
    pub kernel_drops: Option<u64>,
}

impl CollectorStats {
    /// Applies `f` to the total and to `exporter`'s counters, which hold `templates`.
    pub(crate) fn account(
        &mut self,
        exporter: SocketAddr,
        templates: usize,
        f: impl Fn(&mut Counts),
    ) {
        f(&mut self.total);
        let known = self.exporters.len();
        if let Some(e) = self.exporters.get_mut(&exporter) {
            f(&mut e.counts);
            e.templates = templates;
        } else if known < MAX_EXPORTERS {
            let mut e = ExporterStats {
                templates,
                ..ExporterStats::default()
            };
            f(&mut e.counts);
            self.exporters.insert(exporter, e);
        }
    }

    pub(crate) fn malformed(&mut self, exporter: SocketAddr, e: DecodeError) {
        *self.malformed_by_kind.entry(e.kind()).or_default() += 1;
        if self.last_malformed.len() == KEPT_MALFORMED {
            self.last_malformed.pop_front();
        }
        self.last_malformed.push_back((exporter, e));
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} datagrams, {} flow records ({} options records), {} malformed; lost by sequence: {} records, {} v9 packets ({} late, {} restarts); {} data sets ({} bytes) of unknown templates",
            self.datagrams,
            self.records,
            self.option_records,
            self.malformed,
            self.lost_records,
            self.lost_packets,
            self.reordered,
            self.restarts,
            self.unknown_template_sets,
            self.unknown_template_bytes,
        )?;
        if self.templates_refused > 0 || self.untracked > 0 {
            write!(
                f,
                "; {} templates refused by the bound, {} packets of untracked streams",
                self.templates_refused, self.untracked
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for CollectorStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "total: {}", self.total)?;
        match (self.recv_buffer, self.kernel_drops) {
            (Some(b), Some(d)) => {
                writeln!(f, "socket: receive buffer {b} bytes, kernel drops {d}")?
            }
            (Some(b), None) => {
                writeln!(f, "socket: receive buffer {b} bytes, kernel drops unknown")?
            }
            _ => {}
        }
        for (at, e) in &self.exporters {
            writeln!(f, "exporter {at}: {}; {} templates", e.counts, e.templates)?;
        }
        if !self.malformed_by_kind.is_empty() {
            let kinds: Vec<String> = self
                .malformed_by_kind
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            writeln!(f, "malformed by reason: {}", kinds.join(", "))?;
            for (at, e) in &self.last_malformed {
                writeln!(f, "  from {at}: {e}")?;
            }
        }
        Ok(())
    }
}
