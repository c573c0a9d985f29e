//! SVG plots of the energy-saving evaluation: a cell's offered load with the forecast band,
//! and the sleep periods of the forecast, reactive and oracle policies underneath.

use ai4ict_eval::svg::{Anchor, Svg};

use crate::sim::CellPlot;

impl CellPlot {
    /// The plot as an SVG document of `width` × `height` pixels: load (blue), forecast mean
    /// (orange) and interval bounds (dashed), and one strip per policy shaded where the cell
    /// has a unit asleep.
    pub fn svg(&self, width: f64, height: f64) -> String {
        let mut svg = Svg::new(width, height);
        let (left, right, top) = (48.0, 10.0, 24.0);
        let strips = 3.0 * 14.0;
        let chart_h = (height - top - strips - 30.0).max(20.0);
        let n = self.load.len().max(2);
        let x = |i: usize| left + (width - left - right) * i as f64 / (n - 1) as f64;
        let hi = self
            .load
            .iter()
            .chain(&self.forecast_upper)
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max)
            .max(1e-9);
        let y = |v: f64| top + chart_h * (1.0 - (v / hi).clamp(0.0, 1.0));
        svg.text(
            (left, 14.0),
            &format!(
                "{} ({}): load / capacity, forecast band, sleep",
                self.cell, self.kind
            ),
            12.0,
            Anchor::Start,
            "#222",
        );
        svg.line((left, y(0.0)), (width - right, y(0.0)), "#999", 1.0, None);
        svg.text(
            (left - 4.0, y(hi) + 4.0),
            &format!("{hi:.2}"),
            10.0,
            Anchor::End,
            "#555",
        );
        svg.text((left - 4.0, y(0.0)), "0", 10.0, Anchor::End, "#555");
        let pts = |v: &[f64]| {
            v.iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(i, v)| (x(i), y(*v)))
                .collect::<Vec<_>>()
        };
        svg.polyline(&pts(&self.forecast_upper), "#e6550d", 1.0, Some("4 3"));
        svg.polyline(&pts(&self.forecast_lower), "#e6550d", 1.0, Some("4 3"));
        svg.polyline(&pts(&self.forecast_mean), "#e6550d", 1.2, None);
        svg.polyline(&pts(&self.load), "#3182bd", 1.2, None);
        for (k, (name, asleep)) in [
            ("forecast", &self.asleep_forecast),
            ("reactive", &self.asleep_reactive),
            ("oracle", &self.asleep_oracle),
        ]
        .iter()
        .enumerate()
        {
            let y0 = top + chart_h + 8.0 + 14.0 * k as f64;
            svg.text((left - 4.0, y0 + 10.0), name, 10.0, Anchor::End, "#555");
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
                    (x(i.min(n - 1)) - x(s), 11.0),
                    "#636363",
                    0.7,
                    &format!("{name}: asleep"),
                );
            }
        }
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
        let s = p.svg(600.0, 240.0);
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert_eq!(s.matches("<polyline").count(), 4);
        assert_eq!(s.matches("asleep</title>").count(), 3);
    }
}
