//! Checkpoints: a run that checkpoints and dies abruptly (its source fails: no final
//! checkpoint), restarted from its latest checkpoint, raises every alert of a run that never
//! stopped, the alerts raised twice all after that checkpoint; on one worker and on two.
//! Damaged checkpoint files are refused naming the file, and a checkpoint without its
//! manifest (a crash while writing it) falls back to the previous one.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ai4ict_core::{first_worker, Alert, Batch, Source, SourceError, Timestamp};
use ai4ict_engine::checkpoint::{self, CheckpointError, CheckpointSpec};
use ai4ict_engine::dataflow::{self, PipelineSpec, Progress, RunOutput};
use ai4ict_engine::{Cluster, Span};
use ai4ict_intent::{AlertPolicy, FillMethod, PreprocessStep};
use ai4ict_sandbox::{Network, SandboxSource, ScenarioConfig, KPIS};

/// The sandbox's rows as batches, one interval each.
fn batches() -> (Vec<Batch>, ai4ict_core::Interval) {
    let scenario = ScenarioConfig {
        cells: 12,
        days: 6,
        quiet_days: 2,
        ..ScenarioConfig::default()
    };
    let net = Arc::new(Network::new(&scenario).unwrap());
    let mut source = SandboxSource::new(Arc::clone(&net), (0..KPIS.len()).collect(), 0, 1);
    let mut out = Vec::new();
    while let Some(b) = source.next_batch() {
        out.push(b.unwrap());
    }
    (out, net.interval())
}

/// Replays batches; its position is the number of batches read. With `die_after` it fails
/// there, as a killed process stops: no final checkpoint.
struct Replay {
    batches: Arc<Vec<Batch>>,
    next: usize,
    die_after: Option<usize>,
    committed: Arc<Mutex<Vec<u64>>>,
}

impl Source for Replay {
    fn next_batch(&mut self) -> Option<Result<Batch, SourceError>> {
        if self.die_after == Some(self.next) {
            return Some(Err(SourceError("killed".into())));
        }
        let b = self.batches.get(self.next)?.clone();
        self.next += 1;
        Some(Ok(b))
    }

    fn checkpoint_from(&mut self, position: Option<&[u8]>) -> Result<(), SourceError> {
        if let Some(p) = position {
            let p: [u8; 8] = p.try_into().map_err(|_| SourceError("position".into()))?;
            self.next = u64::from_le_bytes(p) as usize;
        }
        Ok(())
    }

    fn cut(&mut self, _epoch: u64) -> Vec<u8> {
        (self.next as u64).to_le_bytes().to_vec()
    }

    fn commit(&mut self, epoch: u64) {
        self.committed.lock().unwrap().push(epoch);
    }
}

fn run(
    batches: &Arc<Vec<Batch>>,
    interval: ai4ict_core::Interval,
    workers: usize,
    checkpoint: Option<CheckpointSpec>,
    die_after: Option<usize>,
) -> (RunOutput, Vec<u64>) {
    let fields: Vec<String> = KPIS.iter().map(|s| s.to_string()).collect();
    let resume = checkpoint
        .as_ref()
        .and_then(|c| checkpoint::latest(&c.dir, None).unwrap());
    if let Some(c) = &checkpoint {
        checkpoint::clear_after(&c.dir, resume.as_ref().map(|r| r.epoch)).unwrap();
    }
    let spec = PipelineSpec {
        fields,
        interval,
        preprocess: vec![PreprocessStep::FillGaps(FillMethod::Linear)],
        detector: Default::default(),
        policy: AlertPolicy::default(),
        trace: Vec::new(),
        span: Span {
            start: resume.as_ref().map(|c| Arc::new(c.state.clone())),
            ..Span::default()
        },
        checkpoint: checkpoint.map(|c| CheckpointSpec {
            resume: resume.map(|c| c.resume),
            ..c
        }),
    };
    let committed = Arc::new(Mutex::new(Vec::new()));
    let (held, log) = (Arc::clone(batches), Arc::clone(&committed));
    let feed = first_worker(move || {
        Ok(Replay {
            batches: Arc::clone(&held),
            next: 0,
            die_after,
            committed: Arc::clone(&log),
        })
    });
    let cluster = Cluster {
        workers,
        ..Cluster::default()
    };
    let out = dataflow::run(
        spec,
        &cluster,
        feed,
        Arc::new(|| Ok(Vec::new())),
        Arc::new(Progress::default()),
    )
    .unwrap();
    let committed = committed.lock().unwrap().clone();
    (out, committed)
}

