//! Times the default detector on multi-field entities, the shape of `ai4ict bench engine`
//! (8 fields, 2000 entities, 15-minute samples, 7 days) without the rest of the pipeline.
//! Prints the best wall-clock rate over the repetitions and the mean CPU time per field update
//! (steadier than wall-clock time on a shared machine; Linux only, else 0).
//!
//! ```text
//! cargo run --release -p ai4ict-anomaly --example wide -- [ENTITIES] [DAYS] [REPS]
//! ```
use ai4ict_anomaly::DetectorConfig;
use ai4ict_core::{Interval, Timestamp};
use std::time::Instant;

fn cpu_ticks() -> u64 {
    let s = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let rest = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

fn main() {
    let mut a = std::env::args().skip(1);
    let entities: usize = a.next().map_or(2000, |v| v.parse().unwrap());
    let days: usize = a.next().map_or(7, |v| v.parse().unwrap());
    let reps: usize = a.next().map_or(5, |v| v.parse().unwrap());
    let width = 8;
    let interval = Interval::from_minutes(15);
    let steps = days * 96;
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut rows = Vec::with_capacity(steps * entities);
    for s in 0..steps {
        let phase = (s % 96) as f64 / 96.0 * std::f64::consts::TAU;
        for e in 0..entities {
            let mut v = [0.0f64; 8];
            for (j, x) in v.iter_mut().enumerate() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                let spike = if state.is_multiple_of(3000) {
                    50.0
                } else {
                    0.0
                };
                *x = (10.0 * (j + 1) as f64) * (1.0 + 0.3 * (phase + e as f64).sin())
                    + 3.0 * noise
                    + spike;
            }
            rows.push(v);
        }
    }
    let config = DetectorConfig::default();
    let mut best = f64::INFINITY;
    let mut cpu = 0u64;
    let mut total = 0.0;
    for _ in 0..reps {
        let mut dets: Vec<_> = (0..entities)
            .map(|_| config.build(width, interval).unwrap())
            .collect();
        let t = Instant::now();
        let c0 = cpu_ticks();
        total = 0.0;
        for (k, v) in rows.iter().enumerate() {
            let s = k / entities;
            let time = Timestamp(1_704_067_200_000 + s as i64 * interval.millis());
            total += dets[k % entities].update(time, v).value;
        }
        best = best.min(t.elapsed().as_secs_f64());
        cpu += cpu_ticks() - c0;
    }
    let n = rows.len() as f64;
    let cpu_s = cpu as f64 / 100.0 / reps as f64;
    println!(
        "rows/s {:.0}  ns/field {:.1}  cpu ns/field {:.1}  mean {:.15}",
        n / best,
        best * 1e9 / n / width as f64,
        cpu_s * 1e9 / n / width as f64,
        total / n
    );
}
