//! Event time on a live source (Y.3172 §8.1 SRC/C): a bounded reorder buffer behind a
//! watermark.
//!
//! A bus delivers rows in the order they were sent, not in the order they happened. The
//! buffer holds them ordered by event time and releases a row once the watermark has reached
//! it: the latest event time seen less the bounded lateness (the "bounded out-of-orderness"
//! watermark of stream processors). What leaves is in event-time order, ties in the order
//! they came. A row older than the watermark when it comes, or than a row already released,
//! is **late**: it is dropped and counted, so the model never sees time go backwards. At most
//! `max_held` rows are held; beyond that the oldest is released before its time (counted),
//! so memory stays bounded whatever the senders' clocks say. [`Reorder::flush`] releases
//! the rest when the source ends or the run stops: nothing that was not late is lost.
//!
//! The watermark is the source's, over all entities: one reader takes a live source whole
//! (worker 0, before the exchange), so it sees every row.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use ai4ict_core::{Batch, Entity, Interval, Timestamp};

/// Rows a reorder buffer holds by default: at a few dozen bytes a row, a few MiB.
pub const DEFAULT_MAX_HELD: usize = 100_000;

/// A held row, ordered by (event time, arrival).
#[derive(Debug)]
struct Held {
    time: Timestamp,
    arrival: u64,
    /// The message's position in its stream (JetStream), for checkpoints.
    seq: Option<u64>,
    entity: Entity,
    values: Box<[f64]>,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.arrival) == (other.time, other.arrival)
    }
}

impl Eq for Held {}

impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Held {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.time, self.arrival).cmp(&(other.time, other.arrival))
    }
}

/// The reorder buffer of one live source (see the module documentation).
#[derive(Debug)]
pub(crate) struct Reorder {
    lateness: Interval,
    max_held: usize,
    held: BinaryHeap<Reverse<Held>>,
    /// The latest event time seen.
    latest: Option<Timestamp>,
    /// The latest event time released.
    released: Option<Timestamp>,
    arrived: u64,
    late: u64,
    /// Rows released before the watermark reached them, the buffer being full.
    early: u64,
}

impl Reorder {
    /// A buffer releasing rows `lateness` behind the latest event time, holding at most
    /// `max_held` (at least 1).
    pub(crate) fn new(lateness: Interval, max_held: usize) -> Self {
        Self {
            lateness,
            max_held: max_held.max(1),
            held: BinaryHeap::new(),
            latest: None,
            released: None,
            arrived: 0,
            late: 0,
            early: 0,
        }
    }

    /// The latest event time seen less the lateness; `None` before the first row.
    pub(crate) fn watermark(&self) -> Option<Timestamp> {
        self.latest
            .map(|t| Timestamp(t.0.saturating_sub(self.lateness.millis())))
    }

    /// Takes the rows of `rows` (of one message, `seq` in its stream): a late one is counted
    /// and dropped, the others held. When more than `max_held` are held, the oldest go to
    /// `out` at once.
    pub(crate) fn admit(&mut self, rows: &Batch, seq: Option<u64>, out: &mut Batch) {
        for (entity, time, values) in rows.rows() {
            self.latest = self.latest.max(Some(time));
            // The frontier: nothing older may leave any more.
            let frontier = self.watermark().max(self.released);
            if frontier.is_some_and(|f| time < f) {
                self.late += 1;
                continue;
            }
            self.arrived += 1;
            self.held.push(Reverse(Held {
                time,
                arrival: self.arrived,
                seq,
                entity: entity.clone(),
                values: values.into(),
            }));
            if self.held.len() > self.max_held {
                self.early += 1;
                self.pop(out);
            }
        }
    }

    /// Releases, in event-time order, the held rows the watermark has reached.
    pub(crate) fn release(&mut self, out: &mut Batch) {
        let Some(w) = self.watermark() else {
            return;
        };
        while self.held.peek().is_some_and(|Reverse(h)| h.time <= w) {
            self.pop(out);
        }
    }

    /// Releases every held row, in event-time order (the source has ended or the run stops).
    pub(crate) fn flush(&mut self, out: &mut Batch) {
        while self.pop(out) {}
    }

    fn pop(&mut self, out: &mut Batch) -> bool {
        let Some(Reverse(h)) = self.held.pop() else {
            return false;
        };
        self.released = self.released.max(Some(h.time));
        out.push(h.entity, h.time, &h.values);
        true
    }

    /// The stream position of the oldest message with a row still held.
    pub(crate) fn oldest_seq(&self) -> Option<u64> {
        self.held.iter().filter_map(|Reverse(h)| h.seq).min()
    }

    /// Rows dropped as late.
    pub(crate) fn late(&self) -> u64 {
        self.late
    }

