//! The model marketplace (ITU-T Y.3176 ML marketplace integration; Y.3179 model repository).
//!
//! A model is published with its Y.3176 metadata (name, author, version, licence,
//! input/output description, runtime environment) plus what the MLFO needs to choose it:
//! training-data fingerprint, metrics, standards, domain. Versions are immutable; aliases
//! (`production`, `staging`, …) point at a version and `latest` is always the newest. Every
//! artifact is stored with its sha256, checked on publish and on pull. The operations carry
//! the names of the Y.3176 APIs: Model_Query and Model_Discovery ([`ModelQuery`]),
//! Model_Selection ([`ModelSelection`]), Model_Pull and Model_Push (in `ai4ict-server`).

use std::io::Read;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::Domain;
use crate::error::{HubError, Result};
use crate::standards::log_change;
use crate::store::{RowExt, Store, Value};

/// One input or output of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Port {
    /// Name, e.g. a KPI (`prb_util`) or `score`.
    pub name: String,
    /// Type, e.g. `f64`, `f64[4]`, `label`.
    #[serde(default)]
    pub kind: String,
    /// Meaning and unit.
    #[serde(default)]
    pub description: String,
}

/// Model metadata (Y.3176; see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ModelMetadata {
    /// Name: letters, digits, `.`, `_`, `-`.
    pub name: String,
    /// Version: letters, digits, `.`, `_`, `-`, `+`; immutable once published.
    pub version: String,
    /// Author or organisation.
    pub author: String,
    /// Licence (SPDX identifier preferred).
    pub licence: String,
    /// What the model does.
    #[serde(default)]
    pub description: String,
    /// Inputs.
    #[serde(default)]
    pub inputs: Vec<Port>,
    /// Outputs.
    #[serde(default)]
    pub outputs: Vec<Port>,
    /// Runtime environment, e.g. `ai4ict-anomaly 0.1 (serde json)`.
    #[serde(default)]
    pub runtime: String,
    /// Fingerprint (sha256) of the training data.
    #[serde(default)]
    pub training_data: String,
    /// Evaluation metrics (name → value).
    #[serde(default)]
    pub metrics: std::collections::BTreeMap<String, f64>,
    /// Keys of the standards the model implements.
    #[serde(default)]
    pub standards: Vec<String>,
    /// Resolution 101 domain.
    #[serde(default)]
    pub domain: Option<Domain>,
    /// Free tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// sha256 of the artifact, hex; filled in on publish, checked when given.
    #[serde(default)]
    pub sha256: String,
    /// Artifact size in bytes; filled in on publish.
    #[serde(default)]
    pub size: u64,
    /// Publication time (RFC 3339); filled in on publish.
    #[serde(default)]
    pub published_at: String,
}

impl ModelMetadata {
    /// Metadata with the required fields and everything else empty.
    pub fn new(name: &str, version: &str, author: &str, licence: &str) -> ModelMetadata {
        ModelMetadata {
            name: name.into(),
            version: version.into(),
            author: author.into(),
            licence: licence.into(),
            description: String::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            runtime: String::new(),
            training_data: String::new(),
            metrics: Default::default(),
            standards: Vec::new(),
            domain: None,
            tags: Vec::new(),
            sha256: String::new(),
            size: 0,
            published_at: String::new(),
        }
    }

    /// Checks what a publish checks (names, required fields, metrics), so that a server can
    /// refuse bad metadata before it reads an artifact.
    pub fn validate(&self) -> Result<()> {
        check_name("name", &self.name)?;
        check_name("version", &self.version)?;
        if matches!(self.version.as_str(), "latest") {
            return Err(HubError::invalid("version", "'latest' is reserved"));
        }
        for (f, v) in [("author", &self.author), ("licence", &self.licence)] {
            if v.trim().is_empty() {
                return Err(HubError::invalid(f, "must not be empty"));
            }
        }
        for (k, v) in &self.metrics {
            crate::validate::metric("metrics", k, *v)?;
        }
        Ok(())
    }
}

/// A published model as listed: metadata plus the aliases pointing at it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ModelRecord {
    /// The metadata.
    #[serde(flatten)]
    pub metadata: ModelMetadata,
    /// Aliases that point at this version.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// Search and discovery criteria (Model_Query / Model_Discovery_Poll); all optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ModelQuery {
    /// Words that must all appear in name, description, tags, author or runtime.
    #[serde(default)]
    pub text: Option<String>,
    /// Only this model name.
    #[serde(default)]
    pub name: Option<String>,
    /// Only this domain.
    #[serde(default)]
    pub domain: Option<Domain>,
    /// Only models implementing this standard key (case-insensitive).
    #[serde(default)]
    pub standard: Option<String>,
    /// Only models published strictly after this RFC 3339 time (discovery polling).
    #[serde(default)]
    pub since: Option<String>,
}

