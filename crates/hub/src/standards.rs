//! The AI standards catalogue: records, seed data, editing with a change log, review cycles.
//!
//! Resolution 101 asks for periodic review of AI Recommendations; each standard records its
//! editions, supersession links, last review and (derived) next review due, computed from a
//! review cycle configured per body.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::domain::{format_domains, parse_domains, Domain};
use crate::error::{HubError, Result};
use crate::store::{RowExt, Store, Value};

/// One standard (Recommendation, technical specification or report, ISO/IEC standard, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Standard {
    /// Issuing body, e.g. `ITU-T`, `3GPP`, `ETSI`, `ISO/IEC`, `IEEE`, `O-RAN`.
    pub body: String,
    /// Number within the body, e.g. `Y.3172`, `TS 28.105`.
    pub number: String,
    /// Title.
    pub title: String,
    /// Study group, working group or committee (`SG13`, `SA5`, `JTC 1/SC 42`).
    #[serde(default)]
    pub group: String,
    /// Year of (first) publication, when known.
    #[serde(default)]
    pub year: Option<i32>,
    /// Status as published (`In force`, `Published (09/2020)`, `draft`, …).
    #[serde(default)]
    pub status: String,
    /// Resolution 101 domains; empty for a cross-cutting standard.
    #[serde(default)]
    pub domains: Vec<Domain>,
    /// One-paragraph scope.
    #[serde(default)]
    pub scope: String,
    /// Editions and versions seen, oldest first.
    #[serde(default)]
    pub editions: Vec<String>,
    /// Key (`BODY NUMBER`) of the document this one supersedes, if any.
    #[serde(default)]
    pub supersedes: String,
    /// Key of the document that supersedes this one, if any.
    #[serde(default)]
    pub superseded_by: String,
    /// Date of the last review of this entry.
    #[serde(default)]
    pub last_review: Option<NaiveDate>,
    /// Where the facts come from; `[U]` marks facts not verified against the document.
    #[serde(default)]
    pub source: String,
    /// Names of the intents that implement this standard.
    #[serde(default)]
    pub intents: Vec<String>,
}

impl Standard {
    /// A standard with the required fields and everything else empty.
    pub fn new(body: &str, number: &str, title: &str) -> Standard {
        Standard {
            body: body.trim().to_string(),
            number: number.trim().to_string(),
            title: title.trim().to_string(),
            group: String::new(),
            year: None,
            status: String::new(),
            domains: Vec::new(),
            scope: String::new(),
            editions: Vec::new(),
            supersedes: String::new(),
            superseded_by: String::new(),
            last_review: None,
            source: String::new(),
            intents: Vec::new(),
        }
    }

    /// The catalogue key, `BODY NUMBER` (e.g. `ITU-T Y.3172`).
    pub fn key(&self) -> String {
        format!("{} {}", self.body, self.number)
    }

    fn validate(&self) -> Result<()> {
        for (field, v) in [
            ("body", &self.body),
            ("number", &self.number),
            ("title", &self.title),
        ] {
            if v.trim().is_empty() {
                return Err(HubError::invalid(field, "must not be empty"));
            }
        }
        if let Some(y) = self.year {
            if !(1900..=2200).contains(&y) {
                return Err(HubError::invalid("year", format!("{y} is out of range")));
            }
        }
        Ok(())
    }
}

/// Changes to apply to a standard; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StandardPatch {
    /// New title.
    pub title: Option<String>,
    /// New group.
    pub group: Option<String>,
    /// New year (`Some(None)` clears it).
    pub year: Option<Option<i32>>,
    /// New status.
    pub status: Option<String>,
    /// New domain list.
    pub domains: Option<Vec<Domain>>,
    /// New scope.
    pub scope: Option<String>,
    /// Edition to append.
    pub add_edition: Option<String>,
    /// New supersedes key.
    pub supersedes: Option<String>,
    /// New superseded-by key.
    pub superseded_by: Option<String>,
    /// New last-review date.
    pub last_review: Option<NaiveDate>,
    /// New source note.
    pub source: Option<String>,
    /// Intents to link as implementing the standard.
    pub add_intents: Vec<String>,
    /// Intents to unlink.
    pub remove_intents: Vec<String>,
}

