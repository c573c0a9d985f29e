//! The registry of alert sinks (Y.3172 §8.1 SINK): one line per sink, in one place.
//!
//! A sink is its config struct (serde with `deny_unknown_fields`, a JSON schema, doc comments
//! as the user documentation) in its own file, implementing [`SinkComponent`]: the check a run
//! makes before any work, one line for the plan, and `build` into its runtime, an
//! [`AlertSink`]. Registering it is one line in the [`sinks!`] call below, giving the name used
//! in an intent's `distribute` list and the config type. From that list come [`SinkConfig`]
//! (the intent's schema), [`SinkConfig::NAMES`] and [`SinkConfig::doc`] (the docs' table).

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    AlertSink, AlertmanagerSinkConfig, ConnectorError, FileSinkConfig, ForecastSinkConfig,
    KafkaSinkConfig, MqttSinkConfig, NatsSinkConfig, StdoutSinkConfig, WebhookSinkConfig,
};

/// A sink's config as a component of the pipeline: checked, described and built.
pub trait SinkComponent {
    /// Where the alerts go, in one line for the plan (no secrets).
    fn describe(&self) -> String;

    /// The check a run makes before any work, so that it does not fail only when it comes to
    /// deliver (an existing file under `create`, a token that cannot be read).
    fn check(&self) -> Result<(), ConnectorError> {
        Ok(())
    }

    /// The running sink for the pipeline of the intent named `intent` (which sinks that
    /// label alerts put in every alert).
    fn build(&self, intent: &str) -> Result<Box<dyn AlertSink>, ConnectorError>;

    /// What the sink takes: alerts (the default), forecasts, or both.
    fn takes(&self) -> Takes {
        Takes::Alerts
    }

    /// The local files the sink touches, by the config key that names them: an intent
    /// submitted remotely may write only inside the working directory and read no secret.
    fn files(&self) -> Vec<SinkFile<'_>> {
        Vec::new()
    }

    /// The environment variables the sink reads secrets from, by the config key that names
    /// them: an intent submitted remotely may name only [`crate::REMOTE_VAR_PREFIX`] ones.
    fn secret_vars(&self) -> Vec<(&'static str, &str)> {
        Vec::new()
    }
}

/// The output a sink takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Takes {
    /// Alerts of an anomaly pipeline.
    Alerts,
    /// Forecasts with their intervals.
    Forecasts,
    /// Either (the terminal).
    Both,
}

impl Takes {
    /// Whether a pipeline whose output is forecasts (`true`) or alerts can write here.
    pub fn accepts(self, forecasts: bool) -> bool {
        match self {
            Self::Both => true,
            Self::Alerts => !forecasts,
            Self::Forecasts => forecasts,
        }
    }
}

/// A local file a sink touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SinkFile<'a> {
    /// The config key that names it (`path`, `token_file`).
    pub key: &'static str,
    /// The file.
    pub path: &'a Path,
    /// True for a file read for a secret (a token), false for an output.
    pub secret: bool,
}

