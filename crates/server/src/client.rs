//! A client for another hub's marketplace API (blocking; plain HTTP), used by
//! `ai4ict hub models pull --from URL` and `push --to URL`. Every pulled artifact is checked
//! against the sha256 the server announces and the one in its metadata; a pushed artifact is
//! checked by the receiving hub.

use std::time::Duration;

use ai4ict_hub::models::sha256_hex;
use ai4ict_hub::{ModelMetadata, ModelQuery, ModelRecord, ModelSelection};
use base64::Engine as _;

use crate::api::PushBody;
use crate::error::{Result, ServerError};

/// A connection to one hub.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Client {
    /// A client for the hub at `base_url` (`http://host:port`).
    pub fn new(base_url: &str) -> Result<Client> {
        let base = base_url.trim().trim_end_matches('/').to_string();
        if !base.starts_with("http://") {
            return Err(ServerError::Http {
                url: base,
                message: "only http:// URLs are supported; put a TLS proxy in front for https"
                    .into(),
            });
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(600)))
            .build()
            .into();
        Ok(Client { base, agent })
    }

    fn check(
        &self,
        url: &str,
        resp: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<ureq::http::Response<ureq::Body>> {
        let mut resp = resp.map_err(|e| ServerError::Http {
            url: url.into(),
            message: e.to_string(),
        })?;
        let status = resp.status().as_u16();
        if status >= 400 {
            let text = resp
                .body_mut()
                .with_config()
                .limit(1 << 20)
                .read_to_string()
                .unwrap_or_default();
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(String::from))
                .unwrap_or(text);
            return Err(ServerError::Status {
                url: url.into(),
                status,
                message,
            });
        }
        Ok(resp)
    }

    fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T> {
        let mut resp = self.check(url, self.agent.get(url).call())?;
        let bytes = read(url, &mut resp, 64 << 20)?;
        serde_json::from_slice(&bytes).map_err(|e| ServerError::Http {
            url: url.into(),
            message: format!("unreadable answer: {e}"),
        })
    }

    fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        url: &str,
        body: &impl serde::Serialize,
    ) -> Result<T> {
        let bytes = serde_json::to_vec(body).map_err(|e| ServerError::Http {
            url: url.into(),
            message: e.to_string(),
        })?;
        let req = match method {
            "PUT" => self.agent.put(url),
            _ => self.agent.post(url),
        };
        let resp = req
            .header("content-type", "application/json")
            .send(&bytes[..]);
        let mut resp = self.check(url, resp)?;
        let bytes = read(url, &mut resp, 64 << 20)?;
        serde_json::from_slice(&bytes).map_err(|e| ServerError::Http {
            url: url.into(),
            message: format!("unreadable answer: {e}"),
        })
    }

    /// Model_Query / Model_Discovery_Poll.
    pub fn query(&self, q: &ModelQuery) -> Result<Vec<ModelRecord>> {
        let mut params = Vec::new();
        for (k, v) in [
            ("q", q.text.clone()),
            ("name", q.name.clone()),
            ("domain", q.domain.map(|d| d.as_str().to_string())),
            ("standard", q.standard.clone()),
            ("since", q.since.clone()),
        ] {
            if let Some(v) = v {
                params.push(format!("{k}={}", enc(&v)));
            }
        }
        let url = format!("{}/models?{}", self.base, params.join("&"));
        self.get_json(&url)
    }

    /// Model_Selection by name and version (or alias, or `latest`).
    pub fn model(&self, name: &str, version: &str) -> Result<ModelRecord> {
        self.get_json(&format!(
            "{}/models/{}/{}",
            self.base,
            enc(name),
            enc(version)
        ))
    }

    /// Model_Selection by criteria.
    pub fn select(&self, sel: &ModelSelection) -> Result<ModelRecord> {
        self.send_json("POST", &format!("{}/models/select", self.base), sel)
    }

    /// Model_Pull: metadata and artifact, sha256 verified.
    pub fn pull(&self, name: &str, version: &str) -> Result<(ModelRecord, Vec<u8>)> {
        let rec = self.model(name, version)?;
        let url = format!(
            "{}/models/{}/{}/artifact",
            self.base,
            enc(name),
            enc(&rec.metadata.version)
        );
        let mut resp = self.check(&url, self.agent.get(&url).call())?;
        let announced = resp
            .headers()
            .get(crate::SHA256_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| ServerError::Http {
                url: url.clone(),
                message: format!("no {} header", crate::SHA256_HEADER),
            })?;
        let bytes = read(&url, &mut resp, crate::MAX_BODY_BYTES as u64)?;
        let actual = sha256_hex(&bytes);
        for expected in [&announced, &rec.metadata.sha256] {
            if !expected.eq_ignore_ascii_case(&actual) {
                return Err(ServerError::Integrity {
                    what: format!("{name}@{} from {}", rec.metadata.version, self.base),
                    expected: expected.clone(),
                    actual,
                });
            }
        }
        Ok((rec, bytes))
    }

    /// Model_Push: publishes metadata and artifact on the remote hub, which checks the sha256.
    pub fn push(&self, meta: &ModelMetadata, artifact: &[u8]) -> Result<ModelRecord> {
        let mut metadata = meta.clone();
        metadata.sha256 = sha256_hex(artifact);
        let body = PushBody {
            metadata,
            artifact_base64: base64::engine::general_purpose::STANDARD.encode(artifact),
        };
        self.send_json("POST", &format!("{}/models", self.base), &body)
    }

    /// Points an alias of a model on the remote hub at a version.
    pub fn set_alias(&self, name: &str, alias: &str, version: &str) -> Result<ModelRecord> {
        self.send_json(
            "PUT",
            &format!("{}/models/{}/aliases/{}", self.base, enc(name), enc(alias)),
            &crate::api::AliasBody {
                version: version.into(),
            },
        )
    }

    /// `GET /health`: the remote hub's status.
    pub fn health(&self) -> Result<serde_json::Value> {
        self.get_json(&format!("{}/health", self.base))
    }
}

fn read(url: &str, resp: &mut ureq::http::Response<ureq::Body>, limit: u64) -> Result<Vec<u8>> {
    resp.body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|e| ServerError::Http {
            url: url.into(),
            message: e.to_string(),
        })
}
