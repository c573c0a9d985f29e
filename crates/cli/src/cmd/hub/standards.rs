//! `ai4ict hub standards …`: the AI standards catalogue, its review cycles and search.

use std::path::PathBuf;

use ai4ict_hub::{Domain, SearchFilter, Standard, StandardPatch};
use anyhow::{bail, Context};
use clap::Subcommand;

use super::{open_for, parse_date, print_json};

#[derive(Subcommand, Debug)]
pub(super) enum StandardsCommand {
    /// Search by words (BM25 over title, scope, number, body, group).
    Search {
        /// Words to look for.
        query: String,
        /// Only this body.
        #[arg(long)]
        body: Option<String>,
        /// Only this Resolution 101 domain (cross-cutting standards included).
        #[arg(long)]
        domain: Option<String>,
        /// Results shown.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the catalogue.
    List {
        /// Only this body.
        #[arg(long)]
        body: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one standard (key `BODY NUMBER`, or a number used by one body only).
    Show {
        /// The standard's key.
        key: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add a standard, or import a CSV with the columns of data/standards.csv.
    Add(AddArgs),
    /// Edit a standard; every change is logged with old and new values.
    Edit(EditArgs),
    /// The change log, newest first.
    Log {
        /// Only this item (standard key, model@version, use case name).
        key: Option<String>,
        /// Entries shown.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args, Debug)]
pub(super) struct AddArgs {
    /// Import every row of this CSV (existing keys are reported and skipped).
    #[arg(long, conflicts_with_all = ["body", "number", "title"])]
    file: Option<PathBuf>,
    /// Issuing body (ITU-T, 3GPP, ETSI, ISO/IEC, IEEE, O-RAN, …).
    #[arg(long, required_unless_present = "file")]
    body: Option<String>,
    /// Number within the body.
    #[arg(long, required_unless_present = "file")]
    number: Option<String>,
    /// Title.
    #[arg(long, required_unless_present = "file")]
    title: Option<String>,
    /// Study/working group.
    #[arg(long)]
    group: Option<String>,
    /// Publication year.
    #[arg(long)]
    year: Option<i32>,
    /// Status.
    #[arg(long)]
    status: Option<String>,
    /// Domains, `;`-separated, or `cross_cutting`.
    #[arg(long)]
    domains: Option<String>,
    /// Scope.
    #[arg(long)]
    scope: Option<String>,
    /// Edition (repeatable).
    #[arg(long)]
    edition: Vec<String>,
    /// Where the facts come from.
    #[arg(long)]
    source: Option<String>,
}

#[derive(clap::Args, Debug)]
pub(super) struct EditArgs {
    /// The standard's key.
    key: String,
    /// New title.
    #[arg(long)]
    title: Option<String>,
    /// New group.
    #[arg(long)]
    group: Option<String>,
    /// New year.
    #[arg(long)]
    year: Option<i32>,
    /// New status.
    #[arg(long)]
    status: Option<String>,
    /// New domains, `;`-separated, or `cross_cutting`.
    #[arg(long)]
    domains: Option<String>,
    /// New scope.
    #[arg(long)]
    scope: Option<String>,
    /// Append an edition.
    #[arg(long)]
    add_edition: Option<String>,
    /// Key of the document this one supersedes.
    #[arg(long)]
    supersedes: Option<String>,
    /// Key of the document that supersedes this one.
    #[arg(long)]
    superseded_by: Option<String>,
    /// Record a review on this date (YYYY-MM-DD, or `today`).
    #[arg(long)]
    reviewed: Option<String>,
    /// New source note.
    #[arg(long)]
    source: Option<String>,
    /// Link an implementing intent (repeatable).
    #[arg(long)]
    add_intent: Vec<String>,
    /// Unlink an intent (repeatable).
    #[arg(long)]
    remove_intent: Vec<String>,
}

pub(super) fn print_standard(s: &Standard) {
    outln!("{}  {}", s.key(), s.title);
    let year = s.year.map_or("-".to_string(), |y| y.to_string());
    outln!(
        "  group {} | year {} | status {}",
        if s.group.is_empty() { "-" } else { &s.group },
        year,
        s.status
    );
    outln!(
        "  domains: {}",
        ai4ict_hub::domain::format_domains(&s.domains)
    );
    if !s.scope.is_empty() {
        outln!("  scope: {}", s.scope);
    }
    if !s.editions.is_empty() {
        outln!("  editions: {}", s.editions.join("; "));
    }
    if !s.supersedes.is_empty() {
        outln!("  supersedes: {}", s.supersedes);
    }
    if !s.superseded_by.is_empty() {
        outln!("  superseded by: {}", s.superseded_by);
    }
    if let Some(d) = s.last_review {
        outln!("  last review: {d}");
    }
    if !s.intents.is_empty() {
        outln!("  implemented by intents: {}", s.intents.join(", "));
    }
    if !s.source.is_empty() {
        outln!("  source: {}", s.source);
    }
}

pub(super) fn run(db: Option<String>, command: StandardsCommand) -> anyhow::Result<()> {
    let writes = matches!(
        command,
        StandardsCommand::Add(_) | StandardsCommand::Edit(_)
    );
    let mut hub = open_for(db, writes)?;
    match command {
        StandardsCommand::Search {
            query,
            body,
            domain,
            limit,
            json,
        } => {
            let filter = SearchFilter {
                body,
                domain: domain.as_deref().map(str::parse::<Domain>).transpose()?,
            };
            let hits = hub.search_standards(&query, &filter, limit)?;
            if json {
                return print_json(&hits);
            }
            if hits.is_empty() {
                outln!("no standard matches '{query}'");
            }
            for h in hits {
                outln!(
                    "{:>6.2}  {:<28} {}   [{}]",
                    h.score,
                    h.key,
                    h.title,
                    h.matched.join(" ")
                );
            }
        }
        StandardsCommand::List { body, json } => {
            let list: Vec<Standard> = hub
                .standards()?
                .into_iter()
                .filter(|s| body.as_ref().is_none_or(|b| s.body.eq_ignore_ascii_case(b)))
                .collect();
            if json {
                return print_json(&list);
            }
            for s in &list {
                outln!(
                    "{:<28} {:<6} {}",
                    s.key(),
                    s.year.map_or("-".into(), |y| y.to_string()),
                    s.title
                );
            }
            outln!("{} standard(s)", list.len());
        }
        StandardsCommand::Show { key, json } => {
            let s = hub
                .standard(&key)?
                .with_context(|| format!("no standard '{key}'"))?;
            if json {
                return print_json(&s);
            }
            print_standard(&s);
            let today = chrono::Utc::now().date_naive();
            if let Some(r) = hub
                .review_status(today)?
                .into_iter()
                .find(|r| r.key == s.key())
            {
                match (r.due.zip(r.cycle_years), r.no_review) {
                    (Some((due, years)), _) => outln!(
                        "  next review due: {due} ({years}-year cycle for {})",
                        s.body
                    ),
                    (None, Some(why)) => outln!("  next review due: none ({})", why.as_str()),
                    (None, None) => {
                        outln!("  next review due: unknown (no year and no review recorded)")
                    }
                }
            }
        }
        StandardsCommand::Add(a) => {
            if let Some(file) = a.file {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?;
                let list =
                    ai4ict_hub::standards::parse_standards_csv(&text, &file.display().to_string())?;
                let (mut added, mut skipped) = (0, 0);
                for s in &list {
                    match hub.add_standard(s) {
                        Ok(()) => added += 1,
                        Err(ai4ict_hub::HubError::AlreadyExists(k)) => {
                            eprintln!("skipped {k}: already in the catalogue");
                            skipped += 1;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                outln!("imported {added} standard(s), skipped {skipped}");
                return Ok(());
            }
            let (Some(body), Some(number), Some(title)) = (a.body, a.number, a.title) else {
                bail!("--body, --number and --title are required");
            };
            let mut s = Standard::new(&body, &number, &title);
            s.group = a.group.unwrap_or_default();
            s.year = a.year;
            s.status = a.status.unwrap_or_default();
            s.domains = ai4ict_hub::domain::parse_domains(a.domains.as_deref().unwrap_or(""))?;
            s.scope = a.scope.unwrap_or_default();
            s.editions = a.edition;
            s.source = a.source.unwrap_or_default();
            hub.add_standard(&s)?;
            outln!("added {}", s.key());
        }
        StandardsCommand::Edit(e) => {
            let patch = StandardPatch {
                title: e.title,
                group: e.group,
                year: e.year.map(Some),
                status: e.status,
                domains: e
                    .domains
                    .as_deref()
                    .map(ai4ict_hub::domain::parse_domains)
                    .transpose()?,
                scope: e.scope,
                add_edition: e.add_edition,
                supersedes: e.supersedes,
                superseded_by: e.superseded_by,
                last_review: e.reviewed.as_deref().map(parse_date).transpose()?,
                source: e.source,
                add_intents: e.add_intent,
                remove_intents: e.remove_intent,
            };
            let s = hub.edit_standard(&e.key, &patch)?;
            outln!("edited {}", s.key());
            print_standard(&s);
        }
        StandardsCommand::Log { key, limit, json } => {
            let log = hub.change_log(key.as_deref(), limit)?;
            if json {
                return print_json(&log);
            }
            for c in log {
                outln!(
                    "{}  {:<12} {:<9} {}  {}",
                    c.at,
                    c.entity,
                    c.action,
                    c.item,
                    c.detail
                );
            }
        }
    }
    Ok(())
}
