//! `ai4ict bench intrusion`: unknown-attack detection on the sandbox's labelled flows. Per-host
//! window features scored by the behaviour model, which never sees a label, against the
//! attack campaigns' ground truth; beside an anomaly-crate detector on the same windows.

use std::time::Instant;

use ai4ict_anomaly::{DetectorConfig, DetectorKind, Direction};
use ai4ict_intrusion::{
    evaluate, sandbox_flows, BehaviourConfig, BehaviourModel, Evaluation, WindowConfig,
};
use ai4ict_sandbox::{FlowClass, FlowConfig, Network, ScenarioConfig};
use anyhow::Context;

/// Detect attack campaigns in sandbox flows from host behaviour alone.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Sandbox seeds, each a network and its flows. The default is the test side of the
    /// split declared in crates/intrusion/README.md (7 and 1 were used for development).
    #[arg(long, value_delimiter = ',', default_value = "101,102,103,104,105")]
    seeds: Vec<u64>,
    /// Flows per seed.
    #[arg(long, default_value_t = 100_000)]
    flows: usize,
    /// Share of attack flows.
    #[arg(long, default_value_t = 0.2)]
    attack_share: f64,
    /// Cells of each network.
    #[arg(long, default_value_t = 50)]
    cells: u32,
    /// The anomaly-crate detector run on the same windows as the baseline.
    #[arg(long, default_value = "novelty")]
    baseline: String,
}

struct Pooled {
    name: String,
    flows: usize,
    secs: f64,
    runs: Vec<Evaluation>,
}

impl Pooled {
    fn sum(&self, f: impl Fn(&Evaluation) -> usize) -> usize {
        self.runs.iter().map(f).sum()
    }
}

/// Runs `ai4ict bench intrusion`.
pub fn run(a: Args) -> anyhow::Result<()> {
    let kind = DetectorKind::from_name(&a.baseline)
        .with_context(|| format!("--baseline: no detector {:?}", a.baseline))?;
    let models = [
        (
            "population tails (ours)".to_string(),
            BehaviourConfig::default(),
        ),
        (
            format!("{} (anomaly crate)", a.baseline),
            BehaviourConfig {
                model: BehaviourModel::Detector(DetectorConfig {
                    detector: kind,
                    direction: Direction::Up,
                    ..DetectorConfig::default()
                }),
                ..BehaviourConfig::default()
            },
        ),
    ];
    let mut pooled: Vec<Pooled> = models
        .iter()
        .map(|(name, _)| Pooled {
            name: name.clone(),
            flows: 0,
            secs: 0.0,
            runs: Vec::new(),
        })
        .collect();
    for &seed in &a.seeds {
        let net = Network::new(&ScenarioConfig {
            cells: a.cells,
            days: 1,
            seed,
            ..ScenarioConfig::default()
        })?;
        let flows = net.flows(&FlowConfig {
            flows: a.flows,
            attack_share: a.attack_share,
            seed,
        })?;
        let (flows, labels) = sandbox_flows(&flows)?;
        for ((_, config), p) in models.iter().zip(&mut pooled) {
            let began = Instant::now();
            let e = evaluate(&flows, &labels, WindowConfig::default(), config.clone())?;
            p.secs += began.elapsed().as_secs_f64();
            p.flows += flows.len();
            p.runs.push(e);
        }
    }
    outln!(
        "intrusion: {} seeds ({}), {} flows each, {:.0} % attack flows in 6 campaigns per attack, windows of 5 × 1 min",
        a.seeds.len(),
        a.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
        a.flows,
        a.attack_share * 100.0
    );
    outln!("no model sees a label: every attack is unknown to it\n");
    outln!(
        "{:<34} {:>9} {:>7} {:>7} {:>8} {:>14} {:>12} {:>10}",
        "model",
        "precision",
        "recall",
        "alerts",
        "normal",
        "hosts alerted",
        "flows/s",
        "state/host"
    );
    for p in &pooled {
        let alerts = p.sum(|e| e.alerts);
        let true_alerts = p.sum(|e| e.true_alerts);
        let (found, actors) = p
            .runs
            .iter()
            .flat_map(|e| &e.classes)
            .fold((0, 0), |(f, n), c| (f + c.detected, n + c.actors));
        let state = p
            .runs
            .iter()
            .map(|e| e.peak_state_bytes as f64 / e.peak_hosts.max(1) as f64)
            .fold(0.0, f64::max);
        outln!(
            "{:<34} {:>9.3} {:>7.3} {:>7} {:>8} {:>14} {:>12.0} {:>9.0} B",
            p.name,
            if alerts == 0 {
                1.0
            } else {
                true_alerts as f64 / alerts as f64
            },
            found as f64 / actors.max(1) as f64,
            alerts,
            p.sum(|e| e.normal_hosts_alerted),
            format!(
                "of {} ({:.2} %)",
                p.sum(|e| e.normal_hosts),
                100.0 * p.sum(|e| e.normal_hosts_alerted) as f64
                    / p.sum(|e| e.normal_hosts).max(1) as f64
            ),
            p.flows as f64 / p.secs.max(1e-9),
            state
        );
    }
    outln!("\nper attack (actors found / actors, median time to first alert)");
    let mut header = format!("{:<18}", "attack");
    for p in &pooled {
        header.push_str(&format!(" {:>30}", p.name));
    }
    outln!("{header}");
    for class in FlowClass::ALL.iter().filter(|c| c.is_attack()) {
        let mut line = format!("{:<18}", class.name());
        for p in &pooled {
            let mut delays: Vec<i64> = Vec::new();
            let (mut found, mut actors) = (0, 0);
            for c in p
                .runs
                .iter()
                .flat_map(|e| &e.classes)
                .filter(|c| c.class == class.name())
            {
                found += c.detected;
                actors += c.actors;
                delays.extend(&c.delays_ms);
            }
            delays.sort_unstable();
            let median = delays.get(delays.len() / 2).map_or("—".to_string(), |d| {
                format!("{:.0} s", *d as f64 / 1000.0)
            });
            line.push_str(&format!(" {:>30}", format!("{found}/{actors}, {median}")));
        }
        outln!("{line}");
    }
    Ok(())
}
