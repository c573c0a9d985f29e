//! `GET /openapi.json` documents exactly the routes the server has: every route in the
//! routers' source is in the document, every documented operation is routed (not the
//! fallback's 404), writes are marked as needing the token and are refused without it, and
//! every schema reference resolves.

use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::Arc;

use ai4ict_hub::Hub;
use ai4ict_server::pipelines::{PipelineError, PipelineStatus, Pipelines};
use ai4ict_server::{Background, Config, Hubs, Served, Token};

/// No pipelines: enough for the routes to exist.
struct Idle;

impl Pipelines for Idle {
    fn list(&self) -> Vec<PipelineStatus> {
        Vec::new()
    }
    fn get(&self, _name: &str) -> Option<PipelineStatus> {
        None
    }
    fn start(&self, _yaml: &str) -> Result<PipelineStatus, PipelineError> {
        Err(PipelineError::Invalid("not in this test".into()))
    }
    fn stop(&self, name: &str) -> Result<PipelineStatus, PipelineError> {
        Err(PipelineError::NotFound(name.into()))
    }
}

fn request(addr: std::net::SocketAddr, method: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    )
    .unwrap();
    // An event stream never ends: read what comes within a few seconds.
    s.set_read_timeout(Some(std::time::Duration::from_secs(3)))
        .unwrap();
    let (mut got, mut buf) = (Vec::new(), [0u8; 4096]);
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if got.windows(4).any(|w| w == b"\r\n\r\n") && path.starts_with("/events/") {
            break;
        }
    }
    let raw = String::from_utf8_lossy(&got).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

/// `(method, path)` of every `.route("PATH", get(…).post(…))` in a router's source.
fn routes_in(source: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for chunk in source.split(".route(").skip(1) {
        let Some(rest) = chunk.trim_start().strip_prefix('"') else {
            continue;
        };
        let Some((path, handlers)) = rest.split_once('"') else {
            continue;
        };
        // Up to the next call of the builder chain.
        let handlers = &handlers[..handlers.find("\n        .").unwrap_or(handlers.len())];
        for method in ["get", "post", "put", "delete"] {
            if handlers.contains(&format!("{method}(")) {
                out.insert((method.to_string(), path.to_string()));
            }
        }
    }
    out
}

fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(|r| r.as_str()) {
                out.push(r.to_string());
            }
            m.values().for_each(|x| refs(x, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn the_document_lists_every_route_and_only_routes() {
    let config = Config {
        pipelines: Some(Served(Arc::new(Idle))),
        ..Config::with_token(Token::new("openapi-test-token-0123456789abcdef").unwrap())
    };
    let server = Background::start(
        Hubs::new(Hub::in_memory().unwrap()),
        config,
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let (status, body) = request(server.addr(), "GET", "/openapi.json");
    assert_eq!(status, 200, "{body}");
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["openapi"], "3.0.3");

    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(|m| (m.clone(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let src = |f: &str| {
        std::fs::read_to_string(format!("{}/src/{f}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    };
    let mut routed = routes_in(&src("api.rs"));
    routed.extend(routes_in(&src("pipelines.rs")));
    assert!(routed.len() >= 20, "{routed:?}");
    assert_eq!(documented, routed);

    for (method, path) in &documented {
        let concrete = path
            .replace("{name}", "x")
            .replace("{version}", "1")
            .replace("{alias}", "a");
        let (status, body) = request(server.addr(), &method.to_uppercase(), &concrete);
        assert!(
            !(status == 404 && body.contains("no such endpoint")) && status != 405,
            "{method} {path}: {status} {body}"
        );
        let op = &doc["paths"][path][method];
        let write = op.get("security").is_some();
        assert_eq!(
            write,
            method != "get" && path != "/models/select",
            "{method} {path}"
        );
        if write {
            assert_eq!(status, 401, "{method} {path} without a token: {body}");
        }
        assert!(op["responses"]["default"].is_object(), "{method} {path}");
    }

    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "Standard",
        "ModelRecord",
        "ModelMetadata",
        "PipelineStatus",
        "UseCase",
        "Error",
    ] {
        assert!(schemas.contains_key(name), "{name}");
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r}"));
        assert!(schemas.contains_key(name), "{r} does not resolve");
    }
    // Query parameters carry the handlers' doc comments.
    let params = doc["paths"]["/models"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(params
        .iter()
        .any(|p| p["name"] == "since" && p["description"].as_str().unwrap().contains("RFC 3339")));
}
