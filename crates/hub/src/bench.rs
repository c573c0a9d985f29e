//! Benchmarks of the catalogue on generated entries: search latency (p50/p99) against a
//! full-scan baseline measured in the same run, and the cooperation-map time.
//!
//! Entries are built from a vocabulary of telecom and AI words drawn with a skewed
//! (Zipf-like) distribution by a seeded generator, so runs are repeatable.

use std::time::Instant;

use ai4ict_core::SplitMix64;

use serde::Serialize;

use crate::coop::{cooperation_map, CoopOptions};
use crate::domain::Domain;
use crate::error::Result;
use crate::index::{tokenize, SearchFilter, SearchIndex};
use crate::standards::Standard;
use crate::store::Store;
use crate::Hub;

const WORDS: &[&str] = &[
    "network",
    "machine",
    "learning",
    "artificial",
    "intelligence",
    "framework",
    "architecture",
    "requirement",
    "model",
    "data",
    "management",
    "orchestration",
    "energy",
    "efficiency",
    "security",
    "privacy",
    "trust",
    "reliability",
    "robustness",
    "evaluation",
    "benchmark",
    "sandbox",
    "pipeline",
    "intent",
    "automation",
    "autonomous",
    "closed",
    "loop",
    "fault",
    "anomaly",
    "detection",
    "prediction",
    "forecasting",
    "traffic",
    "radio",
    "access",
    "core",
    "transport",
    "slice",
    "edge",
    "cloud",
    "iot",
    "sensor",
    "city",
    "quality",
    "service",
    "experience",
    "latency",
    "throughput",
    "marketplace",
    "serving",
    "inference",
    "training",
    "federated",
    "lifecycle",
    "governance",
    "risk",
    "terminology",
    "concept",
    "metric",
    "assessment",
    "interface",
    "protocol",
    "exposure",
    "analytics",
    "collection",
    "handling",
    "repository",
    "metadata",
    "deployment",
    "monitoring",
    "optimisation",
    "mobility",
    "beam",
    "positioning",
    "spectrum",
    "interference",
    "coverage",
    "capacity",
    "planning",
    "maintenance",
    "robot",
    "twin",
    "digital",
    "simulation",
    "underlay",
    "overlay",
    "policy",
    "decision",
    "action",
    "level",
    "transparency",
    "explainability",
    "fairness",
    "accountability",
    "environmental",
    "carbon",
    "footprint",
    "sustainability",
    "satellite",
    "vehicle",
    "health",
    "agriculture",
    "water",
    "education",
    "emergency",
    "disaster",
    "resilience",
    "cyber",
    "attack",
    "intrusion",
    "encryption",
    "identity",
    "blockchain",
    "quantum",
    "optical",
    "fibre",
    "wireless",
    "backhaul",
    "fronthaul",
    "controller",
    "xapp",
    "rapp",
    "nwdaf",
];
const BODIES: &[&str] = &[
    "ITU-T", "ISO/IEC", "IEEE", "ETSI", "3GPP", "O-RAN", "IETF", "TM Forum",
];

/// The seeded draws a synthetic catalogue needs.
struct Rng(SplitMix64);

impl Rng {
    /// Index in 0..n, skewed towards small values.
    fn skewed(&mut self, n: usize) -> usize {
        ((self.0.unit().powi(2) * n as f64) as usize).min(n - 1)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.0.next_u64() % n as u64) as usize
    }
}

fn word(rng: &mut Rng) -> String {
    // Mostly real vocabulary; one word in eight is a rare generated token, so the vocabulary
    // grows with the catalogue the way real catalogues do (numbers, acronyms, names).
    if rng.below(8) == 0 {
        format!("term{}", rng.below(20_000))
    } else {
        WORDS[rng.skewed(WORDS.len())].to_string()
    }
}

