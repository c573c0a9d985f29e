//! Sources (Y.3172 SRC) as per-worker feeds.

use std::collections::HashSet;
use std::sync::Arc;

use std::time::Duration;

use ai4ict_connectors::{
    FileSource, FileSourceConfig, LiveSource, MqttSourceConfig, NatsSourceConfig,
};
use ai4ict_core::{Batch, Entity};
use ai4ict_sandbox::Network;

use crate::dataflow::{Feed, FeedFactory};
use crate::EngineError;

/// The sandbox network (Y.3181 simulated underlay) as a source: each worker generates the
/// cells it owns, one batch per interval, so no row crosses a worker or process boundary twice.
pub struct SandboxFeed {
    net: Arc<Network>,
    cells: Vec<usize>,
    fields: Vec<usize>,
    step: usize,
}

impl SandboxFeed {
    /// The feed of worker `index` of `peers`.
    pub fn new(net: Arc<Network>, fields: Vec<usize>, index: usize, peers: usize) -> Self {
        let cells = (0..net.cells().len())
            .filter(|&c| net.entity(c).is_some_and(|e| e.owner(peers) == index))
            .collect();
        Self {
            net,
            cells,
            fields,
            step: 0,
        }
    }

    /// A factory giving every worker its share.
    pub fn factory(net: Arc<Network>, fields: Vec<usize>) -> FeedFactory {
        Arc::new(move |index, peers| {
            Ok(Box::new(SandboxFeed::new(
                Arc::clone(&net),
                fields.clone(),
                index,
                peers,
            )) as Box<dyn Feed>)
        })
    }
}

impl Feed for SandboxFeed {
    fn next_batch(&mut self) -> Option<Result<Batch, EngineError>> {
        if self.step >= self.net.steps() {
            return None;
        }
        let b = self
            .net
            .batch(self.step, self.cells.iter().copied(), &self.fields);
        self.step += 1;
        Some(Ok(b))
    }
}

/// Rows per batch read from a file.
const FILE_BATCH_ROWS: usize = 4096;

/// A CSV or JSON-lines file as a source. Worker 0 reads it and routes rows to their owners;
/// the other workers' feeds are empty.
pub struct FileFeed {
    source: FileSource,
}

impl FileFeed {
    /// A factory: worker 0 opens the file, the others read nothing.
    pub fn factory(config: FileSourceConfig, fields: Vec<String>) -> FeedFactory {
        Arc::new(move |index, _peers| {
            if index != 0 {
                return Ok(Box::new(Empty) as Box<dyn Feed>);
            }
            let source = FileSource::open(&config, &fields)
                .map_err(|e| EngineError::Source(e.to_string()))?;
            Ok(Box::new(FileFeed { source }) as Box<dyn Feed>)
        })
    }
}

impl Feed for FileFeed {
    fn next_batch(&mut self) -> Option<Result<Batch, EngineError>> {
        match self.source.next_batch(FILE_BATCH_ROWS) {
            Ok(Some(b)) => Some(Ok(b)),
            Ok(None) => None,
            Err(e) => Some(Err(EngineError::Source(e.to_string()))),
        }
    }

    fn summary(&self) -> Option<String> {
        Some(self.source.report().summary())
    }
}

/// How long a live feed waits for a message before it gives the worker back (which then
/// checks whether the run was stopped and polls again).
const LIVE_WAIT: Duration = Duration::from_millis(50);

/// A live source (MQTT, NATS JetStream) as a feed: worker 0 receives every message and routes
/// rows to their owners, as for a file. Each call drains what has arrived, waiting at most
/// [`LIVE_WAIT`], so the dataflow keeps stepping and sees a stop; the source ends at its
/// `max_rows` or `until_idle`, or when the run is stopped.
pub struct LiveFeed {
    source: LiveSource,
}

impl LiveFeed {
    /// A factory: worker 0 subscribes to `config`'s MQTT topic, the others read nothing.
    pub fn mqtt(config: MqttSourceConfig, fields: Vec<String>) -> FeedFactory {
        Self::factory(move || LiveSource::mqtt(&config, &fields))
    }

    /// A factory: worker 0 binds `config`'s JetStream consumer, the others read nothing.
    pub fn nats(config: NatsSourceConfig, fields: Vec<String>) -> FeedFactory {
        Self::factory(move || LiveSource::nats(&config, &fields))
    }

    fn factory(
        open: impl Fn() -> Result<LiveSource, ai4ict_connectors::ConnectorError> + Send + Sync + 'static,
    ) -> FeedFactory {
        Arc::new(move |index, _peers| {
            if index != 0 {
                return Ok(Box::new(Empty) as Box<dyn Feed>);
            }
            let source = open().map_err(|e| EngineError::Source(e.to_string()))?;
            Ok(Box::new(LiveFeed { source }) as Box<dyn Feed>)
        })
    }
}

impl Feed for LiveFeed {
    fn next_batch(&mut self) -> Option<Result<Batch, EngineError>> {
        match self.source.next_batch(FILE_BATCH_ROWS, LIVE_WAIT) {
            Ok(Some(b)) => Some(Ok(b)),
            Ok(None) => None,
            Err(e) => Some(Err(EngineError::Source(e.to_string()))),
        }
    }

    fn summary(&self) -> Option<String> {
        Some(self.source.summary())
    }
}

/// Batches held in memory (benchmarks, tests). Worker 0 replays them all and routes rows to
/// their owners, as it would for a file; the batches are moved, not copied.
pub struct MemoryFeed {
    batches: std::vec::IntoIter<Batch>,
}

impl MemoryFeed {
    /// A factory over `batches`; the first call of worker 0 takes them.
    pub fn factory(batches: Vec<Batch>) -> FeedFactory {
        let held = std::sync::Mutex::new(Some(batches));
        Arc::new(move |index, _peers| {
            let mine = if index == 0 {
                held.lock()
                    .ok()
                    .and_then(|mut h| h.take())
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            Ok(Box::new(MemoryFeed {
                batches: mine.into_iter(),
            }) as Box<dyn Feed>)
        })
    }
}

impl Feed for MemoryFeed {
    fn next_batch(&mut self) -> Option<Result<Batch, EngineError>> {
        self.batches.next().map(Ok)
    }
}

struct Empty;

impl Feed for Empty {
    fn next_batch(&mut self) -> Option<Result<Batch, EngineError>> {
        None
    }
}

/// The rows of `entities` only, out of the feeds `inner` makes: replays a few entities (for
/// plots) at a fraction of a whole run's cost, since every entity's nodes are independent.
pub fn only(inner: FeedFactory, entities: Vec<Entity>) -> FeedFactory {
    let keep: Arc<HashSet<Entity>> = Arc::new(entities.into_iter().collect());
    Arc::new(move |index, peers| {
        Ok(Box::new(Only {
            inner: inner(index, peers)?,
            keep: Arc::clone(&keep),
        }) as Box<dyn Feed>)
    })
}

/// See [`only`].
struct Only {
    inner: Box<dyn Feed>,
    keep: Arc<HashSet<Entity>>,
}

impl Feed for Only {
    fn next_batch(&mut self) -> Option<Result<Batch, EngineError>> {
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
