//! `ai4ict bench flows`: flows per second on one core through the flow pipeline's per-flow
//! nodes, the very ones a deployment runs ([`FlowNodes`]: PP features → M classifier → P class
//! alerts, and the behaviour watch), on the sandbox's labelled flows, with the time each stage
//! takes. Beside, in the same run: the same nodes classifying only (no alert classes, no
//! watch: the traffic-classification intent), the model alone on features computed
//! beforehand, and the reference (every tree walked on raw values, row by row), whose classes each pass must equal.

use std::hash::{Hash, Hasher};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ai4ict_classify::{
    encode_labels, stratified_split, Classifier, Dataset, Forest, ForestConfig, Gbdt, GbdtConfig,
    Model,
};
use ai4ict_core::Alert;
use ai4ict_engine::flow_run::{alert_classes, FlowNodes, Scoring, SCORE_BATCH};
use ai4ict_intent::FlowAlertPolicy;
use ai4ict_intrusion::{
    feature_names, flow_features, Directions, FlowObs, FlowSourceConfig, SandboxFlows,
};
use anyhow::{bail, Context};

/// Flows per second through the flow pipeline on one core, stage by stage.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Sandbox flows (50 cells, 20% attacks, as the intents' default source).
    #[arg(long, default_value_t = 100_000)]
    flows: usize,
    /// Seed of the network, its flows, the split and the models.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Timed passes of the pipeline over all the flows, per model.
    #[arg(long, default_value_t = 3)]
    passes: usize,
    /// Boosting rounds at most.
    #[arg(long, default_value_t = 200)]
    rounds: usize,
    /// Trees of the random forest; 0 leaves the forest out.
    #[arg(long, default_value_t = 100)]
    trees: usize,
    /// Levels of a forest's tree at most (an intent's `max_depth`).
    #[arg(long, default_value_t = ForestConfig::default().max_depth)]
    forest_depth: usize,
}

/// Seconds spent in each stage over one pass.
#[derive(Default)]
struct Split {
    features: Duration,
    model: Duration,
    policy: Duration,
    watch: Duration,
}

impl Split {
    fn total(&self) -> Duration {
        self.features + self.model + self.policy + self.watch
    }
}

/// One pass of every flow through the nodes, chunk by chunk as a deployment feeds them:
/// the stage times, the classes, and a digest and count of the alerts.
fn pass(
    nodes: &mut FlowNodes<'_>,
    flows: &[FlowObs],
) -> anyhow::Result<(Split, Vec<u32>, u64, usize)> {
    let mut split = Split::default();
    let mut classes = Vec::with_capacity(flows.len());
    let (mut alerts, mut hosts) = (Vec::new(), Vec::new());
    for chunk in flows.chunks(SCORE_BATCH) {
        let t0 = Instant::now();
        nodes.features(chunk);
        let t1 = Instant::now();
        classes.extend_from_slice(nodes.score()?);
        let t2 = Instant::now();
        nodes.alert(chunk, &mut alerts, &mut hosts);
        let t3 = Instant::now();
        nodes.watch(chunk, &mut alerts);
        let t4 = Instant::now();
        split.features += t1 - t0;
        split.model += t2 - t1;
        split.policy += t3 - t2;
        split.watch += t4 - t3;
    }
    nodes.finish(&mut alerts);
    Ok((split, classes, digest(&alerts), alerts.len()))
}

/// A digest of every field of the alerts, in order, to compare builds.
fn digest(alerts: &[Alert]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for a in alerts {
        (
            a.entity.name(),
            a.time.0,
            a.onset.0,
            a.score.to_bits(),
            &a.field,
        )
            .hash(&mut h);
    }
    h.finish()
}

