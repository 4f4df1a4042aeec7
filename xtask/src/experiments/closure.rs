//! Closure lemma: the forward process keeps a k-mixture a k-mixture.
//!
//! **Claim.** If `x_0 ~ Σ_i w_i N(μ_i, Σ_i)`, then `x_t = a_t x_0 + b_t z` has the law
//! `p_t = Σ_i w_i N(a_t μ_i, a_t² Σ_i + b_t² I)`: the same weights, diffused components.
//!
//! **Paper.** Liang, Shi, Song, Zhou (arXiv 2405.16418), the closure lemma. **THEORY** §1
//! (derived).
//!
//! **Setup.** A 2-D, 3-component mixture with full, correlated covariances; VP linear
//! (β 0.1–20, T = 1); times t ∈ {0, 0.05, 0.1, 0.2, 0.4, 1}. At each t, n pairs `(x_0, z)` are
//! drawn exactly (quick: 20 000, full: 200 000), and `x_t = a_t x_0 + b_t z` formed.
//!
//! **Measurement.** The Rosenblatt transform of the closed-form `p_t`,
//! `u_1 = F_1(x_1)`, `u_2 = F_{2|1}(x_2 | x_1)`, maps `p_t`-samples to uniforms on the unit square
//! (both conditionals of a Gaussian mixture are exact mixtures of normal CDFs). A Pearson χ² test
//! of `(u_1, u_2)` on a 10 × 10 grid (99 degrees of freedom) gives the statistic and its p-value.
//! A negative control applies the same test against a wrong law — the diffused mixture with its
//! weights replaced by uniform ones — to show the test has power.
//!
//! **Verdict.** PASS when every p-value against `p_t` is at least 0.001 and the negative control's
//! p-value at t = 0 is below 1e-6. Figures: `contours_t*.svg` (contours of `p_t` over samples).
//! Data: `closure.csv`.

use gmdiff::mixture::{Covariance, Gaussian, GaussianMixture};
use gmdiff::process::{GaussianPath, VpLinear};
use serde_json::{Value, json};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

use crate::error::{Result, XtaskError};
use crate::experiment::{Check, Claim, Context, Experiment, Outcome};
use crate::plot::{Contour, Series, contour_plot};

const TIMES: [f64; 6] = [0.0, 0.05, 0.1, 0.2, 0.4, 1.0];
const CELLS: usize = 10;
const ALPHA: f64 = 1e-3;

/// The experiment (registered in [`crate::experiments::all`]).
pub struct Closure;

/// The 2-D, 3-component target.
pub fn target() -> GaussianMixture {
    let full = |a: f64, b: f64, c: f64| Covariance::full(faer::mat![[a, b], [b, c]]).expect("SPD");
    GaussianMixture::new(
        vec![0.5, 0.3, 0.2],
        vec![
            Gaussian::new(vec![-2.0, 0.0], full(0.6, 0.35, 0.4)).expect("valid"),
            Gaussian::new(vec![1.5, 1.5], full(0.3, -0.2, 0.5)).expect("valid"),
            Gaussian::new(vec![1.0, -2.0], full(1.0, 0.0, 0.1)).expect("valid"),
        ],
    )
    .expect("valid")
}

/// The Rosenblatt transform `(F_1(x_1), F_{2|1}(x_2 | x_1))` of a 2-D Gaussian mixture.
pub fn rosenblatt(m: &GaussianMixture, x: [f64; 2]) -> [f64; 2] {
    let std = Normal::standard();
    let mut f1 = 0.0;
    let mut log_terms = Vec::with_capacity(m.len());
    let mut conditionals = Vec::with_capacity(m.len());
    for (w, c) in m.weights().iter().zip(m.components()) {
        let s = c.covariance().to_dense();
        let (mu, s11, s12, s22) = (c.mean(), s[(0, 0)], s[(0, 1)], s[(1, 1)]);
        let z1 = (x[0] - mu[0]) / s11.sqrt();
        f1 += w * std.cdf(z1);
        log_terms.push(w.ln() - 0.5 * z1 * z1 - 0.5 * s11.ln());
        let mean = mu[1] + s12 / s11 * (x[0] - mu[0]);
        let var = s22 - s12 * s12 / s11;
        conditionals.push(std.cdf((x[1] - mean) / var.sqrt()));
    }
    let top = log_terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let r: Vec<f64> = log_terms.iter().map(|l| (l - top).exp()).collect();
    let total: f64 = r.iter().sum();
    let f2 = r.iter().zip(&conditionals).map(|(r, c)| r * c).sum::<f64>() / total;
    [f1, f2]
}

/// Pearson's χ² of uniformity on a `CELLS × CELLS` grid, and its p-value (`CELLS² − 1` dof).
pub fn chi_square_uniform(u: &[[f64; 2]]) -> (f64, f64) {
    let mut counts = vec![0usize; CELLS * CELLS];
    for p in u {
        let i = ((p[0] * CELLS as f64) as usize).min(CELLS - 1);
        let j = ((p[1] * CELLS as f64) as usize).min(CELLS - 1);
        counts[i * CELLS + j] += 1;
    }
    let expected = u.len() as f64 / (CELLS * CELLS) as f64;
    let stat: f64 = counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
    let dof = (CELLS * CELLS - 1) as f64;
    let p = ChiSquared::new(dof).map(|d| d.sf(stat)).unwrap_or(f64::NAN);
    (stat, p)
}

