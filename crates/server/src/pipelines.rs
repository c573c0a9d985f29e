//! The pipelines a server runs (`ai4ict serve`): the MLFO's deployed pipelines (Y.3172 §8.3)
//! as resources of the API.
//!
//! | Method and path | What |
//! |---|---|
//! | `GET /pipelines` | every pipeline's [`PipelineStatus`] |
//! | `GET /pipelines/{name}` | one pipeline's status |
//! | `POST /pipelines` | body: an ML intent (YAML); validated as a remote intent, then run: 201 |
//! | `DELETE /pipelines/{name}` | stops it: its sources stop, it drains and writes its report: 202 |
//! | `GET /events/pipelines` | server-sent events: `pipelines`, every pipeline's status, each time it changes (checked every second) |
//!
//! Writes need the token, like every write. The server does not know the engine: whoever
//! serves gives it a [`Pipelines`] (the CLI's, over the MLFO).

use std::sync::Arc;

use axum::extract::{Path, State};
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
}

/// Why a pipeline could not be started or stopped.
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
}

impl From<PipelineError> for ApiError {
    fn from(e: PipelineError) -> Self {
        let status = match &e {
            PipelineError::Invalid(_) => StatusCode::BAD_REQUEST,
            PipelineError::Running(_) => StatusCode::CONFLICT,
            PipelineError::NotFound(_) => StatusCode::NOT_FOUND,
            PipelineError::Full(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(status, e.to_string())
    }
}

type Shared = Arc<dyn Pipelines>;

/// Event streams served at once; more are answered 503 (each holds a connection and polls
/// the pipelines once a second).
pub const MAX_EVENT_STREAMS: usize = 64;

/// The routes of `/pipelines` and `/events/pipelines` (see the module docs).
pub(crate) fn router(pipelines: Shared) -> Router {
    let streams = Arc::new(tokio::sync::Semaphore::new(MAX_EVENT_STREAMS));
    Router::new()
        .route("/pipelines", get(list).post(start))
        .route("/pipelines/{name}", get(one).delete(stop))
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

/// The pipelines' figures in Prometheus' text format, one series per pipeline.
pub(crate) fn render_metrics(all: &[PipelineStatus]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let label = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    };
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
            |s| {
                s.event_time
                    .as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map_or(0.0, |t| t.timestamp_millis() as f64 / 1000.0)
            },
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
    out
}

#[cfg(test)]
mod tests {
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
}