/// The reference: each row's class by walking every tree on its raw values, one row at a
/// time, and the flows per second of it.
fn reference(
    model: &Model,
    x: &[f64],
    width: usize,
    classes: usize,
) -> anyhow::Result<(Vec<u32>, f64)> {
    let mut p = vec![0.0; classes];
    let began = Instant::now();
    let mut out = Vec::with_capacity(x.len() / width);
    for row in x.chunks_exact(width) {
        match model {
            Model::Gbdt(g) => g.predict_proba_into(row, &mut p)?,
            Model::Forest(f) => f.predict_proba_into(row, &mut p)?,
        }
        out.push((0..classes).fold(0, |b, i| if p[i] > p[b] { i } else { b }) as u32);
    }
    let fps = rate(out.len(), began.elapsed());
    Ok((out, fps))
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

fn share(part: Duration, all: Duration) -> f64 {
    100.0 * part.as_secs_f64() / all.as_secs_f64().max(1e-12)
}

/// Runs `ai4ict bench flows`.
pub fn run(a: Args) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!("note: this is a debug build; measure with `cargo run --release -- bench flows`");
    }
    if a.passes == 0 {
        bail!("--passes must be at least 1");
    }
    let source = FlowSourceConfig::Sandbox(SandboxFlows {
        flows: a.flows,
        seed: a.seed,
        ..SandboxFlows::default()
    });
    let batch = source
        .open()?
        .next_batch(&AtomicBool::new(false))
        .context("the sandbox gave no flows")??;
    let (flows, labels) = (batch.flows, batch.classes);
    let names: Vec<String> = labels
        .iter()
        .map(|l| l.clone().unwrap_or_default())
        .collect();
    let (classes, y) = encode_labels(&names);
    let directions = Directions::Both;
    let features = feature_names(directions);
    let width = features.len();
    let mut x = Vec::with_capacity(flows.len() * width);
    for f in &flows {
        flow_features(f, directions, &mut x);
    }
    let data = Dataset {
        features: features.iter().map(|s| s.to_string()).collect(),
        columns: (0..width)
            .map(|j| x.iter().skip(j).step_by(width).copied().collect())
            .collect(),
        labels: y,
        classes: classes.clone(),
    };
    data.validate()?;
    let (train_rows, _) = stratified_split(&data.labels, classes.len(), 0.3, a.seed);
    let train = data.subset(&train_rows);
    let policy = FlowAlertPolicy::default();
    let alerting = alert_classes(&policy, &classes)?;
    // The traffic-classification intent's policy: classes only, no alerts, no watch.
    let classify_only = FlowAlertPolicy {
        alert_classes: Some(Vec::new()),
        behaviour: None,
        ..FlowAlertPolicy::default()
    };
    let no_alerts = alert_classes(&classify_only, &classes)?;
    outln!(
        "{} sandbox flows (seed {}), {} features, {} classes; models trained on a stratified 70% of them; every flow through the pipeline in time order, in chunks of {SCORE_BATCH}, on one thread; default flow_alert policy (min 3 flows, suppress 10 min, behaviour watch 5 × 1 min)",
        flows.len(),
        a.seed,
        width,
        classes.len()
    );
    let mut models = vec![(
        "GBDT",
        Model::Gbdt(Gbdt::fit(
            &train,
            &GbdtConfig {
                rounds: a.rounds,
                seed: a.seed,
                ..GbdtConfig::default()
            },
        )?),
    )];
    if a.trees > 0 {
        models.push((
            "forest",
            Model::Forest(Forest::fit(
                &train,
                &ForestConfig {
                    trees: a.trees,
                    seed: a.seed,
                    max_depth: a.forest_depth,
                    ..ForestConfig::default()
                },
            )?),
        ));
    }
    for (name, model) in models {
        let size = match &model {
            Model::Gbdt(g) => format!("{} rounds, {} trees", g.rounds, g.trees.len()),
            Model::Forest(f) => format!("{} trees, depth ≤ {}", f.trees.len(), a.forest_depth),
        };
        let classifier = Arc::new(Classifier::new(name, model, &train));
        let (scoring, _) = Scoring::new(&classifier)?;
        let (want, reference_fps) = reference(&classifier.model, &x, width, classes.len())?;
        outln!("\n{name} ({size}); reference (row by row, raw values): {reference_fps:.0} flows/s");
        outln!(
            "{:<6} {:>12} {:>13} {:>12} {:>8} {:>9} {:>9} {:>9} {:>9} {:>8} {:>18}",
            "pass",
            "pipeline f/s",
            "classify f/s",
            "model f/s",
            "pipe/mod",
            "features",
            "model",
            "policy",
            "watch",
            "alerts",
            "alert digest"
        );
        let (mut best, mut best_classify) = (0.0f64, 0.0f64);
        for p in 1..=a.passes {
            let mut nodes = FlowNodes::new(&scoring, directions, &classes, &alerting, &policy)?;
            let (split, got, alerts_digest, alerts) = pass(&mut nodes, &flows)?;
            if got != want {
                let first = got.iter().zip(&want).position(|(g, w)| g != w);
                bail!("{name}: the pipeline's classes differ from the reference's (first at flow {first:?})");
            }
            // The same flows through features and model only, as traffic classification runs.
            let mut only =
                FlowNodes::new(&scoring, directions, &classes, &no_alerts, &classify_only)?;
            let (split_only, got, _, quiet) = pass(&mut only, &flows)?;
            if got != want || quiet != 0 {
                bail!("{name}: the classes-only pass differs from the reference or alerted");
            }
            let classify = rate(flows.len(), split_only.total());
            best_classify = best_classify.max(classify);
            // The model alone, on all the features at once, right after the pass.
            let began = Instant::now();
            std::hint::black_box(scoring.predict(&x)?);
            let alone = rate(flows.len(), began.elapsed());
            let total = split.total();
            let fps = rate(flows.len(), total);
            best = best.max(fps);
            outln!(
                "{:<6} {:>12.0} {:>13.0} {:>12.0} {:>7.2}× {:>8.1}% {:>8.1}% {:>8.1}% {:>8.1}% {:>8} {:>18x}",
                p,
                fps,
                classify,
                alone,
                fps / alone,
                share(split.features, total),
                share(split.model, total),
                share(split.policy, total),
                share(split.watch, total),
                alerts,
                alerts_digest
            );
        }
        outln!(
            "{name}: best {best:.0} flows/s through the pipeline ({:.2}× the reference), {best_classify:.0} classifying only ({:.2}×); classes equal to the reference's in every pass",
            best / reference_fps,
            best_classify / reference_fps
        );
    }
    outln!("(pipeline: features + model + class-alert policy + behaviour watch, sinks left out; classify: features + model, no alert classes and no watch, as intents/traffic-classification.yaml runs; model: the same compiled model on the precomputed features of all flows in one call; the shares are the pipeline's)");
    Ok(())
}