/// Model_Selection criteria: filter with a query, then pick the best by a metric.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ModelSelection {
    /// The filter.
    #[serde(default)]
    pub query: ModelQuery,
    /// Metric to rank by; models without it are skipped. Without a metric the newest wins.
    #[serde(default)]
    pub metric: Option<String>,
    /// True when a larger metric is better (accuracy, F1); false for errors and latencies.
    #[serde(default = "yes")]
    pub higher_is_better: bool,
}

fn yes() -> bool {
    true
}

fn check_name(field: &str, v: &str) -> Result<()> {
    crate::validate::name(field, v)?;
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
    {
        return Err(HubError::invalid(
            field,
            format!("'{v}': use letters, digits, '.', '_', '-', '+' only"),
        ));
    }
    Ok(())
}

/// Hex sha256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of a digest.
pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes per stored chunk of an artifact: what publishing or reading one holds in memory at
/// a time, whatever the artifact's size.
pub const CHUNK_BYTES: usize = 1 << 20;

/// Publishes a version, reading its artifact chunk by chunk: each [`CHUNK_BYTES`] read is
/// hashed and stored before the next. Publishing the same bytes again is a no-op; different
/// bytes under a published version, or bytes that do not match `meta.sha256` when given, are
/// refused. Run inside a transaction, so that a refusal leaves no chunk behind.
pub(crate) fn publish(
    store: &mut Store,
    meta: &ModelMetadata,
    artifact: &mut dyn Read,
) -> Result<ModelRecord> {
    meta.validate()?;
    let existing = get(store, &meta.name, &meta.version)?;
    let (mut hasher, mut size, mut seq) = (Sha256::new(), 0u64, 0i64);
    loop {
        let mut chunk = Vec::with_capacity(CHUNK_BYTES);
        Read::take(&mut *artifact, CHUNK_BYTES as u64).read_to_end(&mut chunk)?;
        if chunk.is_empty() {
            break;
        }
        hasher.update(&chunk);
        size += chunk.len() as u64;
        let last = chunk.len() < CHUNK_BYTES;
        // The bytes of a published version are only hashed, to tell a repeat from a change.
        if existing.is_none() {
            store.execute(
                "INSERT INTO model_chunks (name, version, seq, bytes) VALUES (?, ?, ?, ?)",
                &[
                    meta.name.clone().into(),
                    meta.version.clone().into(),
                    Value::Int(seq),
                    Value::Blob(chunk),
                ],
            )?;
        }
        seq += 1;
        if last {
            break;
        }
    }
    let digest = hex(&hasher.finalize());
    if !meta.sha256.is_empty() && !meta.sha256.eq_ignore_ascii_case(&digest) {
        return Err(HubError::Integrity {
            what: format!("{}@{}", meta.name, meta.version),
            expected: meta.sha256.clone(),
            actual: digest,
        });
    }
    if let Some(existing) = existing {
        if existing.metadata.sha256 == digest && existing.metadata.version == meta.version {
            return Ok(existing);
        }
        return Err(HubError::AlreadyExists(format!(
            "model {}@{} (versions are immutable; publish a new version)",
            meta.name, meta.version
        )));
    }
    let mut m = meta.clone();
    m.sha256 = digest;
    m.size = size;
    m.published_at = crate::now_rfc3339();
    // The artifact column stays empty: the bytes are in `model_chunks`.
    store.execute(
        "INSERT INTO models (name, version, metadata, sha256, size, artifact, published_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            m.name.clone().into(),
            m.version.clone().into(),
            serde_json::to_string(&m)?.into(),
            m.sha256.clone().into(),
            Value::Int(i64::try_from(m.size).unwrap_or(i64::MAX)),
            Value::Blob(Vec::new()),
            m.published_at.clone().into(),
        ],
    )?;
    log_change(
        store,
        "model",
        &format!("{}@{}", m.name, m.version),
        "publish",
        &serde_json::json!({ "sha256": m.sha256, "size": m.size }),
    )?;
    Ok(ModelRecord {
        metadata: m,
        aliases: Vec::new(),
    })
}

