//! The shipped `intents/iot-sensor-anomaly.yaml` on a real broker: `ai4ict sandbox publish`
//! sends 30 sensors × 3 days of 5-minute readings (seed 1: stuck, drifting and dead sensors)
//! to Mosquitto (`AI4ICT_TEST_MQTT`), `ai4ict run` reads them through the intent's MQTT source,
//! and the alerts are checked against the faults' ground truth (`ai4ict sandbox iot`, same
//! seed). Skipped, saying so, when no broker is given (.ci/run gives one).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};

#[allow(dead_code)] // each test file uses part of it
#[path = "common/net.rs"]
mod net;
use net::unique;

const BIN: &str = env!("CARGO_BIN_EXE_ai4ict");
const FIELD: [&str; 6] = ["--sensors", "30", "--days", "3", "--seed", "1"];

fn ai4ict(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A persistent session subscribed to `topic`, so the broker queues what is published before
/// the run connects.
fn persistent_session(broker: &str, client_id: &str, topic: &str) {
    let (host, port) = broker
        .trim_start_matches("mqtt://")
        .rsplit_once(':')
        .unwrap();
    let mut o = MqttOptions::new(client_id, host, port.parse().unwrap());
    o.set_clean_session(false);
    let (c, mut conn) = Client::new(o, 10);
    c.subscribe(topic, QoS::AtLeastOnce).unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < until, "no SUBACK from {broker}");
        if let Ok(Ok(Event::Incoming(Packet::SubAck(_)))) =
            conn.recv_timeout(Duration::from_millis(200))
        {
            break;
        }
    }
    c.disconnect().unwrap();
    let _ = conn.recv_timeout(Duration::from_millis(200));
}

#[test]
fn sandbox_iot_files_are_scored_by_detect() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["sandbox", "iot", "--out", "iot"];
    args.extend(FIELD);
    let wrote = ai4ict(dir.path(), &args);
    assert!(
        wrote.contains("30 sensors × 864 intervals of 5m, seed 1"),
        "{wrote}"
    );
    let again = Command::new(BIN)
        .args(&args)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "existing files are refused without --force"
    );

    ai4ict(
        dir.path(),
        &[
            "detect",
            "--input",
            "iot/telemetry.csv",
            "--labels",
            "iot/labels.json",
            "--detector",
            "robust_seasonal",
            "--quiet",
            "--out",
            "det",
        ],
    );
    let eval: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("det/evaluation.json")).unwrap(),
    )
    .unwrap();
    let kinds = eval["metrics"]["per_kind"].as_array().unwrap();
    let stuck = kinds.iter().find(|k| k["kind"] == "flatline").unwrap();
    assert_eq!(stuck["recall"], 1.0, "every stuck sensor is found: {eval}");
    for k in ["slow_drift", "missing_data"] {
        assert!(
            kinds.iter().any(|x| x["kind"] == k),
            "{k} in the labels: {eval}"
        );
    }
}

#[test]
fn publish_to_an_unreachable_broker_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // freed: nothing listens there
    let url = format!("mqtt://127.0.0.1:{port}");
    let out = Command::new(BIN)
        .args([
            "sandbox",
            "publish",
            "--mqtt",
            &url,
            "--days",
            "2",
            "--sensors",
            "1",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!("cannot reach the MQTT broker {url}")),
        "{stderr}"
    );
}

/// `sandbox publish` logs in to a broker that takes users only, and says so when it may not.
#[test]
fn publish_logs_in_to_a_broker_that_takes_users() {
    let (Ok(broker), Ok(dir)) = (
        std::env::var("AI4ICT_TEST_MQTT_SECURE"),
        std::env::var("AI4ICT_TEST_MQTT_SECURE_DIR"),
    ) else {
        eprintln!(
            "AI4ICT_TEST_MQTT_SECURE is not set: skipped (.ci/run starts Mosquitto and sets it)"
        );
        return;
    };
    let password = std::fs::read_to_string(Path::new(&dir).join("admin.password")).unwrap();
    let work = tempfile::tempdir().unwrap();
    let topic = unique("ai4ict-iot/");
    // Publishes to `broker` as `user` with `password` and the `extra` arguments.
    let publish = |broker: &str, user: &str, password: &str, extra: &[&str]| {
        let mut args = vec!["sandbox", "publish", "--mqtt", broker, "--topic", &topic];
        args.extend(["--days", "2", "--sensors", "1", "--rate", "50000"]);
        args.extend(["--user", user, "--password-env", "AI4ICT_TEST_PASSWORD"]);
        args.extend(extra);
        Command::new(BIN)
            .args(&args)
            .env("AI4ICT_TEST_PASSWORD", password.trim())
            .current_dir(work.path())
            .output()
            .unwrap()
    };
    let published = |out: std::process::Output| {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("published 576 readings of 1 sensors"),
            "{stdout}"
        );
    };
    published(publish(&broker, "admin", &password, &[]));
    let out = publish(&broker, "admin", "not-the-password", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("connection refused") && stderr.contains("check --user and --password-env"),
        "{stderr}"
    );
    // The same broker's TLS listener, which wants a client certificate as well.
    let (Ok(tls), Ok(certs)) = (
        std::env::var("AI4ICT_TEST_MQTT_TLS"),
        std::env::var("AI4ICT_TEST_CERTS"),
    ) else {
        eprintln!("AI4ICT_TEST_MQTT_TLS is not set: TLS not checked");
        return;
    };
    let certs = Path::new(&certs);
    let file = |f: &str| certs.join(f).to_string_lossy().into_owned();
    let (ca, cert, key) = (
        file("ca.pem"),
        file("client-cert.pem"),
        file("client-key.pem"),
    );
    let tls_args = ["--ca-file", &ca, "--cert-file", &cert, "--key-file", &key];
    published(publish(&tls, "admin", &password, &tls_args));
}

