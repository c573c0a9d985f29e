//! Clients that log in and speak TLS, against real servers that take nobody else: a NATS
//! server that speaks TLS only, with users and permissions (`AI4ICT_TEST_NATS_SECURE`), a
//! Mosquitto broker with users and topic ACLs (`AI4ICT_TEST_MQTT_SECURE`), on TCP and on TLS
//! with client certificates (`AI4ICT_TEST_MQTT_TLS`), and an Alertmanager on HTTPS with client
//! certificates (`AI4ICT_TEST_ALERTMANAGER_TLS`), as `.ci/nats.sh`, `.ci/mosquitto.sh` and
//! `.ci/alertmanager.sh` start them; their `…_DIR` holds the users' passwords, and
//! `AI4ICT_TEST_CERTS` the test authority and certificates (`.ci/certs.sh`). A test whose
//! server is not given says so and passes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ai4ict_connectors::{LiveSource, MqttSourceConfig, SinkConfig};
use ai4ict_core::{Alert, Entity, Severity, Timestamp};
use rumqttc::{Client, MqttOptions, QoS};

#[path = "common/bus.rs"]
mod bus;
use bus::{alert_entities, await_pubacks, await_suback, drain, unique};

/// The server's address and the folder of its passwords.
fn server(var: &str) -> Option<(String, PathBuf)> {
    let url = std::env::var(var).ok().filter(|v| !v.is_empty());
    let dir = std::env::var(format!("{var}_DIR")).ok();
    match (url, dir) {
        (Some(url), Some(dir)) => Some((url, PathBuf::from(dir))),
        _ => {
            eprintln!("{var} is not set: skipped (.ci/run starts the server and sets it)");
            None
        }
    }
}

fn password(dir: &Path, user: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{user}.password")))
        .unwrap()
        .trim()
        .to_string()
}

fn fields() -> Vec<String> {
    vec!["prb_util".into()]
}

fn row(cell: &str, minute: i64) -> String {
    format!(
        r#"{{"entity":"{cell}","time":{},"prb_util":0.5}}"#,
        minute * 60
    )
}

fn alert(entity: &str) -> Alert {
    Alert {
        entity: Entity::new(entity),
        time: Timestamp(1_700_000_900_000),
        onset: Timestamp(1_700_000_000_000),
        score: 0.97,
        severity: Severity::Critical,
        field: "prb_util".into(),
        why: None,
    }
}

/// An MQTT client of the secured broker, connected.
fn mqtt_admin(url: &str, dir: &Path) -> (Client, rumqttc::Connection) {
    let (host, port) = url.trim_start_matches("mqtt://").rsplit_once(':').unwrap();
    let mut opts = MqttOptions::new(unique("admin"), host, port.parse().unwrap());
    opts.set_credentials("admin", password(dir, "admin"));
    let (client, mut conn) = Client::new(opts, 100);
    let until = Instant::now() + Duration::from_secs(10);
    while !matches!(
        conn.recv_timeout(Duration::from_millis(200)),
        Ok(Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))))
    ) {
        assert!(Instant::now() < until, "the admin could not connect");
    }
    (client, conn)
}

