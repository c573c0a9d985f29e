use std::net::IpAddr;

use ai4ict_core::Timestamp;
use ai4ict_sandbox::{FlowClass, FlowConfig, Network, ScenarioConfig};

use super::*;

fn flow(t: i64, src: &str, dst: &str, port: u16, failed: bool) -> FlowObs {
    FlowObs {
        start: Timestamp(t),
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        src_port: 40_000,
        dst_port: port,
        protocol: 6,
        duration_ms: 20.0,
        packets: 2,
        bytes: 120,
        reverse_packets: if failed { 1 } else { 4 },
        reverse_bytes: if failed { 54 } else { 4000 },
        tcp_flags: if failed { 0x06 } else { 0x1b },
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

/// The last window of `host` in `out`.
fn last_window<'a>(out: &'a [HostWindow], host: &str) -> &'a HostWindow {
    out.iter()
        .rev()
        .find(|w| w.host.to_string() == host)
        .unwrap()
}

#[test]
fn a_periodic_check_in_is_regular_and_a_jittery_one_is_not() {
    let mut windows = HostWindows::new(WindowConfig::default()).unwrap();
    let mut out = Vec::new();
    // Two UEs check in with one peer 12 times: every 60 s within a second, or at random gaps.
    // Between check-ins the first also opens one-off flows to other peers.
    let jittery = [5, 80, 20, 140, 45, 10, 110, 60, 30, 95, 15];
    let (mut t_regular, mut t_jittery) = (0, 0);
    let mut flows = Vec::new();
    for i in 0..12i64 {
        flows.push(flow(t_regular, "10.0.0.5", "203.0.113.9", 443, false));
        flows.push(flow(
            t_regular + 7_000,
            "10.0.0.5",
            &format!("192.0.2.{}", 1 + i % 5),
            443,
            false,
        ));
        flows.push(flow(t_jittery, "10.0.0.6", "203.0.113.9", 443, false));
        t_regular += 60_000 + (i % 3 - 1) * 700;
        t_jittery += jittery.get(i as usize).copied().unwrap_or(0) * 1_000;
    }
    flows.sort_by_key(|f| f.start);
    for f in &flows {
        windows.push(f, &mut out);
    }
    windows.finish(&mut out);
    let regular = last_window(&out, "10.0.0.5");
    assert_eq!(feature(regular, "peer_run"), 12.0);
    assert!(
        feature(regular, "peer_interarrival_cv") < 0.02,
        "{regular:?}"
    );
    // The host's own gaps mix in the one-off flows: not regular.
    assert!(feature(regular, "interarrival_cv") > 0.5, "{regular:?}");
    let jitter = last_window(&out, "10.0.0.6");
    assert_eq!(feature(jitter, "peer_run"), 12.0);
    assert!(feature(jitter, "peer_interarrival_cv") > 0.5, "{jitter:?}");
}

#[test]
fn regular_check_ins_with_a_service_many_hosts_use_are_not_a_peer_run() {
    let mut windows = HostWindows::new(WindowConfig::default()).unwrap();
    let mut out = Vec::new();
    // Three devices report to one platform every 30 s; one host checks in with a server no
    // other host uses, as steadily.
    let mut flows = Vec::new();
    for i in 0..20i64 {
        for d in 1..=3 {
            flows.push(flow(
                i * 30_000 + d * 1_000,
                &format!("10.0.1.{d}"),
                "198.51.100.50",
                8883,
                false,
            ));
        }
        flows.push(flow(
            i * 30_000 + 5_000,
            "10.0.1.9",
            "203.0.113.66",
            443,
            false,
        ));
    }
    for f in &flows {
        windows.push(f, &mut out);
    }
    windows.finish(&mut out);
    for d in 1..=3 {
        let device = last_window(&out, &format!("10.0.1.{d}"));
        assert_eq!(feature(device, "peer_run"), 0.0, "{device:?}");
        assert!(feature(device, "peer_interarrival_cv").is_nan());
    }
    let bot = last_window(&out, "10.0.1.9");
    assert_eq!(feature(bot, "peer_run"), 20.0);
    assert!(feature(bot, "peer_interarrival_cv") < 0.02, "{bot:?}");
}

