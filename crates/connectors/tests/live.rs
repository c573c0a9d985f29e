//! Live sources and alert sinks against real servers: Mosquitto (`AI4ICT_TEST_MQTT`), NATS
//! with JetStream (`AI4ICT_TEST_NATS`) and Prometheus Alertmanager
//! (`AI4ICT_TEST_ALERTMANAGER`), as `.ci/mosquitto.sh`, `.ci/nats.sh` and
//! `.ci/alertmanager.sh` start them. A test whose server is not given says so and passes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::Duration;

#[cfg(feature = "nats")]
use ai4ict_connectors::NatsSourceConfig;
use ai4ict_connectors::{LiveSource, MqttSourceConfig, SinkConfig};
use ai4ict_core::{Alert, Entity, Severity, Timestamp};
#[cfg(feature = "nats")]
use futures_util::StreamExt;
use rumqttc::{Client, MqttOptions, QoS};

#[path = "common/bus.rs"]
mod bus;
use bus::{alert_entities, await_pubacks, await_suback, drain, unique};

fn server(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            eprintln!("{var} is not set: skipped (.ci/run starts the server and sets it)");
            None
        }
    }
}

fn fields() -> Vec<String> {
    vec!["prb_util".into(), "latency".into()]
}

fn row(cell: &str, minute: i64, prb: f64) -> String {
    format!(
        r#"{{"entity":"{cell}","time":{},"prb_util":{prb},"latency":12.5}}"#,
        minute * 60
    )
}

/// Publishes `messages` at QoS 1 and waits for the broker's acknowledgements.
fn mqtt_publish(url: &str, topic: &str, messages: &[String]) {
    let addr = url.trim_start_matches("mqtt://");
    let (host, port) = addr.rsplit_once(':').unwrap();
    let mut opts = MqttOptions::new(unique("pub"), host, port.parse().unwrap());
    opts.set_keep_alive(Duration::from_secs(10));
    let (client, mut conn) = Client::new(opts, messages.len() + 10);
    for m in messages {
        client
            .publish(topic, QoS::AtLeastOnce, false, m.clone())
            .unwrap();
    }
    let acked = await_pubacks(&mut conn, messages.len());
    assert_eq!(
        acked,
        messages.len(),
        "the broker acknowledged every message"
    );
    client.disconnect().unwrap();
    let _ = conn.recv_timeout(Duration::from_millis(200));
}

