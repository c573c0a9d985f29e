//! The closed loops on the dataflow (energy saving, SLA-breach prediction): one worker and
//! several workers give identical results, and a stopped loop says so.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use ai4ict_energy::{EnergyConfig, EnergySavingPolicy, SlaConfig, SlaLoop, SlaPolicy};
use ai4ict_engine::closed_loop::{run_energy, run_sla, LoopRun};
use ai4ict_engine::{Cluster, Progress};
use ai4ict_forecast::{ForecasterConfig, Method};
use ai4ict_sandbox::ScenarioConfig;

fn config() -> EnergyConfig {
    EnergyConfig {
        sandbox: ScenarioConfig {
            cells: 40,
            days: 4,
            ..ScenarioConfig::default()
        },
        forecaster: ForecasterConfig::with_method(Method::Ets),
        policy: EnergySavingPolicy {
            history_days: 2,
            ..EnergySavingPolicy::default()
        },
        ..EnergyConfig::default()
    }
}

fn energy(workers: usize, progress: Arc<Progress>) -> LoopRun {
    let cluster = Cluster {
        workers,
        ..Cluster::default()
    };
    let run = run_energy(&config(), &cluster, progress).unwrap();
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    run
}

#[test]
fn energy_saving_is_identical_on_one_two_and_three_workers() {
    let one = energy(1, Arc::default());
    let report = one.energy.clone().unwrap();
    // 40 cells, 4 days of 15-minute reports.
    assert_eq!(one.records, 40 * 4 * 96);
    let forecast = report.policy("forecast").unwrap();
    assert!(forecast.saved_kwh > 0.0 && forecast.wakeups > 0);
    // The loop's result equals the in-thread driver's, bit for bit.
    let local = ai4ict_energy::evaluate(&config()).unwrap();
    assert_eq!(report.policies, local.policies);
    for workers in [2, 3] {
        let other = energy(workers, Arc::default());
        assert_eq!(other.records, one.records);
        let r = other.energy.unwrap();
        assert_eq!(r.policies, report.policies, "{workers} workers");
        assert_eq!(r.power_w, report.power_w, "{workers} workers");
        assert_eq!(r.plots, report.plots, "{workers} workers");
        assert_eq!(
            r.saved_vs_oracle.to_bits(),
            report.saved_vs_oracle.to_bits()
        );
    }
}

#[test]
fn a_stopped_energy_loop_reports_stopped_and_no_verdict() {
    let progress = Arc::new(Progress::default());
    progress.stop.store(true, Ordering::SeqCst);
    let run = energy(2, progress);
    assert!(run.stopped);
    assert!(run.energy.is_none());
    assert_eq!(run.records, 0);
}

fn sla_config() -> SlaConfig {
    SlaConfig {
        sandbox: ScenarioConfig {
            cells: 20,
            days: 4,
            ..ScenarioConfig::default()
        },
        forecaster: ForecasterConfig::with_method(Method::Ets),
        // Limits low enough that the small network breaches both SLAs.
        policy: SlaPolicy {
            history_days: 2,
            latency_limit_ms: 12.0,
            link_utilisation_limit: 0.3,
            ..SlaPolicy::default()
        },
    }
}

fn sla(workers: usize, progress: Arc<Progress>) -> LoopRun {
    let cluster = Cluster {
        workers,
        ..Cluster::default()
    };
    let run = run_sla(&sla_config(), &cluster, progress).unwrap();
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    run
}

#[test]
fn sla_breach_prediction_is_identical_on_one_two_and_three_workers() {
    let one = sla(1, Arc::default());
    let scores = one.sla.clone().unwrap();
    // Every cell and every site observed every 15 minutes for 4 days.
    let entities = SlaLoop::new(&sla_config()).unwrap().entities().len();
    assert!(entities > 20);
    assert_eq!(one.records, (entities * 4 * 96) as u64);
    assert_eq!(scores.len(), 2);
    assert!(scores
        .iter()
        .all(|s| s.breaches > 0 && s.alerts > 0 && s.warned > 0));
    // The dataflow's scores equal the in-thread driver's, bit for bit (NaN-safe: as text).
    let local = ai4ict_energy::evaluate_sla(&sla_config()).unwrap();
    assert_eq!(format!("{scores:?}"), format!("{local:?}"));
    for workers in [2, 3] {
        let other = sla(workers, Arc::default());
        assert_eq!(other.records, one.records);
        assert_eq!(
            format!("{:?}", other.sla.unwrap()),
            format!("{scores:?}"),
            "{workers} workers"
        );
    }
}

#[test]
fn a_stopped_sla_loop_reports_stopped_and_no_verdict() {
    let progress = Arc::new(Progress::default());
    progress.stop.store(true, Ordering::SeqCst);
    let run = sla(2, progress);
    assert!(run.stopped);
    assert!(run.sla.is_none() && run.energy.is_none());
    assert_eq!(run.records, 0);
}
