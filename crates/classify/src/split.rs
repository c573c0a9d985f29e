//! Stratified splits: every class keeps its share on both sides.

use crate::rng::Rng;

/// Splits row indices into (kept, held out) so that about `fraction` of each class is held
/// out (at least one row of a class with two or more). Deterministic given `seed`; both
/// sides ascending.
pub fn stratified_split(
    labels: &[u32],
    classes: usize,
    fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &l) in labels.iter().enumerate() {
        if let Some(v) = by_class.get_mut(l as usize) {
            v.push(i);
        }
    }
    let fraction = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mut rng = Rng::new(seed ^ 0x7e57);
    let mut keep = Vec::new();
    let mut out = Vec::new();
    for rows in by_class {
        let mut rows = rows;
        for i in (1..rows.len()).rev() {
            let j = rng.below(i + 1);
            rows.swap(i, j);
        }
        let mut h = (rows.len() as f64 * fraction).round() as usize;
        if fraction > 0.0 && h == 0 && rows.len() >= 2 {
            h = 1;
        }
        out.extend_from_slice(&rows[..h]);
        keep.extend_from_slice(&rows[h..]);
    }
    keep.sort_unstable();
    out.sort_unstable();
    (keep, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_keeps_its_share_and_no_row_is_lost() {
        let labels: Vec<u32> = (0..1000).map(|i| if i % 10 == 0 { 1 } else { 0 }).collect();
        let (a, b) = stratified_split(&labels, 2, 0.3, 1);
        assert_eq!(a.len() + b.len(), 1000);
        assert_eq!(b.iter().filter(|&&i| labels[i] == 1).count(), 30);
        assert_eq!(b.iter().filter(|&&i| labels[i] == 0).count(), 270);
        assert_eq!(stratified_split(&labels, 2, 0.3, 1), (a.clone(), b.clone()));
        assert_ne!(stratified_split(&labels, 2, 0.3, 2).1, b);
    }
}
