//! The SRC node (Y.3172 §8.1): where a pipeline's observations come from, as a component.
//!
//! A source's config (in the crate that implements it: the sandbox, a file, a live bus)
//! implements [`SourceComponent`]: one line for the plan, the fields it offers, and `open`
//! into a [`SourceFactory`], which makes each dataflow worker's share, a [`Source`]. The
//! intent's registry of sources lists every config type once.

use std::sync::Arc;

use crate::Batch;

/// Why a source could not open or stopped: its message names the source and the place
/// (file, line, field; topic, message).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// Y.3172 §8.1 SRC: one worker's share of a source, read batch by batch in time order (per
/// entity). A live source returns what has arrived, waiting briefly at most, so the worker
/// keeps stepping the dataflow.
pub trait Source: Send {
    /// The next batch, `None` at the end, or the error that stopped the source.
    fn next_batch(&mut self) -> Option<Result<Batch, SourceError>>;

    /// What the source has to say when it is done (rows skipped or quarantined, …).
    fn summary(&self) -> Option<String> {
        None
    }

    /// Rows the source holds back (a live source's reorder buffer, Y.3172 §8.1 SRC/C), in
    /// order, taken when the run stops so nothing read is lost; `None` when it holds none.
    fn take_held(&mut self) -> Option<Batch> {
        None
    }

    /// Rows dropped as late so far: older than the source's watermark when they came.
    fn late_rows(&self) -> u64 {
        0
    }

    /// Switches the source to checkpoints (before the first batch): messages are
    /// acknowledged only on [`commit`](Self::commit), and reading goes on after `position`,
    /// a [`cut`](Self::cut) of a previous run, when given (read in partitions: every reader's
    /// cut one after the other, of which each takes its partitions'). Only sources whose
    /// component is [`SourceComponent::resumable`] support it; others refuse.
    fn checkpoint_from(&mut self, position: Option<&[u8]>) -> Result<(), SourceError> {
        let _ = position;
        Err(SourceError(
            "this source cannot resume from a checkpoint".into(),
        ))
    }

    /// Where the source is now, for checkpoint `epoch`: everything read before is covered by
    /// it. The messages read so far are held until `epoch` is committed. (Read in partitions,
    /// a reader is cut every round, `epoch` being the round.)
    fn cut(&mut self, epoch: u64) -> Vec<u8> {
        let _ = epoch;
        Vec::new()
    }

    /// Checkpoint `epoch` is durable: acknowledges the messages of every cut up to it.
    fn commit(&mut self, epoch: u64) {
        let _ = epoch;
    }
}

/// Makes the source of worker `index` of `peers`. Each worker may read its own share (the
/// sandbox generates the cells a worker owns) or one worker may read everything (a file).
pub type SourceFactory =
    Arc<dyn Fn(usize, usize) -> Result<Box<dyn Source>, SourceError> + Send + Sync>;

/// Where a [`SourceProblem`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemAt {
    /// The source's config as a whole.
    Whole,
    /// A key of the source's config (`qos`).
    Key(&'static str),
    /// The pipeline's collected fields (`collect.fields`).
    CollectFields,
}

/// A problem with a source's config, found before anything runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceProblem {
    /// Where it is.
    pub at: ProblemAt,
    /// What is wrong.
    pub message: String,
    /// What would be right, when there is something to say.
    pub hint: Option<String>,
}

impl SourceProblem {
    /// A problem at `at`.
    pub fn new(at: ProblemAt, message: impl Into<String>, hint: Option<&str>) -> Self {
        Self {
            at,
            message: message.into(),
            hint: hint.map(str::to_string),
        }
    }
}

/// True when `path` is absolute or climbs above the directory it starts from: what an intent
/// submitted remotely may not name.
pub fn leaves_working_dir(path: &std::path::Path) -> bool {
    use std::path::Component;
    let mut depth: i64 = 0;
    for c in path.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => return true,
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

/// A source's config as a component of the pipeline.
pub trait SourceComponent {
    /// What is read, in one line for the plan (no secrets).
    fn describe(&self) -> String;

    /// A short name for messages ("the sandbox network", a file's path, a topic).
    fn target(&self) -> String;

    /// True for a source that runs until it is stopped (a live bus).
    fn is_live(&self) -> bool {
        false
    }

    /// True for a source that can go on from a checkpoint's position, holding its
    /// acknowledgements until the checkpoint is durable (a JetStream consumer): see
    /// [`Source::checkpoint_from`].
    fn resumable(&self) -> bool {
        false
    }

    /// The partitions of a source that every worker reads its share of, each worker those it
    /// owns (`None`: worker 0 reads it whole).
    fn partitions(&self) -> Option<u32> {
        None
    }

    /// The fields the source offers when the intent names none, or an error saying why the
    /// intent must name them (a live bus has no file to find them in).
    fn fields(&self) -> Result<Vec<String>, SourceError>;

    /// The per-worker sources reading `fields`, in that order.
    fn open(&self, fields: &[String]) -> Result<SourceFactory, SourceError>;

    /// What is wrong with the config for a pipeline collecting `fields` (empty: whatever the
    /// source offers), submitted remotely when `remote` (its files must then stay below the
    /// working directory, and it may name no secret file). Checked before anything runs.
    fn problems(&self, fields: &[String], remote: bool) -> Vec<SourceProblem> {
        let _ = (fields, remote);
        Vec::new()
    }
}

/// A source with nothing to read: the share of the workers that do not read a file or a bus.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRows;

impl Source for NoRows {
    fn next_batch(&mut self) -> Option<Result<Batch, SourceError>> {
        None
    }

    /// A worker owning no partition of a source read in partitions has nothing to resume.
    fn checkpoint_from(&mut self, _position: Option<&[u8]>) -> Result<(), SourceError> {
        Ok(())
    }
}

/// A factory giving worker 0 of every run the source `open` makes and every other worker
/// [`NoRows`]: for a source one reader takes whole (a file, a bus), whose rows the
/// dataflow routes to their owners.
pub fn first_worker<S: Source + 'static>(
    open: impl Fn() -> Result<S, SourceError> + Send + Sync + 'static,
) -> SourceFactory {
    Arc::new(move |index, _peers| {
        if index != 0 {
            return Ok(Box::new(NoRows) as Box<dyn Source>);
        }
        Ok(Box::new(open()?) as Box<dyn Source>)
    })
}
