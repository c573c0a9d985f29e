//! Prints a detector's single-core throughput and state size as JSON.
//!
//! ```text
//! cargo run --release -p ai4ict-anomaly --example bench -- [POINTS] [ENTITIES] [KIND]
//! ```
//! `KIND` is a detector name as in a config (default `auto`).

use std::time::Instant;

use ai4ict_core::{Interval, Timestamp};
use serde::Serialize;

use ai4ict_anomaly::{AnomalyError, DetectorConfig, DetectorKind};

/// What [`bench_throughput`] measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
struct BenchResult {
    /// The detector measured.
    kind: DetectorKind,
    /// Points scored in total (over all entities).
    points: usize,
    /// Entities (independent detectors) the points were spread over.
    entities: usize,
    /// Wall-clock seconds spent in `update` calls (one thread).
    seconds: f64,
    /// Points scored per second on one core.
    points_per_sec: f64,
    /// Bytes of detector state per entity, after the run.
    state_bytes_per_entity: usize,
    /// Mean score, so that the work cannot be optimised away (and a sanity check).
    mean_score: f64,
}

/// Scores `points` synthetic one-field points (a daily cycle with noise and a few spikes,
/// 5-minute samples) spread round-robin over `entities` detectors of `kind` with default
/// tuning, on the calling thread, and reports points per second and state bytes per entity.
/// Generating the stream is not timed.
fn bench_throughput(
    kind: DetectorKind,
    points: usize,
    entities: usize,
) -> Result<BenchResult, AnomalyError> {
    let entities = entities.max(1);
    let interval = Interval::from_minutes(5);
    let config = DetectorConfig {
        detector: kind,
        ..DetectorConfig::default()
    };
    let mut detectors = (0..entities)
        .map(|_| config.build(1, interval))
        .collect::<Result<Vec<_>, _>>()?;
    let per_day = 288usize;
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let stream: Vec<f64> = (0..points)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let step = i / entities;
            let phase = (step % per_day) as f64 / per_day as f64 * std::f64::consts::TAU;
            let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let spike = if state.is_multiple_of(5000) {
                50.0
            } else {
                0.0
            };
            100.0 + 30.0 * phase.sin() + 5.0 * noise + spike
        })
        .collect();
    let start = Instant::now();
    let mut total = 0.0;
    for (i, v) in stream.iter().enumerate() {
        let step = i / entities;
        let t = Timestamp(1_704_067_200_000 + step as i64 * interval.millis());
        total += detectors[i % entities]
            .update(t, std::slice::from_ref(v))
            .value;
    }
    let seconds = start.elapsed().as_secs_f64();
    let state_bytes = detectors.iter().map(|d| d.state_bytes()).sum::<usize>() / entities;
    Ok(BenchResult {
        kind,
        points,
        entities,
        seconds,
        points_per_sec: if seconds > 0.0 {
            points as f64 / seconds
        } else {
            f64::INFINITY
        },
        state_bytes_per_entity: state_bytes,
        mean_score: if points > 0 {
            total / points as f64
        } else {
            0.0
        },
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let points = args.next().map_or(Ok(5_000_000), |a| a.parse())?;
    let entities = args.next().map_or(Ok(1000), |a| a.parse())?;
    let kind = args.next().map_or(Ok(DetectorKind::Auto), |k| {
        serde_json::from_value(serde_json::Value::String(k))
    })?;
    let result = bench_throughput(kind, points, entities)?;
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}
