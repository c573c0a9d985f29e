//! The classification page of a report (Y.3181 §8.2.1.2 evaluation KPIs for a classifier):
//! per-class precision, recall and F1, the confusion matrix as a heat map, and feature
//! importance as bars. Self-contained HTML with inline SVG, like the report itself.

use std::fmt::Write as _;

use crate::svg::{escape, Anchor, Svg};

/// A classifier's evaluation on held-out rows, as the page shows it.
#[derive(Clone, Copy, Debug)]
pub struct ClassificationView<'a> {
    /// The intent's name.
    pub name: &'a str,
    /// One line on what was trained and how it was split.
    pub about: &'a str,
    /// Class names, in the order of every per-class slice.
    pub classes: &'a [String],
    /// `confusion[truth][predicted]`.
    pub confusion: &'a [Vec<u64>],
    /// Per class.
    pub precision: &'a [f64],
    /// Per class.
    pub recall: &'a [f64],
    /// Per class.
    pub f1: &'a [f64],
    /// Rows per class in the truth.
    pub support: &'a [u64],
    /// Mean F1 over the classes.
    pub macro_f1: f64,
    /// Share of rows right.
    pub accuracy: f64,
    /// Feature names.
    pub features: &'a [String],
    /// Each feature's share of the gain.
    pub importance: &'a [f64],
    /// Further lines (the deployment).
    pub notes: &'a [String],
}

const LABEL_W: f64 = 170.0;
const CELL: f64 = 38.0;

/// The confusion matrix as a heat map: each row shaded by its share of the true class, so a
/// small class's errors show as clearly as a large one's; counts written in the cells.
pub fn confusion_chart(classes: &[String], confusion: &[Vec<u64>]) -> String {
    let k = classes.len();
    let (top, left) = (120.0, LABEL_W);
    let mut svg = Svg::new(left + CELL * k as f64 + 20.0, top + CELL * k as f64 + 40.0);
    for (j, c) in classes.iter().enumerate() {
        let x = left + CELL * (j as f64 + 0.5);
        svg.vtext_up((x + 4.0, top - 6.0), c, 11.0, "#222");
    }
    for (i, row) in confusion.iter().enumerate().take(k) {
        let y = top + CELL * i as f64;
        svg.text(
            (left - 6.0, y + CELL * 0.62),
            &classes[i],
            11.0,
            Anchor::End,
            "#222",
        );
        let total: u64 = row.iter().sum();
        for (j, &n) in row.iter().enumerate().take(k) {
            let share = if total == 0 {
                0.0
            } else {
                n as f64 / total as f64
            };
            let x = left + CELL * j as f64;
            let colour = if i == j { "#1a7f37" } else { "#c62828" };
            svg.rect(
                (x + 1.0, y + 1.0),
                (CELL - 2.0, CELL - 2.0),
                if n == 0 { "#f3f3f3" } else { colour },
                if n == 0 { 1.0 } else { 0.15 + 0.85 * share },
                &format!(
                    "true {}, predicted {}: {n} ({:.1}% of the class)",
                    classes[i],
                    classes[j],
                    100.0 * share
                ),
            );
            if n > 0 {
                svg.text(
                    (x + CELL / 2.0, y + CELL * 0.62),
                    &compact(n),
                    10.0,
                    Anchor::Middle,
                    if share > 0.5 { "#fff" } else { "#222" },
                );
            }
        }
    }
    let bottom = top + CELL * k as f64;
    svg.text(
        (left + CELL * k as f64 / 2.0, bottom + 24.0),
        "predicted class (columns) against true class (rows)",
        12.0,
        Anchor::Middle,
        "#444",
    );
    svg.finish("Confusion matrix: true class by row, predicted class by column")
}

