//! Two hubs on 127.0.0.1 ephemeral ports exchange a model over HTTP; bad input gets 4xx and
//! leaves the server running.

use ai4ict_hub::{Domain, Hub, ModelMetadata, ModelQuery, ModelSelection};
use ai4ict_server::{client::Client, Background, Config, Hubs, ServerError, Token};

const TOKEN: &str = "two-hubs-test-token-0123456789";

fn serve(hub: Hub) -> Background {
    let config = Config::with_token(Token::new(TOKEN).unwrap());
    Background::start(Hubs::new(hub), config, "127.0.0.1:0".parse().unwrap()).unwrap()
}

fn start() -> Background {
    serve(Hub::in_memory().unwrap())
}

/// A client that may write to the hubs of this test.
fn client(b: &Background) -> Client {
    Client::new(&b.url())
        .unwrap()
        .with_token(Some(Token::new(TOKEN).unwrap()))
}

/// A hub on PostgreSQL when `AI4ICT_TEST_POSTGRES` is set (and the `postgres` feature is on),
/// so the served path is tested against both backends.
fn start_backend(schema: &str) -> Background {
    #[cfg(feature = "postgres")]
    if let Ok(conn) = std::env::var("AI4ICT_TEST_POSTGRES") {
        ai4ict_hub::Store::drop_postgres_schema(&conn, schema).unwrap();
        let store = ai4ict_hub::Store::open_postgres(&conn, Some(schema)).unwrap();
        return serve(Hub::with_store(store).unwrap());
    }
    let _ = schema;
    start()
}

fn meta(version: &str, f1: f64) -> ModelMetadata {
    let mut m = ModelMetadata::new("kpi-anomaly", version, "ai4ict", "Apache-2.0");
    m.domain = Some(Domain::Operations);
    m.metrics.insert("f1".into(), f1);
    m.standards = vec!["ITU-T Y.3172".into()];
    m
}

#[test]
fn push_and_pull_between_two_hubs() {
    let (a, b) = (start(), start_backend("ai4ict_test_server_b"));
    let (ca, cb) = (client(&a), client(&b));
    assert_eq!(ca.health().unwrap()["status"], "ok");

    let artifact: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let pushed = ca.push(&meta("1.0.0", 0.8), &artifact).unwrap();
    assert_eq!(
        pushed.metadata.sha256,
        ai4ict_hub::models::sha256_hex(&artifact)
    );
    // Small models may still go in one JSON request.
    ca.push_json(&meta("1.1.0", 0.7), b"second").unwrap();
    ca.set_alias("kpi-anomaly", "production", "1.0.0").unwrap();

    // Pull the production model from A and push it to B.
    let (rec, bytes) = ca.pull("kpi-anomaly", "production").unwrap();
    assert_eq!(rec.metadata.version, "1.0.0");
    assert_eq!(bytes, artifact);
    let on_b = cb.push(&rec.metadata, &bytes).unwrap();
    assert_eq!(on_b.metadata.sha256, rec.metadata.sha256);
    let (_, again) = cb.pull("kpi-anomaly", "1.0.0").unwrap();
    assert_eq!(again, artifact);

    // Discovery and selection on A.
    let all = ca
        .query(&ModelQuery {
            text: Some("anomaly".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(all.len(), 2);
    let newer = ca
        .query(&ModelQuery {
            since: Some(rec.metadata.published_at.clone()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(newer.len(), 1);
    let best = ca
        .select(&ModelSelection {
            query: ModelQuery::default(),
            metric: Some("f1".into()),
            higher_is_better: true,
        })
        .unwrap();
    assert_eq!(best.metadata.version, "1.0.0");
    a.stop().unwrap();
    b.stop().unwrap();
}

#[test]
fn bad_input_gets_4xx_and_the_server_stays_up() {
    let a = start_backend("ai4ict_test_server_bad");
    let c = client(&a);
    let status = |e: ServerError| match e {
        ServerError::Status {
            status, message, ..
        } => {
            assert!(!message.is_empty());
            status
        }
        other => panic!("expected a status error, got {other}"),
    };
    assert_eq!(status(c.model("nope", "1").unwrap_err()), 404);
    let mut bad = meta("1.0.0", 0.5);
    bad.name = "bad/name".into();
    assert_eq!(status(c.push(&bad, b"x").unwrap_err()), 400);
    c.push(&meta("1.0.0", 0.5), b"one").unwrap();
    assert_eq!(
        status(c.push(&meta("1.0.0", 0.5), b"two").unwrap_err()),
        409
    );
    assert!(Client::new("ftp://x").is_err());

    // Raw malformed requests.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = |path: &str, body: &str| {
        agent
            .post(&format!("{}{path}", a.url()))
            .header("content-type", "application/json")
            .header("authorization", &format!("Bearer {TOKEN}"))
            .send(body)
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(post("/models", "{not json"), 400);
    assert_eq!(post("/models", r#"{"metadata": 1}"#), 422);
    let m = serde_json::to_string(&meta("2.0.0", 0.1)).unwrap();
    assert_eq!(
        post(
            "/models",
            &format!(r#"{{"metadata": {m}, "artifact_base64": "!!"}}"#)
        ),
        400
    );
    let mut wrong = meta("3.0.0", 0.1);
    wrong.sha256 = "ab".repeat(32);
    let m = serde_json::to_string(&wrong).unwrap();
    assert_eq!(
        post(
            "/models",
            &format!(r#"{{"metadata": {m}, "artifact_base64": "eA=="}}"#)
        ),
        422
    );
    let get = |path: &str| {
        agent
            .get(&format!("{}{path}", a.url()))
            .call()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(get("/standards?domain=space"), 400);
    assert_eq!(get("/standards?limit=-1"), 400);
    assert_eq!(get("/review-due?at=yesterday"), 400);
    assert_eq!(get("/nowhere"), 404);
    assert_eq!(get("/standard?key=ITU-T%20Y.3172"), 200);
    assert_eq!(get("/standards?q=sandbox"), 200);
    assert_eq!(get("/coop?limit=5"), 200);
    assert_eq!(get("/gaps"), 200);
    // Still serving.
    assert_eq!(c.health().unwrap()["status"], "ok");
}