/// Generates `n` synthetic standards, repeatable for a given `seed`.
pub fn synthetic_standards(n: usize, seed: u64) -> Vec<Standard> {
    let mut rng = Rng(SplitMix64::new(seed));
    (0..n)
        .map(|i| {
            let body = BODIES[rng.below(BODIES.len())];
            let title: Vec<String> = (0..4 + rng.below(6)).map(|_| word(&mut rng)).collect();
            let scope: Vec<String> = (0..10 + rng.below(20)).map(|_| word(&mut rng)).collect();
            let mut s = Standard::new(body, &format!("SYN.{i:05}"), &title.join(" "));
            s.scope = scope.join(" ");
            s.year = Some(2015 + rng.below(12) as i32);
            if rng.below(4) != 0 {
                s.domains = vec![Domain::ALL[rng.below(Domain::ALL.len())]];
            }
            s
        })
        .collect()
}

/// Measurements of one benchmark run.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Standards in the catalogue.
    pub n: usize,
    /// Storage backend used.
    pub store: String,
    /// Time to insert them into the store, ms.
    pub insert_ms: f64,
    /// Time to load them back from the store, ms.
    pub load_ms: f64,
    /// Time to build the inverted index, ms.
    pub index_ms: f64,
    /// Queries run.
    pub queries: usize,
    /// Indexed search latency, median, µs.
    pub search_p50_us: f64,
    /// Indexed search latency, 99th percentile, µs.
    pub search_p99_us: f64,
    /// Full-scan baseline latency (BM25 over every entry, no index), 99th percentile, µs.
    pub scan_p99_us: f64,
    /// Cooperation-map time, ms.
    pub coop_ms: f64,
    /// Pairs the map reported.
    pub coop_pairs: usize,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Baseline: scores every entry for the query by tokenising it on the fly (no index).
fn scan(standards: &[Standard], query: &str) -> usize {
    let q = tokenize(query);
    standards
        .iter()
        .filter(|s| {
            let toks = tokenize(&format!("{} {}", s.title, s.scope));
            q.iter().any(|t| toks.contains(t))
        })
        .count()
}

/// Runs the benchmark on `n` generated entries stored in `store` (empty), with `queries`
/// search queries (the baseline runs a tenth of them).
pub fn run(store: Store, n: usize, queries: usize, seed: u64) -> Result<BenchReport> {
    let kind = store.kind().to_string();
    let mut hub = Hub::empty(store);
    let generated = synthetic_standards(n, seed);
    let t = Instant::now();
    hub.add_standards_bulk(&generated)?;
    let insert_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let loaded = hub.standards()?;
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let index = SearchIndex::build(loaded);
    let index_ms = t.elapsed().as_secs_f64() * 1e3;

    let mut rng = Rng(SplitMix64::new(seed ^ 0x5EED));
    let qs: Vec<String> = (0..queries.max(1))
        .map(|_| {
            (0..1 + rng.below(3))
                .map(|_| WORDS[rng.below(WORDS.len())])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let filter = SearchFilter::default();
    let mut lat: Vec<f64> = qs
        .iter()
        .map(|q| {
            let t = Instant::now();
            std::hint::black_box(index.search(q, &filter, 10));
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    lat.sort_by(f64::total_cmp);
    let mut base: Vec<f64> = qs
        .iter()
        .take((queries / 10).max(1))
        .map(|q| {
            let t = Instant::now();
            std::hint::black_box(scan(index.standards(), q));
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    base.sort_by(f64::total_cmp);

    let t = Instant::now();
    let map = cooperation_map(&index, &CoopOptions::default());
    let coop_ms = t.elapsed().as_secs_f64() * 1e3;
    Ok(BenchReport {
        n,
        store: kind,
        insert_ms,
        load_ms,
        index_ms,
        queries: lat.len(),
        search_p50_us: percentile(&lat, 0.5),
        search_p99_us: percentile(&lat, 0.99),
        scan_p99_us: percentile(&base, 0.99),
        coop_ms,
        coop_pairs: map.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_is_repeatable_and_bench_runs() {
        assert_eq!(synthetic_standards(20, 1), synthetic_standards(20, 1));
        assert_ne!(synthetic_standards(20, 1), synthetic_standards(20, 2));
        let r = run(Store::in_memory().unwrap(), 300, 50, 7).unwrap();
        assert_eq!(r.n, 300);
        assert_eq!(r.queries, 50);
        assert!(r.search_p99_us >= r.search_p50_us);
    }
}
