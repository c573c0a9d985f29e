use ai4ict_core::{Batch, Entity, Interval, Timestamp};
use ai4ict_intent::{FillMethod, PreprocessStep, RollingStat};
use serde::{Deserialize, Serialize};

use super::EntityMap;

/// Longest gap (in intervals) that `fill_gaps` fills: fewer than the model's telemetry check
/// counts as a silent source ([`ai4ict_anomaly::telemetry::SILENT_AFTER`]), so a source that
/// went silent stays a gap that the check reports, instead of invented rows that hide it (nor
/// does a source down for a week flood the model with invented rows).
const MAX_FILL: i64 = ai4ict_anomaly::telemetry::SILENT_AFTER as i64 - 1;

/// The preprocessor node (Y.3172 §8.1, PP): resampling, gap filling, clipping and rolling
/// features, applied per entity in the order the intent lists them.
///
/// Rows of one entity must arrive in time order for gap filling and rolling windows to be
/// meaningful; rows older than the entity's latest interval are dropped and counted
/// (`late`), duplicates of the latest interval too.
pub struct Preprocessor {
    width: usize,
    resample: bool,
    steps: Steps,
    state: EntityMap<EntityState>,
    counts: Counts,
}

/// The per-row steps after resampling.
struct Steps {
    interval: Interval,
    fill: FillMethod,
    clips: Vec<(usize, f64, f64)>,
    rolling: Vec<(usize, usize, RollingStat)>,
}

#[derive(Default)]
struct Counts {
    late: u64,
    filled: u64,
}

/// What the preprocessor keeps per entity (last row, open resampling interval, rolling
/// windows); part of a pipeline's snapshot.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EntityState {
    last_time: Option<Timestamp>,
    last: Vec<f64>,
    /// Resampling: sums and counts of the open interval.
    open: Option<(Timestamp, Vec<f64>, Vec<u32>)>,
    windows: Vec<Vec<f64>>,
    cursor: usize,
}

impl EntityState {
    fn bytes(&self) -> usize {
        use std::mem::size_of;
        size_of::<Self>()
            + self.last.len() * size_of::<f64>()
            + self.open.as_ref().map_or(0, |(_, sums, counts)| {
                sums.len() * size_of::<f64>() + counts.len() * size_of::<u32>()
            })
            + self
                .windows
                .iter()
                .map(|w| size_of::<Vec<f64>>() + w.len() * size_of::<f64>())
                .sum::<usize>()
    }
}

impl Preprocessor {
    /// Builds the node for rows of `fields` aligned to `interval`.
    /// Field names in the steps must be among `fields` (the intent validator checks it).
    pub fn new(steps: &[PreprocessStep], fields: &[String], interval: Interval) -> Self {
        let idx = |f: &str| fields.iter().position(|x| x == f);
        let mut p = Self {
            width: fields.len(),
            resample: false,
            steps: Steps {
                interval,
                fill: FillMethod::None,
                clips: Vec::new(),
                rolling: Vec::new(),
            },
            state: EntityMap::default(),
            counts: Counts::default(),
        };
        for s in steps {
            match s {
                PreprocessStep::Resample {} => p.resample = true,
                PreprocessStep::FillGaps(m) => p.steps.fill = *m,
                PreprocessStep::Clip { field, min, max } => {
                    if let Some(i) = idx(field) {
                        let bounds = (
                            min.unwrap_or(f64::NEG_INFINITY),
                            max.unwrap_or(f64::INFINITY),
                        );
                        p.steps.clips.push((i, bounds.0, bounds.1));
                    }
                }
                PreprocessStep::Rolling {
                    field,
                    window,
                    stat,
                } => {
                    if let Some(i) = idx(field) {
                        p.steps.rolling.push((i, (*window).max(1) as usize, *stat));
                    }
                }
            }
        }
        p
    }

    /// Rows dropped because they were older than (or duplicated) their entity's latest interval.
    pub fn late(&self) -> u64 {
        self.counts.late
    }

    /// Rows invented by gap filling.
    pub fn filled(&self) -> u64 {
        self.counts.filled
    }

    /// True when the node changes nothing (no steps), so the engine can skip it.
    pub fn is_identity(&self) -> bool {
        !self.resample
            && self.steps.fill == FillMethod::None
            && self.steps.clips.is_empty()
            && self.steps.rolling.is_empty()
    }

