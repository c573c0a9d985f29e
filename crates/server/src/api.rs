//! HTTP routes. The marketplace endpoints carry the names of the ITU-T Y.3176 APIs:
//!
//! | Method and path | Y.3176 API | What |
//! |---|---|---|
//! | `GET /models?q=&domain=&standard=&since=` | Model_Query, Model_Discovery_Poll | matching versions, newest first; `since` (RFC 3339) lists only newer ones |
//! | `POST /models/select` | Model_Selection | body [`ModelSelection`]: the best version by a metric |
//! | `GET /models/{name}/{version}` | Model_Selection | metadata of a version, alias or `latest` |
//! | `GET /models/{name}/{version}/artifact` | Model_Pull | the artifact bytes, sha256 in header `x-ai4ict-sha256` |
//! | `POST /models` | Model_Push | body [`PushBody`]; the hub checks the sha256 |
//! | `PUT /models/{name}/aliases/{alias}` | — | body `{"version": "…"}` |
//!
//! And for the rest of the hub: `GET /health`, `GET /standards?q=&body=&domain=&limit=`,
//! `GET /standard?key=`, `GET /review-due?at=`, `GET /coop?limit=&min_score=`,
//! `GET /gaps?min_standards=`, `GET /usecases`, `GET /usecases/{name}`, `POST /usecases`,
//! `GET /levels`. Errors are JSON `{"error": "…"}` with a 4xx status for bad input (400),
//! unknown items (404), immutable versions (409) and integrity failures (422).

use std::sync::{Arc, Mutex};

use ai4ict_hub::{
    CoopOptions, Domain, Hub, HubError, ModelMetadata, ModelQuery, ModelSelection, SearchFilter,
    UseCase,
};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

type Shared = Arc<Mutex<Hub>>;

/// Body of Model_Push: metadata and the artifact, base64-encoded.
#[derive(Debug, Serialize, Deserialize)]
pub struct PushBody {
    /// The model's metadata; `sha256`, when set, must match the artifact.
    pub metadata: ModelMetadata,
    /// The artifact bytes, standard base64.
    pub artifact_base64: String,
}

