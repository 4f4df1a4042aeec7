//! The isotropic factorisation of DDPM's TV (THEORY §2) against exact and brute-force answers.
//!
//! * Exact cases: one component `N(μ, I_d)`; DDPM with the exact, shifted or scaled score stays
//!   Gaussian, with mean and variance given by scalar recursions written here.
//! * Brute force in d = 2 and d = 3: the DDPM output density propagated on a d-dimensional grid by
//!   direct quadrature of the Gaussian transition kernel (no factorisation used), compared pointwise
//!   with `q_u(⟨y, e⟩) · N(0, σ_v² I_{d−1})(y⊥)` and through its TV to the target.

#![allow(clippy::needless_range_loop)]

use gmdiff_gaussian::{IsotropicDdpm, PropagationGrid, ScoreError};
use gmdiff_metrics::{tv_gaussian_1d, tv_isotropic_gaussians};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

fn li_yan(steps: usize, c0: f64, c1: f64) -> Vec<f64> {
    let n = steps as f64;
    let rate = c1 * n.ln() / n;
    let mut betas = vec![n.powf(-c0)];
    let mut growth = betas[0];
    for _ in 1..steps {
        growth *= 1.0 + rate;
        betas.push(rate * growth.min(1.0));
    }
    betas
}

#[test]
fn single_gaussian_component_is_exact_for_every_score_error() {
    let betas = li_yan(64, 2.0, 3.0);
    for (shift, scale) in [(0.0, 0.0), (0.1, 0.0), (0.0, 0.05), (-0.2, -0.1)] {
        let c = 2.0;
        let mut mu = vec![0.0; 50];
        mu[7] = c * 0.6;
        mu[20] = c * 0.8;
        let ddpm = IsotropicDdpm::new(vec![1.0], vec![mu], betas.clone()).unwrap();
        let tv = ddpm.tv(ScoreError { shift, scale }, PropagationGrid { spacing: 0.005, margin: 12.0 }).unwrap();
        // Scalar recursions: s̃(u) = (1+δ)(−u + sqrt(ᾱ_t) c) + ε along e, −(1+δ) v across.
        let mut ab: f64 = betas.iter().map(|b| 1.0 - b).product();
        let (mut m, mut v, mut w) = (0.0, 1.0, 1.0);
        for &b in betas.iter().rev() {
            let k = 1.0 + scale;
            let lin = (1.0 - b * k) / (1.0 - b).sqrt();
            m = lin * m + b * (k * ab.sqrt() * c + shift) / (1.0 - b).sqrt();
            v = lin * lin * v + b;
            w = lin * lin * w + b;
            ab /= 1.0 - b;
        }
        let exact_in_span = tv_gaussian_1d(m, v.sqrt(), c, 1.0).unwrap();
        // The propagation at h = 0.005 is accurate to a few 1e-7 in TV.
        assert!((tv.in_span - exact_in_span).abs() < 5e-7, "({shift}, {scale}): {} vs {exact_in_span}", tv.in_span);
        assert!((tv.complement_variance - w).abs() < 1e-13);
        assert!((tv.complement - tv_isotropic_gaussians(49, w).unwrap()).abs() < 1e-11);
        assert!(tv.mass_error.abs() < 1e-9);
        if scale == 0.0 {
            assert_eq!((tv.complement, tv.lower), (0.0, tv.upper));
        } else {
            assert!(tv.lower < tv.upper);
        }
    }
}

