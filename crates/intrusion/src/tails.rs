//! How surprising a value is against the population of all host windows so far.

/// Histogram bins per feature, over `log1p(value)` in steps of [`STEP`].
const BINS: usize = 256;
/// Bin width in `log1p` units (so the bins cover values up to about e^25.6).
const STEP: f64 = 0.1;
/// Quantiles and tail sums are recomputed every this many windows.
const REFRESH: u64 = 256;
/// Counts halve when their total passes this, so the population's normal can drift.
const MEMORY: f64 = 200_000.0;
/// The thinnest exponential tail allowed, in `log1p` units per e-fold: integer counts make
/// the 90th and 99th percentiles equal, and one more flow than usual is not an attack.
const BETA_MIN: f64 = 0.25;

/// The population model of one feature: a decaying histogram of `log1p(value)` and, above
/// its 99th percentile, an exponential tail fitted through the 90th and 99th percentiles,
/// so a value beyond anything seen still gets a finite, graded tail probability.
#[derive(Clone, Debug)]
struct Tail {
    counts: Box<[f64; BINS]>,
    total: f64,
    /// `-log10` of the share of the population at or above each bin (at least 1 %), from
    /// the last refresh.
    surprise: Box<[f64; BINS]>,
    q90: f64,
    q99: f64,
}

impl Tail {
    fn new() -> Self {
        Self {
            counts: Box::new([0.0; BINS]),
            total: 0.0,
            surprise: Box::new([-1.0f64.log10(); BINS]),
            q90: 0.0,
            q99: 0.0,
        }
    }

    fn bin(x: f64) -> usize {
        ((x / STEP) as usize).min(BINS - 1)
    }

    fn learn(&mut self, x: f64) {
        self.counts[Self::bin(x)] += 1.0;
        self.total += 1.0;
        if self.total > MEMORY {
            self.counts.iter_mut().for_each(|c| *c *= 0.5);
            self.total *= 0.5;
        }
    }

    fn refresh(&mut self) {
        let mut acc = self.total;
        let (mut q90, mut q99) = (None, None);
        // (share, its surprise): one logarithm per distinct share, not per bin, since empty
        // bins and those past the 99th percentile repeat the one before.
        let mut last = (f64::NAN, 0.0);
        for (b, &c) in self.counts.iter().enumerate() {
            let share = (acc / self.total.max(1.0)).max(0.01);
            // From the first bin whose share is at the 1 % floor, the 99th percentile is
            // found and every bin above has the floor's surprise: most bins, left unvisited.
            if share == 0.01 && q99.is_some() {
                self.surprise[b..].fill(-share.log10());
                break;
            }
            if share != last.0 {
                last = (share, -share.log10());
            }
            self.surprise[b] = last.1;
            acc -= c;
            let below = 1.0 - acc / self.total.max(1.0);
            let top = (b + 1) as f64 * STEP;
            if q90.is_none() && below >= 0.90 {
                q90 = Some(top);
            }
            if q99.is_none() && below >= 0.99 {
                q99 = Some(top);
            }
        }
        self.q90 = q90.unwrap_or(BINS as f64 * STEP);
        self.q99 = q99.unwrap_or(BINS as f64 * STEP);
    }

    /// `-log10` of the share of the population at least as high as `x`.
    fn surprise(&self, x: f64) -> f64 {
        if x <= self.q99 {
            return self.surprise[Self::bin(x)];
        }
        let beta = ((self.q99 - self.q90) / std::f64::consts::LN_10).max(BETA_MIN);
        2.0 + (x - self.q99) / beta / std::f64::consts::LN_10
    }
}

/// Bits of the number of values [`Log1p`] remembers.
const MEMO_BITS: u32 = 10;

