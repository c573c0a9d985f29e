//! The published NAB scoreboard, to print ours beside it.

use std::fmt;

use serde::Serialize;

use super::corpus::PROFILE_NAMES;
use super::score::*;

/// A published score: one value, or the range NAB gives over seeds (`low..=high`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Published {
    /// The lower end (the value itself when there is no range).
    pub low: f64,
    /// The upper end.
    pub high: f64,
}

impl fmt::Display for Published {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.low == self.high {
            write!(f, "{:.1}", self.low)
        } else {
            write!(f, "{:.1}-{:.1}", self.low, self.high)
        }
    }
}

/// One row of NAB's published scoreboard.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PublishedScore {
    /// Detector as NAB names it.
    pub detector: &'static str,
    /// Standard profile.
    pub standard: Published,
    /// Reward-low-FP profile.
    pub reward_low_fp: Published,
    /// Reward-low-FN profile.
    pub reward_low_fn: Published,
}

/// NAB's published scoreboard (README "Scoreboard", NAB v1.0/v1.1), best first.
pub fn published_scoreboard() -> Vec<PublishedScore> {
    /// Detector, then (low, high) for standard, low FP and low FN.
    type Row = (&'static str, [f64; 2], [f64; 2], [f64; 2]);
    const ROWS: [Row; 15] = [
        ("Perfect", [100.0; 2], [100.0; 2], [100.0; 2]),
        ("ARTime", [74.9; 2], [65.1; 2], [80.4; 2]),
        (
            "Numenta HTM (NuPIC 1.0, seed range)",
            [69.7, 70.5],
            [61.7, 62.6],
            [74.2, 75.2],
        ),
        ("CAD OSE (contextOSE)", [69.9; 2], [67.0; 2], [73.2; 2]),
        ("earthgecko Skyline", [58.2; 2], [46.2; 2], [63.9; 2]),
        ("KNN CAD", [58.0; 2], [43.4; 2], [64.8; 2]),
        ("Relative Entropy", [54.6; 2], [47.6; 2], [58.8; 2]),
        ("Random Cut Forest (AWS)", [51.7; 2], [38.4; 2], [59.7; 2]),
        ("Twitter ADVec v1.0.0", [47.1; 2], [33.6; 2], [53.5; 2]),
        ("Windowed Gaussian", [39.6; 2], [20.9; 2], [47.4; 2]),
        ("Etsy Skyline", [35.7; 2], [27.1; 2], [44.5; 2]),
        ("Bayesian Changepoint", [17.7; 2], [3.2; 2], [32.2; 2]),
        ("EXPoSE", [16.4; 2], [3.2; 2], [26.9; 2]),
        ("Random (mean over seeds)", [11.0; 2], [1.2; 2], [19.5; 2]),
        ("Null", [0.0; 2], [0.0; 2], [0.0; 2]),
    ];
    let p = |[low, high]: [f64; 2]| Published { low, high };
    ROWS.iter()
        .map(|&(detector, s, fp, fn_)| PublishedScore {
            detector,
            standard: p(s),
            reward_low_fp: p(fp),
            reward_low_fn: p(fn_),
        })
        .collect()
}

/// The published scoreboard with `ours` merged in, sorted by standard score (best first), as a
/// text table; our rows are marked `*`.
pub fn scoreboard_table(ours: &[NabScore]) -> String {
    let mut rows: Vec<(String, f64, String, String, String)> = published_scoreboard()
        .into_iter()
        .map(|p| {
            let key = (p.standard.low + p.standard.high) / 2.0;
            (
                p.detector.to_string(),
                key,
                p.standard.to_string(),
                p.reward_low_fp.to_string(),
                p.reward_low_fn.to_string(),
            )
        })
        .collect();
    for s in ours {
        let get = |i: usize| {
            s.profile(PROFILE_NAMES[i])
                .map_or(f64::NAN, |p| p.normalized)
        };
        rows.push((
            format!("* {}", s.detector),
            get(0),
            format!("{:.1}", get(0)),
            format!("{:.1}", get(1)),
            format!("{:.1}", get(2)),
        ));
    }
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut out = format!(
        "{:<40} {:>11} {:>13} {:>13}\n",
        "detector", "standard", "low FP", "low FN"
    );
    for (name, _, s, fp, fn_) in rows {
        out.push_str(&format!("{name:<40} {s:>11} {fp:>13} {fn_:>13}\n"));
    }
    out
}
