//! `gmdiff score` and `gmdiff logpdf` against an independent automatic-differentiation route:
//! forward-mode dual numbers through a naive log-density (Gauss–Jordan inverse, LU determinant,
//! explicit logsumexp), on held-out mixtures and points, far-away points included, at t = 0 and
//! t = T, under vp and ou. Agreement required: 1e-9 relative (norm-wise for the score).

use crate::common;
use common::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A forward-mode dual number with a gradient of up to 8 coordinates.
#[derive(Clone, Copy, Debug)]
struct Dual {
    v: f64,
    g: [f64; 8],
}

impl Dual {
    fn constant(v: f64) -> Self {
        Dual { v, g: [0.0; 8] }
    }
    fn variable(v: f64, j: usize) -> Self {
        let mut g = [0.0; 8];
        g[j] = 1.0;
        Dual { v, g }
    }
    fn add(self, o: Dual) -> Dual {
        Dual { v: self.v + o.v, g: std::array::from_fn(|i| self.g[i] + o.g[i]) }
    }
    fn mul(self, o: Dual) -> Dual {
        Dual { v: self.v * o.v, g: std::array::from_fn(|i| self.g[i] * o.v + self.v * o.g[i]) }
    }
    fn scale(self, c: f64) -> Dual {
        Dual { v: c * self.v, g: std::array::from_fn(|i| c * self.g[i]) }
    }
    fn exp(self) -> Dual {
        let e = self.v.exp();
        Dual { v: e, g: std::array::from_fn(|i| e * self.g[i]) }
    }
    fn ln(self) -> Dual {
        Dual { v: self.v.ln(), g: std::array::from_fn(|i| self.g[i] / self.v) }
    }
}

/// Inverse and log-determinant of an SPD matrix by Gauss–Jordan with partial pivoting.
fn inverse_logdet(a: &[Vec<f64>]) -> (Vec<Vec<f64>>, f64) {
    let d = a.len();
    let mut m: Vec<Vec<f64>> = a
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut row = r.clone();
            row.extend((0..d).map(|j| if i == j { 1.0 } else { 0.0 }));
            row
        })
        .collect();
    let mut logdet = 0.0;
    for c in 0..d {
        let p = (c..d).max_by(|&x, &y| m[x][c].abs().total_cmp(&m[y][c].abs())).unwrap();
        m.swap(c, p);
        let piv = m[c][c];
        logdet += piv.abs().ln();
        for v in m[c].iter_mut() {
            *v /= piv;
        }
        for r in 0..d {
            if r != c {
                let f = m[r][c];
                let pivot_row = m[c].clone();
                for (v, pv) in m[r].iter_mut().zip(&pivot_row) {
                    *v -= f * pv;
                }
            }
        }
    }
    (m.into_iter().map(|r| r[d..].to_vec()).collect(), logdet)
}

/// log p_t(x) as a dual number, for p_t = Σ w_i N(a μ_i, a² Σ_i + b² I).
fn logpdf_dual(m: &RawMixture, a: f64, b: f64, x: &[f64]) -> Dual {
    let d = x.len();
    let xs: Vec<Dual> = x.iter().enumerate().map(|(j, &v)| Dual::variable(v, j)).collect();
    let terms: Vec<Dual> = (0..m.0.len())
        .map(|i| {
            let cov: Vec<Vec<f64>> =
                (0..d).map(|r| (0..d).map(|c| a * a * m.2[i][r][c] + if r == c { b * b } else { 0.0 }).collect()).collect();
            let (p, logdet) = inverse_logdet(&cov);
            let diff: Vec<Dual> = (0..d).map(|j| xs[j].add(Dual::constant(-a * m.1[i][j]))).collect();
            let mut quad = Dual::constant(0.0);
            for r in 0..d {
                for c in 0..d {
                    quad = quad.add(diff[r].mul(diff[c]).scale(p[r][c]));
                }
            }
            quad.scale(-0.5).add(Dual::constant(m.0[i].ln() - 0.5 * logdet - 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln()))
        })
        .collect();
    let top = terms.iter().map(|t| t.v).fold(f64::NEG_INFINITY, f64::max);
    let sum = terms.iter().fold(Dual::constant(0.0), |s, t| s.add(t.add(Dual::constant(-top)).exp()));
    sum.ln().add(Dual::constant(top))
}

#[test]
fn score_and_logpdf_match_autodiff() {
    let dir = scratch("density");
    let mut checked = 0;
    for (case, &(d, k)) in [(1usize, 1usize), (2, 3), (3, 5), (5, 8), (8, 4)].iter().enumerate() {
        let m = random_mixture(9000 + case as u64, d, k);
        let mpath = dir.join(format!("m{case}.json"));
        std::fs::write(&mpath, mixture_json(&m)).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(77 + case as u64);
        let mut points: Vec<Vec<f64>> = (0..20).map(|_| (0..d).map(|_| 8.0 * rng.random::<f64>() - 4.0).collect()).collect();
        // Far away: about 1000 standard deviations from every component.
        points.push(vec![1000.0; d]);
        points.push((0..d).map(|j| if j == 0 { -2500.0 } else { 3.0 }).collect());
        let ppath = dir.join(format!("p{case}.csv"));
        let csv: String = points.iter().map(|p| p.iter().map(|v| format!("{v:e}")).collect::<Vec<_>>().join(",") + "\n").collect();
        std::fs::write(&ppath, csv).unwrap();
        for (process, horizon) in [("vp", 1.0f64), ("ou", 1.0)] {
            for t in [0.0, horizon] {
                let bint: f64 = if process == "vp" { 0.1 * t + 0.5 * 19.9 * t * t } else { 2.0 * t };
                let (a, b) = ((-0.5 * bint).exp(), (-(-bint).exp_m1()).sqrt());
                let ts = t.to_string();
                let args = |cmd: &'static str| -> Vec<String> {
                    vec![
                        cmd.into(),
                        "--mixture".into(),
                        mpath.display().to_string(),
                        "--time".into(),
                        ts.clone(),
                        "--process".into(),
                        process.into(),
                        "--points".into(),
                        ppath.display().to_string(),
                    ]
                };
                let run = |cmd| {
                    let a = args(cmd);
                    let r = gmdiff(&a.iter().map(String::as_str).collect::<Vec<_>>());
                    assert_eq!(r.status, 0, "{}", r.stderr);
                    parse_csv(&r.stdout)
                };
                let (scores, logps) = (run("score"), run("logpdf"));
                assert_eq!(scores.len(), points.len());
                for (i, x) in points.iter().enumerate() {
                    let reference = logpdf_dual(&m, a, b, x);
                    let lp = logps[i][0];
                    assert!(
                        (lp - reference.v).abs() <= 1e-9 * reference.v.abs(),
                        "case {case} {process} t={t} point {i}: logpdf {lp} vs {}",
                        reference.v
                    );
                    let err: f64 = (0..d).map(|j| (scores[i][j] - reference.g[j]).powi(2)).sum::<f64>().sqrt();
                    let norm: f64 = (0..d).map(|j| reference.g[j].powi(2)).sum::<f64>().sqrt();
                    assert!(err <= 1e-9 * norm.max(1e-300), "case {case} {process} t={t} point {i}: score error {err} vs norm {norm}");
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 5 * 4 * 22);
    std::fs::remove_dir_all(dir).ok();
}
