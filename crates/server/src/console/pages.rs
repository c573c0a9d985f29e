//! The console's pages. Each handler answers a page or, in the same frame, why it cannot.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use ai4ict_eval::report::{PlotSeries, Report};
use ai4ict_hub::{CoopOptions, ModelQuery, ModelRecord, SearchFilter, Standard, UseCaseRecord};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::html::{self, captioned_table, esc, fields, num, pager, table, Ctx, Row};
use super::runs::{when, Found, RunsDir};
use super::{answer, blocking, read, ConsoleError, PageResult, Shared};

/// Rows a paged table shows when no `limit` is given.
const PAGE: usize = 25;
/// Most rows a paged table shows.
const MAX_PAGE: usize = 200;
/// Runs the overview lists.
const LATEST_RUNS: usize = 5;

type Q<T> = Result<Query<T>, QueryRejection>;

fn query<T>(q: Q<T>) -> Result<T, ConsoleError> {
    q.map(|Query(t)| t)
        .map_err(|e| ConsoleError::BadInput(e.body_text()))
}

/// `offset` and `limit` of a paged table.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(super) struct Paging {
    offset: Option<usize>,
    limit: Option<usize>,
}

impl Paging {
    fn limit(self) -> usize {
        self.limit.unwrap_or(PAGE).clamp(1, MAX_PAGE)
    }
    fn offset(self) -> usize {
        self.offset.unwrap_or(0)
    }
    fn cut<T>(self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .skip(self.offset())
            .take(self.limit())
            .collect()
    }
}

fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
}

