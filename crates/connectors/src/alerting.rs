//! Alert sinks where operators look (Y.3172 §8.1 SINK): Prometheus Alertmanager's v2 API and
//! a generic JSON webhook, over HTTP with a timeout and retries with backoff.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ai4ict_core::{Alert, Interval, Timestamp};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::live::{host_port, interval_duration};
use crate::{AlertSink, ClientTls, ConnectorError, SinkComponent, SinkFile};

/// An alert as the webhook, MQTT and NATS sinks publish it: the intent's name, the alert's
/// entity, field, severity and score, its times in RFC 3339, its idempotent `key`
/// ([`Alert::key`]: the same when a run resumed from a checkpoint raises it again), and why
/// it fired: `why` (the [`Explanation`](ai4ict_core::Explanation), or null) and
/// `description` (the same in words).
pub(crate) fn alert_json(a: &Alert, intent: &str) -> Value {
    json!({
        "key": a.key(intent),
        "intent": intent,
        "entity": a.entity.name(),
        "field": a.field,
        "severity": a.severity.to_string(),
        "score": a.score,
        "time": a.time.to_string(),
        "onset": a.onset.to_string(),
        "why": a.why,
        "description": a.description(),
    })
}

fn default_timeout() -> Interval {
    Interval::from_millis(5_000)
}

fn default_retries() -> u32 {
    3
}

fn default_resolve() -> Interval {
    Interval::from_minutes(60)
}

/// Sends alerts to a Prometheus Alertmanager (`POST /api/v2/alerts`), which groups, routes,
/// silences and notifies them as it does Prometheus' own.
///
/// Each alert has the labels `alertname` (`ai4ict_anomaly`), `entity`, `field`, `severity`
/// and `intent` (plus `labels`), the annotations `score`, `onset`, `time`, `key` (see
/// [`Alert::key`]; Alertmanager itself merges alerts with the same labels), `description`
/// (why it fired, in words, when the detector says) and `report` (when `report_url` is
/// given), `startsAt` its onset and `endsAt` `resolve_after` from delivery:
/// an anomaly raised again before then keeps the alert firing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerSinkConfig {
    /// Alertmanager's address, `http://host:port` or `https://host:port` (the API path is
    /// added).
    pub url: String,
    /// TLS settings for an `https://` address: the authorities that sign the server's
    /// certificate (Mozilla's by default) and a client certificate for servers that ask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTls>,
    /// A link to the run's report, sent as the `report` annotation and `generatorURL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_url: Option<String>,
    /// Extra labels for every alert (e.g. `team: ran`); the built-in ones win on a clash.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// How long an alert stays firing after it was last sent (default `1h`).
    #[serde(default = "default_resolve")]
    #[schemars(with = "String")]
    pub resolve_after: Interval,
    /// Time allowed for one request (default `5s`).
    #[serde(default = "default_timeout")]
    #[schemars(with = "String")]
    pub timeout: Interval,
    /// Retries after a failed request (default 3), waiting 0.2 s, 0.4 s, 0.8 s…
    #[serde(default = "default_retries")]
    pub retries: u32,
}

/// Posts alerts as JSON to any HTTP endpoint (a chat bridge, a ticketing system, an
/// automation hook): `{"intent": …, "alerts": [{"entity", "field", "severity", "score",
/// "time", "onset", "intent", "key"}, …]}`, one request per round of alerts, with an
/// `Idempotency-Key` header naming the round ([`Alert::batch_key`]): the same on every retry
/// and when a run resumed from a checkpoint sends the same alerts again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookSinkConfig {
    /// The endpoint, `http://host:port/path` or `https://host:port/path`.
    pub url: String,
    /// TLS settings for an `https://` address: the authorities that sign the server's
    /// certificate (Mozilla's by default) and a client certificate for servers that ask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTls>,
    /// An environment variable holding a bearer token (sent as `Authorization: Bearer …`,
    /// never printed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// A file holding the bearer token (its first line), instead of `token_env`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub token_file: Option<PathBuf>,
    /// Time allowed for one request (default `5s`).
    #[serde(default = "default_timeout")]
    #[schemars(with = "String")]
    pub timeout: Interval,
    /// Retries after a failed request (default 3), waiting 0.2 s, 0.4 s, 0.8 s…
    #[serde(default = "default_retries")]
    pub retries: u32,
}

/// A bearer token; its `Debug` does not show it.
struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