fn key(a: &Alert) -> (Timestamp, String, String) {
    (a.time, a.entity.name().to_string(), a.field.clone())
}

fn spec(dir: &Path) -> CheckpointSpec {
    CheckpointSpec {
        dir: dir.to_path_buf(),
        every: Duration::ZERO,
        partitions: None,
        resume: None,
    }
}

/// Runs until `die_after` batches, restarts from the latest checkpoint, and checks the union
/// of alerts against `whole`; returns the first run's output.
fn die_and_resume(
    batches: &Arc<Vec<Batch>>,
    interval: ai4ict_core::Interval,
    whole: &[Alert],
    dir: &Path,
    workers: (usize, usize),
    die_after: usize,
) {
    let (head, acked) = run(
        batches,
        interval,
        workers.0,
        Some(spec(dir)),
        Some(die_after),
    );
    assert!(head.errors.iter().any(|e| e.contains("killed")));
    let last = checkpoint::latest(dir, None)
        .unwrap()
        .expect("a checkpoint was made");
    assert!(
        acked.iter().all(|e| *e <= last.epoch) && acked.contains(&last.epoch),
        "messages are acknowledged only up to the latest complete checkpoint: {acked:?} vs {}",
        last.epoch
    );
    let position = u64::from_le_bytes(last.resume.position.clone().try_into().unwrap()) as usize;
    assert!(position > 0 && position <= die_after);
    assert_eq!(
        last.resume.rows,
        batches[..position]
            .iter()
            .map(|b| b.len() as u64)
            .sum::<u64>()
    );
    let (tail, _) = run(batches, interval, workers.1, Some(spec(dir)), None);
    assert!(tail.errors.is_empty(), "{:?}", tail.errors);
    // Every row is scored: the checkpoint's rows, then the rest.
    let rows: u64 = batches.iter().map(|b| b.len() as u64).sum();
    assert_eq!(tail.checkpoint.map(|c| c.1), Some(rows));

    let want: BTreeSet<_> = whole.iter().map(key).collect();
    let first: BTreeSet<_> = head.alerts.iter().map(key).collect();
    let second: BTreeSet<_> = tail.alerts.iter().map(key).collect();
    let union: BTreeSet<_> = first.union(&second).cloned().collect();
    assert_eq!(union, want, "no alert lost, none invented");
    let resumed_at = batches[position].time(0);
    for twice in first.intersection(&second) {
        assert!(
            twice.0 >= resumed_at,
            "{twice:?} raised twice, though before the checkpoint ({resumed_at})"
        );
    }
    // The resumed run raises exactly the uninterrupted run's alerts after the checkpoint.
    let after: Vec<_> = whole.iter().filter(|a| a.time >= resumed_at).collect();
    assert_eq!(tail.alerts.iter().collect::<Vec<_>>(), after);
}

#[test]
fn a_killed_run_resumed_from_its_checkpoint_loses_no_alert() {
    let (batches, interval) = batches();
    let batches = Arc::new(batches);
    let (whole, _) = run(&batches, interval, 1, None, None);
    assert!(whole.alerts.len() > 3, "{} alerts", whole.alerts.len());
    for (workers, die_after) in [((1, 1), batches.len() * 2 / 3), ((2, 3), batches.len() / 2)] {
        let dir = tempfile::tempdir().unwrap();
        die_and_resume(
            &batches,
            interval,
            &whole.alerts,
            dir.path(),
            workers,
            die_after,
        );
    }
}

fn latest_err(dir: &Path) -> String {
    match checkpoint::latest(dir, None) {
        Err(e @ CheckpointError::Corrupt { .. }) => e.to_string(),
        other => panic!("a damaged checkpoint is refused: {other:?}"),
    }
}

