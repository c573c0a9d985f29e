//! Guidance for adopters: a readiness self-assessment on the six factors of the ITU AI Ready
//! framework (Report 2.0, 2026: open data, research, deployment, standards, open source,
//! sandbox) turned into recommended intents, standards to read and next steps, as Markdown or
//! HTML.
//!
//! Each factor is self-rated 0–4: 0 none, 1 initial, 2 developing, 3 established, 4 leading.
//! Readiness is the mean rating as a percentage; the stage is *starting* below 40 %,
//! *developing* below 75 %, *advanced* from 75 %. Factors rated 2 or less get a next step,
//! weakest first. A starting organisation is only recommended intents backed by evidence.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::domain::Domain;
use crate::error::{HubError, Result};
use crate::standards::Standard;
use crate::usecase::UseCaseRecord;

/// The six AI readiness factors (ITU AI Ready, Report 2.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    /// Availability of open, usable data.
    OpenData,
    /// Research capacity.
    Research,
    /// Deployment of AI in operations.
    Deployment,
    /// Participation in and use of standards.
    Standards,
    /// Open-source use and contribution.
    OpenSource,
    /// Access to sandboxes for safe experimentation.
    Sandbox,
}

impl Factor {
    /// All factors.
    pub const ALL: [Factor; 6] = [
        Factor::OpenData,
        Factor::Research,
        Factor::Deployment,
        Factor::Standards,
        Factor::OpenSource,
        Factor::Sandbox,
    ];

    /// Human name.
    pub fn label(self) -> &'static str {
        match self {
            Factor::OpenData => "Open data",
            Factor::Research => "Research",
            Factor::Deployment => "Deployment",
            Factor::Standards => "Standards",
            Factor::OpenSource => "Open source",
            Factor::Sandbox => "Sandbox",
        }
    }

    fn next_step(self) -> &'static str {
        match self {
            Factor::OpenData => "Collect network telemetry with documented data models (ITU-T Y.3174) and publish an anonymised sample; until then, learn on the simulated underlay, whose data carries ground truth.",
            Factor::Research => "Reproduce a public benchmark (`ai4ict bench`) and compare the shipped detectors and forecasters on your own data before building new models.",
            Factor::Deployment => "Run one ready-made intent end to end in shadow mode (alerts only, no actions) and check its report against the intent's targets (`ai4ict run`).",
            Factor::Standards => "Read the standards listed here, give each an owner and follow their review dates (`ai4ict hub review-due`); ITU-T SG13 leads ML for future networks.",
            Factor::OpenSource => "Publish trained models with their metadata to a hub (`ai4ict hub models publish`) and reuse peers' models (`ai4ict hub models pull`).",
            Factor::Sandbox => "Evaluate every model in the ML sandbox (ITU-T Y.3181) before live use: the same intent runs on the simulated underlay with evaluation plug-ins.",
        }
    }

    /// Standards (catalogue keys) that help most where this factor is weak.
    fn standards(self) -> &'static [&'static str] {
        match self {
            Factor::OpenData => &["ITU-T Y.3174", "ISO/IEC 8183", "ISO/IEC 5259-1"],
            Factor::Research => &["ITU-T F.748.11", "ITU-T P.1402"],
            Factor::Deployment => &["ITU-T Y.3179", "3GPP TS 28.105", "ITU-T Y.3177"],
            Factor::Standards => &["ISO/IEC 22989", "ISO/IEC 23053"],
            Factor::OpenSource => &["ITU-T Y.3176"],
            Factor::Sandbox => &["ITU-T Y.3181"],
        }
    }
}

/// A self-assessment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Assessment {
    /// Organisation or country assessed (for the report title).
    #[serde(default)]
    pub organisation: String,
    /// Rating per factor, 0–4; a missing factor counts as 0.
    #[serde(default)]
    pub factors: BTreeMap<Factor, u8>,
    /// Domains of interest; empty means all.
    #[serde(default)]
    pub domains: Vec<Domain>,
}

/// A recommended intent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentRecommendation {
    /// Intent name.
    pub intent: String,
    /// The use case it comes from.
    pub use_case: String,
    /// Its domain.
    pub domain: Domain,
    /// Its rubric score, 0–20.
    pub score: u8,
    /// Whether a run backs it.
    pub has_evidence: bool,
}

/// A standard to read and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reading {
    /// Catalogue key.
    pub key: String,
    /// Title.
    pub title: String,
    /// Why it is recommended.
    pub why: String,
}