/// One entry of the change log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// What kind of item: `standard`, `review_cycle`, `use_case`, `model`, `alias`.
    pub entity: String,
    /// The item's key.
    pub item: String,
    /// `add`, `edit`, `seed`, `register`, `publish`, `set`.
    pub action: String,
    /// The change: for an edit, `{field: [old, new]}`.
    pub detail: serde_json::Value,
}

/// The review cycle of one body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewCycle {
    /// Body name as in the catalogue.
    pub body: String,
    /// Years between reviews.
    pub years: u32,
    /// True when set by a user, false for a built-in default.
    pub configured: bool,
}

/// Built-in review cycles, in years, used until a user sets one. ISO/IEC: the five-year
/// systematic review; IEEE: standards are revised or reaffirmed within ten years; O-RAN: a
/// release cadence of about two years; everything else: four years (one ITU-T study period).
pub const DEFAULT_REVIEW_CYCLES: &[(&str, u32)] = &[
    ("ITU-T", 4),
    ("ITU", 4),
    ("ISO/IEC", 5),
    ("IEEE", 10),
    ("ETSI", 4),
    ("O-RAN", 2),
];

/// Bodies whose specifications are revised release by release (each release is a new version
/// of the same number), so no review falls due, unless a user sets a cycle for them.
pub const CONTINUOUSLY_REVISED: &[&str] = &["3GPP"];

/// Review cycle for bodies not in [`DEFAULT_REVIEW_CYCLES`] nor configured.
pub const FALLBACK_REVIEW_YEARS: u32 = 4;

/// Why a standard has no review due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoReview {
    /// Replaced by a newer document (a `superseded_by` link, or a status "Superseded …"): the
    /// successor is reviewed instead.
    Superseded,
    /// Withdrawn by its body (status "Withdrawn …").
    Withdrawn,
    /// Revised release by release ([`CONTINUOUSLY_REVISED`]).
    ContinuouslyRevised,
}

impl NoReview {
    /// Why `s` has no review due, if it has none.
    pub fn of(s: &Standard, configured: bool) -> Option<NoReview> {
        let status = s.status.to_lowercase();
        if !s.superseded_by.is_empty() || status.starts_with("superseded") {
            Some(NoReview::Superseded)
        } else if status.starts_with("withdrawn") {
            Some(NoReview::Withdrawn)
        } else if !configured
            && CONTINUOUSLY_REVISED
                .iter()
                .any(|b| b.eq_ignore_ascii_case(&s.body))
        {
            Some(NoReview::ContinuouslyRevised)
        } else {
            None
        }
    }

    /// Short description, e.g. "superseded".
    pub fn as_str(self) -> &'static str {
        match self {
            NoReview::Superseded => "superseded",
            NoReview::Withdrawn => "withdrawn",
            NoReview::ContinuouslyRevised => "continuously revised",
        }
    }
}

/// A standard's review status at a given date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReviewItem {
    /// Catalogue key.
    pub key: String,
    /// Title.
    pub title: String,
    /// The date the cycle counts from: the last review, else 1 January of the publication
    /// year; `None` when neither is known.
    pub basis: Option<NaiveDate>,
    /// Next review due; `None` when there is no basis.
    pub due: Option<NaiveDate>,
    /// Days past due at the evaluation date (negative: days left).
    pub overdue_days: Option<i64>,
    /// The cycle applied, in years; `None` when no review falls due.
    pub cycle_years: Option<u32>,
    /// Why no review falls due (then `due` and `overdue_days` are `None`).
    pub no_review: Option<NoReview>,
}

const STANDARDS_CSV: &str = include_str!("../../../data/standards.csv");

/// Parses the shipped seed catalogue (`data/standards.csv`).
pub fn seed_standards() -> Result<Vec<Standard>> {
    parse_standards_csv(STANDARDS_CSV, "data/standards.csv")
}

