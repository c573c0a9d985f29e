//! What every request passes before a handler: the request log, CORS, the request timeout,
//! the body limit, the `Host` check and, for writes, the `Origin` check, the token and the
//! audit log.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::api::{ApiError, ErrorMessage};
use crate::audit::{AuditLog, Entry};
use crate::metrics::Metrics;
use crate::{Config, Peer, Result, Token};

/// What the guard needs from the configuration.
#[derive(Debug)]
struct Guard {
    token: Option<Token>,
    allowed_hosts: Vec<String>,
    cors_origins: Vec<String>,
    audit: Option<AuditLog>,
}

/// Wraps `routes` and `artifacts` in the guards configured by `config`; the body limit
/// applies to `routes` only, as the artifact routes check their own (see
/// [`crate::api::artifact_router`]).
pub(crate) fn wrap(
    routes: Router,
    artifacts: Router,
    config: &Config,
    metrics: Arc<Metrics>,
) -> Result<Router> {
    let audit = config
        .audit_log
        .as_deref()
        .map(|p| AuditLog::open(p, config.audit_max_bytes, config.audit_keep))
        .transpose()?;
    let guard = Arc::new(Guard {
        token: config.token.clone(),
        allowed_hosts: config.allowed_hosts.clone(),
        cors_origins: config.cors_origins.clone(),
        audit,
    });
    let limit = usize::try_from(config.max_body_bytes).unwrap_or(usize::MAX);
    let mut app = routes
        .layer(DefaultBodyLimit::disable())
        // Refuses a too-large Content-Length at once and counts the bytes of the others.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(limit))
        .merge(artifacts)
        .layer(from_fn_with_state(guard, check))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ));
    if !config.cors_origins.is_empty() {
        let origins = config
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok());
        app = app.layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(tower_http::cors::AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
        );
    }
    Ok(app.layer(from_fn_with_state(metrics, log)))
}

/// Logs every request: method, path, status and duration; a 5xx at error level with its
/// message.
async fn log(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let peer = req
        .extensions()
        .get::<Peer>()
        .map_or_else(String::new, |p| p.0.to_string());
    let started = Instant::now();
    let flight = metrics.begin();
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    metrics.end(status, started.elapsed().as_micros() as u64);
    drop(flight);
    let ms = (started.elapsed().as_secs_f64() * 1e4).round() / 10.0;
    if resp.status().is_server_error() {
        let error = resp
            .extensions()
            .get::<ErrorMessage>()
            .map_or("", |e| e.0.as_str());
        tracing::error!(%method, path, status, ms, peer, error, "request failed");
    } else {
        tracing::info!(%method, path, status, ms, peer, "request");
    }
    resp
}

/// Whether a request changes the hub. `POST /models/select` only reads.
fn is_write(method: &Method, path: &str) -> bool {
    let query = *method == Method::POST && path == "/models/select";
    !(query || matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS))
}

/// The host part of a `Host` header value (without the port; an IPv6 address unbracketed).
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

impl Guard {
    /// An IP address, `localhost` or a configured name: a page on another site that a DNS
    /// rebinding points at this hub carries its own name, and is refused.
    fn host_allowed(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .ok_or_else(|| ApiError::bad("missing Host header"))?;
        let name = host_name(host);
        let ok = name.parse::<std::net::IpAddr>().is_ok()
            || name.eq_ignore_ascii_case("localhost")
            || self
                .allowed_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name));
        if ok {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("host '{name}' is not served here (serve with --allowed-host {name} to accept it)"),
            ))
        }
    }

    /// A browser write from another origin than the hub itself, unless allowed for CORS.
    fn origin_allowed(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let origin = origin.to_str().unwrap_or("");
        let same = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|h| origin == format!("http://{h}"));
        if same || self.cors_origins.iter().any(|o| o == origin) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("writes from origin '{origin}' are not allowed"),
            ))
        }
    }

    /// The token's id when the request carries the write token. 401 when it carries none or
    /// another; 403 when this hub takes no writes at all.
    fn authorised(&self, headers: &HeaderMap) -> Result<&str, ApiError> {
        let Some(token) = &self.token else {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "this hub is read-only: it was started without a write token",
            ));
        };
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match presented {
            Some(p) if token.matches(p.trim()) => Ok(token.id()),
            Some(_) => Err(ApiError::unauthorised(
                "the write token is wrong",
                "Bearer realm=\"ai4ict-hub\", error=\"invalid_token\"",
            )),
            None => Err(ApiError::unauthorised(
                "writes need 'Authorization: Bearer <token>'",
                "Bearer realm=\"ai4ict-hub\"",
            )),
        }
    }
}

async fn check(State(guard): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    if let Err(e) = guard.host_allowed(req.headers()) {
        return e.into_response();
    }
    if !is_write(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
    let peer = req.extensions().get::<Peer>().map(|p| p.0.to_string());
    let who = guard
        .origin_allowed(req.headers())
        .and_then(|()| guard.authorised(req.headers()))
        .map(str::to_string);
    let (who, resp) = match who {
        Ok(who) => (who, next.run(req).await),
        Err(e) => ("anonymous".to_string(), e.into_response()),
    };
    if let Some(audit) = &guard.audit {
        audit.record(&Entry {
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            who: &who,
            peer,
            method: &method,
            path: &path,
            status: resp.status().as_u16(),
        });
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        assert_eq!(host_name("localhost:8080"), "localhost");
        assert_eq!(host_name("[::1]:8080"), "::1");
        assert_eq!(host_name("[::1]"), "::1");
        assert_eq!(host_name("hub.example"), "hub.example");
    }

    #[test]
    fn writes() {
        assert!(is_write(&Method::POST, "/models"));
        assert!(is_write(&Method::PUT, "/models/a/1/artifact"));
        assert!(is_write(&Method::DELETE, "/models/a/1"));
        assert!(!is_write(&Method::POST, "/models/select"));
        assert!(!is_write(&Method::GET, "/models"));
    }
}
