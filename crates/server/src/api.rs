//! HTTP routes. The marketplace endpoints carry the names of the ITU-T Y.3176 APIs:
//!
//! | Method and path | Y.3176 API | What |
//! |---|---|---|
//! | `GET /models?q=&domain=&standard=&since=` | Model_Query, Model_Discovery_Poll | matching versions, newest first; `since` (RFC 3339) lists only newer ones |
//! | `POST /models/select` | Model_Selection | body [`ModelSelection`]: the best version by a metric |
//! | `GET /models/{name}/{version}` | Model_Selection | metadata of a version, alias or `latest` |
//! | `GET /models/{name}/{version}/artifact` | Model_Pull | the artifact bytes, streamed from storage, sha256 in header `x-ai4ict-sha256` |
//! | `PUT /models/{name}/{version}/artifact` | Model_Push | body: the artifact bytes, streamed; metadata JSON in header `x-ai4ict-metadata`; see [Large models](crate#large-models) |
//! | `POST /models` | Model_Push | body [`PushBody`] (small pushes, under the JSON body limit); the hub checks the sha256 |
//! | `PUT /models/{name}/aliases/{alias}` | — | body `{"version": "…"}` |
//!
//! And for the rest of the hub: `GET /health` (store kind, `writable`, `max_body_bytes`,
//! `max_artifact_bytes`), `GET /standards?q=&body=&domain=&limit=`,
//! `GET /standard?key=`, `GET /review-due?at=`, `GET /coop?limit=&min_score=`,
//! `GET /gaps?min_standards=`, `GET /usecases`, `GET /usecases/{name}`, `POST /usecases`,
//! `GET /levels`, and the OpenAPI 3 document of all of them: `GET /openapi.json`
//! (see `openapi.rs`). Errors are JSON `{"error": "…"}` with a 4xx status for bad input (400),
//! a missing or wrong write token (401), a read-only hub, a foreign `Host` or `Origin` (403),
//! unknown items (404), immutable versions (409), a body over the limit (413) and integrity
//! failures (422); a stored row that cannot be read is a 500.
//!
//! Every listing takes `limit` (default 100, at most 1000) and `offset`, and answers the
//! number of items before paging in header `x-total-count`. Stored rows that cannot be read
//! are left out of a listing, counted in header `x-ai4ict-unreadable` and logged.

use std::io::Seek as _;
use std::path::PathBuf;
use std::sync::Arc;

use ai4ict_hub::models::hex;
use ai4ict_hub::{
    CoopOptions, Domain, Hub, HubError, ModelMetadata, ModelQuery, ModelSelection, SearchFilter,
    UseCase,
};
use axum::body::Body;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine as _;
use futures_util::StreamExt as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;

use crate::metrics::Metrics;
use crate::Hubs;
use crate::Pipelines;

type Shared = Arc<Hubs>;

/// Items a listing returns when no `limit` is given.
pub const DEFAULT_LIMIT: usize = 100;
/// Most items a listing returns at once.
pub const MAX_LIMIT: usize = 1000;
/// Header with the number of items of a listing before paging.
pub const TOTAL_HEADER: &str = "x-total-count";
/// Header with the number of stored rows left out of a listing because they cannot be read.
pub const UNREADABLE_HEADER: &str = "x-ai4ict-unreadable";

/// Body of Model_Push: metadata and the artifact, base64-encoded.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PushBody {
    /// The model's metadata; `sha256`, when set, must match the artifact.
    pub metadata: ModelMetadata,
    /// The artifact bytes, standard base64.
    pub artifact_base64: String,
}

/// Body of `PUT /models/{name}/aliases/{alias}`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct AliasBody {
    /// Version (or alias, or `latest`) the alias points at.
    pub version: String,
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    challenge: Option<&'static str>,
}

/// The message of a 5xx answer, kept on the response for the request log.
#[derive(Debug, Clone)]
pub(crate) struct ErrorMessage(pub(crate) String);

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            challenge: None,
        }
    }
    pub(crate) fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
    fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }
    /// A 401 with its `WWW-Authenticate` challenge.
    pub(crate) fn unauthorised(message: &str, challenge: &'static str) -> ApiError {
        ApiError {
            challenge: Some(challenge),
            ..ApiError::new(StatusCode::UNAUTHORIZED, message)
        }
    }
}

