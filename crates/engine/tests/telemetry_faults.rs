//! A stuck source is evidence on its own: on the sandbox's telemetry faults (Y.3181
//! REQ-ML-SANDBOX-005), the default detector and a policy asking for 5 consecutive intervals
//! alert on every flatline and drop to zero within 3 intervals, and on every block of missing
//! data when the source returns; a cell whose traffic is legitimately 0 every night does not
//! alert.

use ai4ict_anomaly::DetectorConfig;
use ai4ict_core::{Against, Alert, Batch, Entity, IncidentKind, Interval, Timestamp};
use ai4ict_engine::nodes::{ModelNode, PolicyNode, Scored};
use ai4ict_intent::AlertPolicy;
use ai4ict_sandbox::{Network, ScenarioConfig, KPIS};

fn policy() -> AlertPolicy {
    AlertPolicy {
        for_intervals: 5,
        ..AlertPolicy::default()
    }
}

fn alerts_of(batches: impl IntoIterator<Item = Batch>, interval: Interval) -> Vec<Alert> {
    let fields: Vec<String> = KPIS.iter().map(|s| s.to_string()).collect();
    let config = DetectorConfig::default();
    let mut model = ModelNode::new(&config, fields.len(), interval).unwrap();
    let mut policy = PolicyNode::new(&policy(), &fields, interval);
    let (mut scored, mut alerts) = (Scored::default(), Vec::new());
    for b in batches {
        model.process(b, &mut scored);
        policy.process(&scored, &mut alerts);
    }
    alerts
}

#[test]
fn flatlines_and_drops_alert_within_three_intervals_whatever_the_for() {
    let net = Network::new(&ScenarioConfig {
        cells: 30,
        days: 14,
        quiet_days: 7,
        incident_rate: 0.0,
        telemetry_fault_rate: 3.0,
        ..ScenarioConfig::default()
    })
    .unwrap();
    let interval = net.interval();
    let idx: Vec<usize> = (0..KPIS.len()).collect();
    let alerts = alerts_of(
        (0..net.steps()).map(|s| net.batch(s, 0..net.cells().len(), &idx)),
        interval,
    );
    let mut checked = [0; 3];
    for i in net.incidents() {
        let (kind, within) = match i.kind {
            IncidentKind::Flatline => (0, 2),
            IncidentKind::DropToZero => (1, 2),
            // Known when the source speaks again, the interval after the block.
            IncidentKind::MissingData => (2, 0),
            _ => continue,
        };
        let from = if kind == 2 {
            Timestamp(i.end.0 + interval.millis())
        } else {
            i.start
        };
        let by = Timestamp(from.0 + within * interval.millis());
        assert!(
            alerts
                .iter()
                .any(|a| a.entity == i.entity && a.time >= i.start && a.time <= by),
            "{i:?}: no alert by {by:?}"
        );
        checked[kind] += 1;
    }
    assert!(checked.iter().all(|&n| n >= 5), "{checked:?}");
}

#[test]
fn a_cell_at_zero_every_night_does_not_alert() {
    let interval = Interval::from_minutes(15);
    let day = 96;
    let batches = (0..14 * day).map(|i| {
        let h = (i % day) as f64 / 4.0;
        let noise = |k: usize| ((i * 7919 + k * 104_729) % 1009) as f64 / 1009.0 - 0.5;
        // Nobody from 1 am to 6 am: no users, no traffic, the PRBs idle.
        let busy = !(1.0..6.0).contains(&h);
        let load = if busy {
            0.3 + 0.2 * (h / 24.0 * std::f64::consts::TAU).sin() + 0.02 * noise(0)
        } else {
            0.0
        };
        let round = |x: f64, d: i32| (x * 10f64.powi(d)).round() / 10f64.powi(d);
        let row = [
            round(load, 4),
            round(40.0 * load * (1.0 + 0.1 * noise(1)), 2),
            round(300.0 * load * (1.0 + 0.05 * noise(2)), 3),
            round(30.0 * load * (1.0 + 0.05 * noise(3)), 3),
            round(0.995 + 0.004 * noise(4), 5),
            round(0.003 + 0.001 * noise(5), 5),
            if busy {
                round(12.0 + noise(6), 2)
            } else {
                f64::NAN
            },
            round(150.0 + 100.0 * load + noise(7), 1),
        ];
        let mut b = Batch::new(KPIS.len());
        b.push(
            Entity::new("cell-night"),
            Timestamp(i as i64 * interval.millis()),
            &row,
        );
        b
    });
    let alerts = alerts_of(batches.collect::<Vec<_>>(), interval);
    assert!(alerts.is_empty(), "{alerts:?}");
}

