//! Checks on input that names things or claims results: names that could be mistaken for
//! paths, metrics outside their range, evidence dated in the future.

use chrono::{DateTime, Utc};

use crate::error::{HubError, Result};

/// Longest name accepted.
const MAX_NAME: usize = 128;

/// How far in the future an evidence date may lie (clock skew between machines).
const CLOCK_SKEW_SECS: i64 = 300;

/// Metric names (or `_`/`-`/`.`-separated parts of them) whose values are ratios in [0, 1].
const RATIO_METRICS: [&str; 8] = [
    "precision",
    "recall",
    "f1",
    "accuracy",
    "auc",
    "specificity",
    "sensitivity",
    "availability",
];

/// A free-form name (use case, intent): not empty, not `.` or `..`, at most 128 characters,
/// without `/`, `\` or control characters.
pub(crate) fn name(field: &str, v: &str) -> Result<()> {
    if v.is_empty() || v.chars().count() > MAX_NAME {
        return Err(HubError::invalid(
            field,
            format!("must be 1 to {MAX_NAME} characters"),
        ));
    }
    if v == "." || v == ".." {
        return Err(HubError::invalid(field, format!("'{v}' is not a name")));
    }
    if let Some(c) = v
        .chars()
        .find(|c| matches!(c, '/' | '\\') || c.is_control())
    {
        return Err(HubError::invalid(
            field,
            format!("{c:?} is not allowed in a name"),
        ));
    }
    Ok(())
}

/// True when a metric of this name is a ratio in [0, 1] (`f1`, `macro_f1`, `roc-auc`, …).
fn is_ratio(metric: &str) -> bool {
    let lower = metric.to_ascii_lowercase();
    lower
        .split(['_', '-', '.', ' '])
        .any(|part| RATIO_METRICS.contains(&part))
}

/// A metric value: finite, and in [0, 1] for ratios such as precision, recall and F1.
pub(crate) fn metric(field: &str, metric: &str, v: f64) -> Result<()> {
    if !v.is_finite() {
        return Err(HubError::invalid(
            field,
            format!("{metric} = {v} is not finite"),
        ));
    }
    if is_ratio(metric) && !(0.0..=1.0).contains(&v) {
        return Err(HubError::invalid(
            field,
            format!("{metric} = {v} is outside [0, 1]"),
        ));
    }
    Ok(())
}

/// A date that must not lie in the future (a few minutes of clock skew allowed).
pub(crate) fn not_future(field: &str, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<()> {
    if at > now + chrono::Duration::seconds(CLOCK_SKEW_SECS) {
        return Err(HubError::invalid(
            field,
            format!("{} is in the future", at.to_rfc3339()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for bad in ["", ".", "..", "a/b", "a\\b", "a\nb", "a\u{7f}"] {
            assert!(name("name", bad).is_err(), "{bad:?}");
        }
        assert!(name("name", "energy saving (RAN)").is_ok());
    }

    #[test]
    fn ratios() {
        assert!(metric("metrics", "f1", 9.9).is_err());
        assert!(metric("metrics", "macro_f1", -0.1).is_err());
        assert!(metric("metrics", "roc-auc", 0.9).is_ok());
        assert!(metric("metrics", "mae", 9.9).is_ok());
        assert!(metric("metrics", "mae", f64::NAN).is_err());
    }
}