/// Parses a catalogue CSV with the columns of `data/standards.csv` (header required; `body`,
/// `number`, `title` mandatory; other columns optional). Errors name the file and line.
pub fn parse_standards_csv(text: &str, file: &str) -> Result<Vec<Standard>> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| HubError::Data {
            file: file.into(),
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(ib), Some(inum), Some(it)) = (col("body"), col("number"), col("title")) else {
        return Err(HubError::Data {
            file: file.into(),
            line: 1,
            message: "header must name body, number and title".into(),
        });
    };
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
        let get = |name: &str| {
            col(name)
                .and_then(|i| rec.get(i))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let mut s = Standard::new(
            rec.get(ib).unwrap_or(""),
            rec.get(inum).unwrap_or(""),
            rec.get(it).unwrap_or(""),
        );
        s.group = get("group");
        let year = get("year");
        s.year = if year.is_empty() {
            None
        } else {
            Some(
                year.parse()
                    .map_err(|_| err(format!("year '{year}' is not a number")))?,
            )
        };
        s.status = get("status");
        s.domains = parse_domains(&get("domains")).map_err(|e| err(e.to_string()))?;
        s.scope = get("scope");
        s.editions = get("editions")
            .split(';')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(String::from)
            .collect();
        s.supersedes = get("supersedes");
        s.superseded_by = get("superseded_by");
        let lr = get("last_review");
        s.last_review = if lr.is_empty() {
            None
        } else {
            Some(parse_date(&lr).map_err(|e| err(e.to_string()))?)
        };
        s.source = get("source");
        s.validate().map_err(|e| err(e.to_string()))?;
        out.push(s);
    }
    Ok(out)
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|e| HubError::invalid("date", format!("'{s}': {e} (expected YYYY-MM-DD)")))
}

const COLUMNS: &str = "id, body, number, title, grp, year, status, domains, scope, editions, \
                       supersedes, superseded_by, last_review, source";

fn from_row(r: &crate::store::Row) -> Result<(i64, Standard)> {
    let editions: Vec<String> = serde_json::from_str(&r.text(9)?)?;
    let mut s = Standard::new(&r.text(1)?, &r.text(2)?, &r.text(3)?);
    s.group = r.text(4)?;
    s.year = r
        .opt_int(5)?
        .map(|y| i32::try_from(y).map_err(|_| HubError::Corrupt(format!("year {y}"))))
        .transpose()?;
    s.status = r.text(6)?;
    s.domains = parse_domains(&r.text(7)?).map_err(|e| HubError::Corrupt(e.to_string()))?;
    s.scope = r.text(8)?;
    s.editions = editions;
    s.supersedes = r.text(10)?;
    s.superseded_by = r.text(11)?;
    s.last_review = r
        .opt_text(12)?
        .map(|d| parse_date(&d).map_err(|e| HubError::Corrupt(e.to_string())))
        .transpose()?;
    s.source = r.text(13)?;
    Ok((r.int(0)?, s))
}

fn params(s: &Standard) -> Result<Vec<Value>> {
    Ok(vec![
        s.body.clone().into(),
        s.number.clone().into(),
        s.title.clone().into(),
        s.group.clone().into(),
        s.year.map(i64::from).into(),
        s.status.clone().into(),
        format_domains(&s.domains).into(),
        s.scope.clone().into(),
        serde_json::to_string(&s.editions)?.into(),
        s.supersedes.clone().into(),
        s.superseded_by.clone().into(),
        s.last_review.map(|d| d.to_string()).into(),
        s.source.clone().into(),
        crate::now_rfc3339().into(),
    ])
}

pub(crate) fn log_change(
    store: &mut Store,
    entity: &str,
    item: &str,
    action: &str,
    detail: &serde_json::Value,
) -> Result<()> {
    store.execute(
        "INSERT INTO change_log (at, entity, item, action, detail) VALUES (?, ?, ?, ?, ?)",
        &[
            crate::now_rfc3339().into(),
            entity.into(),
            item.into(),
            action.into(),
            serde_json::to_string(detail)?.into(),
        ],
    )?;
    Ok(())
}

/// Inserts a standard; fails with [`HubError::AlreadyExists`] when its key is taken.
pub(crate) fn insert(store: &mut Store, s: &Standard, action: &str) -> Result<()> {
    s.validate()?;
    let taken = exact_id(store, &s.body, &s.number)?.is_some()
        || (action != "bulk" && find_id(store, &s.key())?.is_some());
    if taken {
        return Err(HubError::AlreadyExists(s.key()));
    }
    let rows = store.query(
        "INSERT INTO standards (body, number, title, grp, year, status, domains, scope, editions, \
         supersedes, superseded_by, last_review, source, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        &params(s)?,
    )?;
    let id = rows
        .first()
        .ok_or_else(|| HubError::Corrupt("insert returned no id".into()))?
        .int(0)?;
    for intent in &s.intents {
        link(store, id, intent)?;
    }
    if action != "bulk" {
        log_change(
            store,
            "standard",
            &s.key(),
            action,
            &serde_json::to_value(s)?,
        )?;
    }
    Ok(())
}

