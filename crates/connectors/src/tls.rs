//! TLS for the clients ai4ict opens, to NATS and MQTT brokers and to the HTTP alert sinks
//! (Alertmanager, webhooks), and for the endpoints it serves (HTTP push, Prometheus remote
//! write). One TLS stack, rustls with the ring provider (what async-nats uses); a client
//! checks the server's certificate against the authorities of `ca_file`, or else Mozilla's
//! (webpki-roots), never skipped.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ai4ict_core::{ProblemAt, SourceProblem};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// TLS to a server (`tls:` of a NATS or MQTT source or sink, of an Alertmanager or webhook
/// sink; a `tls://`, `mqtts://` or `https://` address asks for TLS too).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientTls {
    /// A PEM file of the certificate authorities that sign the server's certificate; by
    /// default Mozilla's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// A PEM client certificate (with the authorities between it and the server's, if any),
    /// with `key_file`, for servers that check their clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    /// The PEM private key of `cert_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
}

/// The certificates of a PEM file, an error naming the key and the file otherwise.
fn certificates(key: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bad = |e: &dyn std::fmt::Display| format!("{key}: {}: {e}", path.display());
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&e))?;
    if certs.is_empty() {
        return Err(bad(&"no PEM certificate in it"));
    }
    Ok(certs)
}

impl ClientTls {
    /// A client certificate without its key or the other way round; and, for an intent
    /// submitted remotely, any file.
    pub(crate) fn problems(&self, remote: bool) -> Vec<SourceProblem> {
        let mut out = Vec::new();
        if self.cert_file.is_some() != self.key_file.is_some() {
            out.push(SourceProblem::new(
                ProblemAt::Key("tls.cert_file"),
                "a client certificate needs its key and a key its certificate",
                Some("give both `cert_file` and `key_file`"),
            ));
        }
        if remote {
            out.extend(crate::auth::remote_files(self.files()));
        }
        out
    }

    /// The files it reads, by key.
    pub(crate) fn files(&self) -> Vec<(&'static str, &Path)> {
        [
            ("tls.ca_file", &self.ca_file),
            ("tls.cert_file", &self.cert_file),
            ("tls.key_file", &self.key_file),
        ]
        .into_iter()
        .filter_map(|(k, p)| p.as_deref().map(|p| (k, p)))
        .collect()
    }

    /// The client certificate chain and key, when given.
    fn client_cert(
        &self,
    ) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, String> {
        let (Some(cert), Some(key)) = (&self.cert_file, &self.key_file) else {
            return Ok(None);
        };
        let chain = certificates("tls.cert_file", cert)?;
        let key = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| format!("tls.key_file: {}: {e}", key.display()))?;
        Ok(Some((chain, key)))
    }

    /// A rustls client configuration (for MQTT), its files read now; an error naming the
    /// key and file otherwise.
    pub fn rustls_config(&self) -> Result<Arc<rustls::ClientConfig>, String> {
        let mut roots = rustls::RootCertStore::empty();
        match &self.ca_file {
            Some(path) => {
                for cert in certificates("tls.ca_file", path)? {
                    roots
                        .add(cert)
                        .map_err(|e| format!("tls.ca_file: {}: {e}", path.display()))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("tls: {e}"))?
            .with_root_certificates(roots);
        let config = match self.client_cert()? {
            Some((chain, key)) => builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("tls.key_file: {e}"))?,
            None => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }

    /// ureq's TLS configuration (for the HTTP sinks), its files read now.
    pub(crate) fn ureq(&self) -> Result<ureq::tls::TlsConfig, String> {
        let owned = |c: CertificateDer<'static>| ureq::tls::Certificate::from_der(&c).to_owned();
        let mut config = ureq::tls::TlsConfig::builder().provider(ureq::tls::TlsProvider::Rustls);
        if let Some(path) = &self.ca_file {
            let certs: Vec<_> = certificates("tls.ca_file", path)?
                .into_iter()
                .map(owned)
                .collect();
            config = config.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        if let (Some(chain), Some(key)) = (&self.cert_file, &self.key_file) {
            let chain: Vec<_> = certificates("tls.cert_file", chain)?
                .into_iter()
                .map(owned)
                .collect();
            let bad = |e: &dyn std::fmt::Display| format!("tls.key_file: {}: {e}", key.display());
            let pem = std::fs::read(key).map_err(|e| bad(&e))?;
            let key = ureq::tls::PrivateKey::from_pem(&pem).map_err(|e| bad(&e))?;
            config = config.client_cert(Some(ureq::tls::ClientCert::new_with_certs(&chain, key)));
        }
        Ok(config.build())
    }
}

/// TLS on an endpoint ai4ict serves (`tls:` of an HTTP push or Prometheus remote-write
/// source; `--tls-cert` and `--tls-key` of `ai4ict serve` and `hub serve`): its certificate
/// and key. Clients then reach it at `https://`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerTls {
    /// The PEM certificate chain to present, the server's own first.
    pub cert_file: PathBuf,
    /// The PEM private key of the certificate.
    pub key_file: PathBuf,
}

impl ServerTls {
    /// For an intent submitted remotely, the files (the key is a secret).
    pub(crate) fn problems(&self, remote: bool) -> Vec<SourceProblem> {
        if !remote {
            return Vec::new();
        }
        crate::auth::remote_files(vec![
            ("tls.cert_file", self.cert_file.as_path()),
            ("tls.key_file", self.key_file.as_path()),
        ])
    }

    /// A rustls server configuration, its files read now; an error naming the key and file
    /// otherwise.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, String> {
        let chain = certificates("tls.cert_file", &self.cert_file)?;
        let key = PrivateKeyDer::from_pem_file(&self.key_file)
            .map_err(|e| format!("tls.key_file: {}: {e}", self.key_file.display()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("tls: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| format!("tls.key_file: {}: {e}", self.key_file.display()))?;
        Ok(Arc::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_needs_its_certificate_and_files_stay_local() {
        let tls = ClientTls {
            key_file: Some("k.pem".into()),
            ..ClientTls::default()
        };
        let p = tls.problems(true);
        assert_eq!(p[0].at, ProblemAt::Key("tls.cert_file"));
        assert_eq!(p[1].at, ProblemAt::Key("tls.key_file"));
        assert!(ClientTls::default().problems(true).is_empty());
    }

    #[test]
    fn files_that_are_not_pem_certificates_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("ca.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let tls = ClientTls {
            ca_file: Some(junk.clone()),
            ..ClientTls::default()
        };
        let e = tls.rustls_config().unwrap_err();
        assert_eq!(
            e,
            format!("tls.ca_file: {}: no PEM certificate in it", junk.display())
        );
        assert!(tls.ureq().unwrap_err().starts_with("tls.ca_file: "));
        let missing = ClientTls {
            ca_file: Some(dir.path().join("missing.pem")),
            ..ClientTls::default()
        };
        assert!(missing.rustls_config().unwrap_err().contains("missing.pem"));
        // Mozilla's authorities when none is named.
        assert!(ClientTls::default().rustls_config().is_ok());
    }
}
