//! `ai4ict hub models …`: the model marketplace (Y.3176).

use std::path::PathBuf;

use ai4ict_hub::{Domain, ModelMetadata, ModelQuery};
use anyhow::Context;
use clap::Subcommand;

use super::{open_for, print_json, read_json};

#[derive(Subcommand, Debug)]
pub(super) enum ModelCommand {
    /// Publish a model version: metadata (JSON) and artifact file.
    Publish {
        /// Metadata JSON (name, version, author, licence, inputs, outputs, runtime,
        /// training_data, metrics, standards, domain, tags).
        #[arg(long)]
        meta: PathBuf,
        /// The artifact (any bytes: serialized model, ONNX, …).
        #[arg(long)]
        artifact: PathBuf,
    },
    /// Search and discovery (Model_Query).
    List {
        /// Words to look for.
        query: Option<String>,
        /// Only this domain.
        #[arg(long)]
        domain: Option<String>,
        /// Only models implementing this standard.
        #[arg(long)]
        standard: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a version's metadata (Model_Selection); VERSION may be an alias or `latest`.
    Show {
        /// Model name.
        name: String,
        /// Version, alias or `latest`.
        #[arg(id = "model_version", value_name = "VERSION", default_value = "latest")]
        version: String,
    },
    /// Point an alias (e.g. `production`) at a version.
    Alias {
        /// Model name.
        name: String,
        /// Alias.
        alias: String,
        /// Version (or alias, or `latest`).
        #[arg(id = "model_version", value_name = "VERSION")]
        version: String,
    },
    /// Pull a model from another hub into this one (Model_Pull), sha256 checked.
    Pull {
        /// The other hub's base URL, e.g. http://10.0.0.2:8080.
        #[arg(long)]
        from: String,
        /// Model name.
        name: String,
        /// Version, alias or `latest`.
        #[arg(id = "model_version", value_name = "VERSION", default_value = "latest")]
        version: String,
        /// Also write the artifact to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Push a model from this hub to another (Model_Push), sha256 checked there.
    Push {
        /// The other hub's base URL.
        #[arg(long)]
        to: String,
        /// File whose first line is the other hub's write token [default: $AI4ICT_HUB_TOKEN].
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        /// Model name.
        name: String,
        /// Version, alias or `latest`.
        #[arg(id = "model_version", value_name = "VERSION", default_value = "latest")]
        version: String,
    },
}

pub(super) fn print_model(m: &ai4ict_hub::ModelRecord) -> anyhow::Result<()> {
    print_json(m)
}

pub(super) fn run(db: Option<String>, command: ModelCommand) -> anyhow::Result<()> {
    let writes = matches!(
        command,
        ModelCommand::Publish { .. } | ModelCommand::Alias { .. } | ModelCommand::Pull { .. }
    );
    let mut hub = open_for(db, writes)?;
    match command {
        ModelCommand::Publish { meta, artifact } => {
            let meta: ModelMetadata = read_json(&meta)?;
            let bytes = std::fs::read(&artifact)
                .with_context(|| format!("reading {}", artifact.display()))?;
            let r = hub.publish_model(&meta, &bytes)?;
            outln!(
                "published {}@{} ({} bytes, sha256 {})",
                r.metadata.name,
                r.metadata.version,
                r.metadata.size,
                r.metadata.sha256
            );
        }
        ModelCommand::List {
            query,
            domain,
            standard,
            json,
        } => {
            let q = ModelQuery {
                text: query,
                domain: domain.as_deref().map(str::parse::<Domain>).transpose()?,
                standard,
                ..Default::default()
            };
            let list = hub.models(&q)?;
            if json {
                return print_json(&list);
            }
            for m in &list {
                let md = &m.metadata;
                let metrics: Vec<String> =
                    md.metrics.iter().map(|(k, v)| format!("{k}={v}")).collect();
                outln!(
                    "{:<24} {:<10} {:<14} {}  {}{}",
                    md.name,
                    md.version,
                    md.licence,
                    md.author,
                    metrics.join(" "),
                    if m.aliases.is_empty() {
                        String::new()
                    } else {
                        format!("  [{}]", m.aliases.join(", "))
                    }
                );
            }
            outln!("{} model version(s)", list.len());
        }
        ModelCommand::Show { name, version } => {
            let m = hub
                .model(&name, &version)?
                .with_context(|| format!("no model {name}@{version}"))?;
            print_model(&m)?;
        }
        ModelCommand::Alias {
            name,
            alias,
            version,
        } => {
            let v = hub.set_model_alias(&name, &alias, &version)?;
            outln!("{name}@{alias} -> {v}");
        }
        ModelCommand::Pull {
            from,
            name,
            version,
            out,
        } => {
            // Streamed from the other hub into this one's chunks: never whole in memory.
            let client = ai4ict_server::client::Client::new(&from)?;
            let local = client.pull_with(&name, &version, |rec, artifact| {
                Ok(hub.publish_model_from(&rec.metadata, artifact)?)
            })?;
            if let Some(out) = out {
                let m = &local.metadata;
                let mut file = std::fs::File::create(&out)
                    .with_context(|| format!("writing {}", out.display()))?;
                std::io::copy(&mut hub.artifact_reader(&m.name, &m.version), &mut file)
                    .with_context(|| format!("writing {}", out.display()))?;
            }
            outln!(
                "pulled {}@{} from {from} ({} bytes, sha256 {} verified)",
                local.metadata.name,
                local.metadata.version,
                local.metadata.size,
                local.metadata.sha256
            );
        }
        ModelCommand::Push {
            to,
            token_file,
            name,
            version,
        } => {
            // Checked here, then streamed a chunk at a time: the artifact is never whole in
            // memory.
            let rec = hub
                .verify_model(&name, &version)?
                .with_context(|| format!("no model {name}@{version}"))?;
            let token = match token_file {
                Some(f) => Some(ai4ict_server::Token::from_file(&f)?),
                None => std::env::var(ai4ict_server::auth::TOKEN_ENV)
                    .ok()
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| ai4ict_server::Token::new(&s))
                    .transpose()?,
            };
            let client = ai4ict_server::client::Client::new(&to)?.with_token(token);
            let m = &rec.metadata;
            let reader = hub.artifact_reader(&m.name, &m.version);
            let remote = client.push_from(m, reader, m.size)?;
            outln!(
                "pushed {}@{} to {to} (sha256 {} verified there)",
                remote.metadata.name,
                remote.metadata.version,
                remote.metadata.sha256
            );
        }
    }
    Ok(())
}
