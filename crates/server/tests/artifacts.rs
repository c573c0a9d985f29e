//! The streamed Model_Push and Model_Pull (`PUT` and `GET /models/{name}/{version}/artifact`):
//! an artifact of several chunks round-trips byte-identical through a hub on a SQLite file
//! (and on PostgreSQL when `AI4ICT_TEST_POSTGRES` is set); a push over the limit, with a wrong
//! sha256, without the token, under a path-like name or cut short is refused and leaves
//! nothing stored; a stored artifact that no longer matches its sha256 is not sent.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use ai4ict_hub::models::{sha256_hex, CHUNK_BYTES};
use ai4ict_hub::{Hub, ModelMetadata};
use ai4ict_server::{client::Client, Background, Config, Hubs, ServerError, Token};

const TOKEN: &str = "artifacts-test-token-0123456789abcdef";

fn token() -> Token {
    Token::new(TOKEN).unwrap()
}

fn client(b: &Background) -> Client {
    Client::new(&b.url()).unwrap().with_token(Some(token()))
}

/// A hub on a SQLite file in `dir`, served with read connections as `hub serve` does.
fn file_hub(dir: &Path, config: Config) -> Background {
    let path = dir.join("hub.db").to_string_lossy().into_owned();
    let writer = Hub::open(&path).unwrap();
    let readers = (0..2)
        .map(|_| Hub::open_read_only(&path).unwrap())
        .collect();
    Background::start(
        Hubs::with_readers(writer, readers),
        config,
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap()
}

/// The hubs to test: on a SQLite file, and on PostgreSQL when `AI4ICT_TEST_POSTGRES` is set
/// (with the `postgres` feature).
fn backends(dir: &Path, schema: &str) -> Vec<Background> {
    #[cfg_attr(not(feature = "postgres"), allow(unused_mut))]
    let mut v = vec![file_hub(dir, Config::with_token(token()))];
    #[cfg(feature = "postgres")]
    if let Ok(conn) = std::env::var("AI4ICT_TEST_POSTGRES") {
        ai4ict_hub::Store::drop_postgres_schema(&conn, schema).unwrap();
        let store = ai4ict_hub::Store::open_postgres(&conn, Some(schema)).unwrap();
        v.push(
            Background::start(
                Hubs::new(Hub::with_store(store).unwrap()),
                Config::with_token(token()),
                "127.0.0.1:0".parse().unwrap(),
            )
            .unwrap(),
        );
    }
    let _ = schema;
    v
}

/// Rows of the SQLite hub in `dir` holding artifact bytes.
fn stored_chunks(dir: &Path) -> i64 {
    rusqlite::Connection::open(dir.join("hub.db"))
        .unwrap()
        .query_row("SELECT COUNT(*) FROM model_chunks", [], |r| r.get(0))
        .unwrap()
}

/// One request: its head (a `Host` header is added) and `body`; the status answered.
fn status(addr: SocketAddr, head: &str, body: &[u8]) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "{head}Host: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    // A refusal may come before the body is read, and close the connection.
    let _ = s.write_all(body);
    let mut answer = [0u8; 64];
    let n = s.read(&mut answer).unwrap_or(0);
    String::from_utf8_lossy(&answer[..n])
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn meta(version: &str) -> ModelMetadata {
    ModelMetadata::new("big", version, "ai4ict", "Apache-2.0")
}

#[test]
fn a_push_of_several_chunks_round_trips_byte_identical() {
    let artifact: Vec<u8> = (0..CHUNK_BYTES * 5 / 2 + 17)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    for b in backends(dir.path(), "ai4ict_test_server_artifacts") {
        let c = client(&b);
        // Without a sha256 the hub computes it; with one (push does) it checks it.
        let pushed = c
            .push_from(&meta("1"), &artifact[..], artifact.len() as u64)
            .unwrap();
        assert_eq!(pushed.metadata.sha256, sha256_hex(&artifact));
        assert_eq!(pushed.metadata.size, artifact.len() as u64);
        c.push(&meta("2"), &artifact).unwrap();
        for v in ["1", "2", "latest"] {
            let (rec, pulled) = c.pull("big", v).unwrap();
            assert!(pulled == artifact, "{v}: {} bytes back", pulled.len());
            assert_eq!(rec.metadata.sha256, pushed.metadata.sha256);
        }
        // Streamed into another hub's chunks.
        let mut local = Hub::in_memory().unwrap();
        let rec = c
            .pull_with("big", "latest", |rec, r| {
                Ok(local.publish_model_from(&rec.metadata, r)?)
            })
            .unwrap();
        assert_eq!(rec.metadata.sha256, pushed.metadata.sha256);
        assert!(local.pull_model("big", "2").unwrap().unwrap().1 == artifact);
        // The same bytes again are a no-op; other bytes under the version, a conflict.
        c.push(&meta("1"), &artifact).unwrap();
        match c.push(&meta("1"), b"other") {
            Err(ServerError::Status { status: 409, .. }) => {}
            other => panic!("expected 409, got {other:?}"),
        }
        // An empty artifact is an artifact too.
        c.push(&meta("empty"), b"").unwrap();
        assert!(c.pull("big", "empty").unwrap().1.is_empty());
    }
    assert_eq!(
        stored_chunks(dir.path()),
        6,
        "3 chunks for each of 2 versions"
    );
}

#[test]
fn a_push_over_the_limit_is_refused_and_leaves_nothing() {
    let (dir, spool) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let config = Config {
        max_artifact_bytes: 2 * CHUNK_BYTES as u64,
        spool_dir: Some(spool.path().to_path_buf()),
        ..Config::with_token(token())
    };
    let b = file_hub(dir.path(), config);
    let a = b.addr();
    let put = "PUT /models/big/1/artifact HTTP/1.1\r\n\
               Authorization: Bearer artifacts-test-token-0123456789abcdef\r\n\
               x-ai4ict-metadata: {\"author\": \"ai4ict\", \"licence\": \"MIT\"}\r\n";
    // Announced: refused before a byte is read, however large the body would be.
    let announced = format!("{put}Content-Length: 100000000000\r\n");
    assert_eq!(status(a, &announced, b""), 413);
    // Chunked, without a length: refused as soon as the count passes the limit.
    let mut body = Vec::new();
    let piece = vec![7u8; 256 * 1024];
    for _ in 0..12 {
        write!(body, "{:x}\r\n", piece.len()).unwrap();
        body.extend_from_slice(&piece);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let chunked = format!("{put}Transfer-Encoding: chunked\r\n");
    assert_eq!(status(a, &chunked, &body), 413);
    // Within the limit, the same way, it is taken.
    let small = format!("{put}Content-Length: 5\r\n");
    assert_eq!(status(a, &small, b"small"), 201);

    let c = client(&b);
    assert_eq!(c.pull("big", "1").unwrap().1, b"small");
    assert_eq!(stored_chunks(dir.path()), 1);
    assert_eq!(std::fs::read_dir(spool.path()).unwrap().count(), 0);
    // The client asks for the limit and does not send what would be refused.
    match c.push(&meta("2"), &vec![0u8; 2 * CHUNK_BYTES + 1]) {
        Err(ServerError::TooLarge { limit, flag, .. }) => {
            assert_eq!(
                (limit, flag),
                (2 * CHUNK_BYTES as u64, "--max-artifact-mib")
            )
        }
        other => panic!("expected too large, got {other:?}"),
    }
    assert_eq!(c.health().unwrap()["max_artifact_bytes"], 2 * CHUNK_BYTES);
}

#[test]
fn a_push_with_a_wrong_sha256_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let b = file_hub(dir.path(), Config::with_token(token()));
    let c = client(&b);
    let artifact = vec![3u8; CHUNK_BYTES * 2 + 1];
    let mut m = meta("1");
    m.sha256 = sha256_hex(b"something else");
    match c.push_from(&m, &artifact[..], artifact.len() as u64) {
        Err(ServerError::Status { status: 422, .. }) => {}
        other => panic!("expected 422, got {other:?}"),
    }
    assert_eq!(stored_chunks(dir.path()), 0);
    assert!(matches!(
        c.model("big", "1"),
        Err(ServerError::Status { status: 404, .. })
    ));
    // The version is still free.
    c.push(&meta("1"), &artifact).unwrap();
    assert_eq!(stored_chunks(dir.path()), 3);
}

#[test]
fn a_push_without_the_token_or_under_a_path_like_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let config = Config {
        audit_log: Some(audit.clone()),
        ..Config::with_token(token())
    };
    let b = file_hub(dir.path(), config);
    let a = b.addr();
    let meta = "x-ai4ict-metadata: {\"author\": \"ai4ict\", \"licence\": \"MIT\"}\r\n";
    let bearer = format!("Authorization: Bearer {TOKEN}\r\n");
    let wrong = "Authorization: Bearer not-the-token-0123456789\r\n";
    for (auth, want) in [("", 401), (wrong, 401), (bearer.as_str(), 201)] {
        let head =
            format!("PUT /models/big/1/artifact HTTP/1.1\r\n{auth}{meta}Content-Length: 5\r\n");
        assert_eq!(status(a, &head, b"bytes"), want, "{auth}");
    }
    for path in [
        "/models/../1/artifact",
        "/models/./1/artifact",
        "/models/big/../artifact",
        "/models/%2E%2E/1/artifact",
        "/models/big/%2E/artifact",
    ] {
        let head = format!("PUT {path} HTTP/1.1\r\n{bearer}{meta}Content-Length: 5\r\n");
        assert_eq!(status(a, &head, b"bytes"), 400, "{path}");
    }
    // Metadata missing, unreadable, or naming another model than the path.
    for bad in [
        "",
        "x-ai4ict-metadata: {not json\r\n",
        "x-ai4ict-metadata: {\"name\": \"other\", \"author\": \"a\", \"licence\": \"MIT\"}\r\n",
        "x-ai4ict-metadata: {\"author\": \"\", \"licence\": \"MIT\"}\r\n",
    ] {
        let head =
            format!("PUT /models/big/2/artifact HTTP/1.1\r\n{bearer}{bad}Content-Length: 5\r\n");
        assert_eq!(status(a, &head, b"bytes"), 400, "{bad}");
    }
    assert_eq!(stored_chunks(dir.path()), 1, "only the authorised push");
    let audited = std::fs::read_to_string(&audit).unwrap();
    let lines: Vec<serde_json::Value> = audited
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 12, "{audited}");
    assert_eq!(
        (lines[0]["who"].as_str(), lines[0]["status"].as_u64()),
        (Some("anonymous"), Some(401))
    );
    assert_eq!(lines[2]["who"], token().id());
    assert_eq!(lines[2]["method"], "PUT");
    assert_eq!(lines[2]["path"], "/models/big/1/artifact");
    assert_eq!(lines[2]["status"], 201);
}

