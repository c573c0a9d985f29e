//! `ai4ict bench anomaly`: points per second on one core and bytes of state per entity of each
//! detector, and of river's HalfSpaceTrees and pyod's IForest on the same stream in the same
//! run when their Python environment is there (`scripts/peer-venv.sh`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use ai4ict_core::SplitMix64;
use ai4ict_core::{Interval, Timestamp};
use anyhow::{bail, Context};
use serde::Deserialize;

use super::detectors;

/// Sampling interval of the generated stream.
const INTERVAL: Interval = Interval::from_minutes(5);
/// First time of the generated stream (2024-01-01T00:00:00Z).
const START_MS: i64 = 1_704_067_200_000;

/// Measure detector speed and memory against river and pyod.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Points in the stream, over all entities.
    #[arg(long, default_value_t = 100_000)]
    points: usize,
    /// Entities the stream is spread over (one detector each).
    #[arg(long, default_value_t = 10)]
    entities: usize,
    /// Detector to run, or `all`.
    #[arg(long, default_value = "all", ignore_case = true, value_parser = super::detectors::choices(true))]
    detector: String,
    /// Repetitions of our detectors (the best is reported).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Skip river and pyod even when their environment is there.
    #[arg(long)]
    no_peers: bool,
}

/// One row of the stream: entity index, time, value.
type Point = (usize, Timestamp, f64);

/// A KPI-like stream: per entity a level, a daily cycle, noise and rare spikes; entities
/// interleaved in time order, as a collector delivers them.
fn stream(points: usize, entities: usize) -> Vec<Point> {
    let mut rng = SplitMix64::new(42);
    let per_day = 86_400_000 / INTERVAL.millis();
    (0..points)
        .map(|i| {
            let (step, e) = (i / entities, i % entities);
            let phase = (step as i64 % per_day) as f64 / per_day as f64;
            let level = 50.0 + 10.0 * e as f64;
            let mut v = level + 20.0 * (std::f64::consts::TAU * phase).sin() + 2.0 * rng.normal();
            if rng.unit_open() < 0.001 {
                v += 40.0;
            }
            let t = Timestamp(START_MS + step as i64 * INTERVAL.millis());
            (e, t, v)
        })
        .collect()
}

/// Our detector's speed and memory.
struct Ours {
    name: String,
    points_per_second: f64,
    state_bytes_per_entity: f64,
}

/// Runs detector `kind` once over the stream on this thread: points per second and bytes of
/// state per entity at the end.
fn measure_once(
    name: &str,
    kind: ai4ict_anomaly::DetectorKind,
    data: &[Point],
    entities: usize,
) -> anyhow::Result<(f64, f64)> {
    let config = detectors::config(kind);
    let mut dets: Vec<ai4ict_anomaly::AnyDetector> = (0..entities)
        .map(|_| config.build(1, INTERVAL))
        .collect::<Result<_, _>>()
        .with_context(|| format!("detector `{name}`"))?;
    let mut sink = 0.0;
    let t = Instant::now();
    for &(e, time, v) in data {
        if let Some(d) = dets.get_mut(e) {
            sink += d.update(time, &[v]).value;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    std::hint::black_box(sink);
    let bytes = dets.iter().map(|d| d.state_bytes()).sum::<usize>() as f64 / entities as f64;
    Ok((data.len() as f64 / secs.max(1e-9), bytes))
}

/// What `scripts/peer_bench.py` prints.
#[derive(Deserialize, Debug)]
struct PeerReport {
    #[serde(default)]
    versions: std::collections::BTreeMap<String, String>,
    results: Vec<PeerResult>,
}

/// One peer's result, or why it failed.
#[derive(Deserialize, Debug)]
struct PeerResult {
    name: String,
    #[serde(default)]
    protocol: String,
    #[serde(default)]
    points: usize,
    #[serde(default)]
    seconds: f64,
    #[serde(default)]
    state_bytes_per_entity: f64,
    #[serde(default)]
    error: Option<String>,
}

impl PeerResult {
    fn points_per_second(&self) -> Option<f64> {
        (self.error.is_none() && self.seconds > 0.0).then(|| self.points as f64 / self.seconds)
    }
}

/// The peers' Python interpreter, if their environment exists.
fn peer_python() -> Option<PathBuf> {
    let venv = std::env::var_os("AI4ICT_PEER_VENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/ai4ict/peers"))
        })?;
    let python = venv.join("bin/python");
    python.is_file().then_some(python)
}

/// The peer script: `$AI4ICT_PEER_SCRIPT`, `scripts/peer_bench.py` here, or in the source tree
/// this binary was built from.
fn peer_script() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("AI4ICT_PEER_SCRIPT").map(PathBuf::from),
        Some(PathBuf::from("scripts/peer_bench.py")),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/peer_bench.py")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file())
}

