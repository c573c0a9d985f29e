//! Training and scoring probe for the booster, on the split `ai4ict bench classify` uses
//! (stratified, 30% test, seed 7): training seconds, rounds, leaves, macro F1, and flows
//! per second scored on one thread row by row (`predict_proba`) and in blocks by a
//! compiled [`ai4ict_classify::Scorer`] (best of 5), checking that the two agree, and the
//! snapshot's sha256 (to compare builds).
//!
//! `cargo run --release -p ai4ict-classify --example score_throughput -- flows.csv`

use std::time::Instant;

use sha2::Digest;

use ai4ict_classify::table::{read_table, ReadOptions};
use ai4ict_classify::{stratified_split, Classifier, Gbdt, GbdtConfig, Metrics, Model};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: score_throughput FILE.csv")?;
    let (data, _) = read_table(path.as_ref(), &ReadOptions::default())?;
    let k = data.classes.len();
    let (tr, te) = stratified_split(&data.labels, k, 0.3, 7);
    let (train, test) = (data.subset(&tr), data.subset(&te));
    let f = test.features.len();
    let x: Vec<f64> = (0..test.rows()).flat_map(|r| test.row(r)).collect();
    let t = Instant::now();
    let gbdt = Gbdt::fit(&train, &GbdtConfig::default())?;
    let train_s = t.elapsed().as_secs_f64();
    let leaves: usize = gbdt.trees.iter().map(|t| t.leaves()).sum();
    println!(
        "trained in {train_s:.3} s: {} rounds, {} trees, {:.1} leaves per tree",
        gbdt.rounds,
        gbdt.trees.len(),
        leaves as f64 / gbdt.trees.len() as f64
    );
    let c = Classifier::new("probe", Model::Gbdt(gbdt), &train);
    let digest = sha2::Sha256::digest(c.to_bytes()?);
    println!(
        "snapshot sha256 {}",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let t = Instant::now();
    let mut by_row = Vec::with_capacity(test.rows());
    for r in 0..test.rows() {
        let p = c.predict_proba(&x[r * f..(r + 1) * f])?;
        let best = (0..p.len()).fold(0, |b, i| if p[i] > p[b] { i } else { b });
        by_row.push(best as u32);
    }
    let row_s = t.elapsed().as_secs_f64();
    let blocked = c.predict_rows(&x)?;
    let Model::Gbdt(g) = &c.model else {
        return Err("not a booster".into());
    };
    let scorer = g.scorer()?;
    let mut block_s = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        std::hint::black_box(scorer.predict_rows(&x)?);
        block_s = block_s.min(t.elapsed().as_secs_f64());
    }
    assert_eq!(by_row, blocked, "the two scorings disagree");
    let m = Metrics::new(&test.labels, &blocked, k);
    println!(
        "macro F1 {:.4}; row by row {:.0} flows/s, compiled {:.0} flows/s ({:.2}×)",
        m.macro_f1,
        test.rows() as f64 / row_s,
        test.rows() as f64 / block_s,
        row_s / block_s
    );
    Ok(())
}
