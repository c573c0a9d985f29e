//! Learning, determinism, snapshot and bad-input tests of both ensembles.

use crate::rng::Rng;
use crate::*;

/// Four blobs in 2-D plus two noise features; class = quadrant pattern given by `classes`.
fn blobs(n: usize, classes: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let mut cols = vec![Vec::new(); 4];
    let mut labels = Vec::new();
    for i in 0..n {
        let c = i % classes;
        let angle = c as f64 / classes as f64 * std::f64::consts::TAU;
        cols[0].push(3.0 * angle.cos() + u() - 0.5);
        cols[1].push(3.0 * angle.sin() + u() - 0.5);
        cols[2].push(u());
        cols[3].push(u() * 100.0);
        labels.push(c as u32);
    }
    Dataset {
        features: (0..4).map(|f| format!("f{f}")).collect(),
        columns: cols,
        labels,
        classes: (0..classes).map(|c| format!("c{c}")).collect(),
    }
}

/// XOR of the signs of two features: no single split helps, two levels solve it.
fn xor(n: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
    let mut cols = vec![Vec::new(); 3];
    let mut labels = Vec::new();
    for _ in 0..n {
        let (a, b, c) = (u(), u(), u());
        cols[0].push(a);
        cols[1].push(b);
        cols[2].push(c);
        labels.push(((a > 0.0) ^ (b > 0.0)) as u32);
    }
    Dataset {
        features: vec!["a".into(), "b".into(), "noise".into()],
        columns: cols,
        labels,
        classes: vec!["same".into(), "different".into()],
    }
}

fn rows(d: &Dataset) -> Vec<f64> {
    (0..d.rows()).flat_map(|i| d.row(i)).collect()
}

fn score(c: &Classifier, d: &Dataset) -> Metrics {
    let p = c.predict_rows(&rows(d)).unwrap();
    Metrics::new(&d.labels, &p, d.classes.len())
}

fn gbdt(d: &Dataset) -> Classifier {
    let m = Gbdt::fit(d, &GbdtConfig::default()).unwrap();
    Classifier::new("t", Model::Gbdt(m), d)
}

fn forest(d: &Dataset) -> Classifier {
    let cfg = ForestConfig {
        trees: 30,
        ..ForestConfig::default()
    };
    Classifier::new("t", Model::Forest(Forest::fit(d, &cfg).unwrap()), d)
}

#[test]
fn both_learn_xor() {
    let (train, test) = (xor(3000, 1), xor(1000, 2));
    for c in [gbdt(&train), forest(&train)] {
        let m = score(&c, &test);
        assert!(
            m.accuracy > 0.95,
            "{} accuracy {}",
            c.card.algorithm,
            m.accuracy
        );
        // The noise feature matters least.
        let imp = c.importance();
        assert!(imp[2] < imp[0] && imp[2] < imp[1], "{imp:?}");
    }
}

#[test]
fn both_learn_multi_class_blobs() {
    let (train, test) = (blobs(3000, 6, 3), blobs(1200, 6, 4));
    for c in [gbdt(&train), forest(&train)] {
        let m = score(&c, &test);
        assert!(
            m.macro_f1 > 0.97,
            "{} macro F1 {}",
            c.card.algorithm,
            m.macro_f1
        );
        // Blocked scoring (many blocks and a partial one) agrees with row-by-row.
        let blocked = c.predict_rows(&rows(&test)).unwrap();
        for (r, &b) in blocked.iter().enumerate() {
            let p = c.predict_proba(&test.row(r)).unwrap();
            assert_eq!(b, crate::gbdt::argmax(&p), "row {r}");
        }
    }
}

/// 13 heavily overlapping classes (so pruning decides late and rows stay open for many
/// rounds), integer-valued features that fall on thresholds, missing and infinite values.
fn overlapping(n: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let mut cols = vec![Vec::new(); 4];
    let mut labels = Vec::new();
    for i in 0..n {
        let c = (i * 7) % 13;
        let noise = (u() + u() + u() - 1.5) * 6.0;
        cols[0].push(c as f64 + noise);
        cols[1].push(if i % 5 == 0 {
            f64::NAN
        } else {
            (c % 4) as f64 + u() * 2.0
        });
        cols[2].push((u() * 6.0).floor() + (c % 3) as f64);
        cols[3].push(if i % 17 == 0 {
            f64::INFINITY
        } else {
            u() * c as f64
        });
        labels.push(c as u32);
    }
    Dataset {
        features: (0..4).map(|f| format!("f{f}")).collect(),
        columns: cols,
        labels,
        classes: (0..13).map(|c| format!("c{c}")).collect(),
    }
}