/// A link to a standard's page.
fn standard_link(ctx: &Ctx, key: &str) -> String {
    format!(
        r#"<a href="{}">{}</a>"#,
        ctx.href("/ui/standard", &[("key", key)]),
        esc(key)
    )
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

// ---------------------------------------------------------------------------------------
// Overview

pub(super) async fn overview(ctx: Ctx, State(c): State<Shared>) -> Response {
    answer(&ctx, overview_page(&ctx, &c).await)
}

async fn overview_page(ctx: &Ctx, c: &Shared) -> PageResult {
    let at = today();
    let (standards, due, use_cases, models) = read(c, move |h| {
        let standards = h.standards()?.len();
        let due = h.review_due(at)?.len();
        let use_cases: Vec<UseCaseRecord> = h
            .use_cases_listing()?
            .into_iter()
            .filter_map(Result::ok)
            .collect();
        let models: Vec<ModelRecord> = h
            .models_listing(&ModelQuery::default())?
            .into_iter()
            .filter_map(Result::ok)
            .collect();
        Ok((standards, due, use_cases, models))
    })
    .await?;
    let names: BTreeSet<&str> = models.iter().map(|m| m.metadata.name.as_str()).collect();
    let card = |path: &str, n: String, key: &str| {
        format!(
            r#"<a class="card" href="{}"><strong>{}</strong><span>{}</span></a>"#,
            ctx.href(path, &[]),
            esc(&n),
            esc(ctx.t(key))
        )
    };
    let mut body = String::from(r#"<div class="cards">"#);
    body.push_str(&card(
        "/ui/standards",
        standards.to_string(),
        "overview.standards",
    ));
    body.push_str(&card(
        "/ui/review-due",
        due.to_string(),
        "overview.review_due",
    ));
    body.push_str(&card(
        "/ui/usecases",
        use_cases.len().to_string(),
        "overview.use_cases",
    ));
    body.push_str(&card(
        "/ui/models",
        format!("{} / {}", names.len(), models.len()),
        "overview.models",
    ));
    body.push_str("</div>");

    let _ = write!(body, "<h2>{}</h2>", esc(ctx.t("overview.by_sdg")));
    let rows: Vec<Row> = ai4ict_hub::domain::sdgs()
        .into_iter()
        .filter_map(|sdg| {
            let n = use_cases
                .iter()
                .filter(|u| u.use_case.sdgs.contains(&sdg.number))
                .count();
            (n > 0).then(|| {
                Row::new(vec![
                    format!(
                        r#"<a href="{}#sdg-{}">{} {}</a>"#,
                        ctx.href("/ui/usecases", &[]),
                        sdg.number,
                        esc(ctx.t("sdg")),
                        sdg.number
                    ),
                    esc(&sdg.title),
                    n.to_string(),
                ])
            })
        })
        .collect();
    if rows.is_empty() {
        let _ = write!(body, "<p>{}</p>", esc(ctx.t("usecases.none")));
    } else {
        body.push_str(&table(
            ctx,
            &["col.sdg", "col.title", "col.use_cases"],
            &rows,
        ));
    }

    let _ = write!(body, "<h2>{}</h2>", esc(ctx.t("overview.latest_runs")));
    match &c.runs {
        None => {
            let _ = write!(body, "<p>{}</p>", esc(ctx.t("runs.none_configured")));
        }
        Some(runs) => {
            let runs = runs.clone();
            let latest =
                blocking(move || Ok(load_runs(&runs, Paging::default(), LATEST_RUNS))).await?;
            body.push_str(&runs_table(ctx, &latest.1));
        }
    }
    Ok((ctx.t("overview.title").to_string(), body))
}

// ---------------------------------------------------------------------------------------
// Standards

#[derive(Debug, Default, Deserialize)]
pub(super) struct StandardsQ {
    q: Option<String>,
    body: Option<String>,
    status: Option<String>,
    year: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
}

pub(super) async fn standards(ctx: Ctx, State(c): State<Shared>, q: Q<StandardsQ>) -> Response {
    answer(&ctx, standards_page(&ctx, &c, q).await)
}

async fn standards_page(ctx: &Ctx, c: &Shared, q: Q<StandardsQ>) -> PageResult {
    let q = query(q)?;
    let paging = Paging {
        offset: q.offset,
        limit: q.limit,
    };
    let text = non_empty(q.q);
    let body_f = non_empty(q.body);
    let status_f = non_empty(q.status);
    let year_s = non_empty(q.year);
    let year = year_s
        .as_deref()
        .map(|y| {
            y.parse::<i32>()
                .map_err(|_| ConsoleError::BadInput(format!("year '{y}' is not a year")))
        })
        .transpose()?;
    let (search, b) = (text.clone(), body_f.clone());
    let (all, hits) = read(c, move |h| {
        let all = h.standards()?;
        let hits = match search {
            Some(s) => {
                let filter = SearchFilter {
                    body: b,
                    ..SearchFilter::default()
                };
                Some(h.search_standards(&s, &filter, all.len().max(1))?)
            }
            None => None,
        };
        Ok((all, hits))
    })
    .await?;
    let bodies: BTreeSet<&str> = all.iter().map(|s| s.body.as_str()).collect();
    let statuses: BTreeSet<&str> = all
        .iter()
        .map(|s| s.status.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    let by_key: BTreeMap<String, &Standard> = all.iter().map(|s| (s.key(), s)).collect();
    let ordered: Vec<&Standard> = match &hits {
        Some(hits) => hits
            .iter()
            .filter_map(|h| by_key.get(&h.key).copied())
            .collect(),
        None => all.iter().collect(),
    };
    let matching: Vec<&Standard> = ordered
        .into_iter()
        .filter(|s| {
            body_f
                .as_deref()
                .is_none_or(|b| s.body.eq_ignore_ascii_case(b))
                && status_f
                    .as_deref()
                    .is_none_or(|st| s.status.eq_ignore_ascii_case(st))
                && year.is_none_or(|y| s.year == Some(y))
        })
        .collect();
    let total = matching.len();

    let mut body = String::new();
    let option = |value: &str, selected: Option<&str>| {
        format!(
            r#"<option value="{v}"{sel}>{v}</option>"#,
            v = esc(value),
            sel = if selected.is_some_and(|s| s.eq_ignore_ascii_case(value)) {
                " selected"
            } else {
                ""
            }
        )
    };
    let _ = write!(
        body,
        r#"<form class="filters" method="get" action="/ui/standards"><label>{lq} <input type="search" name="q" value="{q}"></label><label>{lb} <select name="body"><option value="">{all}</option>"#,
        lq = esc(ctx.t("filter.text")),
        q = esc(text.as_deref().unwrap_or("")),
        lb = esc(ctx.t("col.body")),
        all = esc(ctx.t("filter.all")),
    );
    for b in &bodies {
        body.push_str(&option(b, body_f.as_deref()));
    }
    let _ = write!(
        body,
        r#"</select></label><label>{ls} <select name="status"><option value="">{all}</option>"#,
        ls = esc(ctx.t("col.status")),
        all = esc(ctx.t("filter.all")),
    );
    for s in &statuses {
        body.push_str(&option(s, status_f.as_deref()));
    }
    let _ = write!(
        body,
        r#"</select></label><label>{ly} <input type="number" name="year" min="1900" max="2100" value="{y}"></label>{lang}<button type="submit">{go}</button></form>"#,
        ly = esc(ctx.t("col.year")),
        y = esc(year_s.as_deref().unwrap_or("")),
        lang = ctx.lang_field(),
        go = esc(ctx.t("filter.apply")),
    );

    let rows: Vec<Row> = paging
        .cut(matching)
        .into_iter()
        .map(|s| {
            Row::new(vec![
                standard_link(ctx, &s.key()),
                esc(&s.title),
                esc(&s.body),
                esc(&s.group),
                s.year.map_or_else(String::new, |y| y.to_string()),
                esc(&s.status),
                esc(&ai4ict_hub::domain::format_domains(&s.domains)),
            ])
            .with("data-body", s.body.clone())
        })
        .collect();
    if rows.is_empty() {
        let _ = write!(body, "<p>{}</p>", esc(ctx.t("standards.none")));
    } else {
        body.push_str(&table(
            ctx,
            &[
                "col.key",
                "col.title",
                "col.body",
                "col.group",
                "col.year",
                "col.status",
                "col.domains",
            ],
            &rows,
        ));
    }
    let params = [
        ("q", text.as_deref().unwrap_or("")),
        ("body", body_f.as_deref().unwrap_or("")),
        ("status", status_f.as_deref().unwrap_or("")),
        ("year", year_s.as_deref().unwrap_or("")),
    ];
    body.push_str(&pager(
        ctx,
        "/ui/standards",
        &params,
        paging.offset(),
        paging.limit(),
        total,
    ));
    Ok((ctx.t("standards.title").to_string(), body))
}

#[derive(Debug, Deserialize)]
pub(super) struct KeyQ {
    key: String,
}

pub(super) async fn standard(ctx: Ctx, State(c): State<Shared>, q: Q<KeyQ>) -> Response {
    answer(&ctx, standard_page(&ctx, &c, q).await)
}

async fn standard_page(ctx: &Ctx, c: &Shared, q: Q<KeyQ>) -> PageResult {
    let key = query(q)?.key;
    let at = today();
    let k = key.clone();
    let (found, review, citing) = read(c, move |h| {
        let found = h.standard(&k)?;
        let review = h.review_status(at)?.into_iter().find(|r| r.key == k);
        let citing: Vec<String> = h
            .use_cases_listing()?
            .into_iter()
            .filter_map(Result::ok)
            .filter(|u| {
                u.use_case
                    .standards
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(&k))
            })
            .map(|u| u.use_case.name)
            .collect();
        Ok((found, review, citing))
    })
    .await?;
    let s = found.ok_or_else(|| ConsoleError::NotFound(format!("no standard '{key}'")))?;
    let link_or_empty = |k: &str| {
        if k.is_empty() {
            String::new()
        } else {
            standard_link(ctx, k)
        }
    };
    let date = |d: Option<chrono::NaiveDate>| d.map_or_else(String::new, |d| d.to_string());
    let body = fields(
        ctx,
        &[
            ("col.body", esc(&s.body)),
            ("col.number", esc(&s.number)),
            ("col.group", esc(&s.group)),
            (
                "col.year",
                s.year.map_or_else(String::new, |y| y.to_string()),
            ),
            ("col.status", esc(&s.status)),
            (
                "col.domains",
                esc(&ai4ict_hub::domain::format_domains(&s.domains)),
            ),
            ("col.scope", esc(&s.scope)),
            ("col.editions", esc(&s.editions.join(", "))),
            ("col.supersedes", link_or_empty(&s.supersedes)),
            ("col.superseded_by", link_or_empty(&s.superseded_by)),
            ("col.last_review", date(s.last_review)),
            ("col.due", date(review.as_ref().and_then(|r| r.due))),
            ("col.source", esc(&s.source)),
            ("col.intents", esc(&s.intents.join(", "))),
            ("col.use_cases", esc(&citing.join(", "))),
        ],
    );
    Ok((format!("{} — {}", s.key(), s.title), body))
}

// ---------------------------------------------------------------------------------------
// Review due, cooperation map, gaps

#[derive(Debug, Default, Deserialize)]
pub(super) struct ReviewQ {
    at: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
}

pub(super) async fn review_due(ctx: Ctx, State(c): State<Shared>, q: Q<ReviewQ>) -> Response {
    answer(&ctx, review_page(&ctx, &c, q).await)
}

async fn review_page(ctx: &Ctx, c: &Shared, q: Q<ReviewQ>) -> PageResult {
    let q = query(q)?;
    let paging = Paging {
        offset: q.offset,
        limit: q.limit,
    };
    let at = match non_empty(q.at) {
        Some(s) => ai4ict_hub::standards::parse_date(&s)?,
        None => today(),
    };
    let due = read(c, move |h| h.review_due(at)).await?;
    let total = due.len();
    let rows: Vec<Row> = paging
        .cut(due)
        .into_iter()
        .map(|r| {
            let d = |d: Option<chrono::NaiveDate>| d.map_or_else(String::new, |d| d.to_string());
            Row::new(vec![
                standard_link(ctx, &r.key),
                esc(&r.title),
                d(r.basis),
                d(r.due),
                r.overdue_days.map_or_else(String::new, |n| n.to_string()),
                r.cycle_years.map_or_else(String::new, |y| y.to_string()),
            ])
        })
        .collect();
    let mut body = format!("<p>{} {at}</p>", esc(ctx.t("review.at")),);
    if rows.is_empty() {
        let _ = write!(body, "<p>{}</p>", esc(ctx.t("review.none")));
    } else {
        body.push_str(&table(
            ctx,
            &[
                "col.key",
                "col.title",
                "col.basis",
                "col.due",
                "col.overdue_days",
                "col.cycle_years",
            ],
            &rows,
        ));
    }
    let at_s = at.to_string();
    body.push_str(&pager(
        ctx,
        "/ui/review-due",
        &[("at", &at_s)],
        paging.offset(),
        paging.limit(),
        total,
    ));
    Ok((ctx.t("review.title").to_string(), body))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct CoopQ {
    min_score: Option<f32>,
    offset: Option<usize>,
    limit: Option<usize>,
}

/// Pairs the cooperation map computes before paging.
const COOP_PAIRS: usize = 1000;

pub(super) async fn coop(ctx: Ctx, State(c): State<Shared>, q: Q<CoopQ>) -> Response {
    answer(&ctx, coop_page(&ctx, &c, q).await)
}

async fn coop_page(ctx: &Ctx, c: &Shared, q: Q<CoopQ>) -> PageResult {
    let q = query(q)?;
    let paging = Paging {
        offset: q.offset,
        limit: q.limit,
    };
    let mut opts = CoopOptions {
        limit: COOP_PAIRS,
        ..CoopOptions::default()
    };
    if let Some(m) = q.min_score {
        if !m.is_finite() {
            return Err(ConsoleError::BadInput(
                "min_score must be a finite number".into(),
            ));
        }
        opts.min_score = m;
    }
    let min_score = opts.min_score;
    let pairs = read(c, move |h| h.cooperation_map(&opts)).await?;
    let total = pairs.len();
    let rows: Vec<Row> = paging
        .cut(pairs)
        .into_iter()
        .map(|o| {
            let why = o
                .terms
                .iter()
                .map(|(t, w)| format!("{} <small>({})</small>", esc(t), num(f64::from(*w), 2)))
                .collect::<Vec<_>>()
                .join(", ");
            Row::new(vec![
                format!(
                    "{}<br><small>{}</small>",
                    standard_link(ctx, &o.a),
                    esc(&o.a_title)
                ),
                format!(
                    "{}<br><small>{}</small>",
                    standard_link(ctx, &o.b),
                    esc(&o.b_title)
                ),
                num(f64::from(o.score), 2),
                why,
                esc(&ai4ict_hub::domain::format_domains(&o.shared_domains)),
            ])
        })
        .collect();
    let mut body = format!(
        "<p>{} {}</p>",
        esc(ctx.t("coop.intro")),
        num(f64::from(min_score), 2)
    );
    if rows.is_empty() {
        let _ = write!(body, "<p>{}</p>", esc(ctx.t("coop.none")));
    } else {
        body.push_str(&table(
            ctx,
            &[
                "col.a",
                "col.b",
                "col.score",
                "col.why",
                "col.shared_domains",
            ],
            &rows,
        ));
    }
    let m = q.min_score.map(|m| m.to_string()).unwrap_or_default();
    body.push_str(&pager(
        ctx,
        "/ui/coop",
        &[("min_score", &m)],
        paging.offset(),
        paging.limit(),
        total,
    ));
    Ok((ctx.t("coop.title").to_string(), body))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct GapsQ {
    min_standards: Option<usize>,
}

pub(super) async fn gaps(ctx: Ctx, State(c): State<Shared>, q: Q<GapsQ>) -> Response {
    answer(&ctx, gaps_page(&ctx, &c, q).await)
}

async fn gaps_page(ctx: &Ctx, c: &Shared, q: Q<GapsQ>) -> PageResult {
    let min = query(q)?.min_standards.unwrap_or(3);
    let coverage = read(c, move |h| h.gaps(min)).await?;
    let rows: Vec<Row> = coverage
        .iter()
        .map(|d| {
            let state = if d.is_gap() {
                "gaps.gap"
            } else {
                "gaps.covered"
            };
            Row::new(vec![
                esc(d.domain.as_str()),
                d.standards.to_string(),
                esc(&d.bodies.join(", ")),
                esc(&d.intents.join(", ")),
                format!(
                    r#"<span class="{}">{}</span>"#,
                    if d.is_gap() { "bad" } else { "good" },
                    esc(ctx.t(state))
                ),
                esc(&d.reasons.join("; ")),
            ])
        })
        .collect();
    let mut body = format!("<p>{} {min}</p>", esc(ctx.t("gaps.intro")));
    body.push_str(&table(
        ctx,
        &[
            "col.domain",
            "col.standards",
            "col.bodies",
            "col.intents",
            "col.state",
            "col.reasons",
        ],
        &rows,
    ));
    Ok((ctx.t("gaps.title").to_string(), body))
}

// ---------------------------------------------------------------------------------------
// Use cases

pub(super) async fn use_cases(ctx: Ctx, State(c): State<Shared>) -> Response {
    answer(&ctx, use_cases_page(&ctx, &c).await)
}

/// Evidence metrics as `name value` pairs.
fn metrics_html(metrics: &serde_json::Value) -> String {
    let Some(map) = metrics.as_object() else {
        return esc(&metrics.to_string());
    };
    map.iter()
        .map(|(k, v)| {
            let v = match v {
                // Counts stay whole; ratios get three decimals.
                serde_json::Value::Number(n) => match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
                    Some(f) => num(f, 3),
                    None => n.to_string(),
                },
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{} {}", esc(k), esc(&v))
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

async fn use_cases_page(ctx: &Ctx, c: &Shared) -> PageResult {
    let records: Vec<UseCaseRecord> = read(c, |h| {
        Ok(h.use_cases_listing()?
            .into_iter()
            .filter_map(Result::ok)
            .collect())
    })
    .await?;
    let row = |u: &UseCaseRecord| {
        let uc = &u.use_case;
        let evidence = uc.evidence.as_ref().map_or_else(
            || {
                format!(
                    r#"<span class="muted">{}</span>"#,
                    esc(ctx.t("usecases.no_evidence"))
                )
            },
            |e| {
                format!(
                    "{}<br><small>{} · {}</small><br>{}",
                    esc(&e.run_id),
                    esc(&e.source),
                    esc(&e.at.format("%Y-%m-%d %H:%M UTC").to_string()),
                    metrics_html(&e.metrics)
                )
            },
        );
        let standards = uc
            .standards
            .iter()
            .map(|s| standard_link(ctx, s))
            .collect::<Vec<_>>()
            .join(", ");
        Row::new(vec![
            format!(
                "<strong>{}</strong><br><small>{}</small>",
                esc(&uc.name),
                esc(&uc.description)
            ),
            esc(&uc.intent),
            esc(uc.domain.as_str()),
            format!("{}/20", u.score.total()),
            standards,
            evidence,
        ])
        .with("data-name", uc.name.clone())
    };
    let head = [
        "col.use_case",
        "col.intent",
        "col.domain",
        "col.score",
        "col.standards",
        "col.evidence",
    ];
    let mut body = String::new();
    if records.is_empty() {
        let _ = write!(body, "<p>{}</p>", esc(ctx.t("usecases.none")));
    }
    for sdg in ai4ict_hub::domain::sdgs() {
        let rows: Vec<Row> = records
            .iter()
            .filter(|u| u.use_case.sdgs.contains(&sdg.number))
            .map(row)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = write!(
            body,
            r#"<h2 id="sdg-{n}">{} {n}: {}</h2>"#,
            esc(ctx.t("sdg")),
            esc(&sdg.title),
            n = sdg.number
        );
        body.push_str(&table(ctx, &head, &rows));
    }
    let without: Vec<Row> = records
        .iter()
        .filter(|u| u.use_case.sdgs.is_empty())
        .map(row)
        .collect();
    if !without.is_empty() {
        let _ = write!(body, "<h2>{}</h2>", esc(ctx.t("usecases.no_sdg")));
        body.push_str(&table(ctx, &head, &without));
    }
    Ok((ctx.t("usecases.title").to_string(), body))
}

// ---------------------------------------------------------------------------------------
// Models

#[derive(Debug, Default, Deserialize)]
pub(super) struct ModelsQ {
    q: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
}

pub(super) async fn models(ctx: Ctx, State(c): State<Shared>, q: Q<ModelsQ>) -> Response {
    answer(&ctx, models_page(&ctx, &c, q).await)
}

fn model_link(ctx: &Ctx, name: &str, version: &str) -> String {
    format!(
        r#"<a href="{}">{}</a>"#,
        ctx.href("/ui/model", &[("name", name), ("version", version)]),
        esc(version)
    )
}

fn metric_list(m: &BTreeMap<String, f64>) -> String {
    m.iter()
        .map(|(k, v)| format!("{} {}", esc(k), num(*v, 3)))
        .collect::<Vec<_>>()
        .join("<br>")
}

async fn models_page(ctx: &Ctx, c: &Shared, q: Q<ModelsQ>) -> PageResult {
    let q = query(q)?;
    let paging = Paging {
        offset: q.offset,
        limit: q.limit,
    };
    let text = non_empty(q.q);
    let mq = ModelQuery {
        text: text.clone(),
        ..ModelQuery::default()
    };
    let records: Vec<ModelRecord> = read(c, move |h| {
        Ok(h.models_listing(&mq)?
            .into_iter()
            .filter_map(Result::ok)
            .collect())
    })
    .await?;
    let total = records.len();
    let mut body = format!(
        r#"<form class="filters" method="get" action="/ui/models"><label>{} <input type="search" name="q" value="{}"></label>{}<button type="submit">{}</button></form>"#,
        esc(ctx.t("filter.text")),
        esc(text.as_deref().unwrap_or("")),
        ctx.lang_field(),
        esc(ctx.t("filter.apply")),
    );
    let mut by_name: BTreeMap<String, Vec<ModelRecord>> = BTreeMap::new();
    for r in paging.cut(records) {
        by_name.entry(r.metadata.name.clone()).or_default().push(r);
    }
    if by_name.is_empty() {
        let _ = write!(body, "<p>{}</p>", esc(ctx.t("models.none")));
    }
    for (name, versions) in &by_name {
        let _ = write!(body, "<h2>{}</h2>", esc(name));
        let rows: Vec<Row> = versions
            .iter()
            .map(|r| {
                let m = &r.metadata;
                Row::new(vec![
                    model_link(ctx, name, &m.version),
                    esc(&r.aliases.join(", ")),
                    esc(&m.published_at),
                    m.domain.map_or_else(String::new, |d| esc(d.as_str())),
                    metric_list(&m.metrics),
                    esc(&m.standards.join(", ")),
                ])
            })
            .collect();
        body.push_str(&table(
            ctx,
            &[
                "col.version",
                "col.aliases",
                "col.published",
                "col.domain",
                "col.metrics",
                "col.standards",
            ],
            &rows,
        ));
    }
    let t = text.unwrap_or_default();
    body.push_str(&pager(
        ctx,
        "/ui/models",
        &[("q", &t)],
        paging.offset(),
        paging.limit(),
        total,
    ));
    Ok((ctx.t("models.title").to_string(), body))
}

#[derive(Debug, Deserialize)]
pub(super) struct ModelQ {
    name: String,
    version: Option<String>,
}

pub(super) async fn model(ctx: Ctx, State(c): State<Shared>, q: Q<ModelQ>) -> Response {
    answer(&ctx, model_page(&ctx, &c, q).await)
}

async fn model_page(ctx: &Ctx, c: &Shared, q: Q<ModelQ>) -> PageResult {
    let q = query(q)?;
    let version = non_empty(q.version).unwrap_or_else(|| "latest".into());
    let (n, v) = (q.name.clone(), version.clone());
    let rec = read(c, move |h| h.model(&n, &v))
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("no model {}@{version}", q.name)))?;
    let m = &rec.metadata;
    let ports = |ports: &[ai4ict_hub::Port]| {
        ports
            .iter()
            .map(|p| {
                let mut s = format!("<code>{}</code> {}", esc(&p.name), esc(&p.kind));
                if !p.description.is_empty() {
                    let _ = write!(s, " — {}", esc(&p.description));
                }
                s
            })
            .collect::<Vec<_>>()
            .join("<br>")
    };
    let standards = m
        .standards
        .iter()
        .map(|s| standard_link(ctx, s))
        .collect::<Vec<_>>()
        .join(", ");
    let body = fields(
        ctx,
        &[
            ("col.version", esc(&m.version)),
            ("col.aliases", esc(&rec.aliases.join(", "))),
            ("col.author", esc(&m.author)),
            ("col.licence", esc(&m.licence)),
            ("col.description", esc(&m.description)),
            (
                "col.domain",
                m.domain.map_or_else(String::new, |d| esc(d.as_str())),
            ),
            ("col.inputs", ports(&m.inputs)),
            ("col.outputs", ports(&m.outputs)),
            ("col.runtime", esc(&m.runtime)),
            ("col.training_data", esc(&m.training_data)),
            ("col.metrics", metric_list(&m.metrics)),
            ("col.standards", standards),
            ("col.tags", esc(&m.tags.join(", "))),
            ("col.sha256", format!("<code>{}</code>", esc(&m.sha256))),
            ("col.size", m.size.to_string()),
            ("col.published", esc(&m.published_at)),
            (
                "col.pull",
                format!(
                    "<code>GET /models/{}/{}/artifact</code>",
                    esc(&m.name),
                    esc(&m.version)
                ),
            ),
        ],
    );
    Ok((format!("{} {}", m.name, m.version), body))
}

// ---------------------------------------------------------------------------------------
// Runs

fn runs_dir(c: &Shared) -> Result<RunsDir, ConsoleError> {
    c.runs.clone().ok_or(ConsoleError::NoRuns)
}

/// A run found, with its report or why it cannot be read.
type Listed = (Found, Result<Report, String>);

/// A page of the runs found, each with its report or why it cannot be read; and the number
/// found.
fn load_runs(runs: &RunsDir, paging: Paging, limit: usize) -> (usize, Vec<Listed>) {
    let found = runs.list();
    let total = found.len();
    let page = found
        .into_iter()
        .skip(paging.offset())
        .take(limit)
        .map(|f| {
            let report = runs.load(&f.id).map(|(r, _)| r).map_err(|e| e.to_string());
            (f, report)
        })
        .collect();
    (total, page)
}

fn verdict(ctx: &Ctx, r: &Report) -> String {
    let (class, key) = if r.stopped() {
        ("bad", "verdict.stopped")
    } else if r.passed() {
        ("good", "verdict.passed")
    } else {
        ("bad", "verdict.failed")
    };
    format!(r#"<span class="{class}">{}</span>"#, esc(ctx.t(key)))
}

fn runs_table(ctx: &Ctx, runs: &[Listed]) -> String {
    if runs.is_empty() {
        return format!("<p>{}</p>", esc(ctx.t("runs.none")));
    }
    let rows: Vec<Row> = runs
        .iter()
        .map(|(f, r)| {
            let link = |text: &str| {
                format!(
                    r#"<a href="{}">{}</a>"#,
                    ctx.href("/ui/run", &[("id", &f.id)]),
                    esc(text)
                )
            };
            match r {
                Ok(r) => {
                    let m = r.metrics.as_ref();
                    Row::new(vec![
                        link(&r.intent),
                        esc(&f.id),
                        esc(&when(f.modified)),
                        verdict(ctx, r),
                        m.map_or_else(String::new, |m| num(m.precision, 3)),
                        m.map_or_else(String::new, |m| num(m.recall, 3)),
                        m.map_or_else(String::new, |m| m.alerts.to_string()),
                    ])
                }
                Err(e) => Row::new(vec![
                    link(&f.id),
                    esc(&f.id),
                    esc(&when(f.modified)),
                    format!(r#"<span class="bad">{}</span>"#, esc(e)),
                    String::new(),
                    String::new(),
                    String::new(),
                ]),
            }
            .with("data-run", f.id.clone())
        })
        .collect();
    table(
        ctx,
        &[
            "col.intent",
            "col.folder",
            "col.date",
            "col.verdict",
            "col.precision",
            "col.recall",
            "col.alerts",
        ],
        &rows,
    )
}

pub(super) async fn runs(ctx: Ctx, State(c): State<Shared>, q: Q<Paging>) -> Response {
    answer(&ctx, runs_page(&ctx, &c, q).await)
}

async fn runs_page(ctx: &Ctx, c: &Shared, q: Q<Paging>) -> PageResult {
    let paging = query(q)?;
    let title = ctx.t("runs.title").to_string();
    let Some(runs) = c.runs.clone() else {
        return Ok((
            title,
            format!("<p>{}</p>", esc(ctx.t("runs.none_configured"))),
        ));
    };
    let (total, page) = blocking(move || Ok(load_runs(&runs, paging, paging.limit()))).await?;
    let mut body = runs_table(ctx, &page);
    body.push_str(&pager(
        ctx,
        "/ui/runs",
        &[],
        paging.offset(),
        paging.limit(),
        total,
    ));
    Ok((title, body))
}

#[derive(Debug, Deserialize)]
pub(super) struct RunQ {
    id: String,
}

pub(super) async fn run(ctx: Ctx, State(c): State<Shared>, q: Q<RunQ>) -> Response {
    answer(&ctx, run_page(&ctx, &c, q).await)
}

/// Plot width and height on the run page and on a chart's own page.
const RUN_CHART: (f64, f64) = (960.0, 260.0);
const BIG_CHART: (f64, f64) = (1200.0, 420.0);

async fn run_page(ctx: &Ctx, c: &Shared, q: Q<RunQ>) -> PageResult {
    let id = query(q)?.id;
    let runs = runs_dir(c)?;
    let i = id.clone();
    let (report, modified, static_page) = blocking(move || {
        let (report, modified) = runs.load(&i)?;
        let static_page = runs.file(&i, "report.html").is_ok();
        Ok((report, modified, static_page))
    })
    .await?;
    let r = &report;
    let mut body = String::new();
    let mut links = Vec::new();
    if static_page {
        links.push(("report.html".to_string(), ctx.t("run.static").to_string()));
    }
    for l in &r.links {
        if !l.href.contains(['/', '\\']) && !l.href.is_empty() {
            links.push((l.href.clone(), l.title.clone()));
        }
    }
    if !links.is_empty() {
        body.push_str(r#"<p class="links">"#);
        for (href, title) in &links {
            let _ = write!(
                body,
                r#"<a href="{}">{}</a> "#,
                ctx.href("/ui/run/file", &[("id", &id), ("name", href)]),
                esc(title)
            );
        }
        body.push_str("</p>");
    }
    let latency = r.latency.as_ref().map_or_else(String::new, |l| {
        format!("p50 {} ms · p99 {} ms", num(l.p50_ms, 2), num(l.p99_ms, 2))
    });
    body.push_str(&fields(
        ctx,
        &[
            ("col.intent", esc(&r.intent)),
            ("col.domain", esc(&r.use_case)),
            ("col.folder", esc(&id)),
            ("col.date", esc(&when(modified))),
            ("col.verdict", verdict(ctx, r)),
            ("col.records", r.records.to_string()),
            ("col.throughput", num(r.throughput_per_s, 0)),
            ("col.latency", latency),
        ],
    ));
    if let Some(m) = &r.metrics {
        let _ = write!(body, "<h2>{}</h2>", esc(ctx.t("run.metrics")));
        body.push_str(&table(
            ctx,
            &[
                "col.precision",
                "col.recall",
                "col.f1",
                "col.alerts",
                "col.false_alerts",
                "col.incidents",
                "col.detected",
            ],
            &[Row::new(vec![
                num(m.precision, 3),
                num(m.recall, 3),
                num(m.f1, 3),
                m.alerts.to_string(),
                m.false_alerts.to_string(),
                m.incidents.to_string(),
                m.detected.to_string(),
            ])],
        ));
    }
    let _ = write!(body, "<h2>{}</h2>", esc(ctx.t("run.charts")));
    if r.plots.is_empty() {
        let _ = write!(body, "<p>{}</p>", esc(ctx.t("run.no_charts")));
    }
    for p in &r.plots {
        let _ = write!(
            body,
            r#"<figure class="chart" data-entity="{}">{}<figcaption>{} · {} {} · <a href="{}">{}</a></figcaption></figure>"#,
            esc(&p.entity),
            ai4ict_eval::svg::kpi_chart(p, RUN_CHART.0, RUN_CHART.1),
            esc(&p.caption()),
            p.alerts.len(),
            esc(ctx.t("col.alerts")),
            ctx.href(
                "/ui/run/chart",
                &[("id", &id), ("entity", &p.entity), ("field", &p.field)]
            ),
            esc(ctx.t("run.open_chart")),
        );
    }
    let checks = r.checks();
    if !checks.is_empty() {
        let _ = write!(body, "<h2>{}</h2>", esc(ctx.t("run.targets")));
        let rows: Vec<Row> = checks
            .iter()
            .map(|c| {
                Row::new(vec![
                    esc(&c.name),
                    format!("{} {}", esc(&c.comparison), num(c.target, 3)),
                    c.actual.map_or_else(String::new, |a| num(a, 3)),
                    if c.pass {
                        format!(
                            r#"<span class="good">{}</span>"#,
                            esc(ctx.t("verdict.passed"))
                        )
                    } else {
                        format!(
                            r#"<span class="bad">{}</span>"#,
                            esc(ctx.t("verdict.failed"))
                        )
                    },
                ])
            })
            .collect();
        body.push_str(&table(
            ctx,
            &["col.target", "col.wanted", "col.actual", "col.verdict"],
            &rows,
        ));
    }
    if !r.stages.is_empty() {
        let _ = write!(body, "<h2>{}</h2>", esc(ctx.t("run.stages")));
        let rows: Vec<Row> = r
            .stages
            .iter()
            .map(|s| {
                Row::new(vec![
                    esc(&s.name),
                    esc(&s.status.to_string()),
                    s.duration_ms.map_or_else(String::new, |d| num(d, 0)),
                    esc(&s.detail),
                ])
            })
            .collect();
        body.push_str(&table(
            ctx,
            &["col.stage", "col.state", "col.duration_ms", "col.detail"],
            &rows,
        ));
    }
    if !r.notes.is_empty() {
        let _ = write!(body, "<h2>{}</h2><ul>", esc(ctx.t("run.notes")));
        for n in &r.notes {
            let _ = write!(body, "<li>{}</li>", esc(n));
        }
        body.push_str("</ul>");
    }
    Ok((format!("{} — {}", ctx.t("run.title"), r.intent), body))
}

#[derive(Debug, Deserialize)]
pub(super) struct ChartQ {
    id: String,
    entity: String,
    field: Option<String>,
}

pub(super) async fn chart(ctx: Ctx, State(c): State<Shared>, q: Q<ChartQ>) -> Response {
    answer(&ctx, chart_page(&ctx, &c, q).await)
}

/// A plot time (milliseconds since the epoch), in UTC.
fn time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |d| d.format("%Y-%m-%d %H:%M").to_string(),
    )
}

async fn chart_page(ctx: &Ctx, c: &Shared, q: Q<ChartQ>) -> PageResult {
    let q = query(q)?;
    let runs = runs_dir(c)?;
    let id = q.id.clone();
    let (report, _) = blocking(move || runs.load(&id)).await?;
    let field = non_empty(q.field);
    let plot: &PlotSeries = report
        .plots
        .iter()
        .find(|p| p.entity == q.entity && field.as_deref().is_none_or(|f| p.field == f))
        .ok_or_else(|| {
            ConsoleError::NotFound(format!("run '{}' has no chart of '{}'", q.id, q.entity))
        })?;
    let mut body = format!(
        r#"<p><a href="{}">← {}</a></p><figure class="chart big" data-entity="{}">{}<figcaption>{}</figcaption></figure>"#,
        ctx.href("/ui/run", &[("id", &q.id)]),
        esc(&report.intent),
        esc(&plot.entity),
        ai4ict_eval::svg::kpi_chart(plot, BIG_CHART.0, BIG_CHART.1),
        esc(&plot.caption()),
    );
    let _ = write!(body, "<h2>{}</h2>", esc(ctx.t("col.alerts")));
    let rows: Vec<Row> = plot
        .alerts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let false_alert = plot.false_alerts.contains(t);
            // Why it fired, in the engine's words (English).
            let why = plot.reasons.get(i).map_or(String::new(), |r| esc(r));
            Row::new(vec![
                time(t.0),
                if false_alert {
                    format!(
                        r#"<span class="bad">{}</span> {why}"#,
                        esc(ctx.t("chart.false_alert"))
                    )
                } else {
                    why
                },
            ])
            .with("data-alert", time(t.0))
        })
        .collect();
    if rows.is_empty() {
        let _ = write!(body, "<p>{}</p>", esc(ctx.t("chart.no_alerts")));
    } else {
        body.push_str(&table(ctx, &["col.time", "col.note"], &rows));
    }
    if !plot.incidents.is_empty() {
        let _ = write!(body, "<h2>{}</h2>", esc(ctx.t("col.incidents")));
        let rows: Vec<Row> = plot
            .incidents
            .iter()
            .map(|i| {
                Row::new(vec![
                    esc(i.kind.as_str()),
                    time(i.start.0),
                    time(i.end.0),
                    match i.detected {
                        Some(true) => esc(ctx.t("chart.detected")),
                        Some(false) => {
                            format!(r#"<span class="bad">{}</span>"#, esc(ctx.t("chart.missed")))
                        }
                        None => String::new(),
                    },
                ])
            })
            .collect();
        body.push_str(&table(
            ctx,
            &["col.kind", "col.start", "col.end", "col.detected"],
            &rows,
        ));
    }
    Ok((format!("{} · {}", plot.entity, plot.field), body))
}

#[derive(Debug, Deserialize)]
pub(super) struct FileQ {
    id: String,
    name: String,
}

/// The policy of a page a run wrote: its own inline styles and images, no scripts.
const RUN_FILE_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";

pub(super) async fn run_file(ctx: Ctx, State(c): State<Shared>, q: Q<FileQ>) -> Response {
    let result = async {
        let q = query(q)?;
        let runs = runs_dir(&c)?;
        blocking(move || {
            let path = runs.file(&q.id, &q.name)?;
            std::fs::read(&path)
                .map(|b| (path, b))
                .map_err(|source| ConsoleError::Io {
                    path: q.name.clone(),
                    source,
                })
        })
        .await
    }
    .await;
    match result {
        Ok((path, bytes)) => {
            let kind = match path.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("json") => "application/json",
                Some("svg") => "image/svg+xml",
                Some("png") => "image/png",
                Some("csv" | "txt" | "md") => "text/plain; charset=utf-8",
                _ => "application/octet-stream",
            };
            let mut resp = super::html::respond(StatusCode::OK, kind, bytes);
            resp.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(RUN_FILE_CSP),
            );
            resp
        }
        Err(e) => answer(&ctx, Err(e)),
    }
}

pub(super) async fn pipelines(ctx: Ctx, State(c): State<Shared>) -> Response {
    let title = ctx.t("pipelines.title").to_string();
    let Some(p) = c.pipelines.clone() else {
        let body = format!("<p>{}</p>", esc(ctx.t("pipelines.not_served")));
        return answer(&ctx, Ok((title, body)));
    };
    match blocking(move || Ok(p.list())).await {
        Ok(all) => {
            let body = pipelines_table(&ctx, &all, c.runs.as_ref());
            let live = html::Live {
                script: "/ui/live.js",
                refresh: 5,
            };
            html::live_page(&ctx, StatusCode::OK, &title, &body, Some(live))
        }
        Err(e) => answer(&ctx, Err(e)),
    }
}

fn pipelines_table(ctx: &Ctx, all: &[crate::PipelineStatus], runs: Option<&RunsDir>) -> String {
    if all.is_empty() {
        return format!("<p>{}</p>", esc(ctx.t("pipelines.none")));
    }
    let rows: Vec<Row> = all
        .iter()
        .map(|p| {
            let state = serde_json::to_value(p.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let class = match p.state {
                crate::PipelineState::Failed => "bad",
                crate::PipelineState::Finished => "good",
                _ => "",
            };
            // The report's page, once the pipeline has written one under the runs folder.
            let name = match (&p.report, runs) {
                (Some(_), Some(_)) => format!(
                    r#"<a href="{}">{}</a>"#,
                    ctx.href("/ui/run", &[("id", &p.name)]),
                    esc(&p.name)
                ),
                _ => esc(&p.name),
            };
            Row::new(vec![
                name,
                format!(r#"<span class="{class}">{}</span>"#, esc(&state)),
                esc(&p.phase),
                esc(&p.source),
                p.rows.to_string(),
                p.alerts.to_string(),
                esc(p.event_time.as_deref().unwrap_or("")),
                esc(&p.started),
                esc(p.detail.as_deref().unwrap_or("")),
            ])
            .with("data-pipeline", p.name.clone())
        })
        .collect();
    let mut out = table(
        ctx,
        &[
            "col.name",
            "col.state",
            "col.phase",
            "col.source",
            "col.rows",
            "col.alerts",
            "col.event_time",
            "col.started",
            "col.detail",
        ],
        &rows,
    );
    for p in all {
        out.push_str(&nodes_table(ctx, p));
    }
    let _ = write!(out, "<p>{}</p>", esc(ctx.t("pipelines.refresh")));
    out
}

/// A pipeline's Y.3172 nodes (SRC, PP, M, P, SINK) with their figures, as `ai4ict top` shows
/// them beneath it; a line saying there are none yet for one that has just started. The
/// section is marked with the pipeline's name and each row with its node, for the live script.
fn nodes_table(ctx: &Ctx, p: &crate::PipelineStatus) -> String {
    if p.nodes.is_empty() {
        return format!(
            r#"<p class="nodes" data-nodes="{}"><strong>{}</strong>: {}</p>"#,
            esc(&p.name),
            esc(&p.name),
            esc(ctx.t("pipelines.no_nodes"))
        );
    }
    let dash = || "–".to_string();
    let rows: Vec<Row> = p
        .nodes
        .iter()
        .map(|n| {
            Row::new(vec![
                esc(&n.node),
                n.records_in.to_string(),
                n.records_out.to_string(),
                // A rate needs two readings: the live script fills it in.
                dash(),
                esc(n.event_time.as_deref().unwrap_or("")),
                n.lag_seconds.map_or_else(dash, |s| num(s, 1)),
                n.state_bytes.map_or_else(dash, |b| b.to_string()),
                n.late_rows.map_or_else(dash, |l| l.to_string()),
            ])
            .with("data-node", n.node.clone())
        })
        .collect();
    let caption = format!("{}: {}", p.name, ctx.t("pipelines.nodes"));
    format!(
        r#"<section class="nodes" data-nodes="{}">{}</section>"#,
        esc(&p.name),
        captioned_table(
            ctx,
            Some(&caption),
            &[
                "col.node",
                "col.records_in",
                "col.records_out",
                "col.out_per_s",
                "col.event_time",
                "col.lag_s",
                "col.state_bytes",
                "col.late_rows",
            ],
            &rows,
        )
    )
}

#[cfg(test)]
mod tests {
    use super::super::i18n::Lang;
    use super::*;
    use crate::pipelines::tests::node;
    use crate::{NodeStatus, PipelineState, PipelineStatus};

    fn status(name: &str, nodes: Vec<NodeStatus>) -> PipelineStatus {
        PipelineStatus {
            name: name.into(),
            use_case: "network_operations".into(),
            source: "sandbox".into(),
            state: PipelineState::Running,
            phase: "deploy".into(),
            rows: 1300,
            alerts: 3,
            event_time: Some("2024-01-02T00:00:00Z".into()),
            started: "2026-12-03T09:00:00Z".into(),
            detail: None,
            report: None,
            nodes,
        }
    }

    /// The cells of the row `<tr data-node="{node}">` in `html`.
    fn row<'a>(html: &'a str, node: &str) -> Vec<&'a str> {
        let start = html
            .find(&format!(r#"<tr data-node="{node}">"#))
            .unwrap_or_else(|| panic!("no row for {node} in {html}"));
        let rest = &html[start..];
        let row = &rest[..rest.find("</tr>").unwrap()];
        row.split("<td>")
            .skip(1)
            .map(|c| c.trim_end_matches("</td>"))
            .collect()
    }

    #[test]
    fn the_pipelines_page_shows_each_nodes_figures() {
        let mut src = node("SRC", 1300, 1200);
        src.lag_seconds = Some(12.34);
        src.late_rows = Some(7);
        let mut m = node("M", 1200, 1200);
        m.state_bytes = Some(4096);
        let mut p = node("P", 1200, 3);
        p.state_bytes = Some(512);
        let mut sink = node("SINK", 3, 3);
        sink.event_time = None;
        sink.lag_seconds = None;
        let name = "<b>edge</b>";
        let all = [status(name, vec![src, node("PP", 1200, 1200), m, p, sink])];
        let html = pipelines_table(&Ctx::in_lang(Lang::En), &all, None);

        // One table per pipeline, named by a caption, its name escaped.
        assert!(
            html.contains(r#"<section class="nodes" data-nodes="&lt;b&gt;edge&lt;/b&gt;">"#),
            "{html}"
        );
        assert!(
            html.contains("<caption>&lt;b&gt;edge&lt;/b&gt;: Y.3172 nodes</caption>"),
            "{html}"
        );
        assert!(!html.contains("<b>edge"), "{html}");
        for h in [
            "Node",
            "Records in",
            "Records out",
            "Out per s",
            "Lag (s)",
            "State (bytes)",
            "Late rows",
        ] {
            assert!(html.contains(&format!("<th>{h}</th>")), "{h} in {html}");
        }
        // Node, in, out, out per second (the live script's), event time, lag, state bytes,
        // late rows; a dash for what it lacks.
        let t = "2024-01-01T23:45:00Z";
        assert_eq!(
            row(&html, "SRC"),
            ["SRC", "1300", "1200", "–", t, "12.3", "–", "7"]
        );
        assert_eq!(
            row(&html, "PP"),
            ["PP", "1200", "1200", "–", t, "900.0", "–", "–"]
        );
        assert_eq!(
            row(&html, "M"),
            ["M", "1200", "1200", "–", t, "900.0", "4096", "–"]
        );
        assert_eq!(
            row(&html, "P"),
            ["P", "1200", "3", "–", t, "900.0", "512", "–"]
        );
        assert_eq!(
            row(&html, "SINK"),
            ["SINK", "3", "3", "–", "", "–", "–", "–"]
        );
        // The pipeline's own row stays the one the live script counts.
        assert_eq!(html.matches("<tr data-pipeline=").count(), 1, "{html}");

        // In another language, the headers and caption are translated.
        let zh = pipelines_table(&Ctx::in_lang(Lang::Zh), &all, None);
        assert!(
            zh.contains("<th>节点</th>") && zh.contains(": Y.3172 节点</caption>"),
            "{zh}"
        );
    }

    #[test]
    fn a_pipeline_without_nodes_yet_says_so_instead_of_an_empty_table() {
        let all = [
            status("fresh&new", Vec::new()),
            status("busy", vec![node("SRC", 10, 10)]),
        ];
        let html = pipelines_table(&Ctx::in_lang(Lang::En), &all, None);
        assert!(
            html.contains(
                r#"<p class="nodes" data-nodes="fresh&amp;new"><strong>fresh&amp;new</strong>: No node figures yet: the pipeline has just started.</p>"#
            ),
            "{html}"
        );
        // Only the pipeline with nodes has a node table: two tables in all.
        assert_eq!(html.matches("<table>").count(), 2, "{html}");
        assert_eq!(html.matches("<caption>").count(), 1, "{html}");
        assert_eq!(row(&html, "SRC")[..3], ["SRC", "10", "10"]);
    }
}