#[test]
fn damaged_checkpoints_are_refused_and_incomplete_ones_passed_over() {
    let (batches, interval) = batches();
    let batches = Arc::new(batches);
    let (whole, _) = run(&batches, interval, 1, None, None);
    let dir = tempfile::tempdir().unwrap();
    let die_after = batches.len() / 2;
    run(
        &batches,
        interval,
        2,
        Some(spec(dir.path())),
        Some(die_after),
    );
    let last = checkpoint::latest(dir.path(), None).unwrap().unwrap();
    let at = dir.path().join(format!("ckpt-{:012}", last.epoch));
    let part = at.join("part-0001");
    let manifest = at.join("manifest");
    let (part_bytes, manifest_bytes) = (
        std::fs::read(&part).unwrap(),
        std::fs::read(&manifest).unwrap(),
    );

    // A part cut short, a flipped byte, a missing part, a damaged manifest: refused, naming
    // the file.
    std::fs::write(&part, &part_bytes[..part_bytes.len() / 2]).unwrap();
    assert!(latest_err(dir.path()).contains(&part.display().to_string()));
    let mut flipped = part_bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    std::fs::write(&part, &flipped).unwrap();
    assert!(latest_err(dir.path()).contains("part-0001"));
    std::fs::remove_file(&part).unwrap();
    assert!(latest_err(dir.path()).contains("missing"));
    std::fs::write(&part, &part_bytes).unwrap();
    for bad in [
        &b"AI4ICTck"[..],
        b"junk",
        &manifest_bytes[..manifest_bytes.len() - 3],
    ] {
        std::fs::write(&manifest, bad).unwrap();
        assert!(latest_err(dir.path()).contains(&manifest.display().to_string()));
    }

    // Without its manifest the latest is incomplete: the previous one is used, and a run
    // resumed from it still loses nothing.
    std::fs::remove_file(&manifest).unwrap();
    let previous = checkpoint::latest(dir.path(), None).unwrap().unwrap();
    assert!(previous.epoch < last.epoch);
    assert!(previous.passed_over[0].contains("incomplete"));
    let (tail, _) = run(&batches, interval, 1, Some(spec(dir.path())), None);
    let position = u64::from_le_bytes(previous.resume.position.try_into().unwrap()) as usize;
    let resumed_at = batches[position].time(0);
    let after: Vec<_> = whole
        .alerts
        .iter()
        .filter(|a| a.time >= resumed_at)
        .collect();
    assert_eq!(tail.alerts.iter().collect::<Vec<_>>(), after);
}

/// A manifest as format 1 wrote it: one reader's position.
#[derive(serde::Serialize)]
struct ManifestV1 {
    epoch: u64,
    parts: Vec<checkpoint::PartDigest>,
    position: Vec<u8>,
    rows: u64,
}

/// A manifest as format 2 writes it: the partitions and every reader's position.
#[derive(serde::Serialize)]
struct ManifestV2 {
    epoch: u64,
    parts: Vec<checkpoint::PartDigest>,
    partitions: Option<u32>,
    positions: Vec<Vec<u8>>,
    rows: u64,
}

fn write_manifest(dir: &Path, format: u32, body: Vec<u8>) -> std::path::PathBuf {
    let at = dir.join("ckpt-000000000001");
    std::fs::create_dir_all(&at).unwrap();
    let path = at.join("manifest");
    let bytes = [&b"AI4ICTck"[..], &format.to_le_bytes(), &body].concat();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A checkpoint written for a source read otherwise is refused, naming its manifest: format 1
/// (one reader's position) for a source read in partitions, a checkpoint of partitions for a
/// source read whole, and one of another number of partitions.
#[test]
fn a_checkpoint_of_a_source_read_otherwise_is_refused() {
    let parts = vec![checkpoint::PartDigest { len: 1, hash: 2 }; 2];
    let unfit = |dir: &Path, partitions: Option<u32>| match checkpoint::latest(dir, partitions) {
        Err(e @ CheckpointError::Unfit { .. }) => e.to_string(),
        other => panic!("refused: {other:?}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let v1 = ManifestV1 {
        epoch: 1,
        parts: parts[..1].to_vec(),
        position: 7u64.to_le_bytes().to_vec(),
        rows: 7,
    };
    let path = write_manifest(dir.path(), 1, postcard::to_stdvec(&v1).unwrap());
    let e = unfit(dir.path(), Some(4));
    assert!(e.contains(&path.display().to_string()), "{e}");
    assert!(
        e.contains("read whole") && e.contains("in 4 partitions"),
        "{e}"
    );

    let v2 = ManifestV2 {
        epoch: 1,
        parts,
        partitions: Some(4),
        positions: vec![Vec::new(); 2],
        rows: 7,
    };
    write_manifest(dir.path(), 2, postcard::to_stdvec(&v2).unwrap());
    for other in [Some(2), None] {
        let e = unfit(dir.path(), other);
        assert!(e.contains(&path.display().to_string()), "{e}");
        assert!(e.contains("in 4 partitions"), "{e}");
    }
    // Written for 4 partitions, it is read for 4 (its parts are then checked).
    assert!(matches!(
        checkpoint::latest(dir.path(), Some(4)),
        Err(CheckpointError::Corrupt { .. })
    ));
}
