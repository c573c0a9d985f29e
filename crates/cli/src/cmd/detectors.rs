//! Helpers shared by `detect` and the `bench nab|anomaly|sandbox` commands: the detector kinds
//! by name, and the sampling interval of a series.

use ai4ict_anomaly::{DetectorConfig, DetectorKind};
use ai4ict_core::{Interval, Timestamp};
use anyhow::bail;

/// Every detector kind the anomaly crate registers, by the name an intent uses for it
/// (`auto`, `robust_seasonal`, …), in the registry's order.
pub fn all() -> Vec<(String, DetectorKind)> {
    DetectorKind::ALL
        .iter()
        .map(|&k| (k.name().to_string(), k))
        .collect()
}

/// The registry's detector names as the choices of a `--detector` option (and `all` where the
/// command runs every detector); `--help` lists them.
pub fn choices(with_all: bool) -> clap::builder::PossibleValuesParser {
    let names = DetectorKind::ALL.iter().map(|k| k.name());
    let all = with_all.then_some("all");
    clap::builder::PossibleValuesParser::new(names.chain(all))
}

/// The kinds `name` asks for: one kind by name, or every kind for `all`.
pub fn select(name: &str) -> anyhow::Result<Vec<(String, DetectorKind)>> {
    let kinds = all();
    if name.eq_ignore_ascii_case("all") {
        return Ok(kinds);
    }
    let wanted = name.trim().replace('-', "_").to_ascii_lowercase();
    match kinds.iter().find(|(n, _)| *n == wanted) {
        Some(k) => Ok(vec![k.clone()]),
        None => bail!(
            "unknown detector `{name}`; choose one of: {}, or `all`",
            kinds
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The default configuration of detector `kind` (what an intent gets with only `detector:`).
pub fn config(kind: DetectorKind) -> DetectorConfig {
    DetectorConfig {
        detector: kind,
        ..DetectorConfig::default()
    }
}

/// The median gap between consecutive times that move forward (duplicates and steps back are
/// ignored), at least one second; `None` when no time moves forward.
pub fn median_interval(times: &[Timestamp]) -> Option<Interval> {
    let mut gaps: Vec<i64> = times
        .windows(2)
        .map(|w| w[1].0.saturating_sub(w[0].0))
        .filter(|&g| g > 0)
        .collect();
    median_gap(&mut gaps)
}

/// The median of positive gaps in milliseconds, as an interval of at least one second.
pub fn median_gap(gaps: &mut [i64]) -> Option<Interval> {
    if gaps.is_empty() {
        return None;
    }
    let mid = gaps.len() / 2;
    let (_, m, _) = gaps.select_nth_unstable(mid);
    Some(Interval::from_millis((*m).max(1000)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_registry_and_parse_back() {
        let kinds = all();
        assert!(kinds
            .iter()
            .any(|(n, k)| n == "auto" && *k == DetectorKind::Auto));
        assert_eq!(select("all").unwrap().len(), kinds.len());
        assert_eq!(select("AUTO").unwrap()[0].1, DetectorKind::Auto);
        let err = select("nope").unwrap_err().to_string();
        assert!(err.contains("auto"), "{err}");
    }

    #[test]
    fn median_interval_skips_duplicates_and_steps_back() {
        let t = |m: i64| Timestamp(m * 60_000);
        let times = [t(0), t(5), t(5), t(10), t(3), t(15), t(20)];
        assert_eq!(median_interval(&times), Some(Interval::from_minutes(5)));
        assert_eq!(median_interval(&[t(1)]), None);
    }
}
