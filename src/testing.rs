//! Reproducible random problems shared by the benches, the xtask workloads and tests.

use crate::mixture::{Covariance, Gaussian, GaussianMixture};
use faer::Mat;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// A random full-covariance `k`-mixture in dimension `d`, drawn as the JAX peers draw theirs:
/// weights uniform then normalised, means `3 N(0, I)`, covariances `A Aᵀ + 0.1 I` with
/// `A_ij ~ N(0, 1/d)`. The generator is ChaCha8 seeded with `seed`.
///
/// ```
/// let m = gmdiff::testing::peer_mixture(4, 3, 0);
/// assert_eq!((m.dim(), m.len()), (4, 3));
/// ```
pub fn peer_mixture(d: usize, k: usize, seed: u64) -> GaussianMixture {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let raw: Vec<f64> = (0..k).map(|_| rng.random::<f64>().max(1e-12)).collect();
    let total: f64 = raw.iter().sum();
    let mut weights: Vec<f64> = raw.iter().map(|w| w / total).collect();
    let rest: f64 = weights[1..].iter().sum();
    weights[0] = 1.0 - rest;
    let components = (0..k)
        .map(|_| {
            let mean = (0..d).map(|_| 3.0 * rng.sample::<f64, _>(StandardNormal)).collect();
            let a = Mat::from_fn(d, d, |_, _| rng.sample::<f64, _>(StandardNormal) / (d as f64).sqrt());
            let mut cov = &a * a.transpose();
            for i in 0..d {
                cov[(i, i)] += 0.1;
            }
            Gaussian::new(mean, Covariance::full(cov).expect("A Aᵀ + 0.1 I is SPD")).expect("valid component")
        })
        .collect();
    GaussianMixture::new(weights, components).expect("valid mixture")
}

/// `n` points `2 N(0, I_d)`, as the JAX score peer evaluates.
pub fn peer_points(n: usize, d: usize, seed: u64) -> Mat<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    Mat::from_fn(n, d, |_, _| 2.0 * rng.sample::<f64, _>(StandardNormal))
}
