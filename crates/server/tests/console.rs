//! The web console over real TCP: every page answers with its content, text from the hub is
//! escaped, the catalogue filters and pages, runs never leave the runs folder, the language
//! follows `?lang=` and `Accept-Language`, and the guards of the API stand in front of the
//! pages too.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use ai4ict_core::{Entity, Timestamp};
use ai4ict_eval::metrics::EventMetrics;
use ai4ict_eval::report::{PlotSeries, Report, Targets};
use ai4ict_hub::{Evidence, Hub, ModelMetadata, Standard, UseCase};
use ai4ict_server::{Background, Config, Hubs, Token};

const EVIL: &str = "<script>alert('x')</script>";
const EVIL_NAME: &str = "<img src=x onerror=alert(1)>";

/// A hub with the shipped catalogue, a standard and a use case whose texts are HTML, and a
/// published model.
fn hub() -> Hub {
    let mut hub = Hub::in_memory().unwrap();
    let mut s = Standard::new("ITU-T", "Y.9999", &format!("Evil {EVIL}"));
    s.year = Some(2024);
    s.status = "In force".into();
    s.scope = format!("scope {EVIL}");
    hub.add_standard(&s).unwrap();
    hub.register_use_case(&UseCase {
        name: EVIL_NAME.into(),
        intent: "energy-saving".into(),
        sdgs: vec![7, 13],
        domain: "energy".parse().unwrap(),
        description: format!("Switch off idle cells {EVIL}"),
        standards: vec!["ITU-T Y.9999".into()],
        evidence: Some(Evidence {
            run_id: "run-42".into(),
            metrics: serde_json::json!({ "f1": 0.875, "targets_met": true }),
            source: "sandbox:night".into(),
            at: chrono::Utc::now() - chrono::Duration::days(1),
        }),
    })
    .unwrap();
    let mut m = ModelMetadata::new("kpi-anomaly", "1.0.0", "ai4ict", "Apache-2.0");
    m.metrics.insert("precision".into(), 0.61);
    m.training_data = "sandbox scenario sha256:abc123, learned until 2026-01-01".into();
    m.standards = vec!["ITU-T Y.3172".into()];
    hub.publish_model(&m, b"model bytes").unwrap();
    hub.set_model_alias("kpi-anomaly", "production", "1.0.0")
        .unwrap();
    hub
}

/// A report as `ai4ict run` writes it, with one plotted entity that has alerts.
fn write_report(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let mut r = Report::new("cell-kpi-anomaly", "operations");
    r.records = 1000;
    r.throughput_per_s = 5000.0;
    r.targets = Targets {
        precision: Some(0.5),
        recall: Some(0.5),
        ..Targets::default()
    };
    r.metrics = Some(EventMetrics {
        grace_ms: 0,
        alerts: 4,
        true_alerts: 3,
        false_alerts: 1,
        incidents: 3,
        detected: 3,
        precision: 0.75,
        recall: 1.0,
        f1: 0.857,
        mean_ttd_ms: None,
        median_ttd_ms: None,
        per_kind: Vec::new(),
    });
    let times: Vec<Timestamp> = (0..48).map(|i| Timestamp(i * 3_600_000)).collect();
    let values: Vec<f64> = (0..48).map(|i| f64::from(i % 24)).collect();
    let mut plot = PlotSeries::new(&Entity::new("cell-007"), "prb_util", times, values);
    plot.alerts = vec![Timestamp(10 * 3_600_000), Timestamp(30 * 3_600_000)];
    plot.false_alerts = vec![Timestamp(30 * 3_600_000)];
    r.plots.push(plot);
    r.notes.push(format!("note {EVIL}"));
    r.write_json(&dir.join("report.json")).unwrap();
    r.write_html(&dir.join("report.html")).unwrap();
}

struct Served {
    hub: Background,
    _dir: tempfile::TempDir,
}

fn serve(with_runs: bool) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    write_report(&runs.join("cell-kpi-anomaly"));
    std::fs::write(dir.path().join("secret.json"), "top secret").unwrap();
    let config = Config {
        runs_dir: with_runs.then_some(runs),
        ..Config::with_token(Token::new("console-test-token-0123456789abcdef").unwrap())
    };
    let hub = Background::start(Hubs::new(hub()), config, "127.0.0.1:0".parse().unwrap()).unwrap();
    Served { hub, _dir: dir }
}

#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("Content-Length: 0\r\n\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Answer {
        status: head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        head: head.to_string(),
        body: body.to_string(),
    }
}

fn get(addr: SocketAddr, path: &str) -> Answer {
    http(addr, "GET", path, &[])
}

/// A page that answered 200 as HTML.
fn page(addr: SocketAddr, path: &str) -> String {
    let a = get(addr, path);
    assert_eq!(a.status, 200, "{path}: {}", a.body);
    assert!(
        a.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{path}: {:?}",
        a.header("content-type")
    );
    a.body
}

