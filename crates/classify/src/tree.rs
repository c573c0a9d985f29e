//! A grown tree: internal nodes split one feature at a raw threshold (and at the matching
//! bin, for binned rows); leaves hold one value (boosting) or a class distribution (forest).

use serde::{Deserialize, Serialize};

use crate::ClassifyError;

/// Marks a leaf in [`Node::left`].
pub const LEAF: u32 = u32::MAX;

/// One node. Internal: rows with `value <= threshold` (bin `<= bin`) go `left`, others
/// `right`, missing values to the side `missing_left` says. Leaf (`left == LEAF`): its
/// values start at `right` in [`Tree::values`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The feature split on.
    pub feature: u32,
    /// The last bin sent left.
    pub bin: u8,
    /// Where missing values go.
    pub missing_left: bool,
    /// The raw threshold: `value <= threshold` goes left.
    pub threshold: f64,
    /// Left child, or [`LEAF`].
    pub left: u32,
    /// Right child, or the leaf's offset in the values.
    pub right: u32,
    /// The split's gain (feature importance); 0 for a leaf.
    pub gain: f64,
}

/// A binary tree in an array; node 0 is the root, children come after their parent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// The nodes.
    pub nodes: Vec<Node>,
    /// Leaf values, `width` per leaf.
    pub values: Vec<f64>,
    /// Values per leaf.
    pub width: usize,
}

impl Tree {
    /// The values offset of the leaf a raw row falls in.
    #[inline]
    pub fn leaf(&self, row: &[f64]) -> usize {
        let mut i = 0usize;
        loop {
            let n = &self.nodes[i];
            if n.left == LEAF {
                return n.right as usize;
            }
            let x = row[n.feature as usize];
            let left = if x <= n.threshold {
                true
            } else {
                x.is_nan() && n.missing_left
            };
            i = if left { n.left } else { n.right } as usize;
        }
    }

    /// The values offset of the leaf binned row `r` falls in.
    #[inline]
    pub fn leaf_binned(&self, bins: &[Vec<u8>], r: usize) -> usize {
        let mut i = 0usize;
        loop {
            let n = &self.nodes[i];
            if n.left == LEAF {
                return n.right as usize;
            }
            let b = bins[n.feature as usize][r];
            let left = if b == 0 { n.missing_left } else { b <= n.bin };
            i = if left { n.left } else { n.right } as usize;
        }
    }

    /// Number of leaves.
    pub fn leaves(&self) -> usize {
        self.nodes.iter().filter(|n| n.left == LEAF).count()
    }

    /// Levels from the root to the deepest leaf (0 for a lone leaf); children come after
    /// their parent, as [`Tree::check`] makes sure.
    pub fn depth(&self) -> usize {
        let mut depth = vec![0; self.nodes.len()];
        for (i, n) in self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.left != LEAF)
        {
            let d = depth[i] + 1;
            for c in [n.left, n.right] {
                if let Some(at) = depth.get_mut(c as usize) {
                    *at = d;
                }
            }
        }
        depth.into_iter().max().unwrap_or(0)
    }

    /// Checks a loaded tree so that scoring cannot index out of range or loop: children
    /// after their parent, features below `features`, leaf values in range.
    pub fn check(&self, features: usize) -> Result<(), ClassifyError> {
        let bad = |m: String| Err(ClassifyError::Snapshot(m));
        if self.nodes.is_empty() || self.width == 0 {
            return bad("empty tree".into());
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if n.left == LEAF {
                if (n.right as usize)
                    .checked_add(self.width)
                    .is_none_or(|e| e > self.values.len())
                {
                    return bad(format!("leaf {i} points past the values"));
                }
            } else {
                let (l, r) = (n.left as usize, n.right as usize);
                if l <= i || r <= i || l >= self.nodes.len() || r >= self.nodes.len() {
                    return bad(format!("node {i} has children out of order"));
                }
                if n.feature as usize >= features {
                    return bad(format!(
                        "node {i} splits feature {} of {features}",
                        n.feature
                    ));
                }
            }
        }
        Ok(())
    }
}
