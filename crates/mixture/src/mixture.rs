//! Gaussian mixtures `Σ_i w_i N(μ_i, Σ_i)`.

use crate::covariance::Factor;
use crate::density::MixtureDensity;
use crate::error::MixtureError;
use crate::gaussian::{Gaussian, check_scales};
use faer::Mat;
use gmdiff_process::{Coefficients, Score, particle_rng};
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use std::f64::consts::PI;

/// Tolerance on `|Σ w_i − 1|`: the workspace's one weight tolerance.
pub use gmdiff_process::WEIGHT_SUM_TOL;

/// A Gaussian mixture `p = Σ_{i=1}^k w_i N(μ_i, Σ_i)` in `d` dimensions.
///
/// Construction validates everything: `k ≥ 1`, `d ≥ 1`, equal dimensions, finite values,
/// non-negative weights summing to one (to [`WEIGHT_SUM_TOL`] = `1e-9`), symmetric positive semi-definite
/// covariances (the shared checks of `gmdiff_process`).
/// Covariances may be singular; [`GaussianMixture::density`] then reports that the law has no density,
/// while [`GaussianMixture::diffused`] with `b > 0` has one.
///
/// ```
/// use gmdiff_mixture::{Covariance, Gaussian, GaussianMixture};
/// let m = GaussianMixture::new(
///     vec![0.25, 0.75],
///     vec![
///         Gaussian::new(vec![-2.0, 0.0], Covariance::isotropic(2, 0.5).unwrap()).unwrap(),
///         Gaussian::new(vec![2.0, 1.0], Covariance::diagonal(vec![1.0, 2.0]).unwrap()).unwrap(),
///     ],
/// ).unwrap();
/// // Closure lemma: x_t = a x_0 + b z is again a 2-mixture with the same weights.
/// let pt = m.diffused(0.6, 0.8).unwrap();
/// assert_eq!(pt.weights(), m.weights());
/// assert!((pt.mean()[0] - 0.6 * m.mean()[0]).abs() < 1e-15);
/// let score = pt.density().unwrap().score(&[0.0, 0.0]).unwrap();
/// assert_eq!(score.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianMixture {
    weights: Vec<f64>,
    components: Vec<Gaussian>,
}

impl GaussianMixture {
    /// A mixture from weights and components; see the type docs for what is checked.
    pub fn new(weights: Vec<f64>, components: Vec<Gaussian>) -> Result<Self, MixtureError> {
        if components.is_empty() || weights.is_empty() {
            return Err(MixtureError::NoComponents);
        }
        if weights.len() != components.len() {
            return Err(MixtureError::DimensionMismatch {
                what: "weights vs components".into(),
                expected: components.len(),
                found: weights.len(),
            });
        }
        gmdiff_process::check_weights(&weights)?;
        let d = components[0].dim();
        if let Some(c) = components.iter().find(|c| c.dim() != d) {
            return Err(MixtureError::DimensionMismatch { what: "component dimensions".into(), expected: d, found: c.dim() });
        }
        Ok(Self { weights, components })
    }

    /// A single Gaussian as a one-component mixture.
    pub fn from_gaussian(g: Gaussian) -> Self {
        Self { weights: vec![1.0], components: vec![g] }
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.components[0].dim()
    }
    /// The number of components `k`.
    pub fn len(&self) -> usize {
        self.components.len()
    }
    /// Always false: a mixture has at least one component.
    pub fn is_empty(&self) -> bool {
        false
    }
    /// The weights `w_i`.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
    /// The components `N(μ_i, Σ_i)`.
    pub fn components(&self) -> &[Gaussian] {
        &self.components
    }

    /// The law `p_t` of `a x_0 + b z` for `x_0 ~ p`, `z ~ N(0, I)`: `Σ_i w_i N(a μ_i, a² Σ_i + b² I)`.
    ///
    /// This is the closure lemma of Liang et al. (THEORY §1): the weights do not change.
    pub fn diffused(&self, a: f64, b: f64) -> Result<Self, MixtureError> {
        check_scales(a, b)?;
        Ok(Self { weights: self.weights.clone(), components: self.components.iter().map(|c| c.diffused(a, b)).collect::<Result<_, _>>()? })
    }

    /// The mean `Σ_i w_i μ_i`.
    pub fn mean(&self) -> Vec<f64> {
        let mut m = vec![0.0; self.dim()];
        for (w, c) in self.weights.iter().zip(&self.components) {
            m.iter_mut().zip(c.mean()).for_each(|(m, mu)| *m += w * mu);
        }
        m
    }

    /// The second moment `E‖x‖² = Σ_i w_i (‖μ_i‖² + tr Σ_i)`.
    pub fn second_moment(&self) -> f64 {
        self.weights
            .iter()
            .zip(&self.components)
            .map(|(w, c)| w * (c.mean().iter().map(|m| m * m).sum::<f64>() + c.covariance().trace()))
            .sum()
    }

