//! Histogram tree growth, leaf-wise (best gain first) under depth, leaf and leaf-size
//! limits. Each row brings `width` statistics (the last is its count); a node's histogram
//! sums them per feature and bin, and a child's is its parent's minus its sibling's.
//! One tree grows on one thread: callers grow several trees at once (the classes of a
//! boosting round, the trees of a forest).

use crate::binning::Binner;
use crate::rng::Rng;
use crate::tree::{Node, Tree, LEAF};

/// How a split is scored and a leaf valued.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Criterion {
    /// Second-order boosting: stats `[gradient, hessian, count]`, L2 penalty `lambda`.
    Newton {
        /// L2 regularisation on leaf values.
        lambda: f64,
        /// Multiplies every leaf value.
        scale: f64,
    },
    /// Gini impurity: stats `[weight of class 0, …, weight of class K-1, count]`.
    Gini,
}

/// Limits of one tree.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    pub(crate) max_depth: usize,
    pub(crate) max_leaves: usize,
    pub(crate) min_samples_leaf: f64,
    /// Features tried per split (all when `>= features`).
    pub(crate) features_per_split: usize,
}

/// The binned training rows shared by every tree.
pub(crate) struct Binned<'a> {
    /// Column-major bins (`bins[feature][row]`), read to partition a node's rows.
    pub(crate) bins: &'a [Vec<u8>],
    pub(crate) binner: &'a Binner,
    /// Row-major bins, each already offset to its feature's histogram (`row * features +
    /// feature`), so that a histogram is built in one pass over a node's rows.
    slots: Vec<u32>,
    /// Offset of each feature's histogram, in bins.
    offsets: Vec<usize>,
    total_bins: usize,
}

impl<'a> Binned<'a> {
    pub(crate) fn new(bins: &'a [Vec<u8>], binner: &'a Binner) -> Self {
        let mut offsets = Vec::with_capacity(bins.len());
        let mut total = 0;
        for f in 0..bins.len() {
            offsets.push(total);
            total += binner.bins(f);
        }
        let rows = bins.first().map_or(0, Vec::len);
        let mut slots = Vec::with_capacity(rows * bins.len());
        for r in 0..rows {
            slots.extend(
                bins.iter()
                    .zip(&offsets)
                    .map(|(col, &o)| (o + col[r] as usize) as u32),
            );
        }
        Self {
            bins,
            binner,
            slots,
            offsets,
            total_bins: total,
        }
    }
}

#[derive(Clone, Debug)]
struct Split {
    feature: usize,
    bin: u8,
    missing_left: bool,
    gain: f64,
    left: Vec<f64>,
}

struct Candidate {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
    hist: Vec<f64>,
    total: Vec<f64>,
    best: Option<Split>,
}

/// One leaf of a grown tree: its rows are `idx[start..end]`, its values at `offset`.
pub(crate) struct LeafRows {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) offset: usize,
}

