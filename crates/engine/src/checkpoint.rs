//! Checkpoints: a running pipeline's per-entity state and its source's position, saved at an
//! interval so that a restart loses nothing (Y.3172 §8: the pipeline's nodes keep their
//! state across a failure of the platform that runs them).
//!
//! A checkpoint is cut at a round boundary of the dataflow: worker 0 sends a marker in a
//! round of its own to every worker; each worker writes the state of the entities it owns
//! (its *part*) when the marker reaches it, after the rows before it and before those after
//! it. A source worker 0 reads whole gives its position when the marker is sent; a source read
//! in partitions has a reader per worker, each giving its position as of the marker's round
//! with its part (the dataflow processes rounds in order). Once worker 0 of process 0 has
//! delivered the alerts of the rounds before the marker and every part is durable, it writes
//! the checkpoint's manifest, and only then are the source's messages up to the positions
//! acknowledged. A crash therefore redelivers exactly the messages after the latest manifest,
//! and a restart resumes from it.
//!
//! On disk, in the checkpoint directory:
//!
//! ```text
//! ckpt-000000000007/part-0000   worker 0's entities: a PipelineState (`AI4ICTps`)
//! ckpt-000000000007/part-0001   …
//! ckpt-000000000007/manifest    `AI4ICTck`, format (u32 LE), postcard: epoch, each part's
//!                               length and hash, the source's partitions (none: read
//!                               whole), each reader's position, the rows covered
//! ```
//!
//! Format 1 (one position, no partitions) is still read for a source read whole.
//!
//! Every file is written to a temporary name, synced and renamed, and the directory synced,
//! so a file is whole or absent. A checkpoint without a manifest is incomplete (a crash while
//! writing it) and the previous one is used: its messages were never acknowledged. A
//! manifest whose part is missing or damaged is refused, naming the file: the messages it
//! covers may have been acknowledged, so no older checkpoint can stand in for it. The two
//! latest complete checkpoints are kept.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::state::{EntityState, PipelineState};

/// Magic bytes that open a manifest.
const MAGIC: &[u8; 8] = b"AI4ICTck";
/// The manifest format this build writes (it reads format 1 too).
const FORMAT: u32 = 2;
/// Complete checkpoints kept.
const KEEP: usize = 2;

/// Why a checkpoint could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A file or directory could not be written or read.
    #[error("checkpoint `{}`: {message}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A file is not what a checkpoint writes, or is damaged.
    #[error("checkpoint file `{}` is damaged: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A checkpoint was written for a source read otherwise (whole or in another number of
    /// partitions).
    #[error("checkpoint `{}` does not fit this run: {reason}", path.display())]
    Unfit {
        /// The manifest.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// The pipeline's source cannot go on from a position.
    #[error("checkpoints need a source that can resume from a position (a NATS JetStream consumer, read whole or in partitions; a Kafka consumer group member); {0} cannot")]
    NotResumable(String),
}

/// Where and how often a run checkpoints, and the checkpoint it resumes from.
#[derive(Clone, Debug)]
pub struct CheckpointSpec {
    /// The checkpoint directory.
    pub dir: PathBuf,
    /// Wall-clock time between checkpoints (zero: after every batch).
    pub every: Duration,
    /// The partitions of a source every worker reads its share of (`None`: worker 0 reads it
    /// whole).
    pub partitions: Option<u32>,
    /// The checkpoint this run resumes from.
    pub resume: Option<Resume>,
}

/// What a run resuming from a checkpoint needs besides the state.
#[derive(Clone, Debug)]
pub struct Resume {
    /// The checkpoint's epoch (the run's continue from the next).
    pub epoch: u64,
    /// The source's position: read in partitions, every reader's position one after the other.
    pub position: Vec<u8>,
    /// Rows read up to the checkpoint, over every run since the first.
    pub rows: u64,
}

/// A complete checkpoint, read back.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    /// Its epoch.
    pub epoch: u64,
    /// Every entity's state (all parts).
    pub state: PipelineState,
    /// The source's position and the rows covered.
    pub resume: Resume,
    /// Incomplete newer checkpoints passed over, one line each.
    pub passed_over: Vec<String>,
}

/// A written part: its length and hash, as the manifest records them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartDigest {
    /// Bytes.
    pub len: u64,
    /// FNV-1a 64 of the bytes.
    pub hash: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    epoch: u64,
    parts: Vec<PartDigest>,
    /// The source's partitions (`None`: worker 0 read it whole).
    partitions: Option<u32>,
    /// Each reader's position: worker 0's alone for a source read whole, else one per worker.
    positions: Vec<Vec<u8>>,
    rows: u64,
}

