//! Property tests of the mixture maths over random mixtures (d ≤ 6, k ≤ 8), each against an
//! independent route: finite differences, per-component Gaussian formulas, or Monte Carlo.

use crate::common;
use common::*;
use gmdiff_mixture::{GaussianMixture, MixtureError};
use proptest::prelude::*;

/// Central finite difference of `f` along coordinate `j`, step `h`: error O(h²) + O(ε/h).
fn central(f: impl Fn(&[f64]) -> f64, x: &[f64], j: usize, h: f64) -> f64 {
    let (mut p, mut m) = (x.to_vec(), x.to_vec());
    p[j] += h;
    m[j] -= h;
    (f(&p) - f(&m)) / (2.0 * h)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// ∇ log p equals the finite-difference gradient of log p (h = 1e-5: truncation ~1e-10 ‖∂³ log p‖,
    /// rounding ~1e-11 |log p|; tolerance 1e-6 (1 + |s|)).
    #[test]
    fn score_is_gradient_of_logpdf((m, pts) in mixture_and_points(3), a in 0.1f64..=1.0) {
        let p = m.diffused(a, (1.0 - a * a).sqrt()).unwrap().density().unwrap();
        for x in &pts {
            let s = p.score(x).unwrap();
            for (j, &sj) in s.iter().enumerate() {
                let fd = central(|y| p.logpdf(y).unwrap(), x, j, 1e-5);
                prop_assert!((fd - sj).abs() <= 1e-6 * (1.0 + sj.abs()), "j={j}: fd {fd} vs score {sj}");
            }
        }
    }

    /// ∇² log p equals the finite-difference Jacobian of the score, and is symmetric.
    #[test]
    fn hessian_is_jacobian_of_score((m, pts) in mixture_and_points(2)) {
        let p = m.density().unwrap();
        for x in &pts {
            let h = p.hessian(x).unwrap();
            let d = x.len();
            for j in 0..d {
                for i in 0..d {
                    prop_assert_eq!(h[(i, j)], h[(j, i)]);
                    let fd = central(|y| p.score(y).unwrap()[i], x, j, 1e-5);
                    prop_assert!((fd - h[(i, j)]).abs() <= 1e-6 * (1.0 + h[(i, j)].abs()), "({i},{j}): fd {fd} vs {}", h[(i, j)]);
                }
            }
            // The Laplacian is the trace of the Hessian.
            let tr: f64 = (0..d).map(|i| h[(i, i)]).sum();
            prop_assert!((p.laplacian(x).unwrap() - tr).abs() <= 1e-9 * (1.0 + tr.abs()));
        }
    }

    /// k = 1 reduces to the Gaussian's own closed forms.
    #[test]
    fn one_component_is_the_gaussian((m, pts) in mixture_and_points(3)) {
        let g = m.components()[0].clone();
        let p = GaussianMixture::from_gaussian(g.clone()).density().unwrap();
        let hg = g.hessian().unwrap();
        for x in &pts {
            let (lp, lg) = (p.logpdf(x).unwrap(), g.logpdf(x).unwrap());
            prop_assert!((lp - lg).abs() <= 1e-12 * (1.0 + lg.abs()));
            for (a, b) in p.score(x).unwrap().iter().zip(g.score(x).unwrap()) {
                prop_assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()));
            }
            let h = p.hessian(x).unwrap();
            for j in 0..x.len() { for i in 0..x.len() {
                prop_assert!((h[(i, j)] - hg[(i, j)]).abs() <= 1e-12 * (1.0 + hg[(i, j)].abs()));
            }}
        }
    }

    /// The log-density is the logsumexp of the per-component Gaussian log-densities, and the
    /// responsibilities are their softmax.
    #[test]
    fn logpdf_and_responsibilities_match_components((m, pts) in mixture_and_points(3)) {
        let p = m.density().unwrap();
        for x in &pts {
            let terms: Vec<f64> = m.weights().iter().zip(m.components()).map(|(w, c)| w.ln() + c.logpdf(x).unwrap()).collect();
            let expected = logsumexp(&terms);
            prop_assert!((p.logpdf(x).unwrap() - expected).abs() <= 1e-12 * (1.0 + expected.abs()));
            let r = p.responsibilities(x).unwrap();
            prop_assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-13);
            for (ri, t) in r.iter().zip(&terms) {
                prop_assert!((ri - (t - expected).exp()).abs() < 1e-12);
            }
        }
    }

    /// Permuting the components changes nothing (up to the rounding of a reordered sum).
    #[test]
    fn permutation_invariance((m, pts) in mixture_and_points(3), rot in 0usize..8) {
        let k = m.len();
        let order: Vec<usize> = (0..k).map(|i| (i + rot) % k).rev().collect();
        let w: Vec<f64> = order.iter().map(|&i| m.weights()[i]).collect();
        let c = order.iter().map(|&i| m.components()[i].clone()).collect();
        let q = GaussianMixture::new(w, c).unwrap();
        let (pm, pq) = (m.density().unwrap(), q.density().unwrap());
        for x in &pts {
            let (a, b) = (pm.logpdf(x).unwrap(), pq.logpdf(x).unwrap());
            prop_assert!((a - b).abs() <= 1e-12 * (1.0 + a.abs()));
            for (s, t) in pm.score(x).unwrap().iter().zip(pq.score(x).unwrap()) {
                prop_assert!((s - t).abs() <= 1e-11 * (1.0 + s.abs()));
            }
        }
        prop_assert!((m.second_moment() - q.second_moment()).abs() <= 1e-12 * m.second_moment());
    }

    /// diffused(a = 1, b = 0) is the identity.
    #[test]
    fn diffused_identity(m in mixture()) {
        prop_assert_eq!(m.diffused(1.0, 0.0).unwrap(), m);
    }

    /// Batched evaluation over many rows (several blocks, in parallel) equals row-by-row evaluation.
    #[test]
    fn batched_equals_pointwise(m in mixture(), n in 1usize..700, seed in 0u64..1000) {
        let x = m.diffused(1.0, 1.0).unwrap().sample(n, seed);
        let p = m.density().unwrap();
        let all = p.evaluate(x.as_ref(), gmdiff_mixture::Request { logpdf: true, score: true, laplacian: true, responsibilities: true }).unwrap();
        let h = p.hessian_batch(x.as_ref()).unwrap();
        for r in (0..n).step_by(37) {
            let xr: Vec<f64> = (0..m.dim()).map(|j| x[(r, j)]).collect();
            prop_assert_eq!(all.logpdf.as_ref().unwrap()[r], p.logpdf(&xr).unwrap());
            prop_assert_eq!(all.laplacian.as_ref().unwrap()[r], p.laplacian(&xr).unwrap());
            let s = p.score(&xr).unwrap();
            let resp = p.responsibilities(&xr).unwrap();
            for (j, &sj) in s.iter().enumerate() { prop_assert_eq!(all.score.as_ref().unwrap()[(r, j)], sj); }
            for (i, &ri) in resp.iter().enumerate() { prop_assert_eq!(all.responsibilities.as_ref().unwrap()[(r, i)], ri); }
            prop_assert_eq!(&h[r], &p.hessian(&xr).unwrap());
        }
        let mut into = faer::Mat::zeros(n, m.dim());
        p.score_batch_into(x.as_ref(), into.as_mut()).unwrap();
        prop_assert_eq!(&into, all.score.as_ref().unwrap());
    }

    /// Samples of a x_0 + b z have the moments of the closed-form p_t: each coordinate's sample mean
    /// within 5 standard errors, and E‖x_t‖² within 5 standard errors (estimated from the sample).
    #[test]
    fn diffused_samples_match_moments(m in mixture(), a in 0.0f64..=1.0, seed in 0u64..1000) {
        let b = (1.0 - a * a).sqrt();
        let n = 40_000;
        let x0 = m.sample(n, seed);
        let z = GaussianMixture::from_gaussian(gmdiff_mixture::Gaussian::standard(m.dim()).unwrap()).sample(n, seed + 1);
        let pt = m.diffused(a, b).unwrap();
        let (mean, cov) = (pt.mean(), pt.covariance());
        let d = m.dim();
        let mut norms = Vec::with_capacity(n);
        for j in 0..d {
            let col: Vec<f64> = (0..n).map(|i| a * x0[(i, j)] + b * z[(i, j)]).collect();
            let avg = col.iter().sum::<f64>() / n as f64;
            let se = (cov[(j, j)] / n as f64).sqrt();
            prop_assert!((avg - mean[j]).abs() <= 5.0 * se, "coord {j}: {avg} vs {} (se {se})", mean[j]);
        }
        for i in 0..n {
            norms.push((0..d).map(|j| (a * x0[(i, j)] + b * z[(i, j)]).powi(2)).sum::<f64>());
        }
        let avg = norms.iter().sum::<f64>() / n as f64;
        let var = norms.iter().map(|v| (v - avg).powi(2)).sum::<f64>() / (n - 1) as f64;
        let se = (var / n as f64).sqrt();
        prop_assert!((avg - pt.second_moment()).abs() <= 5.0 * se, "{avg} vs {} (se {se})", pt.second_moment());
    }

    /// JSON round trip.
    #[test]
    fn json_round_trip(m in mixture()) {
        let s = serde_json::to_string(&m).unwrap();
        let back: GaussianMixture = serde_json::from_str(&s).unwrap();
        prop_assert_eq!(back, m);
    }
}