/// `1234` as `1.2k`, so counts fit a cell.
fn compact(n: u64) -> String {
    match n {
        0..=999 => n.to_string(),
        1_000..=99_999 => format!("{:.1}k", n as f64 / 1e3),
        100_000..=999_999 => format!("{}k", n / 1_000),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// Feature importance as horizontal bars, largest first.
pub fn importance_chart(features: &[String], importance: &[f64]) -> String {
    let mut order: Vec<usize> = (0..features.len().min(importance.len())).collect();
    order.sort_by(|&a, &b| importance[b].total_cmp(&importance[a]));
    let (bar_h, width) = (20.0, 420.0);
    let max = order
        .first()
        .map_or(1.0, |&i| importance[i])
        .max(f64::MIN_POSITIVE);
    let mut svg = Svg::new(LABEL_W + width + 70.0, bar_h * order.len() as f64 + 10.0);
    for (row, &i) in order.iter().enumerate() {
        let y = 5.0 + bar_h * row as f64;
        svg.text(
            (LABEL_W - 6.0, y + bar_h * 0.7),
            &features[i],
            11.0,
            Anchor::End,
            "#222",
        );
        let w = width * (importance[i] / max).clamp(0.0, 1.0);
        svg.rect(
            (LABEL_W, y + 2.0),
            (w, bar_h - 4.0),
            "#1f6feb",
            0.85,
            &format!("{}: {:.2}% of the gain", features[i], 100.0 * importance[i]),
        );
        svg.text(
            (LABEL_W + w + 6.0, y + bar_h * 0.7),
            &format!("{:.1}%", 100.0 * importance[i]),
            11.0,
            Anchor::Start,
            "#444",
        );
    }
    svg.finish("Feature importance: share of the total split gain per feature")
}

impl ClassificationView<'_> {
    /// The page: a link back to the report, the summary, the per-class table, the heat map
    /// and the importance bars.
    pub fn html(&self) -> String {
        let mut rows = String::new();
        for (c, name) in self.classes.iter().enumerate() {
            let get = |v: &[f64]| v.get(c).copied().unwrap_or(f64::NAN);
            let _ = write!(
                rows,
                "<tr><td class=l>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{}</td></tr>",
                escape(name),
                get(self.precision),
                get(self.recall),
                get(self.f1),
                self.support.get(c).copied().unwrap_or(0)
            );
        }
        let notes: String = self
            .notes
            .iter()
            .map(|n| format!("<li>{}</li>", escape(n)))
            .collect();
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{n}: classification</title><style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 .6em}}td,th{{padding:2px 10px;text-align:right}}td.l,th.l{{text-align:left}}svg{{max-width:100%;height:auto}}table{{display:block;overflow-x:auto}}</style></head><body><p>← <a href=\"report.html\">the run's report</a></p><h1>{n}: flow classification</h1><p>{about}</p><p><strong>Held-out flows: macro F1 {mf:.4}, accuracy {acc:.4}.</strong></p><h2>Per class</h2><table><tr><th class=l>class</th><th>precision</th><th>recall</th><th>F1</th><th>flows</th></tr>{rows}</table><h2>Confusion matrix</h2><figure>{cm}</figure><h2>Feature importance</h2><figure>{imp}</figure>{deploy}</body></html>",
            n = escape(self.name),
            about = escape(self.about),
            mf = self.macro_f1,
            acc = self.accuracy,
            cm = confusion_chart(self.classes, self.confusion),
            imp = importance_chart(self.features, self.importance),
            deploy = if notes.is_empty() {
                String::new()
            } else {
                format!("<h2>Deployment</h2><ul>{notes}</ul>")
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_shows_every_class_count_and_feature_escaped() {
        let classes = vec!["web".to_string(), "<scan>".to_string()];
        let confusion = vec![vec![90, 10], vec![0, 1234]];
        let features = vec!["bytes".to_string(), "dst_port".to_string()];
        let page = ClassificationView {
            name: "ids",
            about: "trained on the sandbox",
            classes: &classes,
            confusion: &confusion,
            precision: &[1.0, 0.99],
            recall: &[0.9, 1.0],
            f1: &[0.947, 0.995],
            support: &[100, 1234],
            macro_f1: 0.971,
            accuracy: 0.99,
            features: &features,
            importance: &[0.25, 0.75],
            notes: &["deployed on a file".to_string()],
        }
        .html();
        assert!(page.contains("&lt;scan&gt;") && !page.contains("<scan>"));
        assert!(page.contains(">1.2k<"), "counts are written compactly");
        assert!(page.contains("true web, predicted &lt;scan&gt;: 10 (10.0% of the class)"));
        // Importance bars, largest first.
        assert!(page.find(">dst_port<").unwrap() < page.find(">bytes<").unwrap());
        assert!(page.contains("75.0%") && page.contains("deployed on a file"));
    }
}
