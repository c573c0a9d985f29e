//! The web console: read-only HTML pages over the hub, served next to the JSON API and behind
//! the same guards (`Host` check; no CORS unless configured; writes stay with the API and its
//! token).
//!
//! | Path | Page |
//! |---|---|
//! | `/` | overview: counts, use cases by SDG, latest runs |
//! | `/ui/standards?q=&body=&status=&year=&offset=&limit=` | the catalogue, filtered and paged |
//! | `/ui/standard?key=` | one standard |
//! | `/ui/review-due?at=` | standards due for review |
//! | `/ui/coop?min_score=` | cooperation map: pairs of standards and the terms they share |
//! | `/ui/gaps?min_standards=` | coverage of the Resolution 101 domains |
//! | `/ui/usecases` | use cases by SDG with their evidence |
//! | `/ui/models?q=` and `/ui/model?name=&version=` | the model marketplace and a model card |
//! | `/ui/pipelines` | the pipelines `ai4ict serve` runs, each with its nodes' figures (SRC, PP, M, P, SINK), kept current |
//! | `/ui/runs`, `/ui/run?id=`, `/ui/run/chart?id=&entity=&field=`, `/ui/run/file?id=&name=` | reports under the runs folder ([`crate::Config::runs_dir`]) |
//!
//! Every page takes `?lang=` (`en`, `zh`, `fr`, `es`, `ar`, `ru`), else follows
//! `Accept-Language`.

mod html;
mod i18n;
mod pages;
mod runs;

use std::path::Path;
use std::sync::Arc;

use ai4ict_hub::{Hub, HubError};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::Hubs;
use html::Ctx;
pub(crate) use runs::RunsDir;

/// What the console pages read from.
#[derive(Debug)]
pub(crate) struct Console {
    hubs: Arc<Hubs>,
    runs: Option<RunsDir>,
    pipelines: Option<Arc<dyn crate::Pipelines>>,
}

type Shared = Arc<Console>;

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConsoleError {
    /// The hub refused or failed.
    #[error(transparent)]
    Hub(#[from] HubError),
    /// The item asked for is not there.
    #[error("{0}")]
    NotFound(String),
    /// A query parameter is wrong.
    #[error("{0}")]
    BadInput(String),
    /// The hub was served without a runs folder.
    #[error("no runs folder: serve the hub with --runs DIR to see runs")]
    NoRuns,
    /// A path given by the client would leave the runs folder.
    #[error("'{0}' is not a run inside the runs folder")]
    Outside(String),
    /// A file in the runs folder could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// A report in the runs folder is not a report.
    #[error("{path} is not a report: {source}")]
    Report {
        /// The file.
        path: String,
        /// Why it does not parse.
        source: serde_json::Error,
    },
    /// The blocking worker failed.
    #[error("worker failed: {0}")]
    Worker(String),
}

impl ConsoleError {
    fn status(&self) -> StatusCode {
        match self {
            ConsoleError::Hub(HubError::NotFound(_))
            | ConsoleError::NotFound(_)
            | ConsoleError::NoRuns => StatusCode::NOT_FOUND,
            ConsoleError::Hub(
                HubError::Invalid { .. } | HubError::Data { .. } | HubError::Json(_),
            )
            | ConsoleError::BadInput(_) => StatusCode::BAD_REQUEST,
            ConsoleError::Outside(_) => StatusCode::FORBIDDEN,
            ConsoleError::Hub(_)
            | ConsoleError::Io { .. }
            | ConsoleError::Report { .. }
            | ConsoleError::Worker(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

type PageResult = Result<(String, String), ConsoleError>;

/// Answers a page (title, body) or its error, in the request's language.
fn answer(ctx: &Ctx, result: PageResult) -> Response {
    match result {
        Ok((title, body)) => html::page(ctx, StatusCode::OK, &title, &body),
        Err(e) => {
            let status = e.status();
            if status.is_server_error() {
                tracing::error!(error = %e, "console page failed");
            }
            let body = format!(r#"<p class="error">{}</p>"#, html::esc(&e.to_string()));
            html::page(ctx, status, ctx.t("error.title"), &body)
        }
    }
}

/// Runs a blocking read on a reader hub.
async fn read<T: Send + 'static>(
    c: &Shared,
    f: impl FnOnce(&mut Hub) -> Result<T, HubError> + Send + 'static,
) -> Result<T, ConsoleError> {
    let hubs = Arc::clone(&c.hubs);
    blocking(move || hubs.read(f).map_err(ConsoleError::from)).await
}

/// Runs blocking work (the hub, the file system) off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ConsoleError> + Send + 'static,
) -> Result<T, ConsoleError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ConsoleError::Worker(e.to_string()))?
}

/// The stylesheet of every page.
const STYLE: &str = include_str!("../../assets/console.css");

/// The console's routes; `runs` is the runs folder, if any, and `pipelines` what
/// `ai4ict serve` runs.
pub(crate) fn router(
    hubs: Arc<Hubs>,
    runs: Option<&Path>,
    pipelines: Option<Arc<dyn crate::Pipelines>>,
) -> std::io::Result<Router> {
    let console = Arc::new(Console {
        hubs,
        runs: runs.map(RunsDir::open).transpose()?,
        pipelines,
    });
    Ok(Router::new()
        .route("/", get(pages::overview))
        .route("/ui/style.css", get(style))
        .route("/ui/live.js", get(live_script))
        .route("/ui/standards", get(pages::standards))
        .route("/ui/standard", get(pages::standard))
        .route("/ui/review-due", get(pages::review_due))
        .route("/ui/coop", get(pages::coop))
        .route("/ui/gaps", get(pages::gaps))
        .route("/ui/usecases", get(pages::use_cases))
        .route("/ui/models", get(pages::models))
        .route("/ui/model", get(pages::model))
        .route("/ui/pipelines", get(pages::pipelines))
        .route("/ui/runs", get(pages::runs))
        .route("/ui/run", get(pages::run))
        .route("/ui/run/chart", get(pages::chart))
        .route("/ui/run/file", get(pages::run_file))
        .with_state(console))
}

/// The script that keeps the pipelines page current from `GET /events/pipelines`.
const LIVE_JS: &str = include_str!("../../assets/live.js");

async fn live_script() -> Response {
    let mut resp = html::respond(StatusCode::OK, "text/javascript; charset=utf-8", LIVE_JS);
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("max-age=3600"),
    );
    resp
}

async fn style() -> Response {
    let mut resp = html::respond(StatusCode::OK, "text/css; charset=utf-8", STYLE);
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("max-age=3600"),
    );
    resp
}