#[test]
fn mqtt_source_scores_good_rows_and_counts_bad_messages() {
    let Some(url) = server("AI4ICT_TEST_MQTT") else {
        return;
    };
    let topic = unique("ai4ict-test/");
    let cfg: MqttSourceConfig = serde_json::from_value(serde_json::json!({
        "url": url, "topic": format!("{topic}/#"), "max_rows": 43, "until_idle": "10s",
        "buffer": 8,
    }))
    .unwrap();
    let mut source = LiveSource::mqtt(&cfg, &fields()).unwrap();
    let mut messages: Vec<String> = (0..40).map(|i| row("c1", i * 15, 0.5)).collect();
    messages.insert(
        5,
        r#"{"entity":"c1","time":1,"prb_util":"lots","latency":1}"#.into(),
    );
    messages.insert(17, "not json at all".into());
    messages.insert(30, r#"{"entity":"c1","prb_util":1}"#.into());
    // More messages than the buffer holds: the client lags, nothing is lost.
    mqtt_publish(&url, &format!("{topic}/c1"), &messages);
    assert_eq!(drain(&mut source), 40);
    let r = source.report();
    assert_eq!((r.rows_ok, r.rows_skipped), (40, 3));
    let first = r.errors[0].to_string();
    assert!(
        first.starts_with(&format!("{topic}/c1:6: column `prb_util`")),
        "{first}"
    );
    assert!(r.errors[2].to_string().contains("column `time`: missing"));
    assert!(source.summary().contains("3 bad rows skipped"));
}

#[test]
fn mqtt_source_refuses_a_dead_broker_naming_it() {
    let cfg: MqttSourceConfig =
        serde_json::from_str(r#"{"url":"mqtt://127.0.0.1:1","topic":"t"}"#).unwrap();
    let e = LiveSource::mqtt(&cfg, &fields()).unwrap_err().to_string();
    assert!(e.starts_with("mqtt://127.0.0.1:1 t: cannot connect"), "{e}");
}

#[cfg(feature = "nats")]
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
#[cfg(feature = "nats")]
fn nats_source_reads_every_row_and_acks_it() {
    let Some(url) = server("AI4ICT_TEST_NATS") else {
        return;
    };
    let stream = unique("AI4ICT_TEST_");
    let subject = format!("{}.telemetry", stream.to_lowercase());
    let rt = runtime();
    let js = rt.block_on(async {
        let client = async_nats::connect(url.trim_start_matches("nats://"))
            .await
            .unwrap();
        let js = async_nats::jetstream::new(client);
        js.create_stream(async_nats::jetstream::stream::Config {
            name: stream.clone(),
            subjects: vec![format!("{subject}.>")],
            ..Default::default()
        })
        .await
        .unwrap();
        for i in 0..200 {
            let body = if i % 50 == 7 {
                "{\"entity\":".to_string()
            } else {
                row(&format!("c{}", i % 4), i * 15, 0.25)
            };
            js.publish(format!("{subject}.c{}", i % 4), body.into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
        js
    });
    let cfg: NatsSourceConfig = serde_json::from_value(serde_json::json!({
        "url": url, "stream": stream, "durable": "scorer", "max_rows": 200,
        "until_idle": "10s", "buffer": 16,
    }))
    .unwrap();
    let mut source = LiveSource::nats(&cfg, &fields()).unwrap();
    assert_eq!(drain(&mut source), 196);
    let r = source.report().clone();
    assert_eq!((r.rows_ok, r.rows_skipped), (196, 4));
    assert!(r.errors[0]
        .to_string()
        .starts_with(&format!("{subject}.c3:8: truncated JSON")));
    drop(source);
    let info = rt.block_on(async {
        let s = js.get_stream(&stream).await.unwrap();
        let mut c: async_nats::jetstream::consumer::PullConsumer =
            s.get_consumer("scorer").await.unwrap();
        c.info().await.unwrap().clone()
    });
    assert_eq!(info.num_pending, 0, "every message was delivered");
    assert_eq!(info.num_ack_pending, 0, "every delivered message was acked");
    assert_eq!(info.ack_floor.stream_sequence, 200);
    rt.block_on(async { js.delete_stream(&stream).await.unwrap() });
}

fn alert(entity: &str, field: &str) -> Alert {
    Alert {
        entity: Entity::new(entity),
        time: Timestamp(1_700_000_900_000),
        onset: Timestamp(1_700_000_000_000),
        score: 0.97,
        severity: Severity::Critical,
        field: field.into(),
        why: None,
    }
}

#[test]
fn alertmanager_sink_posts_alerts_with_labels() {
    let Some(url) = server("AI4ICT_TEST_ALERTMANAGER") else {
        return;
    };
    let intent = unique("sink-test-");
    let cfg: SinkConfig = serde_json::from_value(serde_json::json!({"alertmanager": {
        "url": url, "report_url": "http://reports.example/run/1", "labels": {"team": "ran"},
    }}))
    .unwrap();
    let mut sink = cfg.build_for(&intent).unwrap();
    sink.write(&[alert("cell-7", "prb_util")]).unwrap();
    sink.finish().unwrap();
    let text = ureq::get(format!(
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
    let a = &list[0];
    assert_eq!(a["labels"]["entity"], "cell-7");
    assert_eq!(a["labels"]["field"], "prb_util");
    assert_eq!(a["labels"]["severity"], "critical");
    assert_eq!(a["labels"]["team"], "ran");
    assert_eq!(a["annotations"]["score"], "0.970");
    assert_eq!(a["annotations"]["report"], "http://reports.example/run/1");
    assert_eq!(a["status"]["state"], "active");
}

/// A one-request HTTP server: returns the request's head and body.
fn receive_one(
    listener: TcpListener,
    status: &'static str,
) -> std::thread::JoinHandle<(String, String)> {
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        let mut len = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        let mut out = stream;
        write!(
            out,
            "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        (head, String::from_utf8(body).unwrap())
    })
}

#[test]
fn webhook_sink_posts_json_with_the_bearer_token_and_retries() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "t0ps3cret\n").unwrap();
    let cfg: SinkConfig = serde_json::from_value(serde_json::json!({"webhook": {
        "url": format!("http://127.0.0.1:{port}/hook"), "token_file": token, "retries": 2,
    }}))
    .unwrap();
    cfg.check().unwrap();
    let mut sink = cfg.build_for("hooked").unwrap();
    // The first answer is a 503: the sink tries again.
    let server = std::thread::spawn(move || {
        let first = receive_one(listener.try_clone().unwrap(), "503 Service Unavailable")
            .join()
            .unwrap();
        let second = receive_one(listener, "204 No Content").join().unwrap();
        (first, second)
    });
    sink.write(&[alert("cell-1", "latency")]).unwrap();
    let ((first_head, first), (head, body)) = server.join().unwrap();
    assert_eq!(first, body, "the retry sends the same alerts");
    assert!(head.starts_with("POST /hook HTTP/1.1"), "{head}");
    assert!(
        head.contains("authorization: Bearer t0ps3cret")
            || head.contains("Authorization: Bearer t0ps3cret"),
        "{head}"
    );
    // Both attempts name the round with the same key, as the alerts' keys hash.
    let key = |head: &str| {
        head.lines().find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("idempotency-key: ")
                .map(str::to_string)
        })
    };
    let sent = Alert::batch_key(&[alert("cell-1", "latency")], "hooked");
    assert_eq!(key(&head), Some(format!("\"{sent}\"")), "{head}");
    assert_eq!(key(&first_head), key(&head));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["intent"], "hooked");
    assert_eq!(v["alerts"][0]["entity"], "cell-1");
    assert_eq!(v["alerts"][0]["onset"], "2023-11-14T22:13:20Z");
}