/// Far from every component (1000 standard deviations), the log-density stays finite and matches
/// the dominant term computed by hand.
#[test]
fn far_points_are_finite_and_accurate() {
    let m: GaussianMixture =
        serde_json::from_str(r#"{"weights":[0.5,0.5],"means":[[0.0,0.0],[1.0,0.0]],"covariances":[1.0,[[1.0,0.0],[0.0,1.0]]]}"#).unwrap();
    let p = m.density().unwrap();
    let x = [1000.0, 0.0];
    // log p = log(½ N(x; 0, I) + ½ N(x; e1, I)) = −log 2π + log(½ e^{−500000} + ½ e^{−499000.5}).
    let expected = -(2.0 * std::f64::consts::PI).ln() - 499_000.5 + (0.5 + 0.5 * (-999.5f64).exp()).ln();
    let lp = p.logpdf(&x).unwrap();
    assert!((lp - expected).abs() <= 1e-12 * expected.abs(), "{lp} vs {expected}");
    let s = p.score(&x).unwrap();
    assert!((s[0] + 999.0).abs() < 1e-9 && s[1] == 0.0);
    let h = p.hessian(&x).unwrap();
    assert!((h[(0, 0)] + 1.0).abs() < 1e-9);
}

#[test]
fn singular_covariance_has_no_density_until_diffused() {
    let m: GaussianMixture =
        serde_json::from_str(r#"{"weights":[1.0],"means":[[0.0,0.0]],"covariances":[[[1.0,1.0],[1.0,1.0]]]}"#).unwrap();
    assert!(matches!(m.density(), Err(MixtureError::SingularCovariance { component: 0 })));
    let p = m.diffused(0.9, 0.1).unwrap().density().unwrap();
    assert!(p.logpdf(&[0.3, -0.2]).unwrap().is_finite());
    // Exact sampling stays on the support x1 = x2.
    let x = m.sample(100, 3);
    assert!((0..100).all(|i| (x[(i, 0)] - x[(i, 1)]).abs() < 1e-12));
}

#[test]
fn bad_input_is_a_typed_error() {
    let bad = |s: &str| serde_json::from_str::<GaussianMixture>(s).unwrap_err().to_string();
    assert!(bad(r#"{"weights":[0.5,0.6],"means":[[0.0],[1.0]],"covariances":[1.0,1.0]}"#).contains("sum"));
    assert!(bad(r#"{"weights":[-0.5,1.5],"means":[[0.0],[1.0]],"covariances":[1.0,1.0]}"#).contains("negative"));
    assert!(bad(r#"{"weights":[1.0],"means":[[0.0,0.0]],"covariances":[[[1.0,0.5],[0.4,1.0]]]}"#).contains("symmetric"));
    assert!(bad(r#"{"weights":[1.0],"means":[[0.0,0.0]],"covariances":[[[1.0,2.0],[2.0,1.0]]]}"#).contains("semi-definite"));
    assert!(
        bad(r#"{"weights":[1.0],"means":[[0.0,0.0]],"covariances":[[[1.0,0.0,0.0],[0.0,1.0,0.0],[0.0,0.0,1.0]]]}"#).contains("mismatch")
    );
    assert!(bad(r#"{"weights":[],"means":[],"covariances":[]}"#).contains("k = 0"));
    assert!(bad(r#"{"weights":[1.0],"means":[[]],"covariances":[1.0]}"#).contains("d = 0"));
    assert!(bad(r#"{"weights":[0.5,0.5],"means":[[0.0],[0.0,1.0]],"covariances":[1.0,[1.0,1.0]]}"#).contains("mismatch"));
    assert!(bad(r#"{"weights":[1.0],"means":[[0.0]],"covariances":[-1.0]}"#).contains("semi-definite"));
    assert!(!bad(r#"{"weights":[1.0],"means":[[1e999]],"covariances":[1.0]}"#).is_empty());
    let m: GaussianMixture = serde_json::from_str(r#"{"weights":[1.0],"means":[[0.0]],"covariances":[1.0]}"#).unwrap();
    let p = m.density().unwrap();
    assert!(matches!(p.logpdf(&[f64::NAN]), Err(MixtureError::NonFinite { .. })));
    assert!(matches!(p.logpdf(&[0.0, 1.0]), Err(MixtureError::DimensionMismatch { .. })));
    // log N(1e300; 0, 1) = −4.5e599 is below −f64::MAX: the IEEE rounding −∞, not an error (issue 14).
    assert_eq!(p.logpdf(&[1e300]).unwrap(), f64::NEG_INFINITY);
    assert!(matches!(m.diffused(1.0, -0.1), Err(MixtureError::InvalidArgument { .. })));
    assert!(matches!(m.diffused(f64::NAN, 0.1), Err(MixtureError::InvalidArgument { .. })));
}

/// Zero-weight components are allowed and ignored, even when singular.
#[test]
fn zero_weight_components_are_inert() {
    let m: GaussianMixture = serde_json::from_str(r#"{"weights":[1.0,0.0],"means":[[0.0],[5.0]],"covariances":[1.0,0.0]}"#).unwrap();
    let p = m.density().unwrap();
    let g = m.components()[0].clone();
    assert!((p.logpdf(&[5.0]).unwrap() - g.logpdf(&[5.0]).unwrap()).abs() < 1e-15);
    assert_eq!(p.responsibilities(&[5.0]).unwrap(), vec![1.0, 0.0]);
}

/// Found by the `mixture_construction` fuzz target: a finite mixture whose diffused mean and
/// variance overflow (a = 4.4e158) once gave a silent NaN score; it must be a typed error.
#[test]
fn overflowing_diffusion_is_an_error_not_nan() {
    let m: GaussianMixture = serde_json::from_str(r#"{"weights":[1.0],"means":[[4.4e158]],"covariances":[1.0]}"#).unwrap();
    assert!(matches!(m.diffused(4.4e158, 1.0), Err(MixtureError::NonFinite { .. })));
    let g: GaussianMixture = serde_json::from_str(r#"{"weights":[1.0],"means":[[0.0]],"covariances":[1e300]}"#).unwrap();
    assert!(matches!(g.diffused(1e10, 1.0), Err(MixtureError::NonFinite { .. })));
}