/// Brute-force DDPM density on a d-dimensional grid (box `[−half, half]^d`, spacing `h`).
fn brute_force(weights: &[f64], means: &[Vec<f64>], betas: &[f64], scale: f64, d: usize, half: f64, h: f64) -> (Vec<f64>, Vec<Vec<f64>>) {
    let per = (2.0 * half / h).round() as usize + 1;
    let total = per.pow(d as u32);
    let coord = |idx: usize| -> Vec<f64> {
        let mut r = idx;
        (0..d)
            .map(|_| {
                let j = r % per;
                r /= per;
                -half + j as f64 * h
            })
            .collect()
    };
    let points: Vec<Vec<f64>> = (0..total).map(coord).collect();
    let phi = |x: &[f64], var: f64| {
        (-0.5 * x.iter().map(|v| v * v).sum::<f64>() / var).exp() / (2.0 * std::f64::consts::PI * var).powf(0.5 * x.len() as f64)
    };
    let mut q: Vec<f64> = points.iter().map(|x| phi(x, 1.0)).collect();
    let mut ab: f64 = betas.iter().map(|b| 1.0 - b).product();
    for &b in betas.iter().rev() {
        let sab = ab.sqrt();
        let sigma = b.sqrt();
        let window = (5.5 * sigma / h).ceil() as isize;
        let mut next = vec![0.0; total];
        for (src, x) in points.iter().enumerate() {
            if q[src] < 1e-300 {
                continue;
            }
            // Exact d-dimensional score of Σ π N(sqrt(ᾱ) μ_k, I).
            let logs: Vec<f64> = weights
                .iter()
                .zip(means)
                .map(|(w, m)| w.ln() - 0.5 * x.iter().zip(m).map(|(x, m)| (x - sab * m).powi(2)).sum::<f64>())
                .collect();
            let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let r: Vec<f64> = logs.iter().map(|l| (l - top).exp()).collect();
            let z: f64 = r.iter().sum();
            let fx: Vec<f64> = (0..d)
                .map(|a| {
                    let s = -x[a] + sab * r.iter().zip(means).map(|(r, m)| r * m[a]).sum::<f64>() / z;
                    (x[a] + b * (1.0 + scale) * s) / (1.0 - b).sqrt()
                })
                .collect();
            // Separable Gaussian weights per axis around f(x).
            let mut axis: Vec<(usize, Vec<f64>)> = Vec::with_capacity(d);
            for a in 0..d {
                let centre = ((fx[a] + half) / h).round() as isize;
                let lo = (centre - window).max(0);
                let hi = (centre + window).min(per as isize - 1);
                if lo > hi {
                    axis.clear();
                    break;
                }
                let w: Vec<f64> = (lo..=hi)
                    .map(|j| {
                        let y = -half + j as f64 * h;
                        h * (-0.5 * (y - fx[a]).powi(2) / b).exp() / (2.0 * std::f64::consts::PI * b).sqrt()
                    })
                    .collect();
                axis.push((lo as usize, w));
            }
            if axis.len() != d {
                continue;
            }
            let mass = q[src] * h.powi(d as i32) / h.powi(d as i32); // q · h^d deposited as density · h^d
            let counts: Vec<usize> = axis.iter().map(|(_, w)| w.len()).collect();
            let cells: usize = counts.iter().product();
            for cell in 0..cells {
                let (mut rem, mut idx, mut stride, mut weight) = (cell, 0usize, 1usize, mass);
                for a in 0..d {
                    let j = rem % counts[a];
                    rem /= counts[a];
                    idx += (axis[a].0 + j) * stride;
                    stride *= per;
                    weight *= axis[a].1[j];
                }
                next[idx] += weight;
            }
        }
        // next holds Σ_src q(src) h^d N(y; f(src), β) / h^d · h^d: already a density.
        q = next;
        ab /= 1.0 - b;
    }
    (q, points)
}

fn collinear_case(d: usize, seed: u64) -> (Vec<f64>, Vec<Vec<f64>>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dir: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
    let n = dir.iter().map(|v: &f64| v * v).sum::<f64>().sqrt();
    let e: Vec<f64> = dir.iter().map(|v| v / n).collect();
    let coords = [-1.8, 0.4, 1.6];
    let weights = vec![0.3, 0.2, 0.5];
    let means = coords.iter().map(|c| e.iter().map(|v| c * v).collect()).collect();
    (weights, means, e)
}

