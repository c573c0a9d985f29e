//! The pipelines `ai4ict serve` runs: one thread per intent running the MLFO's whole
//! lifecycle, its counters read live for the API.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ai4ict_engine::mlfo::Status;
use ai4ict_engine::observe::{Node, NodeFigures, ScoreCounts, SCORE_BOUNDS};
use ai4ict_engine::{Mlfo, Progress, RunOptions};
use ai4ict_intent::{MlIntent, Origin};
use ai4ict_server::{
    NodeStatus, PipelineError, PipelineState, PipelineStatus, Pipelines, ScoreBucket,
    ScoreHistogram,
};

use crate::cmd::run::{check_outputs, link_report, record_in_hub};
use crate::report;

/// How a pipeline ended.
#[derive(Clone, Debug)]
struct Ended {
    state: PipelineState,
    detail: Option<String>,
    report: Option<String>,
}

/// One pipeline: its intent, its live counters and its thread.
struct Pipeline {
    intent: MlIntent,
    source: String,
    options: RunOptions,
    /// Whether it counts per-node figures (the anomaly pipeline).
    counts_nodes: bool,
    started: chrono::DateTime<chrono::Utc>,
    ended: Arc<Mutex<Option<Ended>>>,
    thread: Option<JoinHandle<()>>,
}

impl Pipeline {
    fn status(&self) -> PipelineStatus {
        let ended = self
            .ended
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let stopping = self.options.progress.stop.load(Ordering::Relaxed);
        let state = match &ended {
            Some(e) => e.state,
            None if stopping => PipelineState::Stopping,
            None => PipelineState::Running,
        };
        let t = self.options.progress.event_time.load(Ordering::Relaxed);
        PipelineStatus {
            name: self.intent.name.clone(),
            use_case: self.intent.use_case.as_str().to_string(),
            source: self.source.clone(),
            state,
            phase: self
                .options
                .phase
                .lock()
                .map(|p| p.clone())
                .unwrap_or_default(),
            rows: self.options.progress.rows.load(Ordering::Relaxed),
            alerts: self.options.progress.alerts.load(Ordering::Relaxed),
            event_time: (t > 0).then(|| ai4ict_core::Timestamp(t).to_string()),
            started: self
                .started
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            detail: ended.as_ref().and_then(|e| e.detail.clone()),
            report: ended.as_ref().and_then(|e| e.report.clone()),
            nodes: if self.counts_nodes {
                nodes(&self.options.progress, ended.is_none())
            } else {
                Vec::new()
            },
        }
    }

    fn is_running(&self) -> bool {
        self.ended
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }
}

/// Each node's figures; while `running`, its lag behind the source (the source's behind the
/// wall clock).
fn nodes(progress: &Progress, running: bool) -> Vec<NodeStatus> {
    let metrics = &progress.nodes;
    // Read downstream first, so no node shows more than the one before it.
    let mut figures = Node::ALL.map(|n| (n, NodeFigures::default()));
    for (node, f) in figures.iter_mut().rev() {
        *f = metrics.node(*node).figures();
    }
    let source = figures[0].1.event_time;
    let now = chrono::Utc::now().timestamp_millis();
    figures
        .into_iter()
        .map(|(node, f)| {
            let ahead = if node == Node::Src {
                Some(now)
            } else {
                source.map(|t| t.0)
            };
            let lag = match (running, ahead, f.event_time) {
                (true, Some(a), Some(t)) => Some(a.saturating_sub(t.0).max(0) as f64 / 1000.0),
                _ => None,
            };
            NodeStatus {
                node: node.name().to_string(),
                records_in: f.records_in,
                records_out: f.records_out,
                event_time: f.event_time.map(|t| t.to_string()),
                lag_seconds: lag,
                state_bytes: node.has_state().then_some(f.state_bytes),
                scores: (node == Node::M).then(|| histogram(&metrics.scores())),
                late_rows: (node == Node::Src).then_some(f.late_rows),
            }
        })
        .collect()
}

