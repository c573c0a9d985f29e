//! The telemetry check beside every detector: failures of the data itself that are evidence on
//! their own, whatever a detector's score and a policy's `for` say (Y.3181 REQ-ML-SANDBOX-005,
//! data quality; in the pipeline it belongs to the model node, Y.3172 §8.1 M).
//!
//! - **Stuck values** (a flatlined counter, or counters dropped to zero and staying there):
//!   per field, the run of readings that repeat the previous one *exactly*. Each repeat costs
//!   the surprise `log10(1/p)` of a repeat at that hour of day, `p` learned from the field's
//!   own history (how often it repeated at that hour); the fields' runs add up. A field that is
//!   legitimately 0 (or constant) at night repeats then in its history, so its night-time runs
//!   cost nothing. A reading of exactly 0 is evidence too, at its own rate: it costs the
//!   surprise of a 0 at that hour, so counters dropped to zero count from their first zero
//!   rather than from their first repeat (a repeated 0 costs the larger of the two surprises,
//!   a lower bound of the surprise of both). When the sum reaches [`STUCK_DECADES`] and some
//!   field has repeated, the row is flagged: a single row of zeros is a counter reset, which
//!   wants no alert, and counters that stay at 0 are flagged at their second zero.
//! - **A silent source**: at least [`SILENT_AFTER`] missing intervals, found either while the
//!   stream goes on without the entity ([`TelemetryCheck::silent_at`], the time given by the
//!   other entities' rows: a source dead for good is found too) or, if not found so, at the row
//!   that ends the silence; reported once either way.
//!
//! The state is bounded: 24 hourly slots of three counters per field (168 bytes per field plus
//! 24 per entity), whatever the length of the stream.

use ai4ict_core::{Interval, Timestamp};
use serde::{Deserialize, Serialize};

/// Surprise, in decades (`-log10 p`), that the current runs of exact repeats must reach for a
/// row to be flagged stuck: about one chance in 10⁸ of the runs under the history's repeat
/// rates. A flatline of 8 KPIs with a week of history reaches it at its first repeat; four
/// counters dropped to zero at their second zero (their first repeat).
pub const STUCK_DECADES: f64 = 8.0;

/// Missing intervals before a row after which the source counts as having been silent. Single
/// missing readings and short runs (a collector's retry) are ordinary; 6 intervals are 90
/// minutes at 15-minute reporting.
pub const SILENT_AFTER: u32 = 6;

/// Readings of a slot before its repeat rate is trusted (a day of 15-minute samples): before
/// that, repeats in it cost nothing, so a field that is 0 every night does not alert on its
/// first nights.
const TRUSTED_AFTER: u16 = 4;

/// Counts are halved when a slot has seen this many readings, so the rates follow change.
const HALVE_AT: u16 = 2048;

const SLOTS: usize = 24;

/// What the check found in a row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TelemetryFinding {
    /// Fields repeat their previous readings exactly beyond what their history makes plausible
    /// (a flatline, or counters stuck at zero).
    Stuck {
        /// The field whose run is the most surprising.
        field: usize,
        /// Its run: readings that repeated the one before.
        repeats: u32,
    },
    /// The row follows a silence of the source.
    Silent {
        /// Intervals missing before the row.
        missing: u32,
    },
}

/// One field's memory.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Field {
    /// Last finite reading (NaN before the first).
    last: f64,
    /// Readings in the current run that repeated the previous one exactly.
    repeats: u32,
    /// Surprise of the current run, decades.
    run: f64,
    /// Readings per hour-of-day slot with a previous reading to compare with.
    seen: [u16; SLOTS],
    /// Of those, the ones that repeated it exactly.
    repeated: [u16; SLOTS],
    /// Of those, the ones that were exactly 0.
    zeros: [u16; SLOTS],
}

impl Field {
    /// Surprise, in decades, of `count` events in the slot's `seen` readings happening again
    /// (Laplace's rule); 0 until the slot is trusted.
    fn surprise(&self, slot: usize, count: &[u16; SLOTS]) -> f64 {
        if self.seen[slot] < TRUSTED_AFTER {
            return 0.0;
        }
        let p = (f64::from(count[slot]) + 1.0) / (f64::from(self.seen[slot]) + 2.0);
        -p.log10()
    }
}

/// The telemetry check of one entity (see the module's documentation): serialisable, so it is
/// part of a pipeline's snapshot, and of constant size.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TelemetryCheck {
    interval_ms: i64,
    last_time: Option<Timestamp>,
    /// The current silence was reported by [`Self::silent_at`].
    silence_reported: bool,
    fields: Vec<Field>,
}