/// Writes the stream as `entity,time,value` CSV and runs the peer script on it.
fn run_peers(python: &Path, script: &Path, data: &[Point]) -> anyhow::Result<PeerReport> {
    let mut file = tempfile::Builder::new()
        .prefix("ai4ict-bench-anomaly-")
        .suffix(".csv")
        .tempfile()
        .context("creating the stream file for the peers")?;
    {
        let mut w = std::io::BufWriter::new(file.as_file_mut());
        writeln!(w, "entity,time,value")?;
        for &(e, t, v) in data {
            writeln!(w, "e{e},{},{v}", t.0 / 1000)?;
        }
        w.flush()?;
    }
    let out = Command::new(python)
        .arg(script)
        .arg(file.path())
        .output()
        .with_context(|| format!("running {} {}", python.display(), script.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed ({}): {}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "reading the output of {}: {}",
            script.display(),
            String::from_utf8_lossy(&out.stdout).trim()
        )
    })
}

/// `a / b` as `12.3×`, or `-`.
fn ratio(a: f64, b: Option<f64>) -> String {
    match b {
        Some(b) if b > 0.0 => format!("{:.1}×", a / b),
        _ => "-".into(),
    }
}

/// Runs the benchmark.
pub fn run(args: Args) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "note: this is a debug build; measure with `cargo run --release -- bench anomaly`"
        );
    }
    if args.entities == 0 || args.points < args.entities {
        bail!("--entities must be at least 1 and at most --points");
    }
    let kinds = detectors::select(&args.detector)?;
    let data = stream(args.points, args.entities);
    outln!(
        "bench anomaly: {} points ({} entities × {}, 1 field every {INTERVAL}, daily cycle, \
         noise, rare spikes), one core, each detector's default configuration, best of {}",
        data.len(),
        args.entities,
        data.len() / args.entities,
        args.reps.max(1)
    );
    // Repetitions go round the detectors, so that none is favoured by running first.
    let mut ours: Vec<Ours> = kinds
        .iter()
        .map(|(name, _)| Ours {
            name: name.clone(),
            points_per_second: 0.0,
            state_bytes_per_entity: 0.0,
        })
        .collect();
    for _ in 0..args.reps.max(1) {
        for (o, (name, kind)) in ours.iter_mut().zip(&kinds) {
            let (rate, bytes) = measure_once(name, *kind, &data, args.entities)?;
            o.points_per_second = o.points_per_second.max(rate);
            o.state_bytes_per_entity = bytes;
        }
    }

    let peers = if args.no_peers {
        None
    } else {
        match (peer_python(), peer_script()) {
            (Some(py), Some(script)) => {
                eprintln!(
                    "running river and pyod on the same stream ({})…",
                    py.display()
                );
                match run_peers(&py, &script, &data) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        eprintln!("peers not measured: {e:#}");
                        None
                    }
                }
            }
            (None, _) => {
                eprintln!(
                    "peers not measured: no Python environment at $AI4ICT_PEER_VENV or \
                     ~/.cache/ai4ict/peers; create it with scripts/peer-venv.sh"
                );
                None
            }
            (_, None) => {
                eprintln!(
                    "peers not measured: scripts/peer_bench.py not found (set AI4ICT_PEER_SCRIPT)"
                );
                None
            }
        }
    };
    let rate = |name: &str| {
        peers
            .as_ref()
            .and_then(|p| p.results.iter().find(|r| r.name == name))
            .and_then(PeerResult::points_per_second)
    };
    let (river, pyod) = (rate("river.HalfSpaceTrees"), rate("pyod.IForest"));

    outln!(
        "\n  {:<24} {:>14} {:>14} {:>14} {:>14}",
        "detector",
        "points/s",
        "B/entity",
        "ours/river",
        "ours/pyod"
    );
    for o in &ours {
        outln!(
            "  {:<24} {:>14.0} {:>14.0} {:>14} {:>14}",
            o.name,
            o.points_per_second,
            o.state_bytes_per_entity,
            ratio(o.points_per_second, river),
            ratio(o.points_per_second, pyod)
        );
    }
    if let Some(p) = &peers {
        for r in &p.results {
            match (&r.error, r.points_per_second()) {
                (None, Some(pps)) => outln!(
                    "  {:<24} {:>14.0} {:>14.0}   ({})",
                    r.name,
                    pps,
                    r.state_bytes_per_entity,
                    r.protocol
                ),
                (Some(e), _) => outln!("  {:<24} failed: {e}", r.name),
                (None, None) => outln!("  {:<24} no timing reported", r.name),
            }
        }
        let versions: Vec<String> = p.versions.iter().map(|(k, v)| format!("{k} {v}")).collect();
        outln!(
            "\n  peers: {}; their state is the pickled model's size",
            versions.join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_is_deterministic_and_interleaved() {
        let a = stream(40, 4);
        assert_eq!(a, stream(40, 4));
        assert_eq!(a[5].0, 1);
        assert_eq!(a[4].1 .0 - a[0].1 .0, INTERVAL.millis());
        assert!(a.iter().all(|p| p.2.is_finite()));
    }
}