/// The values of attribute `attr` in `html`, in order.
fn attrs(html: &str, attr: &str) -> Vec<String> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

#[test]
fn every_page_answers_with_its_content() {
    let s = serve(true);
    let a = s.hub.addr();
    let overview = page(a, "/");
    for want in [
        "<meta name=\"viewport\"",
        "/ui/style.css",
        "Use cases by SDG",
        "cell-kpi-anomaly",
        "Latest runs",
    ] {
        assert!(overview.contains(want), "overview lacks {want}");
    }
    let checks: [(&str, &[&str]); 12] = [
        (
            "/ui/standards",
            &["data-body=", "Standards catalogue", "rel=\"next\""],
        ),
        (
            "/ui/standard?key=ITU-T%20Y.3172",
            &["Architectural framework", "SG13"],
        ),
        (
            "/ui/review-due?at=2100-01-01&limit=1000",
            &["Standards due for review", "ITU-T Y.3172"],
        ),
        ("/ui/coop", &["Cooperation map", "Why they match"]),
        ("/ui/gaps", &["Gaps", "energy"]),
        (
            "/ui/usecases",
            &["id=\"sdg-7\"", "run-42", "sandbox:night", "0.875"],
        ),
        (
            "/ui/models",
            &["kpi-anomaly", "production", "precision 0.610"],
        ),
        (
            "/ui/model?name=kpi-anomaly&version=production",
            &["sha256:abc123", "ITU-T Y.3172", "Apache-2.0"],
        ),
        (
            "/ui/runs",
            &[
                "cell-kpi-anomaly",
                "0.750",
                "1.000",
                "data-run=\"cell-kpi-anomaly\"",
            ],
        ),
        (
            "/ui/run?id=cell-kpi-anomaly",
            &[
                "<svg",
                "data-entity=\"cell-007\"",
                "Open chart",
                "report.html",
                "Targets",
            ],
        ),
        (
            "/ui/run/chart?id=cell-kpi-anomaly&entity=cell-007",
            &["<svg", "data-alert=", "false alert"],
        ),
        (
            "/ui/run/file?id=cell-kpi-anomaly&name=report.html",
            &["cell-kpi-anomaly"],
        ),
    ];
    for (path, wants) in checks {
        let body = page(a, path);
        for want in wants {
            assert!(body.contains(want), "{path} lacks {want}");
        }
    }
    let css = get(a, "/ui/style.css");
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    assert!(css.body.contains("overflow-x"));
    // Unknown items are 404 pages, bad parameters 400.
    assert_eq!(get(a, "/ui/standard?key=NOPE%201").status, 404);
    assert_eq!(get(a, "/ui/model?name=nope").status, 404);
    assert_eq!(
        get(a, "/ui/run/chart?id=cell-kpi-anomaly&entity=nope").status,
        404
    );
    assert_eq!(get(a, "/ui/coop?offset=-1").status, 400);
}

