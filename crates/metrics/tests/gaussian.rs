//! Closed forms between Gaussians against independent routes: quadrature, other closed forms,
//! Monte Carlo with exact densities written here from scratch.

use crate::common;

use common::SplitMix;
use faer::{Mat, mat};
use gmdiff_metrics::*;

fn normal_pdf(x: f64, m: f64, s: f64) -> f64 {
    (-(x - m) * (x - m) / (2.0 * s * s)).exp() / (s * (2.0 * std::f64::consts::PI).sqrt())
}

/// ½ ∫ |p1 − p2| by composite Simpson on a wide window.
fn tv_quadrature(m1: f64, s1: f64, m2: f64, s2: f64) -> f64 {
    let lo = m1.min(m2) - 14.0 * s1.max(s2);
    let hi = m1.max(m2) + 14.0 * s1.max(s2);
    let k = 400_000;
    let h = (hi - lo) / k as f64;
    let f = |x: f64| (normal_pdf(x, m1, s1) - normal_pdf(x, m2, s2)).abs();
    let mut s = f(lo) + f(hi);
    for i in 1..k {
        s += f(lo + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    0.5 * s * h / 3.0
}

#[test]
fn tv_1d_matches_quadrature() {
    let cases = [
        (0.0, 1.0, 0.0, 1.0),
        (0.0, 1.0, 1.0, 1.0),
        (0.0, 1.0, 0.0, 2.0),
        (0.3, 0.5, -1.0, 2.5),
        (0.0, 1.0, 1e-3, 1.0 + 1e-9),
        (5.0, 0.1, -5.0, 3.0),
        (0.0, 1.0, 0.0, 1.0 + 1e-6),
        (2.0, 3.0, 2.5, 0.7),
        (0.0, 1.0, 40.0, 1.0),
    ];
    for (m1, s1, m2, s2) in cases {
        let exact = tv_gaussian_1d(m1, s1, m2, s2).unwrap();
        let quad = tv_quadrature(m1, s1, m2, s2);
        assert!((exact - quad).abs() < 1e-9, "({m1}, {s1}) vs ({m2}, {s2}): {exact} vs quadrature {quad}");
        let sym = tv_gaussian_1d(m2, s2, m1, s1).unwrap();
        assert!((exact - sym).abs() < 1e-15);
    }
    // The equal-variance branch against the crossing-point branch at a nearby variance.
    let a = tv_gaussian_1d(0.0, 1.0, 0.7, 1.0).unwrap();
    let b = tv_gaussian_1d(0.0, 1.0, 0.7, 1.0 + 1e-12).unwrap();
    assert!((a - b).abs() < 1e-9);
    assert_eq!(tv_gaussian_1d(1.0, 0.0, 1.0, 0.0).unwrap(), 0.0);
    // Extreme scales stay finite: affine invariance.
    let scaled = tv_gaussian_1d(3e200, 2e200, 4e200, 1e200).unwrap();
    assert!((scaled - tv_gaussian_1d(3.0, 2.0, 4.0, 1.0).unwrap()).abs() < 1e-14);
    assert_eq!(tv_gaussian_1d(-1e308, 1e-300, 1e308, 1e-300).unwrap(), 1.0);
    assert_eq!(tv_gaussian_1d(1.0, 0.0, 2.0, 0.0).unwrap(), 1.0);
    assert!(matches!(tv_gaussian_1d(0.0, -1.0, 0.0, 1.0), Err(MetricsError::InvalidParameter { .. })));
    assert!(matches!(tv_gaussian_1d(f64::NAN, 1.0, 0.0, 1.0), Err(MetricsError::InvalidParameter { .. })));
}

fn rotation(t: f64) -> Mat<f64> {
    mat![[t.cos(), -t.sin()], [t.sin(), t.cos()]]
}

fn conj(r: &Mat<f64>, l: [f64; 2]) -> Mat<f64> {
    Mat::from_fn(2, 2, |i, j| (0..2).map(|k| r[(i, k)] * l[k] * r[(j, k)]).sum())
}

#[test]
fn bures_commuting_closed_form() {
    let r = rotation(0.7);
    for (l1, l2, m2) in [([4.0, 1.0], [1.0, 9.0], [0.5, -1.0]), ([1e-3, 2.0], [0.0, 2.0], [0.0, 0.0]), ([0.0, 0.0], [1.0, 1.0], [3.0, 4.0])]
    {
        let s1 = conj(&r, l1);
        let s2 = conj(&r, l2);
        let want: f64 = (0..2).map(|k| (l1[k].sqrt() - l2[k].sqrt()).powi(2)).sum::<f64>() + m2[0] * m2[0] + m2[1] * m2[1];
        let got = bures_w2_squared(&[0.0, 0.0], s1.as_ref(), &m2, s2.as_ref()).unwrap();
        assert!((got - want).abs() < 1e-12 * want.max(1.0), "{got} vs {want}");
    }
}

#[test]
fn bures_non_commuting_two_by_two_closed_form() {
    // For 2 × 2 PSD M: tr √M = sqrt(tr M + 2 sqrt(det M)); here M = S1^½ S2 S1^½ has
    // tr M = tr(S1 S2) and det M = det S1 det S2.
    let mut rng = SplitMix(5);
    for _ in 0..50 {
        let s1 = conj(&rotation(rng.uniform() * 3.0), [0.01 + rng.uniform() * 3.0, 0.01 + rng.uniform()]);
        let s2 = conj(&rotation(rng.uniform() * 3.0), [rng.uniform() * 2.0, 0.01 + rng.uniform() * 5.0]);
        let tr12: f64 = (0..2).map(|i| (0..2).map(|k| s1[(i, k)] * s2[(k, i)]).sum::<f64>()).sum();
        let det = |s: &Mat<f64>| s[(0, 0)] * s[(1, 1)] - s[(0, 1)] * s[(1, 0)];
        let tr_sqrt = (tr12 + 2.0 * (det(&s1) * det(&s2)).max(0.0).sqrt()).sqrt();
        let m1 = [rng.normal(), rng.normal()];
        let m2 = [rng.normal(), rng.normal()];
        let want = (m1[0] - m2[0]).powi(2) + (m1[1] - m2[1]).powi(2) + s1[(0, 0)] + s1[(1, 1)] + s2[(0, 0)] + s2[(1, 1)] - 2.0 * tr_sqrt;
        let got = bures_w2_squared(&m1, s1.as_ref(), &m2, s2.as_ref()).unwrap();
        assert!((got - want).abs() < 1e-10 * want.max(1.0), "{got} vs {want}");
    }
}

#[test]
fn bures_equals_one_dimensional_w2_through_quantiles() {
    // x_i = m + s q_i with q_i = Φ⁻¹((i + ½)/N): the quantile W2² of the two samples is exactly
    // (m1 − m2)² + (s1 − s2)² mean(q²) (mean(q) = 0 by symmetry), and mean(q²) → 1.
    let nq = 20_000;
    let q: Vec<f64> =
        (0..nq).map(|i| std::f64::consts::SQRT_2 * statrs::function::erf::erf_inv(2.0 * (i as f64 + 0.5) / nq as f64 - 1.0)).collect();
    let mq2 = q.iter().map(|v| v * v).sum::<f64>() / nq as f64;
    assert!((mq2 - 1.0).abs() < 2e-3, "mean q² = {mq2}");
    for (m1, s1, m2, s2) in [(0.0, 1.0, 2.0, 3.0), (-1.0, 0.2, 0.5, 0.2), (3.0, 2.0, 3.0, 0.5)] {
        let x: Vec<f64> = q.iter().map(|v| m1 + s1 * v).collect();
        let y: Vec<f64> = q.iter().rev().map(|v| m2 + s2 * v).collect();
        let w = w2_1d(&x, None, &y, None).unwrap().powi(2);
        let bures = bures_w2_squared(&[m1], mat![[s1 * s1]].as_ref(), &[m2], mat![[s2 * s2]].as_ref()).unwrap();
        assert!((bures - ((m1 - m2).powi(2) + (s1 - s2).powi(2))).abs() < 1e-12);
        let predicted = (m1 - m2).powi(2) + (s1 - s2).powi(2) * mq2;
        assert!((w - predicted).abs() < 1e-9 * w.max(1.0), "{w} vs {predicted}");
        assert!((w - bures).abs() <= (s1 - s2).powi(2) * 2e-3 + 1e-12);
    }
}

/// Lower Cholesky factor of a small SPD matrix.
fn chol(s: &Mat<f64>) -> Mat<f64> {
    let d = s.nrows();
    let mut l = Mat::zeros(d, d);
    for i in 0..d {
        for j in 0..=i {
            let mut v = s[(i, j)];
            for k in 0..j {
                v -= l[(i, k)] * l[(j, k)];
            }
            l[(i, j)] = if i == j { v.sqrt() } else { v / l[(j, j)] };
        }
    }
    l
}

/// Exact log-density of N(m, S) through its Cholesky factor.
fn logpdf(x: &[f64], m: &[f64], l: &Mat<f64>) -> f64 {
    let d = m.len();
    let mut z = vec![0.0; d];
    for i in 0..d {
        let mut v = x[i] - m[i];
        for k in 0..i {
            v -= l[(i, k)] * z[k];
        }
        z[i] = v / l[(i, i)];
    }
    let logdet: f64 = (0..d).map(|i| l[(i, i)].ln()).sum();
    -0.5 * z.iter().map(|t| t * t).sum::<f64>() - logdet - 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln()
}

fn sample(rng: &mut SplitMix, m: &[f64], l: &Mat<f64>) -> Vec<f64> {
    let d = m.len();
    let z: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
    (0..d).map(|i| m[i] + (0..=i).map(|k| l[(i, k)] * z[k]).sum::<f64>()).collect()
}

fn random_spd(rng: &mut SplitMix, d: usize) -> Mat<f64> {
    let a = Mat::from_fn(d, d, |_, _| rng.normal());
    Mat::from_fn(d, d, |i, j| (0..d).map(|k| a[(i, k)] * a[(j, k)]).sum::<f64>() / d as f64 + if i == j { 0.3 } else { 0.0 })
}

/// Mean and standard error.
fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|t| (t - m) * (t - m)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

#[test]
fn kl_tv_and_entropy_against_monte_carlo() {
    // Within 4 standard errors of a 40,000-sample Monte Carlo with exact densities.
    let mut rng = SplitMix(2024);
    for d in [1usize, 2, 3, 5] {
        let s1 = random_spd(&mut rng, d);
        let s2 = random_spd(&mut rng, d);
        let m1: Vec<f64> = (0..d).map(|_| 0.5 * rng.normal()).collect();
        let m2: Vec<f64> = (0..d).map(|_| 0.5 * rng.normal()).collect();
        let (l1, l2) = (chol(&s1), chol(&s2));
        let n = 40_000;
        let mut kl = Vec::with_capacity(n);
        let mut tv = Vec::with_capacity(n);
        let mut h = Vec::with_capacity(n);
        for _ in 0..n {
            let x = sample(&mut rng, &m1, &l1);
            let (lp, lq) = (logpdf(&x, &m1, &l1), logpdf(&x, &m2, &l2));
            kl.push(lp - lq);
            tv.push((1.0 - (lq - lp).exp()).max(0.0));
            h.push(-lp);
        }
        let (kl_mc, kl_se) = mean_se(&kl);
        let (tv_mc, tv_se) = mean_se(&tv);
        let (h_mc, h_se) = mean_se(&h);
        let kl_cf = kl_gaussian(&m1, s1.as_ref(), &m2, s2.as_ref()).unwrap();
        assert!((kl_cf - kl_mc).abs() < 4.0 * kl_se, "d = {d}: KL {kl_cf} vs MC {kl_mc} ± {kl_se}");
        let h_cf = gaussian_entropy(s1.as_ref()).unwrap();
        assert!((h_cf - h_mc).abs() < 4.0 * h_se, "d = {d}: entropy {h_cf} vs MC {h_mc} ± {h_se}");
        let b = tv_gaussian_bounds(&m1, s1.as_ref(), &m2, s2.as_ref()).unwrap();
        assert!(
            b.lower <= tv_mc + 4.0 * tv_se && tv_mc - 4.0 * tv_se <= b.upper,
            "d = {d}: TV MC {tv_mc} ± {tv_se} outside [{}, {}]",
            b.lower,
            b.upper
        );
        assert!(b.dmr_lower <= tv_mc + 4.0 * tv_se && tv_mc - 4.0 * tv_se <= b.dmr_upper, "d = {d}: DMR interval {b:?}");
        if d == 1 {
            let exact = tv_gaussian_1d(m1[0], s1[(0, 0)].sqrt(), m2[0], s2[(0, 0)].sqrt()).unwrap();
            assert_eq!(b.lower, b.upper);
            assert!((b.lower - exact).abs() < 1e-15);
            assert!((exact - tv_mc).abs() < 4.0 * tv_se);
        }
    }
}

#[test]
fn tv_bounds_bracket_monte_carlo_in_named_regimes() {
    // Equal means (DMR's first theorem), equal covariances (exact 2Φ(Δ/2) − 1 along the
    // Mahalanobis direction, which the projection bound attains), and far apart.
    let mut rng = SplitMix(77);
    let i3 = Mat::<f64>::identity(3, 3);
    let s_wide = mat![[2.0, 0.3, 0.0], [0.3, 1.0, 0.1], [0.0, 0.1, 0.5]];
    type Case = (Vec<f64>, Mat<f64>, Vec<f64>, Mat<f64>);
    let cases: Vec<Case> = vec![
        (vec![0.0; 3], i3.clone(), vec![0.0; 3], s_wide.clone()),
        (vec![0.0; 3], s_wide.clone(), vec![0.4, -0.2, 0.1], s_wide.clone()),
        (vec![0.0; 3], i3.clone(), vec![6.0, 0.0, 0.0], s_wide.clone()),
        (vec![0.0; 3], i3.clone(), vec![0.01, 0.0, 0.0], i3.clone()),
    ];
    for (m1, s1, m2, s2) in cases {
        let (l1, l2) = (chol(&s1), chol(&s2));
        let tv: Vec<f64> = (0..40_000)
            .map(|_| {
                let x = sample(&mut rng, &m1, &l1);
                (1.0 - (logpdf(&x, &m2, &l2) - logpdf(&x, &m1, &l1)).exp()).max(0.0)
            })
            .collect();
        let (mc, se) = mean_se(&tv);
        let b = tv_gaussian_bounds(&m1, s1.as_ref(), &m2, s2.as_ref()).unwrap();
        assert!(b.lower <= mc + 4.0 * se + 1e-12 && mc - 4.0 * se - 1e-12 <= b.upper, "MC {mc} ± {se}, bounds {b:?}");
        assert!(b.dmr_lower <= mc + 4.0 * se && mc - 4.0 * se <= b.dmr_upper, "MC {mc} ± {se}, DMR {b:?}");
        if s1 == s2 {
            // Equal covariances: TV = 2Φ(Δ/2) − 1 with Δ the Mahalanobis distance, and the
            // projection on S⁻¹v attains it.
            let dm: Vec<f64> = m1.iter().zip(&m2).map(|(a, b)| a - b).collect();
            let exact = tv_gaussian_1d(0.0, 1.0, maha(&dm, &s1), 1.0).unwrap();
            assert!((b.projection_lower - exact).abs() < 1e-12, "{} vs {exact}", b.projection_lower);
        }
    }
}

fn maha(v: &[f64], s: &Mat<f64>) -> f64 {
    let l = chol(s);
    let zero = vec![0.0; v.len()];
    let lp = logpdf(v, &zero, &l) - logpdf(&zero, &zero, &l);
    (-2.0 * lp).sqrt()
}

#[test]
fn singular_covariances_give_documented_infinities() {
    let i2 = mat![[1.0, 0.0], [0.0, 1.0]];
    let line = mat![[1.0, 0.0], [0.0, 0.0]];
    let line2 = mat![[2.0, 0.0], [0.0, 0.0]];
    let z = [0.0, 0.0];
    assert_eq!(kl_gaussian(&z, i2.as_ref(), &z, line.as_ref()).unwrap(), f64::INFINITY);
    assert_eq!(kl_gaussian(&z, line.as_ref(), &z, i2.as_ref()).unwrap(), f64::INFINITY);
    // Same line through the same point: the 1-D KL of N(0, 1) ‖ N(0, 2).
    let kl = kl_gaussian(&z, line.as_ref(), &[3.0, 0.0], line2.as_ref()).unwrap();
    let want = 0.5 * (0.5 + 9.0 / 2.0 - 1.0 + 2f64.ln());
    assert!((kl - want).abs() < 1e-14, "{kl} vs {want}");
    // Parallel lines: different supports.
    assert_eq!(kl_gaussian(&z, line.as_ref(), &[0.0, 1.0], line.as_ref()).unwrap(), f64::INFINITY);
    let b = tv_gaussian_bounds(&z, line.as_ref(), &[0.0, 1.0], line.as_ref()).unwrap();
    assert_eq!((b.lower, b.upper), (1.0, 1.0));
    let b = tv_gaussian_bounds(&z, line.as_ref(), &[1.0, 0.0], line2.as_ref()).unwrap();
    let exact = tv_gaussian_1d(0.0, 1.0, 1.0, 2f64.sqrt()).unwrap();
    assert!((b.lower - exact).abs() < 1e-14 && (b.upper - exact).abs() < 1e-14);
    assert_eq!(gaussian_entropy(line.as_ref()).unwrap(), f64::NEG_INFINITY);
    // Bures handles singular matrices: W2² between N(0, diag(1, 0)) and N(0, I) is (1 − 1)² + 1.
    assert!((bures_w2_squared(&z, line.as_ref(), &z, i2.as_ref()).unwrap() - 1.0).abs() < 1e-14);
    let zero = Mat::<f64>::zeros(2, 2);
    assert!((bures_w2(&z, zero.as_ref(), &[3.0, 4.0], zero.as_ref()).unwrap() - 5.0).abs() < 1e-14);
}

#[test]
fn invalid_covariances_are_typed_errors() {
    let z = [0.0, 0.0];
    let i2 = mat![[1.0, 0.0], [0.0, 1.0]];
    let asym = mat![[1.0, 0.5], [0.0, 1.0]];
    let neg = mat![[1.0, 0.0], [0.0, -0.5]];
    let nan = mat![[1.0, f64::NAN], [f64::NAN, 1.0]];
    let small = mat![[1.0]];
    assert!(matches!(bures_w2(&z, asym.as_ref(), &z, i2.as_ref()), Err(MetricsError::NotSymmetric { .. })));
    assert!(matches!(bures_w2(&z, neg.as_ref(), &z, i2.as_ref()), Err(MetricsError::NotPsd { .. })));
    assert!(matches!(kl_gaussian(&z, nan.as_ref(), &z, i2.as_ref()), Err(MetricsError::NonFinite { .. })));
    assert!(matches!(kl_gaussian(&z, small.as_ref(), &z, i2.as_ref()), Err(MetricsError::DimensionMismatch { .. })));
    assert!(matches!(tv_gaussian_bounds(&[0.0], i2.as_ref(), &z, i2.as_ref()), Err(MetricsError::DimensionMismatch { .. })));
    assert!(matches!(gaussian_entropy(neg.as_ref()), Err(MetricsError::NotPsd { .. })));
    assert!(matches!(
        bures_w2(&[], Mat::<f64>::zeros(0, 0).as_ref(), &[], Mat::<f64>::zeros(0, 0).as_ref()),
        Err(MetricsError::Empty { .. })
    ));
    assert!(matches!(bures_w2(&[f64::INFINITY, 0.0], i2.as_ref(), &z, i2.as_ref()), Err(MetricsError::NonFinite { .. })));
    // Round-off asymmetry and round-off negative eigenvalues are accepted.
    let nearly = mat![[1.0, 0.5 + 1e-14], [0.5, 1.0]];
    assert!(bures_w2(&z, nearly.as_ref(), &z, i2.as_ref()).is_ok());
    let rank1 = mat![[1.0, 1.0], [1.0, 1.0 - 1e-16]];
    assert!(bures_w2(&z, rank1.as_ref(), &z, i2.as_ref()).is_ok());
    assert!(matches!(FittedGaussian::fit(mat![[1.0, 2.0]].as_ref()), Err(MetricsError::Empty { .. })));
}