/// `ln(1 + x)`, remembered: most features of a host window are small counts and
/// distinct-count estimates that recur window after window, and computing 13 logarithms was
/// most of a window's scoring time. A direct-mapped memo of the latest 1,024 values (16 KiB).
#[derive(Clone, Debug)]
struct Log1p {
    /// Per slot, chosen by a hash of the value: its bits and its logarithm.
    memo: Box<[(u64, f64); 1 << MEMO_BITS]>,
}

impl Log1p {
    fn new() -> Self {
        // No value is stored with these bits (a NaN), so no slot matches until it is set.
        Self {
            memo: Box::new([(u64::MAX, f64::NAN); 1 << MEMO_BITS]),
        }
    }

    fn of(&mut self, x: f64) -> f64 {
        let bits = x.to_bits();
        let slot = (bits.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - MEMO_BITS)) as usize;
        let m = &mut self.memo[slot];
        if m.0 != bits {
            *m = (bits, x.ln_1p());
        }
        m.1
    }
}

/// Upper-tail surprise of a vector of features against every vector seen before it.
#[derive(Clone, Debug)]
pub struct PopulationTails {
    tails: Vec<Tail>,
    seen: u64,
    warm_up: u64,
    /// Scratch: `log1p` of the values being scored.
    logs: Vec<f64>,
    log1p: Log1p,
    /// `log10` of the number of features: the correction of the best surprise.
    fields: f64,
}

impl PopulationTails {
    /// A model of `fields` features that scores after `warm_up` vectors.
    pub fn new(fields: usize, warm_up: u64) -> Self {
        Self {
            tails: (0..fields).map(|_| Tail::new()).collect(),
            seen: 0,
            warm_up,
            logs: Vec::with_capacity(fields),
            log1p: Log1p::new(),
            fields: (fields.max(1) as f64).log10(),
        }
    }

    /// The most surprising feature of `values` (`-log10` of its tail share, corrected for
    /// the number of features) and its index. NaN is missing. `None` while warming up.
    /// The values are learned unless their surprise reaches `learn_below`: an attack under
    /// way does not become the normal it is judged against.
    pub fn update(&mut self, values: &[f64], learn_below: f64) -> Option<(f64, usize)> {
        let mut best: Option<(f64, usize)> = None;
        // Each value's log once, for scoring and learning; NaN where the value is missing.
        self.logs.clear();
        let log1p = &mut self.log1p;
        self.logs.extend(values.iter().map(|&v| {
            if v.is_finite() {
                log1p.of(v.max(0.0))
            } else {
                f64::NAN
            }
        }));
        if self.seen >= self.warm_up {
            for (i, (t, &x)) in self.tails.iter().zip(&self.logs).enumerate() {
                if !x.is_nan() {
                    let s = t.surprise(x);
                    if best.is_none_or(|(b, _)| s > b) {
                        best = Some((s, i));
                    }
                }
            }
        }
        let best = best.map(|(s, i)| ((s - self.fields).max(0.0), i));
        if best.is_some_and(|(s, _)| s >= learn_below) {
            return best;
        }
        for (t, &x) in self.tails.iter_mut().zip(&self.logs) {
            if !x.is_nan() {
                t.learn(x);
            }
        }
        self.seen += 1;
        if self.seen.is_multiple_of(REFRESH) || self.seen == self.warm_up {
            self.tails.iter_mut().for_each(Tail::refresh);
        }
        best
    }

    /// The value of feature `field` that 99 % of the population stay at or below (the top of
    /// its 99th-percentile bin, so within a tenth in `log1p` units); `None` before the first
    /// refresh or for an unknown feature.
    pub fn p99(&self, field: usize) -> Option<f64> {
        self.tails
            .get(field)
            .filter(|t| t.total > 0.0 && self.seen >= self.warm_up)
            .map(|t| t.q99.exp_m1())
    }

    /// Bytes of state.
    pub fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.tails.len() * (std::mem::size_of::<Tail>() + 2 * BINS * 8)
            + std::mem::size_of::<[(u64, f64); 1 << MEMO_BITS]>()
    }
}
