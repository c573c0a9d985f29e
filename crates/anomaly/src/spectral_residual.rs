//! Spectral residual (SR) detector, per field (Ren et al., "Time-Series Anomaly Detection
//! Service at Microsoft", KDD 2019).
//!
//! Each field keeps its last `W = 123` values. For every point the window is extended by
//! `EXT = 5` estimated next values, so that the newest point is not at the edge of the
//! transform; the estimate is the newest value itself (the paper's extrapolation along the mean
//! slope of the last 5 points, which turns a spike into a ramp, scored 21 against 40 on NAB's
//! standard profile). The line through the two ends is subtracted (the transform wraps around,
//! and a trend would otherwise put a jump next to the newest point) and the `N = 128` values are
//! centred and scaled (SR is invariant to both). With `X` their FFT, the spectral residual keeps
//! the phase of `X` and sets the log amplitude to `ln |X|` less its mean over the 9 nearest
//! frequencies (the paper's 3 scored 31; centred, so the spectrum stays Hermitian and the
//! saliency map real). The saliency `S` of the newest point is the magnitude of the inverse
//! transform at its index, evaluated directly (O(N)) rather than by a second FFT. The paper
//! scores `(S - mean S) / mean S` over recent saliency; here a [`RobustLevel`] over the saliency
//! gives the robust z-score `(S - level) / scale`, whose positive part, signed by the side of
//! the window mean the point lies on, the shared calibrator ([`Evidence`](crate::calibrate))
//! turns into surprise; the largest surprise over the fields is calibrated into the score. The
//! FFT is a 128-point radix-2 transform written here: a dependency (rustfft) would bring a
//! planner, heap scratch and five crates for one fixed size.
//!
//! Warm-up: a field scores 0 until its window is full and then for `min_points` more points.
//!
//! Memory per field: 492 bytes of window (`f32`) plus 68 bytes of position, saliency normaliser
//! and calibrator state, 560 in all, and 48 bytes per entity (608 for one field); a shared
//! 1 KiB twiddle table. Time per field per point: one 128-point FFT, 68 logarithms and 64
//! exponentials, 2 to 4 microseconds; no allocation. (A 256-point transform scored 43 against
//! 40 on NAB's standard profile for twice the time and memory; 64 points scored 32.)

use serde::{Deserialize, Serialize};
use serde_big_array::BigArray;
use std::sync::OnceLock;

use crate::calibrate::{fmax, Evidence};
use crate::per_field::{FieldModel, PerField};
use crate::robust::RobustLevel;
use crate::Tuning;

/// Transform length (a power of two).
const N: usize = 128;
/// Estimated points appended after the newest one.
const EXT: usize = 5;
/// Points of history per field.
pub(crate) const W: usize = N - EXT;
/// Half width of the moving average of the log spectrum.
const AVG_HALF: usize = 4;
/// `log2(N)`.
const LOG2_N: u32 = N.trailing_zeros();

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Field {
    /// Ring buffer of the last `W` values; `head` is the oldest.
    #[serde(with = "BigArray")]
    window: [f32; W],
    head: u8,
    filled: u8,
    saliency: RobustLevel,
    cal: Evidence,
}

/// `(cos, sin)` of `2 pi j / N` for `j < N`.
fn twiddles() -> &'static [(f32, f32); N] {
    static TABLE: OnceLock<[(f32, f32); N]> = OnceLock::new();
    TABLE.get_or_init(|| {
        std::array::from_fn(|j| {
            let a = std::f64::consts::TAU * j as f64 / N as f64;
            (a.cos() as f32, a.sin() as f32)
        })
    })
}

