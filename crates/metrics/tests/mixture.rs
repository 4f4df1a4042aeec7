//! Estimators against a known density: each recovers an independent closed form or quadrature
//! within a stated number of standard errors (4 unless said otherwise).

use faer::{Mat, mat};
use gmdiff_metrics::*;
use gmdiff_mixture::{Covariance, Gaussian, GaussianMixture};

fn gauss(mean: Vec<f64>, cov: Mat<f64>) -> Gaussian {
    Gaussian::new(mean, Covariance::full(cov).unwrap()).unwrap()
}

fn single(mean: Vec<f64>, cov: Mat<f64>) -> GaussianMixture {
    GaussianMixture::from_gaussian(gauss(mean, cov))
}

fn mix1d(w: &[f64], m: &[f64], s: &[f64]) -> GaussianMixture {
    let comps = m.iter().zip(s).map(|(&m, &s)| gauss(vec![m], mat![[s * s]])).collect();
    GaussianMixture::new(w.to_vec(), comps).unwrap()
}

/// A 1-D mixture density written independently of both crates.
fn pdf1d(x: f64, w: &[f64], m: &[f64], s: &[f64]) -> f64 {
    w.iter()
        .zip(m)
        .zip(s)
        .map(|((w, m), s)| w * (-(x - m) * (x - m) / (2.0 * s * s)).exp() / (s * (2.0 * std::f64::consts::PI).sqrt()))
        .sum()
}

