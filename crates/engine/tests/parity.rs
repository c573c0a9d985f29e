//! One worker and several workers produce identical alerts (same set, same order).

use std::sync::Arc;

use ai4ict_engine::dataflow::{self, PipelineSpec, Progress};
use ai4ict_engine::Cluster;
use ai4ict_intent::{FillMethod, PreprocessStep};
use ai4ict_sandbox::{Network, SandboxSource, ScenarioConfig, KPIS};

fn run(workers: usize) -> Vec<ai4ict_core::Alert> {
    let scenario = ScenarioConfig {
        cells: 40,
        days: 8,
        quiet_days: 3,
        ..ScenarioConfig::default()
    };
    let net = Arc::new(Network::new(&scenario).unwrap());
    let fields: Vec<String> = KPIS.iter().map(|s| s.to_string()).collect();
    let spec = PipelineSpec {
        preprocess: vec![PreprocessStep::FillGaps(FillMethod::Linear)],
        ..PipelineSpec::new(fields.clone(), net.interval())
    };
    let cluster = Cluster {
        workers,
        ..Cluster::default()
    };
    let out = dataflow::run(
        spec,
        &cluster,
        SandboxSource::factory(net, (0..fields.len()).collect()),
        Arc::new(|| Ok(Vec::new())),
        Arc::new(Progress::default()),
    )
    .unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.entities, 40);
    out.alerts
}

#[test]
fn one_and_three_workers_agree() {
    let one = run(1);
    assert!(
        !one.is_empty(),
        "the sandbox has incidents, so some alerts are expected"
    );
    assert_eq!(one, run(3));
}
