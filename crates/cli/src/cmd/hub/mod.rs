//! `ai4ict hub …`: the standards catalogue, cooperation map, use cases, model marketplace and
//! guidance (crate `ai4ict-hub`), and the hub's HTTP server (crate `ai4ict-server`).

use std::path::PathBuf;

use ai4ict_hub::{bench, CoopOptions, Hub};
use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

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
    /// Serve the hub over HTTP (catalogue, use cases, marketplace API); writes need a token.
    ///
    /// Writes need the write token (`Authorization: Bearer …`): from --token-file, else
    /// $AI4ICT_HUB_TOKEN, else, on a loopback address, the token file next to the hub database
    /// (made at first start, mode 0600, printed once). Bound beyond loopback without
    /// --token-file or $AI4ICT_HUB_TOKEN, the hub is served read-only. Every write attempt is
    /// appended to the audit log; every request is logged on stderr.
    Serve(ServeArgs),
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

mod guidance;
mod models;
pub(crate) mod serve;
mod standards;
mod usecases;

use guidance::GuidanceArgs;
use models::ModelCommand;
use serve::ServeArgs;
use standards::StandardsCommand;
use usecases::UsecaseCommand;

fn db_location(db: Option<String>) -> anyhow::Result<String> {
    if let Some(db) = db.or_else(|| std::env::var("AI4ICT_HUB").ok()) {
        return Ok(db);
    }
    Ok(data_dir()?.join("hub.db").to_string_lossy().into_owned())
}

/// `$XDG_DATA_HOME/ai4ict`, else `~/.local/share/ai4ict`.
fn data_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .context("no --db given and neither AI4ICT_HUB, XDG_DATA_HOME nor HOME is set")?;
    Ok(base.join("ai4ict"))
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
        HubCommand::Standards { command } => standards::run(db, command),
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
                let state = match (i.overdue_days, i.no_review) {
                    (Some(d), _) if d >= 0 => format!("overdue {d} d"),
                    (Some(d), _) => format!("in {} d", -d),
                    (None, Some(why)) => why.as_str().to_string(),
                    (None, None) => "unknown".to_string(),
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
        HubCommand::Usecases { command } => usecases::run(db, command),
        HubCommand::Models { command } => models::run(db, command),
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
        HubCommand::Guidance(g) => guidance::run(db, g),
        HubCommand::Serve(args) => serve::run(db, args),
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn arguments_are_consistent() {
        // As mounted under the top-level command, which propagates `--version`.
        super::Args::command()
            .version("0")
            .propagate_version(true)
            .debug_assert();
    }
}