impl From<HubError> for ApiError {
    fn from(e: HubError) -> Self {
        let status = match &e {
            HubError::Invalid { .. } | HubError::Data { .. } | HubError::Json(_) => {
                StatusCode::BAD_REQUEST
            }
            HubError::NotFound(_) => StatusCode::NOT_FOUND,
            HubError::AlreadyExists(_) => StatusCode::CONFLICT,
            HubError::Integrity { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        ApiError::new(e.status(), e.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError::bad(e.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response();
        if let Some(c) = self.challenge {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
        if self.status.is_server_error() {
            resp.extensions_mut().insert(ErrorMessage(self.message));
        }
        resp
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// Runs a blocking read on a reader hub, off the async workers (the stores are synchronous).
async fn read<T: Send + 'static>(
    hubs: &Shared,
    f: impl FnOnce(&mut Hub) -> Result<T, HubError> + Send + 'static,
) -> ApiResult<T> {
    let hubs = Arc::clone(hubs);
    blocking(move || hubs.read(f)).await
}

/// Runs a blocking write on the writer hub, off the async workers.
async fn write<T: Send + 'static>(
    hubs: &Shared,
    f: impl FnOnce(&mut Hub) -> Result<T, HubError> + Send + 'static,
) -> ApiResult<T> {
    let hubs = Arc::clone(hubs);
    blocking(move || hubs.write(f)).await
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, HubError> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("worker failed: {e}"),
            )
        })?
        .map_err(ApiError::from)
}

/// `limit` and `offset` of a listing.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
pub(crate) struct Page {
    /// Items per page (default 100, at most 1000); the total is in `x-total-count`.
    limit: Option<usize>,
    /// Items skipped before the page.
    offset: Option<usize>,
}

impl Page {
    fn limit(self) -> usize {
        self.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT)
    }
    fn offset(self) -> usize {
        self.offset.unwrap_or(0)
    }
    /// How many items to compute so that this page can be cut from them.
    fn end(self) -> usize {
        self.offset().saturating_add(self.limit())
    }
}

/// One page of `items` as a JSON array, with the total in [`TOTAL_HEADER`].
fn paged<T: Serialize>(items: Vec<T>, page: Page) -> Response {
    let total = items.len();
    let items: Vec<T> = items
        .into_iter()
        .skip(page.offset())
        .take(page.limit())
        .collect();
    let mut resp = Json(items).into_response();
    resp.headers_mut().insert(TOTAL_HEADER, total.into());
    resp
}

/// Like [`paged`], leaving out (and logging) the rows that could not be read.
fn paged_readable<T: Serialize>(
    what: &str,
    rows: Vec<Result<T, HubError>>,
    page: Page,
) -> Response {
    let (mut items, mut unreadable) = (Vec::with_capacity(rows.len()), 0usize);
    for r in rows {
        match r {
            Ok(item) => items.push(item),
            Err(e) => {
                unreadable += 1;
                tracing::error!(error = %e, "unreadable {what} left out of a listing");
            }
        }
    }
    let mut resp = paged(items, page);
    if unreadable > 0 {
        resp.headers_mut()
            .insert(UNREADABLE_HEADER, unreadable.into());
    }
    resp
}

fn domain(s: &Option<String>) -> ApiResult<Option<Domain>> {
    s.as_deref()
        .filter(|d| !d.is_empty())
        .map(str::parse::<Domain>)
        .transpose()
        .map_err(|e| ApiError::from(ai4ict_hub::HubError::from(e)))
}

/// What `GET /health` tells clients about how the hub is served.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Served {
    /// Whether writes are taken (a token is configured).
    pub(crate) writable: bool,
    /// Largest request body taken.
    pub(crate) max_body_bytes: u64,
    /// Largest artifact a streamed push takes.
    pub(crate) max_artifact_bytes: u64,
}

