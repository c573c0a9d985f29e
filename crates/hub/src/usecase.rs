//! AI-for-Good use cases: an intent applied to a Resolution 101 domain, tagged with the SDGs it
//! serves, backed by evidence (the metrics of a sandbox or benchmark run) and scored on a
//! stated rubric.
//!
//! # Rubric
//!
//! Four criteria, each scored 0 to 5, total 0 to 20. The criteria follow the ITU AI for Good
//! use-case call (clarity, SDG alignment, impact, future work/readiness); the points are this
//! project's and are computed, not judged, so anyone can reproduce a score:
//!
//! | Criterion | Points |
//! |---|---|
//! | **Clarity** | description of ≥ 10 words: 1, ≥ 25: 2, ≥ 50: 3; names an intent: +1; cites at least one standard: +1 |
//! | **SDG alignment** | 1–3 SDGs: 3, 4–6: 2, 7 or more: 1, none: 0; at least one SDG the domain directly serves ([`Domain::related_sdgs`]): +2 |
//! | **Measured impact** | evidence with ≥ 1 numeric metric: 2, ≥ 3: 3; evidence says its targets were met (`targets_met` or `passed` true in the metrics): +2 |
//! | **Readiness** | evidence from an identified run (non-empty `run_id`): 2; source names the sandbox or a benchmark: +1; evidence under 365 days old: +1; cites a standard in the catalogue: +1 |

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{check_sdgs, Domain};
use crate::error::{HubError, Result};
use crate::standards;
use crate::store::{RowExt, Store};
use crate::validate;

/// Evidence backing a use case: the metrics of one sandbox or benchmark run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Evidence {
    /// Identifier of the run (e.g. the report id of `ai4ict run`).
    pub run_id: String,
    /// The run's metrics as reported (a JSON object of numbers, plus `targets_met` if known).
    pub metrics: serde_json::Value,
    /// Where the run happened: `sandbox:<scenario>`, `benchmark:<name>`, `live:<site>`.
    pub source: String,
    /// When the run finished.
    pub at: DateTime<Utc>,
}

/// An AI-for-Good use case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UseCase {
    /// Unique name (usually the intent's name).
    pub name: String,
    /// The intent that implements it.
    pub intent: String,
    /// SDG numbers (1 to 17).
    pub sdgs: Vec<u8>,
    /// Resolution 101 domain.
    pub domain: Domain,
    /// What it does and for whom.
    pub description: String,
    /// Keys of the standards it implements (linked to the catalogue when present).
    #[serde(default)]
    pub standards: Vec<String>,
    /// The latest evidence, if any run backs it.
    #[serde(default)]
    pub evidence: Option<Evidence>,
}

const USECASES_CSV: &str = include_str!("../../../data/usecases.csv");

/// The use cases of the built-in intents (`intents/*.yaml`), from the shipped
/// `data/usecases.csv`, without evidence: add the metrics of a real run and register them.
pub fn builtin_use_cases() -> Result<Vec<UseCase>> {
    let file = "data/usecases.csv";
    let mut rdr = csv::Reader::from_reader(USECASES_CSV.as_bytes());
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| HubError::Data {
            file: file.into(),
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let err = |message: String| HubError::Data {
            file: file.into(),
            line,
            message,
        };
        let field = |i: usize| rec.get(i).unwrap_or("").trim();
        let list = |i: usize| -> Vec<String> {
            field(i)
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        };
        let sdgs = list(3)
            .iter()
            .map(|s| s.parse::<u8>().map_err(|e| err(format!("sdg '{s}': {e}"))))
            .collect::<Result<Vec<u8>>>()?;
        let uc = UseCase {
            name: field(0).into(),
            intent: field(1).into(),
            domain: field(2)
                .parse()
                .map_err(|e: ai4ict_core::UnknownDomain| err(e.to_string()))?,
            sdgs,
            standards: list(4),
            description: field(5).into(),
            evidence: None,
        };
        validate(&uc).map_err(|e| err(e.to_string()))?;
        out.push(uc);
    }
    Ok(out)
}

/// The built-in use case of an intent, if it has one.
pub fn builtin(intent: &str) -> Option<UseCase> {
    builtin_use_cases()
        .ok()?
        .into_iter()
        .find(|u| u.intent == intent)
}

/// A use case's rubric score (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Score {
    /// Clarity, 0–5.
    pub clarity: u8,
    /// SDG alignment, 0–5.
    pub sdg_alignment: u8,
    /// Measured impact, 0–5.
    pub measured_impact: u8,
    /// Readiness, 0–5.
    pub readiness: u8,
}

impl Score {
    /// Sum of the four criteria, 0–20.
    pub fn total(&self) -> u8 {
        self.clarity + self.sdg_alignment + self.measured_impact + self.readiness
    }
}

