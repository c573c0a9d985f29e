use std::net::IpAddr;

use ai4ict_core::Timestamp;
use ai4ict_sandbox::{FlowClass, FlowConfig, Network, ScenarioConfig};

use super::*;

fn flow(t: i64, src: &str, dst: &str, port: u16, failed: bool) -> FlowObs {
    FlowObs {
        start: Timestamp(t),
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        dst_port: port,
        protocol: 6,
        packets: 2,
        bytes: 120,
        reverse_bytes: if failed { 54 } else { 4000 },
        failed,
    }
}

fn feature(w: &HostWindow, name: &str) -> f64 {
    w.features[FEATURES.iter().position(|f| *f == name).unwrap()]
}

#[test]
fn a_scanner_shows_fan_out_ports_and_failures_over_the_window() {
    let mut windows = HostWindows::new(WindowConfig::default()).unwrap();
    let mut out = Vec::new();
    // 300 probes over 3 minutes, one port each, to one host; then a normal flow at minute 4.
    for p in 0..300 {
        windows.push(
            &flow(p * 600, "198.51.100.7", "10.0.0.9", 1 + p as u16, true),
            &mut out,
        );
    }
    windows.push(
        &flow(240_000, "10.0.0.5", "203.0.113.1", 443, false),
        &mut out,
    );
    windows.finish(&mut out);
    let scanner: IpAddr = "198.51.100.7".parse().unwrap();
    let last = out.iter().rev().find(|w| w.host == scanner).unwrap();
    // The window at the end of minute 3 covers every probe.
    assert_eq!(last.end, Timestamp(180_000));
    assert_eq!(feature(last, "flows_out"), 300.0);
    assert_eq!(feature(last, "fan_out").round(), 1.0);
    assert!((feature(last, "dst_ports") - 300.0).abs() < 45.0);
    assert_eq!(feature(last, "failed_out"), 300.0);
    let victim = out
        .iter()
        .rev()
        .find(|w| w.host.to_string() == "10.0.0.9")
        .unwrap();
    assert_eq!(feature(victim, "failed_in"), 300.0);
    assert_eq!(feature(victim, "fan_in").round(), 1.0);
    // A host emits at most once per hop, and only for hops it was active in.
    let hops: Vec<i64> = out
        .iter()
        .filter(|w| w.host == scanner)
        .map(|w| w.end.0)
        .collect();
    assert_eq!(hops, [60_000, 120_000, 180_000]);
    assert_eq!(windows.stats().flows, 301);
}

#[test]
fn state_is_bounded_and_late_flows_are_counted_not_kept() {
    let config = WindowConfig {
        max_hosts: 100,
        ..WindowConfig::default()
    };
    let mut windows = HostWindows::new(config).unwrap();
    let mut out = Vec::new();
    // A flood of spoofed sources: 10,000 hosts in one minute.
    for i in 0..10_000u32 {
        let src = std::net::Ipv4Addr::from(0x0b00_0000 + i).to_string();
        windows.push(&flow(1_000, &src, "10.0.0.9", 80, true), &mut out);
    }
    assert_eq!(windows.hosts(), 100);
    assert_eq!(windows.stats().hosts_refused, 10_000 - 99);
    let bytes = windows.state_bytes();
    assert!(bytes < 200_000, "{bytes}");
    // Ten minutes on, the window no longer holds them; an old flow is late.
    windows.push(&flow(600_000, "10.0.0.1", "10.0.0.2", 80, false), &mut out);
    windows.push(&flow(1_000, "10.0.0.1", "10.0.0.2", 80, false), &mut out);
    assert_eq!(windows.stats().late, 1);
    assert!(HostWindows::new(WindowConfig {
        hop_ms: 0,
        ..WindowConfig::default()
    })
    .is_err());
    assert!(Behaviour::new(
        BehaviourConfig {
            score_above: 1.5,
            ..BehaviourConfig::default()
        },
        ai4ict_core::Interval::from_minutes(1)
    )
    .is_err());
}

#[test]
fn population_tails_score_the_unseen_high_and_do_not_learn_it() {
    let mut p = PopulationTails::new(2, 1_000);
    let mut worst: f64 = 0.0;
    for i in 0..20_000u64 {
        // Flows per window: mostly 1 or 2, now and then 3.
        let v = [1.0 + (i % 2) as f64 + f64::from(i % 97 == 0), f64::NAN];
        if let Some((s, _)) = p.update(&v, 2.5) {
            worst = worst.max(s);
        }
    }
    assert!(worst < 2.5, "the population's own values score {worst}");
    let (s, field) = p.update(&[300.0, f64::NAN], 2.5).unwrap();
    assert!(s > 5.0 && field == 0, "{s}");
    // Not learned: the same value again is as surprising.
    let (again, _) = p.update(&[300.0, f64::NAN], 2.5).unwrap();
    assert_eq!(s, again);
}

/// Development seed (the split is in crates/intrusion/README.md): the behaviour detector,
/// which never sees a label, finds the loud attacks and leaves almost every normal host alone.
#[test]
fn unknown_attacks_alert_on_a_development_seed() {
    let net = Network::new(&ScenarioConfig {
        cells: 20,
        days: 1,
        seed: 1,
        ..ScenarioConfig::default()
    })
    .unwrap();
    let flows = net
        .flows(&FlowConfig {
            flows: 40_000,
            attack_share: 0.2,
            seed: 1,
        })
        .unwrap();
    let e = evaluate(&flows, WindowConfig::default(), BehaviourConfig::default()).unwrap();
    let found = |c| {
        e.classes
            .iter()
            .find(|d| d.class == c)
            .map(|d| (d.detected, d.actors))
    };
    assert_eq!(found(FlowClass::PortScan), Some((6, 6)), "{e:?}");
    assert_eq!(found(FlowClass::SynFlood), Some((6, 6)), "{e:?}");
    assert!(e.precision() > 0.7, "{e:?}");
    assert!(
        (e.normal_hosts_alerted as f64) < 0.01 * e.normal_hosts as f64,
        "{e:?}"
    );
}
