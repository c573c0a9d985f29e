//! Live sources (`mqtt`, `nats`) and alert sinks in an intent: parsed with unknown keys
//! refused, and checked for what a live source needs (named fields, `columns` for CSV lines).

use ai4ict_intent::{MlIntent, Origin, SourceConfig};

const MQTT: &str = "name: live
use_case: operations
source:
  mqtt: { url: \"mqtt://127.0.0.1:1883\", topic: \"telemetry/#\", max_rows: 10, until_idle: 5s }
collect: { fields: [prb_util, latency] }
distribute:
  - alertmanager: { url: \"http://127.0.0.1:9093\", labels: { team: ran } }
  - webhook: { url: \"http://127.0.0.1:8080/hook\", token_env: AI4ICT_HOOK_TOKEN }
  - mqtt: { url: \"mqtt://127.0.0.1:1883\", topic: ai4ict/alerts }
  - nats: { url: \"nats://127.0.0.1:4222\", subject: ai4ict.alerts }
";

#[test]
fn live_sources_and_alert_sinks_parse() {
    let i = MlIntent::from_yaml(MQTT).unwrap();
    assert!(i.source.is_live());
    let SourceConfig::Mqtt(m) = &i.source else {
        panic!("an mqtt source")
    };
    assert_eq!((m.qos, m.max_rows), (1, Some(10)));
    assert_eq!(i.distribute.len(), 4);
    let nats = MQTT.replace(
        "mqtt: { url: \"mqtt://127.0.0.1:1883\", topic: \"telemetry/#\",",
        "nats: { url: \"nats://127.0.0.1:4222\", stream: TELEMETRY, durable: cells,",
    );
    let i = MlIntent::from_yaml(&nats).unwrap();
    assert!(matches!(&i.source, SourceConfig::Nats(n) if n.durable == "cells"));
}

#[test]
fn live_source_mistakes_name_their_field() {
    let field = |text: &str| {
        let e = MlIntent::from_yaml(text).unwrap_err();
        e.problems()[0].field.clone().unwrap_or_default()
    };
    let e = MlIntent::from_yaml(&MQTT.replace("max_rows", "max_row")).unwrap_err();
    assert!(e.to_string().contains("`max_row`"), "{e}");
    assert_eq!(
        field(&MQTT.replace("collect: { fields: [prb_util, latency] }\n", "")),
        "collect.fields"
    );
    assert_eq!(
        field(&MQTT.replace("max_rows: 10", "format: csv-line")),
        "source.mqtt.columns"
    );
    assert_eq!(
        field(&MQTT.replace("max_rows: 10", "qos: 3")),
        "source.mqtt.qos"
    );
    assert_eq!(
        field(&MQTT.replace("max_rows: 10", "max_held: 100")),
        "source.mqtt.max_held",
        "a cap without `lateness`"
    );
    assert_eq!(
        field(&MQTT.replace("max_rows: 10", "lateness: 5m, max_held: 0")),
        "source.mqtt.max_held"
    );
    let e = MlIntent::from_yaml(&MQTT.replace("max_rows: 10", "lateness: 0s")).unwrap_err();
    assert!(e.to_string().contains("longer than zero"), "{e}");
    let e = MlIntent::from_yaml(&MQTT.replace("max_rows: 10", "lateness: soon")).unwrap_err();
    assert!(e.to_string().contains("not a duration"), "{e}");
    let i = MlIntent::from_yaml(&MQTT.replace("max_rows: 10", "lateness: 5m")).unwrap();
    let SourceConfig::Mqtt(m) = &i.source else {
        panic!("an mqtt source")
    };
    let event = m.limits().event_time.unwrap();
    assert_eq!(event.lateness, ai4ict_core::Interval::from_minutes(5));
    assert_eq!(event.max_held, ai4ict_connectors::DEFAULT_MAX_HELD);
    let remote = MQTT.replace("token_env: AI4ICT_HOOK_TOKEN", "token_file: /etc/token");
    let e = MlIntent::parse(&remote, "<http>", Origin::Remote).unwrap_err();
    assert_eq!(e.problems().len(), 1, "{e}");
    assert_eq!(
        e.problems()[0].field.as_deref(),
        Some("distribute.1.webhook.token_file")
    );
    assert!(MlIntent::parse(&remote, "<cli>", Origin::Local).is_ok());
}

/// A NATS source read in partitions parses, needs a subject prefix, and may checkpoint.
#[test]
fn a_partitioned_nats_source_is_checked() {
    let nats = MQTT.replace(
        "mqtt: { url: \"mqtt://127.0.0.1:1883\", topic: \"telemetry/#\", max_rows: 10, until_idle: 5s }",
        "nats: { url: \"nats://127.0.0.1:4222\", stream: KPI, subject: kpi, partitions: 8, until_caught_up: true }",
    );
    let i = MlIntent::from_yaml(&nats).unwrap();
    assert!(matches!(&i.source, SourceConfig::Nats(n) if n.partitions == Some(8)));
    let e = MlIntent::from_yaml(&nats.replace("subject: kpi, ", "")).unwrap_err();
    assert_eq!(
        e.problems()[0].field.as_deref(),
        Some("source.nats.partitions")
    );
    let i = MlIntent::from_yaml(&format!("{nats}checkpoint: {{ dir: ck }}\n")).unwrap();
    assert_eq!(i.source.component().partitions(), Some(8));
    assert!(i.source.component().resumable());
}

/// A Kafka source read in partitions parses, refuses `max_rows` and `session_timeout` (each
/// naming its key), and may checkpoint.
#[test]
fn a_partitioned_kafka_source_is_checked() {
    let kafka = MQTT.replace(
        "mqtt: { url: \"mqtt://127.0.0.1:1883\", topic: \"telemetry/#\", max_rows: 10, until_idle: 5s }",
        "kafka: { brokers: [\"127.0.0.1:9092\"], topic: kpi, partitions: 8, until_idle: 5s }",
    );
    let i = MlIntent::from_yaml(&kafka).unwrap();
    assert!(matches!(&i.source, SourceConfig::Kafka(k) if k.partitions == Some(8)));
    let e =
        MlIntent::from_yaml(&kafka.replace("until_idle: 5s", "max_rows: 9, session_timeout: 10s"))
            .unwrap_err();
    let fields: Vec<_> = e.problems().iter().map(|p| p.field.clone()).collect();
    assert_eq!(
        fields,
        [
            Some("source.kafka.max_rows".to_string()),
            Some("source.kafka.session_timeout".to_string())
        ],
        "{e}"
    );
    let i = MlIntent::from_yaml(&format!("{kafka}checkpoint: {{ dir: ck }}\n")).unwrap();
    assert_eq!(i.source.component().partitions(), Some(8));
    assert!(i.source.component().resumable());
}

/// Bus credentials in an intent: checked where they are written, and no secret or
/// certificate file in an intent submitted remotely, source or sink.
#[test]
fn bus_credentials_are_checked_and_kept_local() {
    let with = |source_auth: &str, sink_auth: &str| {
        MQTT.replace(
            "max_rows: 10, until_idle: 5s }",
            &format!("max_rows: 10, until_idle: 5s, auth: {source_auth} }}"),
        )
        .replace(
            "subject: ai4ict.alerts }",
            &format!("subject: ai4ict.alerts, {sink_auth} }}"),
        )
    };
    let local = with(
        "{ user: scorer, password_env: MQTT_PASSWORD }",
        "auth: { creds_file: ai4ict.creds }, tls: { ca_file: ca.pem }",
    );
    let i = MlIntent::parse(&local, "<cli>", Origin::Local).unwrap();
    let SourceConfig::Mqtt(m) = &i.source else {
        panic!("an mqtt source")
    };
    assert_eq!(m.auth.as_ref().unwrap().user.as_deref(), Some("scorer"));
    let field = |text: &str, origin: Origin| {
        let e = MlIntent::parse(text, "<x>", origin).unwrap_err();
        e.problems()
            .iter()
            .map(|p| p.field.clone().unwrap_or_default())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        field(&local, Origin::Remote),
        [
            "source.mqtt.auth.password_env",
            "distribute.3.nats.auth.creds_file",
            "distribute.3.nats.tls.ca_file"
        ]
    );
    let e = MlIntent::from_yaml(&with("{ user: scorer, pasword_env: P }", "")).unwrap_err();
    assert!(e.to_string().contains("`pasword_env`"), "{e}");
    assert_eq!(
        field(&with("{ user: scorer }", ""), Origin::Local),
        ["source.mqtt.auth.user"]
    );
    assert_eq!(
        field(&with("{ token_env: T }", ""), Origin::Local),
        ["source.mqtt.auth"]
    );
    assert_eq!(
        field(
            &with("{ user: scorer, password_file: /etc/mqtt.pass }", ""),
            Origin::Remote
        ),
        ["source.mqtt.auth.password_file"]
    );
    // Remotely, secrets come only from AI4ICT_… variables: an API token must not let its
    // holder send the server's other variables to a server of their choosing.
    let leaky = with(
        "{ user: scorer, password_env: AWS_SECRET_ACCESS_KEY }",
        "auth: { token_env: PGPASSWORD }",
    );
    assert!(MlIntent::parse(&leaky, "<cli>", Origin::Local).is_ok());
    assert_eq!(
        field(&leaky, Origin::Remote),
        [
            "source.mqtt.auth.password_env",
            "distribute.3.nats.auth.token_env"
        ]
    );
    let webhook = MQTT.replace("token_env: AI4ICT_HOOK_TOKEN", "token_env: HOME");
    assert_eq!(
        field(&webhook, Origin::Remote),
        ["distribute.1.webhook.token_env"]
    );
    let fine = with(
        "{ user: scorer, password_env: AI4ICT_MQTT_PASSWORD }",
        "auth: { token_env: AI4ICT_NATS_TOKEN }",
    );
    assert!(MlIntent::parse(&fine, "<http>", Origin::Remote).is_ok());
}