fn link(store: &mut Store, id: i64, intent: &str) -> Result<()> {
    if intent.trim().is_empty() {
        return Err(HubError::invalid("intent", "must not be empty"));
    }
    store.execute(
        "INSERT INTO standard_intents (standard_id, intent) VALUES (?, ?) ON CONFLICT DO NOTHING",
        &[Value::Int(id), intent.trim().into()],
    )?;
    Ok(())
}

/// The id of the standard with exactly this body and number (uses the unique index).
pub(crate) fn exact_id(store: &mut Store, body: &str, number: &str) -> Result<Option<i64>> {
    store
        .query(
            "SELECT id FROM standards WHERE body = ? AND number = ?",
            &[body.trim().into(), number.trim().into()],
        )?
        .first()
        .map(|r| r.int(0))
        .transpose()
}

/// Finds the id of a standard by key: `BODY NUMBER` (any case), or a number alone when only
/// one body uses it.
pub(crate) fn find_id(store: &mut Store, key: &str) -> Result<Option<i64>> {
    let key = key.trim();
    let rows = store.query(
        "SELECT id FROM standards WHERE lower(body || ' ' || number) = lower(?)",
        &[key.into()],
    )?;
    if let Some(r) = rows.first() {
        return Ok(Some(r.int(0)?));
    }
    let rows = store.query(
        "SELECT id FROM standards WHERE lower(number) = lower(?)",
        &[key.into()],
    )?;
    match rows.len() {
        1 => Ok(Some(rows[0].int(0)?)),
        0 => Ok(None),
        n => Err(HubError::invalid(
            "key",
            format!("'{key}' matches {n} standards; prefix the body, e.g. 'ITU-T {key}'"),
        )),
    }
}

fn intents_of(store: &mut Store) -> Result<std::collections::HashMap<i64, Vec<String>>> {
    let mut map: std::collections::HashMap<i64, Vec<String>> = Default::default();
    for r in store.query(
        "SELECT standard_id, intent FROM standard_intents ORDER BY intent",
        &[],
    )? {
        map.entry(r.int(0)?).or_default().push(r.text(1)?);
    }
    Ok(map)
}

/// All standards, ordered by body then number.
pub(crate) fn all(store: &mut Store) -> Result<Vec<Standard>> {
    let mut intents = intents_of(store)?;
    store
        .query(
            &format!("SELECT {COLUMNS} FROM standards ORDER BY body, number"),
            &[],
        )?
        .iter()
        .map(|r| {
            let (id, mut s) = from_row(r)?;
            s.intents = intents.remove(&id).unwrap_or_default();
            Ok(s)
        })
        .collect()
}