/// The model's score counts as cumulative buckets.
fn histogram(c: &ScoreCounts) -> ScoreHistogram {
    let mut total = 0;
    let buckets = SCORE_BOUNDS
        .iter()
        .zip(&c.buckets)
        .map(|(&le, n)| {
            total += n;
            ScoreBucket { le, count: total }
        })
        .collect();
    ScoreHistogram {
        buckets,
        count: c.count(),
        sum: c.sum,
    }
}

/// Every pipeline of the server, by name: running ones and the last run of ended ones.
pub(super) struct Running {
    all: Mutex<BTreeMap<String, Pipeline>>,
    runs: PathBuf,
    speed: f64,
    max: usize,
    /// The hub that records finished runs (`None`: none; `Some(None)`: the default hub).
    hub: Option<Option<String>>,
}

impl Running {
    /// Pipelines reporting to `runs/<name>/`, sandbox and files played at `speed`, at most
    /// `max` at once.
    pub(super) fn new(runs: PathBuf, speed: f64, max: usize, hub: Option<Option<String>>) -> Self {
        Self {
            all: Mutex::new(BTreeMap::new()),
            runs,
            speed,
            max,
            hub,
        }
    }

    /// Plans `intent` and starts its thread.
    pub(super) fn launch(&self, mut intent: MlIntent) -> Result<PipelineStatus, PipelineError> {
        let mut all = self.all.lock().unwrap_or_else(PoisonError::into_inner);
        if all.get(&intent.name).is_some_and(Pipeline::is_running) {
            return Err(PipelineError::Running(intent.name));
        }
        let running = all.values().filter(|p| p.is_running()).count();
        if running >= self.max {
            return Err(PipelineError::Full(format!(
                "{running} pipelines run already (--max-pipelines {}); stop one first",
                self.max
            )));
        }
        let dir = self.runs.join(&intent.name);
        link_report(&mut intent, &dir);
        check_outputs(&intent).map_err(|e| PipelineError::Invalid(format!("{e:#}")))?;
        let options = RunOptions {
            pace: (!intent.source.is_live()).then_some(self.speed),
            ..RunOptions::default()
        };
        let mlfo = Mlfo::new(intent.clone(), options.clone());
        mlfo.plan()
            .map_err(|e| PipelineError::Invalid(e.to_string()))?;
        let counts_nodes = mlfo.counts_nodes();
        let ended = Arc::new(Mutex::new(None));
        let thread = {
            let (intent, options, ended, hub) = (
                intent.clone(),
                options.clone(),
                Arc::clone(&ended),
                self.hub.clone(),
            );
            std::thread::Builder::new()
                .name(format!("pipeline {}", intent.name))
                .spawn(move || {
                    let end = run_pipeline(mlfo, &intent, &options, &dir, hub);
                    tracing::info!(pipeline = %intent.name, state = ?end.state, detail = ?end.detail, "pipeline ended");
                    *ended.lock().unwrap_or_else(PoisonError::into_inner) = Some(end);
                })
                .map_err(|e| PipelineError::Full(format!("cannot start a thread: {e}")))?
        };
        let pipeline = Pipeline {
            source: intent.source.component().describe(),
            intent,
            options,
            counts_nodes,
            started: chrono::Utc::now(),
            ended,
            thread: Some(thread),
        };
        let status = pipeline.status();
        tracing::info!(pipeline = %status.name, source = %status.source, "pipeline started");
        all.insert(status.name.clone(), pipeline);
        Ok(status)
    }

    /// Stops every pipeline and waits at most `timeout` for them to drain; returns the
    /// names of those still running then.
    pub(super) fn stop_all(&self, timeout: Duration) -> Vec<String> {
        let mut threads = Vec::new();
        {
            let mut all = self.all.lock().unwrap_or_else(PoisonError::into_inner);
            for p in all.values_mut() {
                p.options.progress.stop.store(true, Ordering::SeqCst);
                if let Some(t) = p.thread.take() {
                    threads.push((p.intent.name.clone(), t));
                }
            }
        }
        let until = Instant::now() + timeout;
        let mut left = Vec::new();
        for (name, t) in threads {
            while !t.is_finished() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(50));
            }
            if t.is_finished() {
                let _ = t.join();
            } else {
                left.push(name);
            }
        }
        left
    }
}

