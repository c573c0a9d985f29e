//! Sanity check of the injected incidents (Y.3181 sandbox data-quality sanity checks): each
//! actionable kind must stand out of normal variation in at least one KPI, and normal life
//! (noise, holidays, events) must rarely look like an incident. Run with `--nocapture` to
//! see the per-kind z-scores.

use ai4ict_core::IncidentKind;
use ai4ict_sandbox::{Network, ScenarioConfig, KPIS};

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn incidents_stand_out_of_normal_variation() {
    let config = ScenarioConfig {
        cells: 150,
        days: 21,
        ..ScenarioConfig::default()
    };
    let net = Network::new(&config).unwrap();
    let (n, steps) = (net.cells().len(), net.steps());
    let per_day = (86_400_000 / net.interval().millis()) as usize;
    let week = 7 * per_day;
    let mut data = vec![[f64::NAN; 8]; n * steps];
    for cell in 0..n {
        for step in 0..steps {
            net.observe(cell, step, &mut data[cell * steps + step]);
        }
    }
    // Which (cell, step) lie in an incident (any kind, counter resets included).
    let mut label: Vec<Option<usize>> = vec![None; n * steps];
    let step_of =
        |t: ai4ict_core::Timestamp| ((t.0 - net.start().0) / net.interval().millis()) as usize;
    for (i, inc) in net.incidents().iter().enumerate() {
        let cell = net.cell_index(inc.entity.name()).unwrap();
        for s in step_of(inc.start)..=step_of(inc.end) {
            label[cell * steps + s] = Some(i);
        }
    }
    // Reference: the same cell a week earlier (or later, in the first week), when clean.
    let reference = |cell: usize, step: usize| -> Option<usize> {
        [
            step.checked_sub(week),
            Some(step + week).filter(|&s| s < steps),
        ]
        .into_iter()
        .flatten()
        .find(|&s| label[cell * steps + s].is_none())
    };
    // Robust scale of week-over-week differences per (cell, KPI, hour of day), on clean data.
    let hours = 24;
    let mut scale = vec![f64::NAN; n * 8 * hours];
    for cell in 0..n {
        for k in 0..8 {
            for h in 0..hours {
                let mut diffs: Vec<f64> = (0..steps)
                    .filter(|s| {
                        (s % per_day) * hours / per_day == h && label[cell * steps + s].is_none()
                    })
                    .filter_map(|s| Some((s, reference(cell, s)?)))
                    .map(|(s, r)| data[cell * steps + s][k] - data[cell * steps + r][k])
                    .filter(|d| d.is_finite())
                    .collect();
                let m = median(&mut diffs);
                let mut dev: Vec<f64> = diffs.iter().map(|d| (d - m).abs()).collect();
                scale[(cell * 8 + k) * hours + h] = (1.4826 * median(&mut dev)).max(1e-3);
            }
        }
    }
    let z = |cell: usize, step: usize, k: usize| -> Option<f64> {
        let r = reference(cell, step)?;
        let d = data[cell * steps + step][k] - data[cell * steps + r][k];
        let h = (step % per_day) * hours / per_day;
        d.is_finite().then(|| d / scale[(cell * 8 + k) * hours + h])
    };
    // Per incident: for each KPI the median |z| over its intervals; the best KPI wins.
    let mut best_by_kind: std::collections::BTreeMap<IncidentKind, Vec<f64>> = Default::default();
    let mut kpi_by_kind: std::collections::BTreeMap<IncidentKind, Vec<Vec<f64>>> =
        Default::default();
    for inc in net.incidents() {
        let cell = net.cell_index(inc.entity.name()).unwrap();
        let mut per_kpi = vec![0.0; 8];
        for (k, slot) in per_kpi.iter_mut().enumerate() {
            let mut zs: Vec<f64> = (step_of(inc.start)..=step_of(inc.end))
                .filter_map(|s| z(cell, s, k))
                .map(f64::abs)
                .collect();
            // A NaN where a number belongs (no latency in an outage) is itself a clear signal.
            let nan =
                (step_of(inc.start)..=step_of(inc.end)).any(|s| data[cell * steps + s][k].is_nan());
            *slot = if zs.is_empty() && nan {
                99.0
            } else {
                median(&mut zs)
            };
        }
        let best = per_kpi
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .fold(0.0, f64::max);
        best_by_kind.entry(inc.kind).or_default().push(best);
        kpi_by_kind.entry(inc.kind).or_default().push(per_kpi);
    }
    println!(
        "kind                    n  median-best-z  share(best>=4)  median |z| per KPI {KPIS:?}"
    );
    for (kind, bests) in &mut best_by_kind {
        let share = bests.iter().filter(|&&b| b >= 4.0).count() as f64 / bests.len() as f64;
        let per_kpi: Vec<String> = (0..8)
            .map(|k| {
                let mut col: Vec<f64> = kpi_by_kind[kind]
                    .iter()
                    .map(|v| v[k])
                    .filter(|x| x.is_finite() && *x < 99.0)
                    .collect();
                format!("{:.1}", median(&mut col))
            })
            .collect();
        println!(
            "{:<22} {:>3}  {:>13.1}  {:>14.2}  {}",
            kind.as_str(),
            bests.len(),
            median(bests),
            share,
            per_kpi.join(" ")
        );
        // A flatline repeats a plausible reading, a slow drift starts from nothing, a variance
        // burst's median point is an ordinary one and missing data has no values: none stands
        // out by its median interval, so they are checked by `telemetry_faults.rs` and by the
        // pipeline's detection tests instead.
        let by_value = !matches!(
            kind,
            IncidentKind::Flatline
                | IncidentKind::SlowDrift
                | IncidentKind::VarianceBurst
                | IncidentKind::MissingData
        );
        if kind.actionable() && by_value {
            assert!(
                median(bests) >= 6.0,
                "{kind}: median best z {}",
                median(bests)
            );
            assert!(share >= 0.9, "{kind}: only {share} of incidents stand out");
        }
    }
    // Normal life: how often does a clean interval look anomalous for 2 intervals running?
    let (mut runs, mut clean) = (0usize, 0usize);
    let mut by_kpi = [0usize; 8];
    let high = |cell: usize, s: usize| (0..8).filter_map(|k| z(cell, s, k)).any(|x| x.abs() > 6.0);
    let mut by_day = vec![0usize; steps / per_day];
    for cell in 0..n {
        for step in 1..steps {
            if label[cell * steps + step].is_some() || label[cell * steps + step - 1].is_some() {
                continue;
            }
            clean += 1;
            if high(cell, step) && high(cell, step - 1) {
                runs += 1;
                for (k, count) in by_kpi.iter_mut().enumerate() {
                    if z(cell, step, k).is_some_and(|x| x.abs() > 6.0) {
                        *count += 1;
                    }
                }
                by_day[step / per_day] += 1;
            }
        }
    }
    println!("runs by KPI {by_kpi:?}, by day {by_day:?}");
    let rate = runs as f64 / clean as f64;
    let per_cell_week = rate * week as f64;
    println!(
        "clean intervals with |z|>6 twice running: {rate:.5} ({per_cell_week:.3} per cell-week)"
    );
    assert!(per_cell_week < 0.05, "{per_cell_week}");
}