    /// Processes one batch into `out` (cleared first).
    pub fn process(&mut self, batch: &Batch, out: &mut Batch) {
        *out = Batch::with_capacity(self.width, batch.len());
        let mut row = vec![0.0; self.width];
        for (entity, time, values) in batch.rows() {
            let t = time.floor(self.steps.interval);
            let st = self.state.entry(entity.clone()).or_default();
            if self.resample {
                match &mut st.open {
                    Some((open_t, sums, counts)) if *open_t == t => {
                        for (k, v) in values.iter().enumerate() {
                            if v.is_finite() {
                                sums[k] += v;
                                counts[k] += 1;
                            }
                        }
                        continue;
                    }
                    Some((open_t, _, _)) if *open_t > t => {
                        self.counts.late += 1;
                        continue;
                    }
                    _ => {}
                }
                let fresh = (
                    t,
                    values
                        .iter()
                        .map(|v| if v.is_finite() { *v } else { 0.0 })
                        .collect(),
                    values.iter().map(|v| u32::from(v.is_finite())).collect(),
                );
                let Some((closed_t, sums, counts)) = st.open.replace(fresh) else {
                    continue;
                };
                for k in 0..self.width {
                    row[k] = if counts[k] > 0 {
                        sums[k] / f64::from(counts[k])
                    } else {
                        f64::NAN
                    };
                }
                self.steps
                    .emit(&mut self.counts, st, entity, closed_t, &mut row, out);
            } else {
                row.copy_from_slice(values);
                self.steps
                    .emit(&mut self.counts, st, entity, t, &mut row, out);
            }
        }
    }

    /// Each entity's state, for a snapshot.
    pub fn states(&self) -> impl Iterator<Item = (&Entity, &EntityState)> {
        self.state.iter()
    }

    /// Starts `entity` from a snapshot's state.
    pub fn restore(&mut self, entity: Entity, state: EntityState) {
        self.state.insert(entity, state);
    }

    /// Bytes of per-entity state (last rows, open intervals, rolling windows).
    pub fn state_bytes(&self) -> usize {
        self.state.values().map(EntityState::bytes).sum()
    }

    /// Closes every entity's open resampling interval (end of stream).
    pub fn flush(&mut self, out: &mut Batch) {
        *out = Batch::new(self.width);
        if !self.resample {
            return;
        }
        let mut entities: Vec<_> = self.state.keys().cloned().collect();
        entities.sort();
        for entity in entities {
            let st = self.state.get_mut(&entity).expect("key just listed");
            if let Some((t, sums, counts)) = st.open.take() {
                let mut row: Vec<f64> = (0..self.width)
                    .map(|k| {
                        if counts[k] > 0 {
                            sums[k] / f64::from(counts[k])
                        } else {
                            f64::NAN
                        }
                    })
                    .collect();
                self.steps
                    .emit(&mut self.counts, st, &entity, t, &mut row, out);
            }
        }
    }
}

impl Steps {
    /// Gap filling, then clipping and rolling features, for one row of one entity; `values`
    /// is the caller's scratch row, changed in place (no allocation per row).
    fn emit(
        &self,
        counts: &mut Counts,
        st: &mut EntityState,
        entity: &Entity,
        t: Timestamp,
        values: &mut [f64],
        out: &mut Batch,
    ) {
        let step = self.interval.millis();
        let fill = self.fill;
        if let Some(last) = st.last_time {
            if t <= last {
                counts.late += 1;
                return;
            }
            let missing = (t.0 - last.0) / step - 1;
            if fill != FillMethod::None && missing > 0 && missing <= MAX_FILL && !st.last.is_empty()
            {
                let mut row = vec![0.0; values.len()];
                for k in 1..=missing {
                    let frac = k as f64 / (missing + 1) as f64;
                    for (j, r) in row.iter_mut().enumerate() {
                        let (a, b) = (st.last[j], values[j]);
                        *r = match fill {
                            FillMethod::Linear if b.is_finite() => a + (b - a) * frac,
                            _ => a,
                        };
                    }
                    counts.filled += 1;
                    self.finish_row(st, entity, Timestamp(last.0 + k * step), &mut row, out);
                }
            }
        }
        if fill != FillMethod::None && !st.last.is_empty() {
            for (v, last) in values.iter_mut().zip(&st.last) {
                if !v.is_finite() {
                    *v = *last;
                }
            }
        }
        st.last_time = Some(t);
        st.last.clear();
        st.last.extend_from_slice(values);
        self.finish_row(st, entity, t, values, out);
    }

