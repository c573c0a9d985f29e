//! The pipelines a server runs (`ai4ict serve`): the MLFO's deployed pipelines (Y.3172 §8.3)
//! as resources of the API.
//!
//! | Method and path | What |
//! |---|---|
//! | `GET /pipelines` | every pipeline's [`PipelineStatus`] |
//! | `GET /pipelines/{name}` | one pipeline's status, with its nodes' figures |
//! | `GET /pipelines/{name}/tap/{node}?limit=&timeout=` | records passing a node (SRC, PP, M, P, SINK), sampled while the request waits, as JSON lines; 204 when none passed within `timeout` |
//! | `POST /pipelines` | body: an ML intent (YAML); validated as a remote intent, then run: 201 |
//! | `DELETE /pipelines/{name}` | stops it: its sources stop, it drains and writes its report: 202 |
//! | `GET /events/pipelines` | server-sent events: `pipelines`, every pipeline's status, each time it changes (checked every second) |
//!
//! Writes need the token, like every write. The server does not know the engine: whoever
//! serves gives it a [`Pipelines`] (the CLI's, over the MLFO).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::api::ApiError;

/// What a server needs of the pipelines it runs. Calls must not block for long: they are made
/// from the server's blocking pool.
pub trait Pipelines: Send + Sync + 'static {
    /// Every pipeline, running or ended, by name.
    fn list(&self) -> Vec<PipelineStatus>;
    /// The pipeline named `name`.
    fn get(&self, name: &str) -> Option<PipelineStatus>;
    /// Starts the intent in `yaml` (an intent submitted remotely: its files must stay under
    /// the working directory).
    fn start(&self, yaml: &str) -> Result<PipelineStatus, PipelineError>;
    /// Stops the pipeline named `name`; it drains and reports in the background.
    fn stop(&self, name: &str) -> Result<PipelineStatus, PipelineError>;
    /// Up to `limit` records passing `node` of the pipeline `name`, sampled while waiting
    /// at most `timeout` (this call blocks that long); empty when none passed. By default no
    /// pipeline can be tapped.
    fn tap(
        &self,
        name: &str,
        node: &str,
        limit: usize,
        timeout: Duration,
    ) -> Result<Vec<serde_json::Value>, PipelineError> {
        let _ = (node, limit, timeout);
        Err(PipelineError::NotFound(name.into()))
    }
}

impl std::fmt::Debug for dyn Pipelines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pipelines")
    }
}

/// Where a pipeline is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PipelineState {
    /// Planning, training, evaluating or deployed and reading its source.
    Running,
    /// Asked to stop: its sources have stopped and it drains.
    Stopping,
    /// Its source ended and its report is written.
    Finished,
    /// Stopped before its source ended; its report is partial.
    Stopped,
    /// A stage failed (the detail says which and why).
    Failed,
}

/// A pipeline as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PipelineStatus {
    /// The intent's name.
    pub name: String,
    /// The Resolution 101 domain it serves.
    pub use_case: String,
    /// The SRC node, as the plan describes it.
    pub source: String,
    /// Where it is.
    pub state: PipelineState,
    /// The MLFO's phase (`train (sandbox)`, `deploy`, …).
    pub phase: String,
    /// Rows read by its sources so far (all phases).
    pub rows: u64,
    /// Alerts the deployed pipeline handed to its sinks.
    pub alerts: u64,
    /// The latest event time read (RFC 3339).
    pub event_time: Option<String>,
    /// When it started (RFC 3339, wall clock).
    pub started: String,
    /// Why it failed, or the run's verdict once it ended.
    pub detail: Option<String>,
    /// Its report's folder, once written.
    pub report: Option<String>,
    /// Its nodes' figures in pipeline order (the anomaly pipeline's: SRC, PP, M, P, SINK),
    /// counted since the current phase began.
    #[serde(default)]
    pub nodes: Vec<NodeStatus>,
}