#[test]
fn a_peer_run_outlasts_the_window_and_ends_with_a_long_silence() {
    let mut windows = HostWindows::new(WindowConfig::default()).unwrap();
    let mut out = Vec::new();
    // Login attempts to one SSH server every 20 s for 20 minutes: 60 sessions.
    for i in 0..60 {
        windows.push(
            &flow(i * 20_000, "198.51.100.7", "10.0.0.9", 22, false),
            &mut out,
        );
    }
    windows.push(
        &flow(1_200_000, "10.0.0.1", "10.0.0.2", 80, false),
        &mut out,
    );
    let w = last_window(&out, "198.51.100.7");
    // The window holds the last five minutes; the run, all of them.
    assert_eq!(feature(w, "flows_out"), 15.0);
    assert_eq!(feature(w, "peer_run"), 60.0);
    // Forty minutes of silence (more than a run's longest gap, 30 min) end it.
    windows.push(
        &flow(1_180_000 + 2_400_000, "198.51.100.7", "10.0.0.9", 22, false),
        &mut out,
    );
    windows.finish(&mut out);
    let w = last_window(&out, "198.51.100.7");
    assert_eq!(feature(w, "peer_run"), 1.0);
    assert!(feature(w, "peer_interarrival_cv").is_nan());
}

#[test]
fn a_slow_beacon_makes_a_run_though_its_host_is_idle_between_check_ins() {
    let mut windows = HostWindows::new(WindowConfig::default()).unwrap();
    let mut out = Vec::new();
    // A check-in every 12 minutes with a server no other host uses, among 300 one-off hosts
    // a minute (so the idle bot is forgotten between check-ins, as on a busy network).
    for m in 0..=72i64 {
        for h in 0..300 {
            let host = format!("10.{}.{}.{}", 1 + m % 200, h / 250, 2 + h % 250);
            windows.push(
                &flow(m * 60_000 + h, &host, "192.0.2.80", 443, false),
                &mut out,
            );
        }
        if m % 12 == 0 {
            windows.push(
                &flow(m * 60_000 + 500, "10.0.250.9", "203.0.113.77", 443, false),
                &mut out,
            );
        }
    }
    windows.finish(&mut out);
    assert!(windows.hosts() < 3_000, "idle hosts are forgotten");
    let bot = last_window(&out, "10.0.250.9");
    assert_eq!(feature(bot, "peer_run"), 7.0, "{bot:?}");
    assert!(feature(bot, "peer_interarrival_cv") < 0.02, "{bot:?}");
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
    // What 99 % of the population stay at or below, for an alert's explanation (the bins are
    // a tenth of a `log1p` unit wide); nothing for a feature never seen.
    let p99 = p.p99(0).unwrap();
    assert!((2.0..3.2).contains(&p99), "{p99}");
    assert_eq!(p.p99(1), None);
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
    let (flows, labels) = sandbox_flows(&flows).unwrap();
    let e = evaluate(
        &flows,
        &labels,
        WindowConfig::default(),
        BehaviourConfig::default(),
    )
    .unwrap();
    let found = |c: FlowClass| {
        e.classes
            .iter()
            .find(|d| d.class == c.name())
            .map(|d| (d.detected, d.actors))
    };
    assert_eq!(found(FlowClass::PortScan), Some((6, 6)), "{e:?}");
    // One flood (21 to 36 minutes into the day) is over before the population's warm-up of
    // 2,000 host windows ends (at 40 minutes here), when nothing is scored yet.
    assert_eq!(found(FlowClass::SynFlood), Some((5, 6)), "{e:?}");
    // The quiet ones: a few dozen sessions to one login port, a check-in every 90 s or so.
    for quiet in [
        FlowClass::BruteForceSsh,
        FlowClass::BruteForceFtp,
        FlowClass::BruteForceWeb,
        FlowClass::Beaconing,
    ] {
        assert_eq!(found(quiet), Some((6, 6)), "{quiet:?}: {e:?}");
    }
    assert!(e.precision() > 0.7, "{e:?}");
    assert!(
        (e.normal_hosts_alerted as f64) < 0.01 * e.normal_hosts as f64,
        "{e:?}"
    );
}