/// One standard by key.
pub(crate) fn get(store: &mut Store, key: &str) -> Result<Option<Standard>> {
    let Some(id) = find_id(store, key)? else {
        return Ok(None);
    };
    let rows = store.query(
        &format!("SELECT {COLUMNS} FROM standards WHERE id = ?"),
        &[Value::Int(id)],
    )?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let (_, mut s) = from_row(r)?;
    s.intents = store
        .query(
            "SELECT intent FROM standard_intents WHERE standard_id = ? ORDER BY intent",
            &[Value::Int(id)],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_>>()?;
    Ok(Some(s))
}

/// Applies a patch and logs the changed fields.
pub(crate) fn edit(store: &mut Store, key: &str, patch: &StandardPatch) -> Result<Standard> {
    let id = find_id(store, key)?.ok_or_else(|| HubError::NotFound(format!("standard {key}")))?;
    let old = get(store, key)?.ok_or_else(|| HubError::NotFound(format!("standard {key}")))?;
    let mut new = old.clone();
    if let Some(v) = &patch.title {
        new.title = v.trim().to_string();
    }
    if let Some(v) = &patch.group {
        new.group = v.trim().to_string();
    }
    if let Some(v) = patch.year {
        new.year = v;
    }
    if let Some(v) = &patch.status {
        new.status = v.trim().to_string();
    }
    if let Some(v) = &patch.domains {
        new.domains = v.clone();
        new.domains.sort();
        new.domains.dedup();
    }
    if let Some(v) = &patch.scope {
        new.scope = v.trim().to_string();
    }
    if let Some(v) = &patch.add_edition {
        if !v.trim().is_empty() && !new.editions.iter().any(|e| e == v.trim()) {
            new.editions.push(v.trim().to_string());
        }
    }
    if let Some(v) = &patch.supersedes {
        new.supersedes = v.trim().to_string();
    }
    if let Some(v) = &patch.superseded_by {
        new.superseded_by = v.trim().to_string();
    }
    if let Some(v) = patch.last_review {
        new.last_review = Some(v);
    }
    if let Some(v) = &patch.source {
        new.source = v.trim().to_string();
    }
    for i in &patch.add_intents {
        if !new.intents.iter().any(|x| x == i.trim()) {
            new.intents.push(i.trim().to_string());
        }
    }
    new.intents.retain(|i| !patch.remove_intents.contains(i));
    new.intents.sort();
    new.validate()?;

    let mut p = params(&new)?;
    p.drain(0..2); // body and number are the key: not editable
    p.push(Value::Int(id));
    store.execute(
        "UPDATE standards SET title = ?, grp = ?, year = ?, status = ?, domains = ?, scope = ?, \
         editions = ?, supersedes = ?, superseded_by = ?, last_review = ?, source = ?, \
         updated_at = ? WHERE id = ?",
        &p,
    )?;
    for i in &patch.add_intents {
        link(store, id, i)?;
    }
    for i in &patch.remove_intents {
        store.execute(
            "DELETE FROM standard_intents WHERE standard_id = ? AND intent = ?",
            &[Value::Int(id), i.trim().into()],
        )?;
    }
    let (o, n) = (serde_json::to_value(&old)?, serde_json::to_value(&new)?);
    let mut diff = serde_json::Map::new();
    if let (Some(o), Some(n)) = (o.as_object(), n.as_object()) {
        for (k, nv) in n {
            let ov = o.get(k).cloned().unwrap_or(serde_json::Value::Null);
            if &ov != nv {
                diff.insert(k.clone(), serde_json::json!([ov, nv]));
            }
        }
    }
    if !diff.is_empty() {
        log_change(store, "standard", &new.key(), "edit", &diff.into())?;
    }
    Ok(new)
}

/// The change log, newest first, optionally for one item.
pub(crate) fn changes(store: &mut Store, item: Option<&str>, limit: usize) -> Result<Vec<Change>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = match item {
        Some(item) => {
            let key = get(store, item)?.map_or_else(|| item.to_string(), |s| s.key());
            store.query(
                "SELECT at, entity, item, action, detail FROM change_log WHERE item = ? \
                 ORDER BY id DESC LIMIT ?",
                &[key.into(), Value::Int(limit)],
            )?
        }
        None => store.query(
            "SELECT at, entity, item, action, detail FROM change_log ORDER BY id DESC LIMIT ?",
            &[Value::Int(limit)],
        )?,
    };
    rows.iter()
        .map(|r| {
            Ok(Change {
                at: r.text(0)?,
                entity: r.text(1)?,
                item: r.text(2)?,
                action: r.text(3)?,
                detail: serde_json::from_str(&r.text(4)?)?,
            })
        })
        .collect()
}

/// Review cycles: user-configured ones, then the defaults not overridden.
pub(crate) fn review_cycles(store: &mut Store) -> Result<Vec<ReviewCycle>> {
    let mut out: Vec<ReviewCycle> = store
        .query("SELECT body, years FROM review_cycles ORDER BY body", &[])?
        .iter()
        .map(|r| {
            Ok(ReviewCycle {
                body: r.text(0)?,
                years: u32::try_from(r.int(1)?).map_err(|_| HubError::Corrupt("years".into()))?,
                configured: true,
            })
        })
        .collect::<Result<_>>()?;
    for (body, years) in DEFAULT_REVIEW_CYCLES {
        if !out.iter().any(|c| c.body == *body) {
            out.push(ReviewCycle {
                body: body.to_string(),
                years: *years,
                configured: false,
            });
        }
    }
    out.sort_by(|a, b| a.body.cmp(&b.body));
    Ok(out)
}

