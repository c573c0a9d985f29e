//! Sources the engine adds to the registered ones (`ai4ict_intent::SourceConfig`): batches
//! held in memory, and a filter that replays a few entities of another source.

use std::collections::HashSet;
use std::sync::Arc;

use ai4ict_core::{Batch, Entity, NoRows, Source, SourceError, SourceFactory, Timestamp};

/// Batches held in memory (benchmarks, tests). Worker 0 replays them all and routes rows to
/// their owners, as it would for a file; the batches are moved, not copied.
pub struct MemoryFeed {
    batches: std::vec::IntoIter<Batch>,
}

impl MemoryFeed {
    /// A factory over `batches`; the first call of worker 0 takes them.
    pub fn factory(batches: Vec<Batch>) -> SourceFactory {
        let held = std::sync::Mutex::new(Some(batches));
        Arc::new(move |index, _peers| {
            if index != 0 {
                return Ok(Box::new(NoRows) as Box<dyn Source>);
            }
            let mine = held
                .lock()
                .ok()
                .and_then(|mut h| h.take())
                .unwrap_or_default();
            Ok(Box::new(MemoryFeed {
                batches: mine.into_iter(),
            }) as Box<dyn Source>)
        })
    }
}

impl Source for MemoryFeed {
    fn next_batch(&mut self) -> Option<Result<Batch, SourceError>> {
        self.batches.next().map(Ok)
    }
}

/// The rows of `entities` only, out of the sources `inner` makes: replays a few entities (for
/// plots) at a fraction of a whole run's cost, since every entity's nodes are independent.
pub fn only(inner: SourceFactory, entities: Vec<Entity>) -> SourceFactory {
    let keep: Arc<HashSet<Entity>> = Arc::new(entities.into_iter().collect());
    Arc::new(move |index, peers| {
        Ok(Box::new(Only {
            inner: inner(index, peers)?,
            keep: Arc::clone(&keep),
        }) as Box<dyn Source>)
    })
}

/// See [`only`].
struct Only {
    inner: Box<dyn Source>,
    keep: Arc<HashSet<Entity>>,
}

impl Source for Only {
    fn next_batch(&mut self) -> Option<Result<Batch, SourceError>> {
        let batch = match self.inner.next_batch()? {
            Ok(b) => b,
            Err(e) => return Some(Err(e)),
        };
        let mut out = Batch::new(batch.width());
        for i in (0..batch.len()).filter(|&i| self.keep.contains(batch.entity(i))) {
            out.push(batch.entity(i).clone(), batch.time(i), batch.row(i));
        }
        Some(Ok(out))
    }
}

/// Longest a paced source sleeps before it gives the worker back (which then checks whether
/// the run was stopped).
const PACE_SLICE: std::time::Duration = std::time::Duration::from_millis(50);

/// The sources `inner` makes, delivering each batch when its event time is due: `speed`
/// seconds of event time per second of wall-clock time from the first batch on (1: real
/// time). A recorded or simulated network then plays like a live one. Until a batch is due
/// the source returns empty batches, at most [`PACE_SLICE`] apart, so a stop is seen at once.
/// Batches wholly before `from` (the history a resumed run skips) pass at once, and the
/// pacing starts at the first batch from `from` on.
pub fn paced(inner: SourceFactory, speed: f64, from: Option<Timestamp>) -> SourceFactory {
    Arc::new(move |index, peers| {
        Ok(Box::new(Paced {
            inner: inner(index, peers)?,
            speed,
            from,
            held: None,
            origin: None,
        }) as Box<dyn Source>)
    })
}

/// See [`paced`].
struct Paced {
    inner: Box<dyn Source>,
    speed: f64,
    from: Option<Timestamp>,
    held: Option<Batch>,
    /// The first batch's event time and when it was delivered.
    origin: Option<(i64, std::time::Instant)>,
}

impl Source for Paced {
    fn next_batch(&mut self) -> Option<Result<Batch, SourceError>> {
        let batch = match self.held.take() {
            Some(b) => b,
            None => match self.inner.next_batch()? {
                Ok(b) => b,
                Err(e) => return Some(Err(e)),
            },
        };
        let Some(first) = batch.times().iter().min().map(|t| t.0) else {
            return Some(Ok(batch));
        };
        let last = batch.times().iter().max().map_or(first, |t| t.0);
        if self.from.is_some_and(|from| last < from.0) {
            return Some(Ok(batch));
        }
        let (t0, w0) = *self
            .origin
            .get_or_insert((first, std::time::Instant::now()));
        let due_s = (first - t0) as f64 / 1000.0 / self.speed;
        let wait = due_s - w0.elapsed().as_secs_f64();
        if wait <= 0.0 || !wait.is_finite() {
            return Some(Ok(batch));
        }
        std::thread::sleep(PACE_SLICE.min(std::time::Duration::from_secs_f64(wait)));
        let empty = Batch::new(batch.width());
        self.held = Some(batch);
        Some(Ok(empty))
    }

    fn summary(&self) -> Option<String> {
        self.inner.summary()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row an hour for `hours` hours.
    struct Hourly(std::ops::Range<i64>);

    impl Source for Hourly {
        fn next_batch(&mut self) -> Option<Result<Batch, SourceError>> {
            let h = self.0.next()?;
            let mut b = Batch::new(1);
            b.push(Entity::new("cell"), Timestamp(h * 3_600_000), &[1.0]);
            Some(Ok(b))
        }
    }

    #[test]
    fn pacing_starts_where_the_resumed_run_does() {
        let inner: SourceFactory = Arc::new(|_, _| Ok(Box::new(Hourly(0..8)) as Box<dyn Source>));
        // 10 hours of event time a second: the history (hours 0 to 4) passes at once, then a
        // batch is due every 0.1 s.
        let mut paced = paced(inner, 36_000.0, Some(Timestamp(5 * 3_600_000)))(0, 1).unwrap();
        let mut seen = Vec::new();
        while let Some(b) = paced.next_batch() {
            let b = b.unwrap();
            seen.push(b.times().first().map(|t| t.0 / 3_600_000));
        }
        let first_wait = seen.iter().position(Option::is_none).unwrap();
        assert_eq!(seen[..first_wait], [0, 1, 2, 3, 4, 5].map(Some));
        let hours: Vec<i64> = seen.into_iter().flatten().collect();
        assert_eq!(hours, (0..8).collect::<Vec<_>>());
    }
}
