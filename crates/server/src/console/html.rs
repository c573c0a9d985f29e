//! The page frame (head, navigation, language switch) and small HTML helpers. Every text
//! that is not ours goes through [`esc`].

use std::convert::Infallible;
use std::fmt::Write as _;

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::i18n::Lang;

/// Escapes text for HTML text and attribute values.
pub(crate) fn esc(text: &str) -> String {
    ai4ict_eval::svg::escape(text)
}

/// What every page needs from its request: the language, whether it was chosen with
/// `?lang=` (then links carry it on), and the other query parameters (kept by the language
/// switch).
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) lang: Lang,
    chosen: bool,
    others: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Ctx, Infallible> {
        let (langs, others): (Vec<_>, Vec<_>) = parts
            .uri
            .query()
            .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
            .unwrap_or_default()
            .into_iter()
            .partition(|(k, _)| k == "lang");
        if let Some(lang) = langs.iter().find_map(|(_, v)| Lang::from_tag(v)) {
            return Ok(Ctx {
                lang,
                chosen: true,
                others,
            });
        }
        let lang = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|h| h.to_str().ok())
            .and_then(Lang::negotiate)
            .unwrap_or(Lang::En);
        Ok(Ctx {
            lang,
            chosen: false,
            others,
        })
    }
}

impl Ctx {
    /// A request's context in `lang`, as if chosen with `?lang=` (for tests).
    #[cfg(test)]
    pub(crate) fn in_lang(lang: Lang) -> Ctx {
        Ctx {
            lang,
            chosen: true,
            others: Vec::new(),
        }
    }

    /// This language's text for `key`.
    pub(crate) fn t<'a>(&self, key: &'a str) -> &'a str {
        self.lang.t(key)
    }

    /// A link to `path` with `params` (empty ones left out) and the chosen language,
    /// escaped for an attribute.
    pub(crate) fn href(&self, path: &str, params: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, &str)> = params
            .iter()
            .copied()
            .filter(|(_, v)| !v.is_empty())
            .collect();
        if self.chosen {
            pairs.push(("lang", self.lang.code()));
        }
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if query.is_empty() {
            esc(path)
        } else {
            esc(&format!("{path}?{query}"))
        }
    }

    /// A hidden form field that keeps the chosen language.
    pub(crate) fn lang_field(&self) -> String {
        if self.chosen {
            format!(
                r#"<input type="hidden" name="lang" value="{}">"#,
                self.lang.code()
            )
        } else {
            String::new()
        }
    }
}

/// The navigation: path and the key of its label.
const NAV: [(&str, &str); 9] = [
    ("/", "nav.overview"),
    ("/ui/standards", "nav.standards"),
    ("/ui/review-due", "nav.review"),
    ("/ui/coop", "nav.coop"),
    ("/ui/gaps", "nav.gaps"),
    ("/ui/usecases", "nav.usecases"),
    ("/ui/models", "nav.models"),
    ("/ui/pipelines", "nav.pipelines"),
    ("/ui/runs", "nav.runs"),
];

/// The policy of every console page: its own stylesheet and scripts (no inline script),
/// inline SVG, its own event stream, nothing from elsewhere, not framed.
const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
                   connect-src 'self'; img-src 'self' data:; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// A whole page: `title` (already in the page's language) over `body` (HTML), answered with
/// `status` and the console's security headers.
pub(crate) fn page(ctx: &Ctx, status: StatusCode, title: &str, body: &str) -> Response {
    live_page(ctx, status, title, body, None)
}

/// How a page stays current: `script` (one of the console's own) updates it in place, and
/// without scripts the browser reloads it every `refresh` seconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Live {
    /// Path of the console's script that updates the page.
    pub(crate) script: &'static str,
    /// Seconds between reloads when scripts are off.
    pub(crate) refresh: u32,
}