/// The guidance report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Guidance {
    /// Organisation assessed.
    pub organisation: String,
    /// Ratings, per factor.
    pub factors: Vec<(Factor, u8)>,
    /// Mean rating as a percentage.
    pub readiness: f64,
    /// `starting`, `developing` or `advanced`.
    pub stage: String,
    /// Intents to start with.
    pub intents: Vec<IntentRecommendation>,
    /// Standards to read.
    pub standards: Vec<Reading>,
    /// Next steps, weakest factor first.
    pub next_steps: Vec<(Factor, String)>,
}

/// Builds the guidance from an assessment, the catalogue and the registered use cases.
pub fn guidance(
    a: &Assessment,
    catalogue: &[Standard],
    use_cases: &[UseCaseRecord],
) -> Result<Guidance> {
    if let Some((f, v)) = a.factors.iter().find(|(_, v)| **v > 4) {
        return Err(HubError::invalid(
            f.label(),
            format!("rating {v} is out of range (0 to 4)"),
        ));
    }
    let factors: Vec<(Factor, u8)> = Factor::ALL
        .iter()
        .map(|f| (*f, a.factors.get(f).copied().unwrap_or(0)))
        .collect();
    let readiness = factors.iter().map(|(_, v)| f64::from(*v)).sum::<f64>() / 24.0 * 100.0;
    let stage = if readiness < 40.0 {
        "starting"
    } else if readiness < 75.0 {
        "developing"
    } else {
        "advanced"
    };
    let mut weak: Vec<(Factor, u8)> = factors.iter().copied().filter(|(_, v)| *v <= 2).collect();
    weak.sort_by_key(|(f, v)| (*v, *f));

    let wanted = |d: &Domain| a.domains.is_empty() || a.domains.contains(d);
    let mut intents: Vec<IntentRecommendation> = use_cases
        .iter()
        .filter(|u| wanted(&u.use_case.domain))
        .filter(|u| stage != "starting" || u.use_case.evidence.is_some())
        .map(|u| IntentRecommendation {
            intent: u.use_case.intent.clone(),
            use_case: u.use_case.name.clone(),
            domain: u.use_case.domain,
            score: u.score.total(),
            has_evidence: u.use_case.evidence.is_some(),
        })
        .collect();
    intents.sort_by(|x, y| y.score.cmp(&x.score).then(x.intent.cmp(&y.intent)));
    intents.dedup_by(|x, y| x.intent == y.intent);
    intents.truncate(5);

    let find = |key: &str| catalogue.iter().find(|s| s.key().eq_ignore_ascii_case(key));
    let mut standards: Vec<Reading> = Vec::new();
    let push = |s: &Standard, why: String, list: &mut Vec<Reading>| {
        if !list.iter().any(|r| r.key == s.key()) {
            list.push(Reading {
                key: s.key(),
                title: s.title.clone(),
                why,
            });
        }
    };
    for (key, why) in [
        (
            "ITU-T Y.3172",
            "the architecture every ai4ict pipeline follows",
        ),
        (
            "ITU-T Y.3173",
            "how to rate and report the intelligence level reached",
        ),
    ] {
        if let Some(s) = find(key) {
            push(s, why.to_string(), &mut standards);
        }
    }
    for (f, _) in &weak {
        for key in f.standards() {
            if let Some(s) = find(key) {
                push(
                    s,
                    format!("{} is weak", f.label().to_lowercase()),
                    &mut standards,
                );
            }
        }
    }
    for d in Domain::ALL
        .iter()
        .filter(|d| !a.domains.is_empty() && wanted(d))
    {
        let mut of: Vec<&Standard> = catalogue.iter().filter(|s| s.domains.contains(d)).collect();
        of.sort_by(|x, y| y.year.cmp(&x.year).then(x.key().cmp(&y.key())));
        for s in of.into_iter().take(2) {
            push(s, format!("recent standard for {d}"), &mut standards);
        }
    }
    let next_steps = weak
        .iter()
        .map(|(f, _)| (*f, f.next_step().to_string()))
        .collect();
    Ok(Guidance {
        organisation: if a.organisation.trim().is_empty() {
            "your organisation".into()
        } else {
            a.organisation.trim().into()
        },
        factors,
        readiness,
        stage: stage.into(),
        intents,
        standards,
        next_steps,
    })
}

