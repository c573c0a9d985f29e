//! Small helpers shared by the metrics, the reports and the plots.

use ai4ict_core::Timestamp;
use chrono::{DateTime, Utc};

/// `num / den`, or `empty` when there is nothing to divide by.
pub(crate) fn ratio(num: usize, den: usize, empty: f64) -> f64 {
    if den == 0 {
        empty
    } else {
        num as f64 / den as f64
    }
}

/// Harmonic mean of precision and recall (0 when both are 0).
pub(crate) fn f1(precision: f64, recall: f64) -> f64 {
    if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    }
}

/// Mean of the values, `None` for none.
pub(crate) fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Median (mean of the two middle values for an even count), `None` for none.
pub(crate) fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

/// Linear-interpolated quantile `q` in [0, 1] of the values, `None` for none or NaN input.
pub(crate) fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

/// A duration in milliseconds as `1h 05m`, `12m 30s`, `45s` or `250ms` (negative with a `-`).
pub(crate) fn fmt_duration_ms(ms: f64) -> String {
    if !ms.is_finite() {
        return "-".to_string();
    }
    let sign = if ms < 0.0 { "-" } else { "" };
    let ms = ms.abs();
    if ms < 1000.0 {
        return format!("{sign}{ms:.0}ms");
    }
    let s = (ms / 1000.0).round() as u64;
    let (d, h, m, s) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{sign}{d}d {h:02}h")
    } else if h > 0 {
        format!("{sign}{h}h {m:02}m")
    } else if m > 0 {
        format!("{sign}{m}m {s:02}s")
    } else {
        format!("{sign}{s}s")
    }
}

/// `Some(duration)` formatted, or `-`.
pub(crate) fn fmt_opt_duration(ms: Option<f64>) -> String {
    ms.map_or_else(|| "-".to_string(), fmt_duration_ms)
}

/// A timestamp with a strftime-style format (UTC), falling back to the milliseconds.
pub(crate) fn fmt_time(t: Timestamp, fmt: &str) -> String {
    DateTime::<Utc>::from_timestamp_millis(t.0)
        .map_or_else(|| format!("{}ms", t.0), |d| d.format(fmt).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_durations() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(quantile(&[0.0, 10.0], 0.99), Some(9.9));
        assert_eq!(fmt_duration_ms(750_000.0), "12m 30s");
        assert_eq!(fmt_duration_ms(3_900_000.0), "1h 05m");
        assert_eq!(fmt_duration_ms(250.0), "250ms");
        assert_eq!(fmt_duration_ms(-45_000.0), "-45s");
        assert_eq!(fmt_time(Timestamp(0), "%Y-%m-%d %H:%M"), "1970-01-01 00:00");
    }
}
