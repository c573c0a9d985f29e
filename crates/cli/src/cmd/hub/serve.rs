//! `ai4ict hub serve`: the hub over HTTP, with a write token, host checks and limits.

use std::path::PathBuf;
use std::time::Duration;

use ai4ict_hub::Hub;
use ai4ict_server::{auth::TOKEN_ENV, Config, Hubs, Token};
use anyhow::Context;

/// Read-only connections opened next to the writer for a database on disk or a server.
const READERS: usize = 4;

/// Options of `ai4ict hub serve`.
#[derive(clap::Args, Debug)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// File whose first line is the write token.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Take no writes, even with a token at hand.
    #[arg(long)]
    read_only: bool,
    /// Host name accepted in the Host header besides localhost and IP addresses (repeat for
    /// more).
    #[arg(long, value_name = "NAME")]
    allowed_host: Vec<String>,
    /// Browser origin allowed to call the API, e.g. https://dash.example (CORS; repeat for
    /// more). None by default.
    #[arg(long, value_name = "ORIGIN")]
    cors_origin: Vec<String>,
    /// Largest request body in MiB (a model pushed in JSON travels base64-encoded: a third
    /// larger).
    #[arg(long, default_value_t = 64)]
    max_body_mib: u64,
    /// Largest artifact of a streamed push (PUT /models/NAME/VERSION/artifact) in MiB; it is
    /// spooled to disk, not held in memory.
    #[arg(long, default_value_t = ai4ict_server::DEFAULT_MAX_ARTIFACT_BYTES / (1024 * 1024))]
    max_artifact_mib: u64,
    /// Folder where streamed pushes are spooled before they are stored [default: the
    /// system's temporary folder].
    #[arg(long, value_name = "DIR")]
    spool_dir: Option<PathBuf>,
    /// Connections served at once (at most the open-file limit less 64; each buffers at most
    /// 64 KiB of request head); more wait to be accepted.
    #[arg(long, default_value_t = ai4ict_server::DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Seconds a client has to send a request's headers.
    #[arg(long, default_value_t = 10)]
    header_timeout: u64,
    /// Seconds a request may take, upload included.
    #[arg(long, default_value_t = 300)]
    request_timeout: u64,
    /// Audit log: one JSON line per write attempt [default: next to the hub database].
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// Size in MiB at which the audit log is rotated (FILE → FILE.1 → … FILE.N).
    #[arg(long, default_value_t = ai4ict_server::DEFAULT_AUDIT_MAX_BYTES / (1024 * 1024))]
    audit_max_mib: u64,
    /// Rotated audit files kept; older ones are deleted.
    #[arg(long, default_value_t = ai4ict_server::DEFAULT_AUDIT_KEEP)]
    audit_keep: usize,
    /// Folder of run reports (`ai4ict run` writes out/<intent>/report.json) that the web
    /// console lists under /ui/runs. None by default.
    #[arg(long, value_name = "DIR")]
    pub runs: Option<PathBuf>,
    /// Serve HTTPS only, with this PEM certificate chain (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// A file kept next to the hub database (`hub.db.token`), or in the data folder for a hub
/// that has no file.
fn beside(loc: &str, suffix: &str) -> anyhow::Result<PathBuf> {
    if ai4ict_hub::store::is_postgres_location(loc) || loc == ":memory:" {
        Ok(super::data_dir()?.join(format!("hub-server{suffix}")))
    } else {
        Ok(PathBuf::from(format!("{loc}{suffix}")))
    }
}

/// The write token, if writes are to be accepted, and what to say about it.
fn token(
    args: &ServeArgs,
    loc: &str,
    addr: std::net::SocketAddr,
) -> anyhow::Result<(Option<Token>, String)> {
    if args.read_only {
        return Ok((None, "read-only (--read-only)".into()));
    }
    if let Some(file) = &args.token_file {
        let t = Token::from_file(file)?;
        return Ok((
            Some(t),
            format!("writes need the token in {}", file.display()),
        ));
    }
    if let Some(secret) = std::env::var(TOKEN_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty())
    {
        let t = Token::new(&secret).with_context(|| format!("${TOKEN_ENV}"))?;
        return Ok((Some(t), format!("writes need the token in ${TOKEN_ENV}")));
    }
    if !addr.ip().is_loopback() {
        return Ok((
            None,
            format!(
                "WARNING: read-only: {addr} is reachable beyond this machine and no token was \
                 given (--token-file or ${TOKEN_ENV}); writes are refused"
            ),
        ));
    }
    let path = beside(loc, ".token")?;
    let (t, created) = Token::load_or_create(&path)?;
    let said = if created {
        format!(
            "write token (shown once, kept in {} with mode 0600): {}",
            path.display(),
            t.secret()
        )
    } else {
        format!("writes need the token in {}", path.display())
    };
    Ok((Some(t), said))
}