/// One node of a pipeline (Y.3172 §8.1) as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NodeStatus {
    /// Its Y.3172 name: `SRC`, `PP`, `M`, `P` or `SINK`.
    pub node: String,
    /// Records that reached it: rows read (SRC), received (PP), scored (M), weighed (P), or
    /// alerts handed to the sinks (SINK).
    pub records_in: u64,
    /// Records it passed on: rows within the run's span (SRC), rows out (PP), rows scored
    /// (M), alerts raised (P), alerts delivered (SINK).
    pub records_out: u64,
    /// The latest event time it passed on (RFC 3339).
    pub event_time: Option<String>,
    /// While it runs: seconds its event time is behind the source's; for SRC, behind the
    /// wall clock.
    pub lag_seconds: Option<f64>,
    /// Bytes of per-entity state (PP, M, P).
    pub state_bytes: Option<u64>,
    /// The model's calibrated scores (M).
    pub scores: Option<ScoreHistogram>,
    /// Rows dropped as late: older than the source's watermark when they came (SRC; a live
    /// source with `lateness`, else 0).
    pub late_rows: Option<u64>,
}

/// Scores counted at or under each bound, as a Prometheus histogram's buckets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScoreHistogram {
    /// The buckets, bounds ascending.
    pub buckets: Vec<ScoreBucket>,
    /// Scores counted.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
}

/// One bucket of a [`ScoreHistogram`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScoreBucket {
    /// Its upper bound.
    pub le: f64,
    /// Scores at or under it.
    pub count: u64,
}

/// Why a pipeline could not be started, stopped or tapped.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The intent is not valid; the message lists its problems.
    #[error("{0}")]
    Invalid(String),
    /// A pipeline of that name is running.
    #[error("a pipeline named `{0}` is running; stop it first")]
    Running(String),
    /// No pipeline has that name.
    #[error("no pipeline named `{0}`")]
    NotFound(String),
    /// The server runs as many pipelines as it may.
    #[error("{0}")]
    Full(String),
    /// The pipeline has no node of that name.
    #[error("pipeline `{pipeline}` has no node `{node}`; its nodes: {nodes}")]
    NoNode {
        /// The pipeline.
        pipeline: String,
        /// The node asked for.
        node: String,
        /// Its nodes, comma-separated.
        nodes: String,
    },
    /// The pipeline has ended: nothing passes its nodes.
    #[error("pipeline `{0}` has ended; nothing passes its nodes")]
    Ended(String),
}

impl From<PipelineError> for ApiError {
    fn from(e: PipelineError) -> Self {
        let status = match &e {
            PipelineError::Invalid(_) => StatusCode::BAD_REQUEST,
            PipelineError::Running(_) => StatusCode::CONFLICT,
            PipelineError::NotFound(_) | PipelineError::NoNode { .. } => StatusCode::NOT_FOUND,
            PipelineError::Full(_) => StatusCode::SERVICE_UNAVAILABLE,
            PipelineError::Ended(_) => StatusCode::CONFLICT,
        };
        ApiError::new(status, e.to_string())
    }
}

type Shared = Arc<dyn Pipelines>;

/// Event streams served at once; more are answered 503 (each holds a connection and polls
/// the pipelines once a second).
pub const MAX_EVENT_STREAMS: usize = 64;

/// Taps served at once; more are answered 503 (each holds a blocking thread while it waits).
pub const MAX_TAPS: usize = 16;

/// Most records one tap returns.
pub const MAX_TAP_LIMIT: usize = 1000;

/// Longest a tap waits, in seconds.
pub const MAX_TAP_SECONDS: u64 = 60;

/// The routes of `/pipelines` and `/events/pipelines` (see the module docs).
pub(crate) fn router(pipelines: Shared) -> Router {
    let streams = Arc::new(tokio::sync::Semaphore::new(MAX_EVENT_STREAMS));
    let taps = Arc::new(tokio::sync::Semaphore::new(MAX_TAPS));
    Router::new()
        .route("/pipelines", get(list).post(start))
        .route("/pipelines/{name}", get(one).delete(stop))
        .route(
            "/pipelines/{name}/tap/{node}",
            get(move |state, path, query| tap(state, path, query, Arc::clone(&taps))),
        )
        .route(
            "/events/pipelines",
            get(move |state| events(state, Arc::clone(&streams))),
        )
        .with_state(pipelines)
}