#[test]
fn compiled_scorer_equals_the_reference_on_thousands_of_rows() {
    let (train, test) = (overlapping(4000, 11), overlapping(3000, 12));
    let m = Gbdt::fit(&train, &GbdtConfig::default()).unwrap();
    assert!(
        m.rounds > 10,
        "{} rounds: too few to test pruning",
        m.rounds
    );
    let scorer = m.scorer().unwrap();
    let mut p = vec![0.0; 13];
    for d in [&train, &test] {
        let got = scorer.predict_rows(&rows(d)).unwrap();
        assert_eq!(got.len(), d.rows());
        for (r, &g) in got.iter().enumerate() {
            m.predict_proba_into(&d.row(r), &mut p).unwrap();
            assert_eq!(g, crate::gbdt::argmax(&p), "row {r}");
        }
    }
    let forest = Forest::fit(
        &train,
        &ForestConfig {
            trees: 30,
            ..ForestConfig::default()
        },
    )
    .unwrap();
    let scorer = forest.scorer().unwrap();
    for d in [&train, &test] {
        for (r, &g) in scorer.predict_rows(&rows(d)).unwrap().iter().enumerate() {
            forest.predict_proba_into(&d.row(r), &mut p).unwrap();
            assert_eq!(g, crate::gbdt::argmax(&p), "forest, row {r}");
        }
    }
}

#[test]
fn early_stopping_keeps_fewer_rounds_than_allowed() {
    // Overlapping classes with a fifth of the labels shuffled: the validation loss turns.
    let mut d = blobs(2000, 3, 5);
    for c in &mut d.columns[..2] {
        c.iter_mut().for_each(|x| *x /= 4.0);
    }
    for i in (0..d.rows()).step_by(5) {
        d.labels[i] = (i as u32 / 5) % 3;
    }
    let m = Gbdt::fit(
        &d,
        &GbdtConfig {
            rounds: 500,
            early_stopping_rounds: 5,
            ..GbdtConfig::default()
        },
    )
    .unwrap();
    assert!(m.rounds < 500, "{}", m.rounds);
    assert_eq!(m.trees.len(), m.rounds * 3);
}

#[test]
fn class_weights_raise_recall_of_a_rare_class() {
    // Class 1 is rare and overlaps class 0; weighting it must not lower its recall.
    let mut d = xor(4000, 9);
    for (i, l) in d.labels.iter_mut().enumerate() {
        if *l == 1 && i % 8 != 0 {
            *l = 0;
        }
    }
    let plain = score(&gbdt(&d), &d).recall[1];
    let m = Gbdt::fit(
        &d,
        &GbdtConfig {
            class_weight: ClassWeight::Balanced,
            ..GbdtConfig::default()
        },
    )
    .unwrap();
    let weighted = score(&Classifier::new("w", Model::Gbdt(m), &d), &d).recall[1];
    assert!(weighted > plain, "weighted {weighted} plain {plain}");
}

#[test]
fn same_seed_same_model_and_snapshot_round_trips() {
    let d = blobs(1500, 4, 6);
    let (a, b) = (gbdt(&d), gbdt(&d));
    assert_eq!(a, b);
    let (fa, fb) = (forest(&d), forest(&d));
    assert_eq!(fa, fb);
    for c in [a, fa] {
        let bytes = c.to_bytes().unwrap();
        assert_eq!(&bytes[..8], b"AI4ICTcl");
        let back = Classifier::from_bytes(&bytes).unwrap();
        assert_eq!(back, c);
        let x = rows(&d);
        assert_eq!(back.predict_rows(&x).unwrap(), c.predict_rows(&x).unwrap());
        assert_eq!(back.card.training_fingerprint, d.fingerprint());
        // A truncated or altered header is refused, not panicked on.
        assert!(Classifier::from_bytes(&bytes[..bytes.len() / 2]).is_err());
        let mut other = bytes.clone();
        other[8] = 9;
        assert!(matches!(
            Classifier::from_bytes(&other),
            Err(ClassifyError::Snapshot(_))
        ));
    }
}