/// In-place forward FFT (`X[k] = sum x[n] e^{-2 pi i k n / N}`), iterative radix 2.
fn fft(re: &mut [f32; N], im: &mut [f32; N], tw: &[(f32, f32); N]) {
    for i in 0..N {
        let j = i.reverse_bits() >> (usize::BITS - LOG2_N);
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let mut half = 1;
    while half < N {
        let stride = N / (2 * half);
        for (re, im) in re
            .chunks_exact_mut(2 * half)
            .zip(im.chunks_exact_mut(2 * half))
        {
            let (re_a, re_b) = re.split_at_mut(half);
            let (im_a, im_b) = im.split_at_mut(half);
            let pairs = re_a.iter_mut().zip(im_a).zip(re_b.iter_mut().zip(im_b));
            for (((ra, ia), (rb, ib)), (c, s)) in pairs.zip(tw.iter().step_by(stride)) {
                // Multiply by e^{-i theta} = c - i s.
                let tr = *rb * c + *ib * s;
                let ti = *ib * c - *rb * s;
                *rb = *ra - tr;
                *ib = *ia - ti;
                *ra += tr;
                *ia += ti;
            }
        }
        half *= 2;
    }
}

/// Saliency of point `W - 1` of `x` (the newest real point), `x` already extended.
fn saliency(x: &mut [f32; N]) -> f32 {
    let tw = twiddles();
    // Centre and scale: the spectral residual is invariant to both, f32 is not.
    let mean = x.iter().sum::<f32>() / N as f32;
    let spread = x.iter().fold(0.0f32, |m, v| fmax((v - mean).abs(), m));
    if !(spread > 0.0 && spread.is_finite()) {
        return 0.0;
    }
    let inv = 1.0 / spread;
    for v in x.iter_mut() {
        *v = (*v - mean) * inv;
    }
    let mut im = [0.0f32; N];
    fft(x, &mut im, tw);
    // Log power of bins 1..=N/2 (the DC bin is 0 after centring), mirrored past N/2, as prefix
    // sums of the log powers and of the bins that count (an empty bin does not).
    const BINS: usize = N / 2 + 1 + AVG_HALF;
    let mut sum = [0.0f32; BINS + 1];
    let mut count = [0.0f32; BINS + 1];
    for j in 0..BINS {
        let k = if j > N / 2 { N - j } else { j };
        let p = x[k] * x[k] + im[k] * im[k];
        let ok = k > 0 && p > 1e-20;
        sum[j + 1] = sum[j] + if ok { p.ln() } else { 0.0 };
        count[j + 1] = count[j] + f32::from(u8::from(ok));
    }
    let n0 = W - 1;
    let mut s = 0.0f32;
    for k in 1..=N / 2 {
        let (lo, hi) = (k.saturating_sub(AVG_HALF), k + AVG_HALF + 1);
        if count[k + 1] == count[k] {
            continue;
        }
        // |Y| = exp(ln|X| - mean ln|X|) with the phase of X: Y = X exp(-mean(L) / 2).
        let g = (-0.5 * (sum[hi] - sum[lo]) / (count[hi] - count[lo])).exp();
        let (c, sn) = tw[(k * n0) % N];
        // Re(Y e^{+2 pi i k n0 / N}); bins k and N - k contribute twice this but at N/2.
        let term = g * (x[k] * c - im[k] * sn);
        s += if k == N / 2 { term } else { 2.0 * term };
    }
    (s / N as f32).abs()
}

impl Field {
    /// Pushes `x`; returns the signed raw score once the window is full.
    fn push(&mut self, x: f32, p: &Tuning) -> Option<f32> {
        let head = usize::from(self.head);
        self.window[head] = x;
        self.head = ((head + 1) % W) as u8;
        if usize::from(self.filled) < W {
            self.filled += 1;
            if usize::from(self.filled) < W {
                return None;
            }
        }
        let mut buf = [0.0f32; N];
        let oldest = usize::from(self.head);
        buf[..W - oldest].copy_from_slice(&self.window[oldest..]);
        buf[W - oldest..W].copy_from_slice(&self.window[..oldest]);
        let newest = buf[W - 1];
        let side = newest - buf[..W - 1].iter().sum::<f32>() / (W - 1) as f32;
        buf[W..].fill(newest);
        // Remove the line through the ends, so the transform sees no jump where it wraps.
        let (first, step) = (buf[0], (newest - buf[0]) / (N - 1) as f32);
        for (i, v) in buf.iter_mut().enumerate() {
            *v -= first + step * i as f32;
        }
        let s = saliency(&mut buf);
        let z = self
            .saliency
            .step(s, p.min_points, p.level_rate, p.level_shift_after)?;
        Some(fmax(z, 0.0).copysign(side))
    }
}

impl FieldModel for Field {
    fn fresh() -> Self {
        Self {
            window: [0.0; W],
            head: 0,
            filled: 0,
            saliency: RobustLevel::new(),
            cal: Evidence::new(),
        }
    }

    fn raw(&mut self, x: f32, t: &Tuning) -> Option<f32> {
        let z = self.push(x, t);
        z.filter(|_| self.saliency.warm(t.min_points))
    }

    fn evidence(&mut self) -> &mut Evidence {
        &mut self.cal
    }
}

/// The spectral residual detector (see the module docs).
pub(crate) type SpectralResidual = PerField<Field>;

#[cfg(test)]
mod tests {
    // Behaviour tests shared with the other plain detectors: `plain_detectors_*` in src/tests.rs.
    use super::*;
    use crate::tests::noise;

    #[test]
    fn fft_matches_a_direct_dft() {
        let x: [f32; N] = std::array::from_fn(|i| noise(i) as f32);
        let (mut re, mut im) = (x, [0.0; N]);
        fft(&mut re, &mut im, twiddles());
        for k in [0, 1, 7, 32, 63] {
            let (mut dr, mut di) = (0.0f64, 0.0f64);
            for (n, v) in x.iter().enumerate() {
                let a = -std::f64::consts::TAU * (k * n) as f64 / N as f64;
                dr += f64::from(*v) * a.cos();
                di += f64::from(*v) * a.sin();
            }
            assert!((f64::from(re[k]) - dr).abs() < 1e-4, "re {k}");
            assert!((f64::from(im[k]) - di).abs() < 1e-4, "im {k}");
        }
    }
}