/// Body of `PUT /models/{name}/aliases/{alias}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct AliasBody {
    /// Version (or alias, or `latest`) the alias points at.
    pub version: String,
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn bad(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
    fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
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
        ApiError {
            status,
            message: e.to_string(),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        ApiError {
            status: e.status(),
            message: e.body_text(),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError::bad(e.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// Runs a blocking hub operation off the async workers (the stores are synchronous).
async fn with_hub<T: Send + 'static>(
    hub: &Shared,
    f: impl FnOnce(&mut Hub) -> Result<T, HubError> + Send + 'static,
) -> ApiResult<T> {
    let hub = Arc::clone(hub);
    tokio::task::spawn_blocking(move || {
        let mut guard = hub
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    })
    .await
    .map_err(|e| ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: format!("worker failed: {e}"),
    })?
    .map_err(ApiError::from)
}

fn domain(s: &Option<String>) -> ApiResult<Option<Domain>> {
    s.as_deref()
        .filter(|d| !d.is_empty())
        .map(str::parse::<Domain>)
        .transpose()
        .map_err(|e| ApiError::from(ai4ict_hub::HubError::from(e)))
}

/// The routes over a shared hub.
pub fn router(hub: Shared) -> Router {
    Router::new()
        .route("/health", get(health))
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
        .route("/models/{name}/{version}/artifact", get(model_pull))
        .route("/models/{name}/aliases/{alias}", put(set_alias))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .layer(DefaultBodyLimit::max(crate::MAX_BODY_BYTES))
        .with_state(hub)
}

async fn health(State(hub): State<Shared>) -> ApiResult<Json<serde_json::Value>> {
    let kind = with_hub(&hub, |h| Ok(h.store().kind())).await?;
    Ok(Json(serde_json::json!({ "status": "ok", "store": kind })))
}

#[derive(Deserialize)]
struct StandardsQuery {
    q: Option<String>,
    body: Option<String>,
    domain: Option<String>,
    limit: Option<usize>,
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
    let limit = q.limit.unwrap_or(20).min(1000);
    match q.q.filter(|s| !s.trim().is_empty()) {
        Some(text) => {
            let hits = with_hub(&hub, move |h| h.search_standards(&text, &filter, limit)).await?;
            Ok(Json(hits).into_response())
        }
        None => {
            let list = with_hub(&hub, |h| h.standards()).await?;
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
            Ok(Json(list).into_response())
        }
    }
}

#[derive(Deserialize)]
struct KeyQuery {
    key: String,
}

async fn standard(
    State(hub): State<Shared>,
    query: Result<Query<KeyQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let key = q.key.clone();
    match with_hub(&hub, move |h| h.standard(&key)).await? {
        Some(s) => Ok(Json(s).into_response()),
        None => Err(ApiError::not_found(format!("no standard '{}'", q.key))),
    }
}

#[derive(Deserialize)]
struct AtQuery {
    at: Option<String>,
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
    Ok(Json(with_hub(&hub, move |h| h.review_due(at)).await?).into_response())
}

fn chrono_today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

#[derive(Deserialize)]
struct CoopQuery {
    limit: Option<usize>,
    min_score: Option<f32>,
}

async fn coop(
    State(hub): State<Shared>,
    query: Result<Query<CoopQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let mut opts = CoopOptions::default();
    if let Some(l) = q.limit {
        opts.limit = l.min(10_000);
    }
    if let Some(m) = q.min_score {
        if !m.is_finite() {
            return Err(ApiError::bad("min_score must be a finite number"));
        }
        opts.min_score = m;
    }
    Ok(Json(with_hub(&hub, move |h| h.cooperation_map(&opts)).await?).into_response())
}

#[derive(Deserialize)]
struct GapsQuery {
    min_standards: Option<usize>,
}

async fn gaps(
    State(hub): State<Shared>,
    query: Result<Query<GapsQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let min = q.min_standards.unwrap_or(3);
    Ok(Json(with_hub(&hub, move |h| h.gaps(min)).await?).into_response())
}

async fn use_cases(State(hub): State<Shared>) -> ApiResult<Response> {
    Ok(Json(with_hub(&hub, |h| h.use_cases()).await?).into_response())
}

async fn use_case(State(hub): State<Shared>, Path(name): Path<String>) -> ApiResult<Response> {
    let n = name.clone();
    match with_hub(&hub, move |h| h.use_case(&n)).await? {
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
    let rec = with_hub(&hub, move |h| {
        h.register_use_case(&uc)?;
        h.use_case(&name)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(rec)).into_response())
}

async fn levels(State(hub): State<Shared>) -> ApiResult<Response> {
    Ok(Json(with_hub(&hub, |h| h.levels()).await?).into_response())
}

#[derive(Deserialize)]
struct ModelsQuery {
    q: Option<String>,
    name: Option<String>,
    domain: Option<String>,
    standard: Option<String>,
    since: Option<String>,
}

/// Model_Query / Model_Discovery_Poll.
async fn model_query(
    State(hub): State<Shared>,
    query: Result<Query<ModelsQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let mq = ModelQuery {
        text: q.q,
        name: q.name,
        domain: domain(&q.domain)?,
        standard: q.standard,
        since: q.since,
    };
    Ok(Json(with_hub(&hub, move |h| h.models(&mq)).await?).into_response())
}

/// Model_Selection by criteria.
async fn model_select(
    State(hub): State<Shared>,
    body: Result<Json<ModelSelection>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(sel) = body?;
    match with_hub(&hub, move |h| h.select_model(&sel)).await? {
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
    match with_hub(&hub, move |h| h.model(&n, &v)).await? {
        Some(m) => Ok(Json(m).into_response()),
        None => Err(ApiError::not_found(format!("no model {name}@{version}"))),
    }
}

/// Model_Pull: the artifact with its sha256 in a header.
async fn model_pull(
    State(hub): State<Shared>,
    Path((name, version)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (n, v) = (name.clone(), version.clone());
    let Some((rec, bytes)) = with_hub(&hub, move |h| h.pull_model(&n, &v)).await? else {
        return Err(ApiError::not_found(format!("no model {name}@{version}")));
    };
    let mut resp = bytes.into_response();
    let headers = resp.headers_mut();
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

/// Model_Push.
async fn model_push(
    State(hub): State<Shared>,
    body: Result<Json<PushBody>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(push) = body?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(push.artifact_base64.as_bytes())
        .map_err(|e| ApiError::bad(format!("artifact_base64: {e}")))?;
    let meta = push.metadata;
    let rec = with_hub(&hub, move |h| h.publish_model(&meta, &bytes)).await?;
    Ok((StatusCode::CREATED, Json(rec)).into_response())
}

async fn set_alias(
    State(hub): State<Shared>,
    Path((name, alias)): Path<(String, String)>,
    body: Result<Json<AliasBody>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(b) = body?;
    let n = name.clone();
    let version = with_hub(&hub, move |h| h.set_model_alias(&n, &alias, &b.version)).await?;
    let rec = with_hub(&hub, move |h| h.model(&name, &version)).await?;
    Ok(Json(rec).into_response())
}