impl Guidance {
    /// The report as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# AI readiness guidance for {}\n", self.organisation);
        let _ = writeln!(
            s,
            "Readiness **{:.0} %** — stage **{}** (ITU AI Ready factors, self-rated 0–4).\n",
            self.readiness, self.stage
        );
        let _ = writeln!(s, "| Factor | Rating |\n|---|---|");
        for (f, v) in &self.factors {
            let _ = writeln!(s, "| {} | {v} / 4 |", f.label());
        }
        let _ = writeln!(s, "\n## Recommended intents\n");
        if self.intents.is_empty() {
            let _ = writeln!(
                s,
                "No registered use case matches yet; run a ready-made intent on the sandbox first."
            );
        }
        for i in &self.intents {
            let _ = writeln!(
                s,
                "- `{}` ({}; use case {}, score {}/20{})",
                i.intent,
                i.domain,
                i.use_case,
                i.score,
                if i.has_evidence {
                    ", evidence from a run"
                } else {
                    ""
                }
            );
        }
        let _ = writeln!(s, "\n## Standards to read\n");
        for r in &self.standards {
            let _ = writeln!(s, "- **{}** — {} ({})", r.key, r.title, r.why);
        }
        let _ = writeln!(s, "\n## Next steps\n");
        if self.next_steps.is_empty() {
            let _ = writeln!(
                s,
                "Every factor is established: share your use cases and models through the hub."
            );
        }
        for (n, (f, step)) in self.next_steps.iter().enumerate() {
            let _ = writeln!(s, "{}. **{}**: {step}", n + 1, f.label());
        }
        s
    }

    /// The report as a standalone HTML page.
    pub fn to_html(&self) -> String {
        let e = escape;
        let mut s = String::new();
        let _ = write!(
            s,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>AI readiness guidance for {org}</title>\
             <style>body{{font-family:sans-serif;max-width:50em;margin:2em auto}}\
             td,th{{border:1px solid #ccc;padding:.3em .6em}}table{{border-collapse:collapse}}</style>\
             </head><body>\n<h1>AI readiness guidance for {org}</h1>\n\
             <p>Readiness <strong>{:.0} %</strong> — stage <strong>{}</strong> \
             (ITU AI Ready factors, self-rated 0–4).</p>\n<table><tr><th>Factor</th><th>Rating</th></tr>\n",
            self.readiness,
            e(&self.stage),
            org = e(&self.organisation)
        );
        for (f, v) in &self.factors {
            let _ = writeln!(s, "<tr><td>{}</td><td>{v} / 4</td></tr>", f.label());
        }
        let _ = writeln!(s, "</table>\n<h2>Recommended intents</h2>\n<ul>");
        for i in &self.intents {
            let _ = writeln!(
                s,
                "<li><code>{}</code> ({}; use case {}, score {}/20{})</li>",
                e(&i.intent),
                i.domain,
                e(&i.use_case),
                i.score,
                if i.has_evidence {
                    ", evidence from a run"
                } else {
                    ""
                }
            );
        }
        let _ = writeln!(s, "</ul>\n<h2>Standards to read</h2>\n<ul>");
        for r in &self.standards {
            let _ = writeln!(
                s,
                "<li><strong>{}</strong> — {} ({})</li>",
                e(&r.key),
                e(&r.title),
                e(&r.why)
            );
        }
        let _ = writeln!(s, "</ul>\n<h2>Next steps</h2>\n<ol>");
        for (f, step) in &self.next_steps {
            let _ = writeln!(s, "<li><strong>{}</strong>: {}</li>", f.label(), e(step));
        }
        let _ = writeln!(s, "</ol>\n</body></html>");
        s
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_factors_drive_steps_and_reading() {
        let cat = crate::standards::seed_standards().unwrap();
        let mut a = Assessment {
            organisation: "Operator <X>".into(),
            domains: vec![Domain::Energy],
            ..Default::default()
        };
        for f in Factor::ALL {
            a.factors.insert(f, 3);
        }
        a.factors.insert(Factor::Sandbox, 0);
        let g = guidance(&a, &cat, &[]).unwrap();
        assert_eq!(g.stage, "developing");
        assert_eq!(g.next_steps.len(), 1);
        assert_eq!(g.next_steps[0].0, Factor::Sandbox);
        let keys: Vec<&str> = g.standards.iter().map(|r| r.key.as_str()).collect();
        assert!(keys.contains(&"ITU-T Y.3181"), "{keys:?}");
        assert!(keys.contains(&"ITU-T L.1801"), "{keys:?}");
        assert!(g.to_html().contains("Operator &lt;X&gt;"));
        assert!(g.to_markdown().contains("| Sandbox | 0 / 4 |"));
        a.factors.insert(Factor::Research, 9);
        assert!(guidance(&a, &cat, &[]).is_err());
    }
}
