//! Temporary: 8-field, 2000-entity, 15-minute stream timing (min over reps).
use ai4ict_anomaly::DetectorConfig;
use ai4ict_core::{Interval, Timestamp};
use std::time::Instant;

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
                let spike = if state % 3000 == 0 { 50.0 } else { 0.0 };
                *x = (10.0 * (j + 1) as f64) * (1.0 + 0.3 * (phase + e as f64).sin()) + 3.0 * noise + spike;
            }
            rows.push(v);
        }
    }
    let config = DetectorConfig::default();
    let mut best = f64::INFINITY;
    let mut total = 0.0;
    for _ in 0..reps {
        let mut dets: Vec<_> = (0..entities).map(|_| config.build(width, interval).unwrap()).collect();
        let t = Instant::now();
        total = 0.0;
        for (k, v) in rows.iter().enumerate() {
            let s = k / entities;
            let time = Timestamp(1_704_067_200_000 + s as i64 * interval.millis());
            total += dets[k % entities].update(time, v).value;
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    let n = rows.len() as f64;
    println!("rows/s {:.0}  ns/field {:.1}  mean {:.15}", n / best, best * 1e9 / n / width as f64, total / n);
}