impl TelemetryCheck {
    /// A check for rows of `width` fields every `interval`.
    pub fn new(width: usize, interval: Interval) -> Self {
        Self {
            interval_ms: interval.millis().max(1),
            last_time: None,
            silence_reported: false,
            fields: (0..width)
                .map(|_| Field {
                    last: f64::NAN,
                    ..Field::default()
                })
                .collect(),
        }
    }

    /// Bytes of state (constant for a given width).
    pub fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.fields.len() * std::mem::size_of::<Field>()
    }

    /// Intervals missing between the last row and a row at `time`.
    fn missing_before(&self, time: Timestamp) -> u32 {
        self.last_time.map_or(0, |last| {
            let gap = (time.0.saturating_sub(last.0) / self.interval_ms).saturating_sub(1);
            u32::try_from(gap).unwrap_or(u32::MAX)
        })
    }

    /// Whether the source, silent since its last row, has missed at least [`SILENT_AFTER`]
    /// intervals by `now` (the stream's time, from other entities' rows): the intervals missed,
    /// once per silence. Never before the first row.
    pub fn silent_at(&mut self, now: Timestamp) -> Option<u32> {
        if self.silence_reported || self.last_time.is_none_or(|last| now <= last) {
            return None;
        }
        // `now` is a row's time: the intervals before it are missing, and it is too.
        let missing = self.missing_before(now).saturating_add(1);
        if missing < SILENT_AFTER {
            return None;
        }
        self.silence_reported = true;
        Some(missing)
    }

    /// Checks one row (`values`, one per field; NaN or an infinity is a missing value, extra
    /// values are ignored) and learns from it. Rows older than the last are ignored. Never
    /// panics.
    pub fn update(&mut self, time: Timestamp, values: &[f64]) -> Option<TelemetryFinding> {
        if self.last_time.is_some_and(|last| time <= last) {
            return None;
        }
        let missing = self.missing_before(time);
        // A silence already reported while it lasted is not reported again at its end.
        let reported = std::mem::take(&mut self.silence_reported);
        self.last_time = Some(time);
        let slot = (time.millis_of_day() / 3_600_000).clamp(0, SLOTS as i64 - 1) as usize;
        // The runs, with this row.
        let mut total = 0.0;
        let mut repeating = false;
        let mut most: Option<(usize, f64, u32)> = None;
        for (i, f) in self.fields.iter_mut().enumerate() {
            let Some(&v) = values.get(i).filter(|v| v.is_finite()) else {
                continue;
            };
            let zero = if v == 0.0 {
                f.surprise(slot, &f.zeros)
            } else {
                0.0
            };
            if v == f.last {
                f.repeats = f.repeats.saturating_add(1);
                f.run += f.surprise(slot, &f.repeated).max(zero);
            } else {
                f.repeats = 0;
                f.run = zero;
            }
            total += f.run;
            repeating |= f.repeats > 0 && f.run > 0.0;
            if f.run > 0.0 && most.is_none_or(|(_, run, _)| f.run > run) {
                most = Some((i, f.run, f.repeats));
            }
        }
        let stuck = total >= STUCK_DECADES && repeating;
        // Learn how often each field repeats at this hour from ordinary rows only: a row whose
        // runs are already half way to stuck would teach a flatline that it is normal.
        let ordinary = total < STUCK_DECADES / 2.0;
        for (i, f) in self.fields.iter_mut().enumerate() {
            let Some(&v) = values.get(i).filter(|v| v.is_finite()) else {
                continue;
            };
            if ordinary && f.last.is_finite() {
                if f.seen[slot] >= HALVE_AT {
                    f.seen[slot] /= 2;
                    f.repeated[slot] /= 2;
                    f.zeros[slot] /= 2;
                }
                f.seen[slot] += 1;
                f.repeated[slot] += u16::from(v == f.last);
                f.zeros[slot] += u16::from(v == 0.0);
            }
            f.last = v;
        }
        match most {
            Some((field, _, repeats)) if stuck => Some(TelemetryFinding::Stuck { field, repeats }),
            _ if missing >= SILENT_AFTER && !reported => Some(TelemetryFinding::Silent { missing }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: usize = 96;

    /// Traffic with a daily cycle, 0 from midnight to 5 am, and a power reading that is never 0.
    fn traffic(i: usize) -> [f64; 2] {
        let h = (i % DAY) as f64 / 4.0;
        let noise = ((i * 7919) % 101) as f64 / 101.0;
        let t = if h < 5.0 {
            0.0
        } else {
            50.0 + 40.0 * (h / 24.0 * std::f64::consts::TAU).sin() + 5.0 * noise
        };
        [(t * 1000.0).round() / 1000.0, 200.0 + noise]
    }

    fn run(
        days: usize,
        change: impl Fn(usize, [f64; 2]) -> [f64; 2],
    ) -> Vec<(usize, TelemetryFinding)> {
        let interval = Interval::from_minutes(15);
        let mut check = TelemetryCheck::new(2, interval);
        let bytes = check.state_bytes();
        let mut found = Vec::new();
        for i in 0..days * DAY {
            let t = Timestamp(i as i64 * interval.millis());
            if let Some(f) = check.update(t, &change(i, traffic(i))) {
                found.push((i, f));
            }
        }
        assert_eq!(check.state_bytes(), bytes);
        found
    }

    #[test]
    fn zeros_every_night_are_not_stuck() {
        assert_eq!(run(10, |_, v| v), vec![]);
    }

    #[test]
    fn a_flatline_and_a_drop_are_flagged_within_three_intervals() {
        let start = 8 * DAY + 40; // 10 am
        let flat = run(9, |i, v| {
            if (start..start + 20).contains(&i) {
                traffic(start - 1)
            } else {
                v
            }
        });
        assert!(
            matches!(flat.first(), Some((i, TelemetryFinding::Stuck { .. })) if *i < start + 3),
            "{flat:?}"
        );
        // Only the traffic field drops (power goes on): its run alone must be enough, and its
        // first zero already counts (a repeat alone would take a reading more).
        let drop = run(9, |i, v| {
            if (start..start + 20).contains(&i) {
                [0.0, v[1]]
            } else {
                v
            }
        });
        assert!(
            matches!(drop.first(), Some((i, TelemetryFinding::Stuck { field: 0, .. })) if *i < start + 6),
            "{drop:?}"
        );
    }

    #[test]
    fn four_counters_dropped_to_zero_are_flagged_at_their_second_zero() {
        let interval = Interval::from_minutes(15);
        let mut check = TelemetryCheck::new(4, interval);
        let start = 8 * DAY + 40; // 10 am
        let mut found = None;
        for i in 0..start + 10 {
            let [t, _] = traffic(i);
            let row = if i >= start {
                [0.0; 4]
            } else {
                [t, t + 1.0, t + 2.0, t + 3.0]
            };
            let at = Timestamp(i as i64 * interval.millis());
            if let Some(f) = check.update(at, &row) {
                found.get_or_insert((i, f));
            }
        }
        assert!(
            matches!(found, Some((i, TelemetryFinding::Stuck { .. })) if i == start + 1),
            "{found:?}"
        );
    }

    #[test]
    fn a_row_of_zeros_is_a_counter_reset_not_a_drop() {
        let interval = Interval::from_minutes(15);
        let mut check = TelemetryCheck::new(4, interval);
        let reset = 8 * DAY + 40;
        for i in 0..9 * DAY {
            let [t, _] = traffic(i);
            let row = if i == reset {
                [0.0; 4]
            } else {
                [t, t + 1.0, t + 2.0, t + 3.0]
            };
            let at = Timestamp(i as i64 * interval.millis());
            assert_eq!(check.update(at, &row), None, "row {i}");
        }
    }

    #[test]
    fn the_state_is_168_bytes_per_field() {
        assert_eq!(std::mem::size_of::<Field>(), 168);
    }

    #[test]
    fn a_silence_is_flagged_while_it_lasts_once() {
        let interval = Interval::from_minutes(15);
        let mut check = TelemetryCheck::new(1, interval);
        let at = |i: i64| Timestamp(i * interval.millis());
        assert_eq!(check.silent_at(at(3)), None); // nothing seen yet
        assert_eq!(check.update(at(0), &[1.0]), None);
        assert_eq!(check.silent_at(at(5)), None); // 5 intervals: ordinary
        assert_eq!(check.silent_at(at(6)), Some(6));
        assert_eq!(check.silent_at(at(40)), None); // once per silence
                                                   // The row that ends it is not flagged again; the next silence is.
        assert_eq!(check.update(at(41), &[2.0]), None);
        assert_eq!(check.silent_at(at(46)), None);
        assert_eq!(check.silent_at(at(47)), Some(6));
    }

    #[test]
    fn a_silence_is_flagged_when_the_source_returns() {
        let interval = Interval::from_minutes(15);
        let mut check = TelemetryCheck::new(2, interval);
        let at = |i: i64| Timestamp(i * interval.millis());
        assert_eq!(check.update(at(0), &[1.0, 2.0]), None);
        assert_eq!(check.update(at(5), &[2.0, 3.0]), None); // 4 missing: ordinary
        assert_eq!(
            check.update(at(12), &[3.0, 4.0]),
            Some(TelemetryFinding::Silent { missing: 6 })
        );
        assert_eq!(check.update(at(11), &[3.0, 4.0]), None); // late: ignored
        assert_eq!(check.update(at(13), &[f64::NAN, f64::INFINITY]), None);
    }
}