#[test]
fn missing_and_infinite_values_train_and_score() {
    let mut d = blobs(2000, 3, 7);
    for i in (0..d.rows()).step_by(7) {
        d.columns[0][i] = f64::NAN;
    }
    for i in (0..d.rows()).step_by(11) {
        d.columns[1][i] = f64::INFINITY;
        d.columns[3][i] = f64::NEG_INFINITY;
    }
    // The compiled booster (coded rows, pruned classes) picks what its trees sum to.
    let c = gbdt(&d);
    for (r, &b) in c.predict_rows(&rows(&d)).unwrap().iter().enumerate() {
        let p = c.predict_proba(&d.row(r)).unwrap();
        assert_eq!(b, crate::gbdt::argmax(&p), "row {r}");
    }
    for c in [c, forest(&d)] {
        let p = c
            .predict_proba(&[f64::NAN, f64::INFINITY, f64::NAN, f64::NEG_INFINITY])
            .unwrap();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{p:?}");
        assert!(score(&c, &d).accuracy > 0.8);
    }
}

#[test]
fn bad_inputs_are_errors() {
    let d = blobs(100, 3, 8);
    let empty = Dataset {
        labels: vec![],
        columns: vec![vec![]; 4],
        ..d.clone()
    };
    assert!(matches!(
        Gbdt::fit(&empty, &GbdtConfig::default()),
        Err(ClassifyError::Empty(_))
    ));
    assert!(matches!(
        Forest::fit(&empty, &ForestConfig::default()),
        Err(ClassifyError::Empty(_))
    ));
    let mut bad_label = d.clone();
    bad_label.labels[3] = 9;
    assert!(matches!(
        Gbdt::fit(&bad_label, &GbdtConfig::default()),
        Err(ClassifyError::Shape(_))
    ));
    let mut ragged = d.clone();
    ragged.columns[2].pop();
    assert!(Forest::fit(&ragged, &ForestConfig::default()).is_err());
    let nan_lr = GbdtConfig {
        learning_rate: f64::NAN,
        ..GbdtConfig::default()
    };
    assert!(matches!(
        Gbdt::fit(&d, &nan_lr),
        Err(ClassifyError::Param {
            field: "learning_rate",
            ..
        })
    ));
    let c = gbdt(&d);
    assert!(matches!(
        c.predict_rows(&[1.0, 2.0, 3.0]),
        Err(ClassifyError::Width { .. })
    ));
    assert!(c.predict_proba(&[1.0]).is_err());
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => -1e6f64..1e6,
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
            1 => Just(0.0),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Any table (odd values, one row, constant columns) trains or is refused, and a
        /// trained model scores any row to probabilities summing to 1.
        #[test]
        fn never_panics_on_odd_tables(
            cells in proptest::collection::vec((value(), value(), 0u32..3), 1..60),
            probe in proptest::collection::vec(value(), 2),
        ) {
            let d = Dataset {
                features: vec!["x".into(), "y".into()],
                columns: vec![
                    cells.iter().map(|c| c.0).collect(),
                    cells.iter().map(|c| c.1).collect(),
                ],
                labels: cells.iter().map(|c| c.2).collect(),
                classes: vec!["a".into(), "b".into(), "c".into()],
            };
            let g = GbdtConfig { min_samples_leaf: 1, rounds: 5, ..GbdtConfig::default() };
            let f = ForestConfig { trees: 3, ..ForestConfig::default() };
            let models = [
                Gbdt::fit(&d, &g).map(Model::Gbdt),
                Forest::fit(&d, &f).map(Model::Forest),
            ];
            for m in models {
                let c = Classifier::new("p", m.unwrap(), &d);
                let p = c.predict_proba(&probe).unwrap();
                prop_assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
                let back = Classifier::from_bytes(&c.to_bytes().unwrap()).unwrap();
                prop_assert_eq!(&back.predict_proba(&probe).unwrap(), &p);
                prop_assert_eq!(c.predict_rows(&probe).unwrap(), vec![crate::gbdt::argmax(&p)]);
            }
        }

        /// Random bytes after a valid header never make a model that panics.
        #[test]
        fn corrupted_snapshots_are_refused_or_safe(
            flips in proptest::collection::vec((0usize..4000, any::<u8>()), 1..8),
        ) {
            let d = blobs(200, 3, 1);
            let c = gbdt(&d);
            let mut bytes = c.to_bytes().unwrap();
            for (i, b) in flips {
                let n = bytes.len();
                bytes[12 + i % (n - 12)] = b;
            }
            if let Ok(back) = Classifier::from_bytes(&bytes) {
                let w = back.card.features.len();
                let _ = back.predict_rows(&vec![0.5; w * 3]);
            }
        }
    }
}