/// `GET /events/pipelines`: the pipelines' statuses as server-sent events, sent when they
/// change (a live console needs no polling of its own); a comment every 15 s keeps proxies
/// from closing a quiet stream.
async fn events(
    State(p): State<Shared>,
    streams: Arc<tokio::sync::Semaphore>,
) -> Result<Response, ApiError> {
    let Ok(permit) = streams.try_acquire_owned() else {
        let mut resp = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{MAX_EVENT_STREAMS} event streams are open; try again later"),
        )
        .into_response();
        resp.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("10"),
        );
        return Ok(resp);
    };
    let stream = futures_util::stream::unfold(
        (p, String::new(), permit),
        |(p, mut last, permit)| async move {
            loop {
                let json = blocking(&p, |p| serde_json::to_string(&p.list()))
                    .await
                    .ok()?
                    .ok()?;
                if json != last {
                    last.clone_from(&json);
                    let event = Event::default().event("pipelines").data(json);
                    return Some((Ok::<_, std::convert::Infallible>(event), (p, last, permit)));
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        },
    );
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15)))
        .into_response())
}

/// Runs `f` on the blocking pool (a pipeline's start validates and plans its intent).
async fn blocking<T: Send + 'static>(
    p: &Shared,
    f: impl FnOnce(&dyn Pipelines) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let p = Arc::clone(p);
    tokio::task::spawn_blocking(move || f(p.as_ref()))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

async fn list(State(p): State<Shared>) -> Result<Json<Vec<PipelineStatus>>, ApiError> {
    Ok(Json(blocking(&p, |p| p.list()).await?))
}

async fn one(
    State(p): State<Shared>,
    Path(name): Path<String>,
) -> Result<Json<PipelineStatus>, ApiError> {
    let found = blocking(&p, move |p| p.get(&name).ok_or(name)).await?;
    found
        .map(Json)
        .map_err(|name| PipelineError::NotFound(name).into())
}

/// The query of `GET /pipelines/{name}/tap/{node}`.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct TapQuery {
    /// Records to return, 1 to 1000 (default 10).
    limit: Option<usize>,
    /// Seconds to wait for them, 1 to 60 (default 10).
    timeout: Option<u64>,
}

/// `GET /pipelines/{name}/tap/{node}`: records sampled as they pass the node, as JSON lines.
async fn tap(
    State(p): State<Shared>,
    Path((name, node)): Path<(String, String)>,
    query: Result<Query<TapQuery>, QueryRejection>,
    taps: Arc<tokio::sync::Semaphore>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let limit = q.limit.unwrap_or(10);
    let seconds = q.timeout.unwrap_or(10);
    if !(1..=MAX_TAP_LIMIT).contains(&limit) || !(1..=MAX_TAP_SECONDS).contains(&seconds) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("limit must be 1 to {MAX_TAP_LIMIT} and timeout 1 to {MAX_TAP_SECONDS} s"),
        ));
    }
    let Ok(_permit) = taps.try_acquire_owned() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{MAX_TAPS} taps are open; try again later"),
        ));
    };
    let timeout = Duration::from_secs(seconds);
    let records = blocking(&p, move |p| p.tap(&name, &node, limit, timeout)).await??;
    if records.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let mut body = String::new();
    for r in &records {
        body.push_str(&r.to_string());
        body.push('\n');
    }
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
        body,
    )
        .into_response())
}

async fn start(State(p): State<Shared>, body: String) -> Result<Response, ApiError> {
    let status = blocking(&p, move |p| p.start(&body)).await??;
    Ok((StatusCode::CREATED, Json(status)).into_response())
}

async fn stop(State(p): State<Shared>, Path(name): Path<String>) -> Result<Response, ApiError> {
    let status = blocking(&p, move |p| p.stop(&name)).await??;
    Ok((StatusCode::ACCEPTED, Json(status)).into_response())
}

/// A metric: its name, type, help and value for one pipeline.
type Series = (
    &'static str,
    &'static str,
    &'static str,
    fn(&PipelineStatus) -> f64,
);

/// A per-node metric: its name, type, help and value for one node (`None`: no sample).
type NodeSeries = (
    &'static str,
    &'static str,
    &'static str,
    fn(&NodeStatus) -> Option<f64>,
);

