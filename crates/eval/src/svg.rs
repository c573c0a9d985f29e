//! A small SVG writer and the KPI chart of the HTML report: hand-made, no dependencies, no
//! scripts. Every piece of text goes through [`escape`].

use std::fmt::Write as _;

use ai4ict_core::{IncidentKind, Timestamp};

use crate::report::PlotSeries;
use crate::util::fmt_time;

/// Escapes `&`, `<`, `>`, `"` and `'` for use in XML/HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An SVG document being written, in user units (pixels).
#[derive(Clone, Debug)]
pub struct Svg {
    width: f64,
    height: f64,
    body: String,
}

/// Horizontal anchoring of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// Text starts at x.
    Start,
    /// Text is centred on x.
    Middle,
    /// Text ends at x.
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Middle => "middle",
            Self::End => "end",
        }
    }
}

impl Svg {
    /// An empty drawing of this size.
    pub fn new(width: f64, height: f64) -> Self {
        Self {
            width,
            height,
            body: String::new(),
        }
    }

    /// A straight line; `dash` is an SVG `stroke-dasharray` such as `"4 3"`.
    pub fn line(
        &mut self,
        (x1, y1): (f64, f64),
        (x2, y2): (f64, f64),
        stroke: &str,
        width: f64,
        dash: Option<&str>,
    ) {
        let _ = write!(
            self.body,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{}" stroke-width="{width}"{}/>"#,
            escape(stroke),
            dash.map(|d| format!(r#" stroke-dasharray="{}""#, escape(d)))
                .unwrap_or_default()
        );
    }

    /// A polyline through `points` (nothing for fewer than two points).
    pub fn polyline(
        &mut self,
        points: &[(f64, f64)],
        stroke: &str,
        width: f64,
        dash: Option<&str>,
    ) {
        if points.len() < 2 {
            return;
        }
        let mut pts = String::with_capacity(points.len() * 12);
        for (x, y) in points {
            let _ = write!(pts, "{x:.1},{y:.1} ");
        }
        let _ = write!(
            self.body,
            r#"<polyline fill="none" stroke="{}" stroke-width="{width}" stroke-linejoin="round"{} points="{}"/>"#,
            escape(stroke),
            dash.map(|d| format!(r#" stroke-dasharray="{}""#, escape(d)))
                .unwrap_or_default(),
            pts.trim_end()
        );
    }

    /// A filled rectangle with a tooltip title (empty: none).
    pub fn rect(
        &mut self,
        (x, y): (f64, f64),
        (w, h): (f64, f64),
        fill: &str,
        opacity: f64,
        title: &str,
    ) {
        let _ = write!(
            self.body,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{}" fill-opacity="{opacity}">"#,
            w.max(0.0),
            h.max(0.0),
            escape(fill)
        );
        if !title.is_empty() {
            let _ = write!(self.body, "<title>{}</title>", escape(title));
        }
        self.body.push_str("</rect>");
    }

    /// A filled polygon through `points` (nothing for fewer than three points).
    pub fn area(&mut self, points: &[(f64, f64)], fill: &str, opacity: f64) {
        if points.len() < 3 {
            return;
        }
        let mut pts = String::with_capacity(points.len() * 12);
        for (x, y) in points {
            let _ = write!(pts, "{x:.1},{y:.1} ");
        }
        let _ = write!(
            self.body,
            r#"<polygon fill="{}" fill-opacity="{opacity}" stroke="none" points="{}"/>"#,
            escape(fill),
            pts.trim_end()
        );
    }

    /// A small downward triangle with its tip at (x, y), with a tooltip title.
    pub fn marker(&mut self, (x, y): (f64, f64), fill: &str, title: &str) {
        let _ = write!(
            self.body,
            r#"<path d="M{:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z" fill="{}"><title>{}</title></path>"#,
            x - 5.0,
            y - 9.0,
            x + 5.0,
            y - 9.0,
            x,
            y,
            escape(fill),
            escape(title)
        );
    }

    /// A text label.
    pub fn text(&mut self, (x, y): (f64, f64), text: &str, size: f64, anchor: Anchor, fill: &str) {
        let _ = write!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{size}" text-anchor="{}" fill="{}">{}</text>"#,
            anchor.as_str(),
            escape(fill),
            escape(text)
        );
    }

    /// A text turned a quarter anticlockwise, centred on (x, y): a vertical axis title.
    pub fn vtext(&mut self, (x, y): (f64, f64), text: &str, size: f64, fill: &str) {
        let _ = write!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{size}" text-anchor="middle" fill="{}" transform="rotate(-90 {x:.1} {y:.1})">{}</text>"#,
            escape(fill),
            escape(text)
        );
    }

    /// A text turned a quarter anticlockwise, starting at (x, y) and running up: a column
    /// label above a table.
    pub fn vtext_up(&mut self, (x, y): (f64, f64), text: &str, size: f64, fill: &str) {
        let _ = write!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{size}" text-anchor="start" fill="{}" transform="rotate(-90 {x:.1} {y:.1})">{}</text>"#,
            escape(fill),
            escape(text)
        );
    }

    /// An unfilled rectangle; `dash` as for [`Svg::line`].
    pub fn outline(
        &mut self,
        (x, y): (f64, f64),
        (w, h): (f64, f64),
        stroke: &str,
        dash: Option<&str>,
    ) {
        let _ = write!(
            self.body,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="{}" stroke-width="1.5"{}/>"#,
            w.max(0.0),
            h.max(0.0),
            escape(stroke),
            dash.map(|d| format!(r#" stroke-dasharray="{}""#, escape(d)))
                .unwrap_or_default()
        );
    }

    /// The finished `<svg>` element, with an accessible title.
    pub fn finish(self, title: &str) -> String {
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" font-family="sans-serif"><title>{t}</title>{b}</svg>"#,
            w = self.width,
            h = self.height,
            t = escape(title),
            b = self.body
        )
    }
}

/// "Nice" axis ticks (steps of 1, 2 or 5 × 10^k) covering `[lo, hi]`, about `count` of them.
pub fn nice_ticks(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / count.max(1) as f64;
    let exp = raw.log10().floor() as i32;
    let mag = 10f64.powi(exp);
    let m = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|m| m * mag >= raw)
        .unwrap_or(10.0);
    let step = m * mag;
    // i * m / 10^-exp rather than i * step: 3 * 0.2 is 0.6000000000000001, 6 / 10 is 0.6.
    let at = |i: i64| {
        if exp < 0 {
            i as f64 * m / 10f64.powi(-exp)
        } else {
            i as f64 * step
        }
    };
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(at).collect()
}

/// Time axis ticks: a step from a fixed ladder (1 min … 1 year) giving about `count` ticks,
/// aligned to multiples of the step (UTC), and the date format suited to that step.
pub fn time_ticks(lo: Timestamp, hi: Timestamp, count: usize) -> (Vec<Timestamp>, &'static str) {
    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;
    const DAY: i64 = 24 * HOUR;
    const LADDER: [i64; 17] = [
        MIN,
        5 * MIN,
        15 * MIN,
        30 * MIN,
        HOUR,
        2 * HOUR,
        3 * HOUR,
        6 * HOUR,
        12 * HOUR,
        DAY,
        2 * DAY,
        7 * DAY,
        14 * DAY,
        30 * DAY,
        91 * DAY,
        182 * DAY,
        365 * DAY,
    ];
    let span = (hi.0 - lo.0).max(1);
    let step = LADDER
        .into_iter()
        .find(|s| span / s <= count.max(1) as i64)
        .unwrap_or(365 * DAY);
    let first = lo.0.div_euclid(step) + i64::from(lo.0.rem_euclid(step) != 0);
    let ticks = (first..)
        .map(|k| Timestamp(k * step))
        .take_while(|t| t.0 <= hi.0)
        .collect();
    let fmt = if step >= DAY {
        "%Y-%m-%d"
    } else if span < DAY {
        "%H:%M"
    } else {
        "%m-%d %H:%M"
    };
    (ticks, fmt)
}

/// Fill colour for an incident kind's band.
pub fn kind_colour(kind: IncidentKind) -> &'static str {
    match kind {
        IncidentKind::Outage => "#d62728",
        IncidentKind::SleepingCell => "#9467bd",
        IncidentKind::ThroughputDegradation => "#ff7f0e",
        IncidentKind::Interference => "#8c564b",
        IncidentKind::TrafficSurge => "#e377c2",
        IncidentKind::CounterReset => "#7f7f7f",
        IncidentKind::LinkCongestion => "#bcbd22",
        IncidentKind::Anomaly => "#17becf",
        IncidentKind::Flatline => "#1f77b4",
        IncidentKind::DropToZero => "#2ca02c",
        IncidentKind::LevelShift => "#393b79",
        IncidentKind::VarianceBurst => "#e7ba52",
        IncidentKind::SlowDrift => "#ad494a",
        IncidentKind::MissingData => "#aec7e8",
    }
}