/// The bearer token named by `token_env` or `token_file` (its first line), `None` when
/// neither is given; an error saying which is wrong otherwise.
pub(crate) fn read_token(
    token_env: Option<&str>,
    token_file: Option<&std::path::Path>,
) -> Result<Option<String>, String> {
    crate::auth::read_secret("token", token_env, token_file)
}

impl WebhookSinkConfig {
    fn token(&self, sink: &str) -> Result<Option<Token>, ConnectorError> {
        read_token(self.token_env.as_deref(), self.token_file.as_deref())
            .map(|t| t.map(Token))
            .map_err(|message| ConnectorError::Delivery {
                sink: sink.to_string(),
                message,
            })
    }
}

impl SinkComponent for AlertmanagerSinkConfig {
    fn describe(&self) -> String {
        self.url.clone()
    }

    fn check(&self) -> Result<(), ConnectorError> {
        check_http(&self.url, "alertmanager", self.tls.as_ref()).map(|_| ())
    }

    fn build(&self, intent: &str) -> Result<Box<dyn AlertSink>, ConnectorError> {
        Ok(Box::new(AlertmanagerSink::new(self, intent)?))
    }
}

impl SinkComponent for WebhookSinkConfig {
    fn describe(&self) -> String {
        let auth = if self.token_env.is_some() || self.token_file.is_some() {
            ", bearer token"
        } else {
            ""
        };
        format!("POST {}{auth}", self.url)
    }

    /// Fails when the address is not `http(s)://host[:port]`, or the token or TLS files
    /// cannot be read.
    fn check(&self) -> Result<(), ConnectorError> {
        check_http(&self.url, "webhook", self.tls.as_ref())?;
        self.token(&format!("webhook {}", self.url)).map(|_| ())
    }

    fn build(&self, intent: &str) -> Result<Box<dyn AlertSink>, ConnectorError> {
        Ok(Box::new(WebhookSink::new(self, intent)?))
    }

    fn files(&self) -> Vec<SinkFile<'_>> {
        let mut files: Vec<SinkFile<'_>> = self
            .token_file
            .iter()
            .map(|path| SinkFile {
                key: "token_file",
                path,
                secret: true,
            })
            .collect();
        files.extend(crate::auth::secret_files(None, self.tls.as_ref()));
        files
    }

    fn secret_vars(&self) -> Vec<(&'static str, &str)> {
        self.token_env
            .iter()
            .map(|v| ("token_env", v.as_str()))
            .collect()
    }
}

/// Checks an HTTP sink's address and TLS settings, and returns its TLS configuration: `None`
/// for `http://`, ureq's for `https://` (its files read now).
fn check_http(
    url: &str,
    sink: &str,
    tls: Option<&ClientTls>,
) -> Result<Option<ureq::tls::TlsConfig>, ConnectorError> {
    let fail = |message: String| ConnectorError::Delivery {
        sink: format!("{sink} {url}"),
        message,
    };
    let (scheme, rest) = url
        .split_once("://")
        .filter(|(scheme, _)| ["http", "https"].contains(scheme))
        .ok_or_else(|| fail("the address must start with http:// or https://".into()))?;
    let host = rest.split('/').next().unwrap_or("");
    let port = if scheme == "https" { 443 } else { 80 };
    host_port(&format!("{scheme}://{host}"), &[scheme], port).map_err(fail)?;
    let problems = tls.map_or_else(Vec::new, |t| t.problems(false));
    if let Some(p) = problems.into_iter().next() {
        return Err(fail(p.message));
    }
    match (scheme, tls) {
        ("http", Some(_)) => Err(fail("`tls` needs an https:// address".into())),
        ("http", None) => Ok(None),
        _ => tls
            .cloned()
            .unwrap_or_default()
            .ureq()
            .map(Some)
            .map_err(fail),
    }
}

/// Posts JSON with a timeout, retrying failed requests and 5xx/429 answers with backoff.
struct Poster {
    name: String,
    url: String,
    agent: ureq::Agent,
    retries: u32,
    token: Option<Token>,
}