/// A label value, escaped.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Seconds since the epoch of an RFC 3339 time.
fn epoch_seconds(t: Option<&str>) -> Option<f64> {
    t.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_millis() as f64 / 1000.0)
}

/// The pipelines' figures in Prometheus' text format: series per pipeline, and per pipeline
/// and node.
pub(crate) fn render_metrics(all: &[PipelineStatus]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let series: [Series; 4] = [
        (
            "rows_total",
            "counter",
            "Rows read by the pipeline's sources.",
            |s| s.rows as f64,
        ),
        (
            "alerts_total",
            "counter",
            "Alerts handed to the pipeline's sinks.",
            |s| s.alerts as f64,
        ),
        (
            "event_time_seconds",
            "gauge",
            "Latest event time read, seconds since the epoch.",
            |s| epoch_seconds(s.event_time.as_deref()).unwrap_or(0.0),
        ),
        (
            "running",
            "gauge",
            "1 while the pipeline runs, else 0.",
            |s| {
                f64::from(u8::from(matches!(
                    s.state,
                    PipelineState::Running | PipelineState::Stopping
                )))
            },
        ),
    ];
    for (name, kind, help, value) in series {
        let _ = writeln!(
            out,
            "# HELP ai4ict_pipeline_{name} {help}\n# TYPE ai4ict_pipeline_{name} {kind}"
        );
        for s in all {
            let _ = writeln!(
                out,
                "ai4ict_pipeline_{name}{{pipeline=\"{}\"}} {}",
                label(&s.name),
                value(s)
            );
        }
    }
    let nodes: [NodeSeries; 6] = [
        (
            "records_in_total",
            "counter",
            "Records that reached the node (SINK: alerts).",
            |n| Some(n.records_in as f64),
        ),
        (
            "records_out_total",
            "counter",
            "Records the node passed on (P: alerts raised; SINK: alerts delivered).",
            |n| Some(n.records_out as f64),
        ),
        (
            "event_time_seconds",
            "gauge",
            "Latest event time the node passed on, seconds since the epoch.",
            |n| epoch_seconds(n.event_time.as_deref()),
        ),
        (
            "lag_seconds",
            "gauge",
            "Seconds the node's event time is behind the source's (SRC: behind the wall clock).",
            |n| n.lag_seconds,
        ),
        (
            "state_bytes",
            "gauge",
            "Bytes of the node's per-entity state.",
            |n| n.state_bytes.map(|b| b as f64),
        ),
        (
            "late_rows_total",
            "counter",
            "Rows dropped as late: older than the source's watermark when they came (SRC).",
            |n| n.late_rows.map(|r| r as f64),
        ),
    ];
    let each = || {
        all.iter().flat_map(|s| {
            let pipeline = label(&s.name);
            s.nodes.iter().map(move |n| {
                (
                    format!("pipeline=\"{pipeline}\",node=\"{}\"", label(&n.node)),
                    n,
                )
            })
        })
    };
    for (name, kind, help, value) in nodes {
        let _ = writeln!(
            out,
            "# HELP ai4ict_node_{name} {help}\n# TYPE ai4ict_node_{name} {kind}"
        );
        for (labels, n) in each() {
            if let Some(v) = value(n) {
                let _ = writeln!(out, "ai4ict_node_{name}{{{labels}}} {v}");
            }
        }
    }
    let _ = writeln!(
        out,
        "# HELP ai4ict_node_scores The model's calibrated scores.\n# TYPE ai4ict_node_scores histogram"
    );
    for (labels, n) in each() {
        let Some(h) = &n.scores else {
            continue;
        };
        for b in &h.buckets {
            let _ = writeln!(
                out,
                "ai4ict_node_scores_bucket{{{labels},le=\"{}\"}} {}",
                b.le, b.count
            );
        }
        let _ = writeln!(
            out,
            "ai4ict_node_scores_bucket{{{labels},le=\"+Inf\"}} {}\n\
             ai4ict_node_scores_sum{{{labels}}} {}\nai4ict_node_scores_count{{{labels}}} {}",
            h.count, h.sum, h.count
        );
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn status(name: &str, state: PipelineState) -> PipelineStatus {
        PipelineStatus {
            name: name.into(),
            use_case: "network_operations".into(),
            source: "sandbox".into(),
            state,
            phase: "deploy".into(),
            rows: 1200,
            alerts: 3,
            event_time: Some("2024-01-02T00:00:00Z".into()),
            started: "2026-12-03T09:00:00Z".into(),
            detail: None,
            report: None,
            nodes: Vec::new(),
        }
    }

    /// A node's figures as a running pipeline reports them (also for the console's tests).
    pub(crate) fn node(name: &str, records_in: u64, records_out: u64) -> NodeStatus {
        NodeStatus {
            node: name.into(),
            records_in,
            records_out,
            event_time: Some("2024-01-01T23:45:00Z".into()),
            lag_seconds: Some(900.0),
            state_bytes: None,
            scores: None,
            late_rows: None,
        }
    }

    #[test]
    fn metrics_have_one_series_per_pipeline_with_escaped_labels() {
        let text = render_metrics(&[
            status("a", PipelineState::Running),
            status("b\"x", PipelineState::Finished),
        ]);
        assert!(
            text.contains("ai4ict_pipeline_rows_total{pipeline=\"a\"} 1200\n"),
            "{text}"
        );
        assert!(text.contains("ai4ict_pipeline_running{pipeline=\"a\"} 1\n"));
        assert!(text.contains("ai4ict_pipeline_running{pipeline=\"b\\\"x\"} 0\n"));
        assert!(text.contains("ai4ict_pipeline_event_time_seconds{pipeline=\"a\"} 1704153600\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }

    #[test]
    fn metrics_have_series_per_pipeline_and_node_with_a_score_histogram() {
        let mut a = status("a", PipelineState::Running);
        let mut m = node("M", 1200, 1200);
        m.state_bytes = Some(4096);
        m.scores = Some(ScoreHistogram {
            buckets: vec![
                ScoreBucket {
                    le: 0.5,
                    count: 1100,
                },
                ScoreBucket {
                    le: 1.0,
                    count: 1200,
                },
            ],
            count: 1200,
            sum: 300.5,
        });
        let mut src = node("SRC", 1300, 1200);
        src.event_time = None;
        src.lag_seconds = None;
        src.late_rows = Some(7);
        a.nodes = vec![src, node("PP", 1200, 1200), m, node("P", 1200, 3)];
        let text = render_metrics(&[a, status("b", PipelineState::Finished)]);
        for line in [
            "# TYPE ai4ict_node_records_in_total counter",
            "ai4ict_node_records_in_total{pipeline=\"a\",node=\"SRC\"} 1300",
            "ai4ict_node_records_out_total{pipeline=\"a\",node=\"P\"} 3",
            "ai4ict_node_lag_seconds{pipeline=\"a\",node=\"PP\"} 900",
            "ai4ict_node_event_time_seconds{pipeline=\"a\",node=\"M\"} 1704152700",
            "ai4ict_node_state_bytes{pipeline=\"a\",node=\"M\"} 4096",
            "# TYPE ai4ict_node_late_rows_total counter",
            "ai4ict_node_late_rows_total{pipeline=\"a\",node=\"SRC\"} 7",
            "# TYPE ai4ict_node_scores histogram",
            "ai4ict_node_scores_bucket{pipeline=\"a\",node=\"M\",le=\"0.5\"} 1100",
            "ai4ict_node_scores_bucket{pipeline=\"a\",node=\"M\",le=\"1\"} 1200",
            "ai4ict_node_scores_bucket{pipeline=\"a\",node=\"M\",le=\"+Inf\"} 1200",
            "ai4ict_node_scores_sum{pipeline=\"a\",node=\"M\"} 300.5",
            "ai4ict_node_scores_count{pipeline=\"a\",node=\"M\"} 1200",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        // No sample for what a node does not have, and none for a pipeline without nodes.
        assert!(!text.contains("lag_seconds{pipeline=\"a\",node=\"SRC\"}"));
        assert!(!text.contains("state_bytes{pipeline=\"a\",node=\"PP\"}"));
        assert!(!text.contains("late_rows_total{pipeline=\"a\",node=\"PP\"}"));
        assert!(!text.contains("ai4ict_node_records_in_total{pipeline=\"b\""));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