/// Pairs `(x_0, z)` per time (quick, full); one definition for the configuration and the run.
fn samples(ctx: &Context) -> usize {
    ctx.pick(20_000, 200_000)
}

impl Experiment for Closure {
    fn name(&self) -> &'static str {
        "closure"
    }

    fn claim(&self) -> Claim {
        Claim {
            statement: "x_t = a_t x_0 + b_t z of a k-mixture is the k-mixture Σ w_i N(a_t μ_i, a_t² Σ_i + b_t² I)",
            paper: "Liang, Shi, Song, Zhou (arXiv 2405.16418)",
            theory_section: "§1 (closure, derived)",
        }
    }

    fn config(&self, ctx: &Context) -> Value {
        json!({ "times": TIMES, "n": samples(ctx), "cells": CELLS, "alpha": ALPHA,
                "process": "vp 0.1-20 T=1", "target": serde_json::to_value(target()).ok() })
    }

    fn run(&self, ctx: &mut Context) -> Result<Outcome> {
        let n = samples(ctx);
        let m = target();
        let vp = VpLinear::default();
        let fail = |e: &dyn std::fmt::Display| XtaskError::Usage(format!("closure: {e}"));
        let standard = GaussianMixture::from_gaussian(Gaussian::standard(2).map_err(|e| fail(&e))?);
        let pb = ctx.progress(TIMES.len() as u64, "closure: testing p_t");
        let mut outcome = Outcome::new();
        let mut rows = Vec::new();
        for (i, &t) in TIMES.iter().enumerate() {
            let c = vp.at(t).map_err(|e| fail(&e))?;
            let x0 = m.sample(n, ctx.seed().wrapping_add(2 * i as u64));
            let z = standard.sample(n, ctx.seed().wrapping_add(2 * i as u64 + 1));
            let xt: Vec<[f64; 2]> = (0..n).map(|r| [c.a * x0[(r, 0)] + c.b * z[(r, 0)], c.a * x0[(r, 1)] + c.b * z[(r, 1)]]).collect();
            let pt = m.diffused(c.a, c.b).map_err(|e| fail(&e))?;
            let u: Vec<[f64; 2]> = xt.iter().map(|x| rosenblatt(&pt, *x)).collect();
            let (stat, p) = chi_square_uniform(&u);
            // Negative control: the right components with the wrong (uniform) weights.
            let wrong = GaussianMixture::new(vec![1.0 / 3.0; 3], pt.components().to_vec()).map_err(|e| fail(&e))?;
            let uw: Vec<[f64; 2]> = xt.iter().map(|x| rosenblatt(&wrong, *x)).collect();
            let (stat_w, p_w) = chi_square_uniform(&uw);
            rows.push(vec![t, c.a, c.b, stat, p, stat_w, p_w]);
            outcome = outcome.check(
                Check::new(format!("p_t fits samples of a_t x_0 + b_t z at t = {t}"), p >= ALPHA)
                    .with("chi2", stat)
                    .with("p_value", p)
                    .with("dof", (CELLS * CELLS - 1) as f64)
                    .with("n", n as f64)
                    .threshold(format!("p ≥ {ALPHA}"))
                    .detail("Pearson χ² of the Rosenblatt-transformed samples on a 10 × 10 grid"),
            );
            if t == 0.0 {
                outcome = outcome.check(
                    Check::new("negative control (uniform weights) is rejected at t = 0", p_w < 1e-6)
                        .with("chi2", stat_w)
                        .with("p_value", p_w)
                        .threshold("p < 1e-6")
                        .detail("the same test against the right components with uniform weights must reject"),
                );
            }
            let density = pt.density().map_err(|e| fail(&e))?;
            let f = move |x: f64, y: f64| density.logpdf(&[x, y]).map(f64::exp).unwrap_or(0.0);
            let shown: Vec<(f64, f64)> = xt.iter().take(3000).map(|p| (p[0], p[1])).collect();
            let samples = [Series::points(format!("samples of a_t x_0 + b_t z (first {})", shown.len()), shown)];
            let title = format!("closure lemma: p_t contours over samples, t = {t}");
            let path = ctx.output(&format!("contours_t{t}.svg"))?;
            let spec = Contour {
                title: &title,
                x_label: "x1",
                y_label: "x2",
                x_range: (-5.0, 4.0),
                y_range: (-4.5, 4.0),
                f: &f,
                grid: 120,
                levels: Vec::new(),
                samples: &samples,
            };
            let levels = spec.density_levels(&[0.05, 0.2, 0.4, 0.6, 0.8]);
            contour_plot(&path, &Contour { levels, ..spec })?;
            pb.inc(1);
        }
        pb.finish_and_clear();
        ctx.write_csv("closure.csv", &["t", "a_t", "b_t", "chi2", "p_value", "chi2_wrong_weights", "p_value_wrong_weights"], rows)?;
        Ok(outcome)
    }
}