    fn finish_row(
        &self,
        st: &mut EntityState,
        entity: &Entity,
        t: Timestamp,
        row: &mut [f64],
        out: &mut Batch,
    ) {
        let (clips, rolling) = (&self.clips, &self.rolling);
        for &(i, lo, hi) in clips {
            if row[i].is_finite() {
                row[i] = row[i].clamp(lo, hi);
            }
        }
        if !rolling.is_empty() {
            let longest = rolling.iter().map(|r| r.1).max().unwrap_or(1);
            if st.windows.len() != rolling.len() {
                st.windows = rolling.iter().map(|_| vec![f64::NAN; longest]).collect();
            }
            for (w, &(i, len, stat)) in rolling.iter().enumerate() {
                let buf = &mut st.windows[w];
                buf[st.cursor % longest] = row[i];
                let recent = (0..len)
                    .map(|k| buf[(st.cursor + longest - k) % longest])
                    .filter(|v| v.is_finite());
                row[i] = match stat {
                    RollingStat::Mean => {
                        let (s, n) = recent.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
                        if n > 0 {
                            s / f64::from(n)
                        } else {
                            f64::NAN
                        }
                    }
                    RollingStat::Min => recent.fold(f64::NAN, f64::min),
                    RollingStat::Max => recent.fold(f64::NAN, f64::max),
                };
            }
            st.cursor += 1;
        }
        out.push(entity.clone(), t, row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ai4ict_core::Entity;

    fn batch(rows: &[(&str, i64, f64)]) -> Batch {
        let mut b = Batch::new(1);
        for (e, m, v) in rows {
            b.push(Entity::new(*e), Timestamp(m * 60_000), &[*v]);
        }
        b
    }

    #[test]
    fn linear_fill_and_late_rows() {
        let fields = vec!["x".to_string()];
        let mut p = Preprocessor::new(
            &[PreprocessStep::FillGaps(FillMethod::Linear)],
            &fields,
            Interval::from_minutes(15),
        );
        let mut out = Batch::new(1);
        p.process(
            &batch(&[
                ("a", 0, 0.0),
                ("a", 45, 3.0),
                ("a", 30, 9.0),
                ("a", 45, 9.0),
            ]),
            &mut out,
        );
        let got: Vec<(i64, f64)> = out.rows().map(|(_, t, v)| (t.0 / 60_000, v[0])).collect();
        assert_eq!(got, vec![(0, 0.0), (15, 1.0), (30, 2.0), (45, 3.0)]);
        assert_eq!(p.late(), 2);
        assert_eq!(p.filled(), 2);
    }

    #[test]
    fn resample_averages_and_flushes() {
        let fields = vec!["x".to_string()];
        let mut p = Preprocessor::new(
            &[PreprocessStep::Resample {}],
            &fields,
            Interval::from_minutes(15),
        );
        let mut out = Batch::new(1);
        p.process(
            &batch(&[("a", 1, 1.0), ("a", 5, 3.0), ("a", 16, 10.0)]),
            &mut out,
        );
        assert_eq!(
            out.rows().map(|(_, _, v)| v[0]).collect::<Vec<_>>(),
            vec![2.0]
        );
        p.flush(&mut out);
        assert_eq!(
            out.rows().map(|(_, t, v)| (t.0, v[0])).collect::<Vec<_>>(),
            vec![(15 * 60_000, 10.0)]
        );
    }

    #[test]
    fn clip_and_rolling_mean() {
        let fields = vec!["x".to_string()];
        let steps = [
            PreprocessStep::Clip {
                field: "x".into(),
                min: Some(0.0),
                max: Some(10.0),
            },
            PreprocessStep::Rolling {
                field: "x".into(),
                window: 2,
                stat: RollingStat::Mean,
            },
        ];
        let mut p = Preprocessor::new(&steps, &fields, Interval::from_minutes(15));
        let mut out = Batch::new(1);
        p.process(
            &batch(&[("a", 0, 4.0), ("a", 15, 100.0), ("a", 30, -5.0)]),
            &mut out,
        );
        assert_eq!(
            out.rows().map(|(_, _, v)| v[0]).collect::<Vec<_>>(),
            vec![4.0, 7.0, 5.0]
        );
    }
}