/// The routes over shared hubs, without guards (see [`crate::router`]).
pub(crate) fn router(
    hub: Shared,
    served: Served,
    metrics: Arc<Metrics>,
    pipelines: Option<Arc<dyn Pipelines>>,
) -> Router {
    let with_pipelines = pipelines.is_some();
    Router::new()
        .route("/health", get(move |state| health(state, served)))
        .route(
            "/metrics",
            get(move |state| metrics_page(state, Arc::clone(&metrics), pipelines.clone())),
        )
        .route("/openapi.json", get(move || openapi(with_pipelines)))
        .route("/standards", get(standards))
        .route("/standard", get(standard))
        .route("/review-due", get(review_due))
        .route("/coop", get(coop))
        .route("/gaps", get(gaps))
        .route("/usecases", get(use_cases).post(register_use_case))
        .route("/usecases/{name}", get(use_case))
        .route("/levels", get(levels))
        .route("/models", get(model_query).post(model_push))
        .route("/models/select", post(model_select))
        .route("/models/{name}/{version}", get(model_selection))
        .route("/models/{name}/aliases/{alias}", put(set_alias))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .with_state(hub)
}

async fn health(State(hub): State<Shared>, served: Served) -> ApiResult<Json<serde_json::Value>> {
    let kind = read(&hub, |h| Ok(h.store().kind())).await?;
    Ok(Json(serde_json::json!({
        "status": "ok",
        "store": kind,
        "writable": served.writable,
        "max_body_bytes": served.max_body_bytes,
        "max_artifact_bytes": served.max_artifact_bytes,
    })))
}

/// `GET /openapi.json`: the API's OpenAPI 3 document.
async fn openapi(with_pipelines: bool) -> Json<serde_json::Value> {
    Json(crate::openapi::document(with_pipelines))
}