/// A format 1 manifest: one reader's position.
#[derive(Debug, Deserialize)]
struct ManifestV1 {
    epoch: u64,
    parts: Vec<PartDigest>,
    position: Vec<u8>,
    rows: u64,
}

fn io(path: &Path, e: impl std::fmt::Display) -> CheckpointError {
    CheckpointError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn epoch_dir(dir: &Path, epoch: u64) -> PathBuf {
    dir.join(format!("ckpt-{epoch:012}"))
}

fn part_path(dir: &Path, epoch: u64, worker: usize) -> PathBuf {
    epoch_dir(dir, epoch).join(format!("part-{worker:04}"))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Writes `bytes` to `path` whole or not at all: a temporary file, synced, renamed, and the
/// directory synced.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    let name = path.file_name().map_or_else(Default::default, |n| {
        let mut t = std::ffi::OsString::from(".");
        t.push(n);
        t.push(".tmp");
        t
    });
    let tmp = parent.join(name);
    let mut f = File::create(&tmp).map_err(|e| io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| io(&tmp, e))?;
    f.sync_all().map_err(|e| io(&tmp, e))?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| io(path, e))?;
    File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(parent, e))
}

/// Writes worker `worker`'s part of checkpoint `epoch`: `entities` with what the pipeline
/// runs (`like`'s fields, interval, PP steps and detector).
pub(crate) fn write_part(
    dir: &Path,
    epoch: u64,
    worker: usize,
    like: &PipelineState,
    entities: Vec<EntityState>,
) -> Result<PartDigest, CheckpointError> {
    let path = part_path(dir, epoch, worker);
    let state = PipelineState {
        entities,
        ..like.clone()
    };
    let bytes = state.to_bytes().map_err(|e| io(&path, e))?;
    write_atomic(&path, &bytes)?;
    Ok(PartDigest {
        len: bytes.len() as u64,
        hash: fnv1a(&bytes),
    })
}

/// Completes checkpoint `epoch` (its `parts` are durable) of a source in `partitions` read at
/// `positions`, and removes all but the latest complete checkpoints.
pub(crate) fn write_manifest(
    dir: &Path,
    epoch: u64,
    parts: Vec<PartDigest>,
    partitions: Option<u32>,
    positions: Vec<Vec<u8>>,
    rows: u64,
) -> Result<(), CheckpointError> {
    let path = epoch_dir(dir, epoch).join("manifest");
    let manifest = Manifest {
        epoch,
        parts,
        partitions,
        positions,
        rows,
    };
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&FORMAT.to_le_bytes());
    bytes.extend(postcard::to_stdvec(&manifest).map_err(|e| io(&path, e))?);
    write_atomic(&path, &bytes)?;
    prune(dir)
}

/// The epochs of the checkpoint directories in `dir`, newest first, each with whether it has
/// a manifest.
fn epochs(dir: &Path) -> Result<Vec<(u64, bool)>, CheckpointError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io(dir, e))?;
        let name = entry.file_name();
        let Some(epoch) = name
            .to_str()
            .and_then(|n| n.strip_prefix("ckpt-"))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        out.push((epoch, entry.path().join("manifest").is_file()));
    }
    out.sort_unstable_by(|a, b| b.cmp(a));
    Ok(out)
}

/// Removes every checkpoint older than the [`KEEP`] latest complete ones.
fn prune(dir: &Path) -> Result<(), CheckpointError> {
    let all = epochs(dir)?;
    let Some(&(oldest_kept, _)) = all.iter().filter(|(_, done)| *done).nth(KEEP - 1) else {
        return Ok(());
    };
    for (epoch, _) in all.into_iter().filter(|(e, _)| *e < oldest_kept) {
        let path = epoch_dir(dir, epoch);
        fs::remove_dir_all(&path).map_err(|e| io(&path, e))?;
    }
    Ok(())
}