/// [`page`], kept current as `live` says when given.
pub(crate) fn live_page(
    ctx: &Ctx,
    status: StatusCode,
    title: &str,
    body: &str,
    live: Option<Live>,
) -> Response {
    let lang = ctx.lang;
    let mut html = String::with_capacity(body.len() + 2048);
    let refresh = live.map_or(String::new(), |l| {
        format!(
            r#"<noscript><meta http-equiv="refresh" content="{}"></noscript><script src="{}" defer></script>"#,
            l.refresh,
            esc(l.script)
        )
    });
    let _ = write!(
        html,
        r#"<!doctype html><html lang="{code}" dir="{dir}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">{refresh}<title>{title} · {brand}</title><link rel="stylesheet" href="/ui/style.css"></head><body><header><a class="brand" href="{home}">{brand}</a><nav>"#,
        code = lang.code(),
        dir = if lang.rtl() { "rtl" } else { "ltr" },
        title = esc(title),
        brand = esc(ctx.t("brand")),
        home = ctx.href("/", &[]),
    );
    for (path, key) in NAV {
        let _ = write!(
            html,
            r#"<a href="{}">{}</a>"#,
            ctx.href(path, &[]),
            esc(ctx.t(key))
        );
    }
    html.push_str(r#"</nav><div class="langs">"#);
    for l in Lang::ALL {
        let current = if l == lang {
            r#" aria-current="true""#
        } else {
            ""
        };
        let mut pairs: Vec<(&str, &str)> = ctx
            .others
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        pairs.push(("lang", l.code()));
        let _ = write!(
            html,
            r#"<a href="?{query}" hreflang="{code}" lang="{code}"{current}>{name}</a>"#,
            query = esc(&serde_urlencoded::to_string(&pairs).unwrap_or_default()),
            code = l.code(),
            name = esc(l.native_name()),
        );
    }
    let _ = write!(
        html,
        r#"</div></header><main><h1>{}</h1>{body}</main><footer>{} <a href="/health">/health</a> · <a href="/standards">/standards</a> · <a href="/models">/models</a></footer></body></html>"#,
        esc(title),
        esc(ctx.t("footer.api")),
    );
    respond(status, "text/html; charset=utf-8", html)
}

/// An answer with the console's security headers.
pub(crate) fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<axum::body::Body>,
) -> Response {
    let mut resp = (status, body.into()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// A table inside a box that scrolls sideways on a narrow screen. `head` holds the keys of
/// the column titles; each row is a list of cells already in HTML.
pub(crate) fn table(ctx: &Ctx, head: &[&str], rows: &[Row]) -> String {
    captioned_table(ctx, None, head, rows)
}

/// [`table`] with a `caption` (text, escaped here) naming it for screen readers and the eye.
pub(crate) fn captioned_table(
    ctx: &Ctx,
    caption: Option<&str>,
    head: &[&str],
    rows: &[Row],
) -> String {
    let mut out = String::from(r#"<div class="scroll"><table>"#);
    if let Some(caption) = caption {
        let _ = write!(out, "<caption>{}</caption>", esc(caption));
    }
    out.push_str("<thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", esc(ctx.t(h)));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str(&row.attrs.as_ref().map_or_else(
            || "<tr>".to_string(),
            |(name, value)| format!(r#"<tr {name}="{}">"#, esc(value)),
        ));
        for cell in &row.cells {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

/// A table row: cells in HTML and an optional `data-*` attribute (for tests and styles).
#[derive(Debug, Default)]
pub(crate) struct Row {
    pub(crate) cells: Vec<String>,
    pub(crate) attrs: Option<(&'static str, String)>,
}

impl Row {
    /// A row of cells.
    pub(crate) fn new(cells: Vec<String>) -> Row {
        Row { cells, attrs: None }
    }

    /// The row with attribute `name` (a `data-*` name) set to `value`.
    pub(crate) fn with(mut self, name: &'static str, value: impl Into<String>) -> Row {
        self.attrs = Some((name, value.into()));
        self
    }
}

/// A definition list of (key of the label, value in HTML), leaving out empty values.
pub(crate) fn fields(ctx: &Ctx, items: &[(&str, String)]) -> String {
    let mut out = String::from("<dl>");
    for (k, v) in items.iter().filter(|(_, v)| !v.is_empty()) {
        let _ = write!(out, "<dt>{}</dt><dd>{v}</dd>", esc(ctx.t(k)));
    }
    out.push_str("</dl>");
    out
}

/// A number with at most `digits` decimals; a dash for a non-finite one.
pub(crate) fn num(v: f64, digits: usize) -> String {
    if v.is_finite() {
        format!("{v:.digits$}")
    } else {
        "–".into()
    }
}

/// The paging line: where this page is in `total`, with links to the previous and next.
pub(crate) fn pager(
    ctx: &Ctx,
    path: &str,
    params: &[(&str, &str)],
    offset: usize,
    limit: usize,
    total: usize,
) -> String {
    let shown_to = offset.saturating_add(limit).min(total);
    let from = if total == 0 { 0 } else { offset + 1 };
    let mut out = format!(
        r#"<p class="pager"><span>{} {from}–{shown_to} {} {total}</span>"#,
        esc(ctx.t("pager.showing")),
        esc(ctx.t("pager.of")),
    );
    let link = |o: usize, key: &str, rel: &str| {
        let o = o.to_string();
        let l = limit.to_string();
        let mut p: Vec<(&str, &str)> = params.to_vec();
        p.push(("offset", &o));
        p.push(("limit", &l));
        format!(
            r#" <a rel="{rel}" href="{}">{}</a>"#,
            ctx.href(path, &p),
            esc(ctx.t(key))
        )
    };
    if offset > 0 {
        out.push_str(&link(offset.saturating_sub(limit), "pager.prev", "prev"));
    }
    if shown_to < total {
        out.push_str(&link(shown_to, "pager.next", "next"));
    }
    out.push_str("</p>");
    out
}