/// `GET /metrics`: the server's request figures and what the hub holds, for Prometheus.
async fn metrics_page(
    State(hub): State<Shared>,
    metrics: Arc<Metrics>,
    pipelines: Option<Arc<dyn Pipelines>>,
) -> ApiResult<Response> {
    let (standards, use_cases, models) = read(&hub, |h| {
        Ok((
            h.standards()?.len(),
            h.use_cases()?.len(),
            h.models(&ModelQuery::default())?.len(),
        ))
    })
    .await?;
    let mut text = metrics.render(&[
        ("standards", "Standards in the catalogue.", standards as u64),
        ("use_cases", "Use cases registered.", use_cases as u64),
        (
            "model_versions",
            "Model versions in the marketplace.",
            models as u64,
        ),
    ]);
    if let Some(p) = pipelines {
        let all = tokio::task::spawn_blocking(move || p.list())
            .await
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        text.push_str(&crate::pipelines::render_metrics(&all));
    }
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct StandardsQuery {
    /// Search text (BM25 over number, title and scope): the answer is then search hits, best
    /// first; without it, the catalogue.
    q: Option<String>,
    /// Only this body (`ITU-T`, `ISO/IEC`, …).
    body: Option<String>,
    /// Only this Resolution 101 domain.
    domain: Option<String>,
    /// Items per page.
    limit: Option<usize>,
    /// Items skipped.
    offset: Option<usize>,
}

async fn standards(
    State(hub): State<Shared>,
    query: Result<Query<StandardsQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let filter = SearchFilter {
        body: q.body.clone(),
        domain: domain(&q.domain)?,
    };
    let page = Page {
        limit: q.limit,
        offset: q.offset,
    };
    match q.q.filter(|s| !s.trim().is_empty()) {
        Some(text) => {
            let end = page.end();
            let hits = read(&hub, move |h| h.search_standards(&text, &filter, end)).await?;
            Ok(paged(hits, page))
        }
        None => {
            let list = read(&hub, |h| h.standards()).await?;
            let list: Vec<_> = list
                .into_iter()
                .filter(|s| {
                    filter
                        .body
                        .as_ref()
                        .is_none_or(|b| s.body.eq_ignore_ascii_case(b))
                        && filter
                            .domain
                            .is_none_or(|d| s.domains.is_empty() || s.domains.contains(&d))
                })
                .collect();
            Ok(paged(list, page))
        }
    }
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct KeyQuery {
    /// The catalogue key, `BODY NUMBER` (`ITU-T Y.3172`).
    key: String,
}

async fn standard(
    State(hub): State<Shared>,
    query: Result<Query<KeyQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let key = q.key.clone();
    match read(&hub, move |h| h.standard(&key)).await? {
        Some(s) => Ok(Json(s).into_response()),
        None => Err(ApiError::not_found(format!("no standard '{}'", q.key))),
    }
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct AtQuery {
    /// The day reviews are due by (`YYYY-MM-DD`); today by default.
    at: Option<String>,
    /// Items per page.
    limit: Option<usize>,
    /// Items skipped.
    offset: Option<usize>,
}

async fn review_due(
    State(hub): State<Shared>,
    query: Result<Query<AtQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let at = match q.at {
        Some(s) => ai4ict_hub::standards::parse_date(&s)?,
        None => chrono_today(),
    };
    let page = Page {
        limit: q.limit,
        offset: q.offset,
    };
    Ok(paged(read(&hub, move |h| h.review_due(at)).await?, page))
}

fn chrono_today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct CoopQuery {
    /// Items per page.
    limit: Option<usize>,
    /// Items skipped.
    offset: Option<usize>,
    /// Least overlap score kept.
    min_score: Option<f32>,
}

async fn coop(
    State(hub): State<Shared>,
    query: Result<Query<CoopQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let page = Page {
        limit: q.limit,
        offset: q.offset,
    };
    let mut opts = CoopOptions {
        limit: page.end(),
        ..CoopOptions::default()
    };
    if let Some(m) = q.min_score {
        if !m.is_finite() {
            return Err(ApiError::bad("min_score must be a finite number"));
        }
        opts.min_score = m;
    }
    Ok(paged(
        read(&hub, move |h| h.cooperation_map(&opts)).await?,
        page,
    ))
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct GapsQuery {
    /// A domain with fewer standards than this is a gap.
    min_standards: Option<usize>,
    /// Items per page.
    limit: Option<usize>,
    /// Items skipped.
    offset: Option<usize>,
}

async fn gaps(
    State(hub): State<Shared>,
    query: Result<Query<GapsQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let min = q.min_standards.unwrap_or(3);
    let page = Page {
        limit: q.limit,
        offset: q.offset,
    };
    Ok(paged(read(&hub, move |h| h.gaps(min)).await?, page))
}

async fn use_cases(
    State(hub): State<Shared>,
    query: Result<Query<Page>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(page) = query?;
    let rows = read(&hub, |h| h.use_cases_listing()).await?;
    Ok(paged_readable("use case", rows, page))
}

async fn use_case(State(hub): State<Shared>, Path(name): Path<String>) -> ApiResult<Response> {
    let n = name.clone();
    match read(&hub, move |h| h.use_case(&n)).await? {
        Some(u) => Ok(Json(u).into_response()),
        None => Err(ApiError::not_found(format!("no use case '{name}'"))),
    }
}

async fn register_use_case(
    State(hub): State<Shared>,
    body: Result<Json<UseCase>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(uc) = body?;
    let name = uc.name.clone();
    let rec = write(&hub, move |h| {
        h.register_use_case(&uc)?;
        h.use_case(&name)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(rec)).into_response())
}

async fn levels(
    State(hub): State<Shared>,
    query: Result<Query<Page>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(page) = query?;
    Ok(paged(read(&hub, |h| h.levels()).await?, page))
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct ModelsQuery {
    /// Words that must all appear in the name, description, tags, author or runtime.
    q: Option<String>,
    /// Only this model name.
    name: Option<String>,
    /// Only this Resolution 101 domain.
    domain: Option<String>,
    /// Only models implementing this standard (`ITU-T Y.3172`).
    standard: Option<String>,
    /// Only models published strictly after this time (RFC 3339): Model_Discovery_Poll.
    since: Option<String>,
    /// Items per page.
    limit: Option<usize>,
    /// Items skipped.
    offset: Option<usize>,
}

/// Model_Query / Model_Discovery_Poll.
async fn model_query(
    State(hub): State<Shared>,
    query: Result<Query<ModelsQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let page = Page {
        limit: q.limit,
        offset: q.offset,
    };
    let mq = ModelQuery {
        text: q.q,
        name: q.name,
        domain: domain(&q.domain)?,
        standard: q.standard,
        since: q.since,
    };
    let rows = read(&hub, move |h| h.models_listing(&mq)).await?;
    Ok(paged_readable("model", rows, page))
}

/// Model_Selection by criteria.
async fn model_select(
    State(hub): State<Shared>,
    body: Result<Json<ModelSelection>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(sel) = body?;
    match read(&hub, move |h| h.select_model(&sel)).await? {
        Some(m) => Ok(Json(m).into_response()),
        None => Err(ApiError::not_found("no model matches the selection")),
    }
}

/// Model_Selection by name and version (or alias, or `latest`).
async fn model_selection(
    State(hub): State<Shared>,
    Path((name, version)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (n, v) = (name.clone(), version.clone());
    match read(&hub, move |h| h.model(&n, &v)).await? {
        Some(m) => Ok(Json(m).into_response()),
        None => Err(ApiError::not_found(format!("no model {name}@{version}"))),
    }
}

/// Limits of a streamed Model_Push.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    /// Largest artifact taken.
    pub(crate) max_bytes: u64,
    /// Folder of the spool files.
    pub(crate) spool: Arc<PathBuf>,
}

/// The artifact routes, whose bodies are never held whole in memory: Model_Pull streamed
/// from storage, and the streamed Model_Push. They are left out of the JSON body limit and
/// check their own, [`Upload::max_bytes`].
///
/// A streamed push is `PUT /models/{name}/{version}/artifact` with the artifact's bytes as
/// the body and the metadata as JSON in header `x-ai4ict-metadata` (`name` and `version` may
/// be left out: the path gives them). A header rather than a prior request or a multipart
/// body: the push stays one request with nothing pending between two, the body is the file
/// as it is (`curl -T model.bin -H "x-ai4ict-metadata: $(jq -c . meta.json)"`), and bad
/// metadata is refused before a byte of the body is read. The header counts towards the
/// 64 KiB a request head may take.
pub(crate) fn artifact_router(hub: Shared, upload: Upload) -> Router {
    Router::new()
        .route(
            "/models/{name}/{version}/artifact",
            get(model_pull).put(move |state, path, headers, body| {
                model_push_artifact(state, path, headers, body, upload.clone())
            }),
        )
        .with_state(hub)
}

/// Model_Pull, streamed: the artifact is hashed in a first pass over its stored chunks (a
/// second read, no memory) and answered 422 without a byte sent when it does not match its
/// sha256; then it is sent chunk by chunk, with its length and sha256 in the headers. A chunk
/// that cannot be read then cuts the answer short of its `Content-Length`, which the client
/// sees as a broken transfer (and its own sha256 check fails).
async fn model_pull(
    State(hub): State<Shared>,
    Path((name, version)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (n, v) = (name.clone(), version.clone());
    let Some(rec) = read(&hub, move |h| h.verify_model(&n, &v)).await? else {
        return Err(ApiError::not_found(format!("no model {name}@{version}")));
    };
    let (n, v) = (rec.metadata.name.clone(), rec.metadata.version.clone());
    let chunks = futures_util::stream::try_unfold(0u64, move |seq| {
        let (hub, n, v) = (Arc::clone(&hub), n.clone(), v.clone());
        async move {
            let chunk =
                tokio::task::spawn_blocking(move || hub.read(|h| h.model_chunk(&n, &v, seq)))
                    .await??;
            Ok::<_, axum::BoxError>(chunk.map(|c| (c, seq + 1)))
        }
    });
    let mut resp = Body::from_stream(chunks).into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_LENGTH, rec.metadata.size.into());
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&rec.metadata.sha256) {
        headers.insert(crate::SHA256_HEADER, v);
    }
    if let Ok(v) = HeaderValue::from_str(&rec.metadata.version) {
        headers.insert("x-ai4ict-version", v);
    }
    Ok(resp)
}

/// The metadata of a streamed push, from its header; `name` and `version` come from the path
/// when left out, and must match it when given.
fn push_metadata(headers: &HeaderMap, name: &str, version: &str) -> ApiResult<ModelMetadata> {
    let h = crate::METADATA_HEADER;
    let raw = headers.get(h).ok_or_else(|| {
        ApiError::bad(format!(
            "header {h} (the model's metadata, JSON) is missing"
        ))
    })?;
    let mut json: serde_json::Value = serde_json::from_slice(raw.as_bytes())
        .map_err(|e| ApiError::bad(format!("header {h}: {e}")))?;
    let fields = json
        .as_object_mut()
        .ok_or_else(|| ApiError::bad(format!("header {h}: not a JSON object")))?;
    for (field, in_path) in [("name", name), ("version", version)] {
        match fields.get(field) {
            None => {
                fields.insert(field.into(), in_path.into());
            }
            Some(v) if v.as_str() == Some(in_path) => {}
            Some(v) => {
                return Err(ApiError::bad(format!(
                    "header {h}: {field} {v} differs from the path's '{in_path}'"
                )))
            }
        }
    }
    serde_json::from_value(json).map_err(|e| ApiError::bad(format!("header {h}: {e}")))
}

/// Model_Push, streamed (see [`artifact_router`]). The body is refused with 413 from its
/// `Content-Length` before it is read, or as soon as it passes the limit; it is hashed and
/// counted as it arrives and spooled to an unnamed file (gone when the push ends, whatever
/// happens), checked against the metadata's sha256 (422), and stored chunk by chunk in one
/// transaction: a refusal leaves nothing stored. The writer is taken only once the whole
/// body is in, so a slow upload holds no other write back. Memory stays at a few MiB.
async fn model_push_artifact(
    State(hub): State<Shared>,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
    upload: Upload,
) -> ApiResult<Response> {
    let meta = push_metadata(&headers, &name, &version)?;
    meta.validate()?;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "an artifact may be at most {} bytes on this hub (serve it with a larger --max-artifact-mib)",
                upload.max_bytes
            ),
        )
    };
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > upload.max_bytes) {
        return Err(too_large());
    }
    let spool = Arc::clone(&upload.spool);
    let file = blocking(move || Ok(tempfile::tempfile_in(&*spool)?)).await?;
    let mut file = tokio::fs::File::from_std(file);
    let (mut hasher, mut size) = (Sha256::new(), 0u64);
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad(format!("reading the artifact: {e}")))?;
        size += chunk.len() as u64;
        if size > upload.max_bytes {
            return Err(too_large());
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(HubError::from)?;
    }
    file.flush().await.map_err(HubError::from)?;
    let digest = hex(&hasher.finalize());
    if !meta.sha256.is_empty() && !meta.sha256.eq_ignore_ascii_case(&digest) {
        return Err(HubError::Integrity {
            what: format!("{name}@{version}"),
            expected: meta.sha256,
            actual: digest,
        }
        .into());
    }
    let mut file = file.into_std().await;
    let rec = write(&hub, move |h| {
        file.rewind()?;
        h.publish_model_from(&meta, file)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(rec)).into_response())
}

/// Model_Push of a small model, whole in a JSON body (see [`PushBody`]).
async fn model_push(
    State(hub): State<Shared>,
    body: Result<Json<PushBody>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(push) = body?;
    let PushBody {
        metadata,
        artifact_base64,
    } = push;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(artifact_base64.as_bytes())
        .map_err(|e| ApiError::bad(format!("artifact_base64: {e}")))?;
    // The encoded copy is no longer needed while the artifact is stored.
    drop(artifact_base64);
    let rec = write(&hub, move |h| h.publish_model(&metadata, &bytes)).await?;
    Ok((StatusCode::CREATED, Json(rec)).into_response())
}

async fn set_alias(
    State(hub): State<Shared>,
    Path((name, alias)): Path<(String, String)>,
    body: Result<Json<AliasBody>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(b) = body?;
    let n = name.clone();
    let rec = write(&hub, move |h| {
        let version = h.set_model_alias(&n, &alias, &b.version)?;
        h.model(&name, &version)
    })
    .await?;
    Ok(Json(rec).into_response())
}
