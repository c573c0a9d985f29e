//! The registry of sources (Y.3172 §8.1 SRC): one line per source, in one place.
//!
//! A source is its config struct (serde with `deny_unknown_fields`, a JSON schema, doc
//! comments as the user documentation), in the crate that reads it, implementing
//! [`SourceComponent`]: one line for the plan, the fields it offers, and `open` into the
//! per-worker sources the dataflow reads. Registering it is one line in the [`sources!`] call
//! below, giving the name used in an intent's `source:` and the config type. From that list
//! come [`SourceConfig`] (the intent's schema), [`SourceConfig::NAMES`] and
//! [`SourceConfig::doc`] (the docs' table).

use ai4ict_connectors::{
    FileSourceConfig, HttpSourceConfig, KafkaSourceConfig, MqttSourceConfig, NatsSourceConfig,
    PrometheusSourceConfig,
};
use ai4ict_core::SourceComponent;
use ai4ict_intrusion::FlowSourceConfig;
use ai4ict_sandbox::ScenarioConfig;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

macro_rules! sources {
    ($( $(#[doc = $doc:literal])+ $kind:ident = $name:literal => $cfg:ty, )+) => {
        /// The SRC node: one source of observations.
        #[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub enum SourceConfig {
            $( $(#[doc = $doc])+ #[serde(rename = $name)] $kind($cfg), )+
        }

        impl SourceConfig {
            /// Every registered source's name, in registry order.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The source's name in intents (`file`).
            pub fn name(&self) -> &'static str {
                match self { $(Self::$kind(_) => $name),+ }
            }

            /// The documentation of the source registered under `name` (its doc comment in
            /// the registry).
            pub fn doc(name: &str) -> Option<&'static str> {
                match name {
                    $($name => Some(concat!($($doc, "\n"),+)),)+
                    _ => None,
                }
            }

            /// The source's config as a component: described, asked for its fields, opened.
            pub fn component(&self) -> &dyn SourceComponent {
                match self { $(Self::$kind(c) => c),+ }
            }
        }
    };
}

sources! {
    /// The simulated network of the sandbox (Y.3181), with ground truth.
    Sandbox = "sandbox" => ScenarioConfig,
    /// A CSV or JSON-lines file of (entity, time, fields…) rows.
    File = "file" => FileSourceConfig,
    /// An MQTT topic whose messages are rows (a JSON object or a CSV line each). Live: no
    /// ground truth, so Evaluate runs in the sandbox when the fields are sandbox KPIs.
    Mqtt = "mqtt" => MqttSourceConfig,
    /// A NATS JetStream stream read by a durable pull consumer, acknowledged after the rows
    /// are in the pipeline (at least once). Live, like `mqtt`.
    Nats = "nats" => NatsSourceConfig,
    /// A Kafka topic read as a member of a consumer group (or with `partitions`, each worker
    /// its share of them), offsets committed by hand after the rows are in the pipeline or a
    /// checkpoint covers them (at least once; needs the `kafka` build feature). Live, like
    /// `mqtt`.
    Kafka = "kafka" => KafkaSourceConfig,
    /// Rows POSTed over HTTP (JSON lines or CSV lines per request body) with a bearer token;
    /// a full buffer answers 503 so that senders retry. Live, like `mqtt`.
    Http = "http" => HttpSourceConfig,
    /// Prometheus remote write (1.0, snappy-compressed protobuf) with a bearer token: a label
    /// names the entity, metric names are the fields. Live, like `mqtt`.
    Prometheus = "prometheus" => PrometheusSourceConfig,
    /// Flow records (the sandbox's labelled flows, a flow table, or NetFlow / IPFIX
    /// exporters) for a flow classifier (`model: {classify: …}`).
    Flows = "flows" => FlowSourceConfig,
}

impl SourceConfig {
    /// True for a source that runs until it is stopped (MQTT, NATS, Kafka, HTTP, Prometheus).
    pub fn is_live(&self) -> bool {
        self.component().is_live()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_source_has_a_doc_and_parses_by_its_name() {
        for name in SourceConfig::NAMES {
            assert!(
                SourceConfig::doc(name).is_some_and(|d| !d.trim().is_empty()),
                "{name}"
            );
        }
        let file: SourceConfig = serde_json::from_str(r#"{"file": {"path": "a.csv"}}"#).unwrap();
        assert_eq!((file.name(), file.is_live()), ("file", false));
        assert_eq!(file.component().describe(), "file a.csv");
        let err = serde_json::from_str::<SourceConfig>(r#"{"amqp": {}}"#).unwrap_err();
        assert!(err.to_string().contains("unknown variant `amqp`"), "{err}");
        let kafka: SourceConfig = serde_json::from_str(
            r#"{"kafka": {"brokers": ["localhost:9092"], "topic": "telemetry"}}"#,
        )
        .unwrap();
        assert!(kafka.is_live() && kafka.component().resumable());
        assert_eq!(
            kafka.component().describe(),
            "kafka localhost:9092 topic telemetry (consumer group ai4ict)"
        );
    }
}