    /// The report's note: late rows and rows released early; `None` when there were none.
    pub(crate) fn note(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.late > 0 {
            parts.push(format!(
                "{} late row{} dropped (older than the watermark, lateness {})",
                self.late,
                if self.late == 1 { "" } else { "s" },
                self.lateness
            ));
        }
        if self.early > 0 {
            parts.push(format!(
                "{} row{} released before the watermark (reorder buffer full at {} rows)",
                self.early,
                if self.early == 1 { "" } else { "s" },
                self.max_held
            ));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIN: i64 = 60_000;

    fn rows(times: &[i64]) -> Batch {
        let mut b = Batch::new(1);
        for (i, &t) in times.iter().enumerate() {
            b.push(
                Entity::new(format!("e{}", i % 3)),
                Timestamp(t),
                &[i as f64],
            );
        }
        b
    }

    fn times(b: &Batch) -> Vec<i64> {
        b.rows().map(|(_, t, _)| t.0).collect()
    }

    #[test]
    fn rows_within_lateness_come_out_sorted_once_the_watermark_passes() {
        let mut r = Reorder::new(Interval::from_minutes(5), 100);
        let mut out = Batch::new(1);
        r.admit(&rows(&[2 * MIN, 0, MIN, 4 * MIN, 3 * MIN]), None, &mut out);
        r.release(&mut out);
        assert!(out.is_empty(), "the watermark (-1m) has reached none");
        r.admit(&rows(&[6 * MIN]), None, &mut out);
        r.release(&mut out);
        assert_eq!(times(&out), [0, MIN], "watermark 1m: rows at or before it");
        r.flush(&mut out);
        assert_eq!(times(&out), [0, MIN, 2 * MIN, 3 * MIN, 4 * MIN, 6 * MIN]);
        assert_eq!((r.late(), r.early, r.held.len()), (0, 0, 0));
        assert_eq!(r.note(), None);
    }

    #[test]
    fn rows_older_than_the_watermark_or_a_released_row_are_late() {
        let mut r = Reorder::new(Interval::from_minutes(5), 100);
        let mut out = Batch::new(1);
        r.admit(&rows(&[10 * MIN, 4 * MIN, 5 * MIN]), None, &mut out);
        // 4m is older than the watermark 5m; 5m is not.
        assert_eq!(r.late(), 1);
        r.release(&mut out);
        assert_eq!(times(&out), [5 * MIN]);
        r.admit(&rows(&[5 * MIN, 9 * MIN]), None, &mut out);
        assert_eq!(r.late(), 1, "at the watermark is in time");
        r.flush(&mut out);
        assert_eq!(times(&out), [5 * MIN, 5 * MIN, 9 * MIN, 10 * MIN]);
        // After the flush released 10m, an older row is late whatever the watermark says.
        r.admit(&rows(&[8 * MIN]), None, &mut out);
        assert_eq!(r.late(), 2);
        assert_eq!(
            r.note().unwrap(),
            "2 late rows dropped (older than the watermark, lateness 5m)"
        );
    }

    #[test]
    fn a_full_buffer_releases_its_oldest_early_and_counts_them() {
        let mut r = Reorder::new(Interval::from_minutes(60), 3);
        let mut out = Batch::new(1);
        r.admit(
            &rows(&[5 * MIN, MIN, 3 * MIN, 2 * MIN, 4 * MIN]),
            None,
            &mut out,
        );
        assert_eq!(r.held.len(), 3);
        assert_eq!(
            times(&out),
            [MIN, 2 * MIN],
            "the oldest, when the fourth came"
        );
        assert_eq!(r.early, 2);
        // Older than what left early: late, so the output stays in order.
        r.admit(&rows(&[90 * 1000]), None, &mut out);
        assert_eq!(r.late(), 1);
        r.flush(&mut out);
        assert_eq!(times(&out), [MIN, 2 * MIN, 3 * MIN, 4 * MIN, 5 * MIN]);
        assert!(r
            .note()
            .unwrap()
            .contains("2 rows released before the watermark"));
    }

    #[test]
    fn values_and_entities_travel_with_their_row_and_ties_keep_arrival_order() {
        let mut r = Reorder::new(Interval::from_minutes(1), 10);
        let mut out = Batch::new(1);
        r.admit(&rows(&[MIN, 0, MIN]), Some(7), &mut out);
        r.admit(&rows(&[0]), Some(8), &mut out);
        assert_eq!(r.oldest_seq(), Some(7));
        r.flush(&mut out);
        let got: Vec<(String, i64, f64)> = out
            .rows()
            .map(|(e, t, v)| (e.name().to_string(), t.0, v[0]))
            .collect();
        assert_eq!(
            got,
            [
                ("e1".into(), 0, 1.0),
                ("e0".into(), 0, 0.0),
                ("e0".into(), MIN, 0.0),
                ("e2".into(), MIN, 2.0),
            ]
        );
        assert_eq!(r.oldest_seq(), None);
    }

    proptest! {
        /// Whatever comes: what leaves is sorted, at most `max_held` rows are held, and every
        /// row leaves or is counted (late or not), none twice; with room enough and every row
        /// within the lateness of the latest before it, none is late.
        #[test]
        fn out_is_sorted_bounded_and_complete(
            ts in prop::collection::vec(0i64..50, 0..200),
            lateness in 1i64..20,
            max_held in 1usize..40,
            chunk in 1usize..10,
        ) {
            let mut r = Reorder::new(Interval::from_millis(lateness), max_held);
            let mut out = Batch::new(1);
            for (n, c) in ts.chunks(chunk).enumerate() {
                // Each row's value is its place in `ts`.
                let mut b = Batch::new(1);
                for (i, &t) in c.iter().enumerate() {
                    b.push(Entity::new("e"), Timestamp(t), &[(n * chunk + i) as f64]);
                }
                r.admit(&b, None, &mut out);
                prop_assert!(r.held.len() <= max_held);
                r.release(&mut out);
            }
            r.flush(&mut out);
            let got = times(&out);
            prop_assert!(got.windows(2).all(|w| w[0] <= w[1]), "{got:?}");
            prop_assert_eq!(got.len() as u64 + r.late(), ts.len() as u64);
            let mut kept: Vec<f64> = out.rows().map(|(_, _, v)| v[0]).collect();
            kept.sort_by(f64::total_cmp);
            kept.dedup();
            prop_assert_eq!(kept.len(), got.len(), "no row twice");
            let mut latest = i64::MIN;
            let within = ts.iter().all(|&t| {
                let ok = t >= latest.saturating_sub(lateness);
                latest = latest.max(t);
                ok
            });
            if within && max_held >= ts.len() {
                prop_assert_eq!(r.late(), 0);
            }
        }
    }
}
