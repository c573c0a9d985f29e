//! `ai4ict hub guidance`: the adoption guidance report for an assessment.

use std::path::PathBuf;

use ai4ict_hub::{Assessment, Domain, Factor};
use anyhow::{bail, Context};
use clap::ValueEnum;

use super::{open_read_only, read_json};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(super) enum Format {
    Markdown,
    Html,
    Json,
}

#[derive(clap::Args, Debug)]
pub(super) struct GuidanceArgs {
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

/// The flag that rates each factor, as `hub guidance` spells it.
pub(super) fn factor_flag(f: Factor) -> &'static str {
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
pub(super) fn ask_factors(
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

pub(super) fn run(db: Option<String>, g: GuidanceArgs) -> anyhow::Result<()> {
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
}