const KPI_COLOUR: &str = "#1f77b4";
const SCORE_COLOUR: &str = "#2ca02c";
const ALERT_COLOUR: &str = "#d62728";
const FALSE_ALERT_COLOUR: &str = "#111111";
/// Narrowest incident band drawn, px: an incident of one interval stays visible.
pub const MIN_BAND_PX: f64 = 6.0;

/// Reduces a long series to at most two points (min and max, in time order) per pixel column,
/// keeping spikes visible; NaN values end a segment.
fn decimate(xs: &[f64], ys: &[f64], columns: usize) -> Vec<Vec<(f64, f64)>> {
    /// A pixel column and its lowest and highest point on screen.
    type Bucket = (i64, (f64, f64), (f64, f64));
    let mut segments = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    let mut bucket: Option<Bucket> = None;
    let flush = |cur: &mut Vec<(f64, f64)>, b: Bucket| {
        let (_, lo, hi) = b;
        if lo.0 <= hi.0 {
            cur.push(lo);
            if hi != lo {
                cur.push(hi);
            }
        } else {
            cur.push(hi);
            cur.push(lo);
        }
    };
    let dense = xs.len() > 2 * columns.max(1);
    for (&x, &y) in xs.iter().zip(ys) {
        if !y.is_finite() {
            if let Some(b) = bucket.take() {
                flush(&mut cur, b);
            }
            if !cur.is_empty() {
                segments.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if !dense {
            cur.push((x, y));
            continue;
        }
        let col = x.floor() as i64;
        match &mut bucket {
            Some((c, lo, hi)) if *c == col => {
                if y > lo.1 {
                    // y grows downwards in SVG: the "min" point is the lowest on screen.
                    *lo = (x, y);
                }
                if y < hi.1 {
                    *hi = (x, y);
                }
            }
            _ => {
                if let Some(b) = bucket.take() {
                    flush(&mut cur, b);
                }
                bucket = Some((col, (x, y), (x, y)));
            }
        }
    }
    if let Some(b) = bucket.take() {
        flush(&mut cur, b);
    }
    if !cur.is_empty() {
        segments.push(cur);
    }
    segments
}

/// How a legend entry is drawn.
#[derive(Clone, Copy, Debug)]
pub enum Key<'a> {
    /// A line of this colour, width and dash.
    Line(&'a str, f64, Option<&'a str>),
    /// A filled box of this colour and opacity.
    Fill(&'a str, f64),
    /// An unfilled, dashed box of this colour.
    Outline(&'a str),
    /// A triangle marker of this colour.
    Marker(&'a str),
}

/// Legend entries laid out left to right between two x positions, wrapping onto as many
/// lines as they need.
#[derive(Debug, Default)]
pub struct Legend<'a> {
    items: Vec<(String, Key<'a>)>,
}

impl<'a> Legend<'a> {
    /// Line height, px.
    pub const LINE: f64 = 16.0;

    /// Adds an entry.
    pub fn add(&mut self, label: impl Into<String>, key: Key<'a>) {
        self.items.push((label.into(), key));
    }

    fn width(label: &str) -> f64 {
        30.0 + 6.5 * label.chars().count() as f64
    }

    /// Each entry's (x, line) between `x0` and `x1`.
    fn layout(&self, x0: f64, x1: f64) -> Vec<(f64, usize)> {
        let (mut x, mut line) = (x0, 0);
        self.items
            .iter()
            .map(|(label, _)| {
                let w = Self::width(label);
                if x > x0 && x + w > x1 {
                    (x, line) = (x0, line + 1);
                }
                let at = (x, line);
                x += w;
                at
            })
            .collect()
    }

    /// Lines the legend takes between `x0` and `x1`.
    pub fn lines(&self, x0: f64, x1: f64) -> usize {
        self.layout(x0, x1).last().map_or(0, |&(_, l)| l + 1)
    }

    /// Draws it with its first line's centre at `y`.
    pub fn draw(&self, svg: &mut Svg, x0: f64, x1: f64, y: f64) {
        for ((label, key), (x, line)) in self.items.iter().zip(self.layout(x0, x1)) {
            let ly = y + Self::LINE * line as f64;
            match *key {
                Key::Line(c, w, dash) => svg.line((x, ly), (x + 16.0, ly), c, w, dash),
                Key::Fill(c, o) => svg.rect((x, ly - 5.0), (16.0, 10.0), c, o, ""),
                Key::Outline(c) => svg.outline((x, ly - 5.0), (16.0, 10.0), c, Some("3 2")),
                Key::Marker(c) => svg.marker((x + 8.0, ly + 4.0), c, label),
            }
            svg.text((x + 22.0, ly + 4.0), label, 11.0, Anchor::Start, "#333");
        }
    }
}

/// Draws one entity's KPI over time in a main panel (left axis titled with its unit) and
/// its anomaly score in a small panel beneath (0 to 1, with the alert threshold), sharing one
/// time axis. Ground-truth incidents are bands at least [`MIN_BAND_PX`] wide, labelled with
/// their kind; a missed one is outlined in red. Alerts are triangles (false ones black), and
/// the stretch before scoring starts is shaded as warm-up. Returns the `<svg>` element.
pub fn kpi_chart(plot: &PlotSeries, width: f64, height: f64) -> String {
    let scored = plot.scores.len() == plot.times.len() && !plot.scores.is_empty();
    let (left, right, top) = (70.0, 16.0, 30.0);
    let pw = (width - left - right).max(10.0);
    let legend = kpi_legend(plot, scored);
    let bottom = 30.0 + Legend::LINE * legend.lines(left, left + pw) as f64;
    let avail = (height - top - bottom).max(20.0);
    let (kh, gap) = if scored {
        (avail * 0.72, 10.0)
    } else {
        (avail, 0.0)
    };
    let (s_top, sh) = (top + kh + gap, (avail - kh - gap).max(0.0));
    let bottom_edge = top + avail;
    let mut svg = Svg::new(width, height);
    let title = format!("{} — {}", plot.entity, plot.field);

    let tmin = plot.times.iter().copied().min().unwrap_or(Timestamp(0));
    let tmax = plot
        .times
        .iter()
        .copied()
        .max()
        .unwrap_or(Timestamp(1))
        .max(Timestamp(tmin.0 + 1));
    let x_of = |t: i64| left + (t - tmin.0) as f64 / (tmax.0 - tmin.0) as f64 * pw;
    let (vmin, vmax) = value_range(plot.values.iter().copied());
    let y_of = |v: f64| top + (vmax - v) / (vmax - vmin) * kh;
    let s_of = |s: f64| s_top + (1.0 - s.clamp(0.0, 1.0)) * sh;

    svg.rect((left, top), (pw, kh), "#ffffff", 1.0, "");
    // Warm-up: learning, not scored.
    if let Some(from) = plot.scored_from.filter(|&f| f > tmin) {
        let x1 = x_of(from.0.min(tmax.0));
        svg.rect(
            (left, top),
            (x1 - left, avail),
            "#000000",
            0.06,
            &format!("warm-up until {from}: the detector learns, nothing is scored"),
        );
        if x1 - left > 90.0 {
            svg.text(
                (left + 6.0, top + 14.0),
                "warm-up (not scored)",
                11.0,
                Anchor::Start,
                "#555",
            );
        }
    }
    // Time grid across both panels, then the value grid.
    let (ticks, fmt) = time_ticks(tmin, tmax, ((pw / 80.0) as usize).max(2));
    for &t in &ticks {
        let x = x_of(t.0);
        svg.line((x, top), (x, bottom_edge), "#eeeeee", 1.0, None);
        svg.line((x, bottom_edge), (x, bottom_edge + 5.0), "#333", 1.0, None);
        svg.text(
            (x, bottom_edge + 18.0),
            &fmt_time(t, fmt),
            11.0,
            Anchor::Middle,
            "#333",
        );
    }
    for v in nice_ticks(vmin, vmax, 5) {
        let y = y_of(v);
        svg.line((left, y), (left + pw, y), "#e5e5e5", 1.0, None);
        svg.text(
            (left - 6.0, y + 4.0),
            &fmt_number(v),
            11.0,
            Anchor::End,
            "#333",
        );
    }
    // Incident bands under the lines, at least MIN_BAND_PX wide, labelled with their kind
    // above the panel (a label that would overlap the previous one is left to the tooltip).
    let mut incidents: Vec<_> = plot
        .incidents
        .iter()
        .filter(|i| i.end >= tmin && i.start <= tmax)
        .collect();
    incidents.sort_by_key(|i| i.start);
    let mut label_end = f64::NEG_INFINITY;
    for inc in incidents {
        let (x0, x1) = (x_of(inc.start.0.max(tmin.0)), x_of(inc.end.0.min(tmax.0)));
        let w = (x1 - x0).max(MIN_BAND_PX);
        let x0 = (x0 - (w - (x1 - x0)) / 2.0).max(left);
        let missed = inc.detected == Some(false);
        let label = if missed {
            format!("missed {}", inc.kind)
        } else {
            inc.kind.to_string()
        };
        let tip = format!("{label}: {} to {}", inc.start, inc.end);
        svg.rect((x0, top), (w, avail), kind_colour(inc.kind), 0.25, &tip);
        if missed {
            svg.outline((x0, top), (w, avail), ALERT_COLOUR, Some("3 2"));
        }
        if x0 > label_end {
            svg.text(
                (x0, top - 6.0),
                &label,
                10.0,
                Anchor::Start,
                if missed { ALERT_COLOUR } else { "#333" },
            );
            label_end = x0 + 6.0 * label.chars().count() as f64;
        }
    }
    let axis_title = if plot.unit.is_empty() {
        plot.field.clone()
    } else {
        format!("{} ({})", plot.field, plot.unit)
    };
    svg.vtext((16.0, top + kh / 2.0), &axis_title, 11.0, KPI_COLOUR);
    svg.line((left, top), (left, top + kh), "#333", 1.0, None);
    svg.line((left, top + kh), (left + pw, top + kh), "#333", 1.0, None);

    let xs: Vec<f64> = plot.times.iter().map(|t| x_of(t.0)).collect();
    let ys: Vec<f64> = plot
        .values
        .iter()
        .map(|&v| if v.is_finite() { y_of(v) } else { f64::NAN })
        .collect();
    for seg in decimate(&xs, &ys, pw as usize) {
        svg.polyline(&seg, KPI_COLOUR, 1.3, None);
    }
    for &a in &plot.alerts {
        if a >= tmin && a <= tmax {
            let false_alert = plot.false_alerts.contains(&a);
            svg.marker(
                (x_of(a.0), top + 10.0),
                if false_alert {
                    FALSE_ALERT_COLOUR
                } else {
                    ALERT_COLOUR
                },
                &format!(
                    "{} at {a}",
                    if false_alert { "false alert" } else { "alert" }
                ),
            );
        }
    }

    // The score's own panel: an area, the threshold, three ticks.
    if scored {
        svg.rect((left, s_top), (pw, sh), "#ffffff", 0.0, "");
        let ss: Vec<f64> = plot
            .scores
            .iter()
            .map(|&s| if s.is_finite() { s_of(s) } else { f64::NAN })
            .collect();
        for seg in decimate(&xs, &ss, pw as usize) {
            let mut area = seg.clone();
            if let (Some(&(x0, _)), Some(&(x1, _))) = (seg.first(), seg.last()) {
                area.push((x1, s_of(0.0)));
                area.push((x0, s_of(0.0)));
            }
            svg.area(&area, SCORE_COLOUR, 0.3);
            svg.polyline(&seg, SCORE_COLOUR, 0.8, None);
        }
        for s in [0.0, 0.5, 1.0] {
            svg.text(
                (left - 6.0, s_of(s) + 4.0),
                &format!("{s:.1}"),
                10.0,
                Anchor::End,
                "#333",
            );
        }
        if let Some(th) = plot.threshold {
            svg.line(
                (left, s_of(th)),
                (left + pw, s_of(th)),
                ALERT_COLOUR,
                1.0,
                Some("4 3"),
            );
        }
        svg.vtext((16.0, s_top + sh / 2.0), "score", 11.0, SCORE_COLOUR);
        svg.line((left, s_top), (left, s_top + sh), "#333", 1.0, None);
        svg.line(
            (left, s_top + sh),
            (left + pw, s_top + sh),
            "#333",
            1.0,
            None,
        );
    }

    legend.draw(&mut svg, left, left + pw, bottom_edge + 34.0);
    svg.finish(&title)
}

/// The legend of [`kpi_chart`]: KPI, score, threshold, alerts, warm-up, missed, then each
/// incident kind present.
fn kpi_legend(plot: &PlotSeries, scored: bool) -> Legend<'static> {
    let mut legend = Legend::default();
    legend.add(plot.field.clone(), Key::Line(KPI_COLOUR, 2.0, None));
    if scored {
        legend.add("anomaly score", Key::Fill(SCORE_COLOUR, 0.4));
        if let Some(th) = plot.threshold {
            legend.add(
                format!("threshold {th}"),
                Key::Line(ALERT_COLOUR, 1.0, Some("4 3")),
            );
        }
    }
    if !plot.alerts.is_empty() {
        legend.add("alert", Key::Marker(ALERT_COLOUR));
    }
    if !plot.false_alerts.is_empty() {
        legend.add("false alert", Key::Marker(FALSE_ALERT_COLOUR));
    }
    let tmin = plot.times.iter().copied().min();
    if plot
        .scored_from
        .is_some_and(|f| tmin.is_some_and(|t| f > t))
    {
        legend.add("warm-up", Key::Fill("#000000", 0.12));
    }
    if plot.missed() > 0 {
        legend.add("missed", Key::Outline(ALERT_COLOUR));
    }
    let mut kinds: Vec<IncidentKind> = plot.incidents.iter().map(|i| i.kind).collect();
    kinds.sort();
    kinds.dedup();
    for k in kinds {
        legend.add(k.as_str(), Key::Fill(kind_colour(k), 0.4));
    }
    legend
}

/// A tick label: short, without trailing zeros.
/// A series' recent history and its forecast with a prediction interval, for
/// [`forecast_chart`].
#[derive(Clone, Copy, Debug)]
pub struct ForecastPlot<'a> {
    /// Chart title, e.g. `entity — field`.
    pub title: &'a str,
    /// Times of the observed values.
    pub times: &'a [Timestamp],
    /// Observed values (NaN: a gap).
    pub values: &'a [f64],
    /// Times of the forecast steps.
    pub forecast_times: &'a [Timestamp],
    /// Point forecasts.
    pub mean: &'a [f64],
    /// Lower interval bounds.
    pub lower: &'a [f64],
    /// Upper interval bounds.
    pub upper: &'a [f64],
    /// Nominal interval level, in (0, 1).
    pub level: f64,
}

/// An SVG chart of observed values (blue) followed by the point forecast (orange) in its
/// shaded prediction interval, with value and time axes and a legend.
pub fn forecast_chart(plot: &ForecastPlot<'_>, width: f64, height: f64) -> String {
    const FORECAST_COLOUR: &str = "#e6550d";
    let (left, right, top, bottom) = (64.0, 20.0, 26.0, 56.0);
    let (pw, ph) = (
        (width - left - right).max(10.0),
        (height - top - bottom).max(10.0),
    );
    let mut svg = Svg::new(width, height);
    let all_times = plot.times.iter().chain(plot.forecast_times).copied();
    let tmin = all_times.clone().min().unwrap_or(Timestamp(0));
    let tmax = all_times
        .max()
        .unwrap_or(Timestamp(1))
        .max(Timestamp(tmin.0 + 1));
    let x_of = |t: Timestamp| left + (t.0 - tmin.0) as f64 / (tmax.0 - tmin.0) as f64 * pw;
    let (vmin, vmax) = value_range(
        plot.values
            .iter()
            .chain(plot.lower)
            .chain(plot.upper)
            .chain(plot.mean)
            .copied(),
    );
    let y_of = |v: f64| top + (vmax - v) / (vmax - vmin) * ph;
    svg.rect((left, top), (pw, ph), "#ffffff", 1.0, "");
    for v in nice_ticks(vmin, vmax, 5) {
        let y = y_of(v);
        svg.line((left, y), (left + pw, y), "#e5e5e5", 1.0, None);
        svg.text(
            (left - 6.0, y + 4.0),
            &fmt_number(v),
            11.0,
            Anchor::End,
            "#333",
        );
    }
    time_axis(&mut svg, tmin, tmax, x_of, top + ph, pw);
    svg.line((left, top), (left, top + ph), "#333", 1.0, None);
    svg.line((left, top + ph), (left + pw, top + ph), "#333", 1.0, None);
    svg.text((left, top - 10.0), plot.title, 12.0, Anchor::Start, "#222");
    // The band: upper bounds forward, lower bounds back.
    let finite = |i: &usize| {
        plot.lower.get(*i).is_some_and(|v| v.is_finite())
            && plot.upper.get(*i).is_some_and(|v| v.is_finite())
    };
    let idx: Vec<usize> = (0..plot.forecast_times.len()).filter(finite).collect();
    let band: Vec<(f64, f64)> = idx
        .iter()
        .map(|&i| (x_of(plot.forecast_times[i]), y_of(plot.upper[i])))
        .chain(
            idx.iter()
                .rev()
                .map(|&i| (x_of(plot.forecast_times[i]), y_of(plot.lower[i]))),
        )
        .collect();
    svg.area(&band, FORECAST_COLOUR, 0.2);
    let xs: Vec<f64> = plot.times.iter().map(|&t| x_of(t)).collect();
    let ys: Vec<f64> = plot
        .values
        .iter()
        .map(|&v| if v.is_finite() { y_of(v) } else { f64::NAN })
        .collect();
    for seg in decimate(&xs, &ys, pw as usize) {
        svg.polyline(&seg, KPI_COLOUR, 1.3, None);
    }
    let mean: Vec<(f64, f64)> = plot
        .forecast_times
        .iter()
        .zip(plot.mean)
        .filter(|(_, v)| v.is_finite())
        .map(|(&t, &v)| (x_of(t), y_of(v)))
        .collect();
    svg.polyline(&mean, FORECAST_COLOUR, 1.5, None);
    let ly = height - 12.0;
    svg.line(
        (left, ly - 4.0),
        (left + 18.0, ly - 4.0),
        KPI_COLOUR,
        2.0,
        None,
    );
    svg.text((left + 22.0, ly), "observed", 11.0, Anchor::Start, "#333");
    svg.line(
        (left + 100.0, ly - 4.0),
        (left + 118.0, ly - 4.0),
        FORECAST_COLOUR,
        2.0,
        None,
    );
    svg.text((left + 122.0, ly), "forecast", 11.0, Anchor::Start, "#333");
    svg.rect(
        (left + 200.0, ly - 10.0),
        (18.0, 10.0),
        FORECAST_COLOUR,
        0.2,
        "",
    );
    svg.text(
        (left + 222.0, ly),
        &format!("{:.0} % interval", plot.level * 100.0),
        11.0,
        Anchor::Start,
        "#333",
    );
    svg.finish(plot.title)
}

fn fmt_number(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        format!("{v:.2e}")
    } else {
        let s = format!("{v:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" {
            "0".into()
        } else {
            s.into()
        }
    }
}

/// Date ticks and labels under a plot `width` wide whose bottom edge is at `bottom`.
pub fn time_axis(
    svg: &mut Svg,
    tmin: Timestamp,
    tmax: Timestamp,
    x_of: impl Fn(Timestamp) -> f64,
    bottom: f64,
    width: f64,
) {
    let (ticks, fmt) = time_ticks(tmin, tmax, ((width / 80.0) as usize).max(2));
    for t in ticks {
        let x = x_of(t);
        svg.line((x, bottom), (x, bottom + 5.0), "#333", 1.0, None);
        svg.text(
            (x, bottom + 18.0),
            &fmt_time(t, fmt),
            11.0,
            Anchor::Middle,
            "#333",
        );
    }
}

/// The y range of a chart: the finite values' span (at least 2 wide when they are all equal,
/// [0, 1] when there are none) padded by 5 % on each side.
fn value_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut vmin, mut vmax) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if vmin > vmax {
        (vmin, vmax) = (0.0, 1.0);
    }
    if vmax - vmin < 1e-12 {
        (vmin, vmax) = (vmin - 1.0, vmax + 1.0);
    }
    let pad = (vmax - vmin) * 0.05;
    (vmin - pad, vmax + pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forecast_chart_draws_history_band_and_mean() {
        let times: Vec<Timestamp> = (0..10).map(|i| Timestamp(i * 60_000)).collect();
        let ft: Vec<Timestamp> = (10..13).map(|i| Timestamp(i * 60_000)).collect();
        let values = [1.0, 2.0, f64::NAN, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0];
        let svg = forecast_chart(
            &ForecastPlot {
                title: "cell <1> — load",
                times: &times,
                values: &values,
                forecast_times: &ft,
                mean: &[2.0, 2.5, 3.0],
                lower: &[1.0, 1.5, 2.0],
                upper: &[3.0, 3.5, 4.0],
                level: 0.9,
            },
            600.0,
            240.0,
        );
        assert!(svg.starts_with("<svg") && svg.contains("<polygon"), "{svg}");
        assert!(svg.contains("cell &lt;1&gt;") && svg.contains("90 % interval"));
        let empty = forecast_chart(
            &ForecastPlot {
                title: "empty",
                times: &[],
                values: &[],
                forecast_times: &[],
                mean: &[],
                lower: &[],
                upper: &[],
                level: 0.5,
            },
            100.0,
            50.0,
        );
        assert!(empty.starts_with("<svg"));
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escape(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn ticks() {
        assert_eq!(
            nice_ticks(0.0, 10.0, 5),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        assert_eq!(nice_ticks(0.13, 0.91, 4), vec![0.2, 0.4, 0.6, 0.8]);
        let day = 86_400_000;
        let (t, fmt) = time_ticks(Timestamp(day / 2), Timestamp(7 * day + day / 2), 7);
        assert_eq!(fmt, "%Y-%m-%d");
        assert_eq!(t.first(), Some(&Timestamp(day)));
        assert_eq!(t.len(), 7);
        let (t, fmt) = time_ticks(Timestamp(0), Timestamp(3 * 3_600_000), 6);
        assert_eq!((t.len(), fmt), (7, "%H:%M"));
        assert_eq!(fmt_number(2.50), "2.5");
        assert_eq!(fmt_number(1e7), "1.00e7");
    }

    #[test]
    fn decimation_keeps_extremes_and_breaks_at_gaps() {
        let xs: Vec<f64> = (0..1000).map(|i| i as f64 / 100.0).collect();
        let mut ys: Vec<f64> = (0..1000).map(|i| (i % 7) as f64).collect();
        ys[500] = 100.0;
        ys[700] = f64::NAN;
        let segs = decimate(&xs, &ys, 10);
        assert_eq!(segs.len(), 2);
        assert!(segs.iter().flatten().any(|p| p.1 == 100.0));
        assert!(segs.iter().map(Vec::len).sum::<usize>() <= 2 * 11 + 2);
    }
}
