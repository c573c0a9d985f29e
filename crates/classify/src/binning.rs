//! Feature binning: each feature's values are mapped to at most 255 bins by quantile cut
//! points (bin 0 holds missing values), so that tree growth works on `u8` columns and
//! small histograms.

use serde::{Deserialize, Serialize};

/// The most bins a feature has, the missing bin included.
pub const MAX_BINS: usize = 256;

/// Cut points of every feature; value `v` falls in bin `1 + #{cuts < v}`, NaN in bin 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Binner {
    /// Ascending cut points per feature (at most `MAX_BINS - 2`).
    pub cuts: Vec<Vec<f64>>,
}

/// Rows looked at to place cut points (an evenly spaced sample beyond this).
const SAMPLE: usize = 200_000;

impl Binner {
    /// Cut points from the quantiles of each column, at most `max_bins` bins per feature
    /// besides the missing bin (`max_bins` is clamped to 2..=255).
    pub fn fit(columns: &[Vec<f64>], max_bins: usize) -> Self {
        let max_bins = max_bins.clamp(2, MAX_BINS - 1);
        let cuts = columns.iter().map(|c| cuts_of(c, max_bins)).collect();
        Self { cuts }
    }

    /// The bin of `v` for feature `f`.
    #[inline]
    pub fn bin(&self, f: usize, v: f64) -> u8 {
        if v.is_nan() {
            return 0;
        }
        let c = &self.cuts[f];
        (1 + c.partition_point(|&x| x < v)) as u8
    }

    /// Every column binned, column-major.
    pub fn transform(&self, columns: &[Vec<f64>]) -> Vec<Vec<u8>> {
        columns
            .iter()
            .enumerate()
            .map(|(f, c)| c.iter().map(|&v| self.bin(f, v)).collect())
            .collect()
    }

    /// The raw threshold of a split that sends bins `1..=bin` left: `v <= threshold`.
    pub fn threshold(&self, f: usize, bin: u8) -> f64 {
        let c = &self.cuts[f];
        c.get(bin as usize - 1).copied().unwrap_or(f64::INFINITY)
    }

    /// Bins of feature `f`, the missing bin included.
    pub fn bins(&self, f: usize) -> usize {
        self.cuts[f].len() + 2
    }
}

fn cuts_of(column: &[f64], max_bins: usize) -> Vec<f64> {
    let step = column.len().div_ceil(SAMPLE).max(1);
    let mut v: Vec<f64> = column
        .iter()
        .step_by(step)
        .copied()
        .filter(|x| !x.is_nan())
        .collect();
    v.sort_by(|a, b| a.total_cmp(b));
    let mut distinct = v.clone();
    distinct.dedup();
    if distinct.len() <= 1 {
        return Vec::new();
    }
    if distinct.len() <= max_bins {
        return distinct.windows(2).map(|w| midpoint(w[0], w[1])).collect();
    }
    let mut cuts: Vec<f64> = (1..max_bins)
        .map(|q| {
            let i = q * v.len() / max_bins;
            v[i.min(v.len() - 1)]
        })
        .collect();
    cuts.dedup();
    // A cut equal to the largest value would leave its bin empty.
    if cuts.last() == v.last() {
        cuts.pop();
    }
    cuts.retain(|c| c.is_finite() || *c == f64::NEG_INFINITY);
    cuts.dedup();
    cuts
}

/// The midpoint of two finite or infinite values, never NaN.
fn midpoint(a: f64, b: f64) -> f64 {
    let m = a / 2.0 + b / 2.0;
    if m.is_finite() {
        m
    } else if a.is_finite() {
        a
    } else {
        b.min(f64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_distinct_values_get_one_bin_each() {
        let b = Binner::fit(&[vec![1.0, 2.0, 2.0, 3.0, f64::NAN]], 255);
        assert_eq!(b.cuts[0], vec![1.5, 2.5]);
        assert_eq!(b.bin(0, f64::NAN), 0);
        assert_eq!(b.bin(0, 1.0), 1);
        assert_eq!(b.bin(0, 2.0), 2);
        assert_eq!(b.bin(0, 3.0), 3);
        assert_eq!(b.bin(0, f64::INFINITY), 3);
        assert_eq!(b.threshold(0, 1), 1.5);
    }

    #[test]
    fn many_values_are_cut_by_quantiles_within_255_bins() {
        let col: Vec<f64> = (0..10_000).map(|i| (i as f64).sqrt()).collect();
        let b = Binner::fit(std::slice::from_ref(&col), 255);
        assert!(b.bins(0) <= MAX_BINS);
        assert!(b.cuts[0].len() > 200);
        let binned = b.transform(&[col]);
        let mut count = vec![0usize; 256];
        for &x in &binned[0] {
            count[x as usize] += 1;
        }
        // Quantile bins hold about the same number of rows.
        let full: Vec<usize> = count.into_iter().filter(|&c| c > 0).collect();
        assert!(full.iter().max().unwrap() - full.iter().min().unwrap() < 20);
    }

    #[test]
    fn infinities_and_constant_columns_do_not_break_binning() {
        let b = Binner::fit(
            &[
                vec![f64::INFINITY, f64::NEG_INFINITY, 0.0],
                vec![5.0; 3],
                vec![],
            ],
            255,
        );
        assert!(b.cuts[0].iter().all(|c| !c.is_nan()));
        assert!(b.cuts[1].is_empty());
        assert_eq!(b.bin(1, 5.0), 1);
        assert!(b.bin(0, f64::NEG_INFINITY) < b.bin(0, f64::INFINITY));
    }
}