/// Scores a use case on the rubric at time `now`; `cited_in_catalogue` tells whether at least
/// one of its standards is in the catalogue.
pub fn score(uc: &UseCase, cited_in_catalogue: bool, now: DateTime<Utc>) -> Score {
    let words = uc.description.split_whitespace().count();
    let mut clarity = match words {
        w if w >= 50 => 3,
        w if w >= 25 => 2,
        w if w >= 10 => 1,
        _ => 0,
    };
    clarity += u8::from(!uc.intent.trim().is_empty()) + u8::from(!uc.standards.is_empty());

    let mut sdg = match uc.sdgs.len() {
        0 => 0,
        1..=3 => 3,
        4..=6 => 2,
        _ => 1,
    };
    if uc.sdgs.iter().any(|s| uc.domain.related_sdgs().contains(s)) {
        sdg += 2;
    }

    let (mut impact, mut readiness) = (0, 0);
    if let Some(ev) = &uc.evidence {
        let numeric = count_numbers(&ev.metrics);
        impact = match numeric {
            0 => 0,
            1 | 2 => 2,
            _ => 3,
        };
        let met = ["targets_met", "passed"]
            .iter()
            .any(|k| ev.metrics.get(k).and_then(|v| v.as_bool()) == Some(true));
        if numeric > 0 && met {
            impact += 2;
        }
        if !ev.run_id.trim().is_empty() {
            readiness += 2;
        }
        let src = ev.source.to_lowercase();
        if src.contains("sandbox") || src.contains("benchmark") {
            readiness += 1;
        }
        if (now - ev.at).num_days() < 365 {
            readiness += 1;
        }
    }
    readiness += u8::from(cited_in_catalogue);
    Score {
        clarity,
        sdg_alignment: sdg,
        measured_impact: impact,
        readiness,
    }
}

fn count_numbers(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Number(_) => 1,
        serde_json::Value::Object(m) => m.values().map(count_numbers).sum(),
        serde_json::Value::Array(a) => a.iter().map(count_numbers).sum(),
        _ => 0,
    }
}

/// A stored use case with its score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UseCaseRecord {
    /// The use case.
    #[serde(flatten)]
    pub use_case: UseCase,
    /// Its rubric score now.
    pub score: Score,
    /// When it was first registered.
    pub registered_at: String,
    /// When it was last updated.
    pub updated_at: String,
}

fn validate(uc: &UseCase) -> Result<UseCase> {
    let mut uc = uc.clone();
    uc.name = uc.name.trim().to_string();
    validate::name("name", &uc.name)?;
    validate::name("intent", uc.intent.trim())?;
    uc.sdgs = check_sdgs(&uc.sdgs)?;
    if let Some(ev) = &uc.evidence {
        let Some(metrics) = ev.metrics.as_object() else {
            return Err(HubError::invalid(
                "evidence.metrics",
                "must be a JSON object of metric names to values",
            ));
        };
        for (k, v) in metrics {
            if let Some(x) = v.as_f64() {
                validate::metric("evidence.metrics", k, x)?;
            }
        }
        validate::not_future("evidence.at", ev.at, Utc::now())?;
    }
    Ok(uc)
}

/// Registers or updates a use case. Its standards that exist in the catalogue get its intent
/// linked as implementing them.
pub(crate) fn register(store: &mut Store, uc: &UseCase) -> Result<()> {
    let uc = validate(uc)?;
    let now = crate::now_rfc3339();
    store.execute(
        "INSERT INTO use_cases (name, intent, sdgs, domain, description, standards, evidence, \
         registered_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (name) DO UPDATE SET intent = excluded.intent, sdgs = excluded.sdgs, \
         domain = excluded.domain, description = excluded.description, \
         standards = excluded.standards, evidence = excluded.evidence, \
         updated_at = excluded.updated_at",
        &[
            uc.name.clone().into(),
            uc.intent.trim().into(),
            serde_json::to_string(&uc.sdgs)?.into(),
            uc.domain.as_str().into(),
            uc.description.clone().into(),
            serde_json::to_string(&uc.standards)?.into(),
            uc.evidence
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?
                .into(),
            now.clone().into(),
            now.into(),
        ],
    )?;
    for key in &uc.standards {
        if let Some(id) = standards::find_id(store, key).ok().flatten() {
            store.execute(
                "INSERT INTO standard_intents (standard_id, intent) VALUES (?, ?) \
                 ON CONFLICT DO NOTHING",
                &[id.into(), uc.intent.trim().into()],
            )?;
        }
    }
    standards::log_change(
        store,
        "use_case",
        &uc.name,
        "register",
        &serde_json::to_value(&uc)?,
    )
}

