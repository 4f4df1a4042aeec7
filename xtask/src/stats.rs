//! The one least-squares line fit of xtask (slopes of log-log plots, convergence orders, trends),
//! and the one median.

/// A least-squares fit `y ≈ intercept + slope · x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub slope: f64,
    pub intercept: f64,
    /// Standard error of the slope, `sqrt(RSS / (n − 2) / Sxx)` (`n − 2` floored at 1).
    pub se: f64,
    /// Coefficient of determination `1 − RSS / Syy` (1 when `y` is constant).
    pub r2: f64,
}

/// Ordinary least squares of `y` on `x` (same length, at least two distinct `x` for a finite slope).
///
/// `slope = Sxy / Sxx`, `intercept = ȳ − slope x̄`, with `Sxy = Σ (x − x̄)(y − ȳ)`.
pub fn linear_fit(x: &[f64], y: &[f64]) -> Fit {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let nf = n as f64;
    let (mx, my) = (x.iter().sum::<f64>() / nf, y.iter().sum::<f64>() / nf);
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let syy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    let slope = sxy / sxx;
    let rss: f64 = x.iter().zip(y).map(|(a, b)| (b - my - slope * (a - mx)).powi(2)).sum();
    let se = (rss / (nf - 2.0).max(1.0) / sxx).sqrt();
    Fit { slope, intercept: my - slope * mx, se, r2: if syy > 0.0 { 1.0 - rss / syy } else { 1.0 } }
}

/// The slope, its standard error and R² of `y` on `x` (the tuple form of [`linear_fit`]).
pub fn regression(x: &[f64], y: &[f64]) -> (f64, f64, f64) {
    let f = linear_fit(x, y);
    (f.slope, f.se, f.r2)
}

/// The fit of `ln y` on `ln x` (a power law `y ∝ x^slope`); values of `y` below `1e-300` are
/// clamped there so an exact zero gives a large negative log instead of `-inf`.
pub fn loglog_fit(x: &[f64], y: &[f64]) -> Fit {
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let ly: Vec<f64> = y.iter().map(|v| v.max(1e-300).ln()).collect();
    linear_fit(&lx, &ly)
}

/// The median of `v` (the mean of the two middle values for an even count; `NaN` when `v` is
/// empty). Values are ordered by [`f64::total_cmp`].
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 { v[m] } else { 0.5 * (v[m - 1] + v[m]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_line_is_recovered() {
        // y = 3 − 2x exactly: slope −2, intercept 3, no residual.
        let x = [0.0, 1.0, 2.0, 5.0];
        let y: Vec<f64> = x.iter().map(|v| 3.0 - 2.0 * v).collect();
        let f = linear_fit(&x, &y);
        assert!((f.slope + 2.0).abs() < 1e-14 && (f.intercept - 3.0).abs() < 1e-14);
        assert!(f.se < 1e-14 && (f.r2 - 1.0).abs() < 1e-14);
    }

    #[test]
    fn standard_error_and_r2_match_a_hand_computation() {
        // By hand: x = 0, 1, 2 and y = 0, 2, 1 give x̄ = ȳ = 1, Sxx = 2, Syy = 2,
        // Sxy = (−1)(−1) + 0 + (1)(0) = 1, slope 1/2; fitted 0.5, 1, 1.5, residuals −0.5, 1, −0.5,
        // RSS = 1.5; se = sqrt(1.5 / (3 − 2) / 2), R² = 1 − 1.5 / 2.
        let f = linear_fit(&[0.0, 1.0, 2.0], &[0.0, 2.0, 1.0]);
        assert!((f.slope - 0.5).abs() < 1e-15);
        assert!((f.se - 0.75f64.sqrt()).abs() < 1e-15);
        assert!((f.r2 - 0.25).abs() < 1e-15);
        assert_eq!(regression(&[0.0, 1.0, 2.0], &[0.0, 2.0, 1.0]), (f.slope, f.se, f.r2));
    }

    #[test]
    fn loglog_slope_is_the_power() {
        let x = [10.0, 20.0, 40.0, 80.0];
        let y: Vec<f64> = x.iter().map(|v: &f64| 7.0 * v.powf(-1.5)).collect();
        assert!((loglog_fit(&x, &y).slope + 1.5).abs() < 1e-12);
    }

    #[test]
    fn median_by_hand() {
        // Sorted: 1, 2, 9 (odd: the middle one); 1, 2, 4, 9 (even: (2 + 4) / 2).
        assert_eq!(median(vec![9.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![9.0, 4.0, 1.0, 2.0]), 3.0);
        assert!(median(Vec::new()).is_nan());
    }
}