#[test]
fn mqtt_source_and_sink_log_in_and_a_wrong_password_is_refused() {
    let Some((url, dir)) = server("AI4ICT_TEST_MQTT_SECURE") else {
        return;
    };
    let topic = unique("ai4ict-test/");
    let source = |user: &str, file: PathBuf| -> MqttSourceConfig {
        serde_json::from_value(serde_json::json!({
            "url": url, "topic": format!("{topic}/#"), "max_rows": 20, "until_idle": "10s",
            "auth": {"user": user, "password_file": file},
        }))
        .unwrap()
    };
    // Anonymous and a wrong password: refused, saying so.
    let anonymous: MqttSourceConfig =
        serde_json::from_value(serde_json::json!({"url": url, "topic": "ai4ict-test/#"})).unwrap();
    let e = LiveSource::mqtt(&anonymous, &fields())
        .unwrap_err()
        .to_string();
    assert!(e.contains("the broker refused the"), "{e}");
    let wrong = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(wrong.path(), "not-the-password\n").unwrap();
    let e = LiveSource::mqtt(&source("reader", wrong.path().into()), &fields())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!("{url} {topic}/#: "))
            && e.contains("the broker refused the")
            && e.contains("(`auth`)"),
        "{e}"
    );
    // The reader reads what the admin publishes.
    let mut live =
        LiveSource::mqtt(&source("reader", dir.join("reader.password")), &fields()).unwrap();
    let (admin, mut conn) = mqtt_admin(&url, &dir);
    for i in 0..20 {
        admin
            .publish(format!("{topic}/c1"), QoS::AtLeastOnce, false, row("c1", i))
            .unwrap();
    }
    assert_eq!(await_pubacks(&mut conn, 20), 20);
    assert_eq!(drain(&mut live), 20);
    assert_eq!(live.report().rows_ok, 20);

    // The alerts user publishes alerts; the admin receives them.
    let alerts_topic = unique("ai4ict-alerts/");
    let (admin, mut conn) = mqtt_admin(&url, &dir);
    admin.subscribe(&alerts_topic, QoS::AtLeastOnce).unwrap();
    await_suback(&mut conn);
    let cfg: SinkConfig = serde_json::from_value(serde_json::json!({"mqtt": {
        "url": url, "topic": alerts_topic,
        "auth": {"user": "alerts", "password_file": dir.join("alerts.password")},
    }}))
    .unwrap();
    cfg.check().unwrap();
    let mut sink = cfg.build_for("secured").unwrap();
    sink.write(&[alert("a"), alert("b")]).unwrap();
    sink.finish().unwrap();
    assert_eq!(alert_entities(&mut conn, 2), ["a", "b"]);
}

/// The test PKI's folder.
fn certs() -> Option<PathBuf> {
    std::env::var("AI4ICT_TEST_CERTS").ok().map(PathBuf::from)
}

/// `tls:` with the test authority and, when `client`, the client certificate.
fn tls(certs: &Path, client: bool) -> serde_json::Value {
    let mut v = serde_json::json!({"ca_file": certs.join("ca.pem")});
    if client {
        v["cert_file"] = certs.join("client-cert.pem").to_string_lossy().into();
        v["key_file"] = certs.join("client-key.pem").to_string_lossy().into();
    }
    v
}

#[test]
fn mqtt_over_tls_with_a_client_certificate() {
    let (Some((_, dir)), Some(certs), Ok(url)) = (
        server("AI4ICT_TEST_MQTT_SECURE"),
        certs(),
        std::env::var("AI4ICT_TEST_MQTT_TLS"),
    ) else {
        eprintln!("AI4ICT_TEST_MQTT_TLS is not set: skipped");
        return;
    };
    let topic = unique("ai4ict-test/");
    let source = |tls: serde_json::Value| -> MqttSourceConfig {
        serde_json::from_value(serde_json::json!({
            "url": url, "topic": format!("{topic}/#"), "max_rows": 5, "until_idle": "10s",
            "auth": {"user": "reader", "password_file": dir.join("reader.password")},
            "tls": tls,
        }))
        .unwrap()
    };
    // Without a client certificate the broker ends the handshake; without the authority
    // the broker's certificate is not trusted.
    assert!(LiveSource::mqtt(&source(tls(&certs, false)), &fields()).is_err());
    let e = LiveSource::mqtt(&source(serde_json::json!({})), &fields())
        .unwrap_err()
        .to_string();
    assert!(e.to_lowercase().contains("certificate"), "{e}");
    let mut live = LiveSource::mqtt(&source(tls(&certs, true)), &fields()).unwrap();
    // The admin publishes on the plain listener of the same broker.
    let plain = std::env::var("AI4ICT_TEST_MQTT_SECURE").unwrap();
    let (admin, mut conn) = mqtt_admin(&plain, &dir);
    for i in 0..5 {
        admin
            .publish(format!("{topic}/c1"), QoS::AtLeastOnce, false, row("c1", i))
            .unwrap();
    }
    assert_eq!(await_pubacks(&mut conn, 5), 5);
    assert_eq!(drain(&mut live), 5);
    // A sink over TLS delivers too.
    let cfg: SinkConfig = serde_json::from_value(serde_json::json!({"mqtt": {
        "url": url, "topic": unique("ai4ict-alerts/"),
        "auth": {"user": "alerts", "password_file": dir.join("alerts.password")},
        "tls": tls(&certs, true),
    }}))
    .unwrap();
    let mut sink = cfg.build_for("secured").unwrap();
    sink.write(&[alert("a")]).unwrap();
    sink.finish().unwrap();
}

