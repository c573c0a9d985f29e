//! `ai4ict hub usecases …`: AI-for-Good use cases and their evidence.

use std::path::PathBuf;

use ai4ict_hub::{Evidence, UseCase};
use anyhow::{bail, Context};
use clap::Subcommand;

use super::{open_for, print_json, read_json};

#[derive(Subcommand, Debug)]
pub(super) enum UsecaseCommand {
    /// List use cases with their rubric scores.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one use case.
    Show {
        /// Its name.
        name: String,
    },
    /// Register or update a use case, from a JSON file or from flags.
    Register(RegisterArgs),
}

#[derive(clap::Args, Debug)]
pub(super) struct RegisterArgs {
    /// A JSON file holding a whole use case (name, intent, sdgs, domain, description,
    /// standards, evidence).
    #[arg(long, conflicts_with_all = ["name", "intent", "builtin"])]
    file: Option<PathBuf>,
    /// Register the shipped use case of this built-in intent (data/usecases.csv), with
    /// `--evidence` from a run of it.
    #[arg(long, conflicts_with_all = ["name", "intent"])]
    builtin: Option<String>,
    /// Name.
    #[arg(long, required_unless_present_any = ["file", "builtin"])]
    name: Option<String>,
    /// Implementing intent.
    #[arg(long, required_unless_present_any = ["file", "builtin"])]
    intent: Option<String>,
    /// SDG number (repeatable).
    #[arg(long)]
    sdg: Vec<u8>,
    /// Resolution 101 domain.
    #[arg(long, default_value = "operations")]
    domain: String,
    /// Description.
    #[arg(long, default_value = "")]
    description: String,
    /// Standard implemented (repeatable).
    #[arg(long)]
    standard: Vec<String>,
    /// Evidence: a JSON file with run_id, metrics, source, at.
    #[arg(long)]
    evidence: Option<PathBuf>,
}

pub(super) fn run(db: Option<String>, command: UsecaseCommand) -> anyhow::Result<()> {
    let writes = matches!(command, UsecaseCommand::Register(_));
    let mut hub = open_for(db, writes)?;
    match command {
        UsecaseCommand::List { json } => {
            let list = hub.use_cases()?;
            if json {
                return print_json(&list);
            }
            if list.is_empty() {
                outln!("no use case registered yet");
            }
            for u in list {
                let sdgs: Vec<String> = u.use_case.sdgs.iter().map(|s| format!("SDG{s}")).collect();
                outln!(
                    "{:<28} {:>2}/20  {:<22} {:<24} {}",
                    u.use_case.name,
                    u.score.total(),
                    u.use_case.domain.as_str(),
                    sdgs.join(","),
                    u.use_case
                        .evidence
                        .as_ref()
                        .map_or("no evidence".to_string(), |e| format!(
                            "evidence {} ({})",
                            e.run_id, e.source
                        ))
                );
            }
        }
        UsecaseCommand::Show { name } => {
            let u = hub
                .use_case(&name)?
                .with_context(|| format!("no use case '{name}'"))?;
            let titles = ai4ict_hub::domain::sdgs();
            print_json(&u)?;
            for s in &u.use_case.sdgs {
                if let Some(t) = titles.iter().find(|t| t.number == *s) {
                    outln!("SDG {s}: {}", t.title);
                }
            }
            outln!(
                "score {}/20 = clarity {} + SDG alignment {} + measured impact {} + readiness {}",
                u.score.total(),
                u.score.clarity,
                u.score.sdg_alignment,
                u.score.measured_impact,
                u.score.readiness
            );
        }
        UsecaseCommand::Register(r) => {
            let uc: UseCase = if let Some(f) = &r.file {
                read_json(f)?
            } else if let Some(intent) = &r.builtin {
                let mut uc = ai4ict_hub::usecase::builtin(intent)
                    .with_context(|| format!("'{intent}' is not a built-in intent"))?;
                uc.evidence = r.evidence.as_ref().map(read_json::<Evidence>).transpose()?;
                uc
            } else {
                let (Some(name), Some(intent)) = (r.name, r.intent) else {
                    bail!("--name and --intent are required");
                };
                UseCase {
                    name,
                    intent,
                    sdgs: r.sdg,
                    domain: r.domain.parse()?,
                    description: r.description,
                    standards: r.standard,
                    evidence: r.evidence.as_ref().map(read_json::<Evidence>).transpose()?,
                }
            };
            hub.register_use_case(&uc)?;
            let u = hub
                .use_case(&uc.name)?
                .context("use case vanished after registration")?;
            outln!("registered {} (score {}/20)", uc.name, u.score.total());
        }
    }
    Ok(())
}
