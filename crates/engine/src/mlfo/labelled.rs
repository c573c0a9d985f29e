//! Evaluate on the operator's own ground truth (Y.3181 §8.2.1.2 evaluation KPIs, measured on
//! labelled data rather than in the sandbox): the pipeline runs over the intent's file with no
//! sinks, and its alerts are scored against the file's labelled incidents.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use ai4ict_connectors::{read_labels, FileSourceConfig, OnError};
use ai4ict_core::{Incident, SourceComponent, Timestamp};
use ai4ict_eval::{event_metrics, EventMetrics};
use serde::Serialize;

use super::{no_sinks, stats, Mlfo, Outcome, RunStats, Stage, StageRecord, Status, TargetCheck};
use crate::dataflow;
use crate::state::Span;
use crate::EngineError;

/// Grace after a labelled incident's end during which an alert still counts, in intervals
/// (as in the sandbox evaluation).
const GRACE_INTERVALS: i64 = 4;

/// An evaluation on the labels of a file source (Y.3181 §8.2.1.2).
#[derive(Clone, Debug, Serialize)]
pub struct LabelledEvaluation {
    /// The file the pipeline ran over.
    pub source: String,
    /// The labels file.
    pub labels: String,
    /// Labelled incidents scored (all of them, or those begun before a stopped run's last row).
    pub scored_labels: usize,
    /// Event-level metrics, from the file's first row (the detectors learn as they go).
    pub metrics: EventMetrics,
    /// Checks against the intent's targets.
    pub targets: Vec<TargetCheck>,
    /// Runtime figures.
    pub stats: RunStats,
}

impl LabelledEvaluation {
    /// True when every target is met.
    pub fn passed(&self) -> bool {
        self.targets.iter().all(|t| t.passed)
    }
}

impl Mlfo {
    /// Runs the pipeline over `file` and scores it on the incidents in `labels`; returns
    /// whether to deploy.
    pub(super) fn evaluate_on_labels(
        &self,
        outcome: &mut Outcome,
        file: &FileSourceConfig,
        labels: &Path,
    ) -> Result<bool, EngineError> {
        let t = Instant::now();
        let incidents =
            read_labels(labels, None).map_err(|e| EngineError::Source(e.to_string()))?;
        let (start, train_detail) = match &self.options.model {
            Some(model) => {
                model.check(&outcome.plan.fields, outcome.plan.interval, &self.detector()?)?;
                (
                    Some(Arc::clone(model)),
                    format!(
                        "trained model given: {} entities; the evaluation starts from it",
                        model.entities.len()
                    ),
                )
            }
            None => (
                None,
                "no separate training: the detectors learn each entity's baseline online from the file's first row".to_string(),
            ),
        };
        outcome.stages.push(StageRecord {
            stage: Stage::Train,
            status: Status::Skipped,
            detail: train_detail,
            seconds: 0.0,
        });
        self.set_phase("evaluate (labels)");
        // Bad rows are skipped here; the deployment quarantines them (or fails on them).
        let mut read = file.clone();
        if read.on_error == OnError::Quarantine {
            read.on_error = OnError::Skip;
        }
        // Ends in a snapshot only to tell what `auto` chose per entity.
        let replay = Span {
            start: start.clone(),
            ..Span::default()
        };
        let span = Span {
            start,
            snapshot: true,
            ..Span::default()
        };
        let feed = read
            .open(&outcome.plan.fields)
            .map_err(|e| EngineError::Source(e.0))?;
        let run = dataflow::run(
            self.spec(&outcome.plan, Vec::new(), span)?,
            &self.options.cluster,
            Arc::clone(&feed),
            no_sinks(),
            Arc::clone(&self.options.progress),
        )?;
        let seconds = t.elapsed().as_secs_f64();
        // A stopped run is scored on the incidents that began before the last row it read.
        let read_until = if run.stopped {
            Timestamp(self.options.progress.event_time.load(Ordering::Relaxed))
        } else {
            Timestamp(i64::MAX)
        };
        let scored: Vec<Incident> = incidents
            .into_iter()
            .filter(|i| i.start <= read_until)
            .collect();
        let grace = GRACE_INTERVALS * outcome.plan.interval.millis();
        let metrics = event_metrics(&run.alerts, &scored, grace);
        let stats = stats(&run, seconds);
        let evaluation = LabelledEvaluation {
            source: file.path.display().to_string(),
            labels: labels.display().to_string(),
            scored_labels: scored.len(),
            targets: self.check_targets(&metrics, &stats),
            metrics,
            stats,
        };
        let passed = evaluation.passed();
        let mut detail = format!(
            "on {} labelled incidents of {}: precision {:.3}, recall {:.3}, F1 {:.3}",
            evaluation.scored_labels,
            evaluation.labels,
            evaluation.metrics.precision,
            evaluation.metrics.recall,
            evaluation.metrics.f1
        );
        for c in &evaluation.targets {
            detail.push_str(&format!(
                "; {} {:.3} {} {}",
                c.name,
                c.measured,
                if c.passed { "meets" } else { "misses" },
                c.target
            ));
        }
        if run.stopped {
            detail.insert_str(0, "stopped early; partial measurements, not a verdict: ");
        }
        outcome.stages.push(StageRecord {
            stage: Stage::Evaluate,
            status: if run.stopped {
                Status::Stopped
            } else if passed {
                Status::Passed
            } else {
                Status::Failed
            },
            detail,
            seconds,
        });
        if !run.stopped {
            let plotted = ai4ict_eval::report::plot_order(
                &run.alerts,
                &scored,
                grace,
                crate::report::PLOTTED_ENTITIES,
            );
            outcome.traces = self.trace(&outcome.plan, feed, replay, plotted)?;
        }
        outcome.incidents = scored;
        outcome.eval_alerts = run.alerts;
        if let Some(state) = &run.state {
            outcome.auto_choices = crate::report::auto_choices(state);
        }
        outcome.labelled = Some(evaluation);
        Ok(passed && !run.stopped)
    }
}
