//! Event-level check on a simulated cellular network: 8 KPIs per cell, 15-minute samples,
//! daily and weekly seasonality, multiplicative noise, and injected incidents; the policy is
//! "alert when the score is at least 0.9 for 2 consecutive intervals".

use ai4ict_anomaly::{DetectorConfig, DetectorKind};
use ai4ict_core::{Interval, SplitMix64, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Outage,
    Degradation,
    Interference,
    Surge,
}

struct Incident {
    kind: Kind,
    start: usize,
    end: usize,
}

const DAY: usize = 96;

/// Diurnal demand shape in [0.15, 1], with a weekend factor.
fn demand(step: usize) -> f64 {
    let h = (step % DAY) as f64 / 4.0;
    let morning = (-((h - 10.0) / 3.0).powi(2)).exp();
    let evening = (-((h - 19.0) / 3.0).powi(2)).exp();
    let day = (step / DAY + 3) % 7; // day 0 is a Thursday
    let weekend = if day >= 5 { 0.7 } else { 1.0 };
    (0.15 + 0.6 * morning + 0.85 * evening).min(1.0) * weekend
}

fn simulate(cell: u64, days: usize, incidents: &[Incident]) -> Vec<[f64; 8]> {
    let mut rng = SplitMix64::new(cell * 7919 + 13);
    let size = 0.6 + 0.8 * rng.unit();
    (0..days * DAY)
        .map(|t| {
            let d = demand(t) * size;
            let mut users = 80.0 * d * (1.0 + 0.08 * rng.normal());
            let mut volume = 4.0 * users * (1.0 + 0.08 * rng.normal());
            let mut prb = (0.75 * d * (1.0 + 0.06 * rng.normal())).clamp(0.0, 1.0);
            let mut thr = 40.0 * (1.0 - 0.5 * prb) * (1.0 + 0.07 * rng.normal());
            let mut rrc = (0.995 - 0.003 * rng.normal().abs()).min(1.0);
            let mut drop = (0.005 * (1.0 + 0.3 * rng.normal())).max(0.0);
            let mut interf = -105.0 + 1.0 * rng.normal();
            let mut cqi = 10.0 + 0.4 * rng.normal();
            for inc in incidents.iter().filter(|i| (i.start..i.end).contains(&t)) {
                match inc.kind {
                    Kind::Outage => {
                        users = 0.0;
                        volume = 0.0;
                        prb = 0.0;
                        thr = 0.0;
                    }
                    Kind::Degradation => thr *= 0.35,
                    Kind::Interference => {
                        interf += 12.0;
                        drop *= 4.0;
                        rrc -= 0.04;
                        thr *= 0.7;
                        cqi -= 3.0;
                    }
                    Kind::Surge => {
                        users *= 2.5;
                        volume *= 2.2;
                        prb = (prb * 2.5).min(1.0);
                        thr *= 0.45;
                    }
                }
            }
            [users, volume, prb, thr, rrc, drop, interf, cqi]
        })
        .collect()
}

#[test]
fn robust_seasonal_finds_cell_incidents() {
    let interval = Interval::from_minutes(15);
    let days = 14;
    let config = DetectorConfig {
        detector: DetectorKind::RobustSeasonal,
        ..DetectorConfig::default()
    };
    let kinds = [
        Kind::Outage,
        Kind::Degradation,
        Kind::Interference,
        Kind::Surge,
    ];
    let (mut events, mut true_events, mut found, mut total) = (0usize, 0usize, 0usize, 0usize);
    let mut missed = Vec::new();
    for cell in 0..40u64 {
        let mut rng = SplitMix64::new(cell + 1000);
        // One or two incidents per cell after a 3-day warm-up, 2 to 8 hours long.
        let mut incidents = Vec::new();
        for k in 0..(1 + cell as usize % 2) {
            let start = (3 + k * 5) * DAY + (rng.unit() * 4.0 * DAY as f64) as usize;
            let len = 8 + (rng.unit() * 24.0) as usize;
            incidents.push(Incident {
                kind: kinds[(cell as usize + k) % 4],
                start,
                end: start + len,
            });
        }
        let series = simulate(cell, days, &incidents);
        let mut detector = config.build(8, interval).unwrap();
        let mut above = 0;
        let mut hit = vec![false; incidents.len()];
        for (t, row) in series.iter().enumerate() {
            let time = Timestamp(1_700_092_800_000 + t as i64 * interval.millis());
            let s = detector.update(time, row);
            above = if s.value >= 0.9 { above + 1 } else { 0 };
            if above == 2 && t >= 2 * DAY {
                events += 1;
                let grace = 4;
                match incidents
                    .iter()
                    .position(|i| t >= i.start && t <= i.end + grace)
                {
                    Some(j) => {
                        true_events += 1;
                        hit[j] = true;
                    }
                    None => eprintln!(
                        "cell {cell}: false alert at step {t} (day {}, field {:?})",
                        t / DAY,
                        s.field
                    ),
                }
            }
        }
        total += incidents.len();
        found += hit.iter().filter(|h| **h).count();
        missed.extend(
            incidents
                .iter()
                .zip(&hit)
                .filter(|(_, h)| !**h)
                .map(|(i, _)| (cell, i.kind, i.end - i.start)),
        );
    }
    let precision = true_events as f64 / events.max(1) as f64;
    let recall = found as f64 / total as f64;
    eprintln!("events {events}, precision {precision:.3}, recall {recall:.3}, missed {missed:?}");
    assert!(precision >= 0.8, "precision {precision}");
    assert!(recall >= 0.8, "recall {recall}");
}