    /// The covariance `Σ_i w_i (Σ_i + μ_i μ_iᵀ) − m mᵀ`.
    pub fn covariance(&self) -> Mat<f64> {
        let d = self.dim();
        let m = self.mean();
        let mut s = Mat::zeros(d, d);
        for (w, c) in self.weights.iter().zip(&self.components) {
            let sigma = c.covariance().to_dense();
            let mu = c.mean();
            for j in 0..d {
                for i in 0..d {
                    s[(i, j)] += w * (sigma[(i, j)] + (mu[i] - m[i]) * (mu[j] - m[j]));
                }
            }
        }
        s
    }

    /// Factorises every component once (`Σ_i⁻¹`, `log det Σ_i`) for repeated evaluation.
    ///
    /// Fails with [`MixtureError::SingularCovariance`] when a component with positive weight has
    /// no density.
    pub fn density(&self) -> Result<MixtureDensity, MixtureError> {
        let d = self.dim();
        let log_2pi = (2.0 * PI).ln();
        let mut constants = Vec::with_capacity(self.len());
        let mut precisions = Vec::with_capacity(self.len());
        for (i, (w, c)) in self.weights.iter().zip(&self.components).enumerate() {
            match c.covariance().precision() {
                // A zero-weight component contributes nothing, singular or not.
                _ if *w == 0.0 => {
                    constants.push(f64::NEG_INFINITY);
                    precisions.push(Factor::Scalar { dim: d, value: 0.0 });
                }
                Ok(p) => {
                    let c = w.ln() - 0.5 * p.log_det_cov - 0.5 * d as f64 * log_2pi;
                    if !c.is_finite() {
                        return Err(MixtureError::NonFinite {
                            what: format!("normalising constant of component {i} (log det Σ overflows)"),
                            value: c,
                        });
                    }
                    constants.push(c);
                    precisions.push(p.factor);
                }
                Err(_) => return Err(MixtureError::SingularCovariance { component: i }),
            }
        }
        let means = self.components.iter().map(|c| c.mean().to_vec()).collect();
        Ok(MixtureDensity::from_parts(d, constants, means, precisions))
    }

    /// `n` exact samples; sample `i` uses the random stream `(seed, i)`, so the result does not
    /// depend on the number of threads.
    ///
    /// ```
    /// use gmdiff_mixture::{Gaussian, GaussianMixture};
    /// let m = GaussianMixture::from_gaussian(Gaussian::standard(3).unwrap());
    /// let x = m.sample(1000, 42);
    /// assert_eq!((x.nrows(), x.ncols()), (1000, 3));
    /// assert_eq!(x, m.sample(1000, 42));
    /// ```
    pub fn sample(&self, n: usize, seed: u64) -> Mat<f64> {
        let d = self.dim();
        let factors: Vec<Factor> = self.components.iter().map(|c| c.covariance().sqrt_factor()).collect();
        let mut cumulative: Vec<f64> = self
            .weights
            .iter()
            .scan(0.0, |s, w| {
                *s += w;
                Some(*s)
            })
            .collect();
        *cumulative.last_mut().expect("k ≥ 1") = f64::INFINITY;
        let mut out = Mat::zeros(n, d);
        const CHUNK: usize = 512;
        out.as_mut().par_row_chunks_mut(CHUNK).enumerate().for_each(|(chunk, mut rows)| {
            let mut z = Mat::zeros(1, d);
            let mut y = Mat::zeros(1, d);
            for r in 0..rows.nrows() {
                let index = (chunk * CHUNK + r) as u64;
                let mut rng = particle_rng(seed, index);
                let u: f64 = rng.random();
                let i = cumulative.iter().position(|&c| u < c).expect("last is ∞");
                for j in 0..d {
                    z[(0, j)] = rng.sample(StandardNormal);
                }
                factors[i].apply_rows(z.as_ref(), y.as_mut());
                let mu = self.components[i].mean();
                for j in 0..d {
                    rows[(r, j)] = mu[j] + y[(0, j)];
                }
            }
        });
        out
    }
}

/// The exact score of the diffused mixture: at noise level `(a, b)`, `∇ log p_t` with
/// `p_t = Σ_i w_i N(a μ_i, a² Σ_i + b² I)`. Each call factorises the `k` components once.
impl Score for GaussianMixture {
    type Error = MixtureError;
    fn dim(&self) -> usize {
        GaussianMixture::dim(self)
    }
    fn score_into(&self, at: &Coefficients, x: faer::MatRef<'_, f64>, out: faer::MatMut<'_, f64>) -> Result<(), MixtureError> {
        self.diffused(at.a, at.b)?.density()?.score_batch_into(x, out)
    }
    /// `Σ_i w_i μ_i`.
    fn data_mean(&self) -> Option<Vec<f64>> {
        let mut m = vec![0.0; GaussianMixture::dim(self)];
        for (w, c) in self.weights().iter().zip(self.components()) {
            m.iter_mut().zip(c.mean()).for_each(|(m, mu)| *m += w * mu);
        }
        Some(m)
    }
}
