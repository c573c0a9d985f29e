//! Kafka in a build without the `kafka` feature: intents that name it parse and validate, and
//! fail when the source or sink is built, saying how to get a build with Kafka. The client
//! (librdkafka, compiled from C) adds about 95 s to a clean release build on two cores, so
//! the default build leaves it out.

use ai4ict_core::Alert;

use crate::kafka_config::KafkaShare;
use crate::live::Transport;
use crate::{AlertSink, ConnectorError, KafkaSinkConfig, KafkaSourceConfig};

/// Why Kafka is not there.
const MISSING: &str = "this build has no Kafka support: build ai4ict with `--features kafka`";

/// Always fails: see the module documentation.
pub(crate) fn consume(
    _: &KafkaSourceConfig,
    name: &str,
    _: KafkaShare,
) -> Result<Transport, ConnectorError> {
    Err(ConnectorError::Live {
        source_name: name.to_string(),
        message: MISSING.into(),
    })
}

/// Never made: see the module documentation.
#[derive(Debug)]
pub enum KafkaSink {}

impl KafkaSink {
    /// Always fails: see the module documentation.
    pub fn connect(cfg: &KafkaSinkConfig, _intent: &str) -> Result<Self, ConnectorError> {
        Err(ConnectorError::Delivery {
            sink: format!("kafka sink {} topic {}", cfg.brokers.join(","), cfg.topic),
            message: MISSING.into(),
        })
    }
}

impl AlertSink for KafkaSink {
    fn write(&mut self, _: &[Alert]) -> Result<(), ConnectorError> {
        match *self {}
    }

    fn finish(&mut self) -> Result<(), ConnectorError> {
        match *self {}
    }
}
