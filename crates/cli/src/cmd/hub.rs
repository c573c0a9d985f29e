//! `ai4ict hub …`: the standards catalogue, cooperation map, use cases, model marketplace and
//! guidance (crate `ai4ict-hub`), and the hub's HTTP server (crate `ai4ict-server`).

use std::path::PathBuf;

use ai4ict_hub::{
    bench, Assessment, CoopOptions, Domain, Evidence, Factor, Hub, ModelMetadata, ModelQuery,
    SearchFilter, Standard, StandardPatch, UseCase,
};
use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};

/// Share what works: AI standards catalogue with review cycles and cooperation map, AI-for-Good
/// use cases with evidence, model marketplace (ITU-T Y.3176), adoption guidance.
#[derive(Parser, Debug)]
pub struct Args {
    /// Hub database: a SQLite file, or a PostgreSQL connection string when built with the
    /// `postgres` feature [default: $AI4ICT_HUB, else ~/.local/share/ai4ict/hub.db].
    #[arg(long, global = true)]
    db: Option<String>,
    #[command(subcommand)]
    command: HubCommand,
}

#[derive(Subcommand, Debug)]
enum HubCommand {
    /// Search, show, add and edit catalogue entries; show the change log.
    Standards {
        #[command(subcommand)]
        command: StandardsCommand,
    },
    /// Standards whose periodic review is due (cycle per body, configurable).
    ReviewDue {
        /// Evaluate at this date (YYYY-MM-DD) instead of today.
        #[arg(long)]
        at: Option<String>,
        /// Also list standards not yet due, and those with no date to count from.
        #[arg(long)]
        all: bool,
        /// Set a body's review cycle first, e.g. `--set-cycle ITU-T=4` (stored).
        #[arg(long, value_name = "BODY=YEARS")]
        set_cycle: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Cooperation map: overlapping standards of different bodies, ranked, with the terms
    /// that explain each match.
    Coop {
        /// Pairs to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Smallest score shown (cosine of BM25 vectors + shared-domain bonus).
        #[arg(long, default_value_t = 0.2)]
        min_score: f32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Gaps: Resolution 101 domains with few standards or no implementing intent.
    Gaps {
        /// A domain with fewer standards than this is a gap.
        #[arg(long, default_value_t = 3)]
        min_standards: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// AI-for-Good use cases: SDGs, evidence, rubric score.
    Usecases {
        #[command(subcommand)]
        command: UsecaseCommand,
    },
    /// Model marketplace (Y.3176): publish, list, show, alias, pull and push between hubs.
    Models {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Recorded network-intelligence levels (ITU-T Y.3173).
    Levels {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Readiness self-assessment (ITU AI Ready factors) → recommended intents, standards to
    /// read and next steps. Without --file or a factor flag it asks for each rating on a
    /// terminal, and refuses to guess elsewhere.
    Guidance(GuidanceArgs),
    /// Serve the hub over HTTP (catalogue, use cases, marketplace API).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
    },
    /// Benchmark catalogue search and the cooperation map on generated entries.
    Bench {
        /// Generated standards.
        #[arg(long, default_value_t = 10_000)]
        n: usize,
        /// Search queries timed.
        #[arg(long, default_value_t = 2_000)]
        queries: usize,
        /// Generator seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Store to benchmark in (default: SQLite in memory); a PostgreSQL connection string
        /// must point at an empty database or schema.
        #[arg(long)]
        store: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum StandardsCommand {
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
struct AddArgs {
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
struct EditArgs {
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

#[derive(Subcommand, Debug)]
enum UsecaseCommand {
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
struct RegisterArgs {
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

#[derive(Subcommand, Debug)]
enum ModelCommand {
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
        /// Model name.
        name: String,
        /// Version, alias or `latest`.
        #[arg(id = "model_version", value_name = "VERSION", default_value = "latest")]
        version: String,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Markdown,
    Html,
    Json,
}

#[derive(clap::Args, Debug)]
struct GuidanceArgs {
    /// Assessment JSON (organisation, factors {open_data: 0-4, …}, domains); flags override.
    #[arg(long)]
    file: Option<PathBuf>,
    /// Organisation or country assessed.
    #[arg(long)]
    org: Option<String>,
    /// Open data, 0 (none) to 4 (leading).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=4))]
    open_data: Option<u8>,
    /// Research, 0–4.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=4))]
    research: Option<u8>,
    /// Deployment, 0–4.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=4))]
    deployment: Option<u8>,
    /// Standards, 0–4.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=4))]
    standards: Option<u8>,
    /// Open source, 0–4.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=4))]
    open_source: Option<u8>,
    /// Sandbox, 0–4.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=4))]
    sandbox: Option<u8>,
    /// Domain of interest (repeatable); none means all.
    #[arg(long)]
    domain: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "markdown")]
    format: Format,
    /// Write the report here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn db_location(db: Option<String>) -> anyhow::Result<String> {
    if let Some(db) = db.or_else(|| std::env::var("AI4ICT_HUB").ok()) {
        return Ok(db);
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .context("no --db given and neither AI4ICT_HUB, XDG_DATA_HOME nor HOME is set")?;
    Ok(base.join("ai4ict/hub.db").to_string_lossy().into_owned())
}

pub(crate) fn open(db: Option<String>) -> anyhow::Result<Hub> {
    let loc = db_location(db)?;
    Hub::open(&loc).with_context(|| format!("opening hub database {loc}"))
}

/// Opens the hub for a command that only reads: nothing is created, migrated or switched.
pub(crate) fn open_read_only(db: Option<String>) -> anyhow::Result<Hub> {
    let loc = db_location(db)?;
    Hub::open_read_only(&loc).with_context(|| format!("opening hub database {loc} to read"))
}

/// Opens the hub to write when `writes`, else to read only.
fn open_for(db: Option<String>, writes: bool) -> anyhow::Result<Hub> {
    if writes {
        open(db)
    } else {
        open_read_only(db)
    }
}

fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn parse_date(s: &str) -> anyhow::Result<chrono::NaiveDate> {
    if s == "today" {
        return Ok(chrono::Utc::now().date_naive());
    }
    Ok(ai4ict_hub::standards::parse_date(s)?)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &PathBuf) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Runs `ai4ict hub …`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let db = args.db;
    match args.command {
        HubCommand::Standards { command } => standards(db, command),
        HubCommand::ReviewDue {
            at,
            all,
            set_cycle,
            json,
        } => {
            let mut hub = open_for(db, !set_cycle.is_empty())?;
            for c in &set_cycle {
                let Some((body, years)) = c.rsplit_once('=') else {
                    bail!("--set-cycle '{c}': expected BODY=YEARS");
                };
                let years: u32 = years
                    .trim()
                    .parse()
                    .with_context(|| format!("--set-cycle '{c}': years must be a number"))?;
                hub.set_review_cycle(body, years)?;
            }
            let at = at
                .as_deref()
                .map(parse_date)
                .transpose()?
                .unwrap_or_else(|| chrono::Utc::now().date_naive());
            let items = if all {
                hub.review_status(at)?
            } else {
                hub.review_due(at)?
            };
            if json {
                return print_json(&items);
            }
            let cycles = hub.review_cycles()?;
            outln!(
                "review cycles: {}",
                cycles
                    .iter()
                    .map(|c| format!(
                        "{} {}y{}",
                        c.body,
                        c.years,
                        if c.configured { "*" } else { "" }
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            outln!(
                "{} standard(s) {} at {at}",
                items.len(),
                if all { "listed" } else { "due for review" }
            );
            for i in items {
                let due = i.due.map_or("no date".to_string(), |d| d.to_string());
                let state = match i.overdue_days {
                    Some(d) if d >= 0 => format!("overdue {d} d"),
                    Some(d) => format!("in {} d", -d),
                    None => "unknown".to_string(),
                };
                outln!("  {:<28} due {:<10} {:<14} {}", i.key, due, state, i.title);
            }
            Ok(())
        }
        HubCommand::Coop {
            limit,
            min_score,
            json,
        } => {
            let mut hub = open_read_only(db)?;
            let map = hub.cooperation_map(&CoopOptions {
                limit,
                min_score,
                ..Default::default()
            })?;
            if json {
                return print_json(&map);
            }
            outln!(
                "{} cooperation opportunities (different bodies, ranked)",
                map.len()
            );
            for (n, o) in map.iter().enumerate() {
                let terms: Vec<String> = o
                    .terms
                    .iter()
                    .map(|(t, w)| format!("{t} ({w:.2})"))
                    .collect();
                outln!("{:>3}. {:.3}  {}  <->  {}", n + 1, o.score, o.a, o.b);
                outln!("       {}\n       {}", o.a_title, o.b_title);
                out!("       terms: {}", terms.join(", "));
                if !o.shared_domains.is_empty() {
                    out!(
                        "; shared domain: {}",
                        o.shared_domains
                            .iter()
                            .map(|d| d.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                outln!();
            }
            Ok(())
        }
        HubCommand::Gaps {
            min_standards,
            json,
        } => {
            let mut hub = open_read_only(db)?;
            let gaps = hub.gaps(min_standards)?;
            if json {
                return print_json(&gaps);
            }
            for g in gaps {
                outln!(
                    "{:<22} {:>3} standard(s) [{}]  intents: {}  {}",
                    g.domain.as_str(),
                    g.standards,
                    g.bodies.join(", "),
                    if g.intents.is_empty() {
                        "-".to_string()
                    } else {
                        g.intents.join(", ")
                    },
                    if g.is_gap() {
                        format!("GAP: {}", g.reasons.join("; "))
                    } else {
                        String::new()
                    }
                );
            }
            Ok(())
        }
        HubCommand::Usecases { command } => usecases(db, command),
        HubCommand::Models { command } => models(db, command),
        HubCommand::Levels { json } => {
            let levels = open_read_only(db)?.levels()?;
            if json {
                return print_json(&levels);
            }
            if levels.is_empty() {
                outln!("no intelligence level recorded yet");
            }
            for l in levels {
                outln!("{:<30} L{}  (at {})", l.subject, l.level, l.at);
            }
            Ok(())
        }
        HubCommand::Guidance(g) => guidance(db, g),
        HubCommand::Serve { addr } => {
            let hub = open(db)?;
            let addr: std::net::SocketAddr =
                addr.parse().with_context(|| format!("--addr '{addr}'"))?;
            eprintln!("ai4ict hub serving on http://{addr} (Ctrl-C to stop)");
            ai4ict_server::serve_blocking(hub, addr)?;
            Ok(())
        }
        HubCommand::Bench {
            n,
            queries,
            seed,
            store,
            json,
        } => {
            let store = match store {
                Some(s) => ai4ict_hub::Store::open(&s)?,
                None => ai4ict_hub::Store::in_memory()?,
            };
            eprintln!(
                "generating {n} standards, timing {queries} searches and the cooperation map…"
            );
            let r = bench::run(store, n, queries, seed)?;
            if cfg!(debug_assertions) {
                eprintln!("note: debug build; build with --release for representative numbers");
            }
            if json {
                return print_json(&r);
            }
            outln!(
                "catalogue of {} generated standards ({} store)",
                r.n,
                r.store
            );
            outln!(
                "  insert {:.0} ms, load {:.0} ms, index {:.0} ms",
                r.insert_ms,
                r.load_ms,
                r.index_ms
            );
            outln!(
                "  search ({} queries): p50 {:.0} µs, p99 {:.0} µs  (goal p99 < 10 ms: {})",
                r.queries,
                r.search_p50_us,
                r.search_p99_us,
                if r.search_p99_us < 10_000.0 {
                    "met"
                } else {
                    "NOT met"
                }
            );
            outln!(
                "  full-scan baseline p99 {:.0} µs: the index is {:.0}x faster",
                r.scan_p99_us,
                r.scan_p99_us / r.search_p99_us.max(1e-9)
            );
            outln!(
                "  cooperation map: {:.0} ms, {} pairs  (goal < 5 s: {})",
                r.coop_ms,
                r.coop_pairs,
                if r.coop_ms < 5_000.0 {
                    "met"
                } else {
                    "NOT met"
                }
            );
            Ok(())
        }
    }
}

fn print_standard(s: &Standard) {
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

fn standards(db: Option<String>, command: StandardsCommand) -> anyhow::Result<()> {
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
                match r.due {
                    Some(due) => outln!(
                        "  next review due: {due} ({}-year cycle for {})",
                        r.cycle_years,
                        s.body
                    ),
                    None => outln!("  next review due: unknown (no year and no review recorded)"),
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

fn usecases(db: Option<String>, command: UsecaseCommand) -> anyhow::Result<()> {
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

fn print_model(m: &ai4ict_hub::ModelRecord) -> anyhow::Result<()> {
    print_json(m)
}

fn models(db: Option<String>, command: ModelCommand) -> anyhow::Result<()> {
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
            let client = ai4ict_server::client::Client::new(&from)?;
            let (rec, bytes) = client.pull(&name, &version)?;
            let local = hub.publish_model(&rec.metadata, &bytes)?;
            if let Some(out) = out {
                std::fs::write(&out, &bytes)
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
        ModelCommand::Push { to, name, version } => {
            let (rec, bytes) = hub
                .pull_model(&name, &version)?
                .with_context(|| format!("no model {name}@{version}"))?;
            let client = ai4ict_server::client::Client::new(&to)?;
            let remote = client.push(&rec.metadata, &bytes)?;
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

/// The flag that rates each factor, as `hub guidance` spells it.
fn factor_flag(f: Factor) -> &'static str {
    match f {
        Factor::OpenData => "--open-data",
        Factor::Research => "--research",
        Factor::Deployment => "--deployment",
        Factor::Standards => "--standards",
        Factor::OpenSource => "--open-source",
        Factor::Sandbox => "--sandbox",
    }
}

/// Asks for a rating of every factor on `output`, reading answers from `input`; an answer that
/// is not 0 to 4 is asked again.
fn ask_factors(
    input: &mut impl std::io::BufRead,
    output: &mut impl std::io::Write,
) -> anyhow::Result<std::collections::BTreeMap<Factor, u8>> {
    writeln!(
        output,
        "Rate each factor from 0 (none) to 4 (leading); the flags in brackets do the same \
         without asking."
    )?;
    let mut ratings = std::collections::BTreeMap::new();
    for f in Factor::ALL {
        loop {
            write!(output, "{} ({}): ", f.label(), factor_flag(f))?;
            output.flush()?;
            let mut line = String::new();
            if input.read_line(&mut line)? == 0 {
                bail!("the input ended before every factor was rated");
            }
            match line.trim().parse::<u8>() {
                Ok(v) if v <= 4 => {
                    ratings.insert(f, v);
                    break;
                }
                _ => writeln!(output, "  a whole number from 0 to 4, please")?,
            }
        }
    }
    Ok(ratings)
}

fn guidance(db: Option<String>, g: GuidanceArgs) -> anyhow::Result<()> {
    let flags = [
        (Factor::OpenData, g.open_data),
        (Factor::Research, g.research),
        (Factor::Deployment, g.deployment),
        (Factor::Standards, g.standards),
        (Factor::OpenSource, g.open_source),
        (Factor::Sandbox, g.sandbox),
    ];
    let mut a: Assessment = match &g.file {
        Some(f) => read_json(f)?,
        None if flags.iter().all(|(_, v)| v.is_none()) => {
            use std::io::IsTerminal;
            if !std::io::stdin().is_terminal() {
                let names: Vec<&str> = Factor::ALL.into_iter().map(factor_flag).collect();
                bail!(
                    "no ratings given, and standard input is not a terminal to ask them on: \
                     pass --file ASSESSMENT.json, or rate the factors from 0 (none) to 4 \
                     (leading) with {} (a factor left out counts as 0)",
                    names.join(", ")
                );
            }
            Assessment {
                factors: ask_factors(&mut std::io::stdin().lock(), &mut std::io::stderr())?,
                ..Assessment::default()
            }
        }
        None => Assessment::default(),
    };
    if let Some(org) = g.org {
        a.organisation = org;
    }
    for (f, v) in flags {
        if let Some(v) = v {
            a.factors.insert(f, v);
        }
    }
    for d in &g.domain {
        let d: Domain = d.parse()?;
        if !a.domains.contains(&d) {
            a.domains.push(d);
        }
    }
    let report = open_read_only(db)?.guidance(&a)?;
    let text = match g.format {
        Format::Markdown => report.to_markdown(),
        Format::Html => report.to_html(),
        Format::Json => serde_json::to_string_pretty(&report)?,
    };
    match g.out {
        Some(path) => {
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => out!("{text}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn guidance_asks_again_until_each_factor_is_rated() {
        let mut answers: &[u8] = b"3\n\n7\n2\n0\n4\nx\n1\n2\n";
        let mut shown = Vec::new();
        let ratings = super::ask_factors(&mut answers, &mut shown).unwrap();
        let shown = String::from_utf8(shown).unwrap();
        let values: Vec<u8> = ratings.values().copied().collect();
        assert_eq!(values, [3, 2, 0, 4, 1, 2], "{shown}");
        assert_eq!(shown.matches("0 to 4, please").count(), 3, "{shown}");
        assert!(shown.contains("Open source (--open-source): "), "{shown}");
        let mut short: &[u8] = b"1\n";
        let err = super::ask_factors(&mut short, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("ended before"), "{err}");
    }

    #[test]
    fn arguments_are_consistent() {
        // As mounted under the top-level command, which propagates `--version`.
        super::Args::command()
            .version("0")
            .propagate_version(true)
            .debug_assert();
    }
}