#[test]
fn alertmanager_over_https_with_a_client_certificate() {
    let (Some(certs), Ok(url)) = (certs(), std::env::var("AI4ICT_TEST_ALERTMANAGER_TLS")) else {
        eprintln!("AI4ICT_TEST_ALERTMANAGER_TLS is not set: skipped");
        return;
    };
    let intent = unique("tls-test-");
    let sink = |tls: serde_json::Value| -> SinkConfig {
        serde_json::from_value(serde_json::json!({"alertmanager": {
            "url": url, "tls": tls, "retries": 0,
        }}))
        .unwrap()
    };
    let e = sink(serde_json::json!({}))
        .build_for(&intent)
        .unwrap()
        .write(&[alert("cell-1")])
        .unwrap_err()
        .to_string();
    assert!(e.to_lowercase().contains("certificate"), "{e}");
    assert!(sink(tls(&certs, false))
        .build_for(&intent)
        .unwrap()
        .write(&[alert("cell-1")])
        .is_err());
    let cfg = sink(tls(&certs, true));
    cfg.check().unwrap();
    let mut s = cfg.build_for(&intent).unwrap();
    s.write(&[alert("cell-7")]).unwrap();
    s.finish().unwrap();
    // Read back over HTTPS with the same client certificate.
    let pem = |f: &str| std::fs::read(certs.join(f)).unwrap();
    let ca = ureq::tls::Certificate::from_pem(&pem("ca.pem")).unwrap();
    let cert = ureq::tls::Certificate::from_pem(&pem("client-cert.pem")).unwrap();
    let key = ureq::tls::PrivateKey::from_pem(&pem("client-key.pem")).unwrap();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::new_with_certs(&[ca]))
        .client_cert(Some(ureq::tls::ClientCert::new_with_certs(&[cert], key)))
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder().tls_config(tls).build().into();
    let text = agent
        .get(format!(
            "{url}/api/v2/alerts?filter=intent%3D%22{intent}%22"
        ))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let got: serde_json::Value = serde_json::from_str(&text).unwrap();
    let list = got.as_array().unwrap();
    assert_eq!(list.len(), 1, "{got}");
    assert_eq!(list[0]["labels"]["entity"], "cell-7");
}

#[cfg(feature = "nats")]
mod nats {
    use super::*;
    use ai4ict_connectors::NatsSourceConfig;
    use futures_util::StreamExt;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// The admin's client of the secured server.
    async fn admin(url: &str, dir: &Path) -> async_nats::Client {
        let certs = certs().unwrap();
        async_nats::ConnectOptions::with_user_and_password("admin".into(), password(dir, "admin"))
            .add_root_certificates(dir.join("ca.pem"))
            .add_client_certificate(certs.join("client-cert.pem"), certs.join("client-key.pem"))
            .require_tls(true)
            .connect(url)
            .await
            .unwrap()
    }

    /// A source logging in with `auth`, presenting the test client certificate, and
    /// trusting the test authority when `trust`.
    fn source(url: &str, stream: &str, auth: serde_json::Value, trust: bool) -> NatsSourceConfig {
        let mut tls = super::tls(&certs().unwrap(), true);
        if !trust {
            tls.as_object_mut().unwrap().remove("ca_file");
        }
        serde_json::from_value(serde_json::json!({
            "url": url, "stream": stream, "durable": "reader", "max_rows": 30,
            "until_idle": "10s", "auth": auth, "tls": tls,
        }))
        .unwrap()
    }

