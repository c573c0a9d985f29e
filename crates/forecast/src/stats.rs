//! Small numerical helpers: the normal quantile, Nelder–Mead, a ridge solver, gap filling.

use crate::ForecastError;

/// The `p` quantile of the standard normal distribution (Acklam's rational approximation,
/// relative error below 1.2e-9). `p` is clamped into (0, 1).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let lo = 0.02425;
    if p < lo {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - lo {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -normal_quantile(1.0 - p)
    }
}

/// The two-sided normal multiplier for a central interval of probability `level` in (0, 1).
pub fn z_for_level(level: f64) -> f64 {
    normal_quantile(0.5 + level / 2.0)
}

/// Minimises `f` from `x0` with the Nelder–Mead simplex (standard coefficients), at most
/// `max_evals` evaluations. Returns the best point and its value. Non-finite values of `f`
/// count as +inf, so the search walks away from them.
pub fn nelder_mead(
    f: &mut dyn FnMut(&[f64]) -> f64,
    x0: &[f64],
    step: f64,
    max_evals: usize,
) -> (Vec<f64>, f64) {
    let n = x0.len();
    let mut eval = |x: &[f64]| {
        let v = f(x);
        if v.is_finite() {
            v
        } else {
            f64::INFINITY
        }
    };
    let mut simplex: Vec<Vec<f64>> = Vec::with_capacity(n + 1);
    simplex.push(x0.to_vec());
    for i in 0..n {
        let mut x = x0.to_vec();
        x[i] += step;
        simplex.push(x);
    }
    let mut values: Vec<f64> = simplex.iter().map(|x| eval(x)).collect();
    let mut evals = n + 1;
    while evals < max_evals {
        let mut order: Vec<usize> = (0..=n).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let (best, worst, second) = (order[0], order[n], order[n - 1]);
        if (values[worst] - values[best]).abs() <= 1e-7 * (values[best].abs() + 1e-12) {
            break;
        }
        let mut centroid = vec![0.0; n];
        for &i in &order[..n] {
            for (c, x) in centroid.iter_mut().zip(&simplex[i]) {
                *c += x / n as f64;
            }
        }
        let towards = |t: f64| -> Vec<f64> {
            centroid
                .iter()
                .zip(&simplex[worst])
                .map(|(c, w)| c + t * (w - c))
                .collect()
        };
        let xr = towards(-1.0);
        let fr = eval(&xr);
        evals += 1;
        if fr < values[best] {
            let xe = towards(-2.0);
            let fe = eval(&xe);
            evals += 1;
            if fe < fr {
                simplex[worst] = xe;
                values[worst] = fe;
            } else {
                simplex[worst] = xr;
                values[worst] = fr;
            }
        } else if fr < values[second] {
            simplex[worst] = xr;
            values[worst] = fr;
        } else {
            let xc = if fr < values[worst] {
                towards(-0.5)
            } else {
                towards(0.5)
            };
            let fc = eval(&xc);
            evals += 1;
            if fc < values[worst].min(fr) {
                simplex[worst] = xc;
                values[worst] = fc;
            } else {
                let b = simplex[best].clone();
                for &i in &order[1..] {
                    for (x, bx) in simplex[i].iter_mut().zip(&b) {
                        *x = bx + 0.5 * (*x - bx);
                    }
                    values[i] = eval(&simplex[i]);
                    evals += 1;
                }
            }
        }
    }
    let best = (0..=n)
        .min_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(0);
    (simplex[best].clone(), values[best])
}

