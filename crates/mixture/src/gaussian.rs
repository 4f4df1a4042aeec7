//! A single Gaussian `N(μ, Σ)`.

use crate::covariance::Covariance;
use crate::error::{MixtureError, check_finite};
use faer::Mat;
use std::f64::consts::PI;

/// The Gaussian law `N(μ, Σ)` in `d` dimensions, with a structured, validated covariance.
///
/// ```
/// use gmdiff_mixture::{Covariance, Gaussian};
/// let g = Gaussian::new(vec![1.0, 0.0], Covariance::isotropic(2, 4.0).unwrap()).unwrap();
/// let lp = g.logpdf(&[1.0, 2.0]).unwrap();
/// assert!((lp - (-(2.0 * std::f64::consts::PI * 4.0).ln() - 0.5)).abs() < 1e-15);
/// assert_eq!(g.score(&[1.0, 2.0]).unwrap(), vec![0.0, -0.5]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Gaussian {
    mean: Vec<f64>,
    covariance: Covariance,
}

impl Gaussian {
    /// `N(mean, covariance)`; the mean must be finite and of the covariance's dimension.
    pub fn new(mean: Vec<f64>, covariance: Covariance) -> Result<Self, MixtureError> {
        if mean.is_empty() {
            return Err(MixtureError::ZeroDimension);
        }
        if mean.len() != covariance.dim() {
            return Err(MixtureError::DimensionMismatch {
                what: "mean vs covariance".into(),
                expected: covariance.dim(),
                found: mean.len(),
            });
        }
        check_finite(|| "mean".into(), mean.iter().copied())?;
        Ok(Self { mean, covariance })
    }

    /// The standard normal `N(0, I_d)`.
    pub fn standard(dim: usize) -> Result<Self, MixtureError> {
        Self::new(vec![0.0; dim], Covariance::isotropic(dim, 1.0)?)
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }
    /// The mean `μ`.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }
    /// The covariance `Σ`.
    pub fn covariance(&self) -> &Covariance {
        &self.covariance
    }

    /// The law of `a x + b z`, `x ~ N(μ, Σ)`, `z ~ N(0, I)` independent: `N(a μ, a² Σ + b² I)`.
    ///
    /// Fails with [`MixtureError::NonFinite`] when `a μ` or `a² Σ + b² I` overflows `f64`.
    pub fn diffused(&self, a: f64, b: f64) -> Result<Self, MixtureError> {
        check_scales(a, b)?;
        let mean: Vec<f64> = self.mean.iter().map(|m| a * m).collect();
        check_finite(|| "diffused mean a μ (overflow)".into(), mean.iter().copied())?;
        let covariance = self.covariance.diffused(a, b);
        covariance.check_finite("diffused covariance a² Σ + b² I (overflow)")?;
        Ok(Self { mean, covariance })
    }

    /// `log N(x; μ, Σ) = −½ (d log 2π + log det Σ + (x − μ)ᵀ Σ⁻¹ (x − μ))`.
    ///
    /// The quadratic form is evaluated on `(x − μ)/s` for a power of two `s`, so it does not
    /// overflow on the way; when the log-density itself is below `−f64::MAX` (for `N(0, 1)`, from
    /// `|x| ≈ 1.9e154` on) the result is `−∞`, the IEEE rounding of the true value, not an error.
    pub fn logpdf(&self, x: &[f64]) -> Result<f64, MixtureError> {
        self.check_point(x)?;
        let p = self.covariance.precision()?;
        let s = power_of_two_scale(x.iter().chain(&self.mean).fold(0.0, |a: f64, v| a.max(v.abs())));
        let diff: Vec<f64> = x.iter().zip(&self.mean).map(|(x, m)| x / s - m / s).collect();
        let y = p.factor.apply(&diff);
        let quad: f64 = diff.iter().zip(&y).map(|(a, b)| a * b).sum();
        let value = -0.5 * (self.dim() as f64 * (2.0 * PI).ln() + p.log_det_cov) - 0.5 * (s * (s * quad));
        if value.is_nan() {
            return Err(MixtureError::NonFinite { what: "log-density (point too far from the mean for f64)".into(), value });
        }
        Ok(value)
    }

    /// `∇ log N(x; μ, Σ) = −Σ⁻¹ (x − μ)`; [`MixtureError::NonFinite`] when it is beyond `f64`.
    pub fn score(&self, x: &[f64]) -> Result<Vec<f64>, MixtureError> {
        self.check_point(x)?;
        let p = self.covariance.precision()?;
        let s = power_of_two_scale(x.iter().chain(&self.mean).fold(0.0, |a: f64, v| a.max(v.abs())));
        let diff: Vec<f64> = x.iter().zip(&self.mean).map(|(x, m)| x / s - m / s).collect();
        let score: Vec<f64> = p.factor.apply(&diff).into_iter().map(|v| 0.0 - s * v).collect();
        check_finite(|| "score (point too far from the mean for f64)".into(), score.iter().copied())?;
        Ok(score)
    }

    /// `∇² log N = −Σ⁻¹`.
    pub fn hessian(&self) -> Result<Mat<f64>, MixtureError> {
        let p = self.covariance.precision()?;
        let mut h = Mat::zeros(self.dim(), self.dim());
        p.factor.add_scaled_to(-1.0, &mut h);
        Ok(h)
    }

    /// Differential entropy `½ log det(2πe Σ)` (`−∞` for a singular covariance).
    pub fn entropy(&self) -> f64 {
        let logdet: f64 = self.covariance.eigenvalues().iter().map(|v| v.max(0.0).ln()).sum();
        0.5 * (self.dim() as f64 * (2.0 * PI * std::f64::consts::E).ln() + logdet)
    }

    fn check_point(&self, x: &[f64]) -> Result<(), MixtureError> {
        if x.len() != self.dim() {
            return Err(MixtureError::DimensionMismatch { what: "point".into(), expected: self.dim(), found: x.len() });
        }
        check_finite(|| "point".into(), x.iter().copied())
    }
}

/// The power of two `s ≥ max(m, 1)` nearest above `m` (at most `2^1023`): dividing by it is exact
/// (short of underflow) and brings every value of magnitude `≤ m` into `[−1, 1]`.
pub(crate) fn power_of_two_scale(m: f64) -> f64 {
    if m.is_nan() || m <= 1.0 {
        return 1.0;
    }
    let e = (m.log2().ceil() as i32).min(1023);
    let s = 2f64.powi(e);
    if s < m { 2.0 * s } else { s }.min(2f64.powi(1023))
}

/// Checks the scales of `a x + b z`: finite `a`, finite `b ≥ 0`.
pub(crate) fn check_scales(a: f64, b: f64) -> Result<(), MixtureError> {
    if !a.is_finite() {
        return Err(MixtureError::InvalidArgument { name: "a", value: a, reason: "must be finite" });
    }
    if !(b.is_finite() && b >= 0.0) {
        return Err(MixtureError::InvalidArgument { name: "b", value: b, reason: "must be finite and ≥ 0" });
    }
    Ok(())
}
