//! Headless Chromium for the tests that render pages as a browser does (`AI4ICT_TEST_CHROMIUM`
//! names it; `.ci/run` sets it): run it, and take screenshots at laptop and phone widths.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Viewports every page is rendered at: a laptop and a phone.
pub const VIEWPORTS: [(&str, u32, u32); 2] = [("laptop", 1366, 900), ("phone", 390, 844)];

/// A screenshot smaller than this is taken for a blank page.
pub const MIN_PNG_BYTES: u64 = 12_000;

/// Runs headless `chromium` with its profile in `profile` and `args`; panics when it fails.
pub fn chromium(chromium: &str, profile: &Path, args: &[String]) -> Output {
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            &format!("--user-data-dir={}", profile.display()),
        ])
        .args(args)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Screenshots of `url` at every viewport, as `out/NAME-VIEW.png`, each checked to be a PNG
/// of a page that is not blank; returns their paths.
pub fn screenshots(
    browser: &str,
    profile: &Path,
    url: &str,
    name: &str,
    out: &Path,
) -> Vec<PathBuf> {
    VIEWPORTS
        .iter()
        .map(|(view, w, h)| {
            let png = out.join(format!("{name}-{view}.png"));
            chromium(
                browser,
                profile,
                &[
                    format!("--window-size={w},{h}"),
                    format!("--screenshot={}", png.display()),
                    url.into(),
                ],
            );
            let bytes = std::fs::read(&png).unwrap();
            assert!(
                bytes.starts_with(b"\x89PNG"),
                "{}: not a PNG",
                png.display()
            );
            assert!(
                bytes.len() as u64 >= MIN_PNG_BYTES,
                "{}: {} bytes, a blank page?",
                png.display(),
                bytes.len()
            );
            png
        })
        .collect()
}
