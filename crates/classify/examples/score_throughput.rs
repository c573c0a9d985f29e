//! Scoring throughput probe: trains the booster and the forest on a labelled CSV and scores
//! its rows on one thread, row by row (`predict_proba`) and in blocks (`predict_rows`),
//! printing flows per second of each and checking that they agree.
//!
//! `cargo run --release -p ai4ict-classify --example score_throughput -- flows.csv`

use std::time::Instant;

use ai4ict_classify::table::{read_table, ReadOptions};
use ai4ict_classify::{Classifier, Forest, ForestConfig, Gbdt, GbdtConfig, Model};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: score_throughput FILE.csv")?;
    let (data, _) = read_table(path.as_ref(), &ReadOptions::default())?;
    let x: Vec<f64> = (0..data.rows()).flat_map(|r| data.row(r)).collect();
    let models = [
        Model::Gbdt(Gbdt::fit(&data, &GbdtConfig::default())?),
        Model::Forest(Forest::fit(&data, &ForestConfig::default())?),
    ];
    for m in models {
        let c = Classifier::new("probe", m, &data);
        let t = Instant::now();
        let mut by_row = Vec::with_capacity(data.rows());
        for r in 0..data.rows() {
            let p = c.predict_proba(&x[r * data.features.len()..(r + 1) * data.features.len()])?;
            let best = (0..p.len()).fold(0, |b, i| if p[i] > p[b] { i } else { b });
            by_row.push(best as u32);
        }
        let row_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let blocked = c.predict_rows(&x)?;
        let block_s = t.elapsed().as_secs_f64();
        assert_eq!(by_row, blocked, "the two scorings disagree");
        println!(
            "{}: row by row {:.0} flows/s, blocked {:.0} flows/s ({:.2}×)",
            c.card.algorithm,
            data.rows() as f64 / row_s,
            data.rows() as f64 / block_s,
            row_s / block_s
        );
    }
    Ok(())
}
