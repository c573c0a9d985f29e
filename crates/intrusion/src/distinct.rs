//! Distinct counts of a window in 32 bytes.

/// Bits of the sketch.
const BITS: f64 = 256.0;

/// A distinct count by linear counting (Whang, Vander-Zanden and Taylor, 1990): each value
/// sets one of 256 bits chosen by its hash, and `n ≈ -256 ln(zero bits / 256)`. Windows
/// merge by OR, so a sliding window is the OR of its hops. Within about 10 % up to a few
/// hundred values; it saturates at 1,420 (every bit set).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Distinct([u64; 4]);

impl Distinct {
    /// Counts a value, given as a 64-bit hash.
    pub fn insert(&mut self, hash: u64) {
        let bit = (hash >> 56) as usize;
        self.0[bit >> 6] |= 1 << (bit & 63);
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Distinct) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a |= b;
        }
    }

    /// The estimated number of distinct values.
    pub fn estimate(&self) -> f64 {
        let set: u32 = self.0.iter().map(|w| w.count_ones()).sum();
        ESTIMATES[set as usize]
    }
}

/// The estimate for each number of bits set, computed once: windows ask for several per
/// host and hop.
static ESTIMATES: std::sync::LazyLock<[f64; BITS as usize + 1]> = std::sync::LazyLock::new(|| {
    std::array::from_fn(|set| {
        let zero = BITS - set as f64;
        // A full sketch reads as if one bit were still clear: the largest count it can tell.
        -BITS * (zero.max(1.0) / BITS).ln()
    })
});

/// A well-mixed 64-bit hash of `x` (SplitMix64's finaliser).
pub fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_within_ten_percent_and_merges() {
        for n in [1u64, 10, 50, 200, 500] {
            let mut d = Distinct::default();
            for v in 0..n {
                d.insert(mix(v));
                d.insert(mix(v)); // repeats do not count
            }
            let e = d.estimate();
            assert!((e - n as f64).abs() <= 0.1 * n as f64 + 1.0, "{n}: {e}");
        }
        let (mut a, mut b) = (Distinct::default(), Distinct::default());
        (0..100).for_each(|v| a.insert(mix(v)));
        (50..150).for_each(|v| b.insert(mix(v)));
        a.merge(&b);
        assert!((a.estimate() - 150.0).abs() < 15.0, "{}", a.estimate());
        assert_eq!(Distinct::default().estimate(), 0.0);
    }
}