/// Chunk `seq` (from 0) of the artifact of `name@version` (a version, not an alias); `None`
/// past the last. A version published before chunks has its whole artifact as chunk 0.
pub(crate) fn chunk(
    store: &mut Store,
    name: &str,
    version: &str,
    seq: u64,
) -> Result<Option<Vec<u8>>> {
    let seq = i64::try_from(seq).map_err(|_| HubError::invalid("seq", "too large"))?;
    let rows = store.query(
        "SELECT bytes FROM model_chunks WHERE name = ? AND version = ? AND seq = ?",
        &[name.into(), version.into(), Value::Int(seq)],
    )?;
    if let Some(bytes) = only_blob(rows)? {
        return Ok(Some(bytes));
    }
    if seq > 0 {
        return Ok(None);
    }
    let rows = store.query(
        "SELECT artifact FROM models WHERE name = ? AND version = ?",
        &[name.into(), version.into()],
    )?;
    Ok(only_blob(rows)?.filter(|b| !b.is_empty()))
}

/// The bytes of the first row's only column, taken without a copy.
fn only_blob(rows: Vec<crate::store::Row>) -> Result<Option<Vec<u8>>> {
    match rows.into_iter().next().and_then(|r| r.into_iter().next()) {
        None => Ok(None),
        Some(Value::Blob(b)) => Ok(Some(b)),
        Some(other) => Err(HubError::Corrupt(format!(
            "artifact chunk: expected bytes, got {other:?}"
        ))),
    }
}

/// Calls `f` with each chunk of the artifact of `name@version`, in order.
fn for_each_chunk(
    store: &mut Store,
    name: &str,
    version: &str,
    mut f: impl FnMut(Vec<u8>),
) -> Result<()> {
    let mut seq = 0;
    while let Some(bytes) = chunk(store, name, version, seq)? {
        f(bytes);
        seq += 1;
    }
    Ok(())
}