/// Grows one tree over rows `idx` (reordered so that each leaf's rows are contiguous).
pub(crate) fn grow(
    data: &Binned<'_>,
    stats: &[f64],
    width: usize,
    idx: &mut [u32],
    criterion: Criterion,
    limits: &Limits,
    rng: &mut Rng,
) -> (Tree, Vec<LeafRows>) {
    let mut total = vec![0.0; width];
    for &r in idx.iter() {
        let s = &stats[r as usize * width..][..width];
        for (t, v) in total.iter_mut().zip(s) {
            *t += v;
        }
    }
    // Histograms of finished leaves are reused, not reallocated.
    let mut pool: Vec<Vec<f64>> = Vec::new();
    let mut hist = vec![0.0; data.total_bins * width];
    build(data, stats, width, idx, &mut hist);
    let mut nodes = vec![leaf_node()];
    let mut root = Candidate {
        node: 0,
        start: 0,
        end: idx.len(),
        depth: 0,
        hist,
        total,
        best: None,
    };
    root.best = best_split(data, &root, width, criterion, limits, rng);
    let mut open = vec![root];
    let mut done: Vec<Candidate> = Vec::new();
    let mut leaves = 1;
    let mut scratch: Vec<u32> = Vec::with_capacity(idx.len());
    while leaves < limits.max_leaves {
        let Some(pick) = open
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.best.as_ref().map(|b| (i, b.gain, c.node)))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.2.cmp(&a.2)))
            .map(|p| p.0)
        else {
            break;
        };
        let mut parent = open.swap_remove(pick);
        let Some(split) = parent.best.take() else {
            break;
        };
        // Partition the parent's rows, keeping their order on each side.
        let col = &data.bins[split.feature];
        let rows = &mut idx[parent.start..parent.end];
        scratch.clear();
        let mut nl = 0;
        for i in 0..rows.len() {
            let r = rows[i];
            let b = col[r as usize];
            let left = if b == 0 {
                split.missing_left
            } else {
                b <= split.bin
            };
            if left {
                rows[nl] = r;
                nl += 1;
            } else {
                scratch.push(r);
            }
        }
        rows[nl..].copy_from_slice(&scratch);
        let mid = parent.start + nl;
        let right_total: Vec<f64> = parent
            .total
            .iter()
            .zip(&split.left)
            .map(|(t, l)| t - l)
            .collect();
        // The smaller child's histogram is built, the larger's is the parent's minus it.
        let left_small = nl <= parent.end - mid;
        let (s_start, s_end) = if left_small {
            (parent.start, mid)
        } else {
            (mid, parent.end)
        };
        let mut small = match pool.pop() {
            Some(mut h) => {
                h.fill(0.0);
                h
            }
            None => vec![0.0; data.total_bins * width],
        };
        build(data, stats, width, &idx[s_start..s_end], &mut small);
        let mut large = std::mem::take(&mut parent.hist);
        for (l, s) in large.iter_mut().zip(&small) {
            *l -= s;
        }
        let (lh, rh) = if left_small {
            (small, large)
        } else {
            (large, small)
        };
        let li = nodes.len();
        nodes.push(leaf_node());
        nodes.push(leaf_node());
        nodes[parent.node] = Node {
            feature: split.feature as u32,
            bin: split.bin,
            missing_left: split.missing_left,
            threshold: data.binner.threshold(split.feature, split.bin),
            left: li as u32,
            right: li as u32 + 1,
            gain: split.gain,
        };
        leaves += 1;
        for (node, start, end, hist, total) in [
            (li, parent.start, mid, lh, split.left.clone()),
            (li + 1, mid, parent.end, rh, right_total),
        ] {
            let mut c = Candidate {
                node,
                start,
                end,
                depth: parent.depth + 1,
                hist,
                total,
                best: None,
            };
            c.best = best_split(data, &c, width, criterion, limits, rng);
            if c.best.is_some() {
                open.push(c);
            } else {
                pool.push(std::mem::take(&mut c.hist));
                done.push(c);
            }
        }
    }
    // Every candidate left is a leaf.
    let mut values = Vec::new();
    let mut out = Vec::new();
    let vw = leaf_width(criterion, width);
    done.extend(open);
    done.sort_by_key(|c| c.node);
    for c in done {
        let offset = values.len();
        leaf_values(criterion, &c.total, &mut values);
        nodes[c.node].right = offset as u32;
        out.push(LeafRows {
            start: c.start,
            end: c.end,
            offset,
        });
    }
    (
        Tree {
            nodes,
            values,
            width: vw,
        },
        out,
    )
}

fn leaf_node() -> Node {
    Node {
        feature: 0,
        bin: 0,
        missing_left: false,
        threshold: 0.0,
        left: LEAF,
        right: 0,
        gain: 0.0,
    }
}

fn leaf_width(criterion: Criterion, width: usize) -> usize {
    match criterion {
        Criterion::Newton { .. } => 1,
        Criterion::Gini => width - 1,
    }
}

fn leaf_values(criterion: Criterion, total: &[f64], out: &mut Vec<f64>) {
    match criterion {
        Criterion::Newton { lambda, scale } => {
            let v = -total[0] / (total[1] + lambda) * scale;
            out.push(if v.is_finite() { v } else { 0.0 });
        }
        Criterion::Gini => {
            let k = total.len() - 1;
            let s: f64 = total[..k].iter().sum();
            for &c in &total[..k] {
                out.push(if s > 0.0 { c / s } else { 1.0 / k as f64 });
            }
        }
    }
}

/// The score whose increase a split maximises.
#[inline]
fn score(criterion: Criterion, s: &[f64]) -> f64 {
    match criterion {
        Criterion::Newton { lambda, .. } => s[0] * s[0] / (s[1] + lambda),
        Criterion::Gini => {
            let k = s.len() - 1;
            let sum: f64 = s[..k].iter().sum();
            if sum <= 0.0 {
                return 0.0;
            }
            s[..k].iter().map(|c| c * c).sum::<f64>() / sum
        }
    }
}