/// What `ai4ict hub serve` and `ai4ict serve` share: the hub's connections, the server's
/// config and what to say about them.
pub(crate) struct Prepared {
    /// The hub's writer and readers.
    pub hubs: Hubs,
    /// Token, limits, console folder.
    pub config: Config,
    /// Where to listen.
    pub addr: std::net::SocketAddr,
    /// Lines for the banner: the token, the limits.
    pub notes: Vec<String>,
}

/// Opens the hub and sets up the server from `args`.
pub(crate) fn prepare(db: Option<String>, args: &ServeArgs) -> anyhow::Result<Prepared> {
    let loc = super::db_location(db)?;
    let addr: std::net::SocketAddr = args
        .addr
        .parse()
        .with_context(|| format!("--addr '{}'", args.addr))?;
    let writer = Hub::open(&loc).with_context(|| format!("opening hub database {loc}"))?;
    let readers = if loc == ":memory:" {
        Vec::new()
    } else {
        (0..READERS)
            .map(|_| Hub::open_read_only(&loc))
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("opening hub database {loc} to read"))?
    };
    let (token, said) = token(args, &loc, addr)?;
    let mut notes = vec![said];
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert_file), Some(key_file)) => {
            let tls = ai4ict_connectors::ServerTls {
                cert_file: cert_file.clone(),
                key_file: key_file.clone(),
            };
            Some(tls.server_config().map_err(anyhow::Error::msg)?)
        }
        _ => None,
    };
    if token.is_some() && tls.is_none() && !addr.ip().is_loopback() {
        notes.push(
            "note: plain HTTP: the token crosses the network in clear; give --tls-cert and \
             --tls-key, or put a TLS proxy in front"
                .into(),
        );
    }
    let audit_log = match &args.audit_log {
        Some(p) => p.clone(),
        None => beside(&loc, ".audit.jsonl")?,
    };
    if let Some(runs) = &args.runs {
        anyhow::ensure!(runs.is_dir(), "--runs {}: not a folder", runs.display());
    }
    notes.push(format!(
        "body limit {} MiB, artifacts up to {} MiB, {} connections, audit log {} (rotated at {} MiB, {} kept)",
        args.max_body_mib,
        args.max_artifact_mib,
        args.max_connections,
        audit_log.display(),
        args.audit_max_mib.max(1),
        args.audit_keep
    ));
    let config = Config {
        token,
        allowed_hosts: args.allowed_host.clone(),
        cors_origins: args.cors_origin.clone(),
        max_body_bytes: args.max_body_mib.saturating_mul(1024 * 1024),
        max_artifact_bytes: args.max_artifact_mib.saturating_mul(1024 * 1024),
        spool_dir: args.spool_dir.clone(),
        max_connections: args.max_connections,
        header_timeout: Duration::from_secs(args.header_timeout),
        request_timeout: Duration::from_secs(args.request_timeout),
        audit_log: Some(audit_log),
        audit_max_bytes: args.audit_max_mib.max(1).saturating_mul(1024 * 1024),
        audit_keep: args.audit_keep,
        runs_dir: args.runs.clone(),
        pipelines: None,
        tls,
    };
    Ok(Prepared {
        hubs: Hubs::with_readers(writer, readers),
        config,
        addr,
        notes,
    })
}

/// Logs requests to standard error.
pub(crate) fn init_logging() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
        .with_target(false)
        .try_init()
        .ok();
}

pub(super) fn run(db: Option<String>, args: ServeArgs) -> anyhow::Result<()> {
    let prepared = prepare(db, &args)?;
    init_logging();
    let addr = prepared.addr;
    eprintln!(
        "ai4ict hub serving on http://{addr} (Ctrl-C to stop); web console at http://{addr}/"
    );
    for note in &prepared.notes {
        eprintln!("{note}");
    }
    ai4ict_server::serve_blocking(prepared.hubs, &prepared.config, addr)?;
    Ok(())
}
