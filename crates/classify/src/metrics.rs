//! Classification metrics (Y.3181 §8.2.1.2 evaluation KPIs): confusion matrix, per-class
//! precision, recall and F1, macro F1, accuracy.

use serde::{Deserialize, Serialize};

/// Scores of predictions against the truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// `confusion[truth][predicted]` counts.
    pub confusion: Vec<Vec<u64>>,
    /// Precision per class (0 when never predicted).
    pub precision: Vec<f64>,
    /// Recall per class (0 when absent from the truth).
    pub recall: Vec<f64>,
    /// F1 per class.
    pub f1: Vec<f64>,
    /// Rows of each class in the truth.
    pub support: Vec<u64>,
    /// Mean F1 over the classes present in the truth or the predictions.
    pub macro_f1: f64,
    /// Share of rows predicted right.
    pub accuracy: f64,
}

impl Metrics {
    /// Scores `predicted` against `truth`, both class indices below `classes` (others are
    /// ignored).
    pub fn new(truth: &[u32], predicted: &[u32], classes: usize) -> Self {
        let mut confusion = vec![vec![0u64; classes]; classes];
        for (&t, &p) in truth.iter().zip(predicted) {
            if (t as usize) < classes && (p as usize) < classes {
                confusion[t as usize][p as usize] += 1;
            }
        }
        let support: Vec<u64> = confusion.iter().map(|r| r.iter().sum()).collect();
        let predicted_n: Vec<u64> = (0..classes)
            .map(|c| confusion.iter().map(|r| r[c]).sum())
            .collect();
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision: Vec<f64> = (0..classes)
            .map(|c| ratio(confusion[c][c], predicted_n[c]))
            .collect();
        let recall: Vec<f64> = (0..classes)
            .map(|c| ratio(confusion[c][c], support[c]))
            .collect();
        let f1: Vec<f64> = precision
            .iter()
            .zip(&recall)
            .map(|(p, r)| {
                if p + r > 0.0 {
                    2.0 * p * r / (p + r)
                } else {
                    0.0
                }
            })
            .collect();
        let present: Vec<usize> = (0..classes)
            .filter(|&c| support[c] > 0 || predicted_n[c] > 0)
            .collect();
        let macro_f1 = if present.is_empty() {
            0.0
        } else {
            present.iter().map(|&c| f1[c]).sum::<f64>() / present.len() as f64
        };
        let total: u64 = support.iter().sum();
        let right: u64 = (0..classes).map(|c| confusion[c][c]).sum();
        Self {
            confusion,
            precision,
            recall,
            f1,
            support,
            macro_f1,
            accuracy: ratio(right, total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_scores_match_a_hand_computed_case() {
        let m = Metrics::new(&[0, 0, 1, 1, 2], &[0, 1, 1, 1, 0], 3);
        assert_eq!(
            m.confusion,
            vec![vec![1, 1, 0], vec![0, 2, 0], vec![1, 0, 0]]
        );
        assert_eq!(m.precision, vec![0.5, 2.0 / 3.0, 0.0]);
        assert_eq!(m.recall, vec![0.5, 1.0, 0.0]);
        assert!((m.f1[1] - 0.8).abs() < 1e-12);
        assert!((m.macro_f1 - (0.5 + 0.8) / 3.0).abs() < 1e-12);
        assert!((m.accuracy - 0.6).abs() < 1e-12);
    }
}
