//! Throughput measurement for `ai4ict bench anomaly`.

use std::time::Instant;

use ai4ict_core::{Interval, Timestamp};
use serde::Serialize;

use crate::{AnomalyError, DetectorConfig, DetectorKind};

/// What [`bench_throughput`] measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchResult {
    /// The detector measured.
    pub kind: DetectorKind,
    /// Points scored in total (over all entities).
    pub points: usize,
    /// Entities (independent detectors) the points were spread over.
    pub entities: usize,
    /// Wall-clock seconds spent in `update` calls (one thread).
    pub seconds: f64,
    /// Points scored per second on one core.
    pub points_per_sec: f64,
    /// Bytes of detector state per entity, after the run.
    pub state_bytes_per_entity: usize,
    /// Mean score, so that the work cannot be optimised away (and a sanity check).
    pub mean_score: f64,
}

/// Scores `points` synthetic one-field points (a daily cycle with noise and a few spikes,
/// 5-minute samples) spread round-robin over `entities` detectors of `kind` with default
/// tuning, on the calling thread, and reports points per second and state bytes per entity.
/// Generating the stream is not timed.
pub fn bench_throughput(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_runs_and_reports_state() {
        let r = bench_throughput(DetectorKind::Auto, 20_000, 4).unwrap();
        assert_eq!(r.points, 20_000);
        assert!(
            r.state_bytes_per_entity > 0 && r.state_bytes_per_entity <= 2048,
            "{r:?}"
        );
        assert!((0.0..=1.0).contains(&r.mean_score));
    }
}
