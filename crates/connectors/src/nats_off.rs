//! NATS in a build without the `nats` feature: intents that name it parse and validate, and
//! fail when the source or sink is built, saying how to get a build with NATS. The client
//! (async-nats, with its TLS stack) adds about three minutes to a clean release build, so the
//! default build leaves it out.

use ai4ict_core::Alert;

use crate::live::{Share, Transport};
use crate::{AlertSink, ConnectorError, NatsSinkConfig, NatsSourceConfig};

/// Why NATS is not there.
const MISSING: &str = "this build has no NATS support: build ai4ict with `--features nats`";

/// Never made: there are no JetStream messages to acknowledge.
pub(crate) enum Ack {}

/// Always fails: see the module documentation.
pub(crate) fn consume(
    _: &NatsSourceConfig,
    name: &str,
    _share: Share,
    _after: Option<Vec<Option<u64>>>,
) -> Result<Transport, ConnectorError> {
    Err(ConnectorError::Live {
        source_name: name.to_string(),
        message: MISSING.into(),
    })
}

/// Never made: see the module documentation.
#[derive(Debug)]
pub enum NatsSink {}

impl NatsSink {
    /// Always fails: see the module documentation.
    pub fn connect(cfg: &NatsSinkConfig, _intent: &str) -> Result<Self, ConnectorError> {
        Err(ConnectorError::Delivery {
            sink: format!("nats sink {} {}", cfg.url, cfg.subject),
            message: MISSING.into(),
        })
    }
}

impl AlertSink for NatsSink {
    fn write(&mut self, _: &[Alert]) -> Result<(), ConnectorError> {
        match *self {}
    }

    fn finish(&mut self) -> Result<(), ConnectorError> {
        match *self {}
    }
}
