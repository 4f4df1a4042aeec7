//! Random mixtures for the property tests: d ≤ 6, k ≤ 8, every covariance structure.

#![allow(dead_code)]
use faer::Mat;
use gmdiff_mixture::{Covariance, Gaussian, GaussianMixture};
use proptest::prelude::*;

/// A covariance of the given kind (0 isotropic, 1 diagonal, 2 full) with eigenvalues in [0.1, ~4].
pub fn covariance(kind: u8, d: usize, raw: &[f64]) -> Covariance {
    match kind {
        0 => Covariance::isotropic(d, 0.1 + raw[0].abs()).unwrap(),
        1 => Covariance::diagonal((0..d).map(|j| 0.1 + raw[j].abs()).collect()).unwrap(),
        _ => {
            let a = Mat::from_fn(d, d, |i, j| raw[i * d + j]);
            let mut s = Mat::from_fn(d, d, |i, j| (0..d).map(|l| a[(i, l)] * a[(j, l)]).sum::<f64>() / d as f64);
            for i in 0..d {
                s[(i, i)] += 0.1;
            }
            Covariance::full(s).unwrap()
        }
    }
}

/// A random mixture with d ≤ 6 and k ≤ 8.
pub fn mixture() -> impl Strategy<Value = GaussianMixture> {
    (1usize..=6, 1usize..=8).prop_flat_map(|(d, k)| {
        (
            prop::collection::vec(0.05f64..1.0, k),
            prop::collection::vec(prop::collection::vec(-3.0f64..3.0, d), k),
            prop::collection::vec((0u8..3, prop::collection::vec(-1.5f64..1.5, d * d)), k),
        )
            .prop_map(move |(w, means, covs)| {
                let total: f64 = w.iter().sum();
                let weights = w.iter().map(|w| w / total).collect();
                let components =
                    means.into_iter().zip(covs).map(|(m, (kind, raw))| Gaussian::new(m, covariance(kind, d, &raw)).unwrap()).collect();
                GaussianMixture::new(weights, components).unwrap()
            })
    })
}

/// A mixture and `n` points near it (within a few standard deviations of its mean).
pub fn mixture_and_points(n: usize) -> impl Strategy<Value = (GaussianMixture, Vec<Vec<f64>>)> {
    mixture().prop_flat_map(move |m| {
        let d = m.dim();
        (Just(m), prop::collection::vec(prop::collection::vec(-5.0f64..5.0, d), n))
    })
}

pub fn to_mat(points: &[Vec<f64>]) -> Mat<f64> {
    Mat::from_fn(points.len(), points[0].len(), |i, j| points[i][j])
}

/// log Σ exp, computed directly (an independent route for the mixture's running logsumexp).
pub fn logsumexp(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}