/// Adds the stats of rows `idx` into `hist` (zeroed), row by row: each row's stats are read
/// once and added to every feature's bin (per bin, rows are summed in `idx` order).
fn build(data: &Binned<'_>, stats: &[f64], width: usize, idx: &[u32], hist: &mut [f64]) {
    let nf = data.offsets.len();
    if width == 3 {
        for &r in idx {
            let r = r as usize;
            let (g, h, c) = (stats[r * 3], stats[r * 3 + 1], stats[r * 3 + 2]);
            for &slot in &data.slots[r * nf..(r + 1) * nf] {
                let b = &mut hist[slot as usize * 3..][..3];
                b[0] += g;
                b[1] += h;
                b[2] += c;
            }
        }
    } else {
        for &r in idx {
            let r = r as usize;
            let s = &stats[r * width..][..width];
            for &slot in &data.slots[r * nf..(r + 1) * nf] {
                for (x, v) in hist[slot as usize * width..][..width].iter_mut().zip(s) {
                    *x += v;
                }
            }
        }
    }
}

fn best_split(
    data: &Binned<'_>,
    c: &Candidate,
    width: usize,
    criterion: Criterion,
    limits: &Limits,
    rng: &mut Rng,
) -> Option<Split> {
    if c.depth >= limits.max_depth || c.total[width - 1] < 2.0 * limits.min_samples_leaf {
        return None;
    }
    let nf = data.bins.len();
    let features = if limits.features_per_split >= nf {
        (0..nf).collect()
    } else {
        rng.choose(nf, limits.features_per_split.max(1))
    };
    let parent = score(criterion, &c.total);
    if let (Criterion::Newton { lambda, .. }, 3) = (criterion, width) {
        return best_newton(data, c, &features, lambda, parent, limits.min_samples_leaf);
    }
    let mut best: Option<Split> = None;
    let mut left = vec![0.0; width];
    let mut with_missing = vec![0.0; width];
    let mut right = vec![0.0; width];
    for f in features {
        let nb = data.binner.bins(f);
        let h = &c.hist[data.offsets[f] * width..][..nb * width];
        let missing = &h[..width];
        left.iter_mut().for_each(|x| *x = 0.0);
        for b in 1..nb - 1 {
            for j in 0..width {
                left[j] += h[b * width + j];
            }
            // An empty bin splits the rows as the bin before it did.
            if b > 1 && h[b * width + width - 1] == 0.0 {
                continue;
            }
            for missing_left in [false, true] {
                for j in 0..width {
                    with_missing[j] = left[j] + if missing_left { missing[j] } else { 0.0 };
                    right[j] = c.total[j] - with_missing[j];
                }
                if with_missing[width - 1] < limits.min_samples_leaf
                    || right[width - 1] < limits.min_samples_leaf
                {
                    continue;
                }
                let gain = score(criterion, &with_missing) + score(criterion, &right) - parent;
                if gain > 1e-12 && gain.is_finite() && best.as_ref().is_none_or(|s| gain > s.gain) {
                    best = Some(Split {
                        feature: f,
                        bin: b as u8,
                        missing_left,
                        gain,
                        left: with_missing.clone(),
                    });
                }
                if missing[width - 1] == 0.0 {
                    break;
                }
            }
        }
    }
    best
}

/// [`best_split`] for Newton stats `[gradient, hessian, count]`, on scalars: the same
/// sums in the same order, so the same split.
fn best_newton(
    data: &Binned<'_>,
    c: &Candidate,
    features: &[usize],
    lambda: f64,
    parent: f64,
    min_leaf: f64,
) -> Option<Split> {
    let [tg, th, tc] = [c.total[0], c.total[1], c.total[2]];
    let mut best: Option<Split> = None;
    let mut best_gain = 1e-12;
    for &f in features {
        let nb = data.binner.bins(f);
        let h = &c.hist[data.offsets[f] * 3..][..nb * 3];
        let (mg, mh, mc) = (h[0], h[1], h[2]);
        let (mut lg, mut lh, mut lc) = (0.0, 0.0, 0.0);
        for b in 1..nb - 1 {
            let e = &h[b * 3..b * 3 + 3];
            lg += e[0];
            lh += e[1];
            lc += e[2];
            // An empty bin splits the rows as the bin before it did.
            if b > 1 && e[2] == 0.0 {
                continue;
            }
            for missing_left in [false, true] {
                let (g, hs, n) = if missing_left {
                    (lg + mg, lh + mh, lc + mc)
                } else {
                    (lg, lh, lc)
                };
                let (rg, rh, rn) = (tg - g, th - hs, tc - n);
                if n >= min_leaf && rn >= min_leaf {
                    let gain = g * g / (hs + lambda) + rg * rg / (rh + lambda) - parent;
                    if gain > best_gain && gain.is_finite() {
                        best_gain = gain;
                        best = Some(Split {
                            feature: f,
                            bin: b as u8,
                            missing_left,
                            gain,
                            left: vec![g, hs, n],
                        });
                    }
                }
                if mc == 0.0 {
                    break;
                }
            }
        }
    }
    best
}