#[test]
fn an_upload_cut_short_leaves_nothing() {
    let (dir, spool) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let config = Config {
        spool_dir: Some(spool.path().to_path_buf()),
        ..Config::with_token(token())
    };
    let b = file_hub(dir.path(), config);
    let mut s = TcpStream::connect(b.addr()).unwrap();
    write!(
        s,
        "PUT /models/big/1/artifact HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {TOKEN}\r\n\
         x-ai4ict-metadata: {{\"author\": \"a\", \"licence\": \"MIT\"}}\r\n\
         Content-Length: {}\r\n\r\n",
        b.addr(),
        3 * CHUNK_BYTES
    )
    .unwrap();
    s.write_all(&vec![1u8; CHUNK_BYTES]).unwrap();
    drop(s);
    // The cut push fails while spooling, before it takes the writer: the version is free.
    let c = client(&b);
    c.push(&meta("1"), b"whole").unwrap();
    assert_eq!(c.pull("big", "1").unwrap().1, b"whole");
    assert_eq!(stored_chunks(dir.path()), 1);
    assert_eq!(std::fs::read_dir(spool.path()).unwrap().count(), 0);
}

#[test]
fn a_stored_artifact_that_no_longer_matches_is_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let b = file_hub(dir.path(), Config::with_token(token()));
    let c = client(&b);
    c.push(&meta("1"), &vec![5u8; CHUNK_BYTES + 10]).unwrap();
    rusqlite::Connection::open(dir.path().join("hub.db"))
        .unwrap()
        .execute_batch("UPDATE model_chunks SET bytes = CAST('bad' AS BLOB) WHERE seq = 1")
        .unwrap();
    // The first pass finds it: 422 and no byte of the artifact.
    let mut s = TcpStream::connect(b.addr()).unwrap();
    write!(
        s,
        "GET /models/big/1/artifact HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        b.addr()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 422"), "{answer}");
    assert!(answer.contains("integrity check failed"), "{answer}");
    assert!(matches!(
        c.pull("big", "1"),
        Err(ServerError::Status { status: 422, .. })
    ));
}