#[test]
fn factorised_law_equals_brute_force_in_two_and_three_dimensions() {
    let betas = [0.35, 0.45, 0.5, 0.6];
    for (d, half, h) in [(2usize, 7.0, 0.1), (3, 5.2, 0.4)] {
        let (weights, means, _) = collinear_case(d, 31 + d as u64);
        for scale in [0.0, 0.15] {
            let (q, points) = brute_force(&weights, &means, &betas, scale, d, half, h);
            let ddpm = IsotropicDdpm::new(weights.clone(), means.clone(), betas.to_vec()).unwrap();
            let err = ScoreError { shift: 0.0, scale };
            let law = ddpm.in_span_law(err, PropagationGrid { spacing: 0.005, margin: 12.0 }).unwrap();
            let var = ddpm.complement_variance(scale);
            let tv = ddpm.tv(err, PropagationGrid { spacing: 0.005, margin: 12.0 }).unwrap();
            let e = ddpm.direction().to_vec();
            let (mut worst, mut top, mut tv_bf, mut tv_fact) = (0.0f64, 0.0f64, 0.0, 0.0);
            let cell = h.powi(d as i32);
            for (x, qb) in points.iter().zip(&q) {
                let u: f64 = x.iter().zip(&e).map(|(a, b)| a * b).sum();
                let perp2: f64 = x.iter().map(|v| v * v).sum::<f64>() - u * u;
                let n = (d - 1) as f64;
                let qf = law.at(u) * (-0.5 * perp2 / var).exp() / (2.0 * std::f64::consts::PI * var).powf(0.5 * n);
                let p = ddpm.target_density(u) * (-0.5 * perp2).exp() / (2.0 * std::f64::consts::PI).powf(0.5 * n);
                worst = worst.max((qb - qf).abs());
                top = top.max(qf);
                tv_bf += 0.5 * cell * (qb - p).abs();
                tv_fact += 0.5 * cell * (qf - p).abs();
            }
            eprintln!(
                "d={d} δ={scale}: max|q_bf − q_fact| = {worst:.3e} (max q {top:.3}), TV grid bf {tv_bf:.6} fact {tv_fact:.6}, 1-D [{:.6}, {:.6}]",
                tv.lower, tv.upper
            );
            // Brute-force quadrature accuracy: ~1e-7 relative on the 2-D grid (h = 0.1), ~1e-5 on the
            // coarse 3-D grid (h = 0.4, kernel cut at 5.5σ); a wrong factorisation errs by O(1e-1).
            let tol = if d == 2 { 1e-6 } else { 3e-5 };
            assert!(worst < tol * top, "pointwise factorisation error {worst} (max {top})");
            assert!((tv_bf - tv_fact).abs() < tol, "TV on the grid: {tv_bf} vs {tv_fact}");
            // The d-dimensional TV: equal to the 1-D value for δ = 0, inside the bounds otherwise
            // (grid quadrature of |·| is accurate to about 1e-3 here).
            assert!(tv_bf >= tv.lower - 2e-3 && tv_bf <= tv.upper + 2e-3, "{tv_bf} not in [{}, {}]", tv.lower, tv.upper);
            if scale == 0.0 {
                assert_eq!(tv.lower, tv.upper);
            }
        }
    }
}

#[test]
fn typed_errors() {
    let b = vec![0.1; 5];
    assert!(IsotropicDdpm::new(vec![0.5, 0.5], vec![vec![1.0, 0.0], vec![0.0, 1.0]], b.clone()).is_err()); // not collinear
    assert!(IsotropicDdpm::new(vec![0.5, 0.6], vec![vec![1.0], vec![2.0]], b.clone()).is_err());
    assert!(IsotropicDdpm::new(vec![1.0], vec![vec![1.0]], vec![1.0]).is_err());
    let ok = IsotropicDdpm::new(vec![1.0], vec![vec![1.0, 2.0]], b).unwrap();
    assert!(ok.tv(ScoreError { shift: f64::NAN, scale: 0.0 }, PropagationGrid::default()).is_err());
    assert!(ok.tv(ScoreError { shift: 0.0, scale: 1.5 }, PropagationGrid::default()).is_err());
    assert!(ok.tv(ScoreError::default(), PropagationGrid { spacing: 0.0, margin: 1.0 }).is_err());
}