fn aliases_of(store: &mut Store, name: &str, version: &str) -> Result<Vec<String>> {
    store
        .query(
            "SELECT alias FROM model_aliases WHERE name = ? AND version = ? ORDER BY alias",
            &[name.into(), version.into()],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect()
}

/// Resolves `version` (a version, an alias, or `latest`) to a published version.
pub(crate) fn resolve(store: &mut Store, name: &str, version: &str) -> Result<Option<String>> {
    let rows = if version == "latest" {
        store.query(
            "SELECT version FROM models WHERE name = ? ORDER BY published_at DESC, id DESC LIMIT 1",
            &[name.into()],
        )?
    } else {
        let direct = store.query(
            "SELECT version FROM models WHERE name = ? AND version = ?",
            &[name.into(), version.into()],
        )?;
        if direct.is_empty() {
            store.query(
                "SELECT version FROM model_aliases WHERE name = ? AND alias = ?",
                &[name.into(), version.into()],
            )?
        } else {
            direct
        }
    };
    rows.first().map(|r| r.text(0)).transpose()
}

/// Model_Selection by name: metadata of a version, alias or `latest`.
pub(crate) fn get(store: &mut Store, name: &str, version: &str) -> Result<Option<ModelRecord>> {
    let Some(v) = resolve(store, name, version)? else {
        return Ok(None);
    };
    let rows = store.query(
        "SELECT metadata FROM models WHERE name = ? AND version = ?",
        &[name.into(), v.clone().into()],
    )?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let metadata = stored_metadata(&r.text(0)?, &format!("{name}@{v}"))?;
    Ok(Some(ModelRecord {
        aliases: aliases_of(store, name, &v)?,
        metadata,
    }))
}

/// Model_Pull: metadata and artifact bytes, integrity checked.
pub(crate) fn pull(
    store: &mut Store,
    name: &str,
    version: &str,
) -> Result<Option<(ModelRecord, Vec<u8>)>> {
    let Some(rec) = get(store, name, version)? else {
        return Ok(None);
    };
    let mut bytes = Vec::with_capacity(usize::try_from(rec.metadata.size).unwrap_or(0));
    let (n, v) = (rec.metadata.name.clone(), rec.metadata.version.clone());
    for_each_chunk(store, &n, &v, |b| bytes.extend_from_slice(&b))?;
    let digest = sha256_hex(&bytes);
    if digest != rec.metadata.sha256 {
        return Err(HubError::Integrity {
            what: format!("stored artifact {name}@{v}"),
            expected: rec.metadata.sha256,
            actual: digest,
        });
    }
    Ok(Some((rec, bytes)))
}

/// The first pass of a streamed Model_Pull: the metadata of a version, alias or `latest`
/// once its stored artifact has been hashed chunk by chunk and found to match its sha256.
pub(crate) fn verify(store: &mut Store, name: &str, version: &str) -> Result<Option<ModelRecord>> {
    let Some(rec) = get(store, name, version)? else {
        return Ok(None);
    };
    let (n, v) = (rec.metadata.name.clone(), rec.metadata.version.clone());
    let mut hasher = Sha256::new();
    for_each_chunk(store, &n, &v, |b| hasher.update(&b))?;
    let digest = hex(&hasher.finalize());
    if digest != rec.metadata.sha256 {
        return Err(HubError::Integrity {
            what: format!("stored artifact {name}@{v}"),
            expected: rec.metadata.sha256,
            actual: digest,
        });
    }
    Ok(Some(rec))
}

/// Points `alias` of model `name` at `version` (which may itself be an alias or `latest`).
pub(crate) fn set_alias(
    store: &mut Store,
    name: &str,
    alias: &str,
    version: &str,
) -> Result<String> {
    check_name("alias", alias)?;
    if alias == "latest" {
        return Err(HubError::invalid("alias", "'latest' is implicit"));
    }
    let v = resolve(store, name, version)?
        .ok_or_else(|| HubError::NotFound(format!("model {name}@{version}")))?;
    let is_version = !store
        .query(
            "SELECT 1 FROM models WHERE name = ? AND version = ?",
            &[name.into(), alias.into()],
        )?
        .is_empty();
    if is_version {
        return Err(HubError::invalid(
            "alias",
            format!("'{alias}' is a version of {name}"),
        ));
    }
    store.execute(
        "INSERT INTO model_aliases (name, alias, version) VALUES (?, ?, ?) \
         ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version",
        &[name.into(), alias.into(), v.clone().into()],
    )?;
    log_change(
        store,
        "alias",
        &format!("{name}@{alias}"),
        "set",
        &serde_json::json!({ "version": v }),
    )?;
    Ok(v)
}

/// Reads stored metadata; a row that does not parse is [`HubError::Corrupt`], naming `what`.
fn stored_metadata(json: &str, what: &str) -> Result<ModelMetadata> {
    serde_json::from_str(json)
        .map_err(|e| HubError::Corrupt(format!("metadata of model {what}: {e}")))
}

/// Model_Query / Model_Discovery: every published version matching, newest first. A stored
/// row that cannot be read is listed as its error, in place, so that the others still list.
pub(crate) fn query(store: &mut Store, q: &ModelQuery) -> Result<Vec<Result<ModelRecord>>> {
    let rows = store.query(
        "SELECT metadata, name, version FROM models ORDER BY published_at DESC, id DESC",
        &[],
    )?;
    let words: Vec<String> = q
        .text
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let mut out = Vec::new();
    for r in rows {
        let m = match r.text(0).and_then(|json| {
            let what = format!("{}@{}", r.text(1)?, r.text(2)?);
            stored_metadata(&json, &what)
        }) {
            Ok(m) => m,
            Err(e) => {
                out.push(Err(e));
                continue;
            }
        };
        let hay = format!(
            "{} {} {} {} {} {}",
            m.name,
            m.description,
            m.tags.join(" "),
            m.author,
            m.runtime,
            m.standards.join(" ")
        )
        .to_lowercase();
        let keep = words.iter().all(|w| hay.contains(w.as_str()))
            && q.name.as_ref().is_none_or(|n| *n == m.name)
            && q.domain.is_none_or(|d| m.domain == Some(d))
            && q.standard
                .as_ref()
                .is_none_or(|s| m.standards.iter().any(|x| x.eq_ignore_ascii_case(s)))
            && q.since.as_ref().is_none_or(|s| m.published_at > *s);
        if keep {
            out.push(
                aliases_of(store, &m.name, &m.version).map(|aliases| ModelRecord {
                    metadata: m,
                    aliases,
                }),
            );
        }
    }
    Ok(out)
}

/// Model_Selection by criteria: the best matching version; unreadable rows are skipped.
pub(crate) fn select(store: &mut Store, sel: &ModelSelection) -> Result<Option<ModelRecord>> {
    let found = query(store, &sel.query)?.into_iter().filter_map(Result::ok);
    let Some(metric) = &sel.metric else {
        return Ok(found.into_iter().next());
    };
    Ok(found
        .filter_map(|m| m.metadata.metrics.get(metric).copied().map(|v| (v, m)))
        .max_by(|(a, _), (b, _)| {
            if sel.higher_is_better {
                a.total_cmp(b)
            } else {
                b.total_cmp(a)
            }
        })
        .map(|(_, m)| m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_bytes() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn names_are_checked() {
        assert!(ModelMetadata::new("a/b", "1", "me", "MIT")
            .validate()
            .is_err());
        assert!(ModelMetadata::new("a", "latest", "me", "MIT")
            .validate()
            .is_err());
        assert!(ModelMetadata::new("a", "1.0", "", "MIT")
            .validate()
            .is_err());
        assert!(ModelMetadata::new("a", "1.0+x", "me", "MIT")
            .validate()
            .is_ok());
    }
}