/// ∫ f over [lo, hi] by composite Simpson.
fn simpson(lo: f64, hi: f64, f: impl Fn(f64) -> f64) -> f64 {
    let k = 200_000;
    let h = (hi - lo) / k as f64;
    let mut s = f(lo) + f(hi);
    for i in 1..k {
        s += f(lo + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

const P1: ([f64; 2], [f64; 2], [f64; 2]) = ([0.3, 0.7], [-1.5, 1.0], [0.6, 1.2]);
const Q1: ([f64; 3], [f64; 3], [f64; 3]) = ([0.5, 0.25, 0.25], [0.0, 2.0, -2.5], [1.0, 0.5, 0.8]);

#[test]
fn monte_carlo_kl_tv_entropy_match_quadrature_for_1d_mixtures() {
    let p = mix1d(&P1.0, &P1.1, &P1.2);
    let q = mix1d(&Q1.0, &Q1.1, &Q1.2);
    let fp = |x: f64| pdf1d(x, &P1.0, &P1.1, &P1.2);
    let fq = |x: f64| pdf1d(x, &Q1.0, &Q1.1, &Q1.2);
    let tv = 0.5 * simpson(-15.0, 15.0, |x| (fp(x) - fq(x)).abs());
    let kl = simpson(-15.0, 15.0, |x| if fp(x) > 0.0 { fp(x) * (fp(x) / fq(x)).ln() } else { 0.0 });
    let h = simpson(-15.0, 15.0, |x| if fp(x) > 0.0 { -fp(x) * fp(x).ln() } else { 0.0 });
    let e = tv_mixtures_mc(&p, &q, 40_000, 1).unwrap();
    assert!((e.estimate - tv).abs() < 4.0 * e.std_error, "TV {} ± {} vs quadrature {tv}", e.estimate, e.std_error);
    let e = kl_mixtures_mc(&p, &q, 40_000, 2).unwrap();
    assert!((e.estimate - kl).abs() < 4.0 * e.std_error, "KL {} ± {} vs quadrature {kl}", e.estimate, e.std_error);
    let e = mixture_entropy_mc(&p, 40_000, 3).unwrap();
    assert!((e.estimate - h).abs() < 4.0 * e.std_error, "h {} ± {} vs quadrature {h}", e.estimate, e.std_error);
    // The k-NN estimator on a sample of p: bias dominates, so a plain tolerance of 0.03 nats.
    let x = p.sample(20_000, 4);
    let knn = entropy_knn(x.as_ref(), 5).unwrap();
    assert!((knn - h).abs() < 0.03, "k-NN entropy {knn} vs {h}");
}

#[test]
fn monte_carlo_estimators_recover_gaussian_closed_forms() {
    let s1 = mat![[1.0, 0.4, 0.0], [0.4, 0.8, 0.2], [0.0, 0.2, 1.5]];
    let s2 = mat![[0.7, 0.0, 0.1], [0.0, 1.3, -0.3], [0.1, -0.3, 0.9]];
    let (m1, m2) = (vec![0.0, 0.5, -0.2], vec![0.6, 0.0, 0.3]);
    let p = single(m1.clone(), s1.clone());
    let q = single(m2.clone(), s2.clone());
    let kl = kl_gaussian(&m1, s1.as_ref(), &m2, s2.as_ref()).unwrap();
    let e = kl_mixtures_mc(&p, &q, 50_000, 7).unwrap();
    assert!((e.estimate - kl).abs() < 4.0 * e.std_error, "KL {} ± {} vs {kl}", e.estimate, e.std_error);
    let h = gaussian_entropy(s1.as_ref()).unwrap();
    let e = mixture_entropy_mc(&p, 50_000, 8).unwrap();
    assert!((e.estimate - h).abs() < 4.0 * e.std_error);
    let b = tv_gaussian_bounds(&m1, s1.as_ref(), &m2, s2.as_ref()).unwrap();
    let e = tv_mixtures_mc(&p, &q, 50_000, 9).unwrap();
    assert!(b.lower <= e.estimate + 4.0 * e.std_error && e.estimate - 4.0 * e.std_error <= b.upper, "{e:?} vs {b:?}");
    // 1-D: the exact TV.
    let p1 = single(vec![0.0], mat![[1.0]]);
    let q1 = single(vec![0.8], mat![[2.25]]);
    let exact = tv_gaussian_1d(0.0, 1.0, 0.8, 1.5).unwrap();
    let e = tv_mixtures_mc(&p1, &q1, 50_000, 10).unwrap();
    assert!((e.estimate - exact).abs() < 4.0 * e.std_error, "TV {} ± {} vs exact {exact}", e.estimate, e.std_error);
    // k-NN entropy against the closed form in d = 1, 2, 3 (bias tolerance 0.05 nats).
    for d in 1..=3 {
        let s = Mat::from_fn(d, d, |i, j| if i == j { 1.0 + i as f64 * 0.5 } else { 0.2 });
        let g = single(vec![0.0; d], s.clone());
        let x = g.sample(20_000, 11 + d as u64);
        let knn = entropy_knn(x.as_ref(), 4).unwrap();
        let exact = gaussian_entropy(s.as_ref()).unwrap();
        assert!((knn - exact).abs() < 0.05, "d = {d}: k-NN {knn} vs {exact}");
    }
}

#[test]
fn estimators_are_seeded_and_reproducible() {
    let p = mix1d(&P1.0, &P1.1, &P1.2);
    let q = mix1d(&Q1.0, &Q1.1, &Q1.2);
    assert_eq!(tv_mixtures_mc(&p, &q, 1000, 5).unwrap(), tv_mixtures_mc(&p, &q, 1000, 5).unwrap());
    assert_ne!(kl_mixtures_mc(&p, &q, 1000, 5).unwrap(), kl_mixtures_mc(&p, &q, 1000, 6).unwrap());
    let same = tv_mixtures_mc(&p, &p, 1000, 5).unwrap();
    assert_eq!((same.estimate, same.std_error), (0.0, 0.0));
}

#[test]
fn mixture_w2_matches_pot_and_bounds_w2() {
    // POT 0.9.7.post1: ot.gmm.gmm_ot_loss(ms, mt, Cs, Ct, ws, wt) = 2.9856174391972417 (MW2²),
    // from tests/peer/pot_fixtures.py.
    let p = GaussianMixture::new(
        vec![0.5, 0.3, 0.2],
        vec![
            gauss(vec![0.0, 0.0], mat![[1.0, 0.3], [0.3, 0.5]]),
            gauss(vec![3.0, 1.0], mat![[0.4, 0.0], [0.0, 0.4]]),
            gauss(vec![-1.0, 2.5], mat![[2.0, -0.7], [-0.7, 1.0]]),
        ],
    )
    .unwrap();
    let q = GaussianMixture::new(
        vec![0.6, 0.4],
        vec![gauss(vec![0.5, -0.2], mat![[0.8, 0.1], [0.1, 1.2]]), gauss(vec![2.0, 2.0], mat![[1.5, 0.5], [0.5, 0.6]])],
    )
    .unwrap();
    let m = mixture_w2(&p, &q).unwrap();
    assert!((m.squared - 2.9856174391972417).abs() < 1e-12, "{}", m.squared);
    assert!((m.distance * m.distance - m.squared).abs() < 1e-12);
    let back = mixture_w2(&q, &p).unwrap();
    assert!((back.squared - m.squared).abs() < 1e-12);
    // Gelbrich: W2(p, q) ≥ Bures(moments), and MW2 ≥ W2.
    let gel = bures_w2(&p.mean(), p.covariance().as_ref(), &q.mean(), q.covariance().as_ref()).unwrap();
    assert!(m.distance >= gel, "MW2 {} < Gelbrich bound {gel}", m.distance);
    // Large samples: the exact empirical W2 is close to W2(p, q) ≤ MW2 (sampling error is small
    // against the gap here, so allow 5 %).
    let x = p.sample(2000, 1);
    let y = q.sample(2000, 2);
    let w = w2_exact(x.as_ref(), y.as_ref()).unwrap();
    assert!(w <= 1.05 * m.distance, "empirical W2 {w} vs MW2 {}", m.distance);
    // Single Gaussians: MW2 is Bures.
    let g1 = single(vec![1.0, 0.0], mat![[2.0, 0.3], [0.3, 1.0]]);
    let g2 = single(vec![0.0, -1.0], mat![[0.5, 0.0], [0.0, 0.2]]);
    let b = bures_w2(&[1.0, 0.0], mat![[2.0, 0.3], [0.3, 1.0]].as_ref(), &[0.0, -1.0], mat![[0.5, 0.0], [0.0, 0.2]].as_ref()).unwrap();
    assert!((mixture_w2(&g1, &g2).unwrap().distance - b).abs() < 1e-14);
    assert_eq!(mixture_w2(&p, &p).unwrap().squared, 0.0);
}

#[test]
fn histogram_divergences_approach_the_exact_values() {
    // 1-D: samples of N(0, 1) against the density of N(0.5, 1): TV = 2Φ(1/4) − 1,
    // KL(P ‖ Q) = 1/8. With N = 200,000 and 80 cells on [−6, 6.5] the binning and sampling
    // biases are below 0.01 (TV) and 0.005 (Miller–Madow KL).
    let p = single(vec![0.0], mat![[1.0]]);
    let q = single(vec![0.5], mat![[1.0]]);
    let x = p.sample(200_000, 21);
    let grid = HistogramGrid::new(vec![-6.0], vec![6.5], 80).unwrap();
    let h = histogram_divergence_mixture(x.as_ref(), &q, &grid).unwrap();
    let tv = tv_gaussian_1d(0.0, 1.0, 0.5, 1.0).unwrap();
    assert!((h.tv - tv).abs() < 0.01, "TV {} vs {tv}", h.tv);
    assert!((h.kl_miller_madow - 0.125).abs() < 0.005, "KL {} vs 0.125", h.kl_miller_madow);
    assert!(h.density_mass_outside < 1e-8);
    // 2-D, a mixture target: compare with the Monte Carlo TV of the same pair (4 SE plus the
    // histogram's 0.02 bias allowance).
    let p2 = GaussianMixture::new(
        vec![0.5, 0.5],
        vec![gauss(vec![-1.0, 0.0], mat![[0.5, 0.1], [0.1, 0.5]]), gauss(vec![1.5, 0.5], mat![[0.8, 0.0], [0.0, 0.3]])],
    )
    .unwrap();
    let q2 = GaussianMixture::new(
        vec![0.4, 0.6],
        vec![gauss(vec![-1.0, 0.3], mat![[0.6, 0.0], [0.0, 0.6]]), gauss(vec![1.0, 0.5], mat![[0.8, 0.2], [0.2, 0.5]])],
    )
    .unwrap();
    let x2 = p2.sample(200_000, 22);
    let grid2 = HistogramGrid::fit(x2.as_ref(), 60, 0.05).unwrap();
    let h2 = histogram_divergence_mixture(x2.as_ref(), &q2, &grid2).unwrap();
    let mc = tv_mixtures_mc(&p2, &q2, 100_000, 23).unwrap();
    assert!((h2.tv - mc.estimate).abs() < 4.0 * mc.std_error + 0.02, "histogram {} vs MC {mc:?}", h2.tv);
    let kl = kl_mixtures_mc(&p2, &q2, 100_000, 24).unwrap();
    assert!((h2.kl_miller_madow - kl.estimate).abs() < 4.0 * kl.std_error + 0.02, "histogram KL {} vs MC {kl:?}", h2.kl_miller_madow);
    // A closure density: the uniform law on [0, 1]² against a regular grid sample.
    let u = Mat::from_fn(400, 2, |i, k| if k == 0 { (i % 20) as f64 / 20.0 + 0.025 } else { (i / 20) as f64 / 20.0 + 0.025 });
    let g = HistogramGrid::new(vec![0.0, 0.0], vec![1.0, 1.0], 10).unwrap();
    let hu = histogram_divergence(u.as_ref(), |pts| vec![0.0; pts.nrows()], &g).unwrap();
    assert!(hu.tv < 1e-12 && hu.kl.abs() < 1e-12);
}

#[test]
fn mixture_metrics_report_typed_errors() {
    let p1 = single(vec![0.0], mat![[1.0]]);
    let p2 = single(vec![0.0, 0.0], mat![[1.0, 0.0], [0.0, 1.0]]);
    let singular = single(vec![0.0], mat![[0.0]]);
    assert!(matches!(kl_mixtures_mc(&p1, &p2, 100, 0), Err(MetricsError::DimensionMismatch { .. })));
    assert!(matches!(kl_mixtures_mc(&p1, &singular, 100, 0), Err(MetricsError::External { .. })));
    assert!(matches!(tv_mixtures_mc(&p1, &p1, 1, 0), Err(MetricsError::InvalidParameter { .. })));
    assert!(matches!(mixture_w2(&p1, &p2), Err(MetricsError::DimensionMismatch { .. })));
    // MW2 needs no density: a point mass is fine.
    assert!((mixture_w2(&p1, &singular).unwrap().squared - 1.0).abs() < 1e-14);
    assert!(matches!(HistogramGrid::new(vec![0.0; 3], vec![1.0; 3], 5), Err(MetricsError::InvalidParameter { .. })));
    assert!(matches!(HistogramGrid::new(vec![1.0], vec![0.0], 5), Err(MetricsError::InvalidParameter { .. })));
    let g = HistogramGrid::new(vec![0.0], vec![1.0], 5).unwrap();
    let x = mat![[0.5]];
    assert!(matches!(histogram_divergence(x.as_ref(), |p| vec![f64::NAN; p.nrows()], &g), Err(MetricsError::BadDensity { .. })));
    assert!(matches!(histogram_divergence(x.as_ref(), |_| vec![0.0], &g), Err(MetricsError::DimensionMismatch { .. })));
    assert!(matches!(histogram_divergence_mixture(x.as_ref(), &p2, &g), Err(MetricsError::DimensionMismatch { .. })));
    let dup = mat![[1.0], [1.0], [2.0]];
    assert!(matches!(entropy_knn(dup.as_ref(), 1), Err(MetricsError::InvalidParameter { .. })));
    assert!(matches!(entropy_knn(dup.as_ref(), 3), Err(MetricsError::InvalidParameter { .. })));
    // Zero density on a cell that holds samples: KL is +∞, not NaN.
    let h = histogram_divergence(x.as_ref(), |p| vec![f64::NEG_INFINITY; p.nrows()], &g).unwrap();
    assert_eq!(h.kl, f64::INFINITY);
    assert_eq!(h.tv, 1.0);
}