pub(crate) fn set_review_cycle(store: &mut Store, body: &str, years: u32) -> Result<()> {
    if body.trim().is_empty() {
        return Err(HubError::invalid("body", "must not be empty"));
    }
    if !(1..=50).contains(&years) {
        return Err(HubError::invalid("years", "must be between 1 and 50"));
    }
    store.execute(
        "INSERT INTO review_cycles (body, years) VALUES (?, ?) \
         ON CONFLICT (body) DO UPDATE SET years = excluded.years",
        &[body.trim().into(), Value::Int(years.into())],
    )?;
    log_change(
        store,
        "review_cycle",
        body.trim(),
        "set",
        &serde_json::json!({ "years": years }),
    )
}

/// Review status of every standard at `at`, most overdue first; standards without a due date
/// (no basis date, or [`NoReview`]) come last.
pub(crate) fn review_status(store: &mut Store, at: NaiveDate) -> Result<Vec<ReviewItem>> {
    let cycles = review_cycles(store)?;
    let mut items: Vec<ReviewItem> = all(store)?
        .into_iter()
        .map(|s| {
            let cycle = cycles.iter().find(|c| c.body.eq_ignore_ascii_case(&s.body));
            let no_review = NoReview::of(&s, cycle.is_some_and(|c| c.configured));
            let cycle_years = no_review
                .is_none()
                .then(|| cycle.map_or(FALLBACK_REVIEW_YEARS, |c| c.years));
            let basis = s
                .last_review
                .or_else(|| s.year.and_then(|y| NaiveDate::from_ymd_opt(y, 1, 1)));
            let due = basis
                .zip(cycle_years)
                .and_then(|(b, years)| add_years(b, years));
            ReviewItem {
                key: s.key(),
                title: s.title,
                basis,
                due,
                overdue_days: due.map(|d| (at - d).num_days()),
                cycle_years,
                no_review,
            }
        })
        .collect();
    items.sort_by(|a, b| match (a.overdue_days, b.overdue_days) {
        (Some(x), Some(y)) => y.cmp(&x).then_with(|| a.key.cmp(&b.key)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.key.cmp(&b.key),
    });
    Ok(items)
}

fn add_years(d: NaiveDate, years: u32) -> Option<NaiveDate> {
    let y = d.year().checked_add(i32::try_from(years).ok()?)?;
    NaiveDate::from_ymd_opt(y, d.month(), d.day()).or_else(|| NaiveDate::from_ymd_opt(y, 2, 28))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_parses_and_is_consistent() {
        let seed = seed_standards().unwrap();
        assert!(seed.len() >= 250, "{}", seed.len());
        let mut keys: Vec<String> = seed.iter().map(Standard::key).collect();
        keys.sort();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "duplicate keys in the seed");
        let y3172 = seed.iter().find(|s| s.number == "Y.3172").unwrap();
        assert_eq!(y3172.body, "ITU-T");
        assert_eq!(y3172.group, "SG13");
        assert_eq!(y3172.year, Some(2019));
        assert!(y3172.domains.is_empty(), "cross-cutting");
        assert!(seed.iter().all(|s| !s.title.contains('[')));
        // Supersession links point at keys in the catalogue.
        for s in &seed {
            for k in [&s.supersedes, &s.superseded_by] {
                assert!(k.is_empty() || keys.contains(k), "{} -> {k}", s.key());
            }
        }
    }

    /// The kind of a catalogue status, by its leading words; `None` for wording the catalogue
    /// does not use. Drafting stages are tried before "Technical report" so that "Technical
    /// report in development" is not taken for a published report.
    fn status_kind(status: &str) -> Option<&'static str> {
        let s = status.trim().to_lowercase();
        let kinds: [(&str, &[&str]); 6] = [
            ("superseded", &["superseded"]),
            ("withdrawn", &["withdrawn"]),
            ("continuously revised", &["continuously revised"]),
            ("unconfirmed", &["status not confirmed"]),
            (
                "in development",
                &[
                    "under development",
                    "work item",
                    "work in progress",
                    "draft",
                    "stable draft",
                    "project",
                    "active par",
                    "ballot passed",
                    "technical report in development",
                    "supplement work item",
                ],
            ),
            (
                "in force",
                &[
                    "in force",
                    "published",
                    "active",
                    "approved",
                    "tm forum approved",
                    "prepublished",
                    "publication",
                    "technical report",
                    "technical specification",
                    "group report",
                    "research report",
                    "focus group",
                    "supplement agreed",
                    "determined",
                    "final deliverable",
                    "rel-",
                ],
            ),
        ];
        kinds
            .iter()
            .find(|(_, prefixes)| prefixes.iter().any(|p| s.starts_with(p)))
            .map(|(kind, _)| *kind)
    }

    #[test]
    fn seed_rows_have_a_source_and_a_known_status() {
        let seed = seed_standards().unwrap();
        for s in &seed {
            assert!(!s.source.trim().is_empty(), "{}: no source", s.key());
            assert!(
                status_kind(&s.status).is_some(),
                "{}: status '{}' is not of a known kind",
                s.key(),
                s.status
            );
            // A superseded or withdrawn entry must say so first (or carry a superseded_by
            // link), so that it is never put on the review list as overdue.
            let lower = s.status.to_lowercase();
            if lower.contains("superseded") || lower.contains("withdrawn") {
                assert!(
                    NoReview::of(s, false).is_some_and(|r| r != NoReview::ContinuouslyRevised),
                    "{}: status '{}' would fall due for review",
                    s.key(),
                    s.status
                );
            }
            if !s.superseded_by.is_empty() {
                assert_eq!(
                    NoReview::of(s, true),
                    Some(NoReview::Superseded),
                    "{}",
                    s.key()
                );
            }
        }
        assert_eq!(
            status_kind("Technical report in development"),
            Some("in development")
        );
        assert_eq!(status_kind("Superseded by ITU-T Y.2"), Some("superseded"));
        assert_eq!(
            status_kind("Continuously revised (V19.1.0)"),
            Some("continuously revised")
        );
        assert_eq!(status_kind("whatever"), None);
    }

    #[test]
    fn csv_errors_name_the_line() {
        let e = parse_standards_csv("body,number,title,year\nITU-T,Y.1,T,abc\n", "x.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.csv line 2"), "{e}");
        assert!(parse_standards_csv("a,b\n1,2\n", "x.csv").is_err());
        let e = parse_standards_csv("body,number,title\nITU-T,,T\n", "x.csv").unwrap_err();
        assert!(e.to_string().contains("number"), "{e}");
    }

    #[test]
    fn superseded_withdrawn_and_continuously_revised_are_never_overdue() {
        let mut store = Store::in_memory().unwrap();
        let std = |body: &str, number: &str, status: &str, superseded_by: &str| {
            let mut s = Standard::new(body, number, "T");
            s.year = Some(2010);
            s.status = status.into();
            s.superseded_by = superseded_by.into();
            s
        };
        for s in [
            std("ITU-T", "Y.1", "In force", ""),
            std("ITU-T", "Y.2", "In force", "ITU-T Y.1"),
            std("ISO/IEC", "1:2010", "Superseded by ISO/IEC 1:2020", ""),
            std("ETSI", "GS X 001", "Withdrawn (2015)", ""),
            std("3GPP", "TS 1.1", "Continuously revised (V19.0.0)", ""),
        ] {
            insert(&mut store, &s, "add").unwrap();
        }
        let at = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let no_review = |store: &mut Store| -> Vec<(String, Option<NoReview>)> {
            review_status(store, at)
                .unwrap()
                .into_iter()
                .map(|i| {
                    assert_eq!(i.due.is_none(), i.no_review.is_some(), "{i:?}");
                    (i.key, i.no_review)
                })
                .collect()
        };
        assert_eq!(
            no_review(&mut store),
            vec![
                ("ITU-T Y.1".to_string(), None),
                ("3GPP TS 1.1".into(), Some(NoReview::ContinuouslyRevised)),
                ("ETSI GS X 001".into(), Some(NoReview::Withdrawn)),
                ("ISO/IEC 1:2010".into(), Some(NoReview::Superseded)),
                ("ITU-T Y.2".into(), Some(NoReview::Superseded)),
            ]
        );
        // A cycle a user sets for a continuously revised body applies.
        set_review_cycle(&mut store, "3GPP", 2).unwrap();
        let items = review_status(&mut store, at).unwrap();
        let ts = items.iter().find(|i| i.key == "3GPP TS 1.1").unwrap();
        assert_eq!((ts.no_review, ts.cycle_years), (None, Some(2)));
        assert!(ts.overdue_days.unwrap() > 0);
    }

    #[test]
    fn add_years_handles_leap_day() {
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(add_years(d, 1), NaiveDate::from_ymd_opt(2025, 2, 28));
    }
}