/// Solves the ridge problem min |X b - y|² + λ|b|² (the intercept, column 0, unpenalised)
/// through the normal equations and a Cholesky factorisation. `x` is row-major with `p` columns.
pub fn ridge(x: &[f64], y: &[f64], p: usize, lambda: f64) -> Option<Vec<f64>> {
    let n = y.len();
    let mut a = vec![0.0; p * p];
    let mut rhs = vec![0.0; p];
    for r in 0..n {
        let row = &x[r * p..(r + 1) * p];
        for i in 0..p {
            rhs[i] += row[i] * y[r];
            for j in 0..=i {
                a[i * p + j] += row[i] * row[j];
            }
        }
    }
    for i in 0..p {
        for j in 0..i {
            a[j * p + i] = a[i * p + j];
        }
        if i > 0 {
            a[i * p + i] += lambda * (1.0 + a[i * p + i] * 1e-6);
        }
    }
    // Cholesky: a = L Lᵀ, in place (lower triangle).
    for j in 0..p {
        let mut d = a[j * p + j];
        for k in 0..j {
            d -= a[j * p + k] * a[j * p + k];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[j * p + j] = d;
        for i in j + 1..p {
            let mut s = a[i * p + j];
            for k in 0..j {
                s -= a[i * p + k] * a[j * p + k];
            }
            a[i * p + j] = s / d;
        }
    }
    let mut z = vec![0.0; p];
    for i in 0..p {
        let mut s = rhs[i];
        for k in 0..i {
            s -= a[i * p + k] * z[k];
        }
        z[i] = s / a[i * p + i];
    }
    let mut b = vec![0.0; p];
    for i in (0..p).rev() {
        let mut s = z[i];
        for k in i + 1..p {
            s -= a[k * p + i] * b[k];
        }
        b[i] = s / a[i * p + i];
    }
    b.iter().all(|v| v.is_finite()).then_some(b)
}

/// Checks a series and returns a copy without gaps: non-finite values (NaN, ±inf) are
/// filled by linear interpolation (nearest value at the ends) when `fill_gaps` is true, and
/// are an error otherwise. A series shorter than `min_len`, or with no finite value, is an error.
pub fn clean(series: &[f64], min_len: usize, fill_gaps: bool) -> Result<Vec<f64>, ForecastError> {
    if series.len() < min_len.max(1) {
        return Err(ForecastError::TooShort {
            got: series.len(),
            need: min_len.max(1),
        });
    }
    if let Some(index) = series.iter().position(|v| !v.is_finite()) {
        if !fill_gaps {
            return Err(ForecastError::NonFinite { index });
        }
    } else {
        return Ok(series.to_vec());
    }
    let known: Vec<usize> = (0..series.len())
        .filter(|&i| series[i].is_finite())
        .collect();
    let (Some(&first), Some(&last)) = (known.first(), known.last()) else {
        return Err(ForecastError::NoData);
    };
    let mut out = series.to_vec();
    out[..first].fill(series[first]);
    out[last..].fill(series[last]);
    for w in known.windows(2) {
        let (a, b) = (w[0], w[1]);
        for (i, v) in out.iter_mut().enumerate().take(b).skip(a + 1) {
            let t = (i - a) as f64 / (b - a) as f64;
            *v = series[a] + t * (series[b] - series[a]);
        }
    }
    Ok(out)
}

/// Sample standard deviation of `e` with `dof` degrees of freedom lost; 0 for too few values.
pub fn sigma(e: &[f64], dof: usize) -> f64 {
    let n = e.len();
    if n <= dof {
        return 0.0;
    }
    (e.iter().map(|v| v * v).sum::<f64>() / (n - dof) as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles() {
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-5);
        assert!((normal_quantile(0.5)).abs() < 1e-9);
        assert!((normal_quantile(0.01) + 2.326_348).abs() < 1e-5);
        assert!((z_for_level(0.8) - 1.281_552).abs() < 1e-5);
    }

    #[test]
    fn nelder_mead_finds_a_quadratic_minimum() {
        let mut f = |x: &[f64]| (x[0] - 1.0).powi(2) + 3.0 * (x[1] + 2.0).powi(2);
        let (x, v) = nelder_mead(&mut f, &[0.0, 0.0], 0.5, 500);
        assert!(
            v < 1e-8 && (x[0] - 1.0).abs() < 1e-3 && (x[1] + 2.0).abs() < 1e-3,
            "{x:?}"
        );
    }

    #[test]
    fn ridge_recovers_coefficients() {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..50 {
            let a = i as f64;
            x.extend_from_slice(&[1.0, a, (a * 0.3).sin()]);
            y.push(2.0 + 0.5 * a - 3.0 * (a * 0.3).sin());
        }
        let b = ridge(&x, &y, 3, 1e-9).unwrap();
        assert!(
            (b[0] - 2.0).abs() < 1e-4 && (b[1] - 0.5).abs() < 1e-5 && (b[2] + 3.0).abs() < 1e-4
        );
    }

    #[test]
    fn gaps_are_filled_or_refused() {
        let s = [f64::NAN, 1.0, f64::NAN, 3.0, f64::INFINITY];
        assert_eq!(clean(&s, 1, true).unwrap(), vec![1.0, 1.0, 2.0, 3.0, 3.0]);
        assert!(matches!(
            clean(&s, 1, false),
            Err(ForecastError::NonFinite { index: 0 })
        ));
        assert!(matches!(
            clean(&[f64::NAN; 4], 1, true),
            Err(ForecastError::NoData)
        ));
        assert!(matches!(
            clean(&[], 1, true),
            Err(ForecastError::TooShort { .. })
        ));
    }
}