#[test]
fn the_iot_intent_flags_faulty_sensors_from_mqtt() {
    let Ok(broker) = std::env::var("AI4ICT_TEST_MQTT") else {
        eprintln!("AI4ICT_TEST_MQTT is not set: skipped (.ci/run starts Mosquitto and sets it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["sandbox", "iot", "--out", "truth"];
    args.extend(FIELD);
    ai4ict(dir.path(), &args);
    let rows = std::fs::read_to_string(dir.path().join("truth/telemetry.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    let labels: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("truth/labels.json")).unwrap(),
    )
    .unwrap();
    // the last reading: 2024-01-03T23:55:00Z
    let last = 1_704_067_200_000 + 3 * 86_400_000 - 300_000;

    let (topic, client_id) = (unique("ai4ict-iot/"), unique("ai4ict-run-"));
    persistent_session(&broker, &client_id, &format!("{topic}/#"));
    let mut args = vec!["sandbox", "publish", "--mqtt", &broker, "--topic", &topic];
    args.extend(FIELD);
    args.extend(["--rate", "50000"]);
    let published = ai4ict(dir.path(), &args);
    assert!(
        published.contains(&format!("published {rows} readings of 30 sensors")),
        "{published}"
    );

    // The shipped intent, pointed at this broker and topic, bounded for the test.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let intent = std::fs::read_to_string(repo.join("intents/iot-sensor-anomaly.yaml"))
        .unwrap()
        .replace(
            "url: \"mqtt://127.0.0.1:1883\"",
            &format!(
                "url: \"{broker}\"\n    client_id: {client_id}\n    clean_session: false\n    \
                 max_rows: {rows}\n    until_idle: 20s"
            ),
        )
        .replace("topic: \"iot/sensors/#\"", &format!("topic: \"{topic}/#\""));
    assert!(intent.contains(&client_id) && intent.contains(&topic));
    std::fs::write(dir.path().join("iot.yaml"), intent).unwrap();
    let stdout = ai4ict(
        dir.path(),
        &["run", "iot.yaml", "--quiet", "--no-hub", "--out", "report"],
    );
    assert!(
        stdout.contains(&format!("{rows} rows from {broker} {topic}/#")),
        "every reading published was scored: {stdout}"
    );
    let bytes: f64 = stdout
        .split(" B detector state per entity")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|b| b.parse().ok())
        .unwrap_or_else(|| panic!("no state size in {stdout}"));
    eprintln!("edge profile: {bytes} B of detector state per sensor");
    assert!(
        bytes < 2048.0,
        "the edge profile stays under 2 KiB a sensor: {bytes}"
    );

    let alerts: Vec<serde_json::Value> =
        std::fs::read_to_string(dir.path().join("out/iot-sensor-anomaly/alerts.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    let alerted = |entity: &str| alerts.iter().any(|a| a["entity"] == entity);
    // Stuck sensors repeat their reading exactly and the telemetry check flags that at once;
    // a dead sensor that comes back is flagged by the silence before its return: both are
    // required every time (recall 1). A drift of a few degrees within a day hides in the
    // weather for a per-sensor detector (docs/intents.md gives its measured recall), and a
    // sensor dead for good sends nothing that could raise an alert: neither is required.
    for l in &labels {
        let (entity, kind) = (l["entity"].as_str().unwrap(), l["kind"].as_str().unwrap());
        let returned = l["end"].as_i64() < Some(last);
        eprintln!("{kind} of {entity}: alerted {}", alerted(entity));
        if kind == "flatline" || (kind == "missing_data" && returned) {
            assert!(
                alerted(entity),
                "{kind} of {entity} not alerted: {alerts:?}"
            );
        }
    }
    let faulty: Vec<&str> = labels.iter().filter_map(|l| l["entity"].as_str()).collect();
    let false_alarms: std::collections::BTreeSet<&str> = alerts
        .iter()
        .filter_map(|a| a["entity"].as_str())
        .filter(|e| !faulty.contains(e))
        .collect();
    assert!(
        false_alarms.len() <= 2,
        "at most 2 of the healthy sensors alerted: {false_alarms:?}"
    );
}
