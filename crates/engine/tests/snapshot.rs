//! A run stopped at time t, snapshotted and resumed raises exactly the alerts of a run that
//! never stopped — on one worker, on two, and across a change of worker count (state follows
//! the entity's owner). The snapshot also survives its byte format. A few entities replayed
//! alone (for plots) get exactly their alerts and scores of the whole run.

use std::sync::Arc;

use ai4ict_core::{Alert, Entity, Timestamp};
use ai4ict_engine::dataflow::{self, PipelineSpec, Progress, RunOutput};
use ai4ict_engine::feeds;
use ai4ict_engine::{Cluster, PipelineState, Span, StateError};
use ai4ict_intent::{AlertPolicy, FillMethod, PreprocessStep};
use ai4ict_sandbox::{Network, SandboxSource, ScenarioConfig, KPIS};

fn network() -> Arc<Network> {
    let scenario = ScenarioConfig {
        cells: 30,
        days: 8,
        quiet_days: 3,
        ..ScenarioConfig::default()
    };
    Arc::new(Network::new(&scenario).unwrap())
}

fn run(net: &Arc<Network>, workers: usize, span: Span) -> RunOutput {
    run_only(net, workers, span, None)
}

/// A run of every cell, or only of `only` (traced).
fn run_only(net: &Arc<Network>, workers: usize, span: Span, only: Option<&[Entity]>) -> RunOutput {
    let fields: Vec<String> = KPIS.iter().map(|s| s.to_string()).collect();
    let spec = PipelineSpec {
        preprocess: vec![PreprocessStep::FillGaps(FillMethod::Linear)],
        trace: only.map(<[Entity]>::to_vec).unwrap_or_default(),
        span,
        ..PipelineSpec::new(fields.clone(), net.interval())
    };
    let mut feed = SandboxSource::factory(Arc::clone(net), (0..fields.len()).collect());
    if let Some(only) = only {
        feed = feeds::only(feed, only.to_vec());
    }
    let cluster = Cluster {
        workers,
        ..Cluster::default()
    };
    let out = dataflow::run(
        spec,
        &cluster,
        feed,
        Arc::new(|| Ok(Vec::new())),
        Arc::new(Progress::default()),
    )
    .unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    out
}

/// Alerts of a run stopped at `cut` on `first` workers, resumed on `second` workers from the
/// snapshot read back from its bytes.
fn split(net: &Arc<Network>, cut: Timestamp, first: usize, second: usize) -> Vec<Alert> {
    let head = run(
        net,
        first,
        Span {
            until: Some(cut),
            snapshot: true,
            ..Span::default()
        },
    );
    let state = head.state.expect("a snapshot was asked for");
    assert_eq!(state.entities.len(), 30);
    let state = PipelineState::from_bytes(&state.to_bytes().unwrap()).unwrap();
    let tail = run(
        net,
        second,
        Span {
            start: Some(Arc::new(state)),
            from: Some(cut),
            ..Span::default()
        },
    );
    head.alerts.into_iter().chain(tail.alerts).collect()
}

#[test]
fn stop_snapshot_resume_equals_an_uninterrupted_run() {
    let net = network();
    let whole = run(&net, 1, Span::default()).alerts;
    assert!(
        whole.len() > 5,
        "the sandbox has incidents: {} alerts",
        whole.len()
    );
    // Cut mid-warm-up, at `auto`'s decision, and in the scored period (mid-incident included).
    let day = 86_400_000;
    for (k, cut) in [day + 3 * 900_000, 2 * day, 5 * day + 7 * 900_000]
        .into_iter()
        .enumerate()
    {
        let cut = Timestamp(net.start().0 + cut);
        let (first, second) = [(1, 1), (2, 2), (1, 3)][k];
        assert_eq!(
            split(&net, cut, first, second),
            whole,
            "cut at {cut} on {first} then {second} worker(s)"
        );
    }
    assert_eq!(split(&net, Timestamp(net.start().0 + 4 * day), 2, 1), whole);
}

#[test]
fn a_damaged_or_foreign_state_is_refused() {
    let net = network();
    let head = run(
        &net,
        1,
        Span {
            until: Some(Timestamp(net.start().0 + 86_400_000)),
            snapshot: true,
            ..Span::default()
        },
    );
    let bytes = head.state.unwrap().to_bytes().unwrap();
    assert_eq!(
        PipelineState::from_bytes(b"{\"detector\": {}}").unwrap_err(),
        StateError::NotAState
    );
    let mut newer = bytes.clone();
    newer[8] = 99;
    assert!(matches!(
        PipelineState::from_bytes(&newer),
        Err(StateError::Format { found: 99, .. })
    ));
    for len in [12, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            matches!(
                PipelineState::from_bytes(&bytes[..len]),
                Err(StateError::Corrupt(_))
            ),
            "truncated to {len}"
        );
    }
    let state = PipelineState::from_bytes(&bytes).unwrap();
    let fields: Vec<String> = vec!["prb_util".into()];
    assert!(matches!(
        state.check(&fields, net.interval(), &Default::default()),
        Err(StateError::Mismatch(_))
    ));
}

#[test]
fn entities_replayed_alone_get_their_alerts_and_scores_of_the_whole_run() {
    let net = network();
    let whole = run(&net, 2, Span::default());
    let mut picked: Vec<Entity> = whole.alerts.iter().map(|a| a.entity.clone()).collect();
    picked.sort();
    picked.dedup();
    picked.truncate(3);
    assert!(!picked.is_empty(), "the scenario raises alerts");
    let traced = run_only(&net, 2, Span::default(), Some(&picked));
    let theirs: Vec<&Alert> = whole
        .alerts
        .iter()
        .filter(|a| picked.contains(&a.entity))
        .collect();
    assert_eq!(traced.alerts.iter().collect::<Vec<_>>(), theirs);
    assert_eq!(traced.traces.len(), picked.len());
    for a in &traced.alerts {
        let point = traced.traces[&a.entity]
            .iter()
            .find(|p| p.time == a.time)
            .expect("a traced point at every alert");
        assert!(
            point.score >= AlertPolicy::default().score_above,
            "{} at {}: traced score {}",
            a.entity,
            a.time,
            point.score
        );
    }
}
