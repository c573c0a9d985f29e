use serde::{Deserialize, Serialize};

use crate::{Entity, Timestamp};

/// Observations in columnar form: row `i` is (`entity(i)`, `time(i)`, `row(i)`), and every
/// row has the same number of fields (`width`), in the order the pipeline's collector fixed.
///
/// A missing value is `NaN`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    width: usize,
    entities: Vec<Entity>,
    times: Vec<Timestamp>,
    values: Vec<f64>,
}

impl Batch {
    /// An empty batch whose rows have `width` fields.
    pub fn new(width: usize) -> Self {
        Self {
            width,
            ..Self::default()
        }
    }

    /// An empty batch with room for `rows` rows.
    pub fn with_capacity(width: usize, rows: usize) -> Self {
        Self {
            width,
            entities: Vec::with_capacity(rows),
            times: Vec::with_capacity(rows),
            values: Vec::with_capacity(rows * width),
        }
    }

    /// Appends one row. `values` must have `width` entries.
    ///
    /// # Panics
    /// If `values.len() != self.width()` (a programming error, never caused by input).
    pub fn push(&mut self, entity: Entity, time: Timestamp, values: &[f64]) {
        assert_eq!(values.len(), self.width, "row width");
        self.entities.push(entity);
        self.times.push(time);
        self.values.extend_from_slice(values);
    }

    /// Number of fields per row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// True when the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The entity of row `i`.
    pub fn entity(&self, i: usize) -> &Entity {
        &self.entities[i]
    }

    /// The time of row `i`.
    pub fn time(&self, i: usize) -> Timestamp {
        self.times[i]
    }

    /// The field values of row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.width..(i + 1) * self.width]
    }

    /// The field values of row `i`, writable.
    pub fn row_mut(&mut self, i: usize) -> &mut [f64] {
        &mut self.values[i * self.width..(i + 1) * self.width]
    }

    /// All entities, one per row.
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// All times, one per row.
    pub fn times(&self) -> &[Timestamp] {
        &self.times
    }

    /// Rows as (entity, time, values).
    pub fn rows(&self) -> impl ExactSizeIterator<Item = (&Entity, Timestamp, &[f64])> + '_ {
        (0..self.len()).map(|i| (&self.entities[i], self.times[i], self.row(i)))
    }

    /// The earliest time in the batch.
    pub fn min_time(&self) -> Option<Timestamp> {
        self.times.iter().copied().min()
    }

    /// The latest time in the batch.
    pub fn max_time(&self) -> Option<Timestamp> {
        self.times.iter().copied().max()
    }

    /// The rows with `from <= time < until`, in order (the batch itself when all are).
    pub fn within(self, from: Timestamp, until: Timestamp) -> Batch {
        if self.times.iter().all(|t| *t >= from && *t < until) {
            return self;
        }
        let mut out = Batch::with_capacity(self.width, self.len());
        for (e, t, v) in self.rows() {
            if t >= from && t < until {
                out.push(e.clone(), t, v);
            }
        }
        out
    }

    /// Splits the rows by owning worker (`Entity::owner`); keeps row order within each part.
    pub fn partition(self, peers: usize) -> Vec<Batch> {
        if peers <= 1 {
            return vec![self];
        }
        let per = self.len() / peers + 1;
        let mut parts: Vec<Batch> = (0..peers)
            .map(|_| Batch::with_capacity(self.width, per))
            .collect();
        for i in 0..self.len() {
            let part = &mut parts[self.entities[i].owner(peers)];
            part.entities.push(self.entities[i].clone());
            part.times.push(self.times[i]);
            part.values
                .extend_from_slice(&self.values[i * self.width..(i + 1) * self.width]);
        }
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_keeps_every_row_once() {
        let mut b = Batch::new(1);
        for i in 0..100 {
            b.push(Entity::new(format!("c{i}")), Timestamp(i), &[i as f64]);
        }
        let parts = b.clone().partition(3);
        assert_eq!(parts.iter().map(Batch::len).sum::<usize>(), 100);
        for (w, p) in parts.iter().enumerate() {
            for (e, t, v) in p.rows() {
                assert_eq!(e.owner(3), w);
                assert_eq!(v[0], t.0 as f64);
            }
        }
    }
}