/// Runs the lifecycle and writes the report; what the API shows once it ended.
fn run_pipeline(
    mlfo: Mlfo,
    intent: &MlIntent,
    options: &RunOptions,
    dir: &std::path::Path,
    hub: Option<Option<String>>,
) -> Ended {
    let outcome = match mlfo.run() {
        Ok(o) => o,
        Err(e) => {
            return Ended {
                state: PipelineState::Failed,
                detail: Some(e.to_string()),
                report: None,
            }
        }
    };
    let stopped = options.progress.stop.load(Ordering::SeqCst)
        || outcome.stages.iter().any(|s| s.status == Status::Stopped);
    let failed = outcome
        .stages
        .iter()
        .find(|s| s.status == Status::Failed)
        .map(|s| format!("the {:?} stage failed: {}", s.stage, s.detail));
    let mut detail = failed.clone();
    let report = match report::write(&outcome, intent, dir) {
        Ok(_) => Some(dir.display().to_string()),
        Err(e) => {
            detail = Some(format!("the report could not be written: {e:#}"));
            None
        }
    };
    // A stopped or failed run is never evidence.
    if let (Some(db), false, None) = (hub, stopped, &failed) {
        if let Err(e) = record_in_hub(&outcome, intent, db, dir) {
            tracing::warn!(pipeline = %intent.name, error = %format!("{e:#}"), "not recorded in the hub");
        }
    }
    let state = if failed.is_some() {
        PipelineState::Failed
    } else if stopped {
        PipelineState::Stopped
    } else {
        PipelineState::Finished
    };
    Ended {
        state,
        detail,
        report,
    }
}

impl Pipelines for Running {
    fn list(&self) -> Vec<PipelineStatus> {
        let all = self.all.lock().unwrap_or_else(PoisonError::into_inner);
        all.values().map(Pipeline::status).collect()
    }

    fn get(&self, name: &str) -> Option<PipelineStatus> {
        let all = self.all.lock().unwrap_or_else(PoisonError::into_inner);
        all.get(name).map(Pipeline::status)
    }

    fn start(&self, yaml: &str) -> Result<PipelineStatus, PipelineError> {
        let intent = MlIntent::parse(yaml, "<http>", Origin::Remote).map_err(|e| {
            let problems: Vec<String> = e.problems().iter().map(|p| p.to_string()).collect();
            PipelineError::Invalid(if problems.is_empty() {
                e.to_string()
            } else {
                problems.join("; ")
            })
        })?;
        self.launch(intent)
    }

    fn stop(&self, name: &str) -> Result<PipelineStatus, PipelineError> {
        let all = self.all.lock().unwrap_or_else(PoisonError::into_inner);
        let p = all
            .get(name)
            .ok_or_else(|| PipelineError::NotFound(name.to_string()))?;
        p.options.progress.stop.store(true, Ordering::SeqCst);
        Ok(p.status())
    }

    fn tap(
        &self,
        name: &str,
        node: &str,
        limit: usize,
        timeout: Duration,
    ) -> Result<Vec<serde_json::Value>, PipelineError> {
        let (progress, ended, counts_nodes) = {
            let all = self.all.lock().unwrap_or_else(PoisonError::into_inner);
            let p = all
                .get(name)
                .ok_or_else(|| PipelineError::NotFound(name.to_string()))?;
            if !p.is_running() {
                return Err(PipelineError::Ended(name.to_string()));
            }
            (
                Arc::clone(&p.options.progress),
                Arc::clone(&p.ended),
                p.counts_nodes,
            )
        };
        let Some(node) = Node::parse(node).filter(|_| counts_nodes) else {
            let names: Vec<&str> = Node::ALL.iter().map(|n| n.name()).collect();
            return Err(PipelineError::NoNode {
                pipeline: name.to_string(),
                node: node.to_string(),
                nodes: if counts_nodes {
                    names.join(", ")
                } else {
                    "none (only an anomaly pipeline's nodes are tapped)".into()
                },
            });
        };
        let ended = || {
            ended
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_some()
        };
        Ok(progress.nodes.node(node).tap(limit, timeout, ended))
    }
}
