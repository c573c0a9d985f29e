//! The pages an operator reads — the run report, the energy page, the `detect` plot — rendered
//! by a real browser at laptop and phone widths. `.ci/run` installs Debian's Chromium and names
//! it in `AI4ICT_TEST_CHROMIUM`; without it the test says so and checks nothing. Screenshots
//! are kept as test artefacts in `target/tmp/screenshots/`; `scripts/screenshots.sh` makes the
//! ones committed under `docs/screenshots/` from the shipped intents.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_ai4ict");

fn ai4ict(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("AI4ICT_HUB", dir.join("hub.db"))
        .output()
        .expect("the binary runs")
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A run that ended: networks this small may miss an intent's targets (exit 3), and the
/// pages are written either way.
fn ran(out: &Output, what: &str) {
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Renders `page` at every viewport and returns the screenshots' paths.
fn screenshot(chromium: &str, page: &Path, name: &str, out: &Path) -> Vec<PathBuf> {
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let profile = tempfile::tempdir().unwrap();
    common::browser::screenshots(chromium, profile.path(), &url, name, out)
}

#[test]
fn reports_render_in_a_real_browser_at_laptop_and_phone_widths() {
    let Ok(chromium) = std::env::var("AI4ICT_TEST_CHROMIUM") else {
        eprintln!("AI4ICT_TEST_CHROMIUM is not set (.ci/run sets it): no browser, nothing checked");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    ok(
        &ai4ict(
            d,
            &[
                "sandbox", "generate", "--cells", "12", "--days", "5", "--out", "net", "--quiet",
            ],
        ),
        "sandbox generate",
    );
    ok(
        &ai4ict(
            d,
            &[
                "detect",
                "--input",
                "net/telemetry.csv",
                "--out",
                "detect",
                "--plots",
                "4",
            ],
        ),
        "detect",
    );

    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let anomaly = std::fs::read_to_string(repo.join("intents/cell-kpi-anomaly.yaml"))
        .unwrap()
        .replace(
            "cells: 200, days: 21, history_days: 7, quiet_days: 0",
            "cells: 24, days: 8, history_days: 3, quiet_days: 3",
        )
        .replace("p99_latency_ms: 1000", "p99_latency_ms: 10000");
    assert!(
        anomaly.contains("cells: 24") && anomaly.contains("p99_latency_ms: 10000"),
        "the shipped intent's sandbox or targets line changed: update this test"
    );
    std::fs::write(d.join("anomaly.yaml"), anomaly).unwrap();
    ran(
        &ai4ict(d, &["run", "anomaly.yaml", "--quiet", "--no-hub"]),
        "anomaly run",
    );

    let energy = std::fs::read_to_string(repo.join("intents/energy-saving.yaml"))
        .unwrap()
        .replace("cells: 200, days: 28", "cells: 24, days: 9")
        .replace("history_days: 14", "history_days: 4");
    std::fs::write(d.join("energy.yaml"), energy).unwrap();
    ran(
        &ai4ict(d, &["run", "energy.yaml", "--quiet", "--no-hub"]),
        "energy run",
    );

    let pages = [
        ("anomaly-report", d.join("out/cell-kpi-anomaly/report.html")),
        ("energy-page", d.join("out/energy-saving/energy.html")),
        ("detect-plot", d.join("detect/plot.html")),
    ];
    for (name, page) in pages {
        assert!(page.is_file(), "{} was not written", page.display());
        for png in screenshot(&chromium, &page, name, &shots) {
            println!("screenshot {}", png.display());
        }
    }
}