#[test]
fn a_source_dead_for_good_alerts_while_the_others_go_on() {
    let interval = Interval::from_minutes(15);
    let row = |i: usize, k: usize| -> Vec<f64> {
        (0..KPIS.len())
            .map(|f| 100.0 + ((i * 7919 + f * 104_729 + k * 31) % 1009) as f64 / 100.0)
            .collect()
    };
    // Two cells for 3 days; the first stops for good at step 250.
    let batches: Vec<Batch> = (0..3 * 96)
        .map(|i| {
            let mut b = Batch::new(KPIS.len());
            let t = Timestamp(i as i64 * interval.millis());
            if i < 250 {
                b.push(Entity::new("dies"), t, &row(i, 0));
            }
            b.push(Entity::new("lives"), t, &row(i, 1));
            b
        })
        .collect();
    let alerts = alerts_of(batches, interval);
    let dead: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.entity.name() == "dies")
        .collect();
    // Its last row is at 249; six intervals missed by 255.
    assert_eq!(dead.len(), 1, "{alerts:?}");
    assert_eq!(dead[0].time, Timestamp(255 * interval.millis()));
    assert_eq!(dead[0].field, ai4ict_engine::nodes::NO_DATA);
}

#[test]
fn a_file_ordered_by_entity_has_no_silent_source() {
    // Three cells' 3 days, one cell after the other (an export per series), in batches of
    // 200 rows as a file is read: the batch that ends one cell's rows and starts the next
    // one's jumps back days, and no cell was ever silent.
    let interval = Interval::from_minutes(15);
    let rows: Vec<(usize, usize)> = (0..3)
        .flat_map(|k| (0..3 * 96).map(move |i| (k, i)))
        .collect();
    let batches: Vec<Batch> = rows
        .chunks(200)
        .map(|chunk| {
            let mut b = Batch::new(KPIS.len());
            for &(k, i) in chunk {
                let values: Vec<f64> = (0..KPIS.len())
                    .map(|f| 100.0 + ((i * 7919 + f * 104_729 + k * 31) % 1009) as f64 / 100.0)
                    .collect();
                let t = Timestamp(i as i64 * interval.millis());
                b.push(Entity::new(format!("cell-{k}")), t, &values);
            }
            b
        })
        .collect();
    let alerts = alerts_of(batches, interval);
    let silent: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.field == ai4ict_engine::nodes::NO_DATA)
        .collect();
    assert!(silent.is_empty(), "{silent:?}");
}

#[test]
fn alerts_say_why_they_fired() {
    let net = Network::new(&ScenarioConfig {
        cells: 30,
        days: 14,
        quiet_days: 7,
        incident_rate: 6.0,
        telemetry_fault_rate: 1.0,
        ..ScenarioConfig::default()
    })
    .unwrap();
    let idx: Vec<usize> = (0..KPIS.len()).collect();
    let alerts = alerts_of(
        (0..net.steps()).map(|s| net.batch(s, 0..net.cells().len(), &idx)),
        net.interval(),
    );
    let mut by = std::collections::BTreeMap::<String, usize>::new();
    for a in &alerts {
        let kind = a
            .why
            .as_ref()
            .map_or("none".into(), |w| format!("{:?}", w.against));
        *by.entry(kind).or_default() += 1;
        let Some(w) = &a.why else { continue };
        let sentence = a.description();
        assert!(
            sentence.starts_with(&w.field) || sentence.starts_with("no readings"),
            "{sentence}"
        );
        match w.against {
            Against::Stuck | Against::Silent => {
                assert!(w.intervals.is_some_and(|n| n > 0), "{w:?}")
            }
            _ => {
                assert!(
                    w.expected.is_some() && w.spread.is_some_and(|s| s > 0.0),
                    "{w:?}"
                );
                assert!(w.surprise.is_some_and(|s| s > 4.0), "{w:?}");
                assert!(w.value.is_some(), "{w:?}");
            }
        }
        if w.against == Against::Relation {
            let (partner, _) = w.partner.as_ref().expect("a relation names its partner");
            assert!(
                *partner != w.field && (a.field == w.field || a.field == *partner),
                "{a:?}"
            );
        } else {
            assert_eq!(a.field, w.field, "{a:?}");
        }
    }
    // Every alert of the default detector says why, and the sandbox's incidents show each kind
    // of evidence.
    assert_eq!(by.get("none"), None, "{by:?}");
    for kind in ["Profile", "Relation", "Stuck"] {
        assert!(by.get(kind).is_some_and(|&n| n > 0), "{kind}: {by:?}");
    }
}
