//! The telemetry faults (Y.3181 REQ-ML-SANDBOX-005, data quality): each kind is injected with
//! its ground truth and looks as documented, and they change nothing else in the scenario.

use ai4ict_core::IncidentKind;
use ai4ict_sandbox::{Network, ScenarioConfig};

/// The telemetry kinds, in the order of `IncidentKind::ALL`.
const TELEMETRY: [IncidentKind; 6] = [
    IncidentKind::Flatline,
    IncidentKind::DropToZero,
    IncidentKind::LevelShift,
    IncidentKind::VarianceBurst,
    IncidentKind::SlowDrift,
    IncidentKind::MissingData,
];

fn config(rate: f64) -> ScenarioConfig {
    ScenarioConfig {
        cells: 40,
        days: 12,
        incident_rate: 1.0,
        gap_rate: 0.01,
        telemetry_fault_rate: rate,
        // The scenario the fingerprint below was taken of (3 quiet days, then the default).
        quiet_days: 3,
        ..ScenarioConfig::default()
    }
}

/// FNV-1a over the ground truth and every reading of the network, bit for bit.
fn fingerprint(net: &Network) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(format!("{:?}", net.incidents()).as_bytes());
    let mut v = [0.0; 8];
    for cell in 0..net.cells().len() {
        for step in 0..net.steps() {
            eat(&[u8::from(net.observe(cell, step, &mut v))]);
            for x in v {
                eat(&x.to_bits().to_le_bytes());
            }
        }
    }
    h
}

fn step_of(net: &Network, t: ai4ict_core::Timestamp) -> usize {
    ((t.0 - net.start().0) / net.interval().millis()) as usize
}

#[test]
fn at_rate_zero_the_network_is_what_it_was_before_telemetry_faults() {
    // The value at rate 0. The sandbox as it was before telemetry faults existed (commit
    // 117277c) writes byte for byte the same telemetry.csv and labels.json for this scenario
    // (`ai4ict sandbox generate --cells 40 --days 12 --incident-rate 1 --gap-rate 0.01`,
    // compared with `cmp` on 2026-12-03), so this is its fingerprint too.
    let net = Network::new(&config(0.0)).unwrap();
    assert_eq!(fingerprint(&net), BEFORE);
    assert!(net.incidents().iter().all(|i| !TELEMETRY.contains(&i.kind)));
}

/// See `at_rate_zero_the_network_is_what_it_was_before_telemetry_faults`.
const BEFORE: u64 = 8_840_047_954_936_719_978;

#[test]
fn telemetry_faults_touch_only_their_own_readings() {
    let clean = Network::new(&config(0.0)).unwrap();
    let faulty = Network::new(&config(3.0)).unwrap();
    let (old, new): (Vec<_>, Vec<_>) = faulty
        .incidents()
        .iter()
        .cloned()
        .partition(|i| !TELEMETRY.contains(&i.kind));
    assert_eq!(
        old,
        clean.incidents(),
        "the network's incidents are unchanged"
    );
    let steps = clean.steps();
    let mut touched = vec![false; clean.cells().len() * steps];
    for i in &new {
        let cell = faulty.cell_index(i.entity.name()).unwrap();
        for s in step_of(&faulty, i.start)..=step_of(&faulty, i.end) {
            touched[cell * steps + s] = true;
        }
    }
    let (mut a, mut b) = ([0.0; 8], [0.0; 8]);
    for cell in 0..clean.cells().len() {
        for step in 0..steps {
            let pa = clean.observe(cell, step, &mut a);
            let pb = faulty.observe(cell, step, &mut b);
            if !touched[cell * steps + step] {
                assert_eq!((pa, a.map(f64::to_bits)), (pb, b.map(f64::to_bits)));
            }
            // What the cell carries is the same: telemetry faults are in the reports only.
            assert_eq!(clean.demand(cell, step), faulty.demand(cell, step));
        }
    }
}

#[test]
fn each_telemetry_kind_is_injected_as_documented() {
    let net = Network::new(&config(3.0)).unwrap();
    let (mut v, mut before, mut x) = ([0.0; 8], [0.0; 8], [0.0; 8]);
    for kind in TELEMETRY {
        let of_kind: Vec<_> = net.incidents().iter().filter(|i| i.kind == kind).collect();
        assert!(of_kind.len() >= 5, "{kind}: {}", of_kind.len());
        for i in of_kind {
            let cell = net.cell_index(i.entity.name()).unwrap();
            let (start, end) = (step_of(&net, i.start), step_of(&net, i.end));
            assert!(end >= start + 3, "{i:?}");
            // The same interval as the network would report it without the fault.
            let clean = |step: usize, out: &mut [f64; 8]| {
                let d = net.demand(cell, step);
                net.kpis(cell, step, &d, out);
            };
            let mut changed = 0;
            for step in start..=end {
                let present = net.observe(cell, step, &mut v);
                clean(step, &mut x);
                match kind {
                    IncidentKind::MissingData => assert!(!present),
                    IncidentKind::Flatline if present => {
                        clean(start - 1, &mut before);
                        assert_eq!(
                            v.map(f64::to_bits),
                            before.map(f64::to_bits),
                            "{i:?} at {step}"
                        );
                    }
                    IncidentKind::DropToZero if present => {
                        assert_eq!(&v[..4], &[0.0; 4], "{i:?}");
                        assert_eq!(v[7].to_bits(), x[7].to_bits(), "power goes on");
                    }
                    _ => {}
                }
                if v.map(f64::to_bits) != x.map(f64::to_bits) {
                    changed += 1;
                }
            }
            // Every kind changes most of its readings (a drift starts small).
            assert!(
                changed * 2 > end - start + 1,
                "{i:?}: {changed} of {}",
                end - start + 1
            );
        }
    }
}
