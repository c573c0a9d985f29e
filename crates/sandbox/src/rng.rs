//! Counter-based randomness: every random number is a hash of (seed, stream, coordinates),
//! so any worker or process can compute any cell at any interval, in any order, and get the
//! same value (no sequential generator state to share).

/// SplitMix64 finaliser: a bijective 64-bit mixer with good avalanche.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Random streams: one per purpose, so that adding a draw for one purpose never shifts another.
#[derive(Clone, Copy)]
pub(crate) enum Stream {
    Topology = 1,
    Cell = 2,
    Demand = 3,
    Users = 4,
    Kpi = 5,
    Gap = 6,
    Incident = 7,
    Event = 8,
    Holiday = 9,
    Day = 10,
    Telemetry = 11,
    Flow = 12,
    Iot = 13,
}

/// A hash of the seed, a stream and up to three coordinates.
#[derive(Clone, Copy)]
pub(crate) struct Key(u64);

impl Key {
    pub(crate) fn new(seed: u64, stream: Stream) -> Self {
        Self(mix(seed ^ mix(stream as u64)))
    }

    /// The key for coordinate `x` below this one.
    pub(crate) fn at(self, x: u64) -> Self {
        Self(mix(self.0 ^ mix(x.wrapping_add(0x632b_e59b_d9b4_e019))))
    }

    /// The raw 64-bit value of draw `i`.
    pub(crate) fn bits(self, i: u64) -> u64 {
        mix(self.0.wrapping_add(i.wrapping_mul(0xd1b5_4a32_d192_ed03)))
    }

    /// Uniform in [0, 1).
    pub(crate) fn uniform(self, i: u64) -> f64 {
        (self.bits(i) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub(crate) fn range(self, i: u64, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform(i)
    }

    /// Uniform integer in [0, n); 0 when n is 0.
    pub(crate) fn below(self, i: u64, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            ((u128::from(self.bits(i)) * u128::from(n)) >> 64) as u64
        }
    }

    /// Standard normal (Box–Muller over draws `2i` and `2i + 1`).
    pub(crate) fn normal(self, i: u64) -> f64 {
        let u1 = 1.0 - self.uniform(2 * i); // (0, 1]
        let u2 = self.uniform(2 * i + 1);
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Poisson-distributed count with mean `lambda` (inversion; for small means).
    pub(crate) fn poisson(self, i: u64, lambda: f64) -> u64 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda > 30.0 {
            let v = lambda + lambda.sqrt() * self.normal(i);
            return v.round().max(0.0) as u64;
        }
        let u = self.uniform(i);
        let mut p = (-lambda).exp();
        let mut cdf = p;
        let mut k = 0u64;
        while u > cdf && k < 1000 {
            k += 1;
            p *= lambda / k as f64;
            cdf += p;
        }
        k
    }

    /// Index picked with probability proportional to `weights`.
    pub(crate) fn pick(self, i: u64, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut u = self.uniform(i) * total;
        for (k, w) in weights.iter().enumerate() {
            if u < *w {
                return k;
            }
            u -= w;
        }
        weights.len().saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_pure_and_well_spread() {
        let k = Key::new(7, Stream::Demand).at(3).at(99);
        assert_eq!(k.bits(5), Key::new(7, Stream::Demand).at(3).at(99).bits(5));
        assert_ne!(k.bits(5), Key::new(8, Stream::Demand).at(3).at(99).bits(5));
        assert_ne!(k.bits(5), Key::new(7, Stream::Users).at(3).at(99).bits(5));
        let n = 20_000;
        let mean = (0..n).map(|i| k.uniform(i)).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        let z: Vec<f64> = (0..n).map(|i| k.normal(i)).collect();
        let m = z.iter().sum::<f64>() / n as f64;
        let var = z.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n as f64;
        assert!(m.abs() < 0.03 && (var - 1.0).abs() < 0.05, "{m} {var}");
        let p = (0..n).map(|i| k.poisson(i, 2.5) as f64).sum::<f64>() / n as f64;
        assert!((p - 2.5).abs() < 0.05, "{p}");
        assert!((0..1000).all(|i| k.below(i, 7) < 7));
    }
}