const SANDBOX_HEADER: &str = "start,cell,site,src_ip,dst_ip,src_port,dst_port,protocol,duration_ms,fwd_packets,bwd_packets,fwd_bytes,bwd_bytes,fwd_pkt_len_mean,bwd_pkt_len_mean,flow_bytes_per_s,flow_packets_per_s,syn_count,ack_count,fin_count,rst_count,psh_count,label,attack";

fn sandbox_row(start: &str, src: &str, port: &str, label: &str, attack: u8) -> String {
    format!("{start},c1,s1,{src},10.0.0.9,40000,{port},6,2.0,1,1,58,54,58,54,1,1,1,1,0,1,0,{label},{attack}")
}

#[test]
fn a_flow_file_keeps_every_good_row_and_names_each_bad_one() {
    let mut text = format!("{SANDBOX_HEADER}\n");
    text += &sandbox_row("2024-01-01T00:00:00Z", "198.51.100.7", "22", "port_scan", 1);
    text += "\n";
    text += &sandbox_row("yesterday", "198.51.100.7", "23", "port_scan", 1); // line 3
    text += "\n";
    text += &sandbox_row("2024-01-01T00:00:01Z", "not-an-ip", "23", "port_scan", 1); // 4
    text += "\n";
    text += &sandbox_row(
        "2024-01-01T00:00:02Z",
        "198.51.100.7",
        "70000",
        "port_scan",
        1,
    ); // 5
    text += "\n";
    text += "2024-01-01T00:00:03Z,c1,s1\n"; // 6: too few fields
                                            // 7: a completed session (FIN, the initiator's ACKs).
    text += "2024-01-01T00:00:04Z,c1,s1,10.0.0.5,192.0.2.9,40001,443,6,900,9,9,900,9000,100,1000,1,1,2,17,1,0,3,web,0\n";
    let mut bytes = text.into_bytes();
    bytes.extend(
        b"2024-01-01T00:00:05Z,c1,s1,\xff\xfe,10.0.0.9,1,2,6,1,1,1,1,1,1,1,1,1,0,0,1,0,0,web,0\n",
    ); // 8
    let file = read_flows_from(std::path::Path::new("t.csv"), &bytes[..]).unwrap();
    assert_eq!(file.flows.len(), 2);
    assert_eq!(file.labels, [Some("port_scan".to_string()), None]);
    // Normal traffic keeps its class for a classifier.
    assert_eq!(
        file.classes,
        [Some("port_scan".to_string()), Some("web".to_string())]
    );
    assert!(file.flows[0].failed && !file.flows[1].failed);
    let at: Vec<(u64, Option<&str>)> = file
        .problems
        .iter()
        .map(|p| (p.line, p.column.as_deref()))
        .collect();
    assert_eq!(
        at,
        [
            (3, Some("start")),
            (4, Some("src_ip")),
            (5, Some("dst_port")),
            (6, Some("src_ip")),
            (8, Some("src_ip")),
        ],
        "{:?}",
        file.problems
    );
    assert!(file.problems[1]
        .to_string()
        .contains("line 4, column src_ip"));
}

