//! `GET /metrics`: the server's own figures in Prometheus' text format (version 0.0.4), for a
//! Prometheus to scrape: requests by status class, their total time, those in flight, and
//! what the hub holds.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters the request log updates.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// Answers by status class: 1xx … 5xx.
    by_class: [AtomicU64; 5],
    /// Total time spent answering, µs.
    micros: AtomicU64,
    /// Requests being answered now.
    in_flight: AtomicU64,
}

impl Metrics {
    /// A request has begun; it counts as in flight until the guard is dropped (also when
    /// the client goes away before the answer).
    pub(crate) fn begin(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&self.in_flight)
    }

    /// A request was answered with `status` after `micros`.
    pub(crate) fn end(&self, status: u16, micros: u64) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        self.micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// The exposition text, with the hub's `(name, help, value)` gauges after the server's.
    pub(crate) fn render(&self, hub: &[(&str, &str, u64)]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP ai4ict_hub_requests_total HTTP requests answered, by status class.\n\
             # TYPE ai4ict_hub_requests_total counter"
        );
        let mut total = 0;
        for (i, n) in self.by_class.iter().enumerate() {
            let n = n.load(Ordering::Relaxed);
            total += n;
            let _ = writeln!(
                out,
                "ai4ict_hub_requests_total{{class=\"{}xx\"}} {n}",
                i + 1
            );
        }
        let _ = writeln!(
            out,
            "# HELP ai4ict_hub_request_seconds Time spent answering requests.\n\
             # TYPE ai4ict_hub_request_seconds summary\n\
             ai4ict_hub_request_seconds_sum {}\n\
             ai4ict_hub_request_seconds_count {total}",
            self.micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "# HELP ai4ict_hub_requests_in_flight Requests being answered (this one included).\n\
             # TYPE ai4ict_hub_requests_in_flight gauge\n\
             ai4ict_hub_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        for (name, help, value) in hub {
            let _ = writeln!(
                out,
                "# HELP ai4ict_hub_{name} {help}\n# TYPE ai4ict_hub_{name} gauge\nai4ict_hub_{name} {value}"
            );
        }
        out
    }
}

/// A request in flight (see [`Metrics::begin`]).
pub(crate) struct InFlight<'a>(&'a AtomicU64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_class_and_renders_the_text_format() {
        let m = Metrics::default();
        for status in [200, 204, 404, 500] {
            let _flight = m.begin();
            m.end(status, 1500);
        }
        let _flight = m.begin();
        let text = m.render(&[("standards", "Standards in the catalogue.", 60)]);
        assert!(
            text.contains("ai4ict_hub_requests_total{class=\"2xx\"} 2"),
            "{text}"
        );
        assert!(text.contains("ai4ict_hub_requests_total{class=\"4xx\"} 1"));
        assert!(text.contains("ai4ict_hub_requests_total{class=\"5xx\"} 1"));
        assert!(text.contains("ai4ict_hub_request_seconds_sum 0.006\n"));
        assert!(text.contains("ai4ict_hub_request_seconds_count 4\n"));
        assert!(text.contains("ai4ict_hub_requests_in_flight 1\n"));
        assert!(text.contains("# TYPE ai4ict_hub_standards gauge\nai4ict_hub_standards 60\n"));
        // Every sample line is `name{labels} value` or `name value`.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