impl Poster {
    fn new(
        name: String,
        url: String,
        (timeout, retries): (Interval, u32),
        tls: Option<ureq::tls::TlsConfig>,
    ) -> Self {
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(interval_duration(timeout)))
            .http_status_as_error(false);
        if let Some(tls) = tls {
            config = config.tls_config(tls);
        }
        let agent = config.build().into();
        Self {
            name,
            url,
            agent,
            retries,
            token: None,
        }
    }

    /// Posts `body`, with an `Idempotency-Key` header when `key` is given (the same on every
    /// retry, so a receiver can drop a request it already took whose answer was lost).
    fn post(&self, body: &Value, key: Option<&str>) -> Result<(), ConnectorError> {
        let body = body.to_string();
        let mut last = String::new();
        for attempt in 0..=self.retries {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(200 << (attempt - 1).min(6)));
            }
            let mut req = self
                .agent
                .post(&self.url)
                .header("Content-Type", "application/json");
            if let Some(Token(t)) = &self.token {
                req = req.header("Authorization", &format!("Bearer {t}"));
            }
            if let Some(k) = key {
                // A structured-field string, as the IETF's Idempotency-Key draft defines it.
                req = req.header("Idempotency-Key", &format!("\"{k}\""));
            }
            match req.send(body.as_str()) {
                Ok(resp) if resp.status().is_success() => return Ok(()),
                Ok(mut resp) => {
                    let status = resp.status();
                    let text = resp
                        .body_mut()
                        .with_config()
                        .limit(1024)
                        .read_to_string()
                        .unwrap_or_default();
                    last = format!("HTTP {status}: {}", text.trim());
                    // A client error will not go away by sending the same request again.
                    if status.is_client_error() && status.as_u16() != 429 {
                        break;
                    }
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(ConnectorError::Delivery {
            sink: self.name.clone(),
            message: last,
        })
    }
}

/// See [`AlertmanagerSinkConfig`].
pub struct AlertmanagerSink {
    poster: Poster,
    intent: String,
    cfg: AlertmanagerSinkConfig,
}

impl std::fmt::Debug for AlertmanagerSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertmanagerSink")
            .field("url", &self.poster.url)
            .finish_non_exhaustive()
    }
}

impl AlertmanagerSink {
    /// A sink posting to `cfg.url`; alerts are labelled with `intent`.
    pub fn new(cfg: &AlertmanagerSinkConfig, intent: &str) -> Result<Self, ConnectorError> {
        let tls = check_http(&cfg.url, "alertmanager", cfg.tls.as_ref())?;
        let url = format!("{}/api/v2/alerts", cfg.url.trim_end_matches('/'));
        Ok(Self {
            poster: Poster::new(
                format!("alertmanager {}", cfg.url),
                url,
                (cfg.timeout, cfg.retries),
                tls,
            ),
            intent: intent.to_string(),
            cfg: cfg.clone(),
        })
    }

    fn body(&self, alerts: &[Alert], now: Timestamp) -> Value {
        let list: Vec<Value> = alerts
            .iter()
            .map(|a| {
                let mut labels = self.cfg.labels.clone();
                for (k, v) in [
                    ("alertname", "ai4ict_anomaly".to_string()),
                    ("entity", a.entity.name().to_string()),
                    ("field", a.field.clone()),
                    ("severity", a.severity.to_string()),
                    ("intent", self.intent.clone()),
                ] {
                    labels.insert(k.to_string(), v);
                }
                let mut annotations = BTreeMap::from([
                    ("score".to_string(), format!("{:.3}", a.score)),
                    ("onset".to_string(), a.onset.to_string()),
                    ("time".to_string(), a.time.to_string()),
                    ("key".to_string(), a.key(&self.intent)),
                ]);
                if let Some(r) = &self.cfg.report_url {
                    annotations.insert("report".into(), r.clone());
                }
                if a.why.is_some() {
                    annotations.insert("description".into(), a.description());
                }
                let ends = Timestamp(now.0.max(a.onset.0) + self.cfg.resolve_after.millis());
                let mut alert = json!({
                    "labels": labels,
                    "annotations": annotations,
                    "startsAt": a.onset.to_string(),
                    "endsAt": ends.to_string(),
                });
                if let Some(r) = &self.cfg.report_url {
                    alert["generatorURL"] = json!(r);
                }
                alert
            })
            .collect();
        Value::Array(list)
    }
}

fn now() -> Timestamp {
    Timestamp(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
    )
}

impl AlertSink for AlertmanagerSink {
    fn write(&mut self, alerts: &[Alert]) -> Result<(), ConnectorError> {
        if alerts.is_empty() {
            return Ok(());
        }
        self.poster.post(&self.body(alerts, now()), None)
    }

    fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}

/// See [`WebhookSinkConfig`].
pub struct WebhookSink {
    poster: Poster,
    intent: String,
}

impl std::fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSink")
            .field("url", &self.poster.url)
            .finish_non_exhaustive()
    }
}

