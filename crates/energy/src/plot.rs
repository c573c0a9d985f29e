//! SVG plots of the energy-saving evaluation: a cell's offered load with the forecast band,
//! and the sleep periods of the forecast, reactive and oracle policies underneath.

use ai4ict_core::Timestamp;
use ai4ict_eval::svg::{nice_ticks, time_axis, Anchor, Key, Legend, Svg};

use crate::sim::CellPlot;

impl CellPlot {
    /// The plot as an SVG document of `width` × `height` pixels, its first interval at
    /// `start` and one point every `interval_ms`: load (blue) against the left axis (share of
    /// the cell's capacity), forecast mean (orange) and interval bounds (dashed), one strip
    /// per policy shaded where the cell has a unit asleep, a time axis and a legend.
    pub fn svg(&self, start: Timestamp, interval_ms: i64, width: f64, height: f64) -> String {
        const LOAD: &str = "#3182bd";
        const FORECAST: &str = "#e6550d";
        const ASLEEP: &str = "#636363";
        let mut svg = Svg::new(width, height);
        let (left, right, top) = (70.0, 16.0, 28.0);
        let strip = 14.0;
        let chart_h = (height - top - 3.0 * strip - 8.0 - 50.0).max(20.0);
        let n = self.load.len().max(2);
        let pw = width - left - right;
        let x = |i: usize| left + pw * i as f64 / (n - 1) as f64;
        let hi = self
            .load
            .iter()
            .chain(&self.forecast_upper)
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max)
            .max(1e-9)
            * 1.05;
        let y = |v: f64| top + chart_h * (1.0 - (v / hi).clamp(0.0, 1.0));
        svg.text(
            (left, 16.0),
            &format!(
                "{} ({} cell): offered load, its forecast, and when units sleep",
                self.cell, self.kind
            ),
            12.0,
            Anchor::Start,
            "#222",
        );
        for v in nice_ticks(0.0, hi, 4) {
            svg.line((left, y(v)), (left + pw, y(v)), "#e5e5e5", 1.0, None);
            svg.text(
                (left - 6.0, y(v) + 4.0),
                &format!("{v}"),
                10.0,
                Anchor::End,
                "#333",
            );
        }
        svg.vtext((16.0, top + chart_h / 2.0), "load / capacity", 11.0, LOAD);
        svg.line((left, top), (left, top + chart_h), "#333", 1.0, None);
        svg.line(
            (left, top + chart_h),
            (left + pw, top + chart_h),
            "#333",
            1.0,
            None,
        );
        let pts = |v: &[f64]| {
            v.iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(i, v)| (x(i), y(*v)))
                .collect::<Vec<_>>()
        };
        svg.polyline(&pts(&self.forecast_upper), FORECAST, 1.0, Some("4 3"));
        svg.polyline(&pts(&self.forecast_lower), FORECAST, 1.0, Some("4 3"));
        svg.polyline(&pts(&self.forecast_mean), FORECAST, 1.2, None);
        svg.polyline(&pts(&self.load), LOAD, 1.2, None);
        let strips_top = top + chart_h + 8.0;
        for (k, (name, asleep)) in [
            ("forecast", &self.asleep_forecast),
            ("reactive", &self.asleep_reactive),
            ("oracle", &self.asleep_oracle),
        ]
        .iter()
        .enumerate()
        {
            let y0 = strips_top + strip * k as f64;
            svg.text((left - 6.0, y0 + 10.0), name, 10.0, Anchor::End, "#333");
            svg.rect((left, y0), (pw, 11.0), "#f2f2f2", 1.0, "");
            let mut i = 0;
            while i < asleep.len() {
                if asleep[i] == 0 {
                    i += 1;
                    continue;
                }
                let s = i;
                while i < asleep.len() && asleep[i] > 0 {
                    i += 1;
                }
                svg.rect(
                    (x(s), y0),
                    ((x(i.min(n - 1)) - x(s)).max(1.0), 11.0),
                    ASLEEP,
                    0.7,
                    &format!("{name}: asleep"),
                );
            }
        }
        let end = Timestamp(start.0 + interval_ms * (n as i64 - 1));
        let x_of =
            |t: Timestamp| left + pw * (t.0 - start.0) as f64 / (end.0 - start.0).max(1) as f64;
        time_axis(&mut svg, start, end, x_of, strips_top + 3.0 * strip, pw);
        let mut legend = Legend::default();
        legend.add("offered load", Key::Line(LOAD, 2.0, None));
        legend.add("forecast", Key::Line(FORECAST, 2.0, None));
        legend.add("forecast interval", Key::Line(FORECAST, 1.0, Some("4 3")));
        legend.add("a unit asleep (per policy)", Key::Fill(ASLEEP, 0.7));
        legend.draw(&mut svg, left, left + pw, height - 12.0);
        svg.finish(&format!(
            "{}: load, forecast band and sleep periods",
            self.cell
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_has_the_series_and_sleep_strips() {
        let p = CellPlot {
            cell: "cell-0001".into(),
            kind: "small".into(),
            load: vec![0.1, 0.2, 0.5, 0.3],
            forecast_mean: vec![0.1, 0.25, 0.45, 0.3],
            forecast_lower: vec![0.05, 0.2, 0.4, 0.2],
            forecast_upper: vec![0.2, 0.3, 0.6, f64::NAN],
            asleep_forecast: vec![1, 1, 0, 0],
            asleep_oracle: vec![1, 0, 0, 1],
            asleep_reactive: vec![0, 0, 0, 0],
        };
        let s = p.svg(Timestamp(0), 900_000, 600.0, 300.0);
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert_eq!(s.matches("<polyline").count(), 4);
        assert!(s.contains("load / capacity") && s.contains("offered load"));
        assert_eq!(s.matches("asleep</title>").count(), 3);
    }
}