    #[test]
    fn nats_source_reads_over_tls_as_a_user_and_is_refused_otherwise() {
        let Some((url, dir)) = server("AI4ICT_TEST_NATS_SECURE") else {
            return;
        };
        let stream = unique("AI4ICT_SECURE_");
        let subject = format!("{}.telemetry", stream.to_lowercase());
        let rt = runtime();
        let js = rt.block_on(async {
            let js = async_nats::jetstream::new(admin(&url, &dir).await);
            js.create_stream(async_nats::jetstream::stream::Config {
                name: stream.clone(),
                subjects: vec![format!("{subject}.>")],
                ..Default::default()
            })
            .await
            .unwrap();
            for i in 0..30 {
                js.publish(format!("{subject}.c{}", i % 3), row("c", i).into())
                    .await
                    .unwrap()
                    .await
                    .unwrap();
            }
            js
        });
        let reader =
            serde_json::json!({"user": "reader", "password_file": dir.join("reader.password")});
        let mut live =
            LiveSource::nats(&source(&url, &stream, reader.clone(), true), &fields()).unwrap();
        assert_eq!(drain(&mut live), 30);
        assert_eq!(live.report().rows_ok, 30);
        drop(live);

        let wrong = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(wrong.path(), "not-the-password").unwrap();
        let bad = serde_json::json!({"user": "reader", "password_file": wrong.path()});
        let e = LiveSource::nats(&source(&url, &stream, bad, true), &fields())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!("{url} stream {stream}"))
                && e.contains("authorization violation"),
            "{e}"
        );
        // Without the CA the server's certificate is not trusted; without a client
        // certificate the server does not let the client in.
        let e = LiveSource::nats(&source(&url, &stream, reader.clone(), false), &fields())
            .unwrap_err()
            .to_string();
        assert!(e.to_lowercase().contains("certificate"), "{e}");
        let mut bare = source(&url, &stream, reader, true);
        bare.tls = Some(ai4ict_connectors::ClientTls {
            ca_file: Some(certs().unwrap().join("ca.pem")),
            ..Default::default()
        });
        assert!(LiveSource::nats(&bare, &fields()).is_err());
        // A user the server does not let read: the error says what the server refused.
        let alerts =
            serde_json::json!({"user": "alerts", "password_file": dir.join("alerts.password")});
        let e = LiveSource::nats(&source(&url, &stream, alerts, true), &fields())
            .unwrap_err()
            .to_string();
        assert!(e.contains("Permissions Violation"), "{e}");
        rt.block_on(async { js.delete_stream(&stream).await.unwrap() });
    }

    #[test]
    fn nats_sink_publishes_as_a_user_and_reports_what_its_permissions_refuse() {
        let Some((url, dir)) = server("AI4ICT_TEST_NATS_SECURE") else {
            return;
        };
        let allowed = unique("alerts.");
        let rt = runtime();
        let (client, mut sub) = rt.block_on(async {
            let c = admin(&url, &dir).await;
            let sub = c.subscribe(allowed.clone()).await.unwrap();
            c.flush().await.unwrap();
            (c, sub)
        });
        let sink = |subject: &str| -> SinkConfig {
            serde_json::from_value(serde_json::json!({"nats": {
                "url": url, "subject": subject,
                "auth": {"user": "alerts", "password_file": dir.join("alerts.password")},
                "tls": tls(&certs().unwrap(), true),
            }}))
            .unwrap()
        };
        let cfg = sink(&allowed);
        cfg.check().unwrap();
        let mut s = cfg.build_for("secured").unwrap();
        s.write(&[alert("x")]).unwrap();
        s.finish().unwrap();
        let m = rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(5), sub.next()).await })
            .unwrap()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
        assert_eq!(v["entity"].as_str(), Some("x"));
        // A subject the user may not publish to: the sink fails, naming the refusal, rather
        // than the alert vanishing (the server's word comes after the write, so `finish`
        // waits for it).
        let mut s = sink("ai4ict.elsewhere").build_for("secured").unwrap();
        let e = s
            .write(&[alert("y")])
            .and_then(|()| s.finish())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("refused") && e.contains("Permissions Violation"),
            "{e}"
        );
        rt.block_on(async move {
            drop(sub);
            drop(client);
        });
    }
}