#[test]
fn cicflowmeter_and_exported_flag_layouts_are_read() {
    let cic = "Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Tot Fwd Pkts,Tot Bwd Pkts,TotLen Fwd Pkts,TotLen Bwd Pkts,FIN Flag Cnt,SYN Flag Cnt,RST Flag Cnt,ACK Flag Cnt,Label\n\
               x,192.0.2.1,5000,10.0.0.9,80,6,2024-01-01 00:00:00,10,1,0,60,0,0,1,0,0,DDoS\n\
               y,10.0.0.5,5001,192.0.2.9,443,6,2024-01-01 00:00:01,10,9,9,900,9000,1,1,0,17,Benign\n";
    let f = read_flows_from(std::path::Path::new("cic.csv"), cic.as_bytes()).unwrap();
    assert!(f.problems.is_empty(), "{:?}", f.problems);
    assert_eq!(f.flows.len(), 2);
    assert!(f.flows[0].failed && !f.flows[1].failed);
    assert!(!is_normal(f.labels[0].as_deref()) && is_normal(f.labels[1].as_deref()));
    // CICFlowMeter's duration is in µs; its flag counts become OR-ed flags.
    let b = f.flows[1];
    assert_eq!(
        (b.src_port, b.duration_ms, b.reverse_packets),
        (5001, 0.01, 9)
    );
    assert_eq!(b.tcp_flags, flags::FIN | flags::SYN | flags::ACK);

    let exported = "ts,sa,da,dp,pr,ipkt,ibyt,flg\n\
                    2024-01-01T00:00:00Z,192.0.2.1,10.0.0.9,22,TCP,1,60,....S.\n\
                    2024-01-01T00:00:01Z,10.0.0.5,192.0.2.9,443,TCP,9,900,.AP.SF\n\
                    2024-01-01T00:00:02Z,10.0.0.5,192.0.2.9,53,UDP,1,70,......\n";
    let f = read_flows_from(std::path::Path::new("nf.csv"), exported.as_bytes()).unwrap();
    assert!(f.problems.is_empty(), "{:?}", f.problems);
    let failed: Vec<bool> = f.flows.iter().map(|x| x.failed).collect();
    assert_eq!(failed, [true, false, false]);
    assert_eq!(f.flows[2].protocol, 17);
    assert!(f.labels.iter().all(Option::is_none));
    let bits: Vec<u8> = f.flows.iter().map(|x| x.tcp_flags).collect();
    assert_eq!(
        bits,
        [
            flags::SYN,
            flags::ACK | flags::PSH | flags::SYN | flags::FIN,
            0
        ]
    );

    // Durations in seconds or from an end time; flags that are neither a number nor
    // nfdump's letters skip the row, naming the column.
    let more = "ts,te,sa,da,dp,pr,ipkt,ibyt,flg\n\
                2024-01-01T00:00:00Z,2024-01-01T00:00:02.5Z,192.0.2.1,10.0.0.9,22,TCP,1,60,0x12\n\
                2024-01-01T00:00:01Z,2024-01-01T00:00:02Z,10.0.0.5,192.0.2.9,443,TCP,9,900,.AXP.S\n";
    let f = read_flows_from(std::path::Path::new("nf.csv"), more.as_bytes()).unwrap();
    assert_eq!(f.flows.len(), 1);
    assert_eq!(f.flows[0].duration_ms, 2500.0);
    assert_eq!(f.flows[0].tcp_flags, flags::SYN | flags::ACK);
    assert_eq!(
        (f.problems[0].line, f.problems[0].column.as_deref()),
        (3, Some("tcp_flags"))
    );
}

/// Every file of the shared bad-input corpus: an error naming the file, or rows skipped with
/// their line; never a panic.
#[test]
fn the_bad_input_corpus_is_refused_or_reported_never_a_panic() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/bad-input");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipped: {} not found", dir.display());
        return;
    };
    let mut seen = 0;
    for e in entries.flatten() {
        let path = e.path();
        if path.extension().is_some_and(|x| x == "csv" || x == "jsonl") {
            seen += 1;
            match read_flows(&path) {
                Err(err) => assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}"),
                Ok(f) => assert!(f.flows.len() + f.problems.len() <= 1_000_000),
            }
        }
    }
    assert!(seen >= 10, "{seen}");
}