/// Removes the incomplete checkpoints after `epoch` (left by a run that crashed while writing
/// them), so a run resuming from `epoch` writes its own from scratch.
pub fn clear_after(dir: &Path, epoch: Option<u64>) -> Result<(), CheckpointError> {
    for (e, _) in epochs(dir)?
        .into_iter()
        .filter(|(e, _)| epoch.is_none_or(|last| *e > last))
    {
        let path = epoch_dir(dir, e);
        fs::remove_dir_all(&path).map_err(|e| io(&path, e))?;
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, CheckpointError> {
    fs::read(path).map_err(|e| io(path, e))
}

fn corrupt(path: &Path, reason: impl std::fmt::Display) -> CheckpointError {
    CheckpointError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn read_manifest(path: &Path) -> Result<Manifest, CheckpointError> {
    let bytes = read(path)?;
    let rest = bytes
        .strip_prefix(MAGIC)
        .ok_or_else(|| corrupt(path, "no `AI4ICTck` header"))?;
    let (version, body) = rest
        .split_first_chunk::<4>()
        .ok_or_else(|| corrupt(path, "truncated header"))?;
    match u32::from_le_bytes(*version) {
        1 => {
            let v1: ManifestV1 = postcard::from_bytes(body).map_err(|e| corrupt(path, e))?;
            Ok(Manifest {
                epoch: v1.epoch,
                parts: v1.parts,
                partitions: None,
                positions: vec![v1.position],
                rows: v1.rows,
            })
        }
        FORMAT => postcard::from_bytes(body).map_err(|e| corrupt(path, e)),
        found => Err(corrupt(
            path,
            format!("format {found}, this build reads formats 1 and {FORMAT}"),
        )),
    }
}

/// Refuses a manifest written for a source read otherwise than in `partitions`, or whose
/// positions do not go with its parts.
fn check_partitions(
    path: &Path,
    manifest: &Manifest,
    partitions: Option<u32>,
) -> Result<(), CheckpointError> {
    let unfit = |reason: String| {
        Err(CheckpointError::Unfit {
            path: path.to_path_buf(),
            reason,
        })
    };
    let read =
        |p: Option<u32>| p.map_or("read whole".to_string(), |n| format!("in {n} partitions"));
    if manifest.partitions != partitions {
        return unfit(format!(
            "it was written for a source {}, this one is {}",
            read(manifest.partitions),
            read(partitions)
        ));
    }
    let readers = manifest.positions.len();
    if (partitions.is_some() && readers != manifest.parts.len())
        || (partitions.is_none() && readers != 1)
    {
        return Err(corrupt(
            path,
            format!("{readers} positions for {} parts", manifest.parts.len()),
        ));
    }
    Ok(())
}

/// The latest complete checkpoint in `dir` (`None`: there is none) for a source read in
/// `partitions` (`None`: read whole), passing over incomplete newer ones. A damaged manifest or
/// part, a part a manifest lists that is missing, or a manifest written for a source read
/// otherwise (format 1 for a partitioned one; another number of partitions) is an error
/// naming the file: see the module documentation. Never panics on bad bytes.
pub fn latest(dir: &Path, partitions: Option<u32>) -> Result<Option<Checkpoint>, CheckpointError> {
    let mut passed_over = Vec::new();
    for (epoch, complete) in epochs(dir)? {
        let at = epoch_dir(dir, epoch);
        if !complete {
            passed_over.push(format!(
                "{}: incomplete (no manifest), passed over",
                at.display()
            ));
            continue;
        }
        let manifest_path = at.join("manifest");
        let manifest = read_manifest(&manifest_path)?;
        check_partitions(&manifest_path, &manifest, partitions)?;
        if manifest.epoch != epoch || manifest.parts.is_empty() {
            return Err(corrupt(
                &manifest_path,
                format!(
                    "it names epoch {} with {} parts",
                    manifest.epoch,
                    manifest.parts.len()
                ),
            ));
        }
        let mut state: Option<PipelineState> = None;
        for (worker, digest) in manifest.parts.iter().enumerate() {
            let path = part_path(dir, epoch, worker);
            let bytes = match fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(corrupt(
                        &path,
                        "missing, though the manifest lists it (its messages may have been \
                         acknowledged: no older checkpoint can stand in)",
                    ))
                }
                Err(e) => return Err(io(&path, e)),
            };
            let found = PartDigest {
                len: bytes.len() as u64,
                hash: fnv1a(&bytes),
            };
            if found != *digest {
                return Err(corrupt(
                    &path,
                    format!(
                        "{} bytes with hash {:016x}, the manifest says {} bytes with hash {:016x}",
                        found.len, found.hash, digest.len, digest.hash
                    ),
                ));
            }
            let part = PipelineState::from_bytes(&bytes).map_err(|e| corrupt(&path, e))?;
            state = Some(match state {
                None => part,
                Some(mut s) => {
                    if s.fields != part.fields
                        || s.interval != part.interval
                        || s.preprocess != part.preprocess
                        || s.detector != part.detector
                    {
                        return Err(corrupt(&path, "it belongs to another pipeline than part 0"));
                    }
                    s.entities.extend(part.entities);
                    s
                }
            });
        }
        let Some(mut state) = state else {
            continue;
        };
        state.entities.sort_by(|a, b| a.entity.cmp(&b.entity));
        if state
            .entities
            .windows(2)
            .any(|w| w[0].entity == w[1].entity)
        {
            return Err(corrupt(&at, "an entity is in two parts"));
        }
        return Ok(Some(Checkpoint {
            epoch,
            state,
            resume: Resume {
                epoch,
                position: manifest.positions.concat(),
                rows: manifest.rows,
            },
            passed_over,
        }));
    }
    Ok(None)
}
