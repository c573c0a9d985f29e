#![doc = include_str!("../README.md")]

mod alerting;
mod auth;
mod config;
mod csvline;
mod error;
mod http;
#[cfg(feature = "kafka")]
mod kafka;
#[cfg(not(feature = "kafka"))]
#[path = "kafka_off.rs"]
mod kafka;
mod kafka_config;
mod labels;
mod lines;
mod live;
mod mqtt;
#[cfg(feature = "nats")]
mod nats;
#[cfg(not(feature = "nats"))]
#[path = "nats_off.rs"]
mod nats;
mod prometheus;
mod reorder;
mod schema;
mod sink;
mod sinks;
mod source;
mod tls;

pub use alerting::{AlertmanagerSink, AlertmanagerSinkConfig, WebhookSink, WebhookSinkConfig};
pub use auth::{remote_file_problem, remote_var_problem, BrokerAuth, REMOTE_VAR_PREFIX};
pub use config::{FileFormat, FileSourceConfig, OnError, WriteMode};
pub use error::{ConnectorError, RowError};
pub use http::HttpSourceConfig;
pub use kafka::KafkaSink;
pub use kafka_config::{KafkaSinkConfig, KafkaSourceConfig, KafkaStart};
pub use labels::{read_labels, LabelError, MAX_LABELS_BYTES};
pub use lines::MAX_LINE_BYTES;
pub use live::{
    host_port, EventTime, LiveLimits, LiveSource, MessageFormat, MqttSourceConfig, NatsSinkConfig,
    NatsSourceConfig, RowMapping, DEFAULT_BUFFER,
};
pub use mqtt::{MqttSink, MqttSinkConfig};
pub use nats::NatsSink;
pub use prometheus::PrometheusSourceConfig;
pub use reorder::DEFAULT_MAX_HELD;
pub use schema::{infer_schema, FileSchema, SAMPLE_ROWS};
pub use sink::{
    AlertSink, CsvSink, FileSinkConfig, ForecastRow, ForecastSinkConfig, ForecastWriter, JsonlSink,
    PipeStdout, ScoreWriter, StdoutSinkConfig, TableSink, FORECAST_COLUMNS,
};
pub use sinks::{SinkComponent, SinkConfig, SinkFile, Takes};
pub use source::{
    in_time_order, read_bytes, FileSource, OrderCounts, ReadReport, MAX_KEPT_ERRORS,
    MAX_SORTED_ROWS,
};
pub use tls::{ClientTls, ServerTls};