impl WebhookSink {
    /// A sink posting to `cfg.url`, reading its token now.
    pub fn new(cfg: &WebhookSinkConfig, intent: &str) -> Result<Self, ConnectorError> {
        let tls = check_http(&cfg.url, "webhook", cfg.tls.as_ref())?;
        let name = format!("webhook {}", cfg.url);
        let token = cfg.token(&name)?;
        let mut poster = Poster::new(name, cfg.url.clone(), (cfg.timeout, cfg.retries), tls);
        poster.token = token;
        Ok(Self {
            poster,
            intent: intent.to_string(),
        })
    }
}

impl AlertSink for WebhookSink {
    fn write(&mut self, alerts: &[Alert]) -> Result<(), ConnectorError> {
        if alerts.is_empty() {
            return Ok(());
        }
        let list: Vec<Value> = alerts.iter().map(|a| alert_json(a, &self.intent)).collect();
        let key = Alert::batch_key(alerts, &self.intent);
        self.poster
            .post(&json!({"intent": self.intent, "alerts": list}), Some(&key))
    }

    fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ai4ict_core::{Entity, Severity};

    #[test]
    fn alertmanager_body_has_labels_annotations_and_times() {
        let cfg: AlertmanagerSinkConfig = serde_json::from_str(
            r#"{"url":"http://127.0.0.1:9093","report_url":"http://r/report.html","labels":{"team":"ran","entity":"x"}}"#,
        )
        .unwrap();
        let sink = AlertmanagerSink::new(&cfg, "cells").unwrap();
        let a = Alert {
            entity: Entity::new("cell-1"),
            time: Timestamp(3_600_000),
            onset: Timestamp(1_800_000),
            score: 0.987_65,
            severity: Severity::Major,
            field: "prb_util".into(),
            why: None,
        };
        let b = sink.body(&[a], Timestamp(7_200_000));
        let x = &b[0];
        assert_eq!(x["labels"]["entity"], "cell-1");
        assert_eq!(x["labels"]["team"], "ran");
        assert_eq!(x["labels"]["severity"], "major");
        assert_eq!(x["labels"]["intent"], "cells");
        assert_eq!(x["annotations"]["score"], "0.988");
        assert_eq!(x["annotations"]["key"].as_str().map(str::len), Some(16));
        assert_eq!(x["startsAt"], "1970-01-01T00:30:00Z");
        assert_eq!(x["endsAt"], "1970-01-01T03:00:00Z");
        assert_eq!(x["generatorURL"], "http://r/report.html");
    }

    #[test]
    fn addresses_and_tokens_are_checked() {
        let mut cfg: WebhookSinkConfig = serde_json::from_str(r#"{"url":"ftp://x/hook"}"#).unwrap();
        let e = cfg.check().unwrap_err().to_string();
        assert!(e.contains("http:// or https://"), "{e}");
        cfg.url = "https://x/hook".into();
        cfg.check().unwrap();
        cfg.tls = Some(ClientTls {
            ca_file: Some("/surely/missing/ca.pem".into()),
            ..ClientTls::default()
        });
        let e = cfg.check().unwrap_err().to_string();
        assert!(e.contains("tls.ca_file: /surely/missing/ca.pem"), "{e}");
        cfg.url = "http://127.0.0.1:1/hook".into();
        let e = cfg.check().unwrap_err().to_string();
        assert!(e.contains("`tls` needs an https:// address"), "{e}");
        cfg.tls = None;
        cfg.check().unwrap();
        cfg.token_env = Some("AI4ICT_TEST_SURELY_UNSET_TOKEN".into());
        let e = cfg.check().unwrap_err().to_string();
        assert!(e.contains("AI4ICT_TEST_SURELY_UNSET_TOKEN"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "s3cret\n").unwrap();
        cfg.token_env = None;
        cfg.token_file = Some(file);
        let t = cfg.token("w").unwrap().unwrap();
        assert_eq!(t.0, "s3cret");
        assert!(!format!("{t:?}").contains("s3cret"));
    }

    #[test]
    fn a_dead_endpoint_is_an_error_after_the_retries() {
        // Port 1 on loopback refuses at once.
        let cfg: WebhookSinkConfig =
            serde_json::from_str(r#"{"url":"http://127.0.0.1:1/hook","retries":1,"timeout":"1s"}"#)
                .unwrap();
        let mut sink = WebhookSink::new(&cfg, "i").unwrap();
        let a = Alert {
            entity: Entity::new("c"),
            time: Timestamp(0),
            onset: Timestamp(0),
            score: 1.0,
            severity: Severity::Critical,
            field: "f".into(),
            why: None,
        };
        let e = sink.write(&[a]).unwrap_err().to_string();
        assert!(e.starts_with("webhook http://127.0.0.1:1/hook:"), "{e}");
    }
}