#[test]
fn text_from_the_hub_and_the_runs_is_escaped() {
    let s = serve(true);
    let a = s.hub.addr();
    for path in [
        "/ui/standards?body=ITU-T&limit=200",
        "/ui/standard?key=ITU-T%20Y.9999",
        "/ui/usecases",
        "/",
        "/ui/run?id=cell-kpi-anomaly",
        "/ui/standards?q=%3Cscript%3E",
    ] {
        let body = page(a, path);
        assert!(!body.contains("<script"), "{path} carries a script");
        assert!(
            !body.contains("<img src=x"),
            "{path} carries the use case name raw"
        );
        assert!(!body.contains("onerror=alert(1)>"), "{path}");
    }
    let body = page(a, "/ui/standard?key=ITU-T%20Y.9999");
    assert!(body.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    let body = page(a, "/ui/usecases");
    assert!(body.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(body.contains("data-name=\"&lt;img src=x onerror=alert(1)&gt;\""));
}

#[test]
fn the_catalogue_filters_by_body_status_year_and_text_and_pages() {
    let s = serve(false);
    let a = s.hub.addr();
    let body = page(a, "/ui/standards?body=3GPP&limit=200");
    let bodies = attrs(&body, "data-body");
    assert!(!bodies.is_empty());
    assert!(bodies.iter().all(|b| b == "3GPP"), "{bodies:?}");
    assert!(body.contains("<option value=\"3GPP\" selected>"));

    let first = attrs(&page(a, "/ui/standards?limit=5"), "data-body");
    assert_eq!(first.len(), 5);
    let p1 = page(a, "/ui/standards?limit=5");
    let p2 = page(a, "/ui/standards?limit=5&offset=5");
    let keys = |html: &str| {
        attrs(html, "href")
            .into_iter()
            .filter(|h| h.starts_with("/ui/standard?key="))
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&p1).len(), 5);
    assert!(
        keys(&p1).iter().all(|k| !keys(&p2).contains(k)),
        "pages overlap"
    );
    assert!(p2.contains("rel=\"prev\""));
    assert!(p1.contains("Showing 1–5 of"));

    let by_year = page(a, "/ui/standards?year=2024&limit=200");
    assert!(by_year.contains("ITU-T Y.9999"));
    assert!(
        !by_year.contains("ITU-T Y.3172<"),
        "a 2019 standard in 2024"
    );
    let by_status = page(a, "/ui/standards?status=In%20force&limit=200");
    assert!(by_status.contains("ITU-T Y.9999"));

    let found = page(
        a,
        "/ui/standards?q=machine%20learning%20architecture&body=ITU-T",
    );
    let bodies = attrs(&found, "data-body");
    assert!(!bodies.is_empty());
    assert!(bodies.iter().all(|b| b == "ITU-T"));
    assert!(found.contains("ITU-T Y.3172"));
    // Filter links keep the filters.
    let paged = page(a, "/ui/standards?body=ITU-T&limit=3");
    assert!(paged.contains("href=\"/ui/standards?body=ITU-T&amp;offset=3&amp;limit=3\""));

    assert_eq!(get(a, "/ui/standards?year=last").status, 400);
    assert!(page(a, "/ui/standards?body=NOBODY").contains("No standard matches"));
}

#[test]
fn run_paths_cannot_leave_the_runs_folder() {
    let s = serve(true);
    let a = s.hub.addr();
    for path in [
        "/ui/run?id=..",
        "/ui/run?id=../runs/cell-kpi-anomaly",
        "/ui/run?id=cell-kpi-anomaly/../..",
        "/ui/run?id=%2Fetc",
        "/ui/run/chart?id=..&entity=x",
        "/ui/run/file?id=cell-kpi-anomaly&name=..%2F..%2Fsecret.json",
        "/ui/run/file?id=..&name=secret.json",
        "/ui/run/file?id=cell-kpi-anomaly&name=..",
    ] {
        let ans = get(a, path);
        assert_eq!(ans.status, 403, "{path}: {}", ans.body);
        assert!(!ans.body.contains("top secret"), "{path}");
    }
    assert_eq!(get(a, "/ui/run?id=nope").status, 404);
    // Without a runs folder the list says how to give one, and a run is not found.
    let none = serve(false);
    let body = page(none.hub.addr(), "/ui/runs");
    assert!(body.contains("--runs DIR"));
    assert_eq!(
        get(none.hub.addr(), "/ui/run?id=cell-kpi-anomaly").status,
        404
    );
}

#[test]
fn the_language_follows_the_query_then_accept_language() {
    let s = serve(false);
    let a = s.hub.addr();
    let zh = page(a, "/ui/standards?lang=zh");
    assert!(zh.contains("<html lang=\"zh\" dir=\"ltr\">"));
    assert!(zh.contains("标准目录"));
    assert!(zh.contains("lang=zh"), "links keep the chosen language");
    let negotiated = http(
        a,
        "GET",
        "/",
        &[("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8")],
    );
    assert!(negotiated.body.contains("概览"));
    let ar = page(a, "/?lang=ar");
    assert!(ar.contains("dir=\"rtl\""));
    let fr = page(a, "/ui/standards?lang=fr");
    assert!(fr.contains("<html lang=\"fr\""));
    assert!(fr.contains("Normes") && fr.contains("Catalogue des normes"));
    let ru = page(a, "/ui/models?lang=ru");
    assert!(
        ru.contains("<html lang=\"ru\"") && ru.contains("Маркетплейс моделей"),
        "{ru}"
    );
    // The language switch keeps the page's own parameters.
    let filtered = page(a, "/ui/standards?body=3GPP");
    assert!(filtered.contains("href=\"?body=3GPP&amp;lang=zh\""));
    let unknown = page(a, "/?lang=xx");
    assert!(unknown.contains("<html lang=\"en\""));
}

#[test]
fn the_pages_stand_behind_the_api_guards() {
    let s = serve(true);
    let a = s.hub.addr();
    let rebound = http(a, "GET", "/", &[("Host", "evil.example")]);
    assert_eq!(rebound.status, 403);
    let ans = http(
        a,
        "GET",
        "/ui/standards",
        &[("Origin", "https://evil.example")],
    );
    assert_eq!(ans.status, 200);
    assert!(ans.header("access-control-allow-origin").is_none());
    let csp = ans.header("content-security-policy").unwrap();
    // Only the console's own script files run: no inline script, nothing from elsewhere.
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self';"));
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    assert_eq!(ans.header("x-content-type-options"), Some("nosniff"));
    let report = get(a, "/ui/run/file?id=cell-kpi-anomaly&name=report.html");
    assert!(!report
        .header("content-security-policy")
        .unwrap()
        .contains("script"));
    // The console takes no writes; a write to its paths needs the token like any other.
    assert_eq!(http(a, "POST", "/", &[]).status, 401);
    assert_eq!(http(a, "POST", "/ui/standards", &[]).status, 401);
    assert_eq!(http(a, "POST", "/usecases", &[]).status, 401);
}