#[test]
fn mqtt_and_nats_sinks_publish_each_alert() {
    if let Some(url) = server("AI4ICT_TEST_MQTT") {
        let topic = unique("ai4ict-alerts/");
        let addr = url.trim_start_matches("mqtt://").to_string();
        let (host, port) = addr.rsplit_once(':').unwrap();
        let (client, mut conn) = Client::new(
            MqttOptions::new(unique("sub"), host, port.parse().unwrap()),
            10,
        );
        client.subscribe(&topic, QoS::AtLeastOnce).unwrap();
        await_suback(&mut conn);
        let cfg: SinkConfig =
            serde_json::from_value(serde_json::json!({"mqtt": {"url": url, "topic": topic}}))
                .unwrap();
        let mut sink = cfg.build_for("mq").unwrap();
        sink.write(&[alert("a", "f"), alert("b", "g")]).unwrap();
        sink.finish().unwrap();
        assert_eq!(alert_entities(&mut conn, 2), ["a", "b"]);
    }
    #[cfg(feature = "nats")]
    if let Some(url) = server("AI4ICT_TEST_NATS") {
        let subject = unique("ai4ict.alerts.");
        let rt = runtime();
        let mut sub = rt.block_on(async {
            let c = async_nats::connect(url.trim_start_matches("nats://"))
                .await
                .unwrap();
            let sub = c.subscribe(subject.clone()).await.unwrap();
            c.flush().await.unwrap();
            sub
        });
        let cfg: SinkConfig =
            serde_json::from_value(serde_json::json!({"nats": {"url": url, "subject": subject}}))
                .unwrap();
        let mut sink = cfg.build_for("nt").unwrap();
        sink.write(&[alert("x", "f")]).unwrap();
        sink.finish().unwrap();
        let m = rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(5), sub.next()).await })
            .unwrap()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
        assert_eq!(
            (v["entity"].as_str(), v["intent"].as_str()),
            (Some("x"), Some("nt"))
        );
        // A subscriber unsubscribes on drop, which needs the runtime.
        rt.block_on(async move { drop(sub) });
    }
}
