//! A client for another hub's marketplace API (blocking; plain HTTP), used by
//! `ai4ict hub models pull --from URL` and `push --to URL`. A pull checks that the remote
//! answered the name and version asked for, and the artifact against the sha256 the server
//! announces and the one in its metadata; a pushed artifact is checked by the receiving hub.
//! The write token ([`Client::with_token`]) is sent with writes only.

use std::time::Duration;

use ai4ict_hub::models::{hex, sha256_hex};
use ai4ict_hub::{ModelMetadata, ModelQuery, ModelRecord, ModelSelection};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::api::PushBody;
use crate::error::{Result, ServerError};
use crate::Token;

/// Largest artifact a pull reads (into memory): a hub's default artifact limit.
const MAX_ARTIFACT_BYTES: u64 = crate::DEFAULT_MAX_ARTIFACT_BYTES;

/// A connection to one hub.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
    token: Option<Token>,
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

/// The environment variable naming a PEM file of the authorities an `https://` server's
/// certificate is checked against, instead of Mozilla's.
pub const CA_FILE_VAR: &str = "AI4ICT_CA_FILE";

impl Client {
    /// A client for the hub at `base_url`, `http://host:port` or `https://host:port`. Over
    /// HTTPS the server's certificate is checked against Mozilla's authorities, or, when the
    /// environment variable [`CA_FILE_VAR`] names a PEM file, against the authorities in it
    /// (an organisation's own).
    pub fn new(base_url: &str) -> Result<Client> {
        let base = base_url.trim().trim_end_matches('/').to_string();
        let fail = |message: String| ServerError::Http {
            url: base.clone(),
            message,
        };
        if !base.starts_with("http://") && !base.starts_with("https://") {
            return Err(fail(
                "the address must start with http:// or https://".into(),
            ));
        }
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(600)));
        if let Some(path) = std::env::var_os(CA_FILE_VAR).filter(|_| base.starts_with("https")) {
            let shown = std::path::Path::new(&path).display().to_string();
            let pem = std::fs::read(&path)
                .map_err(|e| fail(format!("{CA_FILE_VAR}: cannot read {shown}: {e}")))?;
            let certs: Vec<_> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(fail(format!(
                    "{CA_FILE_VAR}: no PEM certificate in {shown}"
                )));
            }
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                    .build(),
            );
        }
        Ok(Client {
            base,
            agent: config.build().into(),
            token: None,
        })
    }

    /// The pipelines the server runs (`GET /pipelines`, served by `ai4ict serve`).
    pub fn pipelines(&self) -> Result<Vec<crate::PipelineStatus>> {
        self.get_json(&format!("{}/pipelines", self.base))
    }

    /// Up to `limit` records passing `node` of the pipeline `name`, sampled for at most
    /// `timeout` seconds (`GET /pipelines/{name}/tap/{node}`); empty when none passed.
    pub fn tap(
        &self,
        name: &str,
        node: &str,
        limit: usize,
        timeout: u64,
    ) -> Result<Vec<serde_json::Value>> {
        let url = format!(
            "{}/pipelines/{}/tap/{}?limit={limit}&timeout={timeout}",
            self.base,
            enc(name),
            enc(node)
        );
        let mut resp = self.check(&url, self.agent.get(&url).call())?;
        let bytes = read(&url, &mut resp, 64 << 20)?;
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).map_err(|e| ServerError::Http {
                    url: url.clone(),
                    message: format!("unreadable record: {e}"),
                })
            })
            .collect()
    }

    /// The same client, sending `token` with its writes (push, alias).
    pub fn with_token(mut self, token: Option<Token>) -> Client {
        self.token = token;
        self
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
        write: bool,
    ) -> Result<T> {
        let bytes = serde_json::to_vec(body).map_err(|e| ServerError::Http {
            url: url.into(),
            message: e.to_string(),
        })?;
        self.send_bytes(method, url, &bytes, write)
    }

    fn send_bytes<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        url: &str,
        bytes: &[u8],
        write: bool,
    ) -> Result<T> {
        let mut req = match method {
            "PUT" => self.agent.put(url),
            _ => self.agent.post(url),
        };
        if write {
            if let Some(t) = &self.token {
                req = req.header("authorization", &format!("Bearer {}", t.secret()));
            }
        }
        let resp = req.header("content-type", "application/json").send(bytes);
        let mut resp = self.check(url, resp)?;
        let bytes = read(url, &mut resp, 64 << 20)?;
        serde_json::from_slice(&bytes).map_err(|e| ServerError::Http {
            url: url.into(),
            message: format!("unreadable answer: {e}"),
        })
    }

    /// Model_Query / Model_Discovery_Poll: every matching version, fetched page by page.
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
        let page = crate::api::MAX_LIMIT;
        params.push(format!("limit={page}"));
        let mut out: Vec<ModelRecord> = Vec::new();
        loop {
            let url = format!(
                "{}/models?{}&offset={}",
                self.base,
                params.join("&"),
                out.len()
            );
            let got: Vec<ModelRecord> = self.get_json(&url)?;
            let last = got.len() < page;
            out.extend(got);
            if last {
                return Ok(out);
            }
        }
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
        self.send_json("POST", &format!("{}/models/select", self.base), sel, false)
    }

    /// Model_Pull: metadata and artifact. The remote must answer for `name` and for
    /// `version` (or the version that alias or `latest` points at, as it says), and the
    /// artifact must match the sha256 in its header and in the metadata.
    pub fn pull(&self, name: &str, version: &str) -> Result<(ModelRecord, Vec<u8>)> {
        let Artifact {
            rec,
            url,
            announced,
            mut resp,
        } = self.artifact(name, version)?;
        let bytes = read(&url, &mut resp, MAX_ARTIFACT_BYTES)?;
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

    /// Model_Pull, streamed: like [`Client::pull`], but `f` reads the artifact as it arrives
    /// instead of it being read into memory. The announced sha256 must be the metadata's, and
    /// the reader fails (`InvalidData`) instead of ending when the bytes do not match it, so
    /// that what `f` makes of them is dropped (a hub's [`ai4ict_hub::Hub::publish_model_from`]
    /// rolls back).
    pub fn pull_with<T>(
        &self,
        name: &str,
        version: &str,
        f: impl FnOnce(&ModelRecord, &mut dyn std::io::Read) -> Result<T>,
    ) -> Result<T> {
        let Artifact {
            rec,
            url,
            announced,
            resp,
        } = self.artifact(name, version)?;
        if !announced.eq_ignore_ascii_case(&rec.metadata.sha256) {
            return Err(ServerError::Mismatch {
                url,
                field: "sha256",
                asked: rec.metadata.sha256,
                got: announced,
            });
        }
        let mut reader = Verified {
            inner: resp.into_body().into_reader(),
            hasher: Some(Sha256::new()),
            expected: rec.metadata.sha256.clone(),
        };
        f(&rec, &mut reader)
    }

    /// Model_Pull up to the artifact's bytes: the record, checked to be what was asked for,
    /// and the answer for its artifact, checked to be for that version.
    fn artifact(&self, name: &str, version: &str) -> Result<Artifact> {
        let rec = self.model(name, version)?;
        let url = format!("{}/models/{}/{}", self.base, enc(name), enc(version));
        let mismatch = |field, asked: &str, got: &str| ServerError::Mismatch {
            url: url.clone(),
            field,
            asked: asked.into(),
            got: got.into(),
        };
        if rec.metadata.name != name {
            return Err(mismatch("name", name, &rec.metadata.name));
        }
        let resolved = rec.metadata.version == version
            || version == "latest"
            || rec.aliases.iter().any(|a| a == version);
        if !resolved {
            return Err(mismatch("version", version, &rec.metadata.version));
        }
        let url = format!(
            "{}/models/{}/{}/artifact",
            self.base,
            enc(name),
            enc(&rec.metadata.version)
        );
        let resp = self.check(&url, self.agent.get(&url).call())?;
        let announced = resp
            .headers()
            .get(crate::SHA256_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| ServerError::Http {
                url: url.clone(),
                message: format!("no {} header", crate::SHA256_HEADER),
            })?;
        let served = resp
            .headers()
            .get("x-ai4ict-version")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if served != rec.metadata.version {
            return Err(ServerError::Mismatch {
                url,
                field: "version",
                asked: rec.metadata.version,
                got: served,
            });
        }
        Ok(Artifact {
            rec,
            url,
            announced,
            resp,
        })
    }

    /// Model_Push: publishes metadata and artifact on the remote hub, which checks the sha256
    /// (computed here). Streamed, as [`Client::push_from`] does.
    pub fn push(&self, meta: &ModelMetadata, artifact: &[u8]) -> Result<ModelRecord> {
        let mut metadata = meta.clone();
        metadata.sha256 = sha256_hex(artifact);
        self.push_from(&metadata, artifact, artifact.len() as u64)
    }

    /// Model_Push in one JSON request (`POST /models`, the artifact base64-encoded): for
    /// small models, and hubs older than the streamed route. A push larger than the hub's
    /// body limit (`max_body_bytes` of `GET /health`) is refused unsent.
    pub fn push_json(&self, meta: &ModelMetadata, artifact: &[u8]) -> Result<ModelRecord> {
        let mut metadata = meta.clone();
        metadata.sha256 = sha256_hex(artifact);
        let body = PushBody {
            metadata,
            artifact_base64: base64::engine::general_purpose::STANDARD.encode(artifact),
        };
        let url = format!("{}/models", self.base);
        let bytes = serde_json::to_vec(&body).map_err(|e| ServerError::Http {
            url: url.clone(),
            message: e.to_string(),
        })?;
        drop(body);
        self.fits(&url, bytes.len() as u64, "max_body_bytes", "--max-body-mib")?;
        self.send_bytes("POST", &url, &bytes, true)
    }

    /// Fails, unsent, when `size` bytes pass the hub's `limit` (a field of `GET /health`): a
    /// hub refuses a body over its limit without reading it, which the sender sees as a
    /// broken connection.
    fn fits(&self, url: &str, size: u64, limit: &str, flag: &'static str) -> Result<()> {
        match self.health()?.get(limit).and_then(|v| v.as_u64()) {
            Some(limit) if size > limit => Err(ServerError::TooLarge {
                url: url.into(),
                size,
                limit,
                flag,
            }),
            _ => Ok(()),
        }
    }

    /// Model_Push of the `size` bytes read from `artifact`, streamed to the remote hub
    /// (`PUT /models/{name}/{version}/artifact`, metadata in header `x-ai4ict-metadata`) a
    /// piece at a time, so that neither side holds it whole. The hub checks the sha256 in
    /// `meta` when given. A push larger than the hub takes (`max_artifact_bytes` of
    /// `GET /health`) is refused unsent.
    pub fn push_from(
        &self,
        meta: &ModelMetadata,
        mut artifact: impl std::io::Read,
        size: u64,
    ) -> Result<ModelRecord> {
        let url = format!(
            "{}/models/{}/{}/artifact",
            self.base,
            enc(&meta.name),
            enc(&meta.version)
        );
        self.fits(&url, size, "max_artifact_bytes", "--max-artifact-mib")?;
        let metadata = serde_json::to_string(meta).map_err(|e| ServerError::Http {
            url: url.clone(),
            message: e.to_string(),
        })?;
        let mut req = self
            .agent
            .put(&url)
            .header(crate::METADATA_HEADER, &metadata)
            .header("content-type", "application/octet-stream")
            .header("content-length", &size.to_string());
        if let Some(t) = &self.token {
            req = req.header("authorization", &format!("Bearer {}", t.secret()));
        }
        let resp = req.send(ureq::SendBody::from_reader(&mut artifact));
        let mut resp = self.check(&url, resp)?;
        let bytes = read(&url, &mut resp, 64 << 20)?;
        serde_json::from_slice(&bytes).map_err(|e| ServerError::Http {
            url,
            message: format!("unreadable answer: {e}"),
        })
    }

    /// Points an alias of a model on the remote hub at a version.
    pub fn set_alias(&self, name: &str, alias: &str, version: &str) -> Result<ModelRecord> {
        self.send_json(
            "PUT",
            &format!("{}/models/{}/aliases/{}", self.base, enc(name), enc(alias)),
            &crate::api::AliasBody {
                version: version.into(),
            },
            true,
        )
    }

    /// `GET /health`: the remote hub's status.
    pub fn health(&self) -> Result<serde_json::Value> {
        self.get_json(&format!("{}/health", self.base))
    }
}

/// The answer to a Model_Pull's artifact request, before its body is read.
struct Artifact {
    rec: ModelRecord,
    url: String,
    /// The sha256 in its header.
    announced: String,
    resp: ureq::http::Response<ureq::Body>,
}

/// Reads `inner`, failing instead of ending when the bytes read do not hash to `expected`.
struct Verified<R> {
    inner: R,
    /// `None` once the end was reached and checked.
    hasher: Option<Sha256>,
    expected: String,
}

impl<R: std::io::Read> std::io::Read for Verified<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(hasher) = &mut self.hasher else {
            return Ok(0);
        };
        let n = self.inner.read(buf)?;
        hasher.update(&buf[..n]);
        if n == 0 && !buf.is_empty() {
            let actual = self.hasher.take().map(|h| hex(&h.finalize()));
            if actual.as_deref() != Some(self.expected.to_ascii_lowercase().as_str()) {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "integrity check failed: expected sha256 {}, got {}",
                        self.expected,
                        actual.unwrap_or_default()
                    ),
                ));
            }
        }
        Ok(n)
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
