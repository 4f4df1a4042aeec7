//! Metrics between Gaussian mixtures: Monte Carlo KL, TV and entropy with exact densities, and
//! the mixture Wasserstein distance MW2.

use crate::error::{MetricsError, Result};
use crate::exact::{EmdOptions, TransportPlan, emd};
use crate::gaussian::bures_w2_squared;
use faer::Mat;
use gmdiff_mixture::{GaussianMixture, MixtureDensity, MixtureError};

/// Maps a mixture-crate error into [`MetricsError::External`].
pub(crate) fn external(e: MixtureError) -> MetricsError {
    MetricsError::External { what: "gmdiff-mixture", reason: e.to_string() }
}

/// A Monte Carlo estimate with its standard error.
///
/// ```
/// let e = gmdiff_metrics::McEstimate { estimate: 0.25, std_error: 0.01, samples: 10_000 };
/// assert!(e.std_error < e.estimate);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct McEstimate {
    /// The sample mean.
    pub estimate: f64,
    /// Its standard error `sd / sqrt(N)` (for stratified estimators, combined over the strata).
    pub std_error: f64,
    /// Number of samples drawn in total.
    pub samples: usize,
}

fn mean_var(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 { v.iter().map(|t| (t - m) * (t - m)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (m, var)
}

fn densities(p: &GaussianMixture, q: &GaussianMixture) -> Result<(MixtureDensity, MixtureDensity)> {
    if p.dim() != q.dim() {
        return Err(MetricsError::DimensionMismatch { what: "q (dimension)", expected: p.dim(), got: q.dim() });
    }
    Ok((p.density().map_err(external)?, q.density().map_err(external)?))
}

fn check_samples(n: usize, min: usize) -> Result<()> {
    if n < min {
        return Err(MetricsError::InvalidParameter { name: "samples", value: n as f64, reason: "too few Monte Carlo samples" });
    }
    Ok(())
}

/// The seed used for the second stream of a two-sample estimator.
fn second_seed(seed: u64) -> u64 {
    seed ^ 0x5851_F42D_4C95_7F2D
}

/// `KL(p ‖ q) = E_p[log p(X) − log q(X)]` by Monte Carlo with the exact mixture log-densities,
/// `X_1..X_N ~ p` drawn by `p.sample(N, seed)`. Both mixtures must have densities (every
/// component with positive weight non-singular), else [`MetricsError::External`].
///
/// ```
/// use gmdiff_mixture::{Covariance, Gaussian, GaussianMixture};
/// let p = GaussianMixture::from_gaussian(Gaussian::standard(2).unwrap());
/// let q = GaussianMixture::from_gaussian(Gaussian::new(vec![1.0, 0.0], Covariance::isotropic(2, 1.0).unwrap()).unwrap());
/// let e = gmdiff_metrics::kl_mixtures_mc(&p, &q, 20_000, 1).unwrap();
/// assert!((e.estimate - 0.5).abs() < 4.0 * e.std_error); // closed form ½‖Δm‖²
/// ```
pub fn kl_mixtures_mc(p: &GaussianMixture, q: &GaussianMixture, samples: usize, seed: u64) -> Result<McEstimate> {
    check_samples(samples, 2)?;
    let (dp, dq) = densities(p, q)?;
    let x = p.sample(samples, seed);
    let lp = dp.logpdf_batch(x.as_ref()).map_err(external)?;
    let lq = dq.logpdf_batch(x.as_ref()).map_err(external)?;
    let terms: Vec<f64> = lp.iter().zip(&lq).map(|(a, b)| a - b).collect();
    if terms.iter().any(|t| !t.is_finite()) {
        return Err(MetricsError::BadDensity {
            what: "log p − log q",
            value: f64::NAN,
            index: terms.iter().position(|t| !t.is_finite()).unwrap_or(0),
        });
    }
    let (m, v) = mean_var(&terms);
    Ok(McEstimate { estimate: m, std_error: (v / samples as f64).sqrt(), samples })
}

/// `TV(p, q) = ½ ∫ |p − q|` by importance sampling from `m = (p + q)/2`, stratified: half the
/// samples from `p`, half from `q`, and `TV = E_m[|p − q| / (p + q)] = ½ E_p[g] + ½ E_q[g]`
/// with `g = tanh(|log p − log q| / 2) ∈ [0, 1]`, computed from exact log-densities.
/// The standard error combines the two strata. `p` is sampled with `seed`, `q` with a derived seed.
///
/// ```
/// use gmdiff_mixture::{Covariance, Gaussian, GaussianMixture};
/// let p = GaussianMixture::from_gaussian(Gaussian::standard(1).unwrap());
/// let q = GaussianMixture::from_gaussian(Gaussian::new(vec![1.0], Covariance::isotropic(1, 1.0).unwrap()).unwrap());
/// let e = gmdiff_metrics::tv_mixtures_mc(&p, &q, 20_000, 2).unwrap();
/// let exact = gmdiff_metrics::tv_gaussian_1d(0.0, 1.0, 1.0, 1.0).unwrap();
/// assert!((e.estimate - exact).abs() < 4.0 * e.std_error);
/// ```
pub fn tv_mixtures_mc(p: &GaussianMixture, q: &GaussianMixture, samples: usize, seed: u64) -> Result<McEstimate> {
    check_samples(samples, 4)?;
    let (dp, dq) = densities(p, q)?;
    let np = samples / 2;
    let nq = samples - np;
    let g = |x: Mat<f64>| -> Result<Vec<f64>> {
        let lp = dp.logpdf_batch(x.as_ref()).map_err(external)?;
        let lq = dq.logpdf_batch(x.as_ref()).map_err(external)?;
        Ok(lp.iter().zip(&lq).map(|(a, b)| if a == b { 0.0 } else { (0.5 * (a - b).abs()).tanh() }).collect())
    };
    let gp = g(p.sample(np, seed))?;
    let gq = g(q.sample(nq, second_seed(seed)))?;
    let (mp, vp) = mean_var(&gp);
    let (mq, vq) = mean_var(&gq);
    Ok(McEstimate { estimate: (0.5 * (mp + mq)).clamp(0.0, 1.0), std_error: 0.5 * (vp / np as f64 + vq / nq as f64).sqrt(), samples })
}

/// Differential entropy `h(p) = −E_p[log p(X)]` of a Gaussian mixture by Monte Carlo with the
/// exact log-density, `X ~ p` from `p.sample(N, seed)` (nats).
///
/// ```
/// use gmdiff_mixture::{Gaussian, GaussianMixture};
/// let p = GaussianMixture::from_gaussian(Gaussian::standard(3).unwrap());
/// let e = gmdiff_metrics::mixture_entropy_mc(&p, 20_000, 5).unwrap();
/// let exact = 1.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln();
/// assert!((e.estimate - exact).abs() < 4.0 * e.std_error);
/// ```
pub fn mixture_entropy_mc(p: &GaussianMixture, samples: usize, seed: u64) -> Result<McEstimate> {
    check_samples(samples, 2)?;
    let dp = p.density().map_err(external)?;
    let x = p.sample(samples, seed);
    let lp = dp.logpdf_batch(x.as_ref()).map_err(external)?;
    let neg: Vec<f64> = lp.iter().map(|v| -v).collect();
    if let Some(index) = neg.iter().position(|t| !t.is_finite()) {
        return Err(MetricsError::BadDensity { what: "log p", value: lp[index], index });
    }
    let (m, v) = mean_var(&neg);
    Ok(McEstimate { estimate: m, std_error: (v / samples as f64).sqrt(), samples })
}

/// The mixture Wasserstein distance of Delon & Desolneux (2020).
///
/// ```
/// use gmdiff_mixture::{Gaussian, GaussianMixture};
/// let p = GaussianMixture::from_gaussian(Gaussian::standard(2).unwrap());
/// let m = gmdiff_metrics::mixture_w2(&p, &p).unwrap();
/// assert_eq!((m.distance, m.squared), (0.0, 0.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MixtureW2 {
    /// `MW2` (not squared).
    pub distance: f64,
    /// `MW2²`, the value POT's `ot.gmm.gmm_ot_loss` returns.
    pub squared: f64,
    /// The optimal coupling of the components (`i` indexes `p`'s components, `j` `q`'s), with
    /// its dual potentials.
    pub plan: TransportPlan,
    /// The cost matrix `C_ij = W2²(p_i, q_j)` (Bures), `k_p × k_q`.
    pub costs: Mat<f64>,
}

/// `MW2(p, q)² = min_{γ ∈ Π(w^p, w^q)} Σ_ij γ_ij W2²(N(μ_i^p, Σ_i^p), N(μ_j^q, Σ_j^q))`: exact
/// discrete optimal transport between the components with Bures² costs
/// ([`bures_w2_squared`]), solved by the network simplex of [`emd`].
///
/// Restricting couplings to mixtures of Gaussian couplings makes it an **upper bound** on the
/// true `W2(p, q)`; it equals W2 when both are single Gaussians. Returns `MW2` in
/// [`MixtureW2::distance`] and `MW2²` (POT's convention) in [`MixtureW2::squared`]. Singular
/// covariances are fine (no density needed).
///
/// ```
/// use gmdiff_mixture::{Covariance, Gaussian, GaussianMixture};
/// let g = |m: f64| Gaussian::new(vec![m], Covariance::isotropic(1, 1.0).unwrap()).unwrap();
/// let p = GaussianMixture::new(vec![0.5, 0.5], vec![g(-1.0), g(1.0)]).unwrap();
/// let q = GaussianMixture::new(vec![0.5, 0.5], vec![g(-1.0), g(3.0)]).unwrap();
/// let m = gmdiff_metrics::mixture_w2(&p, &q).unwrap();
/// assert!((m.squared - 2.0).abs() < 1e-12); // half the mass moves by 2
/// ```
pub fn mixture_w2(p: &GaussianMixture, q: &GaussianMixture) -> Result<MixtureW2> {
    if p.dim() != q.dim() {
        return Err(MetricsError::DimensionMismatch { what: "q (dimension)", expected: p.dim(), got: q.dim() });
    }
    let dense_p: Vec<Mat<f64>> = p.components().iter().map(|c| c.covariance().to_dense()).collect();
    let dense_q: Vec<Mat<f64>> = q.components().iter().map(|c| c.covariance().to_dense()).collect();
    let (kp, kq) = (p.len(), q.len());
    let mut costs = Mat::zeros(kp, kq);
    for i in 0..kp {
        for j in 0..kq {
            costs[(i, j)] = bures_w2_squared(p.components()[i].mean(), dense_p[i].as_ref(), q.components()[j].mean(), dense_q[j].as_ref())?;
        }
    }
    let plan = emd(p.weights(), q.weights(), costs.as_ref(), EmdOptions::default())?;
    let squared = plan.cost.max(0.0);
    Ok(MixtureW2 { distance: squared.sqrt(), squared, plan, costs })
}