/// All use cases (or one, by name), scored.
/// Use cases by name; a stored row that cannot be read is listed as its error, in place.
pub(crate) fn list(store: &mut Store, name: Option<&str>) -> Result<Vec<Result<UseCaseRecord>>> {
    const Q: &str = "SELECT name, intent, sdgs, domain, description, standards, evidence, \
                     registered_at, updated_at FROM use_cases";
    let rows = match name {
        Some(n) => store.query(&format!("{Q} WHERE name = ?"), &[n.trim().into()])?,
        None => store.query(&format!("{Q} ORDER BY name"), &[])?,
    };
    let now = Utc::now();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let uc = match stored(&r) {
            Ok(uc) => uc,
            Err(e) => {
                out.push(Err(e));
                continue;
            }
        };
        let mut cited = false;
        for k in &uc.standards {
            if standards::find_id(store, k).ok().flatten().is_some() {
                cited = true;
                break;
            }
        }
        out.push(r.text(7).and_then(|registered_at| {
            Ok(UseCaseRecord {
                score: score(&uc, cited, now),
                use_case: uc,
                registered_at,
                updated_at: r.text(8)?,
            })
        }));
    }
    Ok(out)
}

/// A use case from its stored row; what does not parse is [`HubError::Corrupt`].
fn stored(r: &crate::store::Row) -> Result<UseCase> {
    let name = r.text(0)?;
    let corrupt = |what: &str, e: &dyn std::fmt::Display| {
        HubError::Corrupt(format!("{what} of use case '{name}': {e}"))
    };
    Ok(UseCase {
        intent: r.text(1)?,
        sdgs: serde_json::from_str(&r.text(2)?).map_err(|e| corrupt("sdgs", &e))?,
        domain: r
            .text(3)?
            .parse()
            .map_err(|e: ai4ict_core::UnknownDomain| corrupt("domain", &e))?,
        description: r.text(4)?,
        standards: serde_json::from_str(&r.text(5)?).map_err(|e| corrupt("standards", &e))?,
        evidence: r
            .opt_text(6)?
            .map(|e| serde_json::from_str(&e))
            .transpose()
            .map_err(|e| corrupt("evidence", &e))?,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uc() -> UseCase {
        UseCase {
            name: "energy-saving".into(),
            intent: "cell-energy-saving".into(),
            sdgs: vec![7, 13],
            domain: Domain::Energy,
            description: "Switch off capacity cells at night when the forecast load allows it, \
                          keeping coverage; cuts radio energy use."
                .into(),
            standards: vec!["3GPP TS 38.300 cl.16.20".into()],
            evidence: Some(Evidence {
                run_id: "run-1".into(),
                metrics: serde_json::json!({"energy_saved_pct": 18.5, "drop_rate": 0.01,
                                            "p99_latency_ms": 3.0, "targets_met": true}),
                source: "sandbox:urban".into(),
                at: Utc::now(),
            }),
        }
    }

    #[test]
    fn rubric_scores_as_documented() {
        let s = score(&uc(), true, Utc::now());
        assert_eq!(
            s,
            Score {
                clarity: 3,
                sdg_alignment: 5,
                measured_impact: 5,
                readiness: 5
            }
        );
        assert_eq!(s.total(), 18);
        let mut bare = uc();
        bare.evidence = None;
        bare.sdgs = vec![1, 2, 3, 4, 5, 6, 14];
        bare.standards.clear();
        let s = score(&bare, false, Utc::now());
        assert_eq!(
            s,
            Score {
                clarity: 2,
                sdg_alignment: 1,
                measured_impact: 0,
                readiness: 0
            }
        );
    }

    #[test]
    fn every_builtin_intent_has_a_use_case() {
        let all = builtin_use_cases().unwrap();
        let intents = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../intents");
        let mut names: Vec<String> = std::fs::read_dir(&intents)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let p = e.path();
                (p.extension()? == "yaml").then(|| p.file_stem()?.to_str().map(String::from))?
            })
            .collect();
        names.sort();
        assert!(!names.is_empty());
        for n in &names {
            assert!(
                builtin(n).is_some(),
                "intents/{n}.yaml has no row in data/usecases.csv"
            );
        }
        // Its cited standards are all in the shipped catalogue, and it scores on every criterion
        // but the evidence ones until a run backs it.
        let seed = crate::standards::seed_standards().unwrap();
        for u in &all {
            for k in &u.standards {
                assert!(seed.iter().any(|s| s.key() == *k), "{}: {k}", u.name);
            }
            let s = score(u, true, Utc::now());
            assert!(s.clarity >= 4 && s.sdg_alignment == 5, "{}: {s:?}", u.name);
            assert_eq!(s.measured_impact, 0);
        }
    }

    #[test]
    fn validation_rejects_bad_input() {
        let mut u = uc();
        u.sdgs = vec![0];
        assert!(validate(&u).is_err());
        let mut u = uc();
        u.name = " ".into();
        assert!(validate(&u).is_err());
        let mut u = uc();
        if let Some(e) = u.evidence.as_mut() {
            e.metrics = serde_json::json!([1, 2]);
        }
        assert!(validate(&u).is_err());
    }
}