macro_rules! sinks {
    ($( $(#[doc = $doc:literal])+ $kind:ident = $name:literal => $cfg:ty, )+) => {
        /// A destination for alerts, as written in an intent's `distribute` list:
        /// `{stdout: {}}` or `{file: {path: alerts.jsonl}}`.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub enum SinkConfig {
            $( $(#[doc = $doc])+ #[serde(rename = $name)] $kind($cfg), )+
        }

        impl SinkConfig {
            /// Every registered sink's name, in registry order.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The sink's name in intents (`file`).
            pub fn name(&self) -> &'static str {
                match self { $(Self::$kind(_) => $name),+ }
            }

            /// The documentation of the sink registered under `name` (its doc comment in the
            /// registry).
            pub fn doc(name: &str) -> Option<&'static str> {
                match name {
                    $($name => Some(concat!($($doc, "\n"),+)),)+
                    _ => None,
                }
            }

            /// The sink's config as a component.
            pub fn component(&self) -> &dyn SinkComponent {
                match self { $(Self::$kind(c) => c),+ }
            }
        }
    };
}

sinks! {
    /// An aligned table on standard output: time, entity, severity, score, field, onset.
    Stdout = "stdout" => StdoutSinkConfig,
    /// A file. JSON lines hold each alert as `ai4ict_core::Alert` serialises it (times in
    /// milliseconds since the epoch, so the file reads back as alerts); CSV has the columns
    /// `time,entity,severity,score,field,onset` with RFC 3339 times.
    File = "file" => FileSinkConfig,
    /// Forecasts with their prediction intervals, for an intent with a forecast model: one
    /// row per entity, field and step ahead, as CSV
    /// (`entity,field,time,step,forecast,lower,upper,level`, RFC 3339 times) or JSON lines
    /// (the same keys, times in milliseconds since the epoch).
    Forecast = "forecast" => ForecastSinkConfig,
    /// Prometheus Alertmanager's v2 API: labels `alertname`, `entity`, `field`, `severity`,
    /// `intent`; annotations `score`, `onset`, `report`.
    Alertmanager = "alertmanager" => AlertmanagerSinkConfig,
    /// A JSON POST to any HTTP endpoint, with an optional bearer token.
    Webhook = "webhook" => WebhookSinkConfig,
    /// Each alert as a JSON message on an MQTT topic.
    Mqtt = "mqtt" => MqttSinkConfig,
    /// Each alert as a JSON message on a NATS subject (needs the `nats` build feature).
    Nats = "nats" => NatsSinkConfig,
    /// Each alert as a JSON record on a Kafka topic, keyed by the alert's key (needs the
    /// `kafka` build feature).
    Kafka = "kafka" => KafkaSinkConfig,
}

impl SinkConfig {
    /// Makes the sink (opening the file of a file sink in its `mode`: an existing file is
    /// refused under `create`). The stdout sink stops printing quietly when the pipe closes.
    pub fn build(&self) -> Result<Box<dyn AlertSink>, ConnectorError> {
        self.build_for("ai4ict")
    }

    /// [`SinkConfig::build`] for the pipeline of the intent named `intent`, which the
    /// Alertmanager, webhook, MQTT, NATS and Kafka sinks put in every alert. Those connect
    /// here: an unreachable MQTT, NATS or Kafka server is an error now, an HTTP endpoint at
    /// the first alert.
    pub fn build_for(&self, intent: &str) -> Result<Box<dyn AlertSink>, ConnectorError> {
        self.component().build(intent)
    }

    /// Fails when this is a file sink in `create` mode whose file exists, or a webhook whose
    /// token cannot be read: the check a run makes before any work, so it does not fail only
    /// when it comes to deliver.
    pub fn check(&self) -> Result<(), ConnectorError> {
        self.component().check()
    }

    /// What the sink takes.
    pub fn takes(&self) -> Takes {
        self.component().takes()
    }

    /// The local files the sink touches.
    pub fn files(&self) -> Vec<SinkFile<'_>> {
        self.component().files()
    }

    /// The environment variables the sink reads secrets from.
    pub fn secret_vars(&self) -> Vec<(&'static str, &str)> {
        self.component().secret_vars()
    }

    /// The sink in one line, for the plan: its name and where it delivers.
    pub fn describe(&self) -> String {
        format!("{}: {}", self.name(), self.component().describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_sink_has_a_doc_and_parses_by_its_name() {
        for name in SinkConfig::NAMES {
            assert!(
                SinkConfig::doc(name).is_some_and(|d| !d.trim().is_empty()),
                "{name}"
            );
        }
        let file: SinkConfig = serde_json::from_str(r#"{"file": {"path": "a.jsonl"}}"#).unwrap();
        assert_eq!(file.name(), "file");
        assert_eq!(file.describe(), "file: a.jsonl (jsonl, create)");
        let err = serde_json::from_str::<SinkConfig>(r#"{"amqp": {}}"#).unwrap_err();
        assert!(err.to_string().contains("unknown variant `amqp`"), "{err}");
    }
}
